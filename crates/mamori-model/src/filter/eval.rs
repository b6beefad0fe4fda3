//! Evaluating filters on in-memory events.
//!
//! [`Filter::compile`] prepares a filter once (lower-cased terms, compiled
//! regexes, parsed IPs and times) into a [`Matcher`]; [`Filter::matches`] is a
//! shortcut for one-off checks. Semantics, per node:
//!
//! - `field:value` holds if **any** leaf value at the path (arrays walked, see
//!   [`Event::values`]) matches. By the field's [kind](crate::fields::kind_of):
//!   - keyword, IP and date fields: a term or phrase equals the whole value,
//!     case-insensitively; IPs compare as addresses when both sides parse
//!     (`::1` equals `0:0::1`), dates as instants when both sides parse as
//!     RFC 3339 or `YYYY-MM-DD`. A wildcard (`*` any run, `?` one character)
//!     must cover the whole value, case-insensitively.
//!   - text fields: the value is split into [words]; a
//!     term or phrase matches when its own words appear consecutively in that
//!     order (a one-word term is thus "contains the word"; a term or phrase
//!     without any word must equal the whole value); a wildcard must cover one
//!     word.
//!   - whatever the kind: a CIDR matches values that parse as an address inside
//!     the network (IPv4-mapped IPv6 counts as IPv4); a regex (Rust syntax, as
//!     written: add `(?i)` for case-insensitivity) must match somewhere in the
//!     value (unanchored, like Sigma's `re`).
//!   - numbers and booleans are matched through their JSON text (`404`, `1.5`,
//!     `true`), case-insensitively; a numeric term also equals the same number
//!     written differently (`404` matches `404.0`).
//! - a bare value (no field) holds, as in Kibana, if it matches the words of a
//!   text field, or the whole value (case-insensitive) of any other leaf
//!   (numbers and booleans by their JSON text), `event.original` and
//!   `@timestamp` excepted. A bare wildcard
//!   covers a whole keyword value or one word of text; a bare CIDR or regex
//!   applies to every such value.
//! - `field op x` and ranges hold if **one** value satisfies every bound. A
//!   numeric bound compares only numbers and numeric strings; an IP bound only
//!   addresses; a time bound compares instants when the value is a time and
//!   text otherwise; any other bound compares case-sensitive text. Open (`*`)
//!   ends always hold.
//! - `_exists_:field` / `field:*` holds if the path has a non-null value.
//! - `field:=other` holds if a value of `field` equals a value of `other`
//!   (whole values, case-insensitive; numbers and booleans by their JSON text);
//!   `field:=other*`, `field:=*other`, `field:=*other*` if a value of `field`
//!   starts with, ends with, contains a value of `other`; `field:==…` compares
//!   case-sensitively.
//! - `n of (a or b or c)` holds if at least `n` of the alternatives hold.
//! - `not`, `and`, `or` as usual; `*` always holds.
//! - a context list (`@name`) must be replaced with
//!   [`Filter::expand_lists`] first: [`Filter::compile`] rejects it, and
//!   [`Filter::matches`] is false.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use regex::Regex;
use serde_json::Value;

use super::ast::{Bound, CompareOp, Filter, Pattern, RefOp, Scalar, WildPart};
use super::parser::{FilterError, regex_reason};
use crate::Event;
use crate::fields::{FieldKind, kind_of, lowercase, number_of, number_of_str, words};
use crate::time::parse_instant;

/// A filter prepared for evaluation on many events (see [`Filter::compile`]).
#[derive(Debug, Clone)]
pub struct Matcher(Node);

impl Matcher {
    /// Whether `ev` satisfies the filter.
    pub fn matches(&self, ev: &Event) -> bool {
        self.0.eval(ev)
    }
}

impl Filter {
    /// Prepare the filter for evaluation. Fails on a [`Filter::ListRef`] that
    /// was not expanded and on an invalid regex (both with column 0).
    pub fn compile(&self) -> Result<Matcher, FilterError> {
        Node::new(self).map(Matcher)
    }

