//! Linux audit records (`/var/log/audit/audit.log`, and the same records
//! sent over syslog by `audisp-syslog` or the kernel), one record per line:
//! `[node=N ]type=T msg=audit(EPOCH.mmm:SERIAL): key=value …`, with the
//! `ENRICHED` log format's `␝KEY=value …` part after a group separator
//! (0x1D). Names follow Elastic's `auditd` module.
//!
//! # Reading
//! - A value is `"quoted"` (as is), `'nested key=value pairs'` (the
//!   `msg='op=… res=…'` of user-space records: their pairs are the
//!   record's), or bare up to the next space.
//! - Bare values of the fields the kernel hex-encodes when they hold
//!   spaces, quotes or control characters (`name`, `exe`, `comm`, `cwd`,
//!   `path`, `proctitle`, `cmd`, `acct`, `key`, `data`, and the `aN`
//!   arguments of `EXECVE` records) are decoded; NULs (between
//!   `proctitle`'s arguments) become spaces. `SYSCALL` arguments `a0`–`a3`
//!   are numbers in hex and stay as written.
//! - Words that are not pairs are skipped (they stay in `event.original`).
//!
//! # Mapping
//! | record                                      | ECS / Mamori |
//! |---------------------------------------------|--------------|
//! | `audit(EPOCH.mmm:SERIAL)`                   | `@timestamp` (UTC), `auditd.log.sequence` |
//! | `type`                                      | `auditd.log.record_type`, `event.action` (lower case); `event.category` below |
//! | every pair (nested ones too; enriched `UID=`, `SYSCALL=` … keep their upper-case names) | `auditd.log.<key>` (a key seen again: an array) |
//! | `node`                                      | `host.name` |
//! | `pid`, `ppid`                               | `process.pid`, `process.parent.pid` |
//! | `exe`, `comm`, `proctitle`, `cwd` (of `CWD`) | `process.executable`, `process.name`, `process.title`, `process.working_directory` |
//! | `EXECVE` `argc`, `a0` … `aN`                 | `process.args_count`, `process.args`, `process.command_line` (the arguments joined by spaces) |
//! | `uid`, `euid`, `auid` (unless unset, `4294967295`), `gid` | `user.id`, `user.effective.id`, `user.audit.id`, `group.id` |
//! | `acct` (the account of a user-space record) | `user.name` |
//! | enriched `UID`, `EUID`, `AUID`              | `user.name` (without `acct`), `user.effective.name`, `user.audit.name` |
//! | `addr`, `hostname` (unless `?`)             | `source.ip` / `source.domain` |
//! | `res` (`success` / `failed`), `success` (`yes` / `no`) | `event.outcome` |
//! | `PATH` `name`                               | `file.path` |
//!
//! | record types                                | `event.category` |
//! |---------------------------------------------|------------------|
//! | `USER_AUTH`, `USER_ACCT`, `USER_LOGIN`, `USER_ERR`, `LOGIN`, `CRED_ACQ`, `CRED_DISP`, `CRED_REFR`, `USER_START`, `USER_END` | `authentication` (`USER_START`/`USER_END`/`LOGIN` also `session`) |
//! | `ADD_USER`, `DEL_USER`, `ADD_GROUP`, `DEL_GROUP`, `USER_CHAUTHTOK`, `USER_MGMT`, `GRP_MGMT`, `ACCT_LOCK`, `ACCT_UNLOCK` | `iam` |
//! | `EXECVE`                                    | `process` |
//! | `CONFIG_CHANGE`, `DAEMON_CONFIG`, `MAC_POLICY_LOAD`, `MAC_STATUS` | `configuration` |
//! | `AVC`, `ANOM_*`                             | `intrusion_detection` |
//!
//! `event.kind` = `event`, `event.module` = `auditd`, `event.dataset` =
//! `auditd.log`, `related.user`, `related.ip`. Sigma rules of log source
//! `linux`/`auditd` name these fields as the records do (`type`, `a0`,
//! `exe`, `key`, `SYSCALL`).
//!
//! # Bad records
//! A line without `type=… msg=audit(…):` (a line with a syslog header is
//! read as [`crate::syslog`], whose message may be such a record), an
//! unreadable `audit(…)` stamp: each with its line, column and reason;
//! invalid UTF-8; a line longer than 8 MiB. A record cut inside a quoted
//! value (a syslog relay's size limit) is kept, the value running to the
//! end of the line, with the tag `mamori.record_truncated` and a warning.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use crate::fieldmap::{self, Stamp, set_ip, set_str};
use crate::linefmt::{self, Outcome};
use crate::record::{Item, ParseContext};
use crate::{sniff, syslog};

