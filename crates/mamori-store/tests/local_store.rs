//! The embedded store answers exactly what the in-memory evaluator answers.

use chrono::{DateTime, Duration, Utc};
use mamori_model::{Event, Filter, TimeRange, filter};
use mamori_store::{EventStore, LocalStore, Order, SearchRequest};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    "2024-05-01T22:00:00Z".parse().unwrap()
}

/// 600 events over ~3 days for tenant `acme`, 50 for `globex`.
fn corpus() -> Vec<Event> {
    let users = ["alice", "Bob", "carol", "svc-backup", "admin.ops"];
    let actions = [
        "GetObject",
        "ConsoleLogin",
        "ListBuckets",
        "GetSecretValue",
        "DeleteTrail",
    ];
    let ips = [
        "10.0.0.5",
        "10.1.2.3",
        "203.0.113.9",
        "2001:db8::7",
        "198.51.100.77",
    ];
    let mut out = Vec::new();
    for i in 0..650u32 {
        let tenant = if i < 600 { "acme" } else { "globex" };
        let ts = t0() + Duration::minutes(i as i64 * 7);
        let mut e = Event::new(tenant, ts, format!("raw record {i}"));
        e.set("event.action", json!(actions[i as usize % 5]));
        e.set("user.name", json!(users[(i as usize / 3) % 5]));
        e.set("source.ip", json!(ips[(i as usize / 7) % 5]));
        e.set(
            "event.outcome",
            json!(if i % 11 == 0 { "failure" } else { "success" }),
        );
        e.set("http.response.status_code", json!(200 + (i % 4) * 100));
        e.set("bytes", json!(format!("{}", i * 13)));
        if i % 9 == 0 {
            e.set(
                "error.message",
                json!(format!("Access denied for user {}", users[i as usize % 5])),
            );
        }
        if i % 13 == 0 {
            e.set(
                "aws.cloudtrail.request_parameters",
                json!({"bucketName": "finance", "tags": ["a", "b"]}),
            );
        }
        e.set("message", json!(format!("request {i} from host-{} ok", i % 17)));
        e.set("flag", json!(i % 2 == 0));
        e.set(
            "size",
            if i % 5 == 0 {
                json!("n/a")
            } else {
                json!(i as f64 / 2.0)
            },
        );
        e.set("code", json!(format!("{}", 400 + i % 3)));
        out.push(e);
    }
    out
}

fn store_with_corpus() -> (tempfile::TempDir, LocalStore, Vec<Event>) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let events = corpus();
    store.append(events.clone()).unwrap();
    let r = store.commit().unwrap();
    assert_eq!(r.added, 650);
    (dir, store, events)
}

fn all_range() -> TimeRange {
    TimeRange::all()
}

fn search(
    store: &LocalStore,
    tenants: &[&str],
    f: &Filter,
    range: TimeRange,
    limit: usize,
    offset: usize,
    order: Order,
) -> (Vec<String>, u64) {
    let res = store
        .search(&SearchRequest {
            tenants: tenants.iter().map(|s| s.to_string()).collect(),
            filter: f.clone(),
            range,
            limit,
            offset,
            order,
            sort: None,
            after: None,
        })
        .unwrap();
    (
        res.hits.iter().map(|h| h.event.id().to_string()).collect(),
        res.total,
    )
}

