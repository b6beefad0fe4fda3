//! Parser table tests: precedence, every value form, every error with its column.

use mamori_model::filter::{Bound, CompareOp, Filter, Pattern, Scalar, WildPart, parse};

fn term(s: &str) -> Pattern {
    Pattern::Term(s.into())
}

fn bare(s: &str) -> Filter {
    Filter::Match {
        field: None,
        value: term(s),
    }
}

fn m(field: &str, value: Pattern) -> Filter {
    Filter::Match {
        field: Some(field.into()),
        value,
    }
}

fn not(f: Filter) -> Filter {
    Filter::Not(Box::new(f))
}

fn and<const N: usize>(items: [Filter; N]) -> Filter {
    Filter::And(items.into())
}

fn or<const N: usize>(items: [Filter; N]) -> Filter {
    Filter::Or(items.into())
}

fn lit(s: &str) -> WildPart {
    WildPart::Literal(s.into())
}

fn cmp(field: &str, op: CompareOp, value: Scalar) -> Filter {
    Filter::Compare {
        field: field.into(),
        op,
        value,
    }
}

fn num(n: f64) -> Scalar {
    Scalar::Number(n)
}

fn text(s: &str) -> Scalar {
    Scalar::Text(s.into())
}

fn range(field: &str, lower: Option<(Scalar, bool)>, upper: Option<(Scalar, bool)>) -> Filter {
    let b = |(value, inclusive)| Bound { value, inclusive };
    Filter::Range {
        field: field.into(),
        lower: lower.map(b),
        upper: upper.map(b),
    }
}

fn exists(field: &str) -> Filter {
    Filter::Exists { field: field.into() }
}

fn list(field: Option<&str>, name: &str) -> Filter {
    Filter::ListRef {
        field: field.map(Into::into),
        name: name.into(),
    }
}

fn check(cases: Vec<(&str, Filter)>) {
    for (input, want) in cases {
        assert_eq!(parse(input), Ok(want), "parsing {input:?}");
    }
}

#[test]
fn precedence_and_grouping() {
    check(vec![
        ("a or b and c", or([bare("a"), and([bare("b"), bare("c")])])),
        ("a and b or c", or([and([bare("a"), bare("b")]), bare("c")])),
        ("not a and b", and([not(bare("a")), bare("b")])),
        ("not a or b", or([not(bare("a")), bare("b")])),
        ("not not a", not(not(bare("a")))),
        ("a b c", and([bare("a"), bare("b"), bare("c")])),
        ("a b or c", or([and([bare("a"), bare("b")]), bare("c")])),
        ("(a or b) c", and([or([bare("a"), bare("b")]), bare("c")])),
        ("a and (b or c)", and([bare("a"), or([bare("b"), bare("c")])])),
        ("not (a or b)", not(or([bare("a"), bare("b")]))),
        ("((a))", bare("a")),
        ("(a and b) and c", and([bare("a"), bare("b"), bare("c")])),
        ("a or (b or c)", or([bare("a"), bare("b"), bare("c")])),
        (
            "a AND b OR NOT c",
            or([and([bare("a"), bare("b")]), not(bare("c"))]),
        ),
        ("a And b", and([bare("a"), bare("b")])),
        ("a && b || !c", or([and([bare("a"), bare("b")]), not(bare("c"))])),
        ("not(a)and(b)", and([not(bare("a")), bare("b")])),
        ("x:1 y:2", and([m("x", term("1")), m("y", term("2"))])),
    ]);
}

#[test]
fn match_all_forms() {
    check(vec![
        ("", Filter::All),
        ("  \t\n", Filter::All),
        ("*", Filter::All),
        ("* and a", bare("a")),
        ("a or *", Filter::All),
        ("not *", not(Filter::All)),
    ]);
}

#[test]
fn fields_and_values() {
    check(vec![
        (
            "event.action:ConsoleLogin",
            m("event.action", term("ConsoleLogin")),
        ),
        ("@timestamp:2024-05-01", m("@timestamp", term("2024-05-01"))),
        (
            "aws.cloudtrail.user_identity.access_key_id:AKIA1",
            m("aws.cloudtrail.user_identity.access_key_id", term("AKIA1")),
        ),
        (
            "winlog.event_data.SubjectUserName:bob",
            m("winlog.event_data.SubjectUserName", term("bob")),
        ),
        ("http-x.y_z:1", m("http-x.y_z", term("1"))),
        ("user.name : bob", m("user.name", term("bob"))),
        ("user.name: bob", m("user.name", term("bob"))),
        ("f:-5", m("f", term("-5"))),
        ("f:a>b=c", m("f", term("a>b=c"))),
        ("f:and", m("f", term("and"))),
        ("and:x", m("and", term("x"))),
        ("not:x", m("not", term("x"))),
        ("not not:x", not(m("not", term("x")))),
        ("f:a[1]", m("f", term("a[1]"))),
        ("f:Ünïcödé", m("f", term("Ünïcödé"))),
        ("ключ:значение", m("ключ", term("значение"))),
    ]);
}

