//! The streaming loop shared by the one-record-per-line formats (syslog,
//! CEF, LEEF, key=value): blank lines are skipped; a line that is too long
//! or not UTF-8 is a bad record; every other line goes to the format's line
//! function, whose bad records get the line number and byte offset.

use std::io::BufRead;

use mamori_model::Event;

use crate::lines::{Line, LineItems, LineParser};
use crate::record::{BadRecord, Diagnostic, Item, ParseContext};

/// The longest line read: 8 MiB. Longer lines are bad records.
pub(crate) const MAX_LINE: usize = 8 << 20;

/// What a line function made of one line.
pub(crate) enum Outcome {
    /// An event.
    Event(Box<Event>),
    /// An event, and a recovered problem worth a warning.
    Warned(Box<Event>, String),
    /// Not a record: `column` (1-based, bytes) and why.
    Bad {
        /// Where in the line the problem is, when known.
        column: Option<u64>,
        /// What was expected.
        reason: String,
    },
}

impl Outcome {
    pub fn bad(column: Option<usize>, reason: impl Into<String>) -> Self {
        Outcome::Bad {
            column: column.map(|c| c as u64 + 1),
            reason: reason.into(),
        }
    }
}

/// A line function: the line's text (without its line ending) → outcome.
pub(crate) type LineFn = fn(&str, &ParseContext) -> Outcome;

/// Parse `input` line by line with `f`.
pub(crate) fn parse_lines(
    input: Box<dyn BufRead + Send>,
    ctx: &ParseContext,
    f: LineFn,
) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, MAX_LINE, Lines { f, pending: None }, ctx)
}

struct Lines {
    f: LineFn,
    pending: Option<Item>,
}

impl LineParser for Lines {
    fn pending(&mut self) -> Option<Item> {
        self.pending.take()
    }

    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        if line.is_blank() {
            return None;
        }
        let content = line.content();
        let location = |column: Option<u64>| ctx.location(Some(line.number), column, Some(line.offset));
        let bad = |column: Option<u64>, reason: String| {
            Some(Item::Bad(BadRecord::new(location(column), reason, content)))
        };
        if line.too_long {
            return bad(None, format!("line longer than {MAX_LINE} bytes"));
        }
        let text = match std::str::from_utf8(content) {
            Ok(text) => text,
            Err(e) => {
                return bad(
                    Some(e.valid_up_to() as u64 + 1),
                    format!("line is not valid UTF-8: {e}"),
                );
            }
        };
        match (self.f)(text, ctx) {
            Outcome::Event(ev) => Some(Item::Event(ev)),
            Outcome::Warned(ev, message) => {
                self.pending = Some(Item::Warning(Diagnostic {
                    location: location(None),
                    message,
                }));
                Some(Item::Event(ev))
            }
            Outcome::Bad { column, reason } => bad(column, reason),
        }
    }
}
