//! The ingest pipeline every live source shares (HTTP, `_bulk`, syslog, S3):
//! bytes → decode (gzip) → sniff → parse → label → store, bad records to the
//! dead letter. [`Committer`] makes events durable with group commits: a
//! sender is answered only once its events are committed, and a full queue
//! refuses new work instead of buffering without bound.

use std::collections::HashMap;
use std::io::{self, BufRead, Cursor};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use mamori_formats::record::{BadRecord, Item, ParseContext};
use mamori_formats::{Format, decode, sniff};
use mamori_model::Event;
use mamori_store::{EventStore, StoreError};
use serde_json::Value;
use tokio::sync::oneshot;

use crate::dead_letter::DeadLetter;

/// Why an ingest failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The input's format could not be recognised.
    #[error("unrecognised input: {0}")]
    Unrecognised(String),
    /// Reading or the dead letter failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The store failed; nothing of this input was acknowledged.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// The queue is full: retry later.
    #[error("ingest queue is full ({queued} events waiting); retry in {retry_after_secs} s")]
    Busy {
        /// Events waiting.
        queued: usize,
        /// Suggested wait.
        retry_after_secs: u64,
    },
    /// The pipeline is shutting down.
    #[error("ingest pipeline is shutting down")]
    Closed,
}

/// Where a body came from and how to read it.
#[derive(Debug, Clone)]
pub struct Origin {
    /// Tenant the events belong to.
    pub tenant: String,
    /// The tenant's source (`cloudtrail`, `fw-paris`), stored as `labels.source`.
    pub source: Option<String>,
    /// Format, or `None` to recognise it.
    pub format: Option<Format>,
    /// Name shown in dead-letter locations (`http`, `syslog udp 10.0.0.1`, an S3 key).
    pub name: String,
}

/// A body read into events.
#[derive(Debug)]
pub struct Parsed {
    /// The format used.
    pub format: Format,
    /// Events, labelled with their source.
    pub events: Vec<Event>,
    /// Records sent to the dead letter.
    pub rejected: u64,
    /// Lines (1-based) of the rejected records, where known.
    pub bad_lines: Vec<u64>,
    /// Recovered problems and rejections, in words (the first 20).
    pub messages: Vec<String>,
}

const MAX_MESSAGES: usize = 20;

/// Read a whole body (gzip-transparent) as events; bad records go to `dead`
/// and are synced there before this returns.
pub fn parse_body(body: Vec<u8>, origin: &Origin, dead: &DeadLetters) -> Result<Parsed, PipelineError> {
    let reader = decode::decode(Box::new(Cursor::new(body)))?;
    parse_reader(reader, origin, dead)
}

/// Read a stream as events (see [`parse_body`]).
pub fn parse_reader(
    reader: Box<dyn BufRead + Send>,
    origin: &Origin,
    dead: &DeadLetters,
) -> Result<Parsed, PipelineError> {
    let (format, reader) = match origin.format {
        Some(f) => (f, reader),
        None => {
            let peeked = decode::peek(reader, sniff::HEAD_LEN);
            match sniff::sniff(&peeked.head) {
                Some(f) => (f, peeked.reader),
                None if peeked.head.is_empty() => {
                    return Ok(Parsed {
                        format: Format::Ndjson,
                        events: Vec::new(),
                        rejected: 0,
                        bad_lines: Vec::new(),
                        messages: Vec::new(),
                    });
                }
                None => {
                    return Err(PipelineError::Unrecognised(format!(
                        "{}: not a known log format; name it (formats: {})",
                        origin.name,
                        Format::names()
                    )));
                }
            }
        }
    };
    if format == Format::CloudTrailDigest {
        // Digest files prove a trail's integrity; they hold no events.
        return Ok(Parsed {
            format,
            events: Vec::new(),
            rejected: 0,
            bad_lines: Vec::new(),
            messages: Vec::new(),
        });
    }
    let ctx = ParseContext::new(&origin.tenant, &origin.name);
    let mut out = Parsed {
        format,
        events: Vec::new(),
        rejected: 0,
        bad_lines: Vec::new(),
        messages: Vec::new(),
    };
    let mut bad = Vec::new();
    for item in mamori_formats::parse(format, reader, &ctx) {
        match item {
            Item::Event(ev) => {
                let mut ev = *ev;
                if let Some(s) = &origin.source {
                    ev.set("labels.source", Value::String(s.clone()));
                }
                out.events.push(ev);
            }
            Item::Bad(b) => {
                if out.messages.len() < MAX_MESSAGES {
                    out.messages
                        .push(format!("rejected {}: {}", b.location, b.reason));
                }
                out.rejected += 1;
                out.bad_lines.extend(b.location.line);
                bad.push(b);
            }
            Item::Warning(w) => {
                if out.messages.len() < MAX_MESSAGES {
                    out.messages
                        .push(format!("warning {}: {}", w.location, w.message));
                }
            }
        }
    }
    dead.write_all(&origin.tenant, &bad)?;
    Ok(out)
}