#[test]
fn quoted_phrases() {
    check(vec![
        (
            r#""access denied""#,
            Filter::Match {
                field: None,
                value: Pattern::Phrase("access denied".into()),
            },
        ),
        (r#"f:"a b""#, m("f", Pattern::Phrase("a b".into()))),
        (
            r#"f:"say \"hi\" \\ C:\Win""#,
            m("f", Pattern::Phrase(r#"say "hi" \ C:\Win"#.into())),
        ),
        (r#"f:"""#, m("f", Pattern::Phrase(String::new()))),
        (r#"f:"*""#, m("f", Pattern::Phrase("*".into()))),
        (r#"f:"a"b"#, and([m("f", Pattern::Phrase("a".into())), bare("b")])),
    ]);
}

#[test]
fn wildcards_and_exists() {
    check(vec![
        (
            "user.name:adm*",
            m("user.name", Pattern::Wildcard(vec![lit("adm"), WildPart::Any])),
        ),
        (
            "f:*a?b*",
            m(
                "f",
                Pattern::Wildcard(vec![
                    WildPart::Any,
                    lit("a"),
                    WildPart::One,
                    lit("b"),
                    WildPart::Any,
                ]),
            ),
        ),
        (
            "f:**",
            m("f", Pattern::Wildcard(vec![WildPart::Any, WildPart::Any])),
        ),
        (
            r"f:a\*b*",
            m("f", Pattern::Wildcard(vec![lit("a*b"), WildPart::Any])),
        ),
        (r"f:a\*b", m("f", term("a*b"))),
        (r"f:\*", m("f", term("*"))),
        (
            "ad?in",
            Filter::Match {
                field: None,
                value: Pattern::Wildcard(vec![lit("ad"), WildPart::One, lit("in")]),
            },
        ),
        ("f:*", exists("f")),
        ("f : *", exists("f")),
        ("_exists_:error.code", exists("error.code")),
        ("_exists_: error.code", exists("error.code")),
        (r"\*", bare("*")),
    ]);
}

#[test]
fn escapes() {
    check(vec![
        (r"user.name:a\ b", m("user.name", term("a b"))),
        (
            r"path:C\:\\Windows\\*",
            m(
                "path",
                Pattern::Wildcard(vec![lit(r"C:\Windows\"), WildPart::Any]),
            ),
        ),
        (r"f:\(x\)", m("f", term("(x)"))),
        (r"f:\[x", m("f", term("[x"))),
        (r"f:\/x", m("f", term("/x"))),
        (r"f:\@x", m("f", term("@x"))),
        (r"a\:b", bare("a:b")),
        (r"\and", bare("and")),
        (r"\not x", and([bare("not"), bare("x")])),
        (r"my\ field:x", m("my field", term("x"))),
        (r"\_exists_:x", m("_exists_", term("x"))),
        (r"\@x", bare("@x")),
    ]);
}

#[test]
fn comparisons() {
    check(vec![
        ("bytes >= 10", cmp("bytes", CompareOp::Ge, num(10.0))),
        ("bytes>=10", cmp("bytes", CompareOp::Ge, num(10.0))),
        ("bytes > 10", cmp("bytes", CompareOp::Gt, num(10.0))),
        ("bytes<1.5", cmp("bytes", CompareOp::Lt, num(1.5))),
        ("bytes <= -2e3", cmp("bytes", CompareOp::Le, num(-2000.0))),
        (
            "@timestamp >= 2024-05-01T00:00:00Z",
            cmp("@timestamp", CompareOp::Ge, text("2024-05-01T00:00:00Z")),
        ),
        (
            "source.ip < 10.0.0.1",
            cmp("source.ip", CompareOp::Lt, text("10.0.0.1")),
        ),
        (r#"f > "10""#, cmp("f", CompareOp::Gt, text("10"))),
        ("f > inf", cmp("f", CompareOp::Gt, text("inf"))),
        ("f > 1e999", cmp("f", CompareOp::Gt, text("1e999"))),
        ("f > abc", cmp("f", CompareOp::Gt, text("abc"))),
        (
            "not f > 1 and g < 2",
            and([
                not(cmp("f", CompareOp::Gt, num(1.0))),
                cmp("g", CompareOp::Lt, num(2.0)),
            ]),
        ),
        ("(f>1)", cmp("f", CompareOp::Gt, num(1.0))),
    ]);
}

#[test]
fn ranges() {
    check(vec![
        (
            "bytes:[100 TO 200]",
            range("bytes", Some((num(100.0), true)), Some((num(200.0), true))),
        ),
        (
            "bytes:{100 TO 200}",
            range("bytes", Some((num(100.0), false)), Some((num(200.0), false))),
        ),
        (
            "bytes:[100 to 200}",
            range("bytes", Some((num(100.0), true)), Some((num(200.0), false))),
        ),
        (
            "bytes:{100 TO 200]",
            range("bytes", Some((num(100.0), false)), Some((num(200.0), true))),
        ),
        ("bytes:[* TO 5]", range("bytes", None, Some((num(5.0), true)))),
        ("bytes:[5 TO *}", range("bytes", Some((num(5.0), true)), None)),
        ("bytes:[* TO *]", range("bytes", None, None)),
        (
            "bytes:[ 1  TO  2 ]",
            range("bytes", Some((num(1.0), true)), Some((num(2.0), true))),
        ),
        (
            "@timestamp:[2024-05-01T00:00:00Z TO 2024-05-02T00:00:00Z}",
            range(
                "@timestamp",
                Some((text("2024-05-01T00:00:00Z"), true)),
                Some((text("2024-05-02T00:00:00Z"), false)),
            ),
        ),
        (
            r#"f:["a b" TO "*"]"#,
            range("f", Some((text("a b"), true)), Some((text("*"), true))),
        ),
        (
            "f:[a TO b] c",
            and([
                range("f", Some((text("a"), true)), Some((text("b"), true))),
                bare("c"),
            ]),
        ),
    ]);
}

#[test]
fn cidrs_and_ips() {
    let net = |s: &str| Pattern::Cidr(s.parse().unwrap());
    check(vec![
        ("source.ip:10.0.0.0/8", m("source.ip", net("10.0.0.0/8"))),
        ("source.ip:2001:db8::/32", m("source.ip", net("2001:db8::/32"))),
        ("source.ip:2001:db8::1", m("source.ip", term("2001:db8::1"))),
        ("source.ip:10.1.2.3", m("source.ip", term("10.1.2.3"))),
        ("(source.ip:::1)", m("source.ip", term("::1"))),
        (
            "10.0.0.0/8",
            Filter::Match {
                field: None,
                value: net("10.0.0.0/8"),
            },
        ),
        (r"f:10.0.0.0\/8", m("f", term("10.0.0.0/8"))),
        ("f:a/b", m("f", term("a/b"))),
        ("f:10.0.0.0/33", m("f", term("10.0.0.0/33"))),
    ]);
}

#[test]
fn regexes() {
    let re = |s: &str| Pattern::Regex(s.into());
    check(vec![
        (
            r"process.name:/pow(er)?shell\.exe/",
            m("process.name", re(r"pow(er)?shell\.exe")),
        ),
        (r"f:/a\/b\d/", m("f", re(r"a/b\d"))),
        (r"f:/(?i)x/ g:y", and([m("f", re("(?i)x")), m("g", term("y"))])),
        ("(f:/x/)", m("f", re("x"))),
        (
            "/x y/",
            Filter::Match {
                field: None,
                value: re("x y"),
            },
        ),
    ]);
}

#[test]
fn context_lists() {
    check(vec![
        ("@office", list(None, "office")),
        ("source.ip:@office-ips", list(Some("source.ip"), "office-ips")),
        (
            "not user.name:@admins.v2",
            not(list(Some("user.name"), "admins.v2")),
        ),
        ("@timestamp:x", m("@timestamp", term("x"))),
        ("@timestamp >= 5", cmp("@timestamp", CompareOp::Ge, num(5.0))),
        (
            "@timestamp:[1 TO 2]",
            range("@timestamp", Some((num(1.0), true)), Some((num(2.0), true))),
        ),
        ("@a or @b", or([list(None, "a"), list(None, "b")])),
    ]);
}

#[test]
fn field_groups() {
    check(vec![
        (
            "event.action:(a or b)",
            or([m("event.action", term("a")), m("event.action", term("b"))]),
        ),
        ("f:(a b)", and([m("f", term("a")), m("f", term("b"))])),
        (
            "f:(a or not (b c*))",
            or([
                m("f", term("a")),
                not(and([
                    m("f", term("b")),
                    m("f", Pattern::Wildcard(vec![lit("c"), WildPart::Any])),
                ])),
            ]),
        ),
        (
            r#"f:("x y" or @l or * or [1 TO 2] or g:h)"#,
            or([
                m("f", Pattern::Phrase("x y".into())),
                list(Some("f"), "l"),
                exists("f"),
                range("f", Some((num(1.0), true)), Some((num(2.0), true))),
                m("f", term("g:h")),
            ]),
        ),
        (
            r#"f:("x y" @l [1 TO 2] g:h)"#,
            and([
                m("f", Pattern::Phrase("x y".into())),
                list(Some("f"), "l"),
                range("f", Some((num(1.0), true)), Some((num(2.0), true))),
                m("f", term("g:h")),
            ]),
        ),
        ("f:(*)", exists("f")),
    ]);
}

#[test]
fn errors_carry_columns() {
    let cases = [
        ("source.ip:", 11, "expected value after 'source.ip:'"),
        ("source.ip: ", 12, "expected value after 'source.ip:'"),
        ("(f:)", 4, "expected value after 'f:'"),
        ("a and b)", 8, "unexpected ')'"),
        ("(a or b))", 9, "unexpected ')'"),
        ("(a) )", 5, "unexpected ')'"),
        ("()", 2, "unexpected ')'"),
        ("(a", 1, "unclosed '('"),
        ("x (a or (b)", 3, "unclosed '('"),
        (r#"a "bc"#, 3, "unclosed quote starting"),
        (r#"f:"x"#, 3, "unclosed quote starting"),
        ("f:/ab", 3, "unclosed regex starting"),
        ("f:/a(/", 3, "invalid regex: unclosed group"),
        (
            "f:/etc/passwd",
            8,
            "unexpected text after regex (write a leading '/' of a value as '\\/')",
        ),
        ("bytes:[1 2]", 10, "expected 'TO' in range"),
        ("bytes:[1 TO 2", 14, "expected ']' or '}' to close range"),
        ("bytes:[1 TO 2 3]", 15, "expected ']' or '}' to close range"),
        ("bytes:[]", 8, "expected a range value"),
        ("bytes:[1 TO ]", 13, "expected a range value"),
        ("a and", 6, "unexpected end of input"),
        ("not", 4, "unexpected end of input"),
        ("a or or b", 6, "unexpected 'or'"),
        ("and a", 1, "unexpected 'and'"),
        ("a || && b", 6, "unexpected '&&'"),
        (":a", 1, "unexpected ':'"),
        ("a >", 4, "expected value after 'a >'"),
        ("a <= )", 6, "expected value after 'a <='"),
        ("user.*:x", 6, "wildcards are not allowed in field names"),
        ("a/b:x", 2, "unexpected '/' in field name"),
        ("_exists_:", 10, "expected field name after '_exists_:'"),
        ("_exists_:a*", 11, "wildcards are not allowed in field names"),
        (
            "@",
            1,
            "invalid context list name after '@' (escape a literal '@' as '\\@')",
        ),
        (
            "f:@a*",
            3,
            "invalid context list name after '@' (escape a literal '@' as '\\@')",
        ),
        (
            "x @a/b",
            3,
            "invalid context list name after '@' (escape a literal '@' as '\\@')",
        ),
        ("ab\\", 3, "nothing to escape after '\\'"),
        ("a >= 1 <", 8, "unexpected '<'"),
    ];
    for (input, column, message) in cases {
        let err = parse(input).expect_err(input);
        assert_eq!((err.column, err.message.as_str()), (column, message), "{input:?}");
    }
}

#[test]
fn columns_count_characters_not_bytes() {
    let err = parse("ü:é é:").unwrap_err();
    assert_eq!(err.column, 7);
}

#[test]
fn error_display_includes_column() {
    let err = parse("source.ip:").unwrap_err();
    assert_eq!(err.to_string(), "expected value after 'source.ip:' at column 11");
    let err = parse("f:/a(/").unwrap_err();
    assert!(err.to_string().starts_with("invalid regex: "), "{err}");
    assert!(err.to_string().ends_with(" at column 3"), "{err}");
}
