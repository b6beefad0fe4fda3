//! What the AWS finding formats ([`crate::guardduty`], [`crate::securityhub`])
//! share: reading JSON documents of findings in every shape they come in,
//! keys in camelCase or PascalCase, finding times, and the ECS mapping of a
//! GuardDuty-style `action` (also found in ASFF's `Action`).
//!
//! # Input shapes
//! - One JSON value per line (NDJSON): a finding, an envelope, or a whole
//!   `{"Findings":[…]}` document on one line.
//! - A document (pretty-printed or not, possibly several in a row): a JSON
//!   array of findings, an object with a `Findings` or `findings` array, or a
//!   single finding or envelope.
//!
//! Arrays are split element by element with the bracket scanner and each
//! element is parsed on its own: a bad element is a bad record (line, column,
//! byte offset) and the next elements are still read; a missing `,` between
//! two elements is a warning and both are kept; a cut-off file yields what
//! came before the cut and one bad record.

use std::collections::VecDeque;
use std::io::BufRead;
use std::net::IpAddr;
use std::ops::Range;

use chrono::{DateTime, NaiveDateTime, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::json;
use crate::lines::{LineReader, ReadFailure};
use crate::record::{BadRecord, Diagnostic, Item, Location, ParseContext};
use crate::scan::{LineIndex, Members, ScanError, skip_ws, value_end};
use crate::time;

/// The largest document (or line) read into memory: 1 GiB.
const MAX_DOCUMENT: u64 = 1 << 30;

/// The keys of an object holding an array of findings.
const CONTAINER_KEYS: [&[u8]; 2] = [b"Findings", b"findings"];

/// Maps one top-level value (a finding, an envelope, an array element) and
/// its text to events, or to the reasons they could not be made.
pub(crate) type MapFn = fn(&Value, &str, &ParseContext) -> Vec<Result<Event, String>>;

/// Parse a stream of finding documents, lazily, mapping each value with `map`.
pub(crate) fn parse(
    input: Box<dyn BufRead + Send>,
    ctx: &ParseContext,
    map: MapFn,
) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(Documents {
        lines: LineReader::new(input, MAX_DOCUMENT as usize),
        ctx: ctx.clone(),
        map,
        mode: Mode::Start,
        doc: Vec::new(),
        pieces: VecDeque::new(),
        out: VecDeque::new(),
        trailer: None,
    })
}

enum Mode {
    Start,
    Lines,
    Document,
    Done,
}

struct Documents {
    lines: LineReader,
    ctx: ParseContext,
    map: MapFn,
    mode: Mode,
    /// The document the pieces point into.
    doc: Vec<u8>,
    pieces: VecDeque<Piece>,
    /// Items made from a piece and not yet returned.
    out: VecDeque<Item>,
    /// A read error, reported after everything read before it.
    trailer: Option<Item>,
}

impl Iterator for Documents {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            if let Some(piece) = self.pieces.pop_front() {
                self.render(piece);
                continue;
            }
            match self.mode {
                Mode::Start => self.start(),
                Mode::Lines => self.next_line(),
                Mode::Document => self.mode = Mode::Done,
                Mode::Done => return self.trailer.take(),
            }
        }
    }
}

impl Documents {
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
        self.mode = Mode::Document;
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
                self.out
                    .push_back(Item::Bad(BadRecord::new(location, reason, &line.raw)));
            }
            Some(Ok(line)) => self.load(line.raw, line.number, line.offset, true),
        }
    }

    fn load(&mut self, doc: Vec<u8>, line: u64, offset: u64, complete: bool) {
        self.pieces = split(&doc, line, offset, complete, &self.ctx).into();
        self.doc = doc;
    }

    fn fail(&mut self, failure: ReadFailure) {
        self.trailer = Some(failure.into_item(&self.ctx));
        self.mode = Mode::Done;
    }

    /// A piece as items, into `out`.
    fn render(&mut self, piece: Piece) {
        let (range, location) = match piece {
            Piece::Item(item) => return self.out.push_back(item),
            Piece::Value { range, location } => (range, location),
        };
        let bytes = self.doc.get(range).unwrap_or_default();
        let bad = |location: Location, reason: String| Item::Bad(BadRecord::new(location, reason, bytes));
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => return self.out.push_back(bad(location, format!("not valid UTF-8: {e}"))),
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let at = json::position(&e, location.line.unwrap_or(1), location.column.unwrap_or(1));
                let reason = match at {
                    Some((line, column)) => format!(
                        "invalid JSON: {} at line {line} column {column}",
                        json::message(&e)
                    ),
                    None => format!("invalid JSON: {}", json::message(&e)),
                };
                return self.out.push_back(bad(location, reason));
            }
        };
        let results = (self.map)(&value, text, &self.ctx);
        for result in results {
            let item = match result {
                Ok(ev) => Item::Event(Box::new(ev)),
                Err(reason) => bad(location.clone(), reason),
            };
            self.out.push_back(item);
        }
    }
}

