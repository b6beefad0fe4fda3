//! ArcSight Common Event Format (CEF), one event per line:
//! `CEF:Version|Device Vendor|Device Product|Device Version|Device Event Class ID|Name|Severity|Extension`.
//! A file whose first line starts with `CEF:` is this format; inside a
//! syslog line, CEF is the message's inner format (see [`crate::syslog`]).
//! Lines of a CEF file that do not start with `CEF:` are read as syslog
//! lines (a CEF message behind a syslog header still maps).
//!
//! # Reading
//! - Header: seven `|`-separated fields after `CEF:`, where `\|` is a `|`
//!   and `\\` a `\`. Everything after the seventh `|` is the extension.
//! - Extension: `key=value` pairs separated by spaces; a value runs until
//!   the next ` key=` (so it may hold spaces; trailing spaces are dropped).
//!   Keys are letters, digits, `_` and `.`. In values `\=` is `=`, `\\` is
//!   `\`, `\n` and `\r` are line breaks, `\|` is `|`.
//! - Severity: a number 0–10, or `Low` (3), `Medium` (6), `High` (8),
//!   `Very-High` (10).
//!
//! # Mapping
//!
//! | CEF                                    | ECS / Mamori |
//! |----------------------------------------|--------------|
//! | Version                                | `cef.version` |
//! | Device Vendor, Product, Version        | `observer.vendor`, `observer.product`, `observer.version` |
//! | Device Event Class ID                  | `event.code` |
//! | Name                                   | `cef.name`, `rule.name`; `event.action` when there is no `act`; `message` when there is no `msg` |
//! | Severity                               | `event.severity` (number), `cef.severity` (as written) |
//! | every extension pair                   | `cef.extensions.<key>` (as written, unescaped) |
//! | `cs1`…`cs6`, `cn1`…, `c6a1`…, `cfp1`…, `flexString1`…, `deviceCustomDate1`… with their `…Label` (any `K` with `KLabel`) | also `cef.extensions.<label>` (label with characters other than letters, digits, `_`, `-`, `@` as `_`; not over a key of that name) |
//! | `src`, `dst`                           | `source.ip`, `destination.ip` (when an IP) |
//! | `spt`, `dpt`                           | `source.port`, `destination.port` |
//! | `smac`, `dmac`                         | `source.mac`, `destination.mac` (`AA-BB-…`) |
//! | `suser`, `duser`                       | `source.user.name`, `destination.user.name`; `user.name` = `suser`, else `duser` |
//! | `suid`, `duid`                         | `source.user.id`, `destination.user.id` |
//! | `shost`, `dhost`                       | `source.domain`, `destination.domain` |
//! | `sourceTranslatedAddress`, `…Port`, `destinationTranslatedAddress`, `…Port` | `source.nat.ip`, `source.nat.port`, `destination.nat.ip`, `destination.nat.port` (not for `0.0.0.0`; the port only with the address) |
//! | `act`                                  | `event.action` |
//! | `outcome`                              | `event.outcome` (`success`/`failure`/`unknown`, from `Success`, `/Failure`…) |
//! | `reason`                               | `event.reason` |
//! | `proto`                                | `network.transport` (lower case; a number also gives `network.iana_number`) |
//! | `app`                                  | `network.protocol` (lower case) |
//! | `in`, `out`                            | `source.bytes`, `destination.bytes` |
//! | `request`, `requestMethod`, `requestClientApplication` | `url.original`, `http.request.method`, `user_agent.original` |
//! | `msg`                                  | `message` |
//! | `rt` (epoch ms, `MMM dd yyyy HH:mm:ss[.SSS] [zone]`, ISO 8601) | `@timestamp` |
//! | `start`, `end`                         | `event.start`, `event.end` |
//! | `cat`                                  | `cef.category` |
//! | `fname`, `filePath`, `fsize`           | `file.name`, `file.path`, `file.size` |
//! | `deviceExternalId`                     | `observer.name` |
//! | `dvc`, `dvchost`                       | `observer.ip`, `observer.hostname` |
//! | —                                      | `event.module` = `cef`, `event.dataset` = `cef.log`, `related.ip`, `related.user` |
//!
//! A time without a zone is read as UTC (tag `mamori.timestamp_assumed_utc`);
//! without `rt` a standalone CEF line gets the ingest time, the tag
//! `mamori.timestamp_missing` and `event.ingested`. `event.original` is the line.
//!
//! # Bad records
//! A line with fewer than seven header fields after `CEF:`, an extension
//! that does not start with `key=`, invalid UTF-8, or longer than 8 MiB.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::json;

