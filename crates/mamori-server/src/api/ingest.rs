//! Sending events: `POST /api/v1/ingest/{tenant}/{source}` (any supported
//! format, gzip accepted) and the Elasticsearch-compatible `POST /_bulk`, so
//! Fluent Bit, Vector, Logstash and Filebeat work unchanged. Both answer only
//! once the events are durable, and 429 with `Retry-After` when the pipeline
//! is full.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use mamori_formats::Format;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, RawBody, Shared};
use crate::access::{Action, authorize};
use crate::pipeline::{Origin, PipelineError, parse_body};
use crate::state::Actor;

/// What an ingest did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IngestOutcome {
    /// Events now durable (re-sent ones are stored once).
    pub accepted: u64,
    /// Records sent to the dead letter.
    pub rejected: u64,
    /// Format read.
    pub format: String,
    /// Rejections and recovered problems, in words (the first 20).
    pub messages: Vec<String>,
}

/// Register a tenant the first time events arrive for it (audited).
pub fn ensure_tenant(state: &Shared, actor: &Actor, tenant: &str) -> Result<(), ApiError> {
    mamori_store::validate_tenant(tenant)?;
    let mut known = state.known_tenants.lock().unwrap_or_else(|p| p.into_inner());
    if !known.contains(tenant) {
        state.db().ensure_tenant(actor, tenant)?;
        known.insert(tenant.to_string());
    }
    Ok(())
}

/// Parse `body` and make its events durable; shared by HTTP, syslog and S3.
pub async fn ingest_body(
    state: &Shared,
    origin: Origin,
    body: Vec<u8>,
) -> Result<IngestOutcome, PipelineError> {
    let bytes = body.len() as u64;
    let st = state.clone();
    let o = origin.clone();
    let (parsed, n, found, ack) = tokio::task::spawn_blocking(move || {
        let mut parsed = parse_body(body, &o, &st.dead)?;
        let n = parsed.events.len() as u64;
        let found = detect(&st, &parsed.events);
        let ack = st.committer.submit(std::mem::take(&mut parsed.events))?;
        Ok::<_, PipelineError>((parsed, n, found, ack))
    })
    .await
    .map_err(|e| PipelineError::Io(std::io::Error::other(e.to_string())))??;
    acknowledged(ack).await?;
    record(state, found);
    let source = origin.source.as_deref().unwrap_or("http");
    state
        .metrics
        .accepted(&origin.tenant, source, n, bytes, parsed.rejected);
    Ok(IngestOutcome {
        accepted: n,
        rejected: parsed.rejected,
        format: parsed.format.name().to_string(),
        messages: parsed.messages,
    })
}

/// What the ingest rules find in `events` less what exclusions suppress
/// (nothing when no rules are configured), and each exclusion's hits.
pub fn detect(state: &Shared, events: &[mamori_model::Event]) -> Found {
    match &state.rules {
        Some(r) => r.detections_except(events, &state.active_exclusions()),
        None => Found::default(),
    }
}

/// Detections, and hits per exclusion.
pub type Found = (Vec<crate::state::Detection>, std::collections::HashMap<i64, u64>);

/// Turn detections into alerts and count exclusion hits, once the events are durable.
pub fn record(state: &Shared, (found, hits): Found) {
    if found.is_empty() && hits.is_empty() {
        return;
    }
    let mut db = state.db();
    if let Err(e) = db.record_detections(&found) {
        tracing::error!(error = %e, detections = found.len(), "recording alerts failed");
    }
    for (id, n) in hits {
        if let Err(e) = db.add_exclusion_hits(id, n) {
            tracing::error!(error = %e, exclusion = id, "counting exclusion hits failed");
        }
    }
}

/// Wait until appended events are durable.
pub async fn acknowledged(
    rx: tokio::sync::oneshot::Receiver<Result<(), String>>,
) -> Result<(), PipelineError> {
    match rx.await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(PipelineError::Store(mamori_store::StoreError::Engine {
            action: "commit".into(),
            message: e,
        })),
        Err(_) => Err(PipelineError::Closed),
    }
}

/// Format of an ingest.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct IngestParams {
    /// Format name (`cloudtrail`, `ndjson`, `cef`, …); default: recognised from the body.
    pub format: Option<String>,
}

