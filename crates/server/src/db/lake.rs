//! The `lake_exports` table: the `events.seq` ranges written (or being written) to the event
//! lake. A range is recorded before its files are written and marked done after, so a range
//! whose export was interrupted is found at the next start and written again, exactly.

use rusqlite::{Connection, OptionalExtension, params};

/// An inclusive range of `events.seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    pub first: i64,
    pub last: i64,
}

/// The range recorded but not marked done, if any (at most one: a new range is recorded only
/// when none is pending).
pub fn pending(c: &Connection) -> rusqlite::Result<Option<SeqRange>> {
    c.query_row(
        "SELECT first_seq, last_seq FROM lake_exports WHERE done_ms IS NULL ORDER BY first_seq LIMIT 1",
        [],
        |r| {
            Ok(SeqRange {
                first: r.get(0)?,
                last: r.get(1)?,
            })
        },
    )
    .optional()
}

/// The highest `seq` exported (0 when nothing is).
pub fn exported_upto(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT coalesce(max(last_seq), 0) FROM lake_exports WHERE done_ms IS NOT NULL",
        [],
        |r| r.get(0),
    )
}

/// Files and rows of every finished export.
pub fn totals(c: &Connection) -> rusqlite::Result<(i64, i64)> {
    c.query_row(
        "SELECT coalesce(sum(files), 0), coalesce(sum(rows), 0) FROM lake_exports WHERE done_ms IS NOT NULL",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Records a range about to be written (inside a writer job).
pub fn begin(c: &Connection, range: SeqRange, started_ms: i64) -> rusqlite::Result<()> {
    c.execute(
        "INSERT INTO lake_exports (first_seq, last_seq, started_ms) VALUES (?1, ?2, ?3)",
        params![range.first, range.last, started_ms],
    )?;
    Ok(())
}

/// Marks a range written, with its files and rows (inside a writer job).
pub fn done(
    c: &Connection,
    range: SeqRange,
    files: i64,
    rows: i64,
    done_ms: i64,
) -> rusqlite::Result<()> {
    c.execute(
        "UPDATE lake_exports SET files = ?3, rows = ?4, done_ms = ?5 WHERE first_seq = ?1 AND last_seq = ?2",
        params![range.first, range.last, files, rows, done_ms],
    )?;
    Ok(())
}
