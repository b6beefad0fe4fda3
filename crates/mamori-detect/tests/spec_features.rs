//! Sigma features end to end, with small hand-written rules and events:
//! `N of` conditions, `fieldref` with parts and case, rule collections
//! (`action: global/reset/repeat`) and meta filters.

use mamori_detect::{Detector, ErrorKind, Mappings, RuleSet};
use mamori_model::Event;

fn set(yaml: &str) -> RuleSet {
    RuleSet::from_yaml(yaml, &Mappings::builtin())
}

/// A Sysmon process creation event.
fn process(image: &str, cmd: &str, user: &str) -> Event {
    let mut ev = Event::new("t", chrono::Utc::now(), format!("{image} {cmd} {user}"));
    ev.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational".into());
    ev.set("winlog.event_id", "1".into());
    ev.set("process.executable", image.into());
    ev.set("winlog.event_data.Image", image.into());
    ev.set("winlog.event_data.CommandLine", cmd.into());
    ev.set("winlog.event_data.User", user.into());
    ev
}

/// Ids of the rules firing on `ev`, checked against the reference evaluator.
fn fired(d: &Detector, ev: &Event) -> Vec<String> {
    let fast: Vec<String> = d.detect(ev).iter().map(|m| m.rule.id.clone()).collect();
    let slow: Vec<String> = d
        .detect_exhaustive(ev)
        .iter()
        .map(|m| m.rule.id.clone())
        .collect();
    assert_eq!(fast, slow, "detector and evaluator disagree");
    fast
}

#[test]
fn n_of_selections_counts_them() {
    let s = set(r#"
title: Two of three recon tools
id: two-of
logsource: { product: windows, category: process_creation }
detection:
  sel_whoami: { CommandLine|contains: whoami }
  sel_net: { CommandLine|contains: 'net user' }
  sel_ipconfig: { CommandLine|contains: ipconfig }
  condition: 2 of sel_*
"#);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert!(
        s.rules[0].detection.to_string().starts_with("2 of ("),
        "{}",
        s.rules[0].detection
    );
    let d = Detector::new(s.rules);
    let x = r"C:\Windows\System32\cmd.exe";
    assert_eq!(
        fired(&d, &process(x, "whoami & ipconfig /all", "bob")),
        ["two-of"]
    );
    assert_eq!(
        fired(&d, &process(x, "net user & whoami & ipconfig", "bob")),
        ["two-of"]
    );
    assert!(fired(&d, &process(x, "whoami /all", "bob")).is_empty());
    assert!(fired(&d, &process(x, "dir", "bob")).is_empty());
}

