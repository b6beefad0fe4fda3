//! The streaming detector: thousands of rules, each event checked only
//! against the rules whose required literals it contains.
//!
//! [`Detector::new`] extracts every rule's literal requirement (see
//! `prefilter`) and builds one Aho-Corasick automaton over all literals.
//! [`Detector::detect`] lower-cases the event's values into one haystack,
//! finds the literals present in a single pass, keeps the rules all of whose
//! requirement groups are met (plus the few rules without any), and only
//! evaluates those with the compiled filter. The detector is immutable,
//! `Send` and `Sync`: share it across threads behind an `Arc`.

use std::sync::Arc;

use aho_corasick::{AhoCorasick, MatchKind};
use mamori_model::Event;
use mamori_model::filter::Filter;
use serde::Serialize;

use crate::plan::{EventCache, Fields, Plan};
use crate::prefilter::{FieldTrie, haystack_tree, requirements};
use crate::rule::Rule;

/// A rule that matched an event.
#[derive(Debug, Clone, Serialize)]
pub struct RuleMatch {
    /// The rule.
    pub rule: Arc<Rule>,
}

/// Numbers describing a detector's index.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct DetectorStats {
    /// Rules held.
    pub rules: usize,
    /// Distinct literals in the automaton.
    pub literals: usize,
    /// Rules without any literal requirement (evaluated on every event).
    pub unindexed: usize,
    /// Rules left out because their filter does not compile (see [`Detector::rejected`]).
    pub rejected: usize,
}

/// Evaluates a set of rules on events (see the module doc).
#[derive(Debug)]
pub struct Detector {
    rules: Vec<Arc<Rule>>,
    /// The model's matchers, compiled on first use by [`Detector::detect_exhaustive`].
    reference: std::sync::OnceLock<Vec<Option<mamori_model::filter::Matcher>>>,
    /// The detector's plans (the same answers as the model's matchers, faster).
    plans: Vec<Plan>,
    fields: Fields,
    automaton: Option<AhoCorasick>,
    /// The fields literals come from: only their values are searched.
    indexed: FieldTrie,
    /// Literal id → rules that name it.
    postings: Vec<Vec<u32>>,
    /// Rule → its requirement groups (literal ids).
    groups: Vec<Vec<Vec<u32>>>,
    /// Rules whose filter does not compile, with the reason.
    rejected: Vec<(Arc<Rule>, String)>,
    /// Rules evaluated on every event.
    always: Vec<u32>,
    literals: usize,
}

/// The literal index of a list of rules (see the module doc).
struct Index {
    automaton: Option<AhoCorasick>,
    indexed: FieldTrie,
    postings: Vec<Vec<u32>>,
    groups: Vec<Vec<Vec<u32>>>,
    always: Vec<u32>,
    literals: usize,
}

impl Index {
    fn build(rules: &[Arc<Rule>]) -> Index {
        let mut literal_ids: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let mut postings: Vec<Vec<u32>> = Vec::new();
        let mut groups = Vec::new();
        let mut always = Vec::new();
        let mut indexed = FieldTrie::default();
        for (ri, r) in rules.iter().enumerate() {
            let req = requirements(&r.filter(), &mut indexed);
            if req.is_empty() {
                always.push(ri as u32);
            }
            let mut rule_groups = Vec::new();
            // Groups come most selective first; the rule is posted under the
            // first group's literals only (every group must hold anyway).
            for (gi, g) in req.into_iter().enumerate() {
                let mut ids = Vec::new();
                for lit in g {
                    let id = *literal_ids.entry(lit.clone()).or_insert_with(|| {
                        literals.push(lit);
                        postings.push(Vec::new());
                        (literals.len() - 1) as u32
                    });
                    if gi == 0 && postings[id as usize].last() != Some(&(ri as u32)) {
                        postings[id as usize].push(ri as u32);
                    }
                    ids.push(id);
                }
                ids.sort_unstable();
                rule_groups.push(ids);
            }
            groups.push(rule_groups);
        }
        let automaton = if literals.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .ok()
        };
        if automaton.is_none() && !literals.is_empty() {
            // Cannot happen with sane inputs; fall back to evaluating everything.
            always = (0..rules.len() as u32).collect();
        }
        Index {
            automaton,
            indexed,
            postings,
            groups,
            always,
            literals: literals.len(),
        }
    }
}

