//! CloudTrail: every input shape, every mapped field, and recovery from broken files.

mod common;

use common::{INGEST, ctx, fixture, run, split};
use mamori_formats::{Format, cloudtrail};
use mamori_model::Event;
use serde_json::{Value, json};

fn records() -> Vec<Event> {
    let s = split(run(Format::CloudTrail, fixture("cloudtrail_records.json")));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    assert_eq!(s.events.len(), 5);
    s.events
}

fn field<'a>(ev: &'a Event, path: &str) -> Option<&'a Value> {
    ev.get(path)
}

#[test]
fn iam_user_error_record_maps_every_field() {
    let ev = &records()[0];
    let expect = [
        ("@timestamp", json!("2024-03-05T08:15:30.000000Z")),
        ("tenant", json!("acme")),
        ("event.id", json!("11111111-2222-3333-4444-555555555555")),
        ("event.kind", json!("event")),
        ("event.module", json!("aws")),
        ("event.dataset", json!("aws.cloudtrail")),
        ("event.action", json!("PutBucketPolicy")),
        ("event.provider", json!("s3.amazonaws.com")),
        ("event.outcome", json!("failure")),
        ("error.code", json!("AccessDenied")),
        (
            "error.message",
            json!("User: arn:aws:iam::111122223333:user/alice is not authorized"),
        ),
        ("aws.cloudtrail.error_code", json!("AccessDenied")),
        ("source.ip", json!("198.51.100.23")),
        ("related.ip", json!(["198.51.100.23"])),
        ("user_agent.original", json!("aws-cli/2.15.0 Python/3.11.6")),
        ("user.name", json!("alice")),
        ("user.id", json!("AIDAEXAMPLEUSER00001")),
        ("related.user", json!(["alice"])),
        ("cloud.provider", json!("aws")),
        ("cloud.account.id", json!("111122223333")),
        ("cloud.region", json!("eu-west-3")),
        ("aws.cloudtrail.user_identity.type", json!("IAMUser")),
        (
            "aws.cloudtrail.user_identity.arn",
            json!("arn:aws:iam::111122223333:user/alice"),
        ),
        (
            "aws.cloudtrail.user_identity.access_key_id",
            json!("AKIAEXAMPLEKEY000001"),
        ),
        ("aws.cloudtrail.event_version", json!("1.09")),
        ("aws.cloudtrail.event_type", json!("AwsApiCall")),
        ("aws.cloudtrail.event_category", json!("Management")),
        ("aws.cloudtrail.request_id", json!("REQ0000000000001")),
        ("aws.cloudtrail.read_only", json!(false)),
        ("aws.cloudtrail.management_event", json!(true)),
        ("aws.cloudtrail.recipient_account_id", json!("111122223333")),
        ("aws.cloudtrail.vpc_endpoint_id", json!("vpce-0abc1234def567890")),
        (
            "aws.cloudtrail.resources",
            json!([{"accountId": "111122223333", "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::mamori-test-bucket"}]),
        ),
        (
            "aws.cloudtrail.request_parameters",
            json!({"bucketName": "mamori-test-bucket", "policy": {"Version": "2012-10-17"}, "Host": "mamori-test-bucket.s3.eu-west-3.amazonaws.com"}),
        ),
        (
            "aws.cloudtrail.additional_eventdata",
            json!({"SignatureVersion": "SigV4", "bytesTransferredIn": 0}),
        ),
        ("aws.cloudtrail.tls_details.tls_version", json!("TLSv1.3")),
        (
            "aws.cloudtrail.tls_details.cipher_suite",
            json!("TLS_AES_128_GCM_SHA256"),
        ),
        (
            "aws.cloudtrail.tls_details.client_provided_host_header",
            json!("mamori-test-bucket.s3.eu-west-3.amazonaws.com"),
        ),
    ];
    for (path, want) in expect {
        assert_eq!(field(ev, path), Some(&want), "{path}");
    }
    // Null responseElements is left out; no source.address for an IP.
    assert_eq!(field(ev, "aws.cloudtrail.response_elements"), None);
    assert_eq!(field(ev, "source.address"), None);
    assert_eq!(field(ev, "tags"), None);
    // event.original is the element exactly as in the file.
    let original = ev.original();
    assert!(original.starts_with("{\n      \"eventVersion\": \"1.09\""));
    assert!(original.ends_with("}"));
    assert!(fixture("cloudtrail_records.json").contains(original));
}

