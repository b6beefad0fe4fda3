//! The event: one normalized log record, an ECS-keyed JSON document.
//!
//! Every event carries `@timestamp` (UTC, microsecond precision), `tenant`,
//! a stable `event.id`, and `event.original` (the record exactly as received).
//! Other fields are addressed by dotted ECS paths such as `source.ip`.

use std::fmt;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use serde_json::{Map, Value};

use crate::doc::{Node, NodeRef, Obj};

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

/// One normalized record. The document is nested JSON keyed by ECS names,
/// built in a [tree](crate::doc) that is cheap to build field by field.
#[derive(Clone)]
pub struct Event {
    timestamp: DateTime<Utc>,
    root: Obj,
    /// Whether some key of the document, at any depth, may contain a dot.
    /// When none does, a dotted path names exactly one place, and lookups
    /// walk it segment by segment without trying the other splits.
    dotted: bool,
    /// The document as a JSON map, built when first asked for (by
    /// [`Event::document`], or by reading an object with [`Event::get`]) and
    /// dropped by every change.
    json: OnceLock<Map<String, Value>>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.timestamp == other.timestamp && self.document() == other.document()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("timestamp", &self.timestamp)
            .field("doc", self.document())
            .finish()
    }
}

impl Event {
    /// A new event for `tenant` at `timestamp` holding `original`, with its id
    /// derived from tenant and original (see [`Event::derived_id`]).
    pub fn new(tenant: &str, timestamp: DateTime<Utc>, original: impl Into<String>) -> Self {
        let original = original.into();
        let id = Self::derived_id(tenant, &original);
        Self::with_id(tenant, timestamp, original, id)
    }

    /// A new event for `tenant` at `timestamp` holding `original`, whose
    /// `event.id` is `id` (formats with ids of their own, or ids already
    /// derived); the document is the one [`Event::new`] followed by
    /// [`Event::set_id`] gives.
    pub fn with_id(
        tenant: &str,
        timestamp: DateTime<Utc>,
        original: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        // Most events end with 10–20 top-level fields: sized once.
        let mut root = Obj::with_capacity(ROOT_FIELDS);
        root.push_new("@timestamp", Node::Value(Value::String(format_ts(timestamp))));
        root.push_new("tenant", Node::Value(Value::String(tenant.to_string())));
        let mut event = Obj::with_capacity(EVENT_FIELDS);
        event.push_new("id", Node::Value(Value::String(id.into())));
        event.push_new("original", Node::Value(Value::String(original.into())));
        root.push_new("event", Node::Obj(event));
        Event {
            timestamp,
            root,
            dotted: false,
            json: OnceLock::new(),
        }
    }

    /// The id used when a format has no id of its own: a 128-bit hash of
    /// tenant and original, so re-ingesting the same record is idempotent.
    pub fn derived_id(tenant: &str, original: &str) -> String {
        id_hex(Self::derived_hash(tenant, original))
    }

    /// The hash behind [`Event::derived_id`] (XXH3-128 of tenant, a zero
    /// byte and original): `derived_id` is its 32 lower-case hex digits.
    pub fn derived_hash(tenant: &str, original: &str) -> u128 {
        Self::derived_hash_parts(tenant, &[original])
    }

