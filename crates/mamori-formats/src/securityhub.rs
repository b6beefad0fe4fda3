//! AWS Security Hub findings in the AWS Security Finding Format (ASFF),
//! mapped to ECS as Elastic's AWS Security Hub integration and SIEM on
//! Amazon OpenSearch Service do. Findings of every product Security Hub
//! carries (Security Hub controls, GuardDuty, Macie, Inspector, IAM Access
//! Analyzer, partners) are read alike.
//!
//! # Inputs
//! - `{"Findings":[…]}` (`get-findings`, `BatchImportFindings`), a JSON array
//!   of findings, one finding per line, or a single pretty-printed finding;
//!   plain or gzip.
//! - EventBridge events (`"detail-type": "Security Hub Findings - Imported"`,
//!   `- Custom Action`): one event per element of `detail.findings`.
//!   `event.original` is the envelope when it holds one finding, else the
//!   finding re-serialized.
//! - Wazuh's AWS integration envelope, one per line:
//!   `{"integration":"aws","aws":{…,"finding":{ASFF}}}` (`event.original` is
//!   the line).
//!
//! Splitting and recovery are described in `aws_finding`: a bad element
//! is a bad record and its neighbours are still read.
//!
//! # Mapping
//! Fields are set only when the finding has them (nulls are left out).
//!
//! | ASFF                                           | ECS / Mamori |
//! |------------------------------------------------|--------------|
//! | `UpdatedAt`, else `CreatedAt`, else `LastObservedAt` | `@timestamp`; when none parses: the ingest time, tag `mamori.timestamp_missing`, `event.ingested` |
//! | `Id`                                           | `event.id` (else derived from tenant and original) |
//! | —                                              | `event.kind` = `alert`, or `state` when the finding has `Compliance.Status` (a control check); `event.module` = `aws`, `event.dataset` = `aws.securityhub`, `cloud.provider` = `aws` |
//! | `Title`                                        | `rule.name`, `message` |
//! | `Description`                                  | `event.reason` |
//! | `Severity.Normalized` (else `FindingProviderFields.Severity.Normalized`, else from the label: 0, 1, 40, 70, 90) | `event.severity` |
//! | `Severity.Label` (else from `Normalized`: 0 INFORMATIONAL, < 40 LOW, < 70 MEDIUM, < 90 HIGH, else CRITICAL) | `aws.securityhub.severity_label` |
//! | `Types` (else `FindingProviderFields.Types`), its first | `aws.securityhub.types`, `finding.type` |
//! | `ProductName`, else `ProductFields."aws/securityhub/ProductName"`, else the part of `ProductArn` after `product/…/` | `aws.securityhub.product_name` |
//! | `CompanyName` (else from `ProductFields`), `ProductArn`, `GeneratorId`, `SchemaVersion` | `aws.securityhub.company_name`, `.product_arn`, `.generator_id`, `.schema_version` |
//! | `Compliance` (keys in snake_case: `.status`, `.security_control_id`, `.related_requirements`, …) | `aws.securityhub.compliance.*` |
//! | `Workflow.Status`, else `WorkflowState`        | `aws.securityhub.workflow.status` |
//! | `RecordState`                                  | `aws.securityhub.record_state` |
//! | `AwsAccountId`                                 | `cloud.account.id` |
//! | `Region`, else the first resource's `Region`, else the region of `ProductArn` | `cloud.region` |
//! | `Resources` (kept as they are)                 | `aws.securityhub.resources` |
//! | `Resources[0].Id`, `.Type`                     | `aws.securityhub.resource.id`, `.type` |
//! | the first resource of type `AwsEc2Instance`: the `i-…` of its `Id` | `cloud.instance.id` |
//! | `AwsEc2Instance` details `IpV4Addresses`, `IpV6Addresses` | `related.ip` |
//! | `AwsIamAccessKey` details `UserName` / `PrincipalName` / what follows `:` in `PrincipalId`, else `AwsIamUser` details `UserName` or the name in its ARN | `user.name`, `related.user` |
//! | `Network.SourceIpV4`/`V6`, `.SourcePort`, `.SourceDomain`, `.SourceMac` | `source.ip`, `source.port`, `source.domain`, `source.mac` |
//! | `Network.DestinationIpV4`/`V6`, `.DestinationPort`, `.DestinationDomain` | `destination.ip`, `destination.port`, `destination.domain` |
//! | `Network.Protocol`, `Network.Direction` (`IN`, `OUT`) | `network.transport` (lower case), `network.direction` (`inbound`, `outbound`) |
//! | `Action` (GuardDuty's action in PascalCase), `Action.ActionType`; without `Action`, GuardDuty's `ProductFields."aws/guardduty/service/action/…"` | as in [`crate::guardduty`]: `event.action`, `event.provider`, `source.*`, `destination.*`, `network.*`, `dns.question.name`; `aws.securityhub.action.type` (`Network` wins over `Action`) |
//! | `Vulnerabilities[].Id`                         | `vulnerability.id` (a list when several) |
//! | `Vulnerabilities[0].Cvss[0].BaseScore`         | `vulnerability.score.base` |
//! | `FirstObservedAt`, `LastObservedAt`            | `event.start`, `event.end`, `aws.securityhub.first_observed_at`, `.last_observed_at` |
//! | `CreatedAt`, `UpdatedAt`                       | `aws.securityhub.created_at`, `.updated_at` |
//! | `SourceUrl`                                    | `event.url` |
//! | `Remediation` (snake_case keys)                | `aws.securityhub.remediation.*` |
//! | `ProductFields` (kept as they are)             | `aws.securityhub.product_fields` |
//! | every IP above                                 | `related.ip` |
//!
//! Note: a finding keeps its `Id` across updates, so an update ingested into
//! the same day's partition is taken for a duplicate of the earlier version.

