//! VPC Flow Logs: default and custom formats, every mapped field, bad records.

mod common;

use common::{fixture, run, split};
use mamori_formats::sniff::sniff;
use mamori_formats::{Format, vpcflow};
use mamori_model::Event;
use serde_json::{Value, json};

fn default_events() -> Vec<Event> {
    let s = split(run(Format::VpcFlow, fixture("vpcflow_default.log")));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    assert_eq!(s.events.len(), 6);
    s.events
}

fn custom_events() -> Vec<Event> {
    let s = split(run(Format::VpcFlow, fixture("vpcflow_custom.log")));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    assert_eq!(s.events.len(), 2);
    s.events
}

fn assert_fields(ev: &Event, expect: &[(&str, Value)]) {
    for (path, want) in expect {
        assert_eq!(ev.get(path), Some(want), "{path} in {}", ev.to_json());
    }
}

#[test]
fn default_format_accept_maps_every_field() {
    let text = fixture("vpcflow_default.log");
    let ev = &default_events()[0];
    assert_fields(
        ev,
        &[
            ("@timestamp", json!("2024-06-01T00:00:00.000000Z")),
            ("tenant", json!("acme")),
            ("event.start", json!("2024-06-01T00:00:00.000000Z")),
            ("event.end", json!("2024-06-01T00:01:00.000000Z")),
            ("event.duration", json!(60_000_000_000u64)),
            ("event.kind", json!("event")),
            ("event.category", json!(["network"])),
            ("event.type", json!(["connection", "allowed"])),
            ("event.module", json!("aws")),
            ("event.dataset", json!("aws.vpcflow")),
            ("event.action", json!("accept")),
            ("event.outcome", json!("success")),
            ("cloud.provider", json!("aws")),
            ("cloud.account.id", json!("111122223333")),
            ("source.ip", json!("10.0.1.5")),
            ("source.port", json!(49152)),
            ("destination.ip", json!("198.51.100.20")),
            ("destination.port", json!(443)),
            ("network.iana_number", json!("6")),
            ("network.transport", json!("tcp")),
            ("source.packets", json!(10)),
            ("source.bytes", json!(5200)),
            ("network.packets", json!(10)),
            ("network.bytes", json!(5200)),
            ("aws.vpcflow.version", json!(2)),
            ("aws.vpcflow.interface_id", json!("eni-0a1b2c3d4e5f60001")),
            ("aws.vpcflow.action", json!("ACCEPT")),
            ("aws.vpcflow.log_status", json!("OK")),
            ("related.ip", json!(["10.0.1.5", "198.51.100.20"])),
        ],
    );
    assert_eq!(ev.original(), text.lines().next().unwrap());
    // No id of its own: derived from tenant and line.
    assert_eq!(ev.id(), Event::derived_id("acme", ev.original()));
    assert!(ev.get("tags").is_none());
}

#[test]
fn reject_udp_nodata_skipdata_and_ipv6() {
    let evs = default_events();
    assert_fields(
        &evs[1],
        &[
            ("event.action", json!("reject")),
            ("event.outcome", json!("failure")),
            ("event.type", json!(["connection", "denied"])),
            ("source.ip", json!("203.0.113.66")),
            ("destination.port", json!(22)),
        ],
    );
    assert_fields(
        &evs[2],
        &[
            ("network.transport", json!("udp")),
            ("network.iana_number", json!("17")),
        ],
    );
    for (ev, tag, status) in [
        (&evs[3], vpcflow::NODATA_TAG, "NODATA"),
        (&evs[4], vpcflow::SKIPDATA_TAG, "SKIPDATA"),
    ] {
        assert_fields(
            ev,
            &[
                ("event.outcome", json!("unknown")),
                ("tags", json!([tag])),
                ("aws.vpcflow.log_status", json!(status)),
                ("@timestamp", json!("2024-06-01T00:01:40.000000Z")),
            ],
        );
        for missing in [
            "source.ip",
            "destination.ip",
            "event.action",
            "network.transport",
            "related.ip",
        ] {
            assert!(ev.get(missing).is_none(), "{missing}");
        }
    }
    assert_ne!(evs[3].id(), evs[4].id());
    assert_fields(
        &evs[5],
        &[
            ("source.ip", json!("2001:db8::1")),
            ("destination.ip", json!("2001:db8::2")),
            ("network.transport", json!("ipv6-icmp")),
            ("network.iana_number", json!("58")),
        ],
    );
}

