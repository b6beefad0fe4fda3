//! Aggregations: what a store computes over the events a filter selects.
//! The types leak nothing of the engine; [`in_memory`] computes them over
//! events already loaded (the reference every engine must agree with).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use mamori_model::fields::{lowercase, number_of};
use mamori_model::{Event, Filter, TimeRange};
use serde::Serialize;
use serde_json::Value;

/// One aggregation to compute.
#[derive(Debug, Clone, PartialEq)]
pub enum Aggregation {
    /// The `size` most frequent values of a field, and the count of the rest.
    Terms {
        /// Field.
        field: String,
        /// Buckets to return.
        size: usize,
    },
    /// Events per time bucket; `interval_secs: None` picks about 60 buckets.
    DateHistogram {
        /// Bucket width in seconds.
        interval_secs: Option<i64>,
    },
    /// Count, min, max, sum and average of a numeric field.
    Stats {
        /// Field.
        field: String,
    },
    /// Number of distinct values of a field (exact).
    Cardinality {
        /// Field.
        field: String,
    },
    /// Top values of a field, each with its date histogram.
    TermsHistogram {
        /// Field.
        field: String,
        /// Buckets to return.
        size: usize,
        /// Bucket width in seconds (`None`: about 60 buckets).
        interval_secs: Option<i64>,
    },
}

/// Aggregations over a filter's events.
#[derive(Debug, Clone)]
pub struct AggregateRequest {
    /// Tenants.
    pub tenants: Vec<String>,
    /// The filter (context lists expanded).
    pub filter: Filter,
    /// Time range.
    pub range: TimeRange,
    /// What to compute.
    pub aggregations: Vec<Aggregation>,
}

/// A value and how many events have it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TermBucket {
    /// The value (as stored, or lower-cased when the engine keeps only that).
    pub value: String,
    /// Events.
    pub count: u64,
}

/// A time bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeBucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Events.
    pub count: u64,
}

/// A computed aggregation, in the order requested.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AggregationResult {
    /// See [`Aggregation::Terms`].
    Terms {
        /// Field.
        field: String,
        /// Most frequent first.
        buckets: Vec<TermBucket>,
        /// Events with other values.
        other: u64,
    },
    /// See [`Aggregation::DateHistogram`].
    DateHistogram {
        /// Bucket width.
        interval_secs: i64,
        /// Buckets in time order (empty buckets included).
        buckets: Vec<TimeBucket>,
    },
    /// See [`Aggregation::Stats`].
    Stats {
        /// Field.
        field: String,
        /// Values seen.
        count: u64,
        /// Smallest.
        min: Option<f64>,
        /// Largest.
        max: Option<f64>,
        /// Sum.
        sum: f64,
        /// Mean.
        avg: Option<f64>,
    },
    /// See [`Aggregation::Cardinality`].
    Cardinality {
        /// Field.
        field: String,
        /// Distinct values.
        value: u64,
    },
    /// See [`Aggregation::TermsHistogram`].
    TermsHistogram {
        /// Field.
        field: String,
        /// Bucket width.
        interval_secs: i64,
        /// One series per top value.
        series: Vec<Series>,
    },
}

/// One value's histogram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The value.
    pub value: String,
    /// Its events in the range.
    pub count: u64,
    /// Its buckets.
    pub buckets: Vec<TimeBucket>,
}

/// Aggregation results and the number of matching events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AggregateResponse {
    /// Matching events.
    pub total: u64,
    /// One result per requested aggregation.
    pub results: Vec<AggregationResult>,
}

/// The field an aggregation reads, if any.
pub fn field_of(agg: &Aggregation) -> Option<&str> {
    match agg {
        Aggregation::Terms { field, .. }
        | Aggregation::Stats { field }
        | Aggregation::Cardinality { field }
        | Aggregation::TermsHistogram { field, .. } => Some(field),
        Aggregation::DateHistogram { .. } => None,
    }
}

/// A bucket width giving about 60 buckets over `[from, to)`, rounded to a
/// width people read easily.
pub fn auto_interval(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    const NICE: &[i64] = &[
        1,
        5,
        10,
        30,
        60,
        300,
        600,
        1800,
        3600,
        3 * 3600,
        6 * 3600,
        12 * 3600,
        86_400,
        7 * 86_400,
        30 * 86_400,
    ];
    let span = (to - from).num_seconds().max(1);
    let want = span / 60;
    *NICE.iter().find(|n| **n >= want).unwrap_or(&(365 * 86_400))
}

/// Bucket starts covering `[from, to)`, aligned to the epoch.
pub fn bucket_starts(from: DateTime<Utc>, to: DateTime<Utc>, interval: i64) -> Vec<i64> {
    let step = interval.max(1);
    let first = from.timestamp().div_euclid(step) * step;
    let last = (to.timestamp() - 1).max(first);
    let n = ((last - first) / step + 1).min(100_000);
    (0..n).map(|i| first + i * step).collect()
}

/// Counts per bucket start → buckets (empty ones included).
pub fn fill_buckets(starts: &[i64], counts: &HashMap<i64, u64>) -> Vec<TimeBucket> {
    starts
        .iter()
        .map(|s| TimeBucket {
            start: DateTime::from_timestamp(*s, 0).unwrap_or_default(),
            count: counts.get(s).copied().unwrap_or(0),
        })
        .collect()
}

/// Top `size` of a value→count map, most frequent first (ties by value), and the rest's total.
pub fn top_terms(counts: HashMap<String, u64>, size: usize) -> (Vec<TermBucket>, u64) {
    let mut all: Vec<(String, u64)> = counts.into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let other = all.iter().skip(size).map(|(_, c)| *c).sum();
    let top = all
        .into_iter()
        .take(size)
        .map(|(value, count)| TermBucket { value, count })
        .collect();
    (top, other)
}