use std::io::BufRead;

use mamori_model::Event;
use serde_json::{Value, json};

use crate::aws_finding::{self, Related, field, path, set_time, snake_keys, text};
use crate::json::kind;
use crate::record::{Item, ParseContext};
use crate::sniff::Object;

/// The start of the EventBridge `detail-type` of Security Hub findings.
const DETAIL_TYPE: &str = "Security Hub Findings";

/// True when an input starting with `head` holds ASFF findings: a
/// `Findings` document, a finding, an array of findings, an EventBridge
/// Security Hub event, or a Wazuh envelope of one.
pub fn sniff(head: &[u8]) -> bool {
    let Some(obj) = aws_finding::first_value(head) else {
        return false;
    };
    if aws_finding::sniffed_str(&obj, "detail-type").is_some_and(|t| t.starts_with(DETAIL_TYPE.as_bytes())) {
        return true;
    }
    if let Some(first) = aws_finding::first_contained(&obj) {
        return first.is_none_or(|f| is_asff_head(&f));
    }
    if aws_finding::sniffed_str(&obj, "integration") == Some(b"aws")
        && let Some(aws) = obj.get("aws")
        && let Some(aws) = crate::sniff::object_at(aws, 0)
        && let Some(finding) = aws.get("finding")
    {
        return crate::sniff::object_at(finding, 0).is_some_and(|f| is_asff_head(&f));
    }
    is_asff_head(&obj)
}

/// The keys of an ASFF finding, as far as seen.
fn is_asff_head(obj: &Object<'_>) -> bool {
    obj.get("ProductArn").is_some()
        && ["SchemaVersion", "AwsAccountId", "GeneratorId"]
            .iter()
            .any(|k| obj.get(k).is_some())
}

/// True when a JSON value looks like an ASFF finding (`ProductArn` and
/// `SchemaVersion`, or `ProductArn` and `Id`).
pub fn is_finding(v: &Value) -> bool {
    v.get("ProductArn").is_some() && (v.get("SchemaVersion").is_some() || v.get("Id").is_some())
}

/// Parse ASFF findings of any of the shapes above, lazily.
pub fn parse(input: Box<dyn BufRead + Send>, ctx: &ParseContext) -> Box<dyn Iterator<Item = Item> + Send> {
    aws_finding::parse(input, ctx, map_value)
}

/// A top-level value: an envelope or a finding.
fn map_value(value: &Value, original: &str, ctx: &ParseContext) -> Vec<Result<Event, String>> {
    let detail_type = value.get("detail-type").and_then(Value::as_str);
    if detail_type.is_some_and(|t| t.starts_with(DETAIL_TYPE)) {
        let Some(findings) = path(value, &["detail", "findings"]) else {
            return vec![Err(format!(
                "`{}` event without detail.findings",
                detail_type.unwrap_or_default()
            ))];
        };
        let Some(findings) = findings.as_array() else {
            return vec![Err(format!(
                "detail.findings must be an array, found {}",
                kind(findings)
            ))];
        };
        if let [one] = findings.as_slice() {
            return vec![map_finding(one, original, ctx)];
        }
        return findings
            .iter()
            .map(|f| map_finding(f, &f.to_string(), ctx))
            .collect();
    }
    if value.get("integration").and_then(Value::as_str) == Some("aws")
        && let Some(finding) = path(value, &["aws", "finding"])
    {
        return vec![map_finding(finding, original, ctx)];
    }
    vec![map_finding(value, original, ctx)]
}

