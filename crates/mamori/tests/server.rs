//! `mamori serve` as a process: acknowledged events survive SIGKILL during
//! concurrent ingest, exactly once.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BATCH: usize = 200;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mamori"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn start(dir: &std::path::Path, port: u16) -> Child {
    let mut child = bin()
        .args([
            "--data-dir",
            dir.to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .env("MAMORI_ADMIN_PASSWORD", "admin-password")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if let Ok(r) = agent().get(&format!("http://127.0.0.1:{port}/readyz")).call()
            && r.status() == 200
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("server did not become ready");
}

fn batch_body(client: usize, batch: usize) -> String {
    (0..BATCH)
        .map(|i| {
            format!(
                "{}\n",
                json!({"@timestamp": "2026-11-20T10:00:00Z", "batch": format!("c{client}-b{batch}"), "seq": i,
                       "message": format!("load event {client} {batch} {i}")})
            )
        })
        .collect()
}

#[test]
fn acknowledged_events_survive_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = start(dir.path(), port);
    let out = bin()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "token",
            "create",
            "--user",
            "admin",
            "--name",
            "load",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let url = format!("http://127.0.0.1:{port}/api/v1/ingest/acme/load");
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (acked, url, token) = (acked.clone(), url.clone(), token.clone());
            std::thread::spawn(move || {
                let a = agent();
                for b in 0.. {
                    let r = a
                        .post(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .send(batch_body(c, b));
                    match r {
                        Ok(resp) if resp.status() == 200 => acked.lock().unwrap().push(format!("c{c}-b{b}")),
                        Ok(resp) if resp.status() == 429 => std::thread::sleep(Duration::from_millis(50)),
                        _ => return,
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(2500));
    server.kill().unwrap(); // SIGKILL
    server.wait().unwrap();
    for c in clients {
        c.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 4,
        "too few batches acknowledged before the kill: {}",
        acked.len()
    );

    let mut server = start(dir.path(), port);
    let resp: Value = agent()
        .post(&format!("http://127.0.0.1:{port}/api/v1/aggregate"))
        .header("Authorization", &format!("Bearer {token}"))
        .send_json(json!({"tenants": ["acme"], "from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z",
            "aggregations": [{"type": "terms", "field": "batch", "size": 1000}, {"type": "cardinality", "field": "event.id"}]}))
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let per_batch: std::collections::HashMap<String, u64> = resp["results"][0]["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["value"].as_str().unwrap().to_string(),
                b["count"].as_u64().unwrap(),
            )
        })
        .collect();
    for b in &acked {
        assert_eq!(per_batch.get(b), Some(&(BATCH as u64)), "acknowledged batch {b}");
    }
    // nothing twice: every stored event is distinct
    let total = resp["total"].as_u64().unwrap();
    assert_eq!(resp["results"][1]["value"].as_u64().unwrap(), total);
    assert!(
        per_batch.values().all(|&n| n == BATCH as u64),
        "a batch was stored partly or twice"
    );
    eprintln!(
        "{} batches acknowledged before SIGKILL, {} stored after restart",
        acked.len(),
        per_batch.len()
    );
}

#[test]
fn demo_serves_its_data_with_demo_users() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut demo = bin()
        .args([
            "--data-dir",
            dir.path().to_str().unwrap(),
            "demo",
            "--days",
            "1",
            "--events-per-day",
            "40",
        ])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let ready = loop {
        if let Ok(r) = agent().get(&format!("{base}/readyz")).call()
            && r.status() == 200
        {
            break true;
        }
        if started.elapsed() > Duration::from_secs(120) {
            break false;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let answer = |user: &str, password: &str| -> (u16, Value) {
        let a = agent();
        let mut login = a
            .post(&format!("{base}/api/v1/login"))
            .send_json(json!({"user": user, "password": password}))
            .unwrap();
        let status = login.status().as_u16();
        let cookie = login
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .unwrap_or_default();
        let _ = login.body_mut().read_to_string();
        let tenants: Value = a
            .get(&format!("{base}/api/v1/tenants"))
            .header("Cookie", &cookie)
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap_or(Value::Null);
        (status, tenants)
    };
    let admin = answer("admin", "mamori-demo");
    let customer = answer("acme-soc", "acme-demo");
    let _ = demo.kill();
    let out = demo.wait_with_output().unwrap();
    assert!(ready, "demo server never became ready");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("serving the demo at {base}")),
        "{stdout}"
    );
    assert_eq!(admin.0, 200);
    let names: Vec<&str> = admin
        .1
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["acme", "globex", "initech"]);
    assert_eq!(customer.0, 200);
    assert_eq!(customer.1, json!([{"name": "acme", "retention_days": null}]));
}
