//! GuardDuty findings: every input shape, every mapped field, bad records.

mod common;

use common::{INGEST, ctx, fixture, run, split};
use mamori_formats::sniff::sniff;
use mamori_formats::{Format, guardduty};
use mamori_model::Event;
use serde_json::{Map, Value, json};

fn findings_value() -> Vec<Value> {
    serde_json::from_str::<Value>(&fixture("guardduty_findings.json"))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn events() -> Vec<Event> {
    let s = split(run(Format::GuardDuty, fixture("guardduty_findings.json")));
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
fn api_call_finding_maps_every_field() {
    let ev = &events()[0];
    assert_fields(
        ev,
        &[
            ("@timestamp", json!("2024-06-01T09:05:00.000000Z")),
            ("tenant", json!("acme")),
            (
                "aws.guardduty.finding_id",
                json!("a1000000000000000000000000000001"),
            ),
            ("event.kind", json!("alert")),
            ("event.module", json!("aws")),
            ("event.dataset", json!("aws.guardduty")),
            ("cloud.provider", json!("aws")),
            ("cloud.account.id", json!("111122223333")),
            ("cloud.region", json!("eu-west-3")),
            ("rule.name", json!("Discovery:IAMUser/MaliciousIPCaller")),
            ("finding.type", json!("Discovery:IAMUser/MaliciousIPCaller")),
            ("event.severity", json!(5)),
            ("aws.guardduty.severity", json!(5)),
            ("aws.guardduty.severity_label", json!("Medium")),
            (
                "message",
                json!("Discovery API ListUsers invoked from a malicious IP."),
            ),
            (
                "event.reason",
                json!(
                    "APIs commonly used in discovery tactics were invoked by user alice from a known malicious IP address."
                ),
            ),
            (
                "aws.guardduty.arn",
                json!(
                    "arn:aws:guardduty:eu-west-3:111122223333:detector/0a1b2c3d4e5f60718293a4b5c6d7e8f9/finding/a1000000000000000000000000000001"
                ),
            ),
            ("aws.guardduty.partition", json!("aws")),
            ("aws.guardduty.schema_version", json!("2.0")),
            ("aws.guardduty.created_at", json!("2024-06-01T09:00:00.000Z")),
            ("aws.guardduty.updated_at", json!("2024-06-01T09:05:00.000Z")),
            ("aws.guardduty.resource.resource_type", json!("AccessKey")),
            (
                "aws.guardduty.resource.access_key_details.access_key_id",
                json!("ASIAEXAMPLEKEY000001"),
            ),
            (
                "aws.guardduty.resource.access_key_details.user_name",
                json!("alice"),
            ),
            (
                "aws.guardduty.resource.access_key_details.user_type",
                json!("IAMUser"),
            ),
            ("user.name", json!("alice")),
            ("user.id", json!("AIDAEXAMPLEPRINCIPAL1")),
            ("related.user", json!(["alice"])),
            ("aws.guardduty.count", json!(3)),
            (
                "aws.guardduty.service.detector_id",
                json!("0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
            ),
            ("aws.guardduty.service.resource_role", json!("TARGET")),
            ("aws.guardduty.service.archived", json!(false)),
            ("aws.guardduty.service.service_name", json!("guardduty")),
            (
                "aws.guardduty.service.additional_info",
                json!({"threatListName": "ExampleList", "sample": true}),
            ),
            ("event.start", json!("2024-06-01T08:50:00.000000Z")),
            ("event.end", json!("2024-06-01T08:59:30.000000Z")),
            ("tags", json!([guardduty::SAMPLE_TAG])),
            ("aws.guardduty.action.type", json!("AWS_API_CALL")),
            ("aws.guardduty.action.aws_api_call_action.api", json!("ListUsers")),
            (
                "aws.guardduty.action.aws_api_call_action.affected_resources",
                json!({"AWS::IAM::User": "arn:aws:iam::111122223333:user/alice"}),
            ),
            ("event.action", json!("ListUsers")),
            ("event.provider", json!("iam.amazonaws.com")),
            ("user_agent.original", json!("aws-cli/2.15.0")),
            ("error.code", json!("AccessDenied")),
            ("source.ip", json!("198.51.100.77")),
            ("source.geo.country_iso_code", json!("NL")),
            ("source.geo.country_name", json!("Netherlands")),
            ("source.geo.city_name", json!("Exampleville")),
            ("source.geo.location", json!({"lat": 52.37, "lon": 4.89})),
            ("source.as.number", json!(64500)),
            ("source.as.organization.name", json!("EXAMPLE-AS")),
            ("related.ip", json!(["198.51.100.77"])),
        ],
    );
    // Nulls are left out; the action and count are not repeated under service.
    assert!(ev.get("aws.guardduty.service.evidence").is_none());
    assert!(ev.get("aws.guardduty.service.action").is_none());
    assert!(ev.get("aws.guardduty.service.count").is_none());
    assert!(ev.get("aws.guardduty.action.action_type").is_none());
    // event.original is the array element as written.
    assert!(
        ev.original().starts_with("{\n    \"accountId\""),
        "{}",
        ev.original()
    );
    assert!(ev.original().ends_with('}'));
    assert!(serde_json::from_str::<Value>(ev.original()).is_ok());
}

#[test]
fn inbound_network_connection() {
    let ev = &events()[1];
    assert_fields(
        ev,
        &[
            ("@timestamp", json!("2024-06-02T10:01:00.000000Z")),
            ("aws.guardduty.severity_label", json!("Low")),
            ("event.severity", json!(2)),
            ("cloud.instance.id", json!("i-0aaaabbbbccccdddd")),
            ("cloud.machine.type", json!("t3.micro")),
            ("cloud.availability_zone", json!("eu-west-3a")),
            (
                "aws.guardduty.resource.instance_details.image_id",
                json!("ami-0123456789abcdef0"),
            ),
            (
                "aws.guardduty.resource.instance_details.tags",
                json!([{"key": "Name", "value": "bastion"}]),
            ),
            ("aws.guardduty.action.type", json!("NETWORK_CONNECTION")),
            (
                "aws.guardduty.action.network_connection_action.local_port_details.port_name",
                json!("SSH"),
            ),
            ("network.direction", json!("inbound")),
            ("network.transport", json!("tcp")),
            ("source.ip", json!("203.0.113.9")),
            ("source.port", json!(51515)),
            ("source.geo.country_iso_code", json!("FR")),
            ("source.as.number", json!(64501)),
            ("source.as.organization.name", json!("EXAMPLE-NET")),
            ("destination.ip", json!("10.1.2.3")),
            ("destination.port", json!(22)),
            ("aws.guardduty.count", json!(120)),
            ("event.start", json!("2024-06-02T09:00:00.000000Z")),
            ("event.end", json!("2024-06-02T09:58:00.000000Z")),
            ("related.ip", json!(["10.1.2.3", "192.0.2.44", "203.0.113.9"])),
        ],
    );
    assert!(ev.get("tags").is_none());
    assert!(ev.get("user.name").is_none());
}

#[test]
fn port_probe_every_remote_ip_is_related() {
    let ev = &events()[2];
    assert_fields(
        ev,
        &[
            // No updatedAt: createdAt.
            ("@timestamp", json!("2024-06-03T11:00:00.000000Z")),
            ("event.severity", json!(7.5)),
            ("aws.guardduty.severity_label", json!("High")),
            ("aws.guardduty.action.type", json!("PORT_PROBE")),
            ("network.direction", json!("inbound")),
            ("source.ip", json!("198.51.100.10")),
            ("source.geo.country_name", json!("Exampleland")),
            ("destination.port", json!(3389)),
            ("destination.ip", json!("10.9.8.7")),
            (
                "related.ip",
                json!(["198.51.100.10", "10.9.8.7", "198.51.100.11", "2001:db8::11"]),
            ),
            ("cloud.instance.id", json!("i-0eeeeffff00001111")),
        ],
    );
}

#[test]
fn outbound_connection_dns_request_and_labels() {
    let evs = events();
    assert_fields(
        &evs[3],
        &[
            // `YYYY-MM-DD HH:MM:SS.fff` is read as UTC.
            ("@timestamp", json!("2024-06-04T12:00:00.250000Z")),
            ("aws.guardduty.severity_label", json!("Critical")),
            ("event.severity", json!(9.5)),
            ("network.direction", json!("outbound")),
            ("network.transport", json!("udp")),
            ("source.ip", json!("10.9.8.8")),
            ("source.port", json!(40000)),
            ("destination.ip", json!("192.0.2.200")),
            ("destination.port", json!(53)),
            ("related.ip", json!(["192.0.2.200", "10.9.8.8"])),
        ],
    );
    assert_fields(
        &evs[4],
        &[
            ("aws.guardduty.severity_label", json!("High")),
            ("dns.question.name", json!("bad.example.com")),
            ("network.protocol", json!("dns")),
            ("network.transport", json!("udp")),
            ("aws.guardduty.action.type", json!("DNS_REQUEST")),
        ],
    );
    assert!(evs[4].get("cloud.region").is_none());
    for (sev, label) in [
        (0.0, "Low"),
        (3.9, "Low"),
        (4.0, "Medium"),
        (6.9, "Medium"),
        (7.0, "High"),
    ] {
        assert_eq!(guardduty::severity_label(sev), label);
    }
    assert_eq!(guardduty::severity_label(8.9), "High");
    assert_eq!(guardduty::severity_label(9.0), "Critical");
}

fn compact_lines(findings: &[Value]) -> String {
    findings.iter().map(|f| f.to_string() + "\n").collect()
}

#[test]
fn every_input_shape() {
    let findings = findings_value();
    let ids: Vec<String> = events().iter().map(|e| e.id().to_string()).collect();
    let ndjson = compact_lines(&findings);
    let lower = json!({"findings": findings}).to_string();
    let upper = serde_json::to_string_pretty(&json!({"Findings": findings, "NextToken": "x"})).unwrap();
    let compact_array = Value::Array(findings.clone()).to_string();
    for (name, input) in [
        ("ndjson", ndjson.clone()),
        ("findings", lower),
        ("Findings", upper),
        ("array", compact_array),
        ("crlf", ndjson.replace('\n', "\r\n")),
    ] {
        assert_eq!(sniff(input.as_bytes()), Some(Format::GuardDuty), "{name}");
        let s = split(run(Format::GuardDuty, &input));
        assert!(s.bad.is_empty() && s.warnings.is_empty(), "{name}: {:?}", s.bad);
        let got: Vec<&str> = s.events.iter().map(Event::id).collect();
        assert_eq!(got, ids, "{name}");
    }
    // One finding per line: the original is the line.
    let s = split(run(Format::GuardDuty, &ndjson));
    assert_eq!(s.events[1].original(), findings[1].to_string());
    // A single pretty-printed finding.
    let pretty = serde_json::to_string_pretty(&findings[0]).unwrap();
    assert_eq!(sniff(pretty.as_bytes()), Some(Format::GuardDuty));
    let s = split(run(Format::GuardDuty, &pretty));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].original(), pretty);
}

#[test]
fn eventbridge_envelope() {
    let finding = &findings_value()[1];
    let envelope = json!({
        "version": "0",
        "id": "e0000000-0000-4000-8000-00000000000e",
        "detail-type": "GuardDuty Finding",
        "source": "aws.guardduty",
        "account": "111122223333",
        "time": "2024-06-02T10:01:05Z",
        "region": "eu-west-3",
        "resources": [],
        "detail": finding,
    })
    .to_string();
    assert_eq!(sniff(envelope.as_bytes()), Some(Format::GuardDuty));
    let s = split(run(Format::GuardDuty, &envelope));
    assert_eq!(s.events.len(), 1);
    let ev = &s.events[0];
    assert_eq!(
        ev.get_str("aws.guardduty.finding_id"),
        Some("a1000000000000000000000000000002")
    );
    assert!(ev.id().starts_with("a1000000000000000000000000000002@"));
    assert_eq!(ev.original(), envelope);
    assert_eq!(ev.source_ip(), Some("203.0.113.9"));
    assert_eq!(
        ev.get_str("rule.name"),
        Some("UnauthorizedAccess:EC2/SSHBruteForce")
    );
}

/// Every key with its first letter upper-cased, as the AWS CLI prints findings.
fn pascal(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let mut chars = k.chars();
                let key: String = chars
                    .next()
                    .map(|c| c.to_ascii_uppercase())
                    .into_iter()
                    .chain(chars)
                    .collect();
                out.insert(key, pascal(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(pascal).collect()),
        other => other.clone(),
    }
}

#[test]
fn pascal_case_keys_from_the_cli() {
    let findings = pascal(&Value::Array(findings_value()));
    let input = serde_json::to_string_pretty(&json!({ "Findings": findings })).unwrap();
    assert_eq!(sniff(input.as_bytes()), Some(Format::GuardDuty));
    let s = split(run(Format::GuardDuty, &input));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    let camel = events();
    assert_eq!(s.events.len(), camel.len());
    for (p, c) in s.events.iter().zip(&camel) {
        for path in [
            "@timestamp",
            "event.id",
            "rule.name",
            "event.severity",
            "source.ip",
            "destination.port",
            "user.name",
            "cloud.instance.id",
            "event.action",
            "related.ip",
            "aws.guardduty.count",
            "aws.guardduty.action.type",
            "aws.guardduty.resource.resource_type",
        ] {
            assert_eq!(p.get(path), c.get(path), "{path}");
        }
    }
}

#[test]
fn bad_element_costs_only_itself() {
    let findings = findings_value();
    let text = format!(
        "[\n{},\n{{\"id\": \"x\", \"type\": oops}},\n42,\n{{\"foo\": 1}},\n{}\n]",
        findings[0], findings[1]
    );
    let s = split(run(Format::GuardDuty, &text));
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.bad.len(), 3, "{:?}", s.bad);
    let invalid = &s.bad[0];
    assert_eq!(invalid.location.line, Some(3));
    assert_eq!(invalid.location.column, Some(1));
    let offset = text.find("{\"id\": \"x\"").unwrap() as u64;
    assert_eq!(invalid.location.byte_offset, Some(offset));
    assert!(
        invalid
            .reason
            .starts_with("invalid JSON: expected value at line 3 column 21"),
        "{}",
        invalid.reason
    );
    assert_eq!(s.bad[1].location.line, Some(4));
    assert!(
        s.bad[1].reason.contains("must be a JSON object, found a number"),
        "{}",
        s.bad[1].reason
    );
    assert_eq!(s.bad[2].location.line, Some(5));
    assert!(
        s.bad[2].reason.contains("none of id, type, arn"),
        "{}",
        s.bad[2].reason
    );
    assert_eq!(s.bad[2].raw, "{\"foo\": 1}");
}

