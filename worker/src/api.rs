//! Errors in Personalize's wire format (the status, an `x-amzn-errortype` header and a JSON body
//! `{"__type": ..., "message": ...}`, which the AWS SDK v3 parses into its typed exceptions),
//! JSON responses and bounded request bodies.

use edgerec_core::{ErrorCode, FormatError, RequestError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use worker::{Request, Response, ResponseBody, ResponseBuilder};

/// Request bodies above this are rejected with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// An error answer: HTTP status, Personalize exception name, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: u16,
    pub kind: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            kind,
            message: message.into(),
        }
    }

    /// `InvalidInputException` (400) naming `field`.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> Self {
        ApiError::new(400, "InvalidInputException", format!("{field}: {message}"))
    }

    /// An error with the core's name and status for `code`.
    pub fn coded(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(code.http_status(), code.as_str(), message)
    }

    pub fn request(e: &RequestError) -> Self {
        ApiError::coded(e.code(), e.to_string())
    }

    pub fn model(e: &FormatError) -> Self {
        ApiError::coded(
            ErrorCode::Unavailable,
            format!("the published model cannot be loaded: {e}"),
        )
    }

    pub fn internal(what: &str, e: impl std::fmt::Display) -> Self {
        ApiError::coded(ErrorCode::Internal, format!("{what}: {e}"))
    }

    pub fn response(&self) -> Response {
        let body = serde_json::json!({ "__type": self.kind, "message": self.message });
        let mut r = bytes(
            self.status,
            "application/json",
            body.to_string().into_bytes(),
        );
        let h = r.headers_mut();
        let _ = h.set("x-amzn-errortype", self.kind);
        let _ = h.set("cache-control", "no-store");
        r
    }
}

/// A response with a body and a content type.
pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Response {
    let mut r = ResponseBuilder::new()
        .with_status(status)
        .body(ResponseBody::Body(body));
    let _ = r.headers_mut().set("content-type", content_type);
    r
}

/// A 200 JSON answer.
pub fn json<T: Serialize>(value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| ApiError::internal("serialising", e))?;
    Ok(bytes(200, "application/json", body))
}

/// The body, at most [`MAX_BODY_BYTES`] (checked on `Content-Length` first, then on the bytes).
pub async fn body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    body_up_to(req, MAX_BODY_BYTES).await
}

/// The body, at most `limit` bytes (the Segment routes: Segment's 32 KB per call, 500 KB per
/// batch).
pub async fn body_up_to(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large = |n: usize| {
        ApiError::new(
            413,
            "RequestEntityTooLargeException",
            format!("request body of {n} bytes exceeds the limit of {limit} bytes"),
        )
    };
    if let Ok(Some(len)) = req.headers().get("content-length")
        && let Ok(n) = len.parse::<usize>()
        && n > limit
    {
        return Err(too_large(n));
    }
    let bytes = req
        .bytes()
        .await
        .map_err(|e| ApiError::invalid("body", format!("could not be read: {e}")))?;
    if bytes.len() > limit {
        return Err(too_large(bytes.len()));
    }
    Ok(bytes)
}

/// Parses a JSON body ([`crate::body::parse`]); errors name the field path
/// (`eventList[0].sentAt`).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    crate::body::parse(bytes).map_err(|e| ApiError::invalid(&e.field, e.message))
}
