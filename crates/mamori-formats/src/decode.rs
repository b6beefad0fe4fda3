//! Opening inputs: gzip is recognised by its magic bytes and decompressed
//! transparently (concatenated members included); anything else is read as is.
//!
//! To sniff a stream that is not a file (stdin, an HTTP body), compose
//! [`decode`], [`peek`] and [`crate::sniff::sniff`].

use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::FormatError;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BUFFER: usize = 256 * 1024;

/// Open `path` for reading, decompressing it if it is gzip.
pub fn open(path: &Path) -> Result<Box<dyn BufRead + Send>, FormatError> {
    let file = File::open(path).map_err(|source| FormatError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    decode(Box::new(file)).map_err(|source| FormatError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Wrap `reader` so that gzip input comes out decompressed.
pub fn decode(mut reader: Box<dyn Read + Send>) -> io::Result<Box<dyn BufRead + Send>> {
    let mut magic = Vec::with_capacity(GZIP_MAGIC.len());
    (&mut reader)
        .take(GZIP_MAGIC.len() as u64)
        .read_to_end(&mut magic)?;
    let gzip = magic == GZIP_MAGIC;
    let replay = Cursor::new(magic).chain(reader);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(BUFFER, MultiGzDecoder::new(replay)))
    } else {
        Box::new(BufReader::with_capacity(BUFFER, replay))
    })
}

/// The first bytes of a stream, and the stream itself from its start.
pub struct Peek {
    /// Up to the requested number of bytes; fewer at the end of the input or
    /// when reading failed.
    pub head: Vec<u8>,
    /// The read error met while taking the head, if any.
    pub error: Option<String>,
    /// The whole stream from byte 0. A read error met while taking the head
    /// is returned again once the head has been read.
    pub reader: Box<dyn BufRead + Send>,
}

/// Read up to `max` bytes of `reader` without losing them.
pub fn peek(mut reader: Box<dyn BufRead + Send>, max: usize) -> Peek {
    let mut head = Vec::with_capacity(max.min(BUFFER));
    let result = (&mut reader).take(max as u64).read_to_end(&mut head);
    let (error, pending) = match result {
        Ok(_) => (None, None),
        Err(e) => (Some(e.to_string()), Some(e)),
    };
    let replay = Replay {
        head: Cursor::new(head.clone()),
        pending,
        rest: reader,
    };
    Peek {
        head,
        error,
        reader: Box::new(BufReader::with_capacity(BUFFER, replay)),
    }
}

/// The peeked head, then the deferred error (if any), then the rest.
struct Replay {
    head: Cursor<Vec<u8>>,
    pending: Option<io::Error>,
    rest: Box<dyn BufRead + Send>,
}

impl Read for Replay {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        if let Some(e) = self.pending.take() {
            // The stream is broken: report it once, then end.
            self.rest = Box::new(io::empty());
            return Err(e);
        }
        self.rest.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn read_all(r: &mut dyn BufRead) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn plain_passes_through() {
        let mut r = decode(Box::new(Cursor::new(b"hello".to_vec()))).unwrap();
        assert_eq!(read_all(&mut r).unwrap(), b"hello");
        let mut r = decode(Box::new(Cursor::new(b"h".to_vec()))).unwrap();
        assert_eq!(read_all(&mut r).unwrap(), b"h");
        let mut r = decode(Box::new(io::empty())).unwrap();
        assert_eq!(read_all(&mut r).unwrap(), b"");
    }

    #[test]
    fn gzip_members_are_concatenated() {
        let mut data = gz(b"one\n");
        data.extend(gz(b"two\n"));
        let mut r = decode(Box::new(Cursor::new(data))).unwrap();
        assert_eq!(read_all(&mut r).unwrap(), b"one\ntwo\n");
    }

    #[test]
    fn peek_replays_the_head() {
        let r = decode(Box::new(Cursor::new(b"0123456789".to_vec()))).unwrap();
        let mut p = peek(r, 4);
        assert_eq!(p.head, b"0123");
        assert!(p.error.is_none());
        assert_eq!(read_all(&mut p.reader).unwrap(), b"0123456789");
    }

    #[test]
    fn peek_defers_a_read_error() {
        let text: String = (0..5000)
            .map(|i| format!("line {i} {}\n", i * 7919 % 10007))
            .collect();
        let data = gz(text.as_bytes());
        let cut = data[..data.len() / 2].to_vec();
        let r = decode(Box::new(Cursor::new(cut))).unwrap();
        let mut p = peek(r, 1 << 20);
        assert!(p.error.is_some());
        assert!(!p.head.is_empty());
        let mut out = vec![0u8; p.head.len()];
        p.reader.read_exact(&mut out).unwrap();
        assert_eq!(out, p.head);
        assert!(p.reader.read(&mut [0u8; 16]).is_err());
    }
}
