//! The REST API end to end: a real server on loopback, a real HTTP client.

mod common;

use common::{TestServer, event};
use mamori_server::state::Role;
use serde_json::json;

#[test]
fn ingest_then_search_aggregate_facet_export_and_fetch() {
    let s = TestServer::start();
    let failed = event(
        "login failed",
        json!({"user": {"name": "bob"}, "source": {"ip": "203.0.113.9"}}),
    );
    let out = s.ingest(
        "acme",
        "app",
        &[
            event(
                "login ok",
                json!({"user": {"name": "alice"}, "source": {"ip": "10.0.0.5"}}),
            ),
            failed.clone(),
            failed,
        ],
    );
    // the third line repeats the second: stored once
    assert_eq!(out["accepted"], 3);
    assert_eq!(s.count("acme", ""), 2);
    assert_eq!(s.count("acme", "user.name:bob"), 1);
    assert_eq!(s.count("acme", "source.ip:10.0.0.0/8"), 1);

    let a = s.post(
        "/api/v1/aggregate",
        &s.admin,
        &json!({"tenants": ["acme"], "from": "-1d", "aggregations": [
            {"type": "terms", "field": "user.name"}, {"type": "date_histogram", "interval_secs": 3600}]}),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    let r = a.json();
    assert_eq!(r["results"][0]["buckets"].as_array().unwrap().len(), 2);

    let f = s.post(
        "/api/v1/facets",
        &s.admin,
        &json!({"tenants": ["acme"], "from": "-1d"}),
    );
    assert_eq!(f.status, 200, "{}", f.text);
    assert!(
        f.json()["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["field"] == "user.name")
    );

    let e = s.post(
        "/api/v1/export",
        &s.admin,
        &json!({"tenants": ["acme"], "from": "-1d", "format": "csv", "columns": ["user.name", "message"]}),
    );
    assert_eq!(e.status, 200, "{}", e.text);
    let mut lines: Vec<&str> = e.text.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        vec!["alice,login ok", "bob,login failed", "user.name,message"]
    );

    let hits = s.post(
        "/api/v1/search",
        &s.admin,
        &json!({"tenants": ["acme"], "query": "alice", "from": "-1d"}),
    );
    let id = hits.json()["hits"][0]["event"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let one = s.get(&format!("/api/v1/tenants/acme/events/{id}"), &s.admin);
    assert_eq!(one.status, 200);
    assert_eq!(one.json()["user"]["name"], "alice");
    assert!(
        one.json()["event"]["original"]
            .as_str()
            .unwrap()
            .contains("login ok")
    );
    let p = s.get(
        &format!("/api/v1/tenants/acme/events/{id}/pivots?window=3600"),
        &s.admin,
    );
    assert_eq!(p.status, 200, "{}", p.text);
    assert!(
        p.json()
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["field"] == "source.ip" && x["count"] == 1)
    );
}

#[test]
fn context_lists_and_saved_searches_apply_and_are_audited() {
    let s = TestServer::start();
    s.ingest(
        "acme",
        "vpn",
        &[
            event("a", json!({"source": {"ip": "198.51.100.7"}})),
            event("b", json!({"source": {"ip": "203.0.113.50"}})),
        ],
    );
    let put = s.put(
        "/api/v1/tenants/acme/context-lists/office",
        &s.admin,
        &json!({"entries": ["198.51.100.0/24"], "description": "HQ"}),
    );
    assert_eq!(put.status, 200, "{}", put.text);
    assert_eq!(s.count("acme", "not source.ip:@office"), 1);
    let saved = s.put(
        "/api/v1/tenants/acme/saved-searches/outside",
        &s.admin,
        &json!({"query": "not source.ip:@office", "from": "-7d"}),
    );
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.json()["owner"], "admin");
    let audit = s.get("/api/v1/audit?object=acme", &s.admin);
    let actions: Vec<String> = audit
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    assert!(actions.contains(&"context_list.set".to_string()), "{actions:?}");
    assert!(actions.contains(&"saved_search.set".to_string()), "{actions:?}");
    let entry = &audit.json()[0];
    assert_eq!(entry["actor"], "admin");
    assert_eq!(entry["origin"], "127.0.0.1");
}

