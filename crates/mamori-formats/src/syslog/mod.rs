//! Syslog: RFC 3164 (BSD) and RFC 5424 messages, one per line, read with
//! the forgiving `syslog_loose` parser; the message is then handed to its
//! inner format (CEF, LEEF, JSON, vendor shapes, key=value).
//!
//! # Header
//! - `<PRI>` (0–191; out of range or unclosed: bad record), then an RFC 5424
//!   header (`1 2024-05-01T10:00:00Z host app procid msgid [sd] msg`) or an
//!   RFC 3164 one (`Jan  2 15:04:05 host tag[pid]: msg`, also with a year
//!   `Jan  2 2024 15:04:05` or an RFC 3339 time).
//! - RFC 3164 times have no zone: they are read as UTC and tagged
//!   `mamori.timestamp_assumed_utc`; without a year they take the ingest
//!   year, or the year before when that would be more than a day after the
//!   ingest time.
//! - Corrections to what `syslog_loose` reads: a lone field followed by `:`
//!   is the tag; a "host" or "tag" holding `=`, `,`, `%`, `|`… starts the
//!   message (`… fw1 devid=FG… date=…`, `Oct 03 2018 17:34:08: %ASA-4-…`,
//!   PAN-OS CSV); a `CEF:`/`LEEF:` tag starts the message; RFC 5424
//!   structured data that is not well formed (Check Point's
//!   `[key:"value"; …]`) stays in the message; a severity word in the tag
//!   place followed by `name[pid]:` (F5 BIG-IP) gives `log.level` (without
//!   `<PRI>`) and the real tag.
//! - Fallbacks: `VERSION TIMESTAMP HOST APP PROCID MSGID rest` without
//!   `<PRI>`; `yyyy-mm-dd hh:mm:ss[.f][±zone] host tag[pid]: msg`; `<PRI>`
//!   followed by anything (the rest is the message).
//! - A line with no header at all is still read when its text is CEF, LEEF,
//!   a JSON object, a Cisco ASA or IOS message (`%ASA-…`, `%SEC-6-…`),
//!   PAN-OS CSV, Check Point pairs, a Snare event, a Junos header and
//!   element, an audit record, a web access line, a netfilter packet log or
//!   key=value (at least three pairs); it is tagged
//!   `mamori.syslog_header_missing`. Any other line is a bad record saying
//!   what header was expected.
//! - `event.id` is derived from tenant and line (as for NDJSON), so the
//!   same line ingested twice is one event.
//!
//! # Mapping
//!
//! | syslog                                   | ECS / Mamori |
//! |------------------------------------------|--------------|
//! | time                                     | `@timestamp` (UTC), unless the inner format has a time with a zone, or both lack one (then the inner time) |
//! | `<PRI>`                                  | `log.syslog.priority`, `log.syslog.facility.code`, `log.syslog.facility.name` (`kern` … `local7`), `log.syslog.severity.code`, `log.syslog.severity.name` (`emerg` … `debug`), `log.level` (the severity name) |
//! | RFC 5424 version                         | `log.syslog.version` |
//! | host name                                | `host.hostname`, `host.name`, `log.syslog.hostname` |
//! | app name / tag                           | `process.name`, `log.syslog.appname` |
//! | proc id                                  | `process.pid` (when a number), `log.syslog.procid` |
//! | MSGID                                    | `log.syslog.msgid` |
//! | structured data                          | `log.syslog.structured_data` as an object: `{ "id@pen": { "param": "value" } }` (a repeated parameter: an array) |
//! | the message                              | `message` (unless the inner format sets it) |
//! | the line                                 | `event.original` |
//!
//! # Inner formats
//! The first that fits, in this order; its fields are merged into the
//! event and the header fields are kept:
//!
//! | message                                  | read as |
//! |------------------------------------------|---------|
//! | `CEF:…`                                  | [`crate::cef`] (malformed: the event keeps the header and message, gets `error.message` and the tag `mamori.inner_format_malformed`, and a warning is reported) |
//! | `LEEF:…`                                 | [`crate::leef`] (malformed: as for CEF) |
//! | a JSON object                            | its fields at the top level (a field already set — a header field, `tenant`, `event.id` — goes under `json.` instead); the time from `@timestamp`, `timestamp`, `time`, `eventTime`, `ts` |
//! | `%ASA-n-nnnnnn:` (`%FTD`, `%PIX`, `%FWSM`) | [`vendors::asa`] |
//! | `%FAC-n-MNEMONIC:` (Cisco IOS)            | [`vendors::ios`] |
//! | PAN-OS CSV                               | [`vendors::paloalto`] |
//! | Check Point `[key:"value"; …]`           | [`vendors::checkpoint`] |
//! | tag `MSWinEventLog` (Snare: Windows events, tab-separated) | [`vendors::snare`] (the EVTX names: `winlog.channel`, `winlog.event_id`, …) |
//! | a Junos header and `[junos@…]` element (SRX behind a BSD header) | [`vendors::junos`], the inner time |
//! | a Linux audit record (`type=T msg=audit(…): …`; `audisp-syslog`, kernel `audit:`) | [`crate::auditd`], its time |
//! | app `filterlog` (pfSense / OPNsense)      | [`vendors::filterlog`] |
//! | an Apache/nginx common or combined line (`access_log syslog:`) | [`crate::weblog`]'s `weblog` mapping, its time |
//! | `[prefix] IN=… OUT=… SRC=…` (netfilter)    | [`vendors::netfilter`] |
//! | app `sshd`                               | [`vendors::sshd`]; with the next row, `event.module` = `system`, `event.dataset` = `system.auth` |
//! | app `sudo`, `su`, `useradd`, `usermod`, …; `pam_x(service:type):` | [`vendors::linux`] |
//! | at least three `key=value` pairs         | [`crate::kv`] (FortiGate: [`vendors::fortigate`]) |
//! | text, with a `junos@…` structured-data element | [`vendors::junos`] (Juniper SRX `RT_FLOW_…`, `RT_IDP_…`) |
//!
//! Then `related.ip` and `related.user` are filled from the address and
//! user fields. Without any time, `@timestamp` is the ingest time, tagged
//! `mamori.timestamp_missing`, with `event.ingested`.
//!
//! # Bad records
//! A line without a header that is none of the stand-alone shapes above, a
//! bad `<PRI>`, a header-less CEF or LEEF line that is malformed, invalid
//! UTF-8, or a line longer than 8 MiB: each with its line number, byte
//! offset, and a reason naming what was expected.

