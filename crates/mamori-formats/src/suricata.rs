//! Suricata EVE JSON (`eve.json`), mapped to ECS as Elastic's Suricata
//! integration does.
//!
//! One JSON object per line, with `event_type` and `timestamp`
//! (`2024-01-01T12:00:00.123456+0000`: the offset may lack its colon).
//! Sniffed, before generic NDJSON, by a first object with both keys. Blank
//! lines are skipped; a line that is not UTF-8, not JSON or not an object is
//! a bad record (line, byte offset, column). A record without a usable
//! `timestamp` gets the ingest time, tag `mamori.timestamp_missing` and
//! `event.ingested`. `event.id` is derived from tenant and line (`flow_id`
//! is shared by every record of a flow, so it is not an id); repeated
//! identical lines get ids that include their occurrence number.
//!
//! | EVE | ECS |
//! |---|---|
//! | the whole object | `suricata.eve.*` (kept as it is) |
//! | the line | `event.original` |
//! | `timestamp` | `@timestamp` (UTC) |
//! | — | `event.module` = `suricata`, `event.dataset` = `suricata.eve` |
//! | `event_type` | `event.kind` = `alert` for `alert`, `metric` for `stats`, else `event`; `event.category`, `event.type` (below) |
//! | `src_ip`, `src_port` | `source.ip` (`source.address`), `source.port` |
//! | `dest_ip`, `dest_port` | `destination.ip` (`destination.address`), `destination.port` |
//! | `proto` | `network.transport` (lowercase) |
//! | `app_proto` (unless `failed`) | `network.protocol` |
//! | `community_id` | `network.community_id` |
//! | `in_iface`, `host` | `observer.ingress.interface.name`, `observer.hostname` |
//! | source and destination addresses | `related.ip` |
//! | **alert** `alert.signature_id`, `.signature`, `.category` | `rule.id`, `rule.name`, `rule.category` (category `network`+`intrusion_detection`) |
//! | alert `alert.severity`, `.action` (`allowed`/`blocked`), `.rev` | `event.severity`, `event.action` (and `event.type` `allowed`/`denied`), `rule.version`; the whole alert in `suricata.eve.alert.*` |
//! | `flow.bytes_toserver`, `.bytes_toclient` (flow and alert records) | `source.bytes`, `destination.bytes`, `network.bytes` (sum) |
//! | `flow.pkts_toserver`, `.pkts_toclient` | `source.packets`, `destination.packets`, `network.packets` (sum) |
//! | `flow.start`, `flow.end` | `event.start`, `event.end`, `event.duration` (ns) |
//! | **dns** `dns.type` | `dns.type` (`query`/`answer`) |
//! | dns `dns.rrname`, `dns.rrtype` (or `dns.queries[0]`) | `dns.question.name`, `dns.question.type` |
//! | dns `dns.rcode`, `dns.id` | `dns.response_code`, `dns.id` |
//! | dns `dns.answers` (`rrname`, `rrtype`, `ttl`, `rdata`), or `dns.grouped` | `dns.answers` (`name`, `type`, `ttl`, `data`), `dns.resolved_ip` |
//! | **http** `http.hostname`, `http.url` | `url.domain`, `url.original` (+ `url.path`, `url.query`, `url.extension`) |
//! | http `http.http_method`, `.status`, `.protocol`, `.http_user_agent`, `.http_refer`, `.length`, `.http_content_type` | `http.request.method`, `http.response.status_code`, `http.version`, `user_agent.original`, `http.request.referrer`, `http.response.body.bytes`, `http.response.mime_type` |
//! | **tls** `tls.sni`, `tls.version` | `tls.client.server_name`, `tls.version_protocol` + `tls.version` |
//! | tls `tls.subject`, `.issuerdn`, `.serial`, `.fingerprint`, `.notbefore`, `.notafter` | `tls.server.subject`, `.issuer`, `tls.server.x509.serial_number`, `tls.server.hash.sha1` (hex, uppercase, no colons), `tls.server.not_before`, `tls.server.not_after` |
//! | tls `tls.ja3.hash`, `tls.ja3s.hash` | `tls.client.ja3`, `tls.server.ja3s` |
//! | **fileinfo** `fileinfo.filename`, `.size`, `.magic`, `.mime_type`, `.md5`, `.sha1`, `.sha256` | `file.name`, `file.size`, `file.type`, `file.mime_type`, `file.hash.*` (category `network`+`file`) |
//! | `http`, `tls`, `dns`, `fileinfo` objects in records of another type (alerts, fileinfo) | mapped as above, keeping the record's category and type |
//! | **anomaly**, **stats** and other types | only the common fields above and `suricata.eve.*` |

