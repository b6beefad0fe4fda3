//! The embedded event store: tantivy indexes partitioned per tenant per day.
//!
//! Writes are buffered by [`EventStore::append`] and made durable by
//! [`EventStore::commit`] (tantivy's atomic commit per partition). An event
//! whose `event.id` is already in its partition is skipped, which makes a
//! re-run after a crash complete the work without duplicates.

mod aggs;
mod collect;
mod compile;
mod facet_index;
mod idfilter;
mod page;
mod partition;
mod schema;
mod sort;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use mamori_model::fields::{FieldKind, kind_of};
use mamori_model::{Event, Filter, TimeRange};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Query};
use tantivy::schema::Schema;
use tantivy::schema::Value as _;
use tantivy::{DocAddress, IndexWriter, Order as TOrder, Searcher, TantivyDocument, Term};

pub use self::facet_index::FacetSource;
use self::idfilter::{IdFilter, IdFilters, IdHash};
use self::page::{Candidate, SortOrder};
use self::partition::{Partition, PartitionKey, View};
use self::schema::Fields;
use self::sort::FieldSort;
use crate::aggregate::{self, AggregateRequest, AggregateResponse};
use crate::facets::{FacetRequest, Facets};
use crate::store::{
    CommitReport, Cursor, EventStore, Order, SearchHit, SearchRequest, SearchResult, StoreError,
    validate_tenant,
};

/// Memory each partition writer may use before flushing a segment.
const WRITER_MEMORY: usize = 96 * 1024 * 1024;
/// Writers kept open at once; opening another commits and closes the least
/// recently used one (its events become durable early, which is harmless).
const MAX_OPEN_WRITERS: usize = 4;
/// Appended events are grouped by partition in memory up to about this many
/// bytes, so input that jumps between days does not churn writers.
const PENDING_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Most candidates a search re-checks one by one (phrases, regexes, …).
const MAX_CHECKED_CANDIDATES: usize = 2_000_000;
/// Longest a search may spend re-checking candidates.
const CHECK_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(30);

fn too_broad(candidates: usize) -> StoreError {
    StoreError::TooBroad(format!(
        "{candidates} events would have to be checked one by one (the filter uses phrases, regular \
         expressions, wildcards inside values or comparisons on non-indexed kinds); narrow the time \
         range or add an exact field:value term"
    ))
}

/// Most events an aggregation checks one by one in memory.
const MAX_IN_MEMORY_EVENTS: usize = 200_000;

/// What a tenant holds in the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TenantStats {
    /// Tenant.
    pub tenant: String,
    /// Events stored.
    pub events: u64,
    /// Day partitions.
    pub partitions: u64,
    /// Index segments over all partitions.
    pub segments: u64,
    /// Bytes on disk (index + stored events).
    pub bytes: u64,
    /// Bytes of the original records as received (`event.original`) of the
    /// stored events; `bytes / raw_bytes` is the storage ratio.
    pub raw_bytes: u64,
    /// First day held.
    pub oldest: Option<chrono::NaiveDate>,
    /// Last day held.
    pub newest: Option<chrono::NaiveDate>,
}

/// The embedded store under one folder.
pub struct LocalStore {
    root: PathBuf,
    schema: Schema,
    fields: Fields,
    open: Mutex<HashMap<PartitionKey, Arc<Partition>>>,
    writers: Mutex<Writers>,
    /// Documents appended while a commit held `writers`.
    incoming: Mutex<Incoming>,
    max_checked: usize,
    id_filters: Arc<IdFilters>,
    facet_source: FacetSource,
}

/// Documents appended while the writers were busy, in order.
#[derive(Default)]
struct Incoming {
    docs: Vec<(PartitionKey, Prepared)>,
    bytes: usize,
}

/// Open writers (most recently used last), documents waiting for their
/// partition's writer, and what was committed early.
#[derive(Default)]
struct Writers {
    open: Vec<PartitionWriter>,
    pending: HashMap<PartitionKey, Vec<Prepared>>,
    pending_bytes: usize,
    committed_early: CommitReport,
}

/// An event turned into its index document (done by the appending thread,
/// outside the lock, so concurrent appenders build documents in parallel).
struct Prepared {
    id: String,
    doc: tantivy::TantivyDocument,
    bytes: usize,
    /// Length of the original record.
    raw: u64,
}

/// Rough memory of an event while it waits.
fn approx_bytes(ev: &Event) -> usize {
    512 + 3 * ev.original().len()
}

/// A partition being written: its writer, the snapshot used to find
/// duplicates (with the id filter of each of its segments), and the ids
/// added since the last commit.
struct PartitionWriter {
    key: PartitionKey,
    part: Arc<Partition>,
    writer: IndexWriter,
    searcher: Searcher,
    /// The id filter of each segment of `searcher`, in order.
    filters: Vec<Arc<IdFilter>>,
    id_filters: Arc<IdFilters>,
    kw: tantivy::schema::Field,
    added_ids: HashSet<String>,
    report: CommitReport,
    /// Original bytes of every event committed to the partition, including
    /// those added since the last commit; saved in the commit's payload.
    raw_bytes: u64,
}

