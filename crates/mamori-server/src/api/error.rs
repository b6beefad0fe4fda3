//! API errors: a stable `code`, a human `message`, and for filter errors the column.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mamori_model::{FilterError, TimeError};
use mamori_store::StoreError;
use serde::Serialize;

use crate::pipeline::PipelineError;
use crate::state::StateError;

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code (`bad_filter`, `tenant_not_found`, …).
    pub code: String,
    /// What went wrong, in words.
    pub message: String,
    /// For `bad_filter`: the 1-based column of the mistake in the filter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: ErrorBody,
    /// Seconds to wait before retrying (429/503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                code: code.into(),
                message: message.into(),
                column: None,
            },
            retry_after: None,
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "log in or send a valid API token (Authorization: Bearer mamori_…); it may have expired or been revoked",
        )
    }

    /// 403 `forbidden`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 404 `tenant_not_found`: the tenant does not exist *or* the caller may not see it
    /// (the two are indistinguishable on purpose).
    pub fn tenant_not_found(tenant: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "tenant_not_found",
            format!("no tenant `{tenant}` that you can see"),
        )
    }

    /// 500 `internal`.
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> Self {
        let mut err = Self::new(StatusCode::BAD_REQUEST, "bad_filter", e.to_string());
        err.body.column = Some(e.column);
        err
    }
}

impl From<TimeError> for ApiError {
    fn from(e: TimeError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_time", e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Filter(m) => Self::new(StatusCode::BAD_REQUEST, "bad_filter", m),
            StoreError::TooBroad(m) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "too_broad",
                format!("query too broad: {m}; narrow the time range or the filter"),
            ),
            StoreError::BadTenant(t) => Self::tenant_not_found(&t),
            e @ StoreError::BadCursor(_) => Self::new(StatusCode::BAD_REQUEST, "bad_cursor", e.to_string()),
            e @ StoreError::BadSort(_) => Self::new(StatusCode::BAD_REQUEST, "bad_sort", e.to_string()),
            other => Self::internal(other),
        }
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> Self {
        match e {
            StateError::NotFound(what) => Self::not_found(format!("{what} not found")),
            StateError::Invalid { .. } => Self::new(StatusCode::BAD_REQUEST, "invalid", e.to_string()),
            StateError::Db(_) => Self::internal(e),
        }
    }
}

impl From<PipelineError> for ApiError {
    fn from(e: PipelineError) -> Self {
        match e {
            PipelineError::Unrecognised(m) => {
                Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unrecognised_format", m)
            }
            PipelineError::Busy { retry_after_secs, .. } => {
                let mut err = Self::new(StatusCode::TOO_MANY_REQUESTS, "busy", e.to_string());
                err.retry_after = Some(retry_after_secs);
                err
            }
            PipelineError::Closed => {
                let mut err = Self::new(StatusCode::SERVICE_UNAVAILABLE, "shutting_down", e.to_string());
                err.retry_after = Some(5);
                err
            }
            PipelineError::Store(s) => {
                let mut err = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    format!("events were not stored, send them again: {s}"),
                );
                err.retry_after = Some(5);
                err
            }
            PipelineError::Io(io) => Self::internal(io),
        }
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
