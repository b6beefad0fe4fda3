//! Filter → tantivy query. Each node compiles to a query that matches a
//! *superset* of what the in-memory evaluator accepts, and says whether it is
//! exact. The store re-checks inexact results with the evaluator, so nothing
//! the filter language can say is silently dropped.

use std::net::IpAddr;
use std::ops::Bound as B;

use mamori_model::fields::{FieldKind, kind_of, lowercase, number_of_str};
use mamori_model::filter::{Bound, CompareOp, Filter, Pattern, Scalar, WildPart};
use mamori_model::time::parse_instant;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, EmptyQuery, InvertedIndexRangeQuery, Occur, Query, RangeQuery, RegexQuery,
    TermQuery,
};
use tantivy::schema::IndexRecordOption;

use super::schema::{Fields, KW_MAX, kw_term};
use crate::StoreError;
use crate::codec::{f64_key, ip_key, path_term};

/// A compiled node: `None` means "cannot narrow" (every event is a candidate).
pub struct Compiled {
    pub query: Option<Box<dyn Query>>,
    pub exact: bool,
}

impl Compiled {
    fn exact(q: Box<dyn Query>) -> Self {
        Compiled {
            query: Some(q),
            exact: true,
        }
    }
    fn narrow(q: Box<dyn Query>) -> Self {
        Compiled {
            query: Some(q),
            exact: false,
        }
    }
    fn any() -> Self {
        Compiled {
            query: None,
            exact: false,
        }
    }
    /// The query to run, `AllQuery` when nothing narrows.
    pub fn into_query(self) -> Box<dyn Query> {
        self.query.unwrap_or_else(|| Box::new(AllQuery))
    }
}

/// Compile a filter (context lists must be expanded). `paths` are the field
/// paths present in the partition (see [`needs_paths`]).
pub fn compile(f: &Fields, filter: &Filter, paths: &[String]) -> Result<Compiled, StoreError> {
    Ok(match filter {
        Filter::All => Compiled::exact(Box::new(AllQuery)),
        Filter::And(items) => {
            let mut exact = true;
            let mut qs = Vec::new();
            for item in items {
                let c = compile(f, item, paths)?;
                exact &= c.exact;
                if let Some(q) = c.query {
                    qs.push(q);
                }
            }
            if qs.is_empty() {
                Compiled::any()
            } else {
                Compiled {
                    query: Some(Box::new(BooleanQuery::intersection(qs))),
                    exact,
                }
            }
        }
        Filter::Or(items) => {
            let mut exact = true;
            let mut qs = Vec::new();
            for item in items {
                let c = compile(f, item, paths)?;
                exact &= c.exact;
                match c.query {
                    Some(q) => qs.push(q),
                    None => return Ok(Compiled::any()),
                }
            }
            Compiled {
                query: Some(Box::new(BooleanQuery::union(qs))),
                exact,
            }
        }
        Filter::Not(inner) => {
            let c = compile(f, inner, paths)?;
            match (c.exact, c.query) {
                (true, Some(q)) => Compiled::exact(Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery)),
                    (Occur::MustNot, q),
                ]))),
                _ => Compiled::any(),
            }
        }
        // At least n of the children: 1 is their `or`, all is their `and`; in
        // between, any one of them narrows (the count is re-checked in memory).
        Filter::AtLeast { n: 0, .. } => Compiled::exact(Box::new(AllQuery)),
        Filter::AtLeast { n: 1, children } => compile(f, &Filter::Or(children.clone()), paths)?,
        Filter::AtLeast { n, children } if *n == children.len() => {
            compile(f, &Filter::And(children.clone()), paths)?
        }
        Filter::AtLeast { n, children } => {
            if *n > children.len() {
                return Ok(Compiled::exact(Box::new(EmptyQuery)));
            }
            let c = compile(f, &Filter::Or(children.clone()), paths)?;
            Compiled {
                query: c.query,
                exact: false,
            }
        }
        Filter::Exists { field } => Compiled::exact(exists(f, field)),
        // Field-to-field comparisons have no index: both fields present, re-checked in memory.
        Filter::FieldRef { field, other, .. } => Compiled {
            query: Some(Box::new(BooleanQuery::intersection(vec![
                exists(f, field),
                exists(f, other),
            ]))),
            exact: false,
        },
        Filter::Match { field: None, value } => bare(f, value, paths),
        Filter::Match {
            field: Some(field),
            value,
        } => field_match(f, field, value),
        Filter::Compare { field, op, value } => {
            let (lower, upper) = match op {
                CompareOp::Gt => (Some((value, false)), None),
                CompareOp::Ge => (Some((value, true)), None),
                CompareOp::Lt => (None, Some((value, false))),
                CompareOp::Le => (None, Some((value, true))),
            };
            range(f, field, lower, upper)
        }
        Filter::Range { field, lower, upper } => range(f, field, bound_ref(lower), bound_ref(upper)),
        Filter::ListRef { name, .. } => {
            return Err(StoreError::Filter(format!(
                "context list @{name} was not expanded before the search"
            )));
        }
    })
}

