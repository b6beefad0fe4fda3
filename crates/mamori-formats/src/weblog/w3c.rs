//! W3C extended logs: IIS and CloudFront (the table is in the module above).

use chrono::{DateTime, NaiveDateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use crate::lines::Line;
use crate::netlog::{self, Ids, LineParser, set_host, set_text};
use crate::record::{Item, ParseContext};

const DIRECTIVES: [&str; 6] = [
    "#Software:",
    "#Version:",
    "#Date:",
    "#Fields:",
    "#Remark:",
    "#Start-Date:",
];

/// `Some(true)` for a CloudFront log, `Some(false)` for another W3C
/// extended log, `None` for anything else: the head starts with W3C
/// directives and names its columns in a `#Fields:` line before the first data line.
pub(super) fn sniff(head: &[u8]) -> Option<bool> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next()?;
    if !DIRECTIVES.iter().any(|d| first.starts_with(d)) {
        return None;
    }
    for line in std::iter::once(first).chain(lines) {
        if let Some(fields) = line.strip_prefix("#Fields:") {
            let names: Vec<&str> = fields.split_whitespace().collect();
            if names.len() < 2 {
                return None;
            }
            return Some(is_cloudfront(&names));
        }
        if !line.starts_with('#') {
            return None;
        }
    }
    None
}

fn is_cloudfront<S: AsRef<str>>(names: &[S]) -> bool {
    names
        .iter()
        .any(|n| matches!(n.as_ref(), "x-edge-location" | "x-edge-request-id"))
}

#[derive(Default)]
pub(super) struct Parser {
    ids: Ids,
    /// Column names from the last `#Fields:` line.
    fields: Vec<String>,
    cloudfront: bool,
    /// The date of the last `#Date:` line, for logs without a `date` field.
    date: Option<String>,
}

impl LineParser for Parser {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        let content = line.content();
        let text = String::from_utf8_lossy(content);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return None;
        }
        if let Some(rest) = trimmed.strip_prefix('#') {
            if let Some(fields) = rest.strip_prefix("Fields:") {
                self.fields = fields.split_whitespace().map(str::to_ascii_lowercase).collect();
                self.cloudfront = is_cloudfront(&self.fields);
            } else if let Some(date) = rest.strip_prefix("Date:") {
                self.date = date.split_whitespace().next().map(str::to_string);
            }
            return None;
        }
        if self.fields.is_empty() {
            return Some(netlog::bad(ctx, line, None, "data line before any #Fields: line"));
        }
        let values: Vec<&str> = if text.contains('\t') {
            text.trim_end_matches([' ', '\r']).split('\t').collect()
        } else {
            text.split_whitespace().collect()
        };
        if values.len() != self.fields.len() {
            let reason = format!(
                "{} fields, but the #Fields: line names {}",
                values.len(),
                self.fields.len()
            );
            return Some(netlog::bad(ctx, line, None, reason));
        }
        Some(match self.map(&values, &text, ctx) {
            Ok(ev) => Item::Event(Box::new(ev)),
            Err(reason) => netlog::bad(ctx, line, None, reason),
        })
    }
}

