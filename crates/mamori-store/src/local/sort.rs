//! Sorting by a field's value without a column per field: the term
//! dictionary of the field's index (`kw`, `num` or `ip`, whose terms sort like
//! their values) is walked in order and each term's postings are intersected
//! with the matching documents. A document with several values sorts by its
//! smallest (ascending) or largest (descending), as Elasticsearch does.

use std::collections::HashMap;

use mamori_model::Event;
use mamori_model::fields::{FieldKind, kind_of};
use tantivy::schema::{Field, IndexRecordOption, Value as _};
use tantivy::{DocAddress, DocId, DocSet, TERMINATED};

use super::aggs::Matches;
use super::page::Candidate;
use super::schema::{self, Fields};
use crate::store::{Cursor, StoreError};

/// A field sort resolved against the schema.
#[derive(Debug, Clone)]
pub struct FieldSort {
    /// `path \0`: the prefix of the field's terms.
    pub prefix: Vec<u8>,
    /// The index field whose terms are walked.
    pub index: Field,
    /// Whether the index holds text (`kw`) rather than bytes.
    pub text: bool,
    /// Largest first.
    pub descending: bool,
}

impl FieldSort {
    /// Resolve `path`: IP fields sort by address, fields whose values are all
    /// numbers numerically, the rest by their lower-cased keyword.
    pub fn resolve(
        fields: &Fields,
        all: &[Matches],
        path: &str,
        descending: bool,
    ) -> Result<Self, StoreError> {
        let mut prefix = path.as_bytes().to_vec();
        prefix.push(0);
        let (index, text) = match kind_of(path) {
            FieldKind::Text => {
                return Err(StoreError::BadSort(format!(
                    "`{path}` is a text field (matched by words); sort by a keyword, number or IP field"
                )));
            }
            FieldKind::Ip => (fields.ip, false),
            _ => {
                let kw = count_terms(all, fields.kw, &prefix)?;
                let num = count_terms(all, fields.num, &prefix)?;
                if num > 0 && num * 10 >= kw * 9 {
                    (fields.num, false)
                } else {
                    (fields.kw, true)
                }
            }
        };
        Ok(FieldSort {
            prefix,
            index,
            text,
            descending,
        })
    }

    /// The value an event sorts by, as the index orders it: its terms of the
    /// sort field, the smallest (ascending) or largest (descending).
    pub fn value_of(&self, fields: &Fields, ev: &Event) -> Option<Vec<u8>> {
        let doc = schema::to_document(fields, ev);
        let terms = doc.get_all(self.index).filter_map(|v| {
            let bytes = if self.text {
                v.as_str().map(str::as_bytes)
            } else {
                v.as_bytes()
            }?;
            bytes.starts_with(&self.prefix).then(|| bytes.to_vec())
        });
        if self.descending { terms.max() } else { terms.min() }
    }

    /// `[lo, hi)` of the terms to walk, narrowed by a cursor's value.
    fn bounds(&self, after: Option<&Cursor>) -> (Vec<u8>, Vec<u8>) {
        let mut lo = self.prefix.clone();
        let mut hi = self.prefix.clone();
        *hi.last_mut().expect("prefix ends with NUL") = 1;
        if let Some(v) = after.and_then(|c| c.value.as_ref()) {
            if self.descending {
                hi = v.clone();
                hi.push(0);
            } else {
                lo = v.clone();
            }
        }
        (lo, hi)
    }
}

fn count_terms(all: &[Matches], field: Field, prefix: &[u8]) -> Result<u64, StoreError> {
    let err = |e: std::io::Error| StoreError::engine("reading terms", e);
    let mut hi = prefix.to_vec();
    *hi.last_mut().expect("prefix ends with NUL") = 1;
    let mut n = 0;
    for m in all.iter().take(3) {
        for seg in m.searcher.segment_readers() {
            let inv = seg
                .inverted_index(field)
                .map_err(|e| StoreError::engine("reading terms", e))?;
            let mut stream = inv
                .terms()
                .range()
                .ge(prefix)
                .lt(&hi)
                .into_stream()
                .map_err(err)?;
            while stream.advance() {
                n += 1;
            }
        }
    }
    Ok(n)
}