impl PartitionWriter {
    fn what(&self, action: &str) -> String {
        format!("{action} {}/{}", self.key.tenant, self.key.day)
    }

    /// Point `searcher` at the partition's latest commit, with the id filters of its segments.
    fn reload(&mut self) -> Result<(), StoreError> {
        self.part
            .reader
            .reload()
            .map_err(|e| StoreError::engine(self.what("reloading"), e))?;
        let before: Vec<tantivy::index::SegmentId> = self
            .searcher
            .segment_readers()
            .iter()
            .map(|s| s.segment_id())
            .collect();
        self.searcher = self.part.reader.searcher();
        self.filters = self
            .id_filters
            .for_segments(self.searcher.segment_readers(), self.kw, &before)
            .map_err(|e| StoreError::engine(self.what("reading the event ids of"), e))?;
        Ok(())
    }

    /// Whether `id` is in the committed snapshot: only segments whose
    /// filter may hold it are searched.
    fn is_stored(&self, id: &str) -> Result<bool, StoreError> {
        let term_text = schema::kw_term("event.id", id);
        let h = IdHash::of(term_text.as_bytes());
        for (seg, filter) in self.searcher.segment_readers().iter().zip(&self.filters) {
            if !filter.may_contain(h) {
                continue;
            }
            let found = seg
                .inverted_index(self.kw)
                .map_err(|e| StoreError::engine(self.what("reading"), e))?
                .doc_freq(&Term::from_field_text(self.kw, &term_text))
                .map_err(|e| StoreError::engine(self.what("reading"), e))?;
            if found > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn add(&mut self, p: Prepared) -> Result<(), StoreError> {
        let stored = self.is_stored(&p.id)?;
        if stored || !self.added_ids.insert(p.id) {
            self.report.duplicates += 1;
            return Ok(());
        }
        self.writer
            .add_document(p.doc)
            .map_err(|e| StoreError::engine(self.what("indexing into"), e))?;
        self.report.added += 1;
        self.raw_bytes += p.raw;
        Ok(())
    }

    fn commit(&mut self) -> Result<CommitReport, StoreError> {
        if self.report == CommitReport::default() {
            return Ok(CommitReport::default());
        }
        let what = self.what("committing");
        let payload = partition::Payload::new(self.raw_bytes).to_json();
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(|e| StoreError::engine(&what, e))?;
        prepared.set_payload(&payload);
        prepared.commit().map_err(|e| StoreError::engine(&what, e))?;
        self.reload()?;
        self.added_ids.clear();
        Ok(std::mem::take(&mut self.report))
    }

    fn close(mut self) -> Result<CommitReport, StoreError> {
        let report = self.commit()?;
        let what = self.what("merging");
        self.writer
            .wait_merging_threads()
            .map_err(|e| StoreError::engine(what, e))?;
        Ok(report)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl LocalStore {
    /// Open (or create) a store in `root`.
    pub fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref().to_path_buf();
        std::fs::create_dir_all(&root)
            .map_err(|e| StoreError::engine(format!("creating {}", root.display()), e))?;
        let (schema, fields) = schema::schema();
        Ok(LocalStore {
            root,
            schema,
            fields,
            open: Mutex::default(),
            writers: Mutex::default(),
            incoming: Mutex::default(),
            max_checked: MAX_CHECKED_CANDIDATES,
            id_filters: Arc::default(),
            facet_source: FacetSource::Auto,
        })
    }

    /// Refuse searches that would re-check more than `n` candidates in memory
    /// (default 2,000,000) with [`StoreError::TooBroad`].
    pub fn with_max_checked(mut self, n: usize) -> Self {
        self.max_checked = n;
        self
    }

    /// Where facets come from (default [`FacetSource::Auto`]); tests compare the two ways.
    pub fn with_facets_from(mut self, source: FacetSource) -> Self {
        self.facet_source = source;
        self
    }

    /// Folder of the store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Commit and close every writer, waiting for background merges.
    pub fn close(&self) -> Result<CommitReport, StoreError> {
        let mut report = self.commit()?;
        let mut writers = lock(&self.writers);
        for w in std::mem::take(&mut writers.open) {
            report += w.close()?;
        }
        Ok(report)
    }

    fn partition(&self, key: &PartitionKey, create: bool) -> Result<Option<Arc<Partition>>, StoreError> {
        let mut open = lock(&self.open);
        if let Some(p) = open.get(key) {
            return Ok(Some(p.clone()));
        }
        let Some(p) = partition::open(&self.root, key, &self.schema, create)? else {
            return Ok(None);
        };
        let p = Arc::new(p);
        open.insert(key.clone(), p.clone());
        Ok(Some(p))
    }

    /// The writer of `key`'s partition (moved to the most-recent end).
    fn writer<'w>(
        &self,
        writers: &'w mut Writers,
        key: &PartitionKey,
    ) -> Result<&'w mut PartitionWriter, StoreError> {
        let n = writers.open.len();
        if n > 0 && writers.open[n - 1].key == *key {
            return Ok(&mut writers.open[n - 1]);
        }
        if let Some(pos) = writers.open.iter().position(|w| w.key == *key) {
            let w = writers.open.remove(pos);
            writers.open.push(w);
        } else {
            if writers.open.len() >= MAX_OPEN_WRITERS {
                let oldest = writers.open.remove(0);
                let early = oldest.close()?;
                writers.committed_early += early;
            }
            let part = self.partition(key, true)?.expect("created when absent");
            let what = format!("opening a writer for {}/{}", key.tenant, key.day);
            let writer = part
                .index
                .writer_with_num_threads(1, WRITER_MEMORY)
                .map_err(|e| StoreError::engine(&what, e))?;
            let raw_bytes = partition::payload(&part.index)?.raw_bytes;
            let mut w = PartitionWriter {
                raw_bytes,
                key: key.clone(),
                searcher: part.reader.searcher(),
                filters: Vec::new(),
                id_filters: self.id_filters.clone(),
                kw: self.fields.kw,
                part,
                writer,
                added_ids: HashSet::new(),
                report: CommitReport::default(),
            };
            w.reload()?;
            writers.open.push(w);
        }
        Ok(writers.open.last_mut().expect("just pushed"))
    }

    /// The value of `field` as stored (original case) for a bucket known by
    /// its lower-cased indexed text; the indexed text when none is found.
    fn display_value(
        &self,
        tenants: &[String],
        filter: &Filter,
        range: &TimeRange,
        field: &str,
        lower: &str,
    ) -> String {
        let probe = Filter::and(vec![
            filter.clone(),
            Filter::Match {
                field: Some(field.to_string()),
                value: mamori_model::filter::Pattern::Phrase(lower.to_string()),
            },
        ]);
        let hit = self.search(&SearchRequest {
            tenants: tenants.to_vec(),
            filter: probe,
            range: *range,
            limit: 1,
            offset: 0,
            order: Order::NewestFirst,
            sort: None,
            after: None,
        });
        hit.ok()
            .and_then(|r| r.hits.into_iter().next())
            .and_then(|h| {
                h.event
                    .values(field)
                    .into_iter()
                    .filter_map(crate::aggregate::bucket_text)
                    .find(|t| schema::kw_term(field, t).ends_with(lower))
            })
            .unwrap_or_else(|| lower.to_string())
    }

    /// Hand a partition's waiting events to its writer.
    fn write_pending(&self, writers: &mut Writers, key: &PartitionKey) -> Result<(), StoreError> {
        let docs = writers.pending.remove(key).unwrap_or_default();
        writers.pending_bytes = writers
            .pending_bytes
            .saturating_sub(docs.iter().map(|p| p.bytes).sum());
        let w = self.writer(writers, key)?;
        for p in docs {
            w.add(p)?;
        }
        Ok(())
    }

    /// Hand documents to their partitions: a partition being written takes
    /// them at once (its indexing thread works while their senders wait for
    /// the commit); the others wait in `pending`, written largest first when
    /// too much waits.
    fn place(&self, writers: &mut Writers, docs: Vec<(PartitionKey, Prepared)>) -> Result<(), StoreError> {
        for (key, p) in docs {
            if let Some(w) = writers.open.iter_mut().find(|w| w.key == key) {
                w.add(p)?;
                continue;
            }
            writers.pending_bytes += p.bytes;
            writers.pending.entry(key).or_default().push(p);
        }
        while writers.pending_bytes > PENDING_MAX_BYTES {
            let Some(key) = writers
                .pending
                .iter()
                .max_by_key(|(_, v)| v.len())
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            self.write_pending(writers, &key)?;
        }
        Ok(())
    }

    /// Place the documents appended while the writers were busy.
    fn take_incoming(&self, writers: &mut Writers) -> Result<(), StoreError> {
        let docs = {
            let mut incoming = lock(&self.incoming);
            incoming.bytes = 0;
            std::mem::take(&mut incoming.docs)
        };
        if docs.is_empty() {
            return Ok(());
        }
        self.place(writers, docs)
    }

    /// Tenants that have partitions.
    pub fn tenants(&self) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let entries = std::fs::read_dir(&self.root)
            .map_err(|e| StoreError::engine(format!("listing {}", self.root.display()), e))?;
        for e in entries.flatten() {
            if let Some(name) = e.file_name().to_str()
                && e.path().is_dir()
                && validate_tenant(name).is_ok()
            {
                out.push(name.to_string());
            }
        }
        out.sort();
        Ok(out)
    }

