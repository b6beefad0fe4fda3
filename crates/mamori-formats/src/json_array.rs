//! Reading JSON documents whose records sit in an array (CloudTrail's
//! `Records`, a findings array) without parsing them whole: the array is
//! split element by element with the bracket scanner, so a bad element, a
//! missing comma or a cut-off file costs only what is broken.

use std::collections::VecDeque;
use std::io::BufRead;
use std::ops::Range;

use crate::json;
use crate::lines::{LineReader, ReadFailure};
use crate::record::{BadRecord, Diagnostic, Item, Location, ParseContext};
use crate::scan::{LineIndex, Members, ScanError, skip_ws, value_end};

/// The largest document (or line) read into memory: 1 GiB.
const MAX_DOCUMENT: u64 = 1 << 30;

/// What differs between the formats read here.
pub(crate) struct Layout {
    /// The word for an element in messages: "record", "finding".
    pub(crate) element: &'static str,
    /// The name of the array in messages: "Records", "findings".
    pub(crate) array: &'static str,
    /// The keys of an object member holding the array.
    pub(crate) keys: &'static [&'static [u8]],
    /// Whether such a member that is not an array is an error (else it is
    /// an ordinary member).
    pub(crate) strict: bool,
}

/// A part of a document, in input order.
pub(crate) enum Piece {
    /// An element of an array (the container's or a top-level one).
    Element { range: Range<usize>, location: Location },
    /// A top-level object without the container member.
    Object { range: Range<usize>, location: Location },
    /// A structural problem, already reported.
    Item(Item),
}

enum Mode {
    /// Nothing read yet.
    Start,
    /// One document per line.
    Lines,
    /// The whole input is one document (pretty-printed, or not line-shaped).
    Document,
    /// All read.
    Done,
}

/// The pieces of a stream of documents, one line (NDJSON) or the whole
/// input at a time.
pub(crate) struct Pieces {
    lines: LineReader,
    ctx: ParseContext,
    layout: &'static Layout,
    mode: Mode,
    /// The document the pieces point into.
    doc: Vec<u8>,
    pieces: VecDeque<Piece>,
    /// A read error, reported after the pieces read before it.
    trailer: Option<Item>,
}

impl Pieces {
    /// Read `input` as documents of `layout`.
    pub(crate) fn new(input: Box<dyn BufRead + Send>, ctx: &ParseContext, layout: &'static Layout) -> Self {
        Pieces {
            lines: LineReader::new(input, MAX_DOCUMENT as usize),
            ctx: ctx.clone(),
            layout,
            mode: Mode::Start,
            doc: Vec::new(),
            pieces: VecDeque::new(),
            trailer: None,
        }
    }

    /// The next piece, pointing into [`Pieces::doc`]; `None` at the end.
    pub(crate) fn next_piece(&mut self) -> Option<Piece> {
        loop {
            if let Some(piece) = self.pieces.pop_front() {
                return Some(piece);
            }
            match self.mode {
                Mode::Start => self.start(),
                Mode::Lines => self.next_line(),
                Mode::Document => self.mode = Mode::Done,
                Mode::Done => return self.trailer.take().map(Piece::Item),
            }
        }
    }

    /// The document the last piece points into.
    pub(crate) fn doc(&self) -> &[u8] {
        &self.doc
    }

    /// The context the pieces are read in.
    pub(crate) fn ctx(&self) -> &ParseContext {
        &self.ctx
    }

    /// Read the first non-blank line and choose between line and document
    /// mode: a line that starts with `{` and ends with `}` is taken as NDJSON.
    fn start(&mut self) {
        let line = loop {
            match self.lines.next_line() {
                None => return self.mode = Mode::Done,
                Some(Err(failure)) => return self.fail(failure),
                Some(Ok(line)) if line.is_blank() => continue,
                Some(Ok(line)) => break line,
            }
        };
        let content = line.content().trim_ascii();
        if !line.too_long && content.starts_with(b"{") && content.ends_with(b"}") {
            self.mode = Mode::Lines;
            self.load(line.raw, line.number, line.offset, true);
            return;
        }
        let mut doc = line.raw;
        let mut complete = match self.lines.read_rest(&mut doc, MAX_DOCUMENT) {
            Ok(()) => true,
            Err(failure) => {
                self.fail(failure);
                false
            }
        };
        if complete && doc.len() as u64 >= MAX_DOCUMENT {
            complete = false;
            let location = self.ctx.location(Some(line.number), None, Some(line.offset));
            let reason = format!("document larger than {MAX_DOCUMENT} bytes; only its start was read");
            self.trailer = Some(Item::Bad(BadRecord::new(location, reason, &[])));
        }
        self.mode = Mode::Document;
        self.load(doc, line.number, line.offset, complete);
    }

