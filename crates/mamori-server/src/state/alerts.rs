//! Alerts: what rules raise, grouped so that one rule firing again and again
//! on the same entity (host, user, address) is one alert with a count, and
//! triaged new → acknowledged → closed (with a reason). Status changes are
//! audited.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Actor, StateDb, StateError, now};

/// Where an alert is in triage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Not looked at yet.
    New,
    /// Someone is on it.
    Acknowledged,
    /// Done (with a reason).
    Closed,
}

/// Why an alert was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    /// A real attack or policy violation.
    TruePositive,
    /// Real activity, but expected and harmless.
    Benign,
    /// The rule matched something it should not have.
    FalsePositive,
    /// Another alert covers it.
    Duplicate,
}

macro_rules! text_enum {
    ($t:ty, $($v:ident => $s:literal),+) => {
        impl $t {
            /// The name used in the API and the database.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = StateError;
            fn from_str(s: &str) -> Result<Self, StateError> {
                match s {
                    $($s => Ok(Self::$v),)+
                    _ => Err(StateError::Invalid {
                        what: format!("`{s}`"),
                        why: format!("use one of: {}", [$($s),+].join(", ")),
                    }),
                }
            }
        }
    };
}

text_enum!(AlertStatus, New => "new", Acknowledged => "acknowledged", Closed => "closed");
text_enum!(CloseReason, TruePositive => "true_positive", Benign => "benign", FalsePositive => "false_positive", Duplicate => "duplicate");

/// One rule firing on one event, ready to be grouped into an alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Detection {
    /// Tenant of the event.
    pub tenant: String,
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub rule_title: String,
    /// `informational`, `low`, `medium`, `high`, `critical`.
    pub level: String,
    /// ATT&CK tactics.
    pub tactics: Vec<String>,
    /// ATT&CK techniques.
    pub techniques: Vec<String>,
    /// What the alert is about (`host.name:web01`), grouping repeated detections.
    pub group_key: String,
    /// The event's id.
    pub event_id: String,
    /// The event's time.
    pub at: DateTime<Utc>,
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Alert {
    /// Number.
    pub id: i64,
    /// Tenant.
    pub tenant: String,
    /// Rule id.
    pub rule_id: String,
    /// Rule title.
    pub rule_title: String,
    /// Severity.
    pub level: String,
    /// ATT&CK tactics.
    pub tactics: Vec<String>,
    /// ATT&CK techniques.
    pub techniques: Vec<String>,
    /// What it is about (`host.name:web01`).
    pub group_key: String,
    /// First matching event's time.
    pub first_seen: String,
    /// Last matching event's time.
    pub last_seen: String,
    /// Matching events.
    pub count: u64,
    /// Ids of the matching events (the first 100).
    pub event_ids: Vec<String>,
    /// Triage status.
    pub status: AlertStatus,
    /// Who is on it.
    pub assignee: Option<String>,
    /// Why it was closed.
    pub close_reason: Option<CloseReason>,
    /// Last change.
    pub updated_at: String,
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    /// Only these tenants (empty: none).
    pub tenants: Vec<String>,
    /// Only this status.
    pub status: Option<AlertStatus>,
    /// Only this level.
    pub level: Option<String>,
    /// Only this rule.
    pub rule_id: Option<String>,
    /// Last seen at or after.
    pub from: Option<DateTime<Utc>>,
    /// Last seen before.
    pub to: Option<DateTime<Utc>>,
    /// At most.
    pub limit: usize,
}

/// Detections of the same rule on the same entity within this time of an open alert's last one join it.
pub const GROUP_WINDOW_HOURS: i64 = 24;
/// Event ids kept per alert.
const MAX_EVENT_IDS: usize = 100;

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

const COLUMNS: &str = "id, tenant, rule_id, rule_title, level, tactics, techniques, group_key, first_seen, last_seen, count, event_ids, status, assignee, close_reason, updated_at";

fn alert_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Alert> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        Ok(serde_json::from_str(&r.get::<_, String>(i)?).unwrap_or_default())
    };
    Ok(Alert {
        id: r.get(0)?,
        tenant: r.get(1)?,
        rule_id: r.get(2)?,
        rule_title: r.get(3)?,
        level: r.get(4)?,
        tactics: list(5)?,
        techniques: list(6)?,
        group_key: r.get(7)?,
        first_seen: r.get(8)?,
        last_seen: r.get(9)?,
        count: r.get::<_, i64>(10)?.max(0) as u64,
        event_ids: list(11)?,
        status: r.get::<_, String>(12)?.parse().unwrap_or(AlertStatus::New),
        assignee: r.get(13)?,
        close_reason: r.get::<_, Option<String>>(14)?.and_then(|s| s.parse().ok()),
        updated_at: r.get(15)?,
    })
}

