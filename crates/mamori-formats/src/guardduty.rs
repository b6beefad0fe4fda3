//! Amazon GuardDuty findings in GuardDuty's own JSON, mapped to ECS as
//! Elastic's AWS GuardDuty integration and SIEM on Amazon OpenSearch Service
//! do. (GuardDuty findings in ASFF, as Security Hub holds them, are
//! [`crate::securityhub`]'s.)
//!
//! # Inputs
//! - Findings as exported to S3: one per line, a JSON array, or an object
//!   with a `findings` / `Findings` array (`aws guardduty get-findings`);
//!   compact or pretty-printed, plain or gzip. Keys may be camelCase (S3,
//!   EventBridge, the API) or PascalCase (the AWS CLI).
//! - EventBridge events (`"detail-type": "GuardDuty Finding"`): the finding is
//!   `detail`, and `event.original` is the whole envelope.
//! - A raw finding is told from ASFF by its keys: GuardDuty has `type`,
//!   `severity`, `resource`, `service`; ASFF has `SchemaVersion` (a date),
//!   `ProductArn`, `Types`.
//!
//! Splitting and recovery are described in `aws_finding`: a bad element
//! is a bad record and its neighbours are still read.
//!
//! # Mapping
//! Fields are set only when the finding has them (nulls are left out).
//!
//! | GuardDuty                                      | ECS / Mamori |
//! |------------------------------------------------|--------------|
//! | `updatedAt`, else `createdAt` (RFC 3339 or `YYYY-MM-DD HH:MM:SS.fff` UTC) | `@timestamp`; when neither parses: the ingest time, tag `mamori.timestamp_missing`, `event.ingested` |
//! | `id`                                           | `event.id` (else derived from tenant and original) |
//! | the finding's text (or the EventBridge envelope) | `event.original` |
//! | —                                              | `event.kind` = `alert`, `event.module` = `aws`, `event.dataset` = `aws.guardduty`, `cloud.provider` = `aws` |
//! | `type`                                         | `rule.name`, `finding.type` |
//! | `severity` (number)                            | `event.severity`, `aws.guardduty.severity` |
//! | `severity`: < 4, < 7, < 9, ≥ 9                 | `aws.guardduty.severity_label` = `Low`, `Medium`, `High`, `Critical` |
//! | `title`                                        | `message` |
//! | `description`                                  | `event.reason` |
//! | `accountId`, `region`                          | `cloud.account.id`, `cloud.region` |
//! | `arn`, `partition`, `schemaVersion`, `createdAt`, `updatedAt` | `aws.guardduty.arn`, `.partition`, `.schema_version`, `.created_at`, `.updated_at` |
//! | `resource` (keys in snake_case)                | `aws.guardduty.resource.*`, e.g. `.resource_type`, `.instance_details.instance_id`, `.access_key_details.access_key_id` |
//! | `resource.instanceDetails.instanceId`, `.instanceType`, `.availabilityZone` | `cloud.instance.id`, `cloud.machine.type`, `cloud.availability_zone` |
//! | `resource.instanceDetails.networkInterfaces[].privateIpAddress`, `.publicIp` | `related.ip` |
//! | `resource.accessKeyDetails.userName`, `.principalId` | `user.name` (and `related.user`), `user.id` |
//! | `service` without `action`, `count` (snake_case keys; `additionalInfo` kept as is) | `aws.guardduty.service.*` |
//! | `service.count`                                | `aws.guardduty.count` |
//! | `service.eventFirstSeen`, `.eventLastSeen`     | `event.start`, `event.end` |
//! | `service.additionalInfo.sample` = true         | tag `aws.guardduty.sample` |
//! | `service.action` (snake_case keys), `.actionType` | `aws.guardduty.action.*`, `aws.guardduty.action.type` |
//! | AWS_API_CALL: `awsApiCallAction.api`, `.serviceName` | `event.action`, `event.provider` |
//! | AWS_API_CALL: `.remoteIpDetails`, `.domainDetails.domain`, `.userAgent`, `.errorCode` | `source.*` (below), `source.domain`, `user_agent.original`, `error.code` |
//! | remote IP details: `ipAddressV4` / `ipAddressV6`, `country.countryCode`, `.countryName`, `city.cityName`, `geoLocation.lat`/`lon`, `organization.asn`, `.asnOrg` | `<side>.ip`, `<side>.geo.country_iso_code`, `.country_name`, `.city_name`, `.location`, `<side>.as.number`, `<side>.as.organization.name` |
//! | NETWORK_CONNECTION: `connectionDirection`, `protocol` | `network.direction` (`inbound`, `outbound`, `unknown`), `network.transport` (lower case) |
//! | NETWORK_CONNECTION inbound (or unknown): remote IP/port, local IP/port | `source.*`, `source.port`, `destination.ip`, `destination.port` |
//! | NETWORK_CONNECTION outbound: local IP/port, remote IP/port | `source.ip`, `source.port`, `destination.*`, `destination.port` |
//! | PORT_PROBE: `portProbeDetails[]`               | every remote IP in `related.ip`; the first probe's remote IP → `source.*`, its local port/IP → `destination.port`/`.ip`; `network.direction` = `inbound` |
//! | DNS_REQUEST: `dnsRequestAction.domain`, `.protocol` | `dns.question.name`, `network.transport`, `network.protocol` = `dns` |
//! | KUBERNETES_API_CALL: `.verb`, `.remoteIpDetails`, `.userAgent`, `.requestUri` | `event.action`, `source.*`, `user_agent.original`, `url.original` |
//! | RDS_LOGIN_ATTEMPT: `.remoteIpDetails`          | `source.*` |
//! | every IP above                                 | `related.ip` |
//!
//! Note: a finding keeps its `id` when GuardDuty updates it (`count` and
//! `updatedAt` change), so an update ingested into the same day's partition
//! is taken for a duplicate of the earlier version.

