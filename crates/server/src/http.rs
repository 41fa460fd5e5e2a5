//! The HTTP API (axum). Errors are Personalize-style: the status, an `x-amzn-ErrorType` header
//! and a JSON body `{"__type": "InvalidInputException", "message": "...", "field": "..."}`.
//!
//! | route | scope | answer |
//! |---|---|---|
//! | `POST /events` | write | PutEvents (1–1000 events); `{"stored": n, "duplicates": m}` after the commit |
//! | `POST /items`, `POST /users` | write | PutItems / PutUsers (1–100 records) |
//! | `POST /v1/track`, `/v1/page`, `/v1/screen`, `/v1/identify`, `/v1/batch` | write (also HTTP Basic) | Segment calls → PutEvents / PutUsers (see the README) |
//! | `POST /recommendations-log` | write | what the edge recommended (attribution, A/B variant) |
//! | `POST /retrain?mode=full\|update[&wait=true]` | admin | queue a retrain (202), or run it and answer its report |
//! | `GET /retrains` | admin | the last 50 retrains |
//! | `GET /model`, `GET /models/{version}` | admin | the (private, signed) model bytes with `ETag`; `If-None-Match` → 304 |
//! | `GET /users/{userId}/profile` | that user's token | the user's slice of the model (see `profile`) |
//! | `GET /experiment?userId=&sessionId=` | — | the configured A/B experiment and the caller's variant |
//! | `GET /health` | — / admin | `{"status":"ok"}`; with the admin token also the model and store details |
//! | `GET /metrics` | admin | Prometheus text |
//!
//! `/health` and `/metrics` read in-memory counters (`counters`), never the events table. The
//! Segment routes are in `segment_calls`.
//!
//! The admin token is accepted on write routes too; the write token on an admin route is 403;
//! a missing or unknown token is 401.

use edgerec_core::ErrorCode;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use edgerec_core::segment;

use super::api_error::ApiError;
use super::db;
use super::ingest::{self, InputError};
use super::retrain::{self, QueueError};
use super::store::{self, StoreError};
use super::{Mode, Shared, ab, etag};
use segment_calls::{segment_batch, segment_identify, segment_page, segment_screen, segment_track};

mod segment_calls;

type ApiResult = Result<Response, ApiError>;

/// The router over the shared state.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/events", post(put_events))
        .route("/items", post(put_items))
        .route("/users", post(put_users))
        .route("/recommendations-log", post(put_recommendations))
        .route("/v1/track", post(segment_track))
        .route("/v1/page", post(segment_page))
        .route("/v1/screen", post(segment_screen))
        .route("/v1/identify", post(segment_identify))
        .route("/v1/batch", post(segment_batch))
        .route("/retrain", post(post_retrain))
        .route("/retrains", get(get_retrains))
        .route("/model", get(get_model))
        .route("/model/public", get(get_public_model))
        .route("/models/{version}", get(get_model_version))
        .route(
            "/users/{user_id}/profile",
            get(super::profile::get_user_profile),
        )
        .route("/experiment", get(get_experiment))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .with_state(shared)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ResourceNotFoundException",
        "no such route",
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Write,
    Admin,
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn authorize(s: &Shared, headers: &HeaderMap, scope: Scope) -> Result<(), ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    check_token(s, token, scope)
}

/// The Segment routes' gate: the write token as `Bearer`, or as the user name of HTTP Basic
/// (`Authorization: Basic base64(token:)`, how Segment's HTTP API sends a write key).
fn authorize_segment(s: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(segment::basic_write_key);
    match basic {
        Some(key) => check_token(s, Some(&key), Scope::Write),
        None => authorize(s, headers, Scope::Write),
    }
}

fn check_token(s: &Shared, token: Option<&str>, scope: Scope) -> Result<(), ApiError> {
    let Some(token) = token else {
        s.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "missing bearer token (Authorization: Bearer <token>)",
        ));
    };
    if ct_eq(token.as_bytes(), s.config.admin_token.as_bytes()) {
        return Ok(());
    }
    if ct_eq(token.as_bytes(), s.config.write_token.as_bytes()) {
        if scope == Scope::Write {
            return Ok(());
        }
        s.metrics.forbidden.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "AccessDeniedException",
            "this route needs the admin token; the write token is not enough",
        ));
    }
    s.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedException",
        "unknown bearer token",
    ))
}

async fn read_body(
    s: &Shared,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    read_body_up_to(s.config.max_body_bytes, headers, body).await
}

async fn read_body_up_to(
    limit: usize,
    headers: &HeaderMap,
    body: Body,
) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "InvalidInputException",
            format!("request body exceeds the limit of {limit} bytes"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| too_large())
}

