//! The Sigma `condition` expression.
//!
//! ```text
//! or   := and ("or" and)*
//! and  := not ("and" not)*
//! not  := "not" not | atom
//! atom := "(" or ")" | (number | "any" | "all") "of" (pattern | "them") | name
//! ```
//!
//! Keywords are case-insensitive; a pattern may use `*` (`1 of selection_*`);
//! `them` means every selection whose name does not start with `_`. `N of`
//! for any N from 1 to the number of selections named becomes
//! [`Filter::at_least`] (`or` for 1, `and` for all of them). The deprecated
//! aggregations (`| count() > 5`, `| near …`) are refused: write a correlation rule.

use std::collections::BTreeMap;

use mamori_model::Filter;

use crate::error::{ErrorKind, RuleError};

fn cond_error(detail: impl Into<String>) -> RuleError {
    RuleError::new(ErrorKind::Condition, detail)
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Word(String),
}

fn tokenize(text: &str) -> Result<Vec<Tok>, RuleError> {
    let mut out = Vec::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut Vec<Tok>| {
        if !word.is_empty() {
            out.push(Tok::Word(std::mem::take(word)));
        }
    };
    for c in text.chars() {
        match c {
            '(' | ')' => {
                flush(&mut word, &mut out);
                out.push(if c == '(' { Tok::Open } else { Tok::Close });
            }
            '|' => {
                return Err(RuleError::new(
                    ErrorKind::Unimplemented,
                    "aggregation in the condition (`| count() …`) is deprecated: use a correlation rule",
                ));
            }
            c if c.is_whitespace() => flush(&mut word, &mut out),
            c => word.push(c),
        }
    }
    flush(&mut word, &mut out);
    Ok(out)
}

/// Parse `condition` and build the filter from the compiled selections.
pub(crate) fn compile(text: &str, selections: &BTreeMap<String, Filter>) -> Result<Filter, RuleError> {
    let toks = tokenize(text)?;
    if toks.is_empty() {
        return Err(cond_error("empty condition"));
    }
    let mut p = Parser {
        toks,
        pos: 0,
        selections,
        depth: 0,
    };
    let f = p.or()?;
    if p.pos < p.toks.len() {
        return Err(cond_error(format!("unexpected `{}` in `{text}`", p.show(p.pos))));
    }
    Ok(f)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    selections: &'a BTreeMap<String, Filter>,
    depth: usize,
}

