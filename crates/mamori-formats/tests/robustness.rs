//! No input makes a parser or the sniffer panic: deterministic mutations of
//! the fixtures (flipped, deleted and inserted bytes).

mod common;

use common::{fixture, run};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SPECIAL: &[u8] = b"{}[],:\"\\\n\r \xff\xef\xbb\xbf0a";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        let byte = SPECIAL[rng.below(SPECIAL.len())];
        match rng.below(3) {
            0 if at < out.len() => out[at] = byte,
            1 if at < out.len() => {
                out.remove(at);
            }
            _ => out.insert(at, byte),
        }
    }
    out
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
