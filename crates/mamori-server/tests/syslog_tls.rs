//! Syslog over TLS (RFC 5425) with a real rustls client: octet counting and
//! newline framing, a message split across TLS records, a message larger than
//! one record, an oversized message, and mutual TLS.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use mamori_server::config::{SenderRule, SyslogListener, SyslogTls};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A test CA, a server certificate for localhost and a sender's client certificate.
struct Pki {
    ca: CertificateDer<'static>,
    client_chain: Vec<CertificateDer<'static>>,
    client_key: Vec<u8>,
}

fn make_pki(dir: &Path) -> Pki {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| {
        let mut p = CertificateParams::new(names).unwrap();
        p.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca).unwrap();
        (cert, key)
    };
    let (server, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client, client_key) = leaf(
        vec!["fw-paris.example".into()],
        ExtendedKeyUsagePurpose::ClientAuth,
    );
    std::fs::write(dir.join("server.pem"), server.pem()).unwrap();
    std::fs::write(dir.join("server-key.pem"), server_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    Pki {
        ca: ca.der().clone(),
        client_chain: vec![client.der().clone()],
        client_key: client_key.serialize_der(),
    }
}

fn connector(pki: &Pki, with_client_cert: bool) -> TlsConnector {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if with_client_cert {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.client_key.clone()));
        builder
            .with_client_auth_cert(pki.client_chain.clone(), key)
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    TlsConnector::from(Arc::new(config))
}

async fn connect(c: &TlsConnector, port: u16) -> std::io::Result<TlsStream<tokio::net::TcpStream>> {
    let tcp = tokio::net::TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    c.connect(ServerName::try_from("localhost").unwrap(), tcp).await
}