/// What a walk found: candidates, and whether it stopped early (so more
/// documents with values exist after the last one).
pub struct Walk {
    pub cands: Vec<Candidate>,
    pub stopped_early: bool,
}

/// The candidates of one partition in sort order per segment: with
/// `first = Some(k)`, at least the first `k` documents of each segment (whole
/// terms), else all; documents without a value come after them when the walk
/// went to the end. A cursor without a value skips the valued documents.
pub fn candidates(
    fs: &FieldSort,
    m: &Matches,
    part: usize,
    after: Option<&Cursor>,
    first: Option<usize>,
) -> Result<Walk, StoreError> {
    let err = |e: std::io::Error| StoreError::engine("sorting", e);
    let searcher = &m.searcher;
    let mut out = Walk {
        cands: Vec::new(),
        stopped_early: false,
    };
    let in_missing = after.is_some_and(|c| c.value.is_none());
    for bits in &m.segments {
        if bits.count == 0 {
            continue;
        }
        let seg = searcher.segment_reader(bits.segment);
        let ts = seg
            .fast_fields()
            .i64("ts")
            .map_err(|e| StoreError::engine("sorting", e))?;
        let inv = seg
            .inverted_index(fs.index)
            .map_err(|e| StoreError::engine("sorting", e))?;
        let ts_of = |doc: DocId| ts.first(doc).unwrap_or(0);
        let (lo, hi) = fs.bounds(after);
        // Document → index of its sort value in `terms`.
        let mut value_of: HashMap<DocId, usize> = HashMap::new();
        let mut terms: Vec<Vec<u8>> = Vec::new();
        let mut complete = true;
        if !in_missing {
            let mut stream = inv.terms().range().ge(&lo).lt(&hi).into_stream().map_err(err)?;
            while stream.advance() {
                if !fs.descending && first.is_some_and(|k| value_of.len() >= k) {
                    complete = false;
                    break;
                }
                let mut postings = inv
                    .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
                    .map_err(err)?;
                let t = terms.len();
                let mut used = false;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    if bits.has(doc) {
                        // Ascending keeps a document's first term, descending its last.
                        if fs.descending {
                            value_of.insert(doc, t);
                            used = true;
                        } else if let std::collections::hash_map::Entry::Vacant(e) = value_of.entry(doc) {
                            e.insert(t);
                            used = true;
                        }
                    }
                    doc = postings.advance();
                }
                if used {
                    terms.push(stream.key().to_vec());
                }
            }
        }
        if fs.descending
            && let Some(k) = first
            && value_of.len() > k
        {
            // Keep the documents of the largest terms, whole terms, at least `k`.
            let mut per_term = vec![0usize; terms.len()];
            for &t in value_of.values() {
                per_term[t] += 1;
            }
            let mut kept = 0;
            let mut cut = terms.len();
            while kept < k && cut > 0 {
                cut -= 1;
                kept += per_term[cut];
            }
            value_of.retain(|_, t| *t >= cut);
            complete = false;
        }
        out.stopped_early |= !complete;
        for (&doc, &t) in &value_of {
            out.cands.push(Candidate {
                value: Some(terms[t].clone()),
                ts: ts_of(doc),
                part,
                addr: DocAddress::new(bits.segment, doc),
            });
        }
        if !complete {
            continue;
        }
        // Documents without a value: matching ones with no term of the field at all.
        let mut has_value = vec![false; bits.max_doc() as usize];
        let mut stream = inv
            .terms()
            .range()
            .ge(&fs.prefix)
            .lt(fs.bounds(None).1)
            .into_stream()
            .map_err(err)?;
        while stream.advance() {
            let mut postings = inv
                .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
                .map_err(err)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                has_value[doc as usize] = true;
                doc = postings.advance();
            }
        }
        for doc in bits.docs() {
            if !has_value[doc as usize] {
                out.cands.push(Candidate {
                    value: None,
                    ts: ts_of(doc),
                    part,
                    addr: DocAddress::new(bits.segment, doc),
                });
            }
        }
    }
    Ok(out)
}
