//! Events: search, aggregate, facets, export, one event, its pivots.

use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json as JsonOut, Router};
use chrono::Utc;
use mamori_model::{Filter, TimeRange};
use mamori_store::{AggregateRequest, Aggregation, Cursor, FacetRequest, Order, SearchRequest, Sort};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::Caller;
use super::{ApiError, ApiResult, ErrorBody, Shared, blocking};

fn default_from() -> String {
    "-24h".into()
}
fn default_to() -> String {
    "now".into()
}
fn default_limit() -> usize {
    100
}

/// The part every event query shares: tenants, filter and time range.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Selection {
    /// Tenants to search; empty: every tenant you may see.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Filter in the filter language (`event.action:ConsoleLogin and not source.ip:@office`); empty: all.
    #[serde(default)]
    pub query: String,
    /// Start: `-15m`, `-24h`, `-7d`, `now` or RFC 3339.
    #[serde(default = "default_from")]
    pub from: String,
    /// End (exclusive).
    #[serde(default = "default_to")]
    pub to: String,
}

/// A selection resolved: tenants checked, filter parsed and lists expanded.
struct Resolved {
    tenants: Vec<String>,
    filter: Filter,
    range: TimeRange,
}

fn resolve(state: &Shared, caller: &Caller, sel: &Selection) -> ApiResult<Resolved> {
    let filter = mamori_model::filter::parse(&sel.query)?;
    let range = TimeRange::parse(&sel.from, &sel.to, Utc::now())?;
    let tenants = state.events.scoped(&caller.principal).tenants(&sel.tenants)?;
    let filter = state.db().expand_for(&tenants, filter)?;
    Ok(Resolved {
        tenants,
        filter,
        range,
    })
}

/// A search.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SearchBody {
    /// What to search.
    #[serde(flatten)]
    pub selection: Selection,
    /// Page size (at most 10,000).
    #[serde(default = "default_limit")]
    pub limit: usize,
    /// Hits to skip.
    #[serde(default)]
    pub offset: usize,
    /// `newest` (default) or `oldest` first.
    #[serde(default)]
    pub order: Option<String>,
    /// Sort by a field instead of by time: `FIELD`, `FIELD:asc` or
    /// `FIELD:desc` (events without the field last, ties newest first).
    #[serde(default)]
    pub sort: Option<String>,
    /// The `next` of the previous page: continue strictly after its last hit
    /// (exact while events arrive; same query, range and sort).
    #[serde(default)]
    pub search_after: Option<String>,
}

/// A page of events.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// Events matching in the range.
    pub total: u64,
    /// Milliseconds taken.
    pub took_ms: u64,
    /// Tenants searched.
    pub tenants: Vec<String>,
    /// The filter as run (lists expanded).
    pub filter: String,
    /// The events (ECS documents), in the requested order.
    #[schema(value_type = Vec<Object>)]
    pub hits: Vec<Value>,
    /// Cursor of the last hit when the page is full: pass it as
    /// `search_after` for the next page.
    pub next: Option<String>,
}

/// Search events.
#[utoipa::path(post, path = "/api/v1/search", tag = "events", request_body = SearchBody,
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn search(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<SearchBody>,
) -> ApiResult<JsonOut<SearchResponse>> {
    if body.limit > 10_000 {
        return Err(ApiError::bad_request(
            "limit is at most 10000; page with offset or export",
        ));
    }
    let order = match body.order.as_deref() {
        None | Some("newest") => Order::NewestFirst,
        Some("oldest") => Order::OldestFirst,
        Some(o) => {
            return Err(ApiError::bad_request(format!(
                "order `{o}`: use newest or oldest"
            )));
        }
    };
    let sort = body.sort.as_deref().map(Sort::parse).transpose()?;
    let after = body.search_after.as_deref().map(Cursor::decode).transpose()?;
    blocking(move || {
        let started = Instant::now();
        let r = resolve(&state, &caller, &body.selection)?;
        let printed = r.filter.to_string();
        let res = state.events.scoped(&caller.principal).search(SearchRequest {
            tenants: r.tenants.clone(),
            filter: r.filter,
            range: r.range,
            limit: body.limit,
            offset: body.offset,
            order,
            sort,
            after,
        })?;
        let next = (res.hits.len() == body.limit && body.limit > 0)
            .then(|| res.hits.last().map(|h| h.cursor.encode()))
            .flatten();
        let took = started.elapsed();
        state.metrics.observe_query(took.as_secs_f64());
        Ok(JsonOut(SearchResponse {
            total: res.total,
            took_ms: took.as_millis() as u64,
            tenants: r.tenants,
            filter: printed,
            hits: res
                .hits
                .into_iter()
                .map(|h| Value::Object(h.event.into_document()))
                .collect(),
            next,
        }))
    })
    .await
}

