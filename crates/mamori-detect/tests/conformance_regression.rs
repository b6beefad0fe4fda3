//! SigmaHQ's regression data (../shared/data/sigma/regression_data): each
//! test's `info.yml` names a rule and an EVTX file on which it must fire.
//! Every listed rule must fire on its file (misses are printed with the
//! rule's conditions and the events' values), and on the file's JSON
//! rendering (`<id>.json`, mapped by the EVTX mapper's `map_record`).

mod common;

use std::collections::HashMap;

use mamori_detect::{Detector, Mappings, RuleSet, explain};
use serde_norway::Value;

/// Known gaps: rule ids that cannot fire here, with the reason.
const GAPS: &[(&str, &str)] = &[];

#[test]
fn sigmahq_regression_data() {
    let Some(root) = common::shared("sigma") else {
        return;
    };
    let mappings = Mappings::builtin();
    let mut set = RuleSet::default();
    for sub in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        set.merge(RuleSet::load_dir(&root.join(sub), &mappings).expect("rules"));
    }
    let unsupported: HashMap<String, String> = set
        .errors
        .iter()
        .filter_map(|e| Some((e.id.clone()?, e.error.to_string())))
        .collect();
    let detector = Detector::new(set.rules.clone());
    let by_id: HashMap<&str, usize> = detector
        .rules()
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.as_str(), i))
        .collect();
    let infos: Vec<_> = common::files(&root.join("regression_data"), "yml")
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n == "info.yml"))
        .collect();
    let (mut pass, mut miss, mut gap, mut skipped) = (0, 0, 0, 0);
    let (mut json_pass, mut json_miss) = (0, 0);
    for info in &infos {
        let Ok(text) = std::fs::read_to_string(info) else {
            continue;
        };
        let Ok(doc) = serde_norway::from_str::<Value>(&text) else {
            continue;
        };
        let ids: Vec<String> = doc["rule_metadata"]
            .as_sequence()
            .into_iter()
            .flatten()
            .filter_map(|m| m["id"].as_str().map(str::to_string))
            .collect();
        for test in doc["regression_tests_info"].as_sequence().into_iter().flatten() {
            let Some(rel) = test["path"].as_str() else {
                continue;
            };
            let file = root.join(rel);
            if !file.exists() {
                skipped += 1;
                println!("SKIP {rel}: file not present");
                continue;
            }
            let events = common::events(&file);
            for id in &ids {
                if let Some((_, why)) = GAPS.iter().find(|(g, _)| g == id) {
                    gap += 1;
                    println!("GAP  {id}: {why}");
                    continue;
                }
                let Some(&ri) = by_id.get(id.as_str()) else {
                    miss += 1;
                    println!(
                        "MISS {id} ({rel}): rule not loaded: {}",
                        unsupported.get(id).map_or("not found", String::as_str)
                    );
                    continue;
                };
                let fired = events
                    .iter()
                    .any(|ev| detector.detect(ev).iter().any(|m| m.rule.id == *id));
                let json = file.with_extension("json");
                if json.exists() {
                    let rendered = json_events(&json);
                    if rendered
                        .iter()
                        .any(|ev| detector.detect(ev).iter().any(|m| m.rule.id == *id))
                    {
                        json_pass += 1;
                    } else {
                        json_miss += 1;
                        println!(
                            "MISS {id} on the JSON rendering {} ({} events)",
                            json.display(),
                            rendered.len()
                        );
                    }
                }
                if fired {
                    pass += 1;
                    continue;
                }
                miss += 1;
                let rule = &detector.rules()[ri];
                let exhaustive = events
                    .iter()
                    .any(|ev| detector.detect_exhaustive(ev).iter().any(|m| m.rule.id == *id));
                println!(
                    "MISS {id} {} ({rel}, {} events, exhaustive={exhaustive})",
                    rule.title,
                    events.len()
                );
                println!("     filter: {}", rule.filter());
                if let Some(ev) = events.first() {
                    for e in explain(rule, ev).iter().filter(|e| !e.holds) {
                        println!("     fails: {}  values: {:?}", e.condition, e.values);
                    }
                }
            }
        }
    }
    println!(
        "regression: {} tests, {pass} pass, {miss} miss, {gap} known gaps, {skipped} skipped",
        infos.len()
    );
    println!("JSON renderings: {json_pass} pass, {json_miss} miss");
    assert_eq!(miss, 0, "regression misses");
    assert_eq!(json_miss, 0, "regression misses on the JSON renderings");
}

/// The records of an EVTX JSON rendering (one or more concatenated objects), mapped as EVTX.
fn json_events(path: &std::path::Path) -> Vec<mamori_model::Event> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let ctx = mamori_formats::ParseContext::new("t", path.display().to_string());
    serde_json::Deserializer::from_str(&text)
        .into_iter::<serde_json::Value>()
        .filter_map(Result::ok)
        .filter_map(|v| mamori_formats::evtx::map_record(&v, &v.to_string(), None, &ctx).ok())
        .collect()
}
