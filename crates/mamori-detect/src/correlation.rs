//! Sigma correlation rules (`event_count`, `value_count`, `temporal`,
//! `temporal_ordered`) and the [`Correlator`] that keeps their windows.
//!
//! The correlator is fed the matches of detection rules with the time to
//! use (`now`, usually the event's time); it has no clock of its own. State
//! is bounded: at most [`Limits::events_per_group`] entries per group and
//! [`Limits::groups`] groups per correlation rule (expired groups are dropped
//! first, then the least recently seen).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use mamori_model::Event;
use serde::Serialize;
use serde_norway::{Mapping, Value};

use crate::detector::RuleMatch;
use crate::error::{ErrorKind, RuleError};
use crate::mapping::Mappings;
use crate::rule::{Attack, Level, Rule};
use crate::sigma::document::read_meta;
use crate::sigma::modifiers::{scalar_text, yaml_kind};

/// The kind of a correlation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CorrelationType {
    /// Number of matching events in the window.
    EventCount,
    /// Number of distinct values of a field in the window.
    ValueCount,
    /// All referenced rules matched within the window, in any order.
    Temporal,
    /// All referenced rules matched within the window, in the listed order.
    TemporalOrdered,
}

/// A bound of a correlation condition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum Bound {
    /// `gt`.
    Gt(f64),
    /// `gte`.
    Gte(f64),
    /// `lt`.
    Lt(f64),
    /// `lte`.
    Lte(f64),
    /// `eq`.
    Eq(f64),
    /// `neq`.
    Neq(f64),
}

impl Bound {
    fn holds(self, n: f64) -> bool {
        match self {
            Bound::Gt(x) => n > x,
            Bound::Gte(x) => n >= x,
            Bound::Lt(x) => n < x,
            Bound::Lte(x) => n <= x,
            Bound::Eq(x) => n == x,
            Bound::Neq(x) => n != x,
        }
    }
}

/// A Sigma correlation rule as written (field names are Sigma names).
#[derive(Debug, Clone, Serialize)]
pub struct CorrelationRule {
    /// `id`.
    pub id: String,
    /// `name`, if any.
    pub name: Option<String>,
    /// `title`.
    pub title: String,
    /// `level`.
    pub level: Level,
    /// `tags`.
    pub tags: Vec<String>,
    /// ATT&CK tactics and techniques from the tags.
    pub attack: Attack,
    /// `correlation.type`.
    pub kind: CorrelationType,
    /// `correlation.rules`: names or ids of the rules it counts.
    pub rules: Vec<String>,
    /// `correlation.group-by` (Sigma field names or aliases).
    pub group_by: Vec<String>,
    /// `correlation.timespan`.
    #[serde(skip)]
    pub timespan: Duration,
    /// `correlation.condition` bounds (all must hold).
    pub condition: Vec<Bound>,
    /// `correlation.condition.field` for `value_count`.
    pub value_field: Option<String>,
    /// `correlation.aliases`: alias → (rule name → field).
    pub aliases: HashMap<String, HashMap<String, String>>,
    /// `correlation.generate`: whether the referenced rules also alert on their own.
    pub generate: bool,
    /// Where it was read from.
    pub path: Option<PathBuf>,
}

fn corr_error(detail: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Correlation, detail)
}

/// Parse `5m`, `1h`, `30s`, `2d`, `1w`.
pub fn parse_timespan(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = s[..split].parse().ok()?;
    Some(match &s[split..] {
        "s" => Duration::seconds(n),
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "w" => Duration::weeks(n),
        "M" => Duration::days(30 * n),
        "y" => Duration::days(365 * n),
        _ => return None,
    })
}