#[test]
fn custom_format_with_every_kind_of_field() {
    let evs = custom_events();
    assert_fields(
        &evs[0],
        &[
            ("@timestamp", json!("2024-06-02T03:46:40.000000Z")),
            ("event.duration", json!(30_000_000_000u64)),
            ("cloud.account.id", json!("111122223333")),
            ("cloud.region", json!("eu-west-3")),
            ("cloud.availability_zone", json!("euw3-az1")),
            ("aws.vpcflow.az_id", json!("euw3-az1")),
            ("cloud.instance.id", json!("i-0123456789abcdef0")),
            ("aws.vpcflow.vpc_id", json!("vpc-0aaa1111bbbb2222c")),
            ("aws.vpcflow.subnet_id", json!("subnet-0ddd3333eeee4444f")),
            ("aws.vpcflow.interface_id", json!("eni-0fff5555aaaa6666b")),
            ("aws.vpcflow.type", json!("IPv4")),
            ("network.type", json!("ipv4")),
            ("aws.vpcflow.pkt_srcaddr", json!("10.0.1.5")),
            ("aws.vpcflow.pkt_dstaddr", json!("10.0.2.9")),
            ("aws.vpcflow.tcp_flags", json!(18)),
            ("aws.vpcflow.tcp_flags_array", json!(["syn", "ack"])),
            ("aws.vpcflow.flow_direction", json!("egress")),
            ("network.direction", json!("outbound")),
            ("aws.vpcflow.traffic_path", json!(1)),
            ("aws.vpcflow.ecs_cluster_name", json!("prod-cluster")),
            ("aws.vpcflow.version", json!(5)),
            ("source.bytes", json!(1500)),
            ("source.packets", json!(12)),
            ("related.ip", json!(["10.0.1.5", "10.0.2.9"])),
        ],
    );
    for missing in [
        "aws.vpcflow.pkt_src_aws_service",
        "aws.vpcflow.sublocation_type",
        "aws.vpcflow.sublocation_id",
    ] {
        assert!(evs[0].get(missing).is_none(), "{missing}");
    }
    // Several spaces between fields; `-` instance id; ingress; IPv6.
    assert_fields(
        &evs[1],
        &[
            ("network.direction", json!("inbound")),
            ("network.type", json!("ipv6")),
            ("aws.vpcflow.pkt_src_aws_service", json!("S3")),
            ("event.outcome", json!("failure")),
            ("aws.vpcflow.tcp_flags_array", json!(["syn"])),
            ("related.ip", json!(["2001:db8::5", "2001:db8::9"])),
        ],
    );
    assert!(evs[1].get("cloud.instance.id").is_none());
    assert!(evs[1].get("aws.vpcflow.traffic_path").is_none());
}

#[test]
fn wrong_field_counts_are_bad_records() {
    let text = "version srcaddr dstaddr action\n\
                3 10.0.0.1 10.0.0.2 ACCEPT\n\
                3 10.0.0.1 10.0.0.2\n\
                \n\
                3 10.0.0.1 10.0.0.2 ACCEPT extra\n";
    let s = split(run(Format::VpcFlow, text));
    assert_eq!(s.events.len(), 1);
    assert_eq!(s.bad.len(), 2);
    let bad = &s.bad[0];
    assert_eq!(bad.location.line, Some(3));
    assert_eq!(
        bad.location.byte_offset,
        Some(text.find("3 10.0.0.1 10.0.0.2\n").unwrap() as u64)
    );
    assert_eq!(
        bad.reason,
        "expected 4 fields as in the header on line 1, found 3"
    );
    assert_eq!(bad.raw, "3 10.0.0.1 10.0.0.2");
    assert_eq!(s.bad[1].location.line, Some(5));
    // No start or end: the ingest time.
    assert_eq!(
        s.events[0].get("tags"),
        Some(&json!(["mamori.timestamp_missing"]))
    );
    // Without a header: the default 14 fields.
    let s = split(run(
        Format::VpcFlow,
        "2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT\n",
    ));
    assert_eq!(
        s.bad[0].reason,
        "expected 14 fields (the default version 2 format), found 13"
    );
}

