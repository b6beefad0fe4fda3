//! Cisco ASA (and FTD, PIX, FWSM) messages: `%ASA-6-302013: Built inbound …`
//! (the `:` after the number may be missing).
//!
//! | from                                   | ECS / Mamori |
//! |----------------------------------------|--------------|
//! | `%ASA` / `%FTD` / `%PIX` / `%FWSM`     | `observer.vendor` = `Cisco`, `observer.product` = `ASA`, `FTD`, … |
//! | the level digit (0–7)                  | `log.level` (`emerg` … `debug`, as syslog severities) |
//! | the message number                     | `event.code` (`302013`) |
//! | the text after the number              | `message` |
//!
//! Then, by message number (`iface:` parts go to `observer.ingress.interface.name` for the source and
//! `observer.egress.interface.name` for the destination; an address that is not an IP goes to
//! `source.address` / `destination.address`):
//!
//! | number            | text                                                      | ECS |
//! |-------------------|-----------------------------------------------------------|-----|
//! | 302013, 302015    | `Built {inbound\|outbound} {TCP\|UDP} connection N for if:A/p (…) to if:B/q (…)` | `event.action` = `connection-built`, `network.direction`, `network.transport`, `cisco.asa.connection_id`; inbound: source = A, destination = B; outbound: source = B, destination = A |
//! | 302014, 302016    | `Teardown {TCP\|UDP} connection N for if:A/p to if:B/q duration D bytes K [reason]` | `event.action` = `connection-teardown`, source = A, destination = B, `network.bytes`, `event.reason` |
//! | 106023            | `Deny proto src if:A/p dst if:B/q … by access-group "acl"` | `event.action` = `deny`, `rule.name`, `network.transport`, source, destination |
//! | 106100            | `access-list acl {permitted\|denied\|est-allowed} proto if/A(p) -> if/B(q)` | `event.action`, `rule.name`, `network.transport`, source, destination |
//! | 113004            | `AAA user T Successful : server = S : user = U`           | `event.action` = `aaa-T`, `event.outcome` = `success`, `server.ip`, `user.name` |
//! | 113005            | `AAA user T Rejected : reason = R : server = S : user = U : user IP = I` | `event.action` = `aaa-T`, `event.outcome` = `failure`, `event.reason`, `server.ip`, `user.name`, `source.ip` |
//! | 605004, 605005    | `Login {denied\|permitted} from A/p to if:B/service for user "U"` | `event.action` = `login`, `event.outcome` `failure`/`success`, source, `destination.ip`, `destination.port` (a number) or `network.protocol` (a name), `user.name` |
//! | 716038, 716039    | `Group <G> User <U> IP <A> Authentication: {successful\|rejected}` | `event.action` = `vpn-authentication`, `event.outcome`, `group.name`, `user.name`, `source.ip` |
//! | any other         | `… from\|src [if:]A[/p] … to\|dst [if:]B[/q]` (IPv4)        | source, destination |

use std::sync::LazyLock;

use mamori_model::Event;
use regex::{Captures, Regex};
use serde_json::json;

use super::endpoint;
use crate::fieldmap::{set_ip, set_str, set_u64};

/// Syslog severity names, by level.
pub(crate) const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("valid regex")
}

static HEAD: LazyLock<Regex> = LazyLock::new(|| re(r"^%(ASA|FTD|PIX|FWSM)-(\d)-(\d{6})(?::\s*|\s+|$)(.*)$"));

/// Map a Cisco message (the table above); false when `msg` is not one.
pub(crate) fn map(ev: &mut Event, msg: &str) -> bool {
    let Some(c) = HEAD.captures(msg.trim()) else {
        return false;
    };
    ev.set("observer.vendor", json!("Cisco"));
    ev.set("observer.product", json!(&c[1]));
    if let Some(level) = c[2].parse::<usize>().ok().and_then(|l| LEVELS.get(l)) {
        ev.set("log.level", json!(level));
    }
    ev.set("event.code", json!(&c[3]));
    let body = c.get(4).map_or("", |m| m.as_str());
    set_str(ev, "message", body);
    let specific = match &c[3] {
        "302013" | "302015" => built(ev, body),
        "302014" | "302016" => teardown(ev, body),
        "106023" => deny(ev, body),
        "106100" => access_list(ev, body),
        "113004" => aaa(ev, body, true),
        "113005" => aaa(ev, body, false),
        "605004" | "605005" => login(ev, body),
        "716038" | "716039" => vpn_auth(ev, body),
        _ => false,
    };
    if !specific {
        generic(ev, body);
    }
    true
}

