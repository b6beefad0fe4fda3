//! One Sigma YAML document: metadata, `logsource`, `detection` and `condition`
//! (rules), `correlation` (correlation rules) or `filter` (meta filters).

use std::collections::BTreeMap;
use std::path::Path;

use mamori_model::Filter;
use serde_norway::{Mapping, Value};

use super::condition;
use super::modifiers::{Lookup, compile_item, scalar_text, yaml_kind};
use crate::correlation::CorrelationRule;
use crate::error::{ErrorKind, RuleError};
use crate::mapping::{Mappings, Resolved};
use crate::meta_filter::MetaFilter;
use crate::rule::{Attack, Level, LogSource, Rule};

/// What one YAML document holds.
#[derive(Debug)]
pub(crate) enum Document {
    /// A detection rule.
    Rule(Box<Rule>),
    /// A correlation rule (its referenced rules are resolved later).
    Correlation(Box<CorrelationRule>),
    /// A meta filter (applied to the rules it names once all are loaded).
    Filter(Box<MetaFilter>),
}

fn structure(detail: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Structure, detail)
}

/// Split a file into its YAML documents (a parse error fails the whole file).
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, RuleError> {
    use serde::Deserialize;
    let mut out = Vec::new();
    for de in serde_norway::Deserializer::from_str(text) {
        let v = Value::deserialize(de).map_err(|e| RuleError::new(ErrorKind::Yaml, e.to_string()))?;
        if !v.is_null() {
            out.push(v);
        }
    }
    Ok(out)
}

fn get<'a>(m: &'a Mapping, key: &str) -> Option<&'a Value> {
    m.get(key)
}

fn opt_string(m: &Mapping, key: &str) -> Result<Option<String>, RuleError> {
    match get(m, key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => scalar_text(v).map_err(|e| e.at(key)),
    }
}

/// A string or a list of strings.
fn string_list(m: &Mapping, key: &str) -> Result<Vec<String>, RuleError> {
    match get(m, key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|v| scalar_text(v).transpose())
            .collect::<Result<_, _>>()
            .map_err(|e| e.at(key)),
        Some(v) => Ok(scalar_text(v).map_err(|e| e.at(key))?.into_iter().collect()),
    }
}

/// Read one document.
pub(crate) fn read(doc: &Value, mappings: &Mappings, path: Option<&Path>) -> Result<Document, RuleError> {
    let Value::Mapping(m) = doc else {
        return Err(structure(format!(
            "a rule must be a mapping, found {}",
            yaml_kind(doc)
        )));
    };
    if get(m, "correlation").is_some() {
        return crate::correlation::read(m, mappings, path).map(|c| Document::Correlation(Box::new(c)));
    }
    if get(m, "filter").is_some() && get(m, "detection").is_none() {
        return crate::meta_filter::read(m, mappings, path).map(|f| Document::Filter(Box::new(f)));
    }
    read_rule(m, mappings, path).map(|r| Document::Rule(Box::new(r)))
}

/// The metadata every rule kind shares.
pub(crate) struct Meta {
    pub id: String,
    pub name: Option<String>,
    pub title: String,
    pub status: Option<String>,
    pub description: Option<String>,
    pub author: Option<String>,
    pub level: Level,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub references: Vec<String>,
}

pub(crate) fn read_meta(m: &Mapping, path: Option<&Path>) -> Result<Meta, RuleError> {
    let title = opt_string(m, "title")?.ok_or_else(|| structure("missing `title`"))?;
    let id = match opt_string(m, "id")? {
        Some(id) => id,
        None => path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| title.clone()),
    };
    let level = match opt_string(m, "level")? {
        None => Level::Medium,
        Some(l) => Level::parse(&l)
            .ok_or_else(|| RuleError::new(ErrorKind::Value, format!("unknown level `{l}`")))?,
    };
    Ok(Meta {
        id,
        name: opt_string(m, "name")?,
        title,
        status: opt_string(m, "status")?,
        description: opt_string(m, "description")?,
        author: string_list(m, "author").map(|a| (!a.is_empty()).then(|| a.join(", ")))?,
        level,
        tags: string_list(m, "tags")?,
        falsepositives: string_list(m, "falsepositives")?,
        references: string_list(m, "references")?,
    })
}

pub(crate) fn read_logsource(m: &Mapping) -> Result<LogSource, RuleError> {
    let Some(Value::Mapping(ls)) = get(m, "logsource") else {
        return Err(structure("missing `logsource`"));
    };
    let s = |k: &str| opt_string(ls, k).map(|v| v.map(|v| v.to_ascii_lowercase()));
    Ok(LogSource {
        product: s("product")?,
        service: s("service")?,
        category: s("category")?,
        definition: opt_string(ls, "definition")?,
    })
}

