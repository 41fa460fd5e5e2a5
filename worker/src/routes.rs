//! The router and the handlers of the Worker's public routes.

use edgerec_core::ErrorCode;
use edgerec_core::contract::{self, Policy};
use edgerec_core::request::check_id;
use edgerec_core::segment::Outcome;
use edgerec_core::{
    GetPersonalizedRankingRequest, GetRecommendationsRequest, PutEventsRequest, PutItemsRequest,
    PutUsersRequest,
};
use sha2::{Digest, Sha256};
use worker::{Context, Env, Method, Request, RequestInit, Response};

use crate::api::{self, ApiError};
use crate::context::{self, Caller};
use crate::metrics::{self, Served};
use crate::runtime::{Operation, uuid};
use crate::sigv4::hex;
use crate::{auth, config, cors, experiments, model, profile, runtime, session_index, sync};

/// The routes (for `405`).
const ROUTES: &[&str] = &[
    "/recommendations",
    "/personalize-ranking",
    "/events",
    "/items",
    "/users",
    "/model",
    "/model/public",
    "/health",
    "/sync/parked",
    "/v1/track",
    "/v1/page",
    "/v1/screen",
    "/v1/identify",
    "/v1/batch",
];

/// Answers one request; every error becomes a Personalize-shaped error response. Every answer
/// carries an `x-amzn-requestid` and, for allowed browser origins, the CORS headers.
pub async fn handle(mut req: Request, env: &Env, ctx: &Context) -> Response {
    let started = js_sys::Date::now();
    // Preflights are answered for every path: they reveal nothing, and new routes need none.
    let mut r = if req.method() == Method::Options {
        cors::preflight(&req, env)
    } else {
        route(&mut req, env, ctx)
            .await
            .unwrap_or_else(|e| e.response())
    };
    let model = model::peek();
    let sample = metrics::Sample {
        route: metrics::route_of(&req.path(), ROUTES),
        method: req.method().to_string(),
        status: r.status_code(),
        error: None,
        served: None,
        index: None,
        ms: js_sys::Date::now() - started,
        model_version: model.as_ref().map(|m| m.engine.model().meta.version),
        model_etag: model.as_ref().map(|m| m.etag.clone()),
    };
    metrics::finish(env, &mut r, sample);
    if let Ok(id) = uuid() {
        let _ = r.headers_mut().set("x-amzn-requestid", &id);
    }
    cors::decorate(&req, env, &mut r);
    r
}

async fn route(req: &mut Request, env: &Env, ctx: &Context) -> Result<Response, ApiError> {
    let path = req.path();
    let method = req.method();
    if let Some(user) = crate::paths::user_segment(&path) {
        if method != Method::Get {
            return Err(ApiError::new(
                405,
                "MethodNotAllowedException",
                format!("{method} is not allowed on {path}"),
            ));
        }
        return profile::get(req, env, user).await;
    }
    if method == Method::Post
        && let Some(route) = crate::body::segment_route(&path)
    {
        return segment(req, env, route).await;
    }
    match (method, path.as_str()) {
        (Method::Post, "/recommendations") => {
            let body = api::body(req).await?;
            runtime::<GetRecommendationsRequest>(req, env, ctx, &body, &body).await
        }
        (Method::Get, "/recommendations") => {
            let json = query_request(req)?;
            runtime::<GetRecommendationsRequest>(req, env, ctx, &[], &json).await
        }
        (Method::Post, "/personalize-ranking") => {
            let body = api::body(req).await?;
            runtime::<GetPersonalizedRankingRequest>(req, env, ctx, &body, &body).await
        }
        (Method::Post, "/events") => events(req, env).await,
        (Method::Post, "/items") => records(req, env, "/items").await,
        (Method::Post, "/users") => records(req, env, "/users").await,
        (Method::Get | Method::Head, "/model") => get_model(req, env).await,
        (Method::Put, "/model") => put_model(req, env).await,
        (Method::Put, "/model/public") => put_public_model(req, env).await,
        (Method::Get, "/health") => health(req, env).await,
        (Method::Get, "/sync/parked") => parked(req, env).await,
        (_, p) if ROUTES.contains(&p) => Err(ApiError::new(
            405,
            "MethodNotAllowedException",
            format!("{} is not allowed on {path}", req.method()),
        )),
        _ => Err(ApiError::new(
            404,
            "UnknownOperationException",
            format!("no route {path}"),
        )),
    }
}

