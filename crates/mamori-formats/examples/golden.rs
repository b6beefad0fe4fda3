//! Dump every item of every real data file and fixture (fixed context), for
//! before/after comparisons: `cargo run --release -p mamori-formats --example golden -- OUT`.

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, Utc};
use mamori_formats::{Item, ParseContext, open_and_sniff, parse};

#[path = "../tests/common/mod.rs"]
mod common;
use common::files;

fn main() {
    let out = std::env::args().nth(1).expect("output path");
    let mut w = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for d in ["aws", "aws2", "net", "net2", "evtx"] {
        files(&root.join("../../../shared/data").join(d), &mut all);
    }
    files(&root.join("tests/fixtures"), &mut all);
    all.sort();
    let ctx = ParseContext {
        tenant: "acme".into(),
        source_name: "golden".into(),
        ingest_time: DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc),
    };
    for path in all {
        writeln!(w, "== {}", path.display()).unwrap();
        let (format, input) = match open_and_sniff(&path) {
            Ok(x) => x,
            Err(e) => {
                writeln!(w, "unrecognised: {e}").unwrap();
                continue;
            }
        };
        writeln!(w, "format {format}").unwrap();
        for item in parse(format, input, &ctx) {
            match item {
                Item::Event(ev) => writeln!(w, "E {}", ev.to_json()).unwrap(),
                Item::Bad(b) => writeln!(w, "B {} | {} | {:?}", b.location, b.reason, b.raw).unwrap(),
                Item::Warning(d) => writeln!(w, "W {d}").unwrap(),
            }
        }
    }
}