    /// Events, partitions and bytes on disk per tenant.
    pub fn stats(&self) -> Result<Vec<TenantStats>, StoreError> {
        let mut out = Vec::new();
        for tenant in self.tenants()? {
            let keys = partition::list(&self.root, &tenant, i64::MIN, i64::MAX)?;
            let mut st = TenantStats {
                tenant: tenant.clone(),
                partitions: keys.len() as u64,
                oldest: keys.first().map(|k| k.day),
                newest: keys.last().map(|k| k.day),
                ..TenantStats::default()
            };
            for key in &keys {
                if let Some(p) = self.partition(key, false)? {
                    p.reader
                        .reload()
                        .map_err(|e| StoreError::engine("reloading", e))?;
                    let searcher = p.reader.searcher();
                    st.events += searcher.num_docs();
                    st.segments += searcher.segment_readers().len() as u64;
                    st.raw_bytes += partition::payload(&p.index)?.raw_bytes;
                }
                st.bytes += partition::dir_bytes(&key.dir(&self.root));
            }
            out.push(st);
        }
        Ok(out)
    }

    /// Delete `tenant`'s partitions whose whole day is before `cutoff`
    /// (retention: whole folders go, nothing is rewritten). Returns the days deleted.
    pub fn delete_before(
        &self,
        tenant: &str,
        cutoff: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<chrono::NaiveDate>, StoreError> {
        validate_tenant(tenant)?;
        let keys = partition::list(&self.root, tenant, i64::MIN, cutoff.timestamp_micros())?;
        let mut writers = lock(&self.writers);
        self.take_incoming(&mut writers)?;
        let mut deleted = Vec::new();
        for key in keys {
            if key.span_micros().1 > cutoff.timestamp_micros() {
                continue;
            }
            if let Some(pos) = writers.open.iter().position(|w| w.key == key) {
                let w = writers.open.remove(pos);
                writers.committed_early += w.close()?;
            }
            writers.pending.remove(&key);
            lock(&self.open).remove(&key);
            let dir = key.dir(&self.root);
            std::fs::remove_dir_all(&dir)
                .map_err(|e| StoreError::engine(format!("deleting {}", dir.display()), e))?;
            deleted.push(key.day);
        }
        Ok(deleted)
    }

    /// The partitions of these tenants that overlap the range.
    fn partitions_for(&self, tenants: &[String], range: &TimeRange) -> Result<Vec<View>, StoreError> {
        let (from, to) = micros(range);
        let mut out = Vec::new();
        for t in tenants {
            validate_tenant(t)?;
            for key in partition::list(&self.root, t, from, to)? {
                if let Some(p) = self.partition(&key, false)? {
                    p.reader
                        .reload()
                        .map_err(|e| StoreError::engine("reloading", e))?;
                    out.push(View::of(p));
                }
            }
        }
        Ok(out)
    }

    /// The query of `filter` over `range` in one partition, and whether it is exact.
    fn prepare(
        &self,
        part: &View,
        filter: &Filter,
        range: &TimeRange,
    ) -> Result<(Box<dyn Query>, bool), StoreError> {
        let paths = if compile::needs_paths(filter) {
            partition::paths(&part.searcher, self.fields.fields)?
        } else {
            Vec::new()
        };
        let c = compile::compile(&self.fields, filter, &paths)?;
        let exact = c.exact;
        let (from, to) = micros(range);
        let (start, end) = part.key.span_micros();
        if from <= start && end <= to {
            return Ok((c.into_query(), exact));
        }
        let q = BooleanQuery::intersection(vec![compile::time_range(&self.fields, from, to), c.into_query()]);
        Ok((Box::new(q), exact))
    }

    /// The query of `filter` over `range` in each partition, and whether
    /// the index answers the filter exactly.
    fn queries(
        &self,
        parts: &[View],
        filter: &Filter,
        range: &TimeRange,
    ) -> Result<(Vec<Box<dyn Query>>, bool), StoreError> {
        // Exactness depends on the filter only; every partition agrees.
        let mut exact = true;
        let mut queries = Vec::with_capacity(parts.len());
        for p in parts {
            let (q, e) = self.prepare(p, filter, range)?;
            exact &= e;
            queries.push(q);
        }
        Ok((queries, exact))
    }

    /// Matching documents in `[from, to)` (µs) of the partitions overlapping it.
    fn count_between(&self, parts: &[View], filter: &Filter, from: i64, to: i64) -> Result<u64, StoreError> {
        let range = range_of(from, to);
        let mut n = 0;
        for p in parts.iter().filter(|p| overlaps(p, from, to)) {
            let (q, _) = self.prepare(p, filter, &range)?;
            n += p
                .searcher
                .search(&q, &Count)
                .map_err(|e| StoreError::engine("counting", e))? as u64;
        }
        Ok(n)
    }

    /// Every matching document in `[from, to)` (µs) as a candidate.
    fn candidates_between(
        &self,
        parts: &[View],
        filter: &Filter,
        from: i64,
        to: i64,
    ) -> Result<Vec<Candidate>, StoreError> {
        let range = range_of(from, to);
        let mut out = Vec::new();
        for (i, p) in parts.iter().enumerate().filter(|(_, p)| overlaps(p, from, to)) {
            let (q, _) = self.prepare(p, filter, &range)?;
            let found = p
                .searcher
                .search(&q, &collect::Candidates)
                .map_err(|e| StoreError::engine("searching", e))?;
            out.extend(found.into_iter().map(|(ts, addr)| Candidate {
                value: None,
                ts,
                part: i,
                addr,
            }));
        }
        Ok(out)
    }

    /// A page by time when the index answers the filter exactly: the top of
    /// each partition from the `ts` column, the run of equal times at the
    /// page's end completed so ids can order it.
    fn search_by_time(
        &self,
        req: &SearchRequest,
        parts: &[View],
        queries: &[Box<dyn Query>],
        order: SortOrder,
    ) -> Result<(Vec<SearchHit>, u64), StoreError> {
        let newest = req.order == Order::NewestFirst;
        let (mut from, mut to) = micros(&req.range);
        let mut ties = 0;
        let mut total = 0;
        if let Some(c) = &req.after {
            // Only what sorts at or after the cursor's time.
            if newest {
                to = to.min(c.ts.saturating_add(1));
            } else {
                from = from.max(c.ts);
            }
            ties = self.count_between(parts, &req.filter, c.ts.max(from), c.ts.saturating_add(1).min(to))?;
            for (p, q) in parts.iter().zip(queries) {
                total += p
                    .searcher
                    .search(q, &Count)
                    .map_err(|e| StoreError::engine("counting", e))? as u64;
            }
        }
        let k = req.offset.saturating_add(req.limit).saturating_add(ties as usize);
        let top_order = if newest { TOrder::Desc } else { TOrder::Asc };
        let mut cands = Vec::new();
        let narrowed = range_of(from, to);
        // Days in page order: once a day ends with `k` candidates in hand,
        // the days after it cannot reach the page and are only counted.
        let mut by_day: Vec<usize> = (0..parts.len()).collect();
        by_day.sort_by(|a, b| {
            let (da, db) = (parts[*a].key.day, parts[*b].key.day);
            if newest { db.cmp(&da) } else { da.cmp(&db) }
        });
        let mut full_on = None;
        for i in by_day {
            let p = &parts[i];
            let searcher = &p.searcher;
            let past_page = full_on.is_some_and(|day| if newest { p.key.day < day } else { p.key.day > day });
            if past_page {
                if req.after.is_none() {
                    total += searcher
                        .search(&queries[i], &Count)
                        .map_err(|e| StoreError::engine("counting", e))? as u64;
                }
                continue;
            }
            let top = TopDocs::with_limit(k.max(1)).order_by_fast_field::<i64>("ts", top_order);
            let docs = if req.after.is_some() {
                if !overlaps(p, from, to) {
                    continue;
                }
                let (q, _) = self.prepare(p, &req.filter, &narrowed)?;
                searcher.search(&q, &top)
            } else {
                let (n, docs) = searcher
                    .search(&queries[i], &(Count, top))
                    .map_err(|e| StoreError::engine("searching", e))?;
                total += n as u64;
                Ok(docs)
            }
            .map_err(|e| StoreError::engine("searching", e))?;
            cands.extend(docs.into_iter().map(|(ts, addr)| Candidate {
                value: None,
                ts: ts.unwrap_or(0),
                part: i,
                addr,
            }));
            if cands.len() >= k {
                full_on = Some(p.key.day);
            }
        }
        if req.limit == 0 {
            return Ok((Vec::new(), total));
        }
        order.sort(&mut cands);
        if cands.len() >= k {
            // Events at the last time kept may continue past the cut: take them all.
            let b = cands[k - 1].ts;
            cands.truncate(k);
            cands.retain(|c| c.ts != b);
            cands.extend(self.candidates_between(parts, &req.filter, b, b.saturating_add(1))?);
            order.sort(&mut cands);
        }
        let hits = self.emit(req, parts, &cands, order, None)?;
        Ok((hits, total))
    }

    /// A page by time when matches must be re-checked one by one (phrases,
    /// regexes, …): every candidate is read once to count, the page's once more.
    fn search_checked(
        &self,
        req: &SearchRequest,
        parts: &[View],
        queries: &[Box<dyn Query>],
        order: SortOrder,
    ) -> Result<(Vec<SearchHit>, u64), StoreError> {
        let matcher = req
            .filter
            .compile()
            .map_err(|e| StoreError::Filter(e.to_string()))?;
        let mut cands: Vec<Candidate> = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let found = p
                .searcher
                .search(&queries[i], &collect::Candidates)
                .map_err(|e| StoreError::engine("searching", e))?;
            cands.extend(found.into_iter().map(|(ts, addr)| Candidate {
                value: None,
                ts,
                part: i,
                addr,
            }));
        }
        if cands.len() > self.max_checked {
            return Err(too_broad(cands.len()));
        }
        order.sort(&mut cands);
        let started = std::time::Instant::now();
        let mut matched = Vec::new();
        for (n, c) in cands.into_iter().enumerate() {
            if n % 4096 == 4095 && started.elapsed() > CHECK_TIME_BUDGET {
                return Err(too_broad(n));
            }
            if matcher.matches(&self.load(&parts[c.part], c.addr)?) {
                matched.push(c);
            }
        }
        let total = matched.len() as u64;
        if req.limit == 0 {
            return Ok((Vec::new(), total));
        }
        let hits = self.emit(req, parts, &matched, order, None)?;
        Ok((hits, total))
    }

