//! Helpers shared by the line formats (syslog, CEF, LEEF, key=value): typed
//! ECS setters that skip placeholder values, raw-pair storage, and the
//! device time formats these formats carry.
//!
//! Times without a zone are read as UTC and say so ([`Stamp::assumed_utc`],
//! tag [`ASSUMED_UTC`]); times without a year take the ingest year, or the
//! year before when that would put them more than a day after the ingest
//! time.

use std::net::IpAddr;
use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use regex::Regex;
use serde_json::json;

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::record::ParseContext;

/// Tag of events whose time had no zone (or an unknown one) and was read as UTC.
pub(crate) const ASSUMED_UTC: &str = "mamori.timestamp_assumed_utc";

/// A time read from a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    /// The instant, in UTC.
    pub time: DateTime<Utc>,
    /// The text had no zone (or one not understood) and was read as UTC.
    pub assumed_utc: bool,
}

impl Stamp {
    fn exact(time: DateTime<Utc>) -> Self {
        Stamp {
            time,
            assumed_utc: false,
        }
    }

    /// The better of an inner (payload) time and an outer (header) time:
    /// the inner one, unless only the outer one has a zone.
    pub fn prefer(inner: Option<Stamp>, outer: Option<Stamp>) -> Option<Stamp> {
        match (inner, outer) {
            (Some(i), Some(o)) if i.assumed_utc && !o.assumed_utc => Some(o),
            (Some(i), _) => Some(i),
            (None, o) => o,
        }
    }
}

/// Set `@timestamp` from `stamp` and tag the event: [`ASSUMED_UTC`] when the
/// zone was assumed; without a time, the ingest time, the tag
/// `mamori.timestamp_missing` and `event.ingested`.
pub(crate) fn apply_time(ev: &mut Event, stamp: Option<Stamp>, ctx: &ParseContext) {
    match stamp {
        Some(s) => {
            ev.set_timestamp(s.time);
            if s.assumed_utc {
                ev.add_tag(ASSUMED_UTC);
            }
        }
        None => {
            ev.set_timestamp(ctx.ingest_time);
            ev.add_tag(TIMESTAMP_MISSING);
            ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
        }
    }
}

/// Placeholder values that mean "none": empty, `-`, `N/A`, `(null)`.
pub(crate) fn absent(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v == "-" || v.eq_ignore_ascii_case("n/a") || v == "(null)"
}

/// Set a string field unless the value is a placeholder.
pub(crate) fn set_str(ev: &mut Event, path: &str, v: &str) -> bool {
    if absent(v) {
        return false;
    }
    ev.set(path, json!(v.trim()));
    true
}

/// An IP address, also in `[v6]` brackets.
pub(crate) fn ip(v: &str) -> Option<IpAddr> {
    let v = v.trim();
    let v = v.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(v);
    v.parse().ok()
}

/// Set an IP field when the value is an IP address.
pub(crate) fn set_ip(ev: &mut Event, path: &str, v: &str) -> bool {
    match ip(v) {
        Some(addr) => {
            ev.set(path, json!(addr.to_string()));
            true
        }
        None => false,
    }
}

/// Set a port field when the value is a number 0–65535.
pub(crate) fn set_port(ev: &mut Event, path: &str, v: &str) -> bool {
    match v.trim().parse::<u16>() {
        Ok(p) => {
            ev.set(path, json!(p));
            true
        }
        Err(_) => false,
    }
}

/// Set a counter field when the value is a non-negative integer.
pub(crate) fn set_u64(ev: &mut Event, path: &str, v: &str) -> bool {
    match v.trim().parse::<u64>() {
        Ok(n) => {
            ev.set(path, json!(n));
            true
        }
        Err(_) => false,
    }
}

/// Set a number written in hex (`0x10`, or bare hex digits such as an
/// EtherType `0800`); kept as text when it is not one.
pub(crate) fn set_hex(ev: &mut Event, path: &str, v: &str) {
    let v = v.trim();
    let digits = v.strip_prefix("0x").unwrap_or(v);
    match u64::from_str_radix(digits, 16) {
        Ok(n) => ev.set(path, json!(n)),
        Err(_) => {
            set_str(ev, path, v);
        }
    }
}

