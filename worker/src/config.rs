//! Settings from the Worker's environment (`[vars]` in wrangler.toml and secrets).

use edgerec_core::ErrorCode;
use worker::Env;

use crate::api::ApiError;

/// R2 bucket binding holding the model.
pub const MODELS_BUCKET: &str = "MODELS";
/// Durable Object namespace binding of the sessions.
pub const SESSIONS: &str = "SESSIONS";
/// Optional Queue producer binding for event sync.
pub const SYNC_QUEUE: &str = "SYNC_QUEUE";

/// A non-empty string variable or secret.
pub fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
}

/// The object key of the model in the bucket (`MODEL_KEY`, default `model.erm`).
pub fn model_key(env: &Env) -> String {
    var(env, "MODEL_KEY").unwrap_or_else(|| "model.erm".to_owned())
}

/// The object key of the public profile of the model (`PUBLIC_MODEL_KEY`, default the model's
/// key with `.public.erm` for `.erm`, e.g. `model.public.erm`): what `GET /model` serves.
pub fn public_model_key(env: &Env) -> String {
    var(env, "PUBLIC_MODEL_KEY").unwrap_or_else(|| {
        let key = model_key(env);
        match key.strip_suffix(".erm") {
            Some(stem) => format!("{stem}.public.erm"),
            None => format!("{key}.public"),
        }
    })
}

/// How often an isolate checks R2 for a newer model (`MODEL_CHECK_SECONDS`, default 30).
pub fn model_check_ms(env: &Env) -> f64 {
    var(env, "MODEL_CHECK_SECONDS")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(30.0)
        * 1000.0
}

/// How long an isolate trusts that a key had no live state (`LIVE_INDEX_CACHE_SECONDS`, default
/// 0: it asks R2 every time; see `session_index`).
pub fn live_index_cache_ms(env: &Env) -> f64 {
    var(env, "LIVE_INDEX_CACHE_SECONDS")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(0.0)
        * 1000.0
}

/// `Cache-Control` max-age for anonymous answers (`CACHE_SECONDS`, default 60).
pub fn cache_seconds(env: &Env) -> u32 {
    var(env, "CACHE_SECONDS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}

/// How reads (GetRecommendations, GetPersonalizedRanking) are authorised (`READ_AUTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAuth {
    /// A SigV4 signature by a configured key, as Personalize (the default).
    SigV4,
    /// A SigV4 signature or `Authorization: Bearer <READ_TOKEN>`.
    Bearer,
    /// No service credentials: only reads that name no user are answered without credentials.
    None,
}

/// `READ_AUTH` (default `sigv4`). A value it does not know fails closed: every read is refused
/// with an error that names the setting.
pub fn read_auth(env: &Env) -> Result<ReadAuth, ApiError> {
    match var(env, "READ_AUTH").map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(ReadAuth::SigV4),
        Some(v) => match v.as_str() {
            "sigv4" => Ok(ReadAuth::SigV4),
            "bearer" => Ok(ReadAuth::Bearer),
            "none" => Ok(ReadAuth::None),
            _ => Err(misconfigured("READ_AUTH", "sigv4, bearer or none", &v)),
        },
    }
}

/// A boolean setting: unset or `false` → false, `true` → true; anything else fails closed with
/// an error naming the setting (a typo must not open or close a door silently).
pub fn flag(env: &Env, name: &str) -> Result<bool, ApiError> {
    match var(env, name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(false),
        Some(v) if v == "false" => Ok(false),
        Some(v) if v == "true" => Ok(true),
        Some(v) => Err(misconfigured(name, "true or false", &v)),
    }
}

/// How Segment calls become events (`SEGMENT_EVENT_MAP`: a JSON object of track event name →
/// event type, `$page` / `$screen` for page / screen calls; unset: names as sent, `page`,
/// `screen`). A value that does not parse fails closed, naming the setting.
pub fn segment(env: &Env) -> Result<edgerec_core::segment::SegmentConfig, ApiError> {
    let text = var(env, "SEGMENT_EVENT_MAP").unwrap_or_default();
    edgerec_core::segment::SegmentConfig::from_json(&text).map_err(|e| {
        ApiError::coded(
            ErrorCode::Internal,
            format!("the Worker is misconfigured: SEGMENT_EVENT_MAP: {e}"),
        )
    })
}

fn misconfigured(name: &str, expected: &str, got: &str) -> ApiError {
    ApiError::coded(
        ErrorCode::Internal,
        format!(
            "the Worker is misconfigured: {name} must be {expected}, got {:?}",
            got.chars().take(40).collect::<String>()
        ),
    )
}