/// The label of a normalized (0–100) severity.
pub fn severity_label(normalized: f64) -> &'static str {
    if normalized <= 0.0 {
        "INFORMATIONAL"
    } else if normalized < 40.0 {
        "LOW"
    } else if normalized < 70.0 {
        "MEDIUM"
    } else if normalized < 90.0 {
        "HIGH"
    } else {
        "CRITICAL"
    }
}

/// A normalized severity standing for a label.
fn label_severity(label: &str) -> Option<i64> {
    match label.to_ascii_uppercase().as_str() {
        "INFORMATIONAL" => Some(0),
        "LOW" => Some(1),
        "MEDIUM" => Some(40),
        "HIGH" => Some(70),
        "CRITICAL" => Some(90),
        _ => None,
    }
}

/// Map one ASFF finding to an event whose `event.original` is `original`.
///
/// Fails when `value` is not an object, or has none of `Id`,
/// `SchemaVersion`, `ProductArn`.
pub fn map_finding(value: &Value, original: &str, ctx: &ParseContext) -> Result<Event, String> {
    if !value.is_object() {
        return Err(format!(
            "an ASFF finding must be a JSON object, found {}",
            kind(value)
        ));
    }
    if !["Id", "SchemaVersion", "ProductArn"]
        .iter()
        .any(|k| value.get(k).is_some())
    {
        if crate::guardduty::is_finding(value) {
            return Err("a GuardDuty finding, not an ASFF one: read it as guardduty".into());
        }
        return Err("not an ASFF finding: it has none of Id, SchemaVersion, ProductArn".into());
    }
    let get = |k: &str| value.get(k).filter(|v| !v.is_null());
    let mut ev = aws_finding::new_event(
        &[get("UpdatedAt"), get("CreatedAt"), get("LastObservedAt")],
        original,
        ctx,
    );
    if let Some(id) = text(value, &["Id"]) {
        // A finding keeps its id across updates; each update is its own event.
        let version = ev.get_str("@timestamp").unwrap_or_default().to_string();
        ev.set("aws.securityhub.finding_id", json!(id));
        ev.set_id(format!("{id}@{version}"));
    }
    let compliance = get("Compliance");
    let state = compliance.is_some_and(|c| text(c, &["Status"]).is_some());
    ev.set("event.kind", json!(if state { "state" } else { "alert" }));
    ev.set("event.module", json!("aws"));
    ev.set("event.dataset", json!("aws.securityhub"));
    ev.set("cloud.provider", json!("aws"));

    if let Some(title) = text(value, &["Title"]) {
        ev.set("rule.name", json!(title));
        ev.set("message", json!(title));
    }
    if let Some(d) = text(value, &["Description"]) {
        ev.set("event.reason", json!(d));
    }
    map_severity(&mut ev, value);
    let types = get("Types").or_else(|| path(value, &["FindingProviderFields", "Types"]));
    if let Some(types) = types {
        if let Some(first) = types.get(0).and_then(Value::as_str) {
            ev.set("finding.type", json!(first));
        }
        ev.set("aws.securityhub.types", types.clone());
    }
    let product_field = |k: &str| {
        get("ProductFields")
            .and_then(|p| p.get(format!("aws/securityhub/{k}")))
            .and_then(Value::as_str)
    };
    let product_arn = text(value, &["ProductArn"]);
    let product_name = text(value, &["ProductName"])
        .or_else(|| product_field("ProductName"))
        .map(str::to_string)
        .or_else(|| product_arn.and_then(product_from_arn));
    if let Some(name) = product_name {
        ev.set("aws.securityhub.product_name", json!(name));
    }
    if let Some(company) = text(value, &["CompanyName"]).or_else(|| product_field("CompanyName")) {
        ev.set("aws.securityhub.company_name", json!(company));
    }
    for (from, to) in [
        ("ProductArn", "product_arn"),
        ("GeneratorId", "generator_id"),
        ("SchemaVersion", "schema_version"),
        ("RecordState", "record_state"),
        ("FirstObservedAt", "first_observed_at"),
        ("LastObservedAt", "last_observed_at"),
        ("CreatedAt", "created_at"),
        ("UpdatedAt", "updated_at"),
        ("Resources", "resources"),
        ("ProductFields", "product_fields"),
    ] {
        if let Some(v) = get(from) {
            ev.set(&format!("aws.securityhub.{to}"), v.clone());
        }
    }
    if let Some(c) = compliance {
        ev.set("aws.securityhub.compliance", snake_keys(c, &[]));
    }
    if let Some(r) = get("Remediation") {
        ev.set("aws.securityhub.remediation", snake_keys(r, &[]));
    }
    if let Some(status) = text(value, &["Workflow", "Status"]).or_else(|| text(value, &["WorkflowState"])) {
        ev.set("aws.securityhub.workflow.status", json!(status));
    }
    if let Some(account) = text(value, &["AwsAccountId"]) {
        ev.set("cloud.account.id", json!(account));
    }
    let region = text(value, &["Region"])
        .or_else(|| {
            path(value, &["Resources"])
                .and_then(|r| r.get(0))
                .and_then(|r| text(r, &["Region"]))
        })
        .or_else(|| {
            product_arn
                .and_then(|arn| arn.split(':').nth(3))
                .filter(|r| !r.is_empty())
        });
    if let Some(region) = region {
        ev.set("cloud.region", json!(region));
    }
    set_time(&mut ev, "event.start", get("FirstObservedAt"));
    set_time(&mut ev, "event.end", get("LastObservedAt"));
    if let Some(url) = text(value, &["SourceUrl"]) {
        ev.set("event.url", json!(url));
    }

    let mut related = Related::default();
    if let Some(resources) = get("Resources").and_then(Value::as_array) {
        map_resources(&mut ev, resources, &mut related);
    }
    map_action(&mut ev, value, &mut related);
    if let Some(network) = get("Network") {
        map_network(&mut ev, network, &mut related);
    }
    map_vulnerabilities(&mut ev, value);
    related.write(&mut ev);
    Ok(ev)
}

