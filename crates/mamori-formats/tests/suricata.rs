//! Suricata EVE JSON: each event type mapped, `+0000` offsets, bad lines.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use mamori_model::Event;
use serde_json::{Value, json};

fn s(ev: &Event, path: &str) -> Option<String> {
    ev.get(path).map(|v| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

#[test]
fn sniffing() {
    assert_eq!(
        sniff(fixture("suricata_eve.json").as_bytes()),
        Some(Format::Suricata)
    );
    assert_eq!(
        sniff(br#"{"event_type":"flow","timestamp":"2023-10-10T12:00:00+0000"}"#),
        Some(Format::Suricata)
    );
    assert_eq!(sniff(br#"{"event_type":"flow"}"#), Some(Format::Ndjson));
    assert_eq!(Format::from_name("suricata"), Some(Format::Suricata));
}

#[test]
fn eve_records() {
    let s_ = split(run(Format::Suricata, fixture("suricata_eve.json")));
    assert_eq!(s_.events.len(), 10);
    assert_eq!(s_.bad.len(), 2);
    assert_eq!(s_.bad[0].location.line, Some(8));
    assert!(
        s_.bad[0].reason.starts_with("invalid JSON"),
        "{}",
        s_.bad[0].reason
    );
    assert!(s_.bad[0].location.column.is_some());
    assert_eq!(s_.bad[1].location.line, Some(12));
    assert!(s_.bad[1].reason.contains("found an array"));
    for ev in &s_.events {
        assert_eq!(s(ev, "event.dataset").as_deref(), Some("suricata.eve"));
        assert_eq!(s(ev, "event.module").as_deref(), Some("suricata"));
    }

    // alert (with http and flow)
    let ev = &s_.events[0];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.123456Z")
    );
    assert_eq!(s(ev, "event.kind").as_deref(), Some("alert"));
    assert_eq!(
        ev.get("event.category"),
        Some(&json!(["network", "intrusion_detection"]))
    );
    assert_eq!(ev.get("event.type"), Some(&json!(["info", "denied"])));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("203.0.113.9"));
    assert_eq!(ev.get("source.port"), Some(&json!(443)));
    assert_eq!(s(ev, "destination.ip").as_deref(), Some("10.0.0.5"));
    assert_eq!(ev.get("destination.port"), Some(&json!(49201)));
    assert_eq!(s(ev, "network.transport").as_deref(), Some("tcp"));
    assert_eq!(s(ev, "network.protocol").as_deref(), Some("http"));
    assert_eq!(
        s(ev, "network.community_id").as_deref(),
        Some("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
    );
    assert_eq!(s(ev, "rule.id").as_deref(), Some("2024897"));
    assert_eq!(
        s(ev, "rule.name").as_deref(),
        Some("ET MALWARE Example C2 Beacon")
    );
    assert_eq!(
        s(ev, "rule.category").as_deref(),
        Some("A Network Trojan was detected")
    );
    assert_eq!(s(ev, "rule.version").as_deref(), Some("3"));
    assert_eq!(ev.get("event.severity"), Some(&json!(1)));
    assert_eq!(s(ev, "event.action").as_deref(), Some("blocked"));
    assert_eq!(ev.get("suricata.eve.alert.gid"), Some(&json!(1)));
    assert_eq!(ev.get("suricata.eve.flow_id"), Some(&json!(1234567890123456u64)));
    assert_eq!(s(ev, "url.domain").as_deref(), Some("c2.example.org"));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(ev.get("source.bytes"), Some(&json!(800)));
    assert_eq!(ev.get("destination.bytes"), Some(&json!(1200)));
    assert_eq!(ev.get("source.packets"), Some(&json!(5)));
    assert_eq!(ev.get("destination.packets"), Some(&json!(4)));
    assert_eq!(s(ev, "observer.hostname").as_deref(), Some("ids-1"));
    assert_eq!(s(ev, "observer.ingress.interface.name").as_deref(), Some("eth0"));
    assert_eq!(ev.get("related.ip"), Some(&json!(["203.0.113.9", "10.0.0.5"])));
    assert_eq!(ev.id(), Event::derived_id("acme", ev.original()));

    // flow
    let ev = &s_.events[1];
    assert_eq!(s(ev, "event.kind").as_deref(), Some("event"));
    assert_eq!(ev.get("event.category"), Some(&json!(["network"])));
    assert_eq!(ev.get("network.bytes"), Some(&json!(164)));
    assert_eq!(ev.get("network.packets"), Some(&json!(2)));
    assert_eq!(
        s(ev, "event.start").as_deref(),
        Some("2023-10-10T12:00:00.500000Z")
    );
    assert_eq!(s(ev, "event.end").as_deref(), Some("2023-10-10T12:00:01.000000Z"));
    assert_eq!(ev.get("event.duration"), Some(&json!(500_000_000)));
    assert_eq!(s(ev, "network.transport").as_deref(), Some("udp"));

    // dns query and answer
    let ev = &s_.events[2];
    assert_eq!(s(ev, "dns.type").as_deref(), Some("query"));
    assert_eq!(s(ev, "dns.question.name").as_deref(), Some("evil.example.com"));
    assert_eq!(s(ev, "dns.question.type").as_deref(), Some("A"));
    assert_eq!(s(ev, "dns.id").as_deref(), Some("16000"));
    let ev = &s_.events[3];
    assert_eq!(s(ev, "dns.type").as_deref(), Some("answer"));
    assert_eq!(s(ev, "dns.response_code").as_deref(), Some("NOERROR"));
    assert_eq!(
        ev.get("dns.answers"),
        Some(&json!([
            {"name": "evil.example.com", "type": "CNAME", "ttl": 300, "data": "cdn.example.net"},
            {"name": "cdn.example.net", "type": "A", "ttl": 60, "data": "198.51.100.66"}
        ]))
    );
    assert_eq!(ev.get("dns.resolved_ip"), Some(&json!(["198.51.100.66"])));

    // http
    let ev = &s_.events[4];
    assert_eq!(s(ev, "url.domain").as_deref(), Some("downloads.example.com"));
    assert_eq!(s(ev, "url.original").as_deref(), Some("/files/payload.exe?id=7"));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/files/payload.exe"));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(200)));
    assert_eq!(s(ev, "http.version").as_deref(), Some("1.1"));
    assert_eq!(s(ev, "user_agent.original").as_deref(), Some("Wget/1.21"));
    assert_eq!(
        s(ev, "http.request.referrer").as_deref(),
        Some("http://search.example/")
    );
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(73802)));
    assert_eq!(
        s(ev, "http.response.mime_type").as_deref(),
        Some("application/octet-stream")
    );

    // tls
    let ev = &s_.events[5];
    assert_eq!(s(ev, "tls.client.server_name").as_deref(), Some("c2.example.org"));
    assert_eq!(s(ev, "tls.version").as_deref(), Some("1.2"));
    assert_eq!(s(ev, "tls.version_protocol").as_deref(), Some("tls"));
    assert_eq!(s(ev, "tls.server.subject").as_deref(), Some("CN=c2.example.org"));
    assert_eq!(s(ev, "tls.server.issuer").as_deref(), Some("CN=Fake CA"));
    assert_eq!(
        s(ev, "tls.server.hash.sha1").as_deref(),
        Some("ABCDEF0123456789ABCDEF0123456789ABCDEF01")
    );
    assert_eq!(
        s(ev, "tls.server.not_before").as_deref(),
        Some("2023-09-29T15:06:40.000000Z")
    );
    assert_eq!(
        s(ev, "tls.client.ja3").as_deref(),
        Some("e0fe397a5edfba9a6facc7c7b341f4eb")
    );
    assert_eq!(
        s(ev, "tls.server.ja3s").as_deref(),
        Some("e35df3e00ca4ef31d42b34bebaa2f86e")
    );
    assert_eq!(s(ev, "suricata.eve.tls.ja3.string").as_deref(), Some("771,49195"));

    // fileinfo
    let ev = &s_.events[6];
    assert_eq!(s(ev, "file.name").as_deref(), Some("/files/payload.exe"));
    assert_eq!(ev.get("file.size"), Some(&json!(73802)));
    assert_eq!(
        s(ev, "file.hash.md5").as_deref(),
        Some("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert!(s(ev, "file.type").unwrap().starts_with("PE32"));
    assert_eq!(s(ev, "url.domain").as_deref(), Some("downloads.example.com"));
    assert_eq!(ev.get("event.category"), Some(&json!(["network", "file"])));

    // anomaly
    let ev = &s_.events[7];
    assert_eq!(
        s(ev, "suricata.eve.anomaly.event").as_deref(),
        Some("ipv4.trunc_pkt")
    );
    assert_eq!(s(ev, "event.kind").as_deref(), Some("event"));

    // stats: a metric event keeping the counters
    let ev = &s_.events[8];
    assert_eq!(s(ev, "event.kind").as_deref(), Some("metric"));
    assert_eq!(
        ev.get("suricata.eve.stats.capture.kernel_drops"),
        Some(&json!(12))
    );
    assert_eq!(ev.get("source.ip"), None);

    // no timestamp: ingest time, tagged
    let ev = &s_.events[9];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2030-01-02T03:04:05.000000Z")
    );
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
    assert_eq!(
        s(ev, "event.ingested").as_deref(),
        Some("2030-01-02T03:04:05.000000Z")
    );
}