/// Read a correlation document.
pub(crate) fn read(
    m: &Mapping,
    _mappings: &Mappings,
    path: Option<&Path>,
) -> Result<CorrelationRule, RuleError> {
    let meta = read_meta(m, path)?;
    let Some(Value::Mapping(c)) = m.get("correlation") else {
        return Err(corr_error("`correlation` must be a mapping"));
    };
    let text = |k: &str| c.get(k).and_then(|v| scalar_text(v).ok().flatten());
    let kind = match text("type").as_deref() {
        Some("event_count") => CorrelationType::EventCount,
        Some("value_count") => CorrelationType::ValueCount,
        Some("temporal") => CorrelationType::Temporal,
        Some("temporal_ordered") => CorrelationType::TemporalOrdered,
        Some(other) => return Err(corr_error(format!("unknown correlation type `{other}`"))),
        None => return Err(corr_error("missing `correlation.type`")),
    };
    let list = |k: &str| -> Result<Vec<String>, RuleError> {
        match c.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Sequence(items)) => Ok(items
                .iter()
                .filter_map(|v| scalar_text(v).ok().flatten())
                .collect()),
            Some(v) => Ok(scalar_text(v)?.into_iter().collect()),
        }
    };
    let rules = list("rules")?;
    if rules.is_empty() {
        return Err(corr_error("`correlation.rules` is empty"));
    }
    let group_by = list("group-by")?;
    let timespan = text("timespan")
        .or_else(|| text("timeframe"))
        .ok_or_else(|| corr_error("missing `correlation.timespan`"))?;
    let timespan =
        parse_timespan(&timespan).ok_or_else(|| corr_error(format!("bad timespan `{timespan}`")))?;
    let mut condition = Vec::new();
    let mut value_field = None;
    match c.get("condition") {
        None if matches!(kind, CorrelationType::Temporal | CorrelationType::TemporalOrdered) => {}
        Some(Value::Mapping(cond)) => {
            for (k, v) in cond {
                let key = k.as_str().unwrap_or_default();
                if key == "field" {
                    value_field = scalar_text(v)?;
                    continue;
                }
                let n = scalar_text(v)?
                    .and_then(|t| t.parse::<f64>().ok())
                    .ok_or_else(|| corr_error(format!("condition `{key}` needs a number")))?;
                condition.push(match key {
                    "gt" => Bound::Gt(n),
                    "gte" => Bound::Gte(n),
                    "lt" => Bound::Lt(n),
                    "lte" => Bound::Lte(n),
                    "eq" => Bound::Eq(n),
                    "neq" => Bound::Neq(n),
                    other => return Err(corr_error(format!("unknown condition operator `{other}`"))),
                });
            }
        }
        Some(other) => {
            return Err(corr_error(format!(
                "`condition` must be a mapping, found {}",
                yaml_kind(other)
            )));
        }
        None => return Err(corr_error("missing `correlation.condition`")),
    }
    if kind == CorrelationType::ValueCount && value_field.is_none() {
        return Err(corr_error("`value_count` needs `condition.field`"));
    }
    let mut aliases = HashMap::new();
    if let Some(Value::Mapping(a)) = c.get("aliases") {
        for (alias, per_rule) in a {
            let (Some(alias), Value::Mapping(per_rule)) = (alias.as_str(), per_rule) else {
                return Err(corr_error("`aliases` must map names to rule → field mappings"));
            };
            let mut map = HashMap::new();
            for (r, f) in per_rule {
                if let (Some(r), Some(f)) = (r.as_str(), f.as_str()) {
                    map.insert(r.to_string(), f.to_string());
                }
            }
            aliases.insert(alias.to_string(), map);
        }
    }
    let generate = matches!(c.get("generate"), Some(Value::Bool(true)));
    Ok(CorrelationRule {
        id: meta.id,
        name: meta.name,
        title: meta.title,
        level: meta.level,
        attack: Attack::from_tags(&meta.tags),
        tags: meta.tags,
        kind,
        rules,
        group_by,
        timespan,
        condition,
        value_field,
        aliases,
        generate,
        path: path.map(Path::to_path_buf),
    })
}

