//! IBM QRadar Log Event Extended Format (LEEF) 1.0 and 2.0, one event per
//! line. A file whose first line starts with `LEEF:` is this format; inside
//! a syslog line, LEEF is the message's inner format (see [`crate::syslog`]).
//! Lines of a LEEF file that do not start with `LEEF:` are read as syslog
//! lines.
//!
//! # Reading
//! - 1.0: `LEEF:1.0|Vendor|Product|Version|EventID|` then `key=value`
//!   attributes separated by tabs.
//! - 2.0: `LEEF:2.0|Vendor|Product|Version|EventID|Delimiter|` then the
//!   attributes separated by the delimiter: one character (`^`, `;`…) or a
//!   hex code (`x09`, `0x09`, `\x09`). An empty or missing delimiter field
//!   means a tab.
//! - Header fields may escape `|` as `\|`. A value runs to the next
//!   delimiter and may hold `=`. A piece without `=` after the first
//!   attribute belongs to the value before it (its delimiter kept).
//!   Leniency for 1.0 senders that mix in `|`: a `|` directly followed by
//!   `key=` also separates attributes. Empty pieces (a trailing tab) are
//!   skipped.
//!
//! # Mapping
//!
//! | LEEF                                  | ECS / Mamori |
//! |---------------------------------------|--------------|
//! | version                               | `leef.version` |
//! | Vendor, Product, Version              | `observer.vendor`, `observer.product`, `observer.version` |
//! | EventID                               | `event.code`; `event.action` when there is no `action` |
//! | every attribute                       | `leef.extensions.<key>` (unescaped as written) |
//! | `src`, `dst` (IPs)                    | `source.ip`, `destination.ip` |
//! | `srcPort`, `dstPort`                  | `source.port`, `destination.port` |
//! | `srcPostNAT`, `dstPostNAT`, `srcPostNATPort`, `dstPostNATPort` | `source.nat.ip`, `destination.nat.ip`, `source.nat.port`, `destination.nat.port` (not for `0.0.0.0`; the port only with the address) |
//! | `srcMAC`, `dstMAC`                    | `source.mac`, `destination.mac` |
//! | `srcBytes`, `dstBytes`, `srcPackets`, `dstPackets` | `source.bytes`, `destination.bytes`, `source.packets`, `destination.packets` |
//! | `usrName`                             | `user.name` |
//! | `identSrc` (IP)                       | `source.ip` when there is no `src` (and `related.ip`) |
//! | `proto`                               | `network.transport` (lower case; a number also gives `network.iana_number`) |
//! | `sev` (1–10)                          | `event.severity` |
//! | `cat`                                 | `leef.category` |
//! | `action`                              | `event.action` |
//! | `url`, `policy`                       | `url.original`, `rule.name` |
//! | `devTime` read with `devTimeFormat` (Java pattern such as `MMM dd yyyy HH:mm:ss.SSS zzz`), else epoch ms, `MMM dd yyyy HH:mm:ss`, ISO 8601 | `@timestamp` |
//! | —                                     | `event.module` = `leef`, `event.dataset` = `leef.log`, `related.ip`, `related.user` |
//!
//! Keys are matched case-insensitively. A time without a zone is read as UTC
//! (tag `mamori.timestamp_assumed_utc`); without `devTime` a standalone line
//! gets the ingest time, the tag `mamori.timestamp_missing` and
//! `event.ingested`. `event.original` is the line.
//!
//! # Bad records
//! A line with fewer than five header fields after `LEEF:`, a 2.0 delimiter
//! that is neither one character nor a hex code, attributes that do not
//! start with `key=`, invalid UTF-8, or longer than 8 MiB.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use crate::cef::{SyntaxError, split_header};
use crate::fieldmap::{self, Stamp, put_raw, set_ip, set_mac, set_port, set_str, set_transport, set_u64};
use crate::kv;
use crate::linefmt::{self, Outcome};
use crate::record::{Item, ParseContext};
use crate::{sniff, syslog};

/// One LEEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Leef {
    /// `1.0`, `2.0`.
    pub version: String,
    /// Vendor.
    pub vendor: String,
    /// Product.
    pub product: String,
    /// Product version.
    pub product_version: String,
    /// Event id.
    pub event_id: String,
    /// Attributes, in order.
    pub attributes: Vec<(String, String)>,
}

/// True when the first non-blank line starts with `LEEF:`.
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    head[start..].starts_with(b"LEEF:")
}

/// Parse LEEF lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

fn line(text: &str, ctx: &ParseContext) -> Outcome {
    let lead = text.len() - text.trim_start().len();
    if !text[lead..].starts_with("LEEF:") {
        return syslog::line(text, ctx);
    }
    let leef = match parse_leef(&text[lead..]) {
        Ok(leef) => leef,
        Err(e) => return Outcome::bad(Some(lead + e.at), e.reason),
    };
    let mut ev = Event::new(&ctx.tenant, ctx.ingest_time, text);
    let time = map_leef(&mut ev, &leef, ctx.ingest_time);
    fieldmap::apply_time(&mut ev, time, ctx);
    fieldmap::add_related(&mut ev);
    Outcome::Event(Box::new(ev))
}