/// One aggregation to compute.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AggSpec {
    /// Most frequent values of a field.
    Terms {
        /// Field.
        field: String,
        /// Buckets (default 10).
        #[serde(default)]
        size: Option<usize>,
    },
    /// Events per time bucket (about 60 buckets unless `interval_secs`).
    DateHistogram {
        /// Bucket width in seconds.
        #[serde(default)]
        interval_secs: Option<i64>,
    },
    /// Count, min, max, sum, average of a numeric field.
    Stats {
        /// Field.
        field: String,
    },
    /// Distinct values of a field.
    Cardinality {
        /// Field.
        field: String,
    },
    /// Top values of a field, each with its histogram.
    TermsHistogram {
        /// Field.
        field: String,
        /// Buckets (default 10).
        #[serde(default)]
        size: Option<usize>,
        /// Bucket width in seconds.
        #[serde(default)]
        interval_secs: Option<i64>,
    },
}

impl From<AggSpec> for Aggregation {
    fn from(a: AggSpec) -> Self {
        match a {
            AggSpec::Terms { field, size } => Aggregation::Terms {
                field,
                size: size.unwrap_or(10).min(1000),
            },
            AggSpec::DateHistogram { interval_secs } => Aggregation::DateHistogram { interval_secs },
            AggSpec::Stats { field } => Aggregation::Stats { field },
            AggSpec::Cardinality { field } => Aggregation::Cardinality { field },
            AggSpec::TermsHistogram {
                field,
                size,
                interval_secs,
            } => Aggregation::TermsHistogram {
                field,
                size: size.unwrap_or(10).min(100),
                interval_secs,
            },
        }
    }
}

/// Aggregations over a selection.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AggregateBody {
    /// What to aggregate.
    #[serde(flatten)]
    pub selection: Selection,
    /// What to compute.
    pub aggregations: Vec<AggSpec>,
}

/// Aggregate events (terms, histograms, stats, cardinality).
#[utoipa::path(post, path = "/api/v1/aggregate", tag = "events", request_body = AggregateBody,
    responses((status = 200, description = "`{total, results: [...]}` in the order requested", body = Object), (status = 400, body = ErrorBody)))]
pub async fn aggregate(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<AggregateBody>,
) -> ApiResult<JsonOut<Value>> {
    if body.aggregations.is_empty() || body.aggregations.len() > 20 {
        return Err(ApiError::bad_request("ask for 1 to 20 aggregations"));
    }
    blocking(move || {
        let started = Instant::now();
        let r = resolve(&state, &caller, &body.selection)?;
        let res = state
            .events
            .scoped(&caller.principal)
            .aggregate(AggregateRequest {
                tenants: r.tenants,
                filter: r.filter,
                range: r.range,
                aggregations: body.aggregations.into_iter().map(Aggregation::from).collect(),
            })?;
        state.metrics.observe_query(started.elapsed().as_secs_f64());
        Ok(JsonOut(serde_json::to_value(res).map_err(ApiError::internal)?))
    })
    .await
}

/// Field facets (the Discover sidebar).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FacetsBody {
    /// What to facet.
    #[serde(flatten)]
    pub selection: Selection,
    /// Only these fields (default: all present).
    #[serde(default)]
    pub fields: Vec<String>,
    /// Top values per field (default 5).
    #[serde(default)]
    pub top: Option<usize>,
    /// Newest events examined (default 10,000).
    #[serde(default)]
    pub sample: Option<usize>,
}

/// Each field's presence and top values over the newest matching events.
#[utoipa::path(post, path = "/api/v1/facets", tag = "events", request_body = FacetsBody,
    responses((status = 200, description = "`{total, examined, sampled, fields: [{field, count, share, distinct, top, top_examined?}]}`; `top_examined`: a text field's values come from the newest that many events", body = Object), (status = 400, body = ErrorBody)))]
pub async fn facets(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<FacetsBody>,
) -> ApiResult<JsonOut<Value>> {
    blocking(move || {
        let started = Instant::now();
        let r = resolve(&state, &caller, &body.selection)?;
        let res = state.events.scoped(&caller.principal).facets(FacetRequest {
            tenants: r.tenants,
            filter: r.filter,
            range: r.range,
            fields: body.fields,
            top: body.top.unwrap_or(5).min(100),
            sample: body.sample.unwrap_or(10_000).min(100_000),
        })?;
        state.metrics.observe_query(started.elapsed().as_secs_f64());
        Ok(JsonOut(serde_json::to_value(res).map_err(ApiError::internal)?))
    })
    .await
}

/// An export.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ExportBody {
    /// What to export.
    #[serde(flatten)]
    pub selection: Selection,
    /// `ndjson` (default) or `csv`.
    #[serde(default)]
    pub format: Option<String>,
    /// Columns of a CSV export.
    #[serde(default)]
    pub columns: Vec<String>,
}