use crate::fieldmap::{
    self, Stamp, put_raw, safe_key, set_ip, set_mac, set_outcome, set_port, set_str, set_u64,
};
use crate::kv;
use crate::linefmt::{self, Outcome};
use crate::record::{Item, ParseContext};
use crate::{sniff, syslog};

/// One CEF record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cef {
    /// `0` or `1`.
    pub version: String,
    /// Device vendor.
    pub vendor: String,
    /// Device product.
    pub product: String,
    /// Device version.
    pub device_version: String,
    /// Device event class id.
    pub class_id: String,
    /// Name.
    pub name: String,
    /// Severity as written.
    pub severity: String,
    /// Extension pairs, in order, unescaped.
    pub extension: Vec<(String, String)>,
}

/// Why a text is not CEF: byte index in the text and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    /// Byte index in the text.
    pub at: usize,
    /// What was expected.
    pub reason: String,
}

/// True when the first non-blank line starts with `CEF:`.
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    head[start..].starts_with(b"CEF:")
}

/// Parse CEF lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

fn line(text: &str, ctx: &ParseContext) -> Outcome {
    let lead = text.len() - text.trim_start().len();
    if !text[lead..].starts_with("CEF:") {
        return syslog::line(text, ctx);
    }
    let cef = match parse_cef(&text[lead..]) {
        Ok(cef) => cef,
        Err(e) => return Outcome::bad(Some(lead + e.at), e.reason),
    };
    let mut ev = Event::new(&ctx.tenant, ctx.ingest_time, text);
    let time = map_cef(&mut ev, &cef, ctx.ingest_time);
    fieldmap::apply_time(&mut ev, time, ctx);
    fieldmap::add_related(&mut ev);
    Outcome::Event(Box::new(ev))
}

/// Split `s` at up to `n` unescaped `|`, unescaping `\|` and `\\` in the
/// fields. Returns the fields and, when `n` separators were found, the byte
/// index just after the last one.
pub(crate) fn split_header(s: &str, n: usize) -> (Vec<String>, Option<usize>) {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.clone().next() {
                Some((_, e @ ('|' | '\\'))) => {
                    field.push(e);
                    chars.next();
                }
                _ => field.push('\\'),
            },
            '|' => {
                fields.push(std::mem::take(&mut field));
                if fields.len() == n {
                    return (fields, Some(i + 1));
                }
            }
            c => field.push(c),
        }
    }
    fields.push(field);
    (fields, None)
}

/// Read one CEF record; `text` starts with `CEF:`.
pub(crate) fn parse_cef(text: &str) -> Result<Cef, SyntaxError> {
    let body = text.strip_prefix("CEF:").ok_or_else(|| SyntaxError {
        at: 0,
        reason: "expected `CEF:` at the start".into(),
    })?;
    let (fields, rest) = split_header(body, 7);
    let Some(rest) = rest else {
        return Err(SyntaxError {
            at: 0,
            reason: format!(
                "CEF header has {} of the 7 `|`-separated fields expected after `CEF:` \
                 (version|vendor|product|version|event class id|name|severity|extension)",
                fields.len()
            ),
        });
    };
    let ext_start = 4 + rest;
    let extension = extension(&text[ext_start..]).map_err(|e| SyntaxError {
        at: ext_start + e.at,
        reason: e.reason,
    })?;
    let mut f = fields.into_iter().map(|s| s.trim().to_string());
    let mut next = || f.next().unwrap_or_default();
    Ok(Cef {
        version: next(),
        vendor: next(),
        product: next(),
        device_version: next(),
        class_id: next(),
        name: next(),
        severity: next(),
        extension,
    })
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.')
}

