//! Linux netfilter packet logs: what the `LOG` target of iptables / nftables
//! writes to the kernel log, also as UFW and firewalld write it
//! (`[UFW BLOCK] IN=eth0 OUT= MAC=… SRC=… DST=… LEN=60 … PROTO=TCP SPT=… DPT=22 … SYN URGP=0`).
//! Recognised by `IN=` (not inside a longer word) followed by ` OUT=` and
//! ` SRC=` anywhere in the message; names as Elastic's `iptables` module gives them.
//!
//! | message                          | ECS / Mamori |
//! |----------------------------------|--------------|
//! | the log prefix (text before `IN=`, without a kernel `[uptime]`) | `rule.name` (brackets and a trailing `:` removed), `iptables.prefix` |
//! | a verb in the prefix: `BLOCK`, `DROP`, `DENY`, `REJECT` / `ALLOW`, `ACCEPT`, `PASS` / `AUDIT` | `event.action` (lower case), `event.type` = `connection` + `denied` / `allowed`; `event.outcome` is not set (a packet is not a success or failure) |
//! | `IN=`, `OUT=`                    | `observer.ingress.interface.name` and `iptables.input_device`, `observer.egress.interface.name` and `iptables.output_device` (empty: none) |
//! | `PHYSIN=`, `PHYSOUT=`            | `iptables.physical_in`, `iptables.physical_out` (bridge ports) |
//! | `MAC=dst:src:type`               | `destination.mac`, `source.mac` (ECS form), `iptables.ether_type` (a number) |
//! | `SRC=`, `DST=`                   | `source.ip`, `destination.ip`, `network.type` (`ipv4` / `ipv6`) |
//! | `SPT=`, `DPT=`                   | `source.port`, `destination.port` |
//! | `PROTO=`                         | `network.transport` (`ICMPv6`: `ipv6-icmp`; a number: its name and `network.iana_number`) |
//! | `LEN=`                           | `iptables.length` |
//! | `TOS=`, `PREC=`, `TTL=`, `ID=`, `TC=`, `HOPLIMIT=`, `FLOWLBL=`, `FRAG=` | `iptables.tos`, `.precedence_bits` (hex read as numbers), `.ttl` (also `HOPLIMIT`), `.id`, `.tc`, `.flow_label`, `.fragment_offset` |
//! | `DF`, `MF`, `CE`                 | `iptables.fragment_flags` (a list) |
//! | `WINDOW=`, `RES=`, `URGP=`, `SEQ=`, `ACK=` with TCP | `iptables.tcp.window`, `.reserved_bits`, `.urgp`, `.seq`, `.ack` |
//! | `SYN`, `ACK`, `FIN`, `RST`, `PSH`, `URG`, `CWR`, `ECE` | `iptables.tcp.flags` (a list) |
//! | `TYPE=`, `CODE=`, `ID=`, `SEQ=`, `MTU=` with ICMP | `iptables.icmp.type`, `.code`, `.id`, `.seq`, `.mtu` |
//! | `MARK=`, `UID=`, `GID=`          | `iptables.mark`, `user.id`, `group.id` |
//! | the header of the packet an ICMP error quotes (`[SRC=… DST=… …]`) | skipped |
//! | any other `KEY=value`            | `iptables.<key>` (lower case) |
//!
//! `event.category` = `network`, `event.kind` = `event`, `event.module` =
//! `iptables`, `event.dataset` = `iptables.log`.

use mamori_model::Event;
use serde_json::json;

use crate::fieldmap::{set_hex, set_ip, set_mac, set_port, set_str, set_transport, set_u64};