#[test]
fn bad_input_gets_a_json_error_with_a_stable_code() {
    let s = TestServer::start_with(|c| c.max_body_mb = 1);
    s.ingest("acme", "app", &[event("x", json!({}))]);
    // malformed JSON
    let a = s.call(
        "POST",
        "/api/v1/search",
        Some(&s.admin),
        &[("Content-Type", "application/json")],
        Some(b"{\"query\": ".to_vec()),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    assert_eq!(a.json()["code"], "bad_json");
    // bad filter: the column of the mistake
    let a = s.post(
        "/api/v1/search",
        &s.admin,
        &json!({"query": "user.name:bob and (x", "tenants": ["acme"]}),
    );
    assert_eq!(a.status, 400);
    assert_eq!(a.json()["code"], "bad_filter");
    assert!(a.json()["column"].as_u64().unwrap() > 10, "{}", a.text);
    // bad time
    let a = s.post("/api/v1/search", &s.admin, &json!({"from": "yesterday-ish"}));
    assert_eq!(a.json()["code"], "bad_time");
    // unknown tenant
    let a = s.post("/api/v1/search", &s.admin, &json!({"tenants": ["nobody"]}));
    assert_eq!(a.status, 200, "admin may search an empty tenant: {}", a.text);
    let a = s.get("/api/v1/tenants/acme/events/nope", &s.admin);
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["code"], "not_found");
    // oversized body: refused once the limit is passed
    let answer = raw_request(
        &s.base,
        &format!(
            "POST /api/v1/ingest/acme/app HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
            s.admin,
            2 * 1024 * 1024
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");
    // unrecognised format, unknown format name
    let a = s.call(
        "POST",
        "/api/v1/ingest/acme/app",
        Some(&s.admin),
        &[],
        Some(vec![0, 1, 2, 3, 200, 201]),
    );
    assert_eq!(a.status, 415, "{}", a.text);
    let a = s.call(
        "POST",
        "/api/v1/ingest/acme/app?format=pdf",
        Some(&s.admin),
        &[],
        Some(b"x".to_vec()),
    );
    assert_eq!(a.status, 400);
    // no route
    let a = s.get("/api/v1/nothing-here", &s.admin);
    assert_eq!(a.status, 404);
    assert_eq!(a.json()["code"], "not_found");
}

#[test]
fn tokens_expire_and_revoked_ones_stop_working() {
    let s = TestServer::start();
    let a = s.post(
        "/api/v1/tokens",
        &s.admin,
        &json!({"name": "short", "expires_at": (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339()}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let token = a.json()["token"].as_str().unwrap().to_string();
    assert_eq!(s.get("/api/v1/me", &token).status, 200);
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let a = s.get("/api/v1/me", &token);
    assert_eq!(a.status, 401);
    assert_eq!(a.json()["code"], "unauthorized");
    let b = s.post("/api/v1/tokens", &s.admin, &json!({"name": "other"}));
    let (tok, id) = (
        b.json()["token"].as_str().unwrap().to_string(),
        b.json()["info"]["id"].as_str().unwrap().to_string(),
    );
    assert_eq!(
        s.call(
            "DELETE",
            &format!("/api/v1/tokens/{id}"),
            Some(&s.admin),
            &[],
            None
        )
        .status,
        204
    );
    assert_eq!(s.get("/api/v1/me", &tok).status, 401);
    assert_eq!(
        s.call("GET", "/api/v1/me", Some("mamori_nope_nope"), &[], None)
            .status,
        401
    );
    assert_eq!(s.call("GET", "/api/v1/me", None, &[], None).status, 401);
}

#[test]
fn browser_sessions_need_the_csrf_token_to_change_anything() {
    let s = TestServer::start();
    let bad = s.call(
        "POST",
        "/api/v1/login",
        None,
        &[("Content-Type", "application/json")],
        Some(
            json!({"user": "admin", "password": "wrong-password"})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(bad.status, 401);
    let login = s.call(
        "POST",
        "/api/v1/login",
        None,
        &[("Content-Type", "application/json")],
        Some(
            json!({"user": "admin", "password": "admin-password"})
                .to_string()
                .into_bytes(),
        ),
    );
    assert_eq!(login.status, 200, "{}", login.text);
    let cookie = login.header("set-cookie").unwrap().to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_string();
    let csrf = login.json()["csrf"].as_str().unwrap().to_string();
    let me = s.call("GET", "/api/v1/me", None, &[("Cookie", &session)], None);
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["user"], "admin");
    let body = json!({"entries": ["10.0.0.0/8"]}).to_string().into_bytes();
    let without = s.call(
        "PUT",
        "/api/v1/tenants/acme/context-lists/office",
        None,
        &[("Cookie", &session), ("Content-Type", "application/json")],
        Some(body.clone()),
    );
    assert_eq!(without.status, 403, "{}", without.text);
    let with = s.call(
        "PUT",
        "/api/v1/tenants/acme/context-lists/office",
        None,
        &[
            ("Cookie", &session),
            ("Content-Type", "application/json"),
            ("X-CSRF-Token", &csrf),
        ],
        Some(body),
    );
    assert_eq!(with.status, 200, "{}", with.text);
    let out = s.call(
        "POST",
        "/api/v1/logout",
        None,
        &[("Cookie", &session), ("X-CSRF-Token", &csrf)],
        None,
    );
    assert_eq!(out.status, 204);
    assert_eq!(
        s.call("GET", "/api/v1/me", None, &[("Cookie", &session)], None)
            .status,
        401
    );
}

#[test]
fn users_are_managed_and_audited_without_secrets() {
    let s = TestServer::start();
    let a = s.post(
        "/api/v1/users",
        &s.admin,
        &json!({"name": "cust", "role": "customer", "tenants": ["acme"], "password": "cust-password"}),
    );
    assert_eq!(a.status, 201, "{}", a.text);
    let a = s.post(
        "/api/v1/users",
        &s.admin,
        &json!({"name": "c2", "role": "customer", "tenants": ["acme", "globex"]}),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    let a = s.call(
        "PATCH",
        "/api/v1/users/cust",
        Some(&s.admin),
        &[("Content-Type", "application/json")],
        Some(json!({"disabled": true}).to_string().into_bytes()),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["disabled"], true);
    let audit = s.get("/api/v1/audit?object=user/cust", &s.admin);
    assert!(!audit.text.contains("cust-password"));
    assert_eq!(audit.json().as_array().unwrap().len(), 2);
    let t = s.user("ana", Role::Analyst, &["acme"]);
    // a token cannot grant more than its creator has
    let a = s.post("/api/v1/tokens", &t, &json!({"name": "x", "role": "admin"}));
    assert!(a.status == 400 || a.status == 403, "{}", a.text);
    let a = s.post("/api/v1/tokens", &t, &json!({"name": "x", "tenants": ["globex"]}));
    assert!(a.status == 400 || a.status == 403, "{}", a.text);
    let a = s.post("/api/v1/tokens", &t, &json!({"name": "ro", "role": "viewer"}));
    assert_eq!(a.status, 201, "{}", a.text);
}

#[test]
fn openapi_document_lists_every_route() {
    let s = TestServer::start();
    let a = s.call("GET", "/api/v1/openapi.json", None, &[], None);
    assert_eq!(a.status, 200);
    let doc = a.json();
    assert_eq!(doc["openapi"].as_str().unwrap().chars().next(), Some('3'));
    for path in [
        "/api/v1/search",
        "/api/v1/ingest/{tenant}/{source}",
        "/_bulk",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
}

#[test]
fn health_and_metrics() {
    let s = TestServer::start();
    s.ingest("acme", "fw", &[event("x", json!({}))]);
    assert_eq!(s.call("GET", "/healthz", None, &[], None).status, 200);
    assert_eq!(s.call("GET", "/readyz", None, &[], None).status, 200);
    assert_eq!(s.call("GET", "/metrics", None, &[], None).status, 401);
    let m = s.get("/metrics", &s.admin);
    assert_eq!(m.status, 200);
    assert!(
        m.text
            .contains("mamori_ingest_events_total{tenant=\"acme\",source=\"fw\"} 1"),
        "{}",
        m.text
    );
    assert!(m.text.contains("mamori_store_bytes"));
    let src = s.get("/api/v1/tenants/acme/sources?by=labels.source", &s.admin);
    assert_eq!(src.status, 200, "{}", src.text);
    assert_eq!(src.json()["live"]["fw"]["events"], 1);
    assert_eq!(src.json()["feeds"][0]["name"], "fw");
}

#[test]
fn acknowledged_events_survive_a_graceful_restart() {
    let s = TestServer::start();
    let lines: Vec<_> = (0..500).map(|i| event(&format!("m{i}"), json!({}))).collect();
    s.ingest("acme", "app", &lines);
    let dir = s.stop();
    let store = mamori_store::LocalStore::open(dir.path().join("events")).unwrap();
    use mamori_store::EventStore;
    let n = store
        .count(
            &["acme".into()],
            &mamori_model::Filter::All,
            &mamori_model::TimeRange::all(),
        )
        .unwrap();
    assert_eq!(n, 500);
}

/// Send raw request bytes and read what comes back until the server closes or 2 s pass.
fn raw_request(base: &str, head: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(std::time::Duration::from_secs(2)))
        .unwrap();
    c.write_all(head.as_bytes()).unwrap();
    // the body: more than the limit (writes may fail once the server has answered)
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..20 {
        if c.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = c.read(&mut buf) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&buf[..n]);
        if out.windows(4).any(|w| w == b"\r\n\r\n") && out.ends_with(b"}") {
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn search_sorts_by_a_field_and_pages_with_search_after() {
    let s = TestServer::start();
    let batch: Vec<_> = (0..23)
        .map(|i| {
            event(
                &format!("request {i}"),
                json!({"http": {"response": {"status_code": ([200, 404, 503][i % 3])}}, "n": i}),
            )
        })
        .collect();
    s.ingest("acme", "web", &batch);
    let page = |sort: &str, after: Option<&str>| {
        let mut body = json!({"tenants": ["acme"], "from": "-1d", "limit": 5, "sort": sort});
        if let Some(a) = after {
            body["search_after"] = json!(a);
        }
        let r = s.post("/api/v1/search", &s.admin, &body);
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    };
    let mut codes = Vec::new();
    let mut ns = std::collections::BTreeSet::new();
    let mut after: Option<String> = None;
    loop {
        let r = page("http.response.status_code:desc", after.as_deref());
        assert_eq!(r["total"], 23);
        for h in r["hits"].as_array().unwrap() {
            codes.push(h["http"]["response"]["status_code"].as_u64().unwrap());
            assert!(ns.insert(h["n"].as_u64().unwrap()), "no event twice");
        }
        match r["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
    }
    assert_eq!(ns.len(), 23, "every event once");
    let mut sorted = codes.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(codes, sorted, "largest status first");
    // Bad sort and cursor: 400 with a code.
    let r = s.post("/api/v1/search", &s.admin, &json!({"sort": "a b"}));
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("bad_sort")),
        "{}",
        r.text
    );
    let r = s.post("/api/v1/search", &s.admin, &json!({"search_after": "nope"}));
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (400, json!("bad_cursor")),
        "{}",
        r.text
    );
}
