//! What a parser yields: events, bad records and warnings, each bad record
//! or warning with the place in the input it came from.

use std::fmt;

use chrono::{DateTime, Utc};
use mamori_model::Event;

/// The most bytes of a bad record kept in [`BadRecord::raw`].
pub const RAW_CAP: usize = 64 * 1024;

/// Who is parsing, from where, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseContext {
    /// The tenant every event is given; input fields never override it.
    pub tenant: String,
    /// The name shown in locations: a file path, or `stdin`, `http`.
    pub source_name: String,
    /// When the input was received; the `@timestamp` of records without a usable time.
    pub ingest_time: DateTime<Utc>,
}

impl ParseContext {
    /// A context for `tenant` and `source_name`, received now.
    pub fn new(tenant: impl Into<String>, source_name: impl Into<String>) -> Self {
        ParseContext {
            tenant: tenant.into(),
            source_name: source_name.into(),
            ingest_time: Utc::now(),
        }
    }

    /// A location in this context's source.
    pub fn location(&self, line: Option<u64>, column: Option<u64>, byte_offset: Option<u64>) -> Location {
        Location {
            source: self.source_name.clone(),
            line,
            column,
            byte_offset,
        }
    }
}

/// One thing read from an input.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A normalized event.
    Event(Box<Event>),
    /// A record that could not be read; it belongs in the dead letter.
    Bad(BadRecord),
    /// A structural problem that was recovered from; no record was lost.
    Warning(Diagnostic),
}

/// A place in an input. Unknown parts are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// File path, or `stdin`, `http`.
    pub source: String,
    /// 1-based line.
    pub line: Option<u64>,
    /// 1-based column, in bytes.
    pub column: Option<u64>,
    /// 0-based offset in the (decompressed) input.
    pub byte_offset: Option<u64>,
}

impl fmt::Display for Location {
    /// `file.json:112:1 (byte 4031)`, leaving out what is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(off) = self.byte_offset {
            write!(f, " (byte {off})")?;
        }
        Ok(())
    }
}

/// A record that could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadRecord {
    /// Where the record starts (or where reading failed).
    pub location: Location,
    /// Why it was rejected.
    pub reason: String,
    /// The record's bytes as lossy UTF-8, at most [`RAW_CAP`] bytes of them.
    pub raw: String,
}

impl BadRecord {
    /// A bad record keeping at most [`RAW_CAP`] bytes of `raw`.
    pub fn new(location: Location, reason: impl Into<String>, raw: &[u8]) -> Self {
        BadRecord {
            location,
            reason: reason.into(),
            raw: String::from_utf8_lossy(&raw[..raw.len().min(RAW_CAP)]).into_owned(),
        }
    }
}

impl fmt::Display for BadRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// A recovered structural problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// What was wrong and what was done about it.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loc(line: Option<u64>, column: Option<u64>, off: Option<u64>) -> Location {
        Location {
            source: "file.json".into(),
            line,
            column,
            byte_offset: off,
        }
    }

    #[test]
    fn location_display_omits_unknown_parts() {
        assert_eq!(
            loc(Some(112), Some(1), Some(4031)).to_string(),
            "file.json:112:1 (byte 4031)"
        );
        assert_eq!(loc(Some(3), None, Some(10)).to_string(), "file.json:3 (byte 10)");
        assert_eq!(loc(None, None, Some(10)).to_string(), "file.json (byte 10)");
        assert_eq!(loc(None, None, None).to_string(), "file.json");
    }

    #[test]
    fn bad_record_raw_is_capped_and_lossy() {
        let big = vec![b'x'; RAW_CAP + 10];
        assert_eq!(
            BadRecord::new(loc(None, None, None), "r", &big).raw.len(),
            RAW_CAP
        );
        let bad = BadRecord::new(loc(Some(1), None, None), "why", b"a\xffb");
        assert_eq!(bad.raw, "a\u{fffd}b");
        assert_eq!(bad.to_string(), "file.json:1: why");
    }
}
