//! Printing filters as canonical text: `parse(&f.to_string()) == Ok(f)` for
//! every filter [`parse`](super::parse) returns.
//!
//! Keywords are lower-case, `and` binds tighter than `or` so only an `or`
//! inside an `and` (and any `and`/`or` under `not`) gets parentheses, `field:*`
//! stands for [`Filter::Exists`], `field:=other` (`field:==*other*`, …) for
//! [`Filter::FieldRef`], `n of (a or b)` for [`Filter::AtLeast`] (an `or`
//! alternative in parentheses), and values are escaped only where the parser
//! needs it. Range and comparison literals that would not read back as the
//! same [`Scalar`] are quoted.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{Bound, Filter, Pattern, RefOp, Scalar, WildPart};
use super::parser::is_field_char;

impl Display for Filter {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Filter::All => f.write_str("*"),
            Filter::And(items) => join(f, items, " and ", |i| matches!(i, Filter::And(_) | Filter::Or(_))),
            Filter::Or(items) => join(f, items, " or ", |i| matches!(i, Filter::Or(_))),
            Filter::Not(inner) => {
                f.write_str("not ")?;
                grouped(f, inner, matches!(**inner, Filter::And(_) | Filter::Or(_)))
            }
            Filter::AtLeast { n, children } => {
                write!(f, "{n} of (")?;
                join(f, children, " or ", |i| matches!(i, Filter::Or(_)))?;
                f.write_char(')')
            }
            Filter::Match { field: None, value } => write_pattern(f, value, Position::Bare),
            Filter::Match {
                field: Some(field),
                value,
            } => {
                write_field(f, field)?;
                f.write_char(':')?;
                write_pattern(f, value, Position::Value)
            }
            Filter::Compare { field, op, value } => {
                write_field(f, field)?;
                write!(f, " {} ", op.symbol())?;
                write_scalar(f, value)
            }
            Filter::Range { field, lower, upper } => {
                write_field(f, field)?;
                f.write_str(if lower.as_ref().is_none_or(|b| b.inclusive) {
                    ":["
                } else {
                    ":{"
                })?;
                write_bound(f, lower.as_ref())?;
                f.write_str(" TO ")?;
                write_bound(f, upper.as_ref())?;
                f.write_str(if upper.as_ref().is_none_or(|b| b.inclusive) {
                    "]"
                } else {
                    "}"
                })
            }
            Filter::Exists { field } => {
                write_field(f, field)?;
                f.write_str(":*")
            }
            Filter::FieldRef {
                field,
                other,
                op,
                cased,
            } => {
                write_field(f, field)?;
                f.write_str(if *cased { ":==" } else { ":=" })?;
                if matches!(op, RefOp::EndsWith | RefOp::Contains) {
                    f.write_char('*')?;
                }
                write_field(f, other)?;
                if matches!(op, RefOp::StartsWith | RefOp::Contains) {
                    f.write_char('*')?;
                }
                Ok(())
            }
            Filter::ListRef { field: None, name } => write!(f, "@{name}"),
            Filter::ListRef {
                field: Some(field),
                name,
            } => {
                write_field(f, field)?;
                write!(f, ":@{name}")
            }
        }
    }
}

/// `items` separated by `sep`, parenthesizing those for which `paren` holds.
fn join(f: &mut Formatter<'_>, items: &[Filter], sep: &str, paren: fn(&Filter) -> bool) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(sep)?;
        }
        grouped(f, item, paren(item))?;
    }
    Ok(())
}

fn grouped(f: &mut Formatter<'_>, inner: &Filter, paren: bool) -> fmt::Result {
    if paren {
        write!(f, "({inner})")
    } else {
        write!(f, "{inner}")
    }
}

/// Where an unquoted pattern is printed; decides what needs escaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Position {
    /// A bare term, where `:` `<` `>` end the word and keywords are special.
    Bare,
    /// After `field:`.
    Value,
}

fn write_pattern(f: &mut Formatter<'_>, pattern: &Pattern, pos: Position) -> fmt::Result {
    match pattern {
        Pattern::Term(text) => {
            let keyword =
                pos == Position::Bare && ["and", "or", "not"].iter().any(|k| text.eq_ignore_ascii_case(k));
            let cidr_like = text.contains('/') && text.parse::<ipnet::IpNet>().is_ok();
            write_unquoted(f, text, pos, true, |i, c| {
                (keyword && i == 0) || (cidr_like && c == '/')
            })
        }
        Pattern::Phrase(text) => write_quoted(f, text),
        Pattern::Wildcard(parts) => {
            let mut first = true;
            for part in parts {
                match part {
                    WildPart::Any => f.write_char('*')?,
                    WildPart::One => f.write_char('?')?,
                    WildPart::Literal(text) => write_unquoted(f, text, pos, first, |_, _| false)?,
                }
                first = false;
            }
            Ok(())
        }
        Pattern::Cidr(net) => {
            let text = net.to_string();
            write_unquoted(f, &text, pos, true, |_, c| pos == Position::Bare && c == ':')
        }
        Pattern::Regex(re) => write_regex(f, re),
    }
}

