//! Every SQL statement of the sync server, one submodule per table group. The other modules
//! call these functions and never hold SQL text themselves: `store` (the writer thread and its
//! group commit), `counters`, `snapshot`, `retrain`, `report`, `http` and `edgerec report`.
//!
//! | module | tables |
//! |---|---|
//! | [`schema`] | creates every table (`events`, `items`, `users`, `recommendations`, `retrains`, `lake_exports`, `meta`) |
//! | [`events`] | the event log: insert (deduplicated by `event_id`), counts, the snapshot's reads |
//! | [`records`] | `items` and `users` (PutItems / PutUsers, last write wins) |
//! | [`recommendations`] | the recommendation log (first write wins) |
//! | [`attribution`] | events and logged recommendations per recommender (`/metrics`, reports) |
//! | [`experiments`] | logged recommendations and conversions per A/B variant |
//! | [`retrains`] | every retrain and its outcome; the published versions |
//! | [`lake`] | the `seq` ranges exported to the event lake (pending, then done) |
//! | [`meta`] | key/value settings |
//!
//! This module opens connections (with the pragmas every connection needs) and runs the writer's
//! transaction statements.

pub mod attribution;
pub mod events;
pub mod experiments;
pub mod lake;
pub mod meta;
pub mod recommendations;
pub mod records;
pub mod retrains;
pub mod schema;

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// How a connection is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The writer: read-write, the file created when missing.
    Writer,
    /// A reader of the server (WAL: readers never block the writer).
    Reader,
    /// A reader from another process (`edgerec report`, tests).
    ReadOnly,
}

/// Opens a connection with the pragmas every connection needs.
pub fn open(path: &Path, access: Access) -> rusqlite::Result<Connection> {
    let flags = match access {
        Access::Writer => {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        }
        Access::Reader => OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        Access::ReadOnly => {
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
        }
    };
    let c = Connection::open_with_flags(path, flags)?;
    c.busy_timeout(Duration::from_secs(30))?;
    // FULL: the WAL is fsynced at every commit, so a committed transaction survives a kill
    // (and a power loss). NORMAL would survive a process kill too, but FULL is what the
    // acknowledgement promises.
    c.execute_batch(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY;",
    )?;
    Ok(c)
}

/// Switches the database to write-ahead logging; returns the journal mode now in force
/// (`wal` unless the file system cannot have it).
pub fn enable_wal(c: &Connection) -> rusqlite::Result<String> {
    c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
}

/// The writer's transactions: one group transaction around many jobs, each job in a savepoint
/// that is rolled back alone when the job fails.
pub mod tx {
    use rusqlite::Connection;

    /// Starts a group transaction (taking the write lock at once).
    pub fn begin(c: &Connection) -> rusqlite::Result<()> {
        c.execute_batch("BEGIN IMMEDIATE")
    }

    /// Commits the group transaction.
    pub fn commit(c: &Connection) -> rusqlite::Result<()> {
        c.execute_batch("COMMIT")
    }

    /// Rolls the group transaction back.
    pub fn rollback(c: &Connection) -> rusqlite::Result<()> {
        c.execute_batch("ROLLBACK")
    }

    /// Starts one job's savepoint.
    pub fn savepoint(c: &Connection) -> rusqlite::Result<()> {
        c.execute_batch("SAVEPOINT job")
    }

    /// Keeps one job's changes.
    pub fn release(c: &Connection) -> rusqlite::Result<()> {
        c.execute_batch("RELEASE job")
    }

    /// Undoes one job's changes (the group transaction goes on).
    pub fn undo(c: &Connection) -> rusqlite::Result<()> {
        c.execute_batch("ROLLBACK TO job; RELEASE job")
    }
}
