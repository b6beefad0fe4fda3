//! One Zeek record (typed fields) → one ECS event (the table is in the module above).

use chrono::{DateTime, Utc};
use mamori_model::Event;
use mamori_model::event::MAX_DEPTH;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::netlog::{self, Ids};
use crate::record::ParseContext;
use crate::time;

/// Logs whose name is their `network.protocol`.
const PROTOCOL_LOGS: &[&str] = &[
    "dns", "http", "ssh", "smtp", "ftp", "rdp", "ntlm", "kerberos", "dce_rpc", "snmp", "ntp", "modbus",
    "syslog", "rfb", "ldap", "sip", "dhcp", "mysql", "radius",
];

/// A log name for records without `#path`/`_path`, from their keys.
pub(super) fn guess_log(fields: &Map<String, Value>) -> String {
    if let Some(engine) = fields.get("bro_engine").and_then(Value::as_str) {
        return engine.to_ascii_lowercase();
    }
    let has = |k: &str| fields.contains_key(k);
    let log = if has("conn_state") {
        "conn"
    } else if has("query") && (has("qtype") || has("trans_id")) {
        "dns"
    } else if has("method") && has("uri") {
        "http"
    } else if has("cipher") || has("server_name") {
        "ssl"
    } else {
        "unknown"
    };
    log.to_string()
}

/// Field lookup that also finds the Kafka writer's `a_b` spelling of `a.b`.
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.find(name).or_else(|| {
            name.contains('.')
                .then(|| self.find(&name.replace('.', "_")))
                .flatten()
        })
    }

    /// The field `name`: found by comparing names when there are few of
    /// them (cheaper than hashing), else looked up.
    fn find(&self, name: &str) -> Option<&'a Value> {
        if self.0.len() <= 32 {
            self.0.iter().find(|(k, _)| k.as_str() == name).map(|(_, v)| v)
        } else {
            self.0.get(name)
        }
    }

    fn str(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(Value::as_str).filter(|s| !s.is_empty())
    }

    fn u64(&self, name: &str) -> Option<u64> {
        match self.get(name)? {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    fn f64(&self, name: &str) -> Option<f64> {
        match self.get(name)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        }
    }

    fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    /// A time field: epoch seconds (number or text) or RFC 3339 text.
    fn time(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.get(name)? {
            Value::String(s) => netlog::text_time(s),
            v => time::from_value(v),
        }
    }

    /// Copy a field to `path` as it is.
    fn copy(&self, ev: &mut Event, name: &str, path: &str) {
        if let Some(v) = self.get(name) {
            ev.set(path, v.clone());
        }
    }

    /// Copy a field to `path` as text (numbers written out).
    fn copy_text(&self, ev: &mut Event, name: &str, path: &str) {
        match self.get(name) {
            Some(Value::String(s)) if !s.is_empty() => ev.set(path, json!(s)),
            Some(Value::Number(n)) => ev.set(path, json!(n.to_string())),
            _ => {}
        }
    }
}

/// Map one Zeek record of log `log` (its line: `original`) to an event.
pub(super) fn map(
    log: String,
    fields: Map<String, Value>,
    system: Option<String>,
    original: &str,
    ctx: &ParseContext,
    ids: &mut Ids,
) -> Event {
    let log = sanitize(&log);
    let f = Fields(&fields);
    let mut ev = netlog::new_event(ctx, ids, f.time("ts"), original);
    ev.set("event.module", json!("zeek"));
    ev.set("event.dataset", json!(format!("zeek.{log}")));
    ev.set(
        "event.kind",
        json!(if log == "notice" { "alert" } else { "event" }),
    );
    if let Some(system) = system {
        ev.set("observer.hostname", json!(system));
    }

    f.copy_text(&mut ev, "uid", "zeek.session_id");
    for (name, path) in [("id.orig_h", "source"), ("id.resp_h", "destination")] {
        if let Some(ip) = f.str(name) {
            netlog::set_host(&mut ev, path, ip);
        }
    }
    for (name, path) in [("id.orig_p", "source.port"), ("id.resp_p", "destination.port")] {
        f.copy(&mut ev, name, path);
    }
    if let Some(proto) = f.str("proto") {
        ev.set("network.transport", json!(proto.to_ascii_lowercase()));
    }
    f.copy(&mut ev, "community_id", "network.community_id");
    if PROTOCOL_LOGS.contains(&log.as_str()) {
        ev.set("network.protocol", json!(log));
    } else if log.starts_with("smb_") {
        ev.set("network.protocol", json!("smb"));
    }

    match log.as_str() {
        "conn" => conn(&f, &mut ev),
        "dns" => dns(&f, &mut ev),
        "http" => http(&f, &mut ev),
        "ssl" => ssl(&f, &mut ev),
        "files" => files(&f, &mut ev),
        "notice" => notice(&f, &mut ev),
        "x509" => x509(&f, &mut ev),
        "smtp" => smtp(&f, &mut ev),
        "ssh" => {
            categorize(&mut ev, &["network", "authentication"], &["info"]);
            outcome(&f, &mut ev, "auth_success");
        }
        "weird" => {
            categorize(&mut ev, &["network"], &["info"]);
            f.copy_text(&mut ev, "name", "rule.name");
        }
        "ntlm" => {
            categorize(&mut ev, &["network", "authentication"], &["info"]);
            f.copy_text(&mut ev, "username", "user.name");
            f.copy_text(&mut ev, "domainname", "user.domain");
            outcome(&f, &mut ev, "success");
        }
        "kerberos" => {
            categorize(&mut ev, &["network", "authentication"], &["info"]);
            if let Some(client) = f.str("client") {
                let (user, realm) = client.split_once('/').unwrap_or((client, ""));
                netlog::set_text(&mut ev, "user.name", user);
                netlog::set_text(&mut ev, "user.domain", realm);
            }
            outcome(&f, &mut ev, "success");
        }
        "ftp" => {
            categorize(&mut ev, &["network"], &["protocol"]);
            f.copy_text(&mut ev, "user", "user.name");
            f.copy_text(&mut ev, "command", "event.action");
        }
        "rdp" => {
            categorize(&mut ev, &["network"], &["protocol"]);
            f.copy_text(&mut ev, "cookie", "user.name");
        }
        _ if ev.get("network.protocol").is_some() => categorize(&mut ev, &["network"], &["protocol"]),
        _ => {}
    }

    netlog::set_related_ip(&mut ev);
    if let Some(user) = ev.get_str("user.name").map(str::to_string) {
        ev.set("related.user", json!([user]));
    }
    ev.set(&format!("zeek.{log}"), Value::Object(nest(fields)));
    ev
}