/// A part of a document, in input order.
enum Piece {
    /// A top-level value or an element of a findings array.
    Value { range: Range<usize>, location: Location },
    /// A structural problem, already reported.
    Item(Item),
}

/// Split `doc` (whose first byte is at the start of line `line`, byte
/// `offset` of the input) into pieces. `complete` is false when reading
/// stopped early on an error: a cut-off end is then not reported again.
fn split(doc: &[u8], line: u64, offset: u64, complete: bool, ctx: &ParseContext) -> Vec<Piece> {
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

    /// The object at `start`: its findings array's elements, or itself.
    /// Returns its end, or `None` when nothing after it can be trusted.
    fn object(&mut self, start: usize) -> Option<usize> {
        let mut members = Members::new(self.doc, start);
        let mut found = false;
        loop {
            match members.next_member() {
                Ok(Some((key, value)))
                    if !found && CONTAINER_KEYS.contains(&key) && self.doc.get(value) == Some(&b'[') =>
                {
                    found = true;
                    members.value_ended(self.array(value)?);
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
                    self.out.push(Piece::Value {
                        range: start..end,
                        location,
                    });
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
                        (self.doc.len(), " after its findings array")
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
                    "after the findings array: expected `,` or `}}`, found {}",
                    describe(self.doc, at)
                );
                self.bad(at, reason, at..line_end(self.doc, at));
                None
            }
            (ScanError::Unexpected(_), false) => match value_end(self.doc, start) {
                // Malformed but delimited: the JSON parser says what is wrong.
                Ok(end) => {
                    let location = self.location(start);
                    self.out.push(Piece::Value {
                        range: start..end,
                        location,
                    });
                    Some(end)
                }
                Err(e) => self.object_broken(start, false, e),
            },
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
                            "truncated: this finding is cut off (the array opened at line {line} column {col} is not closed)"
                        );
                        self.bad(i, reason, i..self.doc.len());
                    }
                    return None;
                }
                Err(ScanError::Unexpected(at)) => {
                    let reason = format!("expected a finding, found {}", describe(self.doc, at));
                    self.bad(at, reason, at..line_end(self.doc, at));
                    return None;
                }
            };
            let location = self.location(i);
            self.out.push(Piece::Value {
                range: i..end,
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
                        "missing `,` between the finding ending on line {prev} and the finding starting on line {line}; both kept"
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
                        "expected `,` or `]` after a finding, found {}",
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

// ---------------------------------------------------------------------------
// Sniffing helpers.

/// The head's first value: the first element when it is an array.
pub(crate) fn first_value(head: &[u8]) -> Option<crate::sniff::Object<'_>> {
    let (head, start) = crate::sniff::start(head);
    match head.get(start) {
        Some(b'[') => crate::sniff::object_at(head, skip_ws(head, start + 1)),
        _ => crate::sniff::object_at(head, start),
    }
}

/// The first element of the findings array of `obj` (as far as the head
/// shows it), when `obj` has one: `Some(None)` for an empty array.
pub(crate) fn first_contained<'a>(
    obj: &'a crate::sniff::Object<'_>,
) -> Option<Option<crate::sniff::Object<'a>>> {
    let value = ["Findings", "findings"]
        .iter()
        .find_map(|k| obj.get(k).filter(|v| v.starts_with(b"[")))?;
    let element = skip_ws(value, 1);
    if value.get(element) == Some(&b']') {
        return Some(None);
    }
    Some(crate::sniff::object_at(value, element))
}