/// The pairs of a CEF extension.
pub(crate) fn extension(s: &str) -> Result<Vec<(String, String)>, SyntaxError> {
    let b = s.as_bytes();
    let s0 = s.len() - s.trim_start().len();
    if s[s0..].trim_end().is_empty() {
        return Ok(Vec::new());
    }
    // (key start, index of its `=`)
    let mut keys: Vec<(usize, usize)> = Vec::new();
    for p in s0..b.len() {
        if p != s0 && !b[p - 1].is_ascii_whitespace() {
            continue;
        }
        let mut q = p;
        while q < b.len() && is_key_byte(b[q]) {
            q += 1;
        }
        if q > p && b.get(q) == Some(&b'=') {
            keys.push((p, q));
        }
    }
    match keys.first() {
        Some(&(p, _)) if p == s0 => {}
        _ => {
            let shown: String = s[s0..].chars().take(40).collect();
            return Err(SyntaxError {
                at: s0,
                reason: format!("CEF extension: expected `key=value` pairs, found `{shown}`"),
            });
        }
    }
    let mut out = Vec::with_capacity(keys.len());
    for (n, &(p, q)) in keys.iter().enumerate() {
        let end = keys.get(n + 1).map_or(s.len(), |&(next, _)| next);
        let value = s[q + 1..end].trim_end();
        out.push((s[p..q].to_string(), unescape(value)));
    }
    Ok(out)
}

/// `\=`, `\\`, `\n`, `\r`, `\|` → `=`, `\`, LF, CR, `|`; other backslashes stay.
fn unescape(v: &str) -> String {
    if !v.contains('\\') {
        return v.to_string();
    }
    let mut out = String::with_capacity(v.len());
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            Some('=') => out.push('='),
            Some('\\') => out.push('\\'),
            Some('|') => out.push('|'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            _ => {
                out.push('\\');
                continue;
            }
        }
        chars.next();
    }
    out
}

/// CEF severity as a number: 0–10, or Low/Medium/High/Very-High.
fn severity(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(n);
    }
    match s.to_ascii_lowercase().replace([' ', '_'], "-").as_str() {
        "low" => Some(3),
        "medium" => Some(6),
        "high" => Some(8),
        "very-high" | "veryhigh" => Some(10),
        _ => None,
    }
}