/// A correlation that fired.
#[derive(Debug, Clone, Serialize)]
pub struct CorrelationAlert {
    /// The correlation rule.
    pub rule: Arc<CorrelationRule>,
    /// The group: (group-by field, value) pairs.
    pub group: Vec<(String, String)>,
    /// Events (event_count), distinct values (value_count) or rules (temporal) counted.
    pub count: usize,
    /// The first and last time in the window.
    pub first_seen: DateTime<Utc>,
    /// The time of the observation that fired it.
    pub last_seen: DateTime<Utc>,
    /// Ids of the events in the window (at most [`Limits::event_ids`]).
    pub event_ids: Vec<String>,
}

/// Bounds on the correlator's memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Entries kept per group (oldest dropped first).
    pub events_per_group: usize,
    /// Groups kept per correlation rule.
    pub groups: usize,
    /// Event ids carried in an alert.
    pub event_ids: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            events_per_group: 10_000,
            groups: 100_000,
            event_ids: 100,
        }
    }
}

/// Where a member's group-by (or counted) value comes from.
#[derive(Debug, Clone)]
enum Key {
    /// A detection rule's event: the first value of these Mamori fields.
    Fields(Vec<String>),
    /// A chained correlation's alert: its group value at this position.
    Group(usize),
}

/// What a member of a correlation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// A detection rule (its index in the rules given).
    Rule(usize),
    /// Another correlation rule (its index among the correlations).
    Correlation(usize),
}

/// One rule a correlation counts, with where its values come from.
#[derive(Debug)]
struct Member {
    source: Source,
    /// Per group-by field.
    group: Vec<Key>,
    /// For `value_count`.
    value: Option<Key>,
}

/// A correlation rule bound to the rules it refers to.
#[derive(Debug)]
struct Bound_ {
    rule: Arc<CorrelationRule>,
    members: Vec<Member>,
}

#[derive(Debug, Default)]
struct Group {
    /// (time, member index, value, event ids).
    entries: VecDeque<(DateTime<Utc>, usize, String, Vec<String>)>,
    last: Option<DateTime<Utc>>,
}

/// Keeps correlation windows per group and raises [`CorrelationAlert`]s.
///
/// A correlation may count other correlations (a chain, as the Sigma
/// specification allows): an alert of the inner one is observed by the outer
/// one at the alert's time, its group values standing for the event's
/// fields, so the outer one may only group by (and count values of) fields
/// the inner one groups by. Chains that loop are refused.
#[derive(Debug)]
pub struct Correlator {
    rules: Vec<Bound_>,
    /// Detection rule id → (correlation index, member index).
    by_rule: HashMap<String, Vec<(usize, usize)>>,
    /// Correlation index → (correlation index, member index) of those counting it.
    by_correlation: Vec<Vec<(usize, usize)>>,
    state: Vec<HashMap<Vec<String>, Group>>,
    limits: Limits,
}

/// The detection rule or correlation `reference` names (by `name` or `id`).
fn resolve(
    reference: &str,
    owner: &CorrelationRule,
    rules: &[Arc<Rule>],
    correlations: &[CorrelationRule],
) -> Result<Source, RuleError> {
    let rule = rules
        .iter()
        .position(|r| r.name.as_deref() == Some(reference) || r.id == reference);
    let corr = correlations
        .iter()
        .position(|c| c.name.as_deref() == Some(reference) || c.id == reference);
    match (rule, corr) {
        (Some(r), None) => Ok(Source::Rule(r)),
        (None, Some(c)) => Ok(Source::Correlation(c)),
        (Some(_), Some(_)) => Err(corr_error(format!(
            "`{}` refers to `{reference}`, which names both a detection rule and a correlation rule",
            owner.title
        ))),
        (None, None) => Err(corr_error(format!(
            "`{}` refers to unknown rule `{reference}`",
            owner.title
        ))),
    }
}

/// The field whose distinct values a `value_count` correlation counts.
fn counted(c: &CorrelationRule) -> Option<&str> {
    c.value_field
        .as_deref()
        .filter(|_| c.kind == CorrelationType::ValueCount)
}

/// How a correlation is named in messages: its `name`, else its title.
fn label(c: &CorrelationRule) -> &str {
    c.name.as_deref().unwrap_or(&c.title)
}

