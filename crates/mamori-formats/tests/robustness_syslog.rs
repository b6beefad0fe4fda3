//! No input makes the syslog, CEF, LEEF or key=value parsers (or the
//! sniffer) panic: deterministic mutations of their fixtures. Every
//! non-blank line still gives exactly one event or bad record.

mod common;

use common::{Rng, fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;

const SPECIAL: &[u8] = b"<>|=\\\"[]{}:,; \t\n\r\xff\xe9^0a%-";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    common::mutate(rng, input, SPECIAL, 6)
}

fn non_blank_lines(input: &[u8]) -> usize {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    input
        .split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count()
}

#[test]
fn mutated_lines_never_panic_and_are_all_accounted_for() {
    let seeds = [
        (Format::Syslog, fixture("syslog_mixed.log")),
        (Format::Cef, fixture("cef_samples.cef")),
        (Format::Leef, fixture("leef_samples.leef")),
        (Format::Kv, fixture("kv_samples.log")),
    ];
    let mut rng = Rng(0x5EED_5151_0C0F_FEE1);
    for (format, seed) in &seeds {
        for _ in 0..300 {
            let input = mutate(&mut rng, seed.as_bytes());
            let _ = sniff(&input);
            let s = split(run(*format, &input));
            assert_eq!(
                s.events.len() + s.bad.len(),
                non_blank_lines(&input),
                "{format}: {}",
                String::from_utf8_lossy(&input)
            );
            for other in [Format::Syslog, Format::Cef, Format::Leef, Format::Kv] {
                let _ = run(other, &input);
            }
        }
    }
}