fn json_ok(status: StatusCode, v: &serde_json::Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn bad(s: &Shared, e: InputError) -> ApiError {
    s.metrics.bad_requests.fetch_add(1, Ordering::Relaxed);
    ApiError::invalid(e)
}

async fn put_events(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> ApiResult {
    let t0 = Instant::now();
    authorize(&s, &headers, Scope::Write)?;
    let body = read_body(&s, &headers, body).await?;
    let req = ingest::parse_events(&body).map_err(|e| {
        s.metrics.events_rejected.fetch_add(1, Ordering::Relaxed);
        bad(&s, e)
    })?;
    let r = store_events(&s, req.events, t0).await?;
    Ok(json_ok(
        StatusCode::OK,
        &json!({"stored": r.stored, "duplicates": r.duplicates}),
    ))
}

async fn put_items(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> ApiResult {
    authorize(&s, &headers, Scope::Write)?;
    let body = read_body(&s, &headers, body).await?;
    let recs = ingest::parse_records(&body, false).map_err(|e| bad(&s, e))?;
    let n = s
        .store
        .put_items(recs)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    s.metrics
        .items_stored
        .fetch_add(n as u64, Ordering::Relaxed);
    Ok(json_ok(StatusCode::OK, &json!({"stored": n})))
}

async fn put_users(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> ApiResult {
    authorize(&s, &headers, Scope::Write)?;
    let body = read_body(&s, &headers, body).await?;
    let recs = ingest::parse_records(&body, true).map_err(|e| bad(&s, e))?;
    let n = store_users(&s, recs).await?;
    Ok(json_ok(StatusCode::OK, &json!({"stored": n})))
}

/// Stores accepted events and counts them (received, stored, deduplicated, one request, the
/// acknowledgement time since `t0`).
async fn store_events(
    s: &Shared,
    events: Vec<ingest::NewEvent>,
    t0: Instant,
) -> Result<store::EventsStored, ApiError> {
    let m = &s.metrics;
    m.events_received
        .fetch_add(events.len() as u64, Ordering::Relaxed);
    let r = s
        .store
        .put_events(events)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    m.events_stored
        .fetch_add(r.stored as u64, Ordering::Relaxed);
    m.events_deduplicated
        .fetch_add(r.duplicates as u64, Ordering::Relaxed);
    m.event_requests.fetch_add(1, Ordering::Relaxed);
    m.record_ack(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
    Ok(r)
}

/// Stores accepted user records and counts them.
async fn store_users(s: &Shared, users: Vec<ingest::NewRecord>) -> Result<usize, ApiError> {
    let n = s
        .store
        .put_users(users)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    s.metrics
        .users_stored
        .fetch_add(n as u64, Ordering::Relaxed);
    Ok(n)
}

async fn put_recommendations(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    authorize(&s, &headers, Scope::Write)?;
    let body = read_body(&s, &headers, body).await?;
    let mut recs = ingest::parse_recommendations(&body, store::now_ms()).map_err(|e| bad(&s, e))?;
    if let Some(exp) = &s.config.experiment {
        for r in &mut recs {
            if r.experiment.is_none() {
                r.experiment = Some(exp.name.clone());
            }
            if r.variant.is_none() && r.experiment.as_deref() == Some(exp.name.as_str()) {
                let key = r.user_id.as_deref().or(r.session_id.as_deref());
                r.variant = key.and_then(|k| ab::assign(exp, k)).map(str::to_owned);
            }
        }
    }
    let n = s
        .store
        .put_recommendations(recs)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    s.metrics
        .recommendations_logged
        .fetch_add(n as u64, Ordering::Relaxed);
    Ok(json_ok(StatusCode::OK, &json!({"stored": n})))
}

async fn post_retrain(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    authorize(&s, &headers, Scope::Admin)?;
    let mode = match q.get("mode") {
        None => Mode::Full,
        Some(m) => Mode::parse(m).ok_or_else(|| {
            bad(
                &s,
                InputError {
                    field: "mode".into(),
                    message: format!("expected full or update, found {m:?}"),
                },
            )
        })?,
    };
    let wait = matches!(q.get("wait").map(String::as_str), Some("true" | "1"));
    let (tx, rx) = if wait {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (Some(tx), Some(rx))
    } else {
        (None, None)
    };
    match s.retrainer.queue(mode, "api", tx) {
        Ok(()) => {}
        Err(QueueError::Busy) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "ResourceInUseException",
                "a retrain is already running and another is queued; try again later",
            ));
        }
        Err(QueueError::Stopped) => {
            return Err(ApiError::coded(
                ErrorCode::Unavailable,
                "the retrainer has stopped",
            ));
        }
    }
    match rx {
        None => Ok(json_ok(
            StatusCode::ACCEPTED,
            &json!({"queued": true, "mode": mode.as_str()}),
        )),
        Some(rx) => {
            let outcome = rx.await.map_err(|_| {
                ApiError::coded(ErrorCode::Internal, "the retrain did not report back")
            })?;
            Ok(json_ok(
                StatusCode::OK,
                &serde_json::to_value(&outcome).unwrap_or_default(),
            ))
        }
    }
}

async fn with_reader<T: Send + 'static>(
    s: &Arc<Shared>,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let s = Arc::clone(s);
    let r = tokio::task::spawn_blocking(move || {
        let c = s.store.reader()?;
        f(&c).map_err(StoreError::from)
    })
    .await;
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(ApiError::internal(&e)),
        Err(e) => Err(ApiError::coded(ErrorCode::Internal, e.to_string())),
    }
}