/// A loop among correlations that count each other, as `a → b → a`.
fn find_cycle(edges: &[Vec<usize>], correlations: &[CorrelationRule]) -> Option<String> {
    // 0: not visited, 1: on the current path, 2: done.
    fn visit(i: usize, edges: &[Vec<usize>], state: &mut [u8], path: &mut Vec<usize>) -> Option<Vec<usize>> {
        state[i] = 1;
        path.push(i);
        for &j in &edges[i] {
            if state[j] == 1 {
                let from = path.iter().position(|&p| p == j).unwrap_or(0);
                let mut cycle = path[from..].to_vec();
                cycle.push(j);
                return Some(cycle);
            }
            if state[j] == 0
                && let Some(c) = visit(j, edges, state, path)
            {
                return Some(c);
            }
        }
        path.pop();
        state[i] = 2;
        None
    }
    let mut state = vec![0u8; edges.len()];
    for i in 0..edges.len() {
        if state[i] == 0
            && let Some(cycle) = visit(i, edges, &mut state, &mut Vec::new())
        {
            let names: Vec<String> = cycle
                .iter()
                .map(|&c| format!("`{}`", label(&correlations[c])))
                .collect();
            return Some(names.join(" → "));
        }
    }
    None
}

impl Correlator {
    /// Bind correlation rules to the detection rules and correlation rules
    /// they name (by `name` or `id`), mapping their group-by fields with each
    /// detection rule's log source. Refuses unknown or ambiguous names,
    /// loops among correlations, and chained correlations whose group-by
    /// fields the inner correlation does not provide.
    pub fn new(
        correlations: Vec<CorrelationRule>,
        rules: &[Arc<Rule>],
        mappings: &Mappings,
    ) -> Result<Correlator, RuleError> {
        let mut sources = Vec::new();
        for c in &correlations {
            sources.push(
                c.rules
                    .iter()
                    .map(|r| resolve(r, c, rules, &correlations))
                    .collect::<Result<Vec<_>, _>>()?,
            );
        }
        let edges: Vec<Vec<usize>> = sources
            .iter()
            .map(|s| {
                s.iter()
                    .filter_map(|m| match m {
                        Source::Correlation(j) => Some(*j),
                        Source::Rule(_) => None,
                    })
                    .collect()
            })
            .collect();
        if let Some(cycle) = find_cycle(&edges, &correlations) {
            return Err(corr_error(format!(
                "correlation rules refer to each other in a loop: {cycle}"
            )));
        }
        let mut bound = Vec::new();
        let mut by_rule: HashMap<String, Vec<(usize, usize)>> = HashMap::new();
        let mut by_correlation: Vec<Vec<(usize, usize)>> = vec![Vec::new(); correlations.len()];
        for (ci, (c, srcs)) in correlations.iter().zip(&sources).enumerate() {
            let mut members = Vec::new();
            for (mi, (reference, source)) in c.rules.iter().zip(srcs).enumerate() {
                // The field a group-by name (or alias) stands for in this member.
                let actual = |sigma: &str, member_name: Option<&str>| -> String {
                    c.aliases
                        .get(sigma)
                        .and_then(|per| {
                            per.get(reference)
                                .or_else(|| member_name.and_then(|n| per.get(n)))
                        })
                        .cloned()
                        .unwrap_or_else(|| sigma.to_string())
                };
                let member = match *source {
                    Source::Rule(ri) => {
                        let rule = &rules[ri];
                        let resolved = mappings.resolve(&rule.logsource);
                        let key =
                            |sigma: &str| Key::Fields(resolved.field(&actual(sigma, rule.name.as_deref())));
                        by_rule.entry(rule.id.clone()).or_default().push((ci, mi));
                        Member {
                            source: *source,
                            group: c.group_by.iter().map(|g| key(g)).collect(),
                            value: counted(c).map(key),
                        }
                    }
                    Source::Correlation(inner_i) => {
                        let inner = &correlations[inner_i];
                        let key = |sigma: &str, what: &str| -> Result<Key, RuleError> {
                            let field = actual(sigma, inner.name.as_deref());
                            inner.group_by.iter().position(|g| *g == field).map(Key::Group).ok_or_else(|| {
                                corr_error(format!(
                                    "`{}` {what} `{field}`, which the correlation `{}` it counts does not group by (it groups by [{}])",
                                    c.title,
                                    label(inner),
                                    inner.group_by.join(", ")
                                ))
                            })
                        };
                        by_correlation[inner_i].push((ci, mi));
                        Member {
                            source: *source,
                            group: c
                                .group_by
                                .iter()
                                .map(|g| key(g, "groups by"))
                                .collect::<Result<_, _>>()?,
                            value: counted(c).map(|v| key(v, "counts values of")).transpose()?,
                        }
                    }
                };
                members.push(member);
            }
            bound.push(Bound_ {
                rule: Arc::new(c.clone()),
                members,
            });
        }
        let state = bound.iter().map(|_| HashMap::new()).collect();
        Ok(Correlator {
            rules: bound,
            by_rule,
            by_correlation,
            state,
            limits: Limits::default(),
        })
    }

