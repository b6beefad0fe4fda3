//! The filter parser never panics, and what it accepts prints to text that
//! parses back to the same filter.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mamori_model::filter::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(f) = parse(text) {
        let printed = f.to_string();
        assert_eq!(parse(&printed).as_ref(), Ok(&f), "round trip of {printed:?}");
        if let Ok(m) = f.compile() {
            let ev = mamori_model::Event::new("t", chrono_now(), text);
            let _ = m.matches(&ev);
        }
    }
});

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default()
}
