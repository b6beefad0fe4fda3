//! Facets from the index (see [`crate::facets`]): the newest `sample`
//! matches become per-segment bitsets, and keyword values are counted from
//! the `kw` term dictionaries against them, so the sample's stored events are
//! not read (loading and decoding them is what facets cost otherwise). Text
//! fields are indexed by words only: how many events have one comes from
//! `fields`, their values from the newest events, loaded.

use std::collections::HashMap;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::Query;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Order as TOrder, Searcher, TERMINATED, Term};

use mamori_model::fields::{FieldKind, TEXT_FIELDS, kind_of};

use super::aggs::{Matches, SegmentBits, path_bounds};
use super::page::Candidate;
use super::partition::View;
use super::{LocalStore, schema};
use crate::StoreError;
use crate::aggregate::{TermBucket, bucket_text};
use crate::facets::{FacetRequest, Facets, FieldFacet, finish, share};

/// The newest matches of a filter.
pub struct Sample {
    /// The sample's documents, per partition and segment.
    pub matches: Vec<Matches>,
    /// The partition (index into the partitions sampled) of each of `matches`.
    pub parts: Vec<usize>,
    /// The sample, newest first (`part` indexes the partitions given).
    pub newest: Vec<Candidate>,
    /// Every match.
    pub total: u64,
}

impl Sample {
    /// Documents of the segments the sample touches: what a walk of their
    /// term dictionaries reads, at most.
    pub fn touched_docs(&self) -> u64 {
        self.matches
            .iter()
            .flat_map(|m| &m.segments)
            .map(|s| u64::from(s.max_doc()))
            .sum()
    }
}

/// The newest `n` matches of each partition's query (time order from the
/// `ts` column), and the number of all matches.
pub fn newest(parts: &[View], queries: &[Box<dyn Query>], n: usize) -> Result<Sample, StoreError> {
    let err = |e| StoreError::engine("sampling", e);
    let searchers: Vec<Searcher> = parts.iter().map(|p| p.searcher.clone()).collect();
    // Newest days first: once `n` candidates are in hand at the end of a
    // day, older days (whose events all sort after them) are only counted.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| parts[*b].key.day.cmp(&parts[*a].key.day));
    let mut total = 0u64;
    let mut newest = Vec::new();
    let mut full_before = None;
    for i in order {
        let (searcher, query) = (&searchers[i], queries[i].as_ref());
        if full_before.is_some_and(|day| parts[i].key.day < day) {
            total += searcher.search(query, &Count).map_err(err)? as u64;
            continue;
        }
        let top = TopDocs::with_limit(n.max(1)).order_by_fast_field::<i64>("ts", TOrder::Desc);
        let (count, docs) = searcher.search(query, &(Count, top)).map_err(err)?;
        total += count as u64;
        newest.extend(docs.into_iter().map(|(ts, addr)| Candidate {
            value: None,
            ts: ts.unwrap_or(0),
            part: i,
            addr,
        }));
        if newest.len() >= n {
            full_before = Some(parts[i].key.day);
        }
    }
    newest.sort_unstable_by(|a, b| {
        b.ts.cmp(&a.ts)
            .then(a.part.cmp(&b.part))
            .then(a.addr.cmp(&b.addr))
    });
    newest.truncate(n);
    let mut per_segment: HashMap<(usize, u32), Vec<DocId>> = HashMap::new();
    for c in &newest {
        per_segment
            .entry((c.part, c.addr.segment_ord))
            .or_default()
            .push(c.addr.doc_id);
    }
    let mut matches: Vec<Matches> = searchers
        .into_iter()
        .map(|searcher| Matches {
            searcher,
            segments: Vec::new(),
        })
        .collect();
    for ((pi, segment), docs) in per_segment {
        let m = &mut matches[pi];
        let max_doc = m.searcher.segment_reader(segment).max_doc();
        m.segments.push(SegmentBits::from_docs(segment, max_doc, docs));
    }
    let (parts, matches): (Vec<usize>, Vec<Matches>) = matches
        .into_iter()
        .enumerate()
        .filter(|(_, m)| !m.segments.is_empty())
        .unzip();
    Ok(Sample {
        matches,
        parts,
        newest,
        total,
    })
}

