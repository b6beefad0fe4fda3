//! The event: one normalized log record, an ECS-keyed JSON document.
//!
//! Every event carries `@timestamp` (UTC, microsecond precision), `tenant`,
//! a stable `event.id`, and `event.original` (the record exactly as received).
//! Other fields are addressed by dotted ECS paths such as `source.ip`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

/// Why a document is not a valid event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    /// A required field is absent or has the wrong type.
    #[error("event field `{0}` is missing or not a string")]
    Missing(&'static str),
    /// `@timestamp` is not an RFC 3339 date.
    #[error("event field `@timestamp` is not an RFC 3339 time: {0}")]
    BadTimestamp(String),
    /// The JSON text is not an object.
    #[error("event is not a JSON object: {0}")]
    NotAnObject(String),
}

/// One normalized record. The document is nested JSON keyed by ECS names.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    timestamp: DateTime<Utc>,
    doc: Map<String, Value>,
}

impl Event {
    /// A new event for `tenant` at `timestamp` holding `original`, with its id
    /// derived from tenant and original (see [`Event::derived_id`]).
    pub fn new(tenant: &str, timestamp: DateTime<Utc>, original: impl Into<String>) -> Self {
        let original = original.into();
        let id = Self::derived_id(tenant, &original);
        let mut ev = Event {
            timestamp,
            doc: Map::new(),
        };
        ev.doc
            .insert("@timestamp".into(), Value::String(format_ts(timestamp)));
        ev.doc.insert("tenant".into(), Value::String(tenant.to_string()));
        ev.set("event.id", Value::String(id));
        ev.set("event.original", Value::String(original));
        ev
    }

    /// The id used when a format has no id of its own: a 128-bit hash of
    /// tenant and original, so re-ingesting the same record is idempotent.
    pub fn derived_id(tenant: &str, original: &str) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(tenant.as_bytes());
        h.update(&[0]);
        h.update(original.as_bytes());
        format!("{:032x}", h.digest128())
    }

    /// Rebuild an event from a stored document (as produced by [`Event::to_json`]).
    pub fn from_document(doc: Map<String, Value>) -> Result<Self, EventError> {
        let ts = doc
            .get("@timestamp")
            .and_then(Value::as_str)
            .ok_or(EventError::Missing("@timestamp"))?;
        let timestamp = DateTime::parse_from_rfc3339(ts)
            .map_err(|_| EventError::BadTimestamp(ts.to_string()))?
            .with_timezone(&Utc);
        let ev = Event { timestamp, doc };
        ev.doc
            .get("tenant")
            .and_then(Value::as_str)
            .ok_or(EventError::Missing("tenant"))?;
        ev.get_str("event.id").ok_or(EventError::Missing("event.id"))?;
        Ok(ev)
    }

    /// Parse a stored JSON document.
    pub fn from_json(text: &str) -> Result<Self, EventError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(m)) => Self::from_document(m),
            Ok(_) => Err(EventError::NotAnObject("not an object".into())),
            Err(e) => Err(EventError::NotAnObject(e.to_string())),
        }
    }

    /// `@timestamp`.
    pub fn timestamp(&self) -> DateTime<Utc> {
        self.timestamp
    }

    /// Set `@timestamp`.
    pub fn set_timestamp(&mut self, ts: DateTime<Utc>) {
        self.timestamp = ts;
        self.doc.insert("@timestamp".into(), Value::String(format_ts(ts)));
    }

    /// `@timestamp` as microseconds since the Unix epoch.
    pub fn timestamp_micros(&self) -> i64 {
        self.timestamp.timestamp_micros()
    }

    /// The tenant (customer) this event belongs to.
    pub fn tenant(&self) -> &str {
        self.doc.get("tenant").and_then(Value::as_str).unwrap_or("")
    }

    /// `event.id`: stable across re-ingestion of the same record.
    pub fn id(&self) -> &str {
        self.get_str("event.id").unwrap_or("")
    }

    /// Replace `event.id` (formats with their own unique id, such as CloudTrail's `eventID`).
    pub fn set_id(&mut self, id: impl Into<String>) {
        self.set("event.id", Value::String(id.into()));
    }

    /// `event.original`: the record exactly as received.
    pub fn original(&self) -> &str {
        self.get_str("event.original").unwrap_or("")
    }

    /// `event.action`, if set.
    pub fn action(&self) -> Option<&str> {
        self.get_str("event.action")
    }

    /// `event.outcome` (`success`, `failure`, `unknown`), if set.
    pub fn outcome(&self) -> Option<&str> {
        self.get_str("event.outcome")
    }

    /// `source.ip`, if set.
    pub fn source_ip(&self) -> Option<&str> {
        self.get_str("source.ip")
    }

    /// `user.name`, if set.
    pub fn user_name(&self) -> Option<&str> {
        self.get_str("user.name")
    }

    /// The whole document.
    pub fn document(&self) -> &Map<String, Value> {
        &self.doc
    }

    /// The value at a dotted path. Nested objects are walked first; a key that
    /// itself contains dots (`"a.b": 1`) is found too.
    pub fn get(&self, path: &str) -> Option<&Value> {
        lookup(&self.doc, path)
    }

    /// The string at a dotted path.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// Every leaf value at a dotted path, walking into arrays (`a.b` over
    /// `{"a":[{"b":1},{"b":[2,3]}]}` gives 1, 2, 3).
    pub fn values<'a>(&'a self, path: &str) -> Vec<&'a Value> {
        let mut out = Vec::new();
        collect(&self.doc, path, &mut out);
        out
    }

    /// Set the value at a dotted path, creating objects on the way. Setting
    /// `Value::Null` is ignored: ECS documents omit absent fields.
    pub fn set(&mut self, path: &str, value: Value) {
        if value.is_null() {
            return;
        }
        let mut map = &mut self.doc;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                map.insert(part.to_string(), value);
                return;
            }
            let slot = map
                .entry(part.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            map = slot.as_object_mut().expect("just made an object");
        }
    }

    /// Add a tag to `tags` (kept unique).
    pub fn add_tag(&mut self, tag: &str) {
        let tags = self.doc.entry("tags").or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = tags
            && !list.iter().any(|t| t.as_str() == Some(tag))
        {
            list.push(Value::String(tag.to_string()));
        }
    }

    /// Every leaf as (dotted path, value), arrays flattened, in document order.
    pub fn leaves(&self) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        walk_leaves(&self.doc, &mut String::new(), &mut out);
        out
    }

    /// The document as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.doc).expect("a JSON map always serializes")
    }

    /// Consume into the document.
    pub fn into_document(self) -> Map<String, Value> {
        self.doc
    }
}

