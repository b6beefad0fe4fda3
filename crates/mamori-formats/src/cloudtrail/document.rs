//! Splitting a CloudTrail document into records without parsing it whole:
//! a bad record, a missing comma or a cut-off file costs only what is broken.

use std::ops::Range;

use crate::record::{BadRecord, Diagnostic, Item, Location, ParseContext};
use crate::scan::{LineIndex, Members, ScanError, skip_ws, value_end};

/// A part of a document, in input order.
pub(super) enum Piece {
    /// An element of a `Records` array (or of a top-level array): a record.
    Record {
        start: usize,
        end: usize,
        location: Location,
    },
    /// A top-level object without `Records`: a single record, an EventBridge
    /// envelope or a digest.
    Object {
        start: usize,
        end: usize,
        location: Location,
    },
    /// A structural problem, already reported.
    Item(Item),
}

/// Split `doc` (whose first byte is at the start of line `line`, byte
/// `offset` of the input) into pieces. `complete` is false when reading
/// stopped early on an error: a cut-off end is then not reported again.
pub(super) fn split(doc: &[u8], line: u64, offset: u64, complete: bool, ctx: &ParseContext) -> Vec<Piece> {
    let mut s = Splitter {
        doc,
        index: LineIndex::new(doc, line, offset),
        complete,
        ctx,
        out: Vec::new(),
    };
    s.top_level();
    s.out
}

struct Splitter<'a> {
    doc: &'a [u8],
    index: LineIndex<'a>,
    complete: bool,
    ctx: &'a ParseContext,
    out: Vec<Piece>,
}

