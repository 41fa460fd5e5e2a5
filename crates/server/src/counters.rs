//! What `/health` and `/metrics` report about the store, kept in memory: row counts and the
//! per-recommender attribution (logged recommendations, impressions, attributed events per
//! event type). They are read from the database once, when the store opens, and then moved by
//! every committed write: each write job returns the [`Delta`] it made, computed inside its
//! transaction, and the store's writer thread applies it after the commit, in commit order. So
//! a scrape reads a few maps instead of scanning the events table, and the numbers always equal
//! what the same query over the store would give (`Totals::load`; the tests compare them).
//!
//! Attribution follows `report::per_recommender`: an event is attributed to its own
//! `recommender` field, else to the recommender its `recommendationId` was logged with, else to
//! `SOURCE_NAME_UNDEFINED`, and its impression list counts while no log entry matches it. A log
//! entry that arrives after its events moves them from where they were counted.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rusqlite::Connection;

use super::db;
use super::db::records::Table;
use super::report::UNDEFINED;

/// One recommender's attribution totals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attributed {
    pub recommendations: u64,
    pub impressions: u64,
    /// Attributed events per event type.
    pub events: BTreeMap<String, u64>,
}

/// Counts of what the store holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct StoreCounts {
    pub events: u64,
    pub items: u64,
    pub users: u64,
    pub recommendations: u64,
    pub max_seq: i64,
}

/// What the store holds.
pub fn counts(c: &Connection) -> rusqlite::Result<StoreCounts> {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(StoreCounts {
        events: u(db::events::count(c)?),
        items: u(db::records::count(c, Table::Items)?),
        users: u(db::records::count(c, Table::Users)?),
        recommendations: u(db::recommendations::count(c)?),
        max_seq: db::events::max_seq(c)?,
    })
}

/// Everything the counters hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub counts: StoreCounts,
    /// Per recommender (entries with nothing counted are absent).
    pub attribution: BTreeMap<String, Attributed>,
}

impl Totals {
    /// The totals as the store holds them (the scan done once at start, and by the tests).
    pub fn load(c: &Connection) -> rusqlite::Result<Totals> {
        let counts = counts(c)?;
        let attribution = super::report::per_recommender(c, None)?
            .into_iter()
            .map(|r| {
                (
                    r.recommender,
                    Attributed {
                        recommendations: r.recommendations,
                        impressions: r.impressions,
                        events: r.events.into_iter().filter(|(_, n)| *n > 0).collect(),
                    },
                )
            })
            .filter(|(_, a)| !a.is_empty())
            .collect();
        Ok(Totals {
            counts,
            attribution,
        })
    }

    /// Adds a committed write's changes.
    pub fn apply(&mut self, d: &Delta) {
        let c = &mut self.counts;
        c.events += d.events;
        c.items += d.items;
        c.users += d.users;
        c.recommendations += d.recommendations;
        c.max_seq = c.max_seq.max(d.max_seq);
        for m in &d.moves {
            let (name, by) = match m {
                Move::Recommendations(n, by)
                | Move::Impressions(n, by)
                | Move::Events(n, _, by) => (n, *by),
            };
            let a = self.attribution.entry(name.clone()).or_default();
            match m {
                Move::Recommendations(..) => add(&mut a.recommendations, by),
                Move::Impressions(..) => add(&mut a.impressions, by),
                Move::Events(_, t, _) => {
                    let n = a.events.entry(t.clone()).or_default();
                    add(n, by);
                    if *n == 0 {
                        a.events.remove(t);
                    }
                }
            }
            if a.is_empty() {
                self.attribution.remove(name);
            }
        }
    }
}

impl Attributed {
    fn is_empty(&self) -> bool {
        self.recommendations == 0 && self.impressions == 0 && self.events.is_empty()
    }
}

fn add(v: &mut u64, by: i64) {
    *v = v.saturating_add_signed(by);
}

/// One change to the attribution totals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Move {
    Recommendations(String, i64),
    Impressions(String, i64),
    /// Recommender, event type, change.
    Events(String, String, i64),
}

/// What one committed write changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delta {
    pub events: u64,
    pub items: u64,
    pub users: u64,
    pub recommendations: u64,
    pub max_seq: i64,
    pub moves: Vec<Move>,
}

impl Delta {
    /// Counts a newly stored event (row `seq`), attributed as the report query attributes it.
    pub fn event_stored(
        &mut self,
        c: &Connection,
        seq: i64,
        attributed: bool,
    ) -> rusqlite::Result<()> {
        self.events += 1;
        self.max_seq = self.max_seq.max(seq);
        if !attributed {
            return Ok(());
        }
        let db::attribution::OfEvent {
            recommender: name,
            event_type,
            impressions,
        } = db::attribution::of_event(c, seq, UNDEFINED)?;
        if impressions != 0 {
            self.moves
                .push(Move::Impressions(name.clone(), impressions));
        }
        self.moves.push(Move::Events(name, event_type, 1));
        Ok(())
    }

    /// Counts a newly logged recommendation, and moves the events already stored with its id
    /// (counted until now without a log entry) to it.
    pub fn recommendation_logged(
        &mut self,
        c: &Connection,
        recommendation_id: &str,
        recommender: &str,
        n_items: usize,
    ) -> rusqlite::Result<()> {
        self.recommendations += 1;
        self.moves
            .push(Move::Recommendations(recommender.to_owned(), 1));
        let n_items = i64::try_from(n_items).unwrap_or(i64::MAX);
        if n_items != 0 {
            self.moves
                .push(Move::Impressions(recommender.to_owned(), n_items));
        }
        for row in db::attribution::with_recommendation_id(c, recommendation_id)? {
            let db::attribution::WithId {
                recommender: own,
                event_type,
                events: n,
                impressions,
            } = row;
            let before = own.clone().unwrap_or_else(|| UNDEFINED.to_owned());
            let after = own.unwrap_or_else(|| recommender.to_owned());
            if impressions != 0 {
                self.moves
                    .push(Move::Impressions(before.clone(), -impressions));
            }
            if before != after {
                self.moves
                    .push(Move::Events(before, event_type.clone(), -n));
                self.moves.push(Move::Events(after, event_type, n));
            }
        }
        Ok(())
    }
}

/// The live totals, shared by the store's writer (which applies deltas) and the HTTP handlers.
#[derive(Debug, Default)]
pub struct Counters {
    totals: Mutex<Totals>,
}

impl Counters {
    #[must_use]
    pub fn new(totals: Totals) -> Self {
        Counters {
            totals: Mutex::new(totals),
        }
    }

    /// A copy of the current totals.
    #[must_use]
    pub fn snapshot(&self) -> Totals {
        self.totals
            .lock()
            .map_or_else(|p| p.into_inner().clone(), |t| t.clone())
    }

    /// Applies a committed write's delta.
    pub fn apply(&self, d: &Delta) {
        match self.totals.lock() {
            Ok(mut t) => t.apply(d),
            Err(p) => p.into_inner().apply(d),
        }
    }
}
