//! The tantivy schema of a partition and how an [`Event`] becomes a document.
//!
//! | field    | content                                                      | used for |
//! |----------|--------------------------------------------------------------|----------|
//! | `ts`     | `@timestamp` in µs (i64, indexed + fast)                      | time ranges, sorting |
//! | `id`     | `event.id`                                                   | de-duplication |
//! | `kw`     | `path \0 lower(value)` for every string ≤ [`KW_MAX`] bytes, number and bool (longer strings: their first [`KW_MAX`] bytes) | `field:value`, prefixes |
//! | `fields` | every path (and parent path) that has a value                | `_exists_` |
//! | `text`   | the words of every string and number                         | bare words and phrases |
//! | `num`    | `path \0 f64-key` for numbers and numeric strings            | numeric ranges |
//! | `ip`     | `path \0 ip-key` for IP-typed fields                          | CIDR and IP ranges |
//! | `doc`    | the whole event as JSON (stored, zstd)                        | reading hits |
//!
//! `event.original` and `@timestamp` are stored but not indexed as words.
//! No field keeps positions: phrases are narrowed by their words and checked in memory.

use std::collections::HashSet;
use std::net::IpAddr;

use mamori_model::Event;
use mamori_model::fields::{FieldKind, kind_of, lowercase, number_of_str};
use serde_json::Value;
use tantivy::TantivyDocument;
use tantivy::schema::{
    BytesOptions, FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{TextAnalyzer, Token, TokenStream, Tokenizer};

use crate::codec::{f64_key, ip_key, path_term};

/// Longest keyword value indexed whole; longer ones are indexed by their prefix.
pub const KW_MAX: usize = 256;
/// Name of the word tokenizer registered on every partition.
pub const WORDS_TOKENIZER: &str = "mamori_words";

/// Handles to the schema's fields.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    pub ts: Field,
    pub id: Field,
    pub kw: Field,
    pub fields: Field,
    pub text: Field,
    pub num: Field,
    pub ip: Field,
    pub doc: Field,
}

/// Build the partition schema.
pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let raw = |tok: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tok)
                .set_fieldnorms(false)
                .set_index_option(IndexRecordOption::Basic),
        )
    };
    let bytes = BytesOptions::default().set_indexed();
    let f = Fields {
        ts: b.add_i64_field("ts", INDEXED | FAST),
        id: b.add_text_field("id", raw("raw")),
        kw: b.add_text_field("kw", raw("raw")),
        fields: b.add_text_field("fields", raw("raw")),
        text: b.add_text_field("text", raw(WORDS_TOKENIZER)),
        num: b.add_bytes_field("num", bytes.clone()),
        ip: b.add_bytes_field("ip", bytes),
        doc: b.add_bytes_field("doc", STORED),
    };
    (b.build(), f)
}

/// The analyzer behind [`WORDS_TOKENIZER`]: the same words as
/// [`mamori_model::fields::words`].
pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default()).build()
}

/// Turn an event into a tantivy document.
pub fn to_document(f: &Fields, ev: &Event, json: &str) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_i64(f.ts, ev.timestamp_micros());
    doc.add_text(f.id, ev.id());
    let mut paths: HashSet<&str> = HashSet::new();
    let leaves = ev.leaves();
    for (path, value) in &leaves {
        let path = path.as_str();
        if path == "event.original" {
            continue;
        }
        match value {
            Value::String(s) => add_string(f, &mut doc, path, s),
            Value::Number(n) => {
                let text = n.to_string();
                doc.add_text(f.kw, kw_term(path, &text));
                doc.add_text(f.text, &text);
                if let Some(x) = n.as_f64() {
                    doc.add_bytes(f.num, &path_term(path, &f64_key(x)));
                }
            }
            Value::Bool(b) => doc.add_text(f.kw, kw_term(path, if *b { "true" } else { "false" })),
            _ => {}
        }
    }
    for (path, _) in &leaves {
        let mut p = path.as_str();
        loop {
            if !paths.insert(p) {
                break;
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => break,
            }
        }
    }
    for p in paths {
        doc.add_text(f.fields, p);
    }
    doc.add_bytes(f.doc, json.as_bytes());
    doc
}

fn add_string(f: &Fields, doc: &mut TantivyDocument, path: &str, s: &str) {
    doc.add_text(f.kw, kw_term(path, s));
    if path != "@timestamp" {
        doc.add_text(f.text, s);
    }
    if kind_of(path) == FieldKind::Ip
        && let Ok(ip) = s.parse::<IpAddr>()
    {
        doc.add_bytes(f.ip, &path_term(path, &ip_key(ip)));
    }
    if let Some(x) = number_of_str(s) {
        doc.add_bytes(f.num, &path_term(path, &f64_key(x)));
    }
}

/// The `kw` term of a value: `path \0 lower(value)`, the value cut to [`KW_MAX`] bytes.
pub fn kw_term(path: &str, value: &str) -> String {
    let lower = lowercase(value);
    let v = truncate(&lower, KW_MAX);
    let mut t = String::with_capacity(path.len() + 1 + v.len());
    t.push_str(path);
    t.push('\0');
    t.push_str(v);
    t
}

/// `s` cut to at most `max` bytes on a character boundary.
pub fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Splits text into lower-case runs of letters, digits and `_`.
#[derive(Clone, Default)]
pub struct WordTokenizer {
    token: Token,
}

/// Token stream of [`WordTokenizer`].
pub struct WordStream<'a> {
    text: &'a str,
    pos: usize,
    token: &'a mut Token,
}

impl Tokenizer for WordTokenizer {
    type TokenStream<'a> = WordStream<'a>;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> WordStream<'a> {
        self.token.reset();
        WordStream {
            text,
            pos: 0,
            token: &mut self.token,
        }
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl TokenStream for WordStream<'_> {
    fn advance(&mut self) -> bool {
        let rest = &self.text[self.pos..];
        let Some(start) = rest.find(is_word_char) else {
            self.pos = self.text.len();
            return false;
        };
        let from = self.pos + start;
        let len = self.text[from..]
            .find(|c: char| !is_word_char(c))
            .unwrap_or(self.text.len() - from);
        let to = from + len;
        self.token.text.clear();
        let word = &self.text[from..to];
        if word.is_ascii() {
            self.token.text.push_str(word);
            self.token.text.make_ascii_lowercase();
        } else {
            self.token.text.push_str(&lowercase(word));
        }
        self.token.offset_from = from;
        self.token.offset_to = to;
        self.token.position = self.token.position.wrapping_add(1);
        self.pos = to;
        true
    }
    fn token(&self) -> &Token {
        self.token
    }
    fn token_mut(&mut self) -> &mut Token {
        self.token
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut a = words_analyzer();
        let mut s = a.token_stream(text);
        let mut out = Vec::new();
        while s.advance() {
            out.push(s.token().text.clone());
        }
        out
    }

    #[test]
    fn tokenizer_agrees_with_model_words() {
        for text in [
            "Access DENIED: user=bob_1 (x.y)",
            "",
            "  ",
            "ÄÖ straße 10.0.0.1",
            "a--b__c",
        ] {
            let want: Vec<String> = mamori_model::fields::words(text).collect();
            assert_eq!(tokens(text), want, "{text}");
        }
    }

    #[test]
    fn kw_terms_are_lowercase_and_capped() {
        assert_eq!(kw_term("user.name", "Bob"), "user.name\0bob");
        let long = "x".repeat(1000);
        assert_eq!(kw_term("a", &long).len(), 2 + KW_MAX);
    }
}
