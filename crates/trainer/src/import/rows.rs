//! The row loop every importer shares: a file opened as a [`Table`], its header, then each
//! data row handed to the importer's parser, which keeps it, drops it with a [`RowError`]
//! naming line, column and field (counted in the file's report, and collected as a malformed
//! row when it is one), or stops the import.

use std::path::Path;

use super::builder::Builder;
use super::delimited::{Layout, Next, Table};
use super::error::{DropReason, ImportError, Location, RowError};
use super::report::{FileReport, FileRole};

/// Why a row was not kept.
#[derive(Debug)]
pub(crate) enum Skip {
    /// Dropped and counted in the file's report.
    Drop(RowError),
    /// The import stops (an unreadable file, too many ids).
    Fail(ImportError),
}

impl From<RowError> for Skip {
    fn from(e: RowError) -> Self {
        Self::Drop(e)
    }
}

impl From<ImportError> for Skip {
    fn from(e: ImportError) -> Self {
        Self::Fail(e)
    }
}

/// One data row: its 1-based line and trimmed fields, with the file's field names for the
/// locations of its errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Row<'r> {
    pub line: u64,
    pub fields: &'r [String],
    path: &'r Path,
    names: &'r [String],
}

impl<'r> Row<'r> {
    /// Field `i` (0-based), empty when the row is shorter.
    pub fn get(&self, i: usize) -> &'r str {
        self.fields.get(i).map_or("", String::as_str)
    }

    /// The name of column `i` (0-based), empty when it has none.
    pub fn name(&self, i: usize) -> &'r str {
        self.names.get(i).map_or("", String::as_str)
    }

    /// The location of column `i` (0-based).
    pub fn at(&self, i: usize) -> Location {
        Location::new(
            self.path,
            self.line,
            Some(i + 1),
            self.names.get(i).map(String::as_str),
        )
    }

    /// An error at column `i` (0-based).
    pub fn error(&self, i: usize, reason: DropReason, message: String) -> RowError {
        RowError {
            location: self.at(i),
            reason,
            message,
        }
    }

    /// [`Row::error`] from a check's `(reason, message)`.
    pub fn err(&self, i: usize, (reason, message): (DropReason, String)) -> RowError {
        self.error(i, reason, message)
    }

    /// Field `i`, or a [`DropReason::MissingField`] error saying `{what} is empty`.
    pub fn required(&self, i: usize, what: &str) -> Result<&'r str, RowError> {
        match self.get(i) {
            "" => Err(self.error(i, DropReason::MissingField, format!("{what} is empty"))),
            v => Ok(v),
        }
    }

    /// A [`DropReason::WrongColumnCount`] error unless the row has `width` fields, at the first
    /// missing or extra column: `expected {width} {fields}, found {n}`.
    pub fn check_width(&self, width: usize, fields: &str) -> Result<(), RowError> {
        let n = self.fields.len();
        if n == width {
            return Ok(());
        }
        let column = n.min(width) + 1;
        Err(RowError {
            location: Location::new(
                self.path,
                self.line,
                Some(column),
                self.names.get(column - 1).map(String::as_str),
            ),
            reason: DropReason::WrongColumnCount,
            message: format!("expected {width} {fields}, found {n}"),
        })
    }

    /// A [`DropReason::DuplicateId`] error for the id in column `i`, called `label`.
    pub fn duplicate(&self, i: usize, label: &str) -> RowError {
        let message = format!(
            "{label} {:?} already has a row; this one is ignored",
            self.get(i)
        );
        self.error(i, DropReason::DuplicateId, message)
    }

    /// A [`DropReason::BelowEventValueThreshold`] drop for the event value in column `i`.
    pub fn below_threshold(&self, i: usize, b: &Builder<'_>) -> RowError {
        self.error(
            i,
            DropReason::BelowEventValueThreshold,
            b.threshold_message(self.get(i)),
        )
    }
}

