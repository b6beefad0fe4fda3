//! Scheduled rules: a filter counted over a sliding window on a cron
//! schedule, per tenant, optionally per value of a field, raising an alert
//! when the count reaches a threshold (brute force: 20 failed logons from one
//! address in 10 minutes).

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Actor, StateDb, StateError, check_name, now};

/// A scheduled rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScheduledRule {
    /// Name (letters, digits, `_`, `-`, `.`); its alerts carry rule id `scheduled:<name>`.
    pub name: String,
    /// Title shown on alerts.
    pub title: String,
    /// Tenants (`["*"]`: all).
    pub tenants: Vec<String>,
    /// Filter counted.
    pub query: String,
    /// Window counted, in seconds (60 s to 30 days).
    pub window_secs: i64,
    /// Count per value of this field (none: one count per tenant).
    #[serde(default)]
    pub group_by: Option<String>,
    /// Alert when the count reaches this.
    pub threshold: u64,
    /// Cron schedule (`*/5 * * * *`).
    pub schedule: String,
    /// Severity of its alerts.
    pub level: String,
    /// Tags (ATT&CK as `attack.t1110`).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether it runs.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Owner (set by the server).
    #[serde(default)]
    pub owner: String,
    /// Last run (set by the server).
    #[serde(default)]
    pub last_run: Option<String>,
    /// Next run (set by the server).
    #[serde(default)]
    pub next_run: Option<String>,
}

fn yes() -> bool {
    true
}

const LEVELS: [&str; 5] = ["informational", "low", "medium", "high", "critical"];

/// The next time `schedule` fires after `after`.
pub fn next_run(schedule: &str, after: DateTime<Utc>) -> Result<DateTime<Utc>, StateError> {
    let cron = croner::Cron::from_str(schedule).map_err(|e| StateError::Invalid {
        what: format!("schedule `{schedule}`"),
        why: e.to_string(),
    })?;
    cron.find_next_occurrence(&after, false)
        .map_err(|e| StateError::Invalid {
            what: format!("schedule `{schedule}`"),
            why: e.to_string(),
        })
}

fn invalid(what: &str, why: impl Into<String>) -> StateError {
    StateError::Invalid {
        what: what.into(),
        why: why.into(),
    }
}

impl ScheduledRule {
    /// Check every field.
    pub fn validate(&self) -> Result<(), StateError> {
        check_name("scheduled rule", &self.name)?;
        mamori_model::filter::parse(&self.query).map_err(|e| invalid("query", e.to_string()))?;
        if !(60..=30 * 86_400).contains(&self.window_secs) {
            return Err(invalid("window_secs", "between 60 seconds and 30 days"));
        }
        if self.threshold == 0 {
            return Err(invalid("threshold", "at least 1"));
        }
        if !LEVELS.contains(&self.level.as_str()) {
            return Err(invalid("level", format!("one of {}", LEVELS.join(", "))));
        }
        if self.tenants.is_empty() || self.title.trim().is_empty() {
            return Err(invalid("scheduled rule", "give a title and tenants (or `*`)"));
        }
        next_run(&self.schedule, Utc::now())?;
        Ok(())
    }
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ScheduledRule> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        Ok(serde_json::from_str(&r.get::<_, String>(i)?).unwrap_or_default())
    };
    Ok(ScheduledRule {
        name: r.get(0)?,
        title: r.get(1)?,
        tenants: list(2)?,
        query: r.get(3)?,
        window_secs: r.get(4)?,
        group_by: r.get(5)?,
        threshold: r.get::<_, i64>(6)?.max(0) as u64,
        schedule: r.get(7)?,
        level: r.get(8)?,
        tags: list(9)?,
        enabled: r.get(10)?,
        owner: r.get(11)?,
        last_run: r.get(12)?,
        next_run: r.get(13)?,
    })
}

const COLUMNS: &str = "name, title, tenants, query, window_secs, group_by, threshold, schedule, level, tags, enabled, owner, last_run, next_run";

