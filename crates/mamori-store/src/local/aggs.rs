//! Aggregations on the partitions' indexes: matching documents as bitsets,
//! terms and statistics read from the term dictionaries' postings, histograms
//! from the `ts` fast field. No stored document is read, except one per
//! terms bucket to show its value in its original case.

use std::collections::{HashMap, HashSet};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED};

use super::partition::View;
use crate::StoreError;
use crate::aggregate::{
    Aggregation, AggregationResult, Series, auto_interval, bucket_starts, fill_buckets, top_terms,
};
use crate::codec::f64_from_key;

/// Matching documents of one segment.
pub struct SegmentBits {
    pub(super) segment: SegmentOrdinal,
    words: Vec<u64>,
    pub(super) count: u64,
    max_doc: u32,
}

impl SegmentBits {
    /// Whether `doc` matches.
    pub fn has(&self, doc: DocId) -> bool {
        self.words
            .get(doc as usize / 64)
            .is_some_and(|w| w >> (doc % 64) & 1 == 1)
    }
    /// The documents `docs` (each below `max_doc`) of a segment.
    pub fn from_docs(segment: SegmentOrdinal, max_doc: u32, docs: impl IntoIterator<Item = DocId>) -> Self {
        let mut bits = SegmentBits {
            segment,
            words: vec![0; (max_doc as usize).div_ceil(64)],
            count: 0,
            max_doc,
        };
        for d in docs {
            bits.collect(d, 0.0);
        }
        bits
    }
    pub(super) fn all(&self) -> bool {
        self.count == u64::from(self.max_doc)
    }
    /// Documents in the segment (matching or not).
    pub fn max_doc(&self) -> u32 {
        self.max_doc
    }
    /// The matching documents, in order.
    pub fn docs(&self) -> impl Iterator<Item = DocId> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros();
                w &= w - 1;
                Some(i as DocId * 64 + bit)
            })
        })
    }
}

/// Collects matching documents as per-segment bitsets.
struct DocBits;

impl Collector for DocBits {
    type Fruit = Vec<SegmentBits>;
    type Child = SegmentBits;

    fn for_segment(&self, segment: SegmentOrdinal, reader: &SegmentReader) -> tantivy::Result<SegmentBits> {
        let max_doc = reader.max_doc();
        Ok(SegmentBits {
            segment,
            words: vec![0; (max_doc as usize).div_ceil(64)],
            count: 0,
            max_doc,
        })
    }
    fn requires_scoring(&self) -> bool {
        false
    }
    fn merge_fruits(&self, parts: Vec<SegmentBits>) -> tantivy::Result<Vec<SegmentBits>> {
        Ok(parts)
    }
}

impl SegmentCollector for SegmentBits {
    type Fruit = SegmentBits;
    fn collect(&mut self, doc: DocId, _: Score) {
        if let Some(w) = self.words.get_mut(doc as usize / 64) {
            let bit = 1 << (doc % 64);
            self.count += u64::from(*w & bit == 0);
            *w |= bit;
        }
    }
    fn harvest(self) -> SegmentBits {
        self
    }
}

/// One partition's matches, with the searcher they were found by (segment
/// ordinals are only valid within it: a reload after a merge renumbers them).
pub struct Matches {
    pub searcher: Searcher,
    pub segments: Vec<SegmentBits>,
}

/// Run `query` on a partition, keeping the matches as bitsets.
pub fn matches(part: &View, query: &dyn Query) -> Result<Matches, StoreError> {
    let searcher = part.searcher.clone();
    let segments = searcher
        .search(query, &DocBits)
        .map_err(|e| StoreError::engine("aggregating", e))?;
    Ok(Matches { searcher, segments })
}

/// Number of matching documents.
pub fn total(all: &[Matches]) -> u64 {
    all.iter().flat_map(|m| &m.segments).map(|s| s.count).sum()
}

