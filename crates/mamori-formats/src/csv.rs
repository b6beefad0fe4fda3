//! CSV with a header line (RFC 4180): each row becomes an event whose
//! fields are the columns.
//!
//! - The first record is the header. Names are trimmed; an empty name is
//!   `column_<n>` (1-based). Quoted fields may hold commas, doubled quotes
//!   (`""`) and line breaks; a record then spans several lines.
//! - A row with a different number of fields than the header is a bad
//!   record (line where the row starts, byte offset), as is a quoted field
//!   left open at the end of the input or a record longer than 16 MiB.
//!   Blank lines are skipped. Rows are read as lossy UTF-8.
//! - Sniffed conservatively: the first line has at least 3 comma-separated
//!   names that look like identifiers (a letter, `_` or `@`, then letters,
//!   digits, spaces, `_ - . @ ( )`; at most 64 bytes), and the next record
//!   has as many fields. Registered after the specific text formats and
//!   just before NDJSON.
//!
//! | CSV | ECS / Mamori |
//! |---|---|
//! | each column with a non-empty value | a field named by the header, value as text; dotted names expand (`source.ip` → `{"source":{"ip":…}}`); other names are kept as they are (`Event Type`) |
//! | the first column named like a time — `@timestamp`, `timestamp`, `time`, `eventTime`, `date`, `datetime`, `eventDateTime`, `ts` (compared lowercase, ignoring spaces, `_`, `-`, `.`) | `@timestamp`: RFC 3339; `YYYY-MM-DD HH:MM:SS[.f]` (also with `T`) without an offset = UTC, or with `+hh:mm`/`+hhmm`; a date alone; epoch seconds or milliseconds. Without one: the ingest time, tag `mamori.timestamp_missing`, `event.ingested` |
//! | the row's text as in the input | `event.original` |
//! | columns named `tenant`, `@timestamp`, `event.id`, `event.original` | not trusted: the tenant comes from the context, the id is derived from tenant and row (repeated identical rows get ids with their occurrence number) |

use std::io::BufRead;

use chrono::{DateTime, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Value, json};

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::lines::LineReader;
use crate::netlog::{self, Ids};
use crate::record::{BadRecord, Item, ParseContext};

/// The longest record read: 16 MiB.
const MAX_RECORD: usize = 16 << 20;

/// Normalized column names that hold the event time, in no particular order:
/// the first column (left to right) whose name is one of them is used.
const TIME_COLUMNS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "eventtime",
    "date",
    "datetime",
    "eventdatetime",
    "eventtimestamp",
    "ts",
];

/// True when `head` starts with a CSV header of identifier-like names
/// followed by a record with as many fields (see the module documentation).
pub fn sniff(head: &[u8]) -> bool {
    let whole = head.len() < crate::sniff::HEAD_LEN;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut records = records_in(head, whole).into_iter();
    let Some(header) = records.next() else {
        return false;
    };
    if header.contains(&b'\n') {
        return false;
    }
    let names = fields(&header);
    if names.len() < 3 || !names.iter().all(|n| looks_like_identifier(n.trim())) {
        return false;
    }
    records
        .find(|r| !r.trim_ascii().is_empty())
        .is_some_and(|r| fields(&r).len() == names.len())
}

fn looks_like_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'@');
    first_ok && name.len() <= 64 && bytes.all(|b| b.is_ascii_alphanumeric() || b" _-.@()".contains(&b))
}

/// The complete records of `head` (line endings removed; a record cut by
/// the end of the head is left out unless `whole`).
fn records_in(head: &[u8], whole: bool) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut state = Quote::Start;
    let mut rest = head;
    while !rest.is_empty() {
        let (line, next, complete) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..=i], &rest[i + 1..], true),
            None => (rest, &b""[..], whole),
        };
        if !complete {
            break;
        }
        current.extend_from_slice(line);
        state = advance(state, line);
        if state != Quote::Open {
            state = Quote::Start;
            out.push(strip_ending(std::mem::take(&mut current)));
        }
        rest = next;
    }
    out
}

