//! The inner format of a syslog message: CEF, LEEF, a JSON object, a vendor
//! shape, or key=value pairs — the first that fits, in that order.

use chrono::{DateTime, Utc};
use mamori_model::Event;
use mamori_model::event::MAX_DEPTH;
use serde_json::{Map, Value, json};

use super::vendors::{asa, checkpoint, filterlog, ios, junos, linux, netfilter, paloalto, snare, sshd};
use crate::fieldmap::Stamp;
use crate::ndjson::TIMESTAMP_FIELDS;
use crate::weblog::clf;
use crate::{auditd, cef, kv, leef, time};

/// Which inner format a message had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `CEF:…`
    Cef,
    /// `LEEF:…`
    Leef,
    /// A JSON object.
    Json,
    /// Cisco ASA / FTD / PIX.
    CiscoAsa,
    /// Cisco IOS.
    CiscoIos,
    /// PAN-OS CSV.
    PaloAlto,
    /// Check Point `[key:"value"; …]`.
    CheckPoint,
    /// A Windows event in Snare's tab-separated form.
    Snare,
    /// A Linux audit record.
    Auditd,
    /// A Junos header and `[junos@…]` element inside the message.
    Junos,
    /// A pfSense / OPNsense `filterlog` line.
    Filterlog,
    /// A web server's access line (common or combined log format).
    WebAccess,
    /// A Linux netfilter (iptables, nftables, UFW, firewalld) packet log.
    Netfilter,
    /// An sshd message with something extracted.
    Sshd,
    /// A Linux authentication or account message (sudo, su, PAM, useradd…).
    LinuxAuth,
    /// At least three key=value pairs.
    Kv,
    /// Plain text.
    Text,
}

impl Kind {
    /// True for formats recognised by their text alone (so a line without a
    /// syslog header is still read).
    pub fn stands_alone(self) -> bool {
        !matches!(self, Kind::Filterlog | Kind::Sshd | Kind::LinuxAuth | Kind::Text)
    }
}

/// What mapping the message gave.
pub(crate) struct Mapped {
    /// The inner format.
    pub kind: Kind,
    /// The time the inner format carries.
    pub time: Option<Stamp>,
}

/// Map `msg` (the message of a line whose app name is `app`) onto `ev`.
/// Fails only for a message that says it is CEF or LEEF and is not.
pub(crate) fn map(
    ev: &mut Event,
    msg: &str,
    app: Option<&str>,
    ingest: DateTime<Utc>,
) -> Result<Mapped, String> {
    let msg = msg.trim();
    let done = |kind, time| Ok(Mapped { kind, time });
    if msg.starts_with("CEF:") {
        let cef = cef::parse_cef(msg).map_err(|e| format!("CEF message at byte {}: {}", e.at, e.reason))?;
        return done(Kind::Cef, cef::map_cef(ev, &cef, ingest));
    }
    if msg.starts_with("LEEF:") {
        let leef =
            leef::parse_leef(msg).map_err(|e| format!("LEEF message at byte {}: {}", e.at, e.reason))?;
        return done(Kind::Leef, leef::map_leef(ev, &leef, ingest));
    }
    if msg.starts_with('{')
        && let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(msg)
    {
        let time = TIMESTAMP_FIELDS
            .iter()
            .find_map(|k| obj.get(*k).and_then(time::from_value))
            .map(|time| Stamp {
                time,
                assumed_utc: false,
            });
        merge_object(ev, obj);
        return done(Kind::Json, time);
    }
    if asa::map(ev, msg) {
        return done(Kind::CiscoAsa, None);
    }
    if let Some(time) = ios::map(ev, msg, ingest) {
        return done(Kind::CiscoIos, time);
    }
    if let Some(time) = paloalto::map(ev, msg, ingest) {
        return done(Kind::PaloAlto, time);
    }
    if let Some(time) = checkpoint::map(ev, msg, ingest) {
        return done(Kind::CheckPoint, time);
    }
    if let Some(time) = snare::map(ev, msg, app) {
        return done(Kind::Snare, time);
    }
    if let Some(time) = junos::map_message(ev, msg, ingest) {
        return done(Kind::Junos, time);
    }
    if let Some(time) = auditd::map_message(ev, msg) {
        return done(Kind::Auditd, Some(time));
    }
    if filterlog::recognises(app) && filterlog::map(ev, msg) {
        return done(Kind::Filterlog, None);
    }
    if let Some(time) = clf::map_message(ev, msg) {
        let time = Stamp {
            time,
            assumed_utc: false,
        };
        return done(Kind::WebAccess, Some(time));
    }
    if netfilter::map(ev, msg) {
        return done(Kind::Netfilter, None);
    }
    if sshd::recognises(app) && sshd::map(ev, msg) {
        system_auth(ev);
        return done(Kind::Sshd, None);
    }
    if linux::recognises(app, msg) && linux::map(ev, msg, app) {
        system_auth(ev);
        return done(Kind::LinuxAuth, None);
    }
    if let Some(pairs) = kv::rich_pairs(msg) {
        let time = kv::map_pairs(ev, &pairs, ingest);
        return done(Kind::Kv, time);
    }
    done(Kind::Text, None)
}

