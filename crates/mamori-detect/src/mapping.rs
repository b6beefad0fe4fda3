//! Field and log-source mappings: how a Sigma rule's field names and its
//! `logsource` become Mamori (ECS) fields and a filter selecting the events.
//!
//! A mapping is a YAML file (the shipped ones are in `mappings/`):
//!
//! ```yaml
//! name: windows
//! products: [windows]          # rules this file's field names apply to (also: categories, services)
//! service_field: winlog.channel
//! services: { security: Security, sysmon: "Microsoft-Windows-Sysmon/Operational" }
//! logsources:
//!   - { product: windows, category: process_creation,
//!       filter: 'winlog.channel:"Microsoft-Windows-Sysmon/Operational" and winlog.event_id:1',
//!       fields: { Image: process.executable } }
//! fields: { EventID: winlog.event_id, Hashes: [winlog.event_data.Hashes] }
//! prefixes: { "requestParameters.": "aws.cloudtrail.request_parameters." }
//! default_prefix: [winlog.event_data., winlog.user_data.]
//! placeholders: { Admins_Workstations: [ws-admin-1, ws-admin-2] }
//! ```
//!
//! A field resolves, in order, through the `fields` of the matching
//! `logsources` entry, that entry's `default_prefix` (an entry may have one:
//! `{ product: linux, service: auditd, …, default_prefix: auditd.log. }`),
//! the `fields` of the files that apply to the rule (a
//! later file wins), their `prefixes`, their `default_prefix`, and else stays
//! as written. A `logsource` resolves to the filter of the most specific
//! matching entry (every key it names equals the rule's), else to the
//! `services` table, else to `event.module:<product>` (and
//! `event.dataset:<product>.<service>`): a rule is never left unguarded.

use std::collections::BTreeMap;
use std::path::Path;

use mamori_model::filter::{self, Filter, Pattern};
use serde::Deserialize;

use crate::error::MappingError;
use crate::rule::LogSource;

/// The mappings shipped with Mamori, in load order.
pub const BUILTIN: &[(&str, &str)] = &[
    ("windows", include_str!("../mappings/windows.yml")),
    ("cloudtrail", include_str!("../mappings/cloudtrail.yml")),
    ("web", include_str!("../mappings/web.yml")),
    ("network", include_str!("../mappings/network.yml")),
    ("linux", include_str!("../mappings/linux.yml")),
];

/// One or several target fields.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Targets {
    One(String),
    Many(Vec<String>),
}

impl Targets {
    fn list(&self) -> Vec<String> {
        match self {
            Targets::One(s) => vec![s.clone()],
            Targets::Many(v) => v.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsourceEntry {
    product: Option<String>,
    service: Option<String>,
    category: Option<String>,
    filter: String,
    #[serde(default)]
    fields: BTreeMap<String, Targets>,
    #[serde(default)]
    default_prefix: Option<Targets>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    products: Vec<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    services: BTreeMap<String, Targets>,
    #[serde(default)]
    service_field: Option<String>,
    #[serde(default)]
    logsources: Vec<LogsourceEntry>,
    #[serde(default)]
    fields: BTreeMap<String, Targets>,
    #[serde(default)]
    prefixes: BTreeMap<String, String>,
    #[serde(default)]
    default_prefix: Option<Targets>,
    #[serde(default)]
    placeholders: BTreeMap<String, Vec<String>>,
}

/// A compiled log-source entry.
#[derive(Debug, Clone)]
struct Source {
    product: Option<String>,
    service: Option<String>,
    category: Option<String>,
    filter: Filter,
    fields: BTreeMap<String, Vec<String>>,
    /// Prefixes for the names its `fields` do not list (a log source whose
    /// records keep their own field names, such as auditd's).
    default_prefix: Vec<String>,
}

/// A loaded mapping file.
#[derive(Debug, Clone)]
struct File {
    name: String,
    products: Vec<String>,
    categories: Vec<String>,
    services: BTreeMap<String, Filter>,
    sources: Vec<Source>,
    fields: BTreeMap<String, Vec<String>>,
    prefixes: Vec<(String, String)>,
    default_prefix: Vec<String>,
}

impl File {
    fn applies_to(&self, ls: &LogSource) -> bool {
        let has = |list: &[String], v: &Option<String>| {
            v.as_deref()
                .is_some_and(|v| list.iter().any(|x| x.eq_ignore_ascii_case(v)))
        };
        has(&self.products, &ls.product) || has(&self.categories, &ls.category)
    }
}

/// Field and log-source mappings (the shipped ones plus any the user adds).
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    files: Vec<File>,
    placeholders: BTreeMap<String, Vec<String>>,
}

/// How one rule's names resolve: its log-source filter and a field resolver.
#[derive(Debug, Clone)]
pub struct Resolved<'a> {
    mappings: &'a Mappings,
    files: Vec<&'a File>,
    source: Option<&'a Source>,
    /// The filter selecting the rule's log source.
    pub guard: Filter,
}

impl Mappings {
    /// No mappings at all: fields stay as written, log sources become
    /// `event.module` / `event.dataset` filters.
    pub fn empty() -> Self {
        Mappings::default()
    }

