//! Sigma rule collections: one file holding several YAML documents, some of
//! them *action documents* (`action:` at the top level) that shape the rule
//! documents after them.
//!
//! - `action: global`: its content is merged into every following rule
//!   document of the file; several global documents accumulate.
//! - `action: reset`: forgets the global content gathered so far.
//! - `action: repeat`: a new rule document made of the previous rule
//!   document (as merged) with this document's content merged over it.
//!
//! Merging is deep for mappings (`detection`, `logsource`, …) and replaces
//! anything else; on a conflict the later, more specific document wins (the
//! rule over the global content, the `repeat` document over the rule it
//! repeats).

use serde_norway::{Mapping, Value};

use crate::error::{ErrorKind, RuleError};

/// A document of a collection after the actions are applied.
#[derive(Debug)]
pub(crate) struct Expanded {
    /// The rule document (merged), or the action document that failed.
    pub doc: Value,
    /// Why the document cannot be used, if so.
    pub error: Option<RuleError>,
}

/// Apply the action documents of `docs` (in file order); what comes out are
/// the rule, correlation and filter documents to read, and the action
/// documents that are wrong.
pub(crate) fn expand(docs: Vec<Value>) -> Vec<Expanded> {
    let mut out = Vec::new();
    let mut global = Mapping::new();
    let mut previous: Option<Mapping> = None;
    for doc in docs {
        let Value::Mapping(mut m) = doc else {
            // Not a mapping: left for the reader to refuse with its reason.
            out.push(Expanded { doc, error: None });
            continue;
        };
        let Some(action) = m.remove("action") else {
            let mut merged = global.clone();
            merge(&mut merged, m);
            previous = Some(merged.clone());
            out.push(Expanded {
                doc: Value::Mapping(merged),
                error: None,
            });
            continue;
        };
        match action.as_str() {
            Some("global") => merge(&mut global, m),
            Some("reset") => global = Mapping::new(),
            Some("repeat") => match &previous {
                Some(prev) => {
                    let mut merged = prev.clone();
                    merge(&mut merged, m);
                    previous = Some(merged.clone());
                    out.push(Expanded {
                        doc: Value::Mapping(merged),
                        error: None,
                    });
                }
                None => out.push(Expanded {
                    doc: Value::Mapping(m),
                    error: Some(structure("`action: repeat` before any rule document of the file")),
                }),
            },
            _ => {
                let shown = match &action {
                    Value::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                out.push(Expanded {
                    doc: Value::Mapping(m),
                    error: Some(structure(format!(
                        "unknown action `{shown}` (expected global, reset or repeat)"
                    ))),
                });
            }
        }
    }
    out
}

fn structure(detail: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Structure, detail)
}

/// Merge `over` into `base`: mappings key by key (recursively), anything else replaced.
fn merge(base: &mut Mapping, over: Mapping) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Value> {
        crate::sigma::document::documents(text).unwrap()
    }

    fn yaml(v: &Value) -> String {
        serde_norway::to_string(v).unwrap()
    }

    #[test]
    fn global_is_merged_deeply_and_reset_forgets_it() {
        let out = expand(docs(
            "action: global\ntitle: T\nlogsource: {product: windows}\ndetection: {condition: sel}\n---\n\
             logsource: {service: security}\ndetection: {sel: {EventID: 1}}\n---\n\
             title: Own\ndetection: {sel: {EventID: 2}}\n---\naction: reset\n---\ntitle: Bare\n",
        ));
        assert_eq!(out.len(), 3);
        assert!(out.iter().all(|e| e.error.is_none()));
        let first = &out[0].doc;
        assert_eq!(first["title"].as_str(), Some("T"));
        assert_eq!(first["logsource"]["product"].as_str(), Some("windows"));
        assert_eq!(first["logsource"]["service"].as_str(), Some("security"));
        assert_eq!(first["detection"]["condition"].as_str(), Some("sel"));
        assert!(first.get("action").is_none(), "{}", yaml(first));
        // The rule's own value wins over the global one.
        assert_eq!(out[1].doc["title"].as_str(), Some("Own"));
        // After a reset, nothing is merged.
        assert_eq!(yaml(&out[2].doc).trim(), "title: Bare");
    }

    #[test]
    fn repeat_builds_on_the_previous_rule() {
        let out = expand(docs(
            "title: A\nid: a\nlogsource: {product: windows, service: security}\n\
             detection: {sel: {EventID: 4688, CommandLine: x}, condition: sel}\n---\n\
             action: repeat\nid: b\nlogsource: {service: sysmon}\ndetection: {sel: {EventID: 1}}\n---\n\
             action: repeat\nid: c\n",
        ));
        assert_eq!(out.len(), 3);
        let b = &out[1].doc;
        assert_eq!(b["id"].as_str(), Some("b"));
        assert_eq!(b["logsource"]["service"].as_str(), Some("sysmon"));
        assert_eq!(b["logsource"]["product"].as_str(), Some("windows"));
        assert_eq!(b["detection"]["sel"]["EventID"].as_u64(), Some(1));
        assert_eq!(b["detection"]["sel"]["CommandLine"].as_str(), Some("x"));
        // A repeat repeats the previous repeat.
        assert_eq!(out[2].doc["logsource"]["service"].as_str(), Some("sysmon"));
        assert_eq!(out[2].doc["id"].as_str(), Some("c"));
    }

    #[test]
    fn wrong_actions_are_reported() {
        let out = expand(docs("action: repeat\nid: x\n---\naction: merge\nid: y\n"));
        assert_eq!(out.len(), 2);
        let e0 = out[0].error.as_ref().unwrap();
        assert!(e0.detail.contains("before any rule"), "{e0}");
        let e1 = out[1].error.as_ref().unwrap();
        assert!(e1.detail.contains("unknown action `merge`"), "{e1}");
        assert_eq!(out[1].doc["id"].as_str(), Some("y"));
    }
}
