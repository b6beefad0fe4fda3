//! The detector's own evaluation plan for a rule's filter: the same answers
//! as `mamori_model`'s evaluator (a differential test holds them equal on
//! real events), faster on rules with long value lists.
//!
//! - Every `or` of keyword matches on one field becomes one [`ValueSet`]:
//!   the field is read once, each value lower-cased once, then checked
//!   against all exact values (a hash set), prefixes, suffixes, substrings
//!   (Aho-Corasick beyond a few), globs and regexes.
//! - Field values are read once per event and shared by all rules (a cache
//!   indexed by field id).
//! - Anything else (IP, date and text fields, CIDRs, comparisons, bare
//!   values) is handed to `mamori_model`'s matcher unchanged.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use aho_corasick::AhoCorasick;
use mamori_model::Event;
use mamori_model::fields::{FieldKind, kind_of, lowercase, number_of, number_of_str};
use mamori_model::filter::{Filter, FilterError, Matcher, Pattern, WildPart};
use regex::Regex;
use serde_json::Value;

/// Field names shared by all plans, each with an id.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    ids: HashMap<String, usize>,
    names: Vec<String>,
    /// Compiled regexes by pattern, shared by every plan.
    regexes: HashMap<String, Arc<Regex>>,
}

impl Fields {
    fn id(&mut self, name: &str) -> usize {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), self.names.len() - 1);
        self.names.len() - 1
    }

    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }

    /// Regexes matching where any of `sources` matches: one alternation
    /// (`(?:a)|(?:b)`, inline flags stay inside their group) when it
    /// compiles within the engine's limits, else one regex each.
    fn any_of(&mut self, sources: &[String]) -> Result<Vec<Arc<Regex>>, FilterError> {
        match sources {
            [] => Ok(Vec::new()),
            [one] => Ok(vec![self.regex(one)?]),
            many => {
                let joined = many
                    .iter()
                    .map(|r| format!("(?:{r})"))
                    .collect::<Vec<_>>()
                    .join("|");
                match self.regex(&joined) {
                    Ok(r) => Ok(vec![r]),
                    // Too big together: each alone (one too big alone fails the plan).
                    Err(_) => many.iter().map(|r| self.regex(r)).collect(),
                }
            }
        }
    }

    fn regex(&mut self, re: &str) -> Result<Arc<Regex>, FilterError> {
        if let Some(r) = self.regexes.get(re) {
            return Ok(r.clone());
        }
        let r = Arc::new(Regex::new(re).map_err(|e| FilterError {
            column: 0,
            message: format!("invalid regex /{re}/: {e}"),
        })?);
        self.regexes.insert(re.to_string(), r.clone());
        Ok(r)
    }
}

/// One value of an event field, with its text forms.
#[derive(Debug)]
struct Val<'a> {
    raw: &'a Value,
    /// The text (numbers and booleans as JSON text); `None` for objects.
    text: Option<Cow<'a, str>>,
    lower: Option<String>,
}

/// Per-event cache of field values.
pub(crate) struct EventCache<'a> {
    ev: &'a Event,
    slots: Vec<Option<Vec<Val<'a>>>>,
    leaves: Option<Vec<Cow<'a, str>>>,
}

impl<'a> EventCache<'a> {
    pub(crate) fn new(ev: &'a Event, fields: &Fields) -> Self {
        let mut slots = Vec::with_capacity(fields.len());
        slots.resize_with(fields.len(), || None);
        EventCache {
            ev,
            slots,
            leaves: None,
        }
    }

    /// The text of every leaf but `event.original` and `@timestamp` (what bare values match).
    fn leaves(&mut self) -> &[Cow<'a, str>] {
        let ev = self.ev;
        self.leaves.get_or_insert_with(|| {
            ev.leaves()
                .into_iter()
                .filter(|(path, _)| path != "event.original" && path != "@timestamp")
                .filter_map(|(_, v)| match v {
                    Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                    Value::Number(n) => Some(Cow::Owned(n.to_string())),
                    Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
                    _ => None,
                })
                .collect()
        })
    }

