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

/// Every alert last seen in November 2026 (the fixtures' month), as the admin sees them.
fn november_alerts(s: &TestServer) -> serde_json::Value {
    s.get(
        "/api/v1/alerts?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
        &s.admin,
    )
    .json()
}

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

#[test]
fn exclusions_apply_only_once_approved_by_another_user_and_count_their_hits() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("stop_logging.yml"), RULE).unwrap();
    let dir = rules.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.detection.rules = vec![dir]);
    let send = |id: &str, user: &str| {
        let a = s.call(
            "POST",
            "/api/v1/ingest/acme/cloudtrail",
            Some(&s.admin),
            &[],
            Some(trail(&[(id, "StopLogging", user)])),
        );
        assert_eq!(a.status, 200, "{}", a.text);
    };
    let mallory_count = || {
        let all = s
            .get(
                "/api/v1/alerts?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z",
                &s.admin,
            )
            .json();
        all.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["group_key"] == "user.name:mallory")
            .map(|a| a["count"].as_u64().unwrap())
            .sum::<u64>()
    };
    send("e1", "mallory");
    let ana = s.user("ana", Role::Analyst, &["acme"]);
    let bo = s.user("bo", Role::Analyst, &["acme"]);
    let customer = s.user("cust", Role::Customer, &["acme"]);
    let proposal = json!({
        "tenants": ["acme"], "rules": ["5c4a9a0e-0000-4000-8000-000000000001"], "filter": "user.name:mallory",
        "reason": "red team exercise this week", "risk": "a real attacker using the mallory account",
        "expires_at": (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339()
    });
    assert_eq!(s.post("/api/v1/exclusions", &customer, &proposal).status, 403);
    let p = s.post("/api/v1/exclusions", &ana, &proposal);
    assert_eq!(p.status, 201, "{}", p.text);
    assert_eq!(p.json()["state"], "proposed");
    let id = p.json()["id"].as_i64().unwrap();
    // the preview names the alert it would hide
    let preview = s.get(&format!("/api/v1/exclusions/{id}/preview?days=30"), &ana);
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.json()[0]["hidden"], 1);
    // not approved yet: nothing is suppressed
    send("e2", "mallory");
    assert_eq!(mallory_count(), 2);
    // the owner cannot approve; another analyst can
    assert_eq!(
        s.post(&format!("/api/v1/exclusions/{id}/approve"), &ana, &json!({}))
            .status,
        400
    );
    let ok = s.post(&format!("/api/v1/exclusions/{id}/approve"), &bo, &json!({}));
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["state"], "active");
    send("e3", "mallory");
    send("e4", "eve");
    assert_eq!(mallory_count(), 2, "suppressed while active");
    let list = s.get("/api/v1/exclusions", &ana).json();
    assert_eq!(list[0]["hits"], 1);
    // other users' detections still raise alerts
    let alerts = november_alerts(&s);
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["group_key"] == "user.name:eve")
    );
    // revoked: applies no more
    let r = s.call(
        "DELETE",
        &format!("/api/v1/exclusions/{id}"),
        Some(&bo),
        &[],
        None,
    );
    assert_eq!(r.json()["state"], "revoked");
    send("e5", "mallory");
    assert_eq!(mallory_count(), 3);
    let audit = s
        .get(&format!("/api/v1/audit?object=exclusion/{id}"), &s.admin)
        .json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["exclusion.revoke", "exclusion.approve", "exclusion.propose"]
    );
}

#[test]
fn rules_are_listed_switched_off_and_backtested() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("stop_logging.yml"), RULE).unwrap();
    let dir = rules.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.detection.rules = vec![dir]);
    let rule = "5c4a9a0e-0000-4000-8000-000000000001";
    let list = s.get("/api/v1/rules", &s.admin);
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json()[0]["id"], rule);
    assert_eq!(list.json()[0]["enabled"], true);
    let one = s.get(&format!("/api/v1/rules/{rule}"), &s.admin);
    assert!(one.json()["source"].as_str().unwrap().contains("StopLogging"));
    // history first, then a backtest per tenant per day
    let a = s.call(
        "POST",
        "/api/v1/ingest/acme/cloudtrail",
        Some(&s.admin),
        &[],
        Some(trail(&[("b1", "StopLogging", "x"), ("b2", "GetObject", "x")])),
    );
    assert_eq!(a.status, 200);
    let bt = s.post(
        &format!("/api/v1/rules/{rule}/backtest"),
        &s.admin,
        &json!({"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}),
    );
    assert_eq!(bt.status, 200, "{}", bt.text);
    assert_eq!(bt.json()["total"], 1);
    assert_eq!(bt.json()["per_tenant"]["acme"]["2026-11-20"], 1);
    // switched off: no more alerts from it
    let viewer = s.user("v", Role::Viewer, &["*"]);
    let off = json!({"enabled": false}).to_string().into_bytes();
    assert_eq!(
        s.call(
            "PATCH",
            &format!("/api/v1/rules/{rule}"),
            Some(&viewer),
            &[("Content-Type", "application/json")],
            Some(off.clone())
        )
        .status,
        403
    );
    assert_eq!(
        s.call(
            "PATCH",
            &format!("/api/v1/rules/{rule}"),
            Some(&s.admin),
            &[("Content-Type", "application/json")],
            Some(off)
        )
        .status,
        200
    );
    s.call(
        "POST",
        "/api/v1/ingest/acme/cloudtrail",
        Some(&s.admin),
        &[],
        Some(trail(&[("b3", "StopLogging", "y")])),
    );
    let alerts = november_alerts(&s);
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["group_key"] != "user.name:y"),
        "{alerts}"
    );
    assert_eq!(s.get("/api/v1/rules", &s.admin).json()[0]["enabled"], false);
}

