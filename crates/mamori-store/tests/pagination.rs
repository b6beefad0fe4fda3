//! Sorting and `search_after` paging: pages joined equal one independent
//! sort of the matching events, for every order, and stay exact while new
//! events arrive between pages.

use std::cmp::Ordering;
use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use mamori_model::{Event, Filter, TimeRange, filter};
use mamori_store::{Cursor, EventStore, LocalStore, Order, SearchRequest, Sort};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    "2024-05-01T20:00:00Z".parse().unwrap()
}

/// Events in runs of ten with the same time (over three days), some without
/// a user, some with two.
fn events(from: u32, to: u32) -> Vec<Event> {
    let users = ["alice", "Bob", "carol", "Dave", "erin", "bob"];
    let ips = ["10.0.0.5", "10.0.0.40", "203.0.113.9", "2001:db8::7", "9.9.9.9"];
    (from..to)
        .map(|i| {
            let ts = t0() + Duration::minutes(i64::from(i / 10) * 97);
            let mut e = Event::new("acme", ts, format!("record {i}"));
            e.set_id(format!("id-{:05}", (i * 7919) % 100_000));
            if i % 7 != 0 {
                e.set("user.name", json!(users[i as usize % users.len()]));
            }
            if i % 11 == 0 {
                e.set(
                    "user.name",
                    json!([users[i as usize % 6], users[(i as usize + 3) % 6]]),
                );
            }
            e.set("source.ip", json!(ips[(i as usize / 3) % ips.len()]));
            e.set(
                "http.response.status_code",
                json!([200, 404, 1000, 3, 503][i as usize % 5]),
            );
            e.set("message", json!(format!("request from host-{} done", i % 4)));
            e
        })
        .collect()
}

fn store_with(events: &[Event]) -> (tempfile::TempDir, LocalStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = LocalStore::open(dir.path()).unwrap();
    store.append(events.to_vec()).unwrap();
    store.commit().unwrap();
    (dir, store)
}

/// The sort value of an event the way the test understands it.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
enum V {
    Num(f64),
    Ip([u8; 16]),
    Kw(String),
}

fn values(e: &Event, field: &str) -> Vec<V> {
    e.values(field)
        .into_iter()
        .filter_map(|v| match field {
            "source.ip" => v.as_str().and_then(|s| s.parse::<IpAddr>().ok()).map(|ip| {
                V::Ip(match ip {
                    IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
                    IpAddr::V6(a) => a.octets(),
                })
            }),
            "http.response.status_code" => v.as_f64().map(V::Num),
            _ => v.as_str().map(|s| V::Kw(s.to_lowercase())),
        })
        .collect()
}

