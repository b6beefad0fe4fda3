//! Syslog (RFC 3164 / 5424) with inner formats and vendor shapes, on the
//! invented lines of `fixtures/syslog_mixed.log` and inline cases.

mod common;

use common::{fixture, run, split};
use mamori_formats::sniff::sniff;
use mamori_formats::{Format, Item};
use mamori_model::Event;
use serde_json::{Value, json};

fn events(input: &str) -> Vec<Event> {
    let s = split(run(Format::Syslog, input));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    s.events
}

fn one(line: &str) -> Event {
    let mut evs = events(line);
    assert_eq!(evs.len(), 1, "{line}");
    evs.remove(0)
}

fn s<'a>(ev: &'a Event, path: &str) -> Option<&'a str> {
    ev.get_str(path)
}

fn tags(ev: &Event) -> Vec<&str> {
    ev.get("tags")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn mixed() -> (
    Vec<Event>,
    Vec<mamori_formats::BadRecord>,
    Vec<mamori_formats::Diagnostic>,
) {
    let s = split(run(Format::Syslog, fixture("syslog_mixed.log")));
    (s.events, s.bad, s.warnings)
}

/// The event of fixture line `n` (1-based; line 5 is blank, line 15 bad).
fn line(evs: &[Event], text: &str, n: usize) -> Event {
    let want = text.lines().nth(n - 1).unwrap();
    evs.iter()
        .find(|e| e.original() == want)
        .unwrap_or_else(|| panic!("no event for line {n}"))
        .clone()
}

#[test]
fn the_fixture_is_sniffed_and_every_line_accounted_for() {
    let text = fixture("syslog_mixed.log");
    assert_eq!(sniff(text.as_bytes()), Some(Format::Syslog));
    let (evs, bad, warnings) = mixed();
    assert_eq!(evs.len(), 15);
    assert_eq!(bad.len(), 1);
    assert_eq!(warnings.len(), 1);
    let non_empty = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(evs.len() + bad.len(), non_empty);
    // The bad record: line 15, with its byte offset and what was expected.
    let b = &bad[0];
    assert_eq!(b.location.line, Some(15));
    let offset: usize = text.lines().take(14).map(|l| l.len() + 1).sum();
    assert_eq!(b.location.byte_offset, Some(offset as u64));
    assert!(b.reason.starts_with("expected a syslog header"), "{}", b.reason);
    assert_eq!(b.raw, "this line has no syslog header at all");
    // The warning: line 16's CEF message is malformed; the event is kept.
    assert_eq!(warnings[0].location.line, Some(16));
    assert!(
        warnings[0].message.contains("CEF header has 3 of the 7"),
        "{}",
        warnings[0].message
    );
    for ev in &evs {
        assert_eq!(ev.tenant(), "acme");
        assert_eq!(ev.id().len(), 32);
    }
}

#[test]
fn rfc3164_header() {
    let (evs, _, _) = mixed();
    let ev = line(&evs, &fixture("syslog_mixed.log"), 1);
    assert_eq!(ev.get("log.syslog.priority"), Some(&json!(34)));
    assert_eq!(ev.get("log.syslog.facility.code"), Some(&json!(4)));
    assert_eq!(s(&ev, "log.syslog.facility.name"), Some("auth"));
    assert_eq!(ev.get("log.syslog.severity.code"), Some(&json!(2)));
    assert_eq!(s(&ev, "log.syslog.severity.name"), Some("crit"));
    assert_eq!(s(&ev, "log.level"), Some("crit"));
    assert_eq!(s(&ev, "host.hostname"), Some("mymachine"));
    assert_eq!(s(&ev, "host.name"), Some("mymachine"));
    assert_eq!(s(&ev, "process.name"), Some("su"));
    assert_eq!(ev.get("process.pid"), Some(&json!(230)));
    assert_eq!(
        s(&ev, "message"),
        Some("'su root' failed for lonvick on /dev/pts/8")
    );
    // No year, no zone: the ingest year (2030-01-02) would put October in
    // the future, so 2029; read as UTC and tagged.
    assert_eq!(s(&ev, "@timestamp"), Some("2029-10-11T22:14:15.000000Z"));
    assert_eq!(tags(&ev), vec!["mamori.timestamp_assumed_utc"]);
    assert_eq!(ev.original(), fixture("syslog_mixed.log").lines().next().unwrap());
}

#[test]
fn rfc5424_header_and_structured_data() {
    let (evs, _, _) = mixed();
    let ev = line(&evs, &fixture("syslog_mixed.log"), 2);
    assert_eq!(s(&ev, "@timestamp"), Some("2024-05-01T08:00:00.123000Z"));
    assert!(ev.get("tags").is_none());
    assert_eq!(s(&ev, "log.syslog.version"), Some("1"));
    assert_eq!(s(&ev, "log.syslog.msgid"), Some("ACCESS"));
    assert_eq!(ev.get("process.pid"), Some(&json!(4242)));
    assert_eq!(s(&ev, "process.name"), Some("nginx"));
    assert_eq!(
        ev.get("log.syslog.structured_data"),
        Some(&json!({
            "meta@32473": {"ip": "192.0.2.10", "env": ["prod", "blue"]},
            "origin": {"software": "nginx"}
        }))
    );
    assert_eq!(s(&ev, "message"), Some("GET /index.html 200"));
    assert_eq!(s(&ev, "log.syslog.facility.name"), Some("local4"));
    assert_eq!(s(&ev, "log.level"), Some("notice"));
}

#[test]
fn sshd_logins() {
    let text = fixture("syslog_mixed.log");
    let (evs, _, _) = mixed();
    let failed = line(&evs, &text, 3);
    assert_eq!(failed.action(), Some("ssh_login"));
    assert_eq!(failed.outcome(), Some("failure"));
    assert_eq!(failed.user_name(), Some("oracle"));
    assert_eq!(failed.source_ip(), Some("198.51.100.23"));
    assert_eq!(failed.get("source.port"), Some(&json!(52144)));
    assert_eq!(s(&failed, "@timestamp"), Some("2029-05-02T08:00:00.000000Z"));
    let accepted = line(&evs, &text, 4);
    assert_eq!(accepted.outcome(), Some("success"));
    assert_eq!(accepted.user_name(), Some("deploy"));
    assert!(accepted.get("log.syslog.priority").is_none());
    assert_eq!(accepted.get("related.user"), Some(&json!(["deploy"])));
}

#[test]
fn cef_inside_syslog_keeps_the_header() {
    let (evs, _, _) = mixed();
    let ev = line(&evs, &fixture("syslog_mixed.log"), 6);
    assert_eq!(s(&ev, "host.hostname"), Some("sensor"));
    assert_eq!(ev.get("log.syslog.priority"), Some(&json!(134)));
    assert_eq!(s(&ev, "observer.vendor"), Some("Acme"));
    assert_eq!(s(&ev, "event.code"), Some("4001"));
    assert_eq!(ev.source_ip(), Some("203.0.113.5"));
    assert_eq!(ev.get("destination.port"), Some(&json!(22)));
    assert_eq!(s(&ev, "network.transport"), Some("tcp"));
    assert_eq!(ev.action(), Some("blocked"));
    assert_eq!(ev.outcome(), Some("failure"));
    assert_eq!(ev.user_name(), Some("eve"));
    assert_eq!(s(&ev, "message"), Some("Scan from 203.0.113.5"));
    // `rt` has a zone, the header does not: `rt` wins, no tag.
    assert_eq!(s(&ev, "@timestamp"), Some("2024-05-02T08:00:59.000000Z"));
    assert!(ev.get("tags").is_none());
}

#[test]
fn leef_json_and_kv_inside_syslog() {
    let text = fixture("syslog_mixed.log");
    let (evs, _, _) = mixed();
    let leef = line(&evs, &text, 7);
    assert_eq!(leef.user_name(), Some("frank"));
    assert_eq!(leef.source_ip(), Some("192.0.2.33"));
    assert_eq!(leef.get("event.severity"), Some(&json!(4)));
    assert_eq!(s(&leef, "@timestamp"), Some("2024-05-02T08:02:00.000000Z"));
    assert_eq!(s(&leef, "host.hostname"), Some("qradar-src"));

    let json = line(&evs, &text, 8);
    assert_eq!(json.user_name(), Some("grace"));
    // Keys are kept as they are (they may already be ECS).
    assert_eq!(s(&json, "action"), Some("download"));
    assert_eq!(s(&json, "message"), Some("file fetched"));
    assert_eq!(s(&json, "@timestamp"), Some("2024-05-02T08:02:59.000000Z"));
    // `host` would overwrite the header's host object: kept under `json.`.
    assert_eq!(s(&json, "host.hostname"), Some("app01"));
    assert_eq!(s(&json, "json.host"), Some("other"));

    let forti = line(&evs, &text, 9);
    assert_eq!(s(&forti, "observer.vendor"), Some("Fortinet"));
    assert_eq!(s(&forti, "observer.product"), Some("FortiGate"));
    assert_eq!(forti.source_ip(), Some("10.1.1.10"));
    assert_eq!(forti.get("source.port"), Some(&json!(51515)));
    assert_eq!(s(&forti, "destination.ip"), Some("203.0.113.80"));
    assert_eq!(forti.get("destination.port"), Some(&json!(443)));
    assert_eq!(forti.action(), Some("accept"));
    assert_eq!(forti.user_name(), Some("henry"));
    assert_eq!(s(&forti, "network.transport"), Some("tcp"));
    assert_eq!(forti.get("source.bytes"), Some(&json!(1200)));
    assert_eq!(s(&forti, "rule.id"), Some("7"));
    assert_eq!(s(&forti, "kv.devname"), Some("fw01"));
    // The vendor's level wins over the PRI severity.
    assert_eq!(s(&forti, "log.level"), Some("notice"));
    assert_eq!(s(&forti, "log.syslog.severity.name"), Some("info"));

    let iptables = line(&evs, &text, 12);
    assert_eq!(iptables.source_ip(), Some("192.0.2.1"));
    assert_eq!(iptables.get("destination.port"), Some(&json!(5353)));
    assert_eq!(s(&iptables, "network.transport"), Some("udp"));
    assert_eq!(s(&iptables, "observer.ingress.interface.name"), Some("eth0"));
    assert_eq!(iptables.get("observer.egress.interface.name"), None);
    assert_eq!(s(&iptables, "event.dataset"), Some("iptables.log"));
}

#[test]
fn cisco_asa_and_palo_alto() {
    let text = fixture("syslog_mixed.log");
    let (evs, _, _) = mixed();
    let asa = line(&evs, &text, 10);
    assert_eq!(s(&asa, "event.code"), Some("302013"));
    assert_eq!(s(&asa, "log.level"), Some("info"));
    assert_eq!(asa.source_ip(), Some("198.51.100.7"));
    assert_eq!(s(&asa, "destination.ip"), Some("10.0.0.5"));
    assert_eq!(asa.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(&asa, "host.hostname"), Some("asa01"));

    let pan = line(&evs, &text, 11);
    assert_eq!(s(&pan, "panos.type"), Some("TRAFFIC"));
    assert_eq!(pan.source_ip(), Some("10.1.1.5"));
    assert_eq!(s(&pan, "rule.name"), Some("allow-web"));
    assert_eq!(pan.user_name(), Some("corp\\dave"));
    assert_eq!(pan.get("destination.port"), Some(&json!(443)));
    assert_eq!(pan.action(), Some("allow"));
    assert_eq!(s(&pan, "host.hostname"), Some("pan01"));
    // The generated time (no zone) over the header time (no zone either).
    assert_eq!(s(&pan, "@timestamp"), Some("2024-05-02T08:05:58.000000Z"));
}

#[test]
fn lines_without_a_header() {
    let text = fixture("syslog_mixed.log");
    let (evs, _, _) = mixed();
    let cef = line(&evs, &text, 13);
    assert_eq!(s(&cef, "observer.hostname"), Some("sensor1"));
    assert_eq!(
        tags(&cef),
        vec!["mamori.syslog_header_missing", "mamori.timestamp_missing"]
    );
    assert_eq!(s(&cef, "@timestamp"), Some("2030-01-02T03:04:05.000000Z"));
    let asa = line(&evs, &text, 14);
    assert_eq!(s(&asa, "rule.name"), Some("outside_in"));
    assert_eq!(asa.get("destination.port"), Some(&json!(445)));
}

#[test]
fn malformed_inner_cef_is_kept_with_a_warning() {
    let text = fixture("syslog_mixed.log");
    let (evs, _, _) = mixed();
    let ev = line(&evs, &text, 16);
    assert_eq!(s(&ev, "host.hostname"), Some("host1"));
    assert_eq!(s(&ev, "message"), Some("CEF:0|broken|header"));
    assert!(
        s(&ev, "error.message")
            .unwrap()
            .contains("CEF header has 3 of the 7")
    );
    assert!(tags(&ev).contains(&"mamori.inner_format_malformed"));
}

#[test]
fn iso_timestamps_with_a_space() {
    let ev = line(&mixed().0, &fixture("syslog_mixed.log"), 17);
    assert_eq!(s(&ev, "@timestamp"), Some("2024-05-02T06:11:00.250000Z"));
    assert_eq!(s(&ev, "process.name"), Some("cron"));
    assert_eq!(ev.get("process.pid"), Some(&json!(77)));
    assert_eq!(s(&ev, "message"), Some("(root) CMD (run-parts /etc/cron.hourly)"));
}

#[test]
fn year_rule() {
    // Ingest time 2030-01-02T03:04:05Z.
    let at = |l: &str| one(l).get_str("@timestamp").unwrap().to_string();
    assert_eq!(at("Jan  2 20:00:00 h a: x"), "2030-01-02T20:00:00.000000Z");
    assert_eq!(at("Jan  4 00:00:00 h a: x"), "2029-01-04T00:00:00.000000Z");
    assert_eq!(at("Dec 31 23:59:59 h a: x"), "2029-12-31T23:59:59.000000Z");
    // With a year (Cisco style) the year is kept, the zone still assumed.
    let ev = one("Mar  3 2021 10:00:00 h a: x");
    assert_eq!(s(&ev, "@timestamp"), Some("2021-03-03T10:00:00.000000Z"));
    assert_eq!(tags(&ev), vec!["mamori.timestamp_assumed_utc"]);
    // RFC 3339 in an RFC 3164 header has a zone.
    let ev = one("2021-03-03T10:00:00+01:00 h a: x");
    assert_eq!(s(&ev, "@timestamp"), Some("2021-03-03T09:00:00.000000Z"));
    assert!(ev.get("tags").is_none());
}

#[test]
fn priority_only_and_odd_headers() {
    let ev = one("<13>free text after a priority");
    assert_eq!(s(&ev, "message"), Some("free text after a priority"));
    assert_eq!(s(&ev, "log.syslog.facility.name"), Some("user"));
    assert!(tags(&ev).contains(&"mamori.timestamp_missing"));
    // A lone field followed by `:` is the tag.
    let ev = one("Jan 22 18:34:00 filterlog: 5,,,1000,em0,match,block");
    assert_eq!(s(&ev, "process.name"), Some("filterlog"));
    assert!(ev.get("host.hostname").is_none());
    // F5 BIG-IP puts a severity where the tag goes.
    let ev = one("May  4 13:42:12 lb1 warning tmm1[1234]: Rule /Common/x: blocked");
    assert_eq!(s(&ev, "log.level"), Some("warning"));
    assert_eq!(s(&ev, "process.name"), Some("tmm1"));
    assert_eq!(s(&ev, "message"), Some("Rule /Common/x: blocked"));
    // CEF right after the time, no host.
    let ev = one("<13>Feb  5 17:32:18 CEF:0|a|b|c|d|e|5|src=192.0.2.1");
    assert_eq!(ev.source_ip(), Some("192.0.2.1"));
    assert!(ev.get("host.hostname").is_none());
}

#[test]
fn malformed_lines_are_bad_records() {
    let mut input = b"<999>Jan  2 10:00:00 host app: x\n<13 unclosed\n".to_vec();
    input.extend_from_slice(b"<13>Jan  2 10:00:00 host app: caf\xe9\n");
    input.extend_from_slice(b"CEF:0|header|only\n\n   \nMay 00 00:00:00 host app: x\n");
    let items = run(Format::Syslog, &input);
    let s = split(items);
    assert!(s.events.is_empty());
    let reasons: Vec<(u64, u64, &str)> = s
        .bad
        .iter()
        .map(|b| {
            (
                b.location.line.unwrap(),
                b.location.byte_offset.unwrap(),
                b.reason.as_str(),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert_eq!(reasons[0].0, 1);
    assert!(reasons[0].2.contains("out of range: expected <0> to <191>"));
    assert_eq!((reasons[1].0, reasons[1].1), (2, 33));
    assert!(reasons[1].2.contains("expected `>`"));
    assert_eq!(reasons[2].0, 3);
    assert!(reasons[2].2.starts_with("line is not valid UTF-8"));
    // `<13>Jan  2 10:00:00 host app: caf` is 33 valid bytes.
    assert_eq!(s.bad[2].location.column, Some(34));
    assert_eq!(reasons[3].0, 4);
    assert!(reasons[3].2.contains("CEF header has 3 of the 7"));
    assert_eq!(reasons[4].0, 7);
    assert!(
        reasons[4]
            .2
            .contains("`May 00 00:00:00` looks like an RFC 3164 timestamp")
    );
}

#[test]
fn crlf_bom_and_long_lines() {
    let evs = events("\u{feff}<13>Jan  2 10:00:00 host app: one\r\n<13>Jan  2 10:00:01 host app: two\r\n");
    assert_eq!(evs.len(), 2);
    assert_eq!(evs[0].original(), "<13>Jan  2 10:00:00 host app: one");
    assert_eq!(s(&evs[1], "message"), Some("two"));
    let mut long = b"<13>Jan  2 10:00:00 host app: ".to_vec();
    long.resize(9 << 20, b'x');
    long.extend_from_slice(b"\n<13>Jan  2 10:00:00 host app: after\n");
    let s = split(run(Format::Syslog, &long));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.bad.len(), 1);
    assert!(s.bad[0].reason.starts_with("line longer than"));
}

#[test]
fn items_come_in_line_order() {
    let items = run(Format::Syslog, fixture("syslog_mixed.log"));
    let lines: Vec<u64> = items
        .iter()
        .filter_map(|i| match i {
            Item::Bad(b) => b.location.line,
            Item::Warning(w) => w.location.line,
            Item::Event(_) => None,
        })
        .collect();
    assert_eq!(lines, vec![15, 16]);
}

#[test]
fn linux_auth_programs() {
    // sudo's own pairs are its fields, not generic key=value (USER= is the
    // target account, the user who ran sudo comes first).
    let ev = one(
        "<85>Dec  7 01:02:04 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/cat /etc/shadow",
    );
    assert_eq!((ev.action(), ev.outcome()), (Some("sudo"), Some("success")));
    assert_eq!(ev.user_name(), Some("alice"));
    assert_eq!(s(&ev, "user.effective.name"), Some("root"));
    assert_eq!(s(&ev, "process.command_line"), Some("/usr/bin/cat /etc/shadow"));
    assert_eq!(s(&ev, "process.name"), Some("sudo"));
    assert_eq!(s(&ev, "event.dataset"), Some("system.auth"));
    assert_eq!(s(&ev, "event.module"), Some("system"));
    assert!(ev.get("kv").is_none());
    assert_eq!(ev.get("related.user"), Some(&json!(["alice", "root"])));

    let ev = one(
        "2026-12-07T01:02:05.000+00:00 web01 sshd[901]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=203.0.113.77  user=root",
    );
    assert_eq!(ev.action(), Some("authentication_failure"));
    assert_eq!((ev.outcome(), ev.user_name()), (Some("failure"), Some("root")));
    assert_eq!(ev.source_ip(), Some("203.0.113.77"));
    assert_eq!(ev.get("related.ip"), Some(&json!(["203.0.113.77"])));
    assert_eq!(ev.get("process.pid"), Some(&json!(901)));

    let ev = one(
        "Dec  7 01:03:00 web01 useradd[77]: new user: name=backdoor, UID=0, GID=0, home=/root, shell=/bin/bash",
    );
    assert_eq!(ev.action(), Some("user_created"));
    assert_eq!((ev.user_name(), s(&ev, "user.id")), (Some("backdoor"), Some("0")));
    let ev = one("Dec  7 01:03:01 web01 usermod[78]: add 'backdoor' to group 'sudo'");
    assert_eq!(
        (ev.action(), s(&ev, "group.name")),
        (Some("added_to_group"), Some("sudo"))
    );
    let ev = one("Dec  7 01:03:02 web01 su[79]: FAILED SU (to root) mallory on pts/3");
    assert_eq!((ev.action(), ev.outcome()), (Some("su"), Some("failure")));

    // The same words from another program are only text.
    let ev = one("Dec  7 01:03:03 web01 myapp[80]: new user: name=x, UID=1");
    assert!(ev.action().is_none());
    assert_eq!(s(&ev, "message"), Some("new user: name=x, UID=1"));
}

#[test]
fn web_access_and_firewall_lines_inside_syslog() {
    // nginx `access_log syslog:server=…`: the access line's own time (with
    // its zone) wins over the header's zone-less one.
    let ev = one(
        r#"<190>Dec  7 04:10:07 web1 nginx: 203.0.113.50 - - [07/Dec/2026:05:10:07 +0100] "GET /wp-login.php?x=1 HTTP/1.1" 404 153 "-" "Mozilla/5.0""#,
    );
    assert_eq!(s(&ev, "http.request.method"), Some("GET"));
    assert_eq!(s(&ev, "url.path"), Some("/wp-login.php"));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(404)));
    assert_eq!(ev.source_ip(), Some("203.0.113.50"));
    assert_eq!(s(&ev, "process.name"), Some("nginx"));
    assert_eq!(s(&ev, "event.dataset"), Some("web.access"));
    assert_eq!(s(&ev, "@timestamp"), Some("2026-12-07T04:10:07.000000Z"));
    assert!(
        ev.get("tags")
            .is_none_or(|t| !t.to_string().contains("assumed_utc"))
    );

    let ev = one(
        "Dec  7 04:10:01 gw kernel: [12345.678901] [UFW BLOCK] IN=eth0 OUT= MAC=00:16:3e:aa:bb:cc:00:16:3e:dd:ee:ff:08:00 SRC=203.0.113.9 DST=10.0.0.5 LEN=60 TOS=0x00 PREC=0x00 TTL=49 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0",
    );
    assert_eq!(
        (ev.action(), s(&ev, "rule.name")),
        (Some("block"), Some("UFW BLOCK"))
    );
    assert_eq!(ev.get("event.type"), Some(&json!(["connection", "denied"])));
    assert_eq!(ev.get("destination.port"), Some(&json!(22)));
    assert_eq!(ev.get("related.ip"), Some(&json!(["203.0.113.9", "10.0.0.5"])));
    assert!(ev.get("kv").is_none());

    // pfSense's filterlog CSV; the same CSV from another app is text.
    let csv = "5,,,1000000103,igb0,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,198.51.100.7,192.0.2.10,44321,443,0,S,123456789,,64240,,mss";
    let ev = one(&format!("<134>Dec  7 04:10:03 fw1 filterlog[1234]: {csv}"));
    assert_eq!(
        (ev.action(), s(&ev, "rule.id")),
        (Some("block"), Some("1000000103"))
    );
    assert_eq!(ev.source_ip(), Some("198.51.100.7"));
    assert_eq!(ev.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(&ev, "event.dataset"), Some("pfsense.log"));
    let ev = one(&format!("<134>Dec  7 04:10:03 fw1 other: {csv}"));
    assert!(ev.action().is_none());
}

#[test]
fn juniper_srx_structured_data() {
    let ev = one(
        r#"<14>1 2026-12-07T04:10:05.000Z srx1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.129 source-address="10.1.1.5" source-port="50123" destination-address="93.184.216.34" destination-port="443" service-name="junos-https" nat-source-address="198.51.100.1" nat-source-port="40000" protocol-id="6" policy-name="allow-web" source-zone-name="trust" destination-zone-name="untrust" session-id-32="12345" username="N/A"] session created 10.1.1.5/50123->93.184.216.34/443"#,
    );
    assert_eq!(ev.action(), Some("flow_started"));
    assert_eq!(ev.source_ip(), Some("10.1.1.5"));
    assert_eq!(ev.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(&ev, "source.nat.ip"), Some("198.51.100.1"));
    assert_eq!(s(&ev, "rule.name"), Some("allow-web"));
    assert_eq!(s(&ev, "juniper.srx.service_name"), Some("junos-https"));
    assert_eq!(s(&ev, "event.dataset"), Some("juniper.srx"));
    assert_eq!(
        ev.get("related.ip"),
        Some(&json!(["10.1.1.5", "93.184.216.34", "198.51.100.1"]))
    );
    // The element is kept too (its id holds dots; the path still finds it).
    let kept = "log.syslog.structured_data.junos@2636.1.1.1.2.129.source-address";
    assert_eq!(s(&ev, kept), Some("10.1.1.5"));
    assert_eq!(
        s(&ev, "message"),
        Some("session created 10.1.1.5/50123->93.184.216.34/443")
    );
}

#[test]
fn snare_windows_events() {
    let ev = one(
        "<13>Dec  7 04:10:08 dc1 MSWinEventLog\t1\tSecurity\t123\tSat Dec 07 04:10:08 2024\t4720\tMicrosoft-Windows-Security-Auditing\tCORP\\admin\tN/A\tSuccess Audit\tdc1.corp.example\tUser Account Management\t\tA user account was created.\t42",
    );
    assert_eq!(s(&ev, "winlog.channel"), Some("Security"));
    assert_eq!(s(&ev, "winlog.event_id"), Some("4720"));
    assert_eq!((ev.user_name(), ev.outcome()), (Some("admin"), Some("success")));
    assert_eq!(s(&ev, "host.name"), Some("dc1.corp.example"));
    assert_eq!(s(&ev, "host.hostname"), Some("dc1"));
    assert_eq!(s(&ev, "message"), Some("A user account was created."));
    assert_eq!(s(&ev, "@timestamp"), Some("2024-12-07T04:10:08.000000Z"));
}
