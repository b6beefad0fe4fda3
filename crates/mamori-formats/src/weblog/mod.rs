//! Web access logs, mapped to ECS as Elastic's Apache, Nginx, IIS and AWS
//! (ELB, CloudFront) integrations do.
//!
//! # Inputs and formats
//! | format (CLI name) | input | `event.dataset` |
//! |---|---|---|
//! | `weblog` | Apache/nginx common and combined log (`%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-agent}i"`), with trailing extra fields tolerated and a leading `vhost[:port]` accepted | `web.access` (Apache and nginx cannot be told apart) |
//! | `iis` | W3C extended log: `#Software`, `#Version`, `#Date` and other `#` lines skipped, `#Fields:` defines the columns (again whenever it reappears) | `iis.access` |
//! | `cloudfront` | CloudFront standard log: W3C extended with tab-separated values and `x-edge-…` fields | `aws.cloudfront` |
//! | `alb` | AWS Application Load Balancer access log (and Classic ELB, whose lines start with the time) | `aws.elb` |
//!
//! Every event has `event.kind` = `event`, `event.category` = `["web"]`,
//! `event.type` = `["access"]`, `event.original` = the line, `related.ip`
//! (source and destination addresses) and `related.user` (`user.name`). Lines are read
//! as lossy UTF-8 (attack traffic is often not UTF-8). Blank lines are
//! skipped. A line whose structure is broken (missing or unterminated quoted
//! or bracketed field, too few fields, field count different from
//! `#Fields`, unreadable time, non-numeric status or byte count) is a bad
//! record with its line and byte offset. A well-formed line whose request
//! is not `METHOD target [HTTP/x]` (binary garbage sent by scanners) is kept:
//! the request text goes to `weblog.request` and no method or URL is set.
//!
//! `event.id` is derived from tenant and line; a line repeated in the same
//! input gets an id that includes its occurrence number, so that identical
//! requests in the same second are not de-duplicated away.
//!
//! # Common and combined (`weblog`)
//! | field | ECS |
//! |---|---|
//! | `vhost[:port]` (optional, first) | `url.domain`, `destination.port` |
//! | `%h` | `source.address`; `source.ip` when an address, else `source.domain` |
//! | `%u` (`-` = none) | `user.name` |
//! | `%t` (`[10/Oct/2000:13:55:36 -0700]`) | `@timestamp` (UTC) |
//! | `%r` method / target / protocol | `http.request.method`, `url.original` (+ `url.path`, `url.query`, `url.extension`, and `url.scheme`, `url.domain`, `url.port` for absolute targets), `http.version` |
//! | `%>s` | `http.response.status_code`; `event.outcome` = `success` below 400, else `failure` |
//! | `%b` (`-` = absent) | `http.response.body.bytes` |
//! | `%{Referer}i` (`-` = none) | `http.request.referrer` |
//! | `%{User-agent}i` (`-` = none) | `user_agent.original` |
//! | — | `event.dataset` = `web.access`, `event.module` = `weblog` |
//!
//! # W3C extended (`iis`, `cloudfront`)
//! Fields are named by the `#Fields:` line; `-` means none.
//!
//! | W3C field | ECS |
//! |---|---|
//! | `date` + `time` (UTC; `#Date` supplies a missing `date`) | `@timestamp` |
//! | `c-ip`, `c-port` | `source.ip` / `source.address`, `source.port` |
//! | `s-ip`, `s-port` | `destination.ip` / `destination.address`, `destination.port` |
//! | `cs-method` | `http.request.method` |
//! | `cs-uri-stem`, `cs-uri-query` | `url.path`, `url.query`, `url.original` (= stem`?`query), `url.extension` |
//! | `cs-username` | `user.name` |
//! | `cs(User-Agent)` (IIS `+` → space; CloudFront %-decoded) | `user_agent.original` |
//! | `cs(Referer)` (CloudFront %-decoded) | `http.request.referrer` |
//! | `sc-status` | `http.response.status_code`, `event.outcome` |
//! | `time-taken` (IIS: ms, CloudFront: s) | `event.duration` (ns) |
//! | `sc-bytes`, `cs-bytes` | IIS: `http.response.body.bytes`, `http.request.body.bytes`; CloudFront: `http.response.bytes`, `http.request.bytes` |
//! | `sc-content-len`, `sc-content-type` (CloudFront) | `http.response.body.bytes`, `http.response.mime_type` |
//! | `cs-version`, `cs-protocol-version` | `http.version` |
//! | `cs-host`, `cs(Host)` (IIS) / `x-host-header` (CloudFront) | `url.domain` |
//! | `cs(Host)` (CloudFront) | `aws.cloudfront.domain` |
//! | `cs-protocol` | `url.scheme` |
//! | `s-computername` | `host.name` |
//! | `ssl-protocol`, `ssl-cipher` | `tls.version_protocol` + `tls.version`, `tls.cipher` |
//! | `x-forwarded-for` | `network.forwarded_ip` |
//! | `x-edge-request-id` | `http.request.id`, `aws.cloudfront.edge_request_id` |
//! | `sc-substatus`, `sc-win32-status`, `s-sitename` | `iis.access.sub_status`, `.win32_status`, `.site_name` |
//! | any other field | `iis.access.<name>` / `aws.cloudfront.<name>` (lowercase, `-` and `()` → `_`, e.g. `x-edge-location` → `edge_location`) |
//! | — | `event.dataset` = `iis.access` (`event.module` = `iis`) or `aws.cloudfront` (`event.module` = `aws`, `cloud.provider` = `aws`) |
//!
//! # ALB (`alb`)
//! Space-separated, some fields quoted, in the documented order; fields
//! added after the known ones are tolerated. Classic ELB lines (no `type`,
//! first field is the time) have the first 15 fields only.
//!
//! | ALB field | ECS |
//! |---|---|
//! | `type` | `aws.elb.protocol` (`http`, `https`, `h2`, `grpcs`, `ws`, `wss`); `aws.elb.type` = `http` |
//! | `time` | `@timestamp`, `event.end` |
//! | `elb` | `aws.elb.name` |
//! | `client:port` | `source.ip`, `source.port` |
//! | `target:port` (`-` = none) | `destination.ip`, `destination.port` |
//! | `request_processing_time`, `target_processing_time`, `response_processing_time` (`-1` = none) | `aws.elb.request_processing_time.sec`, `.backend_processing_time.sec`, `.response_processing_time.sec` |
//! | `elb_status_code` | `http.response.status_code`, `event.outcome` |
//! | `target_status_code` | `aws.elb.backend.http.response.status_code` |
//! | `received_bytes`, `sent_bytes` | `http.request.body.bytes`, `http.response.body.bytes` |
//! | `"request"` | `http.request.method`, `url.original` + parts (`url.scheme`, `url.domain`, `url.port`, `url.path`, `url.query`), `http.version` |
//! | `"user_agent"` | `user_agent.original` |
//! | `ssl_cipher`, `ssl_protocol` | `tls.cipher`, `tls.version_protocol` + `tls.version` |
//! | `target_group_arn` | `aws.elb.target_group.arn` |
//! | `"trace_id"` | `aws.elb.trace_id` |
//! | `"domain_name"` (SNI) | `tls.client.server_name` |
//! | `"chosen_cert_arn"` | `aws.elb.chosen_cert.arn` |
//! | `matched_rule_priority` | `aws.elb.matched_rule_priority` |
//! | `request_creation_time` | `event.start`; `event.duration` = time − request_creation_time |
//! | `"actions_executed"` (comma list) | `aws.elb.action_executed` (array) |
//! | `"redirect_url"`, `"error_reason"` | `aws.elb.redirect_url`, `aws.elb.error.reason` |
//! | `"target:port_list"`, `"target_status_code_list"` (space lists) | `aws.elb.target_port`, `aws.elb.target_status_code` (arrays) |
//! | `"classification"`, `"classification_reason"`, `conn_trace_id` | `aws.elb.classification`, `.classification_reason`, `.connection_trace_id` |
//! | — | `event.dataset` = `aws.elb`, `event.module` = `aws`, `cloud.provider` = `aws` |

