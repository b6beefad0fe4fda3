//! Zeek TSV and JSON: header handling, typing by `#types`, unset and empty
//! fields, per-log ECS mapping, bad lines.

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
    assert_eq!(sniff(fixture("zeek_conn.log").as_bytes()), Some(Format::Zeek));
    assert_eq!(sniff(fixture("zeek.json").as_bytes()), Some(Format::Zeek));
    // ts + uid + id.orig_h without _path; Kafka writer streams.
    let plain = br#"{"ts":1.5,"uid":"C1","id.orig_h":"10.0.0.1","id.orig_p":1}"#;
    assert_eq!(sniff(plain), Some(Format::Zeek));
    let kafka = br#"{"@stream":"loaded_scripts","@system":"s","@proc":"zeek","name":"x"}"#;
    assert_eq!(sniff(kafka), Some(Format::Zeek));
    // Other JSON stays generic.
    assert_eq!(sniff(br#"{"ts":1.5,"uid":"C1"}"#), Some(Format::Ndjson));
    // OwlH names the log in `bro_engine`.
    let owlh = r#"{"ts":1573747292.5,"uid":"C2","id.orig_h":"10.0.2.2","id.orig_p":45398,"id.resp_h":"10.0.2.15","id.resp_p":22,"auth_success":true,"bro_engine":"SSH"}"#;
    assert_eq!(sniff(owlh.as_bytes()), Some(Format::Zeek));
    let s_ = split(run(Format::Zeek, owlh));
    assert_eq!(s_.events[0].get_str("event.dataset"), Some("zeek.ssh"));
    assert_eq!(s_.events[0].outcome(), Some("success"));
    assert_eq!(Format::from_name("zeek"), Some(Format::Zeek));
}

#[test]
fn tsv_conn_typed_fields() {
    let s_ = split(run(Format::Zeek, fixture("zeek_conn.log")));
    assert_eq!(s_.events.len(), 3);
    assert_eq!(s_.bad.len(), 1);
    assert!(s_.warnings.is_empty());

    let ev = &s_.events[0];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.123456Z")
    );
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("zeek.conn"));
    assert_eq!(s(ev, "event.module").as_deref(), Some("zeek"));
    assert_eq!(s(ev, "event.kind").as_deref(), Some("event"));
    assert_eq!(ev.get("event.category"), Some(&json!(["network"])));
    assert_eq!(ev.get("event.type"), Some(&json!(["connection"])));
    assert_eq!(s(ev, "zeek.session_id").as_deref(), Some("CAbc123xyz"));
    // The uid is not the event id: the id is derived from the line.
    assert_eq!(ev.id(), Event::derived_id("acme", ev.original()));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("10.0.0.5"));
    assert_eq!(ev.get("source.port"), Some(&json!(49152)));
    assert_eq!(s(ev, "destination.ip").as_deref(), Some("203.0.113.9"));
    assert_eq!(ev.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(ev, "network.transport").as_deref(), Some("tcp"));
    assert_eq!(s(ev, "network.protocol").as_deref(), Some("ssl"));
    assert_eq!(
        s(ev, "network.community_id").as_deref(),
        Some("1:LQU9qZlK+B5F3KDmev6m5PMibrg=")
    );
    assert_eq!(ev.get("event.duration"), Some(&json!(2_500_000_000i64)));
    assert_eq!(ev.get("source.bytes"), Some(&json!(1024)));
    assert_eq!(ev.get("destination.bytes"), Some(&json!(40960)));
    assert_eq!(ev.get("network.bytes"), Some(&json!(41984)));
    assert_eq!(ev.get("source.packets"), Some(&json!(20)));
    assert_eq!(ev.get("destination.packets"), Some(&json!(35)));
    assert_eq!(ev.get("network.packets"), Some(&json!(55)));
    assert_eq!(s(ev, "zeek.connection.state").as_deref(), Some("SF"));
    assert_eq!(s(ev, "zeek.connection.history").as_deref(), Some("ShADadFf"));
    assert_eq!(ev.get("related.ip"), Some(&json!(["10.0.0.5", "203.0.113.9"])));
    // Every field under zeek.conn, typed.
    assert_eq!(
        s(ev, "zeek.conn.ts").as_deref(),
        Some("2023-10-10T12:00:01.123456Z")
    );
    assert_eq!(ev.get("zeek.conn.id.orig_p"), Some(&json!(49152)));
    assert_eq!(ev.get("zeek.conn.duration"), Some(&json!(2.5)));
    assert_eq!(ev.get("zeek.conn.local_orig"), Some(&json!(true)));
    assert_eq!(ev.get("zeek.conn.local_resp"), Some(&json!(false)));
    assert_eq!(ev.get("zeek.conn.missed_bytes"), Some(&json!(0)));
    // `(empty)` set: omitted.
    assert_eq!(ev.get("zeek.conn.tunnel_parents"), None);

    // Unset fields are omitted; a set is an array.
    let ev = &s_.events[1];
    assert_eq!(ev.get("network.protocol"), None);
    assert_eq!(ev.get("event.duration"), None);
    assert_eq!(ev.get("source.bytes"), None);
    assert_eq!(ev.get("zeek.conn.service"), None);
    assert_eq!(ev.get("zeek.conn.duration"), None);
    assert_eq!(
        ev.get("zeek.conn.tunnel_parents"),
        Some(&json!(["Cparent1", "Cparent2"]))
    );
    assert_eq!(ev.get("network.community_id"), None);

    // A field count that does not match #fields: bad record with its line.
    let bad = &s_.bad[0];
    assert_eq!(bad.location.line, Some(11));
    assert!(
        bad.reason.contains("5 fields, but #fields names 22"),
        "{}",
        bad.reason
    );
    assert!(bad.location.byte_offset.is_some());

    // A value that does not read as its type is kept as text.
    let ev = &s_.events[2];
    assert_eq!(s(ev, "zeek.conn.id.orig_p").as_deref(), Some("not-a-port"));
    assert_eq!(ev.get("source.port"), Some(&json!("not-a-port")));
    assert_eq!(ev.get("zeek.conn.resp_bytes"), Some(&json!("x")));
    assert_eq!(ev.get("destination.bytes"), None);
}

