//! No GuardDuty, Security Hub or VPC Flow Logs input makes a parser or the
//! sniffer panic: deterministic mutations of the fixtures, and every cut.

mod common;

use common::{Rng, fixture, run};
use mamori_formats::Format;
use mamori_formats::sniff::sniff;

const SPECIAL: &[u8] = b"{}[],:\"\\\n\r \t-\xff0a9.:/";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    common::mutate(rng, input, SPECIAL, 4)
}

const OURS: [Format; 3] = [Format::GuardDuty, Format::SecurityHub, Format::VpcFlow];

#[test]
fn mutated_inputs_never_panic() {
    let seeds = [
        fixture("guardduty_findings.json"),
        fixture("securityhub_findings.json"),
        fixture("vpcflow_default.log"),
        fixture("vpcflow_custom.log"),
        r#"{"detail-type":"GuardDuty Finding","detail":{"id":"1","type":"t","severity":2,"service":{"action":{"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":[{"remoteIpDetails":{"ipAddressV4":"192.0.2.1"}}]}}}}}"#.to_string(),
        r#"{"detail-type":"Security Hub Findings - Imported","detail":{"findings":[{"Id":"1","ProductArn":"p","ProductFields":{"aws/guardduty/service/action/a:1/b:2":"x"}}]}}"#.to_string(),
    ];
    let mut rng = Rng(0x5EED_0AB5_2024_0002);
    for seed in &seeds {
        for _ in 0..300 {
            let input = mutate(&mut rng, seed.as_bytes());
            let _ = sniff(&input);
            for format in OURS {
                let _ = run(format, &input);
            }
        }
    }
}

#[test]
fn every_cut_of_the_fixtures_is_safe() {
    for name in [
        "guardduty_findings.json",
        "securityhub_findings.json",
        "vpcflow_custom.log",
    ] {
        let text = fixture(name);
        for cut in (0..text.len()).step_by(7) {
            let bytes = &text.as_bytes()[..cut];
            let _ = sniff(bytes);
            for format in OURS {
                let _ = run(format, bytes);
            }
        }
    }
}

#[test]
fn wrong_shapes_in_the_right_places() {
    // Values of unexpected types where objects, arrays and numbers belong.
    let odd = [
        r#"{"id":"1","type":"t","severity":"x","resource":[],"service":{"action":"AWS_API_CALL","count":"many","eventFirstSeen":5}}"#,
        r#"{"id":"1","type":"t","severity":1e400,"service":{"action":{"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"remoteIpDetails":{"ipAddressV4":7,"organization":{"asn":-3}},"localPortDetails":{"port":"x"}}}}}"#,
        r#"{"id":"1","type":"t","severity":3,"service":{"action":{"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":{"a":1}}}}}"#,
        r#"{"Id":"1","ProductArn":"p","Severity":"HIGH","Types":"x","Resources":{"Type":"AwsEc2Instance"},"Network":[],"Vulnerabilities":[{"Cvss":"x"}],"Action":7}"#,
        r#"{"Id":"1","ProductArn":"arn:aws:securityhub:::product/","Resources":[{"Type":"AwsEc2Instance","Id":"instance/"},{"Type":"AwsIamUser","Id":":user/"}]}"#,
    ];
    for text in odd {
        for format in OURS {
            let _ = run(format, text);
        }
    }
}