#[test]
fn broken_lines_and_documents() {
    let findings = findings_value();
    // NDJSON: a broken line between two good ones.
    let text = format!("{}\n{{\"id\": \"x\",\n\n{}\n", findings[0], findings[1]);
    let s = split(run(Format::GuardDuty, &text));
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.bad.len(), 1);
    assert_eq!(s.bad[0].location.line, Some(2));
    assert_eq!(
        s.bad[0].location.byte_offset,
        Some(findings[0].to_string().len() as u64 + 1)
    );
    // A missing comma is a warning and both findings are kept.
    let text = format!("[{}\n{}]", findings[0], findings[1]);
    let s = split(run(Format::GuardDuty, &text));
    assert_eq!((s.events.len(), s.bad.len(), s.warnings.len()), (2, 0, 1));
    assert!(s.warnings[0].message.starts_with("missing `,`"));
    // A cut-off file keeps what came before the cut.
    let whole = serde_json::to_string_pretty(&Value::Array(findings.clone())).unwrap();
    let cut = &whole[..whole.len() * 3 / 4];
    let s = split(run(Format::GuardDuty, cut));
    assert!(!s.events.is_empty() && s.events.len() < 5);
    assert_eq!(s.bad.len(), 1);
    assert!(s.bad[0].reason.starts_with("truncated"), "{}", s.bad[0].reason);
    // Neither object nor array; empty inputs.
    let s = split(run(Format::GuardDuty, "hello"));
    assert_eq!((s.events.len(), s.bad.len()), (0, 1));
    assert!(run(Format::GuardDuty, "").is_empty());
    assert!(run(Format::GuardDuty, "[]").is_empty());
    assert!(run(Format::GuardDuty, "{\"findings\": []}").is_empty());
}

