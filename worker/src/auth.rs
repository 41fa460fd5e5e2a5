//! Who may call the write routes: a bearer token (`API_TOKEN`), a valid SigV4 signature by a
//! configured key (`SIGV4_ACCESS_KEY_ID` / `SIGV4_SECRET_ACCESS_KEY`), or anyone when the
//! deployment is explicitly open (`AUTH_MODE = "open"`). `PUT /model` needs `ADMIN_TOKEN`.

use worker::{Env, Request};

use crate::api::ApiError;
use crate::config::var;
use crate::sigv4::{self, SigError, Signed, constant_time_eq};

/// Checks a write request; `body` is the bytes already read (SigV4 signs them).
pub fn write(req: &Request, env: &Env, body: &[u8]) -> Result<(), ApiError> {
    if var(env, "AUTH_MODE").as_deref() == Some("open") {
        return Ok(());
    }
    let header = |n: &str| req.headers().get(n).ok().flatten();
    let Some(auth) = header("authorization") else {
        return Err(ApiError::new(
            403,
            "MissingAuthenticationTokenException",
            "write routes need Authorization: Bearer <API_TOKEN> or an AWS SigV4 signature",
        ));
    };
    if let Some(token) = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))
    {
        return bearer(token.trim(), var(env, "API_TOKEN"));
    }
    let keys: Vec<(String, String)> = match (
        var(env, "SIGV4_ACCESS_KEY_ID"),
        var(env, "SIGV4_SECRET_ACCESS_KEY"),
    ) {
        (Some(k), Some(s)) => vec![(k, s)],
        _ => Vec::new(),
    };
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
    let now = js_sys::Date::now() / 1000.0;
    sigv4::verify(&signed, &keys, now).map_err(|e| match e {
        SigError::Incomplete(m) => ApiError::new(403, "IncompleteSignatureException", m),
        SigError::UnknownKey(m) => ApiError::new(403, "UnrecognizedClientException", m),
        SigError::Mismatch(m) => ApiError::new(403, "InvalidSignatureException", m),
    })
}

/// `PUT /model`: the admin token only.
pub fn admin(req: &Request, env: &Env) -> Result<(), ApiError> {
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
            "publishing a model needs Authorization: Bearer <ADMIN_TOKEN>",
        )),
        None => Err(ApiError::new(
            403,
            "AccessDeniedException",
            "publishing over HTTP is disabled: ADMIN_TOKEN is not set",
        )),
    }
}

fn bearer(token: &str, expected: Option<String>) -> Result<(), ApiError> {
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
            "bearer tokens are not accepted: API_TOKEN is not set",
        )),
    }
}
