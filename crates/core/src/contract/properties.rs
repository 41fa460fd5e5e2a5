//! `properties`: the text of a JSON object, bounded in length, without reserved keys.

use crate::error::{RequestError, quoted};
use crate::json::{self, Value};
use crate::records::json_kind;
use crate::request::check_len;

/// Checks `text` as the `properties` at `field`: 1 to `max` characters of a JSON object
/// (exactly what serde_json reads as one), none of whose keys is in `reserved`. Returns the
/// object's entries.
pub(crate) fn object(
    field: &str,
    text: &str,
    max: usize,
    reserved: &[&str],
) -> Result<Vec<(String, Value)>, RequestError> {
    check_len(field, text, max)?;
    let value = json::from_str(text)
        .map_err(|e| RequestError::invalid(field, format!("must be a JSON object: {e}")))?;
    let Value::Object(map) = value else {
        return Err(RequestError::invalid(
            field,
            format!("must be a JSON object, found {}", json_kind(&value)),
        ));
    };
    if let Some((key, _)) = map.iter().find(|(k, _)| reserved.contains(&k.as_str())) {
        return Err(RequestError::invalid(
            field,
            format!("must not hold the reserved key {}", quoted(key)),
        ));
    }
    Ok(map)
}
