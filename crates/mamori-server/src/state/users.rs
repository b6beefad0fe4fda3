//! Users, API tokens and browser sessions: who may do what on which tenants.
//!
//! Passwords are stored as argon2id hashes. Tokens (`mamori_<id>_<secret>`)
//! and session cookies are random 256-bit secrets stored as SHA-256 digests:
//! the secret is shown once and cannot be recovered from the database.

use std::fmt;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use rand::RngCore;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Actor, StateDb, StateError, check_name, now};

/// What a user may do. `admin` ⊃ `analyst` ⊃ `viewer` ⊃ `customer`;
/// `ingest` (for log shippers) may only send events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, on every tenant.
    Admin,
    /// Read and change events' configuration (lists, saved searches, rules, alerts) on assigned tenants.
    Analyst,
    /// Read-only on assigned tenants.
    Viewer,
    /// Read-only on exactly one tenant: its own events, alerts and reports.
    Customer,
    /// Send events to assigned tenants; nothing else.
    Ingest,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Analyst,
        Role::Viewer,
        Role::Customer,
        Role::Ingest,
    ];

    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Viewer => "viewer",
            Role::Customer => "customer",
            Role::Ingest => "ingest",
        }
    }

    /// Whether a holder of `self` may hand out `other` (to a token of theirs).
    pub fn includes(self, other: Role) -> bool {
        match self {
            Role::Admin => true,
            Role::Analyst => other != Role::Admin,
            Role::Viewer => matches!(other, Role::Viewer | Role::Customer),
            Role::Customer => other == Role::Customer,
            Role::Ingest => other == Role::Ingest,
        }
    }

    /// May read events and alerts.
    pub fn can_read(self) -> bool {
        self != Role::Ingest
    }

    /// May change tenants' configuration, alerts and rules.
    pub fn can_write(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst)
    }

    /// May send events.
    pub fn can_ingest(self) -> bool {
        matches!(self, Role::Admin | Role::Analyst | Role::Ingest)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = StateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| StateError::Invalid {
                what: format!("role `{s}`"),
                why: "use admin, analyst, viewer, customer or ingest".into(),
            })
    }
}

/// Which tenants a user or token may see: all (`["*"]`) or a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantAccess {
    /// Every tenant, present and future.
    All,
    /// Only these.
    Only(Vec<String>),
}

impl TenantAccess {
    /// From a list where `*` means all.
    pub fn from_list(list: &[String]) -> Self {
        if list.iter().any(|t| t == "*") {
            TenantAccess::All
        } else {
            let mut v = list.to_vec();
            v.sort();
            v.dedup();
            TenantAccess::Only(v)
        }
    }

    /// As a list where `*` means all.
    pub fn to_list(&self) -> Vec<String> {
        match self {
            TenantAccess::All => vec!["*".into()],
            TenantAccess::Only(v) => v.clone(),
        }
    }

    /// Whether `tenant` is included.
    pub fn allows(&self, tenant: &str) -> bool {
        match self {
            TenantAccess::All => true,
            TenantAccess::Only(v) => v.iter().any(|t| t == tenant),
        }
    }

    /// Whether every tenant of `other` is included.
    pub fn covers(&self, other: &TenantAccess) -> bool {
        match (self, other) {
            (TenantAccess::All, _) => true,
            (TenantAccess::Only(_), TenantAccess::All) => false,
            (TenantAccess::Only(_), TenantAccess::Only(o)) => o.iter().all(|t| self.allows(t)),
        }
    }
}

impl Serialize for TenantAccess {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_list().serialize(s)
    }
}

impl<'de> Deserialize<'de> for TenantAccess {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(TenantAccess::from_list(&Vec::<String>::deserialize(d)?))
    }
}

/// A local user.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Tenants (`["*"]`: all).
    #[schema(value_type = Vec<String>)]
    pub tenants: TenantAccess,
    /// When created.
    pub created_at: String,
    /// A disabled user cannot log in and its tokens stop working.
    pub disabled: bool,
}

