//! Settings from the Worker's environment (`[vars]` in wrangler.toml and secrets).

use worker::Env;

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

/// How often an isolate checks R2 for a newer model (`MODEL_CHECK_SECONDS`, default 30).
pub fn model_check_ms(env: &Env) -> f64 {
    var(env, "MODEL_CHECK_SECONDS")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(30.0)
        * 1000.0
}

/// `Cache-Control` max-age for anonymous answers (`CACHE_SECONDS`, default 60).
pub fn cache_seconds(env: &Env) -> u32 {
    var(env, "CACHE_SECONDS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(60)
}
