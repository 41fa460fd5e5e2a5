//! Placeholder until the format module lands.

/// Decodes model bytes.
pub fn decode(_bytes: &[u8]) -> Result<crate::model::Model, crate::error::FormatError> {
    Err(crate::error::FormatError::MissingSection("all"))
}
