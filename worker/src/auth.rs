//! Who may call what. One gate per kind of route, called once by each handler:
//!
//! - [`read`] (GetRecommendations, GetPersonalizedRanking): per `READ_AUTH` (`sigv4`, the
//!   default, as Personalize; `bearer`; `none`) and `PUBLIC_READS`. A read that names a user
//!   (`userId`, which also names a live session) always needs a credential: a SigV4 signature,
//!   `Bearer <READ_TOKEN>` when `READ_AUTH=bearer|none`, or that user's own token
//!   (`USER_TOKEN_SECRET`, any mode). A read that names no user (popular, trending, related
//!   items) needs one unless `PUBLIC_READS=true` or `READ_AUTH=none`.
//! - [`write`] (PutEvents, PutItems, PutUsers): `Bearer <API_TOKEN>` or a SigV4 signature, or
//!   anyone when the deployment is explicitly open (`AUTH_MODE=open`).
//! - [`segment_write`] (the Segment routes, `/v1/track`, …): as [`write`], and the `API_TOKEN`
//!   as the user name of HTTP Basic too (Segment's write-key form).
//! - [`admin`] (`PUT /model`): `Bearer <ADMIN_TOKEN>`.
//!
//! A credential that is presented is always checked: a wrong one is refused, never ignored in
//! favour of anonymous access.

use edgerec_core::user_token::{self, TokenError};
use worker::{Env, Request};

use crate::api::ApiError;
use crate::config::{self, ReadAuth, var};
use crate::sigv4::{self, Keys, SessionCredentials, SigError, Signed, constant_time_eq};

/// The credential a request presents in its `Authorization` header.
enum Presented {
    Nothing,
    Bearer(String),
    SigV4,
}

fn presented(req: &Request) -> Result<Presented, ApiError> {
    let Some(auth) = req.headers().get("authorization").ok().flatten() else {
        return Ok(Presented::Nothing);
    };
    if let Some(token) = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
    {
        return Ok(Presented::Bearer(token.trim().to_owned()));
    }
    if auth.starts_with("AWS4-") {
        return Ok(Presented::SigV4);
    }
    Err(ApiError::new(
        403,
        "IncompleteSignatureException",
        "Authorization must be a Bearer token or an AWS4-HMAC-SHA256 signature",
    ))
}

/// Checks a read. `user` is the `userId` the request names (`None`: an anonymous list);
/// `body` the bytes as received (SigV4 signs them; empty for `GET`).
pub fn read(req: &Request, env: &Env, body: &[u8], user: Option<&str>) -> Result<(), ApiError> {
    let mode = config::read_auth(env)?;
    match presented(req)? {
        Presented::SigV4 => signature(req, env, body),
        Presented::Bearer(token) => {
            if let Some(secret) = var(env, "USER_TOKEN_SECRET")
                && token.starts_with("v1.")
            {
                return own_user(&token, secret.as_bytes(), user);
            }
            match mode {
                ReadAuth::Bearer | ReadAuth::None => {
                    bearer(&token, var(env, "READ_TOKEN"), "READ_TOKEN")
                }
                ReadAuth::SigV4 => Err(ApiError::new(
                    403,
                    "UnrecognizedClientException",
                    "READ_AUTH is sigv4: reads are signed with AWS SigV4 (or carry the user's own \
                     token); service bearer tokens are not accepted",
                )),
            }
        }
        Presented::Nothing => {
            let open = mode == ReadAuth::None || config::flag(env, "PUBLIC_READS")?;
            if user.is_none() && open {
                return Ok(());
            }
            Err(ApiError::new(
                403,
                "MissingAuthenticationTokenException",
                match (mode, user.is_some()) {
                    (ReadAuth::None, _) => {
                        "READ_AUTH is none: reads that name a userId need that user's token \
                         (Authorization: Bearer v1...) or service credentials; reads without \
                         credentials may name no user"
                    }
                    (_, true) => {
                        "Missing Authentication Token: reads that name a userId need a SigV4 \
                         signature, the service bearer token (READ_AUTH=bearer) or that user's \
                         token"
                    }
                    (_, false) => {
                        "Missing Authentication Token: reads need a SigV4 signature or the \
                         service bearer token (READ_AUTH=bearer); PUBLIC_READS=true opens reads \
                         that name no user"
                    }
                },
            ))
        }
    }
}

/// Checks a write request; `body` is the bytes already read (SigV4 signs them).
pub fn write(req: &Request, env: &Env, body: &[u8]) -> Result<(), ApiError> {
    if var(env, "AUTH_MODE").as_deref() == Some("open") {
        return Ok(());
    }
    match presented(req)? {
        Presented::SigV4 => signature(req, env, body),
        Presented::Bearer(token) => bearer(&token, var(env, "API_TOKEN"), "API_TOKEN"),
        Presented::Nothing => Err(ApiError::new(
            403,
            "MissingAuthenticationTokenException",
            "write routes need Authorization: Bearer <API_TOKEN> or an AWS SigV4 signature",
        )),
    }
}

