//! Linux authentication and account messages, as Elastic's `system.auth`
//! reads them: `sudo`, `su`, PAM (`pam_unix`, `pam_sss`, … of any program)
//! and the shadow-utils account tools (`useradd`, `userdel`, `usermod`,
//! `groupadd`, `groupdel`, `passwd`, `chpasswd`, `gpasswd`). Recognised by
//! the syslog app name (PAM lines by their `pam_x(service:type):` prefix,
//! from any app); a message of these apps in no known shape stays text.
//!
//! | message                                                            | ECS / Mamori |
//! |--------------------------------------------------------------------|--------------|
//! | sudo: `U : [ERROR ;] TTY=T ; PWD=D ; USER=R ; [GROUP=G ;] [ENV=… ;] COMMAND=C` | `event.action` = `sudo`, `event.category` = `process`, `event.outcome` = `success` (`failure` with an ERROR such as `3 incorrect password attempts`, `user NOT in sudoers`), `user.name` = U, `user.effective.name` = R, `user.effective.group.name` = G, `process.command_line` = C, `system.auth.sudo.tty`, `.pwd`, `.user`, `.group`, `.command`, `.error` |
//! | su: `(to R) U on T`, `Successful su for R by U`, `+ T U:R`         | `event.action` = `su`, `event.category` = `authentication`, `event.outcome` = `success`, `user.name` = U, `user.effective.name` = R, `system.auth.su.tty` = T |
//! | su: `FAILED SU (to R) U on T`, `FAILED su for R by U`, `- T U:R`   | the same with `event.outcome` = `failure` |
//! | PAM: `pam_x(S:T): session opened for user U[(uid=N)] by [V](uid=M)` | `event.action` = `session_opened`, `event.category` = `session`, `event.type` = `start`, `user.name` = U, `user.id` = N; `system.auth.pam.module`, `.service` = S, `.type` = T, `.by` = V |
//! | PAM: `session closed for user U`                                   | `event.action` = `session_closed`, `event.type` = `end` |
//! | PAM: `authentication failure; logname=L uid=… euid=… tty=T ruser=R rhost=H [user=U]` | `event.action` = `authentication_failure`, `event.category` = `authentication`, `event.outcome` = `failure`, `user.name` = U, `source.ip` = H (`source.domain` when a name), `system.auth.pam.logname`, `.ruser`, `.tty` |
//! | PAM: `check pass; user unknown`, `auth could not identify password for [U]` | `event.action` = `authentication_failure`, `event.outcome` = `failure` (`user.name` = U) |
//! | PAM: `password changed for U`                                      | `event.action` = `password_changed`, `event.category` = `iam`, `event.type` = `user`, `change`, `user.name` = U |
//! | useradd: `new user: name=U, UID=N, GID=G, home=H, shell=S[, from=F]` | `event.action` = `user_created`, `event.category` = `iam`, `event.type` = `user`, `creation`, `user.name`, `user.id`, `group.id`, `system.auth.useradd.home`, `.shell`, `.from` |
//! | groupadd / useradd: `new group: name=G, GID=N`, `group added to /etc/group: name=G, GID=N` | `event.action` = `group_created`, `event.type` = `group`, `creation`, `group.name`, `group.id` |
//! | userdel: `delete user 'U'`                                         | `event.action` = `user_deleted`, `event.type` = `user`, `deletion`, `user.name` |
//! | groupdel / userdel: `group 'G' removed` (also `… removed from /etc/group`) | `event.action` = `group_deleted`, `event.type` = `group`, `deletion`, `group.name` |
//! | usermod / gpasswd: `add 'U' to group 'G'`, `add 'U' to shadow group 'G'`, `user U added by V to group G` | `event.action` = `added_to_group`, `event.type` = `group`, `change`, `user.name` = U, `group.name` = G |
//! | usermod: `change user 'U' password`, passwd: `password for 'U' changed by 'V'` | `event.action` = `password_changed`, `user.name` = U |
//!
//! `event.outcome` is `success` for the account changes.

use std::sync::LazyLock;

use mamori_model::Event;
use regex::Regex;
use serde_json::json;

use crate::fieldmap::{set_ip, set_str};

