//! Web access logs: common/combined, IIS W3C, CloudFront, ALB; every mapped
//! field, sniffing, and malformed lines as bad records.

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
fn sniffs_each_sub_format() {
    for (name, format) in [
        ("weblog_combined.log", Format::WebAccess),
        ("iis_w3c.log", Format::Iis),
        ("cloudfront.log", Format::CloudFront),
        ("alb.log", Format::Alb),
    ] {
        assert_eq!(sniff(fixture(name).as_bytes()), Some(format), "{name}");
    }
    // One line without a newline is the whole input.
    let one = "192.0.2.1 - - [10/Oct/2023:22:55:39 +0200] \"GET / HTTP/1.0\" 200 2326";
    assert_eq!(sniff(one.as_bytes()), Some(Format::WebAccess));
    assert_eq!(sniff(b"192.0.2.1 - - [yesterday] \"GET /\" 200 1\n"), None);
    for f in [Format::WebAccess, Format::Iis, Format::CloudFront, Format::Alb] {
        assert_eq!(Format::from_name(f.name()), Some(f));
        assert_eq!(Format::all().iter().filter(|x| **x == f).count(), 1);
    }
    assert_eq!(Format::WebAccess.name(), "weblog");
}

#[test]
fn combined_fields() {
    let s_ = split(run(Format::WebAccess, fixture("weblog_combined.log")));
    assert!(s_.bad.is_empty(), "{:?}", s_.bad);
    assert_eq!(s_.events.len(), 10);
    let ev = &s_.events[0];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T20:55:36.000000Z")
    );
    assert_eq!(s(ev, "source.ip").as_deref(), Some("203.0.113.7"));
    assert_eq!(s(ev, "source.address").as_deref(), Some("203.0.113.7"));
    assert_eq!(ev.user_name(), Some("alice"));
    assert_eq!(ev.get("related.user"), Some(&json!(["alice"])));
    assert_eq!(ev.get("related.ip"), Some(&json!(["203.0.113.7"])));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(
        s(ev, "url.original").as_deref(),
        Some("/admin/login.php?user=x&y=1")
    );
    assert_eq!(s(ev, "url.path").as_deref(), Some("/admin/login.php"));
    assert_eq!(s(ev, "url.query").as_deref(), Some("user=x&y=1"));
    assert_eq!(s(ev, "url.extension").as_deref(), Some("php"));
    assert_eq!(s(ev, "http.version").as_deref(), Some("1.1"));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(401)));
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(512)));
    assert_eq!(
        s(ev, "http.request.referrer").as_deref(),
        Some("https://example.com/start")
    );
    assert_eq!(
        s(ev, "user_agent.original").as_deref(),
        Some("Mozilla/5.0 (X11; Linux x86_64) \"quoted\" agent")
    );
    assert_eq!(ev.outcome(), Some("failure"));
    assert_eq!(ev.get("event.category"), Some(&json!(["web"])));
    assert_eq!(ev.get("event.type"), Some(&json!(["access"])));
    assert_eq!(s(ev, "event.kind").as_deref(), Some("event"));
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("web.access"));
    assert_eq!(
        ev.original(),
        fixture("weblog_combined.log").lines().next().unwrap()
    );
    assert_eq!(ev.tenant(), "acme");

    // `-` user, bytes, referrer: absent; 2xx is success.
    let ev = &s_.events[1];
    assert_eq!(ev.user_name(), None);
    assert_eq!(ev.get("http.response.body.bytes"), None);
    assert_eq!(ev.get("http.request.referrer"), None);
    assert_eq!(s(ev, "http.version").as_deref(), Some("2.0"));
    assert_eq!(ev.outcome(), Some("success"));

    // Absolute target, IPv6 client, trailing extra fields tolerated.
    let ev = &s_.events[2];
    assert_eq!(s(ev, "source.ip").as_deref(), Some("2001:db8::5"));
    assert_eq!(s(ev, "url.scheme").as_deref(), Some("http"));
    assert_eq!(s(ev, "url.domain").as_deref(), Some("proxy.example.net"));
    assert_eq!(ev.get("url.port"), Some(&json!(8080)));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/static/app.JS"));
    assert_eq!(s(ev, "url.extension").as_deref(), Some("js"));
    assert_eq!(ev.get("user_agent.original"), None);

    // Common log format (no referrer/agent), offset converted to UTC.
    let ev = &s_.events[3];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T20:55:39.000000Z")
    );
    assert_eq!(ev.get("http.request.referrer"), None);
    assert_eq!(s(ev, "http.version").as_deref(), Some("1.0"));

    // Leading vhost:port.
    let ev = &s_.events[4];
    assert_eq!(s(ev, "url.domain").as_deref(), Some("www.example.org"));
    assert_eq!(ev.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("192.0.2.9"));
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(0)));

    // A host name instead of an address; a request that is not a request line is kept.
    let ev = &s_.events[5];
    assert_eq!(ev.get("source.ip"), None);
    assert_eq!(s(ev, "source.domain").as_deref(), Some("scanner.example.net"));
    assert_eq!(ev.get("http.request.method"), None);
    assert_eq!(
        s(ev, "weblog.request").as_deref(),
        Some("\\x16\\x03\\x01\\x02\\x00\\x01")
    );
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(400)));

    // `"-"` request (timeout): no request fields.
    let ev = &s_.events[6];
    assert_eq!(ev.get("http.request.method"), None);
    assert_eq!(ev.get("weblog.request"), None);
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(408)));

    // Unescaped quotes inside the request (Tomcat).
    let ev = &s_.events[7];
    assert_eq!(
        s(ev, "url.original").as_deref(),
        Some("/cgi-bin/a.cgi?q=\"><script>alert(1)</script>")
    );
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(404)));

    // Identical lines are two events with two ids.
    assert_eq!(s_.events[8].original(), s_.events[9].original());
    assert_ne!(s_.events[8].id(), s_.events[9].id());
    assert_eq!(
        s_.events[8].id(),
        Event::derived_id("acme", s_.events[8].original())
    );
}

