//! The state database: SQLite (`<data>/state.db`) by default. Every change
//! goes through one transaction that also appends to the audit log.
//!
//! Tables: `tenants`, `context_lists`, `saved_searches`, `audit`. The schema
//! is versioned with SQLite's `user_version` and migrated on open.

use std::path::Path;

use chrono::{SecondsFormat, Utc};
use ipnet::IpNet;
use mamori_model::filter::{Filter, Pattern};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A state database failure.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// SQLite failed.
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A named object does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A value that cannot be stored.
    #[error("invalid {what}: {why}")]
    Invalid {
        /// What was invalid.
        what: String,
        /// Why.
        why: String,
    },
}

/// Who made a change, and from where (for the audit log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// User name (`cli:<os user>` from the command line).
    pub name: String,
    /// Where from: `cli`, an IP address, …
    pub origin: String,
}

/// A tenant's named list of values or networks, used as `@name` in filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ContextList {
    /// Tenant.
    pub tenant: String,
    /// Name (letters, digits, `_`, `-`, `.`).
    pub name: String,
    /// Values; CIDR networks (`203.0.113.0/24`) match addresses inside them.
    pub entries: Vec<String>,
    /// Free text: what the list holds and why.
    pub description: String,
    /// Last change.
    pub updated_at: String,
    /// Who changed it last.
    pub updated_by: String,
}

/// A saved search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SavedSearch {
    /// Tenant.
    pub tenant: String,
    /// Name.
    pub name: String,
    /// The filter text.
    pub filter: String,
    /// Columns to show.
    pub columns: Vec<String>,
    /// Time range start (`-24h`, RFC 3339, …).
    pub from: String,
    /// Time range end.
    pub to: String,
    /// Owner.
    pub owner: String,
    /// Last change.
    pub updated_at: String,
}

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Sequence number.
    pub id: i64,
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// From where.
    pub origin: String,
    /// What was done (`context_list.set`, …).
    pub action: String,
    /// The object (`acme/office`).
    pub object: String,
    /// State before (null when created).
    #[schema(value_type = Object)]
    pub before: Value,
    /// State after (null when deleted).
    #[schema(value_type = Object)]
    pub after: Value,
}

const MIGRATIONS: &[&str] = &[
    "CREATE TABLE tenants (name TEXT PRIMARY KEY, created_at TEXT NOT NULL);
     CREATE TABLE context_lists (
        tenant TEXT NOT NULL, name TEXT NOT NULL, entries TEXT NOT NULL, description TEXT NOT NULL,
        updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, PRIMARY KEY (tenant, name));
     CREATE TABLE saved_searches (
        tenant TEXT NOT NULL, name TEXT NOT NULL, filter TEXT NOT NULL, columns TEXT NOT NULL,
        time_from TEXT NOT NULL, time_to TEXT NOT NULL, owner TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (tenant, name));
     CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, origin TEXT NOT NULL,
        action TEXT NOT NULL, object TEXT NOT NULL, before TEXT, after TEXT);",
    "ALTER TABLE tenants ADD COLUMN retention_days INTEGER;",
    "CREATE TABLE users (
        name TEXT PRIMARY KEY, role TEXT NOT NULL, tenants TEXT NOT NULL, password_hash TEXT,
        created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE tokens (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, user_name TEXT NOT NULL, secret_hash TEXT NOT NULL,
        role TEXT NOT NULL, tenants TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT,
        last_used_at TEXT, revoked INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE sessions (
        id_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL,
        created_at TEXT NOT NULL, expires_at TEXT NOT NULL);",
    "CREATE TABLE s3_objects (
        source TEXT NOT NULL, key TEXT NOT NULL, etag TEXT NOT NULL, events INTEGER NOT NULL,
        ingested_at TEXT NOT NULL, PRIMARY KEY (source, key));",
    "CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, rule_id TEXT NOT NULL,
        rule_title TEXT NOT NULL, level TEXT NOT NULL, tactics TEXT NOT NULL, techniques TEXT NOT NULL,
        group_key TEXT NOT NULL, first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, count INTEGER NOT NULL,
        event_ids TEXT NOT NULL, status TEXT NOT NULL, assignee TEXT, close_reason TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
     CREATE INDEX alerts_open ON alerts (tenant, rule_id, group_key, status);
     CREATE INDEX alerts_time ON alerts (tenant, last_seen);",
    "CREATE TABLE exclusions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, tenants TEXT NOT NULL, rules TEXT NOT NULL, filter TEXT NOT NULL,
        owner TEXT NOT NULL, reason TEXT NOT NULL, risk TEXT NOT NULL, expires_at TEXT NOT NULL,
        approved_by TEXT, approved_at TEXT, revoked INTEGER NOT NULL, hits INTEGER NOT NULL,
        created_at TEXT NOT NULL);",
    "CREATE TABLE rule_settings (rule_id TEXT PRIMARY KEY, enabled INTEGER NOT NULL, updated_by TEXT NOT NULL, updated_at TEXT NOT NULL);",
    "CREATE TABLE scheduled_rules (
        name TEXT PRIMARY KEY, title TEXT NOT NULL, tenants TEXT NOT NULL, query TEXT NOT NULL,
        window_secs INTEGER NOT NULL, group_by TEXT, threshold INTEGER NOT NULL, schedule TEXT NOT NULL,
        level TEXT NOT NULL, tags TEXT NOT NULL, enabled INTEGER NOT NULL, owner TEXT NOT NULL,
        last_run TEXT, next_run TEXT, updated_at TEXT NOT NULL);",
];

