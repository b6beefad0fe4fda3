//! Reading times out of records.

use chrono::{DateTime, Datelike, Utc};
use serde_json::Value;

/// Epoch numbers above this are milliseconds, below it seconds
/// (1e11 seconds is the year 5138; 1e11 milliseconds is 1973).
const MILLIS_ABOVE: f64 = 1e11;

/// An RFC 3339 time, converted to UTC.
pub(crate) fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(in_range)
}

/// A time from a JSON value: an RFC 3339 string, or epoch seconds or
/// milliseconds (numbers above 1e11 are milliseconds), as a number or a
/// string of digits.
pub(crate) fn from_value(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::String(s) => rfc3339(s).or_else(|| s.trim().parse::<f64>().ok().and_then(epoch)),
        Value::Number(n) => n.as_f64().and_then(epoch),
        _ => None,
    }
}

fn epoch(x: f64) -> Option<DateTime<Utc>> {
    if !x.is_finite() {
        return None;
    }
    let micros = if x.abs() > MILLIS_ABOVE { x * 1e3 } else { x * 1e6 };
    // Years 1..=9999 lie well inside ±3e17 µs; the cast below cannot saturate.
    if micros.abs() > 3e17 {
        return None;
    }
    DateTime::from_timestamp_micros(micros.round() as i64).filter(in_range)
}

fn in_range(t: &DateTime<Utc>) -> bool {
    (1..=9999).contains(&t.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rfc3339_to_utc() {
        let t = rfc3339("2024-05-01T12:00:00+02:00").unwrap();
        assert_eq!(t.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        assert!(rfc3339("yesterday").is_none());
    }

    #[test]
    fn epoch_seconds_and_millis() {
        let s = from_value(&json!(1714557600)).unwrap();
        let ms = from_value(&json!(1714557600123u64)).unwrap();
        assert_eq!(s.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        assert_eq!(ms.timestamp_millis(), 1714557600123);
        assert_eq!(
            from_value(&json!(1714557600.5)).unwrap().timestamp_millis(),
            1714557600500
        );
        assert_eq!(from_value(&json!("1714557600")), Some(s));
        assert!(from_value(&json!(1e300)).is_none());
        assert!(from_value(&json!(true)).is_none());
    }
}