    /// [`Event::derived_hash`] of an original given in parts: the hash of
    /// their concatenation, without building it.
    pub fn derived_hash_parts(tenant: &str, original: &[&str]) -> u128 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(tenant.as_bytes());
        h.update(&[0]);
        for part in original {
            h.update(part.as_bytes());
        }
        h.digest128()
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
        let dotted = doc.iter().any(|(k, v)| k.contains('.') || has_dotted_key(v));
        let ev = Event {
            timestamp,
            root: Obj::from_map(doc),
            dotted,
            json: OnceLock::new(),
        };
        ev.tenant_value().ok_or(EventError::Missing("tenant"))?;
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
        self.set("@timestamp", Value::String(format_ts(ts)));
    }

    /// `@timestamp` as microseconds since the Unix epoch.
    pub fn timestamp_micros(&self) -> i64 {
        self.timestamp.timestamp_micros()
    }

    /// The tenant (customer) this event belongs to.
    pub fn tenant(&self) -> &str {
        self.tenant_value().unwrap_or("")
    }

    fn tenant_value(&self) -> Option<&str> {
        match self.root.get("tenant") {
            Some(NodeRef::Value(v)) => v.as_str(),
            _ => None,
        }
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

    /// The whole document as a JSON map (built on first use; walking
    /// [`Event::root`] avoids building it).
    pub fn document(&self) -> &Map<String, Value> {
        self.json.get_or_init(|| self.root.to_map())
    }

    /// The document's top-level object, to walk without building JSON maps.
    pub fn root(&self) -> &Obj {
        &self.root
    }

    /// The value at a dotted path. Nested objects are walked first; a key that
    /// itself contains dots (`"a.b": 1`) is found too.
    pub fn get(&self, path: &str) -> Option<&Value> {
        let found = if self.dotted {
            lookup_tree(&self.root, path)
        } else {
            walk_tree(&self.root, path)
        };
        match found? {
            NodeRef::Value(v) => Some(v),
            // An object of the tree: read from the JSON document.
            NodeRef::Object(_) if self.dotted => lookup(self.document(), path),
            NodeRef::Object(_) => walk(self.document(), path),
        }
    }

    /// The string at a dotted path.
    pub fn get_str(&self, path: &str) -> Option<&str> {
        self.get(path).and_then(Value::as_str)
    }

    /// Every leaf value at a dotted path, walking into arrays (`a.b` over
    /// `{"a":[{"b":1},{"b":[2,3]}]}` gives 1, 2, 3).
    pub fn values<'a>(&'a self, path: &str) -> Vec<&'a Value> {
        let mut out = Vec::new();
        if !self.dotted && collect_tree(&self.root, path, &mut out) {
            return out;
        }
        // Dotted keys, or the path names an object of the tree.
        out.clear();
        if self.dotted {
            collect(self.document(), path, &mut out);
        } else {
            collect_walk(self.document(), path, &mut out);
        }
        out
    }

    /// Set the value at a dotted path, creating objects on the way. Setting
    /// `Value::Null` is ignored: ECS documents omit absent fields.
    pub fn set(&mut self, path: &str, value: Value) {
        if value.is_null() {
            return;
        }
        if !self.dotted
            && (has_dotted_key(&value)
                || (path.len() > MAX_DEPTH && path.bytes().filter(|&b| b == b'.').count() >= MAX_DEPTH))
        {
            self.dotted = true;
        }
        self.json.take();
        set_tree(&mut self.root, path, value);
    }

    /// Add a value to the field at `path`, as repeated keys of a record do:
    /// an absent field is set to it, an array gets it appended, any other
    /// value becomes the array of both. `Value::Null` is ignored.
    pub fn push(&mut self, path: &str, value: Value) {
        if value.is_null() {
            return;
        }
        if !self.dotted {
            let dotted = has_dotted_key(&value);
            self.json.take();
            if let Some(slot) = walk_tree_mut(&mut self.root, path) {
                match slot {
                    Value::Array(list) => list.push(value),
                    old => {
                        let previous = std::mem::take(old);
                        *old = Value::Array(vec![previous, value]);
                    }
                }
                self.dotted = dotted;
                return;
            }
            return self.set(path, value);
        }
        // Keys with dots: where `get` finds the field may not be where `set`
        // puts it; read one, write the other.
        let new = match self.get(path) {
            None => value,
            Some(Value::Array(list)) => {
                let mut list = list.clone();
                list.push(value);
                Value::Array(list)
            }
            Some(old) => Value::Array(vec![old.clone(), value]),
        };
        self.set(path, new);
    }

    /// Add a tag to `tags` (kept unique).
    pub fn add_tag(&mut self, tag: &str) {
        self.json.take();
        match self.root.get_mut("tags") {
            Some(Node::Value(Value::Array(list))) => {
                if !list.iter().any(|t| t.as_str() == Some(tag)) {
                    list.push(Value::String(tag.to_string()));
                }
            }
            Some(_) => {}
            None => self.root.push_new(
                "tags",
                Node::Value(Value::Array(vec![Value::String(tag.to_string())])),
            ),
        }
    }

    /// Every leaf as (dotted path, value), arrays flattened, in document order.
    pub fn leaves(&self) -> Vec<(String, &Value)> {
        let mut out = Vec::new();
        tree_leaves(&self.root, &mut String::new(), &mut out);
        out
    }

    /// The document as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.root).expect("a JSON document always serializes")
    }

    /// Consume into the document.
    pub fn into_document(self) -> Map<String, Value> {
        match self.json.into_inner() {
            Some(map) => map,
            None => self.root.into_map(),
        }
    }
}