#[test]
fn malformed_access_lines_are_bad_records() {
    let input = [
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 200 12"#,
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1 200 12"#,
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 2xx 12"#,
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 200 many"#,
        r#"192.0.2.1 - - [10/Oct/2023 13:55:36] "GET / HTTP/1.1" 200 12"#,
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1""#,
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700"#,
        "just some text",
        r#"192.0.2.1 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 20000 12"#,
    ]
    .join("\n");
    let s_ = split(run(Format::WebAccess, &input));
    assert_eq!(s_.events.len(), 1);
    let reasons: Vec<(u64, &str)> = s_
        .bad
        .iter()
        .map(|b| (b.location.line.unwrap_or(0), b.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 8, "{reasons:?}");
    assert_eq!(reasons[0].0, 2);
    assert!(reasons[0].1.contains("unterminated"), "{reasons:?}");
    assert!(reasons[1].1.contains("bad status \"2xx\""), "{reasons:?}");
    assert!(reasons[2].1.contains("bad byte count \"many\""), "{reasons:?}");
    assert!(reasons[3].1.contains("bad time"), "{reasons:?}");
    assert!(reasons[4].1.contains("too few fields"), "{reasons:?}");
    assert!(reasons[7].1.contains("bad status"), "{reasons:?}");
    let first_line_len = input.lines().next().unwrap().len() as u64 + 1;
    assert_eq!(s_.bad[0].location.byte_offset, Some(first_line_len));
    assert_eq!(s_.bad[0].location.column, Some(44));
    assert_eq!(s_.bad[1].raw, input.lines().nth(2).unwrap());
}

#[test]
fn iis_fields() {
    let s_ = split(run(Format::Iis, fixture("iis_w3c.log")));
    assert!(s_.bad.is_empty(), "{:?}", s_.bad);
    assert_eq!(s_.events.len(), 3);
    let ev = &s_.events[0];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.000000Z")
    );
    assert_eq!(s(ev, "destination.ip").as_deref(), Some("10.1.1.5"));
    assert_eq!(s(ev, "destination.address").as_deref(), Some("10.1.1.5"));
    assert_eq!(ev.get("destination.port"), Some(&json!(443)));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("198.51.100.4"));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/owa/auth/logon.aspx"));
    assert_eq!(s(ev, "url.query").as_deref(), Some("user=bob&x=1"));
    assert_eq!(
        s(ev, "url.original").as_deref(),
        Some("/owa/auth/logon.aspx?user=bob&x=1")
    );
    assert_eq!(s(ev, "url.extension").as_deref(), Some("aspx"));
    assert_eq!(ev.user_name(), Some("CORP\\bob"));
    assert_eq!(
        s(ev, "user_agent.original").as_deref(),
        Some("Mozilla/5.0 (Windows NT 10.0; Win64)")
    );
    assert_eq!(
        s(ev, "http.request.referrer").as_deref(),
        Some("https://portal.example.com/")
    );
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(200)));
    assert_eq!(s(ev, "iis.access.sub_status").as_deref(), Some("0"));
    assert_eq!(s(ev, "iis.access.win32_status").as_deref(), Some("0"));
    assert_eq!(ev.get("event.duration"), Some(&json!(15_000_000)));
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("iis.access"));
    assert_eq!(s(ev, "event.module").as_deref(), Some("iis"));
    assert_eq!(ev.outcome(), Some("success"));

    let ev = &s_.events[1];
    assert_eq!(ev.get("url.query"), None);
    assert_eq!(ev.user_name(), None);
    assert_eq!(ev.get("user_agent.original"), None);
    assert_eq!(ev.outcome(), Some("failure"));

    // A second #Fields block without `date`: the #Date line gives the day.
    let ev = &s_.events[2];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-11T08:30:00.250000Z")
    );
    assert_eq!(s(ev, "source.ip").as_deref(), Some("2001:db8::10"));
    assert_eq!(ev.get("source.port"), Some(&json!(50123)));
    assert_eq!(s(ev, "url.domain").as_deref(), Some("files.example.com"));
    assert_eq!(s(ev, "http.version").as_deref(), Some("1.1"));
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(1520)));
    assert_eq!(ev.get("http.request.body.bytes"), Some(&json!(304)));
    assert_eq!(s(ev, "host.name").as_deref(), Some("WEB01"));
    assert_eq!(s(ev, "iis.access.site_name").as_deref(), Some("W3SVC1"));
    assert_eq!(
        s(ev, "iis.access.cs_cookie").as_deref(),
        Some("ASP.NET_SessionId=abc")
    );
}

