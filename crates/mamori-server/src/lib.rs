//! Mamori's server side. For now: the state database, the one place where
//! configuration lives (tenants, context lists, saved searches) together with
//! the audit log of every change. The REST API, ingest endpoints, users and
//! the scheduler join here (see ARCHITECTURE.md).

pub mod state;

pub use state::{Actor, AuditEntry, ContextList, SavedSearch, StateDb, StateError};
