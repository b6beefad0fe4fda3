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

mod map;

use std::io::BufRead;

use serde_json::Value;

use crate::json_array::{Layout, Piece, Pieces, invalid_json};
use crate::record::{BadRecord, Item, Location, ParseContext};
use crate::scan::skip_ws;
use crate::sniff;

pub use map::{TIMESTAMP_MISSING, map_record};

/// A `Records` document.
const LAYOUT: Layout = Layout {
    element: "record",
    array: "Records",
    keys: &[b"Records"],
    strict: true,
};

/// Parse a CloudTrail input of any of the shapes above, lazily.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    Box::new(Records(Pieces::new(input, ctx, &LAYOUT)))
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

/// The events of a CloudTrail input.
struct Records(Pieces);

impl Iterator for Records {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            let piece = self.0.next_piece()?;
            if let Some(item) = render(self.0.doc(), piece, self.0.ctx()) {
                return Some(item);
            }
        }
    }
}

/// A piece as an item; `None` for what is skipped (digests).
fn render(doc: &[u8], piece: Piece, ctx: &ParseContext) -> Option<Item> {
    let (range, location, element) = match piece {
        Piece::Item(item) => return Some(item),
        Piece::Element { range, location } => (range, location, true),
        Piece::Object { range, location } => (range, location, false),
    };
    let bytes = doc.get(range).unwrap_or_default();
    let bad = |location: Location, reason: String| Some(Item::Bad(BadRecord::new(location, reason, bytes)));
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return bad(location, format!("record is not valid UTF-8: {e}")),
    };
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let reason = invalid_json(&e, &location);
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