#[test]
fn malformed_w3c_lines_are_bad_records() {
    let input = "2023-10-10 12:00:00 x\n\
                 #Fields: date time c-ip sc-status sc-bytes\n\
                 2023-10-10 12:00:01 192.0.2.1 200 10\n\
                 2023-10-10 12:00:02 192.0.2.1 200\n\
                 2023-10-10 12:00:03 192.0.2.1 OK 10\n\
                 2023-10-10 12:00:04 192.0.2.1 200 ten\n\
                 2023-13-10 12:00:05 192.0.2.1 200 10\n";
    let s_ = split(run(Format::Iis, input));
    assert_eq!(s_.events.len(), 1);
    let lines: Vec<_> = s_.bad.iter().map(|b| b.location.line.unwrap_or(0)).collect();
    assert_eq!(lines, [1, 4, 5, 6, 7]);
    assert!(s_.bad[0].reason.contains("before any #Fields"));
    assert!(
        s_.bad[1]
            .reason
            .contains("4 fields, but the #Fields: line names 5")
    );
    assert!(s_.bad[2].reason.contains("bad sc-status \"OK\""));
    assert!(s_.bad[3].reason.contains("bad sc-bytes"));
    assert!(s_.bad[4].reason.contains("bad date/time"));
}

#[test]
fn cloudfront_fields() {
    let s_ = split(run(Format::CloudFront, fixture("cloudfront.log")));
    assert!(s_.bad.is_empty(), "{:?}", s_.bad);
    assert_eq!(s_.events.len(), 2);
    let ev = &s_.events[0];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.000000Z")
    );
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("aws.cloudfront"));
    assert_eq!(s(ev, "cloud.provider").as_deref(), Some("aws"));
    assert_eq!(s(ev, "aws.cloudfront.edge_location").as_deref(), Some("FRA56-P1"));
    assert_eq!(ev.get("http.response.bytes"), Some(&json!(2390)));
    assert_eq!(ev.get("http.request.bytes"), Some(&json!(102)));
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(78)));
    assert_eq!(s(ev, "source.ip").as_deref(), Some("192.0.2.10"));
    assert_eq!(ev.get("source.port"), Some(&json!(11040)));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(
        s(ev, "aws.cloudfront.domain").as_deref(),
        Some("d111111abcdef8.cloudfront.net")
    );
    assert_eq!(s(ev, "url.domain").as_deref(), Some("www.example.com"));
    assert_eq!(s(ev, "url.scheme").as_deref(), Some("https"));
    assert_eq!(s(ev, "url.original").as_deref(), Some("/index.html?a=1&b=2"));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/index.html"));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(200)));
    assert_eq!(
        s(ev, "http.request.referrer").as_deref(),
        Some("https://www.example.com/")
    );
    assert_eq!(
        s(ev, "user_agent.original").as_deref(),
        Some("Mozilla/5.0 (Windows NT 10.0; Win64)")
    );
    assert_eq!(s(ev, "aws.cloudfront.edge_result_type").as_deref(), Some("Hit"));
    assert_eq!(
        s(ev, "http.request.id").as_deref(),
        Some("SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==")
    );
    assert_eq!(ev.get("event.duration"), Some(&json!(51_000_000)));
    assert_eq!(s(ev, "network.forwarded_ip").as_deref(), Some("198.51.100.77"));
    assert_eq!(s(ev, "tls.version").as_deref(), Some("1.3"));
    assert_eq!(s(ev, "tls.version_protocol").as_deref(), Some("tls"));
    assert_eq!(s(ev, "tls.cipher").as_deref(), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(s(ev, "http.version").as_deref(), Some("2.0"));
    assert_eq!(s(ev, "http.response.mime_type").as_deref(), Some("text/html"));
    assert_eq!(ev.outcome(), Some("success"));

    let ev = &s_.events[1];
    assert_eq!(s(ev, "source.ip").as_deref(), Some("2001:db8::7"));
    assert_eq!(ev.get("http.request.referrer"), None);
    assert_eq!(ev.get("tls.version"), None);
    assert_eq!(ev.get("http.response.body.bytes"), None);
    assert_eq!(ev.outcome(), Some("failure"));
}