/// `cs(User-Agent)` → `cs_user_agent`, `x-edge-location` → `edge_location`.
fn key(name: &str) -> String {
    let lower = name.to_ascii_lowercase();
    let lower = lower.strip_prefix("x-").unwrap_or(&lower);
    let mut out = String::with_capacity(lower.len());
    for c in lower.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

fn number(name: &str, value: &str) -> Result<Option<u64>, String> {
    if value == "-" {
        return Ok(None);
    }
    value
        .parse::<u64>()
        .map(Some)
        .map_err(|_| format!("bad {name} {value:?}"))
}

impl Parser {
    fn map(&mut self, values: &[&str], original: &str, ctx: &ParseContext) -> Result<Event, String> {
        let cf = self.cloudfront;
        let (prefix, dataset, module) = if cf {
            ("aws.cloudfront", "aws.cloudfront", "aws")
        } else {
            ("iis.access", "iis.access", "iis")
        };
        let mut date = self.date.as_deref();
        let mut time = None;
        let (mut stem, mut query) = (None, None);
        for (name, value) in self.fields.iter().zip(values) {
            match name.as_str() {
                "date" => date = Some(value),
                "time" => time = Some(*value),
                "cs-uri-stem" => stem = Some(*value),
                "cs-uri-query" => query = Some(*value),
                _ => {}
            }
        }
        let timestamp = match (date, time) {
            (Some(d), Some(t)) => Some(w3c_time(d, t).ok_or_else(|| format!("bad date/time {d:?} {t:?}"))?),
            _ => None,
        };
        let mut ev = netlog::new_event(ctx, &mut self.ids, timestamp, original);
        ev.set("event.kind", json!("event"));
        ev.set("event.category", json!(["web"]));
        ev.set("event.type", json!(["access"]));
        ev.set("event.module", json!(module));
        ev.set("event.dataset", json!(dataset));
        if cf {
            ev.set("cloud.provider", json!("aws"));
        }
        let decode = |v: &str| {
            if cf {
                netlog::percent_decode(v)
            } else {
                v.replace('+', " ")
            }
        };
        for (name, &value) in self.fields.iter().zip(values) {
            if value == "-" || value.is_empty() {
                continue;
            }
            match name.as_str() {
                "date" | "time" | "cs-uri-stem" | "cs-uri-query" => {}
                "c-ip" => set_host(&mut ev, "source", value),
                "s-ip" => set_host(&mut ev, "destination", value),
                "c-port" => set_port(&mut ev, "source.port", value),
                "s-port" => set_port(&mut ev, "destination.port", value),
                "cs-method" => ev.set("http.request.method", json!(value)),
                "cs-username" => set_text(&mut ev, "user.name", value),
                "cs(user-agent)" => set_text(&mut ev, "user_agent.original", &decode(value)),
                "cs(referer)" | "cs(referrer)" => set_text(&mut ev, "http.request.referrer", &decode(value)),
                "sc-status" => {
                    if let Some(status) = number(name, value)? {
                        ev.set("http.response.status_code", json!(status));
                        ev.set("event.outcome", json!(netlog::http_outcome(status)));
                    }
                }
                "sc-bytes" => {
                    let path = if cf {
                        "http.response.bytes"
                    } else {
                        "http.response.body.bytes"
                    };
                    ev.set(path, json!(number(name, value)?));
                }
                "cs-bytes" => {
                    let path = if cf {
                        "http.request.bytes"
                    } else {
                        "http.request.body.bytes"
                    };
                    ev.set(path, json!(number(name, value)?));
                }
                "sc-content-len" => ev.set("http.response.body.bytes", json!(number(name, value)?)),
                "sc-content-type" => ev.set("http.response.mime_type", json!(value)),
                "time-taken" => {
                    let seconds = value.parse::<f64>().ok().map(|v| if cf { v } else { v / 1e3 });
                    match seconds.and_then(netlog::nanos) {
                        Some(ns) => ev.set("event.duration", json!(ns)),
                        None => ev.set(&format!("{prefix}.time_taken"), json!(value)),
                    }
                }
                "cs-version" | "cs-protocol-version" => {
                    if let Some(v) = netlog::http_version(value) {
                        ev.set("http.version", json!(v));
                    }
                }
                "cs-host" | "cs(host)" if !cf => ev.set("url.domain", json!(value)),
                "cs(host)" => ev.set("aws.cloudfront.domain", json!(value)),
                "x-host-header" => ev.set("url.domain", json!(value)),
                "cs-protocol" => ev.set("url.scheme", json!(value.to_ascii_lowercase())),
                "s-computername" => ev.set("host.name", json!(value)),
                "ssl-protocol" => netlog::set_tls_version(&mut ev, value),
                "ssl-cipher" => ev.set("tls.cipher", json!(value)),
                "x-forwarded-for" => ev.set("network.forwarded_ip", json!(value)),
                "x-edge-request-id" => {
                    ev.set("http.request.id", json!(value));
                    ev.set("aws.cloudfront.edge_request_id", json!(value));
                }
                "sc-substatus" => ev.set("iis.access.sub_status", json!(value)),
                "sc-win32-status" => ev.set("iis.access.win32_status", json!(value)),
                "s-sitename" => ev.set("iis.access.site_name", json!(value)),
                _ => ev.set(&format!("{prefix}.{}", key(name)), json!(value)),
            }
        }
        let stem = stem.filter(|s| *s != "-" && !s.is_empty());
        let query = query.filter(|q| *q != "-" && !q.is_empty());
        if let Some(stem) = stem {
            let domain = ev.get_str("url.domain").map(str::to_string);
            let scheme = ev.get_str("url.scheme").map(str::to_string);
            match query {
                Some(q) => netlog::set_url(&mut ev, &format!("{stem}?{q}")),
                None => netlog::set_url(&mut ev, stem),
            }
            // A stem is a path: keep the domain and scheme of other fields.
            for (path, v) in [("url.domain", domain), ("url.scheme", scheme)] {
                if let Some(v) = v {
                    ev.set(path, json!(v));
                }
            }
        } else if let Some(q) = query {
            ev.set("url.query", json!(q));
        }
        netlog::set_related_ip(&mut ev);
        if let Some(user) = ev.get_str("user.name").map(str::to_string) {
            ev.set("related.user", json!([user]));
        }
        Ok(ev)
    }
}

fn set_port(ev: &mut Event, path: &str, value: &str) {
    match value.parse::<u16>() {
        Ok(p) => ev.set(path, json!(p)),
        Err(_) => ev.set(path, json!(value)),
    }
}

/// `2019-09-03` + `10:13:36[.fff]`, UTC.
fn w3c_time(date: &str, time: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(&format!("{date} {time}"), "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(key("x-edge-location"), "edge_location");
        assert_eq!(key("cs(Cookie)"), "cs_cookie");
        assert_eq!(key("sc-range-start"), "sc_range_start");
    }

    #[test]
    fn sniffing() {
        assert_eq!(
            sniff(b"#Software: IIS\r\n#Fields: date time c-ip\r\n"),
            Some(false)
        );
        assert_eq!(
            sniff(b"#Version: 1.0\n#Fields: date time x-edge-location c-ip\n2024-01-01\t"),
            Some(true)
        );
        assert_eq!(
            sniff(b"#Software: IIS\r\n2024-01-01 00:00:00 x\r\n#Fields: date time\r\n"),
            None
        );
        assert_eq!(sniff(b"#separator \\x09\n#fields\tts\n"), None);
        assert_eq!(sniff(b"hello"), None);
    }
}
