//! The tantivy schema of a partition and how an [`Event`] becomes a document.
//!
//! | field    | content                                                      | used for |
//! |----------|--------------------------------------------------------------|----------|
//! | `ts`     | `@timestamp` in µs (i64, indexed + fast)                      | time ranges, sorting |
//! | `kw`     | `path \0 lower(value)` for every keyword string ≤ [`KW_MAX`] bytes, number and bool (longer strings: their first [`KW_MAX`] bytes) | `field:value`, prefixes |
//! | `fields` | every path (and parent path) that has a value                | `_exists_` |
//! | `text`   | the words of text fields (`message`, …)                       | words and phrases |
//! | `num`    | `path \0 f64-key` for numbers and numeric strings            | numeric ranges |
//! | `ip`     | `path \0 ip-key` for IP-typed fields                          | CIDR and IP ranges |
//! | `doc`    | the event as JSON without `event.original` (stored, zstd)     | reading hits |
//! | `orig`   | `event.original`, raw bytes (stored, zstd)                     | reading hits |
//!
//! `event.original` is stored, not indexed; `@timestamp` is indexed as `ts` only.
//! `event.id` is found through `kw` (`event.id \0 lower(id)`), which is also
//! how duplicates are recognised: ids are compared case-insensitively.
//! A bare value is looked up as `path \0 lower(value)` under every keyword
//! path the partition holds (read from `fields`), so no second copy of the
//! keyword terms is needed.
//!
//! No field keeps positions: phrases are narrowed by their words and checked in memory.

use std::net::IpAddr;

use mamori_model::Event;
use mamori_model::doc::{NodeRef, Obj};
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
    pub kw: Field,
    pub fields: Field,
    pub text: Field,
    pub num: Field,
    pub ip: Field,
    pub doc: Field,
    pub orig: Field,
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
        kw: b.add_text_field("kw", raw("raw")),
        fields: b.add_text_field("fields", raw("raw")),
        text: b.add_text_field("text", raw(WORDS_TOKENIZER)),
        num: b.add_bytes_field("num", bytes.clone()),
        ip: b.add_bytes_field("ip", bytes),
        doc: b.add_bytes_field("doc", STORED),
        orig: b.add_bytes_field("orig", STORED),
    };
    (b.build(), f)
}

/// The analyzer behind [`WORDS_TOKENIZER`]: the same words as
/// [`mamori_model::fields::words`].
pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(WordTokenizer::default()).build()
}

/// Turn an event into a tantivy document. `event.original` is stored as its
/// own raw field (not escaped inside the JSON), the rest as one JSON body.
pub fn to_document(f: &Fields, ev: &Event) -> TantivyDocument {
    let mut doc = TantivyDocument::new();
    doc.add_i64(f.ts, ev.timestamp_micros());
    let mut path = String::with_capacity(128);
    let mut buf = String::with_capacity(256);
    walk_tree(f, &mut doc, ev.root(), &mut path, &mut buf);
    doc.add_bytes(f.doc, &body_without_original(ev));
    doc.add_bytes(f.orig, ev.original().as_bytes());
    doc
}

/// The event as JSON without `event.original` (serialized in place, no copy).
fn body_without_original(ev: &Event) -> Vec<u8> {
    serde_json::to_vec(&WithoutOriginal(ev.root())).expect("a JSON document always serializes")
}

/// Serializes a document skipping `event.original`.
struct WithoutOriginal<'a>(&'a Obj);

impl serde::Serialize for WithoutOriginal<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            if k != "event" {
                map.serialize_entry(k, &v)?;
                continue;
            }
            let rest: Vec<(&str, NodeRef<'_>)> = match v {
                NodeRef::Object(inner) => inner.iter().filter(|(k, _)| *k != "original").collect(),
                NodeRef::Value(Value::Object(inner)) => inner
                    .iter()
                    .filter(|(k, _)| *k != "original")
                    .map(|(k, v)| (k.as_str(), NodeRef::Value(v)))
                    .collect(),
                NodeRef::Value(_) => {
                    map.serialize_entry(k, &v)?;
                    continue;
                }
            };
            map.serialize_entry(k, &EntryList(&rest))?;
        }
        map.end()
    }
}

/// A list of entries serialized as a JSON object.
struct EntryList<'a>(&'a [(&'a str, NodeRef<'a>)]);

