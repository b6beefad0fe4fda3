//! No input makes a parser or the sniffer panic: deterministic mutations of
//! the fixtures (flipped, deleted and inserted bytes).

mod common;

use common::{Rng, fixture, run};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;

const SPECIAL: &[u8] = b"{}[],:\"\\\n\r \xff\xef\xbb\xbf0a";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    common::mutate(rng, input, SPECIAL, 4)
}

#[test]
fn mutated_inputs_never_panic() {
    let seeds = [
        fixture("cloudtrail_records.json"),
        "{\"a\":1,\"b\":[1,2,{\"c\":\"d\"}]}\n{\"eventVersion\":\"1\",\"eventSource\":\"s\",\"eventName\":\"n\"}\n".to_string(),
        "{\"detail-type\":\"AWS API Call via CloudTrail\",\"detail\":{\"eventName\":\"X\"}}".to_string(),
    ];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for seed in &seeds {
        for _ in 0..400 {
            let input = mutate(&mut rng, seed.as_bytes());
            let _ = sniff(&input);
            for format in Format::all() {
                let _ = run(*format, &input);
            }
        }
    }
}
