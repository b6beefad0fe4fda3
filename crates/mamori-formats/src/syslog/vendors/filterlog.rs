//! pfSense and OPNsense packet-filter logs: the comma-separated lines of
//! the syslog app `filterlog`, in the layout Netgate documents as the raw
//! filter log format (OPNsense writes the same). Names follow Elastic's
//! `pfsense` integration.
//!
//! | column(s)                                   | ECS / Mamori |
//! |---------------------------------------------|--------------|
//! | 0 rule number, 1 sub rule, 2 anchor         | `pfsense.rule.number`, `.subrule`, `.anchor` |
//! | 3 tracker (OPNsense: rule label)            | `rule.id` |
//! | 4 real interface                            | `observer.ingress.interface.name` (direction `in`) or `observer.egress.interface.name` (`out`) |
//! | 5 reason (`match`, …)                       | `event.reason` |
//! | 6 action (`pass`, `block`, `reject`, …)     | `event.action`; `event.type` = `connection` + `allowed` (pass) / `denied` (block, reject) |
//! | 7 direction (`in` / `out`)                  | `network.direction` = `ingress` / `egress` |
//! | 8 IP version (4 / 6)                        | `network.type` = `ipv4` / `ipv6` |
//! | IPv4: 9 TOS, 10 ECN, 11 TTL, 12 id, 13 offset, 14 flags, 15 protocol id, 16 protocol | `pfsense.ip.tos`, `.ecn`, `.ttl`, `.id`, `.offset`, `.flags`; `network.iana_number`, `network.transport` |
//! | IPv6: 9 class, 10 flow label, 11 hop limit, 12 protocol, 13 protocol id | `pfsense.ip.tos`, `.flow_label`, `.ttl`; `network.transport`, `network.iana_number` |
//! | then: length, source, destination           | `pfsense.ip.length`, `source.ip`, `destination.ip` |
//! | TCP: source port, destination port, data length, flags, sequence, ack, window, urg, options | `source.port`, `destination.port`, `pfsense.tcp.length`, `.flags`, `.seq`, `.ack`, `.window`, `.urg`, `.options` (a list, split at `;`) |
//! | UDP: source port, destination port, data length | `source.port`, `destination.port`, `pfsense.udp.length` |
//! | ICMP: type, then its fields                 | `pfsense.icmp.type`; `request`/`reply`: `pfsense.icmp.id`, `.seq` |
//! | CARP: type, TTL, vhid, version, advskew, advbase | `pfsense.carp.type`, `.ttl`, `.vhid`, `.version`, `.advskew`, `.advbase` |
//!
//! `event.kind` = `event`, `event.category` = `network`, `event.module` =
//! `pfsense`, `event.dataset` = `pfsense.log`. A line of app `filterlog`
//! that is not in this layout stays text.

use mamori_model::Event;
use serde_json::json;

use crate::fieldmap::{ip, set_hex, set_ip, set_port, set_str, set_transport, set_u64};

/// True for the syslog app of these lines.
pub(crate) fn recognises(app: Option<&str>) -> bool {
    app.is_some_and(|a| a.eq_ignore_ascii_case("filterlog"))
}

