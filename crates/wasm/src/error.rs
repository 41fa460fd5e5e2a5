//! Core errors as JS `Error` objects with a stable `code` (also set as `name`, as the AWS SDK
//! names its exceptions) and a message that names the field.

use edgerec_core::{FormatError, RequestError};
use js_sys::{Error, Reflect};
use wasm_bindgen::JsValue;

/// Code of errors raised by the adapter itself (random ids unavailable).
pub const INTERNAL: &str = "InternalError";

/// A JS `Error` with `code` and `name` set to `code`.
#[must_use]
pub fn js_error(code: &str, message: &str) -> JsValue {
    let e = Error::new(message);
    e.set_name(code);
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

#[must_use]
pub fn request(e: &RequestError) -> JsValue {
    js_error(e.code().as_str(), &e.to_string())
}

#[must_use]
pub fn format(e: &FormatError) -> JsValue {
    js_error(e.code().as_str(), &e.to_string())
}

/// A malformed argument (wrong JS type or shape) as an `InvalidInputException` naming `field`.
#[must_use]
pub fn invalid(field: &str, message: &str) -> JsValue {
    request(&RequestError::invalid(field, message))
}
