//! Required literals: what text must appear in an event for a filter to have
//! a chance to match, so the detector evaluates only the candidate rules.
//!
//! A filter's requirement is a list of groups; each group is a set of
//! lower-case literals of which at least one must occur in the event's
//! haystack (its values, lower-cased). `and` concatenates its children's
//! groups; `or` keeps one group, the union of each child's most selective
//! group (no requirement if a child has none); `not`, comparisons, ranges,
//! CIDRs and `_exists_` require nothing. Numbers require nothing (they also
//! match other spellings). The requirement is always implied by the filter,
//! so skipping an event that lacks it never loses a match.

use mamori_model::doc::{NodeRef, Obj};
use mamori_model::fields::{FieldKind, kind_of, lowercase, number_of_str};
use mamori_model::filter::{Filter, Pattern, WildPart};
use serde_json::Value;

/// A set of alternatives: at least one must occur.
pub(crate) type Group = Vec<String>;

/// Alternatives with the field each literal must occur in.
type FieldGroup = Vec<(String, String)>;

/// Shortest literal worth indexing, in bytes.
const MIN_LITERAL: usize = 3;
/// Largest `or` group kept (beyond, the requirement is dropped).
const MAX_GROUP: usize = 512;
/// Groups kept per rule (the most selective).
const MAX_GROUPS: usize = 3;

/// The literal requirement of `f` (empty: none); the fields its literals
/// come from are added to `fields`.
pub(crate) fn requirements(f: &Filter, fields: &mut FieldTrie) -> Vec<Group> {
    let mut groups = req(f);
    groups.sort_by_key(|g| std::cmp::Reverse(selectivity(g)));
    groups.truncate(MAX_GROUPS);
    for g in &groups {
        for (_, field) in g {
            fields.insert(field);
        }
    }
    groups
        .into_iter()
        .map(|g| g.into_iter().map(|(lit, _)| lit).collect())
        .collect()
}

/// FNV-1a: the trie is looked up once per key of every event, and its keys
/// are short field names, where SipHash's setup dominates.
#[derive(Debug, Default, Clone, Copy)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Dotted field paths as a trie of path segments.
#[derive(Debug, Default)]
pub(crate) struct FieldTrie {
    children: std::collections::HashMap<String, FieldTrie, std::hash::BuildHasherDefault<Fnv>>,
    terminal: bool,
}

impl FieldTrie {
    fn insert(&mut self, path: &str) {
        let mut node = self;
        for seg in path.split('.') {
            node = node.children.entry(seg.to_string()).or_default();
        }
        node.terminal = true;
    }

    /// The node reached from here by the segments of `key` (a document key may hold dots).
    fn step(&self, key: &str) -> Option<&FieldTrie> {
        if !key.contains('.') {
            return self.children.get(key);
        }
        let mut node = self;
        for seg in key.split('.') {
            node = node.children.get(seg)?;
        }
        Some(node)
    }
}

/// Higher is better: the shortest literal of the group, less a little per alternative.
fn selectivity(g: &FieldGroup) -> i64 {
    let min = g.iter().map(|(l, _)| l.len()).min().unwrap_or(0) as i64;
    min * 16 - g.len() as i64
}

