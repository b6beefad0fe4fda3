//! Cisco IOS messages: `%FACILITY-SEVERITY-MNEMONIC: text`, behind a syslog
//! header or with IOS's own prefix (`123: *Oct  6 03:32:04.114 UTC: %SEC-6-…`,
//! `00:00:46: %LINK-3-UPDOWN: …`). ASA-family messages are read by
//! [`super::asa`] first.
//!
//! | from                                         | ECS / Mamori |
//! |----------------------------------------------|--------------|
//! | —                                            | `observer.vendor` = `Cisco`, `observer.product` = `IOS` |
//! | FACILITY                                     | `cisco.ios.facility` |
//! | SEVERITY (0–7)                               | `log.level` (`emerg` … `debug`) |
//! | MNEMONIC                                     | `event.code` |
//! | the text                                     | `message` |
//! | the prefix time (`Mmm dd hh:mm:ss[.fff] [zone]`) | `@timestamp` (no zone or an unknown one: read as UTC) |
//! | `list L {permitted\|denied} proto A(p) … -> B(q)` (`IPACCESSLOGP`) | `rule.name`, `event.action`, `network.transport`, `source.ip`, `source.port`, `destination.ip`, `destination.port` |
//! | `[A:p -> B:q]` (`IPS-4-SIGNATURE`)           | `source.ip`, `source.port`, `destination.ip`, `destination.port` |

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use super::asa::LEVELS;
use super::endpoint;
use crate::fieldmap::{self, Stamp, set_str};

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static HEAD: LazyLock<Regex> =
    LazyLock::new(|| re(r"^([^%]{0,60}?)%([A-Z][A-Z0-9_]*)-([0-7])-([A-Z0-9_]+):?\s*(.*)$"));

/// Map a Cisco IOS message (the table above); `None` when `msg` is not one,
/// else the time of its prefix when readable.
pub(crate) fn map(ev: &mut Event, msg: &str, ingest: DateTime<Utc>) -> Option<Option<Stamp>> {
    static SEQ: LazyLock<Regex> = LazyLock::new(|| re(r"^\d+:\s*[*.]?"));
    static ACL: LazyLock<Regex> = LazyLock::new(|| {
        re(r"list (\S+) (permitted|denied) (\S+) ([\d.]+)(?:\((\d+)\))?.*?-> ([\d.]+)(?:\((\d+)\))?")
    });
    static IPS: LazyLock<Regex> = LazyLock::new(|| re(r"\[([\d.]+):(\d+) -> ([\d.]+):(\d+)\]"));
    let c = HEAD.captures(msg.trim())?;
    let prefix = c[1].trim();
    if !(prefix.is_empty() || prefix.ends_with(':')) {
        return None;
    }
    ev.set("observer.vendor", json!("Cisco"));
    ev.set("observer.product", json!("IOS"));
    ev.set("cisco.ios.facility", json!(&c[2]));
    if let Some(level) = c[3].parse::<usize>().ok().and_then(|l| LEVELS.get(l)) {
        ev.set("log.level", json!(level));
    }
    ev.set("event.code", json!(&c[4]));
    let body = c.get(5).map_or("", |m| m.as_str());
    set_str(ev, "message", body);
    if let Some(a) = ACL.captures(body) {
        set_str(ev, "rule.name", &a[1]);
        ev.set("event.action", json!(&a[2]));
        ev.set("network.transport", json!(a[3].to_ascii_lowercase()));
        endpoint(ev, "source", None, &a[4], a.get(5).map(|m| m.as_str()));
        endpoint(ev, "destination", None, &a[6], a.get(7).map(|m| m.as_str()));
    } else if let Some(a) = IPS.captures(body) {
        endpoint(ev, "source", None, &a[1], Some(&a[2]));
        endpoint(ev, "destination", None, &a[3], Some(&a[4]));
    }
    let time_text = prefix.trim_end_matches(':');
    let time_text = SEQ.find(time_text).map_or(time_text, |m| &time_text[m.end()..]);
    Some(fieldmap::parse_time(
        time_text.trim_start_matches(['*', '.']),
        ingest,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(msg: &str) -> (Event, Option<Stamp>) {
        let mut ev = Event::new("t", Utc::now(), msg);
        let time = map(&mut ev, msg, Utc::now()).unwrap_or_else(|| panic!("{msg}"));
        (ev, time)
    }

    #[test]
    fn prefixes_and_fields() {
        let (ev, time) = mapped(
            "3924923: *Oct  6 03:32:04.114 UTC: %SEC-6-IPACCESSLOGP: list acl_out denied tcp 10.0.3.100(50150) (Gi0/1 ) -> 192.0.2.1(443), 1 packet",
        );
        assert_eq!(ev.get_str("event.code"), Some("IPACCESSLOGP"));
        assert_eq!(ev.get_str("log.level"), Some("info"));
        assert_eq!(ev.get_str("rule.name"), Some("acl_out"));
        assert_eq!(ev.source_ip(), Some("10.0.3.100"));
        assert_eq!(ev.get("destination.port"), Some(&json!(443)));
        let time = time.unwrap();
        assert!(!time.assumed_utc);
        assert_eq!(
            time.time.format("%m-%d %H:%M:%S%.3f").to_string(),
            "10-06 03:32:04.114"
        );
        let (ev, time) = mapped(
            "%IPS-4-SIGNATURE: Sig:3051 Subsig:1 Sev:4 Window DoS [192.0.2.11:51654 -> 10.10.10.10:4444]",
        );
        assert_eq!(ev.get("source.port"), Some(&json!(51654)));
        assert!(time.is_none());
        let (ev, _) = mapped("00:00:46: %LINK-3-UPDOWN: Interface Port-channel1, changed state to up");
        assert_eq!(ev.get_str("cisco.ios.facility"), Some("LINK"));
        assert_eq!(
            ev.get_str("message"),
            Some("Interface Port-channel1, changed state to up")
        );
        let mut ev = Event::new("t", Utc::now(), "x");
        assert!(map(&mut ev, "some text then %SYS-5-CONFIG_I: x", Utc::now()).is_none());
        assert!(map(&mut ev, "no percent here", Utc::now()).is_none());
    }
}