/// The string value of `key` in a sniffed object, without its quotes.
pub(crate) fn sniffed_str<'a>(obj: &'a crate::sniff::Object<'_>, key: &str) -> Option<&'a [u8]> {
    let v = obj.get(key)?;
    v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\""))
}

// ---------------------------------------------------------------------------
// Reading findings.

/// The value at `key` of an object, trying the key as given (camelCase) and
/// then with its first letter upper-cased (PascalCase, as the AWS CLI and
/// ASFF write them). Nulls count as absent.
pub(crate) fn field<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    let obj = v.as_object()?;
    let found = obj.get(key).or_else(|| {
        let mut chars = key.chars();
        let first = chars.next()?;
        let pascal: String = first.to_uppercase().chain(chars).collect();
        obj.get(&pascal)
    });
    found.filter(|v| !v.is_null())
}

/// The value at a path of keys (each tried as in [`field`]).
pub(crate) fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| field(v, k))
}

/// The non-empty string at a path.
pub(crate) fn text<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    path(v, keys).and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// A number at a path, also from a string of digits (as in ASFF's
/// `ProductFields`).
pub(crate) fn number(v: &Value, keys: &[&str]) -> Option<Value> {
    match path(v, keys)? {
        Value::Number(n) => Some(Value::Number(n.clone())),
        Value::String(s) => {
            let s = s.trim();
            if let Ok(n) = s.parse::<i64>() {
                Some(json!(n))
            } else {
                s.parse::<f64>().ok().filter(|f| f.is_finite()).map(|f| json!(f))
            }
        }
        _ => None,
    }
}

/// A whole non-negative number (a port, an AS number) at a path.
pub(crate) fn whole(v: &Value, keys: &[&str]) -> Option<u64> {
    match number(v, keys)? {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                .map(|f| f as u64)
        }),
        _ => None,
    }
}

/// A time from a finding: RFC 3339, `YYYY-MM-DD HH:MM:SS[.fff]` (taken as
/// UTC), or epoch seconds / milliseconds.
pub(crate) fn finding_time(v: &Value) -> Option<DateTime<Utc>> {
    if let Value::String(s) = v {
        let s = s.trim();
        if let Some(t) = time::rfc3339(s) {
            return Some(t);
        }
        for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
                return Some(t.and_utc());
            }
        }
    }
    time::from_value(v)
}

/// A new event at the first usable time of `times` (else the ingest time,
/// tagged [`TIMESTAMP_MISSING`] with `event.ingested`).
pub(crate) fn new_event(times: &[Option<&Value>], original: &str, ctx: &ParseContext) -> Event {
    let time = times.iter().flatten().find_map(|v| finding_time(v));
    let mut ev = Event::new(&ctx.tenant, time.unwrap_or(ctx.ingest_time), original);
    if time.is_none() {
        ev.add_tag(TIMESTAMP_MISSING);
        ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
    }
    ev
}

/// Set `to` to the time at `v` (normalized to RFC 3339 UTC) when it parses.
pub(crate) fn set_time(ev: &mut Event, to: &str, v: Option<&Value>) {
    if let Some(t) = v.and_then(finding_time) {
        ev.set(to, json!(format_ts(t)));
    }
}

/// A JSON number that is whole when it can be (`8.0` → `8`).
pub(crate) fn tidy_number(v: &Value) -> Option<Value> {
    let f = v.as_f64()?;
    if !f.is_finite() {
        return None;
    }
    if f.fract() == 0.0 && f.abs() < 1e15 {
        Some(json!(f as i64))
    } else {
        Some(json!(f))
    }
}

/// `key` in snake_case: `instanceDetails` → `instance_details`,
/// `IpV4Addresses` → `ip_v4_addresses`. Keys with characters other than
/// ASCII letters, digits and `_` are data, not names, and are kept.
pub(crate) fn snake(key: &str) -> String {
    if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return key.to_string();
    }
    let chars: Vec<char> = key.chars().collect();
    let mut out = String::with_capacity(key.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p));
            let next = chars.get(i + 1);
            let boundary = match prev {
                None | Some('_') => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) => p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()),
            };
            if boundary {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// `v` with every object key in snake_case, except inside the members named
/// in `verbatim` (free-form maps whose keys are data). Null members are left
/// out.
pub(crate) fn snake_keys(v: &Value, verbatim: &[&str]) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map.iter().filter(|(_, v)| !v.is_null()) {
                let value = if verbatim.contains(&k.as_str()) {
                    v.clone()
                } else {
                    snake_keys(v, verbatim)
                };
                out.insert(snake(k), value);
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| snake_keys(v, verbatim)).collect()),
        other => other.clone(),
    }
}

