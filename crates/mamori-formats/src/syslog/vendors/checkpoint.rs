//! Check Point syslog messages (`[key:"value"; key:"value"; …]`, as sent
//! by Smart-1 / Log Exporter in RFC 5424 frames). Recognised when the
//! message starts with `[` and its first item is `key:"value"`. Pairs are
//! read leniently (a cut-off message keeps the pairs before the cut).
//!
//! | key                         | ECS / Mamori |
//! |-----------------------------|--------------|
//! | every pair                  | `checkpoint.<key>` |
//! | —                           | `observer.vendor` = `Check Point` |
//! | `product`                   | `observer.product` |
//! | `origin`                    | `observer.ip` |
//! | `src`, `dst`                | `source.ip`, `destination.ip` |
//! | `s_port`, `service`         | `source.port`, `destination.port` |
//! | `proto`                     | `network.transport` (a number also gives `network.iana_number`) |
//! | `action`                    | `event.action` |
//! | `user`, `src_user_name`     | `user.name` |
//! | `rule_name`                 | `rule.name` |
//! | `time` (epoch seconds)      | `@timestamp` |

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use crate::fieldmap::{self, Stamp, put_raw, set_ip, set_port, set_str, set_transport};
use crate::kv;

static PAIR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"([A-Za-z_][\w:-]*?):"((?:[^"\\]|\\.)*)""#).expect("valid regex"));
static FIRST: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"^\[[A-Za-z_][\w-]*:""#).expect("valid regex"));

/// True when `msg` looks like a Check Point `[key:"value"; …]` message.
pub(crate) fn recognises(msg: &str) -> bool {
    FIRST.is_match(msg.trim_start())
}

/// Map a Check Point message (the table above); `None` when `msg` is not
/// one, else its `time` when readable.
pub(crate) fn map(ev: &mut Event, msg: &str, ingest: DateTime<Utc>) -> Option<Option<Stamp>> {
    if !recognises(msg) {
        return None;
    }
    let pairs: Vec<(String, String)> = PAIR
        .captures_iter(msg)
        .map(|c| (c[1].trim_end_matches(':').to_string(), c[2].replace("\\\"", "\"")))
        .collect();
    ev.set("observer.vendor", json!("Check Point"));
    for (k, v) in &pairs {
        put_raw(ev, "checkpoint", k, v);
    }
    let get = |names: &[&str]| kv::get(&pairs, names);
    for (key, path) in [
        ("src", "source.ip"),
        ("dst", "destination.ip"),
        ("origin", "observer.ip"),
    ] {
        if let Some(v) = get(&[key]) {
            set_ip(ev, path, v);
        }
    }
    for (key, path) in [("s_port", "source.port"), ("service", "destination.port")] {
        if let Some(v) = get(&[key]) {
            set_port(ev, path, v);
        }
    }
    for (keys, path) in [
        (&["product"][..], "observer.product"),
        (&["action"], "event.action"),
        (&["user", "src_user_name"], "user.name"),
        (&["rule_name"], "rule.name"),
    ] {
        if let Some(v) = get(keys) {
            set_str(ev, path, v);
        }
    }
    if let Some(v) = get(&["proto"]) {
        set_transport(ev, v);
    }
    Some(get(&["time"]).and_then(|t| fieldmap::parse_time(t, ingest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_and_mapping() {
        let msg = r#"[action:"Drop"; origin:"192.0.2.1"; src:"10.0.0.1"; dst:"10.0.0.2"; proto:"6"; s_port:"5000"; service:"443"; product:"VPN-1 & FireWall-1"; note:"say \"x\""; time:"1557937550"]"#;
        let mut ev = Event::new("t", Utc::now(), msg);
        let time = map(&mut ev, msg, Utc::now()).unwrap().unwrap();
        assert_eq!(time.time.timestamp(), 1557937550);
        assert_eq!(ev.action(), Some("Drop"));
        assert_eq!(ev.source_ip(), Some("10.0.0.1"));
        assert_eq!(ev.get("destination.port"), Some(&json!(443)));
        assert_eq!(ev.get_str("network.transport"), Some("tcp"));
        assert_eq!(ev.get_str("observer.ip"), Some("192.0.2.1"));
        assert_eq!(ev.get_str("checkpoint.note"), Some("say \"x\""));
        assert!(!recognises("[ID 800047 auth.notice] x"));
    }
}