#[test]
fn bad_numbers_and_addresses_name_the_field() {
    let line = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 80 http 6 1 1 1717200000 1717200060 ACCEPT OK";
    let text = format!(
        "{}\n{line}\n",
        fixture("vpcflow_default.log").lines().next().unwrap()
    );
    let s = split(run(Format::VpcFlow, &text));
    assert_eq!(s.events.len(), 1);
    let bad = &s.bad[0];
    let column = line.find("http").unwrap() as u64 + 1;
    assert_eq!(bad.location.line, Some(2));
    assert_eq!(bad.location.column, Some(column));
    assert_eq!(bad.location.byte_offset, Some(text.find(line).unwrap() as u64));
    assert_eq!(
        bad.reason,
        format!("field `dstport` (column {column}): expected a whole number, found `http`")
    );
    let bad_ip = "2 111122223333 eni-1 10.0.0.999 10.0.0.2 80 80 6 1 1 1717200000 1717200060 ACCEPT OK";
    let s = split(run(Format::VpcFlow, bad_ip));
    assert!(
        s.bad[0]
            .reason
            .starts_with("field `srcaddr` (column 22): expected an IP address")
    );
    let negative = "2 111122223333 eni-1 10.0.0.1 10.0.0.2 80 80 6 -5 1 1717200000 1717200060 ACCEPT OK";
    let s = split(run(Format::VpcFlow, negative));
    assert!(
        s.bad[0].reason.starts_with("field `packets`"),
        "{}",
        s.bad[0].reason
    );
    let not_utf8 = b"2 111122223333 eni-1 \xff\n";
    let s = split(run(Format::VpcFlow, not_utf8));
    assert_eq!(s.bad[0].location.column, Some(22));
}

#[test]
fn headers_change_and_line_endings() {
    let text = "${srcaddr} ${dstaddr} ${start}\r\n\
                10.0.0.1 10.0.0.2 1717200000\r\n\
                version srcaddr\r\n\
                4 10.0.0.3\r\n";
    let s = split(run(Format::VpcFlow, text));
    assert!(s.bad.is_empty(), "{:?}", s.bad);
    assert_eq!(s.events.len(), 2);
    assert_eq!(s.events[0].original(), "10.0.0.1 10.0.0.2 1717200000");
    assert_eq!(
        s.events[0].get_str("@timestamp"),
        Some("2024-06-01T00:00:00.000000Z")
    );
    assert_eq!(s.events[1].get("aws.vpcflow.version"), Some(&json!(4)));
    assert_eq!(s.events[1].source_ip(), Some("10.0.0.3"));
    assert!(run(Format::VpcFlow, "").is_empty());
    assert!(run(Format::VpcFlow, "version srcaddr dstaddr\n\n").is_empty());
}

#[test]
fn sniffing() {
    assert_eq!(
        sniff(fixture("vpcflow_default.log").as_bytes()),
        Some(Format::VpcFlow)
    );
    assert_eq!(
        sniff(fixture("vpcflow_custom.log").as_bytes()),
        Some(Format::VpcFlow)
    );
    assert_eq!(
        sniff(b"\xEF\xBB\xBFsrcaddr dstaddr bytes\n"),
        Some(Format::VpcFlow)
    );
    // A header must start with `version` or name srcaddr.
    assert_eq!(sniff(b"account-id interface-id\n"), None);
    // Too few fields, a version out of range, no interface id.
    assert_eq!(
        sniff(b"2 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT\n"),
        None
    );
    assert_eq!(
        sniff(b"9 111122223333 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"),
        None
    );
    assert_eq!(
        sniff(b"2 111122223333 i-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 2 ACCEPT OK\n"),
        None
    );
    assert_eq!(sniff(b"hello world\n"), None);
    assert_eq!(Format::from_name("vpcflow"), Some(Format::VpcFlow));
}

#[test]
fn each_new_format_is_registered_once_before_ndjson() {
    let all = Format::all();
    let ndjson = all.iter().position(|f| *f == Format::Ndjson).unwrap();
    for f in [Format::GuardDuty, Format::SecurityHub, Format::VpcFlow] {
        assert_eq!(all.iter().filter(|g| **g == f).count(), 1, "{f:?}");
        assert!(all.iter().position(|g| *g == f).unwrap() < ndjson, "{f:?}");
        assert!(Format::names().contains(f.name()));
    }
}
