//! The embedded event store: tantivy indexes partitioned per tenant per day.
//!
//! Writes are buffered by [`EventStore::append`] and made durable by
//! [`EventStore::commit`] (tantivy's atomic commit per partition). An event
//! whose `event.id` is already in its partition is skipped, which makes a
//! re-run after a crash complete the work without duplicates.

mod collect;
mod compile;
mod partition;
mod schema;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use mamori_model::{Event, Filter, TimeRange};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Query};
use tantivy::schema::Schema;
use tantivy::schema::Value as _;
use tantivy::{DocAddress, IndexWriter, Order as TOrder, TantivyDocument, Term};

use self::partition::{Partition, PartitionKey};
use self::schema::Fields;
use crate::store::{
    CommitReport, EventStore, Order, SearchHit, SearchRequest, SearchResult, StoreError, validate_tenant,
};

/// Memory each partition writer may use before flushing a segment.
const WRITER_MEMORY: usize = 96 * 1024 * 1024;
/// Writers kept open between commits (others are closed after committing).
const MAX_OPEN_WRITERS: usize = 4;

/// The embedded store under one folder.
pub struct LocalStore {
    root: PathBuf,
    schema: Schema,
    fields: Fields,
    pending: Mutex<HashMap<PartitionKey, Vec<Event>>>,
    open: Mutex<HashMap<PartitionKey, Arc<Partition>>>,
    writers: Mutex<Vec<(PartitionKey, IndexWriter)>>,
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
            pending: Mutex::default(),
            open: Mutex::default(),
            writers: Mutex::default(),
        })
    }

    /// Folder of the store.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Commit and close every writer, waiting for background merges.
    pub fn close(&self) -> Result<CommitReport, StoreError> {
        let report = self.commit()?;
        let writers = std::mem::take(&mut *lock(&self.writers));
        for (key, w) in writers {
            w.wait_merging_threads()
                .map_err(|e| StoreError::engine(format!("merging {}/{}", key.tenant, key.day), e))?;
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

    fn commit_partition(&self, key: PartitionKey, events: Vec<Event>) -> Result<CommitReport, StoreError> {
        let part = self.partition(&key, true)?.expect("created");
        let what = |a: &str| format!("{a} {}/{}", key.tenant, key.day);
        part.reader
            .reload()
            .map_err(|e| StoreError::engine(what("reloading"), e))?;
        let searcher = part.reader.searcher();
        let mut writers = lock(&self.writers);
        let pos = match writers.iter().position(|(k, _)| *k == key) {
            Some(p) => p,
            None => {
                let w = part
                    .index
                    .writer_with_num_threads(1, WRITER_MEMORY)
                    .map_err(|e| StoreError::engine(what("opening writer for"), e))?;
                writers.push((key.clone(), w));
                writers.len() - 1
            }
        };
        let mut report = CommitReport::default();
        let mut seen = HashSet::with_capacity(events.len());
        {
            let writer = &writers[pos].1;
            for ev in events {
                let id = ev.id();
                let stored = searcher
                    .doc_freq(&Term::from_field_text(self.fields.id, id))
                    .map_err(|e| StoreError::engine(what("reading"), e))?
                    > 0;
                if stored || !seen.insert(id.to_string()) {
                    report.duplicates += 1;
                    continue;
                }
                let json = ev.to_json();
                writer
                    .add_document(schema::to_document(&self.fields, &ev, &json))
                    .map_err(|e| StoreError::engine(what("indexing into"), e))?;
                report.added += 1;
            }
        }
        writers[pos]
            .1
            .commit()
            .map_err(|e| StoreError::engine(what("committing"), e))?;
        // Most recently used last; close the oldest beyond the cap.
        let entry = writers.remove(pos);
        writers.push(entry);
        while writers.len() > MAX_OPEN_WRITERS {
            let (k, w) = writers.remove(0);
            w.wait_merging_threads()
                .map_err(|e| StoreError::engine(format!("merging {}/{}", k.tenant, k.day), e))?;
        }
        drop(writers);
        part.reader
            .reload()
            .map_err(|e| StoreError::engine(what("reloading"), e))?;
        Ok(report)
    }

    /// The partitions of these tenants that overlap the range.
    fn partitions_for(
        &self,
        tenants: &[String],
        range: &TimeRange,
    ) -> Result<Vec<Arc<Partition>>, StoreError> {
        let (from, to) = micros(range);
        let mut out = Vec::new();
        for t in tenants {
            validate_tenant(t)?;
            for key in partition::list(&self.root, t, from, to)? {
                if let Some(p) = self.partition(&key, false)? {
                    p.reader
                        .reload()
                        .map_err(|e| StoreError::engine("reloading", e))?;
                    out.push(p);
                }
            }
        }
        Ok(out)
    }

    fn prepare(&self, filter: &Filter, range: &TimeRange) -> Result<(Box<dyn Query>, bool), StoreError> {
        let c = compile::compile(&self.fields, filter)?;
        let exact = c.exact;
        let (from, to) = micros(range);
        let q = BooleanQuery::intersection(vec![compile::time_range(&self.fields, from, to), c.into_query()]);
        Ok((Box::new(q), exact))
    }

    fn load(&self, part: &Partition, addr: DocAddress) -> Result<Event, StoreError> {
        let doc: TantivyDocument = part
            .reader
            .searcher()
            .doc(addr)
            .map_err(|e| StoreError::engine("reading a stored event", e))?;
        let bytes = doc
            .get_first(self.fields.doc)
            .and_then(|v| v.as_bytes())
            .ok_or_else(|| StoreError::Corrupt("document without body".into()))?;
        let text = std::str::from_utf8(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Event::from_json(text).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

fn micros(range: &TimeRange) -> (i64, i64) {
    (range.from.timestamp_micros(), range.to.timestamp_micros())
}

impl EventStore for LocalStore {
    fn append(&self, events: Vec<Event>) -> Result<(), StoreError> {
        let mut pending = lock(&self.pending);
        for ev in events {
            validate_tenant(ev.tenant())?;
            pending
                .entry(PartitionKey::of(ev.tenant(), ev.timestamp()))
                .or_default()
                .push(ev);
        }
        Ok(())
    }

    fn commit(&self) -> Result<CommitReport, StoreError> {
        let pending = std::mem::take(&mut *lock(&self.pending));
        let mut keys: Vec<_> = pending.into_iter().collect();
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        let mut report = CommitReport::default();
        for (key, events) in keys {
            report += self.commit_partition(key, events)?;
        }
        Ok(report)
    }

    fn search(&self, req: &SearchRequest) -> Result<SearchResult, StoreError> {
        let parts = self.partitions_for(&req.tenants, &req.range)?;
        let (query, exact) = self.prepare(&req.filter, &req.range)?;
        let want = req.offset.saturating_add(req.limit);
        let newest = req.order == Order::NewestFirst;
        let mut total = 0u64;
        let mut hits = Vec::new();
        if exact {
            // Top `want` of each partition, merged.
            let mut tops: Vec<(i64, usize, DocAddress)> = Vec::new();
            let order = if newest { TOrder::Desc } else { TOrder::Asc };
            for (i, p) in parts.iter().enumerate() {
                let searcher = p.reader.searcher();
                let top = TopDocs::with_limit(want.max(1)).order_by_fast_field::<i64>("ts", order);
                let (n, docs) = searcher
                    .search(&query, &(Count, top))
                    .map_err(|e| StoreError::engine("searching", e))?;
                total += n as u64;
                tops.extend(docs.into_iter().map(|(ts, a)| (ts.unwrap_or(0), i, a)));
            }
            sort_hits(&mut tops, newest);
            for (_, i, addr) in tops.into_iter().skip(req.offset).take(req.limit) {
                hits.push(SearchHit {
                    event: self.load(&parts[i], addr)?,
                });
            }
        } else {
            let matcher = req
                .filter
                .compile()
                .map_err(|e| StoreError::Filter(e.to_string()))?;
            let mut cands: Vec<(i64, usize, DocAddress)> = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let found = p
                    .reader
                    .searcher()
                    .search(&query, &collect::Candidates)
                    .map_err(|e| StoreError::engine("searching", e))?;
                cands.extend(found.into_iter().map(|(ts, a)| (ts, i, a)));
            }
            sort_hits(&mut cands, newest);
            for (_, i, addr) in cands {
                let ev = self.load(&parts[i], addr)?;
                if matcher.matches(&ev) {
                    total += 1;
                    if total as usize > req.offset && hits.len() < req.limit {
                        hits.push(SearchHit { event: ev });
                    }
                }
            }
        }
        Ok(SearchResult { hits, total })
    }

    fn count(&self, tenants: &[String], filter: &Filter, range: &TimeRange) -> Result<u64, StoreError> {
        let req = SearchRequest {
            tenants: tenants.to_vec(),
            filter: filter.clone(),
            range: *range,
            limit: 0,
            offset: 0,
            order: Order::NewestFirst,
        };
        Ok(self.search(&req)?.total)
    }
}

fn sort_hits(v: &mut [(i64, usize, DocAddress)], newest: bool) {
    if newest {
        v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    } else {
        v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    }
}