    /// The same correlator with other memory bounds.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The correlation rules.
    pub fn rules(&self) -> impl Iterator<Item = &Arc<CorrelationRule>> {
        self.rules.iter().map(|b| &b.rule)
    }

    /// The number of groups currently held (all rules).
    pub fn groups(&self) -> usize {
        self.state.iter().map(HashMap::len).sum()
    }

    /// Feed one detection; `now` is the time to judge windows by (the event's
    /// time when replaying, the arrival time when streaming). Returns every
    /// correlation that fired, chained ones included (an inner correlation's
    /// alert comes before the outer ones it completes).
    pub fn observe(&mut self, m: &RuleMatch, ev: &Event, now: DateTime<Utc>) -> Vec<CorrelationAlert> {
        let Some(targets) = self.by_rule.get(&m.rule.id).cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (ci, mi) in targets {
            let member = &self.rules[ci].members[mi];
            let Some((key, value)) = member_values(member, &|k| event_value(k, ev)) else {
                // An event without a group-by field does not take part (as in Sigma backends).
                continue;
            };
            if let Some(a) = self.observe_one(ci, mi, key, value, vec![ev.id().to_string()], now) {
                out.push(a);
            }
        }
        // Chains: each alert is observed by the correlations counting its rule.
        let mut next = 0;
        while next < out.len() {
            let fired = out[next].clone();
            next += 1;
            let Some(ci_inner) = self.rules.iter().position(|b| Arc::ptr_eq(&b.rule, &fired.rule)) else {
                continue;
            };
            for (ci, mi) in self.by_correlation[ci_inner].clone() {
                let member = &self.rules[ci].members[mi];
                debug_assert_eq!(member.source, Source::Correlation(ci_inner));
                let Some((key, value)) = member_values(member, &|k| match k {
                    Key::Group(i) => fired.group.get(*i).map(|(_, v)| v.clone()),
                    Key::Fields(_) => None,
                }) else {
                    continue;
                };
                if let Some(a) =
                    self.observe_one(ci, mi, key, value, fired.event_ids.clone(), fired.last_seen)
                {
                    out.push(a);
                }
            }
        }
        out
    }