#[test]
fn alb_fields() {
    let s_ = split(run(Format::Alb, fixture("alb.log")));
    assert!(s_.bad.is_empty(), "{:?}", s_.bad);
    assert_eq!(s_.events.len(), 3);
    let ev = &s_.events[0];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:01.123456Z")
    );
    assert_eq!(s(ev, "event.dataset").as_deref(), Some("aws.elb"));
    assert_eq!(s(ev, "aws.elb.protocol").as_deref(), Some("https"));
    assert_eq!(
        s(ev, "aws.elb.name").as_deref(),
        Some("app/my-lb/50dc6c495c0c9188")
    );
    assert_eq!(s(ev, "source.ip").as_deref(), Some("192.0.2.10"));
    assert_eq!(ev.get("source.port"), Some(&json!(2817)));
    assert_eq!(s(ev, "destination.ip").as_deref(), Some("10.0.0.1"));
    assert_eq!(ev.get("destination.port"), Some(&json!(80)));
    assert_eq!(ev.get("aws.elb.request_processing_time.sec"), Some(&json!(0.001)));
    assert_eq!(ev.get("aws.elb.backend_processing_time.sec"), Some(&json!(0.048)));
    assert_eq!(ev.get("aws.elb.response_processing_time.sec"), Some(&json!(0.0)));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(200)));
    assert_eq!(
        ev.get("aws.elb.backend.http.response.status_code"),
        Some(&json!(200))
    );
    assert_eq!(ev.get("http.request.body.bytes"), Some(&json!(254)));
    assert_eq!(ev.get("http.response.body.bytes"), Some(&json!(560)));
    assert_eq!(s(ev, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(
        s(ev, "url.original").as_deref(),
        Some("https://www.example.com:443/path/a.php?x=1")
    );
    assert_eq!(s(ev, "url.domain").as_deref(), Some("www.example.com"));
    assert_eq!(ev.get("url.port"), Some(&json!(443)));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/path/a.php"));
    assert_eq!(s(ev, "url.query").as_deref(), Some("x=1"));
    assert_eq!(s(ev, "http.version").as_deref(), Some("1.1"));
    assert_eq!(s(ev, "user_agent.original").as_deref(), Some("curl/8.0.1"));
    assert_eq!(
        s(ev, "tls.cipher").as_deref(),
        Some("ECDHE-RSA-AES128-GCM-SHA256")
    );
    assert_eq!(s(ev, "tls.version").as_deref(), Some("1.2"));
    assert!(
        s(ev, "aws.elb.target_group.arn")
            .unwrap()
            .ends_with("targetgroup/my-targets/73e2d6bc24d8a067")
    );
    assert_eq!(
        s(ev, "aws.elb.trace_id").as_deref(),
        Some("Root=1-58337281-1d84f3d73c47ec4e58577259")
    );
    assert_eq!(
        s(ev, "tls.client.server_name").as_deref(),
        Some("www.example.com")
    );
    assert!(
        s(ev, "aws.elb.chosen_cert.arn")
            .unwrap()
            .starts_with("arn:aws:acm:")
    );
    assert_eq!(s(ev, "aws.elb.matched_rule_priority").as_deref(), Some("1"));
    assert_eq!(
        s(ev, "event.start").as_deref(),
        Some("2023-10-10T12:00:01.070000Z")
    );
    assert_eq!(ev.get("event.duration"), Some(&json!(53_456_000)));
    assert_eq!(
        ev.get("aws.elb.action_executed"),
        Some(&json!(["waf", "forward"]))
    );
    assert_eq!(ev.get("aws.elb.target_port"), Some(&json!(["10.0.0.1:80"])));
    assert_eq!(ev.get("aws.elb.target_status_code"), Some(&json!(["200"])));
    assert_eq!(
        s(ev, "aws.elb.connection_trace_id").as_deref(),
        Some("TID_1234abcd")
    );
    assert_eq!(ev.get("related.ip"), Some(&json!(["192.0.2.10", "10.0.0.1"])));
    assert_eq!(ev.outcome(), Some("success"));

    // No target, -1 times, `-` target status, fields beyond the known ones.
    let ev = &s_.events[1];
    assert_eq!(ev.get("destination.ip"), None);
    assert_eq!(ev.get("aws.elb.request_processing_time"), None);
    assert_eq!(ev.get("aws.elb.backend"), None);
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(460)));
    assert_eq!(ev.get("user_agent.original"), None);
    assert_eq!(ev.get("tls.cipher"), None);
    assert_eq!(ev.outcome(), Some("failure"));

    // Classic ELB.
    let ev = &s_.events[2];
    assert_eq!(
        s(ev, "@timestamp").as_deref(),
        Some("2023-10-10T12:00:03.000000Z")
    );
    assert_eq!(ev.get("aws.elb.protocol"), None);
    assert_eq!(s(ev, "aws.elb.name").as_deref(), Some("my-classic-lb"));
    assert_eq!(ev.get("destination.port"), Some(&json!(8080)));
    assert_eq!(ev.get("http.response.status_code"), Some(&json!(502)));
    assert_eq!(s(ev, "url.path").as_deref(), Some("/login"));
}