static PAM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(pam_[A-Za-z0-9_]+)\(([^:()\s]+):([^()\s]+)\): (.*)").expect("valid regex")
});
static SESSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^session (opened|closed) for user (\S+?)(?:\(uid=(\d+)\))?(?: by (\S*?)\(uid=(\d+)\))?\s*$")
        .expect("valid regex")
});
static SU_TO: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(FAILED SU )?\(to (\S+)\) (\S+) on (\S+)$").expect("valid regex"));
static SU_FOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(Successful|FAILED) su for (\S+) by (\S+)$").expect("valid regex"));
static SULOG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^([+-]) (\S+) ([^:\s]+):(\S+)$").expect("valid regex"));
static TO_GROUP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:add '([^']+)' to (?:shadow )?group '([^']+)'|user (\S+) added by \S+ to group (\S+))$")
        .expect("valid regex")
});
static QUOTED_USER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:delete user '([^']+)'|change user '([^']+)' password|password for '([^']+)' changed by '([^']*)')$")
        .expect("valid regex")
});
static GROUP_REMOVED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^group '([^']+)' removed\b").expect("valid regex"));

/// The apps whose messages are read here (PAM lines come from any app).
const APPS: &[&str] = &[
    "sudo", "su", "useradd", "userdel", "usermod", "groupadd", "groupdel", "groupmod", "passwd", "chpasswd",
    "gpasswd",
];

/// True when a message of `app` may be one of this module's shapes.
pub(crate) fn recognises(app: Option<&str>, msg: &str) -> bool {
    app.is_some_and(|a| APPS.iter().any(|x| a.eq_ignore_ascii_case(x))) || msg.contains("pam_")
}

/// Map the message (the table above); false when it is none of the shapes.
pub(crate) fn map(ev: &mut Event, msg: &str, app: Option<&str>) -> bool {
    let msg = msg.trim();
    if let Some(c) = PAM.captures(msg) {
        set_str(ev, "system.auth.pam.module", &c[1]);
        set_str(ev, "system.auth.pam.service", &c[2]);
        set_str(ev, "system.auth.pam.type", &c[3]);
        let rest = c.get(4).map_or("", |m| m.as_str());
        pam(ev, rest);
        return true;
    }
    let app = app.unwrap_or("").to_ascii_lowercase();
    match app.as_str() {
        "sudo" => sudo(ev, msg),
        "su" => su(ev, msg),
        _ if APPS.contains(&app.as_str()) => account(ev, msg),
        _ => false,
    }
}

/// The common fields of a mapped message.
fn action(ev: &mut Event, action: &str, category: &str, types: &[&str], success: bool) {
    ev.set("event.action", json!(action));
    ev.set("event.category", json!([category]));
    if !types.is_empty() {
        ev.set("event.type", json!(types));
    }
    ev.set(
        "event.outcome",
        json!(if success { "success" } else { "failure" }),
    );
}

fn pam(ev: &mut Event, rest: &str) {
    if let Some(c) = SESSION.captures(rest) {
        let opened = &c[1] == "opened";
        let (name, kind) = if opened {
            ("session_opened", "start")
        } else {
            ("session_closed", "end")
        };
        action(ev, name, "session", &[kind], true);
        set_str(ev, "user.name", &c[2]);
        if let Some(uid) = c.get(3) {
            set_str(ev, "user.id", uid.as_str());
        }
        if let Some(by) = c.get(4) {
            set_str(ev, "system.auth.pam.by", by.as_str());
        }
        return;
    }
    if let Some(user) = rest.strip_prefix("password changed for ") {
        action(ev, "password_changed", "iam", &["user", "change"], true);
        set_str(ev, "user.name", user.trim());
        return;
    }
    if let Some(pairs) = rest.strip_prefix("authentication failure;") {
        action(ev, "authentication_failure", "authentication", &["start"], false);
        for (k, v) in pam_pairs(pairs) {
            match k {
                "user" => {
                    set_str(ev, "user.name", v);
                }
                "rhost" if !set_ip(ev, "source.ip", v) => {
                    set_str(ev, "source.domain", v);
                }
                "logname" | "ruser" | "tty" => {
                    set_str(ev, &format!("system.auth.pam.{k}"), v);
                }
                _ => {}
            }
        }
        return;
    }
    if rest.starts_with("check pass; user unknown") {
        action(ev, "authentication_failure", "authentication", &["start"], false);
        return;
    }
    if let Some(user) = rest.strip_prefix("auth could not identify password for ") {
        action(ev, "authentication_failure", "authentication", &["start"], false);
        set_str(ev, "user.name", user.trim().trim_matches(['[', ']']));
    }
    // Other PAM messages keep their module, service and type only.
}

/// `logname=alice uid=1000 euid=0 tty=pts/0 ruser= rhost=  user=root`:
/// space-separated pairs whose values may be empty.
fn pam_pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split_ascii_whitespace().filter_map(|p| p.split_once('='))
}

