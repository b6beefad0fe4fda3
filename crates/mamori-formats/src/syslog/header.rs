//! Finding the syslog header of one line: `syslog_loose` first, then
//! corrections and fallbacks for the shapes real senders use (see the
//! module above for the rules).

use std::sync::LazyLock;

use chrono::{DateTime, FixedOffset, Utc};
use regex::Regex;
use serde_json::{Map, Value, json};
use syslog_loose::{Message, ProcId, Protocol, Variant};

use crate::fieldmap::{self, Stamp};

/// What the header says.
#[derive(Debug, Default)]
pub(crate) struct Header<'a> {
    /// `<PRI>` value.
    pub pri: Option<u8>,
    /// RFC 5424 version.
    pub version: Option<u32>,
    /// The time, with whether its zone was assumed.
    pub stamp: Option<Stamp>,
    /// Host name or address.
    pub hostname: Option<&'a str>,
    /// App name (RFC 3164 tag).
    pub appname: Option<&'a str>,
    /// Process id as written.
    pub procid: Option<String>,
    /// Process id when numeric.
    pub pid: Option<i64>,
    /// RFC 5424 MSGID.
    pub msgid: Option<&'a str>,
    /// A severity word written before the tag (F5: `host warning tmm[1]: …`).
    pub level: Option<&'a str>,
    /// Structured data: element id → parameter → value (an array when repeated).
    pub structured_data: Map<String, Value>,
    /// The message.
    pub msg: &'a str,
}

/// The result of looking for a header.
pub(crate) enum Found<'a> {
    /// A header.
    Header(Header<'a>),
    /// No header; maybe a hint of what looked like one but was not.
    Missing(Option<String>),
    /// A header that is wrong: byte index in the line and why.
    Bad(usize, String),
}

/// Byte index of `part` inside `base`, when it is a slice of it.
fn offset(base: &str, part: &str) -> Option<usize> {
    let b = base.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= b && p + part.len() <= b + base.len()).then(|| p - b)
}

fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
}

fn valid_tag(t: &str) -> bool {
    !t.is_empty()
        && t.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '(' | ')' | '@' | '#' | '+'))
}

fn utc() -> Option<FixedOffset> {
    FixedOffset::east_opt(0)
}

/// The header of `line` (its time read relative to `ingest`).
pub(crate) fn find(line: &str, ingest: DateTime<Utc>) -> Found<'_> {
    static PRI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^<(\d{1,3})(>?)").expect("valid regex"));
    static LOOKS_3164: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^[A-Za-z]{3}\s+\d{1,2}(?:\s+\d{4})?\s+\d{1,2}:\d{2}:\d{2}").expect("valid regex")
    });
    let t = line.trim();
    let lead = offset(line, t).unwrap_or(0);
    let mut pri = None;
    let mut after_pri = t;
    if let Some(c) = PRI.captures(t) {
        if c[2].is_empty() {
            return Found::Bad(lead, "expected `>` closing the syslog priority `<PRI>`".into());
        }
        match c[1].parse::<u8>() {
            Ok(p) if p <= 191 => pri = Some(p),
            _ => {
                return Found::Bad(
                    lead,
                    format!(
                        "syslog priority <{}> is out of range: expected <0> to <191>",
                        &c[1]
                    ),
                );
            }
        }
        after_pri = &t[c[0].len()..];
    }
    let year =
        move |(mo, d, h, mi, s): (u32, u32, u32, u32, u32)| fieldmap::year_for(mo, d, (h, mi, s), ingest);
    if let Ok(m) = syslog_loose::parse_message_with_year_exact_tz(t, year, utc(), Variant::Either) {
        let zoneless = m.protocol == Protocol::RFC3164
            && after_pri
                .trim_start()
                .starts_with(|c: char| c.is_ascii_alphabetic());
        let mut h = from_loose(t, &m, zoneless);
        h.pri = pri;
        return Found::Header(h);
    }
    if let Some(h) =
        rfc5424_fallback(after_pri.trim_start()).or_else(|| iso_fallback(after_pri.trim_start(), ingest))
    {
        return Found::Header(Header { pri, ..h });
    }
    if pri.is_some() {
        return Found::Header(Header {
            pri,
            msg: after_pri.trim(),
            ..Header::default()
        });
    }
    let hint = LOOKS_3164.find(t).map(|m| {
        format!(
            "`{}` looks like an RFC 3164 timestamp but is not a valid date",
            m.as_str()
        )
    });
    Found::Missing(hint)
}