    fn values(&mut self, id: usize, fields: &Fields) -> &[Val<'a>] {
        let ev = self.ev;
        self.slots[id].get_or_insert_with(|| {
            ev.values(&fields.names[id])
                .into_iter()
                .map(|raw| {
                    let text = match raw {
                        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
                        Value::Number(n) => Some(Cow::Owned(n.to_string())),
                        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
                        _ => None,
                    };
                    let lower = text.as_deref().map(|t| {
                        if t.is_ascii() {
                            t.to_ascii_lowercase()
                        } else {
                            lowercase(t)
                        }
                    });
                    Val { raw, text, lower }
                })
                .collect()
        })
    }
}

/// A compiled plan node.
#[derive(Debug)]
pub(crate) enum Plan {
    All,
    And(Vec<Plan>),
    Or(Vec<Plan>),
    Not(Box<Plan>),
    /// At least this many of the plans hold.
    AtLeast(usize, Vec<Plan>),
    Exists(usize),
    Values(usize, Box<ValueSet>),
    /// Bare regexes (Sigma keywords): any value of the event but
    /// `event.original` and `@timestamp` matches one of them.
    Bare(Vec<Arc<Regex>>),
    Model(Matcher),
}

/// Patterns any one of which a value of the field must match.
#[derive(Debug, Default)]
pub(crate) struct ValueSet {
    exact: HashSet<String>,
    numbers: Vec<f64>,
    prefixes: Vec<String>,
    suffixes: Vec<String>,
    contains: Vec<String>,
    contains_ac: Option<AhoCorasick>,
    /// Globs with `*` only: literal pieces, anchored at both ends unless empty first/last.
    star_globs: Vec<Vec<String>>,
    /// Globs with `?`: tokens.
    globs: Vec<Vec<Tok>>,
    regexes: Vec<Arc<Regex>>,
    regex_sources: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Char(char),
    Any,
    One,
}

/// Whether `re` is a valid regex (parsed, not compiled).
fn check_regex(re: &str) -> Result<(), FilterError> {
    regex_syntax::Parser::new()
        .parse(re)
        .map(|_| ())
        .map_err(|e| FilterError {
            column: 0,
            message: format!("invalid regex /{re}/: {e}"),
        })
}

/// Whether `p` on a field of `kind` can go into a [`ValueSet`].
fn fits(kind: FieldKind, p: &Pattern) -> bool {
    kind == FieldKind::Keyword
        && matches!(
            p,
            Pattern::Term(_) | Pattern::Phrase(_) | Pattern::Wildcard(_) | Pattern::Regex(_)
        )
}

impl ValueSet {
    fn add(&mut self, p: &Pattern) -> Result<(), FilterError> {
        match p {
            Pattern::Term(t) | Pattern::Phrase(t) => {
                if let Some(n) = number_of_str(t) {
                    self.numbers.push(n);
                }
                self.exact.insert(lowercase(t));
            }
            Pattern::Wildcard(parts) => {
                let mut toks = Vec::new();
                for part in parts {
                    match part {
                        WildPart::Any => toks.push(Tok::Any),
                        WildPart::One => toks.push(Tok::One),
                        WildPart::Literal(s) => toks.extend(lowercase(s).chars().map(Tok::Char)),
                    }
                }
                self.add_glob(toks);
            }
            Pattern::Regex(re) => {
                // Checked alone (for a precise error), compiled combined (see `finish`).
                check_regex(re)?;
                self.regex_sources.push(re.clone());
            }
            Pattern::Cidr(_) => unreachable!("not admitted by fits()"),
        }
        Ok(())
    }

    fn add_glob(&mut self, toks: Vec<Tok>) {
        if toks.contains(&Tok::One) {
            self.globs.push(toks);
            return;
        }
        // Split on `*` into literal pieces.
        let mut pieces = vec![String::new()];
        for t in &toks {
            match t {
                Tok::Any => pieces.push(String::new()),
                Tok::Char(c) => pieces.last_mut().expect("one piece").push(*c),
                Tok::One => unreachable!(),
            }
        }
        let n = pieces.len();
        let inner_empty = pieces[1..n - 1].iter().all(String::is_empty);
        match (n, pieces[0].is_empty(), pieces[n - 1].is_empty()) {
            (1, _, _) => {
                self.exact.insert(pieces.remove(0));
            }
            (_, false, true) if inner_empty => self.prefixes.push(pieces.remove(0)),
            (_, true, false) if inner_empty => self.suffixes.push(pieces.pop().expect("last")),
            (3, true, true) => self.contains.push(pieces.swap_remove(1)),
            _ => self.star_globs.push(pieces),
        }
    }

