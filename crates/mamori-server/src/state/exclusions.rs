//! Exclusions: governed holes in detection. An exclusion is a filter scoped
//! to tenants and rules that suppresses their detections (events are never
//! deleted). It has an owner, a reason, a risk note and a mandatory expiry,
//! and applies only once a second user has approved it; expired ones stop
//! applying and stay listed. Every change is audited; hits are counted.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::{Actor, StateDb, StateError, now};

/// An exclusion as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Exclusion {
    /// Number.
    pub id: i64,
    /// Tenants it covers (`["*"]`: all).
    pub tenants: Vec<String>,
    /// Rule ids it covers (`["*"]`: all).
    pub rules: Vec<String>,
    /// Filter selecting the events whose detections it suppresses.
    pub filter: String,
    /// Who proposed it and answers for it.
    pub owner: String,
    /// Why it is needed.
    pub reason: String,
    /// What could be missed because of it.
    pub risk: String,
    /// When it stops applying (RFC 3339).
    pub expires_at: String,
    /// Who approved it (never the owner).
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<String>,
    /// Revoked exclusions never apply again.
    pub revoked: bool,
    /// Detections suppressed so far.
    pub hits: u64,
    /// `proposed`, `active`, `expired` or `revoked` (computed now).
    pub state: String,
    /// When proposed.
    pub created_at: String,
}

impl Exclusion {
    /// Whether it covers detections of `rule` in `tenant`.
    pub fn covers(&self, tenant: &str, rule: &str) -> bool {
        let any = |l: &[String], x: &str| l.iter().any(|v| v == "*" || v == x);
        any(&self.tenants, tenant) && any(&self.rules, rule)
    }
}

const COLUMNS: &str = "id, tenants, rules, filter, owner, reason, risk, expires_at, approved_by, approved_at, revoked, hits, created_at";

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Exclusion> {
    let list = |i: usize| -> rusqlite::Result<Vec<String>> {
        Ok(serde_json::from_str(&r.get::<_, String>(i)?).unwrap_or_default())
    };
    let expires_at: String = r.get(7)?;
    let approved_by: Option<String> = r.get(8)?;
    let revoked: bool = r.get(10)?;
    let expired = mamori_model::time::parse_instant(&expires_at).is_none_or(|t| t <= Utc::now());
    let state = match (revoked, expired, approved_by.is_some()) {
        (true, _, _) => "revoked",
        (false, true, _) => "expired",
        (false, false, true) => "active",
        (false, false, false) => "proposed",
    };
    Ok(Exclusion {
        id: r.get(0)?,
        tenants: list(1)?,
        rules: list(2)?,
        filter: r.get(3)?,
        owner: r.get(4)?,
        reason: r.get(5)?,
        risk: r.get(6)?,
        expires_at,
        approved_by,
        approved_at: r.get(9)?,
        revoked,
        hits: r.get::<_, i64>(11)?.max(0) as u64,
        state: state.into(),
        created_at: r.get(12)?,
    })
}

fn view(e: &Exclusion) -> Value {
    json!({"tenants": e.tenants, "rules": e.rules, "filter": e.filter, "reason": e.reason, "risk": e.risk,
           "expires_at": e.expires_at, "approved_by": e.approved_by, "revoked": e.revoked})
}

fn invalid(what: &str, why: impl Into<String>) -> StateError {
    StateError::Invalid {
        what: what.into(),
        why: why.into(),
    }
}

/// The longest an exclusion may last.
pub const MAX_DAYS: i64 = 365;

