//! Load every SigmaHQ rule under ../shared/data/sigma (rules,
//! rules-emerging-threats, rules-threat-hunting): print loaded and
//! unsupported counts by reason; at least 99% must compile.

mod common;

use std::collections::BTreeMap;

use mamori_detect::{Mappings, RuleSet};

#[test]
fn sigmahq_rules_compile() {
    let Some(root) = common::shared("sigma") else {
        return;
    };
    let mappings = Mappings::builtin();
    let mut all = RuleSet::default();
    for sub in ["rules", "rules-emerging-threats", "rules-threat-hunting"] {
        let t = std::time::Instant::now();
        let set = RuleSet::load_dir(&root.join(sub), &mappings).expect("readable rules folder");
        println!(
            "{sub}: {} files, {} rules loaded, {} correlations, {} unsupported ({:.2?})",
            set.files,
            set.rules.len(),
            set.correlations.len(),
            set.errors.len(),
            t.elapsed()
        );
        all.merge(set);
    }
    println!("unsupported by reason:");
    for (kind, n) in all.errors_by_kind() {
        println!("  {kind:<14} {n}");
    }
    let mut details: BTreeMap<String, usize> = BTreeMap::new();
    for e in &all.errors {
        println!("  - {e}");
        *details.entry(e.error.kind.label().to_string()).or_default() += 1;
    }
    let total = all.total();
    let loaded = all.rules.len() + all.correlations.len();
    let share = loaded as f64 / total.max(1) as f64;
    println!("total {total}, loaded {loaded} ({:.2}%)", share * 100.0);
    assert!(share >= 0.99, "only {:.2}% of the rules compile", share * 100.0);
}
