//! `GET /users/{userId}/profile`: one signed-in user's own slice of the published (private)
//! model, for the browser to load next to the public model (`rec.loadUserProfile(bytes)`).
//!
//! The caller needs a per-user token (`Authorization: Bearer v1.…`) that the storefront's
//! backend minted with the user-token secret (serve's tokens file): no token is 401; a token
//! that is malformed, forged, expired or for another user is 403; a valid token for a user the
//! model does not know is 404 (only after the token checked out, so nobody learns who is
//! known); else 200 with the slice, `Cache-Control: private, no-store`.

use edgerec_core::ErrorCode;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use edgerec_core::Engine;
use edgerec_core::user_token;

use super::Shared;
use super::api_error::ApiError;

/// The engine over the published model, decoded once per published version.
#[derive(Debug, Default)]
pub struct EngineCache(Mutex<Option<(String, Arc<Engine>)>>);

impl EngineCache {
    /// The engine of the published model with ETag `etag` (decoded from `bytes` on first use).
    pub(super) fn get(&self, etag: &str, bytes: &[u8]) -> Result<Arc<Engine>, String> {
        if let Ok(g) = self.0.lock()
            && let Some((tag, e)) = g.as_ref()
            && tag == etag
        {
            return Ok(Arc::clone(e));
        }
        let engine = Arc::new(Engine::from_bytes(bytes).map_err(|e| e.to_string())?);
        if let Ok(mut g) = self.0.lock() {
            *g = Some((etag.to_owned(), Arc::clone(&engine)));
        }
        Ok(engine)
    }
}

fn now_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub async fn get_user_profile(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(user_id): Path<String>,
) -> Result<Response, ApiError> {
    use std::sync::atomic::Ordering;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        s.metrics.unauthorized.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "a user profile needs the user's token (Authorization: Bearer <token the storefront's backend minted>)",
        ));
    };
    let forbidden = |message: String| {
        s.metrics.forbidden.fetch_add(1, Ordering::Relaxed);
        ApiError::new(StatusCode::FORBIDDEN, "AccessDeniedException", message)
    };
    let t = user_token::verify(s.config.user_token_secret.as_bytes(), token, now_seconds())
        .map_err(|e| forbidden(e.to_string()))?;
    if t.user_id != user_id {
        return Err(forbidden(
            "the user token is for another user than the profile asked for".to_owned(),
        ));
    }
    let p = s.current().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            "no model has been published yet",
        )
    })?;
    let s2 = Arc::clone(&s);
    let etag = p.etag.clone();
    let bytes = Arc::clone(&p.bytes);
    let uid = user_id.clone();
    let slice = tokio::task::spawn_blocking(move || {
        s2.profiles.get(&etag, &bytes).map(|e| e.user_profile(&uid))
    })
    .await
    .map_err(|e| ApiError::coded(ErrorCode::Internal, e.to_string()))?
    .map_err(|e| {
        ApiError::coded(
            ErrorCode::Internal,
            format!("the published model cannot be decoded: {e}"),
        )
    })?;
    let Some(slice) = slice else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            format!(
                "user {user_id:?} is not a known user of model version {}",
                p.version
            ),
        ));
    };
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        slice,
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(&p.version.to_string()) {
        h.insert("x-edgerec-model-version", v);
    }
    Ok(r)
}