pub mod alerts;
pub mod exclusions;
pub mod scheduled;
pub mod users;

pub use alerts::{Alert, AlertQuery, AlertStatus, CloseReason, Detection};
pub use exclusions::Exclusion;
pub use scheduled::ScheduledRule;
pub use users::{
    Credential, NewToken, Principal, Role, SESSION_HOURS, Session, TenantAccess, TokenInfo, User,
};

/// The state database.
pub struct StateDb {
    conn: Connection,
}

pub(crate) fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn check_name(what: &str, name: &str) -> Result<(), StateError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(StateError::Invalid {
            what: format!("{what} name `{name}`"),
            why: "use 1-64 letters, digits, '_', '-' or '.'".into(),
        })
    }
}

impl StateDb {
    /// Open (creating and migrating) the database in `data_dir/state.db`.
    pub fn open(data_dir: &Path) -> Result<Self, StateError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StateError::Invalid {
            what: format!("data directory {}", data_dir.display()),
            why: e.to_string(),
        })?;
        Self::from_connection(Connection::open(data_dir.join("state.db"))?)
    }

    /// An in-memory database (tests).
    pub fn in_memory() -> Result<Self, StateError> {
        Self::from_connection(Connection::open_in_memory()?)
    }

    fn from_connection(conn: Connection) -> Result<Self, StateError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let mut db = StateDb { conn };
        db.migrate()?;
        Ok(db)
    }

    fn migrate(&mut self) -> Result<(), StateError> {
        let version: i64 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub(crate) fn audit(
        tx: &Transaction,
        actor: &Actor,
        action: &str,
        object: &str,
        before: Value,
        after: Value,
    ) -> Result<(), StateError> {
        let text = |v: &Value| (!v.is_null()).then(|| v.to_string());
        tx.execute(
            "INSERT INTO audit (at, actor, origin, action, object, before, after) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![now(), actor.name, actor.origin, action, object, text(&before), text(&after)],
        )?;
        Ok(())
    }

    /// Make sure a tenant is known (created on first use, audited).
    pub fn ensure_tenant(&mut self, actor: &Actor, tenant: &str) -> Result<(), StateError> {
        check_name("tenant", tenant)?;
        let tx = self.conn.transaction()?;
        let added = tx.execute(
            "INSERT OR IGNORE INTO tenants (name, created_at) VALUES (?1, ?2)",
            params![tenant, now()],
        )?;
        if added > 0 {
            Self::audit(
                &tx,
                actor,
                "tenant.create",
                tenant,
                Value::Null,
                json!({"name": tenant}),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Set how many days of events a tenant keeps (`None`: forever).
    pub fn set_retention(
        &mut self,
        actor: &Actor,
        tenant: &str,
        days: Option<u32>,
    ) -> Result<(), StateError> {
        self.ensure_tenant(actor, tenant)?;
        let before = self.retention(tenant)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE tenants SET retention_days = ?1 WHERE name = ?2",
            params![days, tenant],
        )?;
        Self::audit(
            &tx,
            actor,
            "tenant.retention",
            tenant,
            json!({ "retention_days": before }),
            json!({ "retention_days": days }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Days of events a tenant keeps (`None`: forever).
    pub fn retention(&self, tenant: &str) -> Result<Option<u32>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT retention_days FROM tenants WHERE name = ?1",
                params![tenant],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// Record something done (not a configuration change) in the audit log,
    /// such as partitions deleted by retention.
    pub fn record(
        &mut self,
        actor: &Actor,
        action: &str,
        object: &str,
        details: Value,
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        Self::audit(&tx, actor, action, object, Value::Null, details)?;
        tx.commit()?;
        Ok(())
    }

    /// Known tenants.
    pub fn tenants(&self) -> Result<Vec<String>, StateError> {
        let mut st = self.conn.prepare("SELECT name FROM tenants ORDER BY name")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// A context list.
    pub fn context_list(&self, tenant: &str, name: &str) -> Result<Option<ContextList>, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT entries, description, updated_at, updated_by FROM context_lists WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                |r| Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(
            row.map(|(entries, description, updated_at, updated_by)| ContextList {
                tenant: tenant.into(),
                name: name.into(),
                entries: serde_json::from_str(&entries).unwrap_or_default(),
                description,
                updated_at,
                updated_by,
            }),
        )
    }

    /// A tenant's context lists.
    pub fn context_lists(&self, tenant: &str) -> Result<Vec<ContextList>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM context_lists WHERE tenant = ?1 ORDER BY name")?;
        let names: Vec<String> = st
            .query_map(params![tenant], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for n in names {
            out.extend(self.context_list(tenant, &n)?);
        }
        Ok(out)
    }

    /// Create or replace a context list (audited with before and after).
    pub fn set_context_list(
        &mut self,
        actor: &Actor,
        tenant: &str,
        name: &str,
        entries: &[String],
        description: Option<&str>,
    ) -> Result<ContextList, StateError> {
        check_name("context list", name)?;
        self.ensure_tenant(actor, tenant)?;
        for e in entries {
            if e.trim().is_empty() {
                return Err(StateError::Invalid {
                    what: format!("entry of @{name}"),
                    why: "empty value".into(),
                });
            }
            if e.contains('/')
                && e.parse::<IpNet>().is_err()
                && e.chars().all(|c| c.is_ascii_hexdigit() || ".:/".contains(c))
            {
                return Err(StateError::Invalid {
                    what: format!("network `{e}` in @{name}"),
                    why: "not a CIDR such as 203.0.113.0/24".into(),
                });
            }
        }
        let before = self.context_list(tenant, name)?;
        let mut list: Vec<String> = entries.iter().map(|e| e.trim().to_string()).collect();
        list.sort();
        list.dedup();
        let description = description
            .map(str::to_string)
            .or_else(|| before.as_ref().map(|b| b.description.clone()))
            .unwrap_or_default();
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO context_lists (tenant, name, entries, description, updated_at, updated_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (tenant, name) DO UPDATE SET entries = ?3, description = ?4, updated_at = ?5, updated_by = ?6",
            params![tenant, name, serde_json::to_string(&list).unwrap_or_default(), description, now(), actor.name],
        )?;
        let after = json!({"entries": list, "description": description});
        let before = before.map_or(
            Value::Null,
            |b| json!({"entries": b.entries, "description": b.description}),
        );
        Self::audit(
            &tx,
            actor,
            "context_list.set",
            &format!("{tenant}/{name}"),
            before,
            after,
        )?;
        tx.commit()?;
        self.context_list(tenant, name)?
            .ok_or_else(|| StateError::NotFound(format!("context list @{name}")))
    }

    /// Delete a context list.
    pub fn delete_context_list(&mut self, actor: &Actor, tenant: &str, name: &str) -> Result<(), StateError> {
        let before = self
            .context_list(tenant, name)?
            .ok_or_else(|| StateError::NotFound(format!("context list @{name} of {tenant}")))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM context_lists WHERE tenant = ?1 AND name = ?2",
            params![tenant, name],
        )?;
        let before = json!({"entries": before.entries, "description": before.description});
        Self::audit(
            &tx,
            actor,
            "context_list.delete",
            &format!("{tenant}/{name}"),
            before,
            Value::Null,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Replace every `@list` of `filter` by its values for `tenant`. A list
    /// that does not exist is an error naming it.
    pub fn expand_lists(&self, tenant: &str, filter: Filter) -> Result<Filter, StateError> {
        filter.expand_lists(&mut |field, name| {
            let list = self
                .context_list(tenant, name)?
                .ok_or_else(|| StateError::NotFound(format!("context list @{name} of tenant {tenant}")))?;
            Ok(list_filter(field, &list.entries))
        })
    }

    /// Expand context lists for a search over `tenants`: each tenant's own
    /// list applies to its own events, `(tenant:a and <a's lists>) or (tenant:b and …)`.
    pub fn expand_for(&self, tenants: &[String], filter: Filter) -> Result<Filter, StateError> {
        if filter.list_refs().is_empty() {
            return Ok(filter);
        }
        if let [one] = tenants {
            return self.expand_lists(one, filter);
        }
        let per_tenant = tenants
            .iter()
            .map(|t| {
                let own = self.expand_lists(t, filter.clone())?;
                Ok(Filter::and(vec![
                    Filter::Match {
                        field: Some("tenant".into()),
                        value: Pattern::Phrase(t.clone()),
                    },
                    own,
                ]))
            })
            .collect::<Result<Vec<_>, StateError>>()?;
        Ok(Filter::or(per_tenant))
    }

    /// Save (create or replace) a search.
    pub fn save_search(&mut self, actor: &Actor, s: &SavedSearch) -> Result<(), StateError> {
        check_name("saved search", &s.name)?;
        mamori_model::filter::parse(&s.filter).map_err(|e| StateError::Invalid {
            what: format!("filter of saved search {}", s.name),
            why: e.to_string(),
        })?;
        self.ensure_tenant(actor, &s.tenant)?;
        let before = self.saved_search(&s.tenant, &s.name)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO saved_searches (tenant, name, filter, columns, time_from, time_to, owner, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
             ON CONFLICT (tenant, name) DO UPDATE SET filter = ?3, columns = ?4, time_from = ?5, time_to = ?6, owner = ?7, updated_at = ?8",
            params![s.tenant, s.name, s.filter, serde_json::to_string(&s.columns).unwrap_or_default(), s.from, s.to, actor.name, now()],
        )?;
        let as_json =
            |x: &SavedSearch| json!({"filter": x.filter, "columns": x.columns, "from": x.from, "to": x.to});
        Self::audit(
            &tx,
            actor,
            "saved_search.set",
            &format!("{}/{}", s.tenant, s.name),
            before.as_ref().map_or(Value::Null, as_json),
            as_json(s),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A saved search.
    pub fn saved_search(&self, tenant: &str, name: &str) -> Result<Option<SavedSearch>, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT filter, columns, time_from, time_to, owner, updated_at FROM saved_searches WHERE tenant = ?1 AND name = ?2",
                params![tenant, name],
                |r| {
                    Ok(SavedSearch {
                        tenant: tenant.into(),
                        name: name.into(),
                        filter: r.get(0)?,
                        columns: serde_json::from_str(&r.get::<_, String>(1)?).unwrap_or_default(),
                        from: r.get(2)?,
                        to: r.get(3)?,
                        owner: r.get(4)?,
                        updated_at: r.get(5)?,
                    })
                },
            )
            .optional()?)
    }

    /// A tenant's saved searches.
    pub fn saved_searches(&self, tenant: &str) -> Result<Vec<SavedSearch>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT name FROM saved_searches WHERE tenant = ?1 ORDER BY name")?;
        let names: Vec<String> = st
            .query_map(params![tenant], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for n in names {
            out.extend(self.saved_search(tenant, &n)?);
        }
        Ok(out)
    }

    /// Delete a saved search.
    pub fn delete_saved_search(&mut self, actor: &Actor, tenant: &str, name: &str) -> Result<(), StateError> {
        let before = self
            .saved_search(tenant, name)?
            .ok_or_else(|| StateError::NotFound(format!("saved search {name} of {tenant}")))?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM saved_searches WHERE tenant = ?1 AND name = ?2",
            params![tenant, name],
        )?;
        Self::audit(
            &tx,
            actor,
            "saved_search.delete",
            &format!("{tenant}/{name}"),
            json!({"filter": before.filter}),
            Value::Null,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Ids of rules switched off.
    pub fn disabled_rules(&self) -> Result<std::collections::HashSet<String>, StateError> {
        let mut st = self
            .conn
            .prepare("SELECT rule_id FROM rule_settings WHERE enabled = 0")?;
        let rows = st.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Switch a rule on or off (audited).
    pub fn set_rule_enabled(
        &mut self,
        actor: &Actor,
        rule_id: &str,
        enabled: bool,
    ) -> Result<(), StateError> {
        let before = !self.disabled_rules()?.contains(rule_id);
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO rule_settings (rule_id, enabled, updated_by, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (rule_id) DO UPDATE SET enabled = ?2, updated_by = ?3, updated_at = ?4",
            params![rule_id, enabled, actor.name, now()],
        )?;
        Self::audit(
            &tx,
            actor,
            if enabled { "rule.enable" } else { "rule.disable" },
            &format!("rule/{rule_id}"),
            json!({ "enabled": before }),
            json!({ "enabled": enabled }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Whether an S3 object (by key and ETag) was already ingested for `source`.
    pub fn s3_object_done(&self, source: &str, key: &str, etag: &str) -> Result<bool, StateError> {
        let found: Option<String> = self
            .conn
            .query_row(
                "SELECT etag FROM s3_objects WHERE source = ?1 AND key = ?2",
                params![source, key],
                |r| r.get(0),
            )
            .optional()?;
        Ok(found.is_some_and(|e| e == etag || etag.is_empty()))
    }

    /// Checkpoint: an S3 object's events are durable.
    pub fn mark_s3_object(
        &mut self,
        source: &str,
        key: &str,
        etag: &str,
        events: u64,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO s3_objects (source, key, etag, events, ingested_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (source, key) DO UPDATE SET etag = ?3, events = ?4, ingested_at = ?5",
            params![source, key, etag, events as i64, now()],
        )?;
        Ok(())
    }

    /// The newest audit entries first, at most `limit`, optionally for objects starting with `object_prefix`.
    pub fn audit_log(
        &self,
        object_prefix: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StateError> {
        let mut st = self.conn.prepare(
            "SELECT id, at, actor, origin, action, object, before, after FROM audit
             WHERE (?1 IS NULL OR object = ?1 OR object LIKE ?1 || '/%') ORDER BY id DESC LIMIT ?2",
        )?;
        let parse = |t: Option<String>| {
            t.and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null)
        };
        let rows = st.query_map(params![object_prefix, limit as i64], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                origin: r.get(3)?,
                action: r.get(4)?,
                object: r.get(5)?,
                before: parse(r.get(6)?),
                after: parse(r.get(7)?),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

/// The filter a context list stands for: any of its values on `field` (a
/// CIDR entry matches addresses inside it); on no field, any of them as a
/// bare value. An empty list matches nothing.
pub fn list_filter(field: Option<&str>, entries: &[String]) -> Filter {
    let items: Vec<Filter> = entries
        .iter()
        .map(|e| Filter::Match {
            field: field.map(str::to_string),
            value: match e.parse::<IpNet>() {
                Ok(net) if e.contains('/') => Pattern::Cidr(net),
                _ => Pattern::Phrase(e.clone()),
            },
        })
        .collect();
    if items.is_empty() {
        Filter::Not(Box::new(Filter::All))
    } else {
        Filter::or(items)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mamori_model::filter::parse;

    fn actor() -> Actor {
        Actor {
            name: "alice".into(),
            origin: "cli".into(),
        }
    }

    #[test]
    fn context_lists_expand_into_filters() {
        let mut db = StateDb::in_memory().unwrap();
        db.set_context_list(
            &actor(),
            "acme",
            "office",
            &["203.0.113.0/24".into(), "10.1.2.3".into()],
            Some("HQ"),
        )
        .unwrap();
        let f = db
            .expand_lists("acme", parse("source.ip:@office and not user.name:x").unwrap())
            .unwrap();
        assert_eq!(
            f.to_string(),
            r#"(source.ip:"10.1.2.3" or source.ip:203.0.113.0/24) and not user.name:x"#
        );
        assert!(f.list_refs().is_empty());
        let err = db
            .expand_lists("globex", parse("source.ip:@office").unwrap())
            .unwrap_err();
        assert!(err.to_string().contains("@office of tenant globex"), "{err}");
    }

    #[test]
    fn changes_are_audited_with_before_and_after() {
        let mut db = StateDb::in_memory().unwrap();
        db.set_context_list(&actor(), "acme", "admins", &["root".into()], None)
            .unwrap();
        db.set_context_list(&actor(), "acme", "admins", &["root".into(), "bob".into()], None)
            .unwrap();
        db.delete_context_list(&actor(), "acme", "admins").unwrap();
        let log = db.audit_log(Some("acme"), 10).unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                "context_list.delete",
                "context_list.set",
                "context_list.set",
                "tenant.create"
            ]
        );
        assert_eq!(log[1].before["entries"], json!(["root"]));
        assert_eq!(log[1].after["entries"], json!(["bob", "root"]));
        assert!(log[2].before.is_null());
        assert_eq!(log[0].actor, "alice");
        assert_eq!(db.audit_log(Some("acme/admins"), 10).unwrap().len(), 3);
    }

    #[test]
    fn bad_names_and_networks_are_refused() {
        let mut db = StateDb::in_memory().unwrap();
        assert!(
            db.set_context_list(&actor(), "acme", "bad name", &[], None)
                .is_err()
        );
        let err = db
            .set_context_list(&actor(), "acme", "nets", &["10.0.0.0/33".into()], None)
            .unwrap_err();
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
    }

    #[test]
    fn saved_searches_round_trip_and_validate() {
        let mut db = StateDb::in_memory().unwrap();
        let s = SavedSearch {
            tenant: "acme".into(),
            name: "failed-logins".into(),
            filter: "event.action:ConsoleLogin and event.outcome:failure".into(),
            columns: vec!["user.name".into()],
            from: "-7d".into(),
            to: "now".into(),
            owner: String::new(),
            updated_at: String::new(),
        };
        db.save_search(&actor(), &s).unwrap();
        let back = db.saved_search("acme", "failed-logins").unwrap().unwrap();
        assert_eq!(back.filter, s.filter);
        assert_eq!(back.owner, "alice");
        let bad = SavedSearch {
            filter: "source.ip:".into(),
            ..s
        };
        assert!(
            db.save_search(&actor(), &bad)
                .unwrap_err()
                .to_string()
                .contains("column")
        );
    }

    #[test]
    fn retention_is_configured_and_audited() {
        let mut db = StateDb::in_memory().unwrap();
        assert_eq!(db.retention("acme").unwrap(), None);
        db.set_retention(&actor(), "acme", Some(90)).unwrap();
        assert_eq!(db.retention("acme").unwrap(), Some(90));
        db.set_retention(&actor(), "acme", None).unwrap();
        assert_eq!(db.retention("acme").unwrap(), None);
        let log = db.audit_log(Some("acme"), 5).unwrap();
        assert_eq!(log[0].action, "tenant.retention");
        assert_eq!(log[0].before["retention_days"], json!(90));
    }

    #[test]
    fn empty_list_matches_nothing() {
        let f = list_filter(Some("source.ip"), &[]);
        let ev = mamori_model::Event::new("acme", Utc::now(), "x");
        assert!(!f.matches(&ev));
    }
}
