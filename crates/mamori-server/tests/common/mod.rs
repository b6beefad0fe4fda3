//! A real server on loopback and a real HTTP client, for the API tests.

#![allow(dead_code)]

use mamori_server::config::ServerConfig;
use mamori_server::serve::{self, Running};
use mamori_server::state::{Actor, Role, TenantAccess};
use serde_json::{Value, json};

/// A server on a free loopback port with its own data directory.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The admin's token.
    pub admin: String,
    rt: tokio::runtime::Runtime,
    running: Option<Running>,
    /// Data directory.
    pub dir: tempfile::TempDir,
    agent: ureq::Agent,
}

/// An answer: status and body.
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub text: String,
    /// `Retry-After`, `Set-Cookie`, … (lower-case names).
    pub headers: Vec<(String, String)>,
}

impl Answer {
    /// The body as JSON (`null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn actor() -> Actor {
    Actor {
        name: "test".into(),
        origin: "test".into(),
    }
}

impl TestServer {
    /// Start with the default configuration, changed by `tweak`.
    pub fn start_with(tweak: impl FnOnce(&mut ServerConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().to_path_buf(),
            ..ServerConfig::default()
        };
        tweak(&mut cfg);
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = rt.block_on(serve::start(cfg)).unwrap();
        let base = format!("http://{}", running.addr);
        let admin = {
            let mut db = running.state.db();
            db.add_user(
                &actor(),
                "admin",
                Role::Admin,
                &TenantAccess::All,
                Some("admin-password"),
            )
            .unwrap();
            db.create_token(&actor(), "admin", "tests", Role::Admin, &TenantAccess::All, None)
                .unwrap()
                .token
        };
        // A fresh connection per request: no race with the server closing an idle keep-alive connection.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_idle_connections(0)
            .max_idle_connections_per_host(0)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .build()
            .into();
        TestServer {
            base,
            admin,
            rt,
            running: Some(running),
            dir,
            agent,
        }
    }

    /// Start with the default configuration.
    pub fn start() -> Self {
        Self::start_with(|_| {})
    }

    /// Create a user with a token bound to `role` and `tenants`; returns the token.
    pub fn user(&self, name: &str, role: Role, tenants: &[&str]) -> String {
        let access = TenantAccess::from_list(&tenants.iter().map(|t| t.to_string()).collect::<Vec<_>>());
        let mut db = self.running.as_ref().unwrap().state.db();
        db.add_user(&actor(), name, role, &access, Some("password-123"))
            .unwrap();
        db.create_token(&actor(), name, "t", role, &access, None)
            .unwrap()
            .token
    }

    /// The running server's shared state.
    pub fn state(&self) -> &mamori_server::api::Shared {
        &self.running.as_ref().unwrap().state
    }

    /// A request with optional bearer token, extra headers and body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Answer {
        let url = format!("{}{}", self.base, path);
        let auth = token.map(|t| format!("Bearer {t}"));
        macro_rules! with_headers {
            ($req:expr) => {{
                let mut r = $req;
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                for (k, v) in headers {
                    r = r.header(*k, *v);
                }
                r
            }};
        }
        let result = match method {
            "GET" => with_headers!(self.agent.get(&url)).call(),
            "DELETE" => with_headers!(self.agent.delete(&url)).call(),
            "POST" => with_headers!(self.agent.post(&url)).send(body.unwrap_or_default()),
            "PUT" => with_headers!(self.agent.put(&url)).send(body.unwrap_or_default()),
            "PATCH" => with_headers!(self.agent.patch(&url)).send(body.unwrap_or_default()),
            m => panic!("method {m}"),
        };
        let mut resp = result.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        Answer {
            status,
            text,
            headers,
        }
    }

    /// GET with a token.
    pub fn get(&self, path: &str, token: &str) -> Answer {
        self.call("GET", path, Some(token), &[], None)
    }

    /// POST JSON with a token.
    pub fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.call(
            "POST",
            path,
            Some(token),
            &[("Content-Type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
    }

    /// PUT JSON with a token.
    pub fn put(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.call(
            "PUT",
            path,
            Some(token),
            &[("Content-Type", "application/json")],
            Some(body.to_string().into_bytes()),
        )
    }

    /// Ingest NDJSON lines into tenant/source as admin; asserts success.
    pub fn ingest(&self, tenant: &str, source: &str, lines: &[Value]) -> Value {
        let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
        let a = self.call(
            "POST",
            &format!("/api/v1/ingest/{tenant}/{source}"),
            Some(&self.admin),
            &[("Content-Type", "application/x-ndjson")],
            Some(body.into_bytes()),
        );
        assert_eq!(a.status, 200, "{}", a.text);
        a.json()
    }

    /// Number of events matching `query`, at any time (admin).
    pub fn count(&self, tenant: &str, query: &str) -> u64 {
        let a = self.post(
            "/api/v1/search",
            &self.admin,
            &json!({"tenants": [tenant], "query": query, "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z", "limit": 0}),
        );
        assert_eq!(a.status, 200, "{}", a.text);
        a.json()["total"].as_u64().unwrap()
    }

    /// Stop gracefully.
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(r) = self.running.take() {
            self.rt.block_on(r.shutdown()).unwrap();
        }
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(r) = self.running.take() {
            let _ = self.rt.block_on(r.shutdown());
        }
    }
}

/// An NDJSON event a few minutes ago.
pub fn event(message: &str, extra: Value) -> Value {
    let mut v = json!({
        "@timestamp": (chrono::Utc::now() - chrono::Duration::minutes(5)).to_rfc3339(),
        "message": message,
    });
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    v
}