/// Map a filter log line (the table above); false when it is not in the
/// documented layout.
pub(crate) fn map(ev: &mut Event, msg: &str) -> bool {
    let c: Vec<&str> = msg.trim().split(',').collect();
    let at = |i: usize| c.get(i).copied().unwrap_or("");
    if c.len() < 9 || !matches!(at(7), "in" | "out") || !matches!(at(8), "4" | "6") {
        return false;
    }
    let (v4, next) = if at(8) == "4" { (true, 17) } else { (false, 14) };
    if c.len() < next + 3 || ip(at(next + 1)).is_none() || ip(at(next + 2)).is_none() {
        return false;
    }
    ev.set("event.kind", json!("event"));
    ev.set("event.category", json!(["network"]));
    ev.set("event.module", json!("pfsense"));
    ev.set("event.dataset", json!("pfsense.log"));
    set_u64(ev, "pfsense.rule.number", at(0));
    set_u64(ev, "pfsense.rule.subrule", at(1));
    set_str(ev, "pfsense.rule.anchor", at(2));
    set_str(ev, "rule.id", at(3));
    let inbound = at(7) == "in";
    let side = if inbound { "ingress" } else { "egress" };
    set_str(ev, &format!("observer.{side}.interface.name"), at(4));
    ev.set("network.direction", json!(side));
    set_str(ev, "event.reason", at(5));
    let action = at(6).trim().to_ascii_lowercase();
    if !action.is_empty() {
        let verdict = match action.as_str() {
            "pass" | "allow" => Some("allowed"),
            "block" | "reject" | "drop" => Some("denied"),
            _ => None,
        };
        let mut types = vec!["connection"];
        types.extend(verdict);
        ev.set("event.type", json!(types));
        ev.set("event.action", json!(action));
    }
    ev.set("network.type", json!(if v4 { "ipv4" } else { "ipv6" }));
    let proto_id = if v4 {
        set_hex(ev, "pfsense.ip.tos", at(9));
        set_str(ev, "pfsense.ip.ecn", at(10));
        set_u64(ev, "pfsense.ip.ttl", at(11));
        set_u64(ev, "pfsense.ip.id", at(12));
        set_u64(ev, "pfsense.ip.offset", at(13));
        let flags: Vec<&str> = at(14)
            .split('+')
            .filter(|f| !f.is_empty() && *f != "none")
            .collect();
        if !flags.is_empty() {
            ev.set("pfsense.ip.flags", json!(flags));
        }
        at(15)
    } else {
        set_hex(ev, "pfsense.ip.tos", at(9));
        set_str(ev, "pfsense.ip.flow_label", at(10));
        set_u64(ev, "pfsense.ip.ttl", at(11));
        at(13)
    };
    if !set_transport(ev, proto_id) {
        set_transport(ev, if v4 { at(16) } else { at(12) });
    }
    set_u64(ev, "pfsense.ip.length", at(next));
    set_ip(ev, "source.ip", at(next + 1));
    set_ip(ev, "destination.ip", at(next + 2));
    let rest = &c[next + 3..];
    let r = |i: usize| rest.get(i).copied().unwrap_or("");
    match proto_id.trim() {
        "6" => {
            set_port(ev, "source.port", r(0));
            set_port(ev, "destination.port", r(1));
            set_u64(ev, "pfsense.tcp.length", r(2));
            set_str(ev, "pfsense.tcp.flags", r(3));
            set_u64(ev, "pfsense.tcp.seq", r(4));
            set_u64(ev, "pfsense.tcp.ack", r(5));
            set_u64(ev, "pfsense.tcp.window", r(6));
            set_str(ev, "pfsense.tcp.urg", r(7));
            let options: Vec<&str> = r(8).split(';').filter(|o| !o.is_empty()).collect();
            if !options.is_empty() {
                ev.set("pfsense.tcp.options", json!(options));
            }
        }
        "17" => {
            set_port(ev, "source.port", r(0));
            set_port(ev, "destination.port", r(1));
            set_u64(ev, "pfsense.udp.length", r(2));
        }
        "1" | "58" => {
            set_str(ev, "pfsense.icmp.type", r(0));
            if matches!(r(0), "request" | "reply") {
                set_u64(ev, "pfsense.icmp.id", r(1));
                set_u64(ev, "pfsense.icmp.seq", r(2));
            }
        }
        "112" => {
            for (i, name) in ["type", "ttl", "vhid", "version", "advskew", "advbase"]
                .iter()
                .enumerate()
            {
                set_str(ev, &format!("pfsense.carp.{name}"), r(i));
            }
        }
        _ => {}
    }
    true
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;

    fn mapped(msg: &str) -> Event {
        super::super::mapped(map, msg)
    }

    #[test]
    fn ipv4_tcp_block() {
        let ev = mapped(
            "5,,,1000000103,igb0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,198.51.100.7,192.0.2.10,44321,443,0,S,123456789,,64240,,mss;sackOK;TS;nop;wscale",
        );
        for (path, want) in [
            ("event.action", json!("block")),
            ("event.type", json!(["connection", "denied"])),
            ("rule.id", json!("1000000103")),
            ("pfsense.rule.number", json!(5)),
            ("observer.ingress.interface.name", json!("igb0")),
            ("network.direction", json!("ingress")),
            ("network.transport", json!("tcp")),
            ("network.type", json!("ipv4")),
            ("source.ip", json!("198.51.100.7")),
            ("source.port", json!(44321)),
            ("destination.ip", json!("192.0.2.10")),
            ("destination.port", json!(443)),
            ("pfsense.ip.flags", json!(["DF"])),
            ("pfsense.tcp.flags", json!("S")),
            ("pfsense.tcp.window", json!(64240)),
            (
                "pfsense.tcp.options",
                json!(["mss", "sackOK", "TS", "nop", "wscale"]),
            ),
        ] {
            assert_eq!(ev.get(path), Some(&want), "{path}");
        }
        assert_eq!(ev.get("pfsense.tcp.ack"), None);
    }

    #[test]
    fn ipv6_udp_pass_out_and_icmp() {
        let ev = mapped(
            "77,,,1770009100,em1,match,pass,out,6,0x00,0x00000,255,UDP,17,96,2001:db8::1,2001:db8::53,54000,53,96",
        );
        assert_eq!(ev.get("event.type"), Some(&json!(["connection", "allowed"])));
        assert_eq!(ev.get_str("observer.egress.interface.name"), Some("em1"));
        assert_eq!(ev.get_str("destination.ip"), Some("2001:db8::53"));
        assert_eq!(ev.get("destination.port"), Some(&json!(53)));
        assert_eq!(ev.get("pfsense.udp.length"), Some(&json!(96)));
        assert_eq!(ev.get_str("network.type"), Some("ipv6"));

        let ev = mapped(
            "9,,,1000000103,igb1,match,block,in,4,0x0,,57,1234,0,none,1,icmp,84,10.0.0.9,10.0.0.1,request,4321,7",
        );
        assert_eq!(ev.get_str("pfsense.icmp.type"), Some("request"));
        assert_eq!(ev.get("pfsense.icmp.seq"), Some(&json!(7)));
        assert_eq!(ev.get("pfsense.ip.flags"), None);
    }

    #[test]
    fn other_shapes_are_not_filter_logs() {
        for msg in [
            "5,,,1,igb0,match,block,sideways,4,0x0,,64,0,0,DF,6,tcp,60,1.2.3.4,5.6.7.8",
            "5,,,1,igb0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,not-an-ip,5.6.7.8",
            "filterlog started",
        ] {
            assert!(!map(&mut Event::new("t", Utc::now(), msg), msg), "{msg}");
        }
    }
}
