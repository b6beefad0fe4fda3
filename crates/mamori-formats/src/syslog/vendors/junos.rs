//! Juniper Junos (SRX firewalls) messages in structured-data form
//! (`set system syslog … structured-data`): RFC 5424 lines whose
//! structured data has a `junos@2636.…` element, such as
//! `<14>1 2024-… srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address="10.1.1.5" …] session created …`.
//! The same header and element written as the message of a BSD syslog
//! line (`junos-flow: 2017-…Z srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@… …]`)
//! are read too: the inner time is the event's, the inner host
//! `observer.name`, the text after the element `message`.
//! Names follow Elastic's `juniper.srx` integration. The element's
//! parameters stay under `log.syslog.structured_data` as well.
//!
//! | Junos                                      | ECS / Mamori |
//! |--------------------------------------------|--------------|
//! | MSGID (`RT_FLOW_SESSION_CREATE`, …)         | `juniper.srx.tag`; `event.action` and `event.type` below |
//! | `RT_FLOW_SESSION_CREATE`                    | `event.action` = `flow_started`, `event.type` = `connection`, `start`, `allowed` |
//! | `RT_FLOW_SESSION_CLOSE`                     | `event.action` = `flow_close`, `event.type` = `connection`, `end`, `allowed` |
//! | `RT_FLOW_SESSION_DENY`                      | `event.action` = `flow_deny`, `event.type` = `connection`, `denied` |
//! | `RT_IDP_ATTACK_LOG_EVENT`, `RT_SCREEN_*`, `*_URL_BLOCKED`, other tags | `event.action` = the tag in lower case; `event.kind` = `alert` for IDP and screen tags |
//! | `source-address`, `source-port`            | `source.ip` (`source.address` when not an IP), `source.port` |
//! | `destination-address`, `destination-port`  | `destination.ip`, `destination.port` |
//! | `nat-source-address`, `nat-source-port`    | `source.nat.ip`, `source.nat.port` (unless `0.0.0.0`) |
//! | `nat-destination-address`, `nat-destination-port` | `destination.nat.ip`, `destination.nat.port` |
//! | `protocol-id`                              | `network.iana_number`, `network.transport` |
//! | `policy-name`                              | `rule.name` |
//! | `source-zone-name`, `destination-zone-name` | `observer.ingress.zone`, `observer.egress.zone` |
//! | `source-interface-name`, `destination-interface-name` | `observer.ingress.interface.name`, `observer.egress.interface.name` |
//! | `username`                                 | `source.user.name` |
//! | `application`, `nested-application`        | `network.application` (lower case, unless `UNKNOWN`) |
//! | `packets-from-client`, `bytes-from-client` | `source.packets`, `source.bytes` |
//! | `packets-from-server`, `bytes-from-server` | `destination.packets`, `destination.bytes`; with the client's, `network.packets`, `network.bytes` |
//! | `elapsed-time` (seconds)                   | `event.duration` (ns) |
//! | `reason`                                   | `event.reason` |
//! | `attack-name`, `threat-severity`, `url`, `category` | `rule.name` / `juniper.srx.threat_severity`, `url.original`, `rule.category` |
//! | every parameter                            | `juniper.srx.<name>` (`-` → `_`) |
//!
//! `observer.vendor` = `Juniper`, `observer.product` = `SRX`,
//! `event.module` = `juniper`, `event.dataset` = `juniper.srx`,
//! `event.category` = `network` (with `intrusion_detection` for IDP).

use chrono::{DateTime, Utc};
use mamori_model::Event;
use serde_json::{Map, Value, json};

use super::super::header::{self, Found};
use super::endpoint;
use crate::fieldmap::{Stamp, set_nat, set_port, set_str, set_transport, set_u64};