/// A file of the import read row by row into its [`FileReport`].
#[derive(Debug)]
pub(crate) struct Rows<'p> {
    table: Table<'p>,
    /// A row read ahead ([`Rows::first_width`]), handed out first.
    pending: Option<u64>,
    /// Rows read, kept and dropped, and the fields (the importer declares them).
    pub report: FileReport,
}

impl<'p> Rows<'p> {
    /// Opens `path` as a file of the import (a phase of its progress) feeding `role`.
    ///
    /// # Errors
    /// [`ImportError::Io`] when the file cannot be opened.
    pub fn open(
        b: &Builder<'p>,
        path: &Path,
        layout: Layout,
        role: FileRole,
    ) -> Result<Self, ImportError> {
        Ok(Self {
            table: b.open(path, layout)?,
            pending: None,
            report: FileReport::new(path, role),
        })
    }

    pub fn path(&self) -> &Path {
        &self.table.path
    }

    /// The field names of error locations.
    pub fn names(&self) -> &[String] {
        &self.table.names
    }

    /// Names the columns for error locations (files without a header).
    pub fn set_names<S: AsRef<str>>(&mut self, names: &[S]) {
        self.table.names = names.iter().map(|s| s.as_ref().to_owned()).collect();
    }

    /// Reads the header row (see [`Table::read_header`]).
    ///
    /// # Errors
    /// [`ImportError::Header`] when the file is empty or its names are unusable.
    pub fn header(&mut self) -> Result<Vec<String>, ImportError> {
        self.table.read_header()
    }

    /// The width of a file without a header: the first row's field count (0 for an empty
    /// file). The row is processed first by [`Rows::each`].
    ///
    /// # Errors
    /// [`ImportError::Header`] when the first row is unreadable.
    pub fn first_width(&mut self) -> Result<usize, ImportError> {
        match self.table.next_row()? {
            Next::Row(line) => {
                self.pending = Some(line);
                Ok(self.table.fields.len())
            }
            Next::Bad(e) => Err(ImportError::header(e.location, e.message)),
            Next::End => Ok(0),
        }
    }

    /// The next data row's line, after counting it as read; unreadable rows are dropped
    /// (counted) on the way.
    fn next_line(&mut self, b: &mut Builder<'_>) -> Result<Option<u64>, ImportError> {
        if let Some(line) = self.pending.take() {
            self.report.rows_read += 1;
            return Ok(Some(line));
        }
        loop {
            match self.table.next_row()? {
                Next::End => return Ok(None),
                Next::Bad(e) => {
                    self.report.rows_read += 1;
                    b.reject(&mut self.report, e);
                }
                Next::Row(line) => {
                    self.report.rows_read += 1;
                    return Ok(Some(line));
                }
            }
        }
    }

    /// Hands every data row to `parse`: `Ok` keeps it (counted), [`Skip::Drop`] drops it
    /// (counted, and collected when malformed), [`Skip::Fail`] stops the import.
    ///
    /// # Errors
    /// A read error, or the first [`Skip::Fail`].
    pub fn each<'b>(
        &mut self,
        b: &mut Builder<'b>,
        mut parse: impl FnMut(Row<'_>, &mut Builder<'b>) -> Result<(), Skip>,
    ) -> Result<(), ImportError> {
        while let Some(line) = self.next_line(b)? {
            let row = Row {
                line,
                fields: &self.table.fields,
                path: &self.table.path,
                names: &self.table.names,
            };
            settle(parse(row, b), b, &mut self.report)?;
        }
        Ok(())
    }

    /// Reads every data row (for files whose types are inferred from all their values):
    /// `(line, fields)`, unreadable rows dropped and counted. [`Rows::each_of`] parses them.
    ///
    /// # Errors
    /// A read error.
    pub fn collect(&mut self, b: &mut Builder<'_>) -> Result<Vec<(u64, Vec<String>)>, ImportError> {
        let mut rows = Vec::new();
        while let Some(line) = self.next_line(b)? {
            rows.push((line, std::mem::take(&mut self.table.fields)));
        }
        Ok(rows)
    }

    /// [`Rows::each`] over rows read by [`Rows::collect`] (already counted as read).
    ///
    /// # Errors
    /// The first [`Skip::Fail`].
    pub fn each_of<'b>(
        &mut self,
        rows: &[(u64, Vec<String>)],
        b: &mut Builder<'b>,
        mut parse: impl FnMut(Row<'_>, &mut Builder<'b>) -> Result<(), Skip>,
    ) -> Result<(), ImportError> {
        for (line, fields) in rows {
            let row = Row {
                line: *line,
                fields,
                path: &self.table.path,
                names: &self.table.names,
            };
            settle(parse(row, b), b, &mut self.report)?;
        }
        Ok(())
    }

    /// The file's report.
    pub fn finish(self) -> FileReport {
        self.report
    }
}