#[test]
fn n_of_beyond_the_selections_is_refused() {
    let s = set(r#"
title: Three of two
logsource: { product: windows, category: process_creation }
detection:
  sel_a: { CommandLine|contains: a }
  sel_b: { CommandLine|contains: b }
  condition: 3 of sel_*
"#);
    assert!(s.rules.is_empty());
    assert_eq!(s.errors[0].error.kind, ErrorKind::Condition);
    assert!(s.errors[0].error.detail.contains("names 2 selections"));
}

#[test]
fn fieldref_with_contains_startswith_endswith_and_cased() {
    let rule = |id: &str, mods: &str| {
        format!(
            "title: {id}\nid: {id}\nlogsource: {{ product: windows, category: process_creation }}\n\
             detection:\n  sel: {{ CommandLine|fieldref{mods}: User }}\n  condition: sel\n"
        )
    };
    let text = [
        rule("contains", "|contains"),
        rule("starts", "|startswith"),
        rule("ends", "|endswith"),
        rule("cased", "|contains|cased"),
        rule("equal", ""),
    ]
    .join("---\n");
    let s = set(&text);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let d = Detector::new(s.rules);
    let img = r"C:\x\cmd.exe";
    assert_eq!(
        fired(&d, &process(img, "runas /user:BOB cmd", "bob")),
        ["contains"]
    );
    assert_eq!(
        fired(&d, &process(img, "runas /user:bob cmd", "bob")),
        ["contains", "cased"]
    );
    assert_eq!(
        fired(&d, &process(img, "Bob runs", "bob")),
        ["contains", "starts"]
    );
    assert_eq!(
        fired(&d, &process(img, "run as bob", "bob")),
        ["contains", "ends", "cased"]
    );
    assert_eq!(
        fired(&d, &process(img, "BOB", "bob")),
        ["contains", "starts", "ends", "equal"]
    );
    assert!(fired(&d, &process(img, "dir", "bob")).is_empty());
}

const COLLECTION: &str = r#"
action: global
title: Whoami execution
status: test
level: high
detection:
  sel_img: { Image|endswith: '\whoami.exe' }
  condition: sel_img and sel_src
---
id: whoami-sysmon
logsource: { product: windows, category: process_creation }
detection:
  sel_src: { CommandLine|contains: '/all' }
---
action: repeat
id: whoami-sysmon-priv
title: Whoami privileges
detection:
  sel_src: { CommandLine|contains: '/priv' }
---
action: reset
---
title: After reset
id: after-reset
logsource: { product: windows, category: process_creation }
detection:
  sel: { CommandLine|contains: 'net user' }
  condition: sel
"#;

#[test]
fn rule_collections_merge_global_repeat_and_reset() {
    let s = set(COLLECTION);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let ids: Vec<&str> = s.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["whoami-sysmon", "whoami-sysmon-priv", "after-reset"]);
    assert_eq!(s.rules[0].title, "Whoami execution");
    assert_eq!(s.rules[0].level, mamori_detect::Level::High);
    assert_eq!(s.rules[1].title, "Whoami privileges");
    assert_eq!(s.rules[1].level, mamori_detect::Level::High);
    // After the reset, the global level no longer applies.
    assert_eq!(s.rules[2].level, mamori_detect::Level::Medium);
    let d = Detector::new(s.rules);
    let who = r"C:\Windows\System32\whoami.exe";
    assert_eq!(fired(&d, &process(who, "whoami /all", "bob")), ["whoami-sysmon"]);
    assert_eq!(
        fired(&d, &process(who, "whoami /priv", "bob")),
        ["whoami-sysmon-priv"]
    );
    assert!(fired(&d, &process(who, "whoami", "bob")).is_empty());
}

const RULES: &str = r#"
title: Rar compression
id: rar-1
name: rar_compression
logsource: { product: windows, category: process_creation }
detection:
  sel: { Image|endswith: '\rar.exe', CommandLine|contains: ' a ' }
  condition: sel
---
title: Whoami
id: whoami-1
logsource: { product: windows, category: process_creation }
detection:
  sel: { Image|endswith: '\whoami.exe' }
  condition: sel
---
title: Failed logon
id: logon-1
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4625 }
  condition: sel
"#;

const FILTER: &str = r#"
title: Admin accounts are expected
id: mf-admins
logsource: { product: windows, category: process_creation }
filter:
  rules: [rar_compression, whoami-1]
  selection: { User|startswith: 'adm_' }
  condition: selection
"#;

#[test]
fn meta_filters_take_matches_away_from_the_rules_they_name() {
    let s = set(&format!("{RULES}---\n{FILTER}"));
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(s.filters.len(), 1);
    for r in &s.rules {
        let tuned = r.id != "logon-1";
        assert_eq!(r.filters == ["mf-admins"], tuned, "{}", r.id);
        assert_eq!(r.detection.to_string().contains("not "), tuned, "{}", r.detection);
    }
    let d = Detector::new(s.rules);
    let rar = r"C:\Program Files\WinRAR\rar.exe";
    assert_eq!(fired(&d, &process(rar, "rar a x.rar secret", "bob")), ["rar-1"]);
    assert!(fired(&d, &process(rar, "rar a x.rar secret", "adm_bob")).is_empty());
    let who = r"C:\Windows\System32\whoami.exe";
    assert_eq!(fired(&d, &process(who, "whoami", "bob")), ["whoami-1"]);
    assert!(fired(&d, &process(who, "whoami", "ADM_root")).is_empty());
}