/// Whether compiling `filter` needs the partition's field paths (bare values do).
pub fn needs_paths(filter: &Filter) -> bool {
    let mut found = false;
    filter.visit(&mut |n| found |= matches!(n, Filter::Match { field: None, .. }));
    found
}

fn bound_ref(b: &Option<Bound>) -> Option<(&Scalar, bool)> {
    b.as_ref().map(|b| (&b.value, b.inclusive))
}

fn term_query(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::Basic))
}

fn exists(f: &Fields, field: &str) -> Box<dyn Query> {
    term_query(Term::from_field_text(f.fields, field))
}

fn words(text: &str) -> Vec<String> {
    mamori_model::fields::words(text).collect()
}

/// Words must all be present; one word alone is exact when `single_exact`.
fn all_words(f: &Fields, text: &str, single_exact: bool) -> Compiled {
    let ws = words(text);
    let qs: Vec<Box<dyn Query>> = ws
        .iter()
        .map(|w| term_query(Term::from_field_text(f.text, w)))
        .collect();
    match qs.len() {
        0 => Compiled::any(),
        1 => Compiled {
            query: qs.into_iter().next(),
            exact: single_exact,
        },
        _ => Compiled::narrow(Box::new(BooleanQuery::intersection(qs))),
    }
}

/// A bare value: the whole value under any keyword path, or words of text fields.
fn bare(f: &Fields, value: &Pattern, paths: &[String]) -> Compiled {
    let keyword_paths = || paths.iter().filter(|p| bare_keyword_path(p));
    match value {
        Pattern::Term(t) | Pattern::Phrase(t) => {
            let terms: Vec<Box<dyn Query>> = keyword_paths()
                .map(|p| term_query(Term::from_field_text(f.kw, &kw_term(p, t))))
                .collect();
            let whole = Compiled {
                query: Some(Box::new(BooleanQuery::union(terms))),
                exact: lowercase(t).len() < KW_MAX,
            };
            let ws = words(t);
            let in_text = if ws.is_empty() {
                Compiled::any()
            } else {
                let single = ws.len() == 1 && ws[0] == lowercase(t);
                all_words(f, t, single)
            };
            whole.or(in_text)
        }
        Pattern::Wildcard(parts) => {
            let prefix_only = is_prefix_only(parts);
            let mut qs: Vec<Box<dyn Query>> = Vec::new();
            for p in keyword_paths() {
                match glob_query(f.kw, &format!("{p}\0"), parts, prefix_only).query {
                    Some(q) => qs.push(q),
                    None => return Compiled::any(),
                }
            }
            let whole = Compiled {
                query: Some(Box::new(BooleanQuery::union(qs))),
                exact: prefix_only,
            };
            whole
                .or(glob_query(f.text, "", parts, true))
                .exact_if(prefix_only)
        }
        Pattern::Cidr(_) | Pattern::Regex(_) => Compiled::any(),
    }
}

/// Paths whose values a bare term compares whole (not text, not the time).
fn bare_keyword_path(p: &str) -> bool {
    p != "@timestamp" && p != "event.original" && kind_of(p) != FieldKind::Text
}

/// `prefix*` with a prefix short enough to be indexed whole.
fn is_prefix_only(parts: &[WildPart]) -> bool {
    matches!(parts, [WildPart::Literal(p), WildPart::Any] if lowercase(p).len() < KW_MAX)
}

