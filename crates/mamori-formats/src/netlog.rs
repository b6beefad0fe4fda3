//! Helpers shared by the line-oriented network and web formats
//! ([`crate::weblog`], [`crate::zeek`], [`crate::suricata`], [`crate::csv`]):
//! a line-driven item iterator, event construction with ids that keep
//! repeated identical lines apart, and small ECS mapping helpers (URLs, HTTP
//! versions, TLS versions, durations, times).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Value, json};

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::lines::Line;
use crate::record::{BadRecord, Item, ParseContext};
use crate::time;

/// The longest line the line-oriented formats read: 16 MiB. Longer lines
/// are bad records.
pub(crate) const MAX_LINE: usize = 16 << 20;

pub(crate) use crate::lines::LineParser;

/// Line items for the network and web formats: lines longer than
/// [`MAX_LINE`] are bad records before `P` sees them.
pub(crate) struct LineItems;

impl LineItems {
    /// The items of `input` as `parser` reads them, boxed.
    pub fn boxed<P: LineParser + 'static>(
        input: Box<dyn BufRead + Send>,
        parser: P,
        ctx: &ParseContext,
    ) -> Box<dyn Iterator<Item = Item> + Send> {
        crate::lines::LineItems::boxed(input, MAX_LINE, NotTooLong(parser), ctx)
    }
}

/// Reports over-long lines, hands the others to the parser.
struct NotTooLong<P>(P);

impl<P: LineParser> LineParser for NotTooLong<P> {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        if line.too_long {
            return Some(bad(ctx, line, None, format!("line longer than {MAX_LINE} bytes")));
        }
        self.0.line(line, ctx)
    }
}

/// A bad record for `line` (its content as raw bytes).
pub(crate) fn bad(ctx: &ParseContext, line: &Line, column: Option<u64>, reason: impl Into<String>) -> Item {
    let location = ctx.location(Some(line.number), column, Some(line.offset));
    Item::Bad(BadRecord::new(location, reason, line.content()))
}

/// Event ids for one input. The id is derived from tenant and original (as
/// everywhere in Mamori), so re-reading an input gives the same ids; the
/// second, third, … occurrence of an identical record in the same input
/// gets an id derived from the original and its occurrence number, so that
/// genuinely repeated records (two identical requests in the same second)
/// are not merged by the store's de-duplication.
#[derive(Default)]
pub(crate) struct Ids {
    /// Occurrences so far, by derived id.
    seen: HashMap<u128, u32, BuildHasherDefault<PreHashed>>,
}

/// The hasher of [`Ids`]: its keys are already XXH3 hashes, so their bits
/// are used as they are instead of being hashed again.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u128(&mut self, n: u128) {
        self.0 ^= (n as u64) ^ ((n >> 64) as u64);
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

/// Distinct records remembered per input before the memory is reset.
const IDS_REMEMBERED: usize = 1 << 16;

impl Ids {
    /// The id of the next record whose original is `original`.
    pub fn next(&mut self, tenant: &str, original: &str) -> String {
        let key = Event::derived_hash(tenant, original);
        if self.seen.len() >= IDS_REMEMBERED && !self.seen.contains_key(&key) {
            self.seen.clear();
        }
        let n = self.seen.entry(key).or_insert(0);
        *n += 1;
        let hash = if *n > 1 {
            // The id of `{original}\0{n}`.
            let occurrence = n.to_string();
            Event::derived_hash_parts(tenant, &[original, "\0", &occurrence])
        } else {
            key
        };
        mamori_model::event::id_hex(hash)
    }
}

/// A new event at `time` (else at the ingest time, tagged
/// `mamori.timestamp_missing`, with `event.ingested`) whose id comes from `ids`.
pub(crate) fn new_event(
    ctx: &ParseContext,
    ids: &mut Ids,
    time: Option<DateTime<Utc>>,
    original: &str,
) -> Event {
    let id = ids.next(&ctx.tenant, original);
    let mut ev = Event::with_id(&ctx.tenant, time.unwrap_or(ctx.ingest_time), original, id);
    if time.is_none() {
        ev.add_tag(TIMESTAMP_MISSING);
        ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
    }
    ev
}