    /// Compile and evaluate once: whether `ev` satisfies the filter. False
    /// when the filter does not compile (see [`Filter::compile`]).
    pub fn matches(&self, ev: &Event) -> bool {
        self.compile().is_ok_and(|m| m.matches(ev))
    }
}

/// A compiled [`Filter`] node; comparisons become one-sided ranges.
#[derive(Debug, Clone)]
enum Node {
    All,
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    AtLeast(usize, Vec<Node>),
    Match {
        field: Option<(String, FieldKind)>,
        pat: Pat,
    },
    Range {
        field: String,
        lower: Option<Limit>,
        upper: Option<Limit>,
    },
    Exists(String),
    FieldRef {
        field: String,
        other: String,
        op: RefOp,
        cased: bool,
    },
}

impl Node {
    fn new(filter: &Filter) -> Result<Node, FilterError> {
        let all = |items: &[Filter]| items.iter().map(Node::new).collect::<Result<Vec<_>, _>>();
        Ok(match filter {
            Filter::All => Node::All,
            Filter::And(items) => Node::And(all(items)?),
            Filter::Or(items) => Node::Or(all(items)?),
            Filter::Not(inner) => Node::Not(Box::new(Node::new(inner)?)),
            Filter::AtLeast { n, children } => Node::AtLeast(*n, all(children)?),
            Filter::Match { field, value } => Node::Match {
                field: field.as_ref().map(|f| (f.clone(), kind_of(f))),
                pat: Pat::new(value)?,
            },
            Filter::Compare { field, op, value } => {
                let limit = |inclusive| Some(Limit::new(value, inclusive));
                let (lower, upper) = match op {
                    CompareOp::Gt => (limit(false), None),
                    CompareOp::Ge => (limit(true), None),
                    CompareOp::Lt => (None, limit(false)),
                    CompareOp::Le => (None, limit(true)),
                };
                Node::Range {
                    field: field.clone(),
                    lower,
                    upper,
                }
            }
            Filter::Range { field, lower, upper } => {
                let limit = |b: &Bound| Limit::new(&b.value, b.inclusive);
                Node::Range {
                    field: field.clone(),
                    lower: lower.as_ref().map(limit),
                    upper: upper.as_ref().map(limit),
                }
            }
            Filter::Exists { field } => Node::Exists(field.clone()),
            Filter::FieldRef {
                field,
                other,
                op,
                cased,
            } => Node::FieldRef {
                field: field.clone(),
                other: other.clone(),
                op: *op,
                cased: *cased,
            },
            Filter::ListRef { name, .. } => {
                return Err(FilterError::at(
                    0,
                    format!("context list @{name} was not expanded"),
                ));
            }
        })
    }

    fn eval(&self, ev: &Event) -> bool {
        match self {
            Node::All => true,
            Node::And(items) => items.iter().all(|n| n.eval(ev)),
            Node::Or(items) => items.iter().any(|n| n.eval(ev)),
            Node::Not(inner) => !inner.eval(ev),
            Node::AtLeast(n, items) => at_least(*n, items.iter().map(|i| i.eval(ev))),
            Node::Match {
                field: Some((field, kind)),
                pat,
            } => ev.values(field).into_iter().any(|v| pat.matches_value(*kind, v)),
            Node::Match { field: None, pat } => ev
                .leaves()
                .into_iter()
                .filter(|(path, _)| path != "event.original" && path != "@timestamp")
                .any(|(path, v)| value_text(v).is_some_and(|t| pat.matches_bare(kind_of(&path), &t))),
            Node::Range { field, lower, upper } => ev.values(field).into_iter().any(|v| {
                lower.as_ref().is_none_or(|l| l.admits(v, Ordering::Greater))
                    && upper.as_ref().is_none_or(|u| u.admits(v, Ordering::Less))
            }),
            Node::Exists(field) => !ev.values(field).is_empty(),
            Node::FieldRef {
                field,
                other,
                op,
                cased,
            } => {
                let fold = |t: Cow<'_, str>| if *cased { t.into_owned() } else { lower(&t) };
                let theirs: Vec<String> = ev
                    .values(other)
                    .into_iter()
                    .filter_map(|v| value_text(v).map(fold))
                    .collect();
                ev.values(field)
                    .into_iter()
                    .filter_map(|v| value_text(v).map(fold))
                    .any(|t| theirs.iter().any(|o| op.holds(&t, o)))
            }
        }
    }
}

