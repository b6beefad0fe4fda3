//! Errors of opening and naming inputs. Problems inside an input are not
//! errors: they are [`crate::Item::Bad`] records.

use std::io;
use std::path::PathBuf;

/// Why an input cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The file cannot be opened.
    #[error("cannot open {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// No format recognises the file.
    #[error("no format recognises {}: {reason}", path.display())]
    Unrecognised {
        /// The file.
        path: PathBuf,
        /// What was seen.
        reason: String,
    },
    /// A format name that does not exist.
    #[error("unknown format {name:?}; valid formats: {valid}")]
    UnknownFormat {
        /// The name given.
        name: String,
        /// The valid names, comma-separated.
        valid: String,
    },
}
