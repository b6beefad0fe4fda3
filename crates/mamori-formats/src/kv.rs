//! Generic `key=value` lines (`k=v k2="quoted value" k3=v3`), on their own
//! or as the message of a syslog line.
//!
//! # Reading
//! - A key is letters, digits, `_`, `.`, `-`, `@`, directly followed by `=`.
//!   Pairs are separated by spaces, tabs, `,` or `;` (`SrcIp=1.1.1.1,
//!   DstIp=2.2.2.2` and `IPVer=4,Protocol=tcp` both work).
//! - A value in double quotes may hold spaces; `\"` and `\\` are its
//!   escapes. An unquoted value runs to the next space (a trailing `,` or
//!   `;` is dropped, and so is a trailing `)` when the value has no `(`).
//! - Words that are not pairs are skipped (they stay in `event.original`).
//! - Only `=` makes a pair (`k: v` does not).
//!
//! # Mapping
//! Every pair is kept as `kv.<key>` (a string; a key seen again makes an
//! array; characters other than letters, digits, `_`, `-`, `@` in a key
//! become `_`). Well-known keys (case-insensitive, first present wins,
//! placeholders such as `-`, `N/A` skipped) are also mapped to ECS:
//!
//! | keys                                                        | ECS |
//! |-------------------------------------------------------------|-----|
//! | `src`, `srcip`, `src_ip`, `source_ip`, `source-ip`, `sourceip`, `source-address`, `source_address`, `sip` | `source.ip` (also `ip:port[:iface]`, giving `source.port`) |
//! | `dst`, `dstip`, `dst_ip`, `destination_ip`, `destination-ip`, `destinationip`, `destination-address`, `destination_address`, `dip` | `destination.ip` (same) |
//! | `sport`, `srcport`, `src_port`, `spt`, `source_port`, `source-port`, `sourceport` | `source.port` |
//! | `dport`, `dstport`, `dst_port`, `dpt`, `destination_port`, `destination-port`, `destinationport` | `destination.port` |
//! | `user`, `username`, `user_name`, `usrname`                  | `user.name` |
//! | `action`                                                    | `event.action` |
//! | `proto`, `protocol`                                         | `network.transport` (lower case; a number also gives `network.iana_number`) |
//! | `status`, `result`, `outcome` saying success / failed       | `event.outcome` |
//! | `date` + `time` (+ `tz`/`timezone`), else `timestamp`, `@timestamp`, `time`, `ts`, `datetime`, `eventtime` | `@timestamp` (see [`crate::syslog`] for the zone rules) |
//! | —                                                           | `related.ip`, `related.user` |
//!
//! FortiGate/FortiOS lines (`devname`/`devid` with `logid`) get more: see
//! [`crate::syslog::vendors::fortigate`].
//!
//! Without a time, `@timestamp` is the ingest time, with the tag
//! `mamori.timestamp_missing` and `event.ingested`. `event.original` is the line.
//!
//! A line of a key=value file that starts with a syslog header is read as
//! syslog ([`crate::syslog`]), its message then read as key=value.
//!
//! # Bad records
//! A line with an unterminated quoted value, or with no pair at all (column
//! and reason given), invalid UTF-8, or longer than 8 MiB.

use std::io::BufRead;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use regex::Regex;

use crate::fieldmap::{self, Stamp, put_raw, set_ip, set_outcome, set_port, set_str, set_transport};
use crate::linefmt::{self, Outcome};
use crate::record::{Item, ParseContext};
use crate::syslog::vendors::fortigate;
use crate::{sniff, syslog};

/// The fewest pairs that make a line key=value (when sniffing, and as a
/// syslog message).
pub const MIN_PAIRS: usize = 3;

/// A pair list could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KvError {
    /// Byte index in the text where the problem starts.
    pub at: usize,
    /// What was expected.
    pub reason: String,
}

/// True when the first line and at least half of the first 20 lines hold at
/// least [`MIN_PAIRS`] pairs (counted up to an unterminated quote) and do
/// not start like JSON or XML.
pub fn sniff(head: &[u8]) -> bool {
    let (head, _) = sniff::start(head);
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if lines.len() > 1 {
        // The last piece may be cut by the end of the head.
        lines.pop();
    }
    let lines: Vec<&str> = lines
        .into_iter()
        .filter(|l| !l.trim_ascii().is_empty())
        .take(20)
        .filter_map(|l| std::str::from_utf8(l).ok())
        .collect();
    let Some(first) = lines.first() else {
        return false;
    };
    let rich = |l: &str| {
        let l = l.trim_start();
        !l.starts_with(['{', '[', '<']) && scan(l).0.len() >= MIN_PAIRS
    };
    rich(first) && lines.iter().filter(|l| rich(l)).count() * 2 >= lines.len()
}

/// Parse key=value lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