    /// A page by a field's value (see [`sort`]).
    fn search_by_field(
        &self,
        req: &SearchRequest,
        parts: &[View],
        queries: &[Box<dyn Query>],
        exact: bool,
        order: SortOrder,
    ) -> Result<(Vec<SearchHit>, u64), StoreError> {
        let spec = req.sort.as_ref().expect("a field sort");
        let all: Vec<aggs::Matches> = parts
            .iter()
            .zip(queries)
            .map(|(p, q)| aggs::matches(p, q.as_ref()))
            .collect::<Result<_, _>>()?;
        let fs = FieldSort::resolve(&self.fields, &all, &spec.field, spec.descending)?;
        if let Some(v) = req.after.as_ref().and_then(|c| c.value.as_ref())
            && !v.starts_with(&fs.prefix)
        {
            return Err(StoreError::BadCursor(format!(
                "made for another sort than `{}`",
                spec.field
            )));
        }
        let total = if exact {
            aggs::total(&all)
        } else {
            self.search(&SearchRequest {
                limit: 0,
                sort: None,
                after: None,
                ..req.clone()
            })?
            .total
        };
        let matcher = if exact {
            None
        } else {
            Some(
                req.filter
                    .compile()
                    .map_err(|e| StoreError::Filter(e.to_string()))?,
            )
        };
        if req.limit == 0 {
            return Ok((Vec::new(), total));
        }
        // Walk for a few more than the page; walk further when hits were too few.
        let mut first = exact.then(|| req.offset.saturating_add(req.limit).saturating_mul(2).max(64));
        loop {
            let mut cands = Vec::new();
            let mut stopped_early = false;
            for (i, m) in all.iter().enumerate() {
                let walk = sort::candidates(&fs, m, i, req.after.as_ref(), first)?;
                stopped_early |= walk.stopped_early;
                cands.extend(walk.cands);
            }
            if cands.len() > self.max_checked {
                return Err(too_broad(cands.len()));
            }
            order.sort(&mut cands);
            let hits = self.emit(req, parts, &cands, order, Some((&fs, matcher.as_ref())))?;
            if hits.len() >= req.limit || !stopped_early {
                return Ok((hits, total));
            }
            first = first.map(|k| k.saturating_mul(4));
        }
    }