/// GetRecommendations / GetPersonalizedRanking: authorised ([`auth::read`]), filters by name
/// unless `ALLOW_FILTER_EXPRESSIONS`, the experiment's variant applied ([`experiments`]), then
/// answered and logged. `raw` is the body as received (what SigV4 signs; empty for `GET`),
/// `json` the request as JSON (the query's for `GET`).
async fn runtime<Op: Operation>(
    req: &Request,
    env: &Env,
    ctx: &Context,
    raw: &[u8],
    json: &[u8],
) -> Result<Response, ApiError> {
    let mut op: Op = api::parse(json)?;
    if let Some(user) = op.user_id() {
        check_id("userId", user).map_err(|e| ApiError::request(&e))?;
    }
    auth::read(req, env, raw, op.user_id())?;
    let loaded = model::current(env).await?;
    if !config::flag(env, "ALLOW_FILTER_EXPRESSIONS")? {
        runtime::named_filters_only(&op, loaded.engine.model())?;
    }
    let added = context::fill(
        op.context_mut(),
        &loaded.engine.model().catalog.context_columns,
        &Caller::of(req),
    );
    // The assignment key: the userId, else the edgerec field `sessionId`.
    let session_id = serde_json::from_slice::<serde_json::Value>(json)
        .ok()
        .and_then(|v| v["sessionId"].as_str().map(str::to_owned));
    if let Some(s) = &session_id {
        check_id("sessionId", s).map_err(|e| ApiError::request(&e))?;
    }
    let user_id = op.user_id().map(str::to_owned);
    let list = experiments::declared(env)?;
    let given = op
        .apply_experiment(&list, user_id.as_deref().or(session_id.as_deref()))
        .map(|a| experiments::Given {
            experiment: a.experiment.name.clone(),
            variant: a.variant.name.clone(),
        });
    let shown = experiments::Shown {
        recommender: op.recommender().unwrap_or_default(),
        given,
        user_id,
        session_id,
    };
    let mut r = respond(req, env, op, &loaded).await?;
    experiments::finish(env, ctx, &mut r, shown).await;
    if !added.is_empty() {
        let h = r.headers_mut();
        let _ = h.set("x-edgerec-context", &added.join("; "));
        let _ = h.append("vary", "user-agent, sec-ch-ua-mobile");
    }
    Ok(r)
}

/// Answers here (anonymous: cacheable), in the user's Durable Object when the key has live
/// state ([`session_index`]), or here from the model for a user without (a user of the model
/// or not: exactly as its object would answer, calling and creating none).
async fn respond<Op: Operation>(
    req: &Request,
    env: &Env,
    mut op: Op,
    loaded: &model::Loaded,
) -> Result<Response, ApiError> {
    if let Some(user) = op.user_id() {
        let key = user.to_owned();
        if op.recommendation_id_mut().is_none() {
            *op.recommendation_id_mut() = Some(format!("RID-{}", uuid()?));
        }
        let (live, index) = session_index::lookup(env, &key).await?;
        if live {
            let body = serde_json::to_vec(&op).map_err(|e| ApiError::internal("request", e))?;
            let mut r = to_session(env, &key, Op::PATH, body).await?;
            metrics::mark(&mut r, Served::Session, Some(index));
            return Ok(r);
        }
        let mut r = api::bytes(200, "application/json", op.answer(&loaded.engine)?);
        let _ = r.headers_mut().set("cache-control", "private, no-store");
        metrics::mark(&mut r, Served::Model, Some(index));
        return Ok(r);
    }
    let answer = op.answer(&loaded.engine)?;
    let etag = format!(
        "\"{}\"",
        &hex(&Sha256::digest([loaded.etag.as_bytes(), &answer].concat()))[..32]
    );
    let cache = format!("public, max-age={}", config::cache_seconds(env));
    if if_none_match(req, &etag) {
        let mut r = not_modified(&etag, &cache);
        metrics::mark(&mut r, Served::NotModified, None);
        return Ok(r);
    }
    let mut r = api::bytes(200, "application/json", answer);
    metrics::mark(&mut r, Served::Anonymous, None);
    let _ = r.headers_mut().set("etag", &etag);
    let _ = r.headers_mut().set("cache-control", &cache);
    Ok(r)
}