/// Top-level fields an event is sized for.
const ROOT_FIELDS: usize = 16;
/// Fields a nested object created by [`Event::set`] is sized for.
const NESTED_FIELDS: usize = 4;
/// Fields the `event` object is sized for (id, original, kind, category,
/// type, module, dataset, outcome, …).
const EVENT_FIELDS: usize = 8;
/// The deepest an object made by [`Event::set`] goes (see [`set_path`]).
pub const MAX_DEPTH: usize = 32;

/// `@timestamp` as written in documents: RFC 3339, UTC, microseconds
/// (`2024-05-01T10:00:00.123000Z`).
pub fn format_ts(ts: DateTime<Utc>) -> String {
    let (date, time) = (ts.date_naive(), ts.time());
    let nanos = time.nanosecond();
    // Years outside 0..=9999 and leap seconds are chrono's to write.
    if !(0..=9999).contains(&date.year()) || nanos >= 1_000_000_000 {
        return ts.to_rfc3339_opts(SecondsFormat::Micros, true);
    }
    let mut out = [0u8; 27];
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, date.year() as u32);
    put(5, 2, date.month());
    put(8, 2, date.day());
    put(11, 2, time.hour());
    put(14, 2, time.minute());
    put(17, 2, time.second());
    put(20, 6, nanos / 1000);
    for (at, b) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        out[at] = b;
    }
    ascii(&out)
}

/// An id as text: 32 lower-case hex digits, as `format!("{:032x}")` writes
/// them ([`Event::derived_id`] is `id_hex(Event::derived_hash(..))`).
pub fn id_hex(mut n: u128) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'0'; 32];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n & 0xf) as usize];
        n >>= 4;
    }
    ascii(&out)
}

/// ASCII bytes as a `String`.
fn ascii(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes).map(str::to_owned).unwrap_or_default()
}

/// [`Event::set`] on `map`: an existing key is looked up without allocating,
/// a new one is inserted with the objects below it built first. Below
/// [`MAX_DEPTH`] objects the rest of the path is one key, dots and all
/// ([`Event::get`] finds it): a key of a million dots in some input must
/// not become a million nested objects, which could not be dropped or
/// serialized without overflowing the stack.
fn set_path(map: &mut Map<String, Value>, path: &str, value: Value, depth: usize) {
    let split = if depth + 1 < MAX_DEPTH {
        // Paths are short: a byte loop beats a searcher here.
        path.bytes()
            .position(|b| b == b'.')
            .map(|at| (&path[..at], &path[at + 1..]))
    } else {
        None
    };
    let Some((head, rest)) = split else {
        match find_mut(map, path) {
            Some(slot) => *slot = value,
            None => {
                map.insert(path.to_string(), value);
            }
        }
        return;
    };
    if let Some(slot) = find_mut(map, head) {
        if !slot.is_object() {
            *slot = Value::Object(Map::with_capacity(NESTED_FIELDS));
        }
        if let Value::Object(inner) = slot {
            set_path(inner, rest, value, depth + 1);
        }
        return;
    }
    let mut inner = Map::with_capacity(NESTED_FIELDS);
    set_path(&mut inner, rest, value, depth + 1);
    map.insert(head.to_string(), Value::Object(inner));
}

/// [`set_path`] on the document's tree: objects of the tree are walked
/// (and made), a JSON object met on the way is continued in by `set_path`.
/// A loop rather than a recursion, so that the value is moved once.
fn set_tree(root: &mut Obj, path: &str, value: Value) {
    let mut obj = root;
    let mut rest = path;
    let mut depth = 0;
    loop {
        let split = if depth + 1 < MAX_DEPTH {
            rest.bytes().position(|b| b == b'.')
        } else {
            None
        };
        let Some(at) = split else {
            obj.put(rest, Node::Value(value));
            return;
        };
        let (head, tail) = (&rest[..at], &rest[at + 1..]);
        let slot = obj.get_or_push(head, || Node::Obj(Obj::with_capacity(NESTED_FIELDS)));
        match slot {
            Node::Obj(_) => {}
            Node::Value(Value::Object(inner)) => return set_path(inner, tail, value, depth + 1),
            Node::Value(_) => *slot = Node::Obj(Obj::with_capacity(NESTED_FIELDS)),
        }
        let Node::Obj(inner) = slot else { return };
        obj = inner;
        rest = tail;
        depth += 1;
    }
}