/// The enriched part's separator (ASCII group separator).
const GROUP_SEPARATOR: char = '\u{1d}';
/// `auid`/`uid` of a process with none set ((u32)-1).
const UNSET_ID: &str = "4294967295";

/// True when the first non-blank line is an audit record.
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    let first = head[start..].split(|&b| b == b'\n').next().unwrap_or_default();
    let shown = String::from_utf8_lossy(&first[..first.len().min(4096)]);
    header(&shown).is_ok()
}

/// Parse audit log lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

fn line(text: &str, ctx: &ParseContext) -> Outcome {
    if syslog::has_header(text, ctx.ingest_time) {
        return syslog::line(text, ctx);
    }
    let mut ev = Event::new(&ctx.tenant, ctx.ingest_time, text);
    match map_record(&mut ev, text) {
        Ok((time, cut)) => {
            fieldmap::apply_time(&mut ev, Some(time), ctx);
            fieldmap::add_related(&mut ev);
            match cut {
                None => Outcome::Event(Box::new(ev)),
                Some((at, reason)) => Outcome::Warned(
                    Box::new(ev),
                    format!("{reason} at column {}: read to the end of the line", at + 1),
                ),
            }
        }
        Err((at, reason)) => Outcome::bad(Some(at), reason),
    }
}

/// Map `msg` onto `ev` when it is an audit record (the message of a syslog
/// line); its time. `None` when it is not one.
pub(crate) fn map_message(ev: &mut Event, msg: &str) -> Option<Stamp> {
    if !msg.contains("audit(") || header(msg).is_err() {
        return None;
    }
    map_record(ev, msg).ok().map(|(time, _)| time)
}

/// Why a line is not a record: (byte index, reason).
type Failure = (usize, String);

/// The parts before the pairs.
struct Header<'a> {
    node: Option<&'a str>,
    record_type: &'a str,
    time: DateTime<Utc>,
    sequence: u64,
    /// Where the pairs start.
    rest: usize,
}

/// `[audit: ][node=N ]type=T [msg=]audit(S.mmm:N):`.
fn header(text: &str) -> Result<Header<'_>, Failure> {
    let lead = text.len() - text.trim_start().len();
    let mut at = lead;
    let word = |from: usize| -> (&str, usize) {
        let rest = &text[from..];
        let end = rest.find(' ').unwrap_or(rest.len());
        (
            &rest[..end],
            from + end + rest[end..].len() - rest[end..].trim_start().len(),
        )
    };
    if text[at..].starts_with("audit: ") {
        at = word(at).1;
    }
    let mut node = None;
    if let Some(n) = text[at..].strip_prefix("node=") {
        let (w, next) = word(at);
        node = Some(&n[..w.len() - "node=".len()]);
        at = next;
    }
    let expected = "expected an audit record: `type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): …`";
    let Some(t) = text[at..].strip_prefix("type=") else {
        return Err((at, expected.into()));
    };
    let (w, next) = word(at);
    let record_type = &t[..w.len() - "type=".len()];
    if record_type.is_empty() {
        return Err((at, expected.into()));
    }
    at = next;
    let stamp_at = at;
    let body = text[at..].strip_prefix("msg=").unwrap_or(&text[at..]);
    let Some(body) = body.strip_prefix("audit(") else {
        return Err((at, expected.into()));
    };
    let Some(close) = body.find("):") else {
        return Err((stamp_at, "unterminated `audit(…):` stamp".into()));
    };
    let stamp = &body[..close];
    let bad_stamp = || {
        (
            stamp_at,
            format!("bad audit stamp `audit({stamp})`: expected SECONDS.MILLIS:SERIAL"),
        )
    };
    let (time, serial) = stamp.split_once(':').ok_or_else(bad_stamp)?;
    let sequence = serial.parse::<u64>().map_err(|_| bad_stamp())?;
    let time = epoch(time).ok_or_else(bad_stamp)?;
    let rest = text.len() - body[close + 2..].len();
    Ok(Header {
        node,
        record_type,
        time,
        sequence,
        rest,
    })
}

