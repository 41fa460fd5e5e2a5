//! The model of this isolate: read from R2 once, validated by decoding it (and, with
//! `MODEL_PUBLIC_KEY` set, by its signature: [`verify`]), and swapped for a newer one when the
//! object's ETag changes (checked at most every `MODEL_CHECK_SECONDS`). A model that fails to
//! decode or is refused never replaces a working one; a refused object is not downloaded again
//! until it changes.

use edgerec_core::ErrorCode;
use std::cell::RefCell;
use std::rc::Rc;

use edgerec_core::Engine;
use worker::Env;

use crate::api::ApiError;
use crate::verify::{self, Refusal};
use crate::{config, metrics};

/// One decoded model.
#[derive(Debug)]
pub struct Loaded {
    /// The engine over the model, with no sessions (Durable Objects fork it).
    pub engine: Engine,
    /// The R2 object's HTTP ETag (quoted), reported by `/health`.
    pub etag: String,
    pub bytes: u64,
    /// Wall time of the load (decode included), milliseconds.
    pub load_ms: f64,
    /// The key id that signed it, when `MODEL_PUBLIC_KEY` required a signature.
    pub signed_by: Option<String>,
    /// When the R2 object was written, and when this isolate loaded it (ms since 1970).
    pub uploaded_ms: f64,
    pub loaded_at_ms: f64,
}

