//! A small string-aware scanner over JSON bytes. It finds where values end
//! without parsing them, so that one broken record cannot hide its
//! neighbours, and it walks the top-level keys of an object.

/// Why scanning stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// The input ended inside a value.
    Eof,
    /// An unexpected byte at this index.
    Unexpected(usize),
}

/// The index of the first non-whitespace byte at or after `i`.
pub(crate) fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        i += 1;
    }
    i
}

/// The index just past the string starting at `start` (a `"`).
pub(crate) fn string_end(b: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut i = start + 1;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return Ok(i + 1),
            _ => i += 1,
        }
    }
    Err(ScanError::Eof)
}

/// The index just past the value starting at `start`.
///
/// Brackets are matched with a stack; a closing bracket of the wrong kind
/// ends the value there (the parser then reports what is wrong with it).
pub(crate) fn value_end(b: &[u8], start: usize) -> Result<usize, ScanError> {
    match b.get(start) {
        None => Err(ScanError::Eof),
        Some(b'"') => string_end(b, start),
        Some(b'{' | b'[') => container_end(b, start),
        Some(b'}' | b']' | b',' | b':') => Err(ScanError::Unexpected(start)),
        Some(_) => {
            let mut i = start;
            while let Some(c) = b.get(i) {
                if matches!(
                    c,
                    b',' | b']' | b'}' | b'{' | b'[' | b'"' | b':' | b' ' | b'\t' | b'\r' | b'\n'
                ) {
                    break;
                }
                i += 1;
            }
            Ok(i)
        }
    }
}

fn container_end(b: &[u8], start: usize) -> Result<usize, ScanError> {
    let mut stack: Vec<u8> = Vec::new();
    let mut i = start;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => {
                i = string_end(b, i)?;
                continue;
            }
            b'{' => stack.push(b'}'),
            b'[' => stack.push(b']'),
            // The guard pops: a matching closer that leaves brackets open falls through.
            b'}' | b']' if stack.pop() != Some(c) || stack.is_empty() => return Ok(i + 1),
            _ => {}
        }
        i += 1;
    }
    Err(ScanError::Eof)
}

/// The members of the object starting at an index holding `{`, one at a time.
///
/// After [`Members::next_member`] returns a value's start, the caller either
/// calls [`Members::skip_value`] or scans the value itself and reports its end
/// with [`Members::value_ended`].
pub(crate) struct Members<'a> {
    b: &'a [u8],
    pos: usize,
    first: bool,
}

impl<'a> Members<'a> {
    /// Walk the object whose `{` is at `open`.
    pub fn new(b: &'a [u8], open: usize) -> Self {
        Members {
            b,
            pos: open + 1,
            first: true,
        }
    }

    /// The next member as (raw key bytes, index where its value starts), or
    /// `None` after the closing brace (then [`Members::end`] is its end).
    pub fn next_member(&mut self) -> Result<Option<(&'a [u8], usize)>, ScanError> {
        let b = self.b;
        let mut i = skip_ws(b, self.pos);
        match b.get(i) {
            None => return Err(ScanError::Eof),
            Some(b'}') => {
                self.pos = i + 1;
                return Ok(None);
            }
            Some(b',') if !self.first => i = skip_ws(b, i + 1),
            Some(_) if !self.first => return Err(ScanError::Unexpected(i)),
            Some(_) => {}
        }
        self.first = false;
        match b.get(i) {
            None => return Err(ScanError::Eof),
            Some(b'"') => {}
            Some(_) => return Err(ScanError::Unexpected(i)),
        }
        let key_end = string_end(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        match b.get(i) {
            None => return Err(ScanError::Eof),
            Some(b':') => {}
            Some(_) => return Err(ScanError::Unexpected(i)),
        }
        i = skip_ws(b, i + 1);
        if i >= b.len() {
            return Err(ScanError::Eof);
        }
        self.pos = i;
        Ok(Some((key, i)))
    }

    /// Skip the value starting at `start`.
    pub fn skip_value(&mut self, start: usize) -> Result<(), ScanError> {
        self.pos = value_end(self.b, start)?;
        Ok(())
    }

    /// The current value ended at `end` (exclusive).
    pub fn value_ended(&mut self, end: usize) {
        self.pos = end;
    }

    /// Past the closing brace, once [`Members::next_member`] returned `None`.
    pub fn end(&self) -> usize {
        self.pos
    }
}

/// Turns indices in a buffer into lines and columns, scanning forward.
pub(crate) struct LineIndex<'a> {
    b: &'a [u8],
    base_line: u64,
    base_offset: u64,
    idx: usize,
    line: u64,
    line_start: usize,
}

impl<'a> LineIndex<'a> {
    /// Positions in `b`, whose first byte is at the start of line `base_line`
    /// and at byte `base_offset` of the input.
    pub fn new(b: &'a [u8], base_line: u64, base_offset: u64) -> Self {
        LineIndex {
            b,
            base_line,
            base_offset,
            idx: 0,
            line: 0,
            line_start: 0,
        }
    }

    /// (line, column, byte offset) of index `i`; cheapest when called with
    /// growing indices.
    pub fn at(&mut self, i: usize) -> (u64, u64, u64) {
        let i = i.min(self.b.len());
        if i < self.idx {
            self.idx = 0;
            self.line = 0;
            self.line_start = 0;
        }
        for (k, &c) in self.b[self.idx..i].iter().enumerate() {
            if c == b'\n' {
                self.line += 1;
                self.line_start = self.idx + k + 1;
            }
        }
        self.idx = i;
        (
            self.base_line + self.line,
            (i - self.line_start) as u64 + 1,
            self.base_offset + i as u64,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_end_where_they_should() {
        let b = br#"{"a": "x}\"", "b": [1, {"c": 2}]} tail"#;
        assert_eq!(value_end(b, 0), Ok(b.len() - 5));
        assert_eq!(value_end(b"123, 4", 0), Ok(3));
        assert_eq!(value_end(b"true", 0), Ok(4));
        assert_eq!(value_end(b"{\"a\": [1}", 0), Ok(9));
        assert_eq!(value_end(b"{\"a\": [1", 0), Err(ScanError::Eof));
        assert_eq!(value_end(b"\"abc", 0), Err(ScanError::Eof));
        assert_eq!(value_end(b"]", 0), Err(ScanError::Unexpected(0)));
    }

    #[test]
    fn members_walk_top_level_keys() {
        let b = br#"{ "x": {"Records": 1}, "Records" : [ 1 ] }"#;
        let mut m = Members::new(b, 0);
        let mut keys = Vec::new();
        while let Some((k, v)) = m.next_member().unwrap() {
            keys.push(String::from_utf8_lossy(k).into_owned());
            m.skip_value(v).unwrap();
        }
        assert_eq!(keys, ["x", "Records"]);
        assert_eq!(m.end(), b.len());
        let mut m = Members::new(b"{\"a\" 1}", 0);
        assert_eq!(m.next_member(), Err(ScanError::Unexpected(5)));
        let mut m = Members::new(b"{\"a\": 1", 0);
        let (_, v) = m.next_member().unwrap().unwrap();
        m.skip_value(v).unwrap();
        assert_eq!(m.next_member(), Err(ScanError::Eof));
    }

    #[test]
    fn line_index_counts_lines() {
        let b = b"ab\ncd\n\nef";
        let mut ix = LineIndex::new(b, 10, 100);
        assert_eq!(ix.at(0), (10, 1, 100));
        assert_eq!(ix.at(4), (11, 2, 104));
        assert_eq!(ix.at(7), (13, 1, 107));
        assert_eq!(ix.at(1), (10, 2, 101));
    }
}
