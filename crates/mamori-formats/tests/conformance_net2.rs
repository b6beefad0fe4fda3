//! Firewall, IDS and syslog samples from ../shared/data/net2 (see its
//! SOURCE.md): Tenzir's CEF and LEEF test inputs and the Wazuh ruleset test
//! logs of 52 products (`logs/<name>.log`, one `log N pass|fail = <line>`
//! value of `ini/<name>.ini` per line). Every file is sniffed and parsed
//! (Wazuh logs that no format recognises are parsed as syslog, which is
//! what they are sent as), nothing panics, and for the line formats every
//! non-empty line is either an event or a bad record. The counts checked
//! below were verified by hand, line by line.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{ctx, files, split};
use mamori_formats::{BadRecord, Format, ParseContext, open, open_and_sniff, parse};
use mamori_model::Event;

/// (file, format, events, bad records, warnings), verified by hand.
const EXPECTED: &[(&str, Format, usize, usize, usize)] = &[
    // 3 Check Point CEF lines and the trailing empty line.
    ("checkpoint.cef.log", Format::Cef, 3, 0, 0),
    // The CyberArk line; `key=`, `key=trailing tab next`, `key=yikes<TAB>` are
    // well formed; `just some random junk` has no key=value.
    ("leef1.log", Format::Leef, 4, 1, 0),
    // All %ASA-n-nnnnnn messages, one behind an `Oct 03 2018 17:34:08:` header,
    // one without the `:` after the number (as in pix.log).
    ("cisco_asa.log", Format::Syslog, 88, 0, 0),
    ("pix.log", Format::Syslog, 22, 0, 0),
    ("cisco_ftd.log", Format::Syslog, 42, 0, 0),
    // Line 12 has two headers run together and a cut IOS message.
    ("cisco_ios.log", Format::Syslog, 16, 1, 0),
    // The first line is bare key=value; lines with a syslog header are read as syslog.
    ("fortigate.log", Format::Kv, 46, 0, 0),
    ("fortiddos.log", Format::Syslog, 3, 0, 0),
    ("fortiauth.log", Format::Syslog, 4, 0, 0),
    ("fortimail.log", Format::Syslog, 6, 0, 0),
    ("sshd.log", Format::Syslog, 71, 0, 0),
    ("f5_big_ip.log", Format::Syslog, 48, 0, 0),
    ("checkpoint_smart1.log", Format::Syslog, 18, 0, 0),
    ("fireeye.log", Format::Syslog, 3, 0, 0),
    ("panda_paps.log", Format::Leef, 8, 0, 0),
    ("iptables.log", Format::Syslog, 43, 0, 0),
    // Lines 34 and 35 are cut inside `msg='…` (kept, tagged, warned).
    ("auditd.log", Format::Auditd, 35, 0, 2),
    ("squid_rules.log", Format::Squid, 2, 0, 0),
    // Apache 2.2 lines, some without their time (read with the ingest time).
    ("apache.log", Format::WebError, 12, 0, 0),
    ("modsecurity.log", Format::WebError, 6, 0, 0),
    // Header-less PAN-OS CSV is read too (the `May 00 00:00:00` lines have no
    // valid header time and get the ingest time).
    ("paloalto.log", Format::Syslog, 16, 0, 0),
    ("pfsense.log", Format::Syslog, 2, 0, 0),
    ("junos.log", Format::Syslog, 3, 0, 0),
    ("netscreen.log", Format::Syslog, 4, 0, 0),
    ("huawei_usg.log", Format::Kv, 3, 0, 0),
    ("SonicWall.log", Format::Kv, 11, 0, 0),
    // Every line ends in a copy-paste remnant `th="No Heartbeat` (an
    // unterminated quote).
    ("sophos_fw.log", Format::Kv, 0, 10, 0),
    // Line 5 starts `2015 Nov 13 13:40:01` (year first), not a syslog header.
    ("syslog.log", Format::Syslog, 5, 1, 0),
];

fn name(path: &Path) -> String {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
        .to_string()
}

fn non_empty_lines(path: &Path) -> usize {
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count()
}

fn is_line_format(f: Format) -> bool {
    matches!(
        f,
        Format::Syslog
            | Format::Cef
            | Format::Leef
            | Format::Kv
            | Format::Auditd
            | Format::Squid
            | Format::WebError
    )
}

struct Run {
    format: Format,
    events: Vec<Event>,
    bad: Vec<BadRecord>,
    warnings: usize,
}

fn run(path: &Path, format: Option<Format>) -> Run {
    let ctx = ParseContext {
        source_name: path.display().to_string(),
        ..ctx()
    };
    let (format, reader) = match format {
        Some(f) => (f, open(path).unwrap()),
        None => match open_and_sniff(path) {
            Ok(found) => found,
            // What the Wazuh test logs are sent as.
            Err(_) => (Format::Syslog, open(path).unwrap()),
        },
    };
    let s = split(parse(format, reader, &ctx).collect());
    Run {
        format,
        events: s.events,
        bad: s.bad,
        warnings: s.warnings.len(),
    }
}

