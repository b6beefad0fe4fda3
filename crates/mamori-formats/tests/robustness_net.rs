//! No web, Zeek, Suricata or CSV input makes a parser or the sniffer
//! panic: deterministic mutations of the fixtures (flipped, deleted and
//! inserted bytes), fed to every format.

mod common;

use common::{Rng, fixture, run};
use mamori_formats::sniff::sniff;
use mamori_formats::{Format, Item};

const SPECIAL: &[u8] = b"\"[]{}:, \t\n\r#-\\x0(\xff\xc3";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    common::mutate(rng, input, SPECIAL, 6)
}

#[test]
fn mutated_inputs_never_panic() {
    let seeds = [
        "weblog_combined.log",
        "iis_w3c.log",
        "cloudfront.log",
        "alb.log",
        "zeek_conn.log",
        "zeek_dns.log",
        "zeek.json",
        "suricata_eve.json",
        "table.csv",
    ];
    let mine = [
        Format::WebAccess,
        Format::Iis,
        Format::CloudFront,
        Format::Alb,
        Format::Zeek,
        Format::Suricata,
        Format::Csv,
    ];
    let mut rng = Rng(0x5EED_0BAD_CAFE_0001);
    for name in seeds {
        let seed = fixture(name);
        for _ in 0..150 {
            let input = mutate(&mut rng, seed.as_bytes());
            let _ = sniff(&input);
            for format in mine {
                for item in run(format, &input) {
                    // Every bad record says where it is.
                    if let Item::Bad(b) = item {
                        assert!(b.location.line.is_some(), "{format}: {b}");
                    }
                }
            }
        }
    }
    // Every other format, on a few inputs.
    for name in seeds {
        for format in Format::all() {
            let _ = run(*format, fixture(name));
        }
    }
}
