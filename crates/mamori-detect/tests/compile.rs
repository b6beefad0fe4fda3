//! The compiler end to end: rules in YAML, events in memory, and the
//! precise reasons of rules that cannot be loaded.

use mamori_detect::{Detector, ErrorKind, Level, Mappings, RuleSet};
use mamori_model::Event;

fn set(yaml: &str) -> RuleSet {
    RuleSet::from_yaml(yaml, &Mappings::builtin())
}

fn error(yaml: &str) -> (ErrorKind, String) {
    let s = set(yaml);
    assert!(
        s.rules.is_empty(),
        "rule loaded: {:?}",
        s.rules.first().map(|r| r.filter().to_string())
    );
    let e = s.errors.first().expect("an error");
    (e.error.kind, e.error.detail.clone())
}

fn sysmon_process(image: &str, cmd: &str) -> Event {
    let mut ev = Event::new("t", chrono::Utc::now(), cmd.to_string());
    ev.set("winlog.channel", "Microsoft-Windows-Sysmon/Operational".into());
    ev.set("winlog.event_id", "1".into());
    ev.set("process.executable", image.into());
    ev.set("winlog.event_data.Image", image.into());
    ev.set("winlog.event_data.CommandLine", cmd.into());
    ev.set("process.command_line", cmd.into());
    ev
}

const RULE: &str = r#"
title: Encoded PowerShell
id: 11111111-2222-3333-4444-555555555555
status: test
level: high
tags: [attack.execution, attack.t1059.001]
falsepositives: [Admin scripts]
references: [https://example.invalid]
logsource: { product: windows, category: process_creation }
detection:
  selection_img:
    - Image|endswith: '\powershell.exe'
    - OriginalFileName: PowerShell.EXE
  selection_cli:
    CommandLine|contains|windash: ' -enc '
  filter_main:
    CommandLine|contains: 'C:\Program Files\Admin\'
  condition: all of selection_* and not 1 of filter_*
"#;

#[test]
fn a_rule_with_metadata_matches_and_explains() {
    let s = set(RULE);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let r = &s.rules[0];
    assert_eq!(r.level, Level::High);
    assert_eq!(r.attack.tactics, ["execution"]);
    assert_eq!(r.attack.techniques, ["T1059.001"]);
    assert_eq!(r.falsepositives, ["Admin scripts"]);
    assert_eq!(r.logsource.category.as_deref(), Some("process_creation"));
    let d = Detector::new(s.rules.clone());
    let hit = sysmon_process(
        r"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe",
        "powershell /enc SQBFAFgA",
    );
    assert_eq!(d.detect(&hit).len(), 1);
    let dash = sysmon_process(r"C:\x\POWERSHELL.EXE", "powershell \u{2013}enc SQBFAFgA");
    assert_eq!(d.detect(&dash).len(), 1);
    let filtered = sysmon_process(r"C:\x\powershell.exe", r"C:\Program Files\Admin\run.cmd -enc x");
    assert!(d.detect(&filtered).is_empty());
    let other = sysmon_process(r"C:\x\cmd.exe", "cmd /c -enc x");
    assert!(d.detect(&other).is_empty());
    let why = mamori_detect::explain(r, &hit);
    assert!(
        why.iter()
            .any(|e| e.holds && e.condition.contains("powershell.exe"))
    );
}

#[test]
fn keywords_and_null() {
    let s = set(r#"
title: Keywords
logsource: { product: windows, service: security }
detection:
  keywords: ['*mimikatz*', 'sekurlsa']
  sel: { SubjectUserName: null }
  condition: keywords and sel
"#);
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    let d = Detector::new(s.rules);
    let mut ev = Event::new("t", chrono::Utc::now(), "x");
    ev.set("winlog.channel", "Security".into());
    ev.set(
        "winlog.event_data.CommandLine",
        "run SEKURLSA::logonpasswords".into(),
    );
    assert_eq!(d.detect(&ev).len(), 1);
    ev.set("winlog.event_data.SubjectUserName", "bob".into());
    assert!(d.detect(&ev).is_empty());
}

#[test]
fn precise_reasons() {
    let cases = [
        (
            "title: x\nlogsource: {product: windows}\ndetection: {condition: sel}",
            ErrorKind::Condition,
            "unknown selection `sel`",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection: {sel: {a: 1}}",
            ErrorKind::Structure,
            "missing `detection.condition`",
        ),
        (
            "title: x\nlogsource: {product: windows}",
            ErrorKind::Structure,
            "missing `detection`",
        ),
        (
            "logsource: {product: windows}\ndetection: {sel: {a: 1}, condition: sel}",
            ErrorKind::Structure,
            "missing `title`",
        ),
        (
            "title: x\ndetection: {sel: {a: 1}, condition: sel}",
            ErrorKind::Structure,
            "missing `logsource`",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection: {sel: {a|nope: 1}, condition: sel}",
            ErrorKind::Modifier,
            "unknown modifier `nope`",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection: {sel: {a|re: '(?<=x)y'}, condition: sel}",
            ErrorKind::Regex,
            "look-around",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection: {sel: {a|cidr: 'x/33'}, condition: sel}",
            ErrorKind::Value,
            "not a CIDR",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection: {sel: {a|expand: '%none%'}, condition: sel}",
            ErrorKind::Placeholder,
            "%none%",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection: {sel: {a: 1}, condition: 'sel | count() > 5'}",
            ErrorKind::Unimplemented,
            "aggregation",
        ),
        (
            "title: x\nlevel: urgent\nlogsource: {product: windows}\ndetection: {sel: {a: 1}, condition: sel}",
            ErrorKind::Value,
            "unknown level",
        ),
        (
            "action: nope\ntitle: x",
            ErrorKind::Structure,
            "unknown action `nope`",
        ),
        (
            "action: repeat\ntitle: x",
            ErrorKind::Structure,
            "`action: repeat` before any rule",
        ),
        ("title: [unclosed", ErrorKind::Yaml, ""),
    ];
    for (yaml, kind, needle) in cases {
        let (k, detail) = error(yaml);
        assert_eq!(k, kind, "{yaml}: {detail}");
        assert!(detail.contains(needle), "{yaml}: {detail}");
    }
}

#[test]
fn a_bad_selection_never_half_loads() {
    let s = set(
        "title: x\nlogsource: {product: windows}\ndetection:\n  good: {a: 1}\n  bad: {b|re: '(?!x)'}\n  condition: good or bad\n",
    );
    assert!(s.rules.is_empty());
    assert!(
        s.errors[0].error.detail.contains("selection `bad`"),
        "{}",
        s.errors[0].error
    );
}