/// A sample document: its partition (index into the partitions sampled),
/// segment and document.
#[derive(Debug, Clone, Copy)]
pub struct DocRef {
    pub part: usize,
    pub addr: tantivy::DocAddress,
}

/// Per field path: sample documents holding a value of it, and per
/// lower-cased value the sample documents holding it and one of them (to
/// read the value's spelling from).
pub type Tally = HashMap<String, (u64, HashMap<String, (u64, DocRef)>)>;

/// The keyword values (`kw`: strings, numbers, booleans) of the sample, of
/// the fields `only` or of every field; segments are read on all cores.
pub fn keywords(sample: &Sample, kw: Field, only: Option<&[String]>) -> Result<Tally, StoreError> {
    let jobs: Vec<(usize, &SegmentBits)> = sample
        .matches
        .iter()
        .enumerate()
        .flat_map(|(mi, m)| m.segments.iter().map(move |bits| (mi, bits)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8)
        .min(jobs.len().max(1));
    let walk = |k: usize| -> Result<Tally, StoreError> {
        let mut out = Tally::new();
        for (mi, bits) in jobs.iter().skip(k).step_by(threads) {
            let part = sample.parts[*mi];
            segment_keywords(&sample.matches[*mi].searcher, part, bits, kw, only, &mut out)?;
        }
        Ok(out)
    };
    if threads < 2 {
        return walk(0);
    }
    let tallies: Vec<Result<Tally, StoreError>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|k| scope.spawn(move || walk(k))).collect();
        workers
            .into_iter()
            .map(|w| {
                w.join().unwrap_or_else(|_| {
                    Err(StoreError::Corrupt(
                        "a thread counting facet values failed".into(),
                    ))
                })
            })
            .collect()
    });
    let mut out = Tally::new();
    for t in tallies {
        for (path, (having, values)) in t? {
            let into = out.entry(path).or_default();
            into.0 += having;
            for (value, (n, at)) in values {
                into.1.entry(value).or_insert((0, at)).0 += n;
            }
        }
    }
    Ok(out)
}

/// [`keywords`] of one segment, added to `out`.
fn segment_keywords(
    searcher: &Searcher,
    part: usize,
    bits: &SegmentBits,
    kw: Field,
    only: Option<&[String]>,
    out: &mut Tally,
) -> Result<(), StoreError> {
    let err = |e: std::io::Error| StoreError::engine("counting facet values", e);
    let ranges: Vec<(Vec<u8>, Vec<u8>)> = match only {
        Some(paths) => paths.iter().map(|p| path_bounds(p)).collect(),
        None => vec![(Vec::new(), Vec::new())],
    };
    let inv = searcher
        .segment_reader(bits.segment)
        .inverted_index(kw)
        .map_err(|e| StoreError::engine("counting facet values", e))?;
    let mut docs: Vec<DocId> = Vec::new();
    // The path whose terms are being read (terms sort by path, as `\0`
    // sorts before any byte of a longer path), and its documents.
    let mut current = Having::new(bits.max_doc());
    for (lo, hi) in &ranges {
        let range = inv.terms().range();
        let range = if lo.is_empty() { range } else { range.ge(lo).lt(hi) };
        let mut stream = range.into_stream().map_err(err)?;
        while stream.advance() {
            let key = stream.key();
            let Some(sep) = key.iter().position(|b| *b == 0) else {
                continue;
            };
            docs.clear();
            let mut postings = inv
                .read_postings_from_terminfo(stream.value(), IndexRecordOption::Basic)
                .map_err(err)?;
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if bits.has(doc) {
                    docs.push(doc);
                }
                doc = postings.advance();
            }
            let Some(first) = docs.first() else {
                continue;
            };
            let path = String::from_utf8_lossy(&key[..sep]);
            if current.path != path {
                current.flush(out);
                current.path = path.into_owned();
                out.entry(current.path.clone()).or_default();
            }
            current.add(&docs);
            let value = String::from_utf8_lossy(&key[sep + 1..]);
            if let Some((_, values)) = out.get_mut(current.path.as_str()) {
                let n = docs.len() as u64;
                match values.get_mut(value.as_ref()) {
                    Some(v) => v.0 += n,
                    None => {
                        let at = DocRef {
                            part,
                            addr: tantivy::DocAddress::new(bits.segment, *first),
                        };
                        values.insert(value.into_owned(), (n, at));
                    }
                }
            }
        }
    }
    current.flush(out);
    Ok(())
}