use std::io::BufRead;

use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::json;
use crate::lines::Line;
use crate::netlog::{self, Ids, LineItems, LineParser};
use crate::record::{Item, ParseContext};
use crate::sniff;

/// True when the first object of `head` has `event_type` and `timestamp`.
pub fn sniff(head: &[u8]) -> bool {
    sniff::first_object(head).is_some_and(|o| o.has_all(&["event_type", "timestamp"]))
}

/// Parse EVE JSON, line by line.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, Parser::default(), ctx)
}

#[derive(Default)]
struct Parser {
    ids: Ids,
}

impl LineParser for Parser {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        let content = line.content();
        if content.trim_ascii().is_empty() {
            return None;
        }
        let text = match std::str::from_utf8(content) {
            Ok(t) => t,
            Err(e) => {
                let column = Some(e.valid_up_to() as u64 + 1);
                return Some(netlog::bad(
                    ctx,
                    line,
                    column,
                    format!("line is not valid UTF-8: {e}"),
                ));
            }
        };
        let obj = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(obj)) => obj,
            Ok(other) => {
                let reason = format!("expected a JSON object, found {}", json::kind(&other));
                return Some(netlog::bad(ctx, line, Some(1), reason));
            }
            Err(e) => {
                let column = json::position(&e, line.number, 1).map(|(_, c)| c);
                let at = column.map(|c| format!(" at column {c}")).unwrap_or_default();
                let reason = format!("invalid JSON: {}{at}", json::message(&e));
                return Some(netlog::bad(ctx, line, column, reason));
            }
        };
        Some(Item::Event(Box::new(map(obj, text, ctx, &mut self.ids))))
    }
}

fn get<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    get(v, path).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Copy the value at `from` to `to`; numbers and strings only.
fn copy(ev: &mut Event, v: &Value, from: &[&str], to: &str) {
    if let Some(x) = get(v, from).filter(|x| x.is_number() || x.as_str().is_some_and(|s| !s.is_empty())) {
        ev.set(to, x.clone());
    }
}

/// Copy as text (numbers written out), for keyword fields such as `rule.id`.
fn copy_text(ev: &mut Event, v: &Value, from: &[&str], to: &str) {
    match get(v, from) {
        Some(Value::String(s)) if !s.is_empty() => ev.set(to, json!(s)),
        Some(Value::Number(n)) => ev.set(to, json!(n.to_string())),
        _ => {}
    }
}

/// Map one EVE record (the line `original`) to an event.
fn map(obj: Map<String, Value>, original: &str, ctx: &ParseContext, ids: &mut Ids) -> Event {
    let rec = Value::Object(obj);
    let time = text(&rec, &["timestamp"]).and_then(netlog::text_time);
    let mut ev = netlog::new_event(ctx, ids, time, original);
    let event_type = text(&rec, &["event_type"]).unwrap_or_default().to_string();
    ev.set("event.module", json!("suricata"));
    ev.set("event.dataset", json!("suricata.eve"));
    let kind = match event_type.as_str() {
        "alert" => "alert",
        "stats" => "metric",
        _ => "event",
    };
    ev.set("event.kind", json!(kind));

    for (from, to) in [("src_ip", "source"), ("dest_ip", "destination")] {
        if let Some(ip) = text(&rec, &[from]) {
            netlog::set_host(&mut ev, to, ip);
        }
    }
    copy(&mut ev, &rec, &["src_port"], "source.port");
    copy(&mut ev, &rec, &["dest_port"], "destination.port");
    if let Some(proto) = text(&rec, &["proto"]) {
        ev.set("network.transport", json!(proto.to_ascii_lowercase()));
    }
    if let Some(app) = text(&rec, &["app_proto"]).filter(|a| *a != "failed") {
        ev.set("network.protocol", json!(app.to_ascii_lowercase()));
    }
    copy(&mut ev, &rec, &["community_id"], "network.community_id");
    copy(&mut ev, &rec, &["in_iface"], "observer.ingress.interface.name");
    copy(&mut ev, &rec, &["host"], "observer.hostname");

    flow(&mut ev, &rec);
    match event_type.as_str() {
        "alert" => alert(&mut ev, &rec),
        "flow" | "netflow" => categorize(&mut ev, &["network"], &["connection"]),
        "dns" => dns(&mut ev, &rec),
        "http" => http(&mut ev, &rec),
        "tls" => tls(&mut ev, &rec),
        "fileinfo" => fileinfo(&mut ev, &rec),
        "anomaly" => categorize(&mut ev, &["network"], &["info"]),
        "stats" => {}
        _ if ev.get("network.transport").is_some() => categorize(&mut ev, &["network"], &["protocol"]),
        _ => {}
    }
    // Alerts, fileinfo and other records carry the app-layer metadata of
    // their transaction too: mapped the same way, keeping the record's category.
    for (key, f) in [
        ("http", http as fn(&mut Event, &Value)),
        ("tls", tls),
        ("dns", dns),
        ("fileinfo", fileinfo),
    ] {
        if key != event_type && rec.get(key).is_some_and(Value::is_object) {
            let category = ev.get("event.category").cloned();
            let kind = ev.get("event.type").cloned();
            let protocol = ev.get("network.protocol").cloned();
            f(&mut ev, &rec);
            for (path, v) in [
                ("event.category", category),
                ("event.type", kind),
                ("network.protocol", protocol),
            ] {
                if let Some(v) = v {
                    ev.set(path, v);
                }
            }
        }
    }
    netlog::set_related_ip(&mut ev);
    if let Value::Object(obj) = rec {
        for (k, v) in obj {
            ev.set(&netlog::join("suricata.eve", &k), v);
        }
    }
    ev
}