impl StateDb {
    /// Propose an exclusion (it applies only once another user approves it).
    #[allow(clippy::too_many_arguments)]
    pub fn propose_exclusion(
        &mut self,
        actor: &Actor,
        tenants: &[String],
        rules: &[String],
        filter: &str,
        reason: &str,
        risk: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<Exclusion, StateError> {
        let parsed =
            mamori_model::filter::parse(filter).map_err(|e| invalid("exclusion filter", e.to_string()))?;
        if parsed == mamori_model::Filter::All {
            return Err(invalid(
                "exclusion filter",
                "an empty filter would hide every detection; narrow it",
            ));
        }
        if tenants.is_empty() || rules.is_empty() {
            return Err(invalid(
                "exclusion scope",
                "name the tenants and the rules (or `*`)",
            ));
        }
        if reason.trim().len() < 10 || risk.trim().len() < 5 {
            return Err(invalid(
                "exclusion",
                "write the reason (10+ characters) and the risk it opens",
            ));
        }
        let now_t = Utc::now();
        if expires_at <= now_t || expires_at > now_t + chrono::Duration::days(MAX_DAYS) {
            return Err(invalid(
                "exclusion expiry",
                format!("must be in the future and within {MAX_DAYS} days"),
            ));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO exclusions (tenants, rules, filter, owner, reason, risk, expires_at, revoked, hits, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, 0, ?8)",
            params![
                json!(tenants).to_string(),
                json!(rules).to_string(),
                filter,
                actor.name,
                reason,
                risk,
                expires_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                now()
            ],
        )?;
        let id = tx.last_insert_rowid();
        let created = tx.query_row(
            &format!("SELECT {COLUMNS} FROM exclusions WHERE id = ?1"),
            params![id],
            from_row,
        )?;
        Self::audit(
            &tx,
            actor,
            "exclusion.propose",
            &format!("exclusion/{id}"),
            Value::Null,
            view(&created),
        )?;
        tx.commit()?;
        Ok(created)
    }

    /// One exclusion.
    pub fn exclusion(&self, id: i64) -> Result<Option<Exclusion>, StateError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM exclusions WHERE id = ?1"),
                params![id],
                from_row,
            )
            .optional()?)
    }

    /// Every exclusion (active, proposed, expired, revoked), newest first.
    pub fn exclusions(&self) -> Result<Vec<Exclusion>, StateError> {
        let mut st = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM exclusions ORDER BY id DESC"))?;
        let rows = st.query_map([], from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Approve an exclusion: by someone other than its owner, before it expires.
    pub fn approve_exclusion(&mut self, actor: &Actor, id: i64) -> Result<Exclusion, StateError> {
        let before = self
            .exclusion(id)?
            .ok_or_else(|| StateError::NotFound(format!("exclusion {id}")))?;
        if before.owner == actor.name {
            return Err(invalid(
                "approval",
                "the owner of an exclusion cannot approve it; ask another analyst",
            ));
        }
        if before.state != "proposed" {
            return Err(invalid("approval", format!("exclusion {id} is {}", before.state)));
        }
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE exclusions SET approved_by = ?2, approved_at = ?3 WHERE id = ?1",
            params![id, actor.name, now()],
        )?;
        let after = tx.query_row(
            &format!("SELECT {COLUMNS} FROM exclusions WHERE id = ?1"),
            params![id],
            from_row,
        )?;
        Self::audit(
            &tx,
            actor,
            "exclusion.approve",
            &format!("exclusion/{id}"),
            view(&before),
            view(&after),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// Revoke an exclusion (it never applies again).
    pub fn revoke_exclusion(&mut self, actor: &Actor, id: i64) -> Result<Exclusion, StateError> {
        let before = self
            .exclusion(id)?
            .ok_or_else(|| StateError::NotFound(format!("exclusion {id}")))?;
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE exclusions SET revoked = 1 WHERE id = ?1", params![id])?;
        let after = tx.query_row(
            &format!("SELECT {COLUMNS} FROM exclusions WHERE id = ?1"),
            params![id],
            from_row,
        )?;
        Self::audit(
            &tx,
            actor,
            "exclusion.revoke",
            &format!("exclusion/{id}"),
            view(&before),
            view(&after),
        )?;
        tx.commit()?;
        Ok(after)
    }

    /// Count suppressed detections.
    pub fn add_exclusion_hits(&mut self, id: i64, n: u64) -> Result<(), StateError> {
        self.conn.execute(
            "UPDATE exclusions SET hits = hits + ?2 WHERE id = ?1",
            params![id, n as i64],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who(name: &str) -> Actor {
        Actor {
            name: name.into(),
            origin: "test".into(),
        }
    }

    #[test]
    fn exclusions_need_a_second_user_and_expire() {
        let mut db = StateDb::in_memory().unwrap();
        let soon = Utc::now() + chrono::Duration::days(7);
        let t = vec!["acme".to_string()];
        let r = vec!["*".to_string()];
        let e = db
            .propose_exclusion(
                &who("ana"),
                &t,
                &r,
                "user.name:svc-backup",
                "nightly backup job",
                "a stolen backup key",
                soon,
            )
            .unwrap();
        assert_eq!(e.state, "proposed");
        assert!(db.approve_exclusion(&who("ana"), e.id).is_err());
        let e = db.approve_exclusion(&who("bo"), e.id).unwrap();
        assert_eq!(
            (e.state.as_str(), e.approved_by.as_deref()),
            ("active", Some("bo"))
        );
        assert!(e.covers("acme", "any-rule") && !e.covers("globex", "any-rule"));
        let e = db.revoke_exclusion(&who("bo"), e.id).unwrap();
        assert_eq!(e.state, "revoked");
        // refused: empty filter, no expiry in range, no reason
        assert!(
            db.propose_exclusion(&who("ana"), &t, &r, "", "nightly backup job", "risk", soon)
                .is_err()
        );
        let late = Utc::now() + chrono::Duration::days(400);
        assert!(
            db.propose_exclusion(&who("ana"), &t, &r, "x:y", "nightly backup job", "risk", late)
                .is_err()
        );
        assert!(
            db.propose_exclusion(&who("ana"), &t, &r, "x:y", "short", "risk", soon)
                .is_err()
        );
        assert!(
            db.propose_exclusion(&who("ana"), &t, &r, "x:(", "nightly backup job", "risk", soon)
                .is_err()
        );
        let log = db.audit_log(Some("exclusion"), 10).unwrap();
        assert_eq!(log.len(), 3);
    }
}
