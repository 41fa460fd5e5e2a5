//! Typed errors, one type per phase, each with a stable code string shared by
//! the JS `Error.code` and the HTTP error name.

use thiserror::Error;

/// Stable error codes (Personalize's exception names where one exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    InvalidInput,
    ResourceNotFound,
    ModelFormat,
    /// User-profile bytes (a user slice) that cannot be read.
    ProfileFormat,
    /// A user profile made for another model than the engine's.
    ProfileMismatch,
    /// The service failed for a reason of its own (a store, a task, a setting); the caller
    /// did nothing wrong.
    Internal,
    /// The service cannot answer now (no model published yet, one that cannot be loaded);
    /// trying later may succeed.
    Unavailable,
}

impl ErrorCode {
    /// The error's name on the wire (`__type` and `x-amzn-errortype`): Personalize's
    /// exception names, AWS's common `InternalFailure` for the service's own failures.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "InvalidInputException",
            ErrorCode::ResourceNotFound => "ResourceNotFoundException",
            ErrorCode::ModelFormat => "ModelFormatError",
            ErrorCode::ProfileFormat => "UserProfileFormatError",
            ErrorCode::ProfileMismatch => "UserProfileMismatchError",
            ErrorCode::Internal => "InternalFailure",
            ErrorCode::Unavailable => "ServiceUnavailableException",
        }
    }

    /// The HTTP status an API answers the error with. The one table for the Worker and the
    /// sync server: 404 for a resource that does not exist, 500 for the service's own failure,
    /// 503 when it cannot answer yet, 400 for everything the caller sent wrong.
    #[must_use]
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::ResourceNotFound => 404,
            ErrorCode::Internal => 500,
            ErrorCode::Unavailable => 503,
            ErrorCode::InvalidInput
            | ErrorCode::ModelFormat
            | ErrorCode::ProfileFormat
            | ErrorCode::ProfileMismatch => 400,
        }
    }
}

/// Why model bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FormatError {
    #[error(
        "not an edgerec model: the file does not start with the .erm magic bytes (found {})",
        hex_list(found)
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
    #[error("a model marked public holds per-person data: {0}")]
    PersonalData(String),
}

impl FormatError {
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        ErrorCode::ModelFormat
    }
}

/// Why a user profile (one user's slice, see [`crate::user_slice`]) was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SliceError {
    #[error(
        "not an edgerec user profile: the bytes do not start with the profile magic (found {})",
        hex_list(found)
    )]
    BadMagic { found: Vec<u8> },
    /// Truncated, corrupted (checksum), oversized or malformed bytes; the message says which.
    #[error("user profile could not be decoded: {0}")]
    Corrupt(String),
    /// The slice was cut from another model (another training run or catalogue).
    #[error(
        "this user profile was made for model {profile:016x}, but the engine runs model {engine:016x}: fetch the profile again for the model in use"
    )]
    ModelMismatch { profile: u64, engine: u64 },
    #[error("user profile does not fit this model: {0}")]
    Inconsistent(String),
}

impl SliceError {
    #[must_use]
    pub fn code(&self) -> ErrorCode {
        match self {
            SliceError::ModelMismatch { .. } => ErrorCode::ProfileMismatch,
            _ => ErrorCode::ProfileFormat,
        }
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

/// `s` in double quotes, escaped as `{:?}` writes it (`"a\"b\n"`): backslash escapes for
/// quotes, backslashes and `\t \r \n \0`, `\u{..}` for other control characters.
///
/// Messages quote names with this rather than `{:?}`, whose escaping of every non-printable
/// Unicode character brings the standard library's Unicode tables into the wasm package. It
/// differs from `{:?}` only there: such characters (format characters such as U+200B, marks
/// that combine with the quote, unassigned code points) stay as they are.
#[must_use]
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                out.push_str("\\u{");
                push_hex(&mut out, u32::from(c));
                out.push('}');
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Lower-case hexadecimal digits of `n`, without leading zeros.
fn push_hex(out: &mut String, n: u32) {
    let digits = (32 - n.leading_zeros()).div_ceil(4).max(1);
    for k in (0..digits).rev() {
        let d = (n >> (4 * k)) & 0xf;
        out.push(char::from_digit(d, 16).unwrap_or('0'));
    }
}

/// Bytes as `{:02x?}` writes them: `[89, 45, 52, 4d]`.
fn hex_list(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 + 4 * bytes.len());
    out.push('[');
    for (k, &b) in bytes.iter().enumerate() {
        if k > 0 {
            out.push_str(", ");
        }
        if b < 16 {
            out.push('0');
        }
        push_hex(&mut out, u32::from(b));
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_code_has_one_name_and_status() {
        let all = [
            (ErrorCode::InvalidInput, 400, "InvalidInputException"),
            (
                ErrorCode::ResourceNotFound,
                404,
                "ResourceNotFoundException",
            ),
            (ErrorCode::ModelFormat, 400, "ModelFormatError"),
            (ErrorCode::ProfileFormat, 400, "UserProfileFormatError"),
            (ErrorCode::ProfileMismatch, 400, "UserProfileMismatchError"),
            (ErrorCode::Internal, 500, "InternalFailure"),
            (ErrorCode::Unavailable, 503, "ServiceUnavailableException"),
        ];
        for (code, status, name) in all {
            assert_eq!(
                (code.http_status(), code.as_str()),
                (status, name),
                "{code:?}"
            );
        }
    }

    use proptest::prelude::*;

    use super::{ErrorCode, hex_list, quoted};

    proptest! {
        /// Exactly `{:?}` for ASCII, control characters and printable Unicode.
        #[test]
        fn quotes_as_debug_does(s in "[\\x00-\\x7f\\u{80}-\\u{9f}éß中😀Ωа ]{0,24}") {
            prop_assert_eq!(quoted(&s), format!("{s:?}"));
        }

        #[test]
        fn hex_lists_as_debug_does(bytes in prop::collection::vec(any::<u8>(), 0..12)) {
            prop_assert_eq!(hex_list(&bytes), format!("{bytes:02x?}"));
        }
    }

    #[test]
    fn leaves_other_non_printables_as_they_are() {
        assert_eq!(quoted("a\u{200b}b"), "\"a\u{200b}b\"");
        assert_eq!(format!("{:?}", "a\u{200b}b"), "\"a\\u{200b}b\"");
    }
}
