//! Shared body of the per-format fuzz targets.

use std::io::Cursor;

use mamori_formats::{Format, Item, ParseContext, parse};

/// Parse `data` as the format called `name`; every event keeps the tenant.
pub fn parse_as(name: &str, data: &[u8]) {
    let format = Format::from_name(name).expect("registered format");
    let ctx = ParseContext::new("fuzz", "fuzz-input");
    for item in parse(format, Box::new(Cursor::new(data.to_vec())), &ctx) {
        if let Item::Event(ev) = item {
            assert_eq!(ev.tenant(), "fuzz");
        }
    }
}