/// Where a record's bytes leave the quoting: at a field start, in a bare
/// field, inside quotes, or just after a quote inside quotes (a closing
/// quote, unless another follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    Start,
    Bare,
    Open,
    Closing,
}

/// The quoting state after `bytes` (a quote opens only at a field start,
/// as [`fields`] reads it); a line break outside quotes ends the record.
fn advance(mut q: Quote, bytes: &[u8]) -> Quote {
    for &b in bytes {
        q = match (q, b) {
            (Quote::Open, b'"') => Quote::Closing,
            (Quote::Open, _) => Quote::Open,
            (Quote::Closing, b'"') | (Quote::Start, b'"') => Quote::Open,
            (_, b',' | b'\n') => Quote::Start,
            _ => Quote::Bare,
        };
    }
    q
}

fn strip_ending(mut raw: Vec<u8>) -> Vec<u8> {
    if raw.ends_with(b"\n") {
        raw.pop();
        if raw.ends_with(b"\r") {
            raw.pop();
        }
    }
    raw
}

/// The fields of one record (RFC 4180, leniently: text after a closing
/// quote is kept, a stray quote inside an unquoted field is kept).
fn fields(record: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = Vec::new();
    let mut i = 0;
    let mut at_start = true;
    let mut in_quotes = false;
    while i < record.len() {
        let b = record[i];
        if in_quotes {
            if b == b'"' {
                if record.get(i + 1) == Some(&b'"') {
                    field.push(b'"');
                    i += 1;
                } else {
                    in_quotes = false;
                }
            } else {
                field.push(b);
            }
        } else if b == b',' {
            out.push(String::from_utf8_lossy(&field).into_owned());
            field.clear();
            at_start = true;
            i += 1;
            continue;
        } else if b == b'"' && at_start {
            in_quotes = true;
        } else {
            field.push(b);
        }
        at_start = false;
        i += 1;
    }
    out.push(String::from_utf8_lossy(&field).into_owned());
    out
}

/// Parse a CSV input, streaming row by row.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(Rows {
        lines: LineReader::new(input, MAX_RECORD),
        ctx: ctx.clone(),
        header: None,
        time_column: None,
        ids: Ids::default(),
        done: false,
    })
}

struct Rows {
    lines: LineReader,
    ctx: ParseContext,
    header: Option<Vec<String>>,
    time_column: Option<usize>,
    ids: Ids,
    done: bool,
}

/// One record and where it starts.
struct Record {
    line: u64,
    offset: u64,
    raw: Vec<u8>,
}

impl Iterator for Rows {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            let record = match self.next_record()? {
                Ok(r) => r,
                Err(item) => return Some(item),
            };
            if record.raw.trim_ascii().is_empty() {
                continue;
            }
            let values = fields(&record.raw);
            let Some(header) = &self.header else {
                self.set_header(values);
                continue;
            };
            if values.len() != header.len() {
                let reason = format!("{} fields, but the header has {}", values.len(), header.len());
                return Some(self.bad(&record, reason));
            }
            return Some(Item::Event(Box::new(self.event(&record, values))));
        }
    }
}

impl Rows {
    /// The next record, joining lines while a quoted field is open.
    fn next_record(&mut self) -> Option<Result<Record, Item>> {
        if self.done {
            return None;
        }
        let mut record: Option<Record> = None;
        let mut state = Quote::Start;
        loop {
            let line = match self.lines.next_line() {
                None => {
                    self.done = true;
                    let r = record?;
                    let reason = "quoted field not closed before the end of the input";
                    return Some(Err(self.bad(&r, reason)));
                }
                Some(Err(failure)) => {
                    self.done = true;
                    return Some(Err(failure.into_item(&self.ctx)));
                }
                Some(Ok(line)) => line,
            };
            state = advance(state, &line.raw);
            let too_long = line.too_long;
            let r = record.get_or_insert_with(|| Record {
                line: line.number,
                offset: line.offset,
                raw: Vec::new(),
            });
            r.raw.extend_from_slice(&line.raw);
            if too_long || r.raw.len() > MAX_RECORD {
                let r = record.take()?;
                let reason = format!("record longer than {MAX_RECORD} bytes");
                return Some(Err(self.bad(&r, reason)));
            }
            if state != Quote::Open {
                let mut r = record.take()?;
                r.raw = strip_ending(r.raw);
                return Some(Ok(r));
            }
        }
    }