impl Splitter<'_> {
    fn top_level(&mut self) {
        let mut i = 0;
        loop {
            i = skip_ws(self.doc, i);
            let next = match self.doc.get(i) {
                None => return,
                Some(b'{') => self.object(i),
                Some(b'[') => self.array(i),
                Some(_) => {
                    let reason = format!("expected a JSON object or array, found {}", describe(self.doc, i));
                    self.bad(i, reason, i..line_end(self.doc, i));
                    None
                }
            };
            match next {
                Some(end) => i = end,
                None => return,
            }
        }
    }

    /// The object at `start`; returns its end, or `None` when nothing after
    /// it can be trusted.
    fn object(&mut self, start: usize) -> Option<usize> {
        let mut members = Members::new(self.doc, start);
        let mut found = false;
        loop {
            match members.next_member() {
                Ok(Some((b"Records", value))) if !found => {
                    found = true;
                    if self.doc.get(value) == Some(&b'[') {
                        members.value_ended(self.array(value)?);
                    } else {
                        let reason =
                            format!("`Records` must be an array, found {}", describe(self.doc, value));
                        self.bad(value, reason, value..line_end(self.doc, value));
                        if members.skip_value(value).is_err() {
                            return None;
                        }
                    }
                }
                Ok(Some((_, value))) => {
                    if let Err(e) = members.skip_value(value) {
                        return self.object_broken(start, found, e);
                    }
                }
                Ok(None) if found => return Some(members.end()),
                Ok(None) => {
                    let end = members.end();
                    let location = self.location(start);
                    self.out.push(Piece::Object { start, end, location });
                    return Some(end);
                }
                Err(e) => return self.object_broken(start, found, e),
            }
        }
    }

    fn object_broken(&mut self, start: usize, found: bool, e: ScanError) -> Option<usize> {
        match (e, found) {
            (ScanError::Eof, _) => {
                if self.complete {
                    let (line, col, _) = self.index.at(start);
                    let (at, rest) = if found {
                        (self.doc.len(), " after its Records array")
                    } else {
                        (start, "")
                    };
                    let reason = format!(
                        "truncated: the object opened at line {line} column {col} is not closed{rest}"
                    );
                    self.bad(at, reason, at..self.doc.len());
                }
                None
            }
            (ScanError::Unexpected(at), true) => {
                let reason = format!(
                    "after the Records array: expected `,` or `}}`, found {}",
                    describe(self.doc, at)
                );
                self.bad(at, reason, at..line_end(self.doc, at));
                None
            }
            (ScanError::Unexpected(_), false) => {
                // Malformed, but maybe still delimited: let the JSON parser say what is wrong.
                match value_end(self.doc, start) {
                    Ok(end) => {
                        let location = self.location(start);
                        self.out.push(Piece::Object { start, end, location });
                        Some(end)
                    }
                    Err(e) => self.object_broken(start, false, e),
                }
            }
        }
    }

    /// The elements of the array at `open`; returns its end, or `None` when
    /// nothing after it can be trusted.
    fn array(&mut self, open: usize) -> Option<usize> {
        let mut i = skip_ws(self.doc, open + 1);
        if self.doc.get(i) == Some(&b']') {
            return Some(i + 1);
        }
        loop {
            let end = match value_end(self.doc, i) {
                Ok(end) => end,
                Err(ScanError::Eof) => {
                    if self.complete {
                        let (line, col, _) = self.index.at(open);
                        let reason = format!(
                            "truncated: this record is cut off (the array opened at line {line} column {col} is not closed)"
                        );
                        self.bad(i, reason, i..self.doc.len());
                    }
                    return None;
                }
                Err(ScanError::Unexpected(at)) => {
                    let reason = format!("expected a record, found {}", describe(self.doc, at));
                    self.bad(at, reason, at..line_end(self.doc, at));
                    return None;
                }
            };
            let location = self.location(i);
            self.out.push(Piece::Record {
                start: i,
                end,
                location,
            });
            i = skip_ws(self.doc, end);
            match self.doc.get(i) {
                Some(b',') => {
                    i = skip_ws(self.doc, i + 1);
                    if self.doc.get(i) == Some(&b']') {
                        self.warn(i, "trailing `,` before `]` ignored".into());
                        return Some(i + 1);
                    }
                }
                Some(b']') => return Some(i + 1),
                Some(b'{' | b'[') => {
                    let (line, _, _) = self.index.at(i);
                    let (prev, _, _) = self.index.at(end.saturating_sub(1));
                    let message = format!(
                        "missing `,` between the record ending on line {prev} and the record starting on line {line}; both kept"
                    );
                    self.warn(i, message);
                }
                None => {
                    if self.complete {
                        let (line, col, _) = self.index.at(open);
                        let reason =
                            format!("truncated: the array opened at line {line} column {col} is not closed");
                        self.bad(i, reason, i..line_end(self.doc, i));
                    }
                    return None;
                }
                Some(_) => {
                    let reason = format!(
                        "expected `,` or `]` after a record, found {}",
                        describe(self.doc, i)
                    );
                    self.bad(i, reason, i..line_end(self.doc, i));
                    return None;
                }
            }
        }
    }

    fn location(&mut self, i: usize) -> Location {
        let (line, col, off) = self.index.at(i);
        self.ctx.location(Some(line), Some(col), Some(off))
    }

    /// A bad record at `at` keeping the bytes in `raw`.
    fn bad(&mut self, at: usize, reason: String, raw: Range<usize>) {
        let location = self.location(at);
        let raw = self.doc.get(raw).unwrap_or_default();
        self.out
            .push(Piece::Item(Item::Bad(BadRecord::new(location, reason, raw))));
    }

    fn warn(&mut self, at: usize, message: String) {
        let location = self.location(at);
        self.out
            .push(Piece::Item(Item::Warning(Diagnostic { location, message })));
    }
}

/// The end of the line holding index `from`.
fn line_end(doc: &[u8], from: usize) -> usize {
    let rest = doc.get(from..).unwrap_or_default();
    from + rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len())
}

/// `` `x` `` for the byte at `i`, or "the end of the input".
fn describe(doc: &[u8], i: usize) -> String {
    match doc.get(i) {
        None => "the end of the input".into(),
        Some(&c) if c.is_ascii_graphic() => format!("`{}`", c as char),
        Some(&c) => format!("byte 0x{c:02x}"),
    }
}