/// [`walk`] on the document's tree.
fn walk_tree<'a>(obj: &'a Obj, path: &str) -> Option<NodeRef<'a>> {
    let mut obj = obj;
    let mut rest = path;
    loop {
        let Some(at) = rest.bytes().position(|b| b == b'.') else {
            return obj.get(rest);
        };
        match obj.get(&rest[..at])? {
            NodeRef::Object(inner) => {
                obj = inner;
                rest = &rest[at + 1..];
            }
            NodeRef::Value(Value::Object(inner)) => return walk(inner, &rest[at + 1..]).map(NodeRef::Value),
            NodeRef::Value(_) => return None,
        }
    }
}

/// [`walk_mut`] on the document's tree; an object of the tree found at
/// `path` is turned into a JSON object, to be changed as a value.
fn walk_tree_mut<'a>(obj: &'a mut Obj, path: &str) -> Option<&'a mut Value> {
    let Some(at) = path.bytes().position(|b| b == b'.') else {
        let node = obj.get_mut(path)?;
        if let Node::Obj(inner) = node {
            *node = Node::Value(Value::Object(std::mem::take(inner).into_map()));
        }
        return match node {
            Node::Value(v) => Some(v),
            Node::Obj(_) => None,
        };
    };
    match obj.get_mut(&path[..at])? {
        Node::Obj(inner) => walk_tree_mut(inner, &path[at + 1..]),
        Node::Value(Value::Object(inner)) => walk_mut(inner, &path[at + 1..]),
        Node::Value(_) => None,
    }
}

/// [`collect_walk`] on the document's tree; false when the path names an
/// object of the tree (whose leaves are then read from the JSON document).
fn collect_tree<'a>(obj: &'a Obj, path: &str, out: &mut Vec<&'a Value>) -> bool {
    let (head, rest) = match path.bytes().position(|b| b == b'.') {
        Some(at) => (&path[..at], Some(&path[at + 1..])),
        None => (path, None),
    };
    match (obj.get(head), rest) {
        (None, _) => true,
        (Some(NodeRef::Value(v)), None) => {
            push_leaves(v, out);
            true
        }
        (Some(NodeRef::Object(_)), None) => false,
        (Some(NodeRef::Object(inner)), Some(rest)) => collect_tree(inner, rest, out),
        (Some(NodeRef::Value(v)), Some(rest)) => {
            collect_walk_in(v, rest, out);
            true
        }
    }
}

/// [`lookup`] on the document's tree.
fn lookup_tree<'a>(obj: &'a Obj, path: &str) -> Option<NodeRef<'a>> {
    if let Some(found) = obj.get(path) {
        return Some(found);
    }
    for (at, inner) in tree_prefixes(obj, path) {
        let rest = &path[at + 1..];
        let found = match inner {
            NodeRef::Object(inner) => lookup_tree(inner, rest),
            NodeRef::Value(Value::Object(inner)) => lookup(inner, rest).map(NodeRef::Value),
            NodeRef::Value(_) => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

/// [`prefixes`] of an object of the tree.
fn tree_prefixes<'a>(obj: &'a Obj, path: &str) -> Vec<(usize, NodeRef<'a>)> {
    split_points(path, obj.len(), |key| obj.get(key), || obj.iter())
}

/// The keys of an object of `len` keys that are `path` up to one of its
/// dots, shortest first, as (the dot's index, content): looked up with
/// `get` split by split when the path has fewer dots than the object has
/// keys, else found by going over the `keys`, so that a path of a million
/// dots costs one pass, not a million lookups.
fn split_points<T, K: AsRef<str>, I: Iterator<Item = (K, T)>>(
    path: &str,
    len: usize,
    get: impl Fn(&str) -> Option<T>,
    keys: impl FnOnce() -> I,
) -> Vec<(usize, T)> {
    let dots = path.bytes().filter(|&b| b == b'.').count();
    let mut found: Vec<(usize, T)> = if dots <= len {
        path.bytes()
            .enumerate()
            .filter(|&(_, b)| b == b'.')
            .filter_map(|(at, _)| get(&path[..at]).map(|v| (at, v)))
            .collect()
    } else {
        keys()
            .filter(|(k, _)| {
                let k = k.as_ref();
                path.as_bytes().get(k.len()) == Some(&b'.') && path.starts_with(k)
            })
            .map(|(k, v)| (k.as_ref().len(), v))
            .collect()
    };
    found.sort_by_key(|&(at, _)| at);
    found
}

/// [`walk_leaves`] on the document's tree.
fn tree_leaves<'a>(obj: &'a Obj, prefix: &mut String, out: &mut Vec<(String, &'a Value)>) {
    for (k, f) in obj.iter() {
        let len = prefix.len();
        if !prefix.is_empty() {
            prefix.push('.');
        }
        prefix.push_str(k);
        match f {
            NodeRef::Object(inner) => tree_leaves(inner, prefix, out),
            NodeRef::Value(v) => walk_value(v, prefix, out),
        }
        prefix.truncate(len);
    }
}

/// Objects of at most this many keys are searched by comparing keys in
/// order rather than by hashing: a document's objects are small, and
/// comparing a few short keys (mostly their lengths) is cheaper than one
/// SipHash of the key.
const SCAN: usize = 16;

/// The value of `key` in `map`.
fn find<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= SCAN {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// The value of `key` in `map`, to change.
fn find_mut<'a>(map: &'a mut Map<String, Value>, key: &str) -> Option<&'a mut Value> {
    if map.len() <= SCAN {
        map.iter_mut().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get_mut(key)
    }
}

