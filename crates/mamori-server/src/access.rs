//! Authorization and tenant isolation, in one place.
//!
//! [`authorize`] decides what a role may do; [`Events`] is the only way the
//! server reaches stored events: it hands out a [`Scoped`] view bound to a
//! principal, and every query, aggregation, export and event fetch goes
//! through it with its tenants checked. A tenant the caller may not see is
//! reported exactly like one that does not exist.

use std::sync::Arc;

use mamori_model::filter::Pattern;
use mamori_model::{Event, Filter, TimeRange};
use mamori_store::{
    AggregateRequest, AggregateResponse, EventStore, FacetRequest, Facets, Order, SearchRequest,
    SearchResult, StoreError,
};

use crate::state::{Principal, Role};

/// Something a caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Search, aggregate, export and fetch events; read alerts and reports.
    ReadEvents,
    /// Read a tenant's configuration: context lists, saved searches, sources.
    ReadConfig,
    /// Change a tenant's configuration, triage alerts.
    WriteConfig,
    /// Send events.
    Ingest,
    /// Manage tenants, users, every token; read the audit log.
    Administer,
}

/// Why an action is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    /// The tenant does not exist or may not be seen (indistinguishable on purpose).
    #[error("no tenant `{0}` that you can see")]
    UnknownTenant(String),
    /// The role does not allow the action.
    #[error("your role ({role}) may not {what}")]
    Role {
        /// The caller's role.
        role: Role,
        /// The action, in words.
        what: &'static str,
    },
}

fn words(a: Action) -> &'static str {
    match a {
        Action::ReadEvents => "read events",
        Action::ReadConfig => "read configuration",
        Action::WriteConfig => "change configuration",
        Action::Ingest => "send events",
        Action::Administer => "administer users, tenants and tokens",
    }
}

/// Whether `p` may do `action`, on `tenant` when the action concerns one.
pub fn authorize(p: &Principal, action: Action, tenant: Option<&str>) -> Result<(), Denied> {
    let role_ok = match action {
        Action::ReadEvents => p.role.can_read(),
        Action::ReadConfig => matches!(p.role, Role::Admin | Role::Analyst | Role::Viewer),
        Action::WriteConfig => p.role.can_write(),
        Action::Ingest => p.role.can_ingest(),
        Action::Administer => p.role == Role::Admin,
    };
    if let Some(t) = tenant
        && !p.tenants.allows(t)
    {
        return Err(Denied::UnknownTenant(t.to_string()));
    }
    if !role_ok {
        return Err(Denied::Role {
            role: p.role,
            what: words(action),
        });
    }
    Ok(())
}

/// The event store, reachable only through [`Events::scoped`].
#[derive(Clone)]
pub struct Events {
    store: Arc<dyn EventStore>,
}

impl Events {
    /// Guard `store`.
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Events { store }
    }

    /// The store as `p` may see it.
    pub fn scoped<'a>(&'a self, p: &'a Principal) -> Scoped<'a> {
        Scoped {
            store: &*self.store,
            principal: p,
        }
    }
}

/// Events as one principal may see them.
pub struct Scoped<'a> {
    store: &'a dyn EventStore,
    principal: &'a Principal,
}