/// The dead letters of every tenant, `<data>/dead-letter/<tenant>.ndjson`, shared by all sources.
pub struct DeadLetters {
    data_dir: PathBuf,
    open: Mutex<HashMap<String, DeadLetter>>,
    written: AtomicU64,
}

impl DeadLetters {
    /// Dead letters under `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        DeadLetters {
            data_dir: data_dir.to_path_buf(),
            open: Mutex::new(HashMap::new()),
            written: AtomicU64::new(0),
        }
    }

    /// Keep `records` of `tenant` durably (written and synced).
    pub fn write_all(&self, tenant: &str, records: &[BadRecord]) -> io::Result<()> {
        let none = serde_json::Map::new();
        self.write_all_with(tenant, records.iter().map(|r| (r, &none)))
    }

    /// Keep `records` of `tenant`, each with more fields, durably (written and synced).
    pub fn write_all_with<'a>(
        &self,
        tenant: &str,
        records: impl IntoIterator<Item = (&'a BadRecord, &'a serde_json::Map<String, Value>)>,
    ) -> io::Result<()> {
        let mut records = records.into_iter().peekable();
        if records.peek().is_none() {
            return Ok(());
        }
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        if !open.contains_key(tenant) {
            open.insert(tenant.to_string(), DeadLetter::open(&self.data_dir, tenant)?);
        }
        let dl = open.get_mut(tenant).expect("inserted above");
        let mut n = 0;
        for (r, extra) in records {
            dl.write_with(tenant, r, extra)?;
            n += 1;
        }
        dl.sync()?;
        self.written.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }

    /// Records written since start.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }
}

/// Events already appended, waiting for a commit.
struct Ticket {
    events: usize,
    done: oneshot::Sender<Result<(), String>>,
}

/// Group commit: senders append their events themselves (building index
/// documents in parallel on their own threads); one writer thread then
/// commits once for every ticket that arrived meanwhile and answers each.
pub struct Committer {
    store: Arc<dyn EventStore>,
    tx: Mutex<Option<SyncSender<Ticket>>>,
    queued: Arc<AtomicUsize>,
    capacity: usize,
    thread: Mutex<Option<JoinHandle<()>>>,
    stats: Arc<CommitStats>,
}

/// What the committer did since start.
#[derive(Debug, Default)]
pub struct CommitStats {
    /// Commits made.
    pub commits: AtomicU64,
    /// Events stored (new).
    pub added: AtomicU64,
    /// Events already present.
    pub duplicates: AtomicU64,
}

impl Committer {
    /// Start the writer over `store`, accepting at most `capacity` queued events.
    pub fn start(store: Arc<dyn EventStore>, capacity: usize) -> Self {
        let (tx, rx) = sync_channel::<Ticket>(4096);
        let queued = Arc::new(AtomicUsize::new(0));
        let stats = Arc::new(CommitStats::default());
        let thread = {
            let queued = queued.clone();
            let stats = stats.clone();
            let store = store.clone();
            std::thread::Builder::new()
                .name("mamori-commit".into())
                .spawn(move || write_loop(&*store, &rx, &queued, &stats))
                .expect("spawning the commit thread")
        };
        Committer {
            store,
            tx: Mutex::new(Some(tx)),
            queued,
            capacity,
            thread: Mutex::new(Some(thread)),
            stats,
        }
    }

    /// Events waiting to be committed.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Commit counters.
    pub fn stats(&self) -> &CommitStats {
        &self.stats
    }

    /// Append events (blocking: builds their index documents on this
    /// thread) and queue them for the next commit; the receiver answers once
    /// they are durable. Refuses with [`PipelineError::Busy`] when the queue is full.
    pub fn submit(&self, events: Vec<Event>) -> Result<oneshot::Receiver<Result<(), String>>, PipelineError> {
        let (done, rx) = oneshot::channel();
        if events.is_empty() {
            let _ = done.send(Ok(()));
            return Ok(rx);
        }
        let n = events.len();
        let before = self.queued.fetch_add(n, Ordering::AcqRel);
        if before > 0 && before + n > self.capacity {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            return Err(PipelineError::Busy {
                queued: before,
                retry_after_secs: 1,
            });
        }
        let refuse = |e: PipelineError| {
            self.queued.fetch_sub(n, Ordering::AcqRel);
            Err(e)
        };
        if self.tx.lock().unwrap_or_else(|p| p.into_inner()).is_none() {
            return refuse(PipelineError::Closed);
        }
        if let Err(e) = self.store.append(events) {
            return refuse(PipelineError::Store(e));
        }
        let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
        let Some(tx) = guard.as_ref() else {
            return refuse(PipelineError::Closed);
        };
        // Blocks only when 4,096 tickets wait: the events are appended already and must be committed.
        match tx.send(Ticket { events: n, done }) {
            Ok(()) => Ok(rx),
            Err(_) => refuse(PipelineError::Closed),
        }
    }

