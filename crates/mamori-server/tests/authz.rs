//! The authorization matrix: every endpoint × every role × own/other tenant,
//! against a real server. The expectation is written here independently of
//! the server's `access` module: a refusal on another tenant is a 404 that
//! does not say whether the tenant exists; a refusal by role is a 403.

mod common;

use common::{TestServer, event};
use mamori_server::state::Role;
use serde_json::{Value, json};

/// What an endpoint needs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Need {
    Read,
    ReadConfig,
    Write,
    Ingest,
    Admin,
    AnyReader,
    Anyone,
}

fn role_allows(role: Role, need: Need) -> bool {
    use Role::*;
    match need {
        Need::Read | Need::AnyReader => matches!(role, Admin | Analyst | Viewer | Customer),
        Need::ReadConfig => matches!(role, Admin | Analyst | Viewer),
        Need::Write => matches!(role, Admin | Analyst),
        Need::Ingest => matches!(role, Admin | Analyst | Ingest),
        Need::Admin => role == Admin,
        Need::Anyone => true,
    }
}

struct Endpoint {
    method: &'static str,
    /// `{t}` is the tenant, `{id}` an event id of that tenant, `{n}` a fresh number.
    path: &'static str,
    body: Option<Value>,
    need: Need,
    tenant_scoped: bool,
}

fn endpoints() -> Vec<Endpoint> {
    let e = |method, path, body: Option<Value>, need, tenant_scoped| Endpoint {
        method,
        path,
        body,
        need,
        tenant_scoped,
    };
    let sel = json!({"tenants": ["{t}"], "from": "-1d"});
    vec![
        e("POST", "/api/v1/search", Some(sel.clone()), Need::Read, true),
        e(
            "POST",
            "/api/v1/aggregate",
            Some(json!({"tenants": ["{t}"], "aggregations": [{"type": "terms", "field": "message"}]})),
            Need::Read,
            true,
        ),
        e("POST", "/api/v1/facets", Some(sel.clone()), Need::Read, true),
        e("POST", "/api/v1/export", Some(sel), Need::Read, true),
        e("GET", "/api/v1/tenants/{t}/events/{id}", None, Need::Read, true),
        e(
            "GET",
            "/api/v1/tenants/{t}/events/{id}/pivots",
            None,
            Need::Read,
            true,
        ),
        e(
            "GET",
            "/api/v1/tenants/{t}/context-lists",
            None,
            Need::ReadConfig,
            true,
        ),
        e(
            "GET",
            "/api/v1/tenants/{t}/context-lists/office",
            None,
            Need::ReadConfig,
            true,
        ),
        e(
            "PUT",
            "/api/v1/tenants/{t}/context-lists/office",
            Some(json!({"entries": ["10.0.0.0/8"]})),
            Need::Write,
            true,
        ),
        e(
            "DELETE",
            "/api/v1/tenants/{t}/context-lists/tmp",
            None,
            Need::Write,
            true,
        ),
        e(
            "GET",
            "/api/v1/tenants/{t}/saved-searches",
            None,
            Need::ReadConfig,
            true,
        ),
        e(
            "GET",
            "/api/v1/tenants/{t}/saved-searches/s1",
            None,
            Need::ReadConfig,
            true,
        ),
        e(
            "PUT",
            "/api/v1/tenants/{t}/saved-searches/s1",
            Some(json!({"query": "x"})),
            Need::Write,
            true,
        ),
        e(
            "DELETE",
            "/api/v1/tenants/{t}/saved-searches/tmp",
            None,
            Need::Write,
            true,
        ),
        e("GET", "/api/v1/tenants/{t}/sources", None, Need::ReadConfig, true),
        e("GET", "/api/v1/alerts?tenants={t}", None, Need::Read, true),
        e("POST", "/api/v1/ingest/{t}/app", None, Need::Ingest, true),
        e("GET", "/api/v1/tenants", None, Need::AnyReader, false),
        e(
            "POST",
            "/api/v1/tenants",
            Some(json!({"name": "new{n}"})),
            Need::Admin,
            false,
        ),
        e("GET", "/api/v1/users", None, Need::Admin, false),
        e(
            "POST",
            "/api/v1/users",
            Some(json!({"name": "u{n}", "role": "viewer", "tenants": ["*"]})),
            Need::Admin,
            false,
        ),
        e("GET", "/api/v1/users/admin", None, Need::Admin, false),
        e("GET", "/api/v1/audit", None, Need::Admin, false),
        e("GET", "/metrics", None, Need::ReadConfig, false),
        e("GET", "/api/v1/me", None, Need::Anyone, false),
    ]
}

fn fill(text: &str, tenant: &str, id: &str, n: usize) -> String {
    text.replace("{t}", tenant)
        .replace("{id}", id)
        .replace("{n}", &n.to_string())
}