/// `GET /recommendations?recommender=…&itemId=…&numResults=…`: the anonymous request as a URL,
/// so that browsers and Cloudflare's cache can keep the answer (`Cache-Control`, `ETag`). Takes
/// `recommender`, `campaignArn`, `recommenderArn`, `itemId`, `userId`, `sessionId` (the
/// experiment key of an anonymous read), `filter`, `filterArn` and `numResults`; returns the
/// equivalent JSON body.
fn query_request(req: &Request) -> Result<Vec<u8>, ApiError> {
    let url = req
        .url()
        .map_err(|e| ApiError::internal("request URL", e))?;
    let body = crate::body::query_body(url.query_pairs())
        .map_err(|e| ApiError::invalid(&e.field, e.message))?;
    serde_json::to_vec(&body).map_err(|e| ApiError::internal("request", e))
}

/// PutEvents: authenticated, then applied by the session's Durable Object (which stores the
/// session and queues the events for sync before it answers).
async fn events(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    let body = api::body(req).await?;
    auth::write(req, env, &body)?;
    let mut ev: PutEventsRequest = api::parse(&body)?;
    // The core's contract, checked here too, so that a request the engine would refuse creates
    // no Durable Object (the engine checks it again before its outbox takes it).
    contract::put_events(&ev, &Policy::PERSONALIZE).map_err(|e| ApiError::request(&e))?;
    // Retries of a call without eventIds get the same ids, so the sync server stores each
    // event once.
    edgerec_core::event_id::fill_event_ids(&mut ev);
    let key = ev.user_id.clone().unwrap_or_else(|| ev.session_id.clone());
    let body = serde_json::to_vec(&ev).map_err(|e| ApiError::internal("request", e))?;
    apply_events(env, &key, body).await
}

/// Hands a PutEvents body to the Durable Object of `key`. Once the object has applied it, it has
/// marked the key live (in R2); this isolate knows it from then on too.
async fn apply_events(env: &Env, key: &str, body: Vec<u8>) -> Result<Response, ApiError> {
    let r = to_session(env, key, "/events", body).await?;
    if r.status_code() == 200 {
        session_index::remember_live(key);
    }
    Ok(r)
}

/// PutItems / PutUsers: validated against the model's schema, then forwarded to the sync
/// server (through the queue when bound, else at once, retried), which folds them into the next
/// published model.
async fn records(req: &mut Request, env: &Env, path: &str) -> Result<Response, ApiError> {
    let body = api::body(req).await?;
    auth::write(req, env, &body)?;
    if sync::mode(env) == "disabled" {
        // There is nowhere to keep them: refuse rather than answer 200 and drop them.
        return Err(ApiError::new(
            501,
            "NotImplementedException",
            format!(
                "{} needs a sync server: this Worker has no SYNC_URL, so the records could not \
                 be stored; nothing was kept",
                if path == "/items" {
                    "PutItems"
                } else {
                    "PutUsers"
                }
            ),
        ));
    }
    let loaded = model::current(env).await?;
    let catalog = loaded.engine.model();
    let _: serde_json::Value = api::parse(&body)?;
    // The core's contract (Personalize's batch size), then the model's schema.
    if path == "/items" {
        let r: PutItemsRequest = api::parse(&body)?;
        contract::put_items(&r, &Policy::PERSONALIZE).map_err(|e| ApiError::request(&e))?;
        edgerec_core::records::parse_items(&catalog.catalog.columns, &r.items)
            .map_err(|e| ApiError::request(&e))?;
    } else {
        let r: PutUsersRequest = api::parse(&body)?;
        contract::put_users(&r, &Policy::PERSONALIZE).map_err(|e| ApiError::request(&e))?;
        edgerec_core::records::parse_users(&catalog.users.columns, &r.users)
            .map_err(|e| ApiError::request(&e))?;
    }
    forward(env, path, String::from_utf8_lossy(&body).into_owned()).await
}