fn wait_for(s: &TestServer, tenant: &str, query: &str, n: u64) -> u64 {
    let start = Instant::now();
    loop {
        let got = s.count(tenant, query);
        if got >= n || start.elapsed() > Duration::from_secs(15) {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn octets(msg: &str) -> String {
    format!("{} {msg}", msg.len())
}

#[test]
fn syslog_over_tls_is_received_framed_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki(dir.path());
    let (plain, mutual) = (free_port(), free_port());
    let tls = |client_ca: bool| SyslogTls {
        cert: dir.path().join("server.pem"),
        key: dir.path().join("server-key.pem"),
        client_ca: client_ca.then(|| dir.path().join("ca.pem")),
    };
    let s = TestServer::start_with(|c| {
        c.syslog = vec![
            SyslogListener {
                listen: format!("127.0.0.1:{plain}").parse().unwrap(),
                protocol: "tls".into(),
                tenant: "acme".into(),
                source: "tls".into(),
                max_message_bytes: 4096,
                senders: vec![SenderRule {
                    matches: "fw-globex".into(),
                    tenant: "globex".into(),
                    source: "fw".into(),
                }],
                tls: Some(tls(false)),
                ..SyslogListener::default()
            },
            SyslogListener {
                listen: format!("127.0.0.1:{mutual}").parse().unwrap(),
                protocol: "tls".into(),
                tenant: "initech".into(),
                source: "mtls".into(),
                tls: Some(tls(true)),
                ..SyslogListener::default()
            },
        ];
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let long_tail = "y".repeat(3000);
    rt.block_on(async {
        let anyone = connector(&pki, false);
        let mut c = connect(&anyone, plain).await.unwrap();
        // octet counting (RFC 5425), several messages in one write
        let mut burst = String::new();
        for i in 0..5 {
            burst.push_str(&octets(&format!(
                "<13>1 2026-11-23T10:00:0{i}Z web01 app - - - tls octet message {i}"
            )));
        }
        c.write_all(burst.as_bytes()).await.unwrap();
        c.flush().await.unwrap();
        // one message split across two TLS records, with a pause longer than a batch flush between them
        let split = octets("<13>1 2026-11-23T10:00:10Z web01 app - - - tls split message, first half and second half");
        let (a, b) = split.split_at(split.len() / 2);
        c.write_all(a.as_bytes()).await.unwrap();
        c.flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.write_all(b.as_bytes()).await.unwrap();
        c.flush().await.unwrap();
        // a message (3 KB, within the limit) larger than the 1 KB records it is written in
        let long = octets(&format!(
            "<13>1 2026-11-23T10:00:11Z web01 app - - - tls long message {long_tail}"
        ));
        for chunk in long.as_bytes().chunks(1024) {
            c.write_all(chunk).await.unwrap();
            c.flush().await.unwrap();
        }
        // an oversized message (dead letter), then newline framing as rsyslog may send it, routed by hostname
        let huge = octets(&format!("<13>1 2026-11-23T10:00:12Z web01 app - - - tls huge {}", "z".repeat(10_000)));
        c.write_all(huge.as_bytes()).await.unwrap();
        c.write_all(b"<134>Nov 23 10:00:13 fw-globex CEF:0|Fortinet|FortiGate|7.0|13|traffic|3|src=10.0.0.1 dst=8.8.8.8 act=deny\n")
            .await
            .unwrap();
        c.shutdown().await.unwrap();

        // mutual TLS: a sender without a client certificate is refused, one with a certificate from the CA is read
        if let Ok(mut refused) = connect(&anyone, mutual).await {
            // TLS 1.3 lets the client finish first; the server's refusal comes on the next read.
            let _ = refused
                .write_all(octets("<13>1 2026-11-23T10:00:00Z x app - - - mtls without certificate").as_bytes())
                .await;
            let _ = refused.flush().await;
            let mut buf = [0u8; 16];
            let read = tokio::time::timeout(Duration::from_secs(5), refused.read(&mut buf))
                .await
                .expect("the server answers a sender without a certificate");
            assert!(!matches!(read, Ok(n) if n > 0), "{read:?}");
        }
        let mut c = connect(&connector(&pki, true), mutual).await.unwrap();
        c.write_all(octets("<13>1 2026-11-23T10:00:00Z fw-paris app - - - mtls with certificate").as_bytes())
            .await
            .unwrap();
        c.shutdown().await.unwrap();
    });

    assert_eq!(wait_for(&s, "acme", "octet", 5), 5);
    assert_eq!(wait_for(&s, "acme", "split", 1), 1);
    assert_eq!(
        s.count(
            "acme",
            "message:\"tls split message, first half and second half\""
        ),
        1
    );
    assert_eq!(wait_for(&s, "acme", "long", 1), 1);
    assert_eq!(s.count("acme", "labels.source:tls"), 7);
    assert_eq!(wait_for(&s, "globex", "event.action:deny", 1), 1);
    assert_eq!(s.count("globex", "labels.source:fw"), 1);
    assert_eq!(wait_for(&s, "initech", "certificate", 1), 1);
    assert_eq!(s.count("initech", "without"), 0);
    // the oversized message is in the dead letter, not in the store
    assert_eq!(s.count("acme", "huge"), 0);
    let dl: Vec<Value> = std::fs::read_to_string(s.dir.path().join("dead-letter/acme.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(dl.len(), 1, "{dl:?}");
    assert_eq!(dl[0]["listener"], format!("tls 127.0.0.1:{plain}"));
    assert!(dl[0]["size"].as_u64().unwrap() > 10_000);
    assert!(dl[0]["raw"].as_str().unwrap().contains("tls huge"));
    let sources = s.get("/api/v1/tenants/acme/sources", &s.admin).json();
    assert_eq!(sources["live"]["tls"]["events"], 7, "{sources}");
    assert_eq!(sources["live"]["tls"]["rejected"], 1, "{sources}");
}

#[test]
fn a_tls_listener_with_a_bad_certificate_does_not_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
    let cfg = mamori_server::config::ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        syslog: vec![SyslogListener {
            listen: format!("127.0.0.1:{}", free_port()).parse().unwrap(),
            protocol: "tls".into(),
            tenant: "acme".into(),
            tls: Some(SyslogTls {
                cert: dir.path().join("cert.pem"),
                key: dir.path().join("missing-key.pem"),
                client_ca: None,
            }),
            ..SyslogListener::default()
        }],
        ..mamori_server::config::ServerConfig::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = match rt.block_on(mamori_server::serve::start(cfg)) {
        Ok(_) => panic!("started with a bad certificate"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("syslog tls 127.0.0.1:")
            && err.contains("cert.pem")
            && err.contains("no PEM certificate"),
        "{err}"
    );
}
