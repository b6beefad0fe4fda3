//! Evaluator table tests: each semantic rule on hand-written events.

use chrono::{DateTime, Utc};
use mamori_model::filter::{Filter, Pattern, parse};
use mamori_model::{Event, FilterError};
use serde_json::json;

fn event() -> Event {
    let ts = DateTime::parse_from_rfc3339("2024-05-01T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut e = Event::new("acme", ts, "raw secretword line");
    for (path, value) in [
        ("event.action", json!("ConsoleLogin")),
        ("event.created", json!("2024-05-01T09:00:00.5Z")),
        ("user.name", json!("Admin.Bob")),
        ("user.full_name", json!("ÉMILE Zola")),
        ("source.ip", json!("10.1.2.3")),
        ("destination.ip", json!("2001:db8::5")),
        ("related.ip", json!(["::1", "192.168.0.1"])),
        ("message", json!("Access DENIED for user bob_1 (x.y)")),
        ("http.response.status_code", json!(404)),
        ("http.response.bytes", json!(1500.0)),
        ("size", json!("250")),
        ("host.name", json!("web10")),
        ("tags", json!(["alpha", "Beta"])),
        ("process.args", json!(["cmd.exe", "/c", "whoami"])),
        (
            "dns.answers",
            json!([{"data": "a.example"}, {"data": ["b.example", "c.example"]}]),
        ),
        ("ok", json!(true)),
    ] {
        e.set(path, value);
    }
    e
}

fn check(cases: &[(&str, bool)]) {
    let ev = event();
    for (query, want) in cases {
        let filter = parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
        assert_eq!(filter.matches(&ev), *want, "{query}");
        let matcher = filter.compile().unwrap();
        assert_eq!(matcher.matches(&ev), *want, "compiled {query}");
    }
}

#[test]
fn keyword_fields_match_whole_values_case_insensitively() {
    check(&[
        ("event.action:ConsoleLogin", true),
        ("event.action:consolelogin", true),
        ("event.action:CONSOLELOGIN", true),
        ("event.action:Console", false),
        (r#"event.action:"consolelogin""#, true),
        ("user.name:admin.bob", true),
        ("user.name:bob", false),
        ("user.full_name:\"émile zola\"", true),
        ("user.full_name:émile", false),
        ("missing.field:x", false),
    ]);
}

#[test]
fn wildcards_cover_the_whole_value() {
    check(&[
        ("event.action:console*", true),
        ("event.action:*LOGIN", true),
        ("event.action:*sole*", true),
        ("event.action:Console?ogin", true),
        ("event.action:Console?", false),
        ("event.action:sole*", false),
        ("user.name:admin.*", true),
        (r"user.name:admin\*", false),
        ("http.response.status_code:40*", true),
        ("http.response.status_code:5*", false),
    ]);
}

#[test]
fn text_fields_match_words_and_phrases() {
    check(&[
        ("message:denied", true),
        ("message:DENIED", true),
        ("message:ccess", false),
        ("message:acc*", true),
        ("message:*ied", true),
        ("message:acc*denied", false),
        (r#"message:"access denied""#, true),
        (r#"message:"ACCESS   denied""#, true),
        (r#"message:"denied access""#, false),
        (r#"message:"denied for user""#, true),
        ("message:bob_1", true),
        ("message:x.y", true),
        ("message:y.x", false),
    ]);
}

#[test]
fn bare_values_match_words_of_text_and_whole_keyword_values() {
    check(&[
        ("denied", true),
        ("Denied", true),
        (r#""user bob_1""#, true),
        (r#""bob_1 user""#, false),
        ("secretword", false),
        ("raw", false),
        ("conso*", true),
        ("whoami", true),
        ("404", true),
        ("1500.0", true),
        ("1500", false),
        ("1501", false),
        ("acme", true),
        // Keyword values match whole, as in Kibana: not by their words.
        ("zola", false),
        (r#""émile zola""#, true),
        ("admin.bob", true),
        ("admin", false),
        ("adm*", true),
        ("b.example", true),
        ("/who.m/", true),
        ("10.0.0.0/8", true),
        ("172.16.0.0/12", false),
        ("nothing", false),
    ]);
}

#[test]
fn ips_and_cidrs() {
    check(&[
        ("source.ip:10.0.0.0/8", true),
        ("source.ip:10.1.2.0/24", true),
        ("source.ip:192.168.0.0/16", false),
        ("destination.ip:2001:db8::/32", true),
        ("destination.ip:2001:db9::/32", false),
        ("destination.ip:10.0.0.0/8", false),
        ("related.ip:192.168.0.0/24", true),
        ("related.ip:::1", true),
        ("related.ip:0:0::1", true),
        ("related.ip:::2", false),
        ("destination.ip:2001:DB8:0::5", true),
        ("source.ip:10.1.2.3", true),
        ("source.ip:10.1.2.4", false),
        ("source.ip:10.1.*", true),
        ("user.name:10.0.0.0/8", false),
    ]);
}

#[test]
fn ranges_and_comparisons_on_numbers() {
    check(&[
        ("http.response.status_code:[400 TO 499]", true),
        ("http.response.status_code:[400 TO 404]", true),
        ("http.response.status_code:[400 TO 404}", false),
        ("http.response.status_code:[404 TO 500]", true),
        ("http.response.status_code:{404 TO 500]", false),
        ("http.response.status_code:[* TO 404]", true),
        ("http.response.status_code:[405 TO *]", false),
        ("http.response.status_code:[* TO *]", true),
        ("http.response.status_code >= 404", true),
        ("http.response.status_code > 404", false),
        ("http.response.status_code < 405", true),
        ("http.response.status_code <= 403", false),
        ("http.response.status_code:404", true),
        ("http.response.status_code:404.0", true),
        ("http.response.status_code:405", false),
        ("http.response.bytes:1500", true),
        ("http.response.bytes > 1499.5", true),
        ("size > 30", true),
        (r#"size > "30""#, false),
        ("size:[200 TO 300]", true),
        ("missing > 1", false),
    ]);
}

#[test]
fn comparisons_on_strings_ips_and_times() {
    check(&[
        ("host.name > web1", true),
        ("host.name < web1", false),
        ("host.name >= Web10", true),
        ("host.name <= Web10", false),
        // A numeric bound only compares numeric values.
        ("host.name > 5", false),
        ("host.name < 5", false),
        ("source.ip > 9.255.255.255", true),
        ("source.ip:[10.0.0.0 TO 10.255.255.255]", true),
        ("source.ip:{10.1.2.3 TO *]", false),
        ("destination.ip > 10.0.0.1", true),
        ("@timestamp >= 2024-05-01T09:59:59Z", true),
        ("@timestamp > 2024-05-01T10:00:00Z", false),
        ("@timestamp >= 2024-05-01T12:00:00+02:00", true),
        ("@timestamp:[2024-05-01 TO 2024-05-02}", true),
        ("@timestamp:[2024-05-02 TO *]", false),
        ("@timestamp:2024-05-01T10:00:00Z", true),
        ("@timestamp:2024-05-01T12:00:00+02:00", true),
        ("@timestamp:2024-05-01T10:00:01Z", false),
        ("event.created < 2024-05-01T09:00:01Z", true),
        ("event.created < 2024-05-01T09:00:00.4Z", false),
    ]);
}

#[test]
fn regexes_search_values_as_written() {
    check(&[
        ("process.args:/who.m/", true),
        ("process.args:/^WHO/", false),
        ("process.args:/(?i)^WHO/", true),
        ("user.name:/Bob$/", true),
        ("user.name:/^Bob/", false),
        ("http.response.status_code:/^40\\d$/", true),
        ("message:/DENIED for/", true),
        (r"process.args:/^\/c$/", true),
    ]);
}

#[test]
fn arrays_booleans_and_exists() {
    check(&[
        ("tags:beta", true),
        ("tags:gamma", false),
        ("not tags:alpha", false),
        (r"process.args:\/c", true),
        ("dns.answers.data:c.example", true),
        ("dns.answers.data:d.example", false),
        ("ok:true", true),
        ("ok:TRUE", true),
        ("ok:false", false),
        ("ok:t*", true),
        ("_exists_:user.name", true),
        ("user.name:*", true),
        ("_exists_:user", true),
        ("_exists_:nope", false),
        ("not _exists_:nope", true),
        ("dns.answers.data:*", true),
    ]);
}

#[test]
fn boolean_structure() {
    check(&[
        ("", true),
        ("*", true),
        ("not *", false),
        ("event.action:ConsoleLogin and not source.ip:10.0.0.0/8", false),
        ("event.action:ConsoleLogin and not source.ip:192.168.0.0/16", true),
        ("tags:gamma or tags:beta", true),
        ("tags:gamma or tags:delta", false),
        ("tags:alpha tags:beta", true),
        ("tags:alpha tags:gamma", false),
        ("tags:gamma or tags:alpha and tags:beta", true),
        ("(tags:gamma or tags:alpha) and tags:delta", false),
        ("tags:(gamma or beta)", true),
        ("not (tags:gamma or tags:delta)", true),
    ]);
}

#[test]
fn unexpanded_lists_do_not_compile() {
    let ev = event();
    let f = parse("source.ip:@office and tags:alpha").unwrap();
    let err = f.compile().unwrap_err();
    assert_eq!(
        err,
        FilterError {
            column: 0,
            message: "context list @office was not expanded".into()
        }
    );
    assert_eq!(err.to_string(), "context list @office was not expanded");
    assert!(!f.matches(&ev));
    let expanded = f
        .expand_lists(&mut |field, _name| {
            Ok::<_, ()>(Filter::Match {
                field: field.map(String::from),
                value: Pattern::Cidr("10.0.0.0/8".parse().unwrap()),
            })
        })
        .unwrap();
    assert!(expanded.matches(&ev));
}

#[test]
fn invalid_regexes_from_other_sources_do_not_compile() {
    let f = Filter::Match {
        field: Some("x".into()),
        value: Pattern::Regex("(".into()),
    };
    let err = f.compile().unwrap_err();
    assert_eq!(err.column, 0);
    assert!(err.message.starts_with("invalid regex /(/: "), "{err}");
    assert!(!f.matches(&event()));
}

#[test]
fn a_compiled_filter_is_reusable() {
    let m = parse("user.name:admin*").unwrap().compile().unwrap();
    let mut other = event();
    other.set("user.name", json!("guest"));
    assert!(m.matches(&event()));
    assert!(!m.matches(&other));
}
