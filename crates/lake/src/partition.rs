//! A batch of events split by the UTC day of their `TIMESTAMP`, each day one Parquet file under
//! `dt=YYYY-MM-DD/` (Hive-style partitions), named deterministically by the writer, so writing
//! the same batch again replaces the same objects instead of adding copies.

use std::borrow::Borrow;
use std::fmt;

use crate::encode::{EncodeError, encode};
use crate::event::LakeEvent;

/// A UTC calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day {
    pub year: i64,
    pub month: u8,
    pub day: u8,
}

impl Day {
    /// The UTC day of an epoch second.
    #[must_use]
    pub fn of(timestamp: i64) -> Day {
        civil(timestamp.div_euclid(86_400))
    }

    /// The partition folder: `dt=YYYY-MM-DD`.
    #[must_use]
    pub fn partition(&self) -> String {
        format!("dt={self}")
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The proleptic Gregorian date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn civil(days: i64) -> Day {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u8; // [1, 31]
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8; // [1, 12]
    let year = yoe + era * 400 + i64::from(month <= 2);
    Day { year, month, day }
}

/// The events of one day, in their batch's order.
#[derive(Debug, Clone, PartialEq)]
pub struct DayPart<'a> {
    pub day: Day,
    pub events: Vec<&'a LakeEvent>,
}

/// Splits a batch by day (days ascending; each day's events in batch order).
pub fn by_day<E: Borrow<LakeEvent>>(events: &[E]) -> Vec<DayPart<'_>> {
    let mut parts: Vec<DayPart<'_>> = Vec::new();
    for e in events {
        let e = e.borrow();
        let day = Day::of(e.timestamp);
        match parts.binary_search_by(|p| p.day.cmp(&day)) {
            Ok(i) => parts[i].events.push(e),
            Err(i) => parts.insert(
                i,
                DayPart {
                    day,
                    events: vec![e],
                },
            ),
        }
    }
    parts
}

/// One file of the lake, ready to put: its key below the lake's prefix
/// (`dt=YYYY-MM-DD/<stem>.parquet`), its rows and its bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct LakeFile {
    pub key: String,
    pub day: Day,
    pub rows: usize,
    pub bytes: Vec<u8>,
}

/// Why a stem cannot name a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("lake file stem {stem:?}: {reason}")]
pub struct StemError {
    pub stem: String,
    pub reason: &'static str,
}

/// Why a batch's files could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FilesError {
    #[error(transparent)]
    Stem(#[from] StemError),
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// A stem is the writer's deterministic name of a batch (e.g. `serve-<first seq>-<last seq>`, or
/// a hash of the batch's event ids): 1–200 ASCII letters, digits, `-`, `_` and `.`, so it is the
/// same object key on every store and needs no escaping.
pub fn check_stem(stem: &str) -> Result<(), StemError> {
    let bad = |reason| {
        Err(StemError {
            stem: stem.to_owned(),
            reason,
        })
    };
    if stem.is_empty() || stem.len() > 200 {
        return bad("must be 1 to 200 characters");
    }
    if !stem
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return bad("may hold only ASCII letters, digits, '-', '_' and '.'");
    }
    if stem.starts_with('.') {
        return bad("must not start with '.'");
    }
    Ok(())
}

/// A batch's files: one per day, keyed `dt=YYYY-MM-DD/<stem>.parquet`. The same batch and stem
/// always give the same keys and bytes.
pub fn files<E: Borrow<LakeEvent>>(events: &[E], stem: &str) -> Result<Vec<LakeFile>, FilesError> {
    check_stem(stem)?;
    by_day(events)
        .into_iter()
        .map(|part| {
            Ok(LakeFile {
                key: format!("{}/{stem}.parquet", part.day.partition()),
                day: part.day,
                rows: part.events.len(),
                bytes: encode(&part.events)?,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn days_are_utc_calendar_days() {
        assert_eq!(Day::of(0).to_string(), "1970-01-01");
        assert_eq!(Day::of(86_399).to_string(), "1970-01-01");
        assert_eq!(Day::of(86_400).to_string(), "1970-01-02");
        assert_eq!(Day::of(-1).to_string(), "1969-12-31");
        assert_eq!(Day::of(1_700_000_000).partition(), "dt=2023-11-14");
        assert_eq!(Day::of(951_782_400).to_string(), "2000-02-29");
        assert_eq!(Day::of(99_999_999_999).to_string(), "5138-11-16");
    }

    fn ev(id: &str, timestamp: i64) -> LakeEvent {
        LakeEvent {
            event_id: id.into(),
            session_id: "s".into(),
            event_type: "view".into(),
            timestamp,
            ..LakeEvent::default()
        }
    }

    #[test]
    fn a_batch_splits_by_day_in_order() {
        let day = 86_400;
        let events = [
            ev("a", 2 * day + 5),
            ev("b", day),
            ev("c", 2 * day),
            ev("d", day + 1),
        ];
        let files = files(&events, "serve-1-4").unwrap();
        let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "dt=1970-01-02/serve-1-4.parquet",
                "dt=1970-01-03/serve-1-4.parquet"
            ]
        );
        let ids = |f: &LakeFile| -> Vec<String> {
            crate::encode::tests::decode(f.bytes.clone())
                .into_iter()
                .map(|e| e.event_id)
                .collect()
        };
        assert_eq!(ids(&files[0]), ["b", "d"]);
        assert_eq!(ids(&files[1]), ["a", "c"]);
        // Deterministic: the same batch makes the same bytes.
        assert_eq!(super::files(&events, "serve-1-4").unwrap(), files);
    }

    #[test]
    fn stems_that_are_not_plain_names_are_refused() {
        for stem in ["", "a/b", "../x", ".hidden", "a b", "é"] {
            let err = files::<LakeEvent>(&[], stem).unwrap_err();
            assert!(err.to_string().contains("lake file stem"), "{err}");
        }
        assert!(check_stem("worker-0123abcd_x.1").is_ok());
    }

    proptest! {
        /// Every day's date maps back to the days count it came from (round trip through a
        /// days-from-civil computation).
        #[test]
        fn civil_dates_are_consecutive(days in -800_000i64..1_200_000) {
            let (a, b) = (civil(days), civil(days + 1));
            prop_assert!(a < b);
            let next_day = b.day == a.day + 1 && b.month == a.month && b.year == a.year;
            let next_month = b.day == 1 && ((b.month == a.month + 1 && b.year == a.year) || (a.month == 12 && b.month == 1 && b.year == a.year + 1));
            prop_assert!(next_day || next_month, "{a} then {b}");
        }
    }
}
