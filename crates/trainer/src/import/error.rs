//! Import errors: where a problem is (file, line, column, field) and why a row was dropped.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;
use thiserror::Error;

/// How many malformed rows [`ImportError::MalformedRows`] lists (the total is always given).
pub const MAX_LISTED_ERRORS: usize = 20;

/// A position in an input file: 1-based line and column (the field's index in the row), plus the
/// field name when the column has one. Displays as `path:line:column (FIELD)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    pub file: PathBuf,
    pub line: u64,
    pub column: Option<usize>,
    pub field: Option<String>,
}

impl Location {
    #[must_use]
    pub fn new(
        file: impl Into<PathBuf>,
        line: u64,
        column: Option<usize>,
        field: Option<&str>,
    ) -> Self {
        Self {
            file: file.into(),
            line,
            column,
            field: field.map(str::to_owned),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if let Some(c) = self.column {
            write!(f, ":{c}")?;
        }
        if let Some(name) = &self.field {
            write!(f, " ({name})")?;
        }
        Ok(())
    }
}

/// Why a row was not imported. Every dropped row is counted under one reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The row has more or fewer fields than the header.
    WrongColumnCount,
    /// A required value (id, timestamp, non-nullable field) is empty.
    MissingField,
    /// An id is longer than 256 characters.
    IdTooLong,
    /// A timestamp does not parse.
    BadTimestamp,
    /// A numeric field does not parse.
    BadNumber,
    /// A boolean field is not `true`/`false`.
    BadBoolean,
    /// A categorical or impression value is longer than 1000 characters.
    ValueTooLong,
    /// A field is not valid UTF-8.
    InvalidEncoding,
    /// `EVENT_VALUE` is below the event value threshold (a filter, not an error).
    BelowEventValueThreshold,
    /// A second row for an id already seen in an items or users file (the first row is kept).
    DuplicateId,
    /// A second row with an `EVENT_ID` already read (a batch written twice; the first is kept).
    DuplicateEvent,
    /// An event without an `ITEM_ID`: not an interaction (a filter, not an error).
    NoItem,
    /// `PROPERTIES` is not a JSON object.
    InvalidProperties,
}

impl DropReason {
    /// Whether rows dropped for this reason are malformed (errors) rather than filtered.
    #[must_use]
    pub fn is_malformed(self) -> bool {
        !matches!(
            self,
            Self::BelowEventValueThreshold
                | Self::DuplicateId
                | Self::DuplicateEvent
                | Self::NoItem
        )
    }

    /// A short human-readable label.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::WrongColumnCount => "wrong number of fields",
            Self::MissingField => "missing required value",
            Self::IdTooLong => "id longer than 256 characters",
            Self::BadTimestamp => "invalid timestamp",
            Self::BadNumber => "invalid number",
            Self::BadBoolean => "invalid boolean",
            Self::ValueTooLong => "value longer than 1000 characters",
            Self::InvalidEncoding => "invalid UTF-8",
            Self::BelowEventValueThreshold => "below eventValueThreshold",
            Self::DuplicateId => "duplicate id (first row kept)",
            Self::DuplicateEvent => "duplicate EVENT_ID (first row kept)",
            Self::NoItem => "no ITEM_ID (an event, not an interaction)",
            Self::InvalidProperties => "PROPERTIES is not a JSON object",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One dropped or malformed row: where, why, and a message naming the offending value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub location: Location,
    pub reason: DropReason,
    pub message: String,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why an import failed.
#[derive(Debug, Error)]
pub enum ImportError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A schema file is not a valid Personalize Avro schema.
    #[error("{}: invalid schema: {message}", path.display())]
    Schema { path: PathBuf, message: String },
    /// The header row is unusable (missing required column, schema mismatch, too many fields...).
    #[error("{location}: {message}")]
    Header { location: Location, message: String },
    /// Some rows are malformed and `skip_bad_rows` is off.
    #[error("{}", render_malformed(*.total, .errors))]
    MalformedRows {
        /// Number of malformed rows over all files.
        total: usize,
        /// The first [`MAX_LISTED_ERRORS`] of them.
        errors: Vec<RowError>,
    },
    /// The dataset specification or command-line options are inconsistent.
    #[error("{0}")]
    Spec(String),
    /// Every interaction row was dropped, or the file has none.
    #[error("{}: no interactions were imported", path.display())]
    NoInteractions { path: PathBuf },
    /// A Parquet file cannot be decoded (not Parquet, truncated, corrupt pages).
    #[error("{}: unreadable Parquet: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
    /// More distinct ids or event types than the in-memory dataset can index.
    #[error("too many distinct {what} (the limit is {limit})")]
    TooMany { what: &'static str, limit: u64 },
}

impl ImportError {
    /// A stable code string for the error kind.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "IoError",
            Self::Schema { .. } => "InvalidSchema",
            Self::Header { .. } => "InvalidHeader",
            Self::MalformedRows { .. } => "MalformedRows",
            Self::Spec(_) => "InvalidInputException",
            Self::NoInteractions { .. } => "NoInteractions",
            Self::TooMany { .. } => "LimitExceededException",
            Self::Parquet { .. } => "InvalidParquet",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn header(location: Location, message: impl Into<String>) -> Self {
        Self::Header {
            location,
            message: message.into(),
        }
    }
}

fn render_malformed(total: usize, errors: &[RowError]) -> String {
    let mut s = format!(
        "{total} malformed row{} (rerun with --skip-bad-rows to drop and count them):",
        if total == 1 { "" } else { "s" }
    );
    for e in errors {
        s.push_str("\n  ");
        s.push_str(&e.to_string());
    }
    if total > errors.len() {
        s.push_str(&format!("\n  ... and {} more", total - errors.len()));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_display() {
        let l = Location::new("a/b.csv", 3, Some(2), Some("ITEM_ID"));
        assert_eq!(l.to_string(), "a/b.csv:3:2 (ITEM_ID)");
        assert_eq!(Location::new("x.csv", 1, None, None).to_string(), "x.csv:1");
    }

    #[test]
    fn malformed_lists_and_counts() {
        let e = RowError {
            location: Location::new("f.csv", 2, Some(3), Some("TIMESTAMP")),
            reason: DropReason::BadTimestamp,
            message: "bad".into(),
        };
        let err = ImportError::MalformedRows {
            total: 5,
            errors: vec![e],
        };
        let text = err.to_string();
        assert!(text.starts_with("5 malformed rows"));
        assert!(text.contains("\n  f.csv:2:3 (TIMESTAMP): bad"));
        assert!(text.ends_with("... and 4 more"));
        assert_eq!(err.code(), "MalformedRows");
    }
}