// ---------------------------------------------------------------------------
// Related values.

/// `related.ip` and `related.user`, unique, in order of appearance.
#[derive(Default)]
pub(crate) struct Related {
    ips: Vec<String>,
    users: Vec<String>,
}

impl Related {
    /// Add `s` when it is an IP address; returns it normalized.
    pub fn ip(&mut self, s: &str) -> Option<String> {
        let ip = s.trim().parse::<IpAddr>().ok()?.to_string();
        if !self.ips.contains(&ip) {
            self.ips.push(ip.clone());
        }
        Some(ip)
    }

    /// Add a user name.
    pub fn user(&mut self, s: &str) {
        if !s.is_empty() && !self.users.iter().any(|u| u == s) {
            self.users.push(s.to_string());
        }
    }

    /// Write `related.ip` and `related.user`.
    pub fn write(self, ev: &mut Event) {
        if !self.ips.is_empty() {
            ev.set("related.ip", json!(self.ips));
        }
        if !self.users.is_empty() {
            ev.set("related.user", json!(self.users));
        }
    }
}

// ---------------------------------------------------------------------------
// The action of a GuardDuty finding (and of ASFF's `Action`).

/// Map an IP details object (`remoteIpDetails`, `localIpDetails`) to
/// `{side}.ip`, `{side}.geo.*` and `{side}.as.*`; the IP also goes to
/// `related.ip`. Returns true when an IP was found.
pub(crate) fn ip_details(ev: &mut Event, details: &Value, side: &str, related: &mut Related) -> bool {
    let ip = text(details, &["ipAddressV4"])
        .or_else(|| text(details, &["ipAddressV6"]))
        .and_then(|s| related.ip(s));
    let found = ip.is_some();
    if let Some(ip) = ip {
        ev.set(&format!("{side}.ip"), json!(ip));
    }
    for (from, to) in [
        (&["country", "countryCode"][..], "geo.country_iso_code"),
        (&["country", "countryName"], "geo.country_name"),
        (&["city", "cityName"], "geo.city_name"),
        (&["organization", "asnOrg"], "as.organization.name"),
    ] {
        if let Some(s) = text(details, from) {
            ev.set(&format!("{side}.{to}"), json!(s));
        }
    }
    if let Some(asn) = whole(details, &["organization", "asn"]) {
        ev.set(&format!("{side}.as.number"), json!(asn));
    }
    let lat = number(details, &["geoLocation", "lat"]);
    let lon = number(details, &["geoLocation", "lon"]);
    if let (Some(lat), Some(lon)) = (lat, lon) {
        ev.set(&format!("{side}.geo.location"), json!({"lat": lat, "lon": lon}));
    }
    found
}

/// Set `{to}` to the port of a port details object (`localPortDetails`).
fn port(ev: &mut Event, details: Option<&Value>, to: &str) {
    if let Some(p) = details.and_then(|d| whole(d, &["port"])) {
        ev.set(to, json!(p));
    }
}

/// The action types, and the member holding each one's details.
const ACTIONS: [(&str, &str); 6] = [
    ("AWS_API_CALL", "awsApiCallAction"),
    ("NETWORK_CONNECTION", "networkConnectionAction"),
    ("PORT_PROBE", "portProbeAction"),
    ("DNS_REQUEST", "dnsRequestAction"),
    ("KUBERNETES_API_CALL", "kubernetesApiCallAction"),
    ("RDS_LOGIN_ATTEMPT", "rdsLoginAttemptAction"),
];

/// The action's type: `actionType`, else the first non-empty details member.
pub(crate) fn action_type(action: &Value) -> Option<String> {
    if let Some(t) = text(action, &["actionType"]) {
        return Some(t.to_string());
    }
    ACTIONS
        .iter()
        .find(|(_, member)| {
            field(action, member).is_some_and(|v| v.as_object().is_some_and(|o| !o.is_empty()))
        })
        .map(|(t, _)| t.to_string())
}

