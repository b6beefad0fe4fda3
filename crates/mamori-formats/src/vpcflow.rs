//! Amazon VPC Flow Logs (text records), mapped to ECS as Elastic's AWS VPC
//! Flow integration and SIEM on Amazon OpenSearch Service do.
//!
//! # Inputs
//! - The default format (version 2) without a header, as CloudWatch Logs
//!   delivers it: 14 fields `version account-id interface-id srcaddr dstaddr
//!   srcport dstport protocol packets bytes start end action log-status`.
//! - Any format (default or custom, versions 2–8) under a header line of
//!   field names in any order, as S3 delivery writes it
//!   (`version vpc-id subnet-id … log-status`); `${name}` is accepted for
//!   `name`. A header later in the input (concatenated files) replaces the
//!   one before it.
//! - Fields are separated by one or more spaces or tabs; `-` means missing.
//! - A line with another number of fields than the header (or than 14
//!   without one), a bad number or a bad IP address is a bad record with its
//!   line, the byte offset of the line and the column of the field, naming
//!   the field. Blank lines are skipped.
//! - `NODATA` and `SKIPDATA` records are events with `event.outcome` =
//!   `unknown` and the tag `aws.vpcflow.nodata` / `aws.vpcflow.skipdata`.
//!
//! # Mapping
//! Fields are set only when the record has them (not `-`).
//!
//! | Flow log field              | ECS / Mamori |
//! |-----------------------------|--------------|
//! | `start` (epoch seconds)     | `@timestamp` (else `end`; else the ingest time, tag `mamori.timestamp_missing`, `event.ingested`), `event.start` |
//! | `end`                       | `event.end`; with `start`: `event.duration` (ns) |
//! | the line (without its line ending) | `event.original`; `event.id` is derived from tenant and line |
//! | —                           | `event.kind` = `event`, `event.category` = `[network]`, `event.type` = `[connection]` (+ `allowed` / `denied`), `event.module` = `aws`, `event.dataset` = `aws.vpcflow`, `cloud.provider` = `aws` |
//! | `srcaddr`, `srcport`        | `source.ip`, `source.port` |
//! | `dstaddr`, `dstport`        | `destination.ip`, `destination.port` |
//! | `protocol`                  | `network.iana_number` (string), `network.transport` (`icmp`, `tcp`, `udp`, `ipv6-icmp`, `gre`, `esp`, `ah`, `sctp`, …) |
//! | `packets`                   | `source.packets`, `network.packets` |
//! | `bytes`                     | `source.bytes`, `network.bytes` |
//! | `action` `ACCEPT` / `REJECT` | `event.action` = `accept` / `reject`, `event.outcome` = `success` / `failure`, `aws.vpcflow.action` |
//! | `log-status`                | `aws.vpcflow.log_status`; `NODATA` / `SKIPDATA`: `event.outcome` = `unknown` and a tag |
//! | `account-id`                | `cloud.account.id` |
//! | `instance-id`               | `cloud.instance.id` |
//! | `region`                    | `cloud.region` |
//! | `az-id`                     | `cloud.availability_zone`, `aws.vpcflow.az_id` |
//! | `flow-direction` `ingress` / `egress` | `network.direction` = `inbound` / `outbound`, `aws.vpcflow.flow_direction` |
//! | `type` (`IPv4`, `IPv6`, `EFA`) | `aws.vpcflow.type`; `network.type` = `ipv4` / `ipv6` |
//! | `tcp-flags`                 | `aws.vpcflow.tcp_flags` (number), `aws.vpcflow.tcp_flags_array` (`fin`, `syn`, `rst`, `psh`, `ack`, `urg`) |
//! | `version`, `traffic-path`   | `aws.vpcflow.version`, `aws.vpcflow.traffic_path` (numbers) |
//! | `pkt-srcaddr`, `pkt-dstaddr` | `aws.vpcflow.pkt_srcaddr`, `aws.vpcflow.pkt_dstaddr` |
//! | every other field (`interface-id`, `vpc-id`, `subnet-id`, `sublocation-*`, `pkt-*-aws-service`, `ecs-*`, `reject-reason`, unknown names) | `aws.vpcflow.<name with - as _>` (string) |
//! | `srcaddr`, `dstaddr`, `pkt-srcaddr`, `pkt-dstaddr` | `related.ip` |

use std::io::BufRead;
use std::net::IpAddr;

use mamori_model::Event;
use mamori_model::event::format_ts;
use serde_json::{Value, json};