/// Whether at least `n` of `results` are true (stops as soon as it is decided).
pub(crate) fn at_least(n: usize, results: impl ExactSizeIterator<Item = bool>) -> bool {
    if n == 0 {
        return true;
    }
    let mut left = results.len();
    let mut hits = 0;
    for r in results {
        left -= 1;
        hits += usize::from(r);
        if hits >= n {
            return true;
        }
        if hits + left < n {
            return false;
        }
    }
    false
}

/// A compiled [`Pattern`]. Terms and phrases match alike (see the module doc).
#[derive(Debug, Clone)]
enum Pat {
    Exact(Exact),
    Wild(Glob),
    Cidr(IpNet),
    Regex(Regex),
}

impl Pat {
    fn new(pattern: &Pattern) -> Result<Pat, FilterError> {
        Ok(match pattern {
            Pattern::Term(text) | Pattern::Phrase(text) => Pat::Exact(Exact::new(text)),
            Pattern::Wildcard(parts) => Pat::Wild(Glob::new(parts)),
            Pattern::Cidr(net) => Pat::Cidr(*net),
            Pattern::Regex(re) => Pat::Regex(
                Regex::new(re)
                    .map_err(|e| FilterError::at(0, format!("invalid regex /{re}/: {}", regex_reason(&e))))?,
            ),
        })
    }

    /// Match one JSON leaf of a field of `kind`.
    fn matches_value(&self, kind: FieldKind, v: &Value) -> bool {
        if let Pat::Exact(e) = self
            && e.number.is_some()
            && number_of(v) == e.number
        {
            return true;
        }
        match v {
            Value::String(s) => self.matches_str(kind, s),
            Value::Number(n) => match self {
                Pat::Exact(e) if e.number.is_some() => e.number == n.as_f64(),
                _ => self.matches_str(FieldKind::Keyword, &n.to_string()),
            },
            Value::Bool(b) => self.matches_str(FieldKind::Keyword, if *b { "true" } else { "false" }),
            _ => false,
        }
    }

    fn matches_str(&self, kind: FieldKind, s: &str) -> bool {
        match (self, kind) {
            (Pat::Cidr(net), _) => parse_ip(s).is_some_and(|ip| net.contains(&ip)),
            (Pat::Regex(re), _) => re.is_match(s),
            (_, FieldKind::Text) => self.matches_text(s),
            (Pat::Wild(glob), _) => glob.matches(s),
            (Pat::Exact(e), FieldKind::Ip) => match (e.ip, parse_ip(s)) {
                (Some(a), Some(b)) => a == b,
                _ => e.equals(s),
            },
            (Pat::Exact(e), FieldKind::Date) => match (e.time, parse_time(s)) {
                (Some(a), Some(b)) => a == b,
                _ => e.equals(s),
            },
            (Pat::Exact(e), FieldKind::Keyword) => e.equals(s),
        }
    }

    /// Match a bare value: words of text fields, whole values of the others.
    fn matches_bare(&self, kind: FieldKind, s: &str) -> bool {
        match (self, kind) {
            (_, FieldKind::Text) => self.matches_text(s),
            (Pat::Exact(e), _) => e.equals(s),
            _ => self.matches_str(FieldKind::Keyword, s),
        }
    }