impl StateDb {
    /// Create or replace a scheduled rule (audited).
    pub fn save_scheduled_rule(
        &mut self,
        actor: &Actor,
        rule: &ScheduledRule,
    ) -> Result<ScheduledRule, StateError> {
        rule.validate()?;
        let before = self.scheduled_rule(&rule.name)?;
        let next = next_run(&rule.schedule, Utc::now())?.to_rfc3339();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO scheduled_rules (name, title, tenants, query, window_secs, group_by, threshold, schedule,
               level, tags, enabled, owner, next_run, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (name) DO UPDATE SET title = ?2, tenants = ?3, query = ?4, window_secs = ?5, group_by = ?6,
               threshold = ?7, schedule = ?8, level = ?9, tags = ?10, enabled = ?11, owner = ?12, next_run = ?13, updated_at = ?14",
            params![
                rule.name,
                rule.title,
                json!(rule.tenants).to_string(),
                rule.query,
                rule.window_secs,
                rule.group_by,
                rule.threshold as i64,
                rule.schedule,
                rule.level,
                json!(rule.tags).to_string(),
                rule.enabled,
                actor.name,
                next,
                now()
            ],
        )?;
        let as_json = |r: &ScheduledRule| serde_json::to_value(r).unwrap_or(Value::Null);
        Self::audit(
            &tx,
            actor,
            "scheduled_rule.set",
            &format!("scheduled_rule/{}", rule.name),
            before.as_ref().map_or(Value::Null, as_json),
            as_json(rule),
        )?;
        tx.commit()?;
        self.scheduled_rule(&rule.name)?
            .ok_or_else(|| StateError::NotFound(format!("scheduled rule {}", rule.name)))
    }

    /// One scheduled rule.
    pub fn scheduled_rule(&self, name: &str) -> Result<Option<ScheduledRule>, StateError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM scheduled_rules WHERE name = ?1"),
                params![name],
                from_row,
            )
            .optional()?)
    }

    /// Every scheduled rule.
    pub fn scheduled_rules(&self) -> Result<Vec<ScheduledRule>, StateError> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM scheduled_rules ORDER BY name"))?;
        let rows = st.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Delete a scheduled rule (audited).
    pub fn delete_scheduled_rule(&mut self, actor: &Actor, name: &str) -> Result<(), StateError> {
        let before = self
            .scheduled_rule(name)?
            .ok_or_else(|| StateError::NotFound(format!("scheduled rule {name}")))?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM scheduled_rules WHERE name = ?1", params![name])?;
        Self::audit(
            &tx,
            actor,
            "scheduled_rule.delete",
            &format!("scheduled_rule/{name}"),
            serde_json::to_value(&before).unwrap_or(Value::Null),
            Value::Null,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Record a run and when the next one is due.
    pub fn mark_scheduled_run(
        &mut self,
        name: &str,
        ran: DateTime<Utc>,
        next: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "UPDATE scheduled_rules SET last_run = ?2, next_run = ?3 WHERE name = ?1",
            params![name, ran.to_rfc3339(), next.to_rfc3339()],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn brute_force() -> ScheduledRule {
        ScheduledRule {
            name: "vpn-brute-force".into(),
            title: "VPN brute force".into(),
            tenants: vec!["*".into()],
            query: "event.action:logon-failed".into(),
            window_secs: 600,
            group_by: Some("source.ip".into()),
            threshold: 20,
            schedule: "*/5 * * * *".into(),
            level: "high".into(),
            tags: vec!["attack.t1110".into()],
            enabled: true,
            owner: String::new(),
            last_run: None,
            next_run: None,
        }
    }

    #[test]
    fn scheduled_rules_are_validated_saved_and_audited() {
        let mut db = StateDb::in_memory().unwrap();
        let actor = Actor {
            name: "ana".into(),
            origin: "t".into(),
        };
        let saved = db.save_scheduled_rule(&actor, &brute_force()).unwrap();
        assert_eq!(saved.owner, "ana");
        assert!(saved.next_run.is_some());
        for bad in [
            ScheduledRule {
                schedule: "every minute".into(),
                ..brute_force()
            },
            ScheduledRule {
                query: "a:(".into(),
                ..brute_force()
            },
            ScheduledRule {
                window_secs: 5,
                ..brute_force()
            },
            ScheduledRule {
                level: "urgent".into(),
                ..brute_force()
            },
            ScheduledRule {
                threshold: 0,
                ..brute_force()
            },
        ] {
            assert!(db.save_scheduled_rule(&actor, &bad).is_err(), "{bad:?}");
        }
        db.delete_scheduled_rule(&actor, "vpn-brute-force").unwrap();
        assert_eq!(db.audit_log(Some("scheduled_rule"), 10).unwrap().len(), 2);
    }
}