/// Send events in any supported format (plain or gzip) to a tenant's source.
#[utoipa::path(post, path = "/api/v1/ingest/{tenant}/{source}", tag = "ingest",
    params(("tenant" = String, Path), ("source" = String, Path, description = "The tenant's log feed, stored as labels.source"), IngestParams),
    request_body(content = String, description = "Log records: NDJSON, CloudTrail JSON, syslog lines, CEF, … (gzip accepted)", content_type = "application/x-ndjson"),
    responses((status = 200, body = IngestOutcome), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn ingest(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, source)): Path<(String, String)>,
    Query(q): Query<IngestParams>,
    RawBody(body): RawBody,
) -> ApiResult<JsonOut<IngestOutcome>> {
    authorize(&caller.principal, Action::Ingest, Some(&tenant))?;
    if source.is_empty() || source.len() > 64 || source.contains(['/', '\0']) {
        return Err(ApiError::bad_request("source: use 1-64 characters without '/'"));
    }
    let format = match q.format.as_deref() {
        None | Some("auto") => None,
        Some(name) => Some(Format::from_name(name).ok_or_else(|| {
            ApiError::bad_request(format!("unknown format `{name}`; formats: {}", Format::names()))
        })?),
    };
    ensure_tenant(&state, &caller.actor(), &tenant)?;
    let origin = Origin {
        tenant,
        source: Some(source),
        format,
        name: format!("http {}", caller.origin),
    };
    Ok(JsonOut(ingest_body(&state, origin, body.to_vec()).await?))
}

/// One `_bulk` item's place and target.
struct BulkItem {
    op: String,
    index: String,
    id: Option<String>,
    error: Option<(u16, &'static str, String)>,
}

/// Elasticsearch-compatible bulk ingest (index name → tenant/source by `bulk_index` patterns).
#[utoipa::path(post, path = "/_bulk", tag = "ingest",
    request_body(content = String, description = "Elasticsearch bulk NDJSON: action line, document line", content_type = "application/x-ndjson"),
    responses((status = 200, description = "Elasticsearch bulk response: `{took, errors, items}`", body = Object), (status = 429, body = ErrorBody)))]
pub async fn bulk(State(state): State<Shared>, caller: Caller, body: Bytes) -> ApiResult<Response> {
    run_bulk(state, caller, None, body).await
}

/// Bulk ingest into `index` unless an item names its own `_index`.
#[utoipa::path(post, path = "/{index}/_bulk", tag = "ingest", params(("index" = String, Path)),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 200, description = "Elasticsearch bulk response", body = Object), (status = 429, body = ErrorBody)))]
pub async fn bulk_index(
    State(state): State<Shared>,
    caller: Caller,
    Path(index): Path<String>,
    RawBody(body): RawBody,
) -> ApiResult<Response> {
    run_bulk(state, caller, Some(index), body).await
}