/// Terms of `field` (an inverted-index field) in `[lo, hi)`, with the number
/// of matching documents holding each (absent when none). `suffix_from`
/// strips the path prefix off the key.
fn term_counts(
    all: &[Matches],
    field: Field,
    lo: &[u8],
    hi: &[u8],
    mut each: impl FnMut(&[u8], u64),
) -> Result<(), StoreError> {
    let err = |e: std::io::Error| StoreError::engine("reading terms", e);
    for m in all {
        for bits in &m.segments {
            if bits.count == 0 {
                continue;
            }
            let seg = m.searcher.segment_reader(bits.segment);
            let inv = seg
                .inverted_index(field)
                .map_err(|e| StoreError::engine("reading terms", e))?;
            let mut stream = inv.terms().range().ge(lo).lt(hi).into_stream().map_err(err)?;
            while stream.advance() {
                let info = stream.value();
                let n = if bits.all() {
                    u64::from(info.doc_freq)
                } else {
                    let mut postings = inv
                        .read_postings_from_terminfo(info, IndexRecordOption::Basic)
                        .map_err(err)?;
                    let mut n = 0;
                    let mut doc = postings.doc();
                    while doc != TERMINATED {
                        n += u64::from(bits.has(doc));
                        doc = postings.advance();
                    }
                    n
                };
                if n > 0 {
                    each(&stream.key()[lo.len()..], n);
                }
            }
        }
    }
    Ok(())
}

/// `path \0` and the key just past every `path \0 …` term.
pub(super) fn path_bounds(path: &str) -> (Vec<u8>, Vec<u8>) {
    let mut lo = path.as_bytes().to_vec();
    lo.push(0);
    let mut hi = path.as_bytes().to_vec();
    hi.push(1);
    (lo, hi)
}

/// Lower-cased value → events, for a keyword field.
pub fn keyword_counts(all: &[Matches], kw: Field, path: &str) -> Result<HashMap<String, u64>, StoreError> {
    let (lo, hi) = path_bounds(path);
    let mut counts = HashMap::new();
    term_counts(all, kw, &lo, &hi, |v, n| {
        *counts.entry(String::from_utf8_lossy(v).into_owned()).or_insert(0) += n;
    })?;
    Ok(counts)
}

/// Picks, for partition `i`, the documents of a segment to count.
type DocPicker<'a> = dyn Fn(usize, &SegmentBits) -> Result<Vec<DocId>, StoreError> + 'a;

/// Histogram of matching documents, optionally only those in `only` (per segment).
fn histogram(
    all: &[Matches],
    interval: i64,
    only: Option<&DocPicker>,
) -> Result<HashMap<i64, u64>, StoreError> {
    let mut counts = HashMap::new();
    for (pi, m) in all.iter().enumerate() {
        for bits in &m.segments {
            if bits.count == 0 {
                continue;
            }
            let seg = m.searcher.segment_reader(bits.segment);
            let ts = seg
                .fast_fields()
                .i64("ts")
                .map_err(|e| StoreError::engine("reading times", e))?;
            let mut add = |doc: DocId| {
                if let Some(t) = ts.first(doc) {
                    let s = t.div_euclid(1_000_000).div_euclid(interval) * interval;
                    *counts.entry(s).or_insert(0u64) += 1;
                }
            };
            match only {
                Some(f) => f(pi, bits)?.into_iter().for_each(&mut add),
                None => (0..bits.max_doc).filter(|d| bits.has(*d)).for_each(&mut add),
            }
        }
    }
    Ok(counts)
}