#[test]
fn every_endpoint_every_role_own_and_other_tenant() {
    let s = TestServer::start();
    let mut ids = std::collections::HashMap::new();
    for t in ["acme", "globex"] {
        s.ingest(
            t,
            "app",
            &[event(
                &format!("hello {t}"),
                json!({"source": {"ip": "10.1.1.1"}}),
            )],
        );
        let hits = s.post(
            "/api/v1/search",
            &s.admin,
            &json!({"tenants": [t], "from": "-1d"}),
        );
        ids.insert(
            t,
            hits.json()["hits"][0]["event"]["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
        assert_eq!(
            s.put(
                &format!("/api/v1/tenants/{t}/context-lists/office"),
                &s.admin,
                &json!({"entries": ["10.0.0.0/8"]})
            )
            .status,
            200
        );
        assert_eq!(
            s.put(
                &format!("/api/v1/tenants/{t}/saved-searches/s1"),
                &s.admin,
                &json!({"query": "x"})
            )
            .status,
            200
        );
    }
    let roles = [
        Role::Admin,
        Role::Analyst,
        Role::Viewer,
        Role::Customer,
        Role::Ingest,
    ];
    let tokens: Vec<(Role, String)> = roles
        .iter()
        .map(|r| {
            let tenants: &[&str] = if *r == Role::Admin { &["*"] } else { &["acme"] };
            (*r, s.user(&format!("user-{r}"), *r, tenants))
        })
        .collect();
    let mut n = 0;
    let mut checked = 0;
    let mut failures = Vec::new();
    for ep in endpoints() {
        for (role, token) in &tokens {
            let tenants: &[&str] = if ep.tenant_scoped {
                &["acme", "globex"]
            } else {
                &["acme"]
            };
            for &tenant in tenants {
                n += 1;
                // objects the request may delete exist before each try
                if ep.method == "DELETE" {
                    s.put(
                        &format!("/api/v1/tenants/{tenant}/context-lists/tmp"),
                        &s.admin,
                        &json!({"entries": ["x"]}),
                    );
                    s.put(
                        &format!("/api/v1/tenants/{tenant}/saved-searches/tmp"),
                        &s.admin,
                        &json!({"query": "x"}),
                    );
                }
                let path = fill(ep.path, tenant, &ids[tenant], n);
                let body = match (&ep.body, ep.path.contains("/ingest/")) {
                    (_, true) => {
                        Some(format!("{}\n", event(&format!("from {role} {n}"), json!({}))).into_bytes())
                    }
                    (Some(b), _) => Some(fill(&b.to_string(), tenant, &ids[tenant], n).into_bytes()),
                    (None, _) => None,
                };
                let a = s.call(
                    ep.method,
                    &path,
                    Some(token),
                    &[("Content-Type", "application/json")],
                    body,
                );
                let own = *role == Role::Admin || tenant == "acme" || !ep.tenant_scoped;
                let allowed = role_allows(*role, ep.need) && own;
                let expected: &[u16] = if allowed {
                    &[200, 201, 204]
                } else if ep.tenant_scoped && !own {
                    &[404]
                } else {
                    &[403]
                };
                checked += 1;
                if !expected.contains(&a.status) {
                    failures.push(format!(
                        "{} {path} as {role} on {tenant}: got {} {}, expected {expected:?}",
                        ep.method, a.status, a.text
                    ));
                } else if a.status == 404 && a.json()["code"] != "tenant_not_found" {
                    failures.push(format!(
                        "{} {path} as {role}: 404 without tenant_not_found: {}",
                        ep.method, a.text
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked > 150, "{checked}");
    // A customer's search over "all tenants" sees only its own.
    let (_, customer) = &tokens[3];
    let all = s.post("/api/v1/search", customer, &json!({"from": "-1d"}));
    assert_eq!(all.json()["tenants"], json!(["acme"]));
    assert!(!all.text.contains("hello globex"));
    // The other tenant's event, fetched by its id, is indistinguishable from a missing tenant.
    let other = s.get(
        &format!("/api/v1/tenants/globex/events/{}", ids["globex"]),
        customer,
    );
    let missing = s.get(
        &format!("/api/v1/tenants/nosuch/events/{}", ids["globex"]),
        customer,
    );
    assert_eq!(other.status, missing.status);
    assert_eq!(
        other.json()["message"].as_str().unwrap().replace("globex", "T"),
        missing.json()["message"].as_str().unwrap().replace("nosuch", "T")
    );
}

#[test]
fn bulk_items_for_other_tenants_are_refused_item_by_item() {
    let s = TestServer::start();
    s.ingest("acme", "app", &[event("seed", json!({}))]);
    s.ingest("globex", "app", &[event("seed", json!({}))]);
    let token = s.user("shipper", Role::Ingest, &["acme"]);
    let body = format!(
        "{}\n{}\n{}\n{}\n",
        json!({"index": {"_index": "acme-fw"}}),
        event("mine", json!({})),
        json!({"index": {"_index": "globex-fw"}}),
        event("not mine", json!({})),
    );
    let a = s.call(
        "POST",
        "/_bulk",
        Some(&token),
        &[("Content-Type", "application/x-ndjson")],
        Some(body.into_bytes()),
    );
    assert_eq!(a.status, 200, "{}", a.text);
    let r = a.json();
    assert_eq!(r["errors"], true);
    assert_eq!(r["items"][0]["index"]["status"], 201);
    assert_eq!(r["items"][1]["index"]["status"], 404);
    assert_eq!(s.count("acme", "mine"), 1);
    assert_eq!(s.count("globex", "\"not mine\""), 0);
}

#[test]
fn a_malformed_bulk_action_names_its_line() {
    let s = TestServer::start();
    s.ingest("acme", "app", &[event("seed", json!({}))]);
    let body = format!(
        "{}\n{}\n\n{{not json\n",
        json!({"index": {"_index": "acme"}}),
        event("ok", json!({}))
    );
    let a = s.call(
        "POST",
        "/_bulk",
        Some(&s.admin),
        &[("Content-Type", "application/x-ndjson")],
        Some(body.into_bytes()),
    );
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(
        a.json()["message"].as_str().unwrap().contains("line 4"),
        "{}",
        a.text
    );
}