    fn next_line(&mut self) {
        match self.lines.next_line() {
            None => self.mode = Mode::Done,
            Some(Err(failure)) => self.fail(failure),
            Some(Ok(line)) if line.is_blank() => {}
            Some(Ok(line)) if line.too_long => {
                let location = self.ctx.location(Some(line.number), Some(1), Some(line.offset));
                let reason = format!("line longer than {MAX_DOCUMENT} bytes");
                let bad = BadRecord::new(location, reason, &line.raw);
                self.pieces.push_back(Piece::Item(Item::Bad(bad)));
            }
            Some(Ok(line)) => self.load(line.raw, line.number, line.offset, true),
        }
    }

    fn load(&mut self, doc: Vec<u8>, line: u64, offset: u64, complete: bool) {
        self.pieces = split(&doc, line, offset, complete, &self.ctx, self.layout).into();
        self.doc = doc;
    }

    fn fail(&mut self, failure: ReadFailure) {
        self.trailer = Some(failure.into_item(&self.ctx));
        self.mode = Mode::Done;
    }
}

/// The reason for JSON that serde rejects, parsed from `location`.
pub(crate) fn invalid_json(e: &serde_json::Error, location: &Location) -> String {
    let at = json::position(e, location.line.unwrap_or(1), location.column.unwrap_or(1));
    match at {
        Some((line, column)) => format!(
            "invalid JSON: {} at line {line} column {column}",
            json::message(e)
        ),
        None => format!("invalid JSON: {}", json::message(e)),
    }
}

/// Split `doc` (whose first byte is at the start of line `line`, byte
/// `offset` of the input) into pieces. `complete` is false when reading
/// stopped early on an error: a cut-off end is then not reported again.
fn split(
    doc: &[u8],
    line: u64,
    offset: u64,
    complete: bool,
    ctx: &ParseContext,
    layout: &Layout,
) -> Vec<Piece> {
    let mut s = Splitter {
        doc,
        index: LineIndex::new(doc, line, offset),
        complete,
        ctx,
        layout,
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
    layout: &'a Layout,
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

    /// The object at `start`: its array's elements, or itself. Returns its
    /// end, or `None` when nothing after it can be trusted.
    fn object(&mut self, start: usize) -> Option<usize> {
        let mut members = Members::new(self.doc, start);
        let mut found = false;
        loop {
            match members.next_member() {
                Ok(Some((key, value))) if !found && self.layout.keys.contains(&key) => {
                    if self.doc.get(value) == Some(&b'[') {
                        found = true;
                        members.value_ended(self.array(value)?);
                    } else if self.layout.strict {
                        found = true;
                        let reason = format!(
                            "`{}` must be an array, found {}",
                            self.layout.array,
                            describe(self.doc, value)
                        );
                        self.bad(value, reason, value..line_end(self.doc, value));
                        if members.skip_value(value).is_err() {
                            return None;
                        }
                    } else if let Err(e) = members.skip_value(value) {
                        return self.object_broken(start, found, e);
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
                    self.push(start..end, false);
                    return Some(end);
                }
                Err(e) => return self.object_broken(start, found, e),
            }
        }
    }

    fn object_broken(&mut self, start: usize, found: bool, e: ScanError) -> Option<usize> {
        let array = self.layout.array;
        match (e, found) {
            (ScanError::Eof, _) => {
                if self.complete {
                    let (line, col, _) = self.index.at(start);
                    let (at, rest) = if found {
                        (self.doc.len(), format!(" after its {array} array"))
                    } else {
                        (start, String::new())
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
                    "after the {array} array: expected `,` or `}}`, found {}",
                    describe(self.doc, at)
                );
                self.bad(at, reason, at..line_end(self.doc, at));
                None
            }
            (ScanError::Unexpected(_), false) => match value_end(self.doc, start) {
                // Malformed but delimited: the JSON parser says what is wrong.
                Ok(end) => {
                    self.push(start..end, false);
                    Some(end)
                }
                Err(e) => self.object_broken(start, false, e),
            },
        }
    }

    /// The elements of the array at `open`; returns its end, or `None` when
    /// nothing after it can be trusted.
    fn array(&mut self, open: usize) -> Option<usize> {
        let element = self.layout.element;
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
                            "truncated: this {element} is cut off (the array opened at line {line} column {col} is not closed)"
                        );
                        self.bad(i, reason, i..self.doc.len());
                    }
                    return None;
                }
                Err(ScanError::Unexpected(at)) => {
                    let reason = format!("expected a {element}, found {}", describe(self.doc, at));
                    self.bad(at, reason, at..line_end(self.doc, at));
                    return None;
                }
            };
            self.push(i..end, true);
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
                        "missing `,` between the {element} ending on line {prev} and the {element} starting on line {line}; both kept"
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
                        "expected `,` or `]` after a {element}, found {}",
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

    /// An element (or, if not `element`, a top-level object) at `range`.
    fn push(&mut self, range: Range<usize>, element: bool) {
        let location = self.location(range.start);
        self.out.push(if element {
            Piece::Element { range, location }
        } else {
            Piece::Object { range, location }
        });
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