    fn bad(&self, record: &Record, reason: impl Into<String>) -> Item {
        let location = self.ctx.location(Some(record.line), None, Some(record.offset));
        Item::Bad(BadRecord::new(location, reason, &record.raw))
    }

    fn set_header(&mut self, names: Vec<String>) {
        let names: Vec<String> = names
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let n = n.trim();
                if n.is_empty() {
                    format!("column_{}", i + 1)
                } else {
                    n.to_string()
                }
            })
            .collect();
        self.time_column = names.iter().position(|n| {
            let norm: String = n
                .chars()
                .filter(|c| !matches!(c, ' ' | '_' | '-' | '.'))
                .flat_map(char::to_lowercase)
                .collect();
            TIME_COLUMNS.contains(&norm.as_str())
        });
        self.header = Some(names);
    }

    fn event(&mut self, record: &Record, values: Vec<String>) -> Event {
        let original = String::from_utf8_lossy(&record.raw).into_owned();
        let time: Option<DateTime<Utc>> = self
            .time_column
            .and_then(|i| values.get(i))
            .and_then(|v| netlog::text_time(v));
        let timestamp = time.unwrap_or(self.ctx.ingest_time);
        let mut ev = Event::new(&self.ctx.tenant, timestamp, original.as_str());
        let names = self.header.as_deref().unwrap_or_default();
        for (name, value) in names.iter().zip(values) {
            if value.is_empty() || name == "tenant" || name == "@timestamp" {
                continue;
            }
            ev.set(name, Value::String(value));
        }
        // What the input may not decide.
        ev.set("tenant", json!(self.ctx.tenant));
        ev.set_id(self.ids.next(&self.ctx.tenant, &original));
        ev.set("event.original", json!(original));
        ev.set_timestamp(timestamp);
        if time.is_none() {
            if let Some(Value::String(tag)) = ev.get("tags") {
                let tags = json!([tag]);
                ev.set("tags", tags);
            }
            ev.add_tag(TIMESTAMP_MISSING);
            ev.set("event.ingested", json!(format_ts(self.ctx.ingest_time)));
        }
        ev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_rfc4180() {
        assert_eq!(fields(b"a,\"b,c\",\"d\"\"e\",,f"), ["a", "b,c", "d\"e", "", "f"]);
        assert_eq!(fields(b"\"x\ny\",z"), ["x\ny", "z"]);
        assert_eq!(fields(b""), [""]);
        assert_eq!(fields(b"a\"b,\"c\"d"), ["a\"b", "cd"]);
    }

    #[test]
    fn sniffing() {
        assert!(sniff(b"Event Type,Event Name,Source IP\nA,\"B,C\",1.2.3.4\n"));
        assert!(sniff(b"a,b,c\n\"multi\nline\",2,3\n"));
        assert!(sniff(b"a,b,c\nx\"y,\"q\"\"\n\",3\n"));
        assert!(!sniff(b"a,b\n1,2\n"));
        assert!(!sniff(b"a,b,c\n1,2\n"));
        assert!(!sniff(b"a,b,c\n"));
        assert!(!sniff(b"1,2,3\n4,5,6\n"));
        assert!(!sniff(b"{\"a\":1,\"b\":2,\"c\":3}\n{\"a\":1,\"b\":2,\"c\":3}\n"));
        assert!(!sniff(b"#Fields: a,b,c\n1,2,3\n"));
    }
}