/// The documents of one segment holding some value of `path`.
struct Having {
    path: String,
    words: Vec<u64>,
}

impl Having {
    fn new(max_doc: u32) -> Self {
        Having {
            path: String::new(),
            words: vec![0; (max_doc as usize).div_ceil(64)],
        }
    }

    fn add(&mut self, docs: &[DocId]) {
        for d in docs {
            if let Some(w) = self.words.get_mut(*d as usize / 64) {
                *w |= 1 << (d % 64);
            }
        }
    }

    /// Count the documents into `out` and start over.
    fn flush(&mut self, out: &mut Tally) {
        let n: u64 = self.words.iter().map(|w| u64::from(w.count_ones())).sum();
        if n > 0 {
            out.entry(self.path.clone()).or_default().0 += n;
        }
        self.words.iter_mut().for_each(|w| *w = 0);
    }
}

/// Sample documents having each of `paths` (from `fields`, the index of
/// paths present); paths no sample document has are left out.
pub fn having(
    sample: &[Matches],
    fields: Field,
    paths: &[String],
) -> Result<HashMap<String, u64>, StoreError> {
    let err = |e| StoreError::engine("counting facet fields", e);
    let mut out = HashMap::new();
    for m in sample {
        for bits in &m.segments {
            let inv = m
                .searcher
                .segment_reader(bits.segment)
                .inverted_index(fields)
                .map_err(err)?;
            for path in paths {
                let term = Term::from_field_text(fields, path);
                let Some(mut postings) = inv
                    .read_postings(&term, IndexRecordOption::Basic)
                    .map_err(|e| StoreError::engine("counting facet fields", e))?
                else {
                    continue;
                };
                let mut n = 0u64;
                let mut doc = postings.doc();
                while doc != TERMINATED {
                    n += u64::from(bits.has(doc));
                    doc = postings.advance();
                }
                if n > 0 {
                    *out.entry(path.clone()).or_insert(0) += n;
                }
            }
        }
    }
    Ok(out)
}

/// Where facets come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FacetSource {
    /// The index when its walk reads fewer postings than loading would
    /// cost, else the loaded events (the default).
    #[default]
    Auto,
    /// Always the index (for filters it answers exactly).
    Index,
    /// Always the loaded events.
    Events,
}

/// Samples up to this size are loaded: it is cheap, and the index walk
/// reads whole segments however small the sample.
const INDEX_MIN_SAMPLE: usize = 1_000;
/// Postings the index walk may read per sample event instead of loading it
/// (a loaded event costs 30–140 µs of decompression and decoding, a
/// posting ~25 ns; `cargo bench -p mamori --bench ingest_search`).
const POSTINGS_PER_LOADED_EVENT: u64 = 2_000;
/// Keyword fields an event has, for the cost of an all-fields walk.
const FIELDS_PER_EVENT: u64 = 40;
/// Newest events loaded for the values of text fields (Discover's sample size).
const TEXT_SAMPLE: usize = 500;

