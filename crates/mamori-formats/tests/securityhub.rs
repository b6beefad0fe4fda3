//! Security Hub (ASFF) findings: every input shape, every mapped field, bad records.

mod common;

use common::{ctx, fixture, run, split};
use mamori_formats::sniff::sniff;
use mamori_formats::{Format, securityhub};
use mamori_model::Event;
use serde_json::{Value, json};

fn findings_value() -> Vec<Value> {
    let doc: Value = serde_json::from_str(&fixture("securityhub_findings.json")).unwrap();
    doc["Findings"].as_array().unwrap().clone()
}

fn events() -> Vec<Event> {
    let s = split(run(Format::SecurityHub, fixture("securityhub_findings.json")));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.events.len(), 5);
    s.events
}

fn assert_fields(ev: &Event, expect: &[(&str, Value)]) {
    for (path, want) in expect {
        assert_eq!(ev.get(path), Some(want), "{path} in {}", ev.to_json());
    }
}

#[test]
fn control_finding_maps_every_field() {
    let ev = &events()[0];
    assert_fields(
        ev,
        &[
            ("@timestamp", json!("2024-06-10T08:00:05.000000Z")),
            ("tenant", json!("acme")),
            (
                "aws.securityhub.finding_id",
                json!(
                    "arn:aws:securityhub:eu-west-3:111122223333:security-control/S3.8/finding/0f000000-0000-4000-8000-000000000001"
                ),
            ),
            ("event.kind", json!("state")),
            ("event.module", json!("aws")),
            ("event.dataset", json!("aws.securityhub")),
            ("cloud.provider", json!("aws")),
            ("cloud.account.id", json!("111122223333")),
            ("cloud.region", json!("eu-west-3")),
            (
                "rule.name",
                json!("S3 general purpose buckets should block public access"),
            ),
            (
                "message",
                json!("S3 general purpose buckets should block public access"),
            ),
            (
                "event.reason",
                json!(
                    "This control checks whether an S3 general purpose bucket blocks public access at the bucket level."
                ),
            ),
            ("event.severity", json!(70)),
            ("aws.securityhub.severity_label", json!("HIGH")),
            (
                "finding.type",
                json!("Software and Configuration Checks/Industry and Regulatory Standards"),
            ),
            (
                "aws.securityhub.types",
                json!(["Software and Configuration Checks/Industry and Regulatory Standards"]),
            ),
            ("aws.securityhub.product_name", json!("Security Hub")),
            ("aws.securityhub.company_name", json!("AWS")),
            (
                "aws.securityhub.product_arn",
                json!("arn:aws:securityhub:eu-west-3::product/aws/securityhub"),
            ),
            ("aws.securityhub.generator_id", json!("security-control/S3.8")),
            ("aws.securityhub.schema_version", json!("2018-10-08")),
            ("aws.securityhub.compliance.status", json!("FAILED")),
            ("aws.securityhub.compliance.security_control_id", json!("S3.8")),
            (
                "aws.securityhub.compliance.related_requirements",
                json!(["NIST.800-53.r5 AC-21"]),
            ),
            (
                "aws.securityhub.compliance.associated_standards",
                json!([{"standards_id": "standards/aws-foundational-security-best-practices/v/1.0.0"}]),
            ),
            // Workflow.Status wins over the deprecated WorkflowState.
            ("aws.securityhub.workflow.status", json!("NOTIFIED")),
            ("aws.securityhub.record_state", json!("ACTIVE")),
            (
                "aws.securityhub.resource.id",
                json!("arn:aws:s3:::example-public-bucket"),
            ),
            ("aws.securityhub.resource.type", json!("AwsS3Bucket")),
            (
                "aws.securityhub.resources",
                findings_value()[0]["Resources"].clone(),
            ),
            (
                "aws.securityhub.remediation.recommendation.url",
                json!("https://docs.example.com/S3.8"),
            ),
            (
                "aws.securityhub.first_observed_at",
                json!("2024-05-01T00:00:00.000Z"),
            ),
            (
                "aws.securityhub.last_observed_at",
                json!("2024-06-10T08:00:00.000Z"),
            ),
            ("aws.securityhub.created_at", json!("2024-05-01T00:00:00.000Z")),
            ("aws.securityhub.updated_at", json!("2024-06-10T08:00:05.000Z")),
            ("event.start", json!("2024-05-01T00:00:00.000000Z")),
            ("event.end", json!("2024-06-10T08:00:00.000000Z")),
            ("event.url", json!("https://console.example.com/securityhub/S3.8")),
            (
                "aws.securityhub.product_fields",
                json!({"aws/securityhub/ProductName": "Security Hub"}),
            ),
        ],
    );
    assert!(ev.get("related").is_none());
    assert!(ev.get("cloud.instance.id").is_none());
    assert!(ev.original().starts_with("{\n      \"SchemaVersion\""));
}