/// A header from `syslog_loose`, corrected:
/// - a single field followed by `:` is the tag, not the host (`Jan 1 00:00:00 filterlog: …`);
/// - a host or tag holding characters no host or tag has (`=`, `,`, `%`, `|`…)
///   is the start of the message (`… host devid=FG… date=…`, `… %ASA-4-…`);
/// - a tag `CEF` / `LEEF` followed by `:` is the start of the message;
/// - RFC 5424 structured data that `syslog_loose` could not read stays in the message.
fn from_loose<'a>(t: &'a str, m: &Message<&'a str>, zoneless: bool) -> Header<'a> {
    let mut host = m.hostname;
    let mut app = m.appname;
    let mut procid = m.procid.as_ref();
    let mut msg_start = offset(t, m.msg).unwrap_or(t.len() - m.msg.len());
    let mut sd = m.structured_data.as_slice();
    if m.protocol == Protocol::RFC3164 {
        if let (Some(hst), None) = (host, app)
            && offset(t, hst).is_some_and(|o| t[o + hst.len()..].starts_with(':'))
        {
            app = Some(hst);
            host = None;
        }
        let cut = |field: &str| offset(t, field);
        if let Some(hst) = host.filter(|h| !valid_host(h)) {
            if let Some(o) = cut(hst) {
                msg_start = o;
            }
            (host, app, procid, sd) = (None, None, None, &[]);
        } else if let Some(a) =
            app.filter(|a| !valid_tag(a) || ((*a == "CEF" || *a == "LEEF") && procid.is_none()))
        {
            if let Some(o) = cut(a) {
                msg_start = o;
            }
            (app, procid, sd) = (None, None, &[]);
        }
    } else if let Some(sd_start) = sd_region_start(t) {
        let region = &t[sd_start.min(msg_start)..msg_start];
        if region.trim() != "-" && top_level_groups(region) > sd.len() {
            msg_start = sd_start.min(msg_start);
        }
    }
    let (mut procid_text, mut pid) = match procid {
        Some(ProcId::PID(p)) => (Some(p.to_string()), Some(i64::from(*p))),
        Some(ProcId::Name(n)) => (Some(n.to_string()), None),
        None => (None, None),
    };
    // F5 BIG-IP: `host warning tmm1[1234]: …` — the "tag" is a severity.
    let mut level = None;
    if m.protocol == Protocol::RFC3164
        && procid_text.is_none()
        && let Some(a) = app.filter(|a| SEVERITIES.contains(a))
        && let Some(c) = LEVEL_TAG.captures(&t[msg_start..])
        && let (Some(name), Some(p)) = (c.get(1), c.get(2))
    {
        level = Some(a);
        app = Some(&t[msg_start + name.start()..msg_start + name.end()]);
        procid_text = Some(p.as_str().to_string());
        pid = p.as_str().parse().ok();
        msg_start += c[0].len();
    }
    let mut structured_data = Map::new();
    for element in sd {
        let mut params = Map::new();
        for (name, value) in element.params() {
            let name = name.to_string();
            let new = match params.remove(&name) {
                None => json!(value),
                Some(Value::Array(mut list)) => {
                    list.push(json!(value));
                    Value::Array(list)
                }
                Some(old) => json!([old, value]),
            };
            params.insert(name, new);
        }
        structured_data.insert(element.id.to_string(), Value::Object(params));
    }
    Header {
        pri: None,
        version: match m.protocol {
            Protocol::RFC5424(v) => Some(v),
            Protocol::RFC3164 => None,
        },
        stamp: m.timestamp.map(|ts| Stamp {
            time: ts.with_timezone(&Utc),
            assumed_utc: zoneless,
        }),
        hostname: host,
        appname: app,
        procid: procid_text,
        pid,
        msgid: m.msgid,
        level,
        structured_data,
        msg: t[msg_start..].trim_start_matches('\u{feff}').trim(),
    }
}

const SEVERITIES: [&str; 9] = [
    "emerg", "alert", "crit", "err", "error", "warning", "notice", "info", "debug",
];

static LEVEL_TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([^\s:\[\]]+)\[(\d+)\]:\s*").expect("valid regex"));

/// Where RFC 5424 structured data starts: after `<PRI>VERSION TIMESTAMP
/// HOSTNAME APP-NAME PROCID MSGID `.
fn sd_region_start(t: &str) -> Option<usize> {
    let b = t.as_bytes();
    let mut i = if t.starts_with('<') { t.find('>')? + 1 } else { 0 };
    for _ in 0..6 {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        while i < b.len() && b[i] != b' ' {
            i += 1;
        }
    }
    while i < b.len() && b[i] == b' ' {
        i += 1;
    }
    Some(i)
}