fn sudo(ev: &mut Event, msg: &str) -> bool {
    let Some((user, rest)) = msg.split_once(" : ") else {
        return false;
    };
    let user = user.trim();
    if user.is_empty() || user.contains(' ') {
        return false;
    }
    // COMMAND comes last and may hold ` ; ` itself.
    let (head, command) = match rest.find("COMMAND=") {
        Some(at) => (
            rest[..at].trim_end().trim_end_matches(';'),
            Some(rest[at + 8..].trim()),
        ),
        None => (rest, None),
    };
    let (mut errors, mut pairs) = (Vec::new(), Vec::new());
    for part in head.split(" ; ").map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((k, v)) if matches!(k, "TTY" | "PWD" | "USER" | "GROUP" | "ENV" | "TSID") => {
                pairs.push((k, v))
            }
            _ => errors.push(part),
        }
    }
    if pairs.is_empty() && command.is_none() {
        return false;
    }
    let error = errors.join("; ");
    action(ev, "sudo", "process", &[], error.is_empty());
    set_str(ev, "user.name", user);
    set_str(ev, "system.auth.sudo.error", &error);
    for (k, v) in pairs {
        match k {
            "TTY" => set_str(ev, "system.auth.sudo.tty", v),
            "PWD" => set_str(ev, "system.auth.sudo.pwd", v),
            "USER" => set_str(ev, "system.auth.sudo.user", v) && set_str(ev, "user.effective.name", v),
            "GROUP" => {
                set_str(ev, "system.auth.sudo.group", v) && set_str(ev, "user.effective.group.name", v)
            }
            _ => false,
        };
    }
    if let Some(command) = command {
        set_str(ev, "system.auth.sudo.command", command);
        set_str(ev, "process.command_line", command);
    }
    true
}

fn su(ev: &mut Event, msg: &str) -> bool {
    let (success, target, user, tty) = if let Some(c) = SU_TO.captures(msg) {
        (
            c.get(1).is_none(),
            c[2].to_string(),
            c[3].to_string(),
            Some(c[4].to_string()),
        )
    } else if let Some(c) = SU_FOR.captures(msg) {
        (&c[1] == "Successful", c[2].to_string(), c[3].to_string(), None)
    } else if let Some(c) = SULOG.captures(msg) {
        (
            &c[1] == "+",
            c[4].to_string(),
            c[3].to_string(),
            Some(c[2].to_string()),
        )
    } else {
        return false;
    };
    action(ev, "su", "authentication", &["start"], success);
    set_str(ev, "user.name", &user);
    set_str(ev, "user.effective.name", &target);
    if let Some(tty) = tty {
        set_str(ev, "system.auth.su.tty", &tty);
    }
    true
}

/// `name=deploy, UID=1001, GID=1001, home=/home/deploy` as pairs.
fn comma_pairs(s: &str) -> impl Iterator<Item = (&str, &str)> {
    s.split(',').filter_map(|p| p.trim().split_once('='))
}

