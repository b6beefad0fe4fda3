//! Syslog listeners with real senders: std sockets, and util-linux `logger`
//! when it is installed.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::TestServer;
use mamori_server::config::{SenderRule, SyslogListener};
use serde_json::Value;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(s: &TestServer, tenant: &str, query: &str, n: u64) -> u64 {
    let start = Instant::now();
    loop {
        let got = s.count(tenant, query);
        if got >= n || start.elapsed() > Duration::from_secs(10) {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn udp_and_tcp_syslog_reach_the_right_tenant() {
    let (udp, tcp) = (free_port(), free_port());
    let s = TestServer::start_with(|c| {
        c.syslog = vec![
            SyslogListener {
                listen: format!("127.0.0.1:{udp}").parse().unwrap(),
                protocol: "udp".into(),
                tenant: "acme".into(),
                source: "syslog".into(),
                senders: vec![SenderRule {
                    matches: "fw-globex".into(),
                    tenant: "globex".into(),
                    source: "fw".into(),
                }],
                ..SyslogListener::default()
            },
            SyslogListener {
                listen: format!("127.0.0.1:{tcp}").parse().unwrap(),
                protocol: "tcp".into(),
                tenant: "initech".into(),
                source: "asa".into(),
                senders: vec![],
                ..SyslogListener::default()
            },
        ]
    });
    // UDP: one datagram per message; routed by the header's hostname
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..50 {
        let msg = format!(
            "<34>Oct 11 22:14:15 web01 sshd[42]: Failed password for root from 203.0.113.{i} port 22 ssh2"
        );
        sock.send_to(msg.as_bytes(), ("127.0.0.1", udp)).unwrap();
    }
    let cef = "<134>Nov 23 10:00:00 fw-globex CEF:0|Fortinet|FortiGate|7.0|13|traffic|3|src=10.0.0.1 dst=8.8.8.8 act=deny";
    sock.send_to(cef.as_bytes(), ("127.0.0.1", udp)).unwrap();
    // TCP: octet counting, then newline framing on another connection
    let mut c = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    for i in 0..20 {
        let msg = format!("<13>1 2026-11-23T10:00:{i:02}Z host{i} app 1 - - octet message {i}");
        write!(c, "{} {msg}", msg.len()).unwrap();
    }
    drop(c);
    let mut c = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    for i in 0..20 {
        writeln!(c, "<13>Nov 23 10:00:00 hostx app: newline message {i}").unwrap();
    }
    drop(c);
    assert_eq!(wait_for(&s, "acme", "", 50), 50);
    assert_eq!(wait_for(&s, "acme", "source.ip:203.0.113.7", 1), 1);
    assert_eq!(wait_for(&s, "globex", "event.action:deny", 1), 1);
    assert_eq!(wait_for(&s, "initech", "octet", 20), 20);
    assert_eq!(wait_for(&s, "initech", "newline", 20), 20);
    assert_eq!(s.count("initech", "labels.source:asa"), 40);
    // util-linux logger, a real sender, over UDP and TCP
    if std::process::Command::new("logger")
        .arg("--version")
        .output()
        .is_ok()
    {
        for (proto, port) in [("--udp", udp), ("--tcp", tcp)] {
            let ok = std::process::Command::new("logger")
                .args([
                    proto,
                    "--server",
                    "127.0.0.1",
                    "--port",
                    &port.to_string(),
                    "--rfc5424",
                ])
                .args(["--tag", "mamori-test", &format!("hello from logger {proto}")])
                .status()
                .unwrap();
            assert!(ok.success());
        }
        assert_eq!(wait_for(&s, "acme", "logger", 1), 1);
        assert_eq!(wait_for(&s, "initech", "logger", 1), 1);
    } else {
        eprintln!("logger not installed: skipped the util-linux sender");
    }
}

/// The dead letter of `tenant`, one JSON object per record.
fn dead_letter(s: &TestServer, tenant: &str) -> Vec<Value> {
    std::fs::read_to_string(s.dir.path().join(format!("dead-letter/{tenant}.ndjson")))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The value of a series in the Prometheus text.
fn metric(s: &TestServer, series: &str) -> Option<f64> {
    let text = s.get("/metrics", &s.admin).text;
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[test]
fn oversized_messages_go_to_the_dead_letter_and_streams_carry_on() {
    let (udp, tcp) = (free_port(), free_port());
    let s = TestServer::start_with(|c| {
        for (port, protocol) in [(udp, "udp"), (tcp, "tcp")] {
            c.syslog.push(SyslogListener {
                listen: format!("127.0.0.1:{port}").parse().unwrap(),
                protocol: protocol.into(),
                tenant: "acme".into(),
                source: protocol.into(),
                max_message_bytes: 2048,
                ..SyslogListener::default()
            });
        }
    });
    let big = |n: usize, tag: &str| format!("<13>Nov 23 10:00:00 host app: {tag} {}", "x".repeat(n));
    // UDP: a 3,000-byte datagram between two small ones
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sender = sock.local_addr().unwrap();
    for m in [
        "<13>Nov 23 10:00:00 host app: small before".to_string(),
        big(3000, "udpbig"),
        "<13>Nov 23 10:00:00 host app: small after".to_string(),
    ] {
        sock.send_to(m.as_bytes(), ("127.0.0.1", udp)).unwrap();
    }
    // TCP: newline framing, then octet counting, each with an oversized message in the middle
    let mut c = TcpStream::connect(("127.0.0.1", tcp)).unwrap();
    let line_big = big(5000, "tcpline");
    write!(
        c,
        "<13>Nov 23 10:00:00 host app: line one\n{line_big}\n<13>Nov 23 10:00:00 host app: line two\n"
    )
    .unwrap();
    let frame_big = big(70_000, "tcpframe");
    for m in [
        "<13>Nov 23 10:00:00 host app: frame one".to_string(),
        frame_big.clone(),
        "<13>Nov 23 10:00:00 host app: frame two".to_string(),
    ] {
        write!(c, "{} {m}", m.len()).unwrap();
    }
    drop(c);

    assert_eq!(wait_for(&s, "acme", "small", 2), 2);
    assert_eq!(wait_for(&s, "acme", "line", 2), 2);
    assert_eq!(wait_for(&s, "acme", "frame", 2), 2);
    wait_until("three dead-letter records", || dead_letter(&s, "acme").len() == 3);
    // nothing of an oversized message was stored, not even a cut piece
    assert_eq!(s.count("acme", "udpbig or tcpline or tcpframe"), 0);
    let dl = dead_letter(&s, "acme");
    let rec = |tag: &str| {
        dl.iter()
            .find(|r| r["raw"].as_str().unwrap().contains(tag))
            .unwrap_or_else(|| panic!("no dead-letter record for {tag}: {dl:?}"))
    };
    let u = rec("udpbig");
    assert_eq!(u["sender"], sender.to_string());
    assert_eq!(u["listener"], format!("udp 127.0.0.1:{udp}"));
    assert_eq!(u["size"], big(3000, "udpbig").len());
    assert_eq!(u["max_message_bytes"], 2048);
    assert_eq!(u["raw"].as_str().unwrap().len(), 2048);
    assert!(
        u["reason"]
            .as_str()
            .unwrap()
            .contains("longer than max_message_bytes (2048)"),
        "{u}"
    );
    let l = rec("tcpline");
    assert_eq!(l["listener"], format!("tcp 127.0.0.1:{tcp}"));
    assert_eq!(l["size"], line_big.len());
    assert_eq!(l["byte_offset"], "<13>Nov 23 10:00:00 host app: line one\n".len());
    let f = rec("tcpframe");
    assert_eq!(f["size"], frame_big.len());
    assert!(f["sender"].as_str().unwrap().starts_with("127.0.0.1:"));
    // counted: per source (API and /metrics) and per listener
    let sources = s.get("/api/v1/tenants/acme/sources", &s.admin).json();
    assert_eq!(sources["live"]["udp"]["rejected"], 1, "{sources}");
    assert_eq!(sources["live"]["tcp"]["rejected"], 2, "{sources}");
    assert_eq!(
        metric(&s, "mamori_ingest_rejected_total{tenant=\"acme\",source=\"tcp\"}"),
        Some(2.0)
    );
    assert_eq!(
        metric(
            &s,
            &format!("mamori_syslog_oversized_total{{listener=\"udp 127.0.0.1:{udp}\"}}")
        ),
        Some(1.0)
    );
    assert_eq!(
        metric(
            &s,
            &format!("mamori_syslog_messages_total{{listener=\"tcp 127.0.0.1:{tcp}\"}}")
        ),
        Some(6.0)
    );
    let tcp_listener = sources["listeners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["listener"] == format!("tcp 127.0.0.1:{tcp}"))
        .unwrap()
        .clone();
    assert_eq!(
        (
            tcp_listener["messages"].as_u64(),
            tcp_listener["oversized"].as_u64()
        ),
        (Some(6), Some(2))
    );
}

/// A UDP listener with a tiny receive buffer: the kernel drops datagrams,
/// the listener counts them, and what was stored plus what was dropped is
/// what was sent.
#[test]
fn kernel_drops_on_a_udp_listener_are_counted() {
    if !cfg!(target_os = "linux") {
        eprintln!("skipped: kernel UDP drops are read from /proc/net/udp, which only Linux has");
        return;
    }
    let udp = free_port();
    let listener = format!("udp 127.0.0.1:{udp}");
    let s = TestServer::start_with(|c| {
        c.syslog.push(SyslogListener {
            listen: format!("127.0.0.1:{udp}").parse().unwrap(),
            protocol: "udp".into(),
            tenant: "acme".into(),
            source: "blast".into(),
            recv_buffer_bytes: Some(4096),
            ..SyslogListener::default()
        });
    });
    let drops = || {
        let sources = s.get("/api/v1/tenants/acme/sources", &s.admin).json();
        let l = sources["listeners"][0].clone();
        assert_eq!(l["listener"], listener, "{sources}");
        (
            l["messages"].as_u64().unwrap(),
            l["kernel_drops"].as_u64().unwrap(),
        )
    };
    assert_eq!(drops(), (0, 0));
    // Blast rounds of datagrams (1 KB each: a few fit in the buffer) until the kernel has dropped some.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let pad = "p".repeat(1000);
    let mut sent = 0u64;
    for _round in 0..20 {
        for _ in 0..5_000 {
            let m = format!("<13>Nov 23 10:00:00 blaster app: blast {sent} {pad}");
            sock.send_to(m.as_bytes(), ("127.0.0.1", udp)).unwrap();
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(1500));
        if drops().1 > 0 {
            break;
        }
    }
    // Wait until every datagram is either stored or counted as dropped by the kernel.
    let start = Instant::now();
    let (stored, received, dropped) = loop {
        let (received, dropped) = drops();
        let stored = s.count("acme", "blast");
        if stored + dropped >= sent || start.elapsed() > Duration::from_secs(30) {
            break (stored, received, dropped);
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    eprintln!("sent {sent}: received {received}, stored {stored}, kernel drops {dropped}");
    assert!(dropped > 0, "the kernel dropped nothing of {sent} datagrams");
    assert_eq!(received, stored, "every datagram received was stored");
    assert_eq!(
        stored + dropped,
        sent,
        "stored + dropped accounts for every datagram sent"
    );
    assert_eq!(
        metric(
            &s,
            &format!("mamori_syslog_kernel_drops_total{{listener=\"{listener}\"}}")
        ),
        Some(dropped as f64)
    );
}