/// How many `[…]` groups start at depth 0 (outside quotes) in `s`.
fn top_level_groups(s: &str) -> usize {
    let mut depth = 0usize;
    let mut quoted = false;
    let mut escaped = false;
    let mut groups = 0;
    for c in s.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '[' if !quoted => {
                if depth == 0 {
                    groups += 1;
                }
                depth += 1;
            }
            ']' if !quoted => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    groups
}

fn nil(s: &str) -> Option<&str> {
    (s != "-").then_some(s)
}

/// `VERSION TIMESTAMP HOST APP PROCID MSGID rest` when `syslog_loose` gave
/// up (for instance on structured data that is not RFC 5424): the rest,
/// structured data included, is the message.
fn rfc5424_fallback(s: &str) -> Option<Header<'_>> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{1,2}) (\S+) (\S+) (\S+) (\S+) (\S+)(?: (.*))?$").expect("valid regex")
    });
    let c = RE.captures(s)?;
    let ts = c.get(2)?.as_str();
    let stamp = if ts == "-" {
        None
    } else {
        Some(Stamp {
            time: DateTime::parse_from_rfc3339(ts).ok()?.with_timezone(&Utc),
            assumed_utc: false,
        })
    };
    let procid = nil(c.get(5)?.as_str());
    Some(Header {
        version: c[1].parse().ok(),
        stamp,
        hostname: nil(c.get(3)?.as_str()),
        appname: nil(c.get(4)?.as_str()),
        procid: procid.map(str::to_string),
        pid: procid.and_then(|p| p.parse().ok()),
        msgid: nil(c.get(6)?.as_str()),
        msg: c.get(7).map_or("", |m| m.as_str().trim()),
        ..Header::default()
    })
}

