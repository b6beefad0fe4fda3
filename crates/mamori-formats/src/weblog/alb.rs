//! AWS Application Load Balancer (and Classic ELB) access logs (the table
//! is in the module above).

use chrono::{DateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use super::{Token, TokenKind, split_request, tokenize};
use crate::lines::Line;
use crate::netlog::{self, Ids, LineParser, set_text};
use crate::record::{Item, ParseContext};
use crate::time;

const TYPES: [&str; 6] = ["http", "https", "h2", "grpcs", "ws", "wss"];

/// Why a line is not an ALB line: (0-based column, reason).
type Failure = (usize, String);

/// The ALB fields, in order, by their documented names (Classic ELB lines
/// have no `type` and stop after `ssl_protocol`).
const NAMES: [&str; 30] = [
    "type",
    "time",
    "elb",
    "client:port",
    "target:port",
    "request_processing_time",
    "target_processing_time",
    "response_processing_time",
    "elb_status_code",
    "target_status_code",
    "received_bytes",
    "sent_bytes",
    "request",
    "user_agent",
    "ssl_cipher",
    "ssl_protocol",
    "target_group_arn",
    "trace_id",
    "domain_name",
    "chosen_cert_arn",
    "matched_rule_priority",
    "request_creation_time",
    "actions_executed",
    "redirect_url",
    "error_reason",
    "target:port_list",
    "target_status_code_list",
    "classification",
    "classification_reason",
    "conn_trace_id",
];

/// The line's fields by ALB index (`None` before the first for Classic ELB).
struct Fields<'a> {
    tokens: &'a [Token<'a>],
    /// 1 for ALB, 0 for Classic ELB (which has no `type`).
    shift: usize,
}

impl<'a> Fields<'a> {
    fn new(tokens: &'a [Token<'a>]) -> Result<Self, Failure> {
        let first = tokens.first().ok_or((0, "empty line".to_string()))?;
        let shift = if TYPES.contains(&&*first.text) {
            1
        } else if time::rfc3339(&first.text).is_some() {
            0
        } else {
            return Err((first.column, format!("unknown ALB type {:?}", first.text)));
        };
        let fields = Fields { tokens, shift };
        // Everything up to the request line must be there.
        if fields.token(12).is_none() {
            let column = tokens.last().map_or(0, |t| t.column);
            return Err((column, format!("too few fields ({})", tokens.len())));
        }
        if let Some(t) = fields.token(12)
            && t.kind != TokenKind::Quoted
        {
            return Err((t.column, "the request must be a \"quoted\" field".into()));
        }
        Ok(fields)
    }

    /// The token at ALB index `i`.
    fn token(&self, i: usize) -> Option<&'a Token<'a>> {
        if i == 0 && self.shift == 0 {
            return None;
        }
        self.tokens.get(i + self.shift - 1)
    }

    /// The text at ALB index `i`, `None` when absent or `-`.
    fn get(&self, i: usize) -> Option<&'a str> {
        self.token(i)
            .map(|t| &*t.text)
            .filter(|s| *s != "-" && !s.is_empty())
    }

    fn column(&self, i: usize) -> usize {
        self.token(i).map_or(0, |t| t.column)
    }

    fn number(&self, i: usize) -> Result<Option<u64>, Failure> {
        match self.get(i) {
            None => Ok(None),
            Some(s) => s
                .parse::<u64>()
                .map(Some)
                .map_err(|_| (self.column(i), format!("bad {} {s:?}", NAMES[i]))),
        }
    }

    fn time(&self, i: usize) -> Result<Option<DateTime<Utc>>, Failure> {
        match self.get(i) {
            None => Ok(None),
            Some(s) => time::rfc3339(s)
                .map(Some)
                .ok_or_else(|| (self.column(i), format!("bad {} {s:?}", NAMES[i]))),
        }
    }
}

/// True when `line` is an ALB or Classic ELB access log line.
pub(super) fn sniff_line(line: String) -> bool {
    let Ok(tokens) = tokenize(&line) else { return false };
    let Ok(f) = Fields::new(&tokens) else { return false };
    let elb_ok = match f.shift {
        1 => f.get(2).is_some_and(|e| e.starts_with("app/")),
        _ => f.get(3).is_some_and(|c| c.contains(':')),
    };
    elb_ok && f.time(1).is_ok_and(|t| t.is_some()) && f.number(8).is_ok() && f.number(10).is_ok()
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
        let mapped = tokenize(&text).and_then(|tokens| self.map(&tokens, &text, ctx));
        Some(match mapped {
            Ok(ev) => Item::Event(Box::new(ev)),
            Err((column, reason)) => netlog::bad(ctx, line, Some(column as u64 + 1), reason),
        })
    }
}