/// Sends PutItems / PutUsers records to the sync server: through the queue when bound, else at
/// once (retried).
async fn forward(env: &Env, path: &str, body: String) -> Result<Response, ApiError> {
    let batch = sync::Batch {
        path: path.to_owned(),
        body,
    };
    match sync::mode(env) {
        "queue" => {
            let q = env
                .queue(config::SYNC_QUEUE)
                .map_err(|e| ApiError::internal("SYNC_QUEUE", e))?;
            q.send(batch)
                .await
                .map_err(|e| ApiError::internal("queueing the records for sync", e))?;
        }
        _ => {
            let mut last = String::new();
            for attempt in 0..3 {
                if attempt > 0 {
                    worker::Delay::from(std::time::Duration::from_millis(200 << attempt)).await;
                }
                match sync::post(env, &batch).await {
                    Ok(()) => return Ok(api::bytes(200, "application/json", b"{}".to_vec())),
                    // Refused for good: the caller is told so (nothing was kept), not to retry.
                    Err(sync::Failure::Refused { status, message }) => {
                        return Err(ApiError::new(
                            status,
                            ErrorCode::InvalidInput.as_str(),
                            format!("the sync server refused the records: {message}"),
                        ));
                    }
                    Err(e) => last = e.to_string(),
                }
            }
            return Err(ApiError::coded(
                ErrorCode::Unavailable,
                format!("the sync server did not accept the records; retry later: {last}"),
            ));
        }
    }
    Ok(api::bytes(200, "application/json", b"{}".to_vec()))
}

/// `POST /v1/{track,page,screen,identify}` and `/v1/batch`: Segment calls mapped by the core
/// (`edgerec_core::segment`) and applied as PutEvents (the session's Durable Object, at most 10
/// events per request) and PutUsers (the traits that are fields of the model's user schema,
/// forwarded to the sync server). A single bad call is `400`; a batch answers `200` with the
/// rejected calls by index, or `400` when none was accepted.
async fn segment(
    req: &mut Request,
    env: &Env,
    route: Option<edgerec_core::segment::CallType>,
) -> Result<Response, ApiError> {
    use edgerec_core::segment::{MAX_BATCH_BYTES, MAX_CALL_BYTES};
    let limit = if route.is_some() {
        MAX_CALL_BYTES
    } else {
        MAX_BATCH_BYTES
    };
    let body = api::body_up_to(req, limit).await?;
    auth::segment_write(req, env, &body)?;
    let config = config::segment(env)?;
    let mapped = crate::body::segment(route, &body, &config)
        .map_err(|e| ApiError::invalid(&e.field, e.message))?;
    let mut out = if route.is_some() {
        Outcome::single()
    } else {
        Outcome::batch(&mapped.rejected)
    };
    for (indexes, ev) in mapped.put_events() {
        let key = ev.user_id.clone().unwrap_or_else(|| ev.session_id.clone());
        let bytes = serde_json::to_vec(&ev).map_err(|e| ApiError::internal("request", e))?;
        let mut r = apply_events(env, &key, bytes).await?;
        if r.status_code() == 200 {
            out.accept(indexes.len());
        } else {
            let answer: serde_json::Value = r
                .bytes()
                .await
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            let message = answer["message"]
                .as_str()
                .unwrap_or("the session refused the events");
            for k in indexes {
                out.reject(k, "body", message);
            }
        }
    }
    let users = mapped.users();
    if !users.is_empty() {
        let mut good = Vec::new();
        if sync::mode(env) == "disabled" {
            for (k, _) in &users {
                out.reject(
                    *k,
                    "userId",
                    "identify needs a sync server: this Worker has no SYNC_URL",
                );
            }
        } else {
            let loaded = model::current(env).await?;
            let columns = &loaded.engine.model().users.columns;
            for (k, u) in &users {
                let u = edgerec_core::segment::schema_traits(u, columns);
                match edgerec_core::records::parse_users(columns, std::slice::from_ref(&u)) {
                    Ok(_) => good.push((*k, u)),
                    Err(e) => out.reject(*k, "traits", e.to_string()),
                }
            }
        }
        if !good.is_empty() {
            let list: Vec<&edgerec_core::User> = good.iter().map(|(_, u)| u).collect();
            let text = serde_json::to_string(&serde_json::json!({ "users": list }))
                .map_err(|e| ApiError::internal("request", e))?;
            match forward(env, "/users", text).await {
                Ok(_) => out.accept(good.len()),
                Err(e) => {
                    for (k, _) in &good {
                        out.reject(*k, "userId", e.message.clone());
                    }
                }
            }
        }
    }
    let accepted = out.accepted();
    match out.finish() {
        Ok(rejected) => {
            api::json(&serde_json::json!({ "accepted": accepted, "rejected": rejected }))
        }
        Err((e, _)) => Err(ApiError::request(&e)),
    }
}

