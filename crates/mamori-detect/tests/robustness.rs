//! Bad input never panics: arbitrary text, and rules whose parts are
//! replaced by random values, load (or fail with a reason) and evaluate.

use mamori_detect::{Detector, Mappings, RuleSet};
use mamori_model::Event;
use proptest::prelude::*;

const TEMPLATE: &str = "title: t\nlogsource: {product: windows, category: process_creation}\ndetection:\n  sel:\n    FIELD: VALUE\n  condition: COND\n";

fn check(yaml: &str) {
    let set = RuleSet::from_yaml(yaml, &Mappings::builtin());
    let d = Detector::new(set.rules);
    let mut ev = Event::new("t", chrono::Utc::now(), "x");
    ev.set("winlog.channel", "Security".into());
    ev.set("winlog.event_id", "4688".into());
    ev.set("process.executable", "C:\\a\\b.exe".into());
    let _ = d.detect(&ev);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
        check(&text);
    }

    #[test]
    fn mutated_rules_never_panic(
        field in "[A-Za-z|*?\\\\%]{0,12}(\\|(contains|startswith|endswith|all|re|i|m|s|base64|base64offset|wide|utf16be|utf16|windash|cidr|exists|expand|fieldref|gt|lte|cased|nope)){0,3}",
        value in prop_oneof![
            Just("null".to_string()),
            Just("[]".to_string()),
            Just("{a: 1}".to_string()),
            "[-+0-9.e]{1,8}",
            "'[\\PC&&[^']]{0,20}'",
            "\\[('[a-z*?\\\\/%-]{0,8}', ?){0,4}\\]",
        ],
        cond in prop_oneof![
            Just("sel".to_string()),
            Just("1 of them".to_string()),
            Just("all of s*".to_string()),
            "[a-z()* ]{0,20}",
            Just("not not (sel and sel) or sel".to_string()),
        ],
    ) {
        let yaml = TEMPLATE.replace("FIELD", &format!("'{}'", field.replace('\'', ""))).replace("VALUE", &value).replace("COND", &format!("'{cond}'"));
        check(&yaml);
    }
}