mod header;
mod inner;
pub mod vendors;

use std::io::BufRead;
use std::sync::LazyLock;

use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use crate::fieldmap::{self, Stamp};
use crate::linefmt::{self, Outcome};
use crate::record::{Item, ParseContext};
use crate::sniff;

use header::{Found, Header};

/// Tag of events read from a line without a syslog header.
pub const HEADER_MISSING: &str = "mamori.syslog_header_missing";
/// Tag of events whose CEF or LEEF message was malformed.
pub const INNER_MALFORMED: &str = "mamori.inner_format_malformed";

/// True when the first non-blank line starts like syslog: `<PRI>`, an RFC
/// 3164 time (`Mmm dd hh:mm:ss`, also with a year), an RFC 5424 header
/// without `<PRI>` (`1 2024-05-01T…`), an RFC 3339 time followed by a host,
/// or a Cisco `%ASA-n-nnnnnn:` message.
pub fn sniff(head: &[u8]) -> bool {
    static SHAPE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(concat!(
            r"^(?:<\d{1,3}>",
            r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) {1,2}\d{1,2}(?: \d{4})? \d{2}:\d{2}:\d{2}[ :]",
            r"|\d{1,2} \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}",
            r"|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2}) [^\s{\[]+ \S",
            r"|%(?:ASA|FTD|PIX|FWSM)-\d-\d{6}[: ])"
        ))
        .expect("valid regex")
    });
    let (head, start) = sniff::start(head);
    let rest = &head[start..];
    let first = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let shown = &first[..first.len().min(200)];
    SHAPE.is_match(&String::from_utf8_lossy(shown))
}

/// Parse syslog lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

/// True when `text` starts with a syslog header.
pub(crate) fn has_header(text: &str, ingest: chrono::DateTime<chrono::Utc>) -> bool {
    matches!(header::find(text, ingest), Found::Header(_))
}