fn opt<'a>(c: &'a Captures<'_>, i: usize) -> Option<&'a str> {
    c.get(i).map(|m| m.as_str())
}

fn built(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^Built (inbound|outbound) (\S+) connection (\d+) for ([^\s:]+):([^\s/]+)/(\d+) \([^)]*\)(?:\([^)]*\))? to ([^\s:]+):([^\s/]+)/(\d+)",
        )
    });
    let Some(c) = RE.captures(body) else { return false };
    let inbound = &c[1] == "inbound";
    let (src, dst) = if inbound { (4, 7) } else { (7, 4) };
    endpoint(ev, "source", opt(&c, src), &c[src + 1], opt(&c, src + 2));
    endpoint(ev, "destination", opt(&c, dst), &c[dst + 1], opt(&c, dst + 2));
    ev.set("event.action", json!("connection-built"));
    ev.set("network.direction", json!(&c[1]));
    ev.set("network.transport", json!(c[2].to_ascii_lowercase()));
    ev.set("cisco.asa.connection_id", json!(&c[3]));
    true
}

fn teardown(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^Teardown (\S+) connection (\d+) for ([^\s:]+):([^\s/]+)/(\d+) to ([^\s:]+):([^\s/]+)/(\d+)(?: duration (\S+))?(?: bytes (\d+))?(?:\s+(.*))?$",
        )
    });
    let Some(c) = RE.captures(body) else { return false };
    endpoint(ev, "source", opt(&c, 3), &c[4], opt(&c, 5));
    endpoint(ev, "destination", opt(&c, 6), &c[7], opt(&c, 8));
    ev.set("event.action", json!("connection-teardown"));
    ev.set("network.transport", json!(c[1].to_ascii_lowercase()));
    ev.set("cisco.asa.connection_id", json!(&c[2]));
    if let Some(d) = opt(&c, 9) {
        ev.set("cisco.asa.duration", json!(d));
    }
    if let Some(b) = opt(&c, 10) {
        set_u64(ev, "network.bytes", b);
    }
    if let Some(reason) = opt(&c, 11) {
        set_str(ev, "event.reason", reason);
    }
    true
}

fn deny(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r#"^Deny (\S+) src ([^\s:]+):([^\s/]+)(?:/(\d+))? dst ([^\s:]+):([^\s/]+)(?:/(\d+))?.*?by access-group "([^"]*)""#,
        )
    });
    let Some(c) = RE.captures(body) else { return false };
    endpoint(ev, "source", opt(&c, 2), &c[3], opt(&c, 4));
    endpoint(ev, "destination", opt(&c, 5), &c[6], opt(&c, 7));
    ev.set("event.action", json!("deny"));
    ev.set("network.transport", json!(c[1].to_ascii_lowercase()));
    set_str(ev, "rule.name", &c[8]);
    true
}

fn access_list(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^access-list (\S+) (permitted|denied|est-allowed) (\S+) ([^\s/]+)/([^\s(]+)\((\d+)\)(?:\([^)]*\))?\s*->\s*([^\s/]+)/([^\s(]+)\((\d+)\)",
        )
    });
    let Some(c) = RE.captures(body) else { return false };
    endpoint(ev, "source", opt(&c, 4), &c[5], opt(&c, 6));
    endpoint(ev, "destination", opt(&c, 7), &c[8], opt(&c, 9));
    set_str(ev, "rule.name", &c[1]);
    ev.set("event.action", json!(&c[2]));
    ev.set("network.transport", json!(c[3].to_ascii_lowercase()));
    true
}

