//! Web server error logs: Apache httpd (2.2 and 2.4 `ErrorLogFormat`
//! default) and nginx, with the ModSecurity WAF messages Apache writes
//! there read as alerts.
//!
//! # Lines
//! - Apache: `[Wed Oct 11 14:32:52.123456 2000] [module:level] [pid P:tid T] [client A:p] AH00128: message`
//!   (2.2: `[Wed Oct 11 14:32:52 2000] [error] [client A] message`); every
//!   bracket after the time is optional, and a line starting at the level
//!   (`[error] [client A] …`) is read with the ingest time.
//! - nginx: `2024/05/01 10:00:00 [error] 80#12: *34 message, client: A, server: S, request: "GET / HTTP/1.1", host: "h"`.
//! - Times have no zone: read as UTC and tagged `mamori.timestamp_assumed_utc`.
//!
//! # Mapping
//! | field                            | ECS / Mamori |
//! |----------------------------------|--------------|
//! | time                             | `@timestamp` |
//! | level (`error`, `warn`, …)       | `log.level` |
//! | Apache module                    | `apache.error.module` |
//! | `pid`, `tid` (nginx `pid#tid`)    | `process.pid`, `process.thread.id` |
//! | `client A[:p]` / nginx `client: A` | `source.ip` (`source.address` when a name), `source.port` |
//! | Apache `AHnnnnn:`                | `error.code` |
//! | nginx `*N`                       | `nginx.error.connection_id` |
//! | nginx `server:`, `request:`, `host:`, `upstream:`, `referrer:` | `nginx.error.server`, `http.request.method` + `url.original` (+ parts) + `http.version`, `url.domain`, `nginx.error.upstream`, `http.request.referrer` |
//! | the message                      | `message` (nginx: without the trailing `, key: value` pairs) |
//!
//! ModSecurity (`ModSecurity: …` in an Apache message):
//!
//! | part                             | ECS / Mamori |
//! |----------------------------------|--------------|
//! | the text up to the first `[`     | `modsecurity.message`; `Access denied with code N …`: `event.action` = `access_denied`, `event.type` = `denied`, `http.response.status_code` = N; `Warning.`: `event.action` = `warning` |
//! | `[id "…"]`, `[msg "…"]`, `[rev]`, `[ver]` | `rule.id`, `rule.name`, `rule.version`, `rule.ruleset` |
//! | `[severity "…"]`, `[tag "…"]`…    | `modsecurity.severity`, `modsecurity.tags` (also `tags`), |
//! | `[data "…"]`, `[file]`, `[line]`, `[maturity]`, `[accuracy]` | `modsecurity.data`, `.file`, `.line`, `.maturity`, `.accuracy` |
//! | `[hostname "…"]`, `[uri "…"]`, `[unique_id "…"]` | `url.domain`, `url.path`, `http.request.id` |
//!
//! A ModSecurity warning or denial is `event.kind` = `alert`,
//! `event.category` = `intrusion_detection`, `web`; other lines are
//! `event.kind` = `event`, `event.category` = `web`, `event.type` = `error`.
//! `event.module` = `apache` / `nginx`, `event.dataset` = `apache.error` /
//! `nginx.error`.
//!
//! # Bad records
//! A line that is neither shape (its column and what was expected).

use std::io::BufRead;

use chrono::{DateTime, NaiveDateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use crate::fieldmap::{self, Stamp, set_ip, set_port, set_str};
use crate::linefmt::{self, Outcome};
use crate::netlog::{self, set_url};
use crate::record::{Item, ParseContext};
use crate::sniff;

/// Levels of both servers (Apache's `trace1`…`trace8` too).
const LEVELS: &[&str] = &[
    "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug",
];

fn is_level(s: &str) -> bool {
    LEVELS.contains(&s)
        || s.strip_prefix("trace")
            .is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit())
}

