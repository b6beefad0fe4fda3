//! Hunting over ../shared/data/evtx (EVTX-ATTACK-SAMPLES and DeepBlueCLI)
//! with the SigmaHQ Windows rules: well-known rules fire on the sample files
//! named for what they detect, and the prefiltered detector agrees with the
//! model's evaluator on every rule.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use mamori_detect::{Detector, Mappings, RuleSet};

fn windows_detector(sigma: &Path) -> Detector {
    let set = RuleSet::load_dir(&sigma.join("rules/windows"), &Mappings::builtin()).expect("rules");
    Detector::new(set.rules)
}

/// (rule title, sample file under ../shared/data/evtx)
const WELL_KNOWN: &[(&str, &str)] = &[
    (
        "HackTool - Mimikatz Execution",
        "DeepBlueCLI/evtx/powersploit-system.evtx",
    ),
    (
        "PsExec Service Child Process Execution as LOCAL SYSTEM",
        "EVTX-ATTACK-SAMPLES/Privilege Escalation/sysmon_privesc_psexec_dwell.evtx",
    ),
    (
        "LSASS Memory Access by Tool With Dump Keyword In Name",
        "EVTX-ATTACK-SAMPLES/Credential Access/sysmon_10_11_lsass_memdump.evtx",
    ),
    (
        "Password Dumper Remote Thread in LSASS",
        "EVTX-ATTACK-SAMPLES/Credential Access/CA_sysmon_hashdump_cmd_meterpreter.evtx",
    ),
    (
        "HackTool - Dumpert Process Dumper Default File",
        "EVTX-ATTACK-SAMPLES/Credential Access/sysmon_10_11_outlfank_dumpert_and_andrewspecial_memdump.evtx",
    ),
    (
        "Metasploit SMB Authentication",
        "DeepBlueCLI/evtx/smb-password-guessing-security.evtx",
    ),
    (
        "Malicious PowerShell Commandlets - ScriptBlock",
        "DeepBlueCLI/evtx/Powershell-Invoke-Obfuscation-many.evtx",
    ),
    (
        "CobaltStrike Service Installations - System",
        "DeepBlueCLI/evtx/metasploit-psexec-powershell-target-system.evtx",
    ),
    (
        "Bypass UAC via Fodhelper.exe",
        "EVTX-ATTACK-SAMPLES/Privilege Escalation/Sysmon_UACME_33.evtx",
    ),
    (
        "Important Windows Eventlog Cleared",
        "EVTX-ATTACK-SAMPLES/Defense Evasion/DE_104_system_log_cleared.evtx",
    ),
    (
        "Shadow Copies Deletion Using Operating Systems Utilities",
        "EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx",
    ),
];

#[test]
fn well_known_rules_fire_on_their_samples() {
    let (Some(sigma), Some(evtx)) = (common::shared("sigma"), common::shared("evtx")) else {
        return;
    };
    let detector = windows_detector(&sigma);
    let mut missing = Vec::new();
    for (title, file) in WELL_KNOWN {
        assert!(
            detector.rules().iter().any(|r| r.title == *title),
            "rule `{title}` not loaded"
        );
        let events = common::events(&evtx.join(file));
        assert!(!events.is_empty(), "{file} has no events");
        let fired = events
            .iter()
            .any(|ev| detector.detect(ev).iter().any(|m| m.rule.title == *title));
        println!("{} {title} on {file}", if fired { "ok  " } else { "MISS" });
        if !fired {
            missing.push(*title);
        }
    }
    assert!(missing.is_empty(), "did not fire: {missing:?}");
}

/// Detections by level and rule over the whole folder (printed), and the
/// prefiltered detector equal to the model's evaluator on a sample of events.
#[test]
fn hunt_evtx_folder() {
    let (Some(sigma), Some(evtx)) = (common::shared("sigma"), common::shared("evtx")) else {
        return;
    };
    let detector = windows_detector(&sigma);
    let mut by_rule: BTreeMap<(mamori_detect::Level, String), usize> = BTreeMap::new();
    let mut events = 0;
    let mut checked = 0;
    // MAMORI_CROSSCHECK_EVERY=1 compares every event (minutes in a debug build).
    let every: usize = std::env::var("MAMORI_CROSSCHECK_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(250)
        .max(1);
    for (i, file) in common::files(&evtx, "evtx").iter().enumerate() {
        for (j, ev) in common::events(file).iter().enumerate() {
            events += 1;
            let fast: Vec<String> = detector.detect(ev).iter().map(|m| m.rule.id.clone()).collect();
            for id in &fast {
                let r = detector.rules().iter().find(|r| &r.id == id).expect("rule");
                *by_rule.entry((r.level, r.title.clone())).or_default() += 1;
            }
            // The reference is slow in debug builds: by default every 250th event.
            if (i * 7 + j) % every == 0 {
                checked += 1;
                let slow: Vec<String> = detector
                    .detect_exhaustive(ev)
                    .iter()
                    .map(|m| m.rule.id.clone())
                    .collect();
                assert_eq!(
                    fast,
                    slow,
                    "prefiltered detector differs from the model on {} event {j}",
                    file.display()
                );
            }
        }
    }
    let total: usize = by_rule.values().sum();
    println!(
        "{events} events, {total} detections by {} rules ({checked} events cross-checked)",
        by_rule.len()
    );
    for ((level, title), n) in by_rule.iter().rev() {
        println!("{n:>6}  {level:<13} {title}");
    }
    assert!(events >= 16_000, "{events} events");
    assert!(by_rule.len() >= 300, "only {} rules fired", by_rule.len());
}
