//! Why a rule or a mapping could not be loaded.

use std::fmt;

/// The family of a [`RuleError`], used to count unsupported rules by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorKind {
    /// The file is not valid YAML, or not a YAML mapping.
    Yaml,
    /// A required key is missing or has the wrong shape.
    Structure,
    /// A value modifier is unknown or used in a way the spec does not allow.
    Modifier,
    /// A value cannot be used with its modifiers (a bad CIDR, a non-number for `gt`, …).
    Value,
    /// A `re` pattern uses syntax the regex engine lacks (look-around, back-references).
    Regex,
    /// An `expand` placeholder has no value in the placeholder map.
    Placeholder,
    /// The condition cannot be parsed or names an unknown selection.
    Condition,
    /// A feature of the Sigma specification Mamori does not implement.
    Unimplemented,
    /// A correlation rule is malformed, refers to unknown rules or to itself through others.
    Correlation,
    /// A Sigma filter (meta filter) is malformed or cannot be applied to a rule it names.
    Filter,
}

impl ErrorKind {
    /// A short label for reports (`regex`, `placeholder`, …).
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Yaml => "yaml",
            ErrorKind::Structure => "structure",
            ErrorKind::Modifier => "modifier",
            ErrorKind::Value => "value",
            ErrorKind::Regex => "regex",
            ErrorKind::Placeholder => "placeholder",
            ErrorKind::Condition => "condition",
            ErrorKind::Unimplemented => "unimplemented",
            ErrorKind::Correlation => "correlation",
            ErrorKind::Filter => "filter",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A rule that cannot be compiled, with a precise reason. Such a rule is
/// never half-loaded: it is left out whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {detail}")]
pub struct RuleError {
    /// The family of the problem.
    pub kind: ErrorKind,
    /// What exactly is wrong, naming the selection, field or modifier.
    pub detail: String,
}

impl RuleError {
    /// A new error of `kind`.
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        RuleError {
            kind,
            detail: detail.into(),
        }
    }

    /// The same error, its detail prefixed with where it happened.
    pub fn at(mut self, place: &str) -> Self {
        self.detail = format!("{place}: {}", self.detail);
        self
    }
}

/// A mapping file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// Reading the file failed.
    #[error("cannot read mapping {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The YAML does not describe a mapping.
    #[error("mapping {path}: {reason}")]
    Invalid {
        /// The file (or `builtin:<name>`).
        path: String,
        /// What is wrong.
        reason: String,
    },
}
