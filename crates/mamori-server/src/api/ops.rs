//! Operations: liveness, readiness and Prometheus metrics.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::Caller;
use super::{ApiResult, ErrorBody, Shared};
use crate::access::{Action, authorize};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "ops", security(()), responses((status = 200, description = "ok")))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The server can take work: state database and commit queue answer.
#[utoipa::path(get, path = "/readyz", tag = "ops", security(()),
    responses((status = 200, description = "ready"), (status = 503, description = "not ready")))]
pub async fn readyz(State(state): State<Shared>) -> Response {
    let db_ok = state.db().user_count().is_ok();
    let queue = state.committer.queued();
    if db_ok && queue < state.config.ingest_queue_events {
        (StatusCode::OK, "ready\n").into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: database ok={db_ok}, queue={queue}\n"),
        )
            .into_response()
    }
}

/// Prometheus metrics (ingest per source, queue depth, dead letters, query latency, store size).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"), (status = 401, body = ErrorBody)))]
pub async fn metrics(State(state): State<Shared>, caller: Caller) -> ApiResult<Response> {
    authorize(&caller.principal, Action::ReadConfig, None)?;
    let st = state.clone();
    let size = tokio::task::spawn_blocking(move || crate::metrics::dir_size(&st.events_dir))
        .await
        .unwrap_or(0);
    let text = state
        .metrics
        .render(state.committer.queued(), state.dead.written(), size);
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response())
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}
