//! Time ranges as analysts type them: `-24h`, `-7d`, `now`, or RFC 3339.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A bad time expression.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    /// Neither relative (`-15m`, `-24h`, `-7d`, `-2w`, `now`) nor RFC 3339.
    #[error(
        "cannot read time `{0}`: use now, a relative time such as -15m, -24h, -7d, or RFC 3339 such as 2024-05-01T10:00:00Z"
    )]
    Unreadable(String),
    /// `from` is after `to`.
    #[error("time range starts ({from}) after it ends ({to})")]
    Inverted {
        /// Start.
        from: String,
        /// End.
        to: String,
    },
}

/// A half-open time range `[from, to)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub to: DateTime<Utc>,
}

impl TimeRange {
    /// Every representable time (for "all time" queries).
    pub fn all() -> Self {
        TimeRange {
            from: DateTime::<Utc>::MIN_UTC,
            to: DateTime::<Utc>::MAX_UTC,
        }
    }

    /// Parse `from` and `to` relative to `now`.
    pub fn parse(from: &str, to: &str, now: DateTime<Utc>) -> Result<Self, TimeError> {
        let from_t = parse_time(from, now)?;
        let to_t = parse_time(to, now)?;
        if from_t > to_t {
            return Err(TimeError::Inverted {
                from: from.into(),
                to: to.into(),
            });
        }
        Ok(TimeRange {
            from: from_t,
            to: to_t,
        })
    }

    /// Whether `t` is inside the range.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t < self.to
    }
}

/// Parse one time: `now`, `-<n><unit>` with unit s, m, h, d, w, an RFC 3339
/// time, or a date (`2024-05-01`, midnight UTC).
pub fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, TimeError> {
    let t = text.trim();
    let bad = || TimeError::Unreadable(text.to_string());
    if t.eq_ignore_ascii_case("now") {
        return Ok(now);
    }
    if let Some(rel) = t.strip_prefix("now").map(str::trim).or(Some(t))
        && let Some(rest) = rel.strip_prefix('-')
        && let Some(unit) = rest.chars().last()
        && let Ok(n) = rest[..rest.len() - unit.len_utf8()].parse::<i64>()
    {
        let d = match unit {
            's' => Duration::try_seconds(n),
            'm' => Duration::try_minutes(n),
            'h' => Duration::try_hours(n),
            'd' => Duration::try_days(n),
            'w' => Duration::try_weeks(n),
            _ => None,
        }
        .ok_or_else(bad)?;
        return now.checked_sub_signed(d).ok_or_else(bad);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).ok_or_else(bad)?.and_utc());
    }
    Err(bad())
}

/// An instant written as RFC 3339, or a `YYYY-MM-DD` date (midnight UTC):
/// how filter values name a point in time.
pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|d| d.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2024-05-10T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn relative_and_absolute() {
        assert_eq!(parse_time("now", now()).unwrap(), now());
        assert_eq!(
            parse_time("-24h", now()).unwrap(),
            "2024-05-09T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("now-7d", now()).unwrap(),
            "2024-05-03T12:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("-15m", now()).unwrap(),
            "2024-05-10T11:45:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("2024-05-01T10:00:00+02:00", now()).unwrap(),
            "2024-05-01T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_time("2024-05-01", now()).unwrap(),
            "2024-05-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_time("yesterday", now()),
            Err(TimeError::Unreadable(_))
        ));
        assert!(matches!(parse_time("-5y", now()), Err(TimeError::Unreadable(_))));
        assert!(matches!(
            TimeRange::parse("now", "-1h", now()),
            Err(TimeError::Inverted { .. })
        ));
    }
}