#[test]
fn meta_filters_apply_across_files_of_one_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("rules")).unwrap();
    std::fs::create_dir(dir.path().join("tuning")).unwrap();
    std::fs::write(dir.path().join("rules/r.yml"), RULES).unwrap();
    std::fs::write(dir.path().join("tuning/f.yml"), FILTER).unwrap();
    let paths = [dir.path().join("rules"), dir.path().join("tuning")];
    let s = RuleSet::load_paths(&paths, &Mappings::builtin()).unwrap();
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let tuned = s.rules.iter().filter(|r| !r.filters.is_empty()).count();
    assert_eq!(tuned, 2);
}

#[test]
fn meta_filter_problems_are_reported() {
    let bad = r#"
title: Tuning
id: mf-bad
logsource: { product: windows, category: process_creation }
filter:
  rules: [no-such-rule, logon-1, whoami-1]
  selection: { User: 'svc_backup' }
  condition: selection
"#;
    let s = set(&format!("{RULES}---\n{bad}"));
    let details: Vec<String> = s.errors.iter().map(|e| e.error.detail.clone()).collect();
    assert_eq!(details.len(), 2, "{details:?}");
    assert!(s.errors.iter().all(|e| e.error.kind == ErrorKind::Filter));
    assert!(
        details[0].contains("unknown rule `no-such-rule`"),
        "{}",
        details[0]
    );
    assert!(details[1].contains("log source"), "{}", details[1]);
    // The rule it could name is still tuned; the others are untouched.
    let by_id = |id: &str| s.rules.iter().find(|r| r.id == id).unwrap();
    assert_eq!(by_id("whoami-1").filters, ["mf-bad"]);
    assert!(by_id("logon-1").filters.is_empty());
    // Malformed filters are refused with their reason.
    for (doc, needle) in [
        (
            "title: f\nlogsource: {product: windows}\nfilter: {selection: {a: 1}, condition: selection}",
            "names no rule",
        ),
        (
            "title: f\nlogsource: {product: windows}\nfilter: {rules: [x], selection: {a: 1}}",
            "missing `filter.condition`",
        ),
        (
            "title: f\nlogsource: {product: windows}\nfilter: {rules: [x], sel: {a|bad: 1}, condition: sel}",
            "unknown modifier",
        ),
    ] {
        let s = set(doc);
        assert!(s.filters.is_empty());
        assert!(s.errors[0].error.detail.contains(needle), "{}", s.errors[0].error);
    }
}

/// Sigma's auditd rules name the records' own fields (`type`, `a0`,
/// `SYSCALL`); they find them on audit records as mamori-formats reads them,
/// and only there.
#[test]
fn auditd_rules_use_the_records_field_names() {
    use mamori_formats::{Format, Item, ParseContext, parse};
    let s = set(r#"
title: setuid chmod
id: auditd-chmod
logsource: { product: linux, service: auditd }
detection:
  execve: { type: EXECVE, a0: chmod, a1|startswith: '4' }
  syscall: { type: SYSCALL, SYSCALL: personality, a0: 40000 }
  condition: execve or syscall
"#);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let d = Detector::new(s.rules);
    let log = "type=EXECVE msg=audit(1733544604.123:456): argc=3 a0=\"chmod\" a1=\"4755\" a2=2F746D702F78\n\
               type=EXECVE msg=audit(1733544604.123:457): argc=3 a0=\"chmod\" a1=\"644\" a2=\"/tmp/x\"\n\
               type=SYSCALL msg=audit(1733544605.000:458): syscall=135 success=yes a0=40000 comm=\"setarch\"\u{1d}SYSCALL=personality\n";
    let ctx = ParseContext::new("t", "audit.log");
    let events: Vec<Event> = parse(Format::Auditd, Box::new(log.as_bytes()), &ctx)
        .filter_map(|i| match i {
            Item::Event(ev) => Some(*ev),
            _ => None,
        })
        .collect();
    let hits: Vec<usize> = (0..events.len())
        .filter(|&i| !fired(&d, &events[i]).is_empty())
        .collect();
    assert_eq!(hits, [0, 2]);
    // The same names on an event that is not an audit record do not match.
    let mut other = Event::new("t", chrono::Utc::now(), "x");
    other.set("type", "EXECVE".into());
    other.set("a0", "chmod".into());
    other.set("a1", "4755".into());
    assert!(fired(&d, &other).is_empty());
}
