//! A character scanner for the filter language.
//!
//! The language is context-sensitive (`:` ends a field name but belongs to an
//! IPv6 value, `]` ends a range bound but not a value), so instead of a token
//! stream the parser asks the scanner for the next piece in the mode it
//! expects: a [`Word`] of a given [`WordKind`], a quoted string or a regex.
//! Positions are character indexes; columns are indexes plus one.

use super::parser::FilterError;

/// One character of an unquoted word and whether it was backslash-escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct WordChar {
    /// The character, without its backslash.
    pub ch: char,
    /// Written as `\c`: never a wildcard, keyword or delimiter.
    pub escaped: bool,
}

/// An unquoted word as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// The characters, escapes resolved but remembered.
    pub chars: Vec<WordChar>,
    /// 1-based column of the first character.
    pub column: usize,
}

impl Word {
    /// The text with escapes resolved.
    pub fn text(&self) -> String {
        self.chars.iter().map(|c| c.ch).collect()
    }

    /// Whether nothing was read.
    pub fn is_empty(&self) -> bool {
        self.chars.is_empty()
    }

    /// Whether no character was escaped.
    pub fn is_plain(&self) -> bool {
        self.chars.iter().all(|c| !c.escaped)
    }

    /// Whether the word is `s` (ASCII case-insensitive) written without escapes.
    pub fn is(&self, s: &str) -> bool {
        self.is_plain() && self.text().eq_ignore_ascii_case(s)
    }

    /// Whether the word holds an unescaped `c`.
    pub fn has_unescaped(&self, c: char) -> bool {
        self.chars.iter().any(|w| w.ch == c && !w.escaped)
    }
}

/// Which unescaped characters end a word (whitespace always does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WordKind {
    /// A field name or bare term: ends at `( ) " : < >`.
    Term,
    /// A value after `field:` or an operator: ends at `( ) "`.
    Value,
    /// A range bound: ends at `( ) " [ ] { }`.
    Bound,
}

impl WordKind {
    fn stops_at(self, c: char) -> bool {
        c.is_whitespace()
            || matches!(c, '(' | ')' | '"')
            || match self {
                WordKind::Term => matches!(c, ':' | '<' | '>'),
                WordKind::Value => false,
                WordKind::Bound => matches!(c, '[' | ']' | '{' | '}'),
            }
    }
}

/// A cursor over the input characters; cheap to copy for look-ahead.
#[derive(Debug, Clone, Copy)]
pub(super) struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// A cursor at the start of `chars`.
    pub fn new(chars: &'a [char]) -> Self {
        Lexer { chars, pos: 0 }
    }

    /// 1-based column of the next character.
    pub fn column(&self) -> usize {
        self.pos + 1
    }

    /// The next character.
    pub fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The input from `from` (a column) up to the cursor.
    pub fn since(&self, column: usize) -> String {
        self.chars[column - 1..self.pos].iter().collect()
    }

    /// Consume and return the next character.
    pub fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        Some(c)
    }

    /// Consume `c` if it is next.
    pub fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    /// Consume `s` if it comes next.
    pub fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        let hit = self
            .chars
            .get(self.pos..self.pos + n)
            .is_some_and(|next| next.iter().copied().eq(s.chars()));
        if hit {
            self.pos += n;
        }
        hit
    }

    /// Skip whitespace.
    pub fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Read an unquoted word (possibly empty) up to a stop character of `kind`;
    /// `\c` stands for `c` whatever it is.
    pub fn word(&mut self, kind: WordKind) -> Result<Word, FilterError> {
        let column = self.column();
        let mut chars = Vec::new();
        while let Some(c) = self.peek() {
            if c == '\\' {
                let at = self.column();
                self.pos += 1;
                let ch = self
                    .bump()
                    .ok_or_else(|| FilterError::at(at, "nothing to escape after '\\'"))?;
                chars.push(WordChar { ch, escaped: true });
            } else if kind.stops_at(c) {
                break;
            } else {
                self.pos += 1;
                chars.push(WordChar {
                    ch: c,
                    escaped: false,
                });
            }
        }
        Ok(Word { chars, column })
    }

    /// Read a `"quoted"` string (the cursor is on the opening quote). `\"` and
    /// `\\` stand for `"` and `\`; any other backslash is kept as typed.
    pub fn quoted(&mut self) -> Result<String, FilterError> {
        let start = self.column();
        self.delimited('"', |c| c == '"' || c == '\\')
            .ok_or_else(|| FilterError::at(start, "unclosed quote starting"))
    }

    /// Read a `/regex/` (the cursor is on the opening slash). `\/` stands for
    /// `/`; any other backslash pair is kept as typed for the regex engine.
    pub fn regex(&mut self) -> Result<String, FilterError> {
        let start = self.column();
        self.delimited('/', |c| c == '/')
            .ok_or_else(|| FilterError::at(start, "unclosed regex starting"))
    }

    /// Read up to the closing `delim`, resolving `\c` to `c` when `unescape(c)`;
    /// `None` when the input ends first.
    fn delimited(&mut self, delim: char, unescape: impl Fn(char) -> bool) -> Option<String> {
        self.bump();
        let mut out = String::new();
        loop {
            match self.bump()? {
                c if c == delim => return Some(out),
                '\\' => {
                    let next = self.bump()?;
                    if !unescape(next) {
                        out.push('\\');
                    }
                    out.push(next);
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn words_stop_by_kind() {
        let input = chars("a:b[c] d");
        let mut lx = Lexer::new(&input);
        assert_eq!(lx.word(WordKind::Term).unwrap().text(), "a");
        let mut lx = Lexer::new(&input);
        assert_eq!(lx.word(WordKind::Value).unwrap().text(), "a:b[c]");
        let mut lx = Lexer::new(&input);
        assert_eq!(lx.word(WordKind::Bound).unwrap().text(), "a:b");
    }

    #[test]
    fn escapes_are_remembered() {
        let input = chars(r"a\ \*b c");
        let mut lx = Lexer::new(&input);
        let w = lx.word(WordKind::Term).unwrap();
        assert_eq!(w.text(), "a *b");
        assert!(!w.is_plain());
        assert!(!w.has_unescaped('*'));
        assert_eq!(lx.column(), 7);
    }

    #[test]
    fn dangling_backslash() {
        let input = chars(r"ab\");
        let err = Lexer::new(&input).word(WordKind::Value).unwrap_err();
        assert_eq!(err.column, 3);
    }

    #[test]
    fn quoted_and_regex_escapes() {
        let input = chars(r#""a\"b\\c\d" /x\/y\d/"#);
        let mut lx = Lexer::new(&input);
        assert_eq!(lx.quoted().unwrap(), r#"a"b\c\d"#);
        lx.skip_ws();
        assert_eq!(lx.regex().unwrap(), r"x/y\d");
        assert_eq!(lx.peek(), None);
    }

    #[test]
    fn unclosed_quote_reports_its_start() {
        let input = chars(r#"  "abc\""#);
        let mut lx = Lexer::new(&input);
        lx.skip_ws();
        assert_eq!(lx.quoted().unwrap_err().column, 3);
    }

    #[test]
    fn eat_str_and_since() {
        let input = chars("&&x");
        let mut lx = Lexer::new(&input);
        assert!(!lx.eat_str("||"));
        assert!(lx.eat_str("&&"));
        assert_eq!(lx.since(1), "&&");
    }
}