/// Sends a request to the Durable Object of `key` and returns its answer (status, body and error
/// type), marked `private, no-store`: it belongs to one user or session.
async fn to_session(env: &Env, key: &str, path: &str, body: Vec<u8>) -> Result<Response, ApiError> {
    let stub = env
        .durable_object(config::SESSIONS)
        .and_then(|ns| ns.get_by_name(key))
        .map_err(|e| ApiError::internal("the SESSIONS Durable Object binding", e))?;
    metrics::do_call();
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(js_sys::Uint8Array::from(body.as_slice()).into()));
    let r = Request::new_with_init(&format!("https://session{path}"), &init)
        .map_err(|e| ApiError::internal("session request", e))?;
    let mut answer = stub
        .fetch_with_request(r)
        .await
        .map_err(|e| ApiError::internal("session", e))?;
    let body = answer
        .bytes()
        .await
        .map_err(|e| ApiError::internal("session answer", e))?;
    let mut out = api::bytes(answer.status_code(), "application/json", body);
    if let Ok(Some(kind)) = answer.headers().get("x-amzn-errortype") {
        let _ = out.headers_mut().set("x-amzn-errortype", &kind);
    }
    let _ = out.headers_mut().set("cache-control", "private, no-store");
    metrics::mark(&mut out, Served::Session, None);
    Ok(out)
}

fn if_none_match(req: &Request, etag: &str) -> bool {
    req.headers()
        .get("if-none-match")
        .ok()
        .flatten()
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*")
        })
}

fn not_modified(etag: &str, cache: &str) -> Response {
    let mut r = api::bytes(304, "application/json", Vec::new());
    let _ = r.headers_mut().set("etag", etag);
    let _ = r.headers_mut().set("cache-control", cache);
    r
}

thread_local! {
    /// The R2 ETag of the public model object this isolate last checked and found public (and
    /// signed, with `MODEL_PUBLIC_KEY`): not checked again until the object changes.
    static PUBLIC_CHECKED: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// `GET /model`: the public profile of the model (R2 object `PUBLIC_MODEL_KEY`), with its R2
/// ETag; `If-None-Match` → 304. The private model the Worker answers from is never served: it
/// holds people's ids, metadata and histories. The object is served only when it is marked
/// public (and signed by a `MODEL_PUBLIC_KEY` key when that is set); no object → 404.
async fn get_model(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let cache = "public, max-age=0, must-revalidate";
    let key = config::public_model_key(env);
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    let missing = || {
        ApiError::new(
            404,
            "ResourceNotFoundException",
            format!(
                "no public model is published (R2 object {key:?}); PUT /model/public the output of `edgerec export --profile public`"
            ),
        )
    };
    metrics::r2_call();
    let head = bucket
        .head(key.clone())
        .await
        .map_err(|e| ApiError::internal("reading the public model's metadata from R2", e))?
        .ok_or_else(missing)?;
    let etag = head.http_etag();
    let checked = PUBLIC_CHECKED.with(|c| c.borrow().as_deref() == Some(etag.as_str()));
    if checked && if_none_match(req, &etag) {
        return Ok(not_modified(&etag, cache));
    }
    metrics::r2_call();
    let obj = bucket
        .get(key.clone())
        .execute()
        .await
        .map_err(|e| ApiError::internal("reading the public model", e))?
        .ok_or_else(missing)?;
    let etag = obj.http_etag();
    let bytes = obj
        .body()
        .ok_or_else(|| ApiError::internal("reading the public model", "no body"))?
        .bytes()
        .await
        .map_err(|e| ApiError::internal("reading the public model", e))?;
    if let Err(e) = model::check_public(env, &bytes).await {
        worker::console_error!(
            "edgerec worker: refused to serve R2 object {key:?}: {}",
            e.message
        );
        return Err(ApiError::coded(
            ErrorCode::Unavailable,
            format!(
                "the public model (R2 object {key:?}) was refused: {}",
                e.message
            ),
        ));
    }
    PUBLIC_CHECKED.with(|c| *c.borrow_mut() = Some(etag.clone()));
    if if_none_match(req, &etag) {
        return Ok(not_modified(&etag, cache));
    }
    let bytes = if req.method() == Method::Head {
        Vec::new()
    } else {
        bytes
    };
    let mut r = api::bytes(200, "application/octet-stream", bytes);
    let _ = r.headers_mut().set("etag", &etag);
    let _ = r.headers_mut().set("cache-control", cache);
    Ok(r)
}

/// Publishes the public profile of the model (admin token): `GET /model` serves it.
async fn put_public_model(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    auth::admin(req, env)?;
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::invalid("body", format!("could not be read: {e}")))?;
    let n = model::publish_public(env, bytes).await?;
    api::json(&serde_json::json!({ "status": "ok", "publicModelBytes": n }))
}