    /// Read candidates in order, group by group, ordering each group by id,
    /// and keep the page: after the cursor, past the offset, up to the limit.
    /// For a field sort, a document is kept only under its own sort value
    /// (a document with several values is a candidate under each), and
    /// re-checked by the filter's matcher when the index was not exact.
    fn emit(
        &self,
        req: &SearchRequest,
        parts: &[View],
        cands: &[Candidate],
        order: SortOrder,
        field: Option<(&FieldSort, Option<&mamori_model::filter::Matcher>)>,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let mut hits = Vec::with_capacity(req.limit.min(10_000));
        let mut skipped = 0;
        // The events the page most likely needs, loaded on all cores at once;
        // any further ones (when the check in memory rejects some) one by one.
        let likely = req.offset.saturating_add(req.limit).min(cands.len());
        let mut prefetched = self.load_many(parts, &cands[..likely])?.into_iter();
        for group in page::groups(cands, order) {
            if hits.len() >= req.limit {
                break;
            }
            if req.after.as_ref().is_some_and(|c| order.before(&group[0], c)) {
                for _ in group {
                    prefetched.next();
                }
                continue;
            }
            let mut found = Vec::with_capacity(group.len());
            for c in group {
                let event = match prefetched.next() {
                    Some(e) => e,
                    None => self.load(&parts[c.part], c.addr)?,
                };
                if let Some((fs, matcher)) = field {
                    if matcher.is_some_and(|m| !m.matches(&event)) {
                        continue;
                    }
                    if fs.value_of(&self.fields, &event) != c.value {
                        continue;
                    }
                }
                let cursor = Cursor {
                    value: c.value.clone(),
                    ts: c.ts,
                    id: event.id().to_string(),
                };
                found.push(SearchHit { event, cursor });
            }
            found.sort_by(|a, b| order.cmp(&a.cursor, &b.cursor));
            for hit in found {
                if req
                    .after
                    .as_ref()
                    .is_some_and(|c| order.cmp(&hit.cursor, c) != std::cmp::Ordering::Greater)
                {
                    continue;
                }
                if skipped < req.offset {
                    skipped += 1;
                } else if hits.len() < req.limit {
                    hits.push(hit);
                }
            }
        }
        Ok(hits)
    }