#[test]
fn guardduty_finding_with_network_and_instance() {
    let ev = &events()[1];
    assert_fields(
        ev,
        &[
            ("@timestamp", json!("2024-06-11T10:30:00.000000Z")),
            ("event.kind", json!("alert")),
            ("event.severity", json!(20)),
            ("aws.securityhub.severity_label", json!("LOW")),
            // From ProductFields, then the region of ProductArn.
            ("aws.securityhub.product_name", json!("GuardDuty")),
            ("aws.securityhub.company_name", json!("Amazon")),
            ("cloud.region", json!("eu-west-3")),
            ("cloud.instance.id", json!("i-0abc0000000000001")),
            ("source.ip", json!("203.0.113.50")),
            ("source.port", json!(40404)),
            ("destination.ip", json!("10.4.4.4")),
            ("destination.port", json!(22)),
            ("network.transport", json!("tcp")),
            ("network.direction", json!("inbound")),
            ("aws.securityhub.workflow.status", json!("NEW")),
            ("related.ip", json!(["10.4.4.4", "192.0.2.4", "203.0.113.50"])),
        ],
    );
}

#[test]
fn inspector_access_analyzer_and_macie() {
    let evs = events();
    assert_fields(
        &evs[2],
        &[
            // No UpdatedAt: CreatedAt.
            ("@timestamp", json!("2024-06-12T00:00:00.000000Z")),
            ("aws.securityhub.product_name", json!("Inspector")),
            ("vulnerability.id", json!(["CVE-2024-00001", "CVE-2024-00002"])),
            ("vulnerability.score.base", json!(9.8)),
            ("event.severity", json!(90)),
            ("aws.securityhub.severity_label", json!("CRITICAL")),
            ("cloud.instance.id", json!("i-0abc0000000000002")),
            // No Region: the first resource's.
            ("cloud.region", json!("eu-west-1")),
        ],
    );
    assert_fields(
        &evs[3],
        &[
            // Only LastObservedAt.
            ("@timestamp", json!("2024-06-13T00:00:00.000000Z")),
            // From ProductArn.
            ("aws.securityhub.product_name", json!("access-analyzer")),
            // A label without a number.
            ("event.severity", json!(1)),
            ("aws.securityhub.severity_label", json!("LOW")),
            ("aws.securityhub.workflow.status", json!("NEW")),
            ("user.name", json!("bob")),
            ("related.user", json!(["bob"])),
        ],
    );
    assert_fields(
        &evs[4],
        &[
            (
                "aws.securityhub.finding_id",
                json!("d4000000-0000-4000-8000-000000000004"),
            ),
            ("aws.securityhub.product_name", json!("macie")),
            // A number without a label.
            ("event.severity", json!(50)),
            ("aws.securityhub.severity_label", json!("MEDIUM")),
            ("aws.securityhub.action.type", json!("AWS_API_CALL")),
            ("event.action", json!("GetObject")),
            ("event.provider", json!("s3.amazonaws.com")),
            ("source.ip", json!("198.51.100.99")),
            ("source.geo.country_iso_code", json!("DE")),
            ("source.as.number", json!(64502)),
            ("user.name", json!("carol")),
            ("related.ip", json!(["198.51.100.99"])),
        ],
    );
    for (n, label) in [
        (0.0, "INFORMATIONAL"),
        (39.0, "LOW"),
        (40.0, "MEDIUM"),
        (89.0, "HIGH"),
        (90.0, "CRITICAL"),
    ] {
        assert_eq!(securityhub::severity_label(n), label);
    }
}

