//! The filter parser: Lucene / KQL syntax as analysts type it in Kibana.
//!
//! ```text
//! query   := or                        (empty or blank input: match all)
//! or      := and (("or" | "||") and)*
//! and     := unary (("and" | "&&")? unary)*      (adjacent terms: implicit and)
//! unary   := ("not" | "!") unary | primary
//! primary := "(" or ")"
//!          | digits "of" "(" and ("or" and)* ")"  at least that many of the alternatives
//!          | "*"                                  match all
//!          | "_exists_:" field                    field has a value
//!          | field ":" value
//!          | field ("<" | "<=" | ">" | ">=") scalar
//!          | "@" list                             context list, any text
//!          | '"' phrase '"' | "/" regex "/" | word   bare: words of any text
//! value   := "*"                                  field has a value
//!          | "(" or ")"                           every term is a value of the field
//!          | ("[" | "{") bound "TO" bound ("]" | "}")   range; bound "*" is open
//!          | "=" "="? "*"? field "*"?             compared with a value of the other field
//!          | "@" list | '"' phrase '"' | "/" regex "/" | word
//! ```
//!
//! Keywords are case-insensitive. A word immediately followed (spaces allowed)
//! by `:` or a comparison operator is a field name, so `@timestamp >= x` and
//! `and:x` name fields. Field names are letters, digits and `_ . @ -`; list
//! names letters, digits and `_ - .`.
//!
//! `2 of (a or b or c)` (a plain number, `of`, an opening parenthesis) is a
//! [`Filter::AtLeast`]; its alternatives are kept as written (a parenthesized
//! `or` stays one alternative). `field:=other` compares with another field's
//! values: `*` before and/or after the other field's name asks for a suffix,
//! prefix or substring instead of the whole value, and `:==` for case-sensitivity.
//!
//! An unquoted value is a [`Pattern::Wildcard`] if it has an unescaped `*` or
//! `?`, a [`Pattern::Cidr`] if it has an unescaped `/` and reads as an IP
//! network, and a [`Pattern::Term`] otherwise. A scalar is a
//! [`Scalar::Number`] if it is unquoted, unescaped and a finite `f64`.
//!
//! Escaping: in unquoted words `\c` stands for `c`, whatever `c` is. These
//! characters must be escaped (or the value quoted) to be taken literally:
//! whitespace and `( ) " \ * ?` everywhere; `:` `<` `>` in bare words and field
//! names (values after `field:` may hold `:`, as IPv6 addresses do); and
//! `[ { / @ =` at the start of a value. Inside quotes only `\"` and `\\` are
//! escapes; inside `/regex/` only `\/`; other backslashes are kept as typed.

use ipnet::IpNet;

use super::ast::{Bound, CompareOp, Filter, Pattern, RefOp, Scalar, WildPart};
use super::lexer::{Lexer, Word, WordKind};

/// A syntax error, with the 1-based character column where it was found
/// (0 when it is not about a position, e.g. from [`Filter::compile`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}{}", at_column(.column))]
pub struct FilterError {
    /// 1-based character column of the offending input; 0 for none.
    pub column: usize,
    /// What is wrong, without the column.
    pub message: String,
}

fn at_column(column: &usize) -> String {
    match column {
        0 => String::new(),
        c => format!(" at column {c}"),
    }
}

impl FilterError {
    /// An error at `column`.
    pub(super) fn at(column: usize, message: impl Into<String>) -> Self {
        FilterError {
            column,
            message: message.into(),
        }
    }
}

/// Parse filter text into a normalized [`Filter`] (nested ands and ors are
/// flattened). Empty or blank text is [`Filter::All`].
pub fn parse(input: &str) -> Result<Filter, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut p = Parser {
        lx: Lexer::new(&chars),
        depth: 0,
    };
    p.lx.skip_ws();
    if p.lx.peek().is_none() {
        return Ok(Filter::All);
    }
    let filter = p.or(None)?;
    p.lx.skip_ws();
    match p.lx.peek() {
        None => Ok(filter),
        Some(c) => Err(FilterError::at(p.lx.column(), format!("unexpected '{c}'"))),
    }
}