fn read_rule(m: &Mapping, mappings: &Mappings, path: Option<&Path>) -> Result<Rule, RuleError> {
    let meta = read_meta(m, path)?;
    let logsource = read_logsource(m)?;
    let resolved = mappings.resolve(&logsource);
    let Some(Value::Mapping(det)) = get(m, "detection") else {
        return Err(structure("missing `detection`"));
    };
    let mut used = Vec::new();
    let detection = compile_block(det, "detection", &["timeframe"], &resolved, &mut used)?;
    let fields = string_list(m, "fields")?
        .iter()
        .flat_map(|f| resolved.field(f))
        .collect();
    used.dedup();
    Ok(Rule {
        id: meta.id,
        name: meta.name,
        title: meta.title,
        status: meta.status,
        description: meta.description,
        author: meta.author,
        level: meta.level,
        attack: Attack::from_tags(&meta.tags),
        tags: meta.tags,
        falsepositives: meta.falsepositives,
        references: meta.references,
        logsource,
        fields,
        guard: resolved.guard.clone(),
        detection,
        detection_fields: used,
        filters: Vec::new(),
        path: path.map(Path::to_path_buf),
    })
}

/// Compile a detection block (a rule's `detection`, a meta filter's
/// `filter`): every key but `condition` and those in `skip` is a selection,
/// and the conditions (a string or a list, joined by `or`) combine them.
/// The Mamori fields read are added to `used`.
pub(crate) fn compile_block(
    block: &Mapping,
    block_name: &str,
    skip: &[&str],
    resolved: &Resolved<'_>,
    used: &mut Vec<String>,
) -> Result<Filter, RuleError> {
    let mut selections = BTreeMap::new();
    let mut conditions = Vec::new();
    for (k, v) in block {
        let Some(name) = k.as_str() else {
            return Err(structure("a detection key must be a string"));
        };
        if name == "condition" {
            match v {
                Value::String(s) => conditions.push(s.clone()),
                Value::Sequence(items) => {
                    for i in items {
                        conditions.push(
                            i.as_str()
                                .ok_or_else(|| structure("`condition` list must hold strings"))?
                                .to_string(),
                        );
                    }
                }
                other => {
                    return Err(structure(format!(
                        "`condition` must be a string, found {}",
                        yaml_kind(other)
                    )));
                }
            }
        } else if !skip.contains(&name) {
            let f = selection(v, resolved, used).map_err(|e| e.at(&format!("selection `{name}`")))?;
            selections.insert(name.to_string(), f);
        }
    }
    if conditions.is_empty() {
        return Err(structure(format!("missing `{block_name}.condition`")));
    }
    Ok(Filter::or(
        conditions
            .iter()
            .map(|c| condition::compile(c, &selections))
            .collect::<Result<_, _>>()?,
    ))
}

/// One named selection: a map (and of items), a list (or of maps/keywords) or a keyword.
fn selection(v: &Value, r: &Resolved<'_>, used: &mut Vec<String>) -> Result<Filter, RuleError> {
    let placeholders = |name: &str| r.placeholder(name).map(<[String]>::to_vec);
    let fields = |name: &str| r.field(name);
    let lookup = Lookup {
        placeholders: &placeholders,
        fields: &fields,
    };
    match v {
        Value::Mapping(map) => {
            if map.is_empty() {
                return Err(structure("empty selection"));
            }
            let mut items = Vec::new();
            for (k, val) in map {
                let key = k
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| scalar_text(k).ok().flatten())
                    .ok_or_else(|| structure("a field name must be a string"))?;
                let mut parts = key.split('|');
                let field = parts.next().unwrap_or_default();
                let mods: Vec<&str> = parts.collect();
                let targets = if field.is_empty() {
                    Vec::new()
                } else {
                    r.field(field)
                };
                for t in &targets {
                    if !used.contains(t) {
                        used.push(t.clone());
                    }
                }
                items.push(
                    compile_item(&targets, &mods, val, &lookup).map_err(|e| e.at(&format!("`{key}`")))?,
                );
            }
            Ok(Filter::and(items))
        }
        Value::Sequence(list) => {
            if list.is_empty() {
                return Err(structure("empty selection list"));
            }
            let mut items = Vec::new();
            for item in list {
                items.push(match item {
                    Value::Mapping(_) => selection(item, r, used)?,
                    other => compile_item(&[], &[], other, &lookup)?,
                });
            }
            Ok(Filter::or(items))
        }
        Value::String(_) | Value::Number(_) | Value::Bool(_) => compile_item(&[], &[], v, &lookup),
        other => Err(structure(format!("a selection cannot be {}", yaml_kind(other)))),
    }
}