use std::io::BufRead;

use mamori_model::Event;
use serde_json::{Map, Value, json};

use crate::aws_finding::{self, Related, field, number, path, set_time, snake_keys, text};
use crate::json::kind;
use crate::record::{Item, ParseContext};

/// Tag of GuardDuty sample findings (`service.additionalInfo.sample`).
pub const SAMPLE_TAG: &str = "aws.guardduty.sample";

/// The EventBridge `detail-type` of GuardDuty findings.
const DETAIL_TYPE: &str = "GuardDuty Finding";

/// Members whose keys are data and are kept as they are.
const VERBATIM: [&str; 4] = ["additionalInfo", "affectedResources", "labels", "tags"];

/// True when an input starting with `head` holds GuardDuty findings: an
/// EventBridge GuardDuty event, a finding (one line or pretty-printed), an
/// array of findings, or an object with a `findings` array of them.
pub fn sniff(head: &[u8]) -> bool {
    let Some(obj) = aws_finding::first_value(head) else {
        return false;
    };
    if aws_finding::sniffed_str(&obj, "detail-type") == Some(DETAIL_TYPE.as_bytes()) {
        return true;
    }
    if let Some(first) = aws_finding::first_contained(&obj) {
        return first.is_some_and(|f| is_finding_head(&f));
    }
    is_finding_head(&obj)
}

/// The keys of a raw finding, camelCase or PascalCase, as far as seen.
fn is_finding_head(obj: &crate::sniff::Object<'_>) -> bool {
    let has = |k: &str| {
        let mut chars = k.chars();
        let pascal: String = chars
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .chain(chars)
            .collect();
        obj.get(k).is_some() || obj.get(&pascal).is_some()
    };
    let severity_is_number = ["severity", "Severity"]
        .iter()
        .find_map(|k| obj.get(k))
        .is_some_and(|v| v.first().is_some_and(|c| c.is_ascii_digit() || *c == b'-'));
    has("type") && severity_is_number && (has("service") || has("resource")) && !has("productArn")
}

/// True when a JSON value looks like a raw GuardDuty finding (`type`,
/// a numeric `severity`, and `service` or `resource`).
pub fn is_finding(v: &Value) -> bool {
    field(v, "type").is_some_and(Value::is_string)
        && field(v, "severity").is_some_and(Value::is_number)
        && (field(v, "service").is_some() || field(v, "resource").is_some())
}

/// Parse GuardDuty findings of any of the shapes above, lazily.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    aws_finding::parse(input, ctx, map_value)
}

/// A top-level value: an EventBridge envelope or a finding.
fn map_value(value: &Value, original: &str, ctx: &ParseContext) -> Vec<Result<Event, String>> {
    let detail_type = value.get("detail-type").and_then(Value::as_str);
    let finding = match value.get("detail") {
        Some(detail) if detail_type == Some(DETAIL_TYPE) => detail,
        _ => value,
    };
    vec![map_finding(finding, original, ctx)]
}

/// The label of a GuardDuty severity.
pub fn severity_label(severity: f64) -> &'static str {
    if severity < 4.0 {
        "Low"
    } else if severity < 7.0 {
        "Medium"
    } else if severity < 9.0 {
        "High"
    } else {
        "Critical"
    }
}