/// A 2.0 delimiter field: one character, or a hex code.
fn delimiter(field: &str) -> Option<char> {
    let f = field.trim();
    let mut chars = f.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(c);
    }
    let hex = f
        .strip_prefix("\\x")
        .or_else(|| f.strip_prefix("0x"))
        .or_else(|| f.strip_prefix("0X"))
        .or_else(|| f.strip_prefix('x'))
        .or_else(|| f.strip_prefix('X'))?;
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

/// Read one LEEF record; `text` starts with `LEEF:`.
pub(crate) fn parse_leef(text: &str) -> Result<Leef, SyntaxError> {
    let body = text.strip_prefix("LEEF:").ok_or_else(|| SyntaxError {
        at: 0,
        reason: "expected `LEEF:` at the start".into(),
    })?;
    let (fields, rest) = split_header(body, 5);
    if fields.len() < 5 {
        return Err(SyntaxError {
            at: 0,
            reason: format!(
                "LEEF header has {} of the 5 `|`-separated fields expected after `LEEF:` \
                 (version|vendor|product|version|event id|)",
                fields.len()
            ),
        });
    }
    let version = fields[0].trim().to_string();
    let mut at = 5 + rest.unwrap_or(body.len());
    let mut attrs = rest.map_or("", |r| &body[r..]);
    let mut delim = '\t';
    if version.starts_with('2')
        && let Some(bar) = attrs.find('|')
    {
        let field = &attrs[..bar];
        if !field.contains('=') {
            if !field.trim().is_empty() {
                delim = delimiter(field).ok_or_else(|| SyntaxError {
                    at,
                    reason: format!(
                        "LEEF 2.0 delimiter: expected one character or a hex code such as x09, found `{field}`"
                    ),
                })?;
            }
            at += bar + 1;
            attrs = &attrs[bar + 1..];
        }
    }
    let attributes = attributes(attrs, delim, version.starts_with('1')).map_err(|e| SyntaxError {
        at: at + e.at,
        reason: e.reason,
    })?;
    let mut f = fields.into_iter().map(|s| s.trim().to_string()).skip(1);
    let mut next = || f.next().unwrap_or_default();
    Ok(Leef {
        version,
        vendor: next(),
        product: next(),
        product_version: next(),
        event_id: next(),
        attributes,
    })
}

/// Split attributes at `delim` (and, when `bars`, at a `|` followed by `key=`).
fn attributes(s: &str, delim: char, bars: bool) -> Result<Vec<(String, String)>, SyntaxError> {
    let mut pieces: Vec<(usize, &str, char)> = Vec::new();
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let split = c == delim || (bars && c == '|' && key_follows(&s[i + 1..]));
        if split {
            pieces.push((start, &s[start..i], c));
            start = i + c.len_utf8();
        }
    }
    pieces.push((start, &s[start..], delim));
    let mut out: Vec<(String, String)> = Vec::new();
    let mut prev_sep = delim;
    for (offset, piece, sep) in pieces {
        if piece.trim().is_empty() {
            prev_sep = sep;
            continue;
        }
        match piece.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() && !k.trim().contains(char::is_whitespace) => {
                out.push((k.trim().to_string(), v.to_string()));
            }
            _ => match out.last_mut() {
                Some((_, v)) => {
                    v.push(prev_sep);
                    v.push_str(piece);
                }
                None => {
                    let shown: String = piece.chars().take(40).collect();
                    return Err(SyntaxError {
                        at: offset,
                        reason: format!("LEEF attributes: expected `key=value`, found `{shown}`"),
                    });
                }
            },
        }
        prev_sep = sep;
    }
    Ok(out)
}

fn key_follows(s: &str) -> bool {
    let key_len = s
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    key_len > 0 && s.as_bytes().get(key_len) == Some(&b'=')
}

