//! Mamori's server side: the state database (tenants, users, tokens, context
//! lists, saved searches, audit), the ingest pipeline shared by every live
//! source, and `mamori serve` (REST API, `_bulk`, syslog, S3, web UI).

pub mod access;
pub mod api;
pub mod config;
pub mod dead_letter;
pub mod export;
pub mod metrics;
pub mod pipeline;
pub mod rules;
pub mod s3;
pub mod scheduler;
pub mod serve;
pub mod sources;
pub mod state;
pub mod syslog;
pub mod ui;

pub use state::{Actor, AuditEntry, ContextList, SavedSearch, StateDb, StateError};