#[test]
fn assumed_role_uses_the_session_name() {
    let ev = &records()[1];
    assert_eq!(ev.user_name(), Some("bob@example.com"));
    assert_eq!(
        ev.get_str("user.id"),
        Some("AROAEXAMPLEROLE00001:bob@example.com")
    );
    assert_eq!(ev.get("related.user"), Some(&json!(["bob@example.com", "Admin"])));
    assert_eq!(ev.source_ip(), Some("2001:db8::42"));
    assert_eq!(ev.outcome(), Some("success"));
    assert_eq!(ev.get_str("@timestamp"), Some("2024-03-05T08:15:30.000000Z"));
    let issuer = "aws.cloudtrail.user_identity.session_context.session_issuer";
    assert_eq!(ev.get_str(&format!("{issuer}.type")), Some("Role"));
    assert_eq!(
        ev.get_str(&format!("{issuer}.arn")),
        Some("arn:aws:iam::111122223333:role/Admin")
    );
    assert_eq!(
        ev.get_str(&format!("{issuer}.principal_id")),
        Some("AROAEXAMPLEROLE00001")
    );
    assert_eq!(ev.get_str(&format!("{issuer}.account_id")), Some("111122223333"));
    assert_eq!(ev.get_str(&format!("{issuer}.user_name")), Some("Admin"));
    let session = "aws.cloudtrail.user_identity.session_context";
    assert_eq!(ev.get_str(&format!("{session}.mfa_authenticated")), Some("true"));
    assert_eq!(
        ev.get_str(&format!("{session}.creation_date")),
        Some("2024-03-05T08:00:00Z")
    );
    assert_eq!(
        ev.get("aws.cloudtrail.response_elements.accessKey.status"),
        Some(&json!("Active"))
    );
    assert_eq!(
        ev.get_str("aws.cloudtrail.session_credential_from_console"),
        Some("true")
    );
}

#[test]
fn service_caller_is_a_source_address() {
    let ev = &records()[2];
    assert_eq!(ev.source_ip(), None);
    assert_eq!(ev.get_str("source.address"), Some("ec2.amazonaws.com"));
    assert_eq!(ev.get("related.ip"), None);
    assert_eq!(
        ev.get_str("aws.cloudtrail.user_identity.invoked_by"),
        Some("ec2.amazonaws.com")
    );
    assert_eq!(
        ev.get_str("aws.cloudtrail.shared_event_id"),
        Some("33333333-2222-3333-4444-555555555555")
    );
    assert_eq!(ev.user_name(), None);
    assert_eq!(ev.get("related.user"), None);
    // No eventID: the id is derived from tenant and original.
    assert_eq!(ev.id(), Event::derived_id("acme", ev.original()));
    assert_eq!(ev.get_str("cloud.account.id"), Some("111122223333"));
}

#[test]
fn root_console_login_failure() {
    let ev = &records()[3];
    assert_eq!(ev.user_name(), Some("root"));
    assert_eq!(ev.outcome(), Some("failure"));
    assert_eq!(ev.get("error.code"), None);
    assert_eq!(
        ev.get_str("aws.cloudtrail.additional_eventdata.MFAUsed"),
        Some("No")
    );
    assert_eq!(ev.get("aws.cloudtrail.request_parameters"), None);
}