/// Dotted names as nested objects (`id.orig_h` → `{"id":{"orig_h":…}}`), as
/// [`Event::set`] would make them under `zeek.<log>`, built in one go: at
/// most [`MAX_DEPTH`] objects deep in the event, the rest of a name of very
/// many dots one key.
fn nest(fields: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (name, value) in fields {
        if !name.contains('.') {
            out.insert(name, value);
            continue;
        }
        let mut map = &mut out;
        let mut parts = name.splitn(MAX_DEPTH - 2, '.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                break;
            }
            let slot = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let Value::Object(inner) = slot else { break };
            map = inner;
        }
    }
    out
}

/// A log name safe as a path segment: lowercase letters, digits and `_`.
fn sanitize(log: &str) -> String {
    let s: String = log
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() { "unknown".into() } else { s }
}

fn categorize(ev: &mut Event, category: &[&str], kind: &[&str]) {
    ev.set("event.category", json!(category));
    ev.set("event.type", json!(kind));
}

fn outcome(f: &Fields<'_>, ev: &mut Event, name: &str) {
    if let Some(ok) = f.bool(name) {
        ev.set("event.outcome", json!(if ok { "success" } else { "failure" }));
    }
}

fn conn(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["network"], &["connection"]);
    if let Some(service) = f.str("service") {
        ev.set("network.protocol", json!(service.to_ascii_lowercase()));
    }
    if let Some(ns) = f.f64("duration").and_then(netlog::nanos) {
        ev.set("event.duration", json!(ns));
    }
    let mut bytes = (f.u64("orig_bytes"), f.u64("resp_bytes"));
    let mut packets = (f.u64("orig_pkts"), f.u64("resp_pkts"));
    for (value, path) in [
        (&mut bytes.0, "source.bytes"),
        (&mut bytes.1, "destination.bytes"),
        (&mut packets.0, "source.packets"),
        (&mut packets.1, "destination.packets"),
    ] {
        if let Some(v) = value {
            ev.set(path, json!(v));
        }
    }
    if let (Some(a), Some(b)) = bytes {
        ev.set("network.bytes", json!(a.saturating_add(b)));
    }
    if let (Some(a), Some(b)) = packets {
        ev.set("network.packets", json!(a.saturating_add(b)));
    }
    f.copy_text(ev, "conn_state", "zeek.connection.state");
    f.copy_text(ev, "history", "zeek.connection.history");
    f.copy_text(ev, "orig_l2_addr", "source.mac");
    f.copy_text(ev, "resp_l2_addr", "destination.mac");
}