    fn observe_one(
        &mut self,
        ci: usize,
        mi: usize,
        key: Vec<String>,
        value: String,
        ids: Vec<String>,
        now: DateTime<Utc>,
    ) -> Option<CorrelationAlert> {
        let rule = self.rules[ci].rule.clone();
        let limits = self.limits;
        let state = &mut self.state[ci];
        if !state.contains_key(&key) && state.len() >= limits.groups {
            let horizon = now - rule.timespan;
            state.retain(|_, g| g.last.is_some_and(|t| t >= horizon));
            if state.len() >= limits.groups
                && let Some(oldest) = state.iter().min_by_key(|(_, g)| g.last).map(|(k, _)| k.clone())
            {
                state.remove(&oldest);
            }
        }
        let group = state.entry(key.clone()).or_default();
        let horizon = now - rule.timespan;
        while group.entries.front().is_some_and(|e| e.0 < horizon) {
            group.entries.pop_front();
        }
        if group.entries.len() >= limits.events_per_group {
            group.entries.pop_front();
        }
        group.entries.push_back((now, mi, value, ids));
        group.last = Some(now);
        let n_members = rule.rules.len();
        let count = match rule.kind {
            CorrelationType::EventCount => group.entries.len(),
            CorrelationType::ValueCount => {
                let mut vals: Vec<&str> = group.entries.iter().map(|e| e.2.as_str()).collect();
                vals.sort_unstable();
                vals.dedup();
                vals.len()
            }
            CorrelationType::Temporal => {
                let mut seen = vec![false; n_members];
                group.entries.iter().for_each(|e| seen[e.1] = true);
                seen.iter().filter(|s| **s).count()
            }
            CorrelationType::TemporalOrdered => {
                let mut next = 0;
                for e in &group.entries {
                    if next < n_members && e.1 == next {
                        next += 1;
                    }
                }
                next
            }
        };
        let fires = match rule.kind {
            CorrelationType::Temporal | CorrelationType::TemporalOrdered if rule.condition.is_empty() => {
                count == n_members
            }
            _ => rule.condition.iter().all(|c| c.holds(count as f64)),
        };
        if !fires {
            return None;
        }
        let alert = CorrelationAlert {
            group: rule.group_by.iter().cloned().zip(key.iter().cloned()).collect(),
            count,
            first_seen: group.entries.front().map(|e| e.0).unwrap_or(now),
            last_seen: now,
            event_ids: group
                .entries
                .iter()
                .flat_map(|e| e.3.iter().cloned())
                .take(limits.event_ids)
                .collect(),
            rule,
        };
        // One alert per window: start counting afresh.
        state.remove(&key);
        Some(alert)
    }
}

/// The group key and counted value of one observation of `member`; `None`
/// when a group-by (or counted) value is missing.
fn member_values(
    member: &Member,
    value_of: &dyn Fn(&Key) -> Option<String>,
) -> Option<(Vec<String>, String)> {
    let key = member.group.iter().map(value_of).collect::<Option<Vec<_>>>()?;
    let value = match &member.value {
        Some(k) => value_of(k)?,
        None => String::new(),
    };
    Some((key, value))
}