fn map_severity(ev: &mut Event, value: &Value) {
    let severity = value
        .get("Severity")
        .filter(|s| s.is_object())
        .or_else(|| path(value, &["FindingProviderFields", "Severity"]));
    let Some(severity) = severity else { return };
    let label = text(severity, &["Label"]);
    let normalized = aws_finding::number(severity, &["Normalized"])
        .and_then(|n| aws_finding::tidy_number(&n))
        .or_else(|| label.and_then(label_severity).map(|n| json!(n)));
    match (label, normalized.as_ref().and_then(Value::as_f64)) {
        (Some(label), _) => ev.set("aws.securityhub.severity_label", json!(label)),
        (None, Some(n)) => ev.set("aws.securityhub.severity_label", json!(severity_label(n))),
        (None, None) => {}
    }
    if let Some(n) = normalized {
        ev.set("event.severity", n);
    }
}

/// `guardduty` from `arn:aws:securityhub:us-east-1::product/aws/guardduty`.
fn product_from_arn(arn: &str) -> Option<String> {
    let (_, rest) = arn.split_once(":product/")?;
    let name = rest.split('/').nth(1).unwrap_or(rest);
    (!name.is_empty()).then(|| name.to_string())
}

fn map_resources(ev: &mut Event, resources: &[Value], related: &mut Related) {
    if let Some(first) = resources.first() {
        if let Some(id) = text(first, &["Id"]) {
            ev.set("aws.securityhub.resource.id", json!(id));
        }
        if let Some(t) = text(first, &["Type"]) {
            ev.set("aws.securityhub.resource.type", json!(t));
        }
    }
    let mut instance = None;
    let mut user = None;
    for r in resources {
        match text(r, &["Type"]) {
            Some("AwsEc2Instance") => {
                if instance.is_none() {
                    instance = text(r, &["Id"]).and_then(instance_id);
                }
                for key in ["IpV4Addresses", "IpV6Addresses"] {
                    let ips = path(r, &["Details", "AwsEc2Instance", key]).and_then(Value::as_array);
                    for ip in ips.into_iter().flatten().filter_map(Value::as_str) {
                        related.ip(ip);
                    }
                }
            }
            Some("AwsIamAccessKey") => {
                let details = |k: &str| text(r, &["Details", "AwsIamAccessKey", k]);
                let from_principal = || {
                    details("PrincipalId")
                        .and_then(|p| p.split_once(':'))
                        .map(|(_, n)| n)
                };
                let name = details("UserName")
                    .or_else(|| details("PrincipalName"))
                    .or_else(from_principal);
                if let Some(name) = name {
                    user = Some(name.to_string());
                }
            }
            Some("AwsIamUser") if user.is_none() => {
                user = text(r, &["Details", "AwsIamUser", "UserName"])
                    .map(str::to_string)
                    .or_else(|| {
                        let id = text(r, &["Id"])?;
                        let (_, name) = id.split_once(":user/")?;
                        name.rsplit('/').next().map(str::to_string)
                    });
            }
            _ => {}
        }
    }
    if let Some(id) = instance {
        ev.set("cloud.instance.id", json!(id));
    }
    if let Some(name) = user.filter(|n| !n.is_empty()) {
        ev.set("user.name", json!(name));
        related.user(&name);
    }
}

