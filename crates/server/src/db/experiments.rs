//! Logged recommendations and their conversions per A/B experiment and variant.

use rusqlite::Connection;

/// Logged recommendations of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    /// The experiment's name (`""` when the log entry named none).
    pub experiment: String,
    pub variant: String,
    pub recommendations: i64,
}

/// Logged recommendations with a variant, created in `[from, to)` (ms), by experiment and
/// variant.
pub fn logged(c: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<Logged>> {
    let mut st = c.prepare(
        "SELECT coalesce(experiment, ''), variant, count(*) FROM recommendations
         WHERE variant IS NOT NULL AND created_ms >= ?1 AND created_ms < ?2 GROUP BY 1, 2 ORDER BY 1, 2",
    )?;
    let rows = st.query_map([from, to], |r| {
        Ok(Logged {
            experiment: r.get(0)?,
            variant: r.get(1)?,
            recommendations: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Recommendations of one variant followed by at least one event of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub experiment: String,
    pub variant: String,
    pub event_type: String,
    pub recommendations: i64,
}

/// Per experiment, variant and event type, the recommendations (created in `[from, to)`) that
/// an event with their `recommendation_id` followed.
pub fn converted(c: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<Converted>> {
    let mut st = c.prepare(
        "SELECT coalesce(r.experiment, ''), r.variant, e.event_type, count(DISTINCT r.recommendation_id)
         FROM recommendations r JOIN events e ON e.recommendation_id = r.recommendation_id
         WHERE r.variant IS NOT NULL AND r.created_ms >= ?1 AND r.created_ms < ?2 GROUP BY 1, 2, 3",
    )?;
    let rows = st.query_map([from, to], |r| {
        Ok(Converted {
            experiment: r.get(0)?,
            variant: r.get(1)?,
            event_type: r.get(2)?,
            recommendations: r.get(3)?,
        })
    })?;
    rows.collect()
}