/// Set `<side>.nat.ip` (unless unset, `0.0.0.0` or `::`) and then
/// `<side>.nat.port`.
pub(crate) fn set_nat(ev: &mut Event, side: &str, addr: Option<&str>, port: Option<&str>) {
    let Some(addr) = addr.and_then(ip).filter(|a| !a.is_unspecified()) else {
        return;
    };
    ev.set(&format!("{side}.nat.ip"), json!(addr.to_string()));
    if let Some(p) = port {
        set_port(ev, &format!("{side}.nat.port"), p);
    }
}

/// Set a MAC address in ECS form (upper case, `-` separated).
pub(crate) fn set_mac(ev: &mut Event, path: &str, v: &str) -> bool {
    let v = v.trim();
    let hex: String = v.chars().filter(char::is_ascii_hexdigit).collect();
    if hex.len() != 12
        || v.chars()
            .any(|c| !c.is_ascii_hexdigit() && !matches!(c, ':' | '-' | '.'))
    {
        return false;
    }
    let parts: Vec<String> = hex
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_ascii_uppercase())
        .collect();
    ev.set(path, json!(parts.join("-")));
    true
}

/// `network.transport` from a name (lower-cased; `tcp/https` gives `tcp`)
/// or an IANA protocol number (also `network.iana_number`).
pub(crate) fn set_transport(ev: &mut Event, v: &str) -> bool {
    let v = v.trim();
    let v = v.split_once('/').map_or(v, |(p, _)| p);
    if absent(v) {
        return false;
    }
    if let Ok(n) = v.parse::<u8>() {
        ev.set("network.iana_number", json!(n.to_string()));
        let name = match n {
            1 => "icmp",
            2 => "igmp",
            6 => "tcp",
            17 => "udp",
            47 => "gre",
            50 => "esp",
            51 => "ah",
            58 => "ipv6-icmp",
            132 => "sctp",
            _ => return true,
        };
        ev.set("network.transport", json!(name));
        return true;
    }
    ev.set("network.transport", json!(v.to_ascii_lowercase()));
    true
}

/// `event.outcome` from the words devices use (`success`, `Failed`, `/Failure`…).
pub(crate) fn set_outcome(ev: &mut Event, v: &str) -> bool {
    let v = v.trim().trim_start_matches('/').to_ascii_lowercase();
    let outcome = match v.as_str() {
        "success" | "succeeded" | "successful" | "ok" | "pass" | "passed" => "success",
        "failure" | "failed" | "fail" | "failed_login" | "error" => "failure",
        "unknown" => "unknown",
        _ => return false,
    };
    ev.set("event.outcome", json!(outcome));
    true
}

/// A key made safe as one segment of a field path: characters other than
/// letters, digits, `_`, `-` and `@` (dots and spaces included) become `_`.
pub(crate) fn safe_key(k: &str) -> String {
    let s: String = k
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '_' | '-' | '@') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "_".to_string() } else { s }
}

/// Keep a raw pair at `<ns>.<safe key>`; a key seen again makes an array.
pub(crate) fn put_raw(ev: &mut Event, ns: &str, key: &str, value: &str) {
    ev.push(&crate::netlog::join(ns, &safe_key(key)), json!(value));
}

/// Fill `related.ip` and `related.user` from the address and user fields set.
pub(crate) fn add_related(ev: &mut Event) {
    let mut ips: Vec<String> = Vec::new();
    for f in [
        "source.ip",
        "destination.ip",
        "source.nat.ip",
        "destination.nat.ip",
        "observer.ip",
        "server.ip",
        "client.ip",
    ] {
        if let Some(v) = ev.get_str(f)
            && !ips.iter().any(|i| i == v)
        {
            ips.push(v.to_string());
        }
    }
    let mut users: Vec<String> = Vec::new();
    for f in [
        "user.name",
        "user.effective.name",
        "user.target.name",
        "source.user.name",
        "destination.user.name",
    ] {
        if let Some(v) = ev.get_str(f)
            && !users.iter().any(|u| u == v)
        {
            users.push(v.to_string());
        }
    }
    if !ips.is_empty() {
        ev.set("related.ip", json!(ips));
    }
    if !users.is_empty() {
        ev.set("related.user", json!(users));
    }
}