#[test]
fn tsv_dns_vectors_and_escapes() {
    let s_ = split(run(Format::Zeek, fixture("zeek_dns.log")));
    assert!(s_.bad.is_empty(), "{:?}", s_.bad);
    let ev = &s_.events[0];
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("zeek.dns"));
    assert_eq!(s(ev, "network.protocol").as_deref(), Some("dns"));
    assert_eq!(s(ev, "dns.question.name").as_deref(), Some("evil.example.com"));
    assert_eq!(s(ev, "dns.question.type").as_deref(), Some("A"));
    assert_eq!(s(ev, "dns.question.class").as_deref(), Some("C_INTERNET"));
    assert_eq!(s(ev, "dns.response_code").as_deref(), Some("NOERROR"));
    assert_eq!(s(ev, "dns.type").as_deref(), Some("answer"));
    assert_eq!(s(ev, "dns.id").as_deref(), Some("4242"));
    assert_eq!(ev.get("dns.header_flags"), Some(&json!(["RD", "RA"])));
    assert_eq!(
        ev.get("dns.answers"),
        Some(&json!([{"data": "cdn.example.net", "ttl": 300}, {"data": "198.51.100.66", "ttl": 60}]))
    );
    assert_eq!(ev.get("dns.resolved_ip"), Some(&json!(["198.51.100.66"])));
    assert_eq!(ev.get("zeek.dns.TTLs"), Some(&json!([300.0, 60.0])));
    assert_eq!(ev.get("zeek.dns.rtt"), Some(&json!(0.0012)));
    assert_eq!(ev.get("zeek.dns.rejected"), Some(&json!(false)));

    // Escaped separators in values; unset rcode: a query.
    let ev = &s_.events[1];
    assert_eq!(
        s(ev, "dns.question.name").as_deref(),
        Some("weird\tname,.example")
    );
    assert_eq!(s(ev, "dns.type").as_deref(), Some("query"));
    assert_eq!(ev.get("dns.answers"), None);
    assert_eq!(ev.get("zeek.dns.rtt"), None);
}

