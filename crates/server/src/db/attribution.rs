//! Events and logged recommendations per recommender. An event is attributed to its own
//! `recommender`, else to the recommender its `recommendation_id` was logged with, else to the
//! `undefined` name the caller gives (Personalize's `SOURCE_NAME_UNDEFINED`); its impression list
//! counts while no log entry matches it. Only events with a `recommendation_id` or a
//! `recommender` are attributed at all.

use rusqlite::{Connection, params};

const ATTRIBUTED: &str = "(e.recommendation_id IS NOT NULL OR e.recommender IS NOT NULL)";

/// One recommender's logged recommendations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub recommender: String,
    pub recommendations: i64,
    /// Items of its logged recommendations.
    pub impressions: i64,
}

/// Logged recommendations per recommender, created in `[from, to)` (ms).
pub fn logged(c: &Connection, from: i64, to: i64) -> rusqlite::Result<Vec<Logged>> {
    let mut st = c.prepare_cached(
        "SELECT recommender, count(*), coalesce(sum(n_items), 0) FROM recommendations
         WHERE created_ms >= ?1 AND created_ms < ?2 GROUP BY recommender",
    )?;
    let rows = st.query_map([from, to], |r| {
        Ok(Logged {
            recommender: r.get(0)?,
            recommendations: r.get(1)?,
            impressions: r.get(2)?,
        })
    })?;
    rows.collect()
}

/// Attributed events of one recommender and event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events {
    pub recommender: String,
    pub event_type: String,
    pub events: i64,
    /// Items of the events' impression lists that no log entry covers.
    pub impressions: i64,
}

/// Attributed events per recommender and event type, received in `[from, to)` (ms).
pub fn events(
    c: &Connection,
    from: i64,
    to: i64,
    undefined: &str,
) -> rusqlite::Result<Vec<Events>> {
    let sql = format!(
        "SELECT coalesce(e.recommender, r.recommender, ?3), e.event_type, count(*),
                coalesce(sum(CASE WHEN r.recommendation_id IS NULL THEN coalesce(json_array_length(e.impression), 0) ELSE 0 END), 0)
         FROM events e LEFT JOIN recommendations r ON r.recommendation_id = e.recommendation_id
         WHERE {ATTRIBUTED} AND e.received_ms >= ?1 AND e.received_ms < ?2
         GROUP BY 1, 2"
    );
    let mut st = c.prepare_cached(&sql)?;
    let rows = st.query_map(params![from, to, undefined], |r| {
        Ok(Events {
            recommender: r.get(0)?,
            event_type: r.get(1)?,
            events: r.get(2)?,
            impressions: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// Where one stored event is counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfEvent {
    pub recommender: String,
    pub event_type: String,
    /// Its impression list's length when no log entry matches it, else 0.
    pub impressions: i64,
}

/// The attribution of the event at `seq`.
pub fn of_event(c: &Connection, seq: i64, undefined: &str) -> rusqlite::Result<OfEvent> {
    c.query_row(
        "SELECT coalesce(e.recommender, r.recommender, ?2), e.event_type,
                CASE WHEN r.recommendation_id IS NULL THEN coalesce(json_array_length(e.impression), 0) ELSE 0 END
         FROM events e LEFT JOIN recommendations r ON r.recommendation_id = e.recommendation_id
         WHERE e.seq = ?1",
        params![seq, undefined],
        |r| {
            Ok(OfEvent {
                recommender: r.get(0)?,
                event_type: r.get(1)?,
                impressions: r.get(2)?,
            })
        },
    )
}

/// Stored events that carry one `recommendation_id`, per own `recommender` and event type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WithId {
    /// The events' own `recommender` field.
    pub recommender: Option<String>,
    pub event_type: String,
    pub events: i64,
    /// Items of their impression lists.
    pub impressions: i64,
}

/// The stored events whose `recommendation_id` is `recommendation_id`.
pub fn with_recommendation_id(
    c: &Connection,
    recommendation_id: &str,
) -> rusqlite::Result<Vec<WithId>> {
    let mut st = c.prepare_cached(
        "SELECT recommender, event_type, count(*), coalesce(sum(coalesce(json_array_length(impression), 0)), 0)
         FROM events
         WHERE recommendation_id = ?1 AND (recommendation_id IS NOT NULL OR recommender IS NOT NULL)
         GROUP BY recommender, event_type",
    )?;
    let rows = st.query_map([recommendation_id], |r| {
        Ok(WithId {
            recommender: r.get(0)?,
            event_type: r.get(1)?,
            events: r.get(2)?,
            impressions: r.get(3)?,
        })
    })?;
    rows.collect()
}
