//! JS ⇄ Rust conversions: option objects through serde (errors name the field path), responses
//! as plain JS objects (maps as objects), and the random ids the core does not make.

use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

use crate::error;

/// Deserialises an option object; a type error names the path inside it (`eventList[0].sentAt`).
pub fn from_js<T: DeserializeOwned>(what: &str, value: JsValue) -> Result<T, JsValue> {
    if value.is_undefined() || value.is_null() {
        return Err(error::invalid(what, "is required"));
    }
    let de = serde_wasm_bindgen::Deserializer::from(value);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { what.to_owned() } else { path };
        error::invalid(&field, &e.inner().to_string())
    })
}

/// Serialises a response as plain JS objects and arrays.
pub fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| error::js_error(error::INTERNAL, &e.to_string()))
}

/// `N` random bytes from the platform (`crypto.getRandomValues` in JS hosts).
fn random_bytes<const N: usize>() -> Result<[u8; N], JsValue> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b)
        .map_err(|e| error::js_error(error::INTERNAL, &format!("no random source: {e}")))?;
    Ok(b)
}

/// A random UUID (version 4), as Personalize's SDKs make for `eventId`.
pub fn uuid() -> Result<String, JsValue> {
    Ok(edgerec_core::request::uuid_v4(random_bytes()?))
}

/// Fills a missing `recommendationId` with `RID-` and a random UUID (40 characters at most).
pub fn fill_recommendation_id(id: &mut Option<String>) -> Result<(), JsValue> {
    if id.is_none() {
        *id = Some(format!("RID-{}", uuid()?));
    }
    Ok(())
}

/// Fills missing `eventId`s with random UUIDs.
pub fn fill_event_ids(req: &mut edgerec_core::PutEventsRequest) -> Result<(), JsValue> {
    for e in &mut req.event_list {
        if e.event_id.is_none() {
            e.event_id = Some(uuid()?);
        }
    }
    Ok(())
}