    /// Queue events and wait until they are durable (blocking; not for async code).
    pub fn submit_blocking(&self, events: Vec<Event>) -> Result<(), PipelineError> {
        let rx = self.submit(events)?;
        match rx.blocking_recv() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(PipelineError::Io(io::Error::other(e))),
            Err(_) => Err(PipelineError::Closed),
        }
    }

    /// Stop accepting, commit everything queued, and wait for the writer.
    pub fn shutdown(&self) {
        self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = t.join();
        }
    }
}

impl Drop for Committer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn write_loop(store: &dyn EventStore, rx: &Receiver<Ticket>, queued: &AtomicUsize, stats: &CommitStats) {
    loop {
        let first = match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(t) => t,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut n = first.events;
        let mut waiting = vec![first.done];
        while let Ok(t) = rx.try_recv() {
            n += t.events;
            waiting.push(t.done);
        }
        let answer = match store.commit() {
            Ok(r) => {
                stats.commits.fetch_add(1, Ordering::Relaxed);
                stats.added.fetch_add(r.added, Ordering::Relaxed);
                stats.duplicates.fetch_add(r.duplicates, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "commit failed; senders are told to retry");
                Err(e.to_string())
            }
        };
        queued.fetch_sub(n, Ordering::AcqRel);
        for w in waiting {
            let _ = w.send(answer.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_model::{Filter, TimeRange};
    use mamori_store::LocalStore;

    fn origin(tenant: &str) -> Origin {
        Origin {
            tenant: tenant.into(),
            source: Some("app".into()),
            format: None,
            name: "http".into(),
        }
    }

    #[test]
    fn bodies_are_sniffed_labelled_and_bad_lines_kept() {
        let dir = tempfile::tempdir().unwrap();
        let dead = DeadLetters::new(dir.path());
        let body =
            b"{\"message\":\"a\",\"@timestamp\":\"2026-01-01T00:00:00Z\"}\n{oops\n{\"message\":\"b\"}\n";
        let p = parse_body(body.to_vec(), &origin("acme"), &dead).unwrap();
        assert_eq!(p.events.len(), 2);
        assert_eq!(p.rejected, 1);
        assert_eq!(p.events[0].get("labels.source").unwrap(), "app");
        assert!(p.messages[0].contains("http:2"), "{:?}", p.messages);
        let dl = std::fs::read_to_string(dir.path().join("dead-letter/acme.ndjson")).unwrap();
        assert!(dl.contains("{oops"));
        assert!(matches!(
            parse_body(b"\x00\x01\x02 binary".to_vec(), &origin("acme"), &dead),
            Err(PipelineError::Unrecognised(_))
        ));
    }

    #[test]
    fn committed_events_are_acknowledged_and_a_full_queue_refuses() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn EventStore> = Arc::new(LocalStore::open(dir.path().join("events")).unwrap());
        let dead = DeadLetters::new(dir.path());
        let c = Committer::start(store.clone(), 10);
        let body = (0..5)
            .map(|i| format!("{{\"message\":\"m{i}\",\"@timestamp\":\"2026-01-01T00:00:0{i}Z\"}}\n"))
            .collect::<String>();
        let p = parse_body(body.into_bytes(), &origin("acme"), &dead).unwrap();
        c.submit_blocking(p.events).unwrap();
        let n = store
            .count(&["acme".into()], &Filter::All, &TimeRange::all())
            .unwrap();
        assert_eq!(n, 5);
        // larger than the whole queue while something waits: refused
        c.queued.store(5, Ordering::Relaxed);
        let many: Vec<Event> = (0..20)
            .map(|i| {
                let mut e = Event::new("acme", chrono::Utc::now(), "x");
                e.set_id(format!("id{i}"));
                e
            })
            .collect();
        assert!(matches!(c.submit(many), Err(PipelineError::Busy { .. })));
        c.queued.store(0, Ordering::Relaxed);
        c.shutdown();
        assert!(matches!(
            c.submit(vec![Event::new("acme", chrono::Utc::now(), "y")]),
            Err(PipelineError::Closed)
        ));
    }
}