    /// Load the events of `cands`, in order, spreading the work over the
    /// cores when there are many (decompression and JSON decoding dominate).
    fn load_many(&self, parts: &[View], cands: &[Candidate]) -> Result<Vec<Event>, StoreError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let load_all = |chunk: &[Candidate]| -> Result<Vec<Event>, StoreError> {
            chunk.iter().map(|c| self.load(&parts[c.part], c.addr)).collect()
        };
        if threads < 2 || cands.len() < PARALLEL_LOAD_MIN {
            return load_all(cands);
        }
        // Contiguous chunks keep each thread within the same compressed blocks.
        let per_thread = cands.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let workers: Vec<_> = cands
                .chunks(per_thread)
                .map(|chunk| scope.spawn(move || load_all(chunk)))
                .collect();
            let mut out = Vec::with_capacity(cands.len());
            for w in workers {
                let part = w
                    .join()
                    .map_err(|_| StoreError::Corrupt("a thread reading stored events failed".into()))??;
                out.extend(part);
            }
            Ok(out)
        })
    }

    fn load(&self, part: &View, addr: DocAddress) -> Result<Event, StoreError> {
        let doc: TantivyDocument = part
            .searcher
            .doc(addr)
            .map_err(|e| StoreError::engine("reading a stored event", e))?;
        let body = doc
            .get_first(self.fields.doc)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| StoreError::Corrupt("document without body".into()))?;
        let original = doc
            .get_first(self.fields.orig)
            .and_then(|v| v.as_bytes())
            .unwrap_or_default();
        schema::from_stored(body, original).map_err(StoreError::Corrupt)
    }
}