/// True when some key in `v`, at any depth, contains a dot.
pub(crate) fn has_dotted_key(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.iter().any(|(k, v)| k.contains('.') || has_dotted_key(v)),
        Value::Array(items) => items.iter().any(has_dotted_key),
        _ => false,
    }
}

/// [`lookup`] in a document none of whose keys contains a dot: the path's
/// segments, one object after the other.
fn walk<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut map = map;
    let mut rest = path;
    loop {
        match rest.bytes().position(|b| b == b'.') {
            None => return find(map, rest),
            Some(at) => match find(map, &rest[..at]) {
                Some(Value::Object(inner)) => {
                    map = inner;
                    rest = &rest[at + 1..];
                }
                _ => return None,
            },
        }
    }
}

/// [`walk`], to change the value found.
fn walk_mut<'a>(map: &'a mut Map<String, Value>, path: &str) -> Option<&'a mut Value> {
    let mut map = map;
    let mut rest = path;
    loop {
        match rest.bytes().position(|b| b == b'.') {
            None => return find_mut(map, rest),
            Some(at) => match find_mut(map, &rest[..at]) {
                Some(Value::Object(inner)) => {
                    map = inner;
                    rest = &rest[at + 1..];
                }
                _ => return None,
            },
        }
    }
}

/// [`collect`] in a document none of whose keys contains a dot.
fn collect_walk<'a>(map: &'a Map<String, Value>, path: &str, out: &mut Vec<&'a Value>) {
    match path.bytes().position(|b| b == b'.') {
        None => {
            if let Some(v) = find(map, path) {
                push_leaves(v, out);
            }
        }
        Some(at) => {
            if let Some(v) = find(map, &path[..at]) {
                collect_walk_in(v, &path[at + 1..], out);
            }
        }
    }
}

fn collect_walk_in<'a>(v: &'a Value, rest: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(inner) => collect_walk(inner, rest, out),
        Value::Array(items) => items.iter().for_each(|i| collect_walk_in(i, rest, out)),
        _ => {}
    }
}

fn lookup<'a>(map: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = map.get(path) {
        return Some(v);
    }
    // Try every split point, shortest first: "a.b.c" → a → "b.c", "a.b" → c.
    for (at, inner) in prefixes(map, path) {
        if let Value::Object(inner) = inner
            && let Some(v) = lookup(inner, &path[at + 1..])
        {
            return Some(v);
        }
    }
    None
}

/// [`split_points`] of a JSON map.
fn prefixes<'a, 'p>(
    map: &'a Map<String, Value>,
    path: &'p str,
) -> impl Iterator<Item = (usize, &'a Value)> + use<'a, 'p> {
    split_points(path, map.len(), |key| map.get(key), || map.iter()).into_iter()
}