/// Expected order, written independently of the store.
fn expected(events: &[Event], f: &Filter, sort: Option<&Sort>, order: Order) -> Vec<String> {
    let mut v: Vec<&Event> = events.iter().filter(|e| f.matches(e)).collect();
    v.sort_by(|a, b| match sort {
        None => {
            let o = a.timestamp().cmp(&b.timestamp()).then(a.id().cmp(b.id()));
            if order == Order::NewestFirst {
                o.reverse()
            } else {
                o
            }
        }
        Some(s) => {
            let key = |e: &Event| {
                let mut vals = values(e, &s.field);
                vals.sort_by(|x, y| x.partial_cmp(y).unwrap_or(Ordering::Equal));
                if s.descending {
                    vals.pop()
                } else {
                    vals.into_iter().next()
                }
            };
            let by_value = match (key(a), key(b)) {
                (Some(x), Some(y)) => {
                    let o = x.partial_cmp(&y).unwrap();
                    if s.descending { o.reverse() } else { o }
                }
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            by_value
                .then(b.timestamp().cmp(&a.timestamp()))
                .then(b.id().cmp(a.id()))
        }
    });
    v.into_iter().map(|e| e.id().to_string()).collect()
}

fn request(
    f: &Filter,
    sort: Option<&Sort>,
    order: Order,
    limit: usize,
    after: Option<Cursor>,
) -> SearchRequest {
    SearchRequest {
        tenants: vec!["acme".into()],
        filter: f.clone(),
        range: TimeRange::all(),
        limit,
        offset: 0,
        order,
        sort: sort.cloned(),
        after,
    }
}

/// Every page of `limit` hits, following cursors.
fn all_pages(store: &LocalStore, f: &Filter, sort: Option<&Sort>, order: Order, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut after = None;
    for _ in 0..1000 {
        let res = store
            .search(&request(f, sort, order, limit, after.clone()))
            .unwrap();
        out.extend(res.hits.iter().map(|h| h.event.id().to_string()));
        if res.hits.len() < limit {
            return out;
        }
        after = res.hits.last().map(|h| h.cursor.clone());
    }
    panic!("paging did not end");
}

fn sorts() -> Vec<Option<Sort>> {
    let mut v = vec![None];
    for field in ["user.name", "source.ip", "http.response.status_code"] {
        for descending in [false, true] {
            v.push(Some(Sort {
                field: field.into(),
                descending,
            }));
        }
    }
    v
}

#[test]
fn pages_joined_equal_one_sort_in_every_order() {
    let evs = events(0, 400);
    let (_d, store) = store_with(&evs);
    // Exact filters, and one the store re-checks event by event (a phrase).
    for text in ["", "source.ip:10.0.0.0/8", "message:\"host-1 done\""] {
        let f = filter::parse(text).unwrap();
        for sort in sorts() {
            for order in [Order::NewestFirst, Order::OldestFirst] {
                if sort.is_some() && order == Order::OldestFirst {
                    continue; // the time order does not apply to a field sort
                }
                let want = expected(&evs, &f, sort.as_ref(), order);
                for limit in [1, 7, 1000] {
                    let got = all_pages(&store, &f, sort.as_ref(), order, limit);
                    assert_eq!(
                        got, want,
                        "filter `{text}`, sort {sort:?}, {order:?}, pages of {limit}"
                    );
                }
                // Offsets agree with cursors.
                let res = store
                    .search(&SearchRequest {
                        offset: 13,
                        ..request(&f, sort.as_ref(), order, 5, None)
                    })
                    .unwrap();
                let ids: Vec<String> = res.hits.iter().map(|h| h.event.id().to_string()).collect();
                let tail: Vec<String> = want.iter().skip(13).take(5).cloned().collect();
                assert_eq!(ids, tail, "offset, filter `{text}`, sort {sort:?}");
                assert_eq!(res.total as usize, want.len());
            }
        }
    }
}

#[test]
fn the_next_page_is_exact_while_events_arrive() {
    let first = events(0, 300);
    let (_d, store) = store_with(&first);
    let f = Filter::All;
    for sort in sorts() {
        let res = store
            .search(&request(&f, sort.as_ref(), Order::NewestFirst, 25, None))
            .unwrap();
        let cursor = res.hits.last().unwrap().cursor.clone();
        let seen: Vec<String> = res.hits.iter().map(|h| h.event.id().to_string()).collect();
        assert_eq!(
            seen,
            expected(&first, &f, sort.as_ref(), Order::NewestFirst)[..25]
        );
        // New events land before, at and after the cursor's time and value.
        let mut more = events(300, 600);
        for e in &mut more {
            let shifted = e.timestamp() - Duration::minutes(97 * 30);
            e.set_timestamp(shifted);
        }
        let added: Vec<Event> = more
            .into_iter()
            .filter(|e| !seen.contains(&e.id().to_string()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let store2 = LocalStore::open(dir.path()).unwrap();
        store2.append(first.clone()).unwrap();
        store2.commit().unwrap();
        store2.append(added.clone()).unwrap();
        store2.commit().unwrap();
        let all: Vec<Event> = first.iter().chain(&added).cloned().collect();
        let want = expected(&all, &f, sort.as_ref(), Order::NewestFirst);
        let pos = want.iter().position(|id| *id == cursor.id).unwrap();
        let rest = store2
            .search(&request(
                &f,
                sort.as_ref(),
                Order::NewestFirst,
                10_000,
                Some(cursor.clone()),
            ))
            .unwrap();
        let got: Vec<String> = rest.hits.iter().map(|h| h.event.id().to_string()).collect();
        assert_eq!(got, want[pos + 1..], "sort {sort:?}");
    }
}

#[test]
fn bad_sorts_and_cursors_are_refused() {
    let (_d, store) = store_with(&events(0, 20));
    let text = Sort {
        field: "message".into(),
        descending: false,
    };
    let err = store
        .search(&request(&Filter::All, Some(&text), Order::NewestFirst, 5, None))
        .unwrap_err();
    assert!(err.to_string().contains("text field"), "{err}");
    let by_user = Sort {
        field: "user.name".into(),
        descending: false,
    };
    let res = store
        .search(&request(
            &Filter::All,
            Some(&by_user),
            Order::NewestFirst,
            5,
            None,
        ))
        .unwrap();
    let ip = Sort {
        field: "source.ip".into(),
        descending: false,
    };
    let err = store
        .search(&request(
            &Filter::All,
            Some(&ip),
            Order::NewestFirst,
            5,
            Some(res.hits[4].cursor.clone()),
        ))
        .unwrap_err();
    assert!(err.to_string().contains("invalid cursor"), "{err}");
}

#[test]
fn large_pages_loaded_on_several_threads_keep_the_order() {
    let evs = events(0, 1_300);
    let (_d, store) = store_with(&evs);
    for text in ["", "message:\"host-1 done\"", "not source.ip:9.9.9.9"] {
        let f = filter::parse(text).unwrap();
        for sort in sorts().into_iter().take(3) {
            let want = expected(&evs, &f, sort.as_ref(), Order::NewestFirst);
            for limit in [600, 2_000] {
                let got = all_pages(&store, &f, sort.as_ref(), Order::NewestFirst, limit);
                assert_eq!(got, want, "filter `{text}`, sort {sort:?}, pages of {limit}");
            }
        }
    }
}