#[test]
fn store_agrees_with_the_in_memory_evaluator() {
    let (_d, store, events) = store_with_corpus();
    let filters = [
        "",
        "event.action:GetObject",
        "event.action:getobject",
        "user.name:bob",
        "user.name:BOB and event.outcome:failure",
        "user.name:svc-*",
        "user.name:*ops",
        "user.name:a?ice",
        "source.ip:10.0.0.0/8",
        "not source.ip:10.0.0.0/8",
        "source.ip:2001:db8::/32",
        "source.ip:203.0.113.9",
        "source.ip >= 100.0.0.0",
        "source.ip:[10.0.0.0 TO 10.0.0.255]",
        "http.response.status_code >= 400",
        "http.response.status_code:[300 TO 400}",
        "http.response.status_code:200",
        "bytes > 5000",
        "bytes:[* TO 100]",
        "_exists_:error.message",
        "_exists_:aws.cloudtrail.request_parameters",
        "aws.cloudtrail.request_parameters.tags:b",
        "denied",
        "\"access denied\"",
        "\"denied access\"",
        "error.message:denied",
        "message:\"host-3 ok\"",
        "host",
        "event.action:(GetObject or ListBuckets) and not user.name:alice",
        "event.action:GetObject or event.outcome:failure",
        "not (event.action:GetObject or event.outcome:failure)",
        "@timestamp >= \"2024-05-02T10:00:00Z\"",
        "@timestamp:[2024-05-02T00:00:00Z TO 2024-05-02T12:00:00Z}",
        "user.name:/ad.*ops/",
        "event.action:Get*Value",
        "10.1.2.3",
        "nosuchword",
        "user.name:\"admin.ops\"",
        "flag:true",
        "flag:false and size > 100",
        "size:n/a",
        "size >= 10.5",
        "size:[* TO 3]",
        "code:401.0",
        "code:401",
        "@timestamp:2024-05-02T00:00:00Z",
        "@timestamp:[2024-05-02 TO 2024-05-03]",
        "true",
        "2024",
        "source.ip:\"::ffff:10.0.0.5\"",
        "user.name:(bob or carol)",
        "not _exists_:error.message and not denied",
        "bob",
        "BOB",
        "bo*",
        "admin.ops",
        "admin",
        "acc*",
        "*ops",
        "getobject",
        "600",
        "ok",
        "\"host-3 ok\"",
        "2 of (event.action:GetObject or user.name:bob or event.outcome:failure)",
        "1 of (user.name:bob or flag:true)",
        "2 of (user.name:bob or flag:true)",
        "not 2 of (event.action:GetObject or user.name:bob or denied)",
        "error.message:=*user.name*",
        "error.message:==*user.name*",
        "error.message:=*user.name",
        "message:=*event.action*",
    ];
    for text in filters {
        let f = filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut want: Vec<&Event> = events
            .iter()
            .filter(|e| e.tenant() == "acme" && f.matches(e))
            .collect();
        want.sort_by_key(|e| std::cmp::Reverse(e.timestamp()));
        let want_ids: Vec<String> = want.iter().map(|e| e.id().to_string()).collect();
        let (got, total) = search(&store, &["acme"], &f, all_range(), 1000, 0, Order::NewestFirst);
        assert_eq!(total as usize, want_ids.len(), "total for `{text}`");
        assert_eq!(got, want_ids, "hits for `{text}`");
        eprintln!("{total:>4}  {text}");
    }
}

#[test]
fn pages_and_order_across_partitions() {
    let (_d, store, events) = store_with_corpus();
    let f = filter::parse("event.outcome:success").unwrap();
    let mut want: Vec<&Event> = events
        .iter()
        .filter(|e| e.tenant() == "acme" && f.matches(e))
        .collect();
    want.sort_by_key(|e| e.timestamp());
    let oldest: Vec<String> = want.iter().map(|e| e.id().to_string()).collect();
    let (page, total) = search(&store, &["acme"], &f, all_range(), 25, 40, Order::OldestFirst);
    assert_eq!(total as usize, oldest.len());
    assert_eq!(page, oldest[40..65]);
    // An inexact filter takes the in-memory path; paging must agree.
    let g = filter::parse("\"host-3 ok\" or event.outcome:success").unwrap();
    let (page2, _) = search(&store, &["acme"], &g, all_range(), 10, 3, Order::NewestFirst);
    let mut want2: Vec<&Event> = events
        .iter()
        .filter(|e| e.tenant() == "acme" && g.matches(e))
        .collect();
    want2.sort_by_key(|e| std::cmp::Reverse(e.timestamp()));
    let ids: Vec<String> = want2
        .iter()
        .skip(3)
        .take(10)
        .map(|e| e.id().to_string())
        .collect();
    assert_eq!(page2, ids);
}

