//! The web UI: one HTML page, one script and one style sheet, embedded in the
//! binary at build time and served under `/ui/`. The script talks only to the
//! public REST API (session cookie + `X-CSRF-Token`), so anything the UI does a
//! script can do too.
//!
//! `/` serves two kinds of caller: Elasticsearch shippers (they send an
//! `Authorization` header and get the cluster info they expect) and browsers
//! (no `Authorization`: redirected to `/ui/`).

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::api::Shared;
use crate::api::auth::Caller;

const INDEX: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");
const ICON: &str = include_str!("assets/icon.svg");

/// Content Security Policy of every UI answer: nothing but this origin.
const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Assets change only with the binary; revalidating is cheap on loopback and LAN.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    resp
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

async fn icon() -> Response {
    asset("image/svg+xml", ICON)
}

/// `GET /`: Elasticsearch info for shippers (with `Authorization`), the UI for browsers.
async fn root(State(state): State<Shared>, req: Request) -> Response {
    if !req.headers().contains_key(header::AUTHORIZATION) {
        return Redirect::to("/ui/").into_response();
    }
    let (mut parts, _) = req.into_parts();
    match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => crate::api::ingest::es_info(caller).await,
        Err(e) => e.into_response(),
    }
}

/// Routes of the UI (and of `/`).
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/", get(root).head(|| async { StatusCode::OK }))
        .route("/ui", get(|| async { Redirect::permanent("/ui/") }))
        .route("/ui/", get(index))
        .route("/ui/app.js", get(script))
        .route("/ui/app.css", get(style))
        .route("/ui/icon.svg", get(icon))
}

#[cfg(test)]
mod tests {
    #[test]
    fn assets_reference_only_this_origin() {
        for text in [super::INDEX, super::SCRIPT, super::STYLE, super::ICON] {
            // The SVG namespace is a name, not something loaded.
            let text = text.replace("http://www.w3.org/2000/svg", "");
            assert!(!text.contains("http://"), "an asset loads from elsewhere");
            assert!(!text.contains("https://"), "an asset loads from elsewhere");
        }
    }
}
