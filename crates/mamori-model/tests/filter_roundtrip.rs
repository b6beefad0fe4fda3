//! Property tests: printing then parsing is the identity on normalized ASTs,
//! and the parser never panics.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use mamori_model::filter::{Bound, CompareOp, Filter, Pattern, RefOp, Scalar, WildPart, parse};
use proptest::prelude::*;

/// Field names, including ones that need escaping or look like keywords.
fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"),
        Just("user.name"),
        Just("source.ip"),
        Just("@timestamp"),
        Just("message"),
        Just("winlog.event_data.SubjectUserName"),
        Just("x-y_z.w"),
        Just("ü.é"),
        Just("and"),
        Just("OR"),
        Just("not"),
        Just("to"),
        Just("_exists_"),
        Just("my field"),
        Just("a:b"),
        Just("*"),
        Just("c(d)"),
    ]
    .prop_map(String::from)
}

/// Text with characters that need escaping, whitespace and unicode.
fn text(min: usize) -> impl Strategy<Value = String> {
    let chars = r#"[a-zA-Z0-9 ()"\\*?:<>\[\]{}/@!&|.\-_=+éü漢\t\n\u{a0}]"#;
    prop_oneof![
        4 => proptest::string::string_regex(&format!("{chars}{{{min},8}}")).expect("valid regex"),
        1 => prop_oneof![
            Just("and"),
            Just("OR"),
            Just("Not"),
            Just("TO"),
            Just("*"),
            Just("_exists_"),
            Just("10"),
            Just("-5"),
            Just("1e5"),
            Just("inf"),
            Just("NaN"),
            Just("10.0.0.0/8"),
            Just("::1"),
            Just("2001:db8::/32"),
            Just("@list"),
            Just("&&x"),
            Just("||"),
            Just("!x"),
            Just("2024-05-01T00:00:00Z"),
        ]
        .prop_map(String::from),
    ]
}

fn wildcard() -> impl Strategy<Value = Vec<WildPart>> {
    let part = prop_oneof![
        Just(WildPart::Any),
        Just(WildPart::One),
        text(1).prop_map(WildPart::Literal),
    ];
    proptest::collection::vec(part, 1..5).prop_filter_map("not a wildcard", |parts| {
        let mut out: Vec<WildPart> = Vec::new();
        for p in parts {
            match (out.last_mut(), p) {
                (Some(WildPart::Literal(a)), WildPart::Literal(b)) => a.push_str(&b),
                (_, p) => out.push(p),
            }
        }
        let has_wild = out.iter().any(|p| !matches!(p, WildPart::Literal(_)));
        (has_wild && out != [WildPart::Any]).then_some(out)
    })
}

fn cidr() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u32>(), 0..=32u8).prop_map(|(a, p)| IpNet::new(IpAddr::V4(Ipv4Addr::from(a)), p).unwrap()),
        (any::<u128>(), 0..=128u8).prop_map(|(a, p)| IpNet::new(IpAddr::V6(Ipv6Addr::from(a)), p).unwrap()),
    ]
}

fn regex() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a"),
        Just("a.*b"),
        Just("^x$"),
        Just("(?i)foo"),
        Just("[0-9]+"),
        Just("a/b"),
        Just(r"\d{3}"),
        Just(r"a\\b"),
        Just(r"a\.b"),
        Just("x|y"),
        Just("é+ 漢"),
        Just(r#"say "hi""#),
    ]
    .prop_map(String::from)
}

fn pattern() -> impl Strategy<Value = Pattern> {
    prop_oneof![
        text(1).prop_map(Pattern::Term),
        text(0).prop_map(Pattern::Phrase),
        wildcard().prop_map(Pattern::Wildcard),
        cidr().prop_map(Pattern::Cidr),
        regex().prop_map(Pattern::Regex),
    ]
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(Scalar::Number),
        (-1000i32..1000).prop_map(|n| Scalar::Number(f64::from(n))),
        text(0).prop_map(Scalar::Text),
    ]
}

fn bound() -> impl Strategy<Value = Option<Bound>> {
    proptest::option::of((scalar(), any::<bool>()).prop_map(|(value, inclusive)| Bound { value, inclusive }))
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
    ]
}

fn ref_op() -> impl Strategy<Value = RefOp> {
    prop_oneof![
        Just(RefOp::Equals),
        Just(RefOp::StartsWith),
        Just(RefOp::EndsWith),
        Just(RefOp::Contains),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        1 => Just(Filter::All),
        4 => (proptest::option::of(field()), pattern()).prop_map(|(field, value)| Filter::Match { field, value }),
        2 => (field(), op(), scalar()).prop_map(|(field, op, value)| Filter::Compare { field, op, value }),
        2 => (field(), bound(), bound()).prop_map(|(field, lower, upper)| Filter::Range { field, lower, upper }),
        1 => field().prop_map(|field| Filter::Exists { field }),
        1 => (field(), field(), ref_op(), any::<bool>())
            .prop_map(|(field, other, op, cased)| Filter::FieldRef { field, other, op, cased }),
        1 => (proptest::option::of(field()), "[a-zA-Z0-9_.-]{1,6}")
            .prop_map(|(field, name)| Filter::ListRef { field, name }),
    ]
}

/// Normalized filters: `Filter::and`/`Filter::or` flatten and drop `All`.
fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::and),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::or),
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            proptest::collection::vec(inner, 1..4)
                .prop_flat_map(|children| (1..=children.len(), Just(children)))
                .prop_map(|(n, children)| Filter::AtLeast { n, children }),
        ]
    })
}

proptest! {
    #[test]
    fn print_then_parse_is_identity(f in filter()) {
        let printed = f.to_string();
        prop_assert_eq!(parse(&printed), Ok(f), "printed as {}", printed);
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn parse_never_panics_on_syntax_soup(s in r#"[a-z:()"\\*?\[\]{}<>=!&|/@ .TOandornt_-]{0,40}"#) {
        if let Ok(f) = parse(&s) {
            // Whatever parses prints back to the same tree.
            prop_assert_eq!(parse(&f.to_string()), Ok(f));
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}a{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(parse(&deep).unwrap_err().column, 129);
    let nots = "not ".repeat(100_000) + "a";
    assert!(parse(&nots).is_err());
    let ok = format!("{}a{}", "(".repeat(100), ")".repeat(100));
    assert_eq!(parse(&ok).unwrap().to_string(), "a");
}