fn categorize(ev: &mut Event, category: &[&str], kind: &[&str]) {
    ev.set("event.category", json!(category));
    ev.set("event.type", json!(kind));
}

fn flow(ev: &mut Event, rec: &Value) {
    let n = |k: &str| get(rec, &["flow", k]).and_then(Value::as_u64);
    let pairs = [
        ("bytes_toserver", "bytes_toclient", "bytes"),
        ("pkts_toserver", "pkts_toclient", "packets"),
    ];
    for (to_server, to_client, what) in pairs {
        let (a, b) = (n(to_server), n(to_client));
        if let Some(a) = a {
            ev.set(&netlog::join("source", what), json!(a));
        }
        if let Some(b) = b {
            ev.set(&netlog::join("destination", what), json!(b));
        }
        if let (Some(a), Some(b)) = (a, b) {
            ev.set(&netlog::join("network", what), json!(a.saturating_add(b)));
        }
    }
    let start = text(rec, &["flow", "start"]).and_then(netlog::text_time);
    let end = text(rec, &["flow", "end"]).and_then(netlog::text_time);
    if let Some(s) = start {
        ev.set("event.start", json!(format_ts(s)));
    }
    if let Some(e) = end {
        ev.set("event.end", json!(format_ts(e)));
    }
    if let (Some(s), Some(e)) = (start, end)
        && let Some(ns) = (e - s).num_nanoseconds().filter(|ns| *ns >= 0)
    {
        ev.set("event.duration", json!(ns));
    }
}

fn alert(ev: &mut Event, rec: &Value) {
    categorize(ev, &["network", "intrusion_detection"], &["info"]);
    copy_text(ev, rec, &["alert", "signature_id"], "rule.id");
    copy_text(ev, rec, &["alert", "signature"], "rule.name");
    copy_text(ev, rec, &["alert", "category"], "rule.category");
    copy_text(ev, rec, &["alert", "rev"], "rule.version");
    copy(ev, rec, &["alert", "severity"], "event.severity");
    if let Some(action) = text(rec, &["alert", "action"]) {
        ev.set("event.action", json!(action));
        let kind = match action {
            "allowed" => Some("allowed"),
            "blocked" => Some("denied"),
            _ => None,
        };
        if let Some(kind) = kind {
            ev.set("event.type", json!(["info", kind]));
        }
    }
}