/// True when the first non-blank line is an Apache or nginx error line.
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    let first = head[start..].split(|&b| b == b'\n').next().unwrap_or_default();
    std::str::from_utf8(first).is_ok_and(|l| apache(l).is_some() || nginx(l).is_some())
}

/// Parse error log lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

fn line(text: &str, ctx: &ParseContext) -> Outcome {
    let mut ev = Event::new(&ctx.tenant, ctx.ingest_time, text);
    let time = if let Some(a) = apache(text) {
        map_apache(&mut ev, &a);
        a.time
    } else if let Some(n) = nginx(text) {
        map_nginx(&mut ev, &n);
        Some(n.time)
    } else {
        let at = text.len() - text.trim_start().len();
        return Outcome::bad(
            Some(at),
            "expected an Apache error line (`[Wed Oct 11 14:32:52 2000] [error] …`) or an nginx one \
             (`2024/05/01 10:00:00 [error] 80#12: …`)",
        );
    };
    let stamp = time.map(|time| Stamp {
        time,
        assumed_utc: true,
    });
    fieldmap::apply_time(&mut ev, stamp, ctx);
    fieldmap::add_related(&mut ev);
    Outcome::Event(Box::new(ev))
}

/// The parts of an Apache line.
struct Apache<'a> {
    time: Option<DateTime<Utc>>,
    module: Option<&'a str>,
    level: &'a str,
    pid: Option<&'a str>,
    tid: Option<&'a str>,
    client: Option<&'a str>,
    message: &'a str,
}

/// The `[…]` at the start of `s`, and the rest after it and its spaces.
fn bracket(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find(']')?;
    Some((&inner[..end], inner[end + 1..].trim_start()))
}

fn apache(text: &str) -> Option<Apache<'_>> {
    let mut rest = text.trim();
    let (first, after) = bracket(rest)?;
    let time = ["%a %b %d %H:%M:%S%.f %Y", "%a %b %e %H:%M:%S%.f %Y"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(first, f).ok())
        .map(|t| t.and_utc());
    if time.is_some() {
        rest = after;
    }
    let (level_part, after) = bracket(rest)?;
    let (module, level) = match level_part.rsplit_once(':') {
        Some((m, l)) => ((!m.is_empty()).then_some(m), l),
        None => (None, level_part),
    };
    if !is_level(level) {
        return None;
    }
    rest = after;
    let mut a = Apache {
        time,
        module,
        level,
        pid: None,
        tid: None,
        client: None,
        message: "",
    };
    while let Some((inner, after)) = bracket(rest) {
        if let Some(p) = inner.strip_prefix("pid ") {
            let (pid, tid) = p.split_once(":tid ").map_or((p, None), |(p, t)| (p, Some(t)));
            a.pid = Some(pid);
            a.tid = tid;
        } else if let Some(c) = inner
            .strip_prefix("client ")
            .or_else(|| inner.strip_prefix("remote "))
        {
            // ModSecurity repeats `[client A]` without the port: keep the first.
            a.client = a.client.or(Some(c));
        } else {
            break;
        }
        rest = after;
    }
    a.message = rest;
    Some(a)
}

fn map_apache(ev: &mut Event, a: &Apache<'_>) {
    ev.set("event.module", json!("apache"));
    ev.set("event.dataset", json!("apache.error"));
    ev.set("log.level", json!(a.level));
    if let Some(m) = a.module {
        set_str(ev, "apache.error.module", m);
    }
    set_number(ev, "process.pid", a.pid);
    set_number(ev, "process.thread.id", a.tid);
    if let Some(c) = a.client {
        client(ev, c);
    }
    let mut message = a.message;
    if let Some((code, rest)) = message.split_once(": ")
        && code.len() == 7
        && code.starts_with("AH")
        && code[2..].bytes().all(|b| b.is_ascii_digit())
    {
        ev.set("error.code", json!(code));
        message = rest;
    }
    set_str(ev, "message", message);
    match message.find("ModSecurity: ") {
        Some(at) => modsecurity(ev, &message[at + "ModSecurity: ".len()..]),
        None => plain(ev),
    }
}