fn req(f: &Filter) -> Vec<FieldGroup> {
    match f {
        Filter::And(items) => items.iter().flat_map(req).collect(),
        Filter::Or(items) => {
            let mut union = FieldGroup::new();
            for item in items {
                let best = req(item).into_iter().max_by_key(selectivity);
                match best {
                    Some(g) => union.extend(g),
                    None => return Vec::new(),
                }
            }
            union.sort();
            union.dedup();
            if union.is_empty() || union.len() > MAX_GROUP {
                Vec::new()
            } else {
                vec![union]
            }
        }
        // At least n hold: unless n children lack a requirement, one of the
        // others holds, so the union of their best groups is required.
        Filter::AtLeast { n, children } => {
            let mut union = FieldGroup::new();
            let mut without = 0;
            for item in children {
                match req(item).into_iter().max_by_key(selectivity) {
                    Some(g) => union.extend(g),
                    None => without += 1,
                }
            }
            union.sort();
            union.dedup();
            if without >= *n || union.is_empty() || union.len() > MAX_GROUP {
                Vec::new()
            } else {
                vec![union]
            }
        }
        // Bare values (Sigma keywords) would need every field searched: they require nothing.
        Filter::Match {
            field: Some(field),
            value,
        } => literal(Some(kind_of(field)), value)
            .map(|l| vec![vec![(l, field.clone())]])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The literal a pattern implies on a field of `kind` (`None`: a bare value).
fn literal(kind: Option<FieldKind>, p: &Pattern) -> Option<String> {
    let lit = match (p, kind) {
        (Pattern::Term(t) | Pattern::Phrase(t), Some(FieldKind::Keyword)) => {
            if number_of_str(t).is_some() {
                return None;
            }
            lowercase(t)
        }
        (Pattern::Wildcard(parts), Some(FieldKind::Keyword | FieldKind::Text) | None) => parts
            .iter()
            .filter_map(|p| match p {
                WildPart::Literal(s) => Some(lowercase(s)),
                _ => None,
            })
            .max_by_key(String::len)?,
        (Pattern::Regex(re), _) => lowercase(&regex_literal(re)?),
        _ => return None,
    };
    (lit.len() >= MIN_LITERAL).then_some(lit)
}

/// The longest run of text every match of `re` must contain, outside any
/// group, class or optional part; `None` for alternations and verbose mode.
pub(crate) fn regex_literal(re: &str) -> Option<String> {
    if re.contains('|') {
        return None;
    }
    let chars: Vec<char> = re.chars().collect();
    let mut i = 0;
    // Leading inline flags: (?i), (?is), …
    while chars.get(i) == Some(&'(') && chars.get(i + 1) == Some(&'?') {
        let mut j = i + 2;
        while chars.get(j).is_some_and(|c| c.is_ascii_alphabetic() || *c == '-') {
            j += 1;
        }
        if chars.get(j) != Some(&')') {
            break;
        }
        if chars[i + 2..j].contains(&'x') {
            return None;
        }
        i = j + 1;
    }
    let mut best = String::new();
    let mut run = String::new();
    // Whether the last char of `run` is the atom just read (so a quantifier removes it).
    let mut last_is_atom = false;
    let mut depth = 0usize;
    let end_run = |run: &mut String, best: &mut String| {
        if run.len() > best.len() {
            *best = run.clone();
        }
        run.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        if depth > 0 {
            match c {
                '\\' => i += 1,
                '(' => depth += 1,
                ')' => depth -= 1,
                '[' => i = skip_class(&chars, i),
                _ => {}
            }
            last_is_atom = false;
            continue;
        }
        match c {
            '\\' => {
                let Some(&n) = chars.get(i) else { break };
                i += 1;
                if n.is_ascii_alphanumeric() {
                    if matches!(n, 'p' | 'P' | 'x' | 'u') && chars.get(i) == Some(&'{') {
                        while i < chars.len() && chars[i] != '}' {
                            i += 1;
                        }
                        i += 1;
                    } else if n == 'x' {
                        i += 2;
                    }
                    end_run(&mut run, &mut best);
                    last_is_atom = false;
                } else {
                    run.push(n);
                    last_is_atom = true;
                }
            }
            '[' => {
                i = skip_class(&chars, i);
                end_run(&mut run, &mut best);
                last_is_atom = false;
            }
            '(' => {
                depth += 1;
                end_run(&mut run, &mut best);
                last_is_atom = false;
            }
            ')' => return None,
            '.' | '^' | '$' => {
                end_run(&mut run, &mut best);
                last_is_atom = false;
            }
            '*' | '?' | '{' => {
                if last_is_atom {
                    run.pop();
                }
                if c == '{' {
                    while i < chars.len() && chars[i] != '}' {
                        i += 1;
                    }
                    i += 1;
                }
                end_run(&mut run, &mut best);
                last_is_atom = false;
            }
            '+' => {
                end_run(&mut run, &mut best);
                last_is_atom = false;
            }
            c => {
                run.push(c);
                last_is_atom = true;
            }
        }
    }
    end_run(&mut run, &mut best);
    (!best.is_empty()).then_some(best)
}

/// The index after the `]` closing a class that starts before `i`.
fn skip_class(chars: &[char], mut i: usize) -> usize {
    if chars.get(i) == Some(&'^') {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '[' => i = skip_class(chars, i + 1),
            ']' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// The lower-cased text of every value of the `fields` of the event (each
/// a superset of what `Event::values` gives for that path), separated by
/// NUL: what required literals are searched in.
pub(crate) fn haystack(doc: &serde_json::Map<String, Value>, fields: &FieldTrie, out: &mut String) {
    for (k, v) in doc {
        if let Some(node) = fields.step(k) {
            walk(v, node, out);
        }
    }
}

/// [`haystack`] over an event's tree.
pub(crate) fn haystack_tree(obj: &Obj, fields: &FieldTrie, out: &mut String) {
    for (k, v) in obj.iter() {
        let Some(node) = fields.step(k) else { continue };
        match v {
            NodeRef::Value(v) => walk(v, node, out),
            NodeRef::Object(inner) => {
                if node.terminal {
                    push_tree(inner, out);
                }
                if !node.children.is_empty() {
                    haystack_tree(inner, node, out);
                }
            }
        }
    }
}

/// [`push_value`] of every value of an object of the tree.
fn push_tree(obj: &Obj, out: &mut String) {
    for (_, v) in obj.iter() {
        match v {
            NodeRef::Value(v) => push_value(v, out),
            NodeRef::Object(inner) => push_tree(inner, out),
        }
    }
}

fn walk(v: &Value, node: &FieldTrie, out: &mut String) {
    if node.terminal {
        push_value(v, out);
    }
    if node.children.is_empty() {
        return;
    }
    match v {
        Value::Object(m) => haystack(m, node, out),
        Value::Array(items) => items.iter().for_each(|i| {
            if !node.terminal || matches!(i, Value::Object(_)) {
                walk_children(i, node, out);
            }
        }),
        _ => {}
    }
}

/// Fields below `node` inside an array element.
fn walk_children(v: &Value, node: &FieldTrie, out: &mut String) {
    match v {
        Value::Object(m) => haystack(m, node, out),
        Value::Array(items) => items.iter().for_each(|i| walk_children(i, node, out)),
        _ => {}
    }
}

fn push_value(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => {
            if s.is_ascii() {
                let start = out.len();
                out.push_str(s);
                out[start..].make_ascii_lowercase();
            } else {
                out.extend(s.chars().flat_map(char::to_lowercase));
            }
            out.push('\0');
        }
        Value::Number(n) => {
            out.push_str(&n.to_string());
            out.push('\0');
        }
        Value::Bool(b) => {
            out.push_str(if *b { "true" } else { "false" });
            out.push('\0');
        }
        Value::Array(items) => items.iter().for_each(|i| push_value(i, out)),
        Value::Object(m) => m.values().for_each(|i| push_value(i, out)),
        Value::Null => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_literals() {
        let cases = [
            (r"(?i)\\mimikatz\.exe$", Some(r"\mimikatz.exe")),
            (r"foo.*barbaz", Some("barbaz")),
            (r"abcd?ef", Some("abc")),
            (r"a|bcdef", None),
            (r"(optional)?xyz", Some("xyz")),
            (r"[abc]+defg", Some("defg")),
            (r"\p{L}hello\d", Some("hello")),
            (r"\x41bcde", Some("bcde")),
            (r"ab+cde", Some("cde")),
            (r"(?x) a b c", None),
            (r"^\s*$", None),
        ];
        for (re, want) in cases {
            assert_eq!(regex_literal(re).as_deref(), want, "{re}");
        }
    }

    #[test]
    fn requirement_shapes() {
        let f = mamori_model::filter::parse(
            r#"winlog.channel:Security and winlog.event_id:4688 and (process.executable:*\\mimikatz.exe or process.command_line:*sekurlsa*)"#,
        )
        .unwrap();
        let mut fields = FieldTrie::default();
        let g = requirements(&f, &mut fields);
        assert_eq!(g.len(), 2);
        assert!(g.contains(&vec![r"\mimikatz.exe".to_string(), "sekurlsa".to_string()]));
        assert!(g.contains(&vec!["security".to_string()]));
        let f = mamori_model::filter::parse("a:abc or not b:xyz").unwrap();
        assert!(requirements(&f, &mut fields).is_empty());
        let doc = serde_json::json!({"winlog": {"channel": "Security", "other": "zzz"},
            "process.executable": "C:\\x\\mimikatz.exe", "b": [{"c": "yyy"}]});
        let mut hay = String::new();
        haystack(doc.as_object().unwrap(), &fields, &mut hay);
        assert_eq!(hay, "security\0c:\\x\\mimikatz.exe\0");
        // The same document built field by field, read from the event's tree.
        let ts = chrono::DateTime::from_timestamp(0, 0).unwrap();
        let mut ev = mamori_model::Event::new("t", ts, "x");
        ev.set("winlog.channel", serde_json::json!("Security"));
        ev.set("winlog.other", serde_json::json!("zzz"));
        ev.set(
            "process",
            serde_json::json!({"executable": "C:\\x\\mimikatz.exe"}),
        );
        ev.set("b", serde_json::json!([{"c": "yyy"}]));
        let mut tree_hay = String::new();
        haystack_tree(ev.root(), &fields, &mut tree_hay);
        assert_eq!(tree_hay, hay);
        let mut whole = FieldTrie::default();
        requirements(
            &mamori_model::filter::parse("winlog:security").unwrap(),
            &mut whole,
        );
        let mut tree_hay = String::new();
        haystack_tree(ev.root(), &whole, &mut tree_hay);
        let mut hay = String::new();
        haystack(ev.document(), &whole, &mut hay);
        assert_eq!(tree_hay, hay);
        assert_eq!(hay, "security\0zzz\0");
    }

    #[test]
    fn at_least_requires_one_of_its_literals() {
        let mut fields = FieldTrie::default();
        let req = |text: &str, fields: &mut FieldTrie| {
            requirements(&mamori_model::filter::parse(text).unwrap(), fields)
        };
        // Two of three: whichever two hold, one of the three literals is there.
        let g = req("2 of (a:*alpha* or b:*bravo* or c:*charlie*)", &mut fields);
        assert_eq!(g, [vec!["alpha".to_string(), "bravo".into(), "charlie".into()]]);
        // One alternative without literals: two holding still need one with a literal.
        let g = req("2 of (a:*alpha* or b:*bravo* or x > 3)", &mut fields);
        assert_eq!(g, [vec!["alpha".to_string(), "bravo".into()]]);
        // Two without literals may be the two that hold: nothing is required.
        assert!(req("2 of (a:*alpha* or x > 3 or not b:zzz)", &mut fields).is_empty());
    }
}
