//! Value modifiers: one detection item (`Field|mod1|mod2: values`) becomes a filter.
//!
//! | modifier | compiles to |
//! |---|---|
//! | none | whole value, case-insensitive (`Pattern::Phrase`, or `Pattern::Wildcard` with `*`/`?`) |
//! | `contains`, `startswith`, `endswith` | a wildcard `*x*`, `x*`, `*x` |
//! | `all` | the values joined by `and` instead of `or` |
//! | `cased` | a case-sensitive anchored regex |
//! | `re` (+ `i`, `m`, `s`) | `Pattern::Regex` with the flags; unanchored, as Sigma's |
//! | `base64`, `base64offset` | the encoded value (three shifted encodings for `base64offset`) |
//! | `utf16le`/`wide`, `utf16be`, `utf16` | the value as UTF-16 bytes (then `base64`/`base64offset`) |
//! | `windash` | every `-`/`/` starting a word in the five dash spellings |
//! | `expand` | `%name%` replaced by each value of the placeholder |
//! | `cidr` | `Pattern::Cidr` |
//! | `exists` | `_exists_:field` (or its negation) |
//! | `gt`, `gte`, `lt`, `lte` | a numeric comparison |
//! | `fieldref` (+ `contains`/`startswith`/`endswith`, `cased`) | `field:=other`, `field:=*other*`, `field:=other*`, `field:=*other`; `:==` when cased |
//! | null value | `not _exists_:field` |
//!
//! Free-text fields (see `mamori_model::fields`) are matched by words in the
//! filter language, so on them every value compiles to an anchored regex.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use mamori_model::fields::{FieldKind, kind_of};
use mamori_model::filter::{CompareOp, Filter, Pattern, RefOp, Scalar};
use serde_norway::Value;

use super::string::{Piece, SigmaStr};
use crate::error::{ErrorKind, RuleError};

/// Placeholder lookup for `expand`.
pub(crate) type Placeholders<'a> = &'a dyn Fn(&str) -> Option<Vec<String>>;

/// What an item needs from its rule: placeholder values and the field mapping.
pub(crate) struct Lookup<'a> {
    /// Values of `%name%` for `expand`.
    pub placeholders: Placeholders<'a>,
    /// Mamori fields of a Sigma field name (for `fieldref`).
    pub fields: &'a dyn Fn(&str) -> Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transform {
    Utf16Le,
    Utf16Be,
    Utf16Bom,
    Base64,
    Base64Offset,
    Windash,
    Expand,
}

/// The parsed modifier chain of one item.
#[derive(Debug, Default)]
struct Mods {
    all: bool,
    cased: bool,
    before: bool,
    after: bool,
    re: bool,
    re_flags: String,
    cidr: bool,
    exists: bool,
    fieldref: bool,
    compare: Option<CompareOp>,
    transforms: Vec<Transform>,
}

fn modifier_error(detail: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Modifier, detail)
}