/// `@timestamp` as written in documents: RFC 3339, UTC, microseconds.
pub fn format_ts(ts: DateTime<Utc>) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    // Try every split point: "a.b.c" → a → "b.c", "a.b" → c.
    let mut idx = 0;
    while let Some(off) = path[idx..].find('.') {
        let at = idx + off;
        if let Some(Value::Object(inner)) = map.get(&path[..at])
            && let Some(v) = lookup(inner, &path[at + 1..])
        {
            return Some(v);
        }
        idx = at + 1;
    }
    None
}

fn collect<'a>(map: &'a Map<String, Value>, path: &str, out: &mut Vec<&'a Value>) {
    if let Some(v) = map.get(path) {
        push_leaves(v, out);
    }
    let mut idx = 0;
    while let Some(off) = path[idx..].find('.') {
        let at = idx + off;
        if let Some(v) = map.get(&path[..at]) {
            collect_in(v, &path[at + 1..], out);
        }
        idx = at + 1;
    }
}

fn collect_in<'a>(v: &'a Value, rest: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(inner) => collect(inner, rest, out),
        Value::Array(items) => items.iter().for_each(|i| collect_in(i, rest, out)),
        _ => {}
    }
}

fn push_leaves<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| push_leaves(i, out)),
        Value::Null => {}
        other => out.push(other),
    }
}

fn walk_leaves<'a>(map: &'a Map<String, Value>, prefix: &mut String, out: &mut Vec<(String, &'a Value)>) {
    for (k, v) in map {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(k);
        walk_value(v, prefix, out);
        prefix.truncate(len);
    }
}

fn walk_value<'a>(v: &'a Value, prefix: &mut String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(m) => walk_leaves(m, prefix, out),
        Value::Array(items) => items.iter().for_each(|i| walk_value(i, prefix, out)),
        Value::Null => {}
        other => out.push((prefix.clone(), other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ev() -> Event {
        let ts = DateTime::parse_from_rfc3339("2024-05-01T10:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut e = Event::new("acme", ts, "raw line");
        e.set("source.ip", json!("10.1.2.3"));
        e.set("a", json!([{"b": 1}, {"b": [2, 3]}]));
        e
    }

    #[test]
    fn required_fields_and_accessors() {
        let e = ev();
        assert_eq!(e.tenant(), "acme");
        assert_eq!(e.original(), "raw line");
        assert_eq!(e.id(), Event::derived_id("acme", "raw line"));
        assert_eq!(e.source_ip(), Some("10.1.2.3"));
        assert_eq!(e.get_str("@timestamp"), Some("2024-05-01T10:00:00.123000Z"));
    }

    #[test]
    fn derived_id_depends_on_tenant_and_original() {
        assert_ne!(Event::derived_id("a", "x"), Event::derived_id("b", "x"));
        assert_ne!(Event::derived_id("a", "x"), Event::derived_id("a", "y"));
        assert_eq!(Event::derived_id("a", "x"), Event::derived_id("a", "x"));
    }

    #[test]
    fn values_walk_arrays_and_dotted_keys() {
        let mut e = ev();
        let got: Vec<_> = e.values("a.b").into_iter().cloned().collect();
        assert_eq!(got, vec![json!(1), json!(2), json!(3)]);
        e.doc.insert("x.y".into(), json!("flat"));
        assert_eq!(e.get_str("x.y"), Some("flat"));
    }

    #[test]
    fn json_round_trip() {
        let e = ev();
        let back = Event::from_json(&e.to_json()).unwrap();
        assert_eq!(back, e);
        assert_eq!(back.timestamp(), e.timestamp());
    }

    #[test]
    fn from_json_rejects_incomplete_documents() {
        assert_eq!(Event::from_json("{}"), Err(EventError::Missing("@timestamp")));
        assert!(matches!(Event::from_json("[1]"), Err(EventError::NotAnObject(_))));
    }

    #[test]
    fn leaves_are_dotted_paths() {
        let e = ev();
        let paths: Vec<_> = e.leaves().into_iter().map(|(p, _)| p).collect();
        assert!(paths.contains(&"source.ip".to_string()));
        assert_eq!(paths.iter().filter(|p| *p == "a.b").count(), 3);
    }

    #[test]
    fn tags_are_unique() {
        let mut e = ev();
        e.add_tag("x");
        e.add_tag("x");
        assert_eq!(e.get("tags"), Some(&json!(["x"])));
    }
}