/// Where `IN=` starts, when ` OUT=` and ` SRC=` follow it (the shape of
/// a netfilter log).
fn start(msg: &str) -> Option<usize> {
    // The log prefix is written right before `IN=`, often without a space
    // (OpenWrt's `DROP(src wan)IN=eth0 …`).
    let at = msg.match_indices("IN=").map(|(i, _)| i).find(|&i| {
        msg[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_')
    })?;
    let rest = &msg[at..];
    (rest.contains(" OUT=") && rest.contains(" SRC=")).then_some(at)
}

/// Map a netfilter log (the table above); false when it is not one.
pub(crate) fn map(ev: &mut Event, msg: &str) -> bool {
    let Some(at) = start(msg) else { return false };
    ev.set("event.kind", json!("event"));
    ev.set("event.category", json!(["network"]));
    ev.set("event.module", json!("iptables"));
    ev.set("event.dataset", json!("iptables.log"));
    prefix(ev, &msg[..at]);
    let mut fields = Fields::default();
    let mut quoted = 0usize;
    for token in msg[at..].split_ascii_whitespace() {
        // An ICMP error quotes the offending packet's header in brackets.
        if quoted > 0 || token.starts_with('[') {
            quoted = (quoted + token.matches('[').count()).saturating_sub(token.matches(']').count());
            continue;
        }
        match token.split_once('=') {
            Some((k, v)) => fields.pairs.push((k, v)),
            None => fields.flags.push(token),
        }
    }
    fields.apply(ev);
    true
}

/// The log prefix: `rule.name`, and the action its verb names.
fn prefix(ev: &mut Event, text: &str) {
    let mut text = text.trim();
    // The kernel's `[ 1234.567890]` uptime stamp.
    if let Some(rest) = text.strip_prefix('[')
        && let Some((stamp, after)) = rest.split_once(']')
        && stamp.trim().bytes().all(|b| b.is_ascii_digit() || b == b'.')
    {
        text = after.trim_start();
    }
    if text.is_empty() {
        return;
    }
    set_str(ev, "iptables.prefix", text);
    let name = text.trim_end_matches(':').trim();
    let name = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name)
        .trim();
    set_str(ev, "rule.name", name);
    let upper = name.to_ascii_uppercase();
    let words = upper.split(|c: char| !c.is_ascii_alphanumeric());
    let verb = words.filter_map(verb).next();
    if let Some((action, kind)) = verb {
        ev.set("event.action", json!(action));
        let mut types = vec![json!("connection")];
        if let Some(kind) = kind {
            types.push(json!(kind));
        }
        ev.set("event.type", json!(types));
    }
}

/// The action of a prefix word and the `event.type` it implies.
fn verb(word: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match word {
        "BLOCK" | "BLOCKED" => ("block", Some("denied")),
        "DROP" | "DROPPED" => ("drop", Some("denied")),
        "DENY" | "DENIED" => ("deny", Some("denied")),
        "REJECT" | "REJECTED" => ("reject", Some("denied")),
        "ALLOW" | "ALLOWED" => ("allow", Some("allowed")),
        "ACCEPT" | "ACCEPTED" => ("accept", Some("allowed")),
        "PASS" => ("pass", Some("allowed")),
        "AUDIT" => ("audit", None),
        _ => return None,
    })
}

/// The tokens after the prefix.
#[derive(Default)]
struct Fields<'a> {
    pairs: Vec<(&'a str, &'a str)>,
    flags: Vec<&'a str>,
}

const TCP_FLAGS: &[&str] = &["CWR", "ECE", "URG", "ACK", "PSH", "RST", "SYN", "FIN"];
const FRAGMENT_FLAGS: &[&str] = &["CE", "DF", "MF"];