/// Map a GuardDuty-style action to ECS (the rows "action" of the
/// GuardDuty table): API calls to `event.action`/`event.provider` and the
/// caller to `source.*`; connections and probes to `source.*`,
/// `destination.*` and `network.*`; DNS requests to `dns.question.name`.
pub(crate) fn map_action(ev: &mut Event, action: &Value, related: &mut Related) {
    let Some(kind) = action_type(action) else {
        return;
    };
    let details = ACTIONS
        .iter()
        .find(|(t, _)| *t == kind)
        .and_then(|(_, member)| field(action, member));
    let Some(d) = details else { return };
    match kind.as_str() {
        "AWS_API_CALL" => {
            if let Some(api) = text(d, &["api"]) {
                ev.set("event.action", json!(api));
            }
            if let Some(service) = text(d, &["serviceName"]) {
                ev.set("event.provider", json!(service));
            }
            if let Some(remote) = field(d, "remoteIpDetails") {
                ip_details(ev, remote, "source", related);
            }
            if let Some(domain) = text(d, &["domainDetails", "domain"]) {
                ev.set("source.domain", json!(domain));
            }
            if let Some(agent) = text(d, &["userAgent"]) {
                ev.set("user_agent.original", json!(agent));
            }
            if let Some(code) = text(d, &["errorCode"]) {
                ev.set("error.code", json!(code));
            }
        }
        "NETWORK_CONNECTION" => {
            let direction = text(d, &["connectionDirection"]).map(str::to_ascii_lowercase);
            if let Some(dir) = &direction {
                ev.set("network.direction", json!(dir));
            }
            if let Some(proto) = text(d, &["protocol"]) {
                ev.set("network.transport", json!(proto.to_ascii_lowercase()));
            }
            // The remote end is the source unless the connection is outbound.
            let (remote_side, local_side) = if direction.as_deref() == Some("outbound") {
                ("destination", "source")
            } else {
                ("source", "destination")
            };
            if let Some(remote) = field(d, "remoteIpDetails") {
                ip_details(ev, remote, remote_side, related);
            }
            if let Some(local) = field(d, "localIpDetails") {
                ip_details(ev, local, local_side, related);
            }
            port(ev, field(d, "remotePortDetails"), &format!("{remote_side}.port"));
            port(ev, field(d, "localPortDetails"), &format!("{local_side}.port"));
        }
        "PORT_PROBE" => {
            ev.set("network.direction", json!("inbound"));
            let probes = field(d, "portProbeDetails")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            let mut first = true;
            for probe in probes {
                match field(probe, "remoteIpDetails") {
                    Some(remote) if first => {
                        first = !ip_details(ev, remote, "source", related);
                        if !first {
                            port(ev, field(probe, "localPortDetails"), "destination.port");
                            if let Some(local) = field(probe, "localIpDetails") {
                                ip_details(ev, local, "destination", related);
                            }
                        }
                    }
                    Some(remote) => {
                        for key in ["ipAddressV4", "ipAddressV6"] {
                            if let Some(ip) = text(remote, &[key]) {
                                related.ip(ip);
                            }
                        }
                    }
                    None => {}
                }
            }
        }
        "DNS_REQUEST" => {
            if let Some(domain) = text(d, &["domain"]) {
                ev.set("dns.question.name", json!(domain));
            }
            if let Some(proto) = text(d, &["protocol"]) {
                ev.set("network.transport", json!(proto.to_ascii_lowercase()));
            }
            ev.set("network.protocol", json!("dns"));
        }
        "KUBERNETES_API_CALL" => {
            if let Some(verb) = text(d, &["verb"]) {
                ev.set("event.action", json!(verb));
            }
            if let Some(remote) = field(d, "remoteIpDetails") {
                ip_details(ev, remote, "source", related);
            }
            if let Some(agent) = text(d, &["userAgent"]) {
                ev.set("user_agent.original", json!(agent));
            }
            if let Some(uri) = text(d, &["requestUri"]) {
                ev.set("url.original", json!(uri));
            }
        }
        "RDS_LOGIN_ATTEMPT" => {
            if let Some(remote) = field(d, "remoteIpDetails") {
                ip_details(ev, remote, "source", related);
            }
        }
        _ => {}
    }
}

