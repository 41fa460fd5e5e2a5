//! The `retrains` table: every retrain, its outcome and, for a published one, its version.

use rusqlite::{Connection, OptionalExtension, params};

/// Marks the retrains that were running when the process died as interrupted.
pub fn interrupt_running(c: &Connection, now_ms: i64) -> rusqlite::Result<usize> {
    c.execute(
        "UPDATE retrains SET status = 'interrupted', finished_ms = ?1 WHERE status = 'running'",
        params![now_ms],
    )
}

/// Records a retrain that starts now (status `running`); returns its id.
pub fn start(c: &Connection, mode: &str, trigger: &str, started_ms: i64) -> rusqlite::Result<i64> {
    c.execute(
        "INSERT INTO retrains (mode, trigger, started_ms, status) VALUES (?1, ?2, ?3, 'running')",
        params![mode, trigger, started_ms],
    )?;
    Ok(c.last_insert_rowid())
}

/// The end of a retrain that published nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished<'a> {
    pub id: i64,
    pub status: &'a str,
    pub message: &'a str,
    pub finished_ms: i64,
    /// JSON object: split-A NDCG@10 per recommender.
    pub scores: &'a str,
    pub events_upto: i64,
}

/// Records the end of a retrain that published nothing.
pub fn finish(c: &Connection, f: &Finished<'_>) -> rusqlite::Result<usize> {
    c.execute(
        "UPDATE retrains SET status = ?2, message = ?3, finished_ms = ?4, scores = ?5, events_upto = ?6
         WHERE id = ?1",
        params![f.id, f.status, f.message, f.finished_ms, f.scores, f.events_upto],
    )
}

/// A retrain's publish.
#[derive(Debug, Clone, PartialEq)]
pub struct Published<'a> {
    pub id: i64,
    pub version: i64,
    pub sha256: &'a str,
    pub bytes: i64,
    /// JSON object: split-A NDCG@10 per recommender.
    pub scores: &'a str,
    pub events_upto: i64,
    pub finished_ms: i64,
    pub message: &'a str,
    pub event_to_model_ms: Option<i64>,
}

/// Records a retrain's publish (status `published`).
pub fn publish(c: &Connection, p: &Published<'_>) -> rusqlite::Result<usize> {
    c.execute(
        "UPDATE retrains SET status = 'published', version = ?2, sha256 = ?3, bytes = ?4, scores = ?5,
             events_upto = ?6, finished_ms = ?7, message = ?8, event_to_model_ms = ?9 WHERE id = ?1",
        params![
            p.id,
            p.version,
            p.sha256,
            p.bytes,
            p.scores,
            p.events_upto,
            p.finished_ms,
            p.message,
            p.event_to_model_ms
        ],
    )
}

/// A published version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub version: i64,
    pub sha256: Option<String>,
    pub finished_ms: Option<i64>,
}

/// The newest published versions, newest first, at most `limit`.
pub fn published(c: &Connection, limit: i64) -> rusqlite::Result<Vec<Version>> {
    let mut st = c.prepare(
        "SELECT version, sha256, finished_ms FROM retrains WHERE status = 'published' AND version IS NOT NULL
         ORDER BY version DESC LIMIT ?1",
    )?;
    let rows = st.query_map([limit], |r| {
        Ok(Version {
            version: r.get(0)?,
            sha256: r.get(1)?,
            finished_ms: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// What the last publish took and scored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastPublished {
    pub version: i64,
    /// The highest event `seq` its snapshot included.
    pub events_upto: i64,
    /// JSON object: split-A NDCG@10 per recommender.
    pub scores: Option<String>,
}

/// The newest published version, if any.
pub fn last_published(c: &Connection) -> rusqlite::Result<Option<LastPublished>> {
    c.query_row(
        "SELECT version, events_upto, scores FROM retrains WHERE status = 'published' ORDER BY version DESC LIMIT 1",
        [],
        |r| {
            Ok(LastPublished {
                version: r.get(0)?,
                events_upto: r.get(1)?,
                scores: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The highest version ever recorded (0 when none).
pub fn max_version(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT coalesce(max(version), 0) FROM retrains", [], |r| {
        r.get(0)
    })
}

/// One retrain as `GET /retrains` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: i64,
    pub mode: String,
    pub trigger: String,
    pub started_ms: i64,
    pub finished_ms: Option<i64>,
    pub status: String,
    pub version: Option<i64>,
    pub events_upto: i64,
    pub bytes: Option<i64>,
    /// JSON object: split-A NDCG@10 per recommender.
    pub scores: Option<String>,
    pub message: Option<String>,
    pub event_to_model_ms: Option<i64>,
}

/// The newest retrains, newest first, at most `limit`.
pub fn recent(c: &Connection, limit: i64) -> rusqlite::Result<Vec<Row>> {
    let mut st = c.prepare(
        "SELECT id, mode, trigger, started_ms, finished_ms, status, version, events_upto, bytes, scores, message,
                event_to_model_ms
         FROM retrains ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = st.query_map([limit], |r| {
        Ok(Row {
            id: r.get(0)?,
            mode: r.get(1)?,
            trigger: r.get(2)?,
            started_ms: r.get(3)?,
            finished_ms: r.get(4)?,
            status: r.get(5)?,
            version: r.get(6)?,
            events_upto: r.get(7)?,
            bytes: r.get(8)?,
            scores: r.get(9)?,
            message: r.get(10)?,
            event_to_model_ms: r.get(11)?,
        })
    })?;
    rows.collect()
}