/// A scoped failure: refused, or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// Refused.
    #[error(transparent)]
    Denied(#[from] Denied),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Scoped<'_> {
    /// Tenants with stored events that the principal may read.
    pub fn visible_tenants(&self) -> Result<Vec<String>, ScopeError> {
        authorize(self.principal, Action::ReadEvents, None)?;
        Ok(self
            .store
            .tenants()?
            .into_iter()
            .filter(|t| self.principal.tenants.allows(t))
            .collect())
    }

    /// The tenants a request may read: those asked for (each checked), or
    /// all visible ones when none are named.
    pub fn tenants(&self, requested: &[String]) -> Result<Vec<String>, ScopeError> {
        if requested.is_empty() {
            return self.visible_tenants();
        }
        for t in requested {
            authorize(self.principal, Action::ReadEvents, Some(t))?;
        }
        let mut v = requested.to_vec();
        v.sort();
        v.dedup();
        Ok(v)
    }

    /// A search over allowed tenants only.
    pub fn search(&self, mut req: SearchRequest) -> Result<SearchResult, ScopeError> {
        req.tenants = self.tenants(&req.tenants)?;
        Ok(self.store.search(&req)?)
    }

    /// Aggregations over allowed tenants only.
    pub fn aggregate(&self, mut req: AggregateRequest) -> Result<AggregateResponse, ScopeError> {
        req.tenants = self.tenants(&req.tenants)?;
        Ok(self.store.aggregate(&req)?)
    }

    /// Facets over allowed tenants only.
    pub fn facets(&self, mut req: FacetRequest) -> Result<Facets, ScopeError> {
        req.tenants = self.tenants(&req.tenants)?;
        Ok(mamori_store::facets::facets(self.store, &req)?)
    }

    /// Count over allowed tenants only.
    pub fn count(&self, tenants: &[String], filter: &Filter, range: &TimeRange) -> Result<u64, ScopeError> {
        let tenants = self.tenants(tenants)?;
        Ok(self.store.count(&tenants, filter, range)?)
    }

    /// Visit every matching event of allowed tenants (exports).
    pub fn scan(
        &self,
        tenants: &[String],
        filter: &Filter,
        range: &TimeRange,
        visit: &mut dyn FnMut(Event) -> Result<bool, StoreError>,
    ) -> Result<u64, ScopeError> {
        let tenants = self.tenants(tenants)?;
        Ok(self.store.scan(&tenants, filter, range, visit)?)
    }

    /// One event by `event.id` in one tenant.
    pub fn event(&self, tenant: &str, id: &str) -> Result<Option<Event>, ScopeError> {
        authorize(self.principal, Action::ReadEvents, Some(tenant))?;
        let found = self.store.search(&SearchRequest {
            tenants: vec![tenant.to_string()],
            filter: Filter::Match {
                field: Some("event.id".into()),
                value: Pattern::Phrase(id.to_string()),
            },
            range: TimeRange::all(),
            limit: 1,
            offset: 0,
            order: Order::NewestFirst,
            sort: None,
            after: None,
        })?;
        Ok(found
            .hits
            .into_iter()
            .map(|h| h.event)
            .find(|e| e.tenant() == tenant))
    }

    /// Source health of one tenant.
    pub fn sources(
        &self,
        tenant: &str,
        by: &str,
        range: TimeRange,
        silent_hours: i64,
    ) -> Result<Vec<crate::sources::FeedHealth>, ScopeError> {
        authorize(self.principal, Action::ReadConfig, Some(tenant))?;
        Ok(crate::sources::health(
            self.store,
            tenant,
            by,
            range,
            silent_hours,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::{Credential, TenantAccess};

    fn who(role: Role, tenants: &[&str]) -> Principal {
        Principal {
            name: "x".into(),
            role,
            tenants: TenantAccess::Only(tenants.iter().map(|t| t.to_string()).collect()),
            credential: Credential::Local,
        }
    }

    #[test]
    fn other_tenants_look_like_missing_ones() {
        let p = who(Role::Analyst, &["acme"]);
        assert!(authorize(&p, Action::ReadEvents, Some("acme")).is_ok());
        assert_eq!(
            authorize(&p, Action::ReadEvents, Some("globex")),
            Err(Denied::UnknownTenant("globex".into()))
        );
        let c = who(Role::Customer, &["acme"]);
        assert!(authorize(&c, Action::ReadEvents, Some("acme")).is_ok());
        assert!(authorize(&c, Action::WriteConfig, Some("acme")).is_err());
        assert!(authorize(&c, Action::ReadConfig, Some("acme")).is_err());
        let i = who(Role::Ingest, &["acme"]);
        assert!(authorize(&i, Action::Ingest, Some("acme")).is_ok());
        assert!(authorize(&i, Action::ReadEvents, Some("acme")).is_err());
    }
}