/// `1733544604.123` as a UTC time.
fn epoch(s: &str) -> Option<DateTime<Utc>> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if secs.is_empty()
        || !secs.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let secs: i64 = secs.parse().ok()?;
    let digits = &frac[..frac.len().min(9)];
    let nanos = if digits.is_empty() {
        0
    } else {
        digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
    };
    DateTime::from_timestamp(secs, nanos)
}

/// One value as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Raw<'a> {
    Quoted(&'a str),
    Nested(&'a str),
    Bare(&'a str),
}

/// Tag of records cut inside a quoted value (a syslog relay's size limit):
/// the value runs to the end of the line.
pub const TRUNCATED: &str = "mamori.record_truncated";

/// The pairs of `text` (starting at byte `base` of the line), and where a
/// quoted value was left open (it then runs to the end of the text).
fn pairs(text: &str, base: usize) -> (Vec<(&str, Raw<'_>)>, Option<Failure>) {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let key_start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'-' | b'[' | b']')) {
            i += 1;
        }
        if i == key_start || b.get(i) != Some(&b'=') {
            // Not a pair: skip the word.
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
            continue;
        }
        let key = &text[key_start..i];
        i += 1;
        let value = match b.get(i) {
            Some(&q @ (b'"' | b'\'')) => {
                let Some(len) = text[i + 1..].find(q as char) else {
                    let value = &text[i + 1..];
                    let value = if q == b'"' {
                        Raw::Quoted(value)
                    } else {
                        Raw::Nested(value)
                    };
                    out.push((key, value));
                    return (
                        out,
                        Some((base + i, format!("unterminated quoted value of `{key}`"))),
                    );
                };
                let inner = &text[i + 1..i + 1 + len];
                i += len + 2;
                if q == b'"' {
                    Raw::Quoted(inner)
                } else {
                    Raw::Nested(inner)
                }
            }
            _ => {
                let start = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                Raw::Bare(&text[start..i])
            }
        };
        out.push((key, value));
    }
    (out, None)
}

/// Fields the kernel writes hex-encoded (unquoted) when they need it.
const ENCODED: &[&str] = &[
    "name",
    "exe",
    "comm",
    "cwd",
    "path",
    "proctitle",
    "cmd",
    "acct",
    "key",
    "data",
    "old-data",
];

/// A bare value's text: hex-decoded for encoded fields.
fn decoded(record_type: &str, key: &str, v: &str) -> String {
    let encoded = ENCODED.contains(&key)
        || (record_type == "EXECVE"
            && key.starts_with('a')
            && key[1..].starts_with(|c: char| c.is_ascii_digit()));
    if encoded
        && v.len() >= 2
        && v.len().is_multiple_of(2)
        && v.bytes()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
    {
        let bytes: Vec<u8> = (0..v.len())
            .step_by(2)
            .filter_map(|i| u8::from_str_radix(&v[i..i + 2], 16).ok())
            .collect();
        let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
        return text.trim_end().to_string();
    }
    v.to_string()
}

/// Map a record onto `ev` (the tables above); its time, and where it was
/// cut when a quoted value is left open.
fn map_record(ev: &mut Event, text: &str) -> Result<(Stamp, Option<Failure>), Failure> {
    let h = header(text)?;
    let body = &text[h.rest..];
    let (plain, enriched) = body.split_once(GROUP_SEPARATOR).unwrap_or((body, ""));
    let mut fields: Vec<(String, String)> = Vec::new();
    let (found, mut cut) = pairs(plain, h.rest);
    for (k, v) in found {
        match v {
            Raw::Nested(inner) => {
                let (nested, _) = pairs(inner, 0);
                if nested.is_empty() {
                    fields.push((k.to_string(), inner.to_string()));
                }
                for (nk, nv) in nested {
                    let value = match nv {
                        Raw::Bare(s) => decoded(h.record_type, nk, s),
                        Raw::Quoted(s) | Raw::Nested(s) => s.to_string(),
                    };
                    fields.push((nk.to_string(), value));
                }
            }
            Raw::Quoted(s) => fields.push((k.to_string(), s.to_string())),
            Raw::Bare(s) => fields.push((k.to_string(), decoded(h.record_type, k, s))),
        }
    }
    let enriched_at = h.rest + plain.len() + 1;
    let (enriched, enriched_cut) = pairs(enriched, enriched_at);
    cut = cut.or(enriched_cut);
    let enriched: Vec<(String, String)> = enriched
        .into_iter()
        .map(|(k, v)| {
            let s = match v {
                Raw::Quoted(s) | Raw::Nested(s) | Raw::Bare(s) => s,
            };
            (k.to_string(), s.to_string())
        })
        .collect();

    ev.set("event.kind", json!("event"));
    ev.set("event.module", json!("auditd"));
    ev.set("event.dataset", json!("auditd.log"));
    ev.set("event.action", json!(h.record_type.to_ascii_lowercase()));
    ev.set("auditd.log.record_type", json!(h.record_type));
    ev.set("auditd.log.sequence", json!(h.sequence));
    if let Some(node) = h.node {
        set_str(ev, "host.name", node);
    }
    if let Some(category) = category(h.record_type) {
        ev.set("event.category", json!(category));
    }
    for (k, v) in fields.iter().chain(&enriched) {
        let key = fieldmap::safe_key(k);
        ev.push(&format!("auditd.log.{key}"), json!(v));
    }
    ecs(ev, h.record_type, &fields, &enriched);
    if cut.is_some() {
        ev.add_tag(TRUNCATED);
    }
    let time = Stamp {
        time: h.time,
        assumed_utc: false,
    };
    Ok((time, cut))
}

/// The ECS fields of the mapping table.
fn ecs(ev: &mut Event, record_type: &str, fields: &[(String, String)], enriched: &[(String, String)]) {
    let get = |k: &str| value(fields, k);
    let rich = |k: &str| value(enriched, k);
    let known = |v: &&str| !matches!(*v, "?" | "(null)" | "(none)" | UNSET_ID);
    let number = |ev: &mut Event, path: &str, v: Option<&str>| {
        if let Some(n) = v.and_then(|v| v.parse::<u64>().ok()) {
            ev.set(path, json!(n));
        }
    };
    number(ev, "process.pid", get("pid"));
    number(ev, "process.parent.pid", get("ppid"));
    for (key, path) in [
        ("exe", "process.executable"),
        ("comm", "process.name"),
        ("proctitle", "process.title"),
        ("uid", "user.id"),
        ("euid", "user.effective.id"),
        ("auid", "user.audit.id"),
        ("gid", "group.id"),
    ] {
        if let Some(v) = get(key).filter(known) {
            set_str(ev, path, v);
        }
    }
    // The account a user-space record is about, else the process's user.
    if let Some(v) = get("acct").filter(known) {
        set_str(ev, "user.name", v);
    }
    for (key, path) in [
        ("UID", "user.name"),
        ("EUID", "user.effective.name"),
        ("AUID", "user.audit.name"),
    ] {
        if ev.get(path).is_none()
            && let Some(v) = rich(key).filter(known)
        {
            set_str(ev, path, v);
        }
    }
    if let Some(addr) = get("addr").filter(known)
        && !set_ip(ev, "source.ip", addr)
    {
        set_str(ev, "source.address", addr);
    }
    if let Some(host) = get("hostname").filter(known)
        && fieldmap::ip(host).is_none()
    {
        set_str(ev, "source.domain", host);
    }
    let outcome = match (get("res"), get("success")) {
        (Some("success" | "yes"), _) | (None, Some("yes")) => Some("success"),
        (Some("failed" | "fail" | "no"), _) | (None, Some("no")) => Some("failure"),
        _ => None,
    };
    if let Some(o) = outcome {
        ev.set("event.outcome", json!(o));
    }
    match record_type {
        "CWD" => {
            if let Some(cwd) = get("cwd") {
                set_str(ev, "process.working_directory", cwd);
            }
        }
        "PATH" => {
            if let Some(name) = get("name").filter(known) {
                set_str(ev, "file.path", name);
            }
        }
        "EXECVE" => {
            let args: Vec<&str> = (0..).map_while(|i| value(fields, &format!("a{i}"))).collect();
            if !args.is_empty() {
                ev.set("process.args", json!(args));
                ev.set("process.command_line", json!(args.join(" ")));
            }
            number(ev, "process.args_count", get("argc"));
        }
        _ => {}
    }
}

/// The first value of `key` in `pairs`.
fn value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `event.category` of a record type.
fn category(record_type: &str) -> Option<Vec<&'static str>> {
    Some(match record_type {
        "USER_START" | "USER_END" | "LOGIN" => vec!["authentication", "session"],
        "USER_AUTH" | "USER_ACCT" | "USER_LOGIN" | "USER_LOGOUT" | "USER_ERR" | "CRED_ACQ" | "CRED_DISP"
        | "CRED_REFR" => vec!["authentication"],
        "ADD_USER" | "DEL_USER" | "ADD_GROUP" | "DEL_GROUP" | "USER_CHAUTHTOK" | "USER_MGMT" | "GRP_MGMT"
        | "ACCT_LOCK" | "ACCT_UNLOCK" => vec!["iam"],
        "EXECVE" => vec!["process"],
        "CONFIG_CHANGE" | "DAEMON_CONFIG" | "MAC_POLICY_LOAD" | "MAC_STATUS" => vec!["configuration"],
        t if t == "AVC" || t.starts_with("ANOM_") => vec!["intrusion_detection"],
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn log_str<'a>(ev: &'a Event, key: &str) -> Option<&'a str> {
        ev.get(&format!("auditd.log.{key}")).and_then(Value::as_str)
    }

    fn record(text: &str) -> Event {
        let mut ev = Event::new("t", Utc::now(), text);
        let (stamp, cut) = map_record(&mut ev, text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        assert!(cut.is_none());
        fieldmap::apply_time(&mut ev, Some(stamp), &ParseContext::new("t", "test"));
        ev
    }

    #[test]
    fn execve_arguments_are_decoded() {
        let ev = record(
            r#"type=EXECVE msg=audit(1733544604.123:456): argc=3 a0="chmod" a1="777" a2=2F746D702F6D7920736372697074"#,
        );
        assert_eq!(ev.get_str("@timestamp"), Some("2024-12-07T04:10:04.123000Z"));
        assert_eq!(ev.get("auditd.log.sequence"), Some(&json!(456)));
        assert_eq!(log_str(&ev, "record_type"), Some("EXECVE"));
        assert_eq!(log_str(&ev, "a2"), Some("/tmp/my script"));
        assert_eq!(
            ev.get("process.args"),
            Some(&json!(["chmod", "777", "/tmp/my script"]))
        );
        assert_eq!(
            ev.get_str("process.command_line"),
            Some("chmod 777 /tmp/my script")
        );
        assert_eq!(ev.get("process.args_count"), Some(&json!(3)));
        assert_eq!(ev.get("event.category"), Some(&json!(["process"])));
    }

    #[test]
    fn syscall_with_enriched_names_keeps_hex_arguments() {
        let ev = record(
            "node=web01 type=SYSCALL msg=audit(1733544604.5:77): arch=c000003e syscall=135 success=yes exit=0 \
             a0=40000 a1=0 ppid=100 pid=101 auid=1000 uid=0 gid=0 euid=0 comm=\"setarch\" exe=\"/usr/bin/setarch\" \
             key=(null)\u{1d}ARCH=x86_64 SYSCALL=personality AUID=\"alice\" UID=\"root\" EUID=\"root\"",
        );
        assert_eq!(log_str(&ev, "a0"), Some("40000"));
        assert_eq!(log_str(&ev, "SYSCALL"), Some("personality"));
        assert_eq!(ev.get_str("host.name"), Some("web01"));
        assert_eq!(ev.get("process.pid"), Some(&json!(101)));
        assert_eq!(ev.get_str("process.executable"), Some("/usr/bin/setarch"));
        assert_eq!(ev.get_str("user.name"), Some("root"));
        assert_eq!(ev.get_str("user.audit.name"), Some("alice"));
        assert_eq!(ev.get_str("user.audit.id"), Some("1000"));
        assert_eq!(ev.outcome(), Some("success"));
        assert_eq!(ev.get_str("@timestamp"), Some("2024-12-07T04:10:04.500000Z"));
    }

    #[test]
    fn user_records_read_their_nested_message() {
        let ev = record(
            "type=USER_LOGIN msg=audit(1733544604.123:456): pid=999 uid=0 auid=4294967295 ses=4294967295 \
             msg='op=login acct=\"bob\" exe=\"/usr/sbin/sshd\" hostname=? addr=203.0.113.9 terminal=ssh res=failed'",
        );
        assert_eq!(ev.action(), Some("user_login"));
        assert_eq!((ev.user_name(), ev.outcome()), (Some("bob"), Some("failure")));
        assert_eq!(ev.source_ip(), Some("203.0.113.9"));
        assert_eq!(log_str(&ev, "op"), Some("login"));
        assert_eq!(log_str(&ev, "terminal"), Some("ssh"));
        assert_eq!(ev.get("user.audit.id"), None);
        assert_eq!(ev.get("source.domain"), None);
        assert_eq!(ev.get("event.category"), Some(&json!(["authentication"])));

        let ev = record("type=PATH msg=audit(1.0:2): item=0 name=\"/etc/ld.so.preload\" nametype=CREATE");
        assert_eq!(ev.get_str("file.path"), Some("/etc/ld.so.preload"));
        let ev = record("type=PROCTITLE msg=audit(1.0:2): proctitle=6E6D6170002D7350003130");
        assert_eq!(ev.get_str("process.title"), Some("nmap -sP 10"));
    }

    #[test]
    fn what_is_not_a_record_says_why() {
        let bad = |text: &str| header(text).err();
        assert!(
            bad("hello world")
                .unwrap()
                .1
                .starts_with("expected an audit record")
        );
        assert_eq!(bad("type=X msg=audit(12x:3): a=1").unwrap().0, 7);
        assert!(
            bad("type=X msg=audit(1.2:3 a=1")
                .unwrap()
                .1
                .contains("unterminated")
        );
        let mut ev = Event::new("t", Utc::now(), "o");
        let (_, cut) = map_record(&mut ev, "type=X msg=audit(1.2:3): a=\"open b=1").unwrap();
        assert_eq!(cut, Some((27, "unterminated quoted value of `a`".to_string())));
        assert_eq!(ev.get_str("auditd.log.a"), Some("open b=1"));
        assert_eq!(ev.get("tags"), Some(&json!([TRUNCATED])));
        assert!(header("audit: type=1400 audit(1733544604.123:456): apparmor=\"DENIED\"").is_ok());
        assert!(sniff(
            b"type=DAEMON_START msg=audit(1733544604.123:1): op=start\n"
        ));
        assert!(!sniff(b"a=1 b=2 c=3\n"));
    }
}
