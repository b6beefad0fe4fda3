//! Recognising a format from the first bytes of the (decompressed) input.
//!
//! Each format module says whether a head is its own (`sniff`); the formats
//! are asked in registry order, specific shapes before generic ones:
//!
//! | first value                                                         | format |
//! |---------------------------------------------------------------------|--------|
//! | object with `awsAccountId` and `digestStartTime`                    | [`Format::CloudTrailDigest`] |
//! | object with a top-level `Records` array                             | [`Format::CloudTrail`] |
//! | object with `eventVersion`, `eventSource`, `eventName` (one line or pretty-printed) | [`Format::CloudTrail`] |
//! | object with `"detail-type": "… via CloudTrail"` (EventBridge)       | [`Format::CloudTrail`] |
//! | array whose first element is a CloudTrail record                    | [`Format::CloudTrail`] |
//! | `ElfFile\0` magic                                                   | [`Format::Evtx`] |
//! | GuardDuty finding (`type`, `severity`, `service`; EventBridge `GuardDuty Finding`) | [`Format::GuardDuty`] |
//! | ASFF finding (`SchemaVersion`, `ProductArn`; `Findings` list; EventBridge `Security Hub Findings`) | [`Format::SecurityHub`] |
//! | VPC Flow Logs header (`version account-id …`) or a v2 record with `eni-` | [`Format::VpcFlow`] |
//! | object with `event_type` and `timestamp`                            | [`Format::Suricata`] |
//! | `#separator` line; object with `_path`, or `@stream` and `@proc`, or `ts`, `uid` and `id.orig_h` | [`Format::Zeek`] |
//! | ALB (`https 2024-…Z app/…`) or Classic ELB line                      | [`Format::Alb`] |
//! | W3C `#` directives whose `#Fields:` has `x-edge-location`/`x-edge-request-id` | [`Format::CloudFront`] |
//! | other W3C extended log (`#Software:`, `#Version:`, `#Fields:` …)     | [`Format::Iis`] |
//! | Apache/nginx common or combined line                                | [`Format::WebAccess`] |
//! | Apache (`[Wed Oct 11 14:32:52 2000] [error] …`, `[error] …`) or nginx (`2024/05/01 10:00:00 [error] 1#2: …`) error line | [`Format::WebError`] |
//! | a line starting with `CEF:`                                         | [`Format::Cef`] |
//! | a line starting with `LEEF:`                                        | [`Format::Leef`] |
//! | a Squid native access line (`1140701044.525 1231 10.0.0.1 TCP_DENIED/403 …`) | [`Format::Squid`] |
//! | a Linux audit record (`[node=N ]type=T msg=audit(…):`)             | [`Format::Auditd`] |
//! | syslog: `<PRI>`, or an RFC 3164 time (`Mmm dd hh:mm:ss`) first       | [`Format::Syslog`] |
//! | CSV header of ≥ 3 identifier-like names, then a record as wide      | [`Format::Csv`] |
//! | lines of ≥ 3 `key=value` pairs                                      | [`Format::Kv`] |
//! | any other object on the first line                                  | [`Format::Ndjson`] |

use serde_json::Value;

use crate::Format;
use crate::scan::{Members, ScanError, skip_ws, value_end};

/// How many bytes [`sniff`] wants to see.
pub const HEAD_LEN: usize = 64 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The format of an input starting with `head` (up to [`HEAD_LEN`] bytes), if any.
pub fn sniff(head: &[u8]) -> Option<Format> {
    Format::all().iter().copied().find(|f| f.sniffs(head))
}

/// The head without a leading BOM, and the index of its first non-space byte.
pub(crate) fn start(head: &[u8]) -> (&[u8], usize) {
    let head = head.strip_prefix(BOM).unwrap_or(head);
    (head, skip_ws(head, 0))
}

/// The top-level members of an object, as far as the head shows them.
pub(crate) struct Object<'a> {
    /// (raw key, value bytes); the last value may be cut by the end of the head.
    pub members: Vec<(&'a [u8], &'a [u8])>,
    /// False when the bytes seen are not a well-formed object start.
    pub well_formed: bool,
}

impl Object<'_> {
    /// The value of `key`, if seen.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.members
            .iter()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| *v)
    }

    /// True when every key of `keys` was seen.
    pub fn has_all(&self, keys: &[&str]) -> bool {
        keys.iter().all(|k| self.get(k).is_some())
    }
}