/// The `log N pass|fail = <line>` values of a Wazuh .ini file.
fn ini_logs(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let (key, value) = l.split_once(" = ")?;
            let mut words = key.split(' ');
            let ok = words.next() == Some("log")
                && words.next().is_some_and(|n| n.parse::<u32>().is_ok())
                && matches!(words.next(), Some("pass" | "fail"));
            ok.then(|| value.to_string())
        })
        .collect()
}

#[test]
fn net2_samples() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/net2");
    if !dir.is_dir() {
        println!("skipped: ../shared/data/net2 not present");
        return;
    }
    let mut all = Vec::new();
    files(&dir, &mut all);
    all.sort();
    let logs: Vec<PathBuf> = all
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .cloned()
        .collect();
    assert!(
        logs.len() >= 50,
        "only {} .log files under {}",
        logs.len(),
        dir.display()
    );

    let mut results: BTreeMap<String, (Format, usize, usize, usize)> = BTreeMap::new();
    let mut total_lines = 0;
    for path in &logs {
        let file = name(path);
        let r = run(path, None);
        let lines = non_empty_lines(path);
        println!(
            "{file}: format {}, {} events, {} bad, {} warnings ({lines} non-empty lines)",
            r.format,
            r.events.len(),
            r.bad.len(),
            r.warnings
        );
        for b in r.bad.iter().take(3) {
            println!("  bad line {}: {}", b.location.line.unwrap_or(0), b.reason);
        }
        if is_line_format(r.format) {
            assert_eq!(
                r.events.len() + r.bad.len(),
                lines,
                "{file}: events + bad != non-empty lines"
            );
        }
        for ev in &r.events {
            assert!(!ev.original().is_empty(), "{file}: empty event.original");
            assert_eq!(ev.tenant(), "acme");
        }
        if path.parent().is_some_and(|p| p.ends_with("logs")) {
            total_lines += lines;
        }
        results.insert(file, (r.format, r.events.len(), r.bad.len(), r.warnings));
    }
    assert_eq!(total_lines, 719, "SOURCE.md: 719 Wazuh log lines in all");

    // The derived .log files hold exactly the .ini test lines.
    for ini in all.iter().filter(|p| p.extension().is_some_and(|e| e == "ini")) {
        let log = ini
            .parent()
            .and_then(Path::parent)
            .map(|p| p.join("logs").join(name(ini).replace(".ini", ".log")))
            .unwrap();
        let want = ini_logs(ini);
        let text = std::fs::read_to_string(&log).unwrap();
        let got: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(got.len(), want.len(), "{}", name(ini));
    }

    for &(file, format, events, bad, warnings) in EXPECTED {
        let got = results.get(file).unwrap_or_else(|| panic!("{file} not found"));
        assert_eq!(*got, (format, events, bad, warnings), "{file}");
    }
}

fn events_of(dir: &Path, file: &str, format: Format) -> Vec<Event> {
    let path = dir.join(file);
    run(&path, Some(format)).events
}