fn plain(ev: &mut Event) {
    ev.set("event.kind", json!("event"));
    ev.set("event.category", json!(["web"]));
    ev.set("event.type", json!(["error"]));
}

/// `A`, `A:p`, `[v6]:p` of a client.
fn client(ev: &mut Event, c: &str) {
    let c = c.trim();
    if set_ip(ev, "source.ip", c) {
        return;
    }
    let (host, port) = netlog::split_host_port(c);
    if !set_ip(ev, "source.ip", host) {
        set_str(ev, "source.address", host);
    }
    if let Some(p) = port {
        ev.set("source.port", json!(p));
    }
}

fn set_number(ev: &mut Event, path: &str, v: Option<&str>) {
    if let Some(n) = v.and_then(|v| v.trim().parse::<u64>().ok()) {
        ev.set(path, json!(n));
    }
}

/// A ModSecurity message (the text after `ModSecurity: `).
fn modsecurity(ev: &mut Event, text: &str) {
    let head_end = text.find(" [").unwrap_or(text.len());
    let head = text[..head_end].trim();
    set_str(ev, "modsecurity.message", head);
    let alert = if let Some(code) = head.strip_prefix("Access denied with code ") {
        ev.set("event.action", json!("access_denied"));
        ev.set("event.type", json!(["denied"]));
        let digits: String = code.chars().take_while(char::is_ascii_digit).collect();
        set_port(ev, "http.response.status_code", &digits);
        true
    } else if head.starts_with("Warning.") {
        ev.set("event.action", json!("warning"));
        ev.set("event.type", json!(["info"]));
        true
    } else {
        false
    };
    if alert {
        ev.set("event.kind", json!("alert"));
        ev.set("event.category", json!(["intrusion_detection", "web"]));
    } else {
        plain(ev);
    }
    let mut tags = Vec::new();
    let mut rest = &text[head_end..];
    while let Some(open) = rest.find(" [") {
        rest = &rest[open + 2..];
        let Some((name, after)) = rest.split_once(" \"") else {
            break;
        };
        if !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        // Values escape `"` as `\"`.
        let mut end = None;
        let b = after.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' if b.get(i + 1) == Some(&b']') => {
                    end = Some(i);
                    break;
                }
                _ => i += 1,
            }
        }
        let Some(end) = end else { break };
        let value = after[..end].replace("\\\"", "\"");
        rest = &after[end + 2..];
        let path = match name {
            "id" => "rule.id",
            "msg" => "rule.name",
            "rev" => "rule.version",
            "ver" => "rule.ruleset",
            "hostname" => "url.domain",
            "uri" => "url.path",
            "unique_id" => "http.request.id",
            "tag" => {
                tags.push(value);
                continue;
            }
            "severity" | "data" | "file" | "line" | "maturity" | "accuracy" => {
                set_str(ev, &format!("modsecurity.{name}"), &value);
                continue;
            }
            _ => {
                set_str(ev, &format!("modsecurity.{}", fieldmap::safe_key(name)), &value);
                continue;
            }
        };
        set_str(ev, path, &value);
    }
    if !tags.is_empty() {
        ev.set("modsecurity.tags", json!(tags));
        for t in &tags {
            ev.add_tag(t);
        }
    }
}

/// The parts of an nginx line.
struct Nginx<'a> {
    time: DateTime<Utc>,
    level: &'a str,
    pid: &'a str,
    tid: Option<&'a str>,
    connection: Option<&'a str>,
    message: &'a str,
}