/// Every matching event, streamed as NDJSON or CSV (newest first).
#[utoipa::path(post, path = "/api/v1/export", tag = "events", request_body = ExportBody,
    responses((status = 200, description = "NDJSON or CSV stream", content_type = "application/x-ndjson"), (status = 400, body = ErrorBody)))]
pub async fn export(
    State(state): State<Shared>,
    caller: Caller,
    super::Json(body): super::Json<ExportBody>,
) -> ApiResult<Response> {
    let kind = body.format.clone().unwrap_or_else(|| "ndjson".into());
    let content_type = match kind.as_str() {
        "ndjson" => "application/x-ndjson",
        "csv" => "text/csv; charset=utf-8",
        other => {
            return Err(ApiError::bad_request(format!(
                "format `{other}`: use ndjson or csv"
            )));
        }
    };
    let columns = if body.columns.is_empty() {
        [
            "@timestamp",
            "tenant",
            "event.action",
            "source.ip",
            "user.name",
            "event.outcome",
            "message",
        ]
        .map(String::from)
        .to_vec()
    } else {
        body.columns.clone()
    };
    let r = {
        let (state, caller, sel) = (state.clone(), caller.clone(), body.selection.clone());
        blocking(move || resolve(&state, &caller, &sel)).await?
    };
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let mut out = ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        };
        let scoped = state.events.scoped(&caller.principal);
        let result = crate::export::export_scoped(
            &scoped, &r.tenants, &r.filter, &r.range, &kind, &columns, &mut out,
        );
        match result {
            Ok(_) => {
                let _ = std::io::Write::flush(&mut out);
            }
            Err(e) => {
                let _ = out.tx.blocking_send(Err(std::io::Error::other(e.to_string())));
            }
        }
    });
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    let mut resp = Body::from_stream(stream).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    Ok(resp)
}

const CHUNK: usize = 64 * 1024;

/// Writes into a channel of body chunks.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

/// One event by its `event.id`.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/events/{id}", tag = "events",
    params(("tenant" = String, Path), ("id" = String, Path, description = "event.id")),
    responses((status = 200, description = "The ECS document, `event.original` included", body = Object), (status = 404, body = ErrorBody)))]
pub async fn event(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<JsonOut<Value>> {
    blocking(move || {
        let ev = state.events.scoped(&caller.principal).event(&tenant, &id)?;
        ev.map(|e| JsonOut(Value::Object(e.into_document())))
            .ok_or_else(|| ApiError::not_found(format!("no event {id} in {tenant}")))
    })
    .await
}

/// Window of a pivot.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PivotParams {
    /// Seconds either side of the event (default 3600).
    pub window: Option<i64>,
}

/// A pivot from one event: same value of a field, around its time.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PivotOut {
    /// `same access key`, `same source IP`, …
    pub name: String,
    /// Field.
    pub field: String,
    /// Value.
    pub value: String,
    /// Filter to run.
    pub query: String,
    /// Start (RFC 3339).
    pub from: String,
    /// End (RFC 3339).
    pub to: String,
    /// Events in that window with that value.
    pub count: u64,
}

/// Pivots of an event (same access key / IP / user ± window), with counts.
#[utoipa::path(get, path = "/api/v1/tenants/{tenant}/events/{id}/pivots", tag = "events",
    params(("tenant" = String, Path), ("id" = String, Path), PivotParams),
    responses((status = 200, body = Vec<PivotOut>), (status = 404, body = ErrorBody)))]
pub async fn pivots(
    State(state): State<Shared>,
    caller: Caller,
    Path((tenant, id)): Path<(String, String)>,
    Query(q): Query<PivotParams>,
) -> ApiResult<JsonOut<Vec<PivotOut>>> {
    let window = chrono::Duration::seconds(q.window.unwrap_or(3600).clamp(1, 30 * 86400));
    blocking(move || {
        let scoped = state.events.scoped(&caller.principal);
        let ev = scoped
            .event(&tenant, &id)?
            .ok_or_else(|| ApiError::not_found(format!("no event {id} in {tenant}")))?;
        let mut out = Vec::new();
        for p in mamori_model::pivot::pivots(&ev, window) {
            let count = scoped.count(std::slice::from_ref(&tenant), &p.filter, &p.range)?;
            out.push(PivotOut {
                name: p.name.into(),
                field: p.field.into(),
                value: p.value,
                query: p.filter.to_string(),
                from: p.range.from.to_rfc3339(),
                to: p.range.to.to_rfc3339(),
                count,
            });
        }
        Ok(JsonOut(out))
    })
    .await
}

/// Routes of this module.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/search", post(search))
        .route("/aggregate", post(aggregate))
        .route("/facets", post(facets))
        .route("/export", post(export))
        .route("/tenants/{tenant}/events/{id}", get(event))
        .route("/tenants/{tenant}/events/{id}/pivots", get(pivots))
}