/// `yyyy-mm-dd hh:mm:ss[.f][zone] host tag[pid]: message` (rsyslog's and
/// systemd's ISO forms with a space instead of `T`, or `/` dates).
fn iso_fallback(s: &str, ingest: DateTime<Utc>) -> Option<Header<'_>> {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d{4}[-/]\d{2}[-/]\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\s?(?:Z|[+-]\d{2}:?\d{2}))?)\s+([A-Za-z0-9._:-]+)\s+([^\s\[\]]+?)(?:\[(\d+)\])?:\s*(.*)$")
            .expect("valid regex")
    });
    let c = RE.captures(s)?;
    let stamp = fieldmap::parse_time(&c[1], ingest)?;
    let tag = c.get(3)?.as_str();
    let (appname, msg) = if valid_tag(tag) {
        (Some(tag), c.get(5).map_or("", |m| m.as_str()))
    } else {
        (None, &s[c.get(3)?.start()..])
    };
    let pid = appname.and(c.get(4)).map(|m| m.as_str());
    Some(Header {
        stamp: Some(stamp),
        hostname: Some(c.get(2)?.as_str()),
        appname,
        procid: pid.map(str::to_string),
        pid: pid.and_then(|p| p.parse().ok()),
        msg: msg.trim(),
        ..Header::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ingest() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2030-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn header(line: &str) -> Header<'_> {
        match find(line, ingest()) {
            Found::Header(h) => h,
            Found::Missing(hint) => panic!("no header in {line}: {hint:?}"),
            Found::Bad(at, why) => panic!("bad header in {line} at {at}: {why}"),
        }
    }

    #[test]
    fn rfc3164() {
        let h = header("<34>Oct 11 22:14:15 mymachine su[77]: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(h.pri, Some(34));
        assert_eq!(h.hostname, Some("mymachine"));
        assert_eq!(h.appname, Some("su"));
        assert_eq!(h.pid, Some(77));
        assert_eq!(h.msg, "'su root' failed for lonvick on /dev/pts/8");
        let st = h.stamp.unwrap();
        assert_eq!(st.time.to_rfc3339(), "2029-10-11T22:14:15+00:00");
        assert!(st.assumed_utc);
    }

    #[test]
    fn rfc5424_with_structured_data() {
        let h = header(
            r#"<165>1 2003-10-11T22:14:15.003Z host.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application"][x@1 a="1" a="2"] An application event"#,
        );
        assert_eq!((h.pri, h.version), (Some(165), Some(1)));
        assert_eq!(h.msgid, Some("ID47"));
        assert_eq!(h.appname, Some("evntslog"));
        assert!(h.procid.is_none());
        assert_eq!(h.structured_data["exampleSDID@32473"]["iut"], json!("3"));
        assert_eq!(h.structured_data["x@1"]["a"], json!(["1", "2"]));
        assert_eq!(h.msg, "An application event");
        let st = h.stamp.unwrap();
        assert_eq!(st.time.to_rfc3339(), "2003-10-11T22:14:15.003+00:00");
        assert!(!st.assumed_utc);
    }

    #[test]
    fn corrections() {
        let h = header("Jan 22 18:34:00 filterlog: 65,,,0,vmx1,match");
        assert_eq!((h.hostname, h.appname), (None, Some("filterlog")));
        let h = header("Oct 03 2018 17:34:08: %ASA-4-106023: Deny udp src a:1.1.1.1/1 dst b:2.2.2.2/2");
        assert!(h.msg.starts_with("%ASA-4-106023: Deny"), "{}", h.msg);
        assert_eq!(h.stamp.unwrap().time.to_rfc3339(), "2018-10-03T17:34:08+00:00");
        let h = header("Dec 23 11:13:03 date=2011-07-24 time=10:13:03 devname=x");
        assert_eq!(h.hostname, None);
        assert_eq!(h.msg, "date=2011-07-24 time=10:13:03 devname=x");
        let h = header("Apr 30 06:00:00 fw-01 1,2020/02/09 00:00:00,0001,SYSTEM,general");
        assert_eq!(h.hostname, Some("fw-01"));
        assert_eq!(h.msg, "1,2020/02/09 00:00:00,0001,SYSTEM,general");
        let h = header("<13>Feb  5 17:32:18 10.0.0.99 CEF:0|a|b|c|d|e|5|src=1.2.3.4");
        assert_eq!(h.hostname, Some("10.0.0.99"));
        assert_eq!(h.msg, "CEF:0|a|b|c|d|e|5|src=1.2.3.4");
        let h = header("<13>Feb  5 17:32:18 CEF:0|a|b|c|d|e|5|src=1.2.3.4");
        assert_eq!(h.msg, "CEF:0|a|b|c|d|e|5|src=1.2.3.4");
    }

    #[test]
    fn fallbacks() {
        let h = header(
            r#"1 2019-05-15T16:25:50Z fw CheckPoint 19710 - [action:"Drop"; ifdir:"inbound"; cut off here"#,
        );
        assert_eq!(
            (h.version, h.hostname, h.appname, h.pid),
            (Some(1), Some("fw"), Some("CheckPoint"), Some(19710))
        );
        assert!(h.msg.starts_with("[action:"), "{}", h.msg);
        let h = header(
            r#"<134>1 2019-05-15T16:25:50Z fw CheckPoint 19710 - [action:"Drop"; src:"10.0.0.1"] tail"#,
        );
        assert!(h.msg.starts_with("[action:\"Drop\""), "{}", h.msg);
        let h = header("2020-03-23 06:47:42.801612-0700  localhost sshd[3186]: error: PAM: x");
        assert_eq!(
            (h.hostname, h.appname, h.pid),
            (Some("localhost"), Some("sshd"), Some(3186))
        );
        assert_eq!(
            h.stamp.unwrap().time.to_rfc3339(),
            "2020-03-23T13:47:42.801612+00:00"
        );
        assert_eq!(h.msg, "error: PAM: x");
        let h = header("May  4 13:42:12 lb1 crit server.pl[24895]: 01310027:2: ASM error");
        assert_eq!(
            (h.level, h.appname, h.pid),
            (Some("crit"), Some("server.pl"), Some(24895))
        );
        assert_eq!(h.msg, "01310027:2: ASM error");
        let h = header("<13>hello world");
        assert_eq!((h.pri, h.msg), (Some(13), "hello world"));
    }

    #[test]
    fn missing_and_bad() {
        assert!(matches!(find("hello world", ingest()), Found::Missing(None)));
        assert!(matches!(
            find("May 00 00:00:00 host x", ingest()),
            Found::Missing(Some(_))
        ));
        assert!(matches!(
            find("2014/12/30 06:07:37 [error] 80:2 yadda", ingest()),
            Found::Missing(None)
        ));
        match find("  <192>Oct 11 22:14:15 host app: x", ingest()) {
            Found::Bad(at, why) => {
                assert_eq!(at, 2);
                assert!(why.contains("out of range"), "{why}");
            }
            _ => panic!("expected bad"),
        }
        assert!(matches!(find("<13 hello", ingest()), Found::Bad(0, _)));
    }
}
