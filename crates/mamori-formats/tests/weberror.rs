//! Apache and nginx error logs with ModSecurity alerts, on the invented
//! lines of `fixtures/web_error.log`.

mod common;

use common::{fixture, run, split};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;
use serde_json::json;

#[test]
fn error_lines_and_waf_alerts() {
    let text = fixture("web_error.log");
    assert_eq!(sniff(text.as_bytes()), Some(Format::WebError));
    let p = split(run(Format::WebError, &text));
    assert_eq!((p.events.len(), p.bad.len()), (5, 1));
    assert_eq!(p.bad[0].location.line, Some(6));

    let denied = &p.events[0];
    for (path, want) in [
        ("@timestamp", json!("2024-12-07T04:10:07.250000Z")),
        ("event.kind", json!("alert")),
        ("event.action", json!("access_denied")),
        ("event.type", json!(["denied"])),
        ("event.category", json!(["intrusion_detection", "web"])),
        ("http.response.status_code", json!(403)),
        ("rule.id", json!("942100")),
        (
            "rule.name",
            json!("SQL Injection Attack Detected via libinjection"),
        ),
        ("rule.ruleset", json!("OWASP_CRS/3.3.4")),
        ("modsecurity.severity", json!("CRITICAL")),
        ("modsecurity.tags", json!(["attack-sqli", "OWASP_CRS"])),
        ("url.domain", json!("shop.example.com")),
        ("url.path", json!("/item.php")),
        ("http.request.id", json!("Y1abcdEFGH")),
        ("source.ip", json!("203.0.113.50")),
        ("source.port", json!(51234)),
        ("process.pid", json!(2406)),
        ("event.dataset", json!("apache.error")),
    ] {
        assert_eq!(denied.get(path), Some(&want), "{path}");
    }
    assert!(denied.get("tags").unwrap().to_string().contains("attack-sqli"));

    let core = &p.events[1];
    assert_eq!(core.get_str("error.code"), Some("AH00037"));
    assert_eq!(core.get_str("apache.error.module"), Some("core"));
    assert_eq!(core.get("process.thread.id"), Some(&json!(4328636416u64)));
    assert_eq!(core.get_str("event.kind"), Some("event"));
    assert!(core.get_str("message").unwrap().starts_with("Symbolic link"));

    let warning = &p.events[2];
    assert_eq!(
        (warning.action(), warning.get_str("rule.id")),
        (Some("warning"), Some("913100"))
    );

    let nginx = &p.events[3];
    for (path, want) in [
        ("event.dataset", json!("nginx.error")),
        ("log.level", json!("error")),
        ("process.pid", json!(80)),
        ("nginx.error.connection_id", json!(34)),
        ("source.ip", json!("192.0.2.9")),
        ("http.request.method", json!("GET")),
        ("url.path", json!("/.env")),
        ("url.domain", json!("shop.example.com")),
        (
            "message",
            json!("open() \"/var/www/html/.env\" failed (2: No such file or directory)"),
        ),
    ] {
        assert_eq!(nginx.get(path), Some(&want), "{path}");
    }
    let no_time = &p.events[4];
    assert_eq!(no_time.source_ip(), Some("64.94.163.159"));
    assert!(
        no_time
            .get("tags")
            .unwrap()
            .to_string()
            .contains("mamori.timestamp_missing")
    );
}