    fn finish(&mut self, fields: &mut Fields) -> Result<(), FilterError> {
        self.regexes = fields.any_of(&std::mem::take(&mut self.regex_sources))?;
        if self.contains.len() > 8 {
            // The contiguous NFA: a DFA per value list would cost megabytes over thousands of rules.
            self.contains_ac = AhoCorasick::builder()
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(&self.contains)
                .ok();
        }
        Ok(())
    }

    fn matches(&self, v: &Val<'_>) -> bool {
        let (Some(text), Some(lower)) = (&v.text, &v.lower) else {
            return false;
        };
        if !self.numbers.is_empty()
            && let Some(n) = number_of(v.raw)
            && self.numbers.contains(&n)
        {
            return true;
        }
        if self.exact.contains(lower.as_str()) {
            // A number value matches an exact numeric pattern only by value (as the model does).
            let numeric_pattern = !self.numbers.is_empty() && number_of_str(lower).is_some();
            if !(matches!(v.raw, Value::Number(_)) && numeric_pattern) {
                return true;
            }
        }
        let l = lower.as_str();
        if self.prefixes.iter().any(|p| l.starts_with(p.as_str()))
            || self.suffixes.iter().any(|s| l.ends_with(s.as_str()))
        {
            return true;
        }
        let contains = match &self.contains_ac {
            Some(ac) => ac.is_match(l),
            None => self.contains.iter().any(|c| l.contains(c.as_str())),
        };
        contains
            || self.star_globs.iter().any(|g| star_glob(g, l))
            || self.globs.iter().any(|g| glob(g, l))
            || self.regexes.iter().any(|r| r.is_match(text))
    }
}

/// `*`-separated literal pieces covering all of `s`.
fn star_glob(pieces: &[String], s: &str) -> bool {
    let n = pieces.len();
    let (first, last) = (&pieces[0], &pieces[n - 1]);
    if s.len() < first.len() + last.len() || !s.starts_with(first.as_str()) || !s.ends_with(last.as_str()) {
        return false;
    }
    let mut rest = &s[first.len()..s.len() - last.len()];
    for p in &pieces[1..n - 1] {
        match rest.find(p.as_str()) {
            Some(i) => rest = &rest[i + p.len()..],
            None => return false,
        }
    }
    true
}