/// How a request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A browser session; state-changing requests must carry this CSRF token.
    Session {
        /// The session's CSRF token.
        csrf: String,
    },
    /// An API token.
    Token {
        /// The token's public id.
        id: String,
    },
    /// The local command line (trusted: it can read the data directory anyway).
    Local,
}

/// Who is asking: a user (through a session or token) with a role and tenants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// User name.
    pub name: String,
    /// Effective role.
    pub role: Role,
    /// Effective tenants.
    pub tenants: TenantAccess,
    /// How they authenticated.
    pub credential: Credential,
}

impl Principal {
    /// The local operator at the command line: an admin.
    pub fn local(name: &str) -> Self {
        Principal {
            name: name.into(),
            role: Role::Admin,
            tenants: TenantAccess::All,
            credential: Credential::Local,
        }
    }
}

/// An API token as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TokenInfo {
    /// Public id (the part after `mamori_`).
    pub id: String,
    /// What it is for.
    pub name: String,
    /// Owner.
    pub user: String,
    /// Role it grants (at most its owner's).
    pub role: Role,
    /// Tenants it grants (at most its owner's).
    #[schema(value_type = Vec<String>)]
    pub tenants: TenantAccess,
    /// When created.
    pub created_at: String,
    /// When it stops working, if ever.
    pub expires_at: Option<String>,
    /// Last use.
    pub last_used_at: Option<String>,
    /// Revoked tokens never work again.
    pub revoked: bool,
}

/// A token just created: the secret is in `token`, shown once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NewToken {
    /// The whole token (`mamori_<id>_<secret>`), to send as `Authorization: Bearer …`.
    pub token: String,
    /// Its listing.
    pub info: TokenInfo,
}

/// A browser session just opened.
#[derive(Debug, Clone)]
pub struct Session {
    /// The cookie value (secret).
    pub cookie: String,
    /// The CSRF token to send as `X-CSRF-Token` with state-changing requests.
    pub csrf: String,
    /// Until when.
    pub expires_at: DateTime<Utc>,
}

/// How long a browser session lasts.
pub const SESSION_HOURS: i64 = 12;

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn digest(secret: &str) -> String {
    let d = Sha256::digest(secret.as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compare two digests without an early exit.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Hash a password with argon2id and a random salt.
fn hash_password(password: &str) -> Result<String, StateError> {
    if password.chars().count() < 8 {
        return Err(StateError::Invalid {
            what: "password".into(),
            why: "use at least 8 characters".into(),
        });
    }
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| invalid("salt", e))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| invalid("password", e))?
        .to_string())
}

fn invalid(what: &str, e: impl fmt::Display) -> StateError {
    StateError::Invalid {
        what: what.into(),
        why: e.to_string(),
    }
}

fn check_access(role: Role, tenants: &TenantAccess) -> Result<(), StateError> {
    if role == Role::Customer && !matches!(tenants, TenantAccess::Only(v) if v.len() == 1) {
        return Err(StateError::Invalid {
            what: "tenants of a customer".into(),
            why: "a customer sees exactly one tenant".into(),
        });
    }
    if let TenantAccess::Only(v) = tenants {
        for t in v {
            check_name("tenant", t)?;
        }
    }
    Ok(())
}

type UserRow = (String, String, String, Option<String>, String, bool);

fn user_from_row(row: UserRow) -> Result<(User, Option<String>), StateError> {
    let (name, role, tenants, hash, created_at, disabled) = row;
    let list: Vec<String> = serde_json::from_str(&tenants).unwrap_or_default();
    Ok((
        User {
            name,
            role: role.parse()?,
            tenants: TenantAccess::from_list(&list),
            created_at,
            disabled,
        },
        hash,
    ))
}

impl StateDb {
    fn user_row(&self, name: &str) -> Result<Option<(User, Option<String>)>, StateError> {
        let row: Option<UserRow> = self
            .conn
            .query_row(
                "SELECT name, role, tenants, password_hash, created_at, disabled FROM users WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
            )
            .optional()?;
        row.map(user_from_row).transpose()
    }

    /// A user.
    pub fn user(&self, name: &str) -> Result<Option<User>, StateError> {
        Ok(self.user_row(name)?.map(|(u, _)| u))
    }