/// A regular expression over the terms of `field` starting with `prefix`
/// (a path and NUL, or nothing). Unless `whole` is set, terms long enough to
/// have been cut are kept as candidates too.
fn glob_query(field: tantivy::schema::Field, prefix: &str, parts: &[WildPart], whole: bool) -> Compiled {
    if whole && let [WildPart::Literal(lit), WildPart::Any] = parts {
        return prefix_range(field, &format!("{prefix}{}", lowercase(lit)));
    }
    let mut re = String::new();
    for p in parts {
        match p {
            WildPart::Literal(s) => re.push_str(&regex::escape(&lowercase(s))),
            WildPart::Any => re.push_str("(?s:.)*"),
            WildPart::One => re.push_str("(?s:.)"),
        }
    }
    let prefix = regex::escape(prefix).replace('\0', "\\x00");
    let pattern = if whole {
        format!("{prefix}{re}")
    } else {
        format!("{prefix}(?:{re}|(?s:.){{{}}}(?s:.)*)", KW_MAX / 4)
    };
    match RegexQuery::from_pattern(&pattern, field) {
        Ok(q) => Compiled {
            query: Some(Box::new(q)),
            exact: whole,
        },
        Err(_) => Compiled::any(),
    }
}

/// Terms of `field` starting with `prefix` (exact): the byte range
/// `[prefix, prefix 0xFF)`, 0xFF never occurring in UTF-8 text.
fn prefix_range(field: tantivy::schema::Field, prefix: &str) -> Compiled {
    let mut upper = prefix.as_bytes().to_vec();
    upper.push(0xFF);
    Compiled::exact(Box::new(InvertedIndexRangeQuery::new(
        B::Included(Term::from_field_text(field, prefix)),
        B::Excluded(Term::from_field_bytes(field, &upper)),
    )))
}

impl Compiled {
    /// Either of two compiled nodes.
    fn or(self, other: Compiled) -> Compiled {
        match (self.query, other.query) {
            (Some(a), Some(b)) => Compiled {
                query: Some(Box::new(BooleanQuery::union(vec![a, b]))),
                exact: self.exact && other.exact,
            },
            _ => Compiled::any(),
        }
    }

    fn exact_if(mut self, cond: bool) -> Compiled {
        self.exact = self.exact && cond;
        self
    }
}

fn field_match(f: &Fields, field: &str, value: &Pattern) -> Compiled {
    let kind = kind_of(field);
    match value {
        Pattern::Term(t) | Pattern::Phrase(t) if kind == FieldKind::Text => {
            all_words(f, t, false).and_exists(f, field)
        }
        Pattern::Term(t) | Pattern::Phrase(t) if kind == FieldKind::Date => match (field, parse_instant(t)) {
            ("@timestamp", Some(at)) => {
                let us = at.timestamp_micros();
                Compiled::exact(Box::new(RangeQuery::new(
                    B::Included(Term::from_field_i64(f.ts, us)),
                    B::Included(Term::from_field_i64(f.ts, us)),
                )))
            }
            _ => Compiled::narrow(exists(f, field)),
        },
        Pattern::Term(t) | Pattern::Phrase(t) => {
            let mut qs = vec![term_query(Term::from_field_text(f.kw, &kw_term(field, t)))];
            if let Ok(ip) = t.parse::<IpAddr>() {
                qs.push(ip_term(f, field, ip));
            }
            if let Some(x) = number_of_str(t) {
                let key = path_term(field, &f64_key(x));
                qs.push(Box::new(InvertedIndexRangeQuery::new(
                    B::Included(Term::from_field_bytes(f.num, &key)),
                    B::Included(Term::from_field_bytes(f.num, &key)),
                )));
            }
            let exact = lowercase(t).len() < KW_MAX;
            let q: Box<dyn Query> = if qs.len() == 1 {
                qs.pop().expect("one")
            } else {
                Box::new(BooleanQuery::union(qs))
            };
            Compiled {
                query: Some(q),
                exact,
            }
        }
        Pattern::Wildcard(parts) if kind == FieldKind::Text => {
            glob_query(f.text, "", parts, true).and_exists(f, field)
        }
        Pattern::Wildcard(_) if field == "@timestamp" => Compiled::narrow(exists(f, field)),
        Pattern::Wildcard(parts) => {
            let prefix_only = is_prefix_only(parts);
            glob_query(f.kw, &format!("{field}\0"), parts, prefix_only)
        }
        Pattern::Cidr(net) if kind == FieldKind::Ip => {
            let lo = path_term(field, &ip_key(net.network()));
            let hi = path_term(field, &ip_key(net.broadcast()));
            Compiled::exact(Box::new(InvertedIndexRangeQuery::new(
                B::Included(Term::from_field_bytes(f.ip, &lo)),
                B::Included(Term::from_field_bytes(f.ip, &hi)),
            )))
        }
        Pattern::Cidr(_) | Pattern::Regex(_) => Compiled::narrow(exists(f, field)),
    }
}