/// Map the `junos@…` element of `sd` (the table above); false when there
/// is none.
pub(crate) fn map(ev: &mut Event, msgid: Option<&str>, sd: &Map<String, Value>) -> bool {
    let Some(params) = sd
        .iter()
        .find(|(id, _)| id.starts_with("junos@"))
        .and_then(|(_, v)| v.as_object())
    else {
        return false;
    };
    let get = |k: &str| params.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    ev.set("observer.vendor", json!("Juniper"));
    ev.set("observer.product", json!("SRX"));
    ev.set("event.module", json!("juniper"));
    ev.set("event.dataset", json!("juniper.srx"));
    ev.set("event.kind", json!("event"));
    let mut categories = vec!["network"];
    if let Some(tag) = msgid.filter(|t| !t.is_empty() && *t != "-") {
        set_str(ev, "juniper.srx.tag", tag);
        let (action, types): (String, &[&str]) = match tag {
            "RT_FLOW_SESSION_CREATE" => ("flow_started".into(), &["connection", "start", "allowed"]),
            "RT_FLOW_SESSION_CLOSE" => ("flow_close".into(), &["connection", "end", "allowed"]),
            "RT_FLOW_SESSION_DENY" => ("flow_deny".into(), &["connection", "denied"]),
            t if t.ends_with("_BLOCKED") => (t.to_ascii_lowercase(), &["denied"]),
            t => (t.to_ascii_lowercase(), &[]),
        };
        ev.set("event.action", json!(action));
        if !types.is_empty() {
            ev.set("event.type", json!(types));
        }
        if tag.starts_with("RT_IDP") || tag.starts_with("RT_SCREEN") || tag.starts_with("IDP_") {
            ev.set("event.kind", json!("alert"));
            categories.push("intrusion_detection");
        }
    }
    ev.set("event.category", json!(categories));
    if let Some(addr) = get("source-address") {
        endpoint(
            ev,
            "source",
            get("source-interface-name"),
            addr,
            get("source-port"),
        );
    }
    if let Some(addr) = get("destination-address") {
        endpoint(
            ev,
            "destination",
            get("destination-interface-name"),
            addr,
            get("destination-port"),
        );
    }
    set_nat(ev, "source", get("nat-source-address"), get("nat-source-port"));
    set_nat(
        ev,
        "destination",
        get("nat-destination-address"),
        get("nat-destination-port"),
    );
    if let Some(p) = get("protocol-id") {
        set_transport(ev, p);
    }
    let pairs = [
        ("policy-name", "rule.name"),
        ("attack-name", "rule.name"),
        ("category", "rule.category"),
        ("source-zone-name", "observer.ingress.zone"),
        ("destination-zone-name", "observer.egress.zone"),
        ("username", "source.user.name"),
        ("reason", "event.reason"),
        ("url", "url.original"),
    ];
    for (key, path) in pairs {
        if let Some(v) = get(key) {
            set_str(ev, path, v);
        }
    }
    for key in ["nested-application", "application"] {
        if let Some(app) = get(key).filter(|a| !a.eq_ignore_ascii_case("UNKNOWN")) {
            set_str(ev, "network.application", &app.to_ascii_lowercase());
        }
    }
    let counters = [
        ("packets-from-client", "source.packets"),
        ("bytes-from-client", "source.bytes"),
        ("packets-from-server", "destination.packets"),
        ("bytes-from-server", "destination.bytes"),
    ];
    for (key, path) in counters {
        if let Some(v) = get(key) {
            set_u64(ev, path, v);
        }
    }
    for (what, client, server) in [
        ("bytes", "bytes-from-client", "bytes-from-server"),
        ("packets", "packets-from-client", "packets-from-server"),
    ] {
        let n = |k| get(k).and_then(|v| v.parse::<u64>().ok());
        if let (Some(c), Some(s)) = (n(client), n(server)) {
            ev.set(&format!("network.{what}"), json!(c.saturating_add(s)));
        }
    }
    if let Some(secs) = get("elapsed-time").and_then(|v| v.parse::<u64>().ok()) {
        ev.set("event.duration", json!(secs.saturating_mul(1_000_000_000)));
    }
    for (key, value) in params {
        let name = key.replace('-', "_");
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            continue;
        }
        match value {
            Value::String(v) => {
                if name.ends_with("_port") && set_port(ev, &format!("juniper.srx.{name}"), v) {
                    continue;
                }
                set_str(ev, &format!("juniper.srx.{name}"), v);
            }
            other => ev.set(&format!("juniper.srx.{name}"), other.clone()),
        }
    }
    true
}