/// Map one CEF record onto `ev` (the table above); returns the time of `rt`.
pub(crate) fn map_cef(ev: &mut Event, cef: &Cef, ingest: DateTime<Utc>) -> Option<Stamp> {
    ev.set("event.module", json!("cef"));
    ev.set("event.dataset", json!("cef.log"));
    set_str(ev, "cef.version", &cef.version);
    set_str(ev, "observer.vendor", &cef.vendor);
    set_str(ev, "observer.product", &cef.product);
    set_str(ev, "observer.version", &cef.device_version);
    set_str(ev, "event.code", &cef.class_id);
    set_str(ev, "cef.name", &cef.name);
    set_str(ev, "rule.name", &cef.name);
    set_str(ev, "cef.severity", &cef.severity);
    if let Some(n) = severity(&cef.severity) {
        ev.set("event.severity", json!(n));
    }

    let ext = &cef.extension;
    for (k, v) in ext {
        put_raw(ev, "cef.extensions", k, v);
    }
    for (k, label) in ext {
        let Some(base) = k.strip_suffix("Label") else {
            continue;
        };
        if base.is_empty() || fieldmap::absent(label) {
            continue;
        }
        let Some((_, value)) = ext.iter().find(|(key, _)| key == base) else {
            continue;
        };
        let path = format!("cef.extensions.{}", safe_key(label));
        if ev.get(&path).is_none() {
            ev.set(&path, json!(value));
        }
    }

    let get = |names: &[&str]| kv::get(ext, names);
    for (key, ip_path) in [
        ("src", "source.ip"),
        ("dst", "destination.ip"),
        ("dvc", "observer.ip"),
    ] {
        if let Some(v) = get(&[key]) {
            set_ip(ev, ip_path, v);
        }
    }
    for (key, port_path) in [("spt", "source.port"), ("dpt", "destination.port")] {
        if let Some(v) = get(&[key]) {
            set_port(ev, port_path, v);
        }
    }
    for side in ["source", "destination"] {
        let addr = get(&[&format!("{side}TranslatedAddress")]);
        let port = get(&[&format!("{side}TranslatedPort")]);
        fieldmap::set_nat(ev, side, addr, port);
    }
    for (key, mac_path) in [("smac", "source.mac"), ("dmac", "destination.mac")] {
        if let Some(v) = get(&[key]) {
            set_mac(ev, mac_path, v);
        }
    }
    for (key, path) in [
        ("suser", "source.user.name"),
        ("duser", "destination.user.name"),
        ("suid", "source.user.id"),
        ("duid", "destination.user.id"),
        ("shost", "source.domain"),
        ("dhost", "destination.domain"),
        ("reason", "event.reason"),
        ("request", "url.original"),
        ("requestMethod", "http.request.method"),
        ("requestClientApplication", "user_agent.original"),
        ("msg", "message"),
        ("cat", "cef.category"),
        ("fname", "file.name"),
        ("filePath", "file.path"),
        ("deviceExternalId", "observer.name"),
        ("dvchost", "observer.hostname"),
    ] {
        if let Some(v) = get(&[key]) {
            set_str(ev, path, v);
        }
    }
    if let Some(v) = get(&["suser", "duser"]) {
        set_str(ev, "user.name", v);
    }
    match get(&["act"]) {
        Some(act) => set_str(ev, "event.action", act),
        None => set_str(ev, "event.action", &cef.name),
    };
    if ev.get("message").is_none() {
        set_str(ev, "message", &cef.name);
    }
    if let Some(v) = get(&["outcome"]) {
        set_outcome(ev, v);
    }
    if let Some(v) = get(&["proto"]) {
        fieldmap::set_transport(ev, v);
    }
    if let Some(v) = get(&["app"]) {
        set_str(ev, "network.protocol", &v.to_ascii_lowercase());
    }
    for (key, path) in [
        ("in", "source.bytes"),
        ("out", "destination.bytes"),
        ("fsize", "file.size"),
    ] {
        if let Some(v) = get(&[key]) {
            set_u64(ev, path, v);
        }
    }
    for (key, path) in [("start", "event.start"), ("end", "event.end")] {
        if let Some(t) = get(&[key]).and_then(|v| fieldmap::parse_time(v, ingest)) {
            ev.set(path, json!(format_ts(t.time)));
        }
    }
    get(&["rt"]).and_then(|v| fieldmap::parse_time(v, ingest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_escapes() {
        let cef = parse_cef(r"CEF:0|Ven\|dor|Pro\\duct|1.0|100|Name with \| pipe|Low|a=b").unwrap();
        assert_eq!(cef.vendor, "Ven|dor");
        assert_eq!(cef.product, r"Pro\duct");
        assert_eq!(cef.name, "Name with | pipe");
        assert_eq!(cef.severity, "Low");
        assert_eq!(cef.extension, vec![("a".to_string(), "b".to_string())]);
    }

    #[test]
    fn extension_values() {
        let ext = extension(
            r"msg=hello world  x  src=10.0.0.1 url=http://h/p?a=1&b=2 cs1=a\=b\\c\nd cs1Label=My Label",
        )
        .unwrap();
        let want: Vec<(String, String)> = [
            ("msg", "hello world  x"),
            ("src", "10.0.0.1"),
            ("url", "http://h/p?a=1&b=2"),
            ("cs1", "a=b\\c\nd"),
            ("cs1Label", "My Label"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(ext, want);
        assert_eq!(extension("  ").unwrap(), vec![]);
        assert_eq!(extension(" k=").unwrap(), vec![("k".to_string(), String::new())]);
    }

    #[test]
    fn malformed() {
        let e = parse_cef("CEF:0|Vendor|Product|1.0|100|Name").unwrap_err();
        assert!(e.reason.contains("has 6 of the 7"), "{}", e.reason);
        let e = parse_cef("CEF:0|V|P|1|2|N|3|just junk here").unwrap_err();
        assert_eq!(e.at, 18);
        assert!(e.reason.contains("expected `key=value`"), "{}", e.reason);
        let e = parse_cef("CEF:0|V|P|1|2|N|3|junk a=b").unwrap_err();
        assert_eq!(e.at, 18);
    }

    #[test]
    fn severities() {
        assert_eq!(severity("7"), Some(7));
        assert_eq!(severity("Very-High"), Some(10));
        assert_eq!(severity("medium"), Some(6));
        assert_eq!(severity("?"), None);
    }
}
