//! AWS CloudTrail, mapped to ECS as Elastic's AWS CloudTrail integration and
//! SIEM on Amazon OpenSearch Service do.
//!
//! # Inputs
//! - `{"Records":[…]}` files as delivered to S3 (plain or `.json.gz`), compact
//!   or pretty-printed. The array is split element by element with a small
//!   bracket scanner and each element parsed on its own: a bad element is a
//!   bad record and the next ones are still read; a missing `,` between two
//!   elements is a warning and both are kept; a cut-off file yields the
//!   records before the cut and one bad record.
//! - NDJSON: one record (or one `Records` document) per line.
//! - A single record, pretty-printed or not (CloudTrail Lake, console
//!   "event record" JSON), several in a row, or a JSON array of records.
//! - EventBridge events (`"detail-type": "AWS API Call via CloudTrail"` and
//!   the other `… via CloudTrail` types): the record is `detail`, and
//!   `event.original` is the whole envelope.
//! - Digest files (`awsAccountId`, `digestStartTime`) are not events: they
//!   yield nothing.
//!
//! # Mapping
//! Fields are set only when the record has them (nulls are left out).
//!
//! | CloudTrail                                           | ECS / Mamori |
//! |------------------------------------------------------|--------------|
//! | `eventTime` (RFC 3339)                               | `@timestamp` (UTC); when missing or bad: the ingest time, tag `mamori.timestamp_missing`, `event.ingested` |
//! | `eventID`                                            | `event.id` (else derived from tenant and original) |
//! | the record's text, as in the input                   | `event.original` |
//! | —                                                    | `event.kind` = `event`, `event.module` = `aws`, `event.dataset` = `aws.cloudtrail`, `cloud.provider` = `aws` |
//! | `eventName`                                          | `event.action` |
//! | `eventSource`                                        | `event.provider` |
//! | `errorCode` present, or `responseElements.ConsoleLogin` = `Failure` | `event.outcome` = `failure`, else `success` |
//! | `errorCode`                                          | `error.code`, `aws.cloudtrail.error_code` |
//! | `errorMessage`                                       | `error.message`, `aws.cloudtrail.error_message` |
//! | `sourceIPAddress` that is an IP                      | `source.ip`, `related.ip` |
//! | `sourceIPAddress` that is not (`ec2.amazonaws.com`)  | `source.address` |
//! | `userAgent`                                          | `user_agent.original` |
//! | `userIdentity`: session name (last part of `arn`) for `AssumedRole`; `root` for `Root`; else `userName`; else what follows `:` in `principalId` | `user.name` |
//! | `userIdentity.principalId`                           | `user.id` |
//! | `userIdentity.accountId`, else `recipientAccountId`  | `cloud.account.id` |
//! | `awsRegion`                                          | `cloud.region` |
//! | `userIdentity.type`, `.arn`, `.accessKeyId`, `.invokedBy` | `aws.cloudtrail.user_identity.type`, `.arn`, `.access_key_id`, `.invoked_by` |
//! | `userIdentity.sessionContext.sessionIssuer.type`, `.arn`, `.principalId`, `.accountId`, `.userName` | `aws.cloudtrail.user_identity.session_context.session_issuer.type`, `.arn`, `.principal_id`, `.account_id`, `.user_name` |
//! | `userIdentity.sessionContext.attributes.mfaAuthenticated`, `.creationDate` | `aws.cloudtrail.user_identity.session_context.mfa_authenticated`, `.creation_date` |
//! | `eventVersion`, `eventType`, `eventCategory`, `requestID` | `aws.cloudtrail.event_version`, `.event_type`, `.event_category`, `.request_id` |
//! | `readOnly`, `managementEvent`, `recipientAccountId`  | `aws.cloudtrail.read_only`, `.management_event`, `.recipient_account_id` |
//! | `sharedEventID`, `vpcEndpointId`                     | `aws.cloudtrail.shared_event_id`, `.vpc_endpoint_id` |
//! | `resources` (array, kept)                            | `aws.cloudtrail.resources` |
//! | `requestParameters`, `responseElements`, `additionalEventData`, `serviceEventDetails` (kept as they are) | `aws.cloudtrail.request_parameters`, `.response_elements`, `.additional_eventdata`, `.service_event_details` |
//! | `sessionCredentialFromConsole`                       | `aws.cloudtrail.session_credential_from_console` |
//! | `tlsDetails.tlsVersion`, `.cipherSuite`, `.clientProvidedHostHeader` | `aws.cloudtrail.tls_details.tls_version`, `.cipher_suite`, `.client_provided_host_header` |
//! | `user.name` and the session issuer's `userName` (unique) | `related.user` |
//!
//! Other top-level keys (such as Datadog's `http`, `network`, `evt`) are
//! not mapped; they stay searchable in `event.original`.

mod document;
mod map;

use std::collections::VecDeque;
use std::io::BufRead;

use serde_json::Value;

use crate::json;
use crate::lines::{LineReader, ReadFailure};
use crate::record::{BadRecord, Item, Location, ParseContext};
use crate::scan::skip_ws;
use crate::sniff;