/// Field values spot-checked on the real lines.
#[test]
fn net2_fields() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/net2");
    if !dir.is_dir() {
        println!("skipped: ../shared/data/net2 not present");
        return;
    }
    let cp = events_of(&dir, "tenzir-cef-leef/checkpoint.cef.log", Format::Cef);
    assert_eq!(cp[0].action(), Some("Accept"));
    assert_eq!(cp[0].get_str("observer.vendor"), Some("Check Point"));
    assert_eq!(
        cp[0].get_str("cef.extensions.originsicname"),
        Some("CN=R80,O=R80_M..6u6bdo")
    );
    assert_eq!(cp[0].get_str("@timestamp"), Some("2018-11-26T22:17:32.000000Z"));
    assert_eq!(cp[2].get("event.severity"), None);
    assert_eq!(
        cp[2].get_str("cef.extensions.Destination_IPv6_Address"),
        Some("::1")
    );

    let asa = events_of(&dir, "wazuh-ruleset-tests/logs/cisco_asa.log", Format::Syslog);
    let with_code = asa.iter().filter(|e| e.get_str("event.code").is_some()).count();
    assert_eq!(with_code, asa.len());
    let built = asa
        .iter()
        .find(|e| e.get_str("event.code") == Some("302013"))
        .unwrap();
    assert_eq!(built.source_ip(), Some("10.1.1.2"));
    assert_eq!(built.get_str("destination.ip"), Some("10.1.2.1"));

    let ssh = events_of(&dir, "wazuh-ruleset-tests/logs/sshd.log", Format::Syslog);
    let logins = ssh.iter().filter(|e| e.action() == Some("ssh_login")).count();
    let sourced = ssh.iter().filter(|e| e.source_ip().is_some()).count();
    println!("sshd: {logins} ssh_login events, {sourced} with source.ip");
    // The lines matching `(Accepted|Failed) M for [invalid user] U from A` or
    // `Invalid user U from A` (counted with grep).
    assert_eq!(logins, 22);
    assert!(ssh.iter().all(|e| e.get_str("process.name") == Some("sshd")));

    let forti = events_of(&dir, "wazuh-ruleset-tests/logs/fortigate.log", Format::Kv);
    let sourced = forti.iter().filter(|e| e.source_ip().is_some()).count();
    // Every line but one (an HA event) has `srcip=`, `src=`, `ui=proto(ip)`
    // or `remip=ip` (counted with grep).
    assert_eq!((forti.len(), sourced), (46, 45));
    let login_failed = forti
        .iter()
        .filter(|e| e.action() == Some("login") && e.outcome() == Some("failure"))
        .count();
    assert!(login_failed >= 2, "{login_failed}");

    let pan = events_of(&dir, "wazuh-ruleset-tests/logs/paloalto.log", Format::Syslog);
    assert!(
        pan.iter()
            .all(|e| e.get_str("observer.product") == Some("PAN-OS"))
    );
    let threat = pan
        .iter()
        .find(|e| e.get_str("panos.subtype") == Some("vulnerability"))
        .unwrap();
    assert_eq!(threat.source_ip(), Some("199.195.252.165"));
    assert_eq!(threat.get_str("destination.ip"), Some("172.30.250.61"));
    assert_eq!(threat.get_str("rule.name"), Some("GPS-UAT-MODULR-Web-443-OUT"));
    assert_eq!(threat.action(), Some("reset-both"));
    assert_eq!(threat.get_str("panos.threat.id"), Some("90255"));

    let panda = events_of(&dir, "wazuh-ruleset-tests/logs/panda_paps.log", Format::Leef);
    assert!(
        panda
            .iter()
            .all(|e| e.user_name().is_some() && e.source_ip().is_some())
    );
    assert_eq!(
        panda[0].get_str("@timestamp"),
        Some("2019-05-09T22:03:58.692466Z")
    );

    // Every netfilter line (UFW, OpenWrt, SuSEfirewall2, plain LOG) is read
    // as one, with its addresses; the prefixes with a verb give the action.
    let ipt = events_of(&dir, "wazuh-ruleset-tests/logs/iptables.log", Format::Syslog);
    assert!(
        ipt.iter()
            .all(|e| e.get_str("event.dataset") == Some("iptables.log")
                && e.source_ip().is_some()
                && e.get_str("destination.ip").is_some())
    );
    let drops = ipt.iter().filter(|e| e.action() == Some("drop")).count();
    let blocks = ipt.iter().filter(|e| e.action() == Some("block")).count();
    // 19 `DROP`, 18 OpenWrt `DROP(src wan)`, 1 `SFW2-INext-DROP-DEFLT`; 2 `[UFW BLOCK]`.
    assert_eq!((drops, blocks), (38, 2));

    let pf = events_of(&dir, "wazuh-ruleset-tests/logs/pfsense.log", Format::Syslog);
    assert_eq!(pf[0].action(), Some("pass"));
    assert_eq!(pf[0].get_str("network.transport"), Some("icmp"));
    assert_eq!(pf[1].action(), Some("block"));
    assert_eq!(pf[1].get_str("rule.id"), Some("1000102433"));
    assert_eq!(pf[1].get("destination.port"), Some(&serde_json::json!(17600)));

    // SRX messages behind a BSD header carry their own header and element.
    let srx = events_of(&dir, "wazuh-ruleset-tests/logs/junos.log", Format::Syslog);
    assert!(
        srx.iter()
            .all(|e| e.get_str("event.dataset") == Some("juniper.srx"))
    );
    let deny = srx.iter().find(|e| e.action() == Some("flow_deny")).unwrap();
    assert_eq!(deny.get_str("rule.name"), Some("Local-Default-Deny"));
    assert_eq!(deny.get_str("event.reason"), Some("policy deny"));
    assert_eq!(deny.get_str("@timestamp"), Some("2017-09-23T13:54:54.803000Z"));
    assert_eq!(deny.get_str("observer.name"), Some("sis-srx-mic-01"));

    let audit = events_of(&dir, "wazuh-ruleset-tests/logs/auditd.log", Format::Auditd);
    assert!(
        audit
            .iter()
            .all(|e| e.get_str("auditd.log.record_type").is_some())
    );
    let start = audit
        .iter()
        .find(|e| e.get_str("auditd.log.record_type") == Some("DAEMON_START"))
        .unwrap();
    assert_eq!(start.outcome(), Some("failure"));
    assert_eq!(start.get_str("@timestamp"), Some("2015-12-23T13:06:04.131000Z"));

    // ModSecurity's warnings and denials are alerts with their CRS rule.
    let waf = events_of(&dir, "wazuh-ruleset-tests/logs/modsecurity.log", Format::WebError);
    let alerts: Vec<(&str, &str)> = waf
        .iter()
        .filter(|e| e.get_str("event.kind") == Some("alert"))
        .map(|e| (e.action().unwrap(), e.get_str("rule.id").unwrap()))
        .collect();
    assert_eq!(
        alerts,
        [
            ("warning", "981205"),
            ("warning", "950119"),
            ("access_denied", "960015"),
            ("access_denied", "970901")
        ]
    );
}