use crate::cloudtrail::TIMESTAMP_MISSING;
use crate::lines::{Line, LineItems, LineParser};
use crate::record::{BadRecord, Item, ParseContext};

/// The longest line read: 1 MiB. Longer lines are bad records.
pub const MAX_LINE: usize = 1 << 20;

/// Tag of `NODATA` records (no traffic in the capture window).
pub const NODATA_TAG: &str = "aws.vpcflow.nodata";

/// Tag of `SKIPDATA` records (records were skipped in the capture window).
pub const SKIPDATA_TAG: &str = "aws.vpcflow.skipdata";

/// The fields of the default (version 2) format, in order.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// Every field name of flow log versions 2 to 8.
pub const KNOWN_FIELDS: [&str; 40] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "tcp-flags",
    "type",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "region",
    "az-id",
    "sublocation-type",
    "sublocation-id",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
    "flow-direction",
    "traffic-path",
    "ecs-cluster-arn",
    "ecs-cluster-name",
    "ecs-container-instance-arn",
    "ecs-container-instance-id",
    "ecs-container-id",
    "ecs-second-container-id",
    "ecs-service-name",
    "ecs-task-definition-arn",
    "ecs-task-arn",
    "ecs-task-id",
    "reject-reason",
];

/// Fields that hold whole numbers.
const NUMERIC: [&str; 10] = [
    "version",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "tcp-flags",
    "traffic-path",
];

/// Fields that hold IP addresses.
const ADDRESSES: [&str; 4] = ["srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"];

/// True when an input starting with `head` is a flow log: its first line is
/// a header (field names, starting with `version` or naming `srcaddr`), or
/// a record of at least 14 fields whose first is a version 2–5 and whose
/// third is an interface id (`eni-…`).
pub fn sniff(head: &[u8]) -> bool {
    let (head, start) = crate::sniff::start(head);
    let rest = &head[start..];
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    let tokens: Vec<&str> = line.split_ascii_whitespace().collect();
    if let Some(names) = header_names(&tokens) {
        return names.first().is_some_and(|n| n == "version") || names.iter().any(|n| n == "srcaddr");
    }
    tokens.len() >= DEFAULT_FIELDS.len()
        && matches!(tokens[0], "2" | "3" | "4" | "5")
        && tokens[2].starts_with("eni-")
}

/// The field names of a header line: every token a name (lower-case
/// letters, digits and `-`, with a letter; `${name}` accepted) and more than
/// half of them known flow log fields. `None` for anything else.
fn header_names(tokens: &[&str]) -> Option<Vec<String>> {
    if tokens.is_empty() {
        return None;
    }
    let mut names = Vec::with_capacity(tokens.len());
    for t in tokens {
        let name = t
            .strip_prefix("${")
            .and_then(|t| t.strip_suffix('}'))
            .unwrap_or(t);
        let name_like = name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && name.bytes().any(|b| b.is_ascii_lowercase());
        if !name_like {
            return None;
        }
        names.push(name.to_string());
    }
    let known = names
        .iter()
        .filter(|n| KNOWN_FIELDS.contains(&n.as_str()))
        .count();
    (known * 2 > names.len()).then_some(names)
}

/// Parse flow log records, streaming line by line.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    LineItems::boxed(input, MAX_LINE, Flows { header: None }, ctx)
}

/// The header in force.
struct Header {
    names: Vec<String>,
    line: u64,
}

struct Flows {
    header: Option<Header>,
}

impl LineParser for Flows {
    fn line(&mut self, line: &Line, ctx: &ParseContext) -> Option<Item> {
        if line.is_blank() {
            return None;
        }
        let content = line.content();
        let bad = |column: u64, reason: String| {
            let location = ctx.location(Some(line.number), Some(column), Some(line.offset));
            Some(Item::Bad(BadRecord::new(location, reason, content)))
        };
        if line.too_long {
            return bad(1, format!("line longer than {MAX_LINE} bytes"));
        }
        let text = match std::str::from_utf8(content) {
            Ok(text) => text,
            Err(e) => {
                return bad(
                    e.valid_up_to() as u64 + 1,
                    format!("line is not valid UTF-8: {e}"),
                );
            }
        };
        let fields = tokens(text);
        let values: Vec<&str> = fields.iter().map(|(_, t)| *t).collect();
        if let Some(names) = header_names(&values) {
            self.header = Some(Header {
                names,
                line: line.number,
            });
            return None;
        }
        let names: Vec<&str> = match &self.header {
            Some(h) => h.names.iter().map(String::as_str).collect(),
            None => DEFAULT_FIELDS.to_vec(),
        };
        if fields.len() != names.len() {
            let expected = match &self.header {
                Some(h) => format!("{} fields as in the header on line {}", names.len(), h.line),
                None => format!("{} fields (the default version 2 format)", names.len()),
            };
            return bad(1, format!("expected {expected}, found {}", fields.len()));
        }
        let record: Vec<(&str, usize, &str)> = names
            .iter()
            .zip(&fields)
            .map(|(name, (col, value))| (*name, *col, *value))
            .collect();
        match map_record(&record, text, ctx) {
            Ok(ev) => Some(Item::Event(Box::new(ev))),
            Err((column, reason)) => bad(column as u64 + 1, reason),
        }
    }
}