/// The year of a date without one: the ingest year, or the year before when
/// that puts the time more than a day after `ingest`. 29 February goes to
/// the latest leap year that fits.
pub(crate) fn year_for(month: u32, day: u32, hms: (u32, u32, u32), ingest: DateTime<Utc>) -> i32 {
    let at = |y: i32| {
        NaiveDate::from_ymd_opt(y, month, day)
            .and_then(|d| d.and_hms_opt(hms.0, hms.1, hms.2))
            .map(|t| t.and_utc())
    };
    let limit = ingest + Duration::days(1);
    let y = ingest.year();
    for candidate in [y, y - 1, y - 2, y - 3, y - 4, y - 5, y - 6, y - 7, y - 8] {
        if let Some(t) = at(candidate)
            && t <= limit
        {
            return candidate;
        }
    }
    y
}

fn month(s: &str) -> Option<u32> {
    const NAMES: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let lower = s.get(..3)?.to_ascii_lowercase();
    NAMES.iter().position(|m| *m == lower).map(|i| i as u32 + 1)
}

/// A zone suffix: `Some(Some(offset))` when understood, `Some(None)` when
/// absent or a name not understood (read as UTC, assumed), `None` when it is
/// not a zone at all.
fn zone(s: &str) -> Option<Option<FixedOffset>> {
    static OFFSET: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:(?:UTC|GMT)\s*)?([+-])(\d{1,2})(?::?(\d{2}))?$").expect("valid regex")
    });
    let s = s.trim();
    if s.is_empty() {
        return Some(None);
    }
    if matches!(s.to_ascii_uppercase().as_str(), "Z" | "UTC" | "GMT" | "UT") {
        return FixedOffset::east_opt(0).map(Some);
    }
    if let Some(c) = OFFSET.captures(s) {
        let h: i32 = c[2].parse().ok()?;
        let m: i32 = c.get(3).map_or(Some(0), |m| m.as_str().parse().ok())?;
        let secs = (h * 3600 + m * 60) * if &c[1] == "-" { -1 } else { 1 };
        return FixedOffset::east_opt(secs).map(Some);
    }
    if (2..=5).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic()) {
        return Some(None);
    }
    None
}

fn frac_nanos(f: Option<&str>) -> u32 {
    let Some(f) = f else { return 0 };
    let digits: String = f.chars().take(9).collect();
    let scale = 10u32.pow(9 - digits.len() as u32);
    digits.parse::<u32>().map_or(0, |n| n * scale)
}

fn build(date: (i32, u32, u32), hms: (u32, u32, u32), nanos: u32, zone_text: &str) -> Option<Stamp> {
    let naive =
        NaiveDate::from_ymd_opt(date.0, date.1, date.2)?.and_hms_nano_opt(hms.0, hms.1, hms.2, nanos)?;
    let stamp = match zone(zone_text)? {
        Some(off) => Stamp::exact(off.from_local_datetime(&naive).single()?.with_timezone(&Utc)),
        None => Stamp {
            time: naive.and_utc(),
            assumed_utc: true,
        },
    };
    (1..=9999).contains(&stamp.time.year()).then_some(stamp)
}

/// Epoch seconds, milliseconds, microseconds or nanoseconds (by size).
fn epoch(s: &str) -> Option<Stamp> {
    if let Ok(n) = s.parse::<i64>() {
        let abs = n.unsigned_abs();
        let t = if abs < 100_000_000_000 {
            DateTime::from_timestamp(n, 0)
        } else if abs < 100_000_000_000_000 {
            DateTime::from_timestamp_millis(n)
        } else if abs < 100_000_000_000_000_000 {
            DateTime::from_timestamp_micros(n)
        } else {
            Some(DateTime::from_timestamp_nanos(n))
        };
        return t.map(Stamp::exact);
    }
    let (secs, frac) = s.split_once('.')?;
    if frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    DateTime::from_timestamp(secs, frac_nanos(Some(frac))).map(Stamp::exact)
}