async fn get_retrains(State(s): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult {
    authorize(&s, &headers, Scope::Admin)?;
    let rows = with_reader(&s, |c| db::retrains::recent(c, 50)).await?;
    let rows: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "mode": r.mode, "trigger": r.trigger,
                "startedMs": r.started_ms, "finishedMs": r.finished_ms,
                "status": r.status, "version": r.version,
                "eventsUpto": r.events_upto, "bytes": r.bytes,
                "scores": r.scores.and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok()),
                "message": r.message, "eventToModelMs": r.event_to_model_ms,
            })
        })
        .collect();
    Ok(json_ok(StatusCode::OK, &json!({"retrains": rows})))
}

fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(str::trim)
                .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
        })
}

fn model_response(
    s: &Shared,
    headers: &HeaderMap,
    version: u64,
    etag: &str,
    bytes: Vec<u8>,
) -> Response {
    let mut r = if if_none_match(headers, etag) {
        s.metrics.model_not_modified.fetch_add(1, Ordering::Relaxed);
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        s.metrics.model_downloads.fetch_add(1, Ordering::Relaxed);
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response()
    };
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&version.to_string()) {
        h.insert("x-edgerec-model-version", v);
    }
    r
}

async fn get_model(State(s): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult {
    authorize(&s, &headers, Scope::Admin)?;
    let p = s.current().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "no model has been published yet",
        )
    })?;
    let bytes = if if_none_match(&headers, &p.etag) {
        Vec::new()
    } else {
        p.bytes.as_ref().clone()
    };
    Ok(model_response(&s, &headers, p.version, &p.etag, bytes))
}

/// The public profile of the published model: no one's data, so no credentials asked
/// (browsers and the storefront load it).
async fn get_public_model(State(s): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult {
    let p = s.current().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "no model has been published yet",
        )
    })?;
    let bytes = if if_none_match(&headers, &p.public.etag) {
        Vec::new()
    } else {
        p.public.bytes.as_ref().clone()
    };
    Ok(model_response(
        &s,
        &headers,
        p.version,
        &p.public.etag,
        bytes,
    ))
}

async fn get_model_version(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(v): Path<String>,
) -> ApiResult {
    authorize(&s, &headers, Scope::Admin)?;
    let version: u64 = v.trim_start_matches('v').parse().map_err(|_| {
        bad(
            &s,
            InputError {
                field: "version".into(),
                message: format!("expected a model version number, found {v:?}"),
            },
        )
    })?;
    if let Some(p) = s.current().filter(|p| p.version == version) {
        let bytes = if if_none_match(&headers, &p.etag) {
            Vec::new()
        } else {
            p.bytes.as_ref().clone()
        };
        return Ok(model_response(&s, &headers, version, &p.etag, bytes));
    }
    let path = retrain::model_path(&s.config.data_dir, version);
    let bytes = tokio::fs::read(&path).await.map_err(|_| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!(
                "model version {version} is not published or no longer kept (the newest {} are kept)",
                s.config.keep_models
            ),
        )
    })?;
    let tag = etag(version, &retrain::sha256_hex(&bytes));
    Ok(model_response(&s, &headers, version, &tag, bytes))
}

async fn get_experiment(
    State(s): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult {
    let exp = s.config.experiment.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "no A/B experiment is configured",
        )
    })?;
    let key = q.get("userId").or_else(|| q.get("sessionId"));
    let variant = key.and_then(|k| ab::assign(exp, k));
    Ok(json_ok(
        StatusCode::OK,
        &json!({"experiment": exp.name,
                "variants": exp.variants.iter().map(|v| &v.name).collect::<Vec<_>>(),
                "shares": exp.variants.iter().map(|v| v.share).collect::<Vec<_>>(),
                "variant": variant,
                "assignment": "bucket = fnv1a64(experiment + \":\" + (userId or sessionId)) mod 10000; the variant whose cumulative share range holds it"}),
    ))
}

/// Liveness for anyone; the details (model, retrainer, store counts) with the admin token.
async fn health(State(s): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult {
    if !headers.contains_key(header::AUTHORIZATION) {
        return Ok(json_ok(StatusCode::OK, &json!({"status": "ok"})));
    }
    authorize(&s, &headers, Scope::Admin)?;
    let counts = s.store.counters().snapshot().counts;
    let current = s.current();
    Ok(json_ok(
        StatusCode::OK,
        &json!({
            "status": "ok",
            "modelVersion": current.as_ref().map(|p| p.version),
            "modelEtag": current.as_ref().map(|p| p.etag.clone()),
            "retrainRunning": s.retrainer.busy(),
            "store": counts,
            "lake": s.config.lake.as_ref().map(|l| s.metrics.lake.status(&l.location.display)),
        }),
    ))
}

async fn metrics(State(s): State<Arc<Shared>>, headers: HeaderMap) -> ApiResult {
    authorize(&s, &headers, Scope::Admin)?;
    let text = s.metrics.render(
        &s.store.counters().snapshot(),
        &s.config.click_event_type,
        s.retrainer.busy(),
    );
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        text,
    )
        .into_response())
}