#[test]
fn missing_event_time_uses_ingest_time() {
    let ev = &records()[4];
    assert_eq!(ev.get_str("@timestamp"), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(ev.get_str("event.ingested"), Some("2030-01-02T03:04:05.000000Z"));
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
    assert_eq!(ev.user_name(), Some("dave"));
    assert_eq!(ev.get_str("source.address"), Some("AWS Internal"));
    // userIdentity.accountId wins over recipientAccountId.
    assert_eq!(ev.get_str("cloud.account.id"), Some("111122223333"));
    assert_eq!(
        ev.get_str("aws.cloudtrail.recipient_account_id"),
        Some("999988887777")
    );

    let bad_time = r#"{"eventVersion":"1.08","eventSource":"a","eventName":"b","eventTime":"soon","recipientAccountId":"1"}"#;
    let s = split(run(Format::CloudTrail, bad_time));
    assert_eq!(s.events[0].timestamp().to_rfc3339(), "2030-01-02T03:04:05+00:00");
    assert!(INGEST.starts_with("2030"));
    assert_eq!(s.events[0].get_str("cloud.account.id"), Some("1"));
}

#[test]
fn datadog_enrichment_is_ignored_but_kept_in_original() {
    let rec = r#"{"Records":[{"http":{"useragent":"x"},"aws":{"s3":{"bucket":"b"}},"eventVersion":"1.08","eventSource":"ec2.amazonaws.com","eventName":"StopInstances","eventTime":"2022-07-20T21:00:00Z"}]}"#;
    let s = split(run(Format::CloudTrail, rec));
    let ev = &s.events[0];
    assert_eq!(ev.get("http"), None);
    assert_eq!(ev.get("aws.s3"), None);
    assert!(ev.original().contains("\"useragent\":\"x\""));
}

#[test]
fn bad_element_in_the_middle_does_not_stop_the_file() {
    let text = "{\"Records\": [\n  {\"eventName\": \"A\", \"eventTime\": \"2024-01-01T00:00:00Z\"},\n  {\"eventName\": \"B\", \"eventTime\": 2024-01-01},\n  {\"eventName\": \"C\", \"eventTime\": \"2024-01-01T00:00:02Z\"}\n]}\n";
    let s = split(run(Format::CloudTrail, text));
    let names: Vec<_> = s.events.iter().map(|e| e.action().unwrap_or("")).collect();
    assert_eq!(names, ["A", "C"]);
    assert_eq!(s.bad.len(), 1);
    let bad = &s.bad[0];
    assert_eq!(bad.location.line, Some(3));
    assert_eq!(bad.location.column, Some(3));
    assert_eq!(
        bad.location.byte_offset,
        Some(text.find("{\"eventName\": \"B\"").unwrap() as u64)
    );
    assert!(bad.reason.starts_with("invalid JSON: "), "{}", bad.reason);
    assert!(bad.reason.contains("at line 3 column"), "{}", bad.reason);
    assert_eq!(bad.raw, "{\"eventName\": \"B\", \"eventTime\": 2024-01-01}");
    assert_eq!(
        bad.location.to_string(),
        format!("test.json:3:3 (byte {})", bad.location.byte_offset.unwrap())
    );
    assert!(s.warnings.is_empty());
}

#[test]
fn mismatched_bracket_costs_one_record() {
    let text = "{\"Records\":[{\"eventName\":\"A\",\"x\":[1}, {\"eventName\":\"B\"}]}";
    let s = split(run(Format::CloudTrail, text));
    assert_eq!(s.bad.len(), 1, "{:?}", s.bad);
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].action(), Some("B"));
}

#[test]
fn missing_comma_is_a_warning_and_both_records_are_kept() {
    let text = "{\n  \"Records\": [\n    {\"eventName\": \"A\"}\n    {\"eventName\": \"B\"},\n    {\"eventName\": \"C\"}\n  ]\n}\n";
    let s = split(run(Format::CloudTrail, text));
    assert_eq!(s.events.len(), 3);
    assert!(s.bad.is_empty());
    assert_eq!(s.warnings.len(), 1);
    let w = &s.warnings[0];
    assert_eq!(w.location.line, Some(4));
    assert!(
        w.message.contains("line 3") && w.message.contains("line 4"),
        "{}",
        w.message
    );
}

#[test]
fn structural_failures_are_bad_records() {
    let not_array = split(run(Format::CloudTrail, "{\"Records\": {\"a\": 1}}"));
    assert_eq!(not_array.bad.len(), 1);
    assert!(
        not_array.bad[0].reason.contains("must be an array"),
        "{}",
        not_array.bad[0].reason
    );

    let no_records = split(run(Format::CloudTrail, "{\n\"foo\": 1\n}"));
    assert_eq!(no_records.bad.len(), 1);
    assert!(
        no_records.bad[0].reason.contains("not a CloudTrail record"),
        "{}",
        no_records.bad[0].reason
    );

    let scalar = split(run(Format::CloudTrail, "42"));
    assert_eq!(scalar.bad.len(), 1);
    assert!(scalar.bad[0].reason.contains("expected a JSON object or array"));

    let element = split(run(
        Format::CloudTrail,
        "{\"Records\": [\"text\", {\"eventName\": \"A\"}]}",
    ));
    assert_eq!(element.events.len(), 1);
    assert_eq!(element.bad.len(), 1);
    assert!(element.bad[0].reason.contains("must be a JSON object"));
}

#[test]
fn truncated_array_keeps_what_came_before() {
    let text = "{\"Records\": [\n{\"eventName\": \"A\"},\n{\"eventName\": \"B\", \"eventSou";
    let s = split(run(Format::CloudTrail, text));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.bad.len(), 1);
    assert_eq!(s.bad[0].location.line, Some(3));
    assert!(s.bad[0].reason.starts_with("truncated"), "{}", s.bad[0].reason);
    assert_eq!(s.bad[0].raw, "{\"eventName\": \"B\", \"eventSou");

    let after = split(run(Format::CloudTrail, "{\"Records\": [{\"eventName\": \"A\"}]"));
    assert_eq!(after.events.len(), 1);
    assert_eq!(after.bad.len(), 1);
    assert!(after.bad[0].reason.contains("not closed"));

    let empty = split(run(Format::CloudTrail, "{\"Records\": []}"));
    assert!(empty.events.is_empty() && empty.bad.is_empty());
    assert!(run(Format::CloudTrail, "").is_empty());
    assert!(run(Format::CloudTrail, "\n  \n").is_empty());
}