/// Map a message that carries a Junos header and element itself, as SRX
/// devices write it behind a BSD syslog header
/// (`junos-flow: 2017-09-23T13:54:54.803Z srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.… k="v" …] text`);
/// the time of the inner header. `None` when the message has no
/// well-formed `[junos@…]` element.
pub(crate) fn map_message(ev: &mut Event, msg: &str, ingest: DateTime<Utc>) -> Option<Option<Stamp>> {
    if !msg.contains("[junos@") {
        return None;
    }
    // The message is an RFC 5424 header without `<PRI>1`: read it with the
    // syslog header reader, structured data and escapes included.
    let line = format!("1 {}", msg.trim_start());
    let Found::Header(h) = header::find(&line, ingest) else {
        return None;
    };
    if !map(ev, h.msgid, &h.structured_data) {
        return None;
    }
    if let Some(host) = h.hostname {
        set_str(ev, "observer.name", host);
    }
    set_str(ev, "message", h.msg);
    Some(h.stamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sd(pairs: &[(&str, &str)]) -> Map<String, Value> {
        let params: Map<String, Value> = pairs.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        let mut sd = Map::new();
        sd.insert("junos@2636.1.1.1.2.129".into(), Value::Object(params));
        sd
    }

    #[test]
    fn session_close_with_counters_and_nat() {
        let mut ev = Event::new("t", Utc::now(), "o");
        let sd = sd(&[
            ("reason", "TCP FIN"),
            ("source-address", "10.1.1.5"),
            ("source-port", "50123"),
            ("destination-address", "93.184.216.34"),
            ("destination-port", "443"),
            ("nat-source-address", "198.51.100.1"),
            ("nat-source-port", "40000"),
            ("nat-destination-address", "0.0.0.0"),
            ("protocol-id", "6"),
            ("policy-name", "allow-web"),
            ("source-zone-name", "trust"),
            ("destination-zone-name", "untrust"),
            ("packets-from-client", "10"),
            ("bytes-from-client", "1200"),
            ("packets-from-server", "8"),
            ("bytes-from-server", "9000"),
            ("elapsed-time", "3"),
            ("application", "SSL"),
            ("nested-application", "UNKNOWN"),
            ("username", "N/A"),
        ]);
        assert!(map(&mut ev, Some("RT_FLOW_SESSION_CLOSE"), &sd));
        for (path, want) in [
            ("event.action", json!("flow_close")),
            ("event.type", json!(["connection", "end", "allowed"])),
            ("source.ip", json!("10.1.1.5")),
            ("source.port", json!(50123)),
            ("destination.port", json!(443)),
            ("source.nat.ip", json!("198.51.100.1")),
            ("source.nat.port", json!(40000)),
            ("network.transport", json!("tcp")),
            ("rule.name", json!("allow-web")),
            ("observer.ingress.zone", json!("trust")),
            ("network.bytes", json!(10200)),
            ("network.packets", json!(18)),
            ("event.duration", json!(3_000_000_000u64)),
            ("event.reason", json!("TCP FIN")),
            ("network.application", json!("ssl")),
            ("juniper.srx.session_id_32", Value::Null),
            ("juniper.srx.nat_source_port", json!(40000)),
            ("juniper.srx.policy_name", json!("allow-web")),
        ] {
            if want.is_null() {
                assert_eq!(ev.get(path), None, "{path}");
            } else {
                assert_eq!(ev.get(path), Some(&want), "{path}");
            }
        }
        assert_eq!(ev.get("destination.nat.ip"), None);
        assert_eq!(ev.get("source.user.name"), None);
    }

    #[test]
    fn idp_attack_is_an_alert_and_other_sd_is_not_junos() {
        let mut ev = Event::new("t", Utc::now(), "o");
        let sd = sd(&[("attack-name", "HTTP:SQL:INJ"), ("threat-severity", "HIGH")]);
        assert!(map(&mut ev, Some("RT_IDP_ATTACK_LOG_EVENT"), &sd));
        assert_eq!(ev.get_str("event.kind"), Some("alert"));
        assert_eq!(ev.get_str("rule.name"), Some("HTTP:SQL:INJ"));
        assert_eq!(
            ev.get("event.category"),
            Some(&json!(["network", "intrusion_detection"]))
        );
        let mut ev = Event::new("t", Utc::now(), "o");
        let msg = r#"2017-09-23T13:54:54.803Z srx1 RT_FLOW - RT_FLOW_SESSION_DENY [junos@2636.1.1.1.2.39 source-address="192.168.1.1" policy-name="a \"b\" \] c" reason="policy deny"] denied"#;
        let time = map_message(&mut ev, msg, Utc::now()).unwrap().unwrap();
        assert_eq!(time.time.to_rfc3339(), "2017-09-23T13:54:54.803+00:00");
        assert_eq!(ev.get_str("event.action"), Some("flow_deny"));
        assert_eq!(ev.get_str("rule.name"), Some(r#"a "b" ] c"#));
        assert_eq!(ev.get_str("observer.name"), Some("srx1"));
        assert_eq!(ev.get_str("message"), Some("denied"));
        for bad in ["[junos@1 a=\"unterminated]", "[junos@1 a=b]", "no element"] {
            assert!(
                map_message(&mut Event::new("t", Utc::now(), "o"), bad, Utc::now()).is_none(),
                "{bad}"
            );
        }
        let mut other = Map::new();
        other.insert("origin@1".into(), json!({"ip": "1.2.3.4"}));
        assert!(!map(&mut Event::new("t", Utc::now(), "o"), Some("X"), &other));
    }
}
