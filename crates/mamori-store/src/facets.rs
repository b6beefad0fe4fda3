//! Field facets of a result set, as Discover's sidebar shows them: which
//! fields the events have, on what share of them, and each field's top
//! values. Computed from the newest events (a sample when there are more),
//! over any [`EventStore`].

use std::collections::HashMap;

use mamori_model::fields::lowercase;
use mamori_model::{Filter, TimeRange};
use serde::Serialize;
use serde_json::Value;

use crate::aggregate::{TermBucket, bucket_text, top_terms};
use mamori_model::Event;

use crate::{EventStore, Order, SearchRequest, StoreError};

/// What to facet.
#[derive(Debug, Clone)]
pub struct FacetRequest {
    /// Tenants.
    pub tenants: Vec<String>,
    /// Filter (context lists expanded).
    pub filter: Filter,
    /// Time range.
    pub range: TimeRange,
    /// Only these fields (all present fields when empty).
    pub fields: Vec<String>,
    /// Top values per field.
    pub top: usize,
    /// Events examined at most (the newest).
    pub sample: usize,
}

/// One field of the sidebar.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldFacet {
    /// Field path.
    pub field: String,
    /// Examined events that have it.
    pub count: u64,
    /// `count` / examined events.
    pub share: f64,
    /// Distinct values among the examined events.
    pub distinct: u64,
    /// Most frequent values among the examined events.
    pub top: Vec<TermBucket>,
    /// When `top` and `distinct` were counted from fewer events than
    /// `examined` (the newest ones): how many. Text fields, indexed by words
    /// only, get their values from the newest events when facets come from
    /// the index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_examined: Option<u64>,
}

/// Facets of a result set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facets {
    /// Events matching the filter.
    pub total: u64,
    /// Events examined; less than `total` when sampled.
    pub examined: u64,
    /// Whether the facets come from a sample (the newest `examined` events).
    pub sampled: bool,
    /// Fields, most common first, then by name.
    pub fields: Vec<FieldFacet>,
}

/// Events having a field, and per lower-cased value: (value as first seen, events).
pub(crate) type FieldTally = (u64, HashMap<String, (String, u64)>);

/// Tally every field of the examined events (leaves walked once per event).
fn tally_all_fields(events: &[Event]) -> HashMap<String, FieldTally> {
    let mut per_field: HashMap<String, FieldTally> = HashMap::new();
    for event in events {
        let mut seen_fields = std::collections::HashSet::new();
        let mut seen_values = std::collections::HashSet::new();
        for (path, value) in event.leaves() {
            if path == "event.original" || path == "@timestamp" {
                continue;
            }
            let Some(text) = bucket_text(value) else { continue };
            let entry = per_field.entry(path.clone()).or_default();
            if seen_fields.insert(path.clone()) {
                entry.0 += 1;
            }
            let key = lowercase(&text);
            if seen_values.insert((path, key.clone())) {
                entry.1.entry(key).or_insert((text, 0)).1 += 1;
            }
        }
    }
    per_field
}

/// Tally only the named fields: each is looked up in each event, and values
/// are counted by their exact text first (no allocation for a value seen
/// before), then folded case-insensitively.
pub(crate) fn tally_fields(events: &[Event], fields: &[String]) -> HashMap<String, FieldTally> {
    let mut per_field = HashMap::new();
    for field in fields {
        if field == "event.original" || field == "@timestamp" {
            continue;
        }
        let mut having = 0u64;
        let mut exact: HashMap<String, u64> = HashMap::new();
        let mut texts: Vec<std::borrow::Cow<'_, str>> = Vec::new();
        for event in events {
            texts.clear();
            for v in event.values(field) {
                let text = match v {
                    Value::String(s) => std::borrow::Cow::Borrowed(s.as_str()),
                    other => match bucket_text(other) {
                        Some(t) => std::borrow::Cow::Owned(t),
                        None => continue,
                    },
                };
                // One count per event and value, whatever its case.
                let repeat = texts.iter().any(|t| {
                    t.as_ref() == text.as_ref() || lowercase(t.as_ref()) == lowercase(text.as_ref())
                });
                if !repeat {
                    texts.push(text);
                }
            }
            if texts.is_empty() {
                continue;
            }
            having += 1;
            for t in &texts {
                match exact.get_mut(t.as_ref()) {
                    Some(n) => *n += 1,
                    None => {
                        exact.insert(t.to_string(), 1);
                    }
                }
            }
        }
        if having == 0 {
            continue;
        }
        // Fold case (each event counted one value once, whatever its case);
        // the most frequent spelling is shown.
        let mut values: HashMap<String, (String, u64)> = HashMap::with_capacity(exact.len());
        let mut spellings: Vec<(String, u64)> = exact.into_iter().collect();
        spellings.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        for (text, n) in spellings {
            values.entry(lowercase(&text)).or_insert((text, 0)).1 += n;
        }
        per_field.insert(field.clone(), (having, values));
    }
    per_field
}

/// Compute facets over a store.
pub fn facets(store: &dyn EventStore, req: &FacetRequest) -> Result<Facets, StoreError> {
    if let Some(found) = store.indexed_facets(req)? {
        return Ok(found);
    }
    let found = store.search(&SearchRequest {
        tenants: req.tenants.clone(),
        filter: req.filter.clone(),
        range: req.range,
        limit: req.sample,
        offset: 0,
        order: Order::NewestFirst,
        sort: None,
        after: None,
    })?;
    let total = found.total;
    let events: Vec<Event> = found.hits.into_iter().map(|h| h.event).collect();
    let examined = events.len() as u64;
    let per_field = if req.fields.is_empty() {
        tally_all_fields(&events)
    } else {
        tally_fields(&events, &req.fields)
    };
    let fields = per_field
        .into_iter()
        .map(|(field, tally)| field_facet(field, tally, examined, req.top))
        .collect();
    Ok(finish(fields, total, examined))
}

/// A field's facet from its tally over `examined` events.
pub(crate) fn field_facet(
    field: String,
    (count, values): FieldTally,
    examined: u64,
    top: usize,
) -> FieldFacet {
    let distinct = values.len() as u64;
    let shown: HashMap<String, String> = values.iter().map(|(k, (s, _))| (k.clone(), s.clone())).collect();
    let counts = values.into_iter().map(|(k, (_, n))| (k, n)).collect();
    let (mut top, _) = top_terms(counts, top);
    for b in &mut top {
        if let Some(s) = shown.get(&b.value) {
            b.value = s.clone();
        }
    }
    FieldFacet::new(field, count, distinct, top, examined)
}

impl FieldFacet {
    /// A field held by `count` of `examined` events.
    pub(crate) fn new(field: String, count: u64, distinct: u64, top: Vec<TermBucket>, examined: u64) -> Self {
        FieldFacet {
            share: share(count, examined),
            field,
            count,
            distinct,
            top,
            top_examined: None,
        }
    }
}

/// `part` of `whole` (0 when there is none).
pub(crate) fn share(part: u64, whole: u64) -> f64 {
    if whole > 0 {
        part as f64 / whole as f64
    } else {
        0.0
    }
}

/// Facets with their fields in order: most common first, then by name.
pub(crate) fn finish(mut fields: Vec<FieldFacet>, total: u64, examined: u64) -> Facets {
    fields.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.field.cmp(&b.field)));
    Facets {
        total,
        examined,
        sampled: examined < total,
        fields,
    }
}
