//! Generic NDJSON: one JSON object per line.
//!
//! - Blank lines are skipped; `\r\n` endings are accepted.
//! - A line that is not UTF-8, not JSON, or not an object is a bad record
//!   (line number, byte offset of the line start, serde's message with column).
//! - A line that looks like a CloudTrail record (`eventVersion`,
//!   `eventSource` and `eventName`) is mapped by [`crate::cloudtrail::map_record`].
//! - Otherwise the object's keys are kept as they are (they may already be
//!   ECS); dotted keys such as `"source.ip"` are expanded into objects.
//! - `@timestamp` is the first usable of `@timestamp`, `timestamp`, `time`,
//!   `eventTime`, `ts` (or only [`NdjsonOptions::timestamp_field`] when set):
//!   RFC 3339, or epoch seconds / milliseconds (numbers above 1e11 are
//!   milliseconds). Without one, the ingest time is used, `event.ingested` is
//!   set and the event is tagged `mamori.timestamp_missing`.
//! - `event.original` is the line (without its line ending).
//! - `tenant` and `event.id` in the input are not trusted: the tenant comes
//!   from the [`ParseContext`] and the id is always derived from tenant and
//!   line, so that one tenant's input can neither claim another tenant nor
//!   overwrite another event by reusing its id. `event.original` in the input
//!   is replaced too.

use std::io::BufRead;

use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::cloudtrail::{self, TIMESTAMP_MISSING};
use crate::json;
use crate::lines::{Line, LineItems, LineParser};
use crate::record::{BadRecord, Item, ParseContext};
use crate::sniff;
use crate::time;

/// The longest line read: 64 MiB. Longer lines are bad records.
pub const MAX_LINE: usize = 64 << 20;

/// Where the event time is looked for, in order.
pub const TIMESTAMP_FIELDS: &[&str] = &["@timestamp", "timestamp", "time", "eventTime", "ts"];

/// Choices a caller can make about NDJSON input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NdjsonOptions {
    /// The field holding the event time (a key, or a dotted path into nested
    /// objects), instead of [`TIMESTAMP_FIELDS`].
    pub timestamp_field: Option<String>,
}

/// True when the first line of `head` is a JSON object.
pub fn sniff(head: &[u8]) -> bool {
    sniff::first_line_is_object(head)
}

/// Parse NDJSON with the default options.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    parse_with(NdjsonOptions::default(), input, ctx)
}

/// Parse NDJSON, streaming line by line.
pub fn parse_with(
    options: NdjsonOptions,
    input: Box<dyn BufRead + Send>,
    ctx: &ParseContext,
) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, MAX_LINE, Lines { options }, ctx)
}

struct Lines {
    options: NdjsonOptions,
}

impl LineParser for Lines {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        let content = line.content();
        let start = content.len() - content.trim_ascii_start().len();
        if content[start..].trim_ascii_end().is_empty() {
            return None;
        }
        let bad = |column: Option<u64>, reason: String| {
            let location = ctx.location(Some(line.number), column, Some(line.offset));
            Some(Item::Bad(BadRecord::new(location, reason, content)))
        };
        if line.too_long {
            return bad(None, format!("line longer than {MAX_LINE} bytes"));
        }
        let text = match std::str::from_utf8(content) {
            Ok(text) => text,
            Err(e) => {
                return bad(
                    Some(e.valid_up_to() as u64 + 1),
                    format!("line is not valid UTF-8: {e}"),
                );
            }
        };
        let obj = match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(obj)) => obj,
            Ok(other) => {
                let reason = format!("expected a JSON object, found {}", json::kind(&other));
                return bad(Some(start as u64 + 1), reason);
            }
            Err(e) => {
                let column = json::position(&e, line.number, 1).map(|(_, c)| c);
                let at = column.map(|c| format!(" at column {c}")).unwrap_or_default();
                return bad(column, format!("invalid JSON: {}{at}", json::message(&e)));
            }
        };
        if cloudtrail::is_record(&obj) {
            return Some(match cloudtrail::map_record(&Value::Object(obj), text, ctx) {
                Ok(ev) => Item::Event(Box::new(ev)),
                Err(reason) => return bad(Some(start as u64 + 1), reason),
            });
        }
        Some(Item::Event(Box::new(map_object(obj, text, &self.options, ctx))))
    }
}

/// Map one generic JSON object (the line `original`) to an event, as
/// described in the module documentation.
pub fn map_object(
    obj: Map<String, Value>,
    original: &str,
    options: &NdjsonOptions,
    ctx: &ParseContext,
) -> Event {
    let time = match &options.timestamp_field {
        Some(field) => lookup(&obj, field).and_then(time::from_value),
        None => TIMESTAMP_FIELDS
            .iter()
            .find_map(|f| lookup(&obj, f).and_then(time::from_value)),
    };
    let timestamp = time.unwrap_or(ctx.ingest_time);
    let mut ev = Event::new(&ctx.tenant, timestamp, original);
    for (key, value) in obj {
        if key != "tenant" && key != "@timestamp" {
            merge(&mut ev, &key, value);
        }
    }
    // What the input may not decide.
    ev.set("tenant", json!(ctx.tenant));
    ev.set_id(Event::derived_id(&ctx.tenant, original));
    ev.set("event.original", json!(original));
    ev.set_timestamp(timestamp);
    if time.is_none() {
        if let Some(Value::String(tag)) = ev.get("tags") {
            let tags = json!([tag]);
            ev.set("tags", tags);
        }
        ev.add_tag(TIMESTAMP_MISSING);
        ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
    }
    ev
}

/// Set `value` at `path`, merging objects into what is already there.
fn merge(ev: &mut Event, path: &str, value: Value) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (k, v) in map {
                merge(ev, &format!("{path}.{k}"), v);
            }
        }
        other => ev.set(path, other),
    }
}

/// The value of a key, or of a dotted path into nested objects.
fn lookup<'a>(obj: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(v) = obj.get(path) {
        return Some(v);
    }
    let (head, rest) = path.split_once('.')?;
    let mut value = obj.get(head)?;
    for key in rest.split('.') {
        value = value.get(key)?;
    }
    Some(value)
}