#[test]
fn ndjson_of_records_pretty_record_array_and_eventbridge() {
    let lines = "{\"eventVersion\":\"1.08\",\"eventSource\":\"s\",\"eventName\":\"A\",\"eventTime\":\"2024-01-01T00:00:00Z\"}\r\n\r\n{\"eventName\":\"B\"\n{\"Records\":[{\"eventName\":\"C\"},{\"eventName\":\"D\"}]}\n";
    let s = split(run(Format::CloudTrail, lines));
    let names: Vec<_> = s.events.iter().map(|e| e.action().unwrap_or("")).collect();
    assert_eq!(names, ["A", "C", "D"]);
    assert_eq!(s.bad.len(), 1);
    assert_eq!(s.bad[0].location.line, Some(3));
    assert_eq!(
        s.events[0].original(),
        "{\"eventVersion\":\"1.08\",\"eventSource\":\"s\",\"eventName\":\"A\",\"eventTime\":\"2024-01-01T00:00:00Z\"}"
    );

    let pretty = "{\n  \"eventVersion\": \"1.08\",\n  \"eventSource\": \"s3.amazonaws.com\",\n  \"eventName\": \"GetObject\"\n}\n";
    let s = split(run(Format::CloudTrail, pretty));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.events[0].original(), pretty.trim());

    let array = "[\n {\"eventName\": \"A\"},\n {\"eventName\": \"B\"}\n]";
    assert_eq!(split(run(Format::CloudTrail, array)).events.len(), 2);

    let eb = r#"{"version":"0","id":"e1","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"111122223333","time":"2024-01-01T00:00:00Z","region":"us-east-1","resources":[],"detail":{"eventVersion":"1.08","eventSource":"iam.amazonaws.com","eventName":"CreateUser","eventTime":"2024-01-01T00:00:00Z","eventID":"abc","userIdentity":{"type":"IAMUser","userName":"eve"}}}"#;
    let s = split(run(Format::CloudTrail, eb));
    assert_eq!(s.events.len(), 1);
    let ev = &s.events[0];
    assert_eq!(ev.action(), Some("CreateUser"));
    assert_eq!(ev.user_name(), Some("eve"));
    assert_eq!(ev.id(), "abc");
    assert_eq!(ev.original(), eb);
}

#[test]
fn digests_yield_nothing() {
    let digest = r#"{"awsAccountId":"111122223333","digestStartTime":"2024-01-01T00:00:00Z","digestEndTime":"2024-01-01T01:00:00Z","logFiles":[]}"#;
    assert!(run(Format::CloudTrail, digest).is_empty());
    assert!(run(Format::CloudTrailDigest, digest).is_empty());
}

#[test]
fn map_record_is_reusable() {
    let v = json!({"eventName": "X", "eventTime": "2024-01-01T00:00:00Z"});
    let ev = cloudtrail::map_record(&v, "orig", &ctx()).unwrap();
    assert_eq!(ev.original(), "orig");
    assert!(cloudtrail::map_record(&json!([1]), "x", &ctx()).is_err());
    assert!(cloudtrail::map_record(&json!({"a": 1}), "x", &ctx()).is_err());
}

#[test]
fn garbage_never_panics() {
    let inputs: [&[u8]; 12] = [
        b"{",
        b"[",
        b"{\"Records\"",
        b"{\"Records\":",
        b"{\"Records\":[",
        b"{\"Records\":[,]}",
        b"{\"Records\":[{}}]}",
        b"{\"Records\":[\"\\",
        b"}{][",
        b"{\"a\" 1}\n{\"b\":}",
        b"\xff\xfe{\"Records\":[{\"eventName\":\"\xff\"}]}",
        b"{\"Records\":[{\"eventName\":\"A\"} x {\"eventName\":\"B\"}]}",
    ];
    for input in inputs {
        let items = run(Format::CloudTrail, input);
        assert!(!items.is_empty(), "{:?}", String::from_utf8_lossy(input));
    }
    // Every prefix of a real file.
    let text = fixture("cloudtrail_records.json");
    for cut in (0..text.len()).step_by(7) {
        let _ = run(Format::CloudTrail, &text.as_bytes()[..cut]);
        let _ = run(Format::Ndjson, &text.as_bytes()[..cut]);
    }
}