/// Map one LEEF record onto `ev` (the table above); returns the `devTime`.
pub(crate) fn map_leef(ev: &mut Event, leef: &Leef, ingest: DateTime<Utc>) -> Option<Stamp> {
    ev.set("event.module", json!("leef"));
    ev.set("event.dataset", json!("leef.log"));
    set_str(ev, "leef.version", &leef.version);
    set_str(ev, "observer.vendor", &leef.vendor);
    set_str(ev, "observer.product", &leef.product);
    set_str(ev, "observer.version", &leef.product_version);
    set_str(ev, "event.code", &leef.event_id);
    let a = &leef.attributes;
    for (k, v) in a {
        put_raw(ev, "leef.extensions", k, v);
    }
    let get = |names: &[&str]| kv::get(a, names);
    for (key, path) in [("src", "source.ip"), ("dst", "destination.ip")] {
        if let Some(v) = get(&[key]) {
            set_ip(ev, path, v);
        }
    }
    if ev.get("source.ip").is_none()
        && let Some(v) = get(&["identSrc"])
    {
        set_ip(ev, "source.ip", v);
    }
    for (key, path) in [("srcPort", "source.port"), ("dstPort", "destination.port")] {
        if let Some(v) = get(&[key]) {
            set_port(ev, path, v);
        }
    }
    for (side, short) in [("source", "src"), ("destination", "dst")] {
        let addr = get(&[&format!("{short}PostNAT")]);
        let port = get(&[&format!("{short}PostNATPort")]);
        fieldmap::set_nat(ev, side, addr, port);
    }
    for (key, path) in [("srcMAC", "source.mac"), ("dstMAC", "destination.mac")] {
        if let Some(v) = get(&[key]) {
            set_mac(ev, path, v);
        }
    }
    for (key, path) in [
        ("srcBytes", "source.bytes"),
        ("dstBytes", "destination.bytes"),
        ("srcPackets", "source.packets"),
        ("dstPackets", "destination.packets"),
        ("sev", "event.severity"),
    ] {
        if let Some(v) = get(&[key]) {
            set_u64(ev, path, v);
        }
    }
    for (key, path) in [
        ("usrName", "user.name"),
        ("cat", "leef.category"),
        ("url", "url.original"),
        ("policy", "rule.name"),
    ] {
        if let Some(v) = get(&[key]) {
            set_str(ev, path, v);
        }
    }
    if let Some(v) = get(&["proto"]) {
        set_transport(ev, v);
    }
    match get(&["action"]) {
        Some(v) => set_str(ev, "event.action", v),
        None => set_str(ev, "event.action", &leef.event_id),
    };
    if let Some(ident) = get(&["identSrc"])
        && let Some(addr) = fieldmap::ip(ident)
    {
        ev.set("related.ip", json!([addr.to_string()]));
    }
    let dev_time = get(&["devTime"])?;
    match get(&["devTimeFormat"]) {
        Some(pattern) => fieldmap::parse_java_time(dev_time, pattern, ingest),
        None => fieldmap::parse_time(dev_time, ingest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn leef1_tabs() {
        let l = parse_leef("LEEF:1.0|Acme|Gate|2.1|login|src=10.0.0.1\tusrName=bob\tmsg=a=b c\t").unwrap();
        assert_eq!((l.vendor.as_str(), l.event_id.as_str()), ("Acme", "login"));
        assert_eq!(
            l.attributes,
            pairs(&[("src", "10.0.0.1"), ("usrName", "bob"), ("msg", "a=b c")])
        );
    }

    #[test]
    fn leef2_delimiters() {
        for (delim, sep) in [
            ("^", "^"),
            ("x09", "\t"),
            ("0x5e", "^"),
            ("\\x7C", "|"),
            ("", "\t"),
        ] {
            let text = format!("LEEF:2.0|V|P|1|ID|{delim}|a=1{sep}b=2");
            let l = parse_leef(&text).unwrap_or_else(|e| panic!("{delim}: {e:?}"));
            assert_eq!(l.attributes, pairs(&[("a", "1"), ("b", "2")]), "{delim}");
        }
        // No delimiter field at all.
        let l = parse_leef("LEEF:2.0|V|P|1|ID|a=1\tb=2").unwrap();
        assert_eq!(l.attributes, pairs(&[("a", "1"), ("b", "2")]));
        let e = parse_leef("LEEF:2.0|V|P|1|ID|xyz|a=1").unwrap_err();
        assert!(e.reason.contains("delimiter"), "{}", e.reason);
        assert_eq!(e.at, 18);
    }

    #[test]
    fn pieces_without_equals_and_bars() {
        let l = parse_leef("LEEF:1.0|V|P|1|ID|msg=one\ttwo\tk=v").unwrap();
        assert_eq!(l.attributes, pairs(&[("msg", "one\ttwo"), ("k", "v")]));
        let l = parse_leef("LEEF:1.0|V|P|1|ID|Cat=a b|sev=8|src=x\tk=v").unwrap();
        assert_eq!(
            l.attributes,
            pairs(&[("Cat", "a b"), ("sev", "8"), ("src", "x"), ("k", "v")])
        );
    }

    #[test]
    fn malformed() {
        let e = parse_leef("LEEF:1.0|V|P|1").unwrap_err();
        assert!(e.reason.contains("4 of the 5"), "{}", e.reason);
        let e = parse_leef("LEEF:1.0|V|P|1|42|just junk").unwrap_err();
        assert_eq!(e.at, 18);
        assert!(e.reason.contains("expected `key=value`"));
        // Header only is fine.
        assert!(parse_leef("LEEF:1.0|V|P|1|42|").unwrap().attributes.is_empty());
        assert!(parse_leef("LEEF:1.0|V|P|1|42").unwrap().attributes.is_empty());
    }
}