    /// The mappings shipped with Mamori (Windows/EVTX incl. Sysmon and
    /// PowerShell, AWS CloudTrail, web servers and proxies, network, Linux).
    pub fn builtin() -> Self {
        let mut m = Mappings::empty();
        for (name, text) in BUILTIN {
            m.add_yaml(&format!("builtin:{name}"), text)
                .expect("shipped mappings are valid (tested)");
        }
        m
    }

    /// Add a mapping file; its entries take precedence over those loaded before.
    pub fn add_file(&mut self, path: &Path) -> Result<(), MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            path: path.display().to_string(),
            source,
        })?;
        self.add_yaml(&path.display().to_string(), &text)
    }

    /// Add a mapping from YAML text; `origin` names it in errors.
    pub fn add_yaml(&mut self, origin: &str, text: &str) -> Result<(), MappingError> {
        let invalid = |reason: String| MappingError::Invalid {
            path: origin.to_string(),
            reason,
        };
        let raw: MappingFile = serde_norway::from_str(text).map_err(|e| invalid(e.to_string()))?;
        let parse = |text: &str| filter::parse(text).map_err(|e| invalid(format!("filter `{text}`: {e}")));
        let mut sources = Vec::new();
        for s in &raw.logsources {
            sources.push(Source {
                product: s.product.clone(),
                service: s.service.clone(),
                category: s.category.clone(),
                filter: parse(&s.filter)?,
                fields: s.fields.iter().map(|(k, v)| (k.clone(), v.list())).collect(),
                default_prefix: s.default_prefix.as_ref().map(Targets::list).unwrap_or_default(),
            });
        }
        let mut services = BTreeMap::new();
        if !raw.services.is_empty() {
            let field = raw
                .service_field
                .clone()
                .ok_or_else(|| invalid("`services` needs `service_field`".into()))?;
            for (name, values) in &raw.services {
                let f = Filter::or(
                    values
                        .list()
                        .into_iter()
                        .map(|v| Filter::Match {
                            field: Some(field.clone()),
                            value: Pattern::Phrase(v),
                        })
                        .collect(),
                );
                services.insert(name.to_ascii_lowercase(), f);
            }
        }
        let mut prefixes: Vec<(String, String)> = raw.prefixes.into_iter().collect();
        prefixes.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
        self.placeholders.extend(raw.placeholders);
        self.files.push(File {
            name: raw.name.unwrap_or_else(|| origin.to_string()),
            products: raw.products,
            categories: raw.categories,
            services,
            sources,
            fields: raw.fields.into_iter().map(|(k, v)| (k, v.list())).collect(),
            prefixes,
            default_prefix: raw.default_prefix.map(|t| t.list()).unwrap_or_default(),
        });
        Ok(())
    }

    /// Add placeholder values for the `expand` modifier (`%name%`).
    pub fn add_placeholder(&mut self, name: &str, values: Vec<String>) {
        self.placeholders.insert(name.to_string(), values);
    }

    /// The values of placeholder `name`, if known.
    pub fn placeholder(&self, name: &str) -> Option<&[String]> {
        self.placeholders.get(name).map(Vec::as_slice)
    }

    /// The names of the loaded mapping files.
    pub fn names(&self) -> Vec<&str> {
        self.files.iter().map(|f| f.name.as_str()).collect()
    }

    /// Resolve a rule's log source.
    pub fn resolve(&self, ls: &LogSource) -> Resolved<'_> {
        let files: Vec<&File> = self.files.iter().filter(|f| f.applies_to(ls)).collect();
        let eq = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (None, _) => Some(0),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => Some(1),
            _ => None,
        };
        let mut best: Option<(usize, &Source)> = None;
        for file in &self.files {
            for s in &file.sources {
                let score = (|| {
                    Some(
                        eq(&s.product, &ls.product)?
                            + eq(&s.service, &ls.service)?
                            + eq(&s.category, &ls.category)?,
                    )
                })();
                if let Some(score) = score
                    && score > 0
                    && best.is_none_or(|(b, _)| score >= b)
                {
                    best = Some((score, s));
                }
            }
        }
        let service_filter = ls.service.as_ref().and_then(|svc| {
            files
                .iter()
                .rev()
                .find_map(|f| f.services.get(&svc.to_ascii_lowercase()).cloned())
        });
        let mut parts = Vec::new();
        match best {
            Some((_, s)) => {
                parts.push(s.filter.clone());
                // An entry for product+category does not cover a service the rule also names.
                if s.service.is_none()
                    && let Some(f) = service_filter
                {
                    parts.push(f);
                }
            }
            None => match service_filter {
                Some(f) => parts.push(f),
                None => parts.push(fallback_guard(ls)),
            },
        }
        Resolved {
            mappings: self,
            files,
            source: best.map(|(_, s)| s),
            guard: Filter::and(parts),
        }
    }
}

