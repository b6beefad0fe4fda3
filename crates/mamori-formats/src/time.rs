//! Reading times out of records.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use serde_json::Value;

/// Epoch numbers above this are milliseconds, below it seconds
/// (1e11 seconds is the year 5138; 1e11 milliseconds is 1973).
const MILLIS_ABOVE: f64 = 1e11;

/// An RFC 3339 time, converted to UTC.
pub(crate) fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    rfc3339_fast(s, false)
        .or_else(|| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .filter(in_range)
}

/// [`rfc3339`] for the usual shape, `YYYY-MM-DDTHH:MM:SS[.f]` and `Z` or
/// `±hh:mm` exactly (1 to 9 digits of fraction, no leap second); `None` for
/// anything else, which chrono then reads. With `hhmm`, the offset is
/// `±hhmm` instead (what chrono's `%Y-%m-%dT%H:%M:%S%.f%z` reads, and RFC
/// 3339 does not allow), and `Z` is not accepted.
pub(crate) fn rfc3339_fast(s: &str, hhmm: bool) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let mut at = 19;
    let mut nanos = 0;
    if b[at] == b'.' {
        let digits = b[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&digits) {
            return None;
        }
        nanos = num(at + 1, at + 1 + digits)? * 10u32.pow(9 - digits as u32);
        at += 1 + digits;
    }
    let offset = match &b[at..] {
        [b'Z'] if !hhmm => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] | [sign @ (b'+' | b'-'), _, _, _, _]
            if hhmm == (b.len() - at == 5) =>
        {
            let minutes = if hhmm { at + 3 } else { at + 4 };
            let (h, m) = (num(at + 1, at + 3)?, num(minutes, minutes + 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let secs = (h * 3600 + m * 60) as i32;
            if *sign == b'-' { -secs } else { secs }
        }
        _ => return None,
    };
    if second > 59 {
        return None;
    }
    let naive =
        NaiveDate::from_ymd_opt(year as i32, month, day)?.and_hms_nano_opt(hour, minute, second, nanos)?;
    let offset = FixedOffset::east_opt(offset)?;
    Some(naive.and_local_timezone(offset).single()?.with_timezone(&Utc))
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

/// Test inputs: 200,000 variants of `base`, each with one to three characters
/// of `special` replaced, removed or inserted at pseudo-random places
/// (xorshift from `seed`, so every run checks the same inputs).
#[cfg(test)]
pub(crate) fn mutations(base: &[&str], special: &[u8], mut seed: u64, mut check: impl FnMut(&str)) {
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..200_000 {
        let mut s = base[(next() % base.len() as u64) as usize].as_bytes().to_vec();
        for _ in 0..1 + next() % 3 {
            let at = (next() % (s.len() as u64 + 1)) as usize;
            let c = special[(next() % special.len() as u64) as usize];
            match next() % 3 {
                0 if at < s.len() => s[at] = c,
                1 if at < s.len() => {
                    s.remove(at);
                }
                _ => s.insert(at, c),
            }
        }
        // Mutations are ASCII at ASCII positions of ASCII bases.
        if let Ok(s) = String::from_utf8(s) {
            check(&s);
        }
    }
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

    /// The fast reading agrees with chrono's on every input it accepts, and
    /// accepts the usual shapes.
    #[test]
    fn rfc3339_fast_path_agrees_with_chrono() {
        let chrono = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        let base = [
            "2024-05-01T12:00:00+02:00",
            "2024-05-01T12:00:00Z",
            "2019-03-19T23:34:25.312948Z",
            "2019-03-19T23:34:25.3129481Z",
            "2019-03-19T23:34:25.123456789-11:30",
            "2016-12-31T23:59:60Z",
            "2024-02-29T00:00:00.5+23:59",
            "0001-01-01T00:00:00Z",
        ];
        for s in base {
            assert!(rfc3339_fast(s, false).is_some() || s.contains(":60"), "{s}");
        }
        mutations(&base, b"0123456789-+:TtZz. x", 0x9e37_79b9_7f4a_7c15u64, |s| {
            if let Some(t) = rfc3339_fast(s, false) {
                assert_eq!(Some(t), chrono(s), "{s}");
            }
        });
    }

    /// With `hhmm`, the fast reading agrees with chrono's
    /// `%Y-%m-%dT%H:%M:%S%.f%z` (no year range check, as there), and chrono's
    /// RFC 3339 reading rejects what it accepts, so trying it first changes
    /// nothing.
    #[test]
    fn hhmm_fast_path_agrees_with_chrono() {
        let chrono = |s: &str| {
            DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        let base = [
            "2019-11-14T16:01:32.658982+0000",
            "2019-11-14T16:01:32-0700",
            "0000-01-01T00:00:00.1+2359",
            "2024-02-29T23:59:59.123456789-1130",
        ];
        for s in base {
            assert!(rfc3339_fast(s, true).is_some(), "{s}");
            assert_eq!(rfc3339_fast(s, true), chrono(s), "{s}");
            assert!(DateTime::parse_from_rfc3339(s).is_err(), "{s}");
        }
        mutations(&base, b"0123456789-+:TtZz. x", 0x51_7cc1_b727_220au64, |s| {
            if let Some(t) = rfc3339_fast(s, true) {
                assert_eq!(Some(t), chrono(s), "{s}");
                assert!(DateTime::parse_from_rfc3339(s).is_err(), "{s}");
            }
        });
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
