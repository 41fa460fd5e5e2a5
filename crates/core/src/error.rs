//! Typed errors, one type per phase, each with a stable code string shared by
//! the JS `Error.code` and the HTTP error name.

use thiserror::Error;

/// Stable error codes (Personalize's exception names where one exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidInput,
    ResourceNotFound,
    ModelFormat,
}

impl ErrorCode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "InvalidInputException",
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ModelFormat => "ModelFormatError",
        }
    }
}

/// Why model bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    #[error(
        "not an edgerec model: the file does not start with the .erm magic bytes (found {found:02x?})"
    )]
    BadMagic { found: Vec<u8> },
    #[error("truncated model: {what} needs {needed} bytes but only {available} are present")]
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    #[error(
        "unsupported model format version {found_major}.{found_minor}: this build reads versions {oldest} to {newest}"
    )]
    UnsupportedVersion {
        found_major: u16,
        found_minor: u16,
        oldest: u16,
        newest: u16,
    },
    #[error(
        "model requires capabilities {missing:#x} that this build does not support (supported: {supported:#x})"
    )]
    MissingCapabilities { missing: u64, supported: u64 },
    #[error("{what} of {value} exceeds the limit of {limit}")]
    TooLarge {
        what: &'static str,
        value: u64,
        limit: u64,
    },
    #[error(
        "checksum mismatch in section {section}: stored {stored:#010x}, computed {computed:#010x} (the file is corrupted)"
    )]
    Checksum {
        section: String,
        stored: u32,
        computed: u32,
    },
    #[error("section table is invalid: {0}")]
    SectionTable(String),
    #[error("required section {0} is missing")]
    MissingSection(&'static str),
    #[error("section {section} could not be decoded: {message}")]
    Section { section: String, message: String },
    #[error("model is inconsistent: {0}")]
    Inconsistent(String),
}

impl FormatError {
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ModelFormat
    }
}

/// Why a request was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RequestError {
    /// A field is missing, malformed or outside Personalize's limits.
    #[error("{field}: {message}")]
    InvalidInput { field: String, message: String },
    /// The named recommender, filter or resource does not exist.
    #[error("{what} not found: {name}")]
    NotFound { what: &'static str, name: String },
    /// A filter expression failed to parse or compile.
    #[error("filter: {0}")]
    Filter(#[from] FilterError),
}

impl RequestError {
    /// An `InvalidInputException` naming `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        RequestError::InvalidInput {
            field: field.into(),
            message: message.into(),
        }
    }

    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            RequestError::InvalidInput { .. } | RequestError::Filter(_) => ErrorCode::InvalidInput,
            RequestError::NotFound { .. } => ErrorCode::ResourceNotFound,
        }
    }
}

/// Why a filter expression was rejected (parse, compile or parameter errors).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    #[error("expected {expected} {context}at column {column}, found {found}")]
    Parse {
        column: usize,
        found: String,
        expected: String,
        context: String,
    },
    #[error("{0}")]
    Invalid(String),
    #[error("missing value for parameter ${0}, which an INCLUDE expression needs")]
    MissingParameter(String),
    /// The expression parses but does not fit the catalogue or Personalize's rules (unknown
    /// field, textual field, wrong operator for the field type, datasets mixed, ...).
    #[error("{message} (at column {column})")]
    Compile { column: usize, message: String },
    /// A `filterValues` entry is malformed or outside the limits (`key` is empty when the
    /// problem is the map as a whole).
    #[error("filterValues{}: {message}", if key.is_empty() { String::new() } else { format!(".{key}") })]
    InvalidFilterValues { key: String, message: String },
    /// An INCLUDE expression compares with `CurrentItem`, but the request names no item.
    #[error(
        "this filter uses CurrentItem, which needs an itemId in the request (related-items recommendations)"
    )]
    MissingCurrentItem,
}