/// A device time in any of the shapes these formats use:
/// epoch numbers; ISO 8601 / RFC 3339 with `T` or a space, `-` or `/`
/// (`2024-05-01 10:00:00.123 +02:00`, `2020/02/09 00:00:00`);
/// `MMM dd yyyy HH:mm:ss[.SSS] [zone]` (CEF), `MMM dd HH:mm:ss` (no year),
/// `Wed Jul 27 18:32:27 2016`; `dd-MMM-yyyy HH:mm:ss`. Zones: `Z`, `UTC`,
/// `GMT`, `±hh[:mm]`; none or an unknown name: read as UTC, assumed.
pub(crate) fn parse_time(s: &str, ingest: DateTime<Utc>) -> Option<Stamp> {
    static ISO: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:T|\s+)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,](\d{1,9}))?\s*(.*)$")
            .expect("valid regex")
    });
    static MON: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(?:[A-Za-z]{3},?\s+)?([A-Za-z]{3,9})\s+(\d{1,2}),?(?:\s+(\d{4}))?\s+(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:\s+(\d{4}))?\s*(.*)$")
            .expect("valid regex")
    });
    static DMY: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{1,2})[-/ ]([A-Za-z]{3})[-/ ](\d{4})[ :T](\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s*(.*)$")
            .expect("valid regex")
    });
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && s.bytes().any(|b| b.is_ascii_digit())
        && let Some(t) = epoch(s)
    {
        return Some(t);
    }
    let num = |m: Option<regex::Match<'_>>| m.and_then(|m| m.as_str().parse::<u32>().ok());
    if let Some(c) = ISO.captures(s) {
        let date = (c[1].parse().ok()?, num(c.get(2))?, num(c.get(3))?);
        let hms = (num(c.get(4))?, num(c.get(5))?, num(c.get(6)).unwrap_or(0));
        return build(date, hms, frac_nanos(c.get(7).map(|m| m.as_str())), &c[8]);
    }
    if let Some(c) = MON.captures(s) {
        let mo = month(&c[1])?;
        let d = num(c.get(2))?;
        let hms = (num(c.get(4))?, num(c.get(5))?, num(c.get(6))?);
        let year = match (c.get(3), c.get(8)) {
            (Some(y), _) | (None, Some(y)) => y.as_str().parse().ok()?,
            (None, None) => year_for(mo, d, hms, ingest),
        };
        return build(
            (year, mo, d),
            hms,
            frac_nanos(c.get(7).map(|m| m.as_str())),
            &c[9],
        );
    }
    if let Some(c) = DMY.captures(s) {
        let date = (c[3].parse().ok()?, month(&c[2])?, num(c.get(1))?);
        let hms = (num(c.get(4))?, num(c.get(5))?, num(c.get(6))?);
        return build(date, hms, frac_nanos(c.get(7).map(|m| m.as_str())), &c[8]);
    }
    None
}

/// A time in a Java `SimpleDateFormat` pattern (LEEF `devTimeFormat`), such
/// as `MMM dd yyyy HH:mm:ss` or `yyyy-MM-dd'T'HH:mm:ss.SSSZ`; falls back to
/// [`parse_time`] when the pattern does not read the value.
pub(crate) fn parse_java_time(value: &str, pattern: &str, ingest: DateTime<Utc>) -> Option<Stamp> {
    java_to_chrono(pattern)
        .and_then(|(fmt, zoned)| {
            let value = value.trim();
            if zoned {
                DateTime::parse_from_str(value, &fmt)
                    .ok()
                    .map(|t| Stamp::exact(t.with_timezone(&Utc)))
            } else {
                NaiveDateTime::parse_from_str(value, &fmt).ok().map(|t| Stamp {
                    time: t.and_utc(),
                    assumed_utc: true,
                })
            }
        })
        .or_else(|| parse_time(value, ingest))
}