fn aaa(ev: &mut Event, body: &str, success: bool) -> bool {
    static OK: LazyLock<Regex> = LazyLock::new(|| {
        re(r"^AAA user (\S+) Successful\s*: server\s*=\s*([^\s,:]+)\s*[,:]\s*[Uu]ser\s*=\s*(.+?)\s*$")
    });
    static REJECTED: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"^AAA user (\S+) Rejected\s*: reason\s*=\s*(.*?)\s*: server\s*=\s*([^\s,:]+)\s*[,:]\s*[Uu]ser\s*=\s*(.*?)(?:\s*[,:]\s*user IP\s*=\s*(\S+))?\s*$",
        )
    });
    let (c, server, user) = if success {
        let Some(c) = OK.captures(body) else { return false };
        (c, 2, 3)
    } else {
        let Some(c) = REJECTED.captures(body) else {
            return false;
        };
        set_str(ev, "event.reason", &c[2]);
        if let Some(ip) = opt(&c, 5) {
            set_ip(ev, "source.ip", ip);
        }
        (c, 3, 4)
    };
    ev.set("event.action", json!(format!("aaa-{}", &c[1])));
    ev.set(
        "event.outcome",
        json!(if success { "success" } else { "failure" }),
    );
    if !set_ip(ev, "server.ip", &c[server]) {
        set_str(ev, "server.address", &c[server]);
    }
    set_str(ev, "user.name", &c[user]);
    true
}

fn login(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r#"^Login (denied|permitted) from ([^\s/]+)/(\S+) to ([^\s:]+):([^\s/]+)/(\S+) for user "([^"]*)""#,
        )
    });
    let Some(c) = RE.captures(body) else { return false };
    endpoint(ev, "source", None, &c[2], opt(&c, 3));
    endpoint(ev, "destination", opt(&c, 4), &c[5], opt(&c, 6));
    if ev.get("destination.port").is_none() {
        set_str(ev, "network.protocol", &c[6].to_ascii_lowercase());
    }
    ev.set("event.action", json!("login"));
    let outcome = if &c[1] == "permitted" {
        "success"
    } else {
        "failure"
    };
    ev.set("event.outcome", json!(outcome));
    set_str(ev, "user.name", &c[7]);
    true
}

fn vpn_auth(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(r"^Group <([^>]*)> User <([^>]*)> IP <([^>]*)> Authentication: (rejected|successful)")
    });
    let Some(c) = RE.captures(body) else { return false };
    set_str(ev, "group.name", &c[1]);
    set_str(ev, "user.name", &c[2]);
    set_ip(ev, "source.ip", &c[3]);
    ev.set("event.action", json!("vpn-authentication"));
    let outcome = if &c[4] == "successful" {
        "success"
    } else {
        "failure"
    };
    ev.set("event.outcome", json!(outcome));
    true
}