/// Unquoted text, escaping what the parser would read differently; `at_start`
/// when the text begins the value, `extra(i, c)` for caller-specific escapes.
fn write_unquoted(
    f: &mut Formatter<'_>,
    text: &str,
    pos: Position,
    at_start: bool,
    extra: impl Fn(usize, char) -> bool,
) -> fmt::Result {
    for (i, c) in text.chars().enumerate() {
        let first = at_start && i == 0;
        let special = c.is_whitespace()
            || matches!(c, '(' | ')' | '"' | '\\' | '*' | '?')
            || (first && matches!(c, '[' | '{' | '/' | '@' | '='))
            || (pos == Position::Bare && matches!(c, ':' | '<' | '>'))
            || (pos == Position::Bare && first && matches!(c, '!' | '&' | '|'));
        if special || extra(i, c) {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    Ok(())
}

fn write_field(f: &mut Formatter<'_>, field: &str) -> fmt::Result {
    let exists = field.eq_ignore_ascii_case("_exists_");
    for (i, c) in field.chars().enumerate() {
        if !is_field_char(c) || (exists && i == 0) {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    Ok(())
}

fn write_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// `/regex/`: a `/` becomes `\/`; backslash pairs are copied as they are.
fn write_regex(f: &mut Formatter<'_>, re: &str) -> fmt::Result {
    f.write_char('/')?;
    let mut chars = re.chars();
    while let Some(c) = chars.next() {
        match c {
            '/' => f.write_str("\\/")?,
            '\\' => {
                f.write_char('\\')?;
                if let Some(next) = chars.next() {
                    f.write_char(next)?;
                }
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char('/')
}

fn write_bound(f: &mut Formatter<'_>, bound: Option<&Bound>) -> fmt::Result {
    match bound {
        Some(b) => write_scalar(f, &b.value),
        None => f.write_char('*'),
    }
}

fn write_scalar(f: &mut Formatter<'_>, value: &Scalar) -> fmt::Result {
    match value {
        Scalar::Number(n) => write!(f, "{n}"),
        Scalar::Text(text) if needs_quotes(text) => write_quoted(f, text),
        Scalar::Text(text) => f.write_str(text),
    }
}

/// Whether a text literal must be quoted to read back as the same text.
fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.parse::<f64>().is_ok()
        || text.eq_ignore_ascii_case("to")
        || !text
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '+' | '@' | '/'))
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    #[test]
    fn at_least_and_field_reference_errors() {
        for (bad, column) in [
            ("0 of (a or b)", 1),
            ("3 of (a or b)", 1),
            ("2 of (a or b", 6),
            ("a:=*", 4),
            ("a:=**", 4),
        ] {
            assert_eq!(parse(bad).unwrap_err().column, column, "{bad}");
        }
    }

    #[test]
    fn canonical_forms() {
        let cases = [
            ("a OR b AND c", "a or b and c"),
            ("(a OR b) c", "(a or b) and c"),
            ("NOT (a b)", "not (a and b)"),
            ("!a && b || c", "not a and b or c"),
            ("_exists_:x", "x:*"),
            (r#"f:"a \"b\"""#, r#"f:"a \"b\"""#),
            ("f:{* TO 5]", "f:[* TO 5]"),
            ("f:[a to \"b c\"}", "f:[a TO \"b c\"}"),
            ("f >= 10.50", "f >= 10.5"),
            ("f<\"10\"", "f < \"10\""),
            (r"\and", r"\and"),
            (r"f:10.0.0.0\/8", r"f:10.0.0.0\/8"),
            (r"2001\:db8\:\:/32", r"2001\:db8\:\:/32"),
            ("f:2001:db8::/32", "f:2001:db8::/32"),
            ("f:/a\\/b/", "f:/a\\/b/"),
            ("f:(a or b)", "f:a or f:b"),
            (
                "2 OF (a or (b or c) or d and e)",
                "2 of (a or (b or c) or d and e)",
            ),
            ("not 1 of (a or b)", "not 1 of (a or b)"),
            ("2 of x", "2 and of and x"),
            ("2:x", "2:x"),
            ("a:=b", "a:=b"),
            ("a:==*b*", "a:==*b*"),
            ("a:=b*", "a:=b*"),
            (r"a:=*b\*", r"a:=*b\*"),
            ("", "*"),
        ];
        for (input, printed) in cases {
            let f = parse(input).unwrap();
            assert_eq!(f.to_string(), printed, "{input}");
            assert_eq!(parse(printed).unwrap(), f, "{input}");
        }
    }
}