/// A glob with `?` over the characters of `s` (backtracking to the last `*`).
fn glob(pat: &[Tok], s: &str) -> bool {
    let text: Vec<char> = s.chars().collect();
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pat.get(p) {
            Some(Tok::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => (p, t) = (p + 1, t + 1),
            Some(Tok::Char(c)) if *c == text[t] => (p, t) = (p + 1, t + 1),
            _ => match star {
                Some((sp, st)) => {
                    star = Some((sp, st + 1));
                    (p, t) = (sp + 1, st + 1);
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|tok| *tok == Tok::Any)
}

impl Plan {
    /// Compile `f`, registering the fields it reads in `fields`.
    pub(crate) fn new(f: &Filter, fields: &mut Fields) -> Result<Plan, FilterError> {
        Ok(match f {
            Filter::All => Plan::All,
            Filter::And(items) => Plan::And(
                items
                    .iter()
                    .map(|i| Plan::new(i, fields))
                    .collect::<Result<_, _>>()?,
            ),
            Filter::Or(items) => {
                let mut groups: Vec<(String, ValueSet)> = Vec::new();
                let mut rest = Vec::new();
                let mut bare = Vec::new();
                for item in items {
                    match item {
                        Filter::Match {
                            field: None,
                            value: Pattern::Regex(re),
                        } => {
                            check_regex(re)?;
                            bare.push(re.clone());
                        }
                        Filter::Match {
                            field: Some(field),
                            value,
                        } if fits(kind_of(field), value) => {
                            let idx = match groups.iter().position(|(f, _)| f == field) {
                                Some(i) => i,
                                None => {
                                    groups.push((field.clone(), ValueSet::default()));
                                    groups.len() - 1
                                }
                            };
                            groups[idx].1.add(value)?;
                        }
                        other => rest.push(Plan::new(other, fields)?),
                    }
                }
                let mut out: Vec<Plan> = groups
                    .into_iter()
                    .map(|(field, mut set)| {
                        set.finish(fields)?;
                        Ok(Plan::Values(fields.id(&field), Box::new(set)))
                    })
                    .collect::<Result<_, FilterError>>()?;
                if !bare.is_empty() {
                    out.push(Plan::Bare(fields.any_of(&bare)?));
                }
                out.extend(rest);
                if out.len() == 1 {
                    out.pop().expect("one")
                } else {
                    Plan::Or(out)
                }
            }
            Filter::Not(inner) => Plan::Not(Box::new(Plan::new(inner, fields)?)),
            Filter::AtLeast { n, children } => Plan::AtLeast(
                *n,
                children
                    .iter()
                    .map(|c| Plan::new(c, fields))
                    .collect::<Result<_, _>>()?,
            ),
            Filter::Match {
                field: Some(field),
                value,
            } if fits(kind_of(field), value) => {
                let mut set = ValueSet::default();
                set.add(value)?;
                set.finish(fields)?;
                Plan::Values(fields.id(field), Box::new(set))
            }
            Filter::Exists { field } => Plan::Exists(fields.id(field)),
            Filter::Match {
                field: None,
                value: Pattern::Regex(re),
            } => Plan::Bare(fields.any_of(std::slice::from_ref(re))?),
            other => Plan::Model(other.compile()?),
        })
    }

    /// Evaluate on the event behind `cache`.
    pub(crate) fn eval(&self, cache: &mut EventCache<'_>, fields: &Fields) -> bool {
        match self {
            Plan::All => true,
            Plan::And(items) => items.iter().all(|i| i.eval(cache, fields)),
            Plan::Or(items) => items.iter().any(|i| i.eval(cache, fields)),
            Plan::Not(inner) => !inner.eval(cache, fields),
            Plan::AtLeast(n, items) => {
                let (mut hits, mut left) = (0, items.len());
                for i in items {
                    left -= 1;
                    if i.eval(cache, fields) {
                        hits += 1;
                        if hits >= *n {
                            return true;
                        }
                    } else if hits + left < *n {
                        return false;
                    }
                }
                *n == 0
            }
            Plan::Exists(id) => !cache.values(*id, fields).is_empty(),
            Plan::Values(id, set) => cache.values(*id, fields).iter().any(|v| set.matches(v)),
            Plan::Bare(res) => cache.leaves().iter().any(|t| res.iter().any(|r| r.is_match(t))),
            Plan::Model(m) => m.matches(cache.ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_agree_with_the_model() {
        let mut ev = Event::new("t", chrono::Utc::now(), "x");
        ev.set("a", "C:\\Windows\\System32\\CMD.exe".into());
        ev.set("n", serde_json::json!(404));
        ev.set("s", "0404".into());
        ev.set("list", serde_json::json!(["x1", "Y2"]));
        let filters = [
            r"a:*\\cmd.exe",
            r"a:c\:\\windows*",
            "a:*system32*",
            "a:*windows*cmd*",
            "a:*WINDOWS?System32*",
            r#"a:"C:\\Windows\\System32\\cmd.exe""#,
            "a:/CMD\\.exe$/",
            "a:/cmd\\.exe$/",
            "n:404 or n:405",
            "n:\"404\"",
            "n:40*",
            "s:404",
            "s:\"0404\" or s:x",
            "list:y2 or list:zz or list:q*",
            "a:*a* or a:*b* or a:*c* or a:*d* or a:*e* or a:*zz*",
            "not _exists_:nope and _exists_:a",
            "a:*windows* and not a:*cmd*",
            "/(?i)system32/ or /zzz/",
            "/^0404$/",
            "/tenant/",
            "2 of (a:*cmd.exe or n:404 or s:nope)",
            "2 of (a:*cmd.exe or n:405 or s:nope)",
            "3 of (a:*cmd.exe or n:404 or s:0404)",
            "not 2 of (list:x1 or list:y2 or n:1)",
            "a:=*list*",
            "s:=*n",
            "s:==*n*",
        ];
        for text in filters {
            let f = mamori_model::filter::parse(text).unwrap();
            let mut fields = Fields::default();
            let plan = Plan::new(&f, &mut fields).unwrap();
            let mut cache = EventCache::new(&ev, &fields);
            assert_eq!(plan.eval(&mut cache, &fields), f.matches(&ev), "{text}");
        }
    }
}
