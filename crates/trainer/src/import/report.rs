//! What an import did: rows read, kept and dropped (by reason, with examples), the schema used
//! or inferred per file, and warnings. Printed for people (`Display`) or as JSON (`Serialize`).

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use super::error::{DropReason, RowError};
use super::schema::{AvroType, FieldRole};

/// How many example rows are kept per drop reason.
pub const MAX_EXAMPLES: usize = 3;

/// The report of one import.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImportReport {
    /// Dataset name.
    pub dataset: String,
    /// The format that was read (`personalize`, `movielens-100k`, `movielens-latest`, `mapped`).
    pub format: String,
    /// One entry per file read, in reading order.
    pub files: Vec<FileReport>,
    /// Interactions kept.
    pub interactions: usize,
    /// Distinct users (interactions and users file).
    pub users: usize,
    /// Distinct items (interactions, impressions and items file).
    pub items: usize,
    /// Distinct items that occur in the kept interactions.
    pub items_with_interactions: usize,
    /// Users with at least two interactions (Personalize wants ≥ 25).
    pub users_with_two_interactions: usize,
    /// Interactions per event type (as stored: lower-cased).
    pub event_types: Vec<EventTypeCount>,
    /// Malformed rows over all files (dropped with `skip_bad_rows`).
    pub malformed_rows: usize,
    /// Things worth knowing that did not stop the import (Personalize minimums, conversions...).
    pub warnings: Vec<String>,
}

/// Interactions of one event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventTypeCount {
    pub name: String,
    pub count: usize,
}

/// Which dataset a file feeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileRole {
    Interactions,
    Items,
    Users,
    /// MovieLens `tags.csv`, folded into the items' `TAGS` field.
    Tags,
}

impl fmt::Display for FileRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Interactions => "interactions",
            Self::Items => "items",
            Self::Users => "users",
            Self::Tags => "tags",
        })
    }
}

/// The report of one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    pub path: PathBuf,
    pub role: FileRole,
    /// Data rows read (the header excluded).
    pub rows_read: usize,
    /// Rows that made it into the dataset.
    pub rows_kept: usize,
    /// Dropped rows per reason, in reason order.
    pub dropped: Vec<DropCount>,
    /// The fields, as declared by a schema file, fixed by the format, or inferred.
    pub fields: Vec<FieldReport>,
    /// For Parquet interactions (a file or a folder of them): the files read and how events
    /// without a user were attributed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parquet: Option<ParquetReport>,
}

/// What a Parquet import read besides rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ParquetReport {
    /// Parquet files read.
    pub files_read: usize,
    /// Files in `dt=` partitions before `since`, not read.
    pub files_skipped: usize,
    /// The first day read (`--since`), `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// Interactions without a `USER_ID` that took the user of their session.
    pub anonymous_attributed: usize,
    /// Interactions without a `USER_ID` whose session never showed one: the session is the user.
    pub anonymous_sessions: usize,
}

/// Rows dropped for one reason, with the first few examples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DropCount {
    pub reason: DropReason,
    pub count: usize,
    pub examples: Vec<RowError>,
}

/// Where a field's type came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldSource {
    /// A Personalize reserved field name (`USER_ID`, `TIMESTAMP`...).
    Reserved,
    /// The Avro schema file.
    Schema,
    /// Inferred from the values.
    Inferred,
    /// Fixed by the adapter (MovieLens, mapped columns).
    Adapter,
}

impl fmt::Display for FieldSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Reserved => "reserved",
            Self::Schema => "schema",
            Self::Inferred => "inferred",
            Self::Adapter => "adapter",
        })
    }
}

/// One field of a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldReport {
    /// Upper-case name as stored in the dataset.
    pub name: String,
    /// 1-based column in the file (0 when the adapter derives the field).
    pub column: usize,
    pub avro_type: AvroType,
    pub role: FieldRole,
    pub source: FieldSource,
    /// Why (for inferred fields) or how (conversions) the field is read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl FileReport {
    #[must_use]
    pub fn new(path: impl Into<PathBuf>, role: FileRole) -> Self {
        Self {
            path: path.into(),
            role,
            rows_read: 0,
            rows_kept: 0,
            dropped: Vec::new(),
            fields: Vec::new(),
            parquet: None,
        }
    }

    /// Count a dropped row (keeping it as an example while there are fewer than [`MAX_EXAMPLES`]).
    pub fn record_drop(&mut self, err: RowError) {
        let pos = match self.dropped.iter().position(|d| d.reason == err.reason) {
            Some(p) => p,
            None => {
                let at = self.dropped.partition_point(|d| d.reason < err.reason);
                self.dropped.insert(
                    at,
                    DropCount {
                        reason: err.reason,
                        count: 0,
                        examples: Vec::new(),
                    },
                );
                at
            }
        };
        let d = &mut self.dropped[pos];
        d.count += 1;
        if d.examples.len() < MAX_EXAMPLES {
            d.examples.push(err);
        }
    }

    /// Rows dropped for any reason.
    #[must_use]
    pub fn rows_dropped(&self) -> usize {
        self.dropped.iter().map(|d| d.count).sum()
    }

    /// Rows dropped because they are malformed.
    #[must_use]
    pub fn rows_malformed(&self) -> usize {
        self.dropped
            .iter()
            .filter(|d| d.reason.is_malformed())
            .map(|d| d.count)
            .sum()
    }

    /// Rows dropped for `reason`.
    #[must_use]
    pub fn dropped_for(&self, reason: DropReason) -> usize {
        self.dropped
            .iter()
            .filter(|d| d.reason == reason)
            .map(|d| d.count)
            .sum()
    }

    pub(crate) fn field(
        &mut self,
        name: &str,
        column: usize,
        avro_type: AvroType,
        role: FieldRole,
        source: FieldSource,
        note: Option<String>,
    ) {
        self.fields.push(FieldReport {
            name: name.to_owned(),
            column,
            avro_type,
            role,
            source,
            note,
        });
    }
}