impl Compiled {
    /// Also require the field to exist (narrows a query over the shared text field).
    fn and_exists(self, f: &Fields, field: &str) -> Compiled {
        let e = exists(f, field);
        let q = match self.query {
            Some(q) => Box::new(BooleanQuery::intersection(vec![q, e])) as Box<dyn Query>,
            None => e,
        };
        Compiled {
            query: Some(q),
            exact: false,
        }
    }
}

fn ip_term(f: &Fields, field: &str, ip: IpAddr) -> Box<dyn Query> {
    let key = path_term(field, &ip_key(ip));
    Box::new(InvertedIndexRangeQuery::new(
        B::Included(Term::from_field_bytes(f.ip, &key)),
        B::Included(Term::from_field_bytes(f.ip, &key)),
    ))
}

/// A range over a field: numbers on `num`, times on `ts`, IPs on `ip`;
/// anything else is narrowed to events having the field.
fn range(
    f: &Fields,
    field: &str,
    lower: Option<(&Scalar, bool)>,
    upper: Option<(&Scalar, bool)>,
) -> Compiled {
    let numeric = |s: &Scalar| match s {
        Scalar::Number(x) => Some(*x),
        Scalar::Text(_) => None,
    };
    let all_numeric =
        lower.is_none_or(|(s, _)| numeric(s).is_some()) && upper.is_none_or(|(s, _)| numeric(s).is_some());
    if lower.is_none() && upper.is_none() {
        return Compiled::narrow(exists(f, field));
    }
    if all_numeric {
        let bound = |b: Option<(&Scalar, bool)>, open: f64| match b {
            Some((s, incl)) => {
                let t =
                    Term::from_field_bytes(f.num, &path_term(field, &f64_key(numeric(s).unwrap_or(open))));
                if incl { B::Included(t) } else { B::Excluded(t) }
            }
            None => B::Included(Term::from_field_bytes(f.num, &path_term(field, &f64_key(open)))),
        };
        return Compiled::exact(Box::new(InvertedIndexRangeQuery::new(
            bound(lower, f64::NEG_INFINITY),
            bound(upper, f64::INFINITY),
        )));
    }
    let text = |b: Option<(&Scalar, bool)>| {
        b.map(|(s, incl)| {
            let t = match s {
                Scalar::Number(x) => x.to_string(),
                Scalar::Text(t) => t.clone(),
            };
            (t, incl)
        })
    };
    let (lo, hi) = (text(lower), text(upper));
    if field == "@timestamp" {
        let micros = |b: &Option<(String, bool)>| -> Option<Option<(i64, bool)>> {
            match b {
                None => Some(None),
                Some((t, incl)) => parse_instant(t).map(|d| Some((d.timestamp_micros(), *incl))),
            }
        };
        if let (Some(l), Some(h)) = (micros(&lo), micros(&hi)) {
            let b = |x: Option<(i64, bool)>| match x {
                Some((v, true)) => B::Included(Term::from_field_i64(f.ts, v)),
                Some((v, false)) => B::Excluded(Term::from_field_i64(f.ts, v)),
                None => B::Unbounded,
            };
            return Compiled::exact(Box::new(RangeQuery::new(b(l), b(h))));
        }
    }
    if kind_of(field) == FieldKind::Ip {
        let ip = |b: &Option<(String, bool)>| -> Option<Option<(IpAddr, bool)>> {
            match b {
                None => Some(None),
                Some((t, incl)) => t.parse::<IpAddr>().ok().map(|ip| Some((ip, *incl))),
            }
        };
        if let (Some(l), Some(h)) = (ip(&lo), ip(&hi)) {
            let b = |x: Option<(IpAddr, bool)>, open: IpAddr| {
                let (v, incl) = x.unwrap_or((open, true));
                let t = Term::from_field_bytes(f.ip, &path_term(field, &ip_key(v)));
                if incl { B::Included(t) } else { B::Excluded(t) }
            };
            let q = InvertedIndexRangeQuery::new(
                b(l, IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED)),
                b(h, IpAddr::V6(std::net::Ipv6Addr::from(u128::MAX))),
            );
            // An IP bound only matches values that are IPs (see the evaluator).
            return Compiled::exact(Box::new(q));
        }
    }
    Compiled::narrow(exists(f, field))
}

/// The query for a time range `[from, to)` in microseconds.
pub fn time_range(f: &Fields, from: i64, to: i64) -> Box<dyn Query> {
    if from >= to {
        return Box::new(EmptyQuery);
    }
    Box::new(RangeQuery::new(
        B::Included(Term::from_field_i64(f.ts, from)),
        B::Excluded(Term::from_field_i64(f.ts, to)),
    ))
}