fn line(text: &str, ctx: &ParseContext) -> Outcome {
    if syslog::has_header(text, ctx.ingest_time) {
        return syslog::line(text, ctx);
    }
    let found = match pairs(text) {
        Ok(found) => found,
        Err(e) => return Outcome::bad(Some(e.at), e.reason),
    };
    if found.is_empty() {
        let at = text.len() - text.trim_start().len();
        return Outcome::bad(Some(at), "expected key=value pairs, found none");
    }
    let mut ev = Event::new(&ctx.tenant, ctx.ingest_time, text);
    let time = map_pairs(&mut ev, &found, ctx.ingest_time);
    fieldmap::apply_time(&mut ev, time, ctx);
    fieldmap::add_related(&mut ev);
    Outcome::Event(Box::new(ev))
}

fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-' | b'@')
}

fn is_sep(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b',' || b == b';'
}

/// True when a `key=` starts at `j`.
fn key_at(b: &[u8], j: usize) -> bool {
    let mut k = j;
    while k < b.len() && is_key_byte(b[k]) {
        k += 1;
    }
    k > j && b.get(k) == Some(&b'=')
}

/// The pairs of `text`, in order.
pub(crate) fn pairs(text: &str) -> Result<Vec<(String, String)>, KvError> {
    match scan(text) {
        (found, None) => Ok(found),
        (_, Some(e)) => Err(e),
    }
}

/// The pairs of `text` up to the first error, and the error.
fn scan(text: &str) -> (Vec<(String, String)>, Option<KvError>) {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && is_sep(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && is_key_byte(b[i]) {
            i += 1;
        }
        if i == start || b.get(i) != Some(&b'=') {
            // A word: skip it.
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            continue;
        }
        let key = &text[start..i];
        i += 1;
        if b.get(i) == Some(&b'"') {
            let quote = i;
            i += 1;
            let mut value = String::new();
            let mut seg = i;
            loop {
                match b.get(i) {
                    None => {
                        let error = KvError {
                            at: quote,
                            reason: format!("unterminated quoted value of `{key}`: expected a closing `\"`"),
                        };
                        return (out, Some(error));
                    }
                    Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\')) => {
                        value.push_str(&text[seg..i]);
                        value.push(char::from(b[i + 1]));
                        i += 2;
                        seg = i;
                    }
                    Some(b'"') => {
                        value.push_str(&text[seg..i]);
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
            out.push((key.to_string(), value));
        } else {
            let vs = i;
            while i < b.len() && !b[i].is_ascii_whitespace() {
                if matches!(b[i], b',' | b';') && key_at(b, i + 1) {
                    break;
                }
                i += 1;
            }
            let mut value = text[vs..i].trim_end_matches([',', ';']);
            if value.ends_with(')') && !value.contains('(') {
                // `(… Action=Alert)`: the `)` closes the text around the pairs.
                value = &value[..value.len() - 1];
            }
            out.push((key.to_string(), value.to_string()));
        }
    }
    (out, None)
}

/// The pairs of `text` when it has at least [`MIN_PAIRS`] of them.
pub(crate) fn rich_pairs(text: &str) -> Option<Vec<(String, String)>> {
    pairs(text).ok().filter(|p| p.len() >= MIN_PAIRS)
}

/// The first non-placeholder value among `names` (case-insensitive, in the
/// order of `names`).
pub(crate) fn get<'a>(pairs: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| {
        pairs
            .iter()
            .find(|(k, v)| k.eq_ignore_ascii_case(n) && !fieldmap::absent(v))
            .map(|(_, v)| v.as_str())
    })
}

/// Set `ip_path` from an IP, or from `ip:port[:iface]` (also setting
/// `port_path` when it is still unset).
pub(crate) fn set_ip_loose(ev: &mut Event, ip_path: &str, port_path: &str, v: &str) -> bool {
    static IP_PORT: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?(?::.*)?$").expect("valid regex")
    });
    if set_ip(ev, ip_path, v) {
        return true;
    }
    let Some(c) = IP_PORT.captures(v.trim()) else {
        return false;
    };
    if !set_ip(ev, ip_path, &c[1]) {
        return false;
    }
    if let Some(port) = c.get(2)
        && ev.get(port_path).is_none()
    {
        set_port(ev, port_path, port.as_str());
    }
    true
}

const SRC_IP: &[&str] = &[
    "srcip",
    "src_ip",
    "src",
    "source_ip",
    "source-ip",
    "sourceip",
    "source-address",
    "source_address",
    "sip",
];
const DST_IP: &[&str] = &[
    "dstip",
    "dst_ip",
    "dst",
    "destination_ip",
    "destination-ip",
    "destinationip",
    "destination-address",
    "destination_address",
    "dip",
];
const SRC_PORT: &[&str] = &[
    "srcport",
    "src_port",
    "sport",
    "spt",
    "source_port",
    "source-port",
    "sourceport",
];
const DST_PORT: &[&str] = &[
    "dstport",
    "dst_port",
    "dport",
    "dpt",
    "destination_port",
    "destination-port",
    "destinationport",
];
const USER: &[&str] = &["user", "username", "user_name", "usrname"];
const TIME: &[&str] = &["timestamp", "@timestamp", "time", "ts", "datetime", "eventtime"];