impl Mods {
    fn parse(mods: &[&str]) -> Result<Mods, RuleError> {
        let mut m = Mods::default();
        let mut position = None;
        for raw in mods {
            let name = raw.to_ascii_lowercase();
            match name.as_str() {
                "contains" | "startswith" | "endswith" => {
                    if let Some(p) = position {
                        return Err(modifier_error(format!("`{name}` after `{p}`")));
                    }
                    position = Some(name.clone());
                    m.before = name != "startswith";
                    m.after = name != "endswith";
                }
                "all" => m.all = true,
                "cased" => m.cased = true,
                "re" => m.re = true,
                "i" | "ignorecase" | "m" | "multiline" | "s" | "dotall" => {
                    if !m.re {
                        return Err(modifier_error(format!("regex flag `{name}` without `re`")));
                    }
                    m.re_flags.push(name.chars().next().unwrap_or('i'));
                }
                "cidr" => m.cidr = true,
                "exists" => m.exists = true,
                "fieldref" => m.fieldref = true,
                "gt" => m.compare = Some(CompareOp::Gt),
                "gte" => m.compare = Some(CompareOp::Ge),
                "lt" => m.compare = Some(CompareOp::Lt),
                "lte" => m.compare = Some(CompareOp::Le),
                "wide" | "utf16le" => m.transforms.push(Transform::Utf16Le),
                "utf16be" => m.transforms.push(Transform::Utf16Be),
                "utf16" => m.transforms.push(Transform::Utf16Bom),
                "base64" => m.transforms.push(Transform::Base64),
                "base64offset" => m.transforms.push(Transform::Base64Offset),
                "windash" => m.transforms.push(Transform::Windash),
                "expand" => m.transforms.push(Transform::Expand),
                _ => return Err(modifier_error(format!("unknown modifier `{raw}`"))),
            }
        }
        let special = [m.re, m.cidr, m.exists, m.fieldref, m.compare.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if special > 1 {
            return Err(modifier_error(
                "`re`, `cidr`, `exists`, `fieldref` and comparisons exclude each other",
            ));
        }
        if special == 1 && (!m.transforms.is_empty() || position.is_some() && !m.fieldref) {
            return Err(modifier_error(format!(
                "`{}` cannot be combined with string modifiers",
                mods.join("|")
            )));
        }
        Ok(m)
    }
}

/// A value on its way through the transformations.
#[derive(Debug, Clone)]
enum Alt {
    Str(SigmaStr),
    Bytes(Vec<u8>),
}

/// The text of a YAML scalar (numbers and booleans as written); `None` for null.
pub(crate) fn scalar_text(v: &Value) -> Result<Option<String>, RuleError> {
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => {
            return Err(RuleError::new(
                ErrorKind::Value,
                format!("expected a scalar value, found {}", yaml_kind(other)),
            ));
        }
    }))
}

/// A name for a YAML value's type.
pub(crate) fn yaml_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Compile `Field|mods: values` for the Mamori `fields` the Sigma field maps
/// to; an empty `fields` means a keyword (matched against any value).
pub(crate) fn compile_item(
    fields: &[String],
    mods: &[&str],
    values: &Value,
    lookup: &Lookup<'_>,
) -> Result<Filter, RuleError> {
    let m = Mods::parse(mods)?;
    let list: Vec<&Value> = match values {
        Value::Sequence(items) => items.iter().collect(),
        other => vec![other],
    };
    if list.is_empty() {
        return Err(RuleError::new(ErrorKind::Value, "empty list of values"));
    }
    let mut per_value = Vec::new();
    for v in list {
        per_value.push(compile_value(fields, &m, v, lookup)?);
    }
    Ok(if m.all {
        Filter::and(per_value)
    } else {
        Filter::or(per_value)
    })
}