impl Detector {
    /// Index and compile `rules` (the literal index and the evaluation plans
    /// are built on two threads). A rule whose filter does not compile (a
    /// regex too big for the engine) is left out and listed in [`Detector::rejected`].
    pub fn new(rules: Vec<Arc<Rule>>) -> Detector {
        let (compiled, index, fields) = std::thread::scope(|s| {
            let index = s.spawn(|| Index::build(&rules));
            let mut fields = Fields::default();
            let compiled: Vec<Result<Plan, String>> = rules
                .iter()
                .map(|r| Plan::new(&r.filter(), &mut fields).map_err(|e| e.message))
                .collect();
            (compiled, index.join(), fields)
        });
        let mut kept = Vec::new();
        let mut plans = Vec::new();
        let mut rejected = Vec::new();
        for (r, c) in rules.into_iter().zip(compiled) {
            match c {
                Ok(p) => {
                    kept.push(r);
                    plans.push(p);
                }
                Err(e) => rejected.push((r, e)),
            }
        }
        // The index numbers rules by position: rebuild it if any was left out.
        let index = match index {
            Ok(i) if rejected.is_empty() => i,
            _ => Index::build(&kept),
        };
        Detector {
            literals: index.literals,
            rules: kept,
            reference: std::sync::OnceLock::new(),
            rejected,
            plans,
            fields,
            automaton: index.automaton,
            indexed: index.indexed,
            postings: index.postings,
            groups: index.groups,
            always: index.always,
        }
    }

    /// The rules, in the order given.
    pub fn rules(&self) -> &[Arc<Rule>] {
        &self.rules
    }

    /// How the rules were indexed.
    pub fn stats(&self) -> DetectorStats {
        DetectorStats {
            rules: self.rules.len(),
            literals: self.literals,
            unindexed: self.always.len(),
            rejected: self.rejected.len(),
        }
    }

    /// Rules left out because their filter does not compile (a regex over
    /// the engine's size limit), with the reason.
    pub fn rejected(&self) -> &[(Arc<Rule>, String)] {
        &self.rejected
    }

    /// Indexes of the rules worth evaluating on `ev` (sorted).
    pub fn candidates(&self, ev: &Event) -> Vec<usize> {
        let mut out: Vec<u32> = self.always.clone();
        if let Some(ac) = &self.automaton {
            let mut hay = String::with_capacity(2048);
            haystack_tree(ev.root(), &self.indexed, &mut hay);
            let mut found = Bits::new(self.literals);
            let mut found_ids = Vec::new();
            for m in ac.find_overlapping_iter(hay.as_str()) {
                let id = m.pattern().as_usize();
                if found.set(id) {
                    found_ids.push(id);
                }
            }
            let mut seen = Bits::new(self.rules.len());
            for id in found_ids {
                for &r in &self.postings[id] {
                    if seen.set(r as usize)
                        && self.groups[r as usize][1..]
                            .iter()
                            .all(|g| g.iter().any(|id| found.get(*id as usize)))
                    {
                        out.push(r);
                    }
                }
            }
        }
        out.sort_unstable();
        out.into_iter().map(|r| r as usize).collect()
    }

    /// The rules that match `ev`.
    pub fn detect(&self, ev: &Event) -> Vec<RuleMatch> {
        let mut cache = EventCache::new(ev, &self.fields);
        self.candidates(ev)
            .into_iter()
            .filter(|&i| self.plans[i].eval(&mut cache, &self.fields))
            .map(|i| RuleMatch {
                rule: self.rules[i].clone(),
            })
            .collect()
    }

    /// Evaluate every rule on `ev` with `mamori_model`'s evaluator and without
    /// the prefilter: the slow reference [`Detector::detect`] is tested against.
    pub fn detect_exhaustive(&self, ev: &Event) -> Vec<RuleMatch> {
        let reference = self
            .reference
            .get_or_init(|| self.rules.iter().map(|r| r.filter().compile().ok()).collect());
        (0..self.rules.len())
            .filter(|&i| reference[i].as_ref().is_some_and(|m| m.matches(ev)))
            .map(|i| RuleMatch {
                rule: self.rules[i].clone(),
            })
            .collect()
    }
}

/// A fixed-size bit set.
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }

    /// Set bit `i`; whether it was clear.
    fn set(&mut self, i: usize) -> bool {
        let (w, b) = (i / 64, 1u64 << (i % 64));
        let was_clear = self.0[w] & b == 0;
        self.0[w] |= b;
        was_clear
    }

    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1u64 << (i % 64)) != 0
    }
}

/// Why a rule matches (or not) an event: each condition of its filter with
/// whether it holds and the event's values for the field.
pub fn explain(rule: &Rule, ev: &Event) -> Vec<Explanation> {
    let mut out = Vec::new();
    let full = rule.filter();
    full.visit(&mut |f| {
        let field = match f {
            Filter::Match { field, .. } => field.clone(),
            Filter::Compare { field, .. }
            | Filter::Range { field, .. }
            | Filter::Exists { field }
            | Filter::FieldRef { field, .. } => Some(field.clone()),
            _ => return,
        };
        let values = field
            .as_deref()
            .map(|name| {
                ev.values(name)
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(Explanation {
            condition: f.to_string(),
            holds: f.matches(ev),
            values,
        });
    });
    out
}

/// One condition of a rule and whether it holds on an event.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The condition in the filter language.
    pub condition: String,
    /// Whether it holds.
    pub holds: bool,
    /// The event's values of the condition's field.
    pub values: Vec<String>,
}
