//! The formats Mamori reads: one registry gives each its name, its place in
//! the sniffing order and its parser.

use std::fmt;
use std::io::BufRead;
use std::str::FromStr;
use std::sync::LazyLock;

use crate::record::{Item, ParseContext};
use crate::{FormatError, cloudtrail, ndjson};

/// A log format. Adding one: a module with `sniff` and `parse`, a variant
/// here, and one line in the registry (`REGISTRY` in `format.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// AWS CloudTrail records (see [`crate::cloudtrail`]).
    CloudTrail,
    /// AWS CloudTrail digest files: recognised, and yield nothing.
    CloudTrailDigest,
    /// Windows XML Event Log files, `.evtx` (see [`crate::evtx`]).
    Evtx,
    /// Amazon GuardDuty findings, raw JSON (see [`crate::guardduty`]).
    GuardDuty,
    /// AWS Security Hub findings, ASFF (see [`crate::securityhub`]).
    SecurityHub,
    /// Amazon VPC Flow Logs, text records (see [`crate::vpcflow`]).
    VpcFlow,
    /// Suricata EVE JSON (see [`crate::suricata`]).
    Suricata,
    /// Zeek logs, TSV or JSON (see [`crate::zeek`]).
    Zeek,
    /// AWS ALB (and Classic ELB) access logs (see [`crate::weblog`]).
    Alb,
    /// CloudFront standard logs, W3C extended (see [`crate::weblog`]).
    CloudFront,
    /// IIS and other W3C extended logs (see [`crate::weblog`]).
    Iis,
    /// Apache/nginx common and combined access logs (see [`crate::weblog`]).
    WebAccess,
    /// Apache and nginx error logs, with ModSecurity alerts (see [`crate::weberror`]).
    WebError,
    /// CSV with a header line (see [`crate::csv`]).
    Csv,
    /// ArcSight CEF lines (see [`crate::cef`]).
    Cef,
    /// IBM QRadar LEEF lines (see [`crate::leef`]).
    Leef,
    /// Squid proxy access logs, native format (see [`crate::squid`]).
    Squid,
    /// Linux audit records, `audit.log` (see [`crate::auditd`]).
    Auditd,
    /// Syslog, RFC 3164 and RFC 5424, with inner formats (see [`crate::syslog`]).
    Syslog,
    /// Generic key=value lines (see [`crate::kv`]).
    Kv,
    /// One JSON object per line (see [`crate::ndjson`]).
    Ndjson,
}

type ParseFn = fn(Box<dyn BufRead + Send>, &ParseContext) -> Box<dyn Iterator<Item = Item> + Send>;

struct Registration {
    format: Format,
    name: &'static str,
    sniff: fn(&[u8]) -> bool,
    parse: ParseFn,
}

/// Every format, in sniffing order: specific shapes before generic ones.
const REGISTRY: &[Registration] = &[
    reg(
        Format::CloudTrailDigest,
        "cloudtrail-digest",
        cloudtrail::sniff_digest,
        nothing,
    ),
    reg(
        Format::CloudTrail,
        "cloudtrail",
        cloudtrail::sniff,
        cloudtrail::parse,
    ),
    reg(Format::Evtx, "evtx", crate::evtx::sniff, crate::evtx::parse),
    reg(
        Format::GuardDuty,
        "guardduty",
        crate::guardduty::sniff,
        crate::guardduty::parse,
    ),
    reg(
        Format::SecurityHub,
        "securityhub",
        crate::securityhub::sniff,
        crate::securityhub::parse,
    ),
    reg(
        Format::VpcFlow,
        "vpcflow",
        crate::vpcflow::sniff,
        crate::vpcflow::parse,
    ),
    reg(
        Format::Suricata,
        "suricata",
        crate::suricata::sniff,
        crate::suricata::parse,
    ),
    reg(Format::Zeek, "zeek", crate::zeek::sniff, crate::zeek::parse),
    reg(
        Format::Alb,
        "alb",
        crate::weblog::sniff_alb,
        crate::weblog::parse_alb,
    ),
    reg(
        Format::CloudFront,
        "cloudfront",
        crate::weblog::sniff_cloudfront,
        crate::weblog::parse_w3c,
    ),
    reg(
        Format::Iis,
        "iis",
        crate::weblog::sniff_iis,
        crate::weblog::parse_w3c,
    ),
    reg(
        Format::WebAccess,
        "weblog",
        crate::weblog::sniff,
        crate::weblog::parse,
    ),
    reg(
        Format::WebError,
        "weberror",
        crate::weberror::sniff,
        crate::weberror::parse,
    ),
    reg(Format::Cef, "cef", crate::cef::sniff, crate::cef::parse),
    reg(Format::Leef, "leef", crate::leef::sniff, crate::leef::parse),
    reg(Format::Squid, "squid", crate::squid::sniff, crate::squid::parse),
    reg(
        Format::Auditd,
        "auditd",
        crate::auditd::sniff,
        crate::auditd::parse,
    ),
    reg(
        Format::Syslog,
        "syslog",
        crate::syslog::sniff,
        crate::syslog::parse,
    ),
    reg(Format::Csv, "csv", crate::csv::sniff, crate::csv::parse),
    reg(Format::Kv, "kv", crate::kv::sniff, crate::kv::parse),
    reg(Format::Ndjson, "ndjson", ndjson::sniff, ndjson::parse),
];