fn dns(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["network"], &["protocol"]);
    f.copy_text(ev, "query", "dns.question.name");
    f.copy_text(ev, "qtype_name", "dns.question.type");
    f.copy_text(ev, "qclass_name", "dns.question.class");
    f.copy_text(ev, "trans_id", "dns.id");
    match f.str("rcode_name") {
        Some(rcode) => {
            ev.set("dns.response_code", json!(rcode));
            ev.set("dns.type", json!("answer"));
        }
        None => ev.set("dns.type", json!("query")),
    }
    let flags: Vec<&str> = ["AA", "TC", "RD", "RA"]
        .into_iter()
        .filter(|flag| f.bool(flag) == Some(true))
        .collect();
    if !flags.is_empty() {
        ev.set("dns.header_flags", json!(flags));
    }
    if let Some(Value::Array(answers)) = f.get("answers") {
        let ttls = match f.get("TTLs") {
            Some(Value::Array(t)) => t.as_slice(),
            _ => &[],
        };
        let mut list = Vec::new();
        let mut resolved = Vec::new();
        for (i, answer) in answers.iter().enumerate() {
            let Some(data) = answer.as_str() else { continue };
            let mut entry = Map::new();
            entry.insert("data".into(), json!(data));
            if let Some(ttl) = ttls.get(i).and_then(Value::as_f64) {
                entry.insert("ttl".into(), json!(ttl.round() as i64));
            }
            list.push(Value::Object(entry));
            if netlog::is_ip(data) {
                resolved.push(data);
            }
        }
        if !list.is_empty() {
            ev.set("dns.answers", Value::Array(list));
        }
        if !resolved.is_empty() {
            ev.set("dns.resolved_ip", json!(resolved));
        }
    }
}

fn http(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["network", "web"], &["connection", "protocol"]);
    f.copy_text(ev, "method", "http.request.method");
    if let Some(uri) = f.str("uri") {
        netlog::set_url(ev, uri);
    }
    f.copy_text(ev, "host", "url.domain");
    f.copy(ev, "status_code", "http.response.status_code");
    f.copy_text(ev, "version", "http.version");
    f.copy_text(ev, "referrer", "http.request.referrer");
    f.copy_text(ev, "user_agent", "user_agent.original");
    f.copy_text(ev, "username", "user.name");
    f.copy(ev, "request_body_len", "http.request.body.bytes");
    f.copy(ev, "response_body_len", "http.response.body.bytes");
}

fn ssl(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["network"], &["connection", "protocol"]);
    ev.set("network.protocol", json!("tls"));
    if let Some(v) = f.str("version") {
        netlog::set_tls_version(ev, v);
    }
    for (name, path) in [
        ("cipher", "tls.cipher"),
        ("curve", "tls.curve"),
        ("next_protocol", "tls.next_protocol"),
        ("server_name", "tls.client.server_name"),
        ("server_name", "destination.domain"),
        ("ja3", "tls.client.ja3"),
        ("ja3s", "tls.server.ja3s"),
        ("subject", "tls.server.subject"),
        ("issuer", "tls.server.issuer"),
        ("client_subject", "tls.client.subject"),
        ("client_issuer", "tls.client.issuer"),
    ] {
        f.copy_text(ev, name, path);
    }
    for (name, path) in [("resumed", "tls.resumed"), ("established", "tls.established")] {
        if let Some(b) = f.bool(name) {
            ev.set(path, json!(b));
        }
    }
}

fn files(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["file"], &["info"]);
    f.copy_text(ev, "filename", "file.name");
    f.copy_text(ev, "mime_type", "file.mime_type");
    if let Some(size) = f.u64("total_bytes").or_else(|| f.u64("seen_bytes")) {
        ev.set("file.size", json!(size));
    }
    for hash in ["md5", "sha1", "sha256"] {
        f.copy_text(ev, hash, &format!("file.hash.{hash}"));
    }
}

fn notice(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["intrusion_detection"], &["info"]);
    f.copy_text(ev, "note", "rule.name");
    f.copy_text(ev, "msg", "message");
    if ev.get("source.ip").is_none()
        && let Some(src) = f.str("src")
    {
        netlog::set_host(ev, "source", src);
    }
    if ev.get("destination.ip").is_none() {
        if let Some(dst) = f.str("dst") {
            netlog::set_host(ev, "destination", dst);
        }
        f.copy(ev, "p", "destination.port");
    }
}

fn x509(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["network"], &["info"]);
    for (name, path) in [
        ("certificate.version", "x509.version_number"),
        ("certificate.serial", "x509.serial_number"),
        ("certificate.subject", "x509.subject.distinguished_name"),
        ("certificate.issuer", "x509.issuer.distinguished_name"),
        ("certificate.key_alg", "x509.public_key_algorithm"),
        ("certificate.sig_alg", "x509.signature_algorithm"),
        ("certificate.exponent", "x509.public_key_exponent"),
        ("certificate.curve", "x509.public_key_curve"),
    ] {
        f.copy_text(ev, name, path);
    }
    f.copy(ev, "certificate.key_length", "x509.public_key_size");
    for (name, path) in [
        ("certificate.not_valid_before", "x509.not_before"),
        ("certificate.not_valid_after", "x509.not_after"),
    ] {
        if let Some(t) = f.time(name) {
            ev.set(path, json!(format_ts(t)));
        }
    }
    f.copy(ev, "san.dns", "x509.alternative_names");
}

fn smtp(f: &Fields<'_>, ev: &mut Event) {
    categorize(ev, &["network", "email"], &["protocol"]);
    f.copy_text(ev, "mailfrom", "email.from.address");
    f.copy(ev, "rcptto", "email.to.address");
    f.copy_text(ev, "subject", "email.subject");
    f.copy_text(ev, "msg_id", "email.message_id");
}
