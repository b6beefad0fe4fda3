//! Event building and reading: `cargo bench -p mamori-model --bench event`.
//!
//! Builds a web-access-shaped event (the 21 fields the `weblog` format
//! sets) a million times and prints nanoseconds per event for: the bare
//! event (`Event::with_id`), the event with its fields set, reading fields
//! back, serializing it, and, for reference, making the 21 JSON values
//! alone. Runs with mimalloc, the allocator of the `mamori` binary.

use std::hint::black_box;
use std::time::Instant;

use mamori_model::Event;
use serde_json::{Value, json};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ROUNDS: u32 = 1_000_000;
const LINE: &str = "203.0.113.9 - bob [10/Oct/2000:13:55:36 -0700] \"GET /a/b.php?x=1 HTTP/1.1\" 200 2326 \"http://ref/\" \"Mozilla/5.0 (X11)\"";

fn fields() -> [(&'static str, Value); 21] {
    [
        ("event.kind", json!("event")),
        ("event.category", json!(["web"])),
        ("event.type", json!(["access"])),
        ("event.module", json!("weblog")),
        ("event.dataset", json!("web.access")),
        ("source.address", json!("203.0.113.9")),
        ("source.ip", json!("203.0.113.9")),
        ("user.name", json!("bob")),
        ("http.request.method", json!("GET")),
        ("url.original", json!("/a/b.php?x=1")),
        ("url.path", json!("/a/b.php")),
        ("url.extension", json!("php")),
        ("url.query", json!("x=1")),
        ("http.version", json!("1.1")),
        ("http.response.status_code", json!(200)),
        ("event.outcome", json!("success")),
        ("http.response.body.bytes", json!(2326)),
        ("http.request.referrer", json!("http://ref/")),
        ("user_agent.original", json!("Mozilla/5.0 (X11)")),
        ("related.ip", json!(["203.0.113.9"])),
        ("related.user", json!(["bob"])),
    ]
}

fn built() -> Event {
    let ts = chrono::DateTime::from_timestamp(971_211_336, 0).expect("a valid time");
    let mut ev = Event::with_id("bench", ts, LINE, "0123456789abcdef0123456789abcdef");
    for (path, value) in fields() {
        ev.set(path, value);
    }
    ev
}

fn time(what: &str, mut f: impl FnMut()) {
    let t = Instant::now();
    for _ in 0..ROUNDS {
        f();
    }
    println!(
        "| {what} | {:.0} |",
        t.elapsed().as_nanos() as f64 / f64::from(ROUNDS)
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let ts = chrono::DateTime::from_timestamp(971_211_336, 0).expect("a valid time");
    println!("| operation | ns/event |\n|---|---|");
    time("21 JSON values made and dropped (reference)", || {
        black_box(fields());
    });
    time("Event::with_id", || {
        black_box(Event::with_id(
            "bench",
            ts,
            LINE,
            "0123456789abcdef0123456789abcdef",
        ));
    });
    time("Event::with_id + 21 set", || {
        black_box(built());
    });
    let ev = built();
    let paths: Vec<&str> = fields().iter().map(|(p, _)| *p).collect();
    time("21 get_str/get", || {
        for p in &paths {
            black_box(ev.get(p));
        }
    });
    time("to_json", || {
        black_box(ev.to_json());
    });
    time("leaves", || {
        black_box(ev.leaves());
    });
}
