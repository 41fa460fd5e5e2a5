//! Placeholder until the format module lands: a bare bincode round trip.

/// Decodes model bytes.
pub fn decode(bytes: &[u8]) -> Result<crate::model::Model, crate::error::FormatError> {
    bincode::serde::decode_from_slice(bytes, bincode::config::standard())
        .map(|(m, _)| m)
        .map_err(|e| crate::error::FormatError::Section { section: "model".into(), message: e.to_string() })
}

/// Encodes a model.
#[cfg(feature = "write")]
pub fn encode(model: &crate::model::Model) -> Result<Vec<u8>, crate::error::FormatError> {
    bincode::serde::encode_to_vec(model, bincode::config::standard())
        .map_err(|e| crate::error::FormatError::Section { section: "model".into(), message: e.to_string() })
}
