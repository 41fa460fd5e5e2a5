//! The `events` table: the event log, one row per `event_id`, numbered by `seq` in arrival
//! order.

use rusqlite::{Connection, params};

use crate::ingest::NewEvent;

/// Stores an event unless its `event_id` is stored already; returns its `seq` when stored.
pub fn insert(c: &Connection, e: &NewEvent, received_ms: i64) -> rusqlite::Result<Option<i64>> {
    let mut st = c.prepare_cached(
        "INSERT INTO events (event_id, session_id, user_id, event_type, item_id, sent_at, event_value,
             properties, impression, recommendation_id, recommender, received_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT(event_id) DO NOTHING",
    )?;
    let n = st.execute(params![
        e.event_id,
        e.session_id,
        e.user_id,
        e.event_type,
        e.item_id,
        e.sent_at,
        e.event_value,
        e.properties,
        e.impression,
        e.recommendation_id,
        e.recommender,
        received_ms
    ])?;
    Ok((n > 0).then(|| c.last_insert_rowid()))
}

/// The number of stored events.
pub fn count(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT count(*) FROM events", [], |r| r.get(0))
}

/// The highest `seq` (0 when the log is empty).
pub fn max_seq(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))
}

/// The events of a `seq` range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrivals {
    /// Earliest arrival time (ms), if any event is in the range.
    pub oldest_received_ms: Option<i64>,
    pub count: i64,
}

/// The events with `since < seq <= upto`.
pub fn arrivals(c: &Connection, since: i64, upto: i64) -> rusqlite::Result<Arrivals> {
    c.query_row(
        "SELECT min(received_ms), count(*) FROM events WHERE seq > ?1 AND seq <= ?2",
        [since, upto],
        |r| {
            Ok(Arrivals {
                oldest_received_ms: r.get(0)?,
                count: r.get(1)?,
            })
        },
    )
}

/// The number of events without an `item_id` up to `seq` `upto`.
pub fn count_without_item(c: &Connection, upto: i64) -> rusqlite::Result<i64> {
    c.query_row(
        "SELECT count(*) FROM events WHERE item_id IS NULL AND seq <= ?1",
        [upto],
        |r| r.get(0),
    )
}

/// `(session_id, user_id)` of every event with a `user_id` up to `seq` `upto`, in `seq` order.
pub fn session_users(
    c: &Connection,
    upto: i64,
    mut f: impl FnMut(String, String),
) -> rusqlite::Result<()> {
    let mut st = c.prepare(
        "SELECT session_id, user_id FROM events WHERE user_id IS NOT NULL AND seq <= ?1 ORDER BY seq",
    )?;
    let mut rows = st.query([upto])?;
    while let Some(r) = rows.next()? {
        f(r.get(0)?, r.get(1)?);
    }
    Ok(())
}

/// Every event with an `item_id` up to `seq` `upto`, in `seq` order (what training reads).
pub fn interactions(
    c: &Connection,
    upto: i64,
    mut f: impl FnMut(Received),
) -> rusqlite::Result<()> {
    let mut st = c.prepare(&format!(
        "SELECT {RECEIVED_COLUMNS} FROM events WHERE item_id IS NOT NULL AND seq <= ?1 ORDER BY seq"
    ))?;
    let mut rows = st.query([upto])?;
    while let Some(r) = rows.next()? {
        f(received(r)?);
    }
    Ok(())
}

/// Calls `f` with every stored `event_id`, in arrival order; returns how many there were.
pub fn for_each_id<E: From<rusqlite::Error>>(
    c: &Connection,
    mut f: impl FnMut(&str) -> Result<(), E>,
) -> Result<u64, E> {
    let mut st = c.prepare("SELECT event_id FROM events ORDER BY seq")?;
    let mut rows = st.query([])?;
    let mut n = 0u64;
    while let Some(r) = rows.next()? {
        let id: String = r.get(0)?;
        f(&id)?;
        n += 1;
    }
    Ok(n)
}

/// Every stored event, in arrival order (for checks and diagnostics: it reads the whole log).
pub fn all(c: &Connection) -> rusqlite::Result<Vec<Received>> {
    in_range(c, i64::MIN, i64::MAX)
}

/// A stored event with every field it was received with (what the event lake keeps).
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    pub seq: i64,
    pub event_id: String,
    pub session_id: String,
    pub user_id: Option<String>,
    pub event_type: String,
    pub item_id: Option<String>,
    pub sent_at: f64,
    pub event_value: Option<f64>,
    pub properties: Option<String>,
    /// JSON array of item ids.
    pub impression: Option<String>,
    pub recommendation_id: Option<String>,
}

/// The columns [`received`] reads, in its order.
const RECEIVED_COLUMNS: &str = "seq, event_id, session_id, user_id, event_type, item_id, sent_at, \
    event_value, properties, impression, recommendation_id";

/// A row of `SELECT {RECEIVED_COLUMNS}`.
fn received(r: &rusqlite::Row<'_>) -> rusqlite::Result<Received> {
    Ok(Received {
        seq: r.get(0)?,
        event_id: r.get(1)?,
        session_id: r.get(2)?,
        user_id: r.get(3)?,
        event_type: r.get(4)?,
        item_id: r.get(5)?,
        sent_at: r.get(6)?,
        event_value: r.get(7)?,
        properties: r.get(8)?,
        impression: r.get(9)?,
        recommendation_id: r.get(10)?,
    })
}

/// The events with `first <= seq <= last`, in `seq` order.
pub fn in_range(c: &Connection, first: i64, last: i64) -> rusqlite::Result<Vec<Received>> {
    let mut st = c.prepare(&format!(
        "SELECT {RECEIVED_COLUMNS} FROM events WHERE seq >= ?1 AND seq <= ?2 ORDER BY seq"
    ))?;
    let rows = st.query_map([first, last], received)?;
    rows.collect()
}
