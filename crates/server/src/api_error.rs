//! A failed request as the HTTP API answers it: Personalize's error name in `__type` and the
//! `x-amzn-ErrorType` header, the status from the core's table, the field when one is at fault.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use edgerec_core::ErrorCode;
use serde_json::json;

use super::ingest::InputError;
use super::store::StoreError;

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
    /// The rejected calls of a Segment batch of which none was valid.
    pub rejected: Option<serde_json::Value>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
            rejected: None,
        }
    }

    /// An error with the core's name and status for `code` (the table the Worker uses too).
    pub(crate) fn coded(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError::new(
            StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            code.as_str(),
            message,
        )
    }

    /// A refused body: the core's name and status for invalid input, naming the field.
    pub(crate) fn invalid(e: InputError) -> Self {
        ApiError {
            field: Some(e.field.clone()),
            ..ApiError::coded(ErrorCode::InvalidInput, e.to_string())
        }
    }

    pub(crate) fn internal(e: &StoreError) -> Self {
        tracing::error!("store: {e}");
        ApiError::coded(
            ErrorCode::Internal,
            "the event store failed; nothing was acknowledged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"__type": self.code, "message": self.message});
        if let Some(f) = &self.field {
            body["field"] = json!(f);
        }
        if let Some(r) = self.rejected {
            body["rejected"] = r;
        }
        let mut r = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        r.headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.code));
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}
