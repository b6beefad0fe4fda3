//! HTTP ingest load: several clients send NDJSON batches to a server on
//! loopback for `MAMORI_BENCH_SECS` (default 60); prints events/s and the
//! acknowledgement latency (an answer means the events are durable).
//!
//! `cargo bench -p mamori --bench http_ingest` (MAMORI_BENCH_CLIENTS, MAMORI_BENCH_BATCH;
//! `MAMORI_BENCH_RECORDS=cloudtrail` sends the CloudTrail-like records of the
//! search benchmark, ~1.4 KB each, instead of ~230-byte web-access events).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mamori_server::config::ServerConfig;
use mamori_server::state::{Actor, Role, TenantAccess};

#[global_allocator]
static GLOBAL: mamori::Allocator = mimalloc::MiMalloc;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let secs = env("MAMORI_BENCH_SECS", 60) as u64;
    let clients = env("MAMORI_BENCH_CLIENTS", 8);
    let batch = env("MAMORI_BENCH_BATCH", 1000);
    let cloudtrail = std::env::var("MAMORI_BENCH_RECORDS").is_ok_and(|v| v == "cloudtrail");
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let cfg = ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        ..ServerConfig::default()
    };
    let running = rt.block_on(mamori_server::serve::start(cfg)).unwrap();
    let token = {
        let mut db = running.state.db();
        let a = Actor {
            name: "bench".into(),
            origin: "bench".into(),
        };
        db.add_user(&a, "bench", Role::Admin, &TenantAccess::All, None)
            .unwrap();
        db.create_token(&a, "bench", "bench", Role::Admin, &TenantAccess::All, None)
            .unwrap()
            .token
    };
    let url = format!("http://{}/api/v1/ingest/acme/load", running.addr);
    let latencies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let refused: Arc<Mutex<u64>> = Arc::default();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let (url, token, latencies, refused) = (url.clone(), token.clone(), latencies.clone(), refused.clone());
            std::thread::spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                let mut sent = 0u64;
                let mut b = 0usize;
                while Instant::now() < deadline {
                    let body: String = if cloudtrail {
                        // Seeds differ per client and request, so every event id is new.
                        let spec = mamori::corpus::CorpusSpec {
                            seed: (c as u64) << 32 | b as u64,
                            events: batch as u64,
                            days: 1,
                            ..mamori::corpus::CorpusSpec::default_million()
                        };
                        mamori::corpus::records(&spec).map(|r| r + "\n").collect()
                    } else {
                        (0..batch)
                        .map(|i| {
                            format!(
                                "{{\"@timestamp\":\"2026-11-23T10:{:02}:{:02}Z\",\"message\":\"GET /api/items/{i} 200\",\"client\":{c},\"batch\":{b},\"source\":{{\"ip\":\"10.{}.{}.{}\"}},\"user\":{{\"name\":\"user{}\"}},\"http\":{{\"response\":{{\"status_code\":200,\"bytes\":{}}}}}}}\n",
                                (b / 60) % 60, b % 60, c, i % 250, b % 250, i % 97, i * 13
                            )
                        })
                        .collect()
                    };
                    let t = Instant::now();
                    let r = agent.post(&url).header("Authorization", &format!("Bearer {token}")).send(body);
                    let dt = t.elapsed().as_secs_f64();
                    match r {
                        Ok(resp) if resp.status() == 200 => {
                            sent += batch as u64;
                            latencies.lock().unwrap().push(dt);
                        }
                        Ok(resp) if resp.status() == 429 => {
                            *refused.lock().unwrap() += 1;
                            std::thread::sleep(Duration::from_millis(100));
                        }
                        Ok(resp) => panic!("status {}", resp.status()),
                        Err(e) => panic!("{e}"),
                    }
                    b += 1;
                }
                sent
            })
        })
        .collect();
    let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let wall = started.elapsed().as_secs_f64();
    let mut l = latencies.lock().unwrap().clone();
    l.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        l.get(((l.len() as f64 * p) as usize).min(l.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
            * 1000.0
    };
    let commits = running
        .state
        .committer
        .stats()
        .commits
        .load(std::sync::atomic::Ordering::Relaxed);
    rt.block_on(running.shutdown()).unwrap();
    println!("| measure | value |\n|---|---|");
    println!(
        "| clients × batch | {clients} × {batch} {} events |",
        if cloudtrail {
            "CloudTrail (~1.4 KB)"
        } else {
            "web access (~230 B)"
        }
    );
    println!("| duration | {wall:.1} s |");
    println!("| events acknowledged | {total} |");
    println!("| events/s | {:.0} |", total as f64 / wall);
    println!(
        "| ack latency p50 / p99 / max | {:.0} / {:.0} / {:.0} ms |",
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
    println!("| 429 answers | {} |", refused.lock().unwrap());
    println!(
        "| commits (events per commit) | {commits} ({:.0}) |",
        total as f64 / commits.max(1) as f64
    );
}