fn dns(ev: &mut Event, rec: &Value) {
    categorize(ev, &["network"], &["protocol"]);
    ev.set("network.protocol", json!("dns"));
    copy(ev, rec, &["dns", "type"], "dns.type");
    copy_text(ev, rec, &["dns", "id"], "dns.id");
    copy(ev, rec, &["dns", "rcode"], "dns.response_code");
    let question = get(rec, &["dns", "queries"])
        .and_then(|q| q.get(0))
        .or_else(|| get(rec, &["dns"]));
    if let Some(q) = question {
        copy(ev, q, &["rrname"], "dns.question.name");
        copy(ev, q, &["rrtype"], "dns.question.type");
    }
    let mut answers = Vec::new();
    let mut resolved = Vec::new();
    if let Some(Value::Array(list)) = get(rec, &["dns", "answers"]) {
        for a in list {
            let mut entry = Map::new();
            for (from, to) in [
                ("rrname", "name"),
                ("rrtype", "type"),
                ("ttl", "ttl"),
                ("rdata", "data"),
            ] {
                if let Some(v) = a.get(from).filter(|v| !v.is_null()) {
                    entry.insert(to.into(), v.clone());
                }
            }
            if let Some(data) = a.get("rdata").and_then(Value::as_str)
                && netlog::is_ip(data)
            {
                resolved.push(data.to_string());
            }
            if !entry.is_empty() {
                answers.push(Value::Object(entry));
            }
        }
    } else if let Some(Value::Object(grouped)) = get(rec, &["dns", "grouped"]) {
        for (rrtype, datas) in grouped {
            let Value::Array(datas) = datas else { continue };
            for data in datas {
                let mut entry = Map::new();
                entry.insert("type".into(), json!(rrtype));
                entry.insert("data".into(), data.clone());
                if let Some(d) = data.as_str()
                    && netlog::is_ip(d)
                {
                    resolved.push(d.to_string());
                }
                answers.push(Value::Object(entry));
            }
        }
    }
    if !answers.is_empty() {
        ev.set("dns.answers", Value::Array(answers));
    }
    if !resolved.is_empty() {
        ev.set("dns.resolved_ip", json!(resolved));
    }
}

fn http(ev: &mut Event, rec: &Value) {
    categorize(ev, &["network", "web"], &["protocol"]);
    if let Some(url) = text(rec, &["http", "url"]) {
        netlog::set_url(ev, url);
    }
    copy(ev, rec, &["http", "hostname"], "url.domain");
    copy(ev, rec, &["http", "http_method"], "http.request.method");
    copy(ev, rec, &["http", "status"], "http.response.status_code");
    if let Some(v) = text(rec, &["http", "protocol"]).and_then(netlog::http_version) {
        ev.set("http.version", json!(v));
    }
    copy(ev, rec, &["http", "http_user_agent"], "user_agent.original");
    copy(ev, rec, &["http", "http_refer"], "http.request.referrer");
    copy(ev, rec, &["http", "length"], "http.response.body.bytes");
    copy(ev, rec, &["http", "http_content_type"], "http.response.mime_type");
}

fn tls(ev: &mut Event, rec: &Value) {
    categorize(ev, &["network"], &["protocol"]);
    copy(ev, rec, &["tls", "sni"], "tls.client.server_name");
    if let Some(v) = text(rec, &["tls", "version"]) {
        netlog::set_tls_version(ev, v);
    }
    copy(ev, rec, &["tls", "subject"], "tls.server.subject");
    copy(ev, rec, &["tls", "issuerdn"], "tls.server.issuer");
    copy(ev, rec, &["tls", "serial"], "tls.server.x509.serial_number");
    if let Some(fp) = text(rec, &["tls", "fingerprint"]) {
        ev.set(
            "tls.server.hash.sha1",
            json!(fp.replace(':', "").to_ascii_uppercase()),
        );
    }
    for (from, to) in [
        ("notbefore", "tls.server.not_before"),
        ("notafter", "tls.server.not_after"),
    ] {
        if let Some(t) = text(rec, &["tls", from]).and_then(netlog::text_time) {
            ev.set(to, json!(format_ts(t)));
        }
    }
    copy(ev, rec, &["tls", "ja3", "hash"], "tls.client.ja3");
    copy(ev, rec, &["tls", "ja3s", "hash"], "tls.server.ja3s");
}

fn fileinfo(ev: &mut Event, rec: &Value) {
    categorize(ev, &["network", "file"], &["info"]);
    copy(ev, rec, &["fileinfo", "filename"], "file.name");
    copy(ev, rec, &["fileinfo", "size"], "file.size");
    copy(ev, rec, &["fileinfo", "magic"], "file.type");
    copy(ev, rec, &["fileinfo", "mime_type"], "file.mime_type");
    for hash in ["md5", "sha1", "sha256"] {
        copy(ev, rec, &["fileinfo", hash], &format!("file.hash.{hash}"));
    }
}