/// Map one raw GuardDuty finding to an event whose `event.original` is
/// `original`.
///
/// Fails when `value` is not an object, or has none of `id`, `type`, `arn`.
pub fn map_finding(value: &Value, original: &str, ctx: &ParseContext) -> Result<Event, String> {
    if !value.is_object() {
        return Err(format!(
            "a GuardDuty finding must be a JSON object, found {}",
            kind(value)
        ));
    }
    if field(value, "productArn").is_some() && field(value, "schemaVersion").is_some() {
        return Err("an ASFF (Security Hub) finding, not a GuardDuty one: read it as securityhub".into());
    }
    if !["id", "type", "arn"].iter().any(|k| field(value, k).is_some()) {
        return Err("not a GuardDuty finding: it has none of id, type, arn".into());
    }
    let get = |k: &str| field(value, k);
    let mut ev = aws_finding::new_event(&[get("updatedAt"), get("createdAt")], original, ctx);
    if let Some(id) = text(value, &["id"]) {
        // A finding keeps its id across updates; each update is its own event.
        let version = ev.get_str("@timestamp").unwrap_or_default().to_string();
        ev.set("aws.guardduty.finding_id", json!(id));
        ev.set_id(format!("{id}@{version}"));
    }
    ev.set("event.kind", json!("alert"));
    ev.set("event.module", json!("aws"));
    ev.set("event.dataset", json!("aws.guardduty"));
    ev.set("cloud.provider", json!("aws"));

    if let Some(t) = text(value, &["type"]) {
        ev.set("rule.name", json!(t));
        ev.set("finding.type", json!(t));
    }
    let severity = number(value, &["severity"]).and_then(|v| aws_finding::tidy_number(&v));
    if let Some(sev) = severity {
        if let Some(f) = sev.as_f64() {
            ev.set("aws.guardduty.severity_label", json!(severity_label(f)));
        }
        ev.set("aws.guardduty.severity", sev.clone());
        ev.set("event.severity", sev);
    }
    for (from, to) in [
        ("title", "message"),
        ("description", "event.reason"),
        ("accountId", "cloud.account.id"),
        ("region", "cloud.region"),
        ("arn", "aws.guardduty.arn"),
        ("partition", "aws.guardduty.partition"),
        ("schemaVersion", "aws.guardduty.schema_version"),
        ("createdAt", "aws.guardduty.created_at"),
        ("updatedAt", "aws.guardduty.updated_at"),
    ] {
        if let Some(v) = get(from) {
            ev.set(to, v.clone());
        }
    }

    let mut related = Related::default();
    if let Some(resource) = get("resource") {
        map_resource(&mut ev, resource, &mut related);
    }
    if let Some(service) = get("service") {
        map_service(&mut ev, service, &mut related);
    }
    related.write(&mut ev);
    Ok(ev)
}

fn map_resource(ev: &mut Event, resource: &Value, related: &mut Related) {
    ev.set("aws.guardduty.resource", snake_keys(resource, &VERBATIM));
    let instance = |k: &str| text(resource, &["instanceDetails", k]);
    for (from, to) in [
        ("instanceId", "cloud.instance.id"),
        ("instanceType", "cloud.machine.type"),
        ("availabilityZone", "cloud.availability_zone"),
    ] {
        if let Some(s) = instance(from) {
            ev.set(to, json!(s));
        }
    }
    let interfaces = path(resource, &["instanceDetails", "networkInterfaces"])
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for nic in interfaces {
        for key in ["privateIpAddress", "publicIp", "ipv6Addresses"] {
            match field(nic, key) {
                Some(Value::String(ip)) => {
                    related.ip(ip);
                }
                Some(Value::Array(ips)) => {
                    for ip in ips.iter().filter_map(Value::as_str) {
                        related.ip(ip);
                    }
                }
                _ => {}
            }
        }
    }
    if let Some(name) = text(resource, &["accessKeyDetails", "userName"]) {
        ev.set("user.name", json!(name));
        related.user(name);
    }
    if let Some(id) = text(resource, &["accessKeyDetails", "principalId"]) {
        ev.set("user.id", json!(id));
    }
}

fn map_service(ev: &mut Event, service: &Value, related: &mut Related) {
    if let Some(map) = service.as_object() {
        let rest: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "action" | "Action" | "count" | "Count"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if !rest.is_empty() {
            ev.set(
                "aws.guardduty.service",
                snake_keys(&Value::Object(rest), &VERBATIM),
            );
        }
    }
    if let Some(count) = number(service, &["count"]) {
        ev.set("aws.guardduty.count", count);
    }
    set_time(ev, "event.start", field(service, "eventFirstSeen"));
    set_time(ev, "event.end", field(service, "eventLastSeen"));
    let sample = path(service, &["additionalInfo", "sample"]);
    if sample == Some(&json!(true)) || sample == Some(&json!("true")) {
        ev.add_tag(SAMPLE_TAG);
    }
    if let Some(action) = field(service, "action") {
        let mut mapped = snake_keys(action, &VERBATIM);
        if let Some(obj) = mapped.as_object_mut()
            && let Some(t) = obj.remove("action_type")
        {
            obj.insert("type".into(), t);
        }
        ev.set("aws.guardduty.action", mapped);
        aws_finding::map_action(ev, action, related);
    }
}
