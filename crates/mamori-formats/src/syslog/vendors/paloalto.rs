//! Palo Alto Networks PAN-OS logs: comma-separated values (quoted fields
//! allowed, `""` inside quotes) in the documented column order, recognised
//! by `receive time` (`yyyy/mm/dd hh:mm:ss`) in column 1 and an upper-case
//! type in column 3. All types get the common columns; TRAFFIC and THREAT
//! get the network columns, SYSTEM its own. Other types (CONFIG,
//! GLOBALPROTECT, …) keep only the common columns: their other columns stay
//! in `message` and `event.original`.
//!
//! | column (0-based)          | ECS / Mamori |
//! |---------------------------|--------------|
//! | —                         | `observer.vendor` = `Palo Alto Networks`, `observer.product` = `PAN-OS` |
//! | 2 serial number           | `observer.serial_number` |
//! | 3 type                    | `panos.type` (`TRAFFIC`, `THREAT`, …) |
//! | 4 subtype                 | `panos.subtype` |
//! | 6 generated time          | `@timestamp` (no zone: read as UTC) |
//! | TRAFFIC/THREAT 7, 8       | `source.ip`, `destination.ip` |
//! | 9, 10 NAT addresses       | `source.nat.ip`, `destination.nat.ip` (not for `0.0.0.0`) |
//! | 11 rule                   | `rule.name` |
//! | 12, 13 users              | `source.user.name` (and `user.name`), `destination.user.name` |
//! | 14 application            | `network.application` |
//! | 15 virtual system         | `panos.vsys` |
//! | 16, 17 zones              | `observer.ingress.zone`, `observer.egress.zone` |
//! | 18, 19 interfaces         | `observer.ingress.interface.name`, `observer.egress.interface.name` |
//! | 22 session id             | `panos.session_id` |
//! | 24, 25 ports              | `source.port`, `destination.port` |
//! | 26, 27 NAT ports          | `source.nat.port`, `destination.nat.port` (only with the NAT address) |
//! | 29 protocol               | `network.transport` |
//! | 30 action                 | `event.action` |
//! | TRAFFIC 31, 32, 33, 34    | `network.bytes`, `source.bytes`, `destination.bytes`, `network.packets` |
//! | THREAT 31                 | `panos.misc` (URL or file name) |
//! | THREAT 32                 | `panos.threat.name`; the number in its final `(…)` is `panos.threat.id` |
//! | THREAT 33, 34             | `panos.category`, `log.level` (severity) |
//! | SYSTEM 8, 12, 13, 14      | `event.code` (event id), `panos.module`, `log.level`, `message` |

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use crate::fieldmap::{self, Stamp, set_ip, set_port, set_str, set_transport, set_u64};

static SHAPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[^,]*,\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2},[^,]*,[A-Z][A-Z-]+(,|$)").expect("valid regex")
});

/// True when `msg` is a PAN-OS CSV log.
pub(crate) fn recognises(msg: &str) -> bool {
    SHAPE.is_match(msg.trim_start())
}