/// One syslog line (also used by the CEF and LEEF formats for their lines
/// that do not start with `CEF:` / `LEEF:`).
pub(crate) fn line(text: &str, ctx: &ParseContext) -> Outcome {
    let mut ev = Event::new(&ctx.tenant, ctx.ingest_time, text);
    match header::find(text, ctx.ingest_time) {
        Found::Bad(at, reason) => Outcome::bad(Some(at), reason),
        Found::Header(h) => {
            apply_header(&mut ev, &h);
            let (time, warning) = match inner::map(&mut ev, h.msg, h.appname, ctx.ingest_time) {
                Ok(mapped) => {
                    if mapped.kind == inner::Kind::Text {
                        vendors::junos::map(&mut ev, h.msgid, &h.structured_data);
                    }
                    (mapped.time, None)
                }
                Err(reason) => {
                    ev.set("error.message", json!(reason));
                    ev.add_tag(INNER_MALFORMED);
                    (None, Some(reason))
                }
            };
            if ev.get("message").is_none() {
                fieldmap::set_str(&mut ev, "message", h.msg);
            }
            fieldmap::apply_time(&mut ev, Stamp::prefer(time, h.stamp), ctx);
            fieldmap::add_related(&mut ev);
            match warning {
                Some(w) => Outcome::Warned(Box::new(ev), format!("syslog message kept as text: {w}")),
                None => Outcome::Event(Box::new(ev)),
            }
        }
        Found::Missing(hint) => {
            let lead = text.len() - text.trim_start().len();
            match inner::map(&mut ev, text, None, ctx.ingest_time) {
                Err(reason) => Outcome::bad(Some(lead), reason),
                Ok(mapped) if mapped.kind.stands_alone() => {
                    ev.add_tag(HEADER_MISSING);
                    fieldmap::apply_time(&mut ev, mapped.time, ctx);
                    fieldmap::add_related(&mut ev);
                    Outcome::Event(Box::new(ev))
                }
                Ok(_) => {
                    let expected = "expected a syslog header (`<PRI>`, an RFC 3164 time such as \
                                    `Jan  2 15:04:05`, or an RFC 5424 `1 2024-01-02T15:04:05Z host …`) \
                                    or a CEF, LEEF, JSON or key=value message";
                    let reason = match hint {
                        Some(hint) => format!("{hint}; {expected}"),
                        None => expected.to_string(),
                    };
                    Outcome::bad(Some(lead), reason)
                }
            }
        }
    }
}

fn apply_header(ev: &mut Event, h: &Header<'_>) {
    if let Some(pri) = h.pri {
        let (facility, severity) = syslog_loose::decompose_pri(pri);
        ev.set("log.syslog.priority", json!(pri));
        ev.set("log.syslog.facility.code", json!(pri >> 3));
        ev.set("log.syslog.severity.code", json!(pri & 7));
        if let Some(f) = facility {
            ev.set("log.syslog.facility.name", json!(f.as_str()));
        }
        if let Some(s) = severity {
            ev.set("log.syslog.severity.name", json!(s.as_str()));
            ev.set("log.level", json!(s.as_str()));
        }
    }
    if h.pri.is_none()
        && let Some(level) = h.level
    {
        ev.set("log.level", json!(level));
    }
    if let Some(v) = h.version {
        ev.set("log.syslog.version", json!(v.to_string()));
    }
    if let Some(host) = h.hostname {
        for path in ["host.hostname", "host.name", "log.syslog.hostname"] {
            fieldmap::set_str(ev, path, host);
        }
    }
    if let Some(app) = h.appname {
        fieldmap::set_str(ev, "process.name", app);
        fieldmap::set_str(ev, "log.syslog.appname", app);
    }
    if let Some(procid) = &h.procid {
        fieldmap::set_str(ev, "log.syslog.procid", procid);
    }
    if let Some(pid) = h.pid {
        ev.set("process.pid", json!(pid));
    }
    if let Some(msgid) = h.msgid {
        fieldmap::set_str(ev, "log.syslog.msgid", msgid);
    }
    if !h.structured_data.is_empty() {
        ev.set("log.syslog.structured_data", json!(h.structured_data));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing() {
        for yes in [
            &b"<34>Oct 11 22:14:15 host su: x\n"[..],
            b"Oct 11 22:14:15 host su: x",
            b"Oct  1 22:14:15 host su: x",
            b"Oct 11 2018 22:14:15: %ASA-4-1: x",
            b"1 2019-05-15T16:25:50Z HOST app 1 - - x",
            b"2013-10-30T14:51:21.901728+01:00 srv sshd[12664]: x",
            b"%ASA-6-302013: Built",
            b"\xEF\xBB\xBF\n<13>x",
        ] {
            assert!(sniff(yes), "{}", String::from_utf8_lossy(yes));
        }
        for no in [
            &b"CEF:0|a"[..],
            b"{\"a\":1}",
            b"a=1 b=2 c=3",
            b"2024-05-01T10:00:00Z",
            b"Octopus 11 22:14:15",
            b"",
        ] {
            assert!(!sniff(no), "{}", String::from_utf8_lossy(no));
        }
    }
}