/// A page over several tenants: a partition that fills the page alone does
/// not end the search of the same day's other partitions, whichever way.
#[test]
fn a_page_over_tenants_sees_every_partition_of_its_last_day() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let day: DateTime<Utc> = "2024-05-01T00:00:00Z".parse().unwrap();
    let at = |tenant: &str, ts: DateTime<Utc>| {
        let mut e = Event::new(tenant, ts, format!("{tenant} {ts}"));
        e.set("event.action", json!("x"));
        e
    };
    let mut events = Vec::new();
    // busy: 20 events early in the day and 5 the day before; quiet: 3 late in the day.
    events.extend((0..20).map(|i| at("busy", day + Duration::minutes(60 + i))));
    events.extend((0..5).map(|i| at("busy", day - Duration::hours(3) + Duration::minutes(i))));
    events.extend((0..3).map(|i| at("quiet", day + Duration::hours(20) + Duration::minutes(i))));
    // early: 2 events in the first minutes of the day.
    events.extend((0..2).map(|i| at("early", day + Duration::minutes(i))));
    let id_of = |e: &Event| e.id().to_string();
    let mut newest = events.clone();
    newest.sort_by_key(|e| std::cmp::Reverse(e.timestamp()));
    store.append(events).unwrap();
    store.commit().unwrap();

    let (got, total) = search(
        &store,
        &["busy", "quiet"],
        &Filter::All,
        all_range(),
        10,
        0,
        Order::NewestFirst,
    );
    let want: Vec<String> = newest
        .iter()
        .filter(|e| e.tenant() != "early")
        .take(10)
        .map(id_of)
        .collect();
    assert_eq!(
        (got, total),
        (want, 28),
        "newest first: the quiet tenant's late events lead"
    );

    let mut oldest = newest.clone();
    oldest.reverse();
    let (got, total) = search(
        &store,
        &["busy", "early"],
        &Filter::All,
        all_range(),
        10,
        0,
        Order::OldestFirst,
    );
    let want: Vec<String> = oldest
        .iter()
        .filter(|e| e.tenant() != "quiet")
        .take(10)
        .map(id_of)
        .collect();
    assert_eq!(
        (got, total),
        (want, 27),
        "oldest first: the early tenant's events follow the day before"
    );
}

#[test]
fn time_ranges_and_tenants_are_respected() {
    let (_d, store, events) = store_with_corpus();
    let range = TimeRange {
        from: "2024-05-02T03:00:00Z".parse().unwrap(),
        to: "2024-05-03T01:30:00Z".parse().unwrap(),
    };
    let f = Filter::All;
    let want = events
        .iter()
        .filter(|e| e.tenant() == "acme" && range.contains(e.timestamp()))
        .count();
    let (_, total) = search(&store, &["acme"], &f, range, 10, 0, Order::NewestFirst);
    assert_eq!(total as usize, want);
    let (_, g) = search(&store, &["globex"], &f, all_range(), 10, 0, Order::NewestFirst);
    assert_eq!(g, 50);
    let (_, both) = search(
        &store,
        &["acme", "globex"],
        &f,
        all_range(),
        10,
        0,
        Order::NewestFirst,
    );
    assert_eq!(both, 650);
    let (_, none) = search(&store, &["initech"], &f, all_range(), 10, 0, Order::NewestFirst);
    assert_eq!(none, 0);
}

#[test]
fn duplicates_are_found_in_every_segment() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    let event = |i: u32| {
        let mut e = Event::new("acme", t0() + Duration::seconds(i as i64), format!("line {i}"));
        e.set_id(format!("Id-{i}"));
        e
    };
    // Five commits: five segments (merges may join some).
    for batch in 0..5 {
        store
            .append((batch * 200..(batch + 1) * 200).map(event).collect())
            .unwrap();
        assert_eq!(store.commit().unwrap().added, 200);
    }
    // Every old id is recognised whatever segment holds it (ids compare
    // case-insensitively); new ones are added.
    let mut again: Vec<Event> = (0..1000).step_by(3).map(event).collect();
    for e in again.iter_mut().take(10) {
        let upper = e.id().to_uppercase();
        e.set_id(upper);
    }
    again.extend((1000..1100).map(event));
    store.append(again).unwrap();
    let r = store.commit().unwrap();
    assert_eq!((r.added, r.duplicates), (100, 334));
    store.close().unwrap();
    drop(store);
    // And after a reopen, from filters built anew.
    let store = LocalStore::open(dir.path()).unwrap();
    store.append((0..1100).step_by(7).map(event).collect()).unwrap();
    let r = store.commit().unwrap();
    assert_eq!((r.added, r.duplicates), (0, 158));
    assert_eq!(
        store.count(&["acme".into()], &Filter::All, &all_range()).unwrap(),
        1100
    );
}

