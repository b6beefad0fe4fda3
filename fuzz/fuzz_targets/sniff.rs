//! Sniffing never panics on any head of input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mamori_formats::sniff::sniff(data);
});