impl StateDb {
    /// Record detections: each joins the open alert of its tenant, rule and
    /// group when that alert last fired within [`GROUP_WINDOW_HOURS`] (an
    /// event already counted is not counted again), else opens a new alert.
    /// Returns the ids of alerts opened.
    pub fn record_detections(&mut self, detections: &[Detection]) -> Result<Vec<i64>, StateError> {
        let tx = self.conn.transaction()?;
        let mut opened = Vec::new();
        for d in detections {
            // Statements prepared once per transaction: a batch holds thousands of detections.
            let open: Option<(i64, String, String, i64, String)> = tx
                .prepare_cached(
                    "SELECT id, first_seen, last_seen, count, event_ids FROM alerts
                     WHERE tenant = ?1 AND rule_id = ?2 AND group_key = ?3 AND status != 'closed'
                     ORDER BY last_seen DESC LIMIT 1",
                )?
                .query_row(params![d.tenant, d.rule_id, d.group_key], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let joinable = open.filter(|(_, _, last, _, _)| {
                mamori_model::time::parse_instant(last)
                    .is_some_and(|l| (d.at - l).abs() <= Duration::hours(GROUP_WINDOW_HOURS))
            });
            match joinable {
                Some((id, first, last, count, ids)) => {
                    let mut ids: Vec<String> = serde_json::from_str(&ids).unwrap_or_default();
                    if ids.contains(&d.event_id) {
                        continue;
                    }
                    if ids.len() < MAX_EVENT_IDS {
                        ids.push(d.event_id.clone());
                    }
                    let at = ts(d.at);
                    let first = if at < first { at.clone() } else { first };
                    let last = if at > last { at } else { last };
                    tx.prepare_cached(
                        "UPDATE alerts SET first_seen = ?2, last_seen = ?3, count = ?4, event_ids = ?5, updated_at = ?6 WHERE id = ?1",
                    )?
                    .execute(params![id, first, last, count + 1, json!(ids).to_string(), now()])?;
                }
                None => {
                    let at = ts(d.at);
                    tx.prepare_cached(
                        "INSERT INTO alerts (tenant, rule_id, rule_title, level, tactics, techniques, group_key,
                           first_seen, last_seen, count, event_ids, status, created_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9, 'new', ?10, ?10)",
                    )?
                    .execute(params![
                            d.tenant,
                            d.rule_id,
                            d.rule_title,
                            d.level,
                            json!(d.tactics).to_string(),
                            json!(d.techniques).to_string(),
                            d.group_key,
                            at,
                            json!([d.event_id]).to_string(),
                            now()
                        ])?;
                    opened.push(tx.last_insert_rowid());
                }
            }
        }
        tx.commit()?;
        Ok(opened)
    }

