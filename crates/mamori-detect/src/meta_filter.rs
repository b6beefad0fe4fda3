//! Sigma filters (meta filters): documents that tune rules they name, for
//! false positives a whole environment accepts (a GPO script that trips
//! several rules).
//!
//! ```yaml
//! title: Filter administrator accounts
//! logsource: { product: windows, category: process_creation }
//! filter:
//!   rules: [6f3e2987-db24-4c78-a860-b4f4095a7095, rar_compression]
//!   selection: { User|startswith: 'adm_' }
//!   condition: selection
//! ```
//!
//! Once a [`RuleSet`](crate::RuleSet) is loaded, each named rule (by `id` or
//! `name`) becomes `rule_condition and not filter_condition`, the filter's
//! selections compiled with the *rule's* log source (so its field mapping is
//! the rule's). A filter applies only to rules whose log source it covers
//! (every key it sets equals the rule's). A name that matches no detection
//! rule, a correlation rule, or a rule of another log source is reported as
//! an error ([`ErrorKind::Filter`]), never silently skipped; the filter still
//! applies to the other rules it names. Applying twice changes nothing.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use mamori_model::Filter;
use serde::Serialize;
use serde_norway::{Mapping, Value};

use crate::correlation::CorrelationRule;
use crate::error::{ErrorKind, RuleError};
use crate::mapping::Mappings;
use crate::rule::{LogSource, Rule};
use crate::ruleset::LoadError;
use crate::sigma::document::{compile_block, read_logsource, read_meta};
use crate::sigma::modifiers::{scalar_text, yaml_kind};

/// A Sigma filter document.
#[derive(Debug, Clone, Serialize)]
pub struct MetaFilter {
    /// `id` (the file path or title when absent).
    pub id: String,
    /// `title`.
    pub title: String,
    /// `description`, if any.
    pub description: Option<String>,
    /// `logsource`: the rules it may apply to.
    pub logsource: LogSource,
    /// `filter.rules`: ids or names of the rules it tunes.
    pub rules: Vec<String>,
    /// The `filter` block as written (compiled for each rule it applies to).
    #[serde(skip)]
    block: Mapping,
    /// Where it was read from.
    pub path: Option<PathBuf>,
}

fn filter_error(detail: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Filter, detail)
}

/// Read a filter document; its selections and condition are compiled once
/// with its own log source, so a bad one is refused here with its reason.
pub(crate) fn read(m: &Mapping, mappings: &Mappings, path: Option<&Path>) -> Result<MetaFilter, RuleError> {
    let meta = read_meta(m, path)?;
    let logsource = read_logsource(m)?;
    let block = match m.get("filter") {
        Some(Value::Mapping(b)) => b.clone(),
        Some(other) => {
            return Err(filter_error(format!(
                "`filter` must be a mapping, found {}",
                yaml_kind(other)
            )));
        }
        None => return Err(filter_error("missing `filter`")),
    };
    let rules: Vec<String> = match block.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => items
            .iter()
            .map(|v| scalar_text(v).map(Option::unwrap_or_default))
            .collect::<Result<_, _>>()
            .map_err(|e| e.at("filter.rules"))?,
        Some(v) => scalar_text(v)
            .map_err(|e| e.at("filter.rules"))?
            .into_iter()
            .collect(),
    };
    let rules: Vec<String> = rules.into_iter().filter(|r| !r.trim().is_empty()).collect();
    if rules.is_empty() {
        return Err(filter_error("`filter.rules` names no rule"));
    }
    compile(&block, &logsource, mappings)?;
    Ok(MetaFilter {
        id: meta.id,
        title: meta.title,
        description: meta.description,
        logsource,
        rules,
        block,
        path: path.map(Path::to_path_buf),
    })
}

/// The filter's condition compiled with the field mapping of `logsource`.
fn compile(
    block: &Mapping,
    logsource: &LogSource,
    mappings: &Mappings,
) -> Result<(Filter, Vec<String>), RuleError> {
    let resolved = mappings.resolve(logsource);
    let mut used = Vec::new();
    let f = compile_block(block, "filter", &["rules"], &resolved, &mut used)?;
    Ok((f, used))
}

/// Whether a filter for `filter` may tune a rule for `rule`: every key the
/// filter's log source sets is the rule's too.
fn covers(filter: &LogSource, rule: &LogSource) -> bool {
    let same = |f: &Option<String>, r: &Option<String>| f.as_ref().is_none_or(|f| Some(f) == r.as_ref());
    same(&filter.product, &rule.product)
        && same(&filter.category, &rule.category)
        && same(&filter.service, &rule.service)
}

impl MetaFilter {
    /// Apply the filter to the rules it names (see the module doc); what
    /// could not be applied comes back as errors.
    pub(crate) fn apply(
        &self,
        rules: &mut [Arc<Rule>],
        correlations: &[CorrelationRule],
        mappings: &Mappings,
    ) -> Vec<LoadError> {
        let mut errors = Vec::new();
        let report = |error: RuleError| LoadError {
            path: self.path.clone(),
            id: Some(self.id.clone()),
            title: Some(self.title.clone()),
            error,
        };
        for reference in &self.rules {
            let named = |id: &str, name: Option<&str>| id == reference || name == Some(reference.as_str());
            let mut found = false;
            for rule in rules.iter_mut().filter(|r| named(&r.id, r.name.as_deref())) {
                found = true;
                if rule.filters.contains(&self.id) {
                    continue;
                }
                if !covers(&self.logsource, &rule.logsource) {
                    errors.push(report(filter_error(format!(
                        "names rule `{reference}` ({}), whose log source {} is not the filter's {}",
                        rule.title, rule.logsource, self.logsource
                    ))));
                    continue;
                }
                match compile(&self.block, &rule.logsource, mappings) {
                    Ok((f, used)) => {
                        let r = Arc::make_mut(rule);
                        r.detection = Filter::and(vec![
                            std::mem::replace(&mut r.detection, Filter::All),
                            Filter::Not(Box::new(f)),
                        ]);
                        for u in used {
                            if !r.detection_fields.contains(&u) {
                                r.detection_fields.push(u);
                            }
                        }
                        r.filters.push(self.id.clone());
                    }
                    Err(e) => errors.push(report(e.at(&format!("for rule `{reference}`")))),
                }
            }
            if found {
                continue;
            }
            let why = if correlations.iter().any(|c| named(&c.id, c.name.as_deref())) {
                format!("names correlation rule `{reference}`: filters apply to detection rules")
            } else {
                format!("names unknown rule `{reference}` (no loaded rule has this id or name)")
            };
            errors.push(report(filter_error(why)));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(product: Option<&str>, category: Option<&str>, service: Option<&str>) -> LogSource {
        LogSource {
            product: product.map(str::to_string),
            category: category.map(str::to_string),
            service: service.map(str::to_string),
            definition: None,
        }
    }

    #[test]
    fn coverage_of_log_sources() {
        let rule = ls(Some("windows"), Some("process_creation"), None);
        assert!(covers(&ls(Some("windows"), None, None), &rule));
        assert!(covers(
            &ls(Some("windows"), Some("process_creation"), None),
            &rule
        ));
        assert!(!covers(&ls(Some("windows"), Some("file_event"), None), &rule));
        assert!(!covers(&ls(Some("linux"), None, None), &rule));
        assert!(!covers(&ls(Some("windows"), None, Some("security")), &rule));
    }
}