#[test]
fn guardduty_action_in_product_fields() {
    let finding = json!({
        "SchemaVersion": "2018-10-08",
        "Id": "gd-pf",
        "ProductArn": "arn:aws:securityhub:eu-west-3::product/aws/guardduty",
        "AwsAccountId": "111122223333",
        "UpdatedAt": "2024-06-15T00:00:00Z",
        "Severity": {"Normalized": 40},
        "Title": "probe",
        "ProductFields": {
            "aws/guardduty/service/action/actionType": "PORT_PROBE",
            "aws/guardduty/service/action/portProbeAction/portProbeDetails:0/remoteIpDetails/ipAddressV4": "198.51.100.1",
            "aws/guardduty/service/action/portProbeAction/portProbeDetails:0/localPortDetails/port": "3389",
            "aws/guardduty/service/action/portProbeAction/portProbeDetails:1/remoteIpDetails/ipAddressV4": "198.51.100.2"
        }
    });
    let s = split(run(Format::SecurityHub, finding.to_string()));
    assert_fields(
        &s.events[0],
        &[
            ("aws.securityhub.action.type", json!("PORT_PROBE")),
            ("source.ip", json!("198.51.100.1")),
            ("destination.port", json!(3389)),
            ("related.ip", json!(["198.51.100.1", "198.51.100.2"])),
            ("aws.securityhub.product_name", json!("guardduty")),
        ],
    );
}

#[test]
fn every_input_shape() {
    let findings = findings_value();
    let ids: Vec<String> = events().iter().map(|e| e.id().to_string()).collect();
    let ndjson: String = findings.iter().map(|f| f.to_string() + "\n").collect();
    let wazuh: String = findings
        .iter()
        .map(|f| {
            json!({
                "integration": "aws",
                "aws": {"log_info": {"s3bucket": "b"}, "source": "securityhub", "finding": f}
            })
            .to_string()
                + "\n"
        })
        .collect();
    for (name, input) in [
        ("ndjson", ndjson.clone()),
        ("Findings compact", json!({ "Findings": findings }).to_string()),
        (
            "array",
            serde_json::to_string_pretty(&Value::Array(findings.clone())).unwrap(),
        ),
        ("wazuh", wazuh.clone()),
    ] {
        assert_eq!(sniff(input.as_bytes()), Some(Format::SecurityHub), "{name}");
        let s = split(run(Format::SecurityHub, &input));
        assert!(s.bad.is_empty() && s.warnings.is_empty(), "{name}: {:?}", s.bad);
        let got: Vec<&str> = s.events.iter().map(Event::id).collect();
        assert_eq!(got, ids, "{name}");
    }
    let s = split(run(Format::SecurityHub, &wazuh));
    assert_eq!(s.events[0].original(), wazuh.lines().next().unwrap());
    assert_eq!(
        s.events[0].get_str("aws.securityhub.compliance.status"),
        Some("FAILED")
    );
    let pretty = serde_json::to_string_pretty(&findings[1]).unwrap();
    assert_eq!(sniff(pretty.as_bytes()), Some(Format::SecurityHub));
    assert_eq!(split(run(Format::SecurityHub, &pretty)).events.len(), 1);
}