pub use map::{TIMESTAMP_MISSING, map_record};

use document::Piece;

/// The largest document (or line) read into memory: 1 GiB.
const MAX_DOCUMENT: u64 = 1 << 30;

/// Parse a CloudTrail input of any of the shapes above, lazily.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(Records {
        lines: LineReader::new(input, MAX_DOCUMENT as usize),
        ctx: ctx.clone(),
        mode: Mode::Start,
        doc: Vec::new(),
        pieces: VecDeque::new(),
        trailer: None,
    })
}

/// True when an input starting with `head` is CloudTrail: a `Records`
/// document, a record (one line or pretty-printed), an EventBridge CloudTrail
/// event, or an array of records.
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = sniff::start(head);
    let first = match head.get(start) {
        Some(b'[') => {
            let element = skip_ws(head, start + 1);
            return sniff::object_at(head, element).is_some_and(|o| o.has_all(&RECORD_KEYS));
        }
        _ => sniff::object_at(head, start),
    };
    let Some(obj) = first else { return false };
    let records = obj.get("Records").is_some_and(|v| v.starts_with(b"["));
    let eventbridge = obj
        .get("detail-type")
        .is_some_and(|v| v.starts_with(b"\"") && v.ends_with(b"via CloudTrail\""));
    records || eventbridge || obj.has_all(&RECORD_KEYS)
}

/// True when an input starting with `head` is a CloudTrail digest file.
pub fn sniff_digest(head: &[u8]) -> bool {
    sniff::first_object(head).is_some_and(|o| o.has_all(&DIGEST_KEYS))
}

const RECORD_KEYS: [&str; 3] = ["eventVersion", "eventSource", "eventName"];
const DIGEST_KEYS: [&str; 2] = ["awsAccountId", "digestStartTime"];

/// True when a JSON object looks like a CloudTrail record (it has
/// `eventVersion`, `eventSource` and `eventName`).
pub fn is_record(obj: &serde_json::Map<String, Value>) -> bool {
    RECORD_KEYS.iter().all(|k| obj.contains_key(*k))
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

struct Records {
    lines: LineReader,
    ctx: ParseContext,
    mode: Mode,
    /// The document the pieces point into.
    doc: Vec<u8>,
    pieces: VecDeque<Piece>,
    /// A read error, reported after the pieces read before it.
    trailer: Option<Item>,
}

impl Iterator for Records {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(piece) = self.pieces.pop_front() {
                match render(&self.doc, piece, &self.ctx) {
                    Some(item) => return Some(item),
                    None => continue,
                }
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

impl Records {
    /// Read the first non-blank line and choose between line and document mode:
    /// a line that starts with `{` and ends with `}` is taken as NDJSON.
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
                self.pieces.push_back(Piece::Item(Item::Bad(BadRecord::new(
                    location, reason, &line.raw,
                ))));
            }
            Some(Ok(line)) => self.load(line.raw, line.number, line.offset, true),
        }
    }

    fn load(&mut self, doc: Vec<u8>, line: u64, offset: u64, complete: bool) {
        self.pieces = document::split(&doc, line, offset, complete, &self.ctx).into();
        self.doc = doc;
    }

    fn fail(&mut self, failure: ReadFailure) {
        self.trailer = Some(failure.into_item(&self.ctx));
        self.mode = Mode::Done;
    }
}

/// A piece as an item; `None` for what is skipped (digests).
fn render(doc: &[u8], piece: Piece, ctx: &ParseContext) -> Option<Item> {
    let (start, end, location, element) = match piece {
        Piece::Item(item) => return Some(item),
        Piece::Record { start, end, location } => (start, end, location, true),
        Piece::Object { start, end, location } => (start, end, location, false),
    };
    let bytes = doc.get(start..end).unwrap_or_default();
    let bad = |location: Location, reason: String| Some(Item::Bad(BadRecord::new(location, reason, bytes)));
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return bad(location, format!("record is not valid UTF-8: {e}")),
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
            return bad(location, reason);
        }
    };
    let mapped = if element {
        map_record(&value, text, ctx)
    } else {
        match object_shape(&value) {
            Shape::Digest => return None,
            Shape::EventBridge(detail) => map_record(detail, text, ctx),
            Shape::Record => map_record(&value, text, ctx),
        }
    };
    match mapped {
        Ok(ev) => Some(Item::Event(Box::new(ev))),
        Err(reason) => bad(location, reason),
    }
}

enum Shape<'a> {
    Digest,
    EventBridge(&'a Value),
    Record,
}

fn object_shape(value: &Value) -> Shape<'_> {
    let has = |k: &str| value.get(k).is_some();
    if DIGEST_KEYS.iter().all(|k| has(k)) {
        return Shape::Digest;
    }
    let detail_type = value.get("detail-type").and_then(Value::as_str);
    match value.get("detail") {
        Some(detail) if detail_type.is_some_and(|t| t.ends_with("via CloudTrail")) => {
            Shape::EventBridge(detail)
        }
        _ => Shape::Record,
    }
}
