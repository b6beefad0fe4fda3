//! Linux audit logs: a file of records (plain and enriched, user-space
//! records with nested messages, hex-encoded values), the same records over
//! syslog, and the malformed lines, on the invented `fixtures/auditd.log`.

mod common;

use common::{ctx, fixture, run, split};
use mamori_formats::sniff::sniff;
use mamori_formats::{Format, Item, parse};
use mamori_model::Event;
use serde_json::json;

fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
    ev.get_str(path)
}

#[test]
fn sniffed_counted_and_bad_lines_located() {
    let text = fixture("auditd.log");
    assert_eq!(sniff(text.as_bytes()), Some(Format::Auditd));
    let p = split(run(Format::Auditd, &text));
    assert_eq!((p.events.len(), p.bad.len(), p.warnings.len()), (9, 2, 1));
    let non_empty = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(p.events.len() + p.bad.len(), non_empty);
    // A record cut inside a quote is kept, and said so.
    let cut = &p.events[8];
    assert_eq!(s(cut, "process.command_line"), Some("cat /etc/shadow"));
    assert_eq!(cut.get("tags"), Some(&json!(["mamori.record_truncated"])));
    let warning = &p.warnings[0];
    assert_eq!(warning.location.line, Some(10));
    assert_eq!(
        warning.message,
        "unterminated quoted value of `a1` at column 63: read to the end of the line"
    );
    let (not_audit, bad_time) = (&p.bad[0], &p.bad[1]);
    assert_eq!(not_audit.location.line, Some(11));
    assert!(
        not_audit.reason.starts_with("expected an audit record"),
        "{}",
        not_audit.reason
    );
    assert!(
        bad_time.reason.contains("audit(not-a-time:5)"),
        "{}",
        bad_time.reason
    );
}

#[test]
fn process_records_of_one_syscall() {
    let p = split(run(Format::Auditd, fixture("auditd.log")));
    let (syscall, execve, cwd, path, title) = (
        &p.events[0],
        &p.events[1],
        &p.events[2],
        &p.events[3],
        &p.events[4],
    );
    for ev in &p.events[..5] {
        assert_eq!(ev.get("auditd.log.sequence"), Some(&json!(456)));
        assert_eq!(s(ev, "@timestamp"), Some("2024-12-07T04:10:04.123000Z"));
        assert_eq!(s(ev, "host.name"), Some("web01"));
        assert_eq!(s(ev, "event.module"), Some("auditd"));
    }
    assert_eq!(s(syscall, "auditd.log.SYSCALL"), Some("execve"));
    assert_eq!(
        s(syscall, "auditd.log.a0"),
        Some("55d4"),
        "syscall arguments stay hex"
    );
    assert_eq!(s(syscall, "auditd.log.key"), Some("perm_mod"));
    assert_eq!(
        (syscall.user_name(), s(syscall, "user.audit.name")),
        (Some("root"), Some("alice"))
    );
    assert_eq!(syscall.get("process.parent.pid"), Some(&json!(900)));
    assert_eq!(syscall.outcome(), Some("success"));
    assert_eq!(syscall.get("related.user"), Some(&json!(["root"])));

    assert_eq!(
        execve.get("process.args"),
        Some(&json!(["chmod", "4755", "/tmp/my shll"]))
    );
    assert_eq!(s(execve, "process.command_line"), Some("chmod 4755 /tmp/my shll"));
    assert_eq!(s(execve, "event.action"), Some("execve"));
    assert_eq!(s(cwd, "process.working_directory"), Some("/root"));
    assert_eq!(s(path, "file.path"), Some("/tmp/my shll"));
    assert_eq!(s(title, "process.title"), Some("chmod 4755 /tmp/my shll"));
}

#[test]
fn user_space_records_and_others() {
    let p = split(run(Format::Auditd, fixture("auditd.log")));
    let (auth, add, avc) = (&p.events[5], &p.events[6], &p.events[7]);
    assert_eq!(
        (auth.user_name(), auth.outcome()),
        (Some("admin"), Some("failure"))
    );
    assert_eq!(auth.source_ip(), Some("203.0.113.9"));
    assert_eq!(s(auth, "auditd.log.op"), Some("PAM:authentication"));
    assert_eq!(auth.get("user.audit.id"), None, "unset auid");
    assert_eq!(auth.get("event.category"), Some(&json!(["authentication"])));
    assert_eq!(auth.get("related.ip"), Some(&json!(["203.0.113.9"])));
    assert_eq!((add.action(), add.outcome()), (Some("add_user"), Some("success")));
    assert_eq!(s(add, "auditd.log.id"), Some("1001"));
    assert_eq!(add.get("event.category"), Some(&json!(["iam"])));
    assert_eq!(s(avc, "process.name"), Some("httpd"));
    assert_eq!(s(avc, "auditd.log.tclass"), Some("file"));
    assert_eq!(avc.get("event.category"), Some(&json!(["intrusion_detection"])));
    assert_eq!(s(avc, "@timestamp"), Some("2024-12-07T04:15:00.500000Z"));
}

#[test]
fn records_over_syslog() {
    let text = "<14>Dec  7 04:10:04 web01 audisp-syslog: type=EXECVE msg=audit(1733544604.123:456): argc=2 a0=\"cat\" a1=\"/etc/shadow\"\n\
                <4>Dec  7 04:10:05 web01 kernel: audit: type=1400 audit(1733544605.000:457): apparmor=\"DENIED\" operation=\"open\" profile=\"snap\" name=\"/etc/shadow\" pid=77 comm=\"cat\"\n";
    let items: Vec<Item> = parse(Format::Syslog, Box::new(text.as_bytes()), &ctx()).collect();
    let p = split(items);
    assert_eq!(p.events.len(), 2);
    let (execve, kernel) = (&p.events[0], &p.events[1]);
    assert_eq!(s(execve, "process.command_line"), Some("cat /etc/shadow"));
    assert_eq!(s(execve, "auditd.log.record_type"), Some("EXECVE"));
    assert_eq!(s(execve, "host.hostname"), Some("web01"));
    assert_eq!(s(execve, "@timestamp"), Some("2024-12-07T04:10:04.123000Z"));
    assert!(execve.get("tags").is_none(), "the record's time has a zone");
    assert_eq!(s(kernel, "auditd.log.record_type"), Some("1400"));
    assert_eq!(s(kernel, "auditd.log.apparmor"), Some("DENIED"));
    assert_eq!(
        s(kernel, "process.name"),
        Some("cat"),
        "the record's comm wins over the syslog tag"
    );
}
