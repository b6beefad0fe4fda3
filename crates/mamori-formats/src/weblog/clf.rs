//! Apache/nginx common and combined log lines (the table is in the module above).

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use mamori_model::Event;
use serde_json::json;

use super::{Token, TokenKind, split_request, tokenize};
use crate::lines::Line;
use crate::netlog::{self, Ids, LineParser, set_host, set_text};
use crate::record::{Item, ParseContext};

/// The fields of one line, checked but not yet mapped.
struct Fields<'a> {
    vhost: Option<&'a str>,
    host: &'a str,
    user: &'a str,
    time: DateTime<Utc>,
    request: &'a str,
    status: Option<u64>,
    bytes: Option<u64>,
    referrer: Option<&'a str>,
    user_agent: Option<&'a str>,
}

/// Why a line is not a common/combined line: (0-based column, reason).
type Failure = (usize, String);

fn fields<'a>(tokens: &'a [Token<'a>]) -> Result<Fields<'a>, Failure> {
    // A leading `vhost[:port]` shifts everything by one.
    let shift = match (tokens.get(3), tokens.get(4)) {
        (Some(t), _) if t.kind == TokenKind::Bracketed => 0,
        (_, Some(t)) if t.kind == TokenKind::Bracketed => 1,
        _ => {
            let column = tokens.last().map_or(0, |t| t.column);
            return Err((
                column,
                "expected `host ident user [time] \"request\" status bytes`".into(),
            ));
        }
    };
    let at = |i: usize| tokens.get(i + shift);
    let (Some(time), Some(request), Some(status), Some(bytes)) = (at(3), at(4), at(5), at(6)) else {
        let column = tokens.last().map_or(0, |t| t.column);
        return Err((
            column,
            "too few fields: expected `host ident user [time] \"request\" status bytes`".into(),
        ));
    };
    for t in &tokens[..3 + shift] {
        if t.kind == TokenKind::Bracketed {
            return Err((t.column, "unexpected [bracketed] field before the time".into()));
        }
    }
    if request.kind != TokenKind::Quoted {
        return Err((request.column, "the request must be a \"quoted\" field".into()));
    }
    let parsed_time =
        clf_time(&time.text).ok_or_else(|| (time.column, format!("bad time [{}]", time.text)))?;
    let status_value = number(status, "status")?;
    if status_value.is_some_and(|s| s > 999) {
        return Err((status.column, format!("bad status {:?}", status.text)));
    }
    let bytes_value = number(bytes, "byte count")?;
    let quoted = |i: usize| at(i).filter(|t| t.kind == TokenKind::Quoted).map(|t| &*t.text);
    Ok(Fields {
        vhost: (shift == 1).then(|| &*tokens[0].text),
        host: &tokens[shift].text,
        user: &tokens[shift + 2].text,
        time: parsed_time,
        request: &request.text,
        status: status_value,
        bytes: bytes_value,
        referrer: quoted(7),
        user_agent: quoted(8).filter(|_| quoted(7).is_some()),
    })
}

/// A `%t` time: `10/Oct/2000:13:55:36 -0700`, also with a fraction of a
/// second, in UTC.
fn clf_time(s: &str) -> Option<DateTime<Utc>> {
    clf_time_fast(s).or_else(|| {
        DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
            .or_else(|_| DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S%.f %z"))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// [`clf_time`] for the usual shape, `dd/Mon/yyyy:HH:MM:SS ±hhmm` exactly
/// (month names as Apache writes them, no leap second); `None` for
/// anything else, which chrono then reads.
fn clf_time_fast(s: &str) -> Option<DateTime<Utc>> {
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let b: &[u8; 26] = s.as_bytes().try_into().ok()?;
    if b[2] != b'/' || b[6] != b'/' || b[11] != b':' || b[14] != b':' || b[17] != b':' || b[20] != b' ' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let month = MONTHS.iter().position(|m| **m == b[3..6])? as u32 + 1;
    let (day, year) = (num(0, 2)?, num(7, 11)?);
    let (hour, minute, second) = (num(12, 14)?, num(15, 17)?, num(18, 20)?);
    let (zh, zm) = (num(22, 24)?, num(24, 26)?);
    let sign = match b[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if second > 59 || zh > 23 || zm > 59 {
        return None;
    }
    let offset = FixedOffset::east_opt(sign * (zh * 3600 + zm * 60) as i32)?;
    let naive = NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_opt(hour, minute, second)?;
    Some(naive.and_local_timezone(offset).single()?.with_timezone(&Utc))
}

/// A bare number, or `-` (none).
fn number(t: &Token, what: &str) -> Result<Option<u64>, Failure> {
    if t.kind == TokenKind::Bare && t.text == "-" {
        return Ok(None);
    }
    match t.text.parse::<u64>() {
        Ok(n) if t.kind == TokenKind::Bare => Ok(Some(n)),
        _ => Err((t.column, format!("bad {what} {:?}", t.text))),
    }
}

/// Quotes tried as the end of a request with unescaped quotes in it.
const REQUEST_ENDS: usize = 64;

/// The tokens of a common/combined line, checked by [`fields`].
///
/// Some servers (Tomcat) write the request without escaping its quotes
/// (`"GET /a?q="><x> HTTP/1.1" 404 997`). When the plain reading fails, the
/// request is taken to end at the first later quote after which the rest of
/// the line reads as status, bytes and the optional fields, as Elastic's
/// grok patterns do. At most [`REQUEST_ENDS`] such quotes are tried, so that
/// a line of many quotes is not read once per quote.
fn tokens_of(text: &str) -> Result<Vec<Token<'_>>, Failure> {
    let first = tokenize(text).and_then(|t| fields(&t).map(|_| ()).map(|()| t));
    let Err(failure) = first else { return first };
    let Some(open) = text.find("] \"").map(|i| i + 2) else {
        return Err(failure);
    };
    let Ok(mut before) = tokenize(&text[..open]) else {
        return Err(failure);
    };
    let candidates = text[open + 1..]
        .match_indices('"')
        .filter(|(i, _)| text[open + 1 + i + 1..].starts_with(' '))
        .take(REQUEST_ENDS);
    for (i, _) in candidates {
        let close = open + 1 + i;
        let rest = &text[close + 1..];
        let Ok(after) = tokenize(rest) else { continue };
        let mut tokens = std::mem::take(&mut before);
        tokens.push(Token {
            text: Cow::Borrowed(&text[open + 1..close]),
            kind: TokenKind::Quoted,
            column: open,
        });
        let n = tokens.len();
        tokens.extend(after.into_iter().map(|t| Token {
            column: t.column + close + 1,
            ..t
        }));
        if fields(&tokens).is_ok() {
            return Ok(tokens);
        }
        tokens.truncate(n - 1);
        before = tokens;
    }
    Err(failure)
}

/// True when `line` is a common/combined line.
pub(super) fn sniff_line(line: String) -> bool {
    tokens_of(&line).is_ok_and(|t| fields(&t).is_ok_and(|f| f.status.is_some()))
}

#[derive(Default)]
pub(super) struct Parser {
    ids: Ids,
}

impl LineParser for Parser {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        let content = line.content();
        if content.trim_ascii().is_empty() {
            return None;
        }
        let text = String::from_utf8_lossy(content);
        let mapped = tokens_of(&text).and_then(|tokens| fields(&tokens).map(|f| self.map(&f, &text, ctx)));
        Some(match mapped {
            Ok(ev) => Item::Event(Box::new(ev)),
            Err((column, reason)) => netlog::bad(ctx, line, Some(column as u64 + 1), reason),
        })
    }
}

impl Parser {
    fn map(&mut self, f: &Fields<'_>, original: &str, ctx: &ParseContext) -> Event {
        let mut ev = netlog::new_event(ctx, &mut self.ids, Some(f.time), original);
        fill(&mut ev, f);
        ev
    }
}

/// Map `msg` onto `ev` when it is a common/combined line (a web server
/// logging to syslog, as nginx's `access_log syslog:` does); its time.
pub(crate) fn map_message(ev: &mut Event, msg: &str) -> Option<DateTime<Utc>> {
    // Cheap test first: every such line has `[time] "request`.
    if !msg.contains("] \"") {
        return None;
    }
    let tokens = tokens_of(msg).ok()?;
    let f = fields(&tokens).ok().filter(|f| f.status.is_some())?;
    fill(ev, &f);
    Some(f.time)
}

/// The mapping of the module's table.
fn fill(ev: &mut Event, f: &Fields<'_>) {
    ev.set("event.kind", json!("event"));
    ev.set("event.category", json!(["web"]));
    ev.set("event.type", json!(["access"]));
    ev.set("event.module", json!("weblog"));
    ev.set("event.dataset", json!("web.access"));
    if let Some(vhost) = f.vhost {
        let (host, port) = netlog::split_host_port(vhost);
        set_text(ev, "url.domain", host);
        if let Some(port) = port {
            ev.set("destination.port", json!(port));
        }
    }
    set_host(ev, "source", f.host);
    set_text(ev, "user.name", f.user);
    if f.request != "-" && !f.request.is_empty() {
        match split_request(f.request) {
            Some(r) => {
                ev.set("http.request.method", json!(r.method));
                netlog::set_url(ev, r.target);
                if let Some(v) = r.version {
                    ev.set("http.version", json!(v));
                }
            }
            None => ev.set("weblog.request", json!(f.request)),
        }
    }
    if let Some(status) = f.status {
        ev.set("http.response.status_code", json!(status));
        ev.set("event.outcome", json!(netlog::http_outcome(status)));
    }
    if let Some(bytes) = f.bytes {
        ev.set("http.response.body.bytes", json!(bytes));
    }
    if let Some(r) = f.referrer {
        set_text(ev, "http.request.referrer", r);
    }
    if let Some(ua) = f.user_agent {
        set_text(ev, "user_agent.original", ua);
    }
    netlog::set_related_ip(ev);
    // `user.name` as set above.
    if !f.user.is_empty() && f.user != "-" {
        ev.set("related.user", json!([f.user]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrono(s: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
            .or_else(|_| DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S%.f %z"))
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The fast reading agrees with chrono's on every input it accepts.
    #[test]
    fn clf_time_fast_path_agrees_with_chrono() {
        let base = [
            "10/Oct/2000:13:55:36 -0700",
            "29/Feb/2024:00:00:00 +0000",
            "31/Dec/1999:23:59:59 +2359",
            "01/Jan/0001:00:00:00 -2359",
            "10/Oct/2000:13:55:36.250 -0700",
            "10/oct/2000:13:55:60 +0100",
        ];
        for s in &base[..4] {
            assert!(clf_time_fast(s).is_some(), "{s}");
            assert_eq!(clf_time(s), chrono(s), "{s}");
        }
        assert_eq!(clf_time(base[4]), chrono(base[4]));
        assert!(clf_time(base[4]).is_some());
        crate::time::mutations(
            &base,
            b"0123456789/:+- .JanFebOct",
            0x2545_f491_4f6c_dd1du64,
            |s| {
                assert_eq!(clf_time(s), chrono(s), "{s}");
            },
        );
    }
}
