//! Which Parquet files an import reads: one file, or every `*.parquet` file under a folder (at
//! any depth, in sorted path order so the input order is deterministic), skipping the day
//! partitions (`dt=YYYY-MM-DD/` folders) before a first day.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Serialize;

use super::super::error::ImportError;
use super::super::time::parse_iso;

/// A day, `YYYY-MM-DD`: the first partition an import reads (`--since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct PartitionDate {
    year: u16,
    month: u8,
    day: u8,
}

impl FromStr for PartitionDate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a date: expected YYYY-MM-DD (e.g. 2024-05-01)");
        let b = s.as_bytes();
        let shape = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shape || parse_iso(s).is_none() {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse().ok());
        match (num(0..4), num(5..7), num(8..10)) {
            (Some(year), Some(month), Some(day)) => Ok(Self {
                year,
                month: u8::try_from(month).map_err(|_| bad())?,
                day: u8::try_from(day).map_err(|_| bad())?,
            }),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for PartitionDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl From<PartitionDate> for String {
    fn from(d: PartitionDate) -> Self {
        d.to_string()
    }
}

/// The value of the last `dt=` folder of a `/`-separated relative path (`a/dt=2024-05-01/x`
/// → `2024-05-01`), if it has one. Other `key=value` folders do not count.
#[must_use]
pub fn partition_of(relative: &str) -> Option<&str> {
    let mut parts: Vec<&str> = relative.split(['/', '\\']).collect();
    parts.pop();
    parts.into_iter().rev().find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.eq_ignore_ascii_case("dt").then_some(v)
    })
}

/// Whether the file at `relative` (a `/`-separated path under the lake's root) is read when
/// the import starts at `since`: files outside any `dt=` partition always are.
///
/// # Errors
/// A `dt=` folder whose value is not a `YYYY-MM-DD` date (it cannot be compared).
pub fn keeps(since: Option<PartitionDate>, relative: &str) -> Result<bool, String> {
    let (Some(since), Some(dt)) = (since, partition_of(relative)) else {
        return Ok(true);
    };
    let day: PartitionDate = dt
        .parse()
        .map_err(|m| format!("{relative}: partition dt={dt}: {m}"))?;
    Ok(day >= since)
}

/// Whether a file or folder name is hidden from readers of a partitioned folder (`.x`, and
/// `_SUCCESS`, `_temporary` as Spark and Hive write them).
#[must_use]
pub fn hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

fn is_parquet(name: &str) -> bool {
    Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// The files to read.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub files: Vec<PathBuf>,
    /// Files left out by `since`.
    pub skipped: usize,
}

/// The Parquet files of `root` (a file, or a folder searched recursively), sorted by path.
///
/// # Errors
/// An unreadable folder, or a `dt=` value that is not a date when `since` is given.
pub(crate) fn list(root: &Path, since: Option<PartitionDate>) -> Result<Listing, ImportError> {
    if root.is_file() {
        return Ok(Listing {
            files: vec![root.to_path_buf()],
            skipped: 0,
        });
    }
    let mut found = Vec::new();
    walk(root, "", &mut found)?;
    found.sort();
    let mut out = Listing::default();
    for relative in found {
        if keeps(since, &relative).map_err(ImportError::Spec)? {
            out.files.push(root.join(&relative));
        } else {
            out.skipped += 1;
        }
    }
    Ok(out)
}

/// Whether `dir` holds a Parquet file at any depth.
pub(crate) fn holds_parquet(dir: &Path) -> bool {
    let mut found = Vec::new();
    walk(dir, "", &mut found).is_ok() && !found.is_empty()
}

fn walk(dir: &Path, relative: &str, out: &mut Vec<String>) -> Result<(), ImportError> {
    let entries = std::fs::read_dir(dir).map_err(|e| ImportError::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| ImportError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if hidden(&name) {
            continue;
        }
        let rel = if relative.is_empty() {
            name.clone()
        } else {
            format!("{relative}/{name}")
        };
        let path = entry.path();
        if path.is_dir() {
            walk(&path, &rel, out)?;
        } else if is_parquet(&name) {
            out.push(rel);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_and_order() {
        let d: Result<PartitionDate, _> = "2024-05-01".parse();
        assert_eq!(d.as_ref().map(ToString::to_string), Ok("2024-05-01".into()));
        assert!("2024-02-30".parse::<PartitionDate>().is_err());
        assert!("2024-5-1".parse::<PartitionDate>().is_err());
        assert!("yesterday".parse::<PartitionDate>().is_err());
        assert!(" 2024-05-01".parse::<PartitionDate>().is_err());
        let a: Option<PartitionDate> = "2023-12-31".parse().ok();
        let b: Option<PartitionDate> = "2024-01-01".parse().ok();
        assert!(a < b);
    }

    #[test]
    fn partitions_and_since() {
        assert_eq!(
            partition_of("dt=2024-05-01/part-0.parquet"),
            Some("2024-05-01")
        );
        assert_eq!(
            partition_of("lake/DT=2024-05-01/hour=3/part-0.parquet"),
            Some("2024-05-01")
        );
        assert_eq!(partition_of("region=eu/part-0.parquet"), None);
        assert_eq!(partition_of("dt=2024-05-01.parquet"), None);
        let since = "2024-05-02".parse().ok();
        assert_eq!(keeps(since, "dt=2024-05-01/a.parquet"), Ok(false));
        assert_eq!(keeps(since, "dt=2024-05-02/a.parquet"), Ok(true));
        assert_eq!(keeps(since, "a.parquet"), Ok(true));
        assert_eq!(keeps(None, "dt=junk/a.parquet"), Ok(true));
        let err = keeps(since, "dt=junk/a.parquet").err().unwrap_or_default();
        assert!(err.contains("dt=junk"), "{err}");
        assert!(hidden("_SUCCESS") && hidden(".part-0.parquet.crc") && !hidden("part-0"));
    }
}