impl LocalStore {
    /// Facets from the index (`None` when the filter is not exact, or the
    /// cost rule of [`FacetSource::Auto`] says loading is cheaper; then
    /// [`crate::facets::facets`] loads the sample).
    pub(super) fn facets_by_index(&self, req: &FacetRequest) -> Result<Option<Facets>, StoreError> {
        match self.facet_source {
            FacetSource::Events => return Ok(None),
            FacetSource::Auto if req.sample <= INDEX_MIN_SAMPLE => return Ok(None),
            _ => {}
        }
        let parts = self.partitions_for(&req.tenants, &req.range)?;
        let (queries, exact) = self.queries(&parts, &req.filter, &req.range)?;
        if !exact {
            return Ok(None);
        }
        let sample = newest(&parts, &queries, req.sample)?;
        let examined = sample.newest.len() as u64;
        let per_event = if req.fields.is_empty() {
            FIELDS_PER_EVENT
        } else {
            req.fields.len() as u64
        };
        if self.facet_source == FacetSource::Auto
            && sample.touched_docs().saturating_mul(per_event)
                > POSTINGS_PER_LOADED_EVENT.saturating_mul(examined)
        {
            return Ok(None);
        }
        let skip = |f: &str| f == "@timestamp" || f == "event.original";
        let (keyword_fields, text_fields): (Option<Vec<String>>, Vec<String>) = if req.fields.is_empty() {
            let text = TEXT_FIELDS.iter().filter(|f| !skip(f)).map(|f| f.to_string());
            (None, text.collect())
        } else {
            let wanted = req.fields.iter().filter(|f| !skip(f));
            let (text, keyword) = wanted.cloned().partition(|f| kind_of(f) == FieldKind::Text);
            (Some(keyword), text)
        };
        let tally = keywords(&sample, self.fields.kw, keyword_fields.as_deref())?;
        let text_having = having(&sample.matches, self.fields.fields, &text_fields)?;

        // Top values, spelled as in one event holding each (the index keeps
        // values lower-cased): values without letters need no reading.
        let cased = |v: &str| v.chars().any(char::is_alphabetic);
        let mut fields = Vec::new();
        let mut to_read: Vec<(usize, usize, Candidate)> = Vec::new();
        for (field, (count, values)) in tally {
            if count == 0 {
                continue;
            }
            let distinct = values.len() as u64;
            // Most events first, then by value (as `top_terms` orders).
            let mut ranked: Vec<(String, (u64, DocRef))> = values.into_iter().collect();
            let order = |a: &(String, (u64, DocRef)), b: &(String, (u64, DocRef))| {
                b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(&b.0))
            };
            if ranked.len() > req.top && req.top > 0 {
                ranked.select_nth_unstable_by(req.top - 1, order);
            }
            ranked.truncate(req.top);
            ranked.sort_unstable_by(order);
            let mut top = Vec::with_capacity(ranked.len());
            for (value, (count, at)) in ranked {
                if cased(&value) {
                    let c = Candidate {
                        value: None,
                        ts: 0,
                        part: at.part,
                        addr: at.addr,
                    };
                    to_read.push((fields.len(), top.len(), c));
                }
                top.push(TermBucket { value, count });
            }
            fields.push(FieldFacet::new(field, count, distinct, top, examined));
        }
        let cands: Vec<Candidate> = to_read.iter().map(|(_, _, c)| c.clone()).collect();
        for ((fi, bi, _), ev) in to_read.iter().zip(self.load_many(&parts, &cands)?) {
            let f = &mut fields[*fi];
            let b = &mut f.top[*bi];
            let spelled = ev
                .values(&f.field)
                .into_iter()
                .filter_map(bucket_text)
                .find(|t| schema::kw_term(&f.field, t)[f.field.len() + 1..] == b.value);
            if let Some(s) = spelled {
                b.value = s;
            }
        }

        // Text fields: their values from the newest events.
        if !text_having.is_empty() {
            let newest = &sample.newest[..TEXT_SAMPLE.min(sample.newest.len())];
            let loaded = self.load_many(&parts, newest)?;
            let present: Vec<String> = text_having.keys().cloned().collect();
            let n = loaded.len() as u64;
            let mut tallies = crate::facets::tally_fields(&loaded, &present);
            for field in present {
                // Present in the sample though not in its newest events: no values to show.
                let tally = tallies.remove(&field).unwrap_or_default();
                let mut f = crate::facets::field_facet(field, tally, n, req.top);
                f.count = text_having.get(&f.field).copied().unwrap_or(f.count);
                f.share = share(f.count, examined);
                f.top_examined = (n < examined).then_some(n);
                fields.push(f);
            }
        }
        Ok(Some(finish(fields, sample.total, examined)))
    }
}
