//! The storage contract every event store implements.

use mamori_model::{Event, Filter, TimeRange};

use crate::aggregate::{AggregateRequest, AggregateResponse};
use crate::facets::{FacetRequest, Facets};

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
    /// A `search_after` cursor that is not one this store made.
    #[error("invalid cursor `{0}`: pass the `cursor` of a hit of the previous page unchanged")]
    BadCursor(String),
    /// A sort that cannot be done.
    #[error("cannot sort: {0}")]
    BadSort(String),
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

/// Sort by a field's value instead of by time; events without the field come
/// last, ties are broken newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// Field path (keyword, number or IP field; not a text field).
    pub field: String,
    /// Largest value first.
    pub descending: bool,
}

impl Sort {
    /// Read `FIELD`, `FIELD:asc` or `FIELD:desc` (ascending by default).
    pub fn parse(spec: &str) -> Result<Self, StoreError> {
        let (field, dir) = match spec.rsplit_once(':') {
            Some((f, d)) if d.eq_ignore_ascii_case("asc") || d.eq_ignore_ascii_case("desc") => (f, Some(d)),
            _ => (spec, None),
        };
        let field = field.trim();
        if field.is_empty() || field.contains(char::is_whitespace) {
            return Err(StoreError::BadSort(format!(
                "`{spec}`: use FIELD, FIELD:asc or FIELD:desc"
            )));
        }
        Ok(Sort {
            field: field.to_string(),
            descending: dir.is_some_and(|d| d.eq_ignore_ascii_case("desc")),
        })
    }
}

/// The sort key of a hit: pass the last hit's cursor as
/// [`SearchRequest::after`] to get the next page. Pages stay exact while new
/// events arrive: the next page starts strictly after this key, whatever was
/// added before it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Cursor {
    /// The sort field's value as the store orders it (`None` for a time sort
    /// or an event without the field).
    pub value: Option<Vec<u8>>,
    /// `@timestamp` in µs.
    pub ts: i64,
    /// `event.id`, the last tie-breaker.
    pub id: String,
}

impl Cursor {
    /// The cursor as an opaque token for APIs: `ts.hexvalue.id`.
    pub fn encode(&self) -> String {
        let hex: String = match &self.value {
            None => "-".into(),
            Some(v) => v.iter().map(|b| format!("{b:02x}")).collect(),
        };
        format!("{}.{hex}.{}", self.ts, self.id)
    }

    /// Read a token made by [`Cursor::encode`].
    pub fn decode(token: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::BadCursor(token.chars().take(80).collect());
        let mut it = token.splitn(3, '.');
        let ts = it.next().and_then(|t| t.parse().ok()).ok_or_else(bad)?;
        let hex = it.next().ok_or_else(bad)?;
        let id = it.next().filter(|i| !i.is_empty()).ok_or_else(bad)?;
        let value = if hex == "-" {
            None
        } else {
            if hex.len() % 2 != 0 || !hex.is_ascii() {
                return Err(bad());
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| bad())?;
            Some(bytes)
        };
        Ok(Cursor {
            value,
            ts,
            id: id.to_string(),
        })
    }
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
    /// Hits to skip (after `after`, when set).
    pub offset: usize,
    /// Time order (used when `sort` is not set).
    pub order: Order,
    /// Sort by a field instead of by time.
    pub sort: Option<Sort>,
    /// Start after this hit (`search_after`): the cursor of the previous
    /// page's last hit, made with the same filter and sort.
    pub after: Option<Cursor>,
}

impl SearchRequest {
    /// A request for the first `limit` hits, newest first.
    pub fn newest(tenants: Vec<String>, filter: Filter, range: TimeRange, limit: usize) -> Self {
        SearchRequest {
            tenants,
            filter,
            range,
            limit,
            offset: 0,
            order: Order::NewestFirst,
            sort: None,
            after: None,
        }
    }
}

/// One hit.
#[derive(Debug, Clone)]
pub struct SearchHit {
    /// The stored event.
    pub event: Event,
    /// Its sort key, for the next page.
    pub cursor: Cursor,
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
    /// Facets the engine computes from its index, when that is cheaper than
    /// loading the sample; [`crate::facets::facets`] asks here first (`None`:
    /// load the sample and count).
    fn indexed_facets(&self, _req: &FacetRequest) -> Result<Option<Facets>, StoreError> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_specs() {
        assert_eq!(
            Sort::parse("source.ip:desc").unwrap(),
            Sort {
                field: "source.ip".into(),
                descending: true
            }
        );
        assert!(!Sort::parse("user.name").unwrap().descending);
        assert!(!Sort::parse("a:ASC").unwrap().descending);
        assert!(Sort::parse("").is_err() && Sort::parse(":desc").is_err() && Sort::parse("a b").is_err());
    }

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        for c in [
            Cursor {
                value: None,
                ts: -5,
                id: "a.b.c".into(),
            },
            Cursor {
                value: Some(vec![0, 255, 16]),
                ts: 1_700_000_000_000_000,
                id: "x".into(),
            },
        ] {
            assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        }
        for bad in ["", "1", "1.-", "1.-.", "x.-.id", "1.abc.id", "1.zz.id"] {
            assert!(
                matches!(Cursor::decode(bad), Err(StoreError::BadCursor(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn tenant_names() {
        assert!(validate_tenant("acme").is_ok());
        assert!(validate_tenant("acme-2_x").is_ok());
        for bad in ["", "Acme", "../x", "a/b", "-a", &"x".repeat(65)] {
            assert!(validate_tenant(bad).is_err(), "{bad}");
        }
    }
}