fn settle(
    parsed: Result<(), Skip>,
    b: &mut Builder<'_>,
    report: &mut FileReport,
) -> Result<(), ImportError> {
    match parsed {
        Ok(()) => report.rows_kept += 1,
        Err(Skip::Drop(e)) => b.reject(report, e),
        Err(Skip::Fail(e)) => return Err(e),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row<'r>(fields: &'r [String], names: &'r [String]) -> Row<'r> {
        Row {
            line: 7,
            fields,
            path: Path::new("f.csv"),
            names,
        }
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn row_errors_name_line_column_and_field() {
        let (fields, names) = (
            strings(&["u1", ""]),
            strings(&["USER_ID", "ITEM_ID", "TIME"]),
        );
        let r = row(&fields, &names);
        assert_eq!(r.get(0), "u1");
        assert_eq!(r.get(5), "");
        assert_eq!(r.required(0, "USER_ID").ok(), Some("u1"));
        let missing = r.required(1, "ITEM_ID").err();
        assert_eq!(
            missing.as_ref().map(ToString::to_string).as_deref(),
            Some("f.csv:7:2 (ITEM_ID): ITEM_ID is empty")
        );
        assert_eq!(missing.map(|e| e.reason), Some(DropReason::MissingField));
        let short = r.check_width(3, "fields").err();
        assert_eq!(
            short.as_ref().map(ToString::to_string).as_deref(),
            Some("f.csv:7:3 (TIME): expected 3 fields, found 2")
        );
        assert!(r.check_width(2, "fields").is_ok());
        let dup = r.duplicate(0, "USER_ID");
        assert_eq!(dup.reason, DropReason::DuplicateId);
        assert_eq!(
            dup.to_string(),
            "f.csv:7:1 (USER_ID): USER_ID \"u1\" already has a row; this one is ignored"
        );
    }

    #[test]
    fn every_row_is_read_kept_or_dropped() {
        let dir = std::env::temp_dir().join(format!("edgerec-rows-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("r.csv");
        let _ = std::fs::write(&path, "A,B\n1,x\n2\n3,y\n4,z\n");
        let mut b = Builder::new(None);
        let rows = Rows::open(&b, &path, Layout::csv(b','), FileRole::Interactions);
        let Ok(mut rows) = rows else {
            panic!("open: {rows:?}");
        };
        assert_eq!(rows.header().ok(), Some(strings(&["A", "B"])));
        let mut kept = Vec::new();
        let done = rows.each(&mut b, |row, _| {
            if row.get(1) == "y" {
                return Err(row.error(1, DropReason::BadNumber, "no y".into()).into());
            }
            kept.push((row.line, row.get(0).to_owned()));
            Ok(())
        });
        assert!(done.is_ok(), "{done:?}");
        assert_eq!(kept, [(2, "1".to_owned()), (5, "4".to_owned())]);
        let report = rows.finish();
        assert_eq!((report.rows_read, report.rows_kept), (4, 2));
        assert_eq!(report.dropped_for(DropReason::WrongColumnCount), 1);
        assert_eq!(report.dropped_for(DropReason::BadNumber), 1);
        assert_eq!(b.error_total, 2);
    }
}
