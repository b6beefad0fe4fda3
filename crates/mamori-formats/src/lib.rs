//! Mamori's log formats: recognise an input ([`sniff`]), read it as a stream
//! of events and bad records ([`parse`]), each format mapped to ECS with its
//! mapping written as a table in its module.
//!
//! ```no_run
//! use mamori_formats::{Item, ParseContext, open_and_sniff, parse};
//! let (format, input) = open_and_sniff("trail.json.gz".as_ref())?;
//! let ctx = ParseContext::new("acme", "trail.json.gz");
//! for item in parse(format, input, &ctx) {
//!     match item {
//!         Item::Event(ev) => println!("{}", ev.to_json()),
//!         Item::Bad(bad) => eprintln!("bad record: {bad}"),
//!         Item::Warning(w) => eprintln!("warning: {w}"),
//!     }
//! }
//! # Ok::<(), mamori_formats::FormatError>(())
//! ```

pub mod auditd;
pub mod cef;
pub mod cloudtrail;
pub mod csv;
pub mod decode;
pub mod evtx;
pub mod guardduty;
pub mod kv;
pub mod leef;
pub mod ndjson;
pub mod record;
pub mod securityhub;
pub mod sniff;
pub mod squid;
pub mod suricata;
pub mod syslog;
pub mod vpcflow;
pub mod weberror;
pub mod weblog;
pub mod zeek;

mod aws_finding;
mod error;
mod fieldmap;
mod format;
mod json;
mod json_array;
mod linefmt;
mod lines;
mod netlog;
mod scan;
mod time;

use std::io::BufRead;
use std::path::Path;

pub use decode::open;
pub use error::FormatError;
pub use format::Format;
pub use record::{BadRecord, Diagnostic, Item, Location, ParseContext};

/// Parse a whole input stream as `format`, yielding items lazily (NDJSON is
/// streamed; a CloudTrail document is read into memory, an NDJSON of
/// CloudTrail records is streamed). A read error ends the items with a bad
/// record saying `read error: …` and where.
pub fn parse(
    format: Format,
    input: Box<dyn BufRead + Send>,
    ctx: &ParseContext,
) -> Box<dyn Iterator<Item = Item> + Send> {
    format.parse(input, ctx)
}

/// Open `path` (gzip-transparent) and recognise its format; the reader
/// returned starts at the first byte.
pub fn open_and_sniff(path: &Path) -> Result<(Format, Box<dyn BufRead + Send>), FormatError> {
    let peeked = decode::peek(open(path)?, sniff::HEAD_LEN);
    if let Some(format) = sniff::sniff(&peeked.head) {
        return Ok((format, peeked.reader));
    }
    let reason = match (&peeked.error, peeked.head.is_empty()) {
        (Some(e), true) => format!("read error: {e}"),
        (None, true) => "it is empty".to_string(),
        (error, false) => {
            let shown = &peeked.head[..peeked.head.len().min(48)];
            let more = if peeked.head.len() > shown.len() {
                "…"
            } else {
                ""
            };
            let error = error
                .as_ref()
                .map(|e| format!(" (then read error: {e})"))
                .unwrap_or_default();
            format!("first bytes {:?}{more}{error}", String::from_utf8_lossy(shown))
        }
    };
    Err(FormatError::Unrecognised {
        path: path.to_path_buf(),
        reason,
    })
}