/// Rebuild a nested object from flattened keys such as
/// `networkConnectionAction/remoteIpDetails/ipAddressV4` or
/// `portProbeDetails:0/localPortDetails/port` (as in ASFF `ProductFields`).
pub(crate) fn unflatten<'a>(entries: impl Iterator<Item = (&'a str, &'a Value)>) -> Value {
    /// The largest array index accepted from a flattened key.
    const MAX_INDEX: usize = 1000;
    let mut root = Value::Object(Map::new());
    'entries: for (key, value) in entries {
        let mut slot = &mut root;
        for seg in key.split('/') {
            let (name, index) = match seg.rsplit_once(':') {
                Some((name, i)) => match i.parse::<usize>() {
                    Ok(i) if i < MAX_INDEX => (name, Some(i)),
                    _ => (seg, None),
                },
                None => (seg, None),
            };
            if !slot.is_object() {
                continue 'entries;
            }
            let Some(map) = slot.as_object_mut() else {
                continue 'entries;
            };
            slot = map.entry(name.to_string()).or_insert(Value::Null);
            if let Some(i) = index {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let Some(items) = slot.as_array_mut() else {
                    continue 'entries;
                };
                while items.len() <= i {
                    items.push(Value::Object(Map::new()));
                }
                slot = &mut items[i];
            } else if slot.is_null() {
                *slot = Value::Object(Map::new());
            }
        }
        // The last segment made an empty object to write into.
        if slot.as_object().is_some_and(Map::is_empty) {
            *slot = value.clone();
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keys() {
        assert_eq!(snake("instanceDetails"), "instance_details");
        assert_eq!(snake("ipAddressV4"), "ip_address_v4");
        assert_eq!(snake("IpV4Addresses"), "ip_v4_addresses");
        assert_eq!(snake("AccessKeyId"), "access_key_id");
        assert_eq!(snake("s3BucketDetails"), "s3_bucket_details");
        assert_eq!(snake("AWSAccount"), "aws_account");
        assert_eq!(snake("already_snake"), "already_snake");
        assert_eq!(snake("AWS::IAM::Role"), "AWS::IAM::Role");
        let v = json!({"aB": {"cD": 1, "n": null}, "free": {"kEy": 2}, "list": [{"xY": 1}]});
        assert_eq!(
            snake_keys(&v, &["free"]),
            json!({"a_b": {"c_d": 1}, "free": {"kEy": 2}, "list": [{"x_y": 1}]})
        );
    }

    #[test]
    fn pascal_fallback_and_numbers() {
        let v = json!({"AccountId": "1", "port": "22", "n": 2.0, "bad": null});
        assert_eq!(text(&v, &["accountId"]), Some("1"));
        assert_eq!(whole(&v, &["port"]), Some(22));
        assert_eq!(whole(&v, &["n"]), Some(2));
        assert!(field(&v, "bad").is_none());
        assert_eq!(tidy_number(&json!(8.0)), Some(json!(8)));
        assert_eq!(tidy_number(&json!(5.5)), Some(json!(5.5)));
    }

    #[test]
    fn times() {
        let t = |s: &str| finding_time(&json!(s)).map(format_ts);
        assert_eq!(
            t("2024-05-01T10:00:00Z").as_deref(),
            Some("2024-05-01T10:00:00.000000Z")
        );
        assert_eq!(
            t("2024-05-01 10:00:00.721").as_deref(),
            Some("2024-05-01T10:00:00.721000Z")
        );
        assert_eq!(
            t("2024-05-01 10:00:00.000000000").as_deref(),
            Some("2024-05-01T10:00:00.000000Z")
        );
        assert_eq!(t("later"), None);
    }

    #[test]
    fn unflatten_builds_objects_and_arrays() {
        let fields = json!({
            "a/b/c": "1",
            "a/b/d": "2",
            "p:1/x": "y",
            "a/b": "clash",
            "q:99999/x": "z",
        });
        let map = fields.as_object().unwrap();
        let v = unflatten(map.iter().map(|(k, v)| (k.as_str(), v)));
        assert_eq!(v["a"]["b"], json!({"c": "1", "d": "2"}));
        assert_eq!(v["p"], json!([{}, {"x": "y"}]));
        assert_eq!(v["q:99999"]["x"], json!("z"));
    }
}
