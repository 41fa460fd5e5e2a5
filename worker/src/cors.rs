//! CORS: which web origins may call the Worker from a browser (`ALLOWED_ORIGINS`).
//!
//! `ALLOWED_ORIGINS` is a comma-separated list of exact origins (`https://shop.example.com`);
//! `*` allows every origin, and only when set as such. Unset: no CORS headers at all, so
//! browsers on other origins cannot read answers (server-to-server callers are unaffected).
//! An allowed origin gets `Access-Control-Allow-Origin` with its own value, the exposed headers
//! and `Vary: Origin`; a refused one gets no CORS headers, and its preflight a 403. Preflights
//! (`OPTIONS`) allow the methods and headers the npm package and the AWS SDK v3 send.
//! Credentials mode (cookies) is never allowed: the Worker authenticates with headers.

use worker::{Env, Request, Response};

use crate::api::ApiError;
use crate::config::var;

/// Methods a preflight may ask for.
const METHODS: &str = "GET, HEAD, POST, PUT, OPTIONS";
/// Request headers a preflight may ask for besides any `x-amz-*` and `amz-sdk-*` header.
const HEADERS: &[&str] = &[
    "authorization",
    "content-type",
    "if-none-match",
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-security-token",
    "x-amz-user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
];
/// Response headers a page may read.
const EXPOSED: &str = "etag, x-amzn-errortype, x-amzn-requestid, x-edgerec-context, x-edgerec-experiment, x-edgerec-variant";
/// How long a browser may cache a preflight (seconds; browsers cap it lower).
const MAX_AGE: &str = "7200";

/// The configured origins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// `ALLOWED_ORIGINS` unset: no CORS.
    None,
    /// `ALLOWED_ORIGINS = "*"`.
    Any,
    List(Vec<String>),
}

impl Origins {
    pub fn from_env(env: &Env) -> Origins {
        Origins::parse(var(env, "ALLOWED_ORIGINS").as_deref().unwrap_or(""))
    }

    pub fn parse(setting: &str) -> Origins {
        let list: Vec<String> = setting
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if list.is_empty() {
            Origins::None
        } else if list.iter().any(|o| o == "*") {
            Origins::Any
        } else {
            Origins::List(list)
        }
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    fn allow(&self, origin: &str) -> Option<String> {
        match self {
            Origins::None => None,
            Origins::Any => Some("*".to_owned()),
            Origins::List(list) => list.iter().any(|o| o == origin).then(|| origin.to_owned()),
        }
    }
}

/// Whether a preflight may ask for this request header.
fn header_allowed(name: &str) -> bool {
    HEADERS.contains(&name) || name.starts_with("x-amz-") || name.starts_with("amz-sdk-")
}

/// Answers an `OPTIONS` request. A CORS preflight from an allowed origin for allowed methods
/// and headers gets 204 with the CORS headers; any other preflight a 403 without them.
pub fn preflight(req: &Request, env: &Env) -> Response {
    let h = |n: &str| req.headers().get(n).ok().flatten();
    let (Some(origin), Some(method)) = (h("origin"), h("access-control-request-method")) else {
        // Not a preflight: say what the route allows.
        let mut r = crate::api::bytes(204, "text/plain", Vec::new());
        let _ = r.headers_mut().set("allow", METHODS);
        return r;
    };
    let origins = Origins::from_env(env);
    let refuse = |why: String| {
        let mut r = ApiError::new(403, "AccessDeniedException", why).response();
        if origins != Origins::None {
            let _ = r.headers_mut().append("vary", "Origin");
        }
        r
    };
    let Some(allow) = origins.allow(&origin) else {
        return refuse(format!(
            "origin {:?} is not in ALLOWED_ORIGINS",
            origin.chars().take(100).collect::<String>()
        ));
    };
    if !METHODS.split(", ").any(|m| m == method.trim()) {
        return refuse(format!("method {method:?} is not allowed"));
    }
    let requested: Vec<String> = h("access-control-request-headers")
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if let Some(bad) = requested.iter().find(|n| !header_allowed(n)) {
        return refuse(format!("request header {bad:?} is not allowed"));
    }
    let mut r = crate::api::bytes(204, "text/plain", Vec::new());
    let headers = r.headers_mut();
    let _ = headers.set("access-control-allow-origin", &allow);
    let _ = headers.set("access-control-allow-methods", METHODS);
    let mut allowed: Vec<String> = HEADERS.iter().map(|s| (*s).to_owned()).collect();
    allowed.extend(
        requested
            .into_iter()
            .filter(|n| !HEADERS.contains(&n.as_str())),
    );
    let _ = headers.set("access-control-allow-headers", &allowed.join(", "));
    let _ = headers.set("access-control-max-age", MAX_AGE);
    let _ = headers.set(
        "vary",
        "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    );
    r
}

/// Adds the CORS headers of an actual (non-preflight) request to its response.
pub fn decorate(req: &Request, env: &Env, r: &mut Response) {
    let origins = Origins::from_env(env);
    if origins == Origins::None {
        return;
    }
    let headers = r.headers_mut();
    if let Origins::List(_) = origins {
        // The answer depends on the Origin header: caches must key on it.
        let _ = headers.append("vary", "Origin");
    }
    let Some(origin) = req.headers().get("origin").ok().flatten() else {
        return;
    };
    if let Some(allow) = origins.allow(&origin) {
        let _ = headers.set("access-control-allow-origin", &allow);
        let _ = headers.set("access-control-expose-headers", EXPOSED);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_exactly() {
        assert_eq!(Origins::parse(""), Origins::None);
        assert_eq!(Origins::parse(" , "), Origins::None);
        assert_eq!(Origins::parse("*"), Origins::Any);
        let list = Origins::parse("https://shop.example.com, https://m.example.com/");
        assert_eq!(
            list.allow("https://m.example.com").as_deref(),
            Some("https://m.example.com")
        );
        assert_eq!(list.allow("https://evil.example.com"), None);
        assert_eq!(list.allow("https://shop.example.com.evil.net"), None);
        assert_eq!(list.allow("http://shop.example.com"), None);
        assert_eq!(list.allow("null"), None);
        assert_eq!(Origins::Any.allow("https://x.test").as_deref(), Some("*"));
        assert_eq!(Origins::None.allow("https://x.test"), None);
    }

    #[test]
    fn sdk_headers_are_allowed() {
        for h in [
            "authorization",
            "content-type",
            "if-none-match",
            "x-amz-date",
            "x-amz-security-token",
            "x-amz-content-sha256",
            "x-amz-user-agent",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
        ] {
            assert!(header_allowed(h), "{h}");
        }
        assert!(!header_allowed("cookie"));
        assert!(!header_allowed("x-forwarded-for"));
    }
}