    /// Every user, by name.
    pub fn users(&self) -> Result<Vec<User>, StateError> {
        let mut st = self.conn.prepare("SELECT name FROM users ORDER BY name")?;
        let names: Vec<String> = st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        let mut out = Vec::new();
        for n in names {
            out.extend(self.user(&n)?);
        }
        Ok(out)
    }

    /// Number of users.
    pub fn user_count(&self) -> Result<u64, StateError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(n.max(0) as u64)
    }

    /// Create a user (audited; the password hash never enters the audit log).
    pub fn add_user(
        &mut self,
        actor: &Actor,
        name: &str,
        role: Role,
        tenants: &TenantAccess,
        password: Option<&str>,
    ) -> Result<User, StateError> {
        check_name("user", name)?;
        check_access(role, tenants)?;
        if self.user(name)?.is_some() {
            return Err(StateError::Invalid {
                what: format!("user `{name}`"),
                why: "already exists".into(),
            });
        }
        let hash = password.map(hash_password).transpose()?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO users (name, role, tenants, password_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                name,
                role.as_str(),
                json!(tenants.to_list()).to_string(),
                hash,
                now()
            ],
        )?;
        Self::audit(
            &tx,
            actor,
            "user.create",
            &format!("user/{name}"),
            Value::Null,
            json!({"role": role, "tenants": tenants, "password_set": password.is_some()}),
        )?;
        tx.commit()?;
        self.user(name)?
            .ok_or_else(|| StateError::NotFound(format!("user {name}")))
    }

    /// Change a user's role, tenants or disabled flag (audited with before and after).
    pub fn update_user(
        &mut self,
        actor: &Actor,
        name: &str,
        role: Option<Role>,
        tenants: Option<&TenantAccess>,
        disabled: Option<bool>,
    ) -> Result<User, StateError> {
        let before = self
            .user(name)?
            .ok_or_else(|| StateError::NotFound(format!("user {name}")))?;
        let role = role.unwrap_or(before.role);
        let tenants = tenants.cloned().unwrap_or_else(|| before.tenants.clone());
        let disabled = disabled.unwrap_or(before.disabled);
        check_access(role, &tenants)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE users SET role = ?2, tenants = ?3, disabled = ?4 WHERE name = ?1",
            params![
                name,
                role.as_str(),
                json!(tenants.to_list()).to_string(),
                disabled
            ],
        )?;
        if disabled {
            tx.execute("DELETE FROM sessions WHERE user_name = ?1", params![name])?;
        }
        let view = |r: Role, t: &TenantAccess, d: bool| json!({"role": r, "tenants": t, "disabled": d});
        Self::audit(
            &tx,
            actor,
            "user.update",
            &format!("user/{name}"),
            view(before.role, &before.tenants, before.disabled),
            view(role, &tenants, disabled),
        )?;
        tx.commit()?;
        self.user(name)?
            .ok_or_else(|| StateError::NotFound(format!("user {name}")))
    }

    /// Set a user's password (audited without the password); ends their sessions.
    pub fn set_password(&mut self, actor: &Actor, name: &str, password: &str) -> Result<(), StateError> {
        self.user(name)?
            .ok_or_else(|| StateError::NotFound(format!("user {name}")))?;
        let hash = hash_password(password)?;
        let tx = self.conn.transaction()?;
        tx.execute(
            "UPDATE users SET password_hash = ?2 WHERE name = ?1",
            params![name, hash],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_name = ?1", params![name])?;
        Self::audit(
            &tx,
            actor,
            "user.password",
            &format!("user/{name}"),
            Value::Null,
            json!({"password_set": true}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Delete a user, their tokens and sessions.
    pub fn delete_user(&mut self, actor: &Actor, name: &str) -> Result<(), StateError> {
        let before = self
            .user(name)?
            .ok_or_else(|| StateError::NotFound(format!("user {name}")))?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM users WHERE name = ?1", params![name])?;
        tx.execute(
            "UPDATE tokens SET revoked = 1 WHERE user_name = ?1",
            params![name],
        )?;
        tx.execute("DELETE FROM sessions WHERE user_name = ?1", params![name])?;
        Self::audit(
            &tx,
            actor,
            "user.delete",
            &format!("user/{name}"),
            json!({"role": before.role, "tenants": before.tenants}),
            Value::Null,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Check a user's password; `None` when the user is unknown, disabled or the password is wrong.
    pub fn verify_password(&self, name: &str, password: &str) -> Result<Option<Principal>, StateError> {
        let Some((user, Some(hash))) = self.user_row(name)? else {
            return Ok(None);
        };
        let parsed = PasswordHash::new(&hash).map_err(|e| invalid("stored password hash", e))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok((ok && !user.disabled).then_some(Principal {
            name: user.name,
            role: user.role,
            tenants: user.tenants,
            credential: Credential::Local,
        }))
    }

    /// Create an API token for `user` with at most the user's role and tenants.
    pub fn create_token(
        &mut self,
        actor: &Actor,
        user: &str,
        name: &str,
        role: Role,
        tenants: &TenantAccess,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<NewToken, StateError> {
        let owner = self
            .user(user)?
            .ok_or_else(|| StateError::NotFound(format!("user {user}")))?;
        if !owner.role.includes(role) {
            return Err(StateError::Invalid {
                what: format!("token role {role}"),
                why: format!("user {user} is {} and cannot grant it", owner.role),
            });
        }
        if !owner.tenants.covers(tenants) {
            return Err(StateError::Invalid {
                what: "token tenants".into(),
                why: format!("user {user} may not see all of {:?}", tenants.to_list()),
            });
        }
        check_access(role, tenants)?;
        if name.trim().is_empty() || name.len() > 200 {
            return Err(invalid("token name", "use 1-200 characters"));
        }
        if let Some(t) = expires_at
            && t <= Utc::now()
        {
            return Err(invalid("token expiry", "it is in the past"));
        }
        let mut idb = [0u8; 6];
        rand::rng().fill_bytes(&mut idb);
        let id: String = idb.iter().map(|b| format!("{b:02x}")).collect();
        let secret = random_secret();
        let expires = expires_at.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO tokens (id, name, user_name, secret_hash, role, tenants, created_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                name,
                user,
                digest(&secret),
                role.as_str(),
                json!(tenants.to_list()).to_string(),
                now(),
                expires
            ],
        )?;
        Self::audit(
            &tx,
            actor,
            "token.create",
            &format!("token/{id}"),
            Value::Null,
            json!({"name": name, "user": user, "role": role, "tenants": tenants, "expires_at": expires}),
        )?;
        tx.commit()?;
        let info = self
            .token(&id)?
            .ok_or_else(|| StateError::NotFound(format!("token {id}")))?;
        Ok(NewToken {
            token: format!("mamori_{id}_{secret}"),
            info,
        })
    }

    fn token_rows(&self, where_sql: &str, arg: &str) -> Result<Vec<(TokenInfo, String)>, StateError> {
        let sql = format!(
            "SELECT id, name, user_name, role, tenants, created_at, expires_at, last_used_at, revoked, secret_hash
             FROM tokens WHERE {where_sql} ORDER BY created_at, id"
        );
        let mut st = self.conn.prepare(&sql)?;
        let rows = st.query_map(params![arg], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, name, user, role, tenants, created_at, expires_at, last_used_at, revoked, hash) = row?;
            let list: Vec<String> = serde_json::from_str(&tenants).unwrap_or_default();
            out.push((
                TokenInfo {
                    id,
                    name,
                    user,
                    role: role.parse()?,
                    tenants: TenantAccess::from_list(&list),
                    created_at,
                    expires_at,
                    last_used_at,
                    revoked,
                },
                hash,
            ));
        }
        Ok(out)
    }

    /// A token's listing.
    pub fn token(&self, id: &str) -> Result<Option<TokenInfo>, StateError> {
        Ok(self.token_rows("id = ?1", id)?.into_iter().next().map(|(t, _)| t))
    }

    /// Tokens of one user, or of everyone (`None`).
    pub fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>, StateError> {
        let rows = match user {
            Some(u) => self.token_rows("user_name = ?1", u)?,
            None => self.token_rows("?1 = ?1", "")?,
        };
        Ok(rows.into_iter().map(|(t, _)| t).collect())
    }

    /// Revoke a token (audited).
    pub fn revoke_token(&mut self, actor: &Actor, id: &str) -> Result<(), StateError> {
        let before = self
            .token(id)?
            .ok_or_else(|| StateError::NotFound(format!("token {id}")))?;
        let tx = self.conn.transaction()?;
        tx.execute("UPDATE tokens SET revoked = 1 WHERE id = ?1", params![id])?;
        Self::audit(
            &tx,
            actor,
            "token.revoke",
            &format!("token/{id}"),
            json!({"name": before.name, "user": before.user, "revoked": before.revoked}),
            json!({"revoked": true}),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Who a bearer token belongs to; `None` when unknown, revoked, expired or its user is gone or disabled.
    pub fn authenticate_token(&mut self, token: &str) -> Result<Option<Principal>, StateError> {
        let Some(rest) = token.strip_prefix("mamori_") else {
            return Ok(None);
        };
        let Some((id, secret)) = rest.split_once('_') else {
            return Ok(None);
        };
        let Some((info, hash)) = self.token_rows("id = ?1", id)?.into_iter().next() else {
            return Ok(None);
        };
        if !same(&hash, &digest(secret)) || info.revoked {
            return Ok(None);
        }
        if let Some(exp) = info
            .expires_at
            .as_deref()
            .and_then(mamori_model::time::parse_instant)
            && exp <= Utc::now()
        {
            return Ok(None);
        }
        let Some(owner) = self.user(&info.user)? else {
            return Ok(None);
        };
        if owner.disabled || !owner.role.includes(info.role) {
            return Ok(None);
        }
        let tenants = match (&owner.tenants, &info.tenants) {
            (TenantAccess::All, t) => t.clone(),
            (own, TenantAccess::All) => own.clone(),
            (own, TenantAccess::Only(t)) => {
                TenantAccess::Only(t.iter().filter(|x| own.allows(x)).cloned().collect())
            }
        };
        let stamp = now();
        let stale = info
            .last_used_at
            .as_deref()
            .is_none_or(|t| t[..16.min(t.len())] != stamp[..16]);
        if stale {
            self.conn.execute(
                "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1",
                params![id, stamp],
            )?;
        }
        Ok(Some(Principal {
            name: owner.name,
            role: info.role,
            tenants,
            credential: Credential::Token { id: info.id },
        }))
    }

    /// Open a browser session for `user` (after the password was checked).
    pub fn create_session(&mut self, user: &str) -> Result<Session, StateError> {
        let cookie = random_secret();
        let csrf = random_secret();
        let expires_at = Utc::now() + Duration::hours(SESSION_HOURS);
        self.conn
            .execute("DELETE FROM sessions WHERE expires_at < ?1", params![now()])?;
        self.conn.execute(
            "INSERT INTO sessions (id_hash, user_name, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                digest(&cookie),
                user,
                csrf,
                now(),
                expires_at.to_rfc3339_opts(SecondsFormat::Millis, true)
            ],
        )?;
        Ok(Session {
            cookie,
            csrf,
            expires_at,
        })
    }

    /// Who a session cookie belongs to; `None` when unknown, expired or the user is disabled.
    pub fn session(&self, cookie: &str) -> Result<Option<Principal>, StateError> {
        let row: Option<(String, String, String)> = self
            .conn
            .query_row(
                "SELECT user_name, csrf, expires_at FROM sessions WHERE id_hash = ?1",
                params![digest(cookie)],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((user, csrf, expires)) = row else {
            return Ok(None);
        };
        if mamori_model::time::parse_instant(&expires).is_none_or(|t| t <= Utc::now()) {
            return Ok(None);
        }
        let Some(u) = self.user(&user)? else {
            return Ok(None);
        };
        Ok((!u.disabled).then_some(Principal {
            name: u.name,
            role: u.role,
            tenants: u.tenants,
            credential: Credential::Session { csrf },
        }))
    }

    /// End a session.
    pub fn delete_session(&mut self, cookie: &str) -> Result<(), StateError> {
        self.conn
            .execute("DELETE FROM sessions WHERE id_hash = ?1", params![digest(cookie)])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor() -> Actor {
        Actor {
            name: "root".into(),
            origin: "cli".into(),
        }
    }

    #[test]
    fn passwords_are_hashed_and_checked() {
        let mut db = StateDb::in_memory().unwrap();
        db.add_user(
            &actor(),
            "alice",
            Role::Analyst,
            &TenantAccess::All,
            Some("correct horse"),
        )
        .unwrap();
        assert!(db.verify_password("alice", "correct horse").unwrap().is_some());
        assert!(db.verify_password("alice", "wrong horse!").unwrap().is_none());
        assert!(db.verify_password("bob", "correct horse").unwrap().is_none());
        let stored: String = db
            .conn
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .unwrap();
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        let audit = db.audit_log(Some("user/alice"), 10).unwrap();
        assert!(!audit[0].after.to_string().contains("horse"));
        db.update_user(&actor(), "alice", None, None, Some(true)).unwrap();
        assert!(db.verify_password("alice", "correct horse").unwrap().is_none());
        assert!(db.set_password(&actor(), "alice", "short").is_err());
    }

    #[test]
    fn tokens_are_shown_once_and_bounded_by_their_owner() {
        let mut db = StateDb::in_memory().unwrap();
        let acme = TenantAccess::Only(vec!["acme".into()]);
        db.add_user(&actor(), "carol", Role::Analyst, &acme, None)
            .unwrap();
        let t = db
            .create_token(&actor(), "carol", "ci", Role::Viewer, &acme, None)
            .unwrap();
        let p = db.authenticate_token(&t.token).unwrap().unwrap();
        assert_eq!(p.role, Role::Viewer);
        assert!(p.tenants.allows("acme") && !p.tenants.allows("globex"));
        assert!(
            db.authenticate_token(&t.token.replace('_', "-"))
                .unwrap()
                .is_none()
        );
        let mut forged = t.token.clone();
        forged.pop();
        forged.push('x');
        assert!(db.authenticate_token(&forged).unwrap().is_none() || forged == t.token);
        let stored: String = db
            .conn
            .query_row("SELECT secret_hash FROM tokens", [], |r| r.get(0))
            .unwrap();
        assert!(!t.token.contains(&stored));
        // more than the owner has
        assert!(
            db.create_token(&actor(), "carol", "x", Role::Admin, &acme, None)
                .is_err()
        );
        assert!(
            db.create_token(&actor(), "carol", "x", Role::Viewer, &TenantAccess::All, None)
                .is_err()
        );
        // expiry and revocation
        assert!(
            db.create_token(
                &actor(),
                "carol",
                "x",
                Role::Viewer,
                &acme,
                Some(Utc::now() - Duration::hours(1))
            )
            .is_err()
        );
        db.revoke_token(&actor(), &t.info.id).unwrap();
        assert!(db.authenticate_token(&t.token).unwrap().is_none());
    }

    #[test]
    fn customers_see_exactly_one_tenant() {
        let mut db = StateDb::in_memory().unwrap();
        assert!(
            db.add_user(&actor(), "c", Role::Customer, &TenantAccess::All, None)
                .is_err()
        );
        let two = TenantAccess::Only(vec!["a".into(), "b".into()]);
        assert!(db.add_user(&actor(), "c", Role::Customer, &two, None).is_err());
        let one = TenantAccess::Only(vec!["a".into()]);
        db.add_user(&actor(), "c", Role::Customer, &one, None).unwrap();
    }

    #[test]
    fn sessions_end_when_the_user_is_disabled() {
        let mut db = StateDb::in_memory().unwrap();
        db.add_user(&actor(), "dan", Role::Viewer, &TenantAccess::All, None)
            .unwrap();
        let s = db.create_session("dan").unwrap();
        let p = db.session(&s.cookie).unwrap().unwrap();
        assert_eq!(p.credential, Credential::Session { csrf: s.csrf.clone() });
        db.update_user(&actor(), "dan", None, None, Some(true)).unwrap();
        assert!(db.session(&s.cookie).unwrap().is_none());
    }
}