/// A chrono format for a Java pattern, and whether it reads a zone offset;
/// `None` for patterns with parts chrono cannot read (zone names, no year).
fn java_to_chrono(pattern: &str) -> Option<(String, bool)> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::new();
    let mut zoned = false;
    let mut has_year = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '%' {
                    out.push('%');
                }
                out.push(chars[i]);
                i += 1;
            }
            i += 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            if c == '.' && chars.get(i + 1) == Some(&'S') {
                while chars.get(i + 1) == Some(&'S') {
                    i += 1;
                }
                out.push_str("%.f");
                i += 1;
                continue;
            }
            if c == '%' {
                out.push('%');
            }
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while chars.get(i + n) == Some(&c) {
            n += 1;
        }
        let part = match (c, n) {
            ('y', 2) => "%y",
            ('y', _) => "%Y",
            ('M', 1 | 2) => "%m",
            ('M', 3) => "%b",
            ('M', _) => "%B",
            ('d', _) => "%d",
            ('H', _) => "%H",
            ('h', _) => "%I",
            ('m', _) => "%M",
            ('s', _) => "%S",
            ('S', 3) => "%3f",
            ('S', 6) => "%6f",
            ('S', 9) => "%9f",
            ('a', _) => "%p",
            ('E', 1..=3) => "%a",
            ('E', _) => "%A",
            ('Z' | 'X', _) => {
                zoned = true;
                "%z"
            }
            _ => return None,
        };
        if c == 'y' {
            has_year = true;
        }
        out.push_str(part);
        i += n;
    }
    has_year.then_some((out, zoned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn t(s: &str) -> (String, bool) {
        let st = parse_time(s, ingest()).unwrap_or_else(|| panic!("{s}"));
        (format_ts(st.time), st.assumed_utc)
    }

    #[test]
    fn device_times() {
        assert_eq!(t("1543270652000"), ("2018-11-26T22:17:32.000000Z".into(), false));
        assert_eq!(t("1543270652"), ("2018-11-26T22:17:32.000000Z".into(), false));
        assert_eq!(
            t("1573747292.658982"),
            ("2019-11-14T16:01:32.658982Z".into(), false)
        );
        assert_eq!(
            t("Sep 09 2017 00:31:23 UTC"),
            ("2017-09-09T00:31:23.000000Z".into(), false)
        );
        assert_eq!(
            t("Apr 11 2020 10:42:13"),
            ("2020-04-11T10:42:13.000000Z".into(), true)
        );
        assert_eq!(
            t("Apr 11 2020 10:42:13.250 +02:00"),
            ("2020-04-11T08:42:13.250000Z".into(), false)
        );
        assert_eq!(
            t("2019-02-27 12:55:40 UTC"),
            ("2019-02-27T12:55:40.000000Z".into(), false)
        );
        assert_eq!(
            t("2020/02/09 01:02:03"),
            ("2020-02-09T01:02:03.000000Z".into(), true)
        );
        assert_eq!(
            t("2021-05-28 00:00:00 ART"),
            ("2021-05-28T00:00:00.000000Z".into(), true)
        );
        assert_eq!(
            t("2020-03-23 06:47:42.801612-0700"),
            ("2020-03-23T13:47:42.801612Z".into(), false)
        );
        assert_eq!(
            t("Wed Jul 27 18:32:27 2016"),
            ("2016-07-27T18:32:27.000000Z".into(), true)
        );
        assert_eq!(
            t("06-May-2021 09:59:37"),
            ("2021-05-06T09:59:37.000000Z".into(), true)
        );
        // No year: the ingest year (2030), or 2029 when that is in the future.
        assert_eq!(t("Jan  1 10:00:00"), ("2030-01-01T10:00:00.000000Z".into(), true));
        assert_eq!(t("Jan  3 02:00:00"), ("2030-01-03T02:00:00.000000Z".into(), true));
        assert_eq!(t("Jan  3 10:00:00"), ("2029-01-03T10:00:00.000000Z".into(), true));
        assert_eq!(t("Dec 31 10:00:00"), ("2029-12-31T10:00:00.000000Z".into(), true));
        assert_eq!(t("Feb 29 10:00:00"), ("2028-02-29T10:00:00.000000Z".into(), true));
        for bad in [
            "",
            "yesterday",
            "2020/00/00 00:00:00",
            "Foo 12 2020 10:00:00",
            "12:00 (Q)",
        ] {
            assert!(parse_time(bad, ingest()).is_none(), "{bad}");
        }
    }

    #[test]
    fn java_patterns() {
        let st = parse_java_time("2019-05-09 22:03:58.692466", "yyyy-MM-dd HH:mm:ss.SSS", ingest()).unwrap();
        assert_eq!(format_ts(st.time), "2019-05-09T22:03:58.692466Z");
        assert!(st.assumed_utc);
        let st = parse_java_time(
            "2019-05-09T22:03:58.123+0200",
            "yyyy-MM-dd'T'HH:mm:ss.SSSZ",
            ingest(),
        )
        .unwrap();
        assert_eq!(format_ts(st.time), "2019-05-09T20:03:58.123000Z");
        assert!(!st.assumed_utc);
        let st = parse_java_time("Oct 11 2024 10:00:00", "MMM dd yyyy HH:mm:ss", ingest()).unwrap();
        assert_eq!(format_ts(st.time), "2024-10-11T10:00:00.000000Z");
        // A pattern that does not fit falls back to the usual shapes.
        let st = parse_java_time("1388577600000", "MMM dd yyyy HH:mm:ss", ingest()).unwrap();
        assert_eq!(format_ts(st.time), "2014-01-01T12:00:00.000000Z");
        assert!(parse_java_time("garbage", "yyyy", ingest()).is_none());
    }

    #[test]
    fn setters_skip_placeholders() {
        let mut ev = Event::new("t", ingest(), "x");
        assert!(!set_str(&mut ev, "user.name", "N/A"));
        assert!(!set_ip(&mut ev, "source.ip", "host"));
        assert!(set_ip(&mut ev, "source.ip", "[::1]"));
        assert!(!set_port(&mut ev, "source.port", "ssh"));
        assert!(set_mac(&mut ev, "source.mac", "d8-d0-d3-d8-d8-0a"));
        assert_eq!(ev.get_str("source.mac"), Some("D8-D0-D3-D8-D8-0A"));
        assert!(!set_mac(&mut ev, "destination.mac", "xx"));
        assert!(set_transport(&mut ev, "6"));
        assert_eq!(ev.get_str("network.transport"), Some("tcp"));
        assert!(set_outcome(&mut ev, "/Failure"));
        assert_eq!(ev.outcome(), Some("failure"));
        put_raw(&mut ev, "kv", "LEN", "40");
        put_raw(&mut ev, "kv", "LEN", "60");
        put_raw(&mut ev, "kv", "LEN", "80");
        assert_eq!(ev.get("kv.LEN"), Some(&json!(["40", "60", "80"])));
        assert_eq!(safe_key("Rule Name.x"), "Rule_Name_x");
        add_related(&mut ev);
        assert_eq!(ev.get("related.ip"), Some(&json!(["::1"])));
    }

    #[test]
    fn preference() {
        let zoned = Stamp::exact(ingest());
        let assumed = Stamp {
            time: ingest(),
            assumed_utc: true,
        };
        assert_eq!(Stamp::prefer(Some(assumed), Some(zoned)), Some(zoned));
        assert_eq!(Stamp::prefer(Some(zoned), Some(assumed)), Some(zoned));
        assert_eq!(Stamp::prefer(Some(assumed), None), Some(assumed));
        assert_eq!(Stamp::prefer(None, Some(assumed)), Some(assumed));
    }
}
