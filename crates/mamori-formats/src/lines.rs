//! A streaming line reader that knows each line's number and byte offset.

use std::io::{self, BufRead, Read};

use crate::record::{BadRecord, Item, ParseContext};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One line of input.
pub(crate) struct Line {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of the line's first byte (after a leading BOM on line 1).
    pub offset: u64,
    /// The bytes, line ending included.
    pub raw: Vec<u8>,
    /// The line was longer than the reader's limit; `raw` holds its start.
    pub too_long: bool,
}

impl Line {
    /// The line without its `\n` or `\r\n`.
    pub fn content(&self) -> &[u8] {
        let s = self.raw.strip_suffix(b"\n").unwrap_or(&self.raw);
        s.strip_suffix(b"\r").unwrap_or(s)
    }

    /// True when the line holds only whitespace.
    pub fn is_blank(&self) -> bool {
        self.raw.iter().all(u8::is_ascii_whitespace)
    }
}

/// Reading stopped on an I/O error.
pub(crate) struct ReadFailure {
    /// The line being read.
    pub line: u64,
    /// Bytes of (decompressed) input read before the error.
    pub offset: u64,
    /// What had been read of the line.
    pub partial: Vec<u8>,
    /// The error.
    pub error: io::Error,
}

impl ReadFailure {
    /// The failure as a bad record: `read error: …` at the place reached.
    pub fn into_item(self, ctx: &ParseContext) -> Item {
        Item::Bad(BadRecord::new(
            ctx.location(Some(self.line), None, Some(self.offset)),
            format!("read error: {}", describe(&self.error)),
            &self.partial,
        ))
    }
}

/// An I/O error for people: a cut-off input says so whatever layer noticed it.
fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    if e.kind() == io::ErrorKind::UnexpectedEof && !text.contains("unexpected end of file") {
        format!("unexpected end of file ({text})")
    } else {
        text
    }
}

/// Lines of a stream, with positions. After an error it yields nothing more.
pub(crate) struct LineReader {
    inner: Box<dyn BufRead + Send>,
    max_line: usize,
    line: u64,
    offset: u64,
    finished: bool,
    /// The length of the last line read.
    last_len: usize,
}

/// The most bytes a new line's buffer is sized for in advance.
const LINE_CAPACITY: usize = 64 * 1024;

/// Append bytes of `inner` to `buf` up to and including the next `\n`, at
/// most `limit` of them: `(&mut inner).take(limit).read_until(b'\n', buf)`,
/// searching with memchr. On an error, `buf` keeps what was read.
fn read_until_newline(inner: &mut dyn BufRead, limit: usize, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut left = limit;
    while left > 0 {
        let available = match inner.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(());
        }
        let window = &available[..available.len().min(left)];
        match memchr::memchr(b'\n', window) {
            Some(i) => {
                buf.extend_from_slice(&window[..=i]);
                inner.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = window.len();
                buf.extend_from_slice(window);
                inner.consume(n);
                left -= n;
            }
        }
    }
    Ok(())
}

impl LineReader {
    /// Read `inner`, cutting lines longer than `max_line` bytes.
    pub fn new(inner: Box<dyn BufRead + Send>, max_line: usize) -> Self {
        LineReader {
            inner,
            max_line,
            line: 0,
            offset: 0,
            finished: false,
            last_len: 0,
        }
    }

    /// The next line, `None` at the end.
    pub fn next_line(&mut self) -> Option<Result<Line, ReadFailure>> {
        // Sized like the line before, so that most lines take one allocation.
        let mut line = Line {
            number: 0,
            offset: 0,
            raw: Vec::with_capacity(self.last_len.saturating_add(64).min(LINE_CAPACITY)),
            too_long: false,
        };
        match self.read_line(&mut line)? {
            Ok(()) => Some(Ok(line)),
            Err(failure) => Some(Err(failure)),
        }
    }

    /// The next line into `line` (its buffer reused), `None` at the end.
    pub fn read_line(&mut self, line: &mut Line) -> Option<Result<(), ReadFailure>> {
        if self.finished {
            return None;
        }
        let raw = &mut line.raw;
        raw.clear();
        let number = self.line + 1;
        let limit = self.max_line;
        if let Err(error) = read_until_newline(&mut *self.inner, limit, raw) {
            let partial = std::mem::take(raw);
            return Some(Err(self.fail(number, partial, error)));
        }
        if raw.is_empty() {
            self.finished = true;
            return None;
        }
        let mut offset = self.offset;
        self.offset += raw.len() as u64;
        self.line = number;
        self.last_len = raw.len();
        if number == 1 && raw.starts_with(BOM) {
            raw.drain(..BOM.len());
            offset += BOM.len() as u64;
        }
        let too_long = raw.len() >= limit && !raw.ends_with(b"\n");
        if too_long && let Err(error) = self.skip_rest_of_line() {
            return Some(Err(self.fail(number, Vec::new(), error)));
        }
        line.number = number;
        line.offset = offset;
        line.too_long = too_long;
        Some(Ok(()))
    }