/// Matching documents of a segment that hold the `kw` term `term`.
fn docs_with_term(
    all: &[Matches],
    kw: Field,
    pi: usize,
    bits: &SegmentBits,
    term: &str,
) -> Result<Vec<DocId>, StoreError> {
    let seg = all[pi].searcher.segment_reader(bits.segment);
    let inv = seg
        .inverted_index(kw)
        .map_err(|e| StoreError::engine("reading terms", e))?;
    let t = tantivy::Term::from_field_text(kw, term);
    let mut out = Vec::new();
    if let Some(mut postings) = inv
        .read_postings(&t, IndexRecordOption::Basic)
        .map_err(|e| StoreError::engine("reading terms", e))?
    {
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if bits.has(doc) {
                out.push(doc);
            }
            doc = postings.advance();
        }
    }
    Ok(out)
}

/// Inputs of [`compute`] that come from the store.
pub struct Ctx<'a> {
    pub kw: Field,
    pub num: Field,
    /// Histogram span (seconds since epoch, `[from, to)`).
    pub span: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
    /// The original-case text of a lower-cased `value` of `field`.
    pub display: &'a dyn Fn(&str, &str) -> String,
}

/// Compute one aggregation over the matches.
pub fn compute(all: &[Matches], agg: &Aggregation, ctx: &Ctx) -> Result<AggregationResult, StoreError> {
    let (from, to) = ctx.span;
    Ok(match agg {
        Aggregation::Terms { field, size } => {
            let (mut buckets, other) = top_terms(keyword_counts(all, ctx.kw, field)?, *size);
            for b in &mut buckets {
                b.value = (ctx.display)(field, &b.value);
            }
            AggregationResult::Terms {
                field: field.clone(),
                buckets,
                other,
            }
        }
        Aggregation::DateHistogram { interval_secs } => {
            let interval = interval_secs.unwrap_or_else(|| auto_interval(from, to)).max(1);
            let starts = bucket_starts(from, to, interval);
            AggregationResult::DateHistogram {
                interval_secs: interval,
                buckets: fill_buckets(&starts, &histogram(all, interval, None)?),
            }
        }
        Aggregation::Stats { field } => {
            let (lo, hi) = path_bounds(field);
            let (mut count, mut sum) = (0u64, 0.0);
            let (mut min, mut max): (Option<f64>, Option<f64>) = (None, None);
            term_counts(all, ctx.num, &lo, &hi, |key, n| {
                if let Ok(k) = <[u8; 8]>::try_from(key) {
                    let x = f64_from_key(k);
                    count += n;
                    sum += x * n as f64;
                    min = Some(min.map_or(x, |m| m.min(x)));
                    max = Some(max.map_or(x, |m| m.max(x)));
                }
            })?;
            AggregationResult::Stats {
                field: field.clone(),
                count,
                min,
                max,
                sum,
                avg: (count > 0).then(|| sum / count as f64),
            }
        }
        Aggregation::Cardinality { field } => {
            let (lo, hi) = path_bounds(field);
            let mut distinct: HashSet<Vec<u8>> = HashSet::new();
            term_counts(all, ctx.kw, &lo, &hi, |v, _| {
                distinct.insert(v.to_vec());
            })?;
            AggregationResult::Cardinality {
                field: field.clone(),
                value: distinct.len() as u64,
            }
        }
        Aggregation::TermsHistogram {
            field,
            size,
            interval_secs,
        } => {
            let interval = interval_secs.unwrap_or_else(|| auto_interval(from, to)).max(1);
            let starts = bucket_starts(from, to, interval);
            let (top, _) = top_terms(keyword_counts(all, ctx.kw, field)?, *size);
            let mut series = Vec::new();
            for b in top {
                let term = format!("{field}\0{}", b.value);
                let pick = |pi: usize, bits: &SegmentBits| docs_with_term(all, ctx.kw, pi, bits, &term);
                let counts = histogram(all, interval, Some(&pick))?;
                series.push(Series {
                    value: (ctx.display)(field, &b.value),
                    count: b.count,
                    buckets: fill_buckets(&starts, &counts),
                });
            }
            AggregationResult::TermsHistogram {
                field: field.clone(),
                interval_secs: interval,
                series,
            }
        }
    })
}
