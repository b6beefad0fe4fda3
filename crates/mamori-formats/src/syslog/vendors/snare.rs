//! Windows events forwarded as syslog by Snare (and agents writing its
//! format, such as NXLog's `to_syslog_snare`): the tag `MSWinEventLog`
//! followed by tab-separated columns (rsyslog's escaped tab `#011` is
//! accepted too). Names are those of the EVTX mapping ([`crate::evtx`]),
//! so that searches and Sigma rules on `winlog.channel` and
//! `winlog.event_id` find these events as well; the event data itself is
//! only in the rendered message.
//!
//! | column                  | ECS / Mamori |
//! |-------------------------|--------------|
//! | 1 criticality (0–4)     | `snare.criticality` |
//! | 2 log name              | `winlog.channel` |
//! | 3 Snare counter         | `snare.counter` |
//! | 4 time (`Fri Jan 05 10:23:45 2024`, the host's local time) | `@timestamp` (read as UTC, tagged `mamori.timestamp_assumed_utc`) |
//! | 5 event id              | `winlog.event_id`, `event.code` |
//! | 6 source                | `winlog.provider_name`, `event.provider` |
//! | 7 user (`DOMAIN\user`)  | `user.name`, `user.domain` (unless `N/A`) |
//! | 8 SID type              | `winlog.user.type` |
//! | 9 event type            | `Success Audit` / `Failure Audit`: `winlog.keywords` = `Audit Success` / `Audit Failure` and `event.outcome`; `Information`, `Warning`, `Error`…: `winlog.level` (lower case) |
//! | 10 computer             | `winlog.computer_name`, `host.name` |
//! | 11 category             | `winlog.task` |
//! | 12 data                 | `snare.data` |
//! | 13 expanded string      | `message` |
//!
//! `event.kind` = `event`, `event.module` = `windows` (`sysmon` for the
//! Sysmon channel), `event.dataset` = `windows.snare`.

use chrono::{NaiveDateTime, Utc};
use mamori_model::Event;
use serde_json::json;

use crate::fieldmap::{Stamp, set_str};

/// The tag Snare writes.
const TAG: &str = "MSWinEventLog";

/// Map a Snare message of a line tagged `app` (the table above); its time.
/// `None` when the message is not one.
pub(crate) fn map(ev: &mut Event, msg: &str, app: Option<&str>) -> Option<Option<Stamp>> {
    let body = if app.is_some_and(|a| a.eq_ignore_ascii_case(TAG)) {
        msg
    } else {
        msg.strip_prefix(TAG)?
    };
    let body = body.replace("#011", "\t");
    let mut cols: Vec<&str> = body.split('\t').map(str::trim).collect();
    if cols.first() == Some(&"") {
        cols.remove(0);
    }
    let at = |i: usize| cols.get(i).copied().unwrap_or("");
    // Column 5 is the event id: a number, or this is not Snare.
    if cols.len() < 10 || at(4).parse::<u32>().is_err() {
        return None;
    }
    let channel = at(1);
    ev.set("event.kind", json!("event"));
    let module = if channel.contains("Sysmon") {
        "sysmon"
    } else {
        "windows"
    };
    ev.set("event.module", json!(module));
    ev.set("event.dataset", json!("windows.snare"));
    set_str(ev, "snare.criticality", at(0));
    set_str(ev, "winlog.channel", channel);
    set_str(ev, "snare.counter", at(2));
    set_str(ev, "winlog.event_id", at(4));
    set_str(ev, "event.code", at(4));
    set_str(ev, "winlog.provider_name", at(5));
    set_str(ev, "event.provider", at(5));
    let user = at(6);
    match user.split_once('\\') {
        Some((domain, name)) => {
            set_str(ev, "user.domain", domain);
            set_str(ev, "user.name", name);
        }
        None => {
            set_str(ev, "user.name", user);
        }
    }
    set_str(ev, "winlog.user.type", at(7));
    match at(8) {
        "Success Audit" | "Audit Success" => {
            ev.set("winlog.keywords", json!(["Audit Success"]));
            ev.set("event.outcome", json!("success"));
        }
        "Failure Audit" | "Audit Failure" => {
            ev.set("winlog.keywords", json!(["Audit Failure"]));
            ev.set("event.outcome", json!("failure"));
        }
        level => {
            set_str(ev, "winlog.level", &level.to_ascii_lowercase());
        }
    }
    set_str(ev, "winlog.computer_name", at(9));
    set_str(ev, "host.name", at(9));
    set_str(ev, "winlog.task", at(10));
    set_str(ev, "snare.data", at(11));
    set_str(ev, "message", at(12));
    let time = NaiveDateTime::parse_from_str(at(3), "%a %b %d %H:%M:%S %Y")
        .ok()
        .map(|t| Stamp {
            time: t.and_utc().with_timezone(&Utc),
            assumed_utc: true,
        });
    Some(time)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_failure_over_syslog() {
        let mut ev = Event::new("t", Utc::now(), "o");
        let msg = "1\tSecurity\t123\tSat Dec 07 04:10:08 2024\t4625\tMicrosoft-Windows-Security-Auditing\tCORP\\bob\tN/A\tFailure Audit\tdc1\tLogon\t\tAn account failed to log on.\t";
        let time = map(&mut ev, msg, Some("MSWinEventLog")).unwrap().unwrap();
        assert_eq!(time.time.to_rfc3339(), "2024-12-07T04:10:08+00:00");
        assert!(time.assumed_utc);
        for (path, want) in [
            ("winlog.channel", json!("Security")),
            ("winlog.event_id", json!("4625")),
            ("event.code", json!("4625")),
            (
                "winlog.provider_name",
                json!("Microsoft-Windows-Security-Auditing"),
            ),
            ("user.name", json!("bob")),
            ("user.domain", json!("CORP")),
            ("winlog.keywords", json!(["Audit Failure"])),
            ("event.outcome", json!("failure")),
            ("host.name", json!("dc1")),
            ("winlog.task", json!("Logon")),
            ("message", json!("An account failed to log on.")),
        ] {
            assert_eq!(ev.get(path), Some(&want), "{path}");
        }
        assert_eq!(ev.get("winlog.user.type"), None);
    }

    #[test]
    fn escaped_tabs_and_the_tag_in_the_message() {
        let mut ev = Event::new("t", Utc::now(), "o");
        let msg = "MSWinEventLog#0110#011System#0117#011Mon Jan 01 00:00:00 2024#0117045#011Service Control Manager#011N/A#011N/A#011Information#011srv1#011None#011#011A service was installed.";
        assert!(map(&mut ev, msg, Some("srv1")).is_some());
        assert_eq!(ev.get_str("winlog.event_id"), Some("7045"));
        assert_eq!(ev.get_str("winlog.level"), Some("information"));
        assert_eq!(ev.get("user.name"), None);
        for not_snare in [
            "MSWinEventLog\t1\tSecurity",
            "1\tSecurity\t1\tx\tnot-an-id\ta\tb\tc\td\te\tf",
        ] {
            assert!(map(&mut Event::new("t", Utc::now(), "o"), not_snare, Some(TAG)).is_none());
        }
    }
}
