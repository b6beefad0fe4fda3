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

use chrono::{DateTime, NaiveDateTime, Utc};
use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Map, Value, json};

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::json_array::{Layout, Piece, Pieces, invalid_json};
use crate::record::{BadRecord, Item, Location, ParseContext};
use crate::scan::skip_ws;
use crate::time;

/// A document of findings: an object with a `Findings` or `findings` array.
const LAYOUT: Layout = Layout {
    element: "finding",
    array: "findings",
    keys: &[b"Findings", b"findings"],
    strict: false,
};

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
        pieces: Pieces::new(input, ctx, &LAYOUT),
        map,
        out: VecDeque::new(),
    })
}

struct Documents {
    pieces: Pieces,
    map: MapFn,
    /// Items made from a piece and not yet returned.
    out: VecDeque<Item>,
}

impl Iterator for Documents {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        loop {
            if let Some(item) = self.out.pop_front() {
                return Some(item);
            }
            let piece = self.pieces.next_piece()?;
            self.render(piece);
        }
    }
}

impl Documents {
    /// A piece as items, into `out`.
    fn render(&mut self, piece: Piece) {
        let (range, location) = match piece {
            Piece::Item(item) => return self.out.push_back(item),
            Piece::Element { range, location } | Piece::Object { range, location } => (range, location),
        };
        let bytes = self.pieces.doc().get(range).unwrap_or_default();
        let bad = |location: Location, reason: String| Item::Bad(BadRecord::new(location, reason, bytes));
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => return self.out.push_back(bad(location, format!("not valid UTF-8: {e}"))),
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                let reason = invalid_json(&e, &location);
                return self.out.push_back(bad(location, reason));
            }
        };
        let results = (self.map)(&value, text, self.pieces.ctx());
        for result in results {
            let item = match result {
                Ok(ev) => Item::Event(Box::new(ev)),
                Err(reason) => bad(location.clone(), reason),
            };
            self.out.push_back(item);
        }
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
