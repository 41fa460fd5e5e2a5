//! The model of this isolate: read from R2 once, validated by decoding it, and swapped for a
//! newer one when the object's ETag changes (checked at most every `MODEL_CHECK_SECONDS`). A
//! model that fails to decode never replaces a working one.

use std::cell::RefCell;
use std::rc::Rc;

use edgerec_core::Engine;
use worker::Env;

use crate::api::ApiError;
use crate::config;

/// One decoded model.
#[derive(Debug)]
pub struct Loaded {
    /// The engine over the model, with no sessions (Durable Objects fork it).
    pub engine: Engine,
    /// The R2 object's HTTP ETag (quoted), which `GET /model` serves.
    pub etag: String,
    pub bytes: u64,
    /// Wall time of the load (decode included), milliseconds.
    pub load_ms: f64,
}

#[derive(Debug, Default)]
struct Slot {
    current: Option<Rc<Loaded>>,
    checked_at: f64,
    last_error: Option<String>,
}

thread_local! {
    static SLOT: RefCell<Slot> = RefCell::new(Slot::default());
}

/// The current model, loading or refreshing it from R2 when due.
pub async fn current(env: &Env) -> Result<Rc<Loaded>, ApiError> {
    let now = js_sys::Date::now();
    let (cached, due) = SLOT.with(|s| {
        let s = s.borrow();
        let due = now - s.checked_at >= config::model_check_ms(env);
        (s.current.clone(), due)
    });
    if let Some(m) = &cached
        && !due
    {
        return Ok(Rc::clone(m));
    }
    match refresh(env, cached.as_ref(), now).await {
        Ok(m) => Ok(m),
        Err(e) => {
            SLOT.with(|s| s.borrow_mut().last_error = Some(e.message.clone()));
            // A failed check keeps serving the model we have.
            cached.ok_or(e)
        }
    }
}

/// The error of the last failed load or check, if any.
pub fn last_error() -> Option<String> {
    SLOT.with(|s| s.borrow().last_error.clone())
}

async fn refresh(env: &Env, cached: Option<&Rc<Loaded>>, now: f64) -> Result<Rc<Loaded>, ApiError> {
    let key = config::model_key(env);
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    let head = bucket
        .head(key.clone())
        .await
        .map_err(|e| ApiError::internal("reading the model's metadata from R2", e))?;
    let Some(head) = head else {
        return Err(ApiError::new(
            503,
            "ServiceUnavailableException",
            format!("no model is published: R2 object {key:?} not found in the MODELS bucket"),
        ));
    };
    if let Some(m) = cached
        && m.etag == head.http_etag()
    {
        SLOT.with(|s| s.borrow_mut().checked_at = now);
        return Ok(Rc::clone(m));
    }
    let obj = bucket
        .get(key.clone())
        .execute()
        .await
        .map_err(|e| ApiError::internal("reading the model from R2", e))?
        .ok_or_else(|| {
            ApiError::new(
                503,
                "ServiceUnavailableException",
                format!("R2 object {key:?} disappeared"),
            )
        })?;
    let etag = obj.http_etag();
    let body = obj
        .body()
        .ok_or_else(|| ApiError::internal("reading the model from R2", "no body"))?;
    let bytes = body
        .bytes()
        .await
        .map_err(|e| ApiError::internal("reading the model from R2", e))?;
    let t0 = js_sys::Date::now();
    let engine = Engine::from_bytes(&bytes).map_err(|e| ApiError::model(&e))?;
    let loaded = Rc::new(Loaded {
        engine,
        etag,
        bytes: bytes.len() as u64,
        load_ms: js_sys::Date::now() - t0,
    });
    SLOT.with(|s| {
        let mut s = s.borrow_mut();
        s.current = Some(Rc::clone(&loaded));
        s.checked_at = now;
        s.last_error = None;
    });
    Ok(loaded)
}

/// `PUT /model`: validates the bytes by decoding them, then writes them to R2. Every isolate
/// picks the new object up at its next check; this one at once.
pub async fn publish(env: &Env, bytes: Vec<u8>) -> Result<Rc<Loaded>, ApiError> {
    Engine::from_bytes(&bytes).map_err(|e| {
        ApiError::new(
            400,
            "InvalidInputException",
            format!("body: not a valid model: {e}"),
        )
    })?;
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    bucket
        .put(config::model_key(env), bytes)
        .execute()
        .await
        .map_err(|e| ApiError::internal("writing the model to R2", e))?;
    SLOT.with(|s| s.borrow_mut().checked_at = f64::NEG_INFINITY);
    current(env).await
}