/// `event.module:<product>` and `event.dataset:<product>.<service>` (or
/// `event.category:<category>` for a rule without a product).
fn fallback_guard(ls: &LogSource) -> Filter {
    let m = |field: &str, v: String| Filter::Match {
        field: Some(field.to_string()),
        value: Pattern::Phrase(v),
    };
    let mut parts = Vec::new();
    if let Some(p) = &ls.product {
        parts.push(m("event.module", p.to_ascii_lowercase()));
        if let Some(s) = &ls.service {
            parts.push(m(
                "event.dataset",
                format!("{}.{}", p.to_ascii_lowercase(), s.to_ascii_lowercase()),
            ));
        }
    } else if let Some(s) = &ls.service {
        parts.push(m("event.module", s.to_ascii_lowercase()));
    } else if let Some(c) = &ls.category {
        parts.push(m("event.category", c.to_ascii_lowercase()));
    }
    Filter::and(parts)
}

impl Resolved<'_> {
    /// The Mamori fields a Sigma field name maps to (one or more).
    pub fn field(&self, name: &str) -> Vec<String> {
        if let Some(s) = self.source {
            if let Some(t) = s.fields.get(name) {
                return t.clone();
            }
            if !s.default_prefix.is_empty() {
                return s.default_prefix.iter().map(|p| format!("{p}{name}")).collect();
            }
        }
        for f in self.files.iter().rev() {
            if let Some(t) = f.fields.get(name) {
                return t.clone();
            }
        }
        for f in self.files.iter().rev() {
            for (from, to) in &f.prefixes {
                if let Some(rest) = name.strip_prefix(from.as_str()) {
                    return vec![format!("{to}{rest}")];
                }
            }
        }
        for f in self.files.iter().rev() {
            if !f.default_prefix.is_empty() {
                return f.default_prefix.iter().map(|p| format!("{p}{name}")).collect();
            }
        }
        vec![name.to_string()]
    }

    /// The values of placeholder `name`, if known.
    pub fn placeholder(&self, name: &str) -> Option<&[String]> {
        self.mappings.placeholder(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(p: Option<&str>, s: Option<&str>, c: Option<&str>) -> LogSource {
        LogSource {
            product: p.map(String::from),
            service: s.map(String::from),
            category: c.map(String::from),
            definition: None,
        }
    }

    #[test]
    fn builtin_mappings_load() {
        let m = Mappings::builtin();
        assert!(m.names().contains(&"windows"));
    }

    #[test]
    fn windows_fields_and_guards() {
        let m = Mappings::builtin();
        let r = m.resolve(&ls(Some("windows"), None, Some("process_creation")));
        assert_eq!(r.field("Image"), ["process.executable"]);
        assert_eq!(r.field("EventID"), ["winlog.event_id"]);
        assert_eq!(
            r.field("IntegrityLevel"),
            [
                "winlog.event_data.IntegrityLevel",
                "winlog.user_data.IntegrityLevel"
            ]
        );
        assert!(r.guard.to_string().contains("4688"), "{}", r.guard);
        let r = m.resolve(&ls(Some("windows"), Some("security"), None));
        assert_eq!(r.guard.to_string(), r#"winlog.channel:"Security""#);
    }

    #[test]
    fn unknown_products_fall_back_to_module() {
        let m = Mappings::builtin();
        let r = m.resolve(&ls(Some("okta"), Some("okta"), None));
        assert_eq!(
            r.guard.to_string(),
            r#"event.module:"okta" and event.dataset:"okta.okta""#
        );
        assert_eq!(r.field("eventType"), ["eventType"]);
    }

    #[test]
    fn user_mappings_extend_and_override() {
        let mut m = Mappings::builtin();
        m.add_yaml(
            "mine.yml",
            "products: [windows]\nfields: {Image: my.image}\nlogsources:\n  - {product: okta, service: okta, filter: 'event.dataset:okta.system'}\nplaceholders: {admins: [a, b]}\n",
        )
        .unwrap();
        let r = m.resolve(&ls(Some("windows"), Some("security"), None));
        assert_eq!(r.field("Image"), ["my.image"]);
        let r = m.resolve(&ls(Some("okta"), Some("okta"), None));
        assert_eq!(r.guard.to_string(), "event.dataset:okta.system");
        assert_eq!(
            m.placeholder("admins"),
            Some(&["a".to_string(), "b".to_string()][..])
        );
        let err = Mappings::empty()
            .add_yaml("bad.yml", "logsources: [{filter: 'a:('}]")
            .unwrap_err();
        assert!(err.to_string().contains("bad.yml"), "{err}");
        assert!(Mappings::empty().add_yaml("x", "nonsense: 1").is_err());
    }

    #[test]
    fn cloudtrail_prefixes() {
        let m = Mappings::builtin();
        let r = m.resolve(&ls(Some("aws"), Some("cloudtrail"), None));
        assert_eq!(r.field("eventName"), ["event.action"]);
        assert_eq!(
            r.field("requestParameters.userName"),
            ["aws.cloudtrail.request_parameters.userName"]
        );
    }
}
