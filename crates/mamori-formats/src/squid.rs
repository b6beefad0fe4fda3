//! Squid proxy access logs in Squid's native format (`logformat squid`,
//! the default): `time elapsed client code/status bytes method URL user
//! hierarchy/peer type`, space-separated (runs of spaces align columns).
//!
//! | column                         | ECS / Mamori |
//! |--------------------------------|--------------|
//! | time (`1140701044.525`, Unix seconds) | `@timestamp` (UTC) |
//! | elapsed (ms)                   | `event.duration` (ns) |
//! | client address                 | `source.ip` (`source.address` when a name) |
//! | result code (`TCP_DENIED`, `TCP_MISS`, …) | `squid.result_code`; `event.action` (lower case) |
//! | HTTP status                    | `http.response.status_code`; `event.outcome` = `success` below 400, else `failure` |
//! | bytes (sent to the client)     | `http.response.bytes` |
//! | method                         | `http.request.method` |
//! | URL (`CONNECT`: `host:port`)   | `url.original` and its parts (`url.domain`, `url.port` for `CONNECT`) |
//! | user (ident or proxy login, `-` = none) | `user.name` |
//! | hierarchy code / peer          | `squid.hierarchy_code`; the peer `destination.ip` / `destination.address` (unless `-`) |
//! | content type                   | `http.response.mime_type` (unless `-`) |
//! | any further columns            | `squid.extra` (a list) |
//!
//! `event.kind` = `event`, `event.category` = `web`, `network`,
//! `event.type` = `access` (+ `denied` for `…DENIED…` results),
//! `event.module` = `squid`, `event.dataset` = `squid.access`,
//! `related.ip`, `related.user`.
//!
//! # Bad records
//! A line with fewer than the ten columns, an unreadable time, elapsed,
//! `code/status` or byte count: its line, column and reason.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use crate::fieldmap::{self, Stamp, set_ip, set_str};
use crate::linefmt::{self, Outcome};
use crate::netlog::{self, set_url};
use crate::record::{Item, ParseContext};
use crate::sniff;

/// True when the first non-blank line is a native Squid access line.
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    let first = head[start..].split(|&b| b == b'\n').next().unwrap_or_default();
    std::str::from_utf8(first).is_ok_and(|l| fields(l).is_ok())
}

/// Parse Squid access lines, streaming.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    linefmt::parse_lines(input, ctx, line)
}

/// The columns of one line.
struct Fields<'a> {
    time: DateTime<Utc>,
    elapsed_ms: u64,
    client: &'a str,
    code: &'a str,
    status: u16,
    bytes: u64,
    method: &'a str,
    url: &'a str,
    user: &'a str,
    hierarchy: &'a str,
    peer: &'a str,
    mime: &'a str,
    extra: Vec<&'a str>,
}

/// (byte index, reason) of a line that is not a Squid line.
type Failure = (usize, String);

fn fields(text: &str) -> Result<Fields<'_>, Failure> {
    let cols: Vec<(usize, &str)> = text
        .split(' ')
        .scan(0usize, |at, w| {
            let start = *at;
            *at += w.len() + 1;
            Some((start, w))
        })
        .filter(|(_, w)| !w.is_empty())
        .collect();
    if cols.len() < 10 {
        let at = cols.last().map_or(0, |(i, _)| *i);
        return Err((
            at,
            format!(
                "expected the 10 columns of Squid's native format (time elapsed client code/status bytes method URL user hierarchy/peer type), found {}",
                cols.len()
            ),
        ));
    }
    let time =
        netlog::epoch_text(cols[0].1).ok_or_else(|| (cols[0].0, format!("bad time {:?}", cols[0].1)))?;
    let elapsed_ms = cols[1]
        .1
        .parse()
        .map_err(|_| (cols[1].0, format!("bad elapsed time {:?}", cols[1].1)))?;
    let bad_code = || (cols[3].0, format!("expected CODE/STATUS, found {:?}", cols[3].1));
    let (code, status) = cols[3].1.split_once('/').ok_or_else(bad_code)?;
    let status = status.parse::<u16>().map_err(|_| bad_code())?;
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
        return Err(bad_code());
    }
    let bytes = cols[4]
        .1
        .parse()
        .map_err(|_| (cols[4].0, format!("bad byte count {:?}", cols[4].1)))?;
    let (hierarchy, peer) = cols[8].1.split_once('/').unwrap_or((cols[8].1, "-"));
    Ok(Fields {
        time,
        elapsed_ms,
        client: cols[2].1,
        code,
        status,
        bytes,
        method: cols[5].1,
        url: cols[6].1,
        user: cols[7].1,
        hierarchy,
        peer,
        mime: cols[9].1,
        extra: cols[10..].iter().map(|(_, w)| *w).collect(),
    })
}