impl serde::Serialize for EntryList<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = ser.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Rebuild an event from its stored body and original.
pub fn from_stored(body: &[u8], original: &[u8]) -> Result<Event, String> {
    let mut map: serde_json::Map<String, Value> = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let original = String::from_utf8_lossy(original).into_owned();
    match map
        .entry("event")
        .or_insert_with(|| Value::Object(Default::default()))
    {
        Value::Object(event) => {
            event.insert("original".into(), Value::String(original));
        }
        _ => return Err("stored `event` is not an object".into()),
    }
    Event::from_document(map).map_err(|e| e.to_string())
}

/// [`walk_object`] over the event's tree.
fn walk_tree(f: &Fields, doc: &mut TantivyDocument, obj: &Obj, path: &mut String, buf: &mut String) {
    for (k, v) in obj.iter() {
        let len = path.len();
        if len > 0 {
            path.push('.');
        }
        path.push_str(k);
        if path != "event.original" {
            match v {
                NodeRef::Object(inner) => {
                    doc.add_text(f.fields, path.as_str());
                    walk_tree(f, doc, inner, path, buf);
                }
                NodeRef::Value(v) => walk_value(f, doc, v, path, buf),
            }
        }
        path.truncate(len);
    }
}

fn walk_object(
    f: &Fields,
    doc: &mut TantivyDocument,
    map: &serde_json::Map<String, Value>,
    path: &mut String,
    buf: &mut String,
) {
    for (k, v) in map {
        let len = path.len();
        if len > 0 {
            path.push('.');
        }
        path.push_str(k);
        if path != "event.original" {
            walk_value(f, doc, v, path, buf);
        }
        path.truncate(len);
    }
}

fn walk_value(f: &Fields, doc: &mut TantivyDocument, v: &Value, path: &mut String, buf: &mut String) {
    match v {
        Value::Object(m) => {
            doc.add_text(f.fields, path.as_str());
            walk_object(f, doc, m, path, buf);
        }
        Value::Array(items) => items.iter().for_each(|i| walk_value(f, doc, i, path, buf)),
        Value::Null => {}
        Value::String(s) => {
            doc.add_text(f.fields, path.as_str());
            add_string(f, doc, path, s, buf);
        }
        Value::Number(n) => {
            doc.add_text(f.fields, path.as_str());
            let text = n.to_string();
            doc.add_text(f.kw, kw_term_into(buf, path, &text));
            if kind_of(path) == FieldKind::Text {
                doc.add_text(f.text, &text);
            }
            if let Some(x) = n.as_f64() {
                doc.add_bytes(f.num, &path_term(path, &f64_key(x)));
            }
        }
        Value::Bool(b) => {
            doc.add_text(f.fields, path.as_str());
            doc.add_text(f.kw, kw_term_into(buf, path, if *b { "true" } else { "false" }));
        }
    }
}

fn add_string(f: &Fields, doc: &mut TantivyDocument, path: &str, s: &str, buf: &mut String) {
    let kind = kind_of(path);
    match kind {
        FieldKind::Text => {
            doc.add_text(f.text, s);
            return;
        }
        FieldKind::Date if path == "@timestamp" => return,
        _ => {}
    }
    doc.add_text(f.kw, kw_term_into(buf, path, s));
    if kind == FieldKind::Ip
        && let Ok(ip) = s.parse::<IpAddr>()
    {
        doc.add_bytes(f.ip, &path_term(path, &ip_key(ip)));
    }
    if let Some(x) = number_of_str(s) {
        doc.add_bytes(f.num, &path_term(path, &f64_key(x)));
    }
}

/// [`kw_term`] written into a reused buffer.
fn kw_term_into<'a>(buf: &'a mut String, path: &str, value: &str) -> &'a str {
    buf.clear();
    buf.push_str(path);
    buf.push('\0');
    let start = buf.len();
    if value.is_ascii() {
        buf.push_str(truncate(value, KW_MAX));
        buf[start..].make_ascii_lowercase();
    } else {
        buf.push_str(truncate(&lowercase(value), KW_MAX));
    }
    buf
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
    fn kw_term_buffer_agrees_with_kw_term() {
        let mut buf = String::new();
        for v in ["Bob", "ÄRGER", &"x".repeat(300), &"é".repeat(200)] {
            assert_eq!(kw_term_into(&mut buf, "a.b", v), kw_term("a.b", v));
        }
    }

    #[test]
    fn kw_terms_are_lowercase_and_capped() {
        assert_eq!(kw_term("user.name", "Bob"), "user.name\0bob");
        let long = "x".repeat(1000);
        assert_eq!(kw_term("a", &long).len(), 2 + KW_MAX);
    }
}