    /// Match free text by words.
    fn matches_text(&self, s: &str) -> bool {
        match self {
            Pat::Exact(e) if e.words.is_empty() => e.equals(s),
            Pat::Exact(e) => {
                let have: Vec<String> = words(s).collect();
                have.windows(e.words.len()).any(|w| w == e.words)
            }
            Pat::Wild(glob) => words(s).any(|w| glob.matches(&w)),
            other => other.matches_str(FieldKind::Keyword, s),
        }
    }
}

/// A term or phrase, with its readings prepared.
#[derive(Debug, Clone)]
struct Exact {
    lower: String,
    words: Vec<String>,
    number: Option<f64>,
    ip: Option<IpAddr>,
    time: Option<DateTime<Utc>>,
}

impl Exact {
    fn new(text: &str) -> Self {
        Exact {
            lower: lower(text),
            words: words(text).collect(),
            number: number_of_str(text),
            ip: parse_ip(text),
            time: parse_time(text),
        }
    }

    /// Case-insensitive whole-value equality.
    fn equals(&self, s: &str) -> bool {
        s.chars().flat_map(char::to_lowercase).eq(self.lower.chars())
    }
}

/// A case-insensitive wildcard pattern.
#[derive(Debug, Clone)]
struct Glob(Vec<GlobTok>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GlobTok {
    Char(char),
    Any,
    One,
}

impl Glob {
    fn new(parts: &[WildPart]) -> Self {
        let mut toks = Vec::new();
        for part in parts {
            match part {
                WildPart::Any => toks.push(GlobTok::Any),
                WildPart::One => toks.push(GlobTok::One),
                WildPart::Literal(text) => toks.extend(lower(text).chars().map(GlobTok::Char)),
            }
        }
        Glob(toks)
    }

    /// Whether the pattern covers all of `s` (iterative, backtracking only to
    /// the last `*`).
    fn matches(&self, s: &str) -> bool {
        let text: Vec<char> = lower(s).chars().collect();
        let pat = &self.0;
        let (mut p, mut t) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match pat.get(p) {
                Some(GlobTok::Any) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(GlobTok::One) => (p, t) = (p + 1, t + 1),
                Some(GlobTok::Char(c)) if *c == text[t] => (p, t) = (p + 1, t + 1),
                _ => match star {
                    Some((sp, st)) => {
                        star = Some((sp, st + 1));
                        (p, t) = (sp + 1, st + 1);
                    }
                    None => return false,
                },
            }
        }
        pat[p..].iter().all(|tok| *tok == GlobTok::Any)
    }
}

/// One bound of a comparison or range.
#[derive(Debug, Clone)]
struct Limit {
    number: Option<f64>,
    ip: Option<IpAddr>,
    time: Option<DateTime<Utc>>,
    text: String,
    inclusive: bool,
}

impl Limit {
    fn new(value: &Scalar, inclusive: bool) -> Self {
        match value {
            Scalar::Number(n) => Limit {
                number: Some(*n),
                ip: None,
                time: None,
                text: n.to_string(),
                inclusive,
            },
            Scalar::Text(t) => Limit {
                number: None,
                ip: parse_ip(t),
                time: parse_time(t),
                text: t.clone(),
                inclusive,
            },
        }
    }

    /// Whether `v` lies on the `side` of this bound (or on it, if inclusive).
    fn admits(&self, v: &Value, side: Ordering) -> bool {
        self.compare(v)
            .is_some_and(|o| o == side || (self.inclusive && o == Ordering::Equal))
    }

    /// How `v` compares to the bound; `None` when it cannot be compared.
    fn compare(&self, v: &Value) -> Option<Ordering> {
        let text = value_text(v)?;
        if let Some(n) = self.number {
            return number_of(v)?.partial_cmp(&n);
        }
        if let Some(ip) = self.ip {
            return Some(ip_key(parse_ip(&text)?).cmp(&ip_key(ip)));
        }
        if let (Some(time), Some(x)) = (self.time, parse_time(&text)) {
            return Some(x.cmp(&time));
        }
        Some(text.as_ref().cmp(self.text.as_str()))
    }
}

/// The text of a scalar JSON leaf.
fn value_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