/// Below this many events a page is loaded on the calling thread.
const PARALLEL_LOAD_MIN: usize = 512;

fn micros(range: &TimeRange) -> (i64, i64) {
    (range.from.timestamp_micros(), range.to.timestamp_micros())
}

/// The time range `[from, to)` of µs bounds.
fn range_of(from: i64, to: i64) -> TimeRange {
    TimeRange {
        from: micros_to_time(from),
        to: micros_to_time(to),
    }
}

/// Whether a partition's day overlaps `[from, to)` (µs).
fn overlaps(p: &Partition, from: i64, to: i64) -> bool {
    let (start, end) = p.key.span_micros();
    start < to && from < end
}

impl EventStore for LocalStore {
    fn tenants(&self) -> Result<Vec<String>, StoreError> {
        LocalStore::tenants(self)
    }

    fn append(&self, events: Vec<Event>) -> Result<(), StoreError> {
        let mut prepared = Vec::with_capacity(events.len());
        for ev in events {
            validate_tenant(ev.tenant())?;
            prepared.push((
                PartitionKey::of(ev.tenant(), ev.timestamp()),
                Prepared {
                    id: ev.id().to_string(),
                    doc: schema::to_document(&self.fields, &ev),
                    bytes: approx_bytes(&ev),
                    raw: ev.original().len() as u64,
                },
            ));
        }
        let mut writers = match self.writers.try_lock() {
            Ok(w) => w,
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => {
                // A commit holds the writers: leave the documents for the next
                // one instead of waiting, unless too much waits already.
                let mut incoming = lock(&self.incoming);
                incoming.bytes += prepared.iter().map(|(_, p)| p.bytes).sum::<usize>();
                incoming.docs.extend(prepared);
                if incoming.bytes <= PENDING_MAX_BYTES {
                    return Ok(());
                }
                drop(incoming);
                let mut writers = lock(&self.writers);
                self.take_incoming(&mut writers)?;
                return Ok(());
            }
        };
        self.take_incoming(&mut writers)?;
        self.place(&mut writers, prepared)
    }

    fn commit(&self) -> Result<CommitReport, StoreError> {
        let mut writers = lock(&self.writers);
        self.take_incoming(&mut writers)?;
        let mut keys: Vec<PartitionKey> = writers.pending.keys().cloned().collect();
        keys.sort();
        for key in keys {
            self.write_pending(&mut writers, &key)?;
        }
        let mut report = std::mem::take(&mut writers.committed_early);
        for w in &mut writers.open {
            report += w.commit()?;
        }
        Ok(report)
    }

    fn search(&self, req: &SearchRequest) -> Result<SearchResult, StoreError> {
        if let Some(sort) = req.sort.as_ref().filter(|s| s.field == "@timestamp") {
            let mut by_time = req.clone();
            by_time.sort = None;
            by_time.order = if sort.descending {
                Order::NewestFirst
            } else {
                Order::OldestFirst
            };
            return self.search(&by_time);
        }
        let parts = self.partitions_for(&req.tenants, &req.range)?;
        let (queries, exact) = self.queries(&parts, &req.filter, &req.range)?;
        let order = SortOrder::of(req);
        let (hits, total) = if req.sort.is_some() {
            self.search_by_field(req, &parts, &queries, exact, order)?
        } else if exact {
            self.search_by_time(req, &parts, &queries, order)?
        } else {
            self.search_checked(req, &parts, &queries, order)?
        };
        Ok(SearchResult { hits, total })
    }

    fn scan(
        &self,
        tenants: &[String],
        filter: &Filter,
        range: &TimeRange,
        visit: &mut dyn FnMut(Event) -> Result<bool, StoreError>,
    ) -> Result<u64, StoreError> {
        let parts = self.partitions_for(tenants, range)?;
        let matcher = filter.compile().map_err(|e| StoreError::Filter(e.to_string()))?;
        // One day at a time, newest first; the tenants' partitions of a day merged by time.
        let mut days: Vec<chrono::NaiveDate> = parts.iter().map(|p| p.key.day).collect();
        days.sort_unstable_by(|a, b| b.cmp(a));
        days.dedup();
        let mut visited = 0;
        for day in days {
            let mut cands: Vec<(i64, usize, DocAddress)> = Vec::new();
            let mut exact = true;
            for (i, p) in parts.iter().enumerate().filter(|(_, p)| p.key.day == day) {
                let (q, e) = self.prepare(p, filter, range)?;
                exact &= e;
                let found = p
                    .searcher
                    .search(&q, &collect::Candidates)
                    .map_err(|e| StoreError::engine("searching", e))?;
                cands.extend(found.into_iter().map(|(ts, a)| (ts, i, a)));
            }
            sort_hits(&mut cands, true);
            for (_, i, addr) in cands {
                let ev = self.load(&parts[i], addr)?;
                if !exact && !matcher.matches(&ev) {
                    continue;
                }
                visited += 1;
                if !visit(ev)? {
                    return Ok(visited);
                }
            }
        }
        Ok(visited)
    }