    /// Tenants that have alerts.
    pub fn alert_tenants(&self) -> Result<Vec<String>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT DISTINCT tenant FROM alerts ORDER BY tenant")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One alert.
    pub fn alert(&self, id: i64) -> Result<Option<Alert>, StateError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
                params![id],
                alert_from_row,
            )
            .optional()?)
    }

    /// Alerts matching `q`, most recently seen first.
    pub fn alerts(&self, q: &AlertQuery) -> Result<Vec<Alert>, StateError> {
        if q.tenants.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders = vec!["?"; q.tenants.len()].join(", ");
        let sql = format!(
            "SELECT {COLUMNS} FROM alerts WHERE tenant IN ({placeholders})
             AND (?{s} IS NULL OR status = ?{s}) AND (?{l} IS NULL OR level = ?{l})
             AND (?{r} IS NULL OR rule_id = ?{r}) AND (?{f} IS NULL OR last_seen >= ?{f})
             AND (?{t} IS NULL OR last_seen < ?{t})
             ORDER BY last_seen DESC, id DESC LIMIT ?{n}",
            s = q.tenants.len() + 1,
            l = q.tenants.len() + 2,
            r = q.tenants.len() + 3,
            f = q.tenants.len() + 4,
            t = q.tenants.len() + 5,
            n = q.tenants.len() + 6,
        );
        let mut args: Vec<Box<dyn rusqlite::ToSql>> = q
            .tenants
            .iter()
            .map(|t| Box::new(t.clone()) as Box<dyn rusqlite::ToSql>)
            .collect();
        args.push(Box::new(q.status.map(|s| s.as_str().to_string())));
        args.push(Box::new(q.level.clone()));
        args.push(Box::new(q.rule_id.clone()));
        args.push(Box::new(q.from.map(ts)));
        args.push(Box::new(q.to.map(ts)));
        args.push(Box::new(q.limit.max(1) as i64));
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(
            rusqlite::params_from_iter(args.iter().map(|b| b.as_ref())),
            alert_from_row,
        )?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Triage an alert: set its status (closing needs a reason) and assignee (audited).
    pub fn update_alert(
        &mut self,
        actor: &Actor,
        id: i64,
        status: Option<AlertStatus>,
        reason: Option<CloseReason>,
        assignee: Option<Option<String>>,
    ) -> Result<Alert, StateError> {
        let before = self
            .alert(id)?
            .ok_or_else(|| StateError::NotFound(format!("alert {id}")))?;
        let status = status.unwrap_or(before.status);
        if status == AlertStatus::Closed && reason.or(before.close_reason).is_none() {
            return Err(StateError::Invalid {
                what: format!("closing alert {id}"),
                why: "give a reason: true_positive, benign, false_positive or duplicate".into(),
            });
        }
        let reason = if status == AlertStatus::Closed {
            reason.or(before.close_reason)
        } else {
            None
        };
        let assignee = assignee.unwrap_or_else(|| before.assignee.clone());
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE alerts SET status = ?2, close_reason = ?3, assignee = ?4, updated_at = ?5 WHERE id = ?1",
            params![
                id,
                status.as_str(),
                reason.map(CloseReason::as_str),
                assignee,
                now()
            ],
        )?;
        let view = |s: AlertStatus, r: Option<CloseReason>, a: &Option<String>| json!({"status": s, "close_reason": r, "assignee": a});
        Self::audit(
            &tx,
            actor,
            "alert.update",
            &format!("{}/alert/{id}", before.tenant),
            view(before.status, before.close_reason, &before.assignee),
            view(status, reason, &assignee),
        )?;
        tx.commit()?;
        self.alert(id)?
            .ok_or_else(|| StateError::NotFound(format!("alert {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det(event: &str, hours: i64, group: &str) -> Detection {
        Detection {
            tenant: "acme".into(),
            rule_id: "r1".into(),
            rule_title: "Trail stopped".into(),
            level: "high".into(),
            tactics: vec!["defense-evasion".into()],
            techniques: vec!["T1562.008".into()],
            group_key: group.into(),
            event_id: event.into(),
            at: DateTime::parse_from_rfc3339("2026-11-20T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc)
                + Duration::hours(hours),
        }
    }

    fn actor() -> Actor {
        Actor {
            name: "ana".into(),
            origin: "test".into(),
        }
    }

    #[test]
    fn detections_group_into_alerts_and_are_counted_once() {
        let mut db = StateDb::in_memory().unwrap();
        let opened = db
            .record_detections(&[
                det("e1", 0, "user.name:bob"),
                det("e2", 1, "user.name:bob"),
                det("e1", 0, "user.name:bob"),
            ])
            .unwrap();
        assert_eq!(opened.len(), 1);
        let a = db.alert(opened[0]).unwrap().unwrap();
        assert_eq!((a.count, a.event_ids.len()), (2, 2));
        assert_eq!(a.status, AlertStatus::New);
        // another entity, and the same entity much later: new alerts
        let more = db
            .record_detections(&[det("e3", 1, "user.name:eve"), det("e4", 100, "user.name:bob")])
            .unwrap();
        assert_eq!(more.len(), 2);
        let q = AlertQuery {
            tenants: vec!["acme".into()],
            limit: 10,
            ..AlertQuery::default()
        };
        assert_eq!(db.alerts(&q).unwrap().len(), 3);
        let none = AlertQuery {
            tenants: vec!["globex".into()],
            limit: 10,
            ..AlertQuery::default()
        };
        assert!(db.alerts(&none).unwrap().is_empty());
    }

    #[test]
    fn closing_needs_a_reason_and_is_audited() {
        let mut db = StateDb::in_memory().unwrap();
        let id = db.record_detections(&[det("e1", 0, "g")]).unwrap()[0];
        assert!(
            db.update_alert(&actor(), id, Some(AlertStatus::Closed), None, None)
                .is_err()
        );
        db.update_alert(
            &actor(),
            id,
            Some(AlertStatus::Acknowledged),
            None,
            Some(Some("ana".into())),
        )
        .unwrap();
        let a = db
            .update_alert(
                &actor(),
                id,
                Some(AlertStatus::Closed),
                Some(CloseReason::FalsePositive),
                None,
            )
            .unwrap();
        assert_eq!(a.close_reason, Some(CloseReason::FalsePositive));
        assert_eq!(a.assignee.as_deref(), Some("ana"));
        let log = db.audit_log(Some("acme"), 10).unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].after["status"], "closed");
        // a closed alert does not absorb new detections
        let again = db.record_detections(&[det("e9", 1, "g")]).unwrap();
        assert_eq!(again.len(), 1);
    }
}