fn lower(s: &str) -> String {
    lowercase(s)
}

/// An IP address, IPv4-mapped IPv6 read as IPv4.
fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// Addresses in one order: IPv4 as IPv4-mapped IPv6.
fn ip_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    parse_instant(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glob(p: &str) -> Glob {
        let parts = p
            .chars()
            .map(|c| match c {
                '*' => WildPart::Any,
                '?' => WildPart::One,
                c => WildPart::Literal(c.to_string()),
            })
            .collect::<Vec<_>>();
        Glob::new(&parts)
    }

    #[test]
    fn glob_matching() {
        let cases = [
            ("a*c", "abc", true),
            ("a*c", "ac", true),
            ("a*c", "acb", false),
            ("*.EXE", "cmd.exe", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("**", "", true),
            ("*a*a*", "banana", true),
            ("*x*", "banana", false),
            ("Ünï*", "üNÏcode", true),
        ];
        for (p, s, want) in cases {
            assert_eq!(glob(p).matches(s), want, "{p} ~ {s}");
        }
    }

    #[test]
    fn field_references() {
        let mut ev = Event::new("t", Utc::now(), "x");
        ev.set("a", "Bob".into());
        ev.set("b", serde_json::json!(["x", "BOB"]));
        ev.set("n", serde_json::json!(5));
        ev.set("m", "5".into());
        let f = |t: &str| crate::filter::parse(t).unwrap().matches(&ev);
        assert!(f("a:=b"));
        assert!(f("n:=m"));
        assert!(!f("a:=n"));
        assert!(!f("a:=missing"));
        assert!(!f(r"a:\=b"));
    }

    #[test]
    fn field_references_to_parts() {
        // Parts of values, case-insensitive unless `==`.
        let mut ev = Event::new("t", Utc::now(), "x");
        ev.set("a", "Bob".into());
        ev.set("path", "C:\\Users\\Bob\\x.exe".into());
        ev.set("user", "bob".into());
        ev.set("drive", "c:".into());
        ev.set("file", "X.EXE".into());
        let f = |t: &str| crate::filter::parse(t).unwrap().matches(&ev);
        assert!(f("path:=*user*"));
        assert!(!f("path:==*user*"));
        assert!(f("path:==*a*"));
        assert!(f("path:=drive*"));
        assert!(!f("path:==drive*"));
        assert!(f("path:=*file"));
        assert!(!f("path:=file*"));
        assert!(!f("path:=*drive"));
        assert!(!f("path:=user"));
        assert!(!f("path:=*missing*"));
    }

    #[test]
    fn at_least_counts_and_stops_early() {
        assert!(at_least(2, [true, false, true].into_iter()));
        assert!(!at_least(2, [true, false, false].into_iter()));
        assert!(!at_least(4, [true, true, true].into_iter()));
        assert!(at_least(0, [false].into_iter()));
        let mut ev = Event::new("t", Utc::now(), "x");
        ev.set("a", "1".into());
        ev.set("b", "2".into());
        let f = |t: &str| crate::filter::parse(t).unwrap().matches(&ev);
        assert!(f("2 of (a:1 or b:2 or c:3)"));
        assert!(!f("2 of (a:1 or b:9 or c:3)"));
        assert!(f("1 of (a:9 or b:2)"));
        assert!(f("not 3 of (a:1 or b:2 or c:3)"));
    }

    #[test]
    fn ip_order_mixes_families() {
        let v4 = parse_ip("10.0.0.1").unwrap();
        let v6 = parse_ip("::ffff:10.0.0.2").unwrap();
        assert!(v6.is_ipv4());
        assert!(ip_key(v4) < ip_key(v6));
    }

    #[test]
    fn dates_read_as_midnight() {
        assert_eq!(parse_time("2024-05-01"), parse_time("2024-05-01T00:00:00Z"));
        assert_eq!(parse_time("2024-05-01T02:00:00+02:00"), parse_time("2024-05-01"));
        assert!(parse_time("yesterday").is_none());
    }
}
