//! The filter language: one syntax and one AST for every feature that selects
//! events (search bar, saved searches, Sigma rules, exclusions, …).
//!
//! ```text
//! event.action:ConsoleLogin and not source.ip:10.0.0.0/8
//! user.name:adm*   "access denied"   http.response.status_code >= 500
//! _exists_:error.code   bytes:[100 TO 200}   source.ip:@office
//! ```
//!
//! [`parse`] turns text into a [`Filter`], [`Filter::matches`] evaluates it on
//! an [`Event`](crate::Event) in memory, and `Display` prints it back in a form
//! that parses to the same AST.

mod ast;
mod eval;
mod lexer;
mod parser;
mod print;

pub use ast::{Bound, CompareOp, Filter, Pattern, RefOp, Scalar, WildPart};
pub use eval::Matcher;
pub use parser::{FilterError, parse};