/// Fields of one CSV line: `"…"` quotes with `""` for a quote inside.
fn split_csv(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' if quoted => quoted = false,
            '"' if field.is_empty() => quoted = true,
            ',' if !quoted => out.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Map a PAN-OS log (the table above); `None` when `msg` is not one, else
/// the generated time when readable.
pub(crate) fn map(ev: &mut Event, msg: &str, ingest: DateTime<Utc>) -> Option<Option<Stamp>> {
    let msg = msg.trim();
    if !recognises(msg) {
        return None;
    }
    let f = split_csv(msg);
    let col = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
    ev.set("observer.vendor", json!("Palo Alto Networks"));
    ev.set("observer.product", json!("PAN-OS"));
    set_str(ev, "observer.serial_number", col(2));
    set_str(ev, "panos.type", col(3));
    set_str(ev, "panos.subtype", col(4));
    let time = fieldmap::parse_time(col(6), ingest);
    match col(3) {
        "TRAFFIC" | "THREAT" => network(ev, &f),
        "SYSTEM" => {
            set_str(ev, "panos.vsys", col(7));
            set_str(ev, "event.code", col(8));
            set_str(ev, "panos.module", col(12));
            set_str(ev, "log.level", col(13));
            set_str(ev, "message", col(14));
        }
        _ => {}
    }
    match col(3) {
        "TRAFFIC" => {
            for (i, path) in [
                (31, "network.bytes"),
                (32, "source.bytes"),
                (33, "destination.bytes"),
                (34, "network.packets"),
            ] {
                set_u64(ev, path, col(i));
            }
        }
        "THREAT" => {
            static ID: LazyLock<Regex> =
                LazyLock::new(|| Regex::new(r"^(.*)\((\d+)\)\s*$").expect("valid regex"));
            set_str(ev, "panos.misc", col(31));
            set_str(ev, "panos.threat.name", col(32));
            if let Some(c) = ID.captures(col(32)) {
                set_str(ev, "panos.threat.name", c[1].trim());
                set_str(ev, "panos.threat.id", &c[2]);
            }
            set_str(ev, "panos.category", col(33));
            set_str(ev, "log.level", col(34));
        }
        _ => {}
    }
    Some(time)
}

fn network(ev: &mut Event, f: &[String]) {
    let col = |i: usize| f.get(i).map(String::as_str).unwrap_or("");
    for (i, path) in [(7, "source.ip"), (8, "destination.ip")] {
        set_ip(ev, path, col(i));
    }
    for (i, path) in [(24, "source.port"), (25, "destination.port")] {
        set_port(ev, path, col(i));
    }
    fieldmap::set_nat(ev, "source", Some(col(9)), Some(col(26)));
    fieldmap::set_nat(ev, "destination", Some(col(10)), Some(col(27)));
    for (i, path) in [
        (11, "rule.name"),
        (12, "source.user.name"),
        (12, "user.name"),
        (13, "destination.user.name"),
        (14, "network.application"),
        (15, "panos.vsys"),
        (16, "observer.ingress.zone"),
        (17, "observer.egress.zone"),
        (18, "observer.ingress.interface.name"),
        (19, "observer.egress.interface.name"),
        (22, "panos.session_id"),
        (30, "event.action"),
    ] {
        set_str(ev, path, col(i));
    }
    set_transport(ev, col(29));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        Utc::now()
    }

    #[test]
    fn csv() {
        assert_eq!(
            split_csv(r#"a,"b,c","d ""q""",,e"#),
            vec!["a", "b,c", "d \"q\"", "", "e"]
        );
    }

    #[test]
    fn traffic() {
        let line = "1,2024/03/01 10:00:01,0123456789,TRAFFIC,end,2561,2024/03/01 10:00:00,10.1.1.5,203.0.113.9,198.51.100.1,203.0.113.9,allow-web,corp\\dave,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,fwd,2024/03/01 10:00:00,4411,1,50123,443,31000,443,0x400019,tcp,allow,5120,2048,3072,20,2024/03/01 09:59:50,10,computer-and-internet-info";
        let mut ev = Event::new("t", now(), line);
        let time = map(&mut ev, line, now()).unwrap().unwrap();
        assert_eq!(time.time.to_rfc3339(), "2024-03-01T10:00:00+00:00");
        assert!(time.assumed_utc);
        for (path, want) in [
            ("panos.type", json!("TRAFFIC")),
            ("source.ip", json!("10.1.1.5")),
            ("destination.ip", json!("203.0.113.9")),
            ("source.nat.ip", json!("198.51.100.1")),
            ("rule.name", json!("allow-web")),
            ("user.name", json!("corp\\dave")),
            ("network.application", json!("ssl")),
            ("source.port", json!(50123)),
            ("destination.port", json!(443)),
            ("network.transport", json!("tcp")),
            ("event.action", json!("allow")),
            ("network.bytes", json!(5120)),
            ("source.bytes", json!(2048)),
            ("destination.bytes", json!(3072)),
        ] {
            assert_eq!(ev.get(path), Some(&want), "{path}");
        }
        assert!(ev.get("destination.user.name").is_none());
    }

    #[test]
    fn threat_and_system() {
        let line = r#"1,2024/03/01 10:00:01,012,THREAT,vulnerability,0,2024/03/01 10:00:00,203.0.113.7,10.0.0.8,,,inbound-web,,,web-browsing,vsys1,untrust,dmz,ethernet1/1,ethernet1/3,fwd,2024/03/01 10:00:00,77,1,40000,80,0,0,0x2000,tcp,reset-both,"login.php",Example Injection Attempt(31337),any,critical,client-to-server"#;
        let mut ev = Event::new("t", now(), line);
        assert!(map(&mut ev, line, now()).is_some());
        assert_eq!(ev.get_str("panos.threat.name"), Some("Example Injection Attempt"));
        assert_eq!(ev.get_str("panos.threat.id"), Some("31337"));
        assert_eq!(ev.get_str("panos.misc"), Some("login.php"));
        assert_eq!(ev.get_str("log.level"), Some("critical"));
        assert_eq!(ev.get_str("event.action"), Some("reset-both"));
        let line = r#"1,2024/03/01 10:00:01,012,SYSTEM,general,0,2024/03/01 10:00:00,,general,,0,0,general,informational,"User admin logged in",1,0x0"#;
        let mut ev = Event::new("t", now(), line);
        assert!(map(&mut ev, line, now()).is_some());
        assert_eq!(ev.get_str("message"), Some("User admin logged in"));
        assert_eq!(ev.get_str("log.level"), Some("informational"));
        assert!(map(&mut ev, "a,b,c,d", now()).is_none());
    }
}
