//! Fortinet FortiGate / FortiOS key=value logs (also FortiMail and other
//! Forti products with the same shape), recognised by `logid` or `log_id`
//! together with `devname`, `devid`, `device_id`, `vd` or `eventtime`. These extras come on top
//! of the generic key=value mapping ([`crate::kv`]), which already maps
//! `srcip`, `dstip`, `srcport`, `dstport`, `user`, `action`, `proto`,
//! `status` and the time (`date` + `time` + `tz`).
//!
//! | key                          | ECS / Mamori |
//! |------------------------------|--------------|
//! | —                            | `observer.vendor` = `Fortinet`; `observer.product` = `FortiGate` (serial `FG…`) or `FortiMail` (`FE…`) |
//! | `devname`                    | `observer.name` |
//! | `devid`, `device_id`         | `observer.serial_number` |
//! | `logid`, `log_id`            | `event.code` |
//! | `level`, `pri`               | `log.level` |
//! | `msg`                        | `message` |
//! | `ui` = `proto(address)`      | `source.ip` (when not set yet), `network.protocol` |
//! | `remip`                      | `source.ip` (when not set yet) |
//! | `status` that is not an outcome (`deny`, `accept`…) | `event.action` (when not set yet) |
//! | `eventtime` (epoch s/ms/µs/ns)  | `@timestamp` (over `date` + `time`) |
//! | `sentbyte`, `rcvdbyte`, `sentpkt`, `rcvdpkt` | `source.bytes`, `destination.bytes`, `source.packets`, `destination.packets` |
//! | `policyid`                   | `rule.id` |
//! | `srcintf`, `dstintf`         | `observer.ingress.interface.name`, `observer.egress.interface.name` |

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use crate::fieldmap::{self, Stamp, set_ip, set_str, set_u64};
use crate::kv::get;

/// True when the pairs look like a Fortinet log: `logid`/`log_id` with
/// `devname`, `devid`, `device_id`, `vd` or `eventtime`.
pub(crate) fn is_fortinet(pairs: &[(String, String)]) -> bool {
    get(pairs, &["devname", "devid", "device_id", "vd", "eventtime"]).is_some()
        && get(pairs, &["logid", "log_id"]).is_some()
}

/// Map the Fortinet extras (the table above). Returns `eventtime` (epoch
/// seconds to nanoseconds, UTC) when there is one; else the generic
/// `date` + `time` + `tz` reading is used.
pub(crate) fn refine(ev: &mut Event, pairs: &[(String, String)], ingest: DateTime<Utc>) -> Option<Stamp> {
    static UI: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^([\w-]+)\(([^)]+)\)$").expect("valid regex"));
    ev.set("observer.vendor", json!("Fortinet"));
    let serial = get(pairs, &["devid", "device_id"]);
    match serial.map(|s| s.get(..2).unwrap_or("").to_ascii_uppercase()) {
        Some(p) if p == "FG" => ev.set("observer.product", json!("FortiGate")),
        Some(p) if p == "FE" => ev.set("observer.product", json!("FortiMail")),
        _ => {}
    }
    for (keys, path) in [
        (&["devname"][..], "observer.name"),
        (&["devid", "device_id"], "observer.serial_number"),
        (&["logid", "log_id"], "event.code"),
        (&["level", "pri"], "log.level"),
        (&["msg"], "message"),
        (&["policyid"], "rule.id"),
        (&["srcintf"], "observer.ingress.interface.name"),
        (&["dstintf"], "observer.egress.interface.name"),
    ] {
        if let Some(v) = get(pairs, keys) {
            set_str(ev, path, v);
        }
    }
    if ev.get("source.ip").is_none()
        && let Some(c) = get(pairs, &["ui"]).and_then(|ui| UI.captures(ui))
        && set_ip(ev, "source.ip", &c[2])
    {
        ev.set("network.protocol", json!(c[1].to_ascii_lowercase()));
    }
    if ev.get("source.ip").is_none()
        && let Some(v) = get(pairs, &["remip"])
    {
        set_ip(ev, "source.ip", v);
    }
    if ev.get("event.action").is_none()
        && ev.get("event.outcome").is_none()
        && let Some(v) = get(pairs, &["status"])
    {
        set_str(ev, "event.action", v);
    }
    for (key, path) in [
        ("sentbyte", "source.bytes"),
        ("rcvdbyte", "destination.bytes"),
        ("sentpkt", "source.packets"),
        ("rcvdpkt", "destination.packets"),
    ] {
        if let Some(v) = get(pairs, &[key]) {
            set_u64(ev, path, v);
        }
    }
    get(pairs, &["eventtime"]).and_then(|t| fieldmap::parse_time(t, ingest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{map_pairs, pairs};

    #[test]
    fn admin_login_failed() {
        let line = r#"date=2024-06-14 time=12:22:01 devname="fw-edge" devid=FGT60E0000000001 logid="0100032002" type=event subtype=system level=alert vd="root" logdesc="Admin login failed" user="mallory" ui=ssh(198.51.100.23) action=login status=failed reason="name_invalid" msg="Administrator mallory login failed from ssh(198.51.100.23)""#;
        let p = pairs(line).unwrap();
        assert!(is_fortinet(&p));
        let mut ev = Event::new("t", Utc::now(), line);
        let time = map_pairs(&mut ev, &p, Utc::now()).unwrap();
        assert_eq!(time.time.to_rfc3339(), "2024-06-14T12:22:01+00:00");
        assert!(time.assumed_utc);
        for (path, want) in [
            ("observer.vendor", json!("Fortinet")),
            ("observer.product", json!("FortiGate")),
            ("observer.name", json!("fw-edge")),
            ("event.code", json!("0100032002")),
            ("log.level", json!("alert")),
            ("user.name", json!("mallory")),
            ("source.ip", json!("198.51.100.23")),
            ("network.protocol", json!("ssh")),
            ("event.action", json!("login")),
            ("event.outcome", json!("failure")),
            (
                "message",
                json!("Administrator mallory login failed from ssh(198.51.100.23)"),
            ),
        ] {
            assert_eq!(ev.get(path), Some(&want), "{path}");
        }
    }

    #[test]
    fn traffic() {
        let line = r#"date=2024-06-15 time=09:41:35 tz="+0200" devname=fw devid=FG100F logid=0000000013 type=traffic srcip=10.0.0.8 srcport=62216 dstip=192.0.2.162 dstport=80 srcintf="internal" dstintf="wan1" policyid=2 proto=6 action=deny sentbyte=100 rcvdbyte=0"#;
        let p = pairs(line).unwrap();
        let mut ev = Event::new("t", Utc::now(), line);
        let time = map_pairs(&mut ev, &p, Utc::now()).unwrap();
        assert_eq!(time.time.to_rfc3339(), "2024-06-15T07:41:35+00:00");
        assert!(!time.assumed_utc);
        assert_eq!(ev.get("destination.port"), Some(&json!(80)));
        assert_eq!(ev.get_str("network.transport"), Some("tcp"));
        assert_eq!(ev.get_str("rule.id"), Some("2"));
        assert_eq!(ev.get("source.bytes"), Some(&json!(100)));
        assert_eq!(ev.action(), Some("deny"));
    }
}
