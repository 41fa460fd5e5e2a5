//! One Durable Object per session key (`userId`, else `sessionId`): the live session state.
//!
//! Why a Durable Object and not KV: an event must change the *next* recommendation for the same
//! session. KV is eventually consistent (a write can take up to a minute to be visible at other
//! locations) and has no atomic read-modify-write, so two quick events could overwrite each
//! other. A Durable Object is a single-threaded owner of its key with strongly consistent
//! storage: it applies the events to its engine fork, stores the session (the core's versioned
//! export format, so it survives isolate restarts and model swaps), and answers that key's
//! recommendations itself. It also owns the key's undelivered sync batches (see [`sync`]).
//! When a user's events first name an anonymous `sessionId` (a visitor who logged in), the
//! user's object takes that session from the session's object and merges it.

use std::cell::{Cell, RefCell};

use edgerec_core::{
    Engine, GetPersonalizedRankingRequest, GetRecommendationsRequest, PutEventsRequest,
};
use wasm_bindgen::JsValue;
use worker::{
    DurableObject, Env, Method, Request, RequestInit, Response, Result, State, durable_object,
};

use crate::api::{self, ApiError};
use crate::runtime::Operation;
use crate::sync;
use crate::{config, metrics, model, session_index};

const SESSIONS_KEY: &str = "sessions";
/// Set once this object's key is in the [`session_index`].
const INDEXED_KEY: &str = "indexed";

#[durable_object]
pub struct SessionState {
    state: State,
    env: Env,
    live: RefCell<Option<Live>>,
    /// This object's key is known to be in the session index.
    indexed: Cell<bool>,
}

/// The engine fork holding this key's session, and the model it was built on.
struct Live {
    engine: Engine,
    etag: String,
}

impl DurableObject for SessionState {
    fn new(state: State, env: Env) -> Self {
        SessionState {
            state,
            env,
            live: RefCell::new(None),
            indexed: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let path = req.path();
        let answer = match api::body(&mut req).await {
            Ok(body) => match path.as_str() {
                "/events" => self.events(&body).await,
                GetRecommendationsRequest::PATH => {
                    self.answer::<GetRecommendationsRequest>(&body).await
                }
                GetPersonalizedRankingRequest::PATH => {
                    self.answer::<GetPersonalizedRankingRequest>(&body).await
                }
                "/take" => self.take().await,
                "/pending" => Ok(api::bytes(
                    200,
                    "application/json",
                    serde_json::json!({"pending": sync::stored_count(&self.state.storage()).await})
                        .to_string()
                        .into_bytes(),
                )),
                _ => Err(ApiError::new(
                    404,
                    "UnknownOperationException",
                    "no such session route",
                )),
            },
            Err(e) => Err(e),
        };
        Ok(answer.unwrap_or_else(|e| e.response()))
    }

    async fn alarm(&self) -> Result<Response> {
        sync::deliver_stored(&self.env, &self.state.storage()).await?;
        Response::ok("")
    }
}

impl SessionState {
    /// Makes sure the engine fork is on the current model, restoring the stored session.
    async fn ready(&self) -> std::result::Result<(), ApiError> {
        let loaded = model::current(&self.env).await?;
        let stale = self
            .live
            .borrow()
            .as_ref()
            .is_none_or(|l| l.etag != loaded.etag);
        if !stale {
            return Ok(());
        }
        let stored = self.stored_sessions().await?;
        // Another request may have rebuilt the fork while this one awaited storage.
        if self
            .live
            .borrow()
            .as_ref()
            .is_some_and(|l| l.etag == loaded.etag)
        {
            return Ok(());
        }
        let mut engine = loaded.engine.fork();
        if let Some(bytes) = stored
            && let Err(e) = engine.import_sessions(&bytes)
        {
            worker::console_error!("session: the stored session could not be restored: {e}");
        }
        *self.live.borrow_mut() = Some(Live {
            engine,
            etag: loaded.etag.clone(),
        });
        Ok(())
    }

    async fn stored_sessions(&self) -> std::result::Result<Option<Vec<u8>>, ApiError> {
        let storage = self.state.storage();
        let promise = storage
            .as_raw()
            .get(SESSIONS_KEY)
            .map_err(|e| ApiError::internal("session storage", format!("{e:?}")))?;
        let v = worker::wasm_bindgen_futures::JsFuture::from(promise)
            .await
            .map_err(|e| ApiError::internal("session storage", format!("{e:?}")))?;
        Ok((!v.is_undefined()).then(|| js_sys::Uint8Array::new(&v).to_vec()))
    }

