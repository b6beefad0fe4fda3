//! Mamori's shared vocabulary: the [`Event`] (an ECS-keyed document), the
//! [filter language](filter) every feature uses to select events, and
//! [time ranges](time). This crate does no I/O and has no async.

pub mod doc;
pub mod event;
pub mod fields;
pub mod filter;
pub mod pivot;
pub mod time;

pub use event::{Event, EventError};
pub use filter::{Filter, FilterError};
pub use time::{TimeError, TimeRange};
