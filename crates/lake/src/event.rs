//! One event as the lake stores it: a row of the lake's Parquet files.

/// Epoch values at or above this are milliseconds (as the importer and the sync server's
/// snapshot take them): 1e11 seconds is the year 5138.
pub const MILLIS_THRESHOLD: f64 = 1e11;

/// One accepted event, as a row of the lake (column names in [`crate::encode::SCHEMA`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LakeEvent {
    /// `EVENT_ID`: unique; the lake holds each once.
    pub event_id: String,
    /// `USER_ID`.
    pub user_id: Option<String>,
    /// `SESSION_ID`.
    pub session_id: String,
    /// `ITEM_ID`.
    pub item_id: Option<String>,
    /// `TIMESTAMP`: epoch seconds (see [`LakeEvent::timestamp_of`]).
    pub timestamp: i64,
    /// `EVENT_TYPE`.
    pub event_type: String,
    /// `EVENT_VALUE`.
    pub event_value: Option<f64>,
    /// `IMPRESSION`: the item ids shown, joined with `|` in the file (none: null).
    pub impression: Vec<String>,
    /// `RECOMMENDATION_ID`.
    pub recommendation_id: Option<String>,
    /// `PROPERTIES`: the event's properties object as JSON text, as received.
    pub properties: Option<String>,
}

impl LakeEvent {
    /// The `TIMESTAMP` of an event sent at `sent_at` (PutEvents' `sentAt`): epoch seconds,
    /// floored; values ≥ 1e11 are milliseconds. Out-of-range values saturate (the event
    /// contract admits only finite, non-negative times).
    #[must_use]
    #[allow(clippy::cast_possible_truncation)]
    pub fn timestamp_of(sent_at: f64) -> i64 {
        let seconds = if sent_at >= MILLIS_THRESHOLD {
            sent_at / 1000.0
        } else {
            sent_at
        };
        // `as` saturates (NaN becomes 0).
        seconds.floor() as i64
    }

    /// The `IMPRESSION` column's text: the item ids joined with `|`, or null when there are none.
    #[must_use]
    pub fn impression_text(&self) -> Option<String> {
        (!self.impression.is_empty()).then(|| self.impression.join("|"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_are_floored_and_milliseconds_converted() {
        assert_eq!(LakeEvent::timestamp_of(1_700_000_000.9), 1_700_000_000);
        assert_eq!(LakeEvent::timestamp_of(1_700_000_000_999.0), 1_700_000_000);
        assert_eq!(LakeEvent::timestamp_of(99_999_999_999.0), 99_999_999_999);
        assert_eq!(LakeEvent::timestamp_of(f64::NAN), 0);
    }

    #[test]
    fn impressions_join_with_a_bar() {
        let mut e = LakeEvent::default();
        assert_eq!(e.impression_text(), None);
        e.impression = vec!["a".into(), "b".into()];
        assert_eq!(e.impression_text().as_deref(), Some("a|b"));
    }
}
