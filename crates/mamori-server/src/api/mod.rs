//! The REST API (`/api/v1`), the Elasticsearch-compatible `_bulk` endpoint
//! and the operations endpoints, over one shared [`AppState`].

pub mod admin;
pub mod alerts;
pub mod auth;
pub mod error;
pub mod events;
pub mod exclusions;
pub mod ingest;
pub mod ops;
pub mod rules;
pub mod scheduled;
pub mod tenants;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;

use crate::access::{Denied, Events, ScopeError};
use crate::config::ServerConfig;
use crate::metrics::Metrics;
use crate::pipeline::{Committer, DeadLetters};
use crate::state::{Actor, Principal, StateDb};
pub use error::{ApiError, ApiResult, ErrorBody};

/// Everything the handlers share.
pub struct AppState {
    /// Stored events, reachable only per principal.
    pub events: Events,
    /// The state database.
    pub db: Mutex<StateDb>,
    /// Group commit of ingested events.
    pub committer: Committer,
    /// Dead letters of every tenant.
    pub dead: DeadLetters,
    /// Counters.
    pub metrics: Metrics,
    /// Configuration.
    pub config: ServerConfig,
    /// Where the event store lives (for its size).
    pub events_dir: PathBuf,
    /// Start time.
    pub started: Instant,
    /// Sigma rules run at ingest, if configured.
    pub rules: Option<Arc<crate::rules::RuleEngine>>,
    /// Exclusions in force, reloaded on every change and when one expires.
    pub exclusions: std::sync::RwLock<Arc<crate::rules::Suppressions>>,
    /// Tenants registered in the state database (so ingest registers each once).
    pub known_tenants: Mutex<HashSet<String>>,
}

/// The state as handlers receive it.
pub type Shared = Arc<AppState>;

impl AppState {
    /// The state database, locked.
    pub fn db(&self) -> MutexGuard<'_, StateDb> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl AppState {
    /// The exclusions in force now (reloaded when one has expired).
    pub fn active_exclusions(&self) -> Arc<crate::rules::Suppressions> {
        let current = self.exclusions.read().unwrap_or_else(|p| p.into_inner()).clone();
        if current.valid_until.is_some_and(|t| t <= chrono::Utc::now()) {
            return self.reload_exclusions();
        }
        current
    }

    /// Reload the exclusions in force from the state database.
    pub fn reload_exclusions(&self) -> Arc<crate::rules::Suppressions> {
        let fresh = match crate::rules::Suppressions::load(&self.db()) {
            Ok(x) => Arc::new(x),
            Err(e) => {
                tracing::error!(error = %e, "loading exclusions; keeping the previous set");
                return self.exclusions.read().unwrap_or_else(|p| p.into_inner()).clone();
            }
        };
        *self.exclusions.write().unwrap_or_else(|p| p.into_inner()) = fresh.clone();
        fresh
    }
}

/// The audit actor of a principal calling from `origin`.
pub fn actor(p: &Principal, origin: &str) -> Actor {
    Actor {
        name: p.name.clone(),
        origin: origin.to_string(),
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> Self {
        match d {
            Denied::UnknownTenant(t) => ApiError::tenant_not_found(&t),
            Denied::Role { .. } => ApiError::forbidden(d.to_string()),
        }
    }
}

impl From<ScopeError> for ApiError {
    fn from(e: ScopeError) -> Self {
        match e {
            ScopeError::Denied(d) => d.into(),
            ScopeError::Store(s) => s.into(),
        }
    }
}

/// A JSON request body whose problems are answered as [`ApiError`]s
/// (`bad_json`, `payload_too_large`) like every other error.
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => {
                let status = rejection.status();
                let code = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    "payload_too_large"
                } else {
                    "bad_json"
                };
                Err(ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

/// A raw request body, refused with 413 `payload_too_large` beyond the configured limit.
pub struct RawBody(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|r| {
                let status = r.status();
                let code = if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    "payload_too_large"
                } else {
                    "bad_body"
                };
                ApiError::new(status, code, r.body_text())
            })
    }
}

async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no such endpoint: {}", uri.path()))
}

/// Run blocking work (store, argon2) off the async threads.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)?
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Mamori API", version = "1", description = "Search, ingest and administration of Mamori, the SOC platform."),
    paths(
        auth::login, auth::logout, auth::me,
        events::search, events::aggregate, events::facets, events::export, events::event, events::pivots,
        tenants::list_tenants, tenants::create_tenant,
        tenants::list_context_lists, tenants::get_context_list, tenants::put_context_list, tenants::delete_context_list,
        tenants::list_saved, tenants::get_saved, tenants::put_saved, tenants::delete_saved,
        tenants::sources,
        admin::list_users, admin::create_user, admin::get_user, admin::update_user, admin::delete_user,
        admin::set_password, admin::list_tokens, admin::create_token, admin::revoke_token, admin::audit,
        alerts::list_alerts, alerts::get_alert, alerts::update_alert,
        exclusions::list_exclusions, exclusions::propose_exclusion, exclusions::approve_exclusion,
        exclusions::revoke_exclusion, exclusions::preview_exclusion,
        rules::list_rules, rules::get_rule, rules::update_rule, rules::backtest,
        scheduled::list_scheduled, scheduled::put_scheduled, scheduled::delete_scheduled, scheduled::run_scheduled,
        ingest::ingest, ingest::bulk, ingest::bulk_index,
        ops::healthz, ops::readyz, ops::metrics,
    ),
    modifiers(&Security),
    tags((name = "events", description = "Search and read events"),
         (name = "tenants", description = "Tenants, context lists, saved searches, sources"),
         (name = "admin", description = "Users, tokens, audit"),
         (name = "ingest", description = "Send events"),
         (name = "alerts", description = "Alerts raised by rules, and their triage"),
         (name = "exclusions", description = "Governed exclusions that suppress detections"),
         (name = "rules", description = "Detection rules: list, source, enable/disable, backtest"),
         (name = "auth", description = "Sessions"),
         (name = "ops", description = "Health and metrics"))
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mamori_<id>_<secret>")
                    .build(),
            ),
        );
        c.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("mamori_session"))),
        );
        openapi.security = Some(vec![
            utoipa::openapi::security::SecurityRequirement::new("token", Vec::<String>::new()),
            utoipa::openapi::security::SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The whole HTTP application.
pub fn router(state: Shared) -> Router {
    let limit = state.config.max_body_mb * 1024 * 1024;
    let api = Router::new()
        .merge(auth::routes())
        .merge(events::routes())
        .merge(tenants::routes())
        .merge(admin::routes())
        .merge(alerts::routes())
        .merge(exclusions::routes())
        .merge(rules::routes())
        .merge(scheduled::routes())
        .merge(ingest::api_routes())
        .route(
            "/openapi.json",
            axum::routing::get(|| async { axum::Json(ApiDoc::openapi()) }),
        );
    Router::new()
        .nest("/api/v1", api)
        .merge(ingest::bulk_routes())
        .merge(ops::routes())
        .merge(crate::ui::routes())
        .fallback(no_route)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}