#[test]
fn re_appending_is_idempotent_and_survives_reopen() {
    let (dir, store, events) = store_with_corpus();
    store.append(events[..100].to_vec()).unwrap();
    store.append(events[..10].to_vec()).unwrap();
    let r = store.commit().unwrap();
    assert_eq!((r.added, r.duplicates), (0, 110));
    store.close().unwrap();
    drop(store);
    let again = LocalStore::open(dir.path()).unwrap();
    assert_eq!(
        again.count(&["acme".into()], &Filter::All, &all_range()).unwrap(),
        600
    );
    let found = again
        .search(&SearchRequest {
            tenants: vec!["acme".into()],
            filter: filter::parse("user.name:carol").unwrap(),
            range: all_range(),
            limit: 1,
            offset: 0,
            order: Order::NewestFirst,
            sort: None,
            after: None,
        })
        .unwrap();
    let ev = &found.hits[0].event;
    let original = events.iter().find(|e| e.id() == ev.id()).unwrap();
    assert_eq!(ev, original, "stored event reads back unchanged");
}

#[test]
fn unexpanded_lists_and_bad_tenants_are_errors() {
    let (_d, store, _) = store_with_corpus();
    let f = filter::parse("source.ip:@office").unwrap();
    let err = store.count(&["acme".into()], &f, &all_range()).unwrap_err();
    assert!(err.to_string().contains("@office"), "{err}");
    let err = store
        .count(&["../etc".into()], &Filter::All, &all_range())
        .unwrap_err();
    assert!(err.to_string().contains("invalid tenant"), "{err}");
}

fn nonempty(r: &mamori_store::AggregationResult) -> mamori_store::AggregationResult {
    use mamori_store::AggregationResult as R;
    let keep =
        |b: &Vec<mamori_store::aggregate::TimeBucket>| b.iter().filter(|b| b.count > 0).cloned().collect();
    match r {
        R::DateHistogram {
            interval_secs,
            buckets,
        } => R::DateHistogram {
            interval_secs: *interval_secs,
            buckets: keep(buckets),
        },
        R::TermsHistogram {
            field,
            interval_secs,
            series,
        } => R::TermsHistogram {
            field: field.clone(),
            interval_secs: *interval_secs,
            series: series
                .iter()
                .map(|s| mamori_store::aggregate::Series {
                    value: s.value.clone(),
                    count: s.count,
                    buckets: keep(&s.buckets),
                })
                .collect(),
        },
        other => other.clone(),
    }
}

#[test]
fn aggregations_agree_with_the_in_memory_reference() {
    use mamori_store::{AggregateRequest, Aggregation};
    let (_d, store, events) = store_with_corpus();
    let aggs = vec![
        Aggregation::Terms {
            field: "user.name".into(),
            size: 3,
        },
        Aggregation::Terms {
            field: "source.ip".into(),
            size: 10,
        },
        Aggregation::Terms {
            field: "http.response.status_code".into(),
            size: 2,
        },
        Aggregation::DateHistogram {
            interval_secs: Some(3600),
        },
        Aggregation::Stats {
            field: "http.response.status_code".into(),
        },
        Aggregation::Stats { field: "size".into() },
        Aggregation::Cardinality {
            field: "message".into(),
        },
        Aggregation::Cardinality {
            field: "user.name".into(),
        },
        Aggregation::TermsHistogram {
            field: "event.action".into(),
            size: 2,
            interval_secs: Some(6 * 3600),
        },
    ];
    for text in [
        "",
        "event.outcome:success",
        "user.name:bo*",
        "\"host-3 ok\" or source.ip:10.0.0.0/8",
        "nosuchword",
    ] {
        let f = filter::parse(text).unwrap();
        let got = store
            .aggregate(&AggregateRequest {
                tenants: vec!["acme".into()],
                filter: f.clone(),
                range: all_range(),
                aggregations: aggs.clone(),
            })
            .unwrap();
        let selected: Vec<Event> = events
            .iter()
            .filter(|e| e.tenant() == "acme" && f.matches(e))
            .cloned()
            .collect();
        let want = mamori_store::aggregate::in_memory(&selected, &all_range(), &aggs);
        assert_eq!(got.total, want.total, "total for `{text}`");
        for (g, w) in got.results.iter().zip(&want.results) {
            assert_eq!(nonempty(g), nonempty(w), "`{text}`");
        }
    }
}