fn nginx(text: &str) -> Option<Nginx<'_>> {
    let text = text.trim();
    let stamp = text.get(..19)?;
    let time = NaiveDateTime::parse_from_str(stamp, "%Y/%m/%d %H:%M:%S")
        .ok()?
        .and_utc();
    let (level, rest) = bracket(text[19..].trim_start())?;
    if !is_level(level) {
        return None;
    }
    let (proc_part, rest) = rest.split_once(": ").unwrap_or((rest, ""));
    let (pid, tid) = proc_part
        .split_once('#')
        .map_or((proc_part, None), |(p, t)| (p, Some(t)));
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (connection, message) = match rest.strip_prefix('*').and_then(|r| r.split_once(' ')) {
        Some((n, m)) if n.bytes().all(|b| b.is_ascii_digit()) => (Some(n), m),
        _ => (None, rest),
    };
    Some(Nginx {
        time,
        level,
        pid,
        tid,
        connection,
        message,
    })
}

fn map_nginx(ev: &mut Event, n: &Nginx<'_>) {
    ev.set("event.module", json!("nginx"));
    ev.set("event.dataset", json!("nginx.error"));
    ev.set("log.level", json!(n.level));
    plain(ev);
    set_number(ev, "process.pid", Some(n.pid));
    set_number(ev, "process.thread.id", n.tid);
    set_number(ev, "nginx.error.connection_id", n.connection);
    // `message, client: A, server: S, request: "…", host: "h"`.
    let mut message = n.message;
    for key in [
        ", client: ",
        ", server: ",
        ", request: ",
        ", upstream: ",
        ", host: ",
        ", referrer: ",
    ] {
        let Some(at) = message.find(key) else { continue };
        let tail = &message[at..];
        message = &message[..at];
        for part in split_pairs(tail) {
            let Some((k, v)) = part.split_once(": ") else {
                continue;
            };
            let v = v.trim().trim_matches('"');
            match k.trim() {
                "client" => client(ev, v),
                "server" => {
                    set_str(ev, "nginx.error.server", v);
                }
                "request" => match crate::weblog::split_request(v) {
                    Some(r) => {
                        ev.set("http.request.method", json!(r.method));
                        set_url(ev, r.target);
                        if let Some(version) = r.version {
                            ev.set("http.version", json!(version));
                        }
                    }
                    None => {
                        set_str(ev, "nginx.error.request", v);
                    }
                },
                "upstream" => {
                    set_str(ev, "nginx.error.upstream", v);
                }
                "host" => {
                    set_str(ev, "url.domain", v);
                }
                "referrer" => {
                    set_str(ev, "http.request.referrer", v);
                }
                _ => {}
            }
        }
        break;
    }
    set_str(ev, "message", message);
}

/// `, k: v, k: "v, with comma"` → the `k: v` parts.
fn split_pairs(tail: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let b = tail.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                parts.push(&tail[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tail[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let a = apache("[Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:8080] AH00037: Symbolic link not allowed").unwrap();
        assert_eq!(
            (a.module, a.level, a.pid, a.tid),
            (Some("core"), "error", Some("35708"), Some("4328636416"))
        );
        assert_eq!(a.client, Some("72.15.99.187:8080"));
        assert_eq!(a.time.unwrap().to_rfc3339(), "2000-10-11T14:32:52.123456+00:00");
        let a = apache("[error] [client 80.230.208.105] Directory index forbidden by rule: /home/").unwrap();
        assert!(a.time.is_none());
        assert!(apache("[Wed Oct 11 14:32:52 2000] [bogus] x").is_none());
        let n = nginx("2015/01/08 11:31:23 [error] 80#2: *7 open() failed (2: No such file or directory), client: 10.0.0.1, server: a, request: \"GET /x HTTP/1.1\", host: \"a.example\"").unwrap();
        assert_eq!(
            (n.level, n.pid, n.tid, n.connection),
            ("error", "80", Some("2"), Some("7"))
        );
        assert!(nginx("2014/12/30 06:07:37 [yadda] 80:2 yadda yadda").is_none());
        assert_eq!(split_pairs(", a: 1, b: \"x, y\""), ["a: 1", "b: \"x, y\""]);
    }
}