/// One value over all target fields.
fn compile_value(fields: &[String], m: &Mods, v: &Value, lookup: &Lookup<'_>) -> Result<Filter, RuleError> {
    if m.exists {
        let want = match v {
            Value::Bool(b) => *b,
            Value::String(s) if s.eq_ignore_ascii_case("true") => true,
            Value::String(s) if s.eq_ignore_ascii_case("false") => false,
            other => {
                return Err(RuleError::new(
                    ErrorKind::Value,
                    format!("`exists` needs true or false, found {}", yaml_kind(other)),
                ));
            }
        };
        let any = Filter::or(
            fields
                .iter()
                .map(|f| Filter::Exists { field: f.clone() })
                .collect(),
        );
        return Ok(if want { any } else { Filter::Not(Box::new(any)) });
    }
    let Some(text) = scalar_text(v)? else {
        if fields.is_empty() {
            return Err(RuleError::new(ErrorKind::Value, "a null keyword"));
        }
        let any = Filter::or(
            fields
                .iter()
                .map(|f| Filter::Exists { field: f.clone() })
                .collect(),
        );
        return Ok(Filter::Not(Box::new(any)));
    };
    let per_field = |pattern: &dyn Fn(Option<&str>) -> Pattern| -> Filter {
        if fields.is_empty() {
            return Filter::Match {
                field: None,
                value: pattern(None),
            };
        }
        Filter::or(
            fields
                .iter()
                .map(|f| Filter::Match {
                    field: Some(f.clone()),
                    value: pattern(Some(f)),
                })
                .collect(),
        )
    };
    if m.fieldref {
        if fields.is_empty() {
            return Err(RuleError::new(ErrorKind::Value, "`fieldref` needs a field"));
        }
        let others = (lookup.fields)(&text);
        let op = match (m.before, m.after) {
            (false, false) => RefOp::Equals,
            (false, true) => RefOp::StartsWith,
            (true, false) => RefOp::EndsWith,
            (true, true) => RefOp::Contains,
        };
        let mut items = Vec::new();
        for f in fields {
            for o in &others {
                items.push(Filter::FieldRef {
                    field: f.clone(),
                    other: o.clone(),
                    op,
                    cased: m.cased,
                });
            }
        }
        return Ok(Filter::or(items));
    }
    if let Some(op) = m.compare {
        let n = text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .ok_or_else(|| RuleError::new(ErrorKind::Value, format!("`{text}` is not a number")))?;
        if fields.is_empty() {
            return Err(RuleError::new(ErrorKind::Value, "a comparison needs a field"));
        }
        return Ok(Filter::or(
            fields
                .iter()
                .map(|f| Filter::Compare {
                    field: f.clone(),
                    op,
                    value: Scalar::Number(n),
                })
                .collect(),
        ));
    }
    if m.cidr {
        let net = text
            .trim()
            .parse::<ipnet::IpNet>()
            .or_else(|_| text.trim().parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map_err(|_| RuleError::new(ErrorKind::Value, format!("`{text}` is not a CIDR network")))?;
        return Ok(per_field(&|_| Pattern::Cidr(net)));
    }
    if m.re {
        let mut flags = String::new();
        for f in ['i', 'm', 's'] {
            if m.re_flags.contains(f) {
                flags.push(f);
            }
        }
        let re = if flags.is_empty() {
            text
        } else {
            format!("(?{flags}){text}")
        };
        // Parsing is enough to find unsupported syntax; compiling is the detector's job.
        if let Err(e) = regex_syntax::Parser::new().parse(&re) {
            return Err(RuleError::new(
                ErrorKind::Regex,
                regex_reason(&re, &e.to_string()),
            ));
        }
        return Ok(per_field(&|_| Pattern::Regex(re.clone())));
    }
    let alts = transform(SigmaStr::parse(&text), m, lookup.placeholders)?;
    let mut out = Vec::new();
    for s in alts {
        let s = s.wrap(m.before, m.after);
        out.push(per_field(&|field| string_pattern(&s, field, m.cased)));
    }
    Ok(Filter::or(out))
}

/// A plain Sigma string as a pattern on `field` (`None`: a keyword).
fn string_pattern(s: &SigmaStr, field: Option<&str>, cased: bool) -> Pattern {
    match field {
        None => {
            let flags = if cased { "(?s)" } else { "(?is)" };
            Pattern::Regex(format!("{flags}{}", s.to_regex_body()))
        }
        Some(f) if cased || kind_of(f) == FieldKind::Text => Pattern::Regex(s.to_anchored_regex(cased)),
        Some(_) => s.to_pattern(),
    }
}

/// Why the regex engine refuses a pattern, in one line.
fn regex_reason(re: &str, msg: &str) -> String {
    let last = msg
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or("error: invalid regex")
        .trim_start_matches("error: ");
    let feature = if re.contains("(?<=") || re.contains("(?<!") || re.contains("(?=") || re.contains("(?!") {
        " (look-around is not supported)"
    } else if last.contains("backreference") {
        " (back-references are not supported)"
    } else {
        ""
    };
    format!("regex /{re}/: {last}{feature}")
}

/// Apply the string transformations in order.
fn transform(start: SigmaStr, m: &Mods, placeholders: Placeholders<'_>) -> Result<Vec<SigmaStr>, RuleError> {
    let mut alts = vec![Alt::Str(start)];
    for t in &m.transforms {
        let mut next = Vec::new();
        for a in alts {
            match (t, a) {
                (Transform::Expand, Alt::Str(s)) => {
                    next.extend(expand(&s, placeholders)?.into_iter().map(Alt::Str))
                }
                (Transform::Windash, Alt::Str(s)) => next.extend(windash(&s).into_iter().map(Alt::Str)),
                (Transform::Utf16Le | Transform::Utf16Be | Transform::Utf16Bom, Alt::Str(s)) => {
                    let text = s
                        .as_plain()
                        .ok_or_else(|| modifier_error("UTF-16 of a value with wildcards"))?;
                    let mut bytes = Vec::new();
                    if *t == Transform::Utf16Bom {
                        bytes.extend([0xFF, 0xFE]);
                    }
                    for u in text.encode_utf16() {
                        bytes.extend(if *t == Transform::Utf16Be {
                            u.to_be_bytes()
                        } else {
                            u.to_le_bytes()
                        });
                    }
                    next.push(Alt::Bytes(bytes));
                }
                (Transform::Base64 | Transform::Base64Offset, a) => {
                    let bytes = match a {
                        Alt::Bytes(b) => b,
                        Alt::Str(s) => s
                            .as_plain()
                            .ok_or_else(|| modifier_error("base64 of a value with wildcards"))?
                            .into_bytes(),
                    };
                    if *t == Transform::Base64 {
                        next.push(Alt::Str(SigmaStr::literal(&STANDARD.encode(&bytes))));
                    } else {
                        next.extend(
                            base64_offsets(&bytes)
                                .into_iter()
                                .map(|s| Alt::Str(SigmaStr::literal(&s))),
                        );
                    }
                }
                (t, Alt::Bytes(_)) => {
                    return Err(modifier_error(format!("{t:?} after UTF-16 without base64")));
                }
            }
        }
        alts = next;
    }
    alts.into_iter()
        .map(|a| match a {
            Alt::Str(s) => Ok(s),
            Alt::Bytes(b) => String::from_utf8(b)
                .map(|s| SigmaStr::literal(&s))
                .map_err(|_| modifier_error("UTF-16 value not followed by `base64` or `base64offset`")),
        })
        .collect()
}

/// The three base64 encodings of `bytes` at offsets 0, 1 and 2 within a
/// longer text, less the characters that depend on the surrounding bytes.
pub(crate) fn base64_offsets(bytes: &[u8]) -> Vec<String> {
    const START: [usize; 3] = [0, 2, 3];
    let mut out = Vec::new();
    for i in 0..3 {
        let mut padded = vec![b' '; i];
        padded.extend_from_slice(bytes);
        let enc = STANDARD.encode(&padded);
        let end_cut = match (bytes.len() + i) % 3 {
            0 => 0,
            1 => 3,
            _ => 2,
        };
        let end = enc.len().saturating_sub(end_cut);
        if START[i] < end {
            out.push(enc[START[i]..end].to_string());
        }
    }
    out
}

/// The dash characters `windash` expands to.
const DASHES: [char; 5] = ['-', '/', '\u{2013}', '\u{2014}', '\u{2015}'];

/// Every spelling of `s` with each `-` or `/` that starts a word replaced by
/// each dash (all combinations up to four positions; beyond, one dash for all).
fn windash(s: &SigmaStr) -> Vec<SigmaStr> {
    // Positions: (piece index, char index) of dashes at a word start.
    let mut positions = Vec::new();
    for (pi, p) in s.0.iter().enumerate() {
        if let Piece::Lit(text) = p {
            let chars: Vec<char> = text.chars().collect();
            for (ci, c) in chars.iter().enumerate() {
                let before_ok = ci == 0 || !(chars[ci - 1].is_alphanumeric() || chars[ci - 1] == '_');
                let after_ok = chars
                    .get(ci + 1)
                    .is_some_and(|n| n.is_alphanumeric() || *n == '_');
                if (*c == '-' || *c == '/') && before_ok && after_ok {
                    positions.push((pi, ci));
                }
            }
        }
    }
    if positions.is_empty() {
        return vec![s.clone()];
    }
    let spell = |choice: &dyn Fn(usize) -> char| -> SigmaStr {
        let mut out = SigmaStr::default();
        for (pi, p) in s.0.iter().enumerate() {
            match p {
                Piece::Lit(text) => {
                    let t: String = text
                        .chars()
                        .enumerate()
                        .map(|(ci, c)| match positions.iter().position(|&x| x == (pi, ci)) {
                            Some(k) => choice(k),
                            None => c,
                        })
                        .collect();
                    out.push_str(&t);
                }
                other => out.push(other.clone()),
            }
        }
        out
    };
    if positions.len() > 4 {
        return DASHES.iter().map(|d| spell(&|_| *d)).collect();
    }
    let n = positions.len() as u32;
    (0..DASHES.len().pow(n))
        .map(|combo| spell(&|k| DASHES[(combo / DASHES.len().pow(k as u32)) % DASHES.len()]))
        .collect()
}

/// Replace each `%name%` with each value of the placeholder.
fn expand(s: &SigmaStr, placeholders: Placeholders<'_>) -> Result<Vec<SigmaStr>, RuleError> {
    let mut outs = vec![SigmaStr::default()];
    for p in &s.0 {
        let Piece::Lit(text) = p else {
            outs.iter_mut().for_each(|o| o.push(p.clone()));
            continue;
        };
        let mut rest = text.as_str();
        while let Some(start) = rest.find('%') {
            let Some(len) = rest[start + 1..].find('%') else {
                break;
            };
            let name = &rest[start + 1..start + 1 + len];
            let values = placeholders(name).ok_or_else(|| {
                RuleError::new(
                    ErrorKind::Placeholder,
                    format!("placeholder `%{name}%` has no values"),
                )
            })?;
            let head = &rest[..start];
            let mut next = Vec::new();
            for o in &outs {
                for v in &values {
                    let mut o = o.clone();
                    o.push_str(head);
                    // Placeholder values may hold wildcards.
                    for piece in SigmaStr::parse(v).0 {
                        o.push(piece);
                    }
                    next.push(o);
                }
            }
            outs = next;
            rest = &rest[start + len + 2..];
        }
        outs.iter_mut().for_each(|o| o.push_str(rest));
    }
    Ok(outs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_placeholders(_: &str) -> Option<Vec<String>> {
        None
    }

    fn same(name: &str) -> Vec<String> {
        vec![name.to_string()]
    }

    const PLAIN: Lookup<'static> = Lookup {
        placeholders: &no_placeholders,
        fields: &same,
    };

    fn item(field: &str, mods: &[&str], yaml: &str) -> Result<String, RuleError> {
        let v: Value = serde_norway::from_str(yaml).unwrap();
        compile_item(&[field.to_string()], mods, &v, &PLAIN).map(|f| f.to_string())
    }

    #[test]
    fn plain_and_positions() {
        assert_eq!(item("a", &[], "x y").unwrap(), r#"a:"x y""#);
        assert_eq!(item("a", &["contains"], "x").unwrap(), "a:*x*");
        assert_eq!(item("a", &["startswith"], "x").unwrap(), "a:x*");
        assert_eq!(item("a", &["endswith"], "x").unwrap(), "a:*x");
        assert_eq!(
            item("a", &["contains", "all"], "[x, y]").unwrap(),
            "a:*x* and a:*y*"
        );
        assert_eq!(item("a", &[], "[x, y]").unwrap(), r#"a:"x" or a:"y""#);
    }

    #[test]
    fn null_exists_compare_cidr() {
        assert_eq!(item("a", &[], "null").unwrap(), "not a:*");
        assert_eq!(item("a", &["exists"], "true").unwrap(), "a:*");
        assert_eq!(item("a", &["exists"], "false").unwrap(), "not a:*");
        assert_eq!(item("a", &["gte"], "10").unwrap(), "a >= 10");
        assert_eq!(item("a", &["lt"], "2.5").unwrap(), "a < 2.5");
        assert_eq!(item("a", &["cidr"], "10.0.0.0/8").unwrap(), "a:10.0.0.0/8");
        assert_eq!(item("a", &["cidr"], "nope").unwrap_err().kind, ErrorKind::Value);
        assert_eq!(item("a", &["gt"], "x").unwrap_err().kind, ErrorKind::Value);
    }

    #[test]
    fn regex_and_cased() {
        assert_eq!(item("a", &["re"], "'^x.*y$'").unwrap(), "a:/^x.*y$/");
        assert_eq!(item("a", &["re", "i"], "'x'").unwrap(), "a:/(?i)x/");
        assert_eq!(item("a", &["re", "i", "s", "m"], "'x'").unwrap(), "a:/(?ims)x/");
        assert_eq!(
            item("a", &["re"], "'(?<!x)y'").unwrap_err().kind,
            ErrorKind::Regex
        );
        assert_eq!(item("a", &["cased"], "AbC").unwrap(), "a:/(?s)^AbC$/");
        assert_eq!(
            item("a", &["contains", "cased"], "AbC").unwrap(),
            "a:/(?s)^.*AbC.*$/"
        );
    }

    #[test]
    fn base64_family() {
        assert_eq!(item("a", &["base64"], "abc").unwrap(), r#"a:"YWJj""#);
        // "http://" at offsets 0, 1, 2 (the SigmaHQ documented triple).
        assert_eq!(base64_offsets(b"http://"), ["aHR0cDovL", "h0dHA6Ly", "odHRwOi8v"]);
        let f = item("a", &["base64offset", "contains"], "http://").unwrap();
        assert_eq!(f, "a:*aHR0cDovL* or a:*h0dHA6Ly* or a:*odHRwOi8v*");
        // wide: "ab" as UTF-16LE is 61 00 62 00.
        assert_eq!(item("a", &["wide", "base64"], "ab").unwrap(), r#"a:"YQBiAA==""#);
        assert_eq!(
            item("a", &["utf16be", "base64"], "ab").unwrap(),
            r#"a:"AGEAYg==""#
        );
        assert_eq!(item("a", &["utf16", "base64"], "ab").unwrap(), r#"a:"//5hAGIA""#);
        assert_eq!(
            item("a", &["wide", "contains"], "a*").unwrap_err().kind,
            ErrorKind::Modifier
        );
    }

    #[test]
    fn windash_spellings() {
        let f = item("a", &["contains", "windash"], "' -enc '").unwrap();
        for d in ["-", "/", "\u{2013}", "\u{2014}", "\u{2015}"] {
            assert!(f.contains(&format!("{d}enc")), "{f}");
        }
        let two = item("a", &["windash"], "'-a -b'").unwrap();
        assert_eq!(two.matches(" or ").count(), 24);
    }

    #[test]
    fn expand_placeholders() {
        let v: Value = serde_norway::from_str("'%hosts%*'").unwrap();
        let ph = |name: &str| (name == "hosts").then(|| vec!["ws1".to_string(), "ws2".to_string()]);
        let lookup = Lookup {
            placeholders: &ph,
            fields: &same,
        };
        let f = compile_item(&["a".into()], &["expand"], &v, &lookup).unwrap();
        assert_eq!(f.to_string(), "a:ws1* or a:ws2*");
        let err = compile_item(&["a".into()], &["expand"], &v, &PLAIN).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Placeholder);
        assert!(err.detail.contains("%hosts%"));
    }

    #[test]
    fn modifier_errors() {
        assert_eq!(item("a", &["bogus"], "x").unwrap_err().kind, ErrorKind::Modifier);
        assert_eq!(item("a", &["i"], "x").unwrap_err().kind, ErrorKind::Modifier);
        assert_eq!(
            item("a", &["contains", "endswith"], "x").unwrap_err().kind,
            ErrorKind::Modifier
        );
        assert_eq!(
            item("a", &["fieldref", "re"], "b").unwrap_err().kind,
            ErrorKind::Modifier
        );
        assert_eq!(
            item("a", &["fieldref", "base64"], "b").unwrap_err().kind,
            ErrorKind::Modifier
        );
    }

    #[test]
    fn field_references_with_parts_and_case() {
        assert_eq!(item("a", &["fieldref"], "b").unwrap(), "a:=b");
        assert_eq!(item("a", &["fieldref", "contains"], "b").unwrap(), "a:=*b*");
        assert_eq!(item("a", &["fieldref", "startswith"], "b").unwrap(), "a:=b*");
        assert_eq!(item("a", &["fieldref", "endswith"], "b").unwrap(), "a:=*b");
        assert_eq!(item("a", &["fieldref", "cased"], "b").unwrap(), "a:==b");
        assert_eq!(
            item("a", &["fieldref", "endswith", "cased"], "b").unwrap(),
            "a:==*b"
        );
        assert_eq!(
            item("a", &["fieldref", "contains", "all"], "[b, c]").unwrap(),
            "a:=*b* and a:=*c*"
        );
    }

    #[test]
    fn keywords_and_text_fields_use_regexes() {
        let v: Value = serde_norway::from_str("'a.b'").unwrap();
        let f = compile_item(&[], &[], &v, &PLAIN).unwrap();
        assert_eq!(f.to_string(), r"/(?is)a\.b/");
        let f = compile_item(&["message".into()], &["contains"], &v, &PLAIN).unwrap();
        assert_eq!(f.to_string(), r"message:/(?is)^.*a\.b.*$/");
    }
}