#[test]
fn asff_is_refused_with_a_hint_and_times_may_be_missing() {
    let asff = r#"{"SchemaVersion":"2018-10-08","Id":"x","ProductArn":"arn:aws:securityhub:::product/aws/guardduty"}"#;
    let s = split(run(Format::GuardDuty, asff));
    assert_eq!(s.bad.len(), 1);
    assert!(
        s.bad[0].reason.contains("read it as securityhub"),
        "{}",
        s.bad[0].reason
    );
    let no_time = r#"{"id":"n1","type":"Recon:EC2/Portscan","severity":2,"service":{}}"#;
    let s = split(run(Format::GuardDuty, no_time));
    let ev = &s.events[0];
    assert_eq!(ev.get_str("@timestamp"), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
    assert_eq!(
        ev.get_str("event.ingested"),
        Some(&*INGEST.replace('Z', ".000000Z"))
    );
    assert!(ev.get("aws.guardduty.service").is_none());
    let ok = guardduty::map_finding(&serde_json::from_str(no_time).unwrap(), no_time, &ctx()).unwrap();
    assert_eq!(ok.get_str("aws.guardduty.finding_id"), Some("n1"));
}

#[test]
fn sniffing_tells_guardduty_from_the_rest() {
    let finding = findings_value()[0].to_string();
    assert_eq!(sniff(finding.as_bytes()), Some(Format::GuardDuty));
    assert!(guardduty::is_finding(&findings_value()[0]));
    // ASFF findings, other EventBridge events and plain objects are not GuardDuty.
    let asff = r#"{"SchemaVersion":"2018-10-08","Id":"x","ProductArn":"arn:p","AwsAccountId":"1","Types":[],"Severity":{"Normalized":1}}"#;
    assert_eq!(sniff(asff.as_bytes()), Some(Format::SecurityHub));
    let other = r#"{"detail-type":"EC2 Instance State-change Notification","detail":{}}"#;
    assert_eq!(sniff(other.as_bytes()), Some(Format::Ndjson));
    let plain = r#"{"type":"x","severity":"high","service":"web"}"#;
    assert_eq!(sniff(plain.as_bytes()), Some(Format::Ndjson));
    let arr = format!("[{finding}]");
    assert_eq!(sniff(arr.as_bytes()), Some(Format::GuardDuty));
    let wrapped = format!("{{\"findings\": [{finding}]}}");
    assert_eq!(sniff(wrapped.as_bytes()), Some(Format::GuardDuty));
    assert_eq!(Format::from_name("guardduty"), Some(Format::GuardDuty));
    assert_eq!(Format::GuardDuty.to_string(), "guardduty");
}
