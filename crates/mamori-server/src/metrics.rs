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

/// Labels of a syslog listener's series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ListenerLabels {
    /// The listener: protocol and address (`udp 0.0.0.0:5514`).
    pub listener: String,
}

/// A syslog listener's counters since the server started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ListenerCounters {
    /// The listener: protocol and address (`udp 0.0.0.0:5514`).
    pub listener: String,
    /// Messages received (oversized ones included).
    pub messages: u64,
    /// Messages longer than the listener's `max_message_bytes`, sent to the dead letter.
    pub oversized: u64,
    /// Datagrams the kernel dropped because the socket's receive buffer was
    /// full (UDP on Linux); `null` where the platform does not say.
    pub kernel_drops: Option<u64>,
    /// Tenants this listener routes to (not shown: a listener may serve several tenants).
    #[serde(skip)]
    pub tenants: Vec<String>,
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
    syslog_messages: Family<ListenerLabels, Counter>,
    syslog_oversized: Family<ListenerLabels, Counter>,
    syslog_kernel_drops: Family<ListenerLabels, Counter>,
    listeners: Mutex<BTreeMap<String, ListenerCounters>>,
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
            syslog_messages: Family::default(),
            syslog_oversized: Family::default(),
            syslog_kernel_drops: Family::default(),
            listeners: Mutex::new(BTreeMap::new()),
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
        registry.register(
            "syslog_messages",
            "Messages received per syslog listener",
            m.syslog_messages.clone(),
        );
        registry.register(
            "syslog_oversized",
            "Messages over max_message_bytes per syslog listener (sent to the dead letter)",
            m.syslog_oversized.clone(),
        );
        registry.register(
            "syslog_kernel_drops",
            "Datagrams the kernel dropped on a UDP syslog listener's full receive buffer",
            m.syslog_kernel_drops.clone(),
        );
        Metrics { registry, ..m }
    }

    fn with_listener(&self, listener: &str, f: impl FnOnce(&mut ListenerCounters)) {
        let mut map = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = map.get_mut(listener) {
            f(c);
        }
    }

    /// A syslog listener started; `tenants` are those it routes to.
    pub fn listener_started(&self, listener: &str, tenants: Vec<String>) {
        let l = ListenerLabels {
            listener: listener.into(),
        };
        // Series exist from the start, at 0.
        let _ = self.syslog_messages.get_or_create(&l);
        let _ = self.syslog_oversized.get_or_create(&l);
        let mut map = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(
            listener.to_string(),
            ListenerCounters {
                listener: listener.to_string(),
                tenants,
                ..ListenerCounters::default()
            },
        );
    }

    /// A syslog listener received `messages`, `oversized` of them too long.
    pub fn listener_received(&self, listener: &str, messages: u64, oversized: u64) {
        let l = ListenerLabels {
            listener: listener.into(),
        };
        self.syslog_messages.get_or_create(&l).inc_by(messages);
        self.syslog_oversized.get_or_create(&l).inc_by(oversized);
        self.with_listener(listener, |c| {
            c.messages += messages;
            c.oversized += oversized;
        });
    }

    /// The kernel has dropped `total` datagrams on a listener's socket since it opened.
    pub fn kernel_drops(&self, listener: &str, total: u64) {
        let mut delta = 0;
        self.with_listener(listener, |c| {
            let before = c.kernel_drops.unwrap_or(0);
            delta = total.saturating_sub(before);
            c.kernel_drops = Some(total.max(before));
        });
        self.syslog_kernel_drops
            .get_or_create(&ListenerLabels {
                listener: listener.into(),
            })
            .inc_by(delta);
    }

    /// Counters of the syslog listeners that route to `tenant`.
    pub fn listeners_of(&self, tenant: &str) -> Vec<ListenerCounters> {
        let map = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        map.values()
            .filter(|c| c.tenants.iter().any(|t| t == tenant))
            .cloned()
            .collect()
    }

    /// Counters of one listener.
    pub fn listener(&self, listener: &str) -> Option<ListenerCounters> {
        let map = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
        map.get(listener).cloned()
    }

    /// Records of a source went to the dead letter before reaching the parser
    /// (a syslog message over the size limit): counted as rejected.
    pub fn rejected(&self, tenant: &str, source: &str, records: u64, bytes: u64) {
        self.accepted(tenant, source, 0, bytes, records);
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

    #[test]
    fn listeners_are_counted_and_rendered() {
        let m = Metrics::new();
        m.listener_started("udp 0.0.0.0:5514", vec!["acme".into(), "globex".into()]);
        m.listener_received("udp 0.0.0.0:5514", 10, 1);
        m.kernel_drops("udp 0.0.0.0:5514", 7);
        m.kernel_drops("udp 0.0.0.0:5514", 12);
        m.rejected("acme", "fw", 1, 70_000);
        let text = m.render(0, 0, 0);
        for line in [
            "mamori_syslog_messages_total{listener=\"udp 0.0.0.0:5514\"} 10",
            "mamori_syslog_oversized_total{listener=\"udp 0.0.0.0:5514\"} 1",
            "mamori_syslog_kernel_drops_total{listener=\"udp 0.0.0.0:5514\"} 12",
            "mamori_ingest_rejected_total{tenant=\"acme\",source=\"fw\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from {text}");
        }
        let l = m.listeners_of("globex");
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].messages, l[0].oversized, l[0].kernel_drops),
            (10, 1, Some(12))
        );
        assert!(m.listeners_of("initech").is_empty());
        assert_eq!(m.sources_of("acme")["fw"].rejected, 1);
    }
}