mod alb;
pub(crate) mod clf;
mod w3c;

use std::borrow::Cow;
use std::io::BufRead;

use crate::netlog::LineItems;
use crate::record::{Item, ParseContext};

/// True when the first non-blank line of `head` is a common/combined access log line.
pub fn sniff(head: &[u8]) -> bool {
    first_line(head).is_some_and(clf::sniff_line)
}

/// Parse a common/combined access log.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, clf::Parser::default(), ctx)
}

/// True when `head` is a W3C extended log that is not CloudFront's (IIS and others).
pub fn sniff_iis(head: &[u8]) -> bool {
    w3c::sniff(head) == Some(false)
}

/// True when `head` is a CloudFront standard log.
pub fn sniff_cloudfront(head: &[u8]) -> bool {
    w3c::sniff(head) == Some(true)
}

/// Parse a W3C extended log (IIS, CloudFront; the dataset follows the fields).
pub fn parse_w3c(
    input: Box<dyn BufRead + Send>,
    ctx: &ParseContext,
) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, w3c::Parser::default(), ctx)
}

/// True when the first non-blank line of `head` is an ALB (or Classic ELB) access log line.
pub fn sniff_alb(head: &[u8]) -> bool {
    first_line(head).is_some_and(alb::sniff_line)
}

/// Parse an ALB (or Classic ELB) access log.
pub fn parse_alb(
    input: Box<dyn BufRead + Send>,
    ctx: &ParseContext,
) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, alb::Parser::default(), ctx)
}