    /// Everything left, appended to `buf`. On error, `buf` keeps what was read.
    pub fn read_rest(&mut self, buf: &mut Vec<u8>, limit: u64) -> Result<(), ReadFailure> {
        if self.finished {
            return Ok(());
        }
        let before = buf.len();
        let result = (&mut self.inner).take(limit).read_to_end(buf);
        let added = &buf[before..];
        let newlines = added.iter().filter(|&&b| b == b'\n').count() as u64;
        let line = self.line + 1 + newlines;
        let partial_start = added.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let partial = added[partial_start..].to_vec();
        self.offset += added.len() as u64;
        self.line += newlines;
        self.finished = true;
        result.map(drop).map_err(|error| ReadFailure {
            line,
            offset: self.offset,
            partial,
            error,
        })
    }

    fn skip_rest_of_line(&mut self) -> io::Result<()> {
        loop {
            let buf = self.inner.fill_buf()?;
            if buf.is_empty() {
                return Ok(());
            }
            let (n, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            self.inner.consume(n);
            self.offset += n as u64;
            if done {
                return Ok(());
            }
        }
    }

    fn fail(&mut self, line: u64, partial: Vec<u8>, error: io::Error) -> ReadFailure {
        self.finished = true;
        self.offset += partial.len() as u64;
        ReadFailure {
            line,
            offset: self.offset,
            partial,
            error,
        }
    }
}

/// Turns lines into items. `None` means the line yields nothing (blank,
/// comment, header).
pub(crate) trait LineParser: Send {
    /// The item for `line`, if any.
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item>;

    /// An item held back from the previous line (a line may give two).
    fn pending(&mut self) -> Option<Item> {
        None
    }
}

/// Items of a stream read line by line with a [`LineParser`]; a read error
/// ends them with a bad record at the place reached.
pub(crate) struct LineItems<P> {
    lines: LineReader,
    parser: P,
    ctx: ParseContext,
    /// The line being handed to the parser, its buffer reused.
    line: Line,
}

impl<P: LineParser + 'static> LineItems<P> {
    /// The items of `input` (lines cut at `max_line` bytes) as `parser` reads them, boxed.
    pub fn boxed(
        input: Box<dyn BufRead + Send>,
        max_line: usize,
        parser: P,
        ctx: &ParseContext,
    ) -> Box<dyn Iterator<Item = Item> + Send> {
        Box::new(LineItems {
            lines: LineReader::new(input, max_line),
            parser,
            ctx: ctx.clone(),
            line: Line {
                number: 0,
                offset: 0,
                raw: Vec::new(),
                too_long: false,
            },
        })
    }
}

impl<P: LineParser> Iterator for LineItems<P> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if let Some(item) = self.parser.pending() {
            return Some(item);
        }
        loop {
            match self.lines.read_line(&mut self.line)? {
                Err(failure) => return Some(failure.into_item(&self.ctx)),
                Ok(()) => {
                    if let Some(item) = self.parser.line(&self.line, &self.ctx) {
                        return Some(item);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(data: &[u8], max: usize) -> LineReader {
        LineReader::new(Box::new(Cursor::new(data.to_vec())), max)
    }

    #[test]
    fn numbers_offsets_and_crlf() {
        let mut r = reader(b"\xEF\xBB\xBFab\r\n\ncd", 100);
        let l = r.next_line().unwrap().ok().unwrap();
        assert_eq!((l.number, l.offset, l.content()), (1, 3, &b"ab"[..]));
        let l = r.next_line().unwrap().ok().unwrap();
        assert_eq!((l.number, l.offset), (2, 7));
        assert!(l.is_blank());
        let l = r.next_line().unwrap().ok().unwrap();
        assert_eq!((l.number, l.offset, l.content()), (3, 8, &b"cd"[..]));
        assert!(r.next_line().is_none());
    }

    #[test]
    fn long_lines_are_cut() {
        let mut r = reader(b"abcdefgh\nxy\n", 4);
        let l = r.next_line().unwrap().ok().unwrap();
        assert!(l.too_long);
        assert_eq!(l.raw, b"abcd");
        let l = r.next_line().unwrap().ok().unwrap();
        assert_eq!(
            (l.number, l.offset, l.content(), l.too_long),
            (2, 9, &b"xy"[..], false)
        );
    }

    #[test]
    fn read_rest_counts_lines() {
        let mut r = reader(b"a\nb\nc", 100);
        let first = r.next_line().unwrap().ok().unwrap();
        let mut buf = first.raw;
        assert!(r.read_rest(&mut buf, u64::MAX).is_ok());
        assert_eq!(buf, b"a\nb\nc");
        assert!(r.next_line().is_none());
    }
}