/// The first value of a detection rule member's fields in `ev`.
fn event_value(key: &Key, ev: &Event) -> Option<String> {
    let Key::Fields(fields) = key else {
        return None;
    };
    fields.iter().find_map(|f| {
        ev.values(f).into_iter().find_map(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::RuleSet;

    const BASE: &str = r#"
title: Failed logon
id: r-failed
name: failed_logon
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4625 }
  condition: sel
---
title: Logon
id: r-ok
name: ok_logon
logsource: { product: windows, service: security }
detection:
  sel: { EventID: 4624 }
  condition: sel
"#;

    fn event(id: u32, user: &str, ip: &str, secs: i64) -> (Event, DateTime<Utc>) {
        let t = DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap();
        let mut ev = Event::new("t", t, format!("{id}-{user}-{secs}"));
        ev.set("winlog.channel", "Security".into());
        ev.set("winlog.event_id", id.to_string().into());
        ev.set("winlog.event_data.TargetUserName", user.into());
        ev.set("winlog.event_data.IpAddress", ip.into());
        (ev, t)
    }

    fn run(corr: &str, events: &[(u32, &str, &str, i64)]) -> Vec<CorrelationAlert> {
        let text = format!("{BASE}\n---\n{corr}");
        let set = RuleSet::from_yaml(&text, &Mappings::builtin());
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        let det = crate::Detector::new(set.rules.clone());
        let mut c = Correlator::new(set.correlations.clone(), &set.rules, &Mappings::builtin()).unwrap();
        let mut out = Vec::new();
        for &(id, user, ip, secs) in events {
            let (ev, t) = event(id, user, ip, secs);
            for m in det.detect(&ev) {
                out.extend(c.observe(&m, &ev, t));
            }
        }
        out
    }

    #[test]
    fn event_count_per_group_in_window() {
        let corr = r#"
title: Brute force
id: c1
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 1m
  condition: { gte: 3 }
level: high
"#;
        let alerts = run(
            corr,
            &[
                (4625, "bob", "1.1.1.1", 0),
                (4625, "bob", "1.1.1.1", 10),
                (4625, "eve", "1.1.1.1", 20),
                (4625, "bob", "1.1.1.1", 30),
            ],
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(
            alerts[0].group,
            [("TargetUserName".to_string(), "bob".to_string())]
        );
        assert_eq!(alerts[0].count, 3);
        // Outside the window: no alert.
        let alerts = run(
            corr,
            &[
                (4625, "bob", "x", 0),
                (4625, "bob", "x", 50),
                (4625, "bob", "x", 120),
            ],
        );
        assert!(alerts.is_empty());
    }

    #[test]
    fn value_count_distinct() {
        let corr = r#"
title: Spray
id: c2
correlation:
  type: value_count
  rules: [failed_logon]
  group-by: [IpAddress]
  timespan: 5m
  condition: { gte: 3, field: TargetUserName }
"#;
        let alerts = run(
            corr,
            &[
                (4625, "a", "9.9.9.9", 0),
                (4625, "a", "9.9.9.9", 1),
                (4625, "b", "9.9.9.9", 2),
                (4625, "c", "9.9.9.9", 3),
            ],
        );
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].count, 3);
    }

    #[test]
    fn temporal_and_ordered() {
        let corr = |t: &str| {
            format!(
                "title: Fail then success\nid: c3\ncorrelation:\n  type: {t}\n  rules: [failed_logon, ok_logon]\n  group-by: [TargetUserName]\n  timespan: 1m\n"
            )
        };
        let seq = [(4624, "bob", "x", 0), (4625, "bob", "x", 5)];
        assert_eq!(run(&corr("temporal"), &seq).len(), 1);
        assert_eq!(run(&corr("temporal_ordered"), &seq).len(), 0);
        let seq = [(4625, "bob", "x", 0), (4624, "bob", "x", 5)];
        assert_eq!(run(&corr("temporal_ordered"), &seq).len(), 1);
    }

    #[test]
    fn bounded_groups() {
        let corr = "title: C\nid: c4\ncorrelation:\n  type: event_count\n  rules: [failed_logon]\n  group-by: [TargetUserName]\n  timespan: 1h\n  condition: { gte: 1000 }\n";
        let set = RuleSet::from_yaml(&format!("{BASE}\n---\n{corr}"), &Mappings::builtin());
        let det = crate::Detector::new(set.rules.clone());
        let mut c = Correlator::new(set.correlations.clone(), &set.rules, &Mappings::builtin())
            .unwrap()
            .with_limits(Limits {
                events_per_group: 5,
                groups: 10,
                event_ids: 3,
            });
        for i in 0..100 {
            let (ev, t) = event(4625, &format!("u{i}"), "x", i);
            for m in det.detect(&ev) {
                c.observe(&m, &ev, t);
            }
        }
        assert!(c.groups() <= 10);
    }

    /// Many failed logons (a correlation) followed by a successful one.
    const CHAIN: &str = r#"
title: Many failed logons
id: c-many
name: many_failed
correlation:
  type: event_count
  rules: [failed_logon]
  group-by: [TargetUserName]
  timespan: 1h
  condition: { gte: 3 }
---
title: Brute force then success
id: c-chain
correlation:
  type: temporal_ordered
  rules: [many_failed, ok_logon]
  group-by: [TargetUserName]
  timespan: 1h
level: critical
"#;

    #[test]
    fn correlations_chain() {
        let alerts = run(
            CHAIN,
            &[
                (4624, "bob", "x", 0),
                (4625, "bob", "x", 10),
                (4625, "eve", "x", 11),
                (4625, "bob", "x", 20),
                (4625, "bob", "x", 30),
                (4624, "eve", "x", 35),
                (4624, "bob", "x", 40),
            ],
        );
        let ids: Vec<&str> = alerts.iter().map(|a| a.rule.id.as_str()).collect();
        assert_eq!(ids, ["c-many", "c-chain"]);
        let outer = &alerts[1];
        assert_eq!(outer.group, [("TargetUserName".to_string(), "bob".to_string())]);
        assert_eq!(outer.count, 2);
        // The outer window holds the early success, the inner alert's three
        // failures and the final success: five events.
        assert_eq!(outer.event_ids.len(), 5, "{:?}", outer.event_ids);
        assert_eq!(outer.first_seen.timestamp(), 1_700_000_000);
        assert_eq!(outer.last_seen.timestamp(), 1_700_000_040);
        // The success before the failures completes nothing.
        let alerts = run(
            CHAIN,
            &[
                (4624, "bob", "x", 0),
                (4625, "bob", "x", 10),
                (4625, "bob", "x", 20),
                (4625, "bob", "x", 30),
            ],
        );
        let ids: Vec<&str> = alerts.iter().map(|a| a.rule.id.as_str()).collect();
        assert_eq!(ids, ["c-many"]);
    }

    fn bind(corr: &str) -> Result<Correlator, RuleError> {
        let set = RuleSet::from_yaml(&format!("{BASE}\n---\n{corr}"), &Mappings::builtin());
        assert!(set.errors.is_empty(), "{:?}", set.errors);
        Correlator::new(set.correlations.clone(), &set.rules, &Mappings::builtin())
    }

    #[test]
    fn loops_among_correlations_are_refused() {
        let looped = "title: A\nid: a\nname: a\ncorrelation:\n  type: temporal\n  rules: [b, ok_logon]\n  group-by: [TargetUserName]\n  timespan: 1h\n---\n\
                      title: B\nid: b\nname: b\ncorrelation:\n  type: temporal\n  rules: [failed_logon, a]\n  group-by: [TargetUserName]\n  timespan: 1h\n";
        let err = bind(looped).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Correlation);
        assert!(err.detail.contains("loop: `a` → `b` → `a`"), "{}", err.detail);
        let own = "title: S\nid: s\ncorrelation:\n  type: event_count\n  rules: [s]\n  group-by: [TargetUserName]\n  timespan: 1h\n  condition: { gte: 2 }\n";
        let err = bind(own).unwrap_err();
        assert!(err.detail.contains("loop: `S` → `S`"), "{}", err.detail);
    }

    #[test]
    fn chained_group_by_must_be_provided_by_the_inner_correlation() {
        let bad = CHAIN.replace(
            "rules: [many_failed, ok_logon]\n  group-by: [TargetUserName]",
            "rules: [many_failed, ok_logon]\n  group-by: [IpAddress]",
        );
        let err = bind(&bad).unwrap_err();
        assert!(
            err.detail
                .contains("groups by `IpAddress`, which the correlation `many_failed`"),
            "{}",
            err.detail
        );
        // With an alias naming the inner correlation's field, it binds.
        let aliased = bad.replace(
            "timespan: 1h\nlevel: critical",
            "timespan: 1h\n  aliases:\n    IpAddress:\n      many_failed: TargetUserName\n      ok_logon: TargetUserName\nlevel: critical",
        );
        assert!(bind(&aliased).is_ok());
    }

    #[test]
    fn errors_are_precise() {
        let bad = "title: C\nid: c5\ncorrelation:\n  type: event_count\n  rules: [nope]\n  timespan: 1h\n  condition: { gte: 2 }\n";
        let set = RuleSet::from_yaml(&format!("{BASE}\n---\n{bad}"), &Mappings::builtin());
        let err = Correlator::new(set.correlations.clone(), &set.rules, &Mappings::builtin()).unwrap_err();
        assert!(err.detail.contains("unknown rule `nope`"));
        assert_eq!(parse_timespan("15m"), Some(Duration::minutes(15)));
        assert_eq!(parse_timespan("x"), None);
    }
}