/// Map `pairs` onto `ev` (the table above): raw pairs under `kv.*`, the
/// well-known keys to ECS, FortiGate extras. Returns the time found.
pub(crate) fn map_pairs(ev: &mut Event, pairs: &[(String, String)], ingest: DateTime<Utc>) -> Option<Stamp> {
    for (k, v) in pairs {
        put_raw(ev, "kv", k, v);
    }
    if let Some(v) = get(pairs, SRC_PORT) {
        set_port(ev, "source.port", v);
    }
    if let Some(v) = get(pairs, DST_PORT) {
        set_port(ev, "destination.port", v);
    }
    if let Some(v) = get(pairs, SRC_IP) {
        set_ip_loose(ev, "source.ip", "source.port", v);
    }
    if let Some(v) = get(pairs, DST_IP) {
        set_ip_loose(ev, "destination.ip", "destination.port", v);
    }
    if let Some(v) = get(pairs, USER) {
        set_str(ev, "user.name", v);
    }
    if let Some(v) = get(pairs, &["action"]) {
        set_str(ev, "event.action", v);
    }
    if let Some(v) = get(pairs, &["proto", "protocol"]) {
        set_transport(ev, v);
    }
    if let Some(v) = get(pairs, &["status", "result", "outcome"]) {
        set_outcome(ev, v);
    }
    let mut time = time_of(pairs, ingest);
    if fortigate::is_fortinet(pairs) {
        time = fortigate::refine(ev, pairs, ingest).or(time);
    }
    time
}

/// `date` + `time` (+ `tz`/`timezone`), else the first readable of the usual time keys.
fn time_of(pairs: &[(String, String)], ingest: DateTime<Utc>) -> Option<Stamp> {
    if let (Some(date), Some(time)) = (get(pairs, &["date"]), get(pairs, &["time"])) {
        let zone = get(pairs, &["tz", "timezone"]).unwrap_or("");
        if let Some(t) = fieldmap::parse_time(&format!("{date} {time} {zone}"), ingest) {
            return Some(t);
        }
    }
    TIME.iter()
        .find_map(|k| get(pairs, &[k]).and_then(|v| fieldmap::parse_time(v, ingest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Vec<(String, String)> {
        pairs(text).unwrap()
    }

    fn kv(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn tokenizer() {
        assert_eq!(
            p(r#"a=1 b="two words" c=3"#),
            kv(&[("a", "1"), ("b", "two words"), ("c", "3")])
        );
        assert_eq!(
            p(r#"msg="say \"hi\" \\ \x" e="""#),
            kv(&[("msg", r#"say "hi" \ \x"#), ("e", "")])
        );
        assert_eq!(
            p("SrcIp=1.1.1.1, DstIp=2.2.2.2; x=y"),
            kv(&[("SrcIp", "1.1.1.1"), ("DstIp", "2.2.2.2"), ("x", "y")])
        );
        assert_eq!(
            p("IPVer=4,Protocol=tcp,Note=a,b"),
            kv(&[("IPVer", "4"), ("Protocol", "tcp"), ("Note", "a,b")])
        );
        // Words and URLs with `=` after a non-key character are not pairs.
        assert_eq!(
            p("GET /x?a=1&b=2 user: bob k=v (Id=5, empty= z"),
            kv(&[("k", "v"), ("empty", "")])
        );
        assert_eq!(
            p("ui=https(4.3.5.253) k=\t"),
            kv(&[("ui", "https(4.3.5.253)"), ("k", "")])
        );
        assert_eq!(p("(Id=5, Action=Alert)"), kv(&[("Action", "Alert")]));
        // Keys are ASCII: `clé=` is a word.
        assert!(p("é=1 clé=été").is_empty());
    }

    #[test]
    fn unicode_values_and_keys() {
        assert_eq!(p("name=été x=ü"), kv(&[("name", "été"), ("x", "ü")]));
    }

    #[test]
    fn unterminated_quote() {
        let e = pairs(r#"a=1 b="open c=3"#).unwrap_err();
        assert_eq!(e.at, 6);
        assert!(
            e.reason.contains("unterminated quoted value of `b`"),
            "{}",
            e.reason
        );
    }

    #[test]
    fn sniffing() {
        assert!(sniff(b"a=1 b=2 c=3\nd=4 e=5 f=6\n"));
        assert!(sniff(b"a=1 b=2 c=3"));
        assert!(!sniff(b"a=1 b=2\n"));
        assert!(!sniff(b"{\"a\":\"b=1 c=2 d=3\"}\n"));
        assert!(!sniff(b"hello world\n"));
        assert!(!sniff(b"a=1 b=2 c=3\nplain\nplain\n"));
    }
}