#[test]
fn eventbridge_envelopes() {
    let findings = findings_value();
    let envelope = |list: &[Value]| {
        json!({
            "version": "0",
            "id": "e1",
            "detail-type": "Security Hub Findings - Imported",
            "source": "aws.securityhub",
            "account": "111122223333",
            "time": "2024-06-16T00:00:00Z",
            "region": "eu-west-3",
            "resources": [],
            "detail": {"findings": list}
        })
        .to_string()
    };
    let one = envelope(&findings[..1]);
    assert_eq!(sniff(one.as_bytes()), Some(Format::SecurityHub));
    let s = split(run(Format::SecurityHub, &one));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].original(), one);
    // Several findings (and one that is not an object): one item each.
    let mut list = findings[1..3].to_vec();
    list.push(json!("nope"));
    let two = envelope(&list) + "\n" + &one;
    let s = split(run(Format::SecurityHub, &two));
    assert_eq!(s.events.len(), 3);
    assert_eq!(s.bad.len(), 1);
    assert_eq!(s.bad[0].location.line, Some(1));
    assert!(s.bad[0].reason.contains("found a string"));
    assert_eq!(s.events[0].original(), findings[1].to_string());
    assert_eq!(s.events[2].original(), one);
    let broken = r#"{"detail-type":"Security Hub Findings - Custom Action","detail":{"findings":{}}}"#;
    let s = split(run(Format::SecurityHub, broken));
    assert_eq!(s.bad.len(), 1);
    assert!(
        s.bad[0].reason.contains("must be an array"),
        "{}",
        s.bad[0].reason
    );
}

#[test]
fn bad_elements_and_lines() {
    let findings = findings_value();
    let text = format!(
        "{{\"Findings\": [\n{},\n{{\"Id\": bad}},\n{{\"type\": \"x\", \"severity\": 2, \"service\": {{}}}},\n[1],\n{}\n]}}",
        findings[0], findings[1]
    );
    let s = split(run(Format::SecurityHub, &text));
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.bad.len(), 3, "{:?}", s.bad);
    assert_eq!(s.bad[0].location.line, Some(3));
    assert_eq!(s.bad[0].location.column, Some(1));
    assert_eq!(
        s.bad[0].location.byte_offset,
        Some(text.find("{\"Id\": bad}").unwrap() as u64)
    );
    assert!(s.bad[0].reason.starts_with("invalid JSON"), "{}", s.bad[0].reason);
    assert!(
        s.bad[1].reason.contains("read it as guardduty"),
        "{}",
        s.bad[1].reason
    );
    assert!(s.bad[2].reason.contains("found an array"), "{}", s.bad[2].reason);
    // NDJSON with a broken line.
    let text = format!("{}\nnot json\n{}\n", findings[3], findings[4]);
    let s = split(run(Format::SecurityHub, &text));
    assert_eq!((s.events.len(), s.bad.len()), (2, 1));
    assert_eq!(s.bad[0].location.line, Some(2));
    // Not an ASFF finding.
    let s = split(run(Format::SecurityHub, "{\"a\": 1}"));
    assert!(s.bad[0].reason.contains("none of Id, SchemaVersion, ProductArn"));
    assert!(securityhub::is_finding(&findings[0]));
    let ev = securityhub::map_finding(&findings[0], "orig", &ctx()).unwrap();
    assert_eq!(ev.original(), "orig");
}

#[test]
fn sniffing_tells_asff_from_the_rest() {
    assert_eq!(sniff(br#"{"Findings": []}"#), Some(Format::SecurityHub));
    let gd_findings = br#"{"Findings": [{"Type": "Recon:EC2/Portscan", "Severity": 2, "Service": {}}]}"#;
    assert_eq!(sniff(gd_findings), Some(Format::GuardDuty));
    let not_asff_wazuh = br#"{"integration":"aws","aws":{"source":"vpc","finding":{"x":1}}}"#;
    assert_eq!(sniff(not_asff_wazuh), Some(Format::Ndjson));
    let product_arn_only = br#"{"ProductArn":"x"}"#;
    assert_eq!(sniff(product_arn_only), Some(Format::Ndjson));
    assert_eq!(Format::from_name("SecurityHub"), Some(Format::SecurityHub));
}