impl Fields<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn apply(&self, ev: &mut Event) {
        let proto = self.get("PROTO").unwrap_or_default().to_ascii_uppercase();
        let (tcp, icmp) = (proto == "TCP", proto.starts_with("ICMP"));
        match proto.as_str() {
            "ICMPV6" => {
                ev.set("network.transport", json!("ipv6-icmp"));
            }
            "" => {}
            p => {
                set_transport(ev, p);
            }
        }
        // ICMP's `ID=`/`SEQ=` come after `PROTO=`; the IP header's `ID=` before.
        let proto_at = self
            .pairs
            .iter()
            .position(|(k, _)| *k == "PROTO")
            .unwrap_or(usize::MAX);
        for (i, &(k, v)) in self.pairs.iter().enumerate() {
            let after_proto = i > proto_at;
            match k {
                "IN" => {
                    set_str(ev, "observer.ingress.interface.name", v);
                    set_str(ev, "iptables.input_device", v);
                }
                "OUT" => {
                    set_str(ev, "observer.egress.interface.name", v);
                    set_str(ev, "iptables.output_device", v);
                }
                "PHYSIN" => {
                    set_str(ev, "iptables.physical_in", v);
                }
                "PHYSOUT" => {
                    set_str(ev, "iptables.physical_out", v);
                }
                "MAC" => mac(ev, v),
                "SRC" => address(ev, "source", v),
                "DST" => address(ev, "destination", v),
                "SPT" => {
                    set_port(ev, "source.port", v);
                }
                "DPT" => {
                    set_port(ev, "destination.port", v);
                }
                "PROTO" => {}
                "LEN" if !after_proto => {
                    set_u64(ev, "iptables.length", v);
                }
                "TOS" => set_hex(ev, "iptables.tos", v),
                "PREC" => set_hex(ev, "iptables.precedence_bits", v),
                "TTL" | "HOPLIMIT" => {
                    set_u64(ev, "iptables.ttl", v);
                }
                "TC" => {
                    set_u64(ev, "iptables.tc", v);
                }
                "FLOWLBL" => {
                    set_u64(ev, "iptables.flow_label", v);
                }
                "FRAG" => {
                    set_u64(ev, "iptables.fragment_offset", v);
                }
                "ID" if !after_proto => {
                    set_u64(ev, "iptables.id", v);
                }
                "WINDOW" if tcp => {
                    set_u64(ev, "iptables.tcp.window", v);
                }
                "RES" if tcp => set_hex(ev, "iptables.tcp.reserved_bits", v),
                "URGP" if tcp => {
                    set_u64(ev, "iptables.tcp.urgp", v);
                }
                "SEQ" | "ACK" if tcp => {
                    set_u64(ev, &format!("iptables.tcp.{}", k.to_ascii_lowercase()), v);
                }
                "TYPE" | "CODE" | "ID" | "SEQ" | "MTU" if icmp => {
                    set_u64(ev, &format!("iptables.icmp.{}", k.to_ascii_lowercase()), v);
                }
                "MARK" => {
                    set_str(ev, "iptables.mark", v);
                }
                "UID" => {
                    set_str(ev, "user.id", v);
                }
                "GID" => {
                    set_str(ev, "group.id", v);
                }
                _ => {
                    let key = k.to_ascii_lowercase();
                    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                        set_str(ev, &format!("iptables.{key}"), v);
                    }
                }
            }
        }
        let list = |names: &[&str]| -> Vec<String> {
            self.flags
                .iter()
                .filter(|f| names.contains(f))
                .map(|f| f.to_string())
                .collect()
        };
        let fragment = list(FRAGMENT_FLAGS);
        if !fragment.is_empty() {
            ev.set("iptables.fragment_flags", json!(fragment));
        }
        let flags = list(TCP_FLAGS);
        if tcp && !flags.is_empty() {
            ev.set("iptables.tcp.flags", json!(flags));
        }
    }
}

fn address(ev: &mut Event, side: &str, v: &str) {
    if set_ip(ev, &format!("{side}.ip"), v) {
        let family = if v.contains(':') { "ipv6" } else { "ipv4" };
        ev.set("network.type", json!(family));
    }
}