impl Parser<'_> {
    fn show(&self, i: usize) -> String {
        match &self.toks[i] {
            Tok::Open => "(".into(),
            Tok::Close => ")".into(),
            Tok::Word(w) => w.clone(),
        }
    }

    fn keyword(&self, kw: &str) -> bool {
        matches!(self.toks.get(self.pos), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }

    fn or(&mut self) -> Result<Filter, RuleError> {
        let mut items = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            items.push(self.and()?);
        }
        Ok(Filter::or(items))
    }

    fn and(&mut self) -> Result<Filter, RuleError> {
        let mut items = vec![self.not()?];
        while self.keyword("and") {
            self.pos += 1;
            items.push(self.not()?);
        }
        Ok(and_keep(items))
    }

    fn not(&mut self) -> Result<Filter, RuleError> {
        if self.keyword("not") {
            self.pos += 1;
            let inner = self.not()?;
            return Ok(match inner {
                Filter::Not(x) => *x,
                other => Filter::Not(Box::new(other)),
            });
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Filter, RuleError> {
        self.depth += 1;
        if self.depth > 64 {
            return Err(cond_error("condition nested too deeply"));
        }
        let out = self.atom_inner();
        self.depth -= 1;
        out
    }

    fn atom_inner(&mut self) -> Result<Filter, RuleError> {
        match self.toks.get(self.pos).cloned() {
            None => Err(cond_error("condition ends too early")),
            Some(Tok::Open) => {
                self.pos += 1;
                let f = self.or()?;
                if self.toks.get(self.pos) != Some(&Tok::Close) {
                    return Err(cond_error("missing `)`"));
                }
                self.pos += 1;
                Ok(f)
            }
            Some(Tok::Close) => Err(cond_error("unexpected `)`")),
            Some(Tok::Word(w)) => {
                self.pos += 1;
                let quant = w.to_ascii_lowercase();
                if self.keyword("of") {
                    self.pos += 1;
                    let Some(Tok::Word(target)) = self.toks.get(self.pos).cloned() else {
                        return Err(cond_error(format!(
                            "`{w} of` needs a selection pattern or `them`"
                        )));
                    };
                    self.pos += 1;
                    return self.of(&quant, &target);
                }
                if ["and", "or", "not", "of"].contains(&quant.as_str()) {
                    return Err(cond_error(format!("unexpected `{w}`")));
                }
                self.selections
                    .get(&w)
                    .cloned()
                    .ok_or_else(|| cond_error(format!("unknown selection `{w}`")))
            }
        }
    }

    fn of(&self, quant: &str, target: &str) -> Result<Filter, RuleError> {
        let names: Vec<&String> = if target.eq_ignore_ascii_case("them") {
            self.selections.keys().filter(|k| !k.starts_with('_')).collect()
        } else {
            self.selections.keys().filter(|k| glob(target, k)).collect()
        };
        if names.is_empty() {
            return Err(cond_error(format!("`{quant} of {target}` matches no selection")));
        }
        let items: Vec<Filter> = names.iter().map(|n| self.selections[*n].clone()).collect();
        match quant {
            "1" | "any" => Ok(Filter::or(items)),
            "all" => Ok(and_keep(items)),
            n => match n.parse::<usize>() {
                Ok(k) if k >= 1 && k <= items.len() => Ok(Filter::at_least(k, items)),
                Ok(k) => Err(cond_error(format!(
                    "`{k} of {target}` names {} selection{}: the count must be 1 to {}",
                    items.len(),
                    if items.len() == 1 { "" } else { "s" },
                    items.len()
                ))),
                Err(_) => Err(cond_error(format!("`{n} of`: expected 1, any, all or a number"))),
            },
        }
    }
}

/// `and` that keeps a lone `All` meaningful (an empty selection matches all).
fn and_keep(items: Vec<Filter>) -> Filter {
    Filter::and(items)
}

/// `*` glob over selection names (case-sensitive, as names are).
fn glob(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            let Some(rest) = name.strip_prefix(head) else {
                return false;
            };
            if !tail.contains('*') {
                return rest.len() >= tail.len() && rest.ends_with(tail);
            }
            (0..=rest.len()).any(|i| rest.is_char_boundary(i) && glob(tail, &rest[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use mamori_model::filter::Pattern;

    use super::*;

    fn sels() -> BTreeMap<String, Filter> {
        ["sel_a", "sel_b", "filter", "_hidden"]
            .iter()
            .map(|n| {
                (
                    n.to_string(),
                    Filter::Match {
                        field: Some(n.to_string()),
                        value: Pattern::Term("x".into()),
                    },
                )
            })
            .collect()
    }

    fn c(text: &str) -> Result<String, RuleError> {
        compile(text, &sels()).map(|f| f.to_string())
    }

    #[test]
    fn forms() {
        assert_eq!(c("sel_a and not filter").unwrap(), "sel_a:x and not filter:x");
        assert_eq!(
            c("sel_a or sel_b and filter").unwrap(),
            "sel_a:x or sel_b:x and filter:x"
        );
        assert_eq!(
            c("(sel_a or sel_b) and filter").unwrap(),
            "(sel_a:x or sel_b:x) and filter:x"
        );
        assert_eq!(c("1 of sel_*").unwrap(), "sel_a:x or sel_b:x");
        assert_eq!(c("all of sel_*").unwrap(), "sel_a:x and sel_b:x");
        assert_eq!(c("1 of them").unwrap(), "filter:x or sel_a:x or sel_b:x");
        assert_eq!(c("all of them").unwrap(), "filter:x and sel_a:x and sel_b:x");
        assert_eq!(c("NOT not sel_a").unwrap(), "sel_a:x");
        assert_eq!(c("2 of sel_*").unwrap(), "sel_a:x and sel_b:x");
        assert_eq!(c("any of sel*").unwrap(), "sel_a:x or sel_b:x");
        assert_eq!(c("2 of them").unwrap(), "2 of (filter:x or sel_a:x or sel_b:x)");
        assert_eq!(
            c("sel_a and not 2 of them").unwrap(),
            "sel_a:x and not 2 of (filter:x or sel_a:x or sel_b:x)"
        );
    }

    #[test]
    fn any_count_of_many_selections() {
        let many: BTreeMap<String, Filter> = (0..20)
            .map(|i| {
                let name = format!("s{i:02}");
                let f = Filter::Match {
                    field: Some(name.clone()),
                    value: Pattern::Term("x".into()),
                };
                (name, f)
            })
            .collect();
        let Filter::AtLeast { n, children } = compile("7 of s*", &many).unwrap() else {
            panic!("not an AtLeast");
        };
        assert_eq!((n, children.len()), (7, 20));
        let err = compile("21 of s*", &many).unwrap_err();
        assert_eq!(err.kind, ErrorKind::Condition);
        assert!(err.detail.contains("names 20 selections"), "{}", err.detail);
        assert!(compile("0 of s*", &many).is_err());
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "sel_a and",
            "(sel_a",
            "nope",
            "sel_a sel_b",
            "1 of zz*",
            "sel_a | count() > 5",
            "and",
            "4 of them",
        ] {
            assert!(c(bad).is_err(), "{bad}");
        }
        assert!(c("nope").unwrap_err().detail.contains("unknown selection `nope`"));
        let agg = c("sel_a | count(User) by Host > 5").unwrap_err();
        assert_eq!(agg.kind, ErrorKind::Unimplemented);
        assert!(agg.detail.contains("use a correlation rule"), "{}", agg.detail);
    }

    #[test]
    fn globbing() {
        assert!(glob("sel*", "selection"));
        assert!(glob("*_b", "sel_b"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("sel*", "filter"));
    }
}
