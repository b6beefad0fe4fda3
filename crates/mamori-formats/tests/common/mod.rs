//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::io::Cursor;

use chrono::{DateTime, Utc};
use mamori_formats::{BadRecord, Diagnostic, Format, Item, ParseContext, parse};
use mamori_model::Event;

pub const INGEST: &str = "2030-01-02T03:04:05Z";

pub fn ctx() -> ParseContext {
    ParseContext {
        tenant: "acme".into(),
        source_name: "test.json".into(),
        ingest_time: DateTime::parse_from_rfc3339(INGEST).unwrap().with_timezone(&Utc),
    }
}

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path).unwrap()
}

pub fn run(format: Format, input: impl AsRef<[u8]>) -> Vec<Item> {
    parse(format, Box::new(Cursor::new(input.as_ref().to_vec())), &ctx()).collect()
}

pub struct Split {
    pub events: Vec<Event>,
    pub bad: Vec<BadRecord>,
    pub warnings: Vec<Diagnostic>,
}

pub fn split(items: Vec<Item>) -> Split {
    let mut s = Split {
        events: Vec::new(),
        bad: Vec::new(),
        warnings: Vec::new(),
    };
    for item in items {
        match item {
            Item::Event(e) => s.events.push(*e),
            Item::Bad(b) => s.bad.push(b),
            Item::Warning(w) => s.warnings.push(w),
        }
    }
    s
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// `input` with 1 to `max_edits` bytes flipped to, deleted or inserted from `special`.
pub fn mutate(rng: &mut Rng, input: &[u8], special: &[u8], max_edits: usize) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(max_edits) {
        let at = rng.below(out.len() + 1);
        let byte = special[rng.below(special.len())];
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

/// Every file under `dir`, recursively (none when it is absent).
pub fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}
