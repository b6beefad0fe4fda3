//! Sigma strings: literal text with the wildcards `*` and `?`, escaped as
//! `\*`, `\?` and `\\` (a backslash before any other character is itself).

use mamori_model::filter::{Pattern, WildPart};

/// One piece of a Sigma string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// Literal text.
    Lit(String),
    /// `*`: any run of characters.
    Any,
    /// `?`: one character.
    One,
}

/// A Sigma string value: pieces of literal text and wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct SigmaStr(pub Vec<Piece>);

impl SigmaStr {
    /// Read a Sigma string, recognising wildcards and escapes.
    pub fn parse(s: &str) -> SigmaStr {
        let mut out = SigmaStr::default();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '*' => out.0.push(Piece::Any),
                '?' => out.0.push(Piece::One),
                '\\' => match chars.peek() {
                    Some(&n @ ('*' | '?' | '\\')) => {
                        chars.next();
                        out.push_char(n);
                    }
                    _ => out.push_char('\\'),
                },
                c => out.push_char(c),
            }
        }
        out
    }

    /// A string without wildcards.
    pub fn literal(s: &str) -> SigmaStr {
        let mut out = SigmaStr::default();
        out.push_str(s);
        out
    }

    fn push_char(&mut self, c: char) {
        match self.0.last_mut() {
            Some(Piece::Lit(s)) => s.push(c),
            _ => self.0.push(Piece::Lit(c.to_string())),
        }
    }

    /// Append literal text.
    pub fn push_str(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(Piece::Lit(t)) => t.push_str(s),
            _ => self.0.push(Piece::Lit(s.to_string())),
        }
    }

    /// Append a piece, merging literals.
    pub fn push(&mut self, p: Piece) {
        match p {
            Piece::Lit(s) => self.push_str(&s),
            other => self.0.push(other),
        }
    }

    /// The text, if the string has no wildcards.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(s) => out.push_str(s),
                _ => return None,
            }
        }
        Some(out)
    }

    /// `*` + self + `*` and friends.
    pub fn wrap(&self, any_before: bool, any_after: bool) -> SigmaStr {
        let mut out = SigmaStr::default();
        if any_before && self.0.first() != Some(&Piece::Any) {
            out.push(Piece::Any);
        }
        for p in &self.0 {
            out.push(p.clone());
        }
        if any_after && self.0.last() != Some(&Piece::Any) {
            out.push(Piece::Any);
        }
        out
    }

    /// The whole-value pattern for a keyword field (case-insensitive).
    pub fn to_pattern(&self) -> Pattern {
        match self.as_plain() {
            Some(text) => Pattern::Phrase(text),
            None => Pattern::Wildcard(
                self.0
                    .iter()
                    .map(|p| match p {
                        Piece::Lit(s) => WildPart::Literal(s.clone()),
                        Piece::Any => WildPart::Any,
                        Piece::One => WildPart::One,
                    })
                    .collect(),
            ),
        }
    }

    /// A regex body (no anchors, no flags) matching what the pieces match.
    pub fn to_regex_body(&self) -> String {
        let mut out = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(s) => out.push_str(&regex::escape(s)),
                Piece::Any => out.push_str(".*"),
                Piece::One => out.push('.'),
            }
        }
        out
    }

    /// A whole-value regex, case-insensitive unless `cased`.
    pub fn to_anchored_regex(&self, cased: bool) -> String {
        let flags = if cased { "(?s)" } else { "(?is)" };
        format!("{flags}^{}$", self.to_regex_body())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_and_escapes() {
        let s = SigmaStr::parse(r"a*b?c\*d\?e\\f\g");
        assert_eq!(
            s.0,
            [
                Piece::Lit("a".into()),
                Piece::Any,
                Piece::Lit("b".into()),
                Piece::One,
                Piece::Lit(r"c*d?e\f\g".into()),
            ]
        );
        assert_eq!(
            SigmaStr::parse(r"C:\Windows\").as_plain().unwrap(),
            r"C:\Windows\"
        );
    }

    #[test]
    fn wrap_does_not_double_stars() {
        let s = SigmaStr::parse("*x").wrap(true, true);
        assert_eq!(s.0, [Piece::Any, Piece::Lit("x".into()), Piece::Any]);
    }
}
