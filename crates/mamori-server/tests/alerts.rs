//! Detection at ingest: Sigma rules configured on the server raise alerts
//! that are grouped, listed per tenant and triaged through the API.

mod common;

use common::TestServer;
use mamori_server::state::Role;
use serde_json::json;

const RULE: &str = r#"
title: CloudTrail logging stopped
id: 5c4a9a0e-0000-4000-8000-000000000001
status: test
level: high
tags:
  - attack.defense-evasion
  - attack.t1562.008
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName:
      - StopLogging
      - DeleteTrail
  condition: selection
"#;

fn trail(events: &[(&str, &str, &str)]) -> Vec<u8> {
    let records: Vec<_> = events
        .iter()
        .map(|(id, name, user)| {
            json!({
                "eventVersion": "1.08", "eventTime": "2026-11-20T10:00:00Z",
                "eventSource": if name.contains("Logging") || name.contains("Trail") { "cloudtrail.amazonaws.com" } else { "s3.amazonaws.com" },
                "eventName": name, "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7",
                "userIdentity": {"type": "IAMUser", "userName": user, "accountId": "111122223333"},
                "eventID": id, "eventType": "AwsApiCall", "recipientAccountId": "111122223333"
            })
        })
        .collect();
    json!({ "Records": records }).to_string().into_bytes()
}

#[test]
fn rules_raise_grouped_alerts_that_are_triaged_per_tenant() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("stop_logging.yml"), RULE).unwrap();
    let dir = rules.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.detection.rules = vec![dir]);
    for (tenant, body) in [
        (
            "acme",
            trail(&[
                ("e1", "StopLogging", "mallory"),
                ("e2", "DeleteTrail", "mallory"),
                ("e3", "GetObject", "alice"),
            ]),
        ),
        ("globex", trail(&[("g1", "StopLogging", "bob")])),
    ] {
        let a = s.call(
            "POST",
            &format!("/api/v1/ingest/{tenant}/cloudtrail"),
            Some(&s.admin),
            &[],
            Some(body),
        );
        assert_eq!(a.status, 200, "{}", a.text);
    }
    // re-sending the same records adds nothing
    s.call(
        "POST",
        "/api/v1/ingest/acme/cloudtrail",
        Some(&s.admin),
        &[],
        Some(trail(&[("e1", "StopLogging", "mallory")])),
    );

    let all = s.get(
        "/api/v1/alerts?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        &s.admin,
    );
    assert_eq!(all.status, 200, "{}", all.text);
    let alerts = all.json();
    assert_eq!(alerts.as_array().unwrap().len(), 2, "{}", all.text);
    let acme = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["tenant"] == "acme")
        .unwrap();
    assert_eq!(acme["count"], 2);
    assert_eq!(acme["level"], "high");
    assert_eq!(acme["group_key"], "user.name:mallory");
    assert_eq!(acme["techniques"], json!(["T1562.008"]));
    assert_eq!(acme["status"], "new");
    let id = acme["id"].as_i64().unwrap();

    // a customer of acme sees only acme's alert, and not globex's by id
    let customer = s.user("acme-soc", Role::Customer, &["acme"]);
    let mine = s.get(
        "/api/v1/alerts?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        &customer,
    );
    assert_eq!(mine.json().as_array().unwrap().len(), 1);
    let globex_id = alerts
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["tenant"] == "globex")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        s.get(&format!("/api/v1/alerts/{globex_id}"), &customer).status,
        404
    );
    // customers cannot triage
    let patch = |token: &str, body: serde_json::Value| {
        s.call(
            "PATCH",
            &format!("/api/v1/alerts/{id}"),
            Some(token),
            &[("Content-Type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
    };
    assert_eq!(patch(&customer, json!({"status": "acknowledged"})).status, 403);
    // an analyst acknowledges, then closes with a reason
    let analyst = s.user("ana", Role::Analyst, &["acme"]);
    let a = patch(&analyst, json!({"status": "acknowledged", "assignee": "ana"}));
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(patch(&analyst, json!({"status": "closed"})).status, 400);
    let a = patch(&analyst, json!({"status": "closed", "reason": "true_positive"}));
    assert_eq!(a.json()["status"], "closed");
    assert_eq!(a.json()["close_reason"], "true_positive");
    let audit = s.get(&format!("/api/v1/audit?object=acme/alert/{id}"), &s.admin);
    assert_eq!(audit.json().as_array().unwrap().len(), 2);
    assert_eq!(audit.json()[0]["actor"], "ana");
    // filters
    let closed = s.get(
        "/api/v1/alerts?status=closed&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        &s.admin,
    );
    assert_eq!(closed.json().as_array().unwrap().len(), 1);
}
