//! The `recommendations` table: what the edge recommended (`POST /recommendations-log`), first
//! write wins per `recommendation_id`.

use rusqlite::{Connection, params};

use crate::ingest::NewRecommendation;

/// Stores a log entry unless its `recommendation_id` is stored already; whether it was stored.
pub fn insert(c: &Connection, r: &NewRecommendation) -> rusqlite::Result<bool> {
    let mut st = c.prepare_cached(
        "INSERT INTO recommendations (recommendation_id, recommender, variant, experiment, user_id,
             session_id, items, n_items, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(recommendation_id) DO NOTHING",
    )?;
    let inserted = st.execute(params![
        r.recommendation_id,
        r.recommender,
        r.variant,
        r.experiment,
        r.user_id,
        r.session_id,
        r.items,
        i64::try_from(r.n_items).unwrap_or(i64::MAX),
        r.created_ms
    ])?;
    Ok(inserted > 0)
}

/// The number of logged recommendations.
pub fn count(c: &Connection) -> rusqlite::Result<i64> {
    c.query_row("SELECT count(*) FROM recommendations", [], |r| r.get(0))
}