/// The whitespace-separated tokens of a line, with their byte index.
fn tokens(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_ascii_whitespace(), start) {
            (true, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out
}

/// The transport of an IANA protocol number.
pub fn transport(protocol: u64) -> Option<&'static str> {
    Some(match protocol {
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        17 => "udp",
        41 => "ipv6",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        89 => "ospf",
        103 => "pim",
        112 => "vrrp",
        132 => "sctp",
        _ => return None,
    })
}

/// The names of the TCP flags set in `flags`.
fn tcp_flags(flags: u64) -> Vec<&'static str> {
    [
        (1, "fin"),
        (2, "syn"),
        (4, "rst"),
        (8, "psh"),
        (16, "ack"),
        (32, "urg"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, name)| *name)
    .collect()
}

/// Map one record, given as (field name, byte index, value), to an event.
/// Fails with the byte index of the bad field and why.
fn map_record(
    record: &[(&str, usize, &str)],
    original: &str,
    ctx: &ParseContext,
) -> Result<Event, (usize, String)> {
    // Check every field first: a bad value rejects the record.
    let mut numbers: Vec<(&str, u64)> = Vec::new();
    let mut ips: Vec<(&str, String)> = Vec::new();
    for &(name, col, value) in record {
        if value == "-" {
            continue;
        }
        if NUMERIC.contains(&name) {
            let n = value.parse::<u64>().map_err(|_| {
                (
                    col,
                    format!(
                        "field `{name}` (column {}): expected a whole number, found `{value}`",
                        col + 1
                    ),
                )
            })?;
            numbers.push((name, n));
        } else if ADDRESSES.contains(&name) {
            let ip = value.parse::<IpAddr>().map_err(|_| {
                (
                    col,
                    format!(
                        "field `{name}` (column {}): expected an IP address, found `{value}`",
                        col + 1
                    ),
                )
            })?;
            ips.push((name, ip.to_string()));
        }
    }
    let num = |name: &str| numbers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let ip = |name: &str| ips.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());

    let start = num("start").and_then(|s| chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0));
    let end = num("end").and_then(|s| chrono::DateTime::from_timestamp(i64::try_from(s).ok()?, 0));
    let time = start.or(end);
    let mut ev = Event::new(&ctx.tenant, time.unwrap_or(ctx.ingest_time), original);
    if time.is_none() {
        ev.add_tag(TIMESTAMP_MISSING);
        ev.set("event.ingested", json!(format_ts(ctx.ingest_time)));
    }
    ev.set("event.kind", json!("event"));
    ev.set("event.category", json!(["network"]));
    ev.set("event.module", json!("aws"));
    ev.set("event.dataset", json!("aws.vpcflow"));
    ev.set("cloud.provider", json!("aws"));
    if let Some(t) = start {
        ev.set("event.start", json!(format_ts(t)));
    }
    if let Some(t) = end {
        ev.set("event.end", json!(format_ts(t)));
    }
    if let (Some(s), Some(e)) = (start, end)
        && e >= s
    {
        let nanos = (e - s).num_nanoseconds();
        if let Some(n) = nanos {
            ev.set("event.duration", json!(n));
        }
    }

    let mut related: Vec<String> = Vec::new();
    let mut event_type = vec!["connection"];
    let mut outcome = None;
    for &(name, _, value) in record {
        if value == "-" {
            continue;
        }
        // `aws.vpcflow.<name>`, made only for the fields that go there.
        let vendor = || format!("aws.vpcflow.{}", name.replace('-', "_"));
        match name {
            "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr" => {
                let Some(addr) = ip(name) else { continue };
                if !related.contains(&addr) {
                    related.push(addr.clone());
                }
                match name {
                    "srcaddr" => ev.set("source.ip", json!(addr)),
                    "dstaddr" => ev.set("destination.ip", json!(addr)),
                    _ => ev.set(&vendor(), json!(addr)),
                }
            }
            "srcport" => ev.set("source.port", json!(num(name))),
            "dstport" => ev.set("destination.port", json!(num(name))),
            "protocol" => {
                if let Some(p) = num(name) {
                    ev.set("network.iana_number", json!(p.to_string()));
                    if let Some(t) = transport(p) {
                        ev.set("network.transport", json!(t));
                    }
                }
            }
            "packets" => {
                ev.set("source.packets", json!(num(name)));
                ev.set("network.packets", json!(num(name)));
            }
            "bytes" => {
                ev.set("source.bytes", json!(num(name)));
                ev.set("network.bytes", json!(num(name)));
            }
            "start" | "end" => {}
            "action" => {
                ev.set("event.action", json!(value.to_ascii_lowercase()));
                ev.set(&vendor(), json!(value));
                match value {
                    "ACCEPT" => {
                        outcome = outcome.or(Some("success"));
                        event_type.push("allowed");
                    }
                    "REJECT" => {
                        outcome = outcome.or(Some("failure"));
                        event_type.push("denied");
                    }
                    _ => {}
                }
            }
            "log-status" => {
                ev.set(&vendor(), json!(value));
                let tag = match value {
                    "NODATA" => Some(NODATA_TAG),
                    "SKIPDATA" => Some(SKIPDATA_TAG),
                    _ => None,
                };
                if let Some(tag) = tag {
                    ev.add_tag(tag);
                    outcome = Some("unknown");
                }
            }
            "account-id" => ev.set("cloud.account.id", json!(value)),
            "instance-id" => ev.set("cloud.instance.id", json!(value)),
            "region" => ev.set("cloud.region", json!(value)),
            "az-id" => {
                ev.set("cloud.availability_zone", json!(value));
                ev.set(&vendor(), json!(value));
            }
            "flow-direction" => {
                let direction = match value {
                    "ingress" => Some("inbound"),
                    "egress" => Some("outbound"),
                    _ => None,
                };
                if let Some(d) = direction {
                    ev.set("network.direction", json!(d));
                }
                ev.set(&vendor(), json!(value));
            }
            "type" => {
                match value {
                    "IPv4" => ev.set("network.type", json!("ipv4")),
                    "IPv6" => ev.set("network.type", json!("ipv6")),
                    _ => {}
                }
                ev.set(&vendor(), json!(value));
            }
            "tcp-flags" => {
                if let Some(flags) = num(name) {
                    ev.set(&vendor(), json!(flags));
                    ev.set("aws.vpcflow.tcp_flags_array", json!(tcp_flags(flags)));
                }
            }
            "version" | "traffic-path" => ev.set(&vendor(), json!(num(name))),
            _ => ev.set(&vendor(), Value::String(value.to_string())),
        }
    }
    // A record with a log status but no outcome yet (e.g. `OK` without action).
    if outcome.is_none() && record.iter().any(|(n, _, v)| *n == "action" && *v == "-") {
        outcome = Some("unknown");
    }
    if let Some(outcome) = outcome {
        ev.set("event.outcome", json!(outcome));
    }
    ev.set("event.type", json!(event_type));
    if !related.is_empty() {
        ev.set("related.ip", json!(related));
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_detection() {
        let h = |s: &str| header_names(&s.split_ascii_whitespace().collect::<Vec<_>>());
        assert!(h("version account-id interface-id srcaddr").is_some());
        assert_eq!(
            h("${srcaddr} ${dstaddr}"),
            Some(vec!["srcaddr".to_string(), "dstaddr".to_string()])
        );
        assert!(h("srcaddr dstaddr new-field-v9").is_some());
        assert!(h("eni-0a1b vpc-0c2d").is_none());
        assert!(h("2 123456789010 eni-1 - - - - - - - 1 2 - NODATA").is_none());
        assert!(h("").is_none());
    }

    #[test]
    fn tokens_and_flags() {
        assert_eq!(tokens("  a  bc\td "), vec![(2, "a"), (5, "bc"), (8, "d")]);
        assert_eq!(tcp_flags(18), vec!["syn", "ack"]);
        assert_eq!(tcp_flags(3), vec!["fin", "syn"]);
        assert_eq!(transport(58), Some("ipv6-icmp"));
        assert_eq!(transport(255), None);
    }
}