/// `MAC=` holds the destination MAC, the source MAC and the EtherType
/// (14 bytes as `xx:` pairs); anything else is kept as it is.
fn mac(ev: &mut Event, v: &str) {
    let bytes: Vec<&str> = v.split(':').collect();
    if bytes.len() == 14 && bytes.iter().all(|b| b.len() == 2) {
        set_mac(ev, "destination.mac", &bytes[..6].join(":"));
        set_mac(ev, "source.mac", &bytes[6..12].join(":"));
        set_hex(ev, "iptables.ether_type", &bytes[12..].concat());
    } else {
        set_str(ev, "iptables.mac", v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(msg: &str) -> Event {
        super::super::mapped(map, msg)
    }

    #[test]
    fn ufw_block_with_tcp_flags() {
        let ev = mapped(
            "[12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 \
             SRC=203.0.113.9 DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=49 ID=54321 DF PROTO=TCP \
             SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0",
        );
        for (path, want) in [
            ("rule.name", json!("UFW BLOCK")),
            ("event.action", json!("block")),
            ("event.type", json!(["connection", "denied"])),
            ("observer.ingress.interface.name", json!("eth0")),
            ("destination.mac", json!("00-16-3E-AA-BB-CC")),
            ("source.mac", json!("00-16-3E-DD-EE-FF")),
            ("iptables.ether_type", json!(2048)),
            ("iptables.tos", json!(0)),
            ("iptables.input_device", json!("eth0")),
            ("source.ip", json!("203.0.113.9")),
            ("destination.port", json!(22)),
            ("network.transport", json!("tcp")),
            ("network.type", json!("ipv4")),
            ("iptables.id", json!(54321)),
            ("iptables.ttl", json!(49)),
            ("iptables.fragment_flags", json!(["DF"])),
            ("iptables.tcp.flags", json!(["SYN"])),
            ("iptables.tcp.window", json!(29200)),
        ] {
            assert_eq!(ev.get(path), Some(&want), "{path}");
        }
        assert_eq!(ev.get("observer.egress.interface.name"), None);
        assert_eq!(ev.get("event.outcome"), None);
    }

    #[test]
    fn icmp_error_quoting_a_packet_and_ipv6() {
        let ev = mapped(
            "IPTABLES-DROP: IN=eth1 OUT=eth0 SRC=10.0.0.7 DST=8.8.8.8 LEN=84 TOS=0x00 PREC=0x00 TTL=63 \
             ID=7 DF PROTO=ICMP TYPE=3 CODE=3 [SRC=8.8.8.8 DST=10.0.0.7 LEN=40 PROTO=UDP SPT=53 DPT=1 ] MTU=1500",
        );
        assert_eq!(ev.get_str("rule.name"), Some("IPTABLES-DROP"));
        assert_eq!(ev.get_str("event.action"), Some("drop"));
        assert_eq!(ev.get("iptables.id"), Some(&json!(7)));
        assert_eq!(ev.get("iptables.icmp.type"), Some(&json!(3)));
        assert_eq!(ev.get("iptables.icmp.mtu"), Some(&json!(1500)));
        assert_eq!(ev.get_str("source.ip"), Some("10.0.0.7"));
        assert_eq!(ev.get("source.port"), None);
        assert_eq!(ev.get("iptables.length"), Some(&json!(84)));

        let ev = mapped(
            "filter_IN_public_REJECT: IN=ens3 OUT= SRC=2001:db8::1 DST=2001:db8::2 LEN=80 TC=0 \
             HOPLIMIT=57 FLOWLBL=12 PROTO=ICMPv6 TYPE=128 CODE=0 ID=5 SEQ=1",
        );
        assert_eq!(ev.get_str("event.action"), Some("reject"));
        assert_eq!(ev.get_str("network.transport"), Some("ipv6-icmp"));
        assert_eq!(ev.get_str("network.type"), Some("ipv6"));
        assert_eq!(ev.get("iptables.ttl"), Some(&json!(57)));
        assert_eq!(ev.get("iptables.icmp.seq"), Some(&json!(1)));
    }

    #[test]
    fn other_messages_are_not_netfilter() {
        for msg in [
            "IN=eth0 SRC=1.2.3.4",
            "device eth0 entered promiscuous mode",
            "OUT= SRC= IN=",
        ] {
            assert!(start(msg).is_none(), "{msg}");
        }
        let ev = mapped("IN=eth0 OUT= SRC=1.2.3.4 DST=5.6.7.8 PROTO=47");
        assert_eq!(ev.get_str("network.transport"), Some("gre"));
        assert_eq!(ev.get("rule.name"), None);
        assert_eq!(ev.get("event.action"), None);
    }
}