/// The members of the object whose `{` is at `start` (anything else: `None`).
pub(crate) fn object_at(head: &[u8], start: usize) -> Option<Object<'_>> {
    if head.get(start) != Some(&b'{') {
        return None;
    }
    let mut members = Members::new(head, start);
    let mut out = Vec::new();
    let well_formed = loop {
        let (key, value) = match members.next_member() {
            Ok(Some(m)) => m,
            Ok(None) | Err(ScanError::Eof) => break true,
            Err(ScanError::Unexpected(_)) => break false,
        };
        match value_end(head, value) {
            Ok(end) => {
                out.push((key, &head[value..end]));
                members.value_ended(end);
            }
            Err(ScanError::Eof) => {
                out.push((key, &head[value..]));
                break true;
            }
            Err(ScanError::Unexpected(_)) => break false,
        }
    };
    Some(Object {
        members: out,
        well_formed,
    })
}

/// The first value of the head, when it is an object.
pub(crate) fn first_object(head: &[u8]) -> Option<Object<'_>> {
    let (head, start) = start(head);
    object_at(head, start)
}

/// True when the first line of the head is a JSON object (for a line longer
/// than the head: when its start is well formed).
pub(crate) fn first_line_is_object(head: &[u8]) -> bool {
    let (head, start) = start(head);
    let rest = &head[start..];
    let is_object = |b: &[u8]| matches!(serde_json::from_slice::<Value>(b), Ok(Value::Object(_)));
    match rest.iter().position(|&b| b == b'\n') {
        Some(end) => is_object(&rest[..end]),
        None if head.len() >= HEAD_LEN => object_at(head, start).is_some_and(|o| o.well_formed),
        None => is_object(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_files() {
        assert_eq!(
            sniff(b"{\"Records\":[{\"eventVersion\":\"1.08\"}]}"),
            Some(Format::CloudTrail)
        );
        let pretty = b"\xEF\xBB\xBF\n  {\n  \"Records\": [\n    {\n      \"eventVersion\": \"1.08\"";
        assert_eq!(sniff(pretty), Some(Format::CloudTrail));
        // A nested Records key is not the top-level one.
        assert_eq!(sniff(b"{\"x\":{\"Records\":[]}}\n"), Some(Format::Ndjson));
    }

    #[test]
    fn digest() {
        let d = br#"{"awsAccountId":"111122223333","digestStartTime":"2024-05-01T10:00:00Z","logFiles":[]}"#;
        assert_eq!(sniff(d), Some(Format::CloudTrailDigest));
    }

    #[test]
    fn single_records_and_eventbridge() {
        let line = br#"{"eventVersion":"1.08","eventSource":"s3.amazonaws.com","eventName":"GetObject"}
{"eventVersion":"1.08"#;
        assert_eq!(sniff(line), Some(Format::CloudTrail));
        let pretty = b"{\n  \"eventVersion\": \"1.08\",\n  \"userIdentity\": {\"type\": \"Root\"},\n  \"eventSource\": \"iam.amazonaws.com\",\n  \"eventName\": \"X\"\n}";
        assert_eq!(sniff(pretty), Some(Format::CloudTrail));
        let eb = br#"{"version":"0","detail-type":"AWS API Call via CloudTrail","detail":{}}"#;
        assert_eq!(sniff(eb), Some(Format::CloudTrail));
        let other_eb =
            br#"{"version":"0","detail-type":"EC2 Instance State-change Notification","detail":{}}"#;
        assert_eq!(sniff(other_eb), Some(Format::Ndjson));
        let arr = b"[\n {\"eventVersion\":\"1\",\"eventSource\":\"a\",\"eventName\":\"b\"}]";
        assert_eq!(sniff(arr), Some(Format::CloudTrail));
    }

    #[test]
    fn ndjson_and_unknown() {
        assert_eq!(sniff(b"{\"a\":1}\r\n{\"a\":2}\n"), Some(Format::Ndjson));
        assert_eq!(sniff(b"  {\"a\":1}"), Some(Format::Ndjson));
        assert_eq!(sniff(b"{\n \"a\": 1\n}"), None);
        assert_eq!(sniff(b"{\"a\":1"), None);
        assert_eq!(sniff(b"[1,2]"), None);
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\xEF\xBB\xBF   "), None);
        let mut long = b"{\"k\":\"".to_vec();
        long.resize(HEAD_LEN, b'x');
        assert_eq!(sniff(&long), Some(Format::Ndjson));
        let mut broken = b"{\"k\" 1, \"".to_vec();
        broken.resize(HEAD_LEN, b'x');
        assert_eq!(sniff(&broken), None);
    }
}