#[test]
fn scheduled_rules_count_per_group_and_raise_alerts_over_the_threshold() {
    let s = TestServer::start();
    let mut lines = Vec::new();
    for i in 0..6 {
        lines.push(common::event(
            &format!("fail {i}"),
            json!({"event": {"action": "logon-failed"}, "source": {"ip": "203.0.113.9"}}),
        ));
    }
    for i in 0..2 {
        lines.push(common::event(
            &format!("fail b{i}"),
            json!({"event": {"action": "logon-failed"}, "source": {"ip": "198.51.100.4"}}),
        ));
    }
    s.ingest("globex", "vpn", &lines);
    let rule = json!({"name": "x", "title": "VPN brute force", "tenants": ["globex"], "query": "event.action:logon-failed",
        "window_secs": 3600, "group_by": "source.ip", "threshold": 5, "schedule": "*/5 * * * *", "level": "high",
        "tags": ["attack.credential-access", "attack.t1110"]});
    let customer = s.user("c", Role::Customer, &["globex"]);
    assert_eq!(
        s.put("/api/v1/scheduled-rules/vpn-bf", &customer, &rule).status,
        403
    );
    let saved = s.put("/api/v1/scheduled-rules/vpn-bf", &s.admin, &rule);
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json()["name"], "vpn-bf");
    let mut bad = rule.clone();
    bad["schedule"] = json!("sometimes");
    let refused = s.put("/api/v1/scheduled-rules/bad", &s.admin, &bad);
    assert_eq!(refused.status, 400, "{}", refused.text);
    let run = s.post("/api/v1/scheduled-rules/vpn-bf/run", &s.admin, &json!({}));
    assert_eq!(run.status, 200, "{}", run.text);
    assert_eq!(run.json()["groups"], 1);
    let alerts = s.get("/api/v1/alerts?tenants=globex", &s.admin).json();
    let a = &alerts[0];
    assert_eq!(a["rule_id"], "scheduled:vpn-bf");
    assert_eq!(a["group_key"], "source.ip:203.0.113.9");
    assert_eq!(a["count"], 6);
    assert_eq!(a["techniques"], json!(["T1110"]));
    // running again over the same window counts nothing twice
    s.post("/api/v1/scheduled-rules/vpn-bf/run", &s.admin, &json!({}));
    let again = s.get("/api/v1/alerts?tenants=globex", &s.admin).json();
    assert_eq!(again.as_array().unwrap().len(), 1);
    assert_eq!(again[0]["count"], 6);
}

const CORRELATION: &str = r#"
title: CloudTrail logging stopped
id: 5c4a9a0e-0000-4000-8000-000000000002
name: trail_stopped
status: test
level: medium
logsource:
  product: aws
  service: cloudtrail
detection:
  selection:
    eventSource: cloudtrail.amazonaws.com
    eventName: StopLogging
  condition: selection
---
title: Logging stopped again and again by one user
id: 5c4a9a0e-0000-4000-8000-000000000003
status: test
level: critical
tags:
  - attack.defense-evasion
correlation:
  type: event_count
  rules:
    - trail_stopped
  group-by:
    - userIdentity.userName
  timespan: 1h
  condition:
    gte: 3
"#;

#[test]
fn correlations_fire_per_tenant_and_hide_their_silent_base_rule() {
    let rules = tempfile::tempdir().unwrap();
    std::fs::write(rules.path().join("corr.yml"), CORRELATION).unwrap();
    let dir = rules.path().to_path_buf();
    let s = TestServer::start_with(move |c| c.detection.rules = vec![dir]);
    let send = |tenant: &str, events: &[(&str, &str, &str)]| {
        let a = s.call(
            "POST",
            &format!("/api/v1/ingest/{tenant}/cloudtrail"),
            Some(&s.admin),
            &[],
            Some(trail(events)),
        );
        assert_eq!(a.status, 200, "{}", a.text);
    };
    // two in acme and one in globex by the same user name: no correlation across tenants
    send(
        "acme",
        &[("c1", "StopLogging", "mallory"), ("c2", "StopLogging", "mallory")],
    );
    send("globex", &[("c3", "StopLogging", "mallory")]);
    let range = "from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z";
    assert!(
        s.get(&format!("/api/v1/alerts?{range}"), &s.admin)
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    send("acme", &[("c4", "StopLogging", "mallory")]);
    let alerts = s.get(&format!("/api/v1/alerts?{range}"), &s.admin).json();
    let list = alerts.as_array().unwrap();
    assert_eq!(list.len(), 1, "{alerts}");
    assert_eq!(list[0]["tenant"], "acme");
    assert_eq!(
        list[0]["rule_title"],
        "Logging stopped again and again by one user"
    );
    assert_eq!(list[0]["level"], "critical");
    assert_eq!(list[0]["count"], 3);
    assert!(
        list[0]["group_key"].as_str().unwrap().contains("mallory"),
        "{alerts}"
    );
}
