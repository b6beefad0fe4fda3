//! The storage contract every event store implements.

use mamori_model::{Event, Filter, TimeRange};

use crate::aggregate::{AggregateRequest, AggregateResponse};

/// A storage failure, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine failed (I/O, corrupt index, …).
    #[error("event store {action}: {message}")]
    Engine {
        /// What the store was doing.
        action: String,
        /// The engine's message.
        message: String,
    },
    /// The filter cannot be run (for example an unexpanded context list).
    #[error("filter cannot run: {0}")]
    Filter(String),
    /// A tenant name that cannot be used.
    #[error("invalid tenant name `{0}`: use 1-64 lower-case letters, digits, '-' or '_'")]
    BadTenant(String),
    /// The request would need more memory or time than allowed.
    #[error("query too broad: {0}")]
    TooBroad(String),
    /// A stored document could not be read back.
    #[error("stored event is unreadable: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn engine(action: impl Into<String>, err: impl std::fmt::Display) -> Self {
        StoreError::Engine {
            action: action.into(),
            message: err.to_string(),
        }
    }
}

/// Check a tenant name: 1–64 of `a-z`, `0-9`, `-`, `_`, starting with a letter or digit.
pub fn validate_tenant(name: &str) -> Result<(), StoreError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name.as_bytes()[0].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(StoreError::BadTenant(name.to_string()))
    }
}

/// Order of search results by `@timestamp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Newest first (the default).
    #[default]
    NewestFirst,
    /// Oldest first.
    OldestFirst,
}

/// A search: which tenants, which events, which page.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Tenants to search (results are labelled by the event's `tenant`).
    pub tenants: Vec<String>,
    /// The filter, with context lists already expanded.
    pub filter: Filter,
    /// Time range on `@timestamp`.
    pub range: TimeRange,
    /// Page size.
    pub limit: usize,
    /// Hits to skip.
    pub offset: usize,
    /// Sort order.
    pub order: Order,
}

/// One hit.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The stored event.
    pub event: Event,
}

/// A page of hits and the total number of matching events.
#[derive(Debug, Clone)]
pub struct SearchResult {
    /// The page, in the requested order.
    pub hits: Vec<SearchHit>,
    /// Number of events matching the filter in the range.
    pub total: u64,
}

/// What a commit made durable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitReport {
    /// New events now durable.
    pub added: u64,
    /// Events skipped because an event with the same `event.id` was already stored.
    pub duplicates: u64,
}

impl std::ops::AddAssign for CommitReport {
    fn add_assign(&mut self, o: Self) {
        self.added += o.added;
        self.duplicates += o.duplicates;
    }
}

/// An event store. `append` buffers; only `commit` makes events durable and
/// searchable. Appending an event whose `event.id` is already stored for its
/// tenant is a no-op counted as a duplicate, so re-ingesting is safe.
pub trait EventStore: Send + Sync {
    /// Buffer events (of any tenants).
    fn append(&self, events: Vec<Event>) -> Result<(), StoreError>;
    /// Make everything appended so far durable and searchable.
    fn commit(&self) -> Result<CommitReport, StoreError>;
    /// Events matching a request, and their total.
    fn search(&self, req: &SearchRequest) -> Result<SearchResult, StoreError>;
    /// Every matching event, newest first, handed to `visit` one at a time
    /// (memory stays bounded whatever the count); stops early when `visit`
    /// returns `false`. Returns the number of events visited.
    fn scan(
        &self,
        tenants: &[String],
        filter: &Filter,
        range: &TimeRange,
        visit: &mut dyn FnMut(Event) -> Result<bool, StoreError>,
    ) -> Result<u64, StoreError>;
    /// Aggregations over the events a filter selects.
    fn aggregate(&self, req: &AggregateRequest) -> Result<AggregateResponse, StoreError>;
    /// Tenants that have stored events.
    fn tenants(&self) -> Result<Vec<String>, StoreError>;
    /// Number of events matching `filter` in `range` over `tenants`.
    fn count(&self, tenants: &[String], filter: &Filter, range: &TimeRange) -> Result<u64, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names() {
        assert!(validate_tenant("acme").is_ok());
        assert!(validate_tenant("acme-2_x").is_ok());
        for bad in ["", "Acme", "../x", "a/b", "-a", &"x".repeat(65)] {
            assert!(validate_tenant(bad).is_err(), "{bad}");
        }
    }
}