#[test]
fn tsv_headers_are_required_and_may_change() {
    let input = "1.0\tx\n\
                 #separator \\x7c\n\
                 #set_separator|;\n\
                 #empty_field|EMPTY\n\
                 #unset_field|NONE\n\
                 #path|my_log\n\
                 #fields|ts|tags|n\n\
                 #types|time|set[string]|count\n\
                 1696939201.5|a;b|7\n\
                 1696939202|EMPTY|NONE\n\
                 #fields|ts|n\n\
                 #types|time|count|count\n\
                 1696939203|8\n";
    let s_ = split(run(Format::Zeek, input));
    assert_eq!(s_.bad.len(), 1);
    assert!(s_.bad[0].reason.contains("before any #fields"));
    assert_eq!(s_.warnings.len(), 1);
    assert!(
        s_.warnings[0]
            .message
            .contains("#types names 3 types for 2 fields")
    );
    assert_eq!(s_.events.len(), 3);
    let ev = &s_.events[0];
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("zeek.my_log"));
    assert_eq!(ev.get("zeek.my_log.tags"), Some(&json!(["a", "b"])));
    assert_eq!(ev.get("zeek.my_log.n"), Some(&json!(7)));
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.500000Z")
    );
    let ev = &s_.events[1];
    assert_eq!(ev.get("zeek.my_log.tags"), None);
    assert_eq!(ev.get("zeek.my_log.n"), None);
    // After a #types of the wrong length, values are text.
    assert_eq!(s_.events[2].get("zeek.my_log.n"), Some(&json!("8")));
    assert_eq!(
        s(&s_.events[2], "@timestamp").as_deref(),
        Some("2023-10-10T12:00:03.000000Z")
    );
}