/// `from|src [if:]A[/p] … to|dst [if:]B[/q]` with IPv4 addresses.
fn generic(ev: &mut Event, body: &str) -> bool {
    static RE: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"\b(?:from|src) (?:([^\s:/]+):)?(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d+))?\b.*?\b(?:to|dst) (?:([^\s:/]+):)?(\d{1,3}(?:\.\d{1,3}){3})(?:/(\d+))?\b",
        )
    });
    let Some(c) = RE.captures(body) else { return false };
    endpoint(ev, "source", opt(&c, 1), &c[2], opt(&c, 3));
    endpoint(ev, "destination", opt(&c, 4), &c[5], opt(&c, 6));
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn mapped(msg: &str) -> Event {
        let mut ev = Event::new("t", Utc::now(), msg);
        assert!(map(&mut ev, msg), "{msg}");
        ev
    }

    fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
        ev.get_str(path)
    }

    #[test]
    fn built_inbound_and_outbound() {
        let ev = mapped(
            "%ASA-6-302013: Built inbound TCP connection 77 for outside:198.51.100.7/51234 (198.51.100.7/51234) to inside:10.0.0.5/443 (203.0.113.5/443)",
        );
        assert_eq!(s(&ev, "event.code"), Some("302013"));
        assert_eq!(s(&ev, "log.level"), Some("info"));
        assert_eq!(s(&ev, "source.ip"), Some("198.51.100.7"));
        assert_eq!(ev.get("source.port"), Some(&json!(51234)));
        assert_eq!(s(&ev, "destination.ip"), Some("10.0.0.5"));
        assert_eq!(ev.get("destination.port"), Some(&json!(443)));
        assert_eq!(s(&ev, "network.direction"), Some("inbound"));
        assert_eq!(s(&ev, "network.transport"), Some("tcp"));
        assert_eq!(s(&ev, "observer.ingress.interface.name"), Some("outside"));
        let ev = mapped(
            "%ASA-6-302013: Built outbound TCP connection 9 for outside:192.0.2.1/22 (192.0.2.1/22) to inside:10.1.1.2/53496 (10.1.1.2/53496)",
        );
        assert_eq!(s(&ev, "source.ip"), Some("10.1.1.2"));
        assert_eq!(s(&ev, "destination.ip"), Some("192.0.2.1"));
        assert_eq!(ev.get("destination.port"), Some(&json!(22)));
    }

    #[test]
    fn teardown_and_denies() {
        let ev = mapped(
            "%ASA-6-302014: Teardown TCP connection 4211 for outside:192.0.2.9/53 to dmz:10.2.2.2/1032 duration 0:00:01 bytes 526 TCP FINs",
        );
        assert_eq!(s(&ev, "event.action"), Some("connection-teardown"));
        assert_eq!(ev.get("network.bytes"), Some(&json!(526)));
        assert_eq!(s(&ev, "event.reason"), Some("TCP FINs"));
        assert_eq!(s(&ev, "destination.ip"), Some("10.2.2.2"));
        let ev = mapped(
            r#"%ASA-4-106023: Deny udp src office:192.0.2.1/3217 dst web:Server_A/15000 by access-group "acl_in" [0x0, 0x0]"#,
        );
        assert_eq!(s(&ev, "source.ip"), Some("192.0.2.1"));
        assert_eq!(s(&ev, "destination.address"), Some("Server_A"));
        assert_eq!(ev.get("destination.port"), Some(&json!(15000)));
        assert_eq!(s(&ev, "rule.name"), Some("acl_in"));
        assert_eq!(s(&ev, "log.level"), Some("warning"));
        let ev = mapped(
            "%ASA-6-106100: access-list inside_in denied tcp inside/10.0.0.9(1234) -> outside/192.0.2.80(80) hit-cnt 1 first hit [0x1, 0x0]",
        );
        assert_eq!(s(&ev, "event.action"), Some("denied"));
        assert_eq!(s(&ev, "rule.name"), Some("inside_in"));
        assert_eq!(ev.get("destination.port"), Some(&json!(80)));
    }

    #[test]
    fn authentication() {
        let ev = mapped(
            "%ASA-6-113005: AAA user authentication Rejected : reason = AAA failure : server = 10.9.9.9 : user = alice : user IP = 192.0.2.44",
        );
        assert_eq!(s(&ev, "event.outcome"), Some("failure"));
        assert_eq!(s(&ev, "user.name"), Some("alice"));
        assert_eq!(s(&ev, "source.ip"), Some("192.0.2.44"));
        assert_eq!(s(&ev, "server.ip"), Some("10.9.9.9"));
        assert_eq!(s(&ev, "event.reason"), Some("AAA failure"));
        let ev = mapped("%ASA-6-113004: AAA user authentication Successful : server = 10.9.9.9 : user = bob");
        assert_eq!(
            (s(&ev, "event.outcome"), s(&ev, "user.name")),
            (Some("success"), Some("bob"))
        );
        let ev = mapped(
            r#"%PIX-6-605004: Login denied from 192.0.2.10/32597 to outside:192.0.2.14/ssh for user "root""#,
        );
        assert_eq!(s(&ev, "event.outcome"), Some("failure"));
        assert_eq!(s(&ev, "network.protocol"), Some("ssh"));
        assert_eq!(s(&ev, "observer.product"), Some("PIX"));
        let ev = mapped(
            "%ASA-4-716039: Group <Staff> User <carol> IP <198.51.100.3> Authentication: rejected, Session Type: WebVPN.",
        );
        assert_eq!(
            (s(&ev, "user.name"), s(&ev, "source.ip"), s(&ev, "event.outcome")),
            (Some("carol"), Some("198.51.100.3"), Some("failure"))
        );
    }

    #[test]
    fn fallback_and_non_matches() {
        let ev = mapped(
            "%ASA-2-106001: Inbound TCP connection denied from 192.0.2.59/54322 to 10.6.12.12/1433 flags SYN on interface outside",
        );
        assert_eq!(s(&ev, "source.ip"), Some("192.0.2.59"));
        assert_eq!(ev.get("destination.port"), Some(&json!(1433)));
        let ev = mapped("%FTD-1-101001: (Primary) Failover cable OK.");
        assert_eq!(s(&ev, "event.code"), Some("101001"));
        assert_eq!(s(&ev, "log.level"), Some("alert"));
        let mut ev = Event::new("t", Utc::now(), "x");
        assert!(!map(&mut ev, "ASA-1-101001: no percent"));
    }
}