async fn run_bulk(
    state: Shared,
    caller: Caller,
    default_index: Option<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let started = Instant::now();
    let body = decompress(body)?;
    let text = String::from_utf8_lossy(&body);
    let mut items: Vec<BulkItem> = Vec::new();
    // (tenant, source) → (documents, (item number, _id) per document)
    type Members = Vec<(usize, Option<String>)>;
    let mut groups: BTreeMap<(String, Option<String>), (String, Members)> = BTreeMap::new();
    // (1-based line number, text) of every non-empty line, so errors name the line.
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| (i + 1, l));
    while let Some((line_no, action_line)) = lines.next() {
        let action: Value = serde_json::from_str(action_line).map_err(|e| {
            ApiError::bad_request(format!(
                "bulk body line {line_no}: action `{}`: {e}",
                short(action_line)
            ))
        })?;
        let Some((op, meta)) = action.as_object().and_then(|o| o.iter().next()) else {
            return Err(ApiError::bad_request(format!(
                "bulk body line {line_no}: `{}` is not an action (index, create, delete, update)",
                short(action_line)
            )));
        };
        let index = meta
            .get("_index")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| default_index.clone())
            .unwrap_or_default();
        let id = meta.get("_id").and_then(Value::as_str).map(str::to_string);
        let mut item = BulkItem {
            op: op.clone(),
            index: index.clone(),
            id: id.clone(),
            error: None,
        };
        match op.as_str() {
            "index" | "create" => {}
            "delete" => {
                item.error = Some((
                    400,
                    "action_request_validation_exception",
                    "Mamori never deletes events".into(),
                ));
                items.push(item);
                continue;
            }
            _ => {
                lines.next();
                item.error = Some((
                    400,
                    "action_request_validation_exception",
                    format!("`{op}` is not supported; use index or create"),
                ));
                items.push(item);
                continue;
            }
        }
        let Some((_, doc)) = lines.next() else {
            item.error = Some((400, "parse_exception", "action without a document line".into()));
            items.push(item);
            break;
        };
        let target = {
            let known = state.known_tenants.lock().unwrap_or_else(|p| p.into_inner());
            crate::config::map_index(&state.config.bulk_index, &index, |t| known.contains(t))
        };
        let n = items.len();
        match target {
            None => {
                item.error = Some((
                    404,
                    "index_not_found_exception",
                    format!(
                        "`{index}` is not a tenant (or <tenant>-<source>) and no bulk_index pattern maps it"
                    ),
                ))
            }
            Some((tenant, source)) => match authorize(&caller.principal, Action::Ingest, Some(&tenant))
                .map_err(ApiError::from)
                .and_then(|_| ensure_tenant(&state, &caller.actor(), &tenant))
            {
                Err(e) => item.error = Some((e.status.as_u16(), "security_exception", e.body.message)),
                Ok(()) => {
                    let g = groups.entry((tenant, source)).or_default();
                    g.0.push_str(doc.trim());
                    g.0.push('\n');
                    g.1.push((n, id));
                }
            },
        }
        items.push(item);
    }
    let st = state.clone();
    let origin_name = format!("_bulk {}", caller.origin);
    let (ack, found, failures, per_source) = tokio::task::spawn_blocking(move || {
        let mut events = Vec::new();
        let mut failures: Vec<(usize, String)> = Vec::new();
        let mut per_source = Vec::new();
        for ((tenant, source), (docs, members)) in groups {
            let origin = Origin {
                tenant: tenant.clone(),
                source: source.clone(),
                format: Some(Format::Ndjson),
                name: origin_name.clone(),
            };
            let bytes = docs.len() as u64;
            let mut parsed = parse_body(docs.into_bytes(), &origin, &st.dead)?;
            for line in &parsed.bad_lines {
                if let Some((item, _)) = members.get((*line as usize).saturating_sub(1)) {
                    failures.push((*item, "document is not a JSON object".into()));
                }
            }
            // Documents read, in order, are the members whose line was not rejected;
            // a shipper's `_id` becomes the event id so its retries are stored once.
            let good = members
                .iter()
                .enumerate()
                .filter(|(line, _)| !parsed.bad_lines.contains(&(*line as u64 + 1)))
                .map(|(_, m)| m);
            if parsed.events.len() == members.len() - parsed.bad_lines.len() {
                for (ev, (_, id)) in parsed.events.iter_mut().zip(good) {
                    if let Some(id) = id {
                        ev.set_id(id.clone());
                    }
                }
            }
            per_source.push((tenant, source, parsed.events.len() as u64, bytes, parsed.rejected));
            events.extend(parsed.events);
        }
        let found = detect(&st, &events);
        let ack = st.committer.submit(events)?;
        Ok::<_, PipelineError>((ack, found, failures, per_source))
    })
    .await
    .map_err(ApiError::internal)??;
    acknowledged(ack).await?;
    record(&state, found);
    for (tenant, source, n, bytes, rejected) in per_source {
        state
            .metrics
            .accepted(&tenant, source.as_deref().unwrap_or("bulk"), n, bytes, rejected);
    }
    for (item, reason) in failures {
        items[item].error = Some((400, "mapper_parsing_exception", reason));
    }
    let errors = items.iter().any(|i| i.error.is_some());
    let out: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(seq, i)| {
            let mut inner = json!({"_index": i.index, "_id": i.id.clone().unwrap_or_default()});
            match &i.error {
                None => {
                    inner["status"] = json!(201);
                    inner["result"] = json!("created");
                    inner["_version"] = json!(1);
                    inner["_seq_no"] = json!(seq);
                    inner["_primary_term"] = json!(1);
                    inner["_shards"] = json!({"total": 1, "successful": 1, "failed": 0});
                }
                Some((status, kind, reason)) => {
                    inner["status"] = json!(status);
                    inner["error"] = json!({"type": kind, "reason": reason});
                }
            }
            json!({ i.op.clone(): inner })
        })
        .collect();
    let mut resp = JsonOut(json!({
        "took": started.elapsed().as_millis() as u64,
        "errors": errors,
        "items": out,
    }))
    .into_response();
    resp.headers_mut()
        .insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    Ok(resp)
}

fn short(s: &str) -> String {
    s.chars().take(80).collect()
}

/// Bodies sent with `Content-Encoding: gzip` (or just gzip bytes).
fn decompress(body: Bytes) -> ApiResult<Vec<u8>> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&body[..]), &mut out)
            .map_err(|e| ApiError::bad_request(format!("gzip body: {e}")))?;
        Ok(out)
    } else {
        Ok(body.to_vec())
    }
}

/// What Elasticsearch clients ask first (`GET /`): a version they accept.
pub async fn es_info(_caller: Caller) -> Response {
    let mut resp = JsonOut(json!({
        "name": "mamori",
        "cluster_name": "mamori",
        "cluster_uuid": "mamori",
        "version": {"number": "8.11.0", "build_flavor": "default", "lucene_version": "9.8.0",
                    "minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0"},
        "tagline": "You Know, for Search"
    }))
    .into_response();
    resp.headers_mut()
        .insert("x-elastic-product", HeaderValue::from_static("Elasticsearch"));
    resp
}

async fn es_health(_caller: Caller) -> JsonOut<Value> {
    JsonOut(json!({"cluster_name": "mamori", "status": "green", "timed_out": false, "number_of_nodes": 1}))
}

/// Routes under `/api/v1`.
pub fn api_routes() -> Router<Shared> {
    Router::new().route("/ingest/{tenant}/{source}", post(ingest))
}

/// Elasticsearch-compatible routes at the root.
pub fn bulk_routes() -> Router<Shared> {
    Router::new()
        .route("/_cluster/health", get(es_health))
        .route("/_bulk", post(bulk))
        .route("/{index}/_bulk", post(bulk_index))
}