/// `event.module` = `system`, `event.dataset` = `system.auth`: a Linux
/// host's authentication log, as Elastic's `system` module names it (and
/// Sigma's `linux`/`auth` log source finds it).
fn system_auth(ev: &mut Event) {
    ev.set("event.module", json!("system"));
    ev.set("event.dataset", json!("system.auth"));
}

/// Merge a JSON object's fields into `ev` at the top level (dotted keys
/// nest). A field the event already has (a syslog header field, `tenant`,
/// `event.id`…) or that would go through one is kept under `json.` instead;
/// `message` is taken as is; a string `tags` becomes a list.
fn merge_object(ev: &mut Event, obj: Map<String, Value>) {
    for (k, v) in obj {
        merge(ev, &k, v);
    }
}

fn merge(ev: &mut Event, path: &str, value: Value) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                merge(ev, &format!("{path}.{k}"), v);
            }
        }
        Value::String(s) if path == "tags" && ev.get("tags").is_none() => ev.set("tags", json!([s])),
        other => {
            if path == "message" || !occupied(ev, path) {
                ev.set(path, other);
            } else {
                ev.set(&format!("json.{path}"), other);
            }
        }
    }
}

/// True when `path` is set, or a prefix of it that [`Event::set`] would
/// walk through (the first [`MAX_DEPTH`] segments) holds a non-object.
fn occupied(ev: &Event, path: &str) -> bool {
    if ev.get(path).is_some() {
        return true;
    }
    path.match_indices('.')
        .take(MAX_DEPTH - 1)
        .any(|(i, _)| ev.get(&path[..i]).is_some_and(|v| !v.is_object()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_merge_keeps_existing_fields() {
        let mut ev = Event::new("acme", Utc::now(), "orig");
        ev.set("host.hostname", json!("h1"));
        let msg = r#"{"host":"other","message":"hi","a":{"b":1},"tenant":"evil","event":{"id":"x"},"tags":"t","time":"2024-05-01T10:00:00Z"}"#;
        let m = map(&mut ev, msg, None, Utc::now()).unwrap();
        assert_eq!(m.kind, Kind::Json);
        assert_eq!(m.time.unwrap().time.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        assert_eq!(ev.get_str("host.hostname"), Some("h1"));
        assert_eq!(ev.get_str("json.host"), Some("other"));
        assert_eq!(ev.get_str("message"), Some("hi"));
        assert_eq!(ev.get("a.b"), Some(&json!(1)));
        assert_eq!(ev.tenant(), "acme");
        assert_eq!(ev.get_str("json.tenant"), Some("evil"));
        assert_eq!(ev.get_str("json.event.id"), Some("x"));
        assert_eq!(ev.get("tags"), Some(&json!(["t"])));
    }

    #[test]
    fn order_and_failures() {
        let mut ev = Event::new("acme", Utc::now(), "orig");
        let e = map(&mut ev, "CEF:0|a|b", None, Utc::now()).err().unwrap();
        assert!(
            e.starts_with("CEF message at byte 0: CEF header has 3 of the 7"),
            "{e}"
        );
        assert!(map(&mut ev, "LEEF:1.0|V|P|1|2|junk", None, Utc::now()).is_err());
        let kind = |msg: &str, app| {
            map(&mut Event::new("a", Utc::now(), "o"), msg, app, Utc::now())
                .unwrap()
                .kind
        };
        assert_eq!(kind("{not json", None), Kind::Text);
        assert_eq!(kind("a=1 b=2 c=3", None), Kind::Kv);
        assert_eq!(kind("a=1 b=2", None), Kind::Text);
        assert_eq!(kind("%ASA-6-302013: x", None), Kind::CiscoAsa);
        assert_eq!(
            kind("Failed password for x from 10.0.0.1 port 1 ssh2", Some("sshd")),
            Kind::Sshd
        );
        assert_eq!(
            kind("Failed password for x from 10.0.0.1 port 1 ssh2", Some("other")),
            Kind::Text
        );
        assert_eq!(
            kind(
                "[UFW BLOCK] IN=eth0 OUT= SRC=10.0.0.1 DST=10.0.0.2 PROTO=UDP",
                Some("kernel")
            ),
            Kind::Netfilter
        );
        assert_eq!(
            kind(
                r#"10.0.0.1 - bob [07/Dec/2024:04:10:07 +0000] "GET / HTTP/1.1" 200 5 "-" "curl""#,
                Some("nginx")
            ),
            Kind::WebAccess
        );
        assert!(!Kind::Sshd.stands_alone());
        assert!(Kind::Kv.stands_alone());
    }
}