#[derive(Debug, Default)]
struct Slot {
    current: Option<Rc<Loaded>>,
    checked_at: f64,
    last_error: Option<String>,
    /// The R2 ETag of an object that was refused, and why: not downloaded again until it changes.
    refused: Option<(String, String)>,
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

/// The model this isolate serves, if it has one, without checking R2.
pub fn peek() -> Option<Rc<Loaded>> {
    SLOT.with(|s| s.borrow().current.clone())
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
    metrics::r2_call();
    let head = bucket
        .head(key.clone())
        .await
        .map_err(|e| ApiError::internal("reading the model's metadata from R2", e))?;
    let Some(head) = head else {
        return Err(ApiError::coded(
            ErrorCode::Unavailable,
            format!("no model is published: R2 object {key:?} not found in the MODELS bucket"),
        ));
    };
    if let Some(m) = cached
        && m.etag == head.http_etag()
    {
        SLOT.with(|s| s.borrow_mut().checked_at = now);
        return Ok(Rc::clone(m));
    }
    let refused_before = SLOT.with(|s| {
        s.borrow()
            .refused
            .as_ref()
            .filter(|(etag, _)| *etag == head.http_etag())
            .map(|(_, why)| why.clone())
    });
    if let Some(why) = refused_before {
        SLOT.with(|s| s.borrow_mut().checked_at = now);
        return Err(refused(&key, &why));
    }
    metrics::r2_call();
    let obj = bucket
        .get(key.clone())
        .execute()
        .await
        .map_err(|e| ApiError::internal("reading the model from R2", e))?
        .ok_or_else(|| {
            ApiError::coded(
                ErrorCode::Unavailable,
                format!("R2 object {key:?} disappeared"),
            )
        })?;
    let etag = obj.http_etag();
    let uploaded_ms = obj.uploaded().as_millis() as f64;
    let body = obj
        .body()
        .ok_or_else(|| ApiError::internal("reading the model from R2", "no body"))?;
    let bytes = body
        .bytes()
        .await
        .map_err(|e| ApiError::internal("reading the model from R2", e))?;
    let t0 = js_sys::Date::now();
    let signed_by = match check_signature(env, &bytes).await {
        Ok(by) => by,
        Err(r) => {
            let why = r.to_string();
            worker::console_error!(
                "edgerec worker: refused the model in R2 ({key:?}, ETag {etag}): {why}; {}",
                cached.map_or_else(
                    || "no model is served".to_owned(),
                    |m| format!("still serving ETag {}", m.etag)
                )
            );
            SLOT.with(|s| {
                let mut s = s.borrow_mut();
                s.refused = Some((etag, why.clone()));
                s.checked_at = now;
            });
            return Err(refused(&key, &why));
        }
    };
    let engine = Engine::from_bytes(&bytes).map_err(|e| ApiError::model(&e))?;
    Ok(install(Loaded {
        engine,
        etag,
        bytes: bytes.len() as u64,
        load_ms: js_sys::Date::now() - t0,
        signed_by,
        uploaded_ms,
        loaded_at_ms: js_sys::Date::now(),
    }))
}

/// Makes `loaded` this isolate's model (checked against R2 just now).
fn install(loaded: Loaded) -> Rc<Loaded> {
    let loaded = Rc::new(loaded);
    metrics::model_loaded();
    SLOT.with(|s| {
        let mut s = s.borrow_mut();
        s.current = Some(Rc::clone(&loaded));
        s.checked_at = loaded.loaded_at_ms;
        s.last_error = None;
        s.refused = None;
    });
    loaded
}

/// Whether `MODEL_PUBLIC_KEY` is set (every model must then be signed by one of its keys).
pub fn signatures_required(env: &Env) -> bool {
    config::var(env, "MODEL_PUBLIC_KEY").is_some()
}

/// With `MODEL_PUBLIC_KEY` set, the signer's key id, or why the model is refused; `None` when
/// models are not checked.
async fn check_signature(env: &Env, bytes: &[u8]) -> Result<Option<String>, Refusal> {
    match verify::trusted_keys(env)? {
        None => Ok(None),
        Some(keys) => verify::check(bytes, &keys).await.map(Some),
    }
}

fn refused(key: &str, why: &str) -> ApiError {
    ApiError::coded(
        ErrorCode::Unavailable,
        format!("the published model (R2 object {key:?}) was refused: {why}"),
    )
}

/// Why `bytes` may not be served to anyone as the public model: not a model, not marked public
/// (a private model holds people's data), holding per-person data despite the mark (the
/// decoder refuses that), or, with `MODEL_PUBLIC_KEY` set, not signed by one of its keys.
pub async fn check_public(env: &Env, bytes: &[u8]) -> Result<(), ApiError> {
    check_signature(env, bytes).await.map_err(|r| match r {
        Refusal::Config(_) | Refusal::Crypto(_) => {
            ApiError::internal("checking the model's signature", r)
        }
        _ => ApiError::new(
            400,
            "InvalidInputException",
            format!("body: the model is refused: {r}"),
        ),
    })?;
    let info = edgerec_core::format::read_header(bytes).map_err(|e| {
        ApiError::new(
            400,
            "InvalidInputException",
            format!("body: not a valid model: {e}"),
        )
    })?;
    if info.profile != edgerec_core::Profile::Public {
        return Err(ApiError::new(
            400,
            "InvalidInputException",
            "body: the model is the private profile (it holds user ids and histories); publish the output of `edgerec export --profile public`",
        ));
    }
    edgerec_core::format::decode(bytes).map_err(|e| {
        ApiError::new(
            400,
            "InvalidInputException",
            format!("body: not a valid public model: {e}"),
        )
    })?;
    Ok(())
}

/// `PUT /model/public`: checks the model as [`check_public`] does, then writes it to R2 at
/// `PUBLIC_MODEL_KEY`, where `GET /model` serves it from.
pub async fn publish_public(env: &Env, bytes: Vec<u8>) -> Result<u64, ApiError> {
    check_public(env, &bytes).await?;
    let n = bytes.len() as u64;
    metrics::r2_call();
    env.bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?
        .put(config::public_model_key(env), bytes)
        .execute()
        .await
        .map_err(|e| ApiError::internal("writing the public model to R2", e))?;
    Ok(n)
}

/// `PUT /model`: checks the signature (with `MODEL_PUBLIC_KEY` set) and validates the bytes by
/// decoding them, then writes them to R2. Every isolate picks the new object up at its next
/// check; this one at once, with the engine it decoded to validate them (no second R2 read and
/// decode).
pub async fn publish(env: &Env, bytes: Vec<u8>) -> Result<Rc<Loaded>, ApiError> {
    let t0 = js_sys::Date::now();
    let signed_by = check_signature(env, &bytes).await.map_err(|r| match r {
        Refusal::Config(_) | Refusal::Crypto(_) => {
            ApiError::internal("checking the model's signature", r)
        }
        _ => ApiError::new(
            400,
            "InvalidInputException",
            format!("body: the model is refused: {r}"),
        ),
    })?;
    let engine = Engine::from_bytes(&bytes).map_err(|e| {
        ApiError::new(
            400,
            "InvalidInputException",
            format!("body: not a valid model: {e}"),
        )
    })?;
    let load_ms = js_sys::Date::now() - t0;
    let n = bytes.len() as u64;
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    metrics::r2_call();
    let written = bucket
        .put(config::model_key(env), bytes)
        .execute()
        .await
        .map_err(|e| ApiError::internal("writing the model to R2", e))?
        .ok_or_else(|| ApiError::internal("writing the model to R2", "R2 wrote no object"))?;
    Ok(install(Loaded {
        engine,
        etag: written.http_etag(),
        bytes: n,
        load_ms,
        signed_by,
        uploaded_ms: written.uploaded().as_millis() as f64,
        loaded_at_ms: js_sys::Date::now(),
    }))
}