/// Set a string field unless the value is empty or `-`.
pub(crate) fn set_text(ev: &mut Event, path: &str, value: &str) {
    if !value.is_empty() && value != "-" {
        ev.set(path, json!(value));
    }
}

/// True when `s` is an IPv4 or IPv6 address.
pub(crate) fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// Set `<prefix>.ip` when `value` is an address, else `<prefix>.domain`
/// (when not empty or `-`); `<prefix>.address` in both cases.
pub(crate) fn set_host(ev: &mut Event, prefix: &str, value: &str) {
    if value.is_empty() || value == "-" {
        return;
    }
    ev.set(&join(prefix, "address"), json!(value));
    if is_ip(value) {
        ev.set(&join(prefix, "ip"), json!(value));
    } else {
        ev.set(&join(prefix, "domain"), json!(value));
    }
}

/// `prefix.leaf` (cheaper than `format!`).
pub(crate) fn join(prefix: &str, leaf: &str) -> String {
    let mut path = String::with_capacity(prefix.len() + 1 + leaf.len());
    path.push_str(prefix);
    path.push('.');
    path.push_str(leaf);
    path
}

/// `related.ip`: the unique addresses among `source.ip` and `destination.ip`.
pub(crate) fn set_related_ip(ev: &mut Event) {
    let mut ips: Vec<String> = Vec::new();
    for path in ["source.ip", "destination.ip"] {
        if let Some(ip) = ev.get_str(path)
            && !ips.iter().any(|i| i == ip)
        {
            ips.push(ip.to_string());
        }
    }
    if !ips.is_empty() {
        ev.set("related.ip", json!(ips));
    }
}

/// `event.outcome` from an HTTP status, as Elastic does: `success` below 400,
/// else `failure`.
pub(crate) fn http_outcome(status: u64) -> &'static str {
    if status < 400 { "success" } else { "failure" }
}

/// `HTTP/1.1` → `1.1` (and `1.1` stays `1.1`).
pub(crate) fn http_version(protocol: &str) -> Option<&str> {
    let v = protocol
        .strip_prefix("HTTP/")
        .or_else(|| protocol.strip_prefix("http/"))
        .unwrap_or(protocol);
    (!v.is_empty() && v != "-" && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')).then_some(v)
}

/// Set `url.original` and its parts (`url.scheme`, `url.domain`,
/// `url.port`, `url.path`, `url.query`, `url.fragment`, `url.extension`),
/// as Elastic's `uri_parts` does; relative URLs give only path and query.
pub(crate) fn set_url(ev: &mut Event, original: &str) {
    if original.is_empty() || original == "-" {
        return;
    }
    ev.set("url.original", json!(original));
    let mut rest = original;
    if let Some((scheme, after)) = rest.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        ev.set("url.scheme", json!(scheme.to_ascii_lowercase()));
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let authority = &after[..end];
        let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let (host, port) = split_host_port(hostport);
        set_text(ev, "url.domain", host);
        if let Some(port) = port {
            ev.set("url.port", json!(port));
        }
        rest = &after[end..];
    }
    let (rest, fragment) = rest.split_once('#').map_or((rest, None), |(a, b)| (a, Some(b)));
    let (path, query) = rest.split_once('?').map_or((rest, None), |(a, b)| (a, Some(b)));
    if !path.is_empty() {
        ev.set("url.path", json!(path));
        if let Some(ext) = extension(path) {
            ev.set("url.extension", json!(ext));
        }
    }
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        ev.set("url.query", json!(q));
    }
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        ev.set("url.fragment", json!(f));
    }
}

/// The extension of the last path segment, lowercased (`/a/b.PHP` → `php`).
fn extension(path: &str) -> Option<String> {
    let last = path.rsplit('/').next()?;
    let last = last.split(';').next().unwrap_or(last);
    let (stem, ext) = last.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty() && ext.len() <= 16 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| ext.to_ascii_lowercase())
}