#[test]
fn facets_show_fields_shares_and_top_values() {
    let (_d, store, _) = store_with_corpus();
    let req = mamori_store::FacetRequest {
        tenants: vec!["acme".into()],
        filter: filter::parse("event.action:GetObject").unwrap(),
        range: all_range(),
        fields: vec![],
        top: 5,
        sample: 50,
    };
    let f = mamori_store::facets::facets(&store, &req).unwrap();
    assert_eq!(f.total, 120);
    assert_eq!(f.examined, 50);
    assert!(f.sampled);
    let action = f.fields.iter().find(|x| x.field == "event.action").unwrap();
    assert_eq!(action.share, 1.0);
    assert_eq!(action.top[0].value, "GetObject");
    assert_eq!(action.top[0].count, 50);
    let err = f.fields.iter().find(|x| x.field == "error.message").unwrap();
    assert!(err.share > 0.0 && err.share < 1.0);
    assert!(!f.fields.iter().any(|x| x.field == "event.original"));
}

#[test]
fn facets_of_named_fields_agree_with_facets_of_all_fields() {
    let (_d, store, _) = store_with_corpus();
    let named = [
        "user.name",
        "source.ip",
        "http.response.status_code",
        "error.message",
        "no.such.field",
    ];
    for q in ["*", "event.outcome:failure", "not user.name:bob"] {
        let req = |fields: Vec<String>| mamori_store::FacetRequest {
            tenants: vec!["acme".into()],
            filter: filter::parse(q).unwrap(),
            range: all_range(),
            fields,
            top: 3,
            sample: 200,
        };
        let all = mamori_store::facets::facets(&store, &req(vec![])).unwrap();
        let some = mamori_store::facets::facets(&store, &req(named.iter().map(|s| s.to_string()).collect()))
            .unwrap();
        assert_eq!((some.total, some.examined), (all.total, all.examined), "`{q}`");
        let pick: Vec<_> = all
            .fields
            .iter()
            .filter(|f| named.contains(&f.field.as_str()))
            .collect();
        assert_eq!(some.fields.len(), pick.len(), "`{q}`: {:?}", some.fields);
        for (a, b) in some.fields.iter().zip(pick) {
            assert_eq!(
                (&a.field, a.count, a.distinct, a.share),
                (&b.field, b.count, b.distinct, b.share),
                "`{q}`"
            );
            let counts = |f: &mamori_store::FieldFacet| {
                f.top
                    .iter()
                    .map(|t| (t.value.to_lowercase(), t.count))
                    .collect::<Vec<_>>()
            };
            assert_eq!(counts(a), counts(b), "`{q}` {}", a.field);
        }
    }
}

/// Assert facets from the index equal facets from loaded events (values
/// compared lower-cased; text fields' values may come from the newest 500);
/// returns (fields compared in full, text fields with values of the newest 500).
fn assert_same_facets(a: &mamori_store::Facets, b: &mamori_store::Facets, what: &str) -> (usize, usize) {
    assert_eq!(
        (a.total, a.examined, a.sampled),
        (b.total, b.examined, b.sampled),
        "{what}"
    );
    let names = |f: &mamori_store::Facets| f.fields.iter().map(|x| x.field.clone()).collect::<Vec<_>>();
    assert_eq!(names(a), names(b), "{what}");
    let (mut compared, mut text_from_newest) = (0, 0);
    for (x, y) in a.fields.iter().zip(&b.fields) {
        assert_eq!((x.count, x.share), (y.count, y.share), "{what}: {}", x.field);
        if x.top_examined.is_some() {
            // A text field's values from the newest 500 events.
            assert_eq!(x.top_examined, Some(500), "{what}: {}", x.field);
            text_from_newest += 1;
            continue;
        }
        let top = |f: &mamori_store::FieldFacet| {
            f.top
                .iter()
                .map(|t| (t.value.to_lowercase(), t.count))
                .collect::<Vec<_>>()
        };
        assert_eq!((x.distinct, top(x)), (y.distinct, top(y)), "{what}: {}", x.field);
        // Values are shown as written, not as the index keeps them.
        for t in &x.top {
            assert!(
                y.top.iter().any(|u| u.value == t.value),
                "{what}: {} shows {:?}",
                x.field,
                t.value
            );
        }
        compared += 1;
    }
    (compared, text_from_newest)
}