fn line(text: &str, ctx: &ParseContext) -> Outcome {
    let f = match fields(text) {
        Ok(f) => f,
        Err((at, reason)) => return Outcome::bad(Some(at), reason),
    };
    let mut ev = Event::new(&ctx.tenant, f.time, text);
    ev.set("event.kind", json!("event"));
    ev.set("event.category", json!(["web", "network"]));
    let denied = f.code.contains("DENIED");
    let types: &[&str] = if denied {
        &["access", "denied"]
    } else {
        &["access"]
    };
    ev.set("event.type", json!(types));
    ev.set("event.module", json!("squid"));
    ev.set("event.dataset", json!("squid.access"));
    ev.set("event.duration", json!(f.elapsed_ms.saturating_mul(1_000_000)));
    if !set_ip(&mut ev, "source.ip", f.client) {
        set_str(&mut ev, "source.address", f.client);
    }
    ev.set("squid.result_code", json!(f.code));
    ev.set("event.action", json!(f.code.to_ascii_lowercase()));
    if f.status > 0 {
        ev.set("http.response.status_code", json!(f.status));
        ev.set("event.outcome", json!(netlog::http_outcome(u64::from(f.status))));
    }
    ev.set("http.response.bytes", json!(f.bytes));
    set_str(&mut ev, "http.request.method", f.method);
    if f.method.eq_ignore_ascii_case("CONNECT") && !f.url.contains("://") {
        set_str(&mut ev, "url.original", f.url);
        let (host, port) = netlog::split_host_port(f.url);
        set_str(&mut ev, "url.domain", host);
        if let Some(port) = port {
            ev.set("url.port", json!(port));
        }
    } else {
        set_url(&mut ev, f.url);
    }
    set_str(&mut ev, "user.name", f.user);
    set_str(&mut ev, "squid.hierarchy_code", f.hierarchy);
    if !set_ip(&mut ev, "destination.ip", f.peer) {
        set_str(&mut ev, "destination.address", f.peer);
    }
    set_str(&mut ev, "http.response.mime_type", f.mime);
    if !f.extra.is_empty() {
        ev.set("squid.extra", json!(f.extra));
    }
    let stamp = Stamp {
        time: f.time,
        assumed_utc: false,
    };
    fieldmap::apply_time(&mut ev, Some(stamp), ctx);
    fieldmap::add_related(&mut ev);
    Outcome::Event(Box::new(ev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_failures() {
        let f = fields("1140701230.827    781 192.168.1.210 TCP_DENIED/407 1785 GET http://www.example.net/a?b=1 bob NONE/- text/html").unwrap();
        assert_eq!(
            (f.code, f.status, f.bytes, f.elapsed_ms),
            ("TCP_DENIED", 407, 1785, 781)
        );
        assert_eq!((f.user, f.hierarchy, f.peer), ("bob", "NONE", "-"));
        assert_eq!(f.time.to_rfc3339(), "2006-02-23T13:27:10.827+00:00");
        let e = |t: &str| fields(t).err().unwrap();
        assert!(e("1 2 3").1.starts_with("expected the 10 columns"));
        assert_eq!(e("x 1 10.0.0.1 TCP_MISS/200 1 GET u - NONE/- -").0, 0);
        assert_eq!(e("1.5 1 10.0.0.1 TCP_MISS200 1 GET u - NONE/- -").0, 15);
        assert_eq!(
            e("1.5 1 10.0.0.1 TCP_MISS/200 x GET u - NONE/- -").1,
            "bad byte count \"x\""
        );
    }
}
