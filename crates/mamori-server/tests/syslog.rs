//! Syslog listeners with real senders: std sockets, and util-linux `logger`
//! when it is installed.

mod common;

use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::TestServer;
use mamori_server::config::{SenderRule, SyslogListener};

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
            },
            SyslogListener {
                listen: format!("127.0.0.1:{tcp}").parse().unwrap(),
                protocol: "tcp".into(),
                tenant: "initech".into(),
                source: "asa".into(),
                senders: vec![],
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