#[test]
fn facets_from_the_index_agree_with_facets_from_loaded_events() {
    let (d, _writer, _) = store_with_corpus();
    let indexed = LocalStore::open(d.path())
        .unwrap()
        .with_facets_from(mamori_store::FacetSource::Index);
    let loaded = LocalStore::open(d.path())
        .unwrap()
        .with_facets_from(mamori_store::FacetSource::Events);
    let named: Vec<String> = [
        "user.name",
        "source.ip",
        "http.response.status_code",
        "error.message",
        "message",
        "flag",
        "size",
        "aws.cloudtrail.request_parameters.tags",
        "no.such.field",
        "@timestamp",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (mut compared, mut text_from_newest) = (0, 0);
    for q in [
        "*",
        "event.outcome:failure",
        "not user.name:bob",
        "source.ip:10.0.0.0/8",
    ] {
        for sample in [1_000, 100] {
            for fields in [vec![], named.clone()] {
                let req = mamori_store::FacetRequest {
                    tenants: vec!["acme".into()],
                    filter: filter::parse(q).unwrap(),
                    range: all_range(),
                    fields,
                    top: 3,
                    sample,
                };
                let a = mamori_store::facets::facets(&indexed, &req).unwrap();
                let b = mamori_store::facets::facets(&loaded, &req).unwrap();
                let what = format!("`{q}`, sample {sample}, {} fields", req.fields.len());
                let (c, t) = assert_same_facets(&a, &b, &what);
                compared += c;
                text_from_newest += t;
            }
        }
    }
    assert!(compared > 100, "only {compared} fields compared");
    // The index answered (only it takes text fields' values from the newest 500).
    assert!(text_from_newest > 0);
}

mod random_filters {
    //! Property: for random combinations of filter atoms, the store returns
    //! exactly what the in-memory evaluator selects.
    use super::*;
    use proptest::prelude::*;
    use std::sync::OnceLock;

    const ATOMS: &[&str] = &[
        "event.action:GetObject",
        "user.name:bo*",
        "user.name:\"admin.ops\"",
        "source.ip:10.0.0.0/8",
        "source.ip:2001:db8::/32",
        "http.response.status_code >= 400",
        "bytes:[* TO 2000]",
        "size > 100",
        "_exists_:error.message",
        "denied",
        "\"access denied\"",
        "message:\"host-3 ok\"",
        "carol",
        "flag:true",
        "user.name:/ad.*s/",
        "event.action:*Value",
        "@timestamp >= 2024-05-02T12:00:00Z",
        "2 of (user.name:bo* or flag:true or denied)",
        "error.message:=*user.name*",
    ];

    fn shared() -> &'static (tempfile::TempDir, LocalStore, Vec<Event>) {
        static S: OnceLock<(tempfile::TempDir, LocalStore, Vec<Event>)> = OnceLock::new();
        S.get_or_init(store_with_corpus)
    }

    fn tree() -> impl Strategy<Value = String> {
        let leaf = proptest::sample::select(ATOMS).prop_map(|s| s.to_string());
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
                inner.prop_map(|a| format!("not ({a})")),
            ]
        })
    }

    /// The shared store's folder opened twice more: facets from the index, and from loaded events.
    fn facet_stores() -> &'static (LocalStore, LocalStore) {
        static S: OnceLock<(LocalStore, LocalStore)> = OnceLock::new();
        S.get_or_init(|| {
            let dir = shared().0.path();
            let open = |source| LocalStore::open(dir).unwrap().with_facets_from(source);
            (
                open(mamori_store::FacetSource::Index),
                open(mamori_store::FacetSource::Events),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        #[test]
        fn facets_from_the_index_equal_facets_from_events(
            text in tree(),
            sample in proptest::sample::select(vec![30usize, 1_000]),
            named in any::<bool>(),
        ) {
            let (indexed, loaded) = facet_stores();
            let fields = if named {
                ["user.name", "source.ip", "size", "message", "aws.cloudtrail.request_parameters.tags"]
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            } else {
                Vec::new()
            };
            let req = mamori_store::FacetRequest {
                tenants: vec!["acme".into()],
                filter: filter::parse(&text).unwrap(),
                range: all_range(),
                fields,
                top: 3,
                sample,
            };
            let a = mamori_store::facets::facets(indexed, &req).unwrap();
            let b = mamori_store::facets::facets(loaded, &req).unwrap();
            assert_same_facets(&a, &b, &format!("`{text}`, sample {sample}"));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn store_equals_evaluator(text in tree(), offset in 0usize..20) {
            let (_d, store, events) = shared();
            let f = filter::parse(&text).unwrap();
            let mut want: Vec<&Event> = events.iter().filter(|e| e.tenant() == "acme" && f.matches(e)).collect();
            want.sort_by_key(|e| std::cmp::Reverse(e.timestamp()));
            let ids: Vec<String> = want.iter().skip(offset).take(15).map(|e| e.id().to_string()).collect();
            let (got, total) = search(store, &["acme"], &f, all_range(), 15, offset, Order::NewestFirst);
            prop_assert_eq!(total as usize, want.len(), "{}", text);
            prop_assert_eq!(got, ids, "{}", text);
        }
    }
}

#[test]
fn stats_and_retention_by_whole_partitions() {
    let (_d, store, events) = store_with_corpus();
    let stats = store.stats().unwrap();
    let acme = stats.iter().find(|s| s.tenant == "acme").unwrap();
    assert_eq!(acme.events, 600);
    assert!(acme.partitions >= 3 && acme.bytes > 0);
    let raw: u64 = events
        .iter()
        .filter(|e| e.tenant() == "acme")
        .map(|e| e.original().len() as u64)
        .sum();
    assert_eq!(acme.raw_bytes, raw, "original bytes of the stored events");
    let cutoff: DateTime<Utc> = "2024-05-03T00:00:00Z".parse().unwrap();
    let deleted = store.delete_before("acme", cutoff).unwrap();
    assert_eq!(deleted.first().map(|d| d.to_string()), Some("2024-05-01".into()));
    assert!(deleted.iter().all(|d| *d < cutoff.date_naive()));
    let kept = events
        .iter()
        .filter(|e| e.tenant() == "acme" && e.timestamp() >= cutoff)
        .count() as u64;
    assert_eq!(
        store.count(&["acme".into()], &Filter::All, &all_range()).unwrap(),
        kept
    );
    // Other tenants are untouched, and new events for a deleted day can still be stored.
    assert_eq!(
        store
            .count(&["globex".into()], &Filter::All, &all_range())
            .unwrap(),
        50
    );
    store.append(vec![events[0].clone()]).unwrap();
    assert_eq!(store.commit().unwrap().added, 1);
}

#[test]
fn ingest_and_search_run_concurrently_and_commits_are_visible() {
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path()).unwrap());
    let events = corpus();
    let (tx, rx) = std::sync::mpsc::channel::<u64>();
    let writer = {
        let store = store.clone();
        let events = events.clone();
        std::thread::spawn(move || {
            let mut committed = 0;
            for chunk in events.chunks(50) {
                store.append(chunk.to_vec()).unwrap();
                committed += store.commit().unwrap().added;
                tx.send(committed).unwrap();
            }
        })
    };
    let tenants = vec!["acme".to_string(), "globex".to_string()];
    let mut seen = 0;
    for committed in rx {
        // Everything acknowledged by commit is searchable at once.
        let n = store.count(&tenants, &Filter::All, &all_range()).unwrap();
        assert!(n >= committed, "{n} visible after {committed} committed");
        seen = committed;
    }
    writer.join().unwrap();
    assert_eq!(seen, 650);
    assert_eq!(store.count(&tenants, &Filter::All, &all_range()).unwrap(), 650);
}

#[test]
fn too_broad_searches_are_refused_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap().with_max_checked(100);
    store.append(corpus()).unwrap();
    store.commit().unwrap();
    // A phrase is narrowed by its words and then checked event by event.
    let f = filter::parse("\"request from\"").unwrap();
    let err = store.count(&["acme".into()], &f, &all_range()).unwrap_err();
    assert!(matches!(err, mamori_store::StoreError::TooBroad(_)), "{err}");
    assert!(err.to_string().contains("narrow the time range"), "{err}");
    // Exact filters are not bounded by the check limit.
    let exact = filter::parse("event.outcome:success").unwrap();
    assert!(store.count(&["acme".into()], &exact, &all_range()).unwrap() > 100);
}