impl ImportReport {
    /// The file report for `role` (the first one when there are several).
    #[must_use]
    pub fn file(&self, role: FileRole) -> Option<&FileReport> {
        self.files.iter().find(|f| f.role == role)
    }

    /// Rows dropped for `reason` over all files.
    #[must_use]
    pub fn dropped_for(&self, reason: DropReason) -> usize {
        self.files.iter().map(|f| f.dropped_for(reason)).sum()
    }
}

/// `1234567` → `1,234,567`.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Dataset {:?} ({})", self.dataset, self.format)?;
        writeln!(
            f,
            "  {} interactions, {} users, {} items ({} with interactions)",
            thousands(self.interactions),
            thousands(self.users),
            thousands(self.items),
            thousands(self.items_with_interactions),
        )?;
        if !self.event_types.is_empty() {
            let types: Vec<String> = self
                .event_types
                .iter()
                .map(|e| format!("{} ({})", e.name, thousands(e.count)))
                .collect();
            writeln!(f, "  event types: {}", types.join(", "))?;
        }
        for file in &self.files {
            writeln!(f)?;
            write!(f, "{file}")?;
        }
        if !self.warnings.is_empty() {
            writeln!(f)?;
            writeln!(f, "Warnings:")?;
            for w in &self.warnings {
                writeln!(f, "  - {w}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({})", self.path.display(), self.role)?;
        write!(
            f,
            "  rows: {} read, {} kept",
            thousands(self.rows_read),
            thousands(self.rows_kept)
        )?;
        let dropped = self.rows_dropped();
        if dropped > 0 {
            write!(f, ", {} dropped", thousands(dropped))?;
        }
        writeln!(f)?;
        if let Some(p) = &self.parquet {
            write!(f, "  parquet files: {} read", thousands(p.files_read))?;
            if let Some(since) = &p.since {
                write!(
                    f,
                    ", {} in partitions before dt={since} not read",
                    thousands(p.files_skipped)
                )?;
            }
            writeln!(f)?;
            if p.anonymous_attributed + p.anonymous_sessions > 0 {
                writeln!(
                    f,
                    "  interactions without USER_ID: {} took their session's user, {} count for their session (it never showed one)",
                    thousands(p.anonymous_attributed),
                    thousands(p.anonymous_sessions)
                )?;
            }
        }
        if !self.fields.is_empty() {
            writeln!(f, "  fields:")?;
            let width = self.fields.iter().map(|x| x.name.len()).max().unwrap_or(0);
            for x in &self.fields {
                let col = if x.column == 0 {
                    "   ".to_owned()
                } else {
                    format!("{:>3}", x.column)
                };
                write!(
                    f,
                    "   {col} {:<width$}  {:<8} {} [{}]",
                    x.name,
                    x.avro_type.as_str(),
                    x.role,
                    x.source
                )?;
                if let Some(note) = &x.note {
                    write!(f, " {note}")?;
                }
                writeln!(f)?;
            }
        }
        for d in &self.dropped {
            writeln!(f, "  dropped {} row(s): {}", thousands(d.count), d.reason)?;
            for e in &d.examples {
                writeln!(f, "      {e}")?;
            }
            if d.count > d.examples.len() {
                writeln!(f, "      ...")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::Location;
    use super::*;

    fn err(reason: DropReason, line: u64) -> RowError {
        RowError {
            location: Location::new("f.csv", line, Some(1), None),
            reason,
            message: "m".into(),
        }
    }

    #[test]
    fn drops_are_counted_in_reason_order_with_few_examples() {
        let mut r = FileReport::new("f.csv", FileRole::Interactions);
        for line in 2..10 {
            r.record_drop(err(DropReason::BelowEventValueThreshold, line));
        }
        r.record_drop(err(DropReason::BadTimestamp, 11));
        assert_eq!(r.dropped[0].reason, DropReason::BadTimestamp);
        assert_eq!(r.dropped[1].count, 8);
        assert_eq!(r.dropped[1].examples.len(), MAX_EXAMPLES);
        assert_eq!(r.rows_dropped(), 9);
        assert_eq!(r.rows_malformed(), 1);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100_836), "100,836");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