/// The first non-blank line of the head (after a BOM), as text: a complete
/// line, or the last one when the head is the whole input.
fn first_line(head: &[u8]) -> Option<String> {
    let whole = head.len() < crate::sniff::HEAD_LEN;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut rest = head;
    loop {
        let end = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => end,
            None if whole && !rest.is_empty() => rest.len(),
            None => return None,
        };
        let line = rest[..end].strip_suffix(b"\r").unwrap_or(&rest[..end]);
        if !line.trim_ascii().is_empty() {
            return Some(String::from_utf8_lossy(line).into_owned());
        }
        rest = rest.get(end + 1..)?;
    }
}

/// A field of a space-separated line: bare, `"quoted"` or `[bracketed]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    /// The text, without quotes or brackets; `\"` and `\\` unescaped in quoted fields.
    pub text: Cow<'a, str>,
    /// How the field was written.
    pub kind: TokenKind,
    /// 0-based byte column where the field starts.
    pub column: usize,
}

/// How a [`Token`] was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Bare,
    Quoted,
    Bracketed,
}

/// Split a line into space-separated tokens, honouring quotes and brackets.
/// Err: (0-based column, reason) for an unterminated quote or bracket.
pub(crate) fn tokenize(line: &str) -> Result<Vec<Token<'_>>, (usize, String)> {
    let b = line.as_bytes();
    let mut out = Vec::with_capacity(12);
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        match b[i] {
            b'"' => {
                let (text, end) =
                    quoted(line, i + 1).ok_or((start, "unterminated quoted field".to_string()))?;
                out.push(Token {
                    text,
                    kind: TokenKind::Quoted,
                    column: start,
                });
                i = end;
            }
            b'[' => {
                let Some(end) = memchr::memchr(b']', &b[i..]) else {
                    return Err((start, "unterminated [bracketed] field".into()));
                };
                out.push(Token {
                    text: Cow::Borrowed(&line[i + 1..i + end]),
                    kind: TokenKind::Bracketed,
                    column: start,
                });
                i += end + 1;
            }
            _ => {
                while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
                    i += 1;
                }
                out.push(Token {
                    text: Cow::Borrowed(&line[start..i]),
                    kind: TokenKind::Bare,
                    column: start,
                });
            }
        }
    }
    Ok(out)
}