/// A boolean operator keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Not,
}

/// How many parentheses and `not`s may nest, so that hostile input cannot
/// overflow the stack.
const MAX_DEPTH: usize = 128;

/// Recursive descent over a [`Lexer`]. `group` is the field of an enclosing
/// `field:( … )`, whose terms are values of that field.
struct Parser<'a> {
    lx: Lexer<'a>,
    /// Current nesting of parentheses and `not`.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn or(&mut self, group: Option<&str>) -> Result<Filter, FilterError> {
        let mut items = vec![self.and(group)?];
        while let Some((Op::Or, _, after)) = self.peek_op(group)? {
            self.lx = after;
            items.push(self.and(group)?);
        }
        Ok(Filter::or(items))
    }

    fn and(&mut self, group: Option<&str>) -> Result<Filter, FilterError> {
        let mut items = vec![self.unary(group)?];
        loop {
            match self.peek_op(group)? {
                Some((Op::Or, _, _)) => break,
                Some((Op::And, _, after)) => self.lx = after,
                _ => {
                    self.lx.skip_ws();
                    if matches!(self.lx.peek(), None | Some(')')) {
                        break;
                    }
                }
            }
            items.push(self.unary(group)?);
        }
        Ok(Filter::and(items))
    }

    fn unary(&mut self, group: Option<&str>) -> Result<Filter, FilterError> {
        match self.peek_op(group)? {
            Some((Op::Not, column, after)) => {
                self.lx = after;
                let inner = self.nested(column, |p| p.unary(group))?;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some((_, column, after)) => Err(FilterError::at(
                column,
                format!("unexpected '{}'", after.since(column)),
            )),
            None => self.primary(group),
        }
    }

    /// The operator keyword ahead, its column and the cursor after it.
    fn peek_op(&self, group: Option<&str>) -> Result<Option<(Op, usize, Lexer<'a>)>, FilterError> {
        let mut lx = self.lx;
        lx.skip_ws();
        let column = lx.column();
        for (sym, op) in [("&&", Op::And), ("||", Op::Or), ("!", Op::Not)] {
            if lx.eat_str(sym) {
                return Ok(Some((op, column, lx)));
            }
        }
        let kind = if group.is_some() {
            WordKind::Value
        } else {
            WordKind::Term
        };
        let word = lx.word(kind)?;
        let op = [("and", Op::And), ("or", Op::Or), ("not", Op::Not)]
            .into_iter()
            .find_map(|(kw, op)| word.is(kw).then_some(op));
        Ok(op
            .filter(|_| group.is_some() || !starts_field(lx))
            .map(|op| (op, column, lx)))
    }

    /// Run `parse` one nesting level deeper, refusing to go past [`MAX_DEPTH`].
    fn nested<T>(
        &mut self,
        column: usize,
        parse: impl FnOnce(&mut Self) -> Result<T, FilterError>,
    ) -> Result<T, FilterError> {
        if self.depth >= MAX_DEPTH {
            return Err(FilterError::at(
                column,
                format!("nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    fn primary(&mut self, group: Option<&str>) -> Result<Filter, FilterError> {
        self.lx.skip_ws();
        let column = self.lx.column();
        match (self.lx.peek(), group) {
            (None, _) => Err(FilterError::at(column, "unexpected end of input")),
            (Some(')'), _) => Err(FilterError::at(column, "unexpected ')'")),
            (Some('('), _) => self.paren(group),
            (_, Some(field)) => self.value(field),
            (_, None) => self.bare(),
        }
    }

    fn paren(&mut self, group: Option<&str>) -> Result<Filter, FilterError> {
        let open = self.lx.column();
        self.lx.bump();
        let inner = self.nested(open, |p| p.or(group))?;
        self.lx.skip_ws();
        if self.lx.eat(')') {
            Ok(inner)
        } else {
            Err(FilterError::at(open, "unclosed '('"))
        }
    }

    /// A term outside any `field:( … )`.
    fn bare(&mut self) -> Result<Filter, FilterError> {
        let column = self.lx.column();
        match self.lx.peek() {
            Some('"') => return Ok(bare_match(Pattern::Phrase(self.lx.quoted()?))),
            Some('/') => return Ok(bare_match(self.regex()?)),
            _ => {}
        }
        let word = self.lx.word(WordKind::Term)?;
        if word.is_empty() {
            let c = self.lx.peek().unwrap_or(' ');
            return Err(FilterError::at(column, format!("unexpected '{c}'")));
        }
        let mut after = self.lx;
        after.skip_ws();
        if !matches!(after.peek(), Some(':' | '<' | '>'))
            && let Some(open) = at_least_ahead(&word, self.lx)
        {
            self.lx = open;
            return self.at_least(&word);
        }
        match after.peek() {
            Some(':') => {
                self.lx = after;
                self.lx.bump();
                self.field_value(&word)
            }
            Some('<' | '>') => {
                self.lx = after;
                self.compare(&word)
            }
            _ if word.is("*") => Ok(Filter::All),
            _ if word.chars.first().is_some_and(|c| c.ch == '@' && !c.escaped) => Ok(Filter::ListRef {
                field: None,
                name: list_name(&word, 1)?,
            }),
            _ => Ok(bare_match(pattern(&word))),
        }
    }

    /// The alternatives of `n of ( … )`; the cursor is on the `(`.
    fn at_least(&mut self, count: &Word) -> Result<Filter, FilterError> {
        let open = self.lx.column();
        self.lx.bump();
        let children = self.nested(open, |p| {
            let mut items = vec![p.and(None)?];
            while let Some((Op::Or, _, after)) = p.peek_op(None)? {
                p.lx = after;
                items.push(p.and(None)?);
            }
            Ok(items)
        })?;
        self.lx.skip_ws();
        if !self.lx.eat(')') {
            return Err(FilterError::at(open, "unclosed '('"));
        }
        let text = count.text();
        let n = match text.parse::<usize>() {
            Ok(n) if (1..=children.len()).contains(&n) => n,
            _ => {
                return Err(FilterError::at(
                    count.column,
                    format!(
                        "'{text} of' needs a count from 1 to the number of alternatives ({})",
                        children.len()
                    ),
                ));
            }
        };
        Ok(Filter::AtLeast { n, children })
    }

    /// What follows `field:` (the colon is consumed).
    fn field_value(&mut self, word: &Word) -> Result<Filter, FilterError> {
        if word.is("_exists_") {
            self.lx.skip_ws();
            let name = self.lx.word(WordKind::Term)?;
            if name.is_empty() {
                return Err(FilterError::at(
                    self.lx.column(),
                    "expected field name after '_exists_:'",
                ));
            }
            return Ok(Filter::Exists {
                field: field_name(&name)?,
            });
        }
        let field = field_name(word)?;
        self.lx.skip_ws();
        if matches!(self.lx.peek(), None | Some(')')) {
            return Err(FilterError::at(
                self.lx.column(),
                format!("expected value after '{field}:'"),
            ));
        }
        self.value(&field)
    }

    /// A value of `field`: after `field:` or inside `field:( … )`.
    fn value(&mut self, field: &str) -> Result<Filter, FilterError> {
        let matched = |value| Filter::Match {
            field: Some(field.to_string()),
            value,
        };
        match self.lx.peek() {
            Some('(') => self.paren(Some(field)),
            Some('"') => Ok(matched(Pattern::Phrase(self.lx.quoted()?))),
            Some('/') => Ok(matched(self.regex()?)),
            Some('[' | '{') => self.range(field),
            Some('=') => {
                self.lx.bump();
                let cased = self.lx.eat('=');
                let column = self.lx.column();
                let mut name = self.lx.word(WordKind::Term)?;
                let star = |c: Option<&super::lexer::WordChar>| c.is_some_and(|c| c.ch == '*' && !c.escaped);
                let before = star(name.chars.first());
                if before {
                    name.chars.remove(0);
                    name.column += 1;
                }
                let after = star(name.chars.last());
                if after {
                    name.chars.pop();
                }
                if name.is_empty() {
                    return Err(FilterError::at(
                        column,
                        format!("expected a field name after '{field}:='"),
                    ));
                }
                let op = match (before, after) {
                    (false, false) => RefOp::Equals,
                    (false, true) => RefOp::StartsWith,
                    (true, false) => RefOp::EndsWith,
                    (true, true) => RefOp::Contains,
                };
                Ok(Filter::FieldRef {
                    field: field.to_string(),
                    other: field_name(&name)?,
                    op,
                    cased,
                })
            }
            Some('@') => {
                self.lx.bump();
                let word = self.lx.word(WordKind::Value)?;
                Ok(Filter::ListRef {
                    field: Some(field.to_string()),
                    name: list_name(&word, 0)?,
                })
            }
            _ => {
                let word = self.lx.word(WordKind::Value)?;
                if word.is("*") {
                    Ok(Filter::Exists {
                        field: field.to_string(),
                    })
                } else {
                    Ok(matched(pattern(&word)))
                }
            }
        }
    }

    /// `/regex/`, checked for syntax and for text glued to its end.
    fn regex(&mut self) -> Result<Pattern, FilterError> {
        let column = self.lx.column();
        let re = self.lx.regex()?;
        if let Err(e) = regex::Regex::new(&re) {
            return Err(FilterError::at(
                column,
                format!("invalid regex: {}", regex_reason(&e)),
            ));
        }
        match self.lx.peek() {
            None | Some(')') => Ok(Pattern::Regex(re)),
            Some(c) if c.is_whitespace() => Ok(Pattern::Regex(re)),
            Some(_) => Err(FilterError::at(
                self.lx.column(),
                "unexpected text after regex (write a leading '/' of a value as '\\/')",
            )),
        }
    }

    /// `field op scalar`; the cursor is on the operator.
    fn compare(&mut self, word: &Word) -> Result<Filter, FilterError> {
        let field = field_name(word)?;
        let op = match (self.lx.bump(), self.lx.eat('=')) {
            (Some('<'), false) => CompareOp::Lt,
            (Some('<'), true) => CompareOp::Le,
            (_, false) => CompareOp::Gt,
            (_, true) => CompareOp::Ge,
        };
        self.lx.skip_ws();
        let value = match self.lx.peek() {
            Some('"') => Scalar::Text(self.lx.quoted()?),
            None | Some('(' | ')') => {
                return Err(FilterError::at(
                    self.lx.column(),
                    format!("expected value after '{field} {}'", op.symbol()),
                ));
            }
            _ => scalar(&self.lx.word(WordKind::Value)?),
        };
        Ok(Filter::Compare { field, op, value })
    }

    /// `[a TO b]` and friends; the cursor is on the opening bracket.
    fn range(&mut self, field: &str) -> Result<Filter, FilterError> {
        let lower_inclusive = self.lx.bump() == Some('[');
        let lower = self.bound()?;
        self.lx.skip_ws();
        let to = self.lx.word(WordKind::Bound)?;
        if !to.is("to") {
            return Err(FilterError::at(to.column, "expected 'TO' in range"));
        }
        let upper = self.bound()?;
        self.lx.skip_ws();
        let upper_inclusive = match self.lx.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => {
                return Err(FilterError::at(
                    self.lx.column(),
                    "expected ']' or '}' to close range",
                ));
            }
        };
        self.lx.bump();
        let with = |value: Option<Scalar>, inclusive| value.map(|value| Bound { value, inclusive });
        Ok(Filter::Range {
            field: field.to_string(),
            lower: with(lower, lower_inclusive),
            upper: with(upper, upper_inclusive),
        })
    }

    /// One end of a range: `None` for an unquoted `*`.
    fn bound(&mut self) -> Result<Option<Scalar>, FilterError> {
        self.lx.skip_ws();
        if self.lx.peek() == Some('"') {
            return Ok(Some(Scalar::Text(self.lx.quoted()?)));
        }
        let word = self.lx.word(WordKind::Bound)?;
        if word.is_empty() {
            return Err(FilterError::at(self.lx.column(), "expected a range value"));
        }
        Ok((!word.is("*")).then(|| scalar(&word)))
    }
}

impl CompareOp {
    /// The operator as written.
    pub(super) fn symbol(self) -> &'static str {
        match self {
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// When `word` starts `n of (`: the cursor on the `(`.
fn at_least_ahead<'a>(word: &Word, mut lx: Lexer<'a>) -> Option<Lexer<'a>> {
    if !word.is_plain() || !word.chars.iter().all(|c| c.ch.is_ascii_digit()) {
        return None;
    }
    if !lx.peek().is_some_and(char::is_whitespace) {
        return None;
    }
    lx.skip_ws();
    if !lx.word(WordKind::Term).is_ok_and(|w| w.is("of")) {
        return None;
    }
    lx.skip_ws();
    (lx.peek() == Some('(')).then_some(lx)
}

/// Whether `:` or a comparison operator follows (spaces allowed), making the
/// word before it a field name.
fn starts_field(mut lx: Lexer<'_>) -> bool {
    lx.skip_ws();
    matches!(lx.peek(), Some(':' | '<' | '>'))
}

fn bare_match(value: Pattern) -> Filter {
    Filter::Match { field: None, value }
}

/// A field name: letters, digits, `_ . @ -`, or any escaped character.
fn field_name(word: &Word) -> Result<String, FilterError> {
    for (i, c) in word.chars.iter().enumerate() {
        if c.escaped || is_field_char(c.ch) {
            continue;
        }
        let message = if matches!(c.ch, '*' | '?') {
            "wildcards are not allowed in field names".to_string()
        } else {
            format!("unexpected '{}' in field name", c.ch)
        };
        return Err(FilterError::at(word.column + i, message));
    }
    Ok(word.text())
}

/// Characters allowed unescaped in field names.
pub(super) fn is_field_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '-')
}

/// Characters allowed in context list names.
pub(super) fn is_list_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// The list name of `@name`, skipping `skip` leading characters of `word`.
fn list_name(word: &Word, skip: usize) -> Result<String, FilterError> {
    let name = &word.chars[skip..];
    let valid = !name.is_empty() && name.iter().all(|c| !c.escaped && is_list_char(c.ch));
    if valid {
        Ok(name.iter().map(|c| c.ch).collect())
    } else {
        Err(FilterError::at(
            word.column + skip - 1,
            "invalid context list name after '@' (escape a literal '@' as '\\@')",
        ))
    }
}

/// An unquoted value: wildcard, CIDR or term.
fn pattern(word: &Word) -> Pattern {
    if word.has_unescaped('*') || word.has_unescaped('?') {
        return Pattern::Wildcard(wild_parts(word));
    }
    let text = word.text();
    match text.parse::<IpNet>() {
        Ok(net) if word.has_unescaped('/') => Pattern::Cidr(net),
        _ => Pattern::Term(text),
    }
}

fn wild_parts(word: &Word) -> Vec<WildPart> {
    let mut parts = Vec::new();
    for c in &word.chars {
        match (c.ch, c.escaped, parts.last_mut()) {
            ('*', false, _) => parts.push(WildPart::Any),
            ('?', false, _) => parts.push(WildPart::One),
            (ch, _, Some(WildPart::Literal(lit))) => lit.push(ch),
            (ch, _, _) => parts.push(WildPart::Literal(ch.to_string())),
        }
    }
    parts
}

/// A comparison or range literal.
fn scalar(word: &Word) -> Scalar {
    let text = word.text();
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() && word.is_plain() => Scalar::Number(n),
        _ => Scalar::Text(text),
    }
}

/// The one-line reason of a regex error (the full text repeats the pattern).
pub(super) fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    let last = text.lines().last().unwrap_or_default();
    last.trim().trim_start_matches("error: ").to_string()
}