/// `i-0abc` from `arn:aws:ec2:…:instance/i-0abc`, or the id itself.
fn instance_id(id: &str) -> Option<String> {
    let tail = id.rsplit_once("instance/").map_or(id, |(_, t)| t);
    tail.starts_with("i-").then(|| tail.to_string())
}

/// ASFF's `Action`, or GuardDuty's action flattened into `ProductFields`.
fn map_action(ev: &mut Event, value: &Value, related: &mut Related) {
    const GUARDDUTY_ACTION: &str = "aws/guardduty/service/action/";
    let rebuilt;
    let action = match field(value, "Action") {
        Some(action) => action,
        None => {
            let Some(fields) = value.get("ProductFields").and_then(Value::as_object) else {
                return;
            };
            let entries = fields
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(GUARDDUTY_ACTION).map(|k| (k, v)));
            rebuilt = aws_finding::unflatten(entries);
            if rebuilt.as_object().is_none_or(|o| o.is_empty()) {
                return;
            }
            &rebuilt
        }
    };
    if let Some(t) = aws_finding::action_type(action) {
        ev.set("aws.securityhub.action.type", json!(t));
    }
    aws_finding::map_action(ev, action, related);
}

fn map_network(ev: &mut Event, network: &Value, related: &mut Related) {
    for (side, prefix) in [("source", "Source"), ("destination", "Destination")] {
        let ip = text(network, &[&format!("{prefix}IpV4")])
            .or_else(|| text(network, &[&format!("{prefix}IpV6")]))
            .and_then(|ip| related.ip(ip));
        if let Some(ip) = ip {
            ev.set(&format!("{side}.ip"), json!(ip));
        }
        if let Some(port) = aws_finding::whole(network, &[&format!("{prefix}Port")]) {
            ev.set(&format!("{side}.port"), json!(port));
        }
        if let Some(domain) = text(network, &[&format!("{prefix}Domain")]) {
            ev.set(&format!("{side}.domain"), json!(domain));
        }
    }
    if let Some(mac) = text(network, &["SourceMac"]) {
        ev.set("source.mac", json!(mac));
    }
    if let Some(proto) = text(network, &["Protocol"]) {
        ev.set("network.transport", json!(proto.to_ascii_lowercase()));
    }
    let direction = match text(network, &["Direction"]) {
        Some("IN") => Some("inbound"),
        Some("OUT") => Some("outbound"),
        _ => None,
    };
    if let Some(direction) = direction {
        ev.set("network.direction", json!(direction));
    }
}

fn map_vulnerabilities(ev: &mut Event, value: &Value) {
    let Some(vulns) = value.get("Vulnerabilities").and_then(Value::as_array) else {
        return;
    };
    let ids: Vec<&str> = vulns.iter().filter_map(|v| text(v, &["Id"])).collect();
    match ids.as_slice() {
        [] => {}
        [one] => ev.set("vulnerability.id", json!(one)),
        many => ev.set("vulnerability.id", json!(many)),
    }
    let score = vulns
        .first()
        .and_then(|v| v.get("Cvss"))
        .and_then(|c| c.get(0))
        .and_then(|c| aws_finding::number(c, &["BaseScore"]));
    if let Some(score) = score {
        ev.set("vulnerability.score.base", score);
    }
}
