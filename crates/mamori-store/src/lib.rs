//! Mamori's event storage: the [`EventStore`] trait, which says nothing of
//! the engine behind it, and its embedded implementation [`LocalStore`]
//! (tantivy, one partition per tenant per day).
//!
//! Filters reach a store with their context lists already expanded; the store
//! answers exactly what the in-memory evaluator ([`mamori_model::Filter`]) would:
//! whatever the engine cannot answer exactly is re-checked in memory.

pub mod aggregate;
mod codec;
pub mod facets;
pub mod local;
mod store;

pub use aggregate::{AggregateRequest, AggregateResponse, Aggregation, AggregationResult};
pub use facets::{FacetRequest, Facets, FieldFacet};
pub use local::{FacetSource, LocalStore, TenantStats};
pub use store::{
    CommitReport, Cursor, EventStore, Order, SearchHit, SearchRequest, SearchResult, Sort, StoreError,
    validate_tenant,
};
