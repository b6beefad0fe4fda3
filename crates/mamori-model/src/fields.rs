//! What Mamori knows of ECS field types, shared by the evaluator and the stores.
//!
//! | kind      | fields                                                        | `field:value` means |
//! |-----------|---------------------------------------------------------------|---------------------|
//! | `Date`    | `@timestamp`, `event.created`, `event.ingested`, `event.start`, `event.end` | same instant |
//! | `Ip`      | see [`IP_FIELDS`]                                             | same address, or inside a CIDR |
//! | `Text`    | see [`TEXT_FIELDS`]                                           | contains the word (tokens), phrase for quoted |
//! | `Keyword` | everything else                                               | whole value equal, case-insensitive |
//!
//! Numbers and booleans in documents are matched by value whatever the kind.

/// How a field's values are matched and indexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A whole-value string (case-insensitive equality, wildcards over the whole value).
    Keyword,
    /// Free text, matched by words.
    Text,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A point in time.
    Date,
}

/// Fields holding IP addresses; the stores index these as IPs so CIDR and
/// ranges are fast.
pub const IP_FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "client.ip",
    "server.ip",
    "host.ip",
    "related.ip",
    "source.nat.ip",
    "destination.nat.ip",
];

/// Fields holding free text.
pub const TEXT_FIELDS: &[&str] = &["message", "error.message", "event.original", "file.path.text"];

/// Fields holding times.
pub const DATE_FIELDS: &[&str] = &[
    "@timestamp",
    "event.created",
    "event.ingested",
    "event.start",
    "event.end",
];

/// The kind of a field by its ECS name.
pub fn kind_of(field: &str) -> FieldKind {
    if IP_FIELDS.contains(&field) {
        FieldKind::Ip
    } else if TEXT_FIELDS.contains(&field) {
        FieldKind::Text
    } else if DATE_FIELDS.contains(&field) {
        FieldKind::Date
    } else {
        FieldKind::Keyword
    }
}

/// Split free text into lower-case words: runs of letters, digits and `_`.
/// The same rule serves the in-memory evaluator and the stores' text index.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(lowercase)
}

/// Lower-case character by character: the one case rule of the evaluator
/// and of every store's keyword index.
pub fn lowercase(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

/// The number a string spells (`"404"`, `"-1.5"`), if it is one. Numeric
/// comparisons use this for string values, so `"404"` and `404` compare alike.
pub fn number_of_str(s: &str) -> Option<f64> {
    let cheap = matches!(s.as_bytes().first(), Some(b'0'..=b'9' | b'-' | b'+' | b'.')) && s.len() < 40;
    if !cheap {
        return None;
    }
    s.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The number a JSON value holds: a number, or a string that spells one.
pub fn number_of(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => number_of_str(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(kind_of("source.ip"), FieldKind::Ip);
        assert_eq!(kind_of("message"), FieldKind::Text);
        assert_eq!(kind_of("@timestamp"), FieldKind::Date);
        assert_eq!(kind_of("user.name"), FieldKind::Keyword);
    }

    #[test]
    fn numbers_of_strings() {
        assert_eq!(number_of_str("404"), Some(404.0));
        assert_eq!(number_of_str("-1.5"), Some(-1.5));
        assert_eq!(number_of_str("abc"), None);
        assert_eq!(number_of_str("inf"), None);
        assert_eq!(number_of_str("1e999"), None);
    }

    #[test]
    fn words_split_and_lowercase() {
        let w: Vec<_> = words("Access DENIED: user=bob_1 (x.y)").collect();
        assert_eq!(w, ["access", "denied", "user", "bob_1", "x", "y"]);
    }
}