fn account(ev: &mut Event, msg: &str) -> bool {
    if let Some(rest) = msg.strip_prefix("new user: ") {
        action(ev, "user_created", "iam", &["user", "creation"], true);
        for (k, v) in comma_pairs(rest) {
            match k {
                "name" => set_str(ev, "user.name", v),
                "UID" => set_str(ev, "user.id", v),
                "GID" => set_str(ev, "group.id", v),
                "home" | "shell" | "from" => set_str(ev, &format!("system.auth.useradd.{k}"), v),
                _ => false,
            };
        }
        return true;
    }
    if let Some(rest) = msg.strip_prefix("new group: ").or_else(|| {
        msg.split_once("group added to ")
            .and_then(|(_, r)| r.split_once(": "))
            .map(|(_, r)| r)
    }) {
        action(ev, "group_created", "iam", &["group", "creation"], true);
        for (k, v) in comma_pairs(rest) {
            match k {
                "name" => set_str(ev, "group.name", v),
                "GID" => set_str(ev, "group.id", v),
                _ => false,
            };
        }
        return true;
    }
    if let Some(c) = TO_GROUP.captures(msg) {
        let user = c.get(1).or(c.get(3)).map_or("", |m| m.as_str());
        let group = c.get(2).or(c.get(4)).map_or("", |m| m.as_str());
        action(ev, "added_to_group", "iam", &["group", "change"], true);
        set_str(ev, "user.name", user);
        set_str(ev, "group.name", group);
        return true;
    }
    if let Some(c) = QUOTED_USER.captures(msg) {
        if let Some(user) = c.get(1) {
            action(ev, "user_deleted", "iam", &["user", "deletion"], true);
            set_str(ev, "user.name", user.as_str());
        } else {
            action(ev, "password_changed", "iam", &["user", "change"], true);
            let user = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
            set_str(ev, "user.name", user);
            if let Some(by) = c.get(4) {
                set_str(ev, "system.auth.passwd.changed_by", by.as_str());
            }
        }
        return true;
    }
    if let Some(c) = GROUP_REMOVED.captures(msg) {
        action(ev, "group_deleted", "iam", &["group", "deletion"], true);
        set_str(ev, "group.name", &c[1]);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn mapped(app: &str, msg: &str) -> Event {
        let mut ev = Event::new("t", Utc::now(), msg);
        assert!(recognises(Some(app), msg), "{app}: {msg}");
        assert!(map(&mut ev, msg, Some(app)), "{app}: {msg}");
        ev
    }

    fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
        ev.get_str(path)
    }

    #[test]
    fn sudo_commands_and_failures() {
        let ev = mapped(
            "sudo",
            "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/sh -c echo a ; echo b",
        );
        assert_eq!((ev.action(), ev.outcome()), (Some("sudo"), Some("success")));
        assert_eq!(ev.user_name(), Some("alice"));
        assert_eq!(s(&ev, "user.effective.name"), Some("root"));
        assert_eq!(s(&ev, "system.auth.sudo.tty"), Some("pts/0"));
        assert_eq!(s(&ev, "system.auth.sudo.pwd"), Some("/home/alice"));
        assert_eq!(s(&ev, "process.command_line"), Some("/bin/sh -c echo a ; echo b"));
        assert_eq!(ev.get("event.category"), Some(&json!(["process"])));
        assert!(ev.get("system.auth.sudo.error").is_none());

        let ev = mapped(
            "sudo",
            "bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; GROUP=wheel ; COMMAND=/usr/bin/id",
        );
        assert_eq!(ev.outcome(), Some("failure"));
        assert_eq!(
            s(&ev, "system.auth.sudo.error"),
            Some("3 incorrect password attempts")
        );
        assert_eq!(s(&ev, "user.effective.group.name"), Some("wheel"));
        let ev = mapped(
            "sudo",
            "eve : user NOT in sudoers ; TTY=pts/2 ; PWD=/ ; USER=root ; COMMAND=/bin/bash",
        );
        assert_eq!(
            (ev.outcome(), s(&ev, "system.auth.sudo.error")),
            (Some("failure"), Some("user NOT in sudoers"))
        );
        let mut ev = Event::new("t", Utc::now(), "x");
        assert!(!map(&mut ev, "unable to resolve host web01", Some("sudo")));
        assert!(!map(&mut ev, "a note : nothing else", Some("sudo")));
        assert!(ev.action().is_none());
    }

    #[test]
    fn su_forms() {
        let ev = mapped("su", "(to root) alice on pts/0");
        assert_eq!(
            (ev.action(), ev.outcome(), ev.user_name()),
            (Some("su"), Some("success"), Some("alice"))
        );
        assert_eq!(s(&ev, "user.effective.name"), Some("root"));
        assert_eq!(s(&ev, "system.auth.su.tty"), Some("pts/0"));
        let ev = mapped("su", "FAILED SU (to root) mallory on pts/3");
        assert_eq!((ev.outcome(), ev.user_name()), (Some("failure"), Some("mallory")));
        let ev = mapped("su", "FAILED su for root by mallory");
        assert_eq!(
            (ev.outcome(), s(&ev, "user.effective.name")),
            (Some("failure"), Some("root"))
        );
        let ev = mapped("su", "Successful su for oracle by alice");
        assert_eq!((ev.outcome(), ev.user_name()), (Some("success"), Some("alice")));
        let ev = mapped("su", "- pts/4 mallory:root");
        assert_eq!((ev.outcome(), ev.user_name()), (Some("failure"), Some("mallory")));
    }

    #[test]
    fn pam_sessions_and_failures() {
        let ev = mapped(
            "sshd",
            "pam_unix(sshd:session): session opened for user bob(uid=1001) by (uid=0)",
        );
        assert_eq!(ev.action(), Some("session_opened"));
        assert_eq!(ev.get("event.type"), Some(&json!(["start"])));
        assert_eq!((ev.user_name(), s(&ev, "user.id")), (Some("bob"), Some("1001")));
        assert_eq!(s(&ev, "system.auth.pam.service"), Some("sshd"));
        assert_eq!(s(&ev, "system.auth.pam.type"), Some("session"));
        assert_eq!(s(&ev, "system.auth.pam.module"), Some("pam_unix"));
        let ev = mapped(
            "sudo",
            "pam_unix(sudo:session): session opened for user root by alice(uid=1000)",
        );
        assert_eq!(
            (ev.user_name(), s(&ev, "system.auth.pam.by")),
            (Some("root"), Some("alice"))
        );
        let ev = mapped(
            "systemd-logind",
            "pam_unix(login:session): session closed for user carol",
        );
        assert_eq!(ev.action(), Some("session_closed"));
        assert_eq!(ev.get("event.type"), Some(&json!(["end"])));

        let ev = mapped(
            "sshd",
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=198.51.100.23  user=root",
        );
        assert_eq!(
            (ev.action(), ev.outcome(), ev.user_name(), ev.source_ip()),
            (
                Some("authentication_failure"),
                Some("failure"),
                Some("root"),
                Some("198.51.100.23")
            )
        );
        assert_eq!(s(&ev, "system.auth.pam.tty"), Some("ssh"));
        assert!(ev.get("system.auth.pam.logname").is_none());
        let ev = mapped(
            "su",
            "pam_unix(su:auth): authentication failure; logname=alice uid=1000 euid=0 tty=pts/0 ruser=alice rhost=jump.example  user=root",
        );
        assert_eq!(s(&ev, "source.domain"), Some("jump.example"));
        assert_eq!(s(&ev, "system.auth.pam.ruser"), Some("alice"));
        let ev = mapped("sshd", "pam_unix(sshd:auth): check pass; user unknown");
        assert_eq!(ev.outcome(), Some("failure"));
        let ev = mapped("passwd", "pam_unix(passwd:chauthtok): password changed for dave");
        assert_eq!(
            (ev.action(), ev.user_name()),
            (Some("password_changed"), Some("dave"))
        );
        let ev = mapped("cron", "pam_unix(cron:account): some other message");
        assert!(ev.action().is_none());
        assert_eq!(s(&ev, "system.auth.pam.service"), Some("cron"));
    }

    #[test]
    fn account_changes() {
        let ev = mapped(
            "useradd",
            "new user: name=deploy, UID=1001, GID=1001, home=/home/deploy, shell=/bin/bash, from=/dev/pts/0",
        );
        assert_eq!(ev.action(), Some("user_created"));
        assert_eq!(ev.get("event.type"), Some(&json!(["user", "creation"])));
        assert_eq!(
            (ev.user_name(), s(&ev, "user.id"), s(&ev, "group.id")),
            (Some("deploy"), Some("1001"), Some("1001"))
        );
        assert_eq!(s(&ev, "system.auth.useradd.shell"), Some("/bin/bash"));
        let ev = mapped("groupadd", "new group: name=devs, GID=1002");
        assert_eq!(
            (ev.action(), s(&ev, "group.name"), s(&ev, "group.id")),
            (Some("group_created"), Some("devs"), Some("1002"))
        );
        let ev = mapped("groupadd", "group added to /etc/group: name=ops, GID=1003");
        assert_eq!(s(&ev, "group.name"), Some("ops"));
        let ev = mapped("usermod", "add 'deploy' to group 'sudo'");
        assert_eq!(
            (ev.action(), ev.user_name(), s(&ev, "group.name")),
            (Some("added_to_group"), Some("deploy"), Some("sudo"))
        );
        let ev = mapped("usermod", "add 'deploy' to shadow group 'sudo'");
        assert_eq!(s(&ev, "group.name"), Some("sudo"));
        let ev = mapped("gpasswd", "user deploy added by root to group docker");
        assert_eq!(
            (ev.user_name(), s(&ev, "group.name")),
            (Some("deploy"), Some("docker"))
        );
        let ev = mapped("userdel", "delete user 'bob'");
        assert_eq!((ev.action(), ev.user_name()), (Some("user_deleted"), Some("bob")));
        let ev = mapped("groupdel", "group 'devs' removed");
        assert_eq!(
            (ev.action(), s(&ev, "group.name")),
            (Some("group_deleted"), Some("devs"))
        );
        let ev = mapped("passwd", "password for 'bob' changed by 'root'");
        assert_eq!(
            (ev.action(), ev.user_name()),
            (Some("password_changed"), Some("bob"))
        );
        assert_eq!(s(&ev, "system.auth.passwd.changed_by"), Some("root"));
        let ev = mapped("usermod", "change user 'bob' password");
        assert_eq!(ev.action(), Some("password_changed"));
        let mut ev = Event::new("t", Utc::now(), "x");
        assert!(!map(
            &mut ev,
            "failed adding user 'x', data deleted",
            Some("useradd")
        ));
        assert!(!map(&mut ev, "(to root) alice on pts/0", Some("kernel")));
    }
}
