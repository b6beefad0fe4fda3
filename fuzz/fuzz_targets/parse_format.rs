//! Every format's parser survives any input: the first byte picks the format
//! (so one target covers each registered parser), the rest is the input.
//! Run one format only with `MAMORI_FUZZ_FORMAT=<name>`.
#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use mamori_formats::{Format, Item, ParseContext, parse};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, input)) = data.split_first() else { return };
    let formats = Format::all();
    let format = match std::env::var("MAMORI_FUZZ_FORMAT").ok().and_then(|n| Format::from_name(&n)) {
        Some(f) => f,
        None => formats[pick as usize % formats.len()],
    };
    let ctx = ParseContext::new("fuzz", "fuzz-input");
    for item in parse(format, Box::new(Cursor::new(input.to_vec())), &ctx) {
        match item {
            Item::Event(ev) => assert_eq!(ev.tenant(), "fuzz"),
            Item::Bad(_) | Item::Warning(_) => {}
        }
    }
});
