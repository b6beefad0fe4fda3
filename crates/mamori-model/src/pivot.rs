//! Pivots: from one event, the searches an analyst runs next — the same
//! access key, source IP, user, instance or host within ±N minutes.

use chrono::Duration;

use crate::filter::{Filter, Pattern};
use crate::{Event, TimeRange};

/// One pivot: a name, its filter and its time window.
#[derive(Debug, Clone, PartialEq)]
pub struct Pivot {
    /// What is shared (`same access key`).
    pub name: &'static str,
    /// The field pivoted on.
    pub field: &'static str,
    /// The value.
    pub value: String,
    /// The filter selecting events with that value.
    pub filter: Filter,
    /// `[t - window, t + window)` around the event.
    pub range: TimeRange,
}

/// Fields to pivot on, in the order analysts use them.
pub const PIVOT_FIELDS: &[(&str, &str)] = &[
    ("same access key", "aws.cloudtrail.user_identity.access_key_id"),
    (
        "same access key",
        "aws.guardduty.resource.access_key_details.access_key_id",
    ),
    ("same source IP", "source.ip"),
    ("same user", "user.name"),
    ("same instance", "cloud.instance.id"),
    ("same host", "host.name"),
    ("same process", "process.entity_id"),
];

/// The pivots an event allows, each within ±`window` of its time.
pub fn pivots(ev: &Event, window: Duration) -> Vec<Pivot> {
    let t = ev.timestamp();
    let range = TimeRange {
        from: t - window,
        to: t + window,
    };
    let mut out: Vec<Pivot> = Vec::new();
    for (name, field) in PIVOT_FIELDS {
        let Some(value) = ev.get_str(field).filter(|v| !v.is_empty() && *v != "-") else {
            continue;
        };
        if out.iter().any(|p| p.name == *name) {
            continue;
        }
        out.push(Pivot {
            name,
            field,
            value: value.to_string(),
            filter: Filter::Match {
                field: Some((*field).to_string()),
                value: Pattern::Phrase(value.to_string()),
            },
            range,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pivots_from_a_cloudtrail_event() {
        let t = "2024-05-01T10:00:00Z".parse().unwrap();
        let mut ev = Event::new("acme", t, "x");
        ev.set("aws.cloudtrail.user_identity.access_key_id", json!("AKIAEXAMPLE"));
        ev.set("source.ip", json!("198.51.100.7"));
        ev.set("user.name", json!("bob"));
        let p = pivots(&ev, Duration::hours(1));
        let names: Vec<&str> = p.iter().map(|p| p.name).collect();
        assert_eq!(names, ["same access key", "same source IP", "same user"]);
        assert_eq!(
            p[0].filter.to_string(),
            r#"aws.cloudtrail.user_identity.access_key_id:"AKIAEXAMPLE""#
        );
        assert!(p[0].filter.matches(&ev));
        assert_eq!(p[1].range.from, t - Duration::hours(1));
        assert_eq!(p[1].range.to, t + Duration::hours(1));
    }

    #[test]
    fn missing_and_placeholder_values_give_no_pivot() {
        let t = "2024-05-01T10:00:00Z".parse().unwrap();
        let mut ev = Event::new("acme", t, "x");
        ev.set("source.ip", json!("-"));
        assert!(pivots(&ev, Duration::minutes(5)).is_empty());
    }
}