/// The text of a quoted field whose first byte is at `from` (after the
/// opening quote), with `\"` and `\\` unescaped, and the index after the
/// closing quote; `None` when the quote is not closed.
fn quoted(line: &str, from: usize) -> Option<(Cow<'_, str>, usize)> {
    let b = line.as_bytes();
    let close = from + memchr::memchr(b'"', &b[from..])?;
    if memchr::memchr(b'\\', &b[from..close]).is_none() {
        return Some((Cow::Borrowed(&line[from..close]), close + 1));
    }
    // Escapes: unescape byte by byte (a `\"` does not close the field).
    let mut text = Vec::new();
    let mut i = from;
    loop {
        match b.get(i) {
            None => return None,
            Some(b'\\') if matches!(b.get(i + 1), Some(b'"' | b'\\')) => {
                text.push(b[i + 1]);
                i += 2;
            }
            Some(b'"') => break,
            Some(&c) => {
                text.push(c);
                i += 1;
            }
        }
    }
    // Only ASCII backslashes were removed from valid UTF-8: still valid.
    let text = match String::from_utf8(text) {
        Ok(t) => t,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    Some((Cow::Owned(text), i + 1))
}

/// An HTTP request line split into method, target and version.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub target: &'a str,
    pub version: Option<&'a str>,
}

/// `GET /a b HTTP/1.1` → method, target, version. `None` when the text does
/// not start with a method token followed by a target.
pub(crate) fn split_request(request: &str) -> Option<Request<'_>> {
    let (method, rest) = request.split_once(' ')?;
    let valid_method = !method.is_empty()
        && method.len() <= 32
        && method
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'-' || c == b'_');
    if !valid_method || !method.as_bytes()[0].is_ascii_uppercase() {
        return None;
    }
    let rest = rest.trim();
    let (target, version) = match rest.rsplit_once(' ') {
        Some((t, v)) if v.starts_with("HTTP/") => (t.trim_end(), Some(v)),
        _ => (rest, None),
    };
    if target.is_empty() {
        return None;
    }
    Some(Request {
        method,
        target,
        version: version.and_then(crate::netlog::http_version),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = tokenize(r#"a "b \"c\" \\" [d e] f"#).unwrap();
        let texts: Vec<_> = t.iter().map(|t| (&*t.text, t.kind)).collect();
        assert_eq!(
            texts,
            [
                ("a", TokenKind::Bare),
                (r#"b "c" \"#, TokenKind::Quoted),
                ("d e", TokenKind::Bracketed),
                ("f", TokenKind::Bare)
            ]
        );
        assert_eq!(tokenize(r#"a "b"#).unwrap_err().0, 2);
        assert!(tokenize("a [b").is_err());
        assert_eq!(tokenize(r#"x "" y"#).unwrap()[1].text, "");
    }

    #[test]
    fn requests() {
        let r = split_request("GET /a?b HTTP/1.1").unwrap();
        assert_eq!((r.method, r.target, r.version), ("GET", "/a?b", Some("1.1")));
        let r = split_request("GET /").unwrap();
        assert_eq!((r.method, r.target, r.version), ("GET", "/", None));
        let r = split_request("GET /a b HTTP/1.0").unwrap();
        assert_eq!(r.target, "/a b");
        assert!(split_request("\u{16}\u{3}x y").is_none());
        assert!(split_request("get / HTTP/1.1").is_none());
        assert!(split_request("GET").is_none());
    }

    #[test]
    fn first_lines() {
        assert_eq!(first_line(b"\n\r\nabc\r\nx"), Some("abc".into()));
        assert_eq!(first_line(b"abc"), Some("abc".into()));
        assert_eq!(first_line(b" \n"), None);
        let mut long = vec![b'x'; crate::sniff::HEAD_LEN];
        assert_eq!(first_line(&long), None);
        long[5] = b'\n';
        assert_eq!(first_line(&long), Some("xxxxx".into()));
    }
}