#[test]
fn malformed_alb_lines_are_bad_records() {
    let good = fixture("alb.log").lines().next().unwrap().to_string();
    let input = [
        good.clone(),
        good.replace(" 200 200 254 ", " 2x0 200 254 "),
        good.replace(" 254 560 ", " 254 lots "),
        good.replace("2023-10-10T12:00:01.123456Z", "yesterday"),
        "https 2023-10-10T12:00:01.123456Z app/x 1.2.3.4:5".to_string(),
        good[..good.find("curl/8").unwrap_or(0)].to_string(),
        "tcp 2023-10-10T12:00:01Z net/x".to_string(),
    ]
    .join("\n");
    let s_ = split(run(Format::Alb, &input));
    assert_eq!(s_.events.len(), 1);
    let reasons: Vec<_> = s_.bad.iter().map(|b| b.reason.as_str()).collect();
    assert_eq!(reasons.len(), 6, "{reasons:?}");
    assert!(reasons[0].contains("bad elb_status_code \"2x0\""), "{reasons:?}");
    assert!(reasons[1].contains("bad sent_bytes"), "{reasons:?}");
    assert!(reasons[2].contains("bad time \"yesterday\""), "{reasons:?}");
    assert!(reasons[3].contains("too few fields"), "{reasons:?}");
    assert!(reasons[4].contains("unterminated"), "{reasons:?}");
    assert!(reasons[5].contains("unknown ALB type"), "{reasons:?}");
    assert_eq!(s_.bad[0].location.line, Some(2));
}
