//! Shared helpers of the conformance tests: where `../shared/data` is and how to read events.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mamori_formats::{Item, ParseContext, open_and_sniff, parse};
use mamori_model::Event;

/// `../shared/data/<sub>` seen from the workspace, or `None` (printing why) when absent.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data")
        .join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        println!("skipped: ../shared/data/{sub} not present");
        None
    }
}

/// Every event of a file, in any format Mamori reads.
pub fn events(path: &Path) -> Vec<Event> {
    let Ok((format, input)) = open_and_sniff(path) else {
        return Vec::new();
    };
    let ctx = ParseContext::new("t", path.display().to_string());
    parse(format, input, &ctx)
        .filter_map(|i| match i {
            Item::Event(ev) => Some(*ev),
            _ => None,
        })
        .collect()
}

/// Files under `dir` (recursively) with extension `ext`, sorted.
pub fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case(ext))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
