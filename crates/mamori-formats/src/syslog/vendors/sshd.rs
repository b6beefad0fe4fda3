//! OpenSSH server (`sshd`) messages, recognised by the syslog app name
//! `sshd`. The patterns are searched anywhere in the message (Solaris puts
//! `[ID 800047 auth.notice]` in front).
//!
//! | message                                                            | ECS / Mamori |
//! |--------------------------------------------------------------------|--------------|
//! | `Accepted M for U from A port P [ssh2…]`                           | `event.action` = `ssh_login`, `event.outcome` = `success`, `event.category` = `authentication`, `user.name` = U, `source.ip` = A, `source.port` = P, `system.auth.ssh.method` = M, `system.auth.ssh.event` = `Accepted` |
//! | `Failed M for [invalid user] U from A port P [ssh2]`               | the same with `event.outcome` = `failure`, `system.auth.ssh.event` = `Failed` |
//! | `Invalid user U from A [port P]`                                   | `event.action` = `ssh_login`, `event.outcome` = `failure`, `user.name`, `source.ip`, `source.port`, `system.auth.ssh.event` = `Invalid` |
//! | any other message with `from A port P` / `by A port P`             | `source.ip`, `source.port` |
//!
//! The port is optional in every pattern.

use std::sync::LazyLock;

use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use crate::fieldmap::{set_ip, set_port, set_str};

static LOGIN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(Accepted|Failed) (\S+) for (?:(invalid user) )?(\S+) from (\S+)(?: port (\d+))?")
        .expect("valid regex")
});
static INVALID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\bInvalid user (\S*) from (\S+)(?: port (\d+))?").expect("valid regex"));
static FROM: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:from|by) (\S+) port (\d+)").expect("valid regex"));

/// True when `app` is sshd.
pub(crate) fn recognises(app: Option<&str>) -> bool {
    app.is_some_and(|a| a.eq_ignore_ascii_case("sshd"))
}

/// Map an sshd message (the table above); false when nothing was found.
pub(crate) fn map(ev: &mut Event, msg: &str) -> bool {
    if let Some(c) = LOGIN.captures(msg) {
        let accepted = &c[1] == "Accepted";
        login(ev, &c[1], accepted);
        set_str(ev, "system.auth.ssh.method", &c[2]);
        set_str(ev, "user.name", &c[4]);
        source(ev, &c[5], c.get(6).map(|m| m.as_str()));
        return true;
    }
    if let Some(c) = INVALID.captures(msg) {
        login(ev, "Invalid", false);
        set_str(ev, "user.name", &c[1]);
        source(ev, &c[2], c.get(3).map(|m| m.as_str()));
        return true;
    }
    if let Some(c) = FROM.captures(msg) {
        return source(ev, &c[1], Some(&c[2]));
    }
    false
}

fn login(ev: &mut Event, what: &str, success: bool) {
    ev.set("event.action", json!("ssh_login"));
    ev.set("event.category", json!(["authentication"]));
    ev.set(
        "event.outcome",
        json!(if success { "success" } else { "failure" }),
    );
    ev.set("system.auth.ssh.event", json!(what));
}

fn source(ev: &mut Event, addr: &str, port: Option<&str>) -> bool {
    let found = set_ip(ev, "source.ip", addr.trim_end_matches([':', ',']));
    if found && let Some(p) = port {
        set_port(ev, "source.port", p);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn mapped(msg: &str) -> Event {
        super::super::mapped(map, msg)
    }

    #[test]
    fn logins() {
        let ev = mapped("Failed password for invalid user admin from 192.0.2.7 port 40022 ssh2");
        assert_eq!(ev.action(), Some("ssh_login"));
        assert_eq!(ev.outcome(), Some("failure"));
        assert_eq!(ev.user_name(), Some("admin"));
        assert_eq!(ev.source_ip(), Some("192.0.2.7"));
        assert_eq!(ev.get("source.port"), Some(&json!(40022)));
        assert_eq!(ev.get_str("system.auth.ssh.method"), Some("password"));
        let ev = mapped("Accepted publickey for deploy from 2001:db8::5 port 5555 ssh2: ED25519 SHA256:abc");
        assert_eq!(
            (ev.outcome(), ev.user_name(), ev.source_ip()),
            (Some("success"), Some("deploy"), Some("2001:db8::5"))
        );
        let ev = mapped("Accepted password for root from 10.0.0.1");
        assert_eq!(ev.get("source.port"), None);
        assert_eq!(ev.outcome(), Some("success"));
        let ev = mapped("[ID 800047 auth.notice] Failed none for root from 192.0.2.1 port 36942 ssh2");
        assert_eq!(ev.user_name(), Some("root"));
        let ev = mapped("Invalid user oracle from 203.0.113.50 port 4242");
        assert_eq!((ev.outcome(), ev.user_name()), (Some("failure"), Some("oracle")));
        let ev = mapped("Connection closed by 10.0.2.2 port 55462 [preauth]");
        assert_eq!(ev.source_ip(), Some("10.0.2.2"));
        assert!(ev.outcome().is_none());
        let mut ev = Event::new("t", Utc::now(), "x");
        assert!(!map(&mut ev, "Server listening on 0.0.0.0 port 22."));
    }
}