impl Parser {
    fn map(&mut self, tokens: &[Token<'_>], original: &str, ctx: &ParseContext) -> Result<Event, Failure> {
        let f = Fields::new(tokens)?;
        let time = f.time(1)?.ok_or((f.column(1), "missing time".to_string()))?;
        let status = f.number(8)?;
        let target_status = f.number(9)?;
        let received = f.number(10)?;
        let sent = f.number(11)?;
        let created = f.time(21).ok().flatten();

        let mut ev = netlog::new_event(ctx, &mut self.ids, Some(time), original);
        ev.set("event.kind", json!("event"));
        ev.set("event.category", json!(["web"]));
        ev.set("event.type", json!(["access"]));
        ev.set("event.module", json!("aws"));
        ev.set("event.dataset", json!("aws.elb"));
        ev.set("cloud.provider", json!("aws"));
        ev.set("aws.elb.type", json!("http"));
        if let Some(t) = f.get(0) {
            ev.set("aws.elb.protocol", json!(t));
        }
        ev.set("event.end", json!(mamori_model::event::format_ts(time)));
        if let Some(name) = f.get(2) {
            ev.set("aws.elb.name", json!(name));
        }
        for (i, prefix) in [(3, "source"), (4, "destination")] {
            if let Some(addr) = f.get(i) {
                let (host, port) = netlog::split_host_port(addr);
                netlog::set_host(&mut ev, prefix, host);
                if let Some(port) = port {
                    ev.set(&format!("{prefix}.port"), json!(port));
                }
            }
        }
        for (i, name) in [
            (5, "request_processing_time"),
            (6, "backend_processing_time"),
            (7, "response_processing_time"),
        ] {
            if let Some(secs) = f.get(i).and_then(|s| s.parse::<f64>().ok()).filter(|s| *s >= 0.0) {
                ev.set(&format!("aws.elb.{name}.sec"), json!(secs));
            }
        }
        if let Some(status) = status {
            ev.set("http.response.status_code", json!(status));
            ev.set("event.outcome", json!(netlog::http_outcome(status)));
        }
        if let Some(s) = target_status {
            ev.set("aws.elb.backend.http.response.status_code", json!(s));
        }
        if let Some(b) = received {
            ev.set("http.request.body.bytes", json!(b));
        }
        if let Some(b) = sent {
            ev.set("http.response.body.bytes", json!(b));
        }
        if let Some(request) = f.get(12).filter(|r| r.trim() != "- - -") {
            match split_request(request) {
                Some(r) => {
                    ev.set("http.request.method", json!(r.method));
                    netlog::set_url(&mut ev, r.target);
                    if let Some(v) = r.version {
                        ev.set("http.version", json!(v));
                    }
                }
                None => ev.set("weblog.request", json!(request)),
            }
        }
        if let Some(ua) = f.get(13) {
            set_text(&mut ev, "user_agent.original", ua);
        }
        if let Some(cipher) = f.get(14) {
            ev.set("tls.cipher", json!(cipher));
        }
        if let Some(protocol) = f.get(15) {
            netlog::set_tls_version(&mut ev, protocol);
        }
        for (i, path) in [
            (16, "aws.elb.target_group.arn"),
            (17, "aws.elb.trace_id"),
            (18, "tls.client.server_name"),
            (19, "aws.elb.chosen_cert.arn"),
            (20, "aws.elb.matched_rule_priority"),
            (23, "aws.elb.redirect_url"),
            (24, "aws.elb.error.reason"),
            (27, "aws.elb.classification"),
            (28, "aws.elb.classification_reason"),
            (29, "aws.elb.connection_trace_id"),
        ] {
            if let Some(v) = f.get(i) {
                ev.set(path, json!(v));
            }
        }
        if let Some(start) = created {
            ev.set("event.start", json!(mamori_model::event::format_ts(start)));
            if let Some(ns) = (time - start).num_nanoseconds().filter(|ns| *ns >= 0) {
                ev.set("event.duration", json!(ns));
            }
        }
        if let Some(actions) = f.get(22) {
            let list: Vec<&str> = actions.split(',').filter(|a| !a.is_empty()).collect();
            ev.set("aws.elb.action_executed", json!(list));
        }
        for (i, path) in [(25, "aws.elb.target_port"), (26, "aws.elb.target_status_code")] {
            if let Some(v) = f.get(i) {
                let list: Vec<&str> = v.split_whitespace().filter(|a| *a != "-").collect();
                if !list.is_empty() {
                    ev.set(path, json!(list));
                }
            }
        }
        netlog::set_related_ip(&mut ev);
        Ok(ev)
    }
}