    async fn answer<Op: Operation>(&self, body: &[u8]) -> std::result::Result<Response, ApiError> {
        let req: Op = api::parse(body)?;
        self.ready().await?;
        let live = self.live.borrow();
        let live = live
            .as_ref()
            .ok_or_else(|| ApiError::internal("session", "engine not ready"))?;
        Ok(api::bytes(
            200,
            "application/json",
            req.answer(&live.engine)?,
        ))
    }

    async fn events(&self, body: &[u8]) -> std::result::Result<Response, ApiError> {
        let req: PutEventsRequest = api::parse(body)?;
        self.ready().await?;
        self.index(req.user_id.as_deref().unwrap_or(&req.session_id))
            .await?;
        let anonymous = match req.user_id.as_deref() {
            Some(user) if user != req.session_id => self.absorb(&req.session_id).await?,
            _ => None,
        };
        // No await while the engine is borrowed: the whole update is one synchronous step.
        let (bytes, outbox) = {
            let mut live = self.live.borrow_mut();
            let live = live
                .as_mut()
                .ok_or_else(|| ApiError::internal("session", "engine not ready"))?;
            // The anonymous session joins this user's (put_events merges it, as the core does
            // in one process).
            if let Some(b) = anonymous
                && let Err(e) = live.engine.import_sessions(&b)
            {
                worker::console_error!("session: the anonymous session could not be merged: {e}");
            }
            live.engine
                .put_events(&req)
                .map_err(|e| ApiError::request(&e))?;
            (
                live.engine.export_sessions(),
                live.engine.take_outbox(usize::MAX),
            )
        };
        let storage = self.state.storage();
        storage
            .put_raw(
                SESSIONS_KEY,
                JsValue::from(js_sys::Uint8Array::from(bytes.as_slice())),
            )
            .await
            .map_err(|e| ApiError::internal("storing the session", e))?;
        sync::enqueue(&self.env, &storage, sync::event_batches(outbox))
            .await
            .map_err(|e| ApiError::internal("queueing the events for sync", e))?;
        metrics::events_applied();
        Ok(api::bytes(200, "application/json", b"{}".to_vec()))
    }

    /// Puts this object's key into the session index before its first events are applied, so
    /// that reads from then on come here (see [`session_index`]). An object that took events
    /// before the index existed has no `indexed` flag and marks itself on its next events; until
    /// then its key is read from the model.
    async fn index(&self, key: &str) -> std::result::Result<(), ApiError> {
        if self.indexed.get() {
            return Ok(());
        }
        let storage = self.state.storage();
        let stored: Option<bool> = storage
            .get(INDEXED_KEY)
            .await
            .map_err(|e| ApiError::internal("session storage", e))?;
        if stored.is_none() {
            session_index::mark_live(&self.env, key).await?;
            storage
                .put(INDEXED_KEY, true)
                .await
                .map_err(|e| ApiError::internal("session storage", e))?;
        }
        self.indexed.set(true);
        Ok(())
    }

    /// The first time a user's events name an anonymous `sessionId` that has live state, takes
    /// that session from its own Durable Object (once per session id). A session id with no
    /// state creates no object.
    async fn absorb(&self, session_id: &str) -> std::result::Result<Option<Vec<u8>>, ApiError> {
        let storage = self.state.storage();
        let mark = format!("absorbed/{session_id}");
        if !session_index::is_live(&self.env, session_id).await? {
            return Ok(None);
        }
        if storage
            .get::<bool>(&mark)
            .await
            .map_err(|e| ApiError::internal("session storage", e))?
            .is_some()
        {
            return Ok(None);
        }
        let stub = self
            .env
            .durable_object(config::SESSIONS)
            .and_then(|ns| ns.get_by_name(session_id))
            .map_err(|e| ApiError::internal("the SESSIONS binding", e))?;
        metrics::do_call();
        let mut init = RequestInit::new();
        init.with_method(Method::Post);
        let req = Request::new_with_init("https://session/take", &init)
            .map_err(|e| ApiError::internal("session request", e))?;
        let mut resp = stub
            .fetch_with_request(req)
            .await
            .map_err(|e| ApiError::internal("taking the anonymous session", e))?;
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::internal("taking the anonymous session", e))?;
        storage
            .put(&mark, true)
            .await
            .map_err(|e| ApiError::internal("session storage", e))?;
        Ok((resp.status_code() == 200 && !bytes.is_empty()).then_some(bytes))
    }

    /// `/take`: hands this session over (its stored export) and forgets it.
    async fn take(&self) -> std::result::Result<Response, ApiError> {
        let stored = self.stored_sessions().await?;
        self.state
            .storage()
            .delete(SESSIONS_KEY)
            .await
            .map_err(|e| ApiError::internal("session storage", e))?;
        *self.live.borrow_mut() = None;
        Ok(api::bytes(
            200,
            "application/octet-stream",
            stored.unwrap_or_default(),
        ))
    }
}