/// `host:port`, `[v6]:port`, `host` → (host, port).
pub(crate) fn split_host_port(s: &str) -> (&str, Option<u16>) {
    if let Some(inner) = s.strip_prefix('[') {
        return match inner.split_once(']') {
            Some((host, rest)) => (host, rest.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        // A bare IPv6 address has more than one colon and no port.
        Some((host, port)) if !host.contains(':') => match port.parse::<u16>() {
            Ok(p) => (host, Some(p)),
            Err(_) => (s, None),
        },
        _ => (s, None),
    }
}

/// A TLS/SSL version as ECS writes it: (`tls.version_protocol`,
/// `tls.version`). Accepts `TLSv1.2`, `TLSv12`, `TLS 1.2`, `tls1.2`,
/// `SSLv3`, `DTLSv12`.
pub(crate) fn tls_version(s: &str) -> Option<(&'static str, String)> {
    let lower = s.trim().to_ascii_lowercase();
    let (protocol, rest) = if let Some(r) = lower.strip_prefix("dtls") {
        ("dtls", r)
    } else if let Some(r) = lower.strip_prefix("tls") {
        ("tls", r)
    } else if let Some(r) = lower.strip_prefix("ssl") {
        ("ssl", r)
    } else {
        return None;
    };
    let digits = rest.trim_start_matches(['v', ' ', '_']);
    let version = match digits.split_once('.') {
        Some((a, b)) => format!("{a}.{b}"),
        None if digits.len() == 2 => format!("{}.{}", &digits[..1], &digits[1..]),
        None if digits.len() == 1 => format!("{digits}.0"),
        None => return None,
    };
    version
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.')
        .then_some((protocol, version))
}

/// Set `tls.version_protocol` and `tls.version` from a version string.
pub(crate) fn set_tls_version(ev: &mut Event, s: &str) {
    if let Some((protocol, version)) = tls_version(s) {
        ev.set("tls.version_protocol", json!(protocol));
        ev.set("tls.version", json!(version));
    }
}

/// Seconds → nanoseconds (ECS `event.duration`), for finite non-negative values.
pub(crate) fn nanos(seconds: f64) -> Option<i64> {
    (0.0..9e9)
        .contains(&seconds)
        .then(|| (seconds * 1e9).round() as i64)
}

/// Epoch seconds written as decimal text (`1521911720.865716`), exactly to
/// the microsecond; other forms go through [`time::from_value`].
pub(crate) fn epoch_text(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || int.len() > 12 || !int.bytes().all(|b| b.is_ascii_digit()) {
        return time::from_value(&json!(s));
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut micros = 0i64;
    for (i, b) in frac.bytes().take(6).enumerate() {
        micros += i64::from(b - b'0') * 10i64.pow(5 - i as u32);
    }
    DateTime::from_timestamp(secs, 0)
        .and_then(|t| t.checked_add_signed(chrono::Duration::microseconds(micros)))
}

/// A time in one of the common text forms: RFC 3339; `YYYY-MM-DD
/// HH:MM:SS[.f]` or `YYYY-MM-DDTHH:MM:SS[.f]` without an offset (taken as
/// UTC), or with an offset written `+hh:mm`/`+hhmm`; a date alone
/// (midnight UTC); epoch seconds or milliseconds.
pub(crate) fn text_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    // `2019-11-14T16:01:32.658982+0000` (Suricata): what the first format
    // below reads, found without chrono (RFC 3339 does not allow it).
    if let Some(t) = time::rfc3339_fast(s, true) {
        return Some(t);
    }
    if let Some(t) = time::rfc3339(s) {
        return Some(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = s.strip_suffix(" UTC").unwrap_or(s);
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(naive, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(naive, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return time::from_value(&Value::String(s.to_string()));
    }
    None
}

/// Decode `%XX` escapes (and nothing else); invalid escapes stay as they are.
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(hex) = b.get(i + 1..i + 3)
            && let Ok(hex) = std::str::from_utf8(hex)
            && let Ok(v) = u8::from_str_radix(hex, 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> Event {
        Event::new("t", Utc::now(), "x")
    }

    #[test]
    fn urls_are_split() {
        let mut e = ev();
        set_url(&mut e, "https://user@www.Example.com:8443/a/b.PHP?x=1&y=2#top");
        assert_eq!(e.get_str("url.scheme"), Some("https"));
        assert_eq!(e.get_str("url.domain"), Some("www.Example.com"));
        assert_eq!(e.get("url.port"), Some(&json!(8443)));
        assert_eq!(e.get_str("url.path"), Some("/a/b.PHP"));
        assert_eq!(e.get_str("url.extension"), Some("php"));
        assert_eq!(e.get_str("url.query"), Some("x=1&y=2"));
        assert_eq!(e.get_str("url.fragment"), Some("top"));
        let mut e = ev();
        set_url(&mut e, "/index.html?");
        assert_eq!(e.get_str("url.path"), Some("/index.html"));
        assert_eq!(e.get("url.query"), None);
        let mut e = ev();
        set_url(&mut e, "-");
        assert_eq!(e.get("url"), None);
    }

    #[test]
    fn host_ports() {
        assert_eq!(split_host_port("10.0.0.1:80"), ("10.0.0.1", Some(80)));
        assert_eq!(split_host_port("[::1]:443"), ("::1", Some(443)));
        assert_eq!(split_host_port("::1"), ("::1", None));
        assert_eq!(split_host_port("host"), ("host", None));
        assert_eq!(split_host_port("host:x"), ("host:x", None));
    }

    #[test]
    fn tls_versions() {
        for (s, want) in [
            ("TLSv1.2", Some(("tls", "1.2"))),
            ("TLSv12", Some(("tls", "1.2"))),
            ("TLS 1.3", Some(("tls", "1.3"))),
            ("SSLv3", Some(("ssl", "3.0"))),
            ("DTLSv10", Some(("dtls", "1.0"))),
            ("-", None),
            ("TLSvX", None),
        ] {
            let got = tls_version(s);
            assert_eq!(got.as_ref().map(|(p, v)| (*p, v.as_str())), want, "{s}");
        }
    }

    #[test]
    fn times() {
        let t = |s| text_time(s).map(format_ts);
        assert_eq!(
            t("2024-01-01T12:00:00.123456+0000").as_deref(),
            Some("2024-01-01T12:00:00.123456Z")
        );
        assert_eq!(
            t("2024-01-01 12:00:00").as_deref(),
            Some("2024-01-01T12:00:00.000000Z")
        );
        assert_eq!(
            t("2024-01-01T13:00:00+01:00").as_deref(),
            Some("2024-01-01T12:00:00.000000Z")
        );
        assert_eq!(t("2024-01-01").as_deref(), Some("2024-01-01T00:00:00.000000Z"));
        assert_eq!(t("1704110400").as_deref(), Some("2024-01-01T12:00:00.000000Z"));
        assert_eq!(t("noon"), None);
        assert_eq!(
            epoch_text("1521911720.865716").map(format_ts).as_deref(),
            Some("2018-03-24T17:15:20.865716Z")
        );
        assert_eq!(epoch_text("1.2.3"), None);
    }

    #[test]
    fn repeated_records_get_distinct_stable_ids() {
        let mut ids = Ids::default();
        let a1 = ids.next("t", "a");
        let b1 = ids.next("t", "b");
        let a2 = ids.next("t", "a");
        assert_eq!(a1, Event::derived_id("t", "a"));
        assert_eq!(b1, Event::derived_id("t", "b"));
        assert_ne!(a1, a2);
        let mut again = Ids::default();
        assert_eq!(again.next("t", "a"), a1);
        assert_eq!(again.next("t", "a"), a2);
    }

    #[test]
    fn misc() {
        assert_eq!(http_version("HTTP/1.1"), Some("1.1"));
        assert_eq!(http_version("HTTP/2.0"), Some("2.0"));
        assert_eq!(http_version("-"), None);
        assert_eq!(http_outcome(399), "success");
        assert_eq!(http_outcome(404), "failure");
        assert_eq!(
            percent_decode("Mozilla/5.0%20(X11;%20Linux)%zz"),
            "Mozilla/5.0 (X11; Linux)%zz"
        );
        assert_eq!(nanos(0.25), Some(250_000_000));
        assert_eq!(nanos(-1.0), None);
    }
}