const fn reg(format: Format, name: &'static str, sniff: fn(&[u8]) -> bool, parse: ParseFn) -> Registration {
    Registration {
        format,
        name,
        sniff,
        parse,
    }
}

static ALL: LazyLock<Vec<Format>> = LazyLock::new(|| REGISTRY.iter().map(|r| r.format).collect());

/// The parser of formats whose files hold no events.
fn nothing(_: Box<dyn BufRead + Send>, _: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(std::iter::empty())
}

impl Format {
    fn registration(&self) -> Option<&'static Registration> {
        REGISTRY.iter().find(|r| r.format == *self)
    }

    /// The name used on the command line and in configuration.
    pub fn name(&self) -> &'static str {
        self.registration().map_or("unregistered", |r| r.name)
    }

    /// The format called `s` (case-insensitive).
    pub fn from_name(s: &str) -> Option<Format> {
        REGISTRY
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(s.trim()))
            .map(|r| r.format)
    }

    /// Every format, in sniffing order.
    pub fn all() -> &'static [Format] {
        &ALL
    }

    /// The names of every format, comma-separated.
    pub fn names() -> String {
        REGISTRY.iter().map(|r| r.name).collect::<Vec<_>>().join(", ")
    }

    /// True when an input starting with `head` is in this format.
    pub fn sniffs(&self, head: &[u8]) -> bool {
        self.registration().is_some_and(|r| (r.sniff)(head))
    }

    /// This format's parser over `input`.
    pub(crate) fn parse(
        &self,
        input: Box<dyn BufRead + Send>,
        ctx: &ParseContext,
    ) -> Box<dyn Iterator<Item = Item> + Send> {
        match self.registration() {
            Some(r) => (r.parse)(input, ctx),
            None => Box::new(std::iter::empty()),
        }
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
    fn every_variant_is_registered_once() {
        for f in [Format::CloudTrail, Format::CloudTrailDigest, Format::Ndjson] {
            assert_eq!(REGISTRY.iter().filter(|r| r.format == f).count(), 1, "{f:?}");
        }
        assert_eq!(Format::all().len(), REGISTRY.len());
    }

    #[test]
    fn names_round_trip() {
        for f in Format::all() {
            assert_eq!(Format::from_name(f.name()), Some(*f));
            assert_eq!(f.name().parse::<Format>().ok(), Some(*f));
        }
        assert_eq!("CloudTrail".parse::<Format>().ok(), Some(Format::CloudTrail));
        let err = "no-such-format".parse::<Format>().unwrap_err().to_string();
        assert!(
            err.starts_with(
                "unknown format \"no-such-format\"; valid formats: cloudtrail-digest, cloudtrail, "
            ),
            "{err}"
        );
        assert!(err.ends_with(", ndjson"), "{err}");
    }
}
