//! Live sessions: bounded, per-event-type histories of recent events and impressions,
//! keyed by user id (or session id for anonymous visitors); and the two recipe parts that
//! answer from them: session neighbours ([`neighbors`]) and session pairs ([`pairs`]).

pub mod neighbors;
pub mod pairs;

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::request::limits::SESSION_EVENTS_PER_TYPE;

/// One event as the session keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionEvent {
    /// Catalogue index of the item, when known to the model.
    pub item: Option<u32>,
    /// The external item id as sent (kept for items the model does not know yet).
    pub item_id: Option<String>,
    /// Lower-cased event type.
    pub event_type: String,
    /// Seconds since the epoch.
    pub sent_at: f64,
    pub value: Option<f64>,
    /// Arrival order within the engine (for recency across event types).
    pub seq: u64,
}

/// The state of one session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Session {
    /// Known user row in the model, if the key is a known user id.
    pub user: Option<u32>,
    /// Events per lower-cased event type, newest first, at most `SESSION_EVENTS_PER_TYPE` each.
    pub events: BTreeMap<String, VecDeque<SessionEvent>>,
    /// Items shown in impressions and how often (for exploration discounting).
    pub impressions: HashMap<u32, u32>,
    /// Fold-in vectors per recommender index, refreshed on every event.
    pub vectors: HashMap<usize, Vec<f32>>,
    /// Last activity (engine sequence number) for eviction.
    pub last_seq: u64,
}

impl Session {
    /// Adds an event, keeping the per-type bound.
    pub fn push(&mut self, event: SessionEvent) {
        self.last_seq = self.last_seq.max(event.seq);
        let q = self.events.entry(event.event_type.clone()).or_default();
        q.push_front(event);
        q.truncate(SESSION_EVENTS_PER_TYPE);
    }

    /// All events, newest first across event types.
    #[must_use]
    pub fn recent(&self) -> Vec<&SessionEvent> {
        let mut all: Vec<&SessionEvent> = self.events.values().flatten().collect();
        crate::sort::sort_by_key(&mut all, |e| std::cmp::Reverse(e.seq));
        all
    }

    /// Number of events held.
    #[must_use]
    pub fn len(&self) -> usize {
        self.events.values().map(VecDeque::len).sum()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Merges `other` (e.g. an anonymous session that just logged in) into this one.
    pub fn absorb(&mut self, other: Session) {
        for (_, q) in other.events {
            for e in q.into_iter().rev() {
                self.push(e);
            }
        }
        for (i, n) in other.impressions {
            *self.impressions.entry(i).or_default() += n;
        }
        self.vectors.clear();
    }
}

/// All live sessions, bounded in number (least recently active evicted first).
#[derive(Debug, Clone)]
pub struct SessionStore {
    sessions: HashMap<String, Session>,
    capacity: usize,
}

impl Default for SessionStore {
    fn default() -> Self {
        SessionStore::new(10_000)
    }
}

impl SessionStore {
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        SessionStore {
            sessions: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Session> {
        self.sessions.get(key)
    }

    /// The session for `key`, created if needed (may evict the least recently active one).
    pub fn entry(&mut self, key: &str) -> &mut Session {
        if !self.sessions.contains_key(key) && self.sessions.len() >= self.capacity {
            let oldest = self
                .sessions
                .iter()
                .min_by_key(|(_, s)| s.last_seq)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                self.sessions.remove(&k);
            }
        }
        self.sessions.entry(key.to_owned()).or_default()
    }

    /// Removes and returns a session.
    pub fn take(&mut self, key: &str) -> Option<Session> {
        self.sessions.remove(key)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// Iterates over all sessions.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Session)> {
        self.sessions.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: &str, seq: u64) -> SessionEvent {
        SessionEvent {
            item: Some(u32::try_from(seq).unwrap_or(0)),
            item_id: None,
            event_type: t.into(),
            sent_at: 0.0,
            value: None,
            seq,
        }
    }

    #[test]
    fn bounded_per_type_newest_first() {
        let mut s = Session::default();
        for i in 0..250 {
            s.push(ev("view", i));
        }
        s.push(ev("purchase", 1000));
        assert_eq!(s.events["view"].len(), SESSION_EVENTS_PER_TYPE);
        assert_eq!(s.events["view"][0].seq, 249);
        assert_eq!(s.recent()[0].seq, 1000);
        assert_eq!(s.len(), SESSION_EVENTS_PER_TYPE + 1);
    }

    #[test]
    fn store_evicts_least_recent() {
        let mut st = SessionStore::new(2);
        st.entry("a").push(ev("v", 1));
        st.entry("b").push(ev("v", 2));
        st.entry("c").push(ev("v", 3));
        assert!(st.get("a").is_none());
        assert!(st.get("b").is_some() && st.get("c").is_some());
    }
}
