//! The tree an event's document is built in.
//!
//! Parsers build events field by field (`source.ip`, `http.request.method`,
//! …), and building nested `serde_json::Map`s that way costs a hash of every
//! key at every level and an allocation for every key and every map's hash
//! table: most of a text parser's time. An [`Obj`] is instead a vector of
//! (key, node) pairs in insertion order, its keys stored inline (ECS names
//! are short) and found by comparing them; an object grown past
//! [`INDEXED`] keys gets a hash index so that a record of thousands of keys
//! is not quadratic. Leaves are JSON values, so that reading a field gives
//! the `&serde_json::Value` every caller knows; a whole object set as one
//! value (CloudTrail's `requestParameters`) stays one JSON value.

use std::collections::HashMap;

use compact_str::CompactString;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// Keys beyond which an object keeps a hash index of its keys.
const INDEXED: usize = 24;

/// An object of an event document: keys in insertion order.
#[derive(Clone, Debug, Default)]
pub struct Obj {
    entries: Vec<Entry>,
    /// Key → position, kept once the object has more than [`INDEXED`] keys.
    /// Boxed: most objects never have one, and a bare map would make every
    /// node of every document larger.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<CompactString, usize>>>,
}

/// A key of an [`Obj`] and what it holds.
#[derive(Clone, Debug)]
struct Entry {
    /// [`tag`] of the key: compared before the key itself.
    tag: u64,
    key: CompactString,
    node: Node,
}

/// A key's length, first and last byte in one word: keys of different
/// tags differ, so that most keys of an object are passed over without
/// comparing their text.
#[inline]
fn tag(key: &str) -> u64 {
    let b = key.as_bytes();
    match (b.first(), b.last()) {
        (Some(&first), Some(&last)) => (b.len() as u64) << 16 | u64::from(first) << 8 | u64::from(last),
        _ => 0,
    }
}

/// What a key of an [`Obj`] holds.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// An object built by setting dotted paths.
    Obj(Obj),
    /// A JSON value (objects set as one value included).
    Value(Value),
}

/// A key's content, to read: an object of the tree or a JSON value.
#[derive(Clone, Copy, Debug)]
pub enum NodeRef<'a> {
    /// An object built field by field.
    Object(&'a Obj),
    /// A JSON value.
    Value(&'a Value),
}

impl Node {
    fn as_field(&self) -> NodeRef<'_> {
        match self {
            Node::Obj(o) => NodeRef::Object(o),
            Node::Value(v) => NodeRef::Value(v),
        }
    }

    /// The node as a JSON value (objects converted).
    fn to_value(&self) -> Value {
        match self {
            Node::Obj(o) => Value::Object(o.to_map()),
            Node::Value(v) => v.clone(),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Node::Obj(o) => Value::Object(o.into_map()),
            Node::Value(v) => v,
        }
    }
}

impl Obj {
    /// An empty object with room for `n` keys.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Obj {
            entries: Vec::with_capacity(n),
            index: None,
        }
    }

    /// An object holding each entry of `map` as one JSON value.
    pub(crate) fn from_map(map: Map<String, Value>) -> Self {
        let mut obj = Obj::with_capacity(map.len());
        for (k, v) in map {
            obj.push_new(&k, Node::Value(v));
        }
        obj
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the object has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The keys and their contents, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, NodeRef<'_>)> {
        self.entries.iter().map(|e| (e.key.as_str(), e.node.as_field()))
    }

    /// What `key` (one key, dots and all) holds.
    #[inline]
    pub fn get(&self, key: &str) -> Option<NodeRef<'_>> {
        self.position(key).map(|i| self.entries[i].node.as_field())
    }

    #[inline]
    fn position(&self, key: &str) -> Option<usize> {
        match &self.index {
            Some(index) => index.get(key).copied(),
            None => {
                let tag = tag(key);
                self.entries
                    .iter()
                    .position(|e| e.tag == tag && e.key.as_str() == key)
            }
        }
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        let i = self.position(key)?;
        Some(&mut self.entries[i].node)
    }

    /// Set `key` to `node`, in place when present.
    #[inline]
    pub(crate) fn put(&mut self, key: &str, node: Node) {
        match self.position(key) {
            Some(i) => self.entries[i].node = node,
            None => self.push_new(key, node),
        }
    }

    /// The node of `key`, added (made by `make`) when absent.
    #[inline]
    pub(crate) fn get_or_push(&mut self, key: &str, make: impl FnOnce() -> Node) -> &mut Node {
        let i = match self.position(key) {
            Some(i) => i,
            None => {
                self.push_new(key, make());
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].node
    }

    /// Add `key`, known to be absent.
    #[inline]
    pub(crate) fn push_new(&mut self, key: &str, node: Node) {
        let key = CompactString::from(key);
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        } else if self.entries.len() >= INDEXED {
            let mut index: HashMap<CompactString, usize> = self
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.key.clone(), i))
                .collect();
            index.insert(key.clone(), self.entries.len());
            self.index = Some(Box::new(index));
        }
        self.entries.push(Entry {
            tag: tag(&key),
            key,
            node,
        });
    }

    /// The object as a JSON map (a copy).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = Map::with_capacity(self.entries.len());
        for e in &self.entries {
            map.insert(e.key.to_string(), e.node.to_value());
        }
        map
    }

    pub(crate) fn into_map(self) -> Map<String, Value> {
        let mut map = Map::with_capacity(self.entries.len());
        for e in self.entries {
            map.insert(e.key.into_string(), e.node.into_value());
        }
        map
    }
}

impl Serialize for Obj {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut map = ser.serialize_map(Some(self.entries.len()))?;
        for e in &self.entries {
            map.serialize_entry(e.key.as_str(), &e.node.as_field())?;
        }
        map.end()
    }
}

impl Serialize for NodeRef<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            NodeRef::Object(o) => o.serialize(ser),
            NodeRef::Value(v) => v.serialize(ser),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn large_objects_are_indexed_and_keep_their_order() {
        let mut o = Obj::default();
        for i in 0..100 {
            o.push_new(&format!("k{i}"), Node::Value(json!(i)));
        }
        assert!(o.index.is_some());
        for i in [0, 23, 24, 25, 99] {
            assert!(matches!(o.get(&format!("k{i}")), Some(NodeRef::Value(v)) if *v == json!(i)));
        }
        assert!(o.get("k100").is_none());
        let keys: Vec<_> = o.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys[..3], ["k0", "k1", "k2"]);
        assert_eq!(serde_json::to_value(&o).unwrap(), Value::Object(o.to_map()));
    }

    #[test]
    fn keys_are_told_apart_by_their_tags_and_text() {
        let mut o = Obj::default();
        let keys = [
            "",
            "a",
            "ab",
            "a\0",
            "abcdefg",
            "abcdefgh",
            "abcdefgi",
            "abcdefghij",
            "é",
            "e",
        ];
        for (i, k) in keys.iter().enumerate() {
            o.push_new(k, Node::Value(json!(i)));
        }
        for (i, k) in keys.iter().enumerate() {
            assert!(
                matches!(o.get(k), Some(NodeRef::Value(v)) if *v == json!(i)),
                "{k:?}"
            );
        }
        assert!(o.get("abcdefgz").is_none());
        assert!(o.get("abcdef").is_none());
    }

    #[test]
    fn maps_convert_both_ways() {
        let map = json!({"a": {"b": 1}, "c.d": [1, 2]}).as_object().unwrap().clone();
        let o = Obj::from_map(map.clone());
        assert_eq!(o.to_map(), map);
        assert_eq!(o.clone().into_map(), map);
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
    }
}
