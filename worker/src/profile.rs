//! `GET /users/{userId}/profile`: a signed-in user's own slice of the Worker's (private) model,
//! which the browser loads next to the public model (`rec.loadUserProfile(bytes)`).
//!
//! Authorised by a per-user token that the storefront's backend mints with the
//! `USER_TOKEN_SECRET` secret (`edgerec_core::user_token`): no token is 401; a malformed,
//! forged, expired or another user's token is 403 (as is any token while the secret is unset);
//! a valid token for a user the model does not know is 404; else 200 with the slice and
//! `Cache-Control: private, no-store`.

use edgerec_core::user_token;
use worker::{Env, Request, Response};

use crate::api::{self, ApiError};
use crate::config::var;
use crate::paths::percent_decode;
use crate::{auth, model};

pub async fn get(req: &Request, env: &Env, segment: &str) -> Result<Response, ApiError> {
    let user_id = percent_decode(segment)
        .ok_or_else(|| ApiError::invalid("userId", "is not percent-encoded UTF-8"))?;
    let token = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .map(|t| t.trim().to_owned())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        let mut r = ApiError::new(
            401,
            "UnauthorizedException",
            "a user profile needs the user's token (Authorization: Bearer <token the storefront's backend minted>)",
        )
        .response();
        let _ = r.headers_mut().set("www-authenticate", "Bearer");
        return Ok(r);
    };
    let denied = |m: String| ApiError::new(403, "AccessDeniedException", m);
    let secret = var(env, "USER_TOKEN_SECRET").ok_or_else(|| {
        denied("user profiles are disabled: USER_TOKEN_SECRET is not set".to_owned())
    })?;
    let t = user_token::verify(secret.as_bytes(), &token, auth::now_seconds())
        .map_err(|e| denied(e.to_string()))?;
    if t.user_id != user_id {
        return Err(denied(
            "the user token is for another user than the profile asked for".to_owned(),
        ));
    }
    let loaded = model::current(env).await?;
    let slice = loaded.engine.user_profile(&user_id).ok_or_else(|| {
        ApiError::new(
            404,
            "ResourceNotFoundException",
            format!("user {user_id:?} is not a known user of the model"),
        )
    })?;
    let mut r = api::bytes(200, "application/octet-stream", slice);
    let h = r.headers_mut();
    let _ = h.set("cache-control", "private, no-store");
    let _ = h.set(
        "x-edgerec-model-version",
        &loaded.engine.model().meta.version.to_string(),
    );
    Ok(r)
}
