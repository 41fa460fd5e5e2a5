//! Segment's HTTP tracking API (`POST /v1/track`, `/v1/page`, `/v1/screen`, `/v1/identify`,
//! `/v1/batch`): each call is mapped by the core (`edgerec_core::segment`) and stored as
//! PutEvents / PutUsers are, one call at a time, so that a bad call is rejected by itself.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use edgerec_core::RequestError;
use edgerec_core::segment::{self, CallType, Mapped, Outcome};
use serde_json::json;

use super::{
    ApiResult, authorize_segment, bad, json_ok, read_body_up_to, store_events, store_users,
};
use crate::Shared;
use crate::api_error::ApiError;
use crate::ingest::{self, InputError};

pub(super) async fn segment_track(s: State<Arc<Shared>>, h: HeaderMap, b: Body) -> ApiResult {
    segment_call(s, h, b, CallType::Track).await
}

pub(super) async fn segment_page(s: State<Arc<Shared>>, h: HeaderMap, b: Body) -> ApiResult {
    segment_call(s, h, b, CallType::Page).await
}

pub(super) async fn segment_screen(s: State<Arc<Shared>>, h: HeaderMap, b: Body) -> ApiResult {
    segment_call(s, h, b, CallType::Screen).await
}

pub(super) async fn segment_identify(s: State<Arc<Shared>>, h: HeaderMap, b: Body) -> ApiResult {
    segment_call(s, h, b, CallType::Identify).await
}

fn input_error(e: RequestError) -> InputError {
    match e {
        RequestError::InvalidInput { field, message } => InputError { field, message },
        other => InputError {
            field: "body".into(),
            message: other.to_string(),
        },
    }
}

/// `POST /v1/{track,page,screen,identify}`: one Segment call (at most
/// [`segment::MAX_CALL_BYTES`]), mapped by the core and stored as PutEvents / PutUsers are.
async fn segment_call(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
    route: CallType,
) -> ApiResult {
    let t0 = Instant::now();
    authorize_segment(&s, &headers)?;
    let limit = segment::MAX_CALL_BYTES.min(s.config.max_body_bytes);
    let body = read_body_up_to(limit, &headers, body).await?;
    let call = segment::parse_call(&body, Some(route), &s.config.segment).map_err(|e| {
        s.metrics
            .segment_calls_rejected
            .fetch_add(1, Ordering::Relaxed);
        bad(&s, input_error(e))
    })?;
    let (out, stored) = segment_store(&s, Outcome::single(), vec![(0, call)], t0).await?;
    out.finish().map_err(|(e, _)| {
        s.metrics
            .segment_calls_rejected
            .fetch_add(1, Ordering::Relaxed);
        bad(&s, input_error(e))
    })?;
    Ok(json_ok(
        StatusCode::OK,
        &json!({"stored": stored.stored, "duplicates": stored.duplicates, "usersStored": stored.users}),
    ))
}

/// `POST /v1/batch`: `{"batch": [call, ...]}` (at most [`segment::MAX_BATCH_BYTES`]). Every
/// valid call is stored; the bad ones are listed by index (`200`). When no call is valid the
/// answer is `400 InvalidInputException` naming the first bad call, with the same list.
pub(super) async fn segment_batch(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult {
    let t0 = Instant::now();
    authorize_segment(&s, &headers)?;
    let limit = segment::MAX_BATCH_BYTES.min(s.config.max_body_bytes);
    let body = read_body_up_to(limit, &headers, body).await?;
    let batch =
        segment::parse_batch(&body, &s.config.segment).map_err(|e| bad(&s, input_error(e)))?;
    let out = Outcome::batch(&batch.rejected);
    let (out, stored) = segment_store(&s, out, batch.calls, t0).await?;
    let rejected = out.rejected().len();
    s.metrics
        .segment_calls_rejected
        .fetch_add(rejected as u64, Ordering::Relaxed);
    match out.finish() {
        Ok(list) => Ok(json_ok(
            StatusCode::OK,
            &json!({"stored": stored.stored, "duplicates": stored.duplicates,
                    "usersStored": stored.users, "rejected": list}),
        )),
        Err((e, list)) => {
            let mut err = bad(&s, input_error(e));
            err.rejected = Some(json!(list));
            Err(err)
        }
    }
}

/// What the Segment calls of one request stored.
#[derive(Debug, Default)]
struct SegmentStored {
    stored: usize,
    duplicates: usize,
    users: usize,
}

/// The user schema of the published model: identify calls keep only the traits that are its
/// fields (`segment::schema_traits`), as the Worker does. `None` before the first model.
fn user_columns(s: &Shared) -> Option<Vec<edgerec_core::Column>> {
    let published = s.current()?;
    let engine = s.profiles.get(&published.etag, &published.bytes).ok()?;
    Some(engine.model().users.columns.clone())
}

/// Stores mapped calls through the PutEvents / PutUsers validation (`ingest`) and the store,
/// each call checked alone so that one the ingest refuses is rejected by itself (in `out`).
async fn segment_store(
    s: &Shared,
    mut out: Outcome,
    calls: Vec<(usize, Mapped)>,
    t0: Instant,
) -> Result<(Outcome, SegmentStored), ApiError> {
    let mut stored = SegmentStored::default();
    let mut events = Vec::new();
    let mut users = Vec::new();
    let mut columns = None;
    for (k, call) in calls {
        let checked = match &call {
            Mapped::Event(req) => serde_json::to_vec(req)
                .map_err(|e| InputError {
                    field: "body".into(),
                    message: e.to_string(),
                })
                .and_then(|b| ingest::parse_events(&b))
                .map(|p| events.extend(p.events))
                .map_err(|e| (e, "eventList[0].")),
            Mapped::User(u) => {
                let columns = columns.get_or_insert_with(|| user_columns(s));
                match columns {
                    Some(columns) => {
                        let u = segment::schema_traits(u, columns);
                        serde_json::to_vec(&json!({"users": [u]}))
                            .map_err(|e| InputError {
                                field: "body".into(),
                                message: e.to_string(),
                            })
                            .and_then(|b| ingest::parse_records(&b, true))
                            .map(|r| users.extend(r))
                            .map_err(|e| (e, "users[0]."))
                    }
                    None => Err((
                        InputError {
                            field: "userId".into(),
                            message: "identify needs a published model: its user schema says \
                                      which traits are kept"
                                .into(),
                        },
                        "",
                    )),
                }
            }
        };
        match checked {
            Ok(()) => out.accept(1),
            Err((e, inner)) => {
                let field = e.field.strip_prefix(inner).unwrap_or(&e.field);
                out.reject(k, field, e.message);
            }
        }
    }
    if !events.is_empty() {
        let r = store_events(s, events, t0).await?;
        stored.stored = r.stored;
        stored.duplicates = r.duplicates;
    }
    if !users.is_empty() {
        stored.users = store_users(s, users).await?;
    }
    Ok((out, stored))
}