/// Checks a Segment call (`/v1/track`, …): as [`write`], and also the `API_TOKEN` as the user
/// name of HTTP Basic (`Authorization: Basic base64(API_TOKEN:)`), how Segment's HTTP API sends
/// a write key.
pub fn segment_write(req: &Request, env: &Env, body: &[u8]) -> Result<(), ApiError> {
    if var(env, "AUTH_MODE").as_deref() == Some("open") {
        return Ok(());
    }
    let header = req.headers().get("authorization").ok().flatten();
    if let Some(h) = header.as_deref()
        && (h.starts_with("Basic ") || h.starts_with("basic "))
    {
        return match edgerec_core::segment::basic_write_key(h) {
            Some(key) => bearer(&key, var(env, "API_TOKEN"), "API_TOKEN"),
            None => Err(ApiError::new(
                403,
                "IncompleteSignatureException",
                "Authorization: Basic must carry base64(API_TOKEN:)",
            )),
        };
    }
    write(req, env, body)
}

/// `PUT /model`: the admin token only.
pub fn admin(req: &Request, env: &Env) -> Result<(), ApiError> {
    admin_for(req, env, "publishing a model")
}

/// Checks `Authorization: Bearer <ADMIN_TOKEN>` for `what` (named in the refusal).
pub fn admin_for(req: &Request, env: &Env, what: &str) -> Result<(), ApiError> {
    let auth = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let token = auth.strip_prefix("Bearer ").unwrap_or_default().trim();
    match var(env, "ADMIN_TOKEN") {
        Some(admin) if constant_time_eq(admin.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(
            403,
            "AccessDeniedException",
            format!("{what} needs Authorization: Bearer <ADMIN_TOKEN>"),
        )),
        None => Err(ApiError::new(
            403,
            "AccessDeniedException",
            format!("{what} is disabled: ADMIN_TOKEN is not set"),
        )),
    }
}

/// The keys SigV4 accepts: `SIGV4_ACCESS_KEY_ID` / `SIGV4_SECRET_ACCESS_KEY`, and temporary
/// credentials when `SIGV4_SESSION_SECRET` is set (lifetime ≤ `SIGV4_SESSION_MAX_SECONDS`,
/// default 12 h).
fn keys(env: &Env) -> Keys {
    let permanent = match (
        var(env, "SIGV4_ACCESS_KEY_ID"),
        var(env, "SIGV4_SECRET_ACCESS_KEY"),
    ) {
        (Some(k), Some(s)) => vec![(k, s)],
        _ => Vec::new(),
    };
    let sessions = var(env, "SIGV4_SESSION_SECRET").map(|secret| {
        let max = var(env, "SIGV4_SESSION_MAX_SECONDS")
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(sigv4::DEFAULT_SESSION_MAX_SECONDS);
        SessionCredentials::new(secret.as_bytes(), max)
    });
    Keys {
        permanent,
        sessions,
    }
}

fn signature(req: &Request, env: &Env, body: &[u8]) -> Result<(), ApiError> {
    let header = |n: &str| req.headers().get(n).ok().flatten();
    let url = req
        .url()
        .map_err(|e| ApiError::internal("request URL", e))?;
    let method = req.method();
    let signed = Signed {
        method: method.as_ref(),
        path: url.path(),
        query: url.query().unwrap_or(""),
        header: &header,
        body,
    };
    sigv4::verify(&signed, &keys(env), now())
        .map_err(|e: SigError| ApiError::new(403, e.exception(), e.message().to_owned()))
}

/// A per-user token: valid, unexpired, and for the user the read names (or for a read that
/// names no user).
fn own_user(token: &str, secret: &[u8], user: Option<&str>) -> Result<(), ApiError> {
    let holder = user_token::verify(secret, token, now_seconds()).map_err(|e| match e {
        TokenError::Expired { .. } => {
            ApiError::new(403, "ExpiredTokenException", "the user token has expired")
        }
        TokenError::Malformed(_) | TokenError::BadSignature | TokenError::WeakSecret => {
            ApiError::new(
                403,
                "UnrecognizedClientException",
                "the user token is not valid",
            )
        }
    })?;
    match user {
        Some(u) if !constant_time_eq(u.as_bytes(), holder.user_id.as_bytes()) => {
            Err(ApiError::new(
                403,
                "AccessDeniedException",
                "the user token is for another user: a user token reads only its own user's \
                 recommendations",
            ))
        }
        _ => Ok(()),
    }
}

fn bearer(token: &str, expected: Option<String>, setting: &str) -> Result<(), ApiError> {
    match expected {
        Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => Ok(()),
        Some(_) => Err(ApiError::new(
            403,
            "UnrecognizedClientException",
            "unknown bearer token",
        )),
        None => Err(ApiError::new(
            403,
            "UnrecognizedClientException",
            format!("bearer tokens are not accepted here: {setting} is not set"),
        )),
    }
}

fn now() -> f64 {
    js_sys::Date::now() / 1000.0
}

/// Unix seconds now, whole (what per-user tokens' expiries count in).
pub fn now_seconds() -> u64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let s = now().max(0.0) as u64;
    s
}