/// Publishes a model (admin token). The body may exceed the 64 KB limit of the API routes.
async fn put_model(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    auth::admin(req, env)?;
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::invalid("body", format!("could not be read: {e}")))?;
    let loaded = model::publish(env, bytes).await?;
    api::json(&summary(&loaded, env))
}

/// `GET /health`: the model and settings summary; with `Authorization: Bearer <ADMIN_TOKEN>`
/// also this isolate's counters (`isolate`: requests, errors by type, latency, cache hits,
/// Durable Object and R2 calls, live keys, the model's age). A wrong token is refused.
async fn health(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let admin = req.headers().get("authorization").ok().flatten().is_some();
    if admin {
        auth::admin_for(req, env, "the isolate counters of GET /health")?;
    }
    let loaded = model::current(env).await?;
    let mut body = summary(&loaded, env);
    if admin {
        body["isolate"] = metrics::snapshot(
            session_index::remembered(),
            Some((
                loaded.engine.model().meta.version,
                loaded.uploaded_ms,
                loaded.loaded_at_ms,
            )),
        );
    }
    let mut r = api::json(&body)?;
    let _ = r.headers_mut().set("cache-control", "no-store");
    Ok(r)
}

/// `GET /sync/parked` (admin token): the batches the sync server refused for good (a 4xx about
/// the batch), kept with its answer instead of being retried forever or dropped — from the
/// Durable Objects' alarms and from the queue consumer alike (see [`sync`]). The oldest first,
/// at most `?limit=` (default 100, at most 1000) with their bodies; `count` is how many are
/// parked (`truncated` when there are more than 1000).
async fn parked(req: &Request, env: &Env) -> Result<Response, ApiError> {
    auth::admin_for(req, env, "GET /sync/parked")?;
    let url = req
        .url()
        .map_err(|e| ApiError::internal("request URL", e))?;
    let limit = match url.query_pairs().find(|(k, _)| k == "limit") {
        None => 100,
        Some((_, v)) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "must be a whole number from 1 to 1000"))?,
    };
    let list = sync::parked(env, limit)
        .await
        .map_err(|e| ApiError::internal("listing the parked batches", e))?;
    let mut r = api::json(&list)?;
    let _ = r.headers_mut().set("cache-control", "no-store");
    Ok(r)
}

fn summary(loaded: &model::Loaded, env: &Env) -> serde_json::Value {
    let info = loaded.engine.info();
    serde_json::json!({
        "status": "ok",
        "modelVersion": info.model_version,
        "dataset": info.dataset,
        "items": info.items,
        "users": info.users,
        "recommenders": info.recommenders,
        "contextColumns": loaded.engine.model().catalog.context_columns,
        "modelEtag": loaded.etag,
        "modelBytes": loaded.bytes,
        "modelDecodeMs": loaded.load_ms,
        "sync": sync::mode(env),
        "lake": crate::lake::bound(env),
        "modelSignatureRequired": model::signatures_required(env),
        "modelSignedBy": loaded.signed_by,
        "lastModelError": model::last_error(),
    })
}
