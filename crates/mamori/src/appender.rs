//! The store side of `mamori ingest`: a thread that turns event batches into
//! index documents and hands them to the store while the reading thread
//! parses the next batches, so parsing and indexing use both cores.
//!
//! Batches are applied in the order sent; a commit waits for every batch sent
//! before it, so what a commit acknowledges is exactly what was read before it.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use mamori_model::Event;
use mamori_store::{CommitReport, EventStore, LocalStore, StoreError};

/// Batches waiting for the appending thread (each up to a few thousand events).
const QUEUE: usize = 2;

enum Msg {
    Append(Vec<Event>),
    Commit(SyncSender<Result<CommitReport, StoreError>>),
}

/// Handle to the appending thread of one ingest run.
pub(crate) struct Appender<'scope> {
    tx: Option<SyncSender<Msg>>,
    thread: Option<ScopedJoinHandle<'scope, Result<(), StoreError>>>,
}

impl<'scope> Appender<'scope> {
    /// Start the thread inside `scope`, writing into `store`.
    pub(crate) fn spawn<'env>(
        scope: &'scope Scope<'scope, 'env>,
        store: &'env LocalStore,
    ) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("ingest-append".into())
            .spawn_scoped(scope, move || run(store, rx))?;
        Ok(Appender {
            tx: Some(tx),
            thread: Some(thread),
        })
    }

    /// Queue a batch (blocks while the queue is full: backpressure on the reader).
    pub(crate) fn append(&mut self, events: Vec<Event>) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        self.send(Msg::Append(events))
    }

    /// Make every batch sent so far durable; the store's report of that commit.
    pub(crate) fn commit(&mut self) -> anyhow::Result<CommitReport> {
        let (reply, answer) = sync_channel(1);
        self.send(Msg::Commit(reply))?;
        match answer.recv() {
            Ok(report) => Ok(report?),
            Err(_) => Err(self.failure()),
        }
    }

    /// Stop the thread, returning its error if it failed.
    pub(crate) fn finish(mut self) -> anyhow::Result<()> {
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(Err(e))) => Err(e.into()),
            Some(Err(_)) => anyhow::bail!("the ingest thread panicked"),
            _ => Ok(()),
        }
    }

    fn send(&mut self, msg: Msg) -> anyhow::Result<()> {
        match &self.tx {
            Some(tx) if tx.send(msg).is_ok() => Ok(()),
            _ => Err(self.failure()),
        }
    }

    /// Why the thread stopped early (it only stops on a store error).
    fn failure(&mut self) -> anyhow::Error {
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(Err(e))) => e.into(),
            Some(Err(_)) => anyhow::anyhow!("the ingest thread panicked"),
            _ => anyhow::anyhow!("the ingest thread stopped"),
        }
    }
}

fn run(store: &LocalStore, rx: Receiver<Msg>) -> Result<(), StoreError> {
    for msg in rx {
        match msg {
            Msg::Append(events) => store.append(events)?,
            Msg::Commit(reply) => {
                let report = store.commit();
                let failed = report.is_err();
                // The caller waits for this answer; if it has gone, so has the run.
                let _ = reply.send(report);
                if failed {
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};
    use mamori_model::{Filter, TimeRange};

    fn events(from: u32, to: u32) -> Vec<Event> {
        let t0 = Utc.with_ymd_and_hms(2024, 3, 1, 0, 0, 0).unwrap();
        (from..to)
            .map(|i| Event::new("acme", t0 + Duration::minutes(i.into()), format!("record {i}")))
            .collect()
    }

    #[test]
    fn a_commit_covers_every_batch_sent_before_it_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::open(dir.path()).unwrap();
        let reports = std::thread::scope(|scope| {
            let mut a = Appender::spawn(scope, &store).unwrap();
            a.append(events(0, 100)).unwrap();
            a.append(events(100, 250)).unwrap();
            a.append(Vec::new()).unwrap();
            let first = a.commit().unwrap();
            // Already stored events and a repeat inside the same batch are duplicates.
            let mut again = events(200, 300);
            again.extend(events(299, 300));
            a.append(again).unwrap();
            let second = a.commit().unwrap();
            a.finish().unwrap();
            (first, second)
        });
        assert_eq!((reports.0.added, reports.0.duplicates), (250, 0));
        assert_eq!((reports.1.added, reports.1.duplicates), (50, 51));
        let all = store
            .count(&["acme".to_string()], &Filter::All, &TimeRange::all())
            .unwrap();
        assert_eq!(all, 300);
    }
}