    fn aggregate(&self, req: &AggregateRequest) -> Result<AggregateResponse, StoreError> {
        let parts = self.partitions_for(&req.tenants, &req.range)?;
        let mut exact = true;
        let mut queries = Vec::with_capacity(parts.len());
        for p in &parts {
            let (q, e) = self.prepare(p, &req.filter, &req.range)?;
            exact &= e;
            queries.push(q);
        }
        // Text fields are indexed by words, so their values are counted from the events.
        let text_field = req
            .aggregations
            .iter()
            .any(|a| aggregate::field_of(a).is_some_and(|f| kind_of(f) == FieldKind::Text));
        if !exact || text_field {
            // Checked in memory: load the matching events (bounded).
            let found = self.search(&SearchRequest {
                tenants: req.tenants.clone(),
                filter: req.filter.clone(),
                range: req.range,
                limit: MAX_IN_MEMORY_EVENTS + 1,
                offset: 0,
                order: Order::NewestFirst,
                sort: None,
                after: None,
            })?;
            if found.hits.len() > MAX_IN_MEMORY_EVENTS {
                return Err(StoreError::TooBroad(format!(
                    "{} events match a filter that must be checked event by event (phrases, regexes, \
                     non-prefix wildcards, text fields); aggregate at most {MAX_IN_MEMORY_EVENTS} such events or narrow the filter",
                    found.total
                )));
            }
            let events: Vec<Event> = found.hits.into_iter().map(|h| h.event).collect();
            return Ok(aggregate::in_memory(&events, &req.range, &req.aggregations));
        }
        let all: Vec<aggs::Matches> = parts
            .iter()
            .zip(&queries)
            .map(|(p, q)| aggs::matches(p, q.as_ref()))
            .collect::<Result<_, _>>()?;
        let span = {
            let first = parts.iter().map(|p| p.key.span_micros().0).min();
            let last = parts.iter().map(|p| p.key.span_micros().1).max();
            let from = first.map_or(req.range.from, |f| req.range.from.max(micros_to_time(f)));
            let to = last.map_or(req.range.to, |l| req.range.to.min(micros_to_time(l)));
            (from, to.max(from))
        };
        let display = |field: &str, lower: &str| {
            self.display_value(&req.tenants, &req.filter, &req.range, field, lower)
        };
        let ctx = aggs::Ctx {
            kw: self.fields.kw,
            num: self.fields.num,
            span,
            display: &display,
        };
        let results = req
            .aggregations
            .iter()
            .map(|a| aggs::compute(&all, a, &ctx))
            .collect::<Result<_, _>>()?;
        Ok(AggregateResponse {
            total: aggs::total(&all),
            results,
        })
    }

    fn indexed_facets(&self, req: &FacetRequest) -> Result<Option<Facets>, StoreError> {
        self.facets_by_index(req)
    }

    fn count(&self, tenants: &[String], filter: &Filter, range: &TimeRange) -> Result<u64, StoreError> {
        let req = SearchRequest {
            tenants: tenants.to_vec(),
            filter: filter.clone(),
            range: *range,
            limit: 0,
            offset: 0,
            order: Order::NewestFirst,
            sort: None,
            after: None,
        };
        Ok(self.search(&req)?.total)
    }
}

fn micros_to_time(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn sort_hits(v: &mut [(i64, usize, DocAddress)], newest: bool) {
    if newest {
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    } else {
        v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A request reads events from the segments it found them in, even when
    /// another request reloads the partition after a merge renumbered them.
    #[test]
    fn a_request_reads_the_segments_it_searched_after_a_merge() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let t0: chrono::DateTime<chrono::Utc> = "2024-05-01T10:00:00Z".parse().unwrap();
        for batch in 0..3i64 {
            let events = (0..5i64)
                .map(|i| {
                    let n = batch * 10 + i;
                    let mut e = Event::new("acme", t0 + chrono::Duration::seconds(n), format!("record {n}"));
                    e.set("n", json!(n));
                    e
                })
                .collect();
            store.append(events).unwrap();
            store.commit().unwrap();
        }
        let views = store.partitions_for(&["acme".into()], &TimeRange::all()).unwrap();
        assert_eq!(views[0].searcher.segment_readers().len(), 3);
        let f = mamori_model::filter::parse("n:20").unwrap();
        let day = 86_400_000_000;
        let (from, to) = (t0.timestamp_micros() - day, t0.timestamp_micros() + day);
        let cands = store.candidates_between(&views, &f, from, to).unwrap();
        assert_eq!(cands.len(), 1);

        // Meanwhile the segments are merged and another request reloads.
        {
            let mut writers = lock(&store.writers);
            let w = &mut writers.open[0];
            let ids = w.part.index.searchable_segment_ids().unwrap();
            w.writer.merge(&ids).wait().unwrap();
        }
        views[0].reader.reload().unwrap();
        assert_eq!(views[0].reader.searcher().segment_readers().len(), 1);

        let ev = store.load(&views[0], cands[0].addr).unwrap();
        assert_eq!(ev.get("n"), Some(&json!(20)));
    }
}