fn collect<'a>(map: &'a Map<String, Value>, path: &str, out: &mut Vec<&'a Value>) {
    if let Some(v) = map.get(path) {
        push_leaves(v, out);
    }
    for (at, v) in prefixes(map, path) {
        collect_in(v, &path[at + 1..], out);
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
        e.root.push_new("x.y", Node::Value(json!("flat")));
        e.dotted = true;
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

    /// `Event::set` as it was first written (allocating every segment), the
    /// reference the faster one must agree with, key order included.
    fn set_reference(mut map: &mut Map<String, Value>, path: &str, value: Value) {
        if value.is_null() {
            return;
        }
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
            map = slot.as_object_mut().unwrap();
        }
    }

    #[test]
    fn set_agrees_with_the_reference_key_order_included() {
        let deep = vec!["k"; MAX_DEPTH].join(".");
        let paths = [
            "a",
            "a.b",
            "a.b.c",
            "a.b",
            "x.y",
            "a.c",
            "a",
            "a.b.c.d",
            ".",
            "",
            "a..b",
            "a.",
            ".a",
            "event.kind",
            "event.id",
            "tags.x",
            &deep,
        ];
        let mut fast = ev();
        let mut reference = ev().into_document();
        for (i, p) in paths.iter().cycle().take(80).enumerate() {
            let v = if i % 7 == 3 { Value::Null } else { json!(i) };
            fast.set(p, v.clone());
            set_reference(&mut reference, p, v);
            let expected = serde_json::to_string(&reference).unwrap();
            assert_eq!(fast.to_json(), expected, "after setting {p}");
            assert_eq!(serde_json::to_string(fast.document()).unwrap(), expected);
            for q in &paths {
                assert_eq!(fast.get(q), walk(&reference, q), "get {q} after setting {p}");
                let mut slow = Vec::new();
                collect_walk(&reference, q, &mut slow);
                assert_eq!(fast.values(q), slow, "values {q} after setting {p}");
            }
        }
    }

    /// Keys with dots reach a document through set values and stored
    /// documents; lookups find them, and without them the segment walk
    /// answers as the search over every split does.
    #[test]
    fn dotted_keys_from_values_and_documents_are_found() {
        let mut e = ev();
        assert!(!e.dotted);
        e.set("winlog.event_data", json!({"a.b": "x", "c": [{"d.e": 1}]}));
        assert!(e.dotted);
        assert_eq!(e.get_str("winlog.event_data.a.b"), Some("x"));
        assert_eq!(e.values("winlog.event_data.c.d.e"), vec![&json!(1)]);
        let back = Event::from_json(&e.to_json()).unwrap();
        assert!(back.dotted);
        assert_eq!(back.get_str("winlog.event_data.a.b"), Some("x"));
        let plain = Event::from_json(&ev().to_json()).unwrap();
        assert!(!plain.dotted);

        let e = ev();
        let doc = e.document();
        for path in [
            "source.ip",
            "a.b",
            "a",
            "event.id",
            "event",
            "a.b.c",
            "source.ip.x",
            "",
            ".",
            "@timestamp",
            "nope.x",
        ] {
            assert_eq!(walk(doc, path), lookup(doc, path), "{path}");
            assert_eq!(e.get(path), lookup(doc, path), "{path}");
            assert_eq!(lookup_tree(e.root(), path).is_some(), lookup(doc, path).is_some());
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            collect_walk(doc, path, &mut fast);
            collect(doc, path, &mut slow);
            assert_eq!(fast, slow, "{path}");
            assert_eq!(e.values(path), slow, "{path}");
        }
    }

    #[test]
    fn lookups_over_keys_and_over_splits_agree() {
        let doc = json!({"a": {"b": 1}, "a.b": 2, "a.b.c": {"d": 3}, "x": 4, "a.b.c.d.e": 5, "q": {"r.s": {"t": 6}}});
        let Value::Object(map) = doc else { unreachable!() };
        for path in [
            "a.b",
            "a.b.c.d",
            "a.b.c.d.e",
            "q.r.s.t",
            "a",
            "a.b.c.d.e.f",
            "x.y",
            "q.r",
        ] {
            let by_splits: Vec<_> = path
                .match_indices('.')
                .filter_map(|(at, _)| map.get(&path[..at]).map(|v| (at, v)))
                .collect();
            let mut by_keys: Vec<_> = map
                .iter()
                .filter(|(k, _)| path.as_bytes().get(k.len()) == Some(&b'.') && path.starts_with(k.as_str()))
                .map(|(k, v)| (k.len(), v))
                .collect();
            by_keys.sort_by_key(|&(at, _)| at);
            assert_eq!(prefixes(&map, path).collect::<Vec<_>>(), by_splits, "{path}");
            assert_eq!(by_keys, by_splits, "{path}");
        }
        let mut e = ev();
        e.set("w", Value::Object(map));
        assert_eq!(e.get("w.a.b.c.d"), Some(&json!(3)));
        assert_eq!(e.get("w.q.r.s.t"), Some(&json!(6)));
        assert_eq!(e.values("w.a.b"), vec![&json!(2), &json!(1)]);
    }

    #[test]
    fn deep_paths_end_in_one_dotted_key() {
        let mut e = ev();
        let path = vec!["k"; MAX_DEPTH + 3].join(".");
        e.set(&path, json!(1));
        assert!(e.dotted);
        assert_eq!(e.get(&path), Some(&json!(1)));
        let mut v = e.get("k").unwrap();
        for _ in 0..MAX_DEPTH - 2 {
            v = v.get("k").unwrap();
        }
        assert_eq!(v.get("k.k.k.k"), Some(&json!(1)));
        // A million dots (a key in some input): no stack overflow in set,
        // serialization or drop.
        let mut e = ev();
        e.set(&".".repeat(1_000_000), json!(1));
        assert!(e.to_json().len() > 1_000_000);
    }

    #[test]
    fn with_id_is_new_then_set_id() {
        let ts = ev().timestamp();
        let mut a = Event::new("acme", ts, "raw");
        a.set_id("own");
        let b = Event::with_id("acme", ts, "raw", "own");
        assert_eq!(a.to_json(), b.to_json());
        assert_eq!(
            Event::new("acme", ts, "raw").to_json(),
            Event::with_id("acme", ts, "raw", Event::derived_id("acme", "raw")).to_json()
        );
    }

    #[test]
    fn derived_ids_are_the_hash_in_hex() {
        for (t, o) in [("acme", "raw line"), ("", ""), ("t", "\u{0}x")] {
            let h = Event::derived_hash(t, o);
            assert_eq!(Event::derived_id(t, o), format!("{h:032x}"));
        }
        assert_eq!(id_hex(0), "0".repeat(32));
        assert_eq!(id_hex(u128::MAX), "f".repeat(32));
        assert_eq!(id_hex(0xabc), format!("{:032x}", 0xabc));
        // The ids stored so far stay the ids.
        assert_eq!(
            Event::derived_id("acme", "raw line"),
            "92dad363bd761ca52521ed30bf4faa48"
        );
    }

    proptest::proptest! {
        #[test]
        fn format_ts_is_chronos_rfc3339_in_micros(secs in -70_000_000_000i64..260_000_000_000i64, nanos in 0u32..2_000_000_000) {
            if let Some(t) = DateTime::from_timestamp(secs, nanos) {
                proptest::prop_assert_eq!(format_ts(t), t.to_rfc3339_opts(SecondsFormat::Micros, true));
            }
        }
    }

    /// `push` is `get`, then `set` of the value with the new one added, in
    /// place and without copying the array.
    /// A path of the operations below: short segments that collide, empty
    /// segments, and keys with dots once objects set as values carry them.
    const PATHS: [&str; 12] = [
        "a",
        "b",
        "a.b",
        "a.b.c",
        "b.a",
        "a.c",
        "a.",
        ".",
        "x.y.z",
        "x",
        "event.kind",
        "tags",
    ];

    fn op_value(kind: u8, i: usize) -> Value {
        match kind % 5 {
            0 => json!(i),
            1 => json!(format!("s{i}")),
            2 => json!([i, {"c": i}]),
            3 => json!({"b": i, "k.j": {"c": i}}),
            _ => Value::Null,
        }
    }

    proptest::proptest! {
        /// Any sequence of `set`, `push` and `add_tag` leaves the tree equal to
        /// the same changes made to a plain JSON map, and every path reads
        /// the same from both (`lookup`/`collect` over the map are the
        /// reference: they try every split of the path).
        #[test]
        fn the_tree_agrees_with_a_json_map(ops in proptest::collection::vec((0u8..3, 0usize..12, 0u8..5), 1..40)) {
            let mut e = ev();
            let mut reference = ev().into_document();
            for (i, (op, path, kind)) in ops.into_iter().enumerate() {
                let path = PATHS[path];
                let v = op_value(kind, i);
                match op {
                    0 => {
                        e.set(path, v.clone());
                        set_reference(&mut reference, path, v);
                    }
                    1 => {
                        e.push(path, v.clone());
                        if !v.is_null() {
                            let new = match lookup(&reference, path) {
                                None => v,
                                Some(Value::Array(list)) => {
                                    let mut list = list.clone();
                                    list.push(v);
                                    Value::Array(list)
                                }
                                Some(old) => Value::Array(vec![old.clone(), v]),
                            };
                            set_reference(&mut reference, path, new);
                        }
                    }
                    _ => {
                        e.add_tag(path);
                        let tags = reference.entry("tags").or_insert_with(|| json!([]));
                        if let Value::Array(list) = tags
                            && !list.iter().any(|t| t.as_str() == Some(path))
                        {
                            list.push(json!(path));
                        }
                    }
                }
                let expected = serde_json::to_string(&reference).unwrap();
                proptest::prop_assert_eq!(e.to_json(), expected.clone());
                proptest::prop_assert_eq!(serde_json::to_string(e.document()).unwrap(), expected);
                for q in PATHS.iter().chain(["a.b.k.j.c", "a.k.j", "a.b.c.d", "tags"].iter()) {
                    proptest::prop_assert_eq!(e.get(q), lookup(&reference, q), "get {}", q);
                    let mut want = Vec::new();
                    collect(&reference, q, &mut want);
                    let mut got = e.values(q);
                    // `collect` may reach a leaf by two splits; compare as sets.
                    got.sort_by_key(|v| v.to_string());
                    got.dedup();
                    want.sort_by_key(|v| v.to_string());
                    want.dedup();
                    proptest::prop_assert_eq!(got, want, "values {}", q);
                }
                let leaves: Vec<_> = e.leaves().into_iter().map(|(p, v)| (p, v.clone())).collect();
                let mut want = Vec::new();
                walk_leaves(&reference, &mut String::new(), &mut want);
                let want: Vec<_> = want.into_iter().map(|(p, v)| (p, v.clone())).collect();
                proptest::prop_assert_eq!(leaves, want);
            }
        }
    }

    #[test]
    fn push_makes_arrays_of_repeated_values() {
        let reference = |e: &mut Event, path: &str, v: Value| {
            let new = match e.get(path) {
                None => v,
                Some(Value::Array(list)) => {
                    let mut list = list.clone();
                    list.push(v);
                    Value::Array(list)
                }
                Some(old) => Value::Array(vec![old.clone(), v]),
            };
            e.set(path, new);
        };
        for dotted in [false, true] {
            let (mut fast, mut slow) = (ev(), ev());
            if dotted {
                fast.set("w", json!({"x.y": 1}));
                slow.set("w", json!({"x.y": 1}));
            }
            for (i, path) in [
                "kv.a",
                "kv.a",
                "kv.b",
                "kv.a",
                "source.ip",
                "a",
                "kv.b.c",
                "w.x.y",
                "n",
            ]
            .iter()
            .enumerate()
            {
                let v = if *path == "n" { Value::Null } else { json!(i) };
                fast.push(path, v.clone());
                reference(&mut slow, path, v);
                assert_eq!(fast.to_json(), slow.to_json(), "{path}");
            }
            assert_eq!(fast.get("kv.a"), Some(&json!([0, 1, 3])));
            assert_eq!(fast.get("source.ip"), Some(&json!(["10.1.2.3", 4])));
        }
        let mut e = ev();
        e.push("p", json!({"q.r": 1}));
        assert!(e.dotted);
        assert_eq!(e.get("p.q.r"), Some(&json!(1)));
        let mut e = ev();
        e.push("a", json!(1));
        e.push("a", json!({"q.r": 1}));
        assert!(e.dotted);
    }

    #[test]
    fn tags_are_unique() {
        let mut e = ev();
        e.add_tag("x");
        e.add_tag("x");
        assert_eq!(e.get("tags"), Some(&json!(["x"])));
    }
}
