//! Counters of every source and the server, exposed as Prometheus text at
//! `/metrics` and per source through the API.

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use serde::Serialize;

/// Labels of a source's series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    /// Tenant.
    pub tenant: String,
    /// Source.
    pub source: String,
}

/// A source's counters since the server started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourceCounters {
    /// Events accepted (durable).
    pub events: u64,
    /// Bytes received.
    pub bytes: u64,
    /// Records sent to the dead letter.
    pub rejected: u64,
    /// Messages dropped (UDP overload, refused while busy).
    pub dropped: u64,
    /// When the last event arrived.
    pub last_event_at: Option<DateTime<Utc>>,
}

/// The server's metrics.
pub struct Metrics {
    registry: Registry,
    events: Family<SourceLabels, Counter>,
    bytes: Family<SourceLabels, Counter>,
    rejected: Family<SourceLabels, Counter>,
    dropped: Family<SourceLabels, Counter>,
    last_event: Family<SourceLabels, Gauge>,
    queue_depth: Gauge,
    dead_letters: Gauge,
    store_bytes: Gauge,
    query_seconds: Histogram,
    sources: Mutex<BTreeMap<(String, String), SourceCounters>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Register every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("mamori");
        let m = Metrics {
            events: Family::default(),
            bytes: Family::default(),
            rejected: Family::default(),
            dropped: Family::default(),
            last_event: Family::default(),
            queue_depth: Gauge::default(),
            dead_letters: Gauge::default(),
            store_bytes: Gauge::default(),
            query_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 16)),
            sources: Mutex::new(BTreeMap::new()),
            registry: Registry::default(),
        };
        registry.register("ingest_events", "Events accepted per source", m.events.clone());
        registry.register("ingest_bytes", "Bytes received per source", m.bytes.clone());
        registry.register(
            "ingest_rejected",
            "Records sent to the dead letter per source",
            m.rejected.clone(),
        );
        registry.register("ingest_dropped", "Messages dropped per source", m.dropped.clone());
        registry.register(
            "ingest_last_event_timestamp_seconds",
            "When each source last sent an event",
            m.last_event.clone(),
        );
        registry.register(
            "ingest_queue_events",
            "Events waiting to be committed",
            m.queue_depth.clone(),
        );
        registry.register(
            "dead_letters",
            "Records written to dead letters since start",
            m.dead_letters.clone(),
        );
        registry.register(
            "store_bytes",
            "Bytes of the event store on disk",
            m.store_bytes.clone(),
        );
        registry.register(
            "query_duration_seconds",
            "Search and aggregation latency",
            m.query_seconds.clone(),
        );
        Metrics { registry, ..m }
    }

    fn labels(tenant: &str, source: &str) -> SourceLabels {
        SourceLabels {
            tenant: tenant.into(),
            source: source.into(),
        }
    }

    fn with_source(&self, tenant: &str, source: &str, f: impl FnOnce(&mut SourceCounters)) {
        let mut map = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry((tenant.into(), source.into())).or_default());
    }

    /// Events of a source were accepted.
    pub fn accepted(&self, tenant: &str, source: &str, events: u64, bytes: u64, rejected: u64) {
        let l = Self::labels(tenant, source);
        self.events.get_or_create(&l).inc_by(events);
        self.bytes.get_or_create(&l).inc_by(bytes);
        self.rejected.get_or_create(&l).inc_by(rejected);
        let now = Utc::now();
        if events > 0 {
            self.last_event.get_or_create(&l).set(now.timestamp());
        }
        self.with_source(tenant, source, |c| {
            c.events += events;
            c.bytes += bytes;
            c.rejected += rejected;
            if events > 0 {
                c.last_event_at = Some(now);
            }
        });
    }

    /// Messages of a source were dropped.
    pub fn dropped(&self, tenant: &str, source: &str, n: u64) {
        self.dropped
            .get_or_create(&Self::labels(tenant, source))
            .inc_by(n);
        self.with_source(tenant, source, |c| c.dropped += n);
    }

    /// A query took `seconds`.
    pub fn observe_query(&self, seconds: f64) {
        self.query_seconds.observe(seconds);
    }

    /// Counters of one tenant's sources.
    pub fn sources_of(&self, tenant: &str) -> BTreeMap<String, SourceCounters> {
        let map = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        map.iter()
            .filter(|((t, _), _)| t == tenant)
            .map(|((_, s), c)| (s.clone(), c.clone()))
            .collect()
    }

    /// The Prometheus text exposition, with the gauges read now.
    pub fn render(&self, queue: usize, dead_letters: u64, store_bytes: u64) -> String {
        self.queue_depth.set(queue as i64);
        self.dead_letters.set(dead_letters as i64);
        self.store_bytes.set(store_bytes as i64);
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics");
        }
        out
    }
}

/// Total size of the files under `dir`.
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_counted_and_rendered() {
        let m = Metrics::new();
        m.accepted("acme", "fw", 10, 1000, 1);
        m.dropped("acme", "fw", 2);
        m.observe_query(0.01);
        let text = m.render(5, 1, 123);
        assert!(
            text.contains("mamori_ingest_events_total{tenant=\"acme\",source=\"fw\"} 10"),
            "{text}"
        );
        assert!(text.contains("mamori_ingest_queue_events 5"), "{text}");
        assert!(text.contains("mamori_query_duration_seconds_count 1"), "{text}");
        assert_eq!(m.sources_of("acme")["fw"].dropped, 2);
        assert!(m.sources_of("globex").is_empty());
    }
}
