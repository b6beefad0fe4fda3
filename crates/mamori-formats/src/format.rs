//! The formats Mamori reads, by name.

use std::fmt;
use std::str::FromStr;

use crate::FormatError;

/// A log format. Adding one: a module, a variant, and a line in [`FORMATS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// AWS CloudTrail records (see [`crate::cloudtrail`]).
    CloudTrail,
    /// AWS CloudTrail digest files: recognised, and skipped.
    CloudTrailDigest,
    /// One JSON object per line (see [`crate::ndjson`]).
    Ndjson,
}

/// Every format with its name.
const FORMATS: &[(Format, &str)] = &[
    (Format::CloudTrail, "cloudtrail"),
    (Format::CloudTrailDigest, "cloudtrail-digest"),
    (Format::Ndjson, "ndjson"),
];

impl Format {
    /// The name used on the command line and in configuration.
    pub fn name(&self) -> &'static str {
        FORMATS
            .iter()
            .find(|(f, _)| f == self)
            .map_or("unknown", |(_, name)| name)
    }

    /// The format called `s` (case-insensitive).
    pub fn from_name(s: &str) -> Option<Format> {
        FORMATS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(s.trim()))
            .map(|(f, _)| *f)
    }

    /// Every format.
    pub fn all() -> &'static [Format] {
        const ALL: &[Format] = &[Format::CloudTrail, Format::CloudTrailDigest, Format::Ndjson];
        ALL
    }

    /// The names of every format, comma-separated.
    pub fn names() -> String {
        FORMATS.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::from_name(s).ok_or_else(|| FormatError::UnknownFormat {
            name: s.to_string(),
            valid: Format::names(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(Format::all().len(), FORMATS.len());
        for f in Format::all() {
            assert_eq!(Format::from_name(f.name()), Some(*f));
            assert_eq!(f.name().parse::<Format>().ok(), Some(*f));
        }
        assert_eq!("CloudTrail".parse::<Format>().ok(), Some(Format::CloudTrail));
        let err = "syslog".parse::<Format>().unwrap_err().to_string();
        assert_eq!(err, "unknown format \"syslog\"; valid formats: cloudtrail, cloudtrail-digest, ndjson");
    }
}