#[test]
fn json_logs() {
    let s_ = split(run(Format::Zeek, fixture("zeek.json")));
    assert_eq!(s_.bad.len(), 1);
    assert_eq!(s_.bad[0].location.line, Some(6));
    assert!(
        s_.bad[0].reason.starts_with("invalid JSON"),
        "{}",
        s_.bad[0].reason
    );
    assert_eq!(s_.events.len(), 11);
    let by = |dataset: &str| {
        s_.events
            .iter()
            .find(|e| e.get_str("event.dataset") == Some(dataset))
            .unwrap_or_else(|| panic!("no {dataset}"))
    };

    let ev = by("zeek.http");
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.250000Z")
    );
    assert_eq!(s(ev, "zeek.session_id").as_deref(), Some("CHttp1"));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("10.0.0.5"));
    assert_eq!(ev.get("destination.port"), Some(&json!(80)));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(s(ev, "url.domain").as_deref(), Some("downloads.example.com"));
    assert_eq!(s(ev, "url.original").as_deref(), Some("/files/payload.exe?id=7"));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/files/payload.exe"));
    assert_eq!(s(ev, "url.query").as_deref(), Some("id=7"));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(200)));
    assert_eq!(s(ev, "user_agent.original").as_deref(), Some("Wget/1.21"));
    assert_eq!(s(ev, "http.version").as_deref(), Some("1.1"));
    assert_eq!(
        s(ev, "http.request.referrer").as_deref(),
        Some("http://search.example/")
    );
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(73802)));
    assert_eq!(ev.get("zeek.http.tags"), None, "empty arrays are left out");
    assert_eq!(ev.get("zeek.http._write_ts"), None);
    assert_eq!(ev.get("zeek.http.id.orig_h"), Some(&json!("10.0.0.5")));

    let ev = by("zeek.ssl");
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:02.500000Z")
    );
    assert_eq!(s(ev, "observer.hostname").as_deref(), Some("sensor-1"));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("10.0.0.5"), "Kafka id_orig_h");
    assert_eq!(ev.get("zeek.ssl.id.resp_p"), Some(&json!(443)));
    assert_eq!(s(ev, "tls.version").as_deref(), Some("1.2"));
    assert_eq!(s(ev, "tls.version_protocol").as_deref(), Some("tls"));
    assert_eq!(
        s(ev, "tls.cipher").as_deref(),
        Some("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
    );
    assert_eq!(s(ev, "tls.client.server_name").as_deref(), Some("c2.example.org"));
    assert_eq!(s(ev, "tls.curve").as_deref(), Some("secp256r1"));
    assert_eq!(ev.get("tls.established"), Some(&json!(true)));
    assert_eq!(ev.get("tls.resumed"), Some(&json!(false)));
    assert_eq!(
        s(ev, "tls.client.ja3").as_deref(),
        Some("e0fe397a5edfba9a6facc7c7b341f4eb")
    );
    assert_eq!(
        s(ev, "tls.server.ja3s").as_deref(),
        Some("e35df3e00ca4ef31d42b34bebaa2f86e")
    );
    assert_eq!(s(ev, "tls.server.issuer").as_deref(), Some("CN=Fake CA"));
    assert_eq!(s(ev, "network.protocol").as_deref(), Some("tls"));

    let ev = by("zeek.notice");
    assert_eq!(s(ev, "event.kind").as_deref(), Some("alert"));
    assert_eq!(s(ev, "rule.name").as_deref(), Some("SSL::Invalid_Server_Cert"));
    assert_eq!(
        s(ev, "message").as_deref(),
        Some("SSL certificate validation failed")
    );
    assert_eq!(ev.get("event.category"), Some(&json!(["intrusion_detection"])));

    let ev = by("zeek.x509");
    assert_eq!(s(ev, "x509.version_number").as_deref(), Some("3"));
    assert_eq!(s(ev, "x509.serial_number").as_deref(), Some("0A1B2C"));
    assert_eq!(
        s(ev, "x509.subject.distinguished_name").as_deref(),
        Some("CN=c2.example.org")
    );
    assert_eq!(
        s(ev, "x509.issuer.distinguished_name").as_deref(),
        Some("CN=Fake CA")
    );
    assert_eq!(
        s(ev, "x509.not_before").as_deref(),
        Some("2023-09-29T15:06:40.000000Z")
    );
    assert_eq!(
        s(ev, "x509.not_after").as_deref(),
        Some("2024-10-10T00:00:00.000000Z")
    );
    assert_eq!(ev.get("x509.public_key_size"), Some(&json!(2048)));
    assert_eq!(
        s(ev, "x509.public_key_algorithm").as_deref(),
        Some("rsaEncryption")
    );
    assert_eq!(
        s(ev, "x509.signature_algorithm").as_deref(),
        Some("sha256WithRSAEncryption")
    );
    assert_eq!(
        ev.get("x509.alternative_names"),
        Some(&json!(["c2.example.org", "www.c2.example.org"]))
    );
    assert_eq!(ev.get("zeek.x509.certificate.key_length"), Some(&json!(2048)));

    let ev = by("zeek.files");
    assert_eq!(s(ev, "file.name").as_deref(), Some("payload.exe"));
    assert_eq!(s(ev, "file.mime_type").as_deref(), Some("application/x-dosexec"));
    assert_eq!(ev.get("file.size"), Some(&json!(73802)));
    assert_eq!(
        s(ev, "file.hash.md5").as_deref(),
        Some("d41d8cd98f00b204e9800998ecf8427e")
    );
    assert_eq!(
        s(ev, "file.hash.sha1").as_deref(),
        Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    );

    let ev = by("zeek.smtp");
    assert_eq!(
        s(ev, "email.from.address").as_deref(),
        Some("<attacker@example.net>")
    );
    assert_eq!(ev.get("email.to.address"), Some(&json!(["<victim@example.com>"])));
    assert_eq!(s(ev, "email.subject").as_deref(), Some("Invoice"));

    let ev = by("zeek.ssh");
    assert_eq!(ev.outcome(), Some("failure"));
    assert_eq!(s(ev, "network.protocol").as_deref(), Some("ssh"));

    let ev = by("zeek.weird");
    assert_eq!(s(ev, "rule.name").as_deref(), Some("bad_TCP_checksum"));

    let ev = by("zeek.kerberos");
    assert_eq!(ev.user_name(), Some("jdoe"));
    assert_eq!(s(ev, "user.domain").as_deref(), Some("CORP.EXAMPLE"));
    assert_eq!(ev.outcome(), Some("success"));

    // No _path: guessed from the keys.
    let ev = by("zeek.conn");
    assert_eq!(s(ev, "zeek.connection.state").as_deref(), Some("REJ"));
    assert_eq!(ev.get("event.duration"), Some(&json!(250_000_000)));

    // No ts: ingest time, tagged.
    let ev = by("zeek.loaded_scripts");
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2030-01-02T03:04:05.000000Z")
    );
    assert_eq!(ev.get("tags"), Some(&json!(["mamori.timestamp_missing"])));
}