/// The text of a leaf as a terms bucket shows it.
pub fn bucket_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Compute aggregations over loaded events (`range` sizes the histograms).
/// Terms are grouped case-insensitively and shown as first seen.
pub fn in_memory(events: &[Event], range: &TimeRange, aggs: &[Aggregation]) -> AggregateResponse {
    let (from, to) = data_span(events, range);
    let results = aggs
        .iter()
        .map(|agg| match agg {
            Aggregation::Terms { field, size } => {
                let (buckets, other) = terms_of(events.iter(), field, *size);
                AggregationResult::Terms {
                    field: field.clone(),
                    buckets,
                    other,
                }
            }
            Aggregation::DateHistogram { interval_secs } => {
                let interval = interval_secs.unwrap_or_else(|| auto_interval(from, to));
                let starts = bucket_starts(from, to, interval);
                AggregationResult::DateHistogram {
                    interval_secs: interval,
                    buckets: fill_buckets(&starts, &histogram(events.iter(), interval)),
                }
            }
            Aggregation::Stats { field } => {
                let vals: Vec<f64> = events
                    .iter()
                    .flat_map(|e| e.values(field))
                    .filter_map(number_of)
                    .collect();
                let sum: f64 = vals.iter().sum();
                AggregationResult::Stats {
                    field: field.clone(),
                    count: vals.len() as u64,
                    min: vals.iter().copied().reduce(f64::min),
                    max: vals.iter().copied().reduce(f64::max),
                    sum,
                    avg: (!vals.is_empty()).then(|| sum / vals.len() as f64),
                }
            }
            Aggregation::Cardinality { field } => {
                let distinct: std::collections::HashSet<String> = events
                    .iter()
                    .flat_map(|e| e.values(field))
                    .filter_map(bucket_text)
                    .map(|t| lowercase(&t))
                    .collect();
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
                let interval = interval_secs.unwrap_or_else(|| auto_interval(from, to));
                let starts = bucket_starts(from, to, interval);
                let (top, _) = terms_of(events.iter(), field, *size);
                let series = top
                    .into_iter()
                    .map(|b| {
                        let key = lowercase(&b.value);
                        let mine = events.iter().filter(|e| {
                            e.values(field)
                                .into_iter()
                                .filter_map(bucket_text)
                                .any(|t| lowercase(&t) == key)
                        });
                        Series {
                            value: b.value,
                            count: b.count,
                            buckets: fill_buckets(&starts, &histogram(mine, interval)),
                        }
                    })
                    .collect();
                AggregationResult::TermsHistogram {
                    field: field.clone(),
                    interval_secs: interval,
                    series,
                }
            }
        })
        .collect();
    AggregateResponse {
        total: events.len() as u64,
        results,
    }
}

/// The range histograms cover: the request's, narrowed to the data when open.
pub fn data_span(events: &[Event], range: &TimeRange) -> (DateTime<Utc>, DateTime<Utc>) {
    let min = events.iter().map(Event::timestamp).min();
    let max = events.iter().map(Event::timestamp).max();
    let from = match min {
        Some(m) if range.from < m => m.max(range.from),
        _ => range.from,
    };
    let to = match max {
        Some(m) => (m + chrono::Duration::seconds(1)).min(range.to),
        None => range.to,
    };
    (from, to.max(from))
}

fn terms_of<'a>(events: impl Iterator<Item = &'a Event>, field: &str, size: usize) -> (Vec<TermBucket>, u64) {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut shown: HashMap<String, String> = HashMap::new();
    for e in events {
        let mut seen = std::collections::HashSet::new();
        for t in e.values(field).into_iter().filter_map(bucket_text) {
            let key = lowercase(&t);
            if seen.insert(key.clone()) {
                shown.entry(key.clone()).or_insert(t);
                *counts.entry(key).or_default() += 1;
            }
        }
    }
    let (mut top, other) = top_terms(counts, size);
    for b in &mut top {
        if let Some(s) = shown.get(&b.value) {
            b.value = s.clone();
        }
    }
    (top, other)
}

fn histogram<'a>(events: impl Iterator<Item = &'a Event>, interval: i64) -> HashMap<i64, u64> {
    let mut counts = HashMap::new();
    for e in events {
        let s = e.timestamp().timestamp().div_euclid(interval) * interval;
        *counts.entry(s).or_default() += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_intervals_are_readable() {
        let t0: DateTime<Utc> = "2024-01-01T00:00:00Z".parse().unwrap();
        assert_eq!(auto_interval(t0, t0 + chrono::Duration::hours(1)), 60);
        assert_eq!(auto_interval(t0, t0 + chrono::Duration::hours(24)), 1800);
        assert_eq!(auto_interval(t0, t0 + chrono::Duration::days(30)), 43200);
    }

    #[test]
    fn buckets_cover_the_range() {
        let t0: DateTime<Utc> = "2024-01-01T00:00:30Z".parse().unwrap();
        let starts = bucket_starts(t0, t0 + chrono::Duration::seconds(120), 60);
        assert_eq!(starts.len(), 3);
        assert_eq!(starts[0], t0.timestamp() - 30);
    }

    #[test]
    fn top_terms_orders_and_counts_the_rest() {
        let counts = HashMap::from([("a".to_string(), 5), ("b".to_string(), 7), ("c".to_string(), 1)]);
        let (top, other) = top_terms(counts, 2);
        assert_eq!(top[0].value, "b");
        assert_eq!(top[1].value, "a");
        assert_eq!(other, 1);
    }
}
