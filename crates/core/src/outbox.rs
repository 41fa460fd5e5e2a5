//! The outbox: every event the engine accepted, queued for the sync server and handed out
//! once, in `PutEvents`-shaped batches (docs/design.md, "Event sync").
//!
//! It records only requests that passed the contract ([`crate::contract`]) and forms batches
//! of at most 10 events of one session, user and tracking id, so each batch it hands out is
//! one the sync server accepts as it is (the request types serialise without absent fields or
//! empty lists).
//!
//! The engine records each accepted event with its `eventId`, `sessionId` and `userId`.
//! Adapters fill missing `eventId`s with random ids before calling the engine; when a caller
//! does not, the outbox derives a deterministic one (the core has no RNG). The sync server
//! deduplicates by `eventId`, so a batch that is retried after a failed upload is harmless.

use std::collections::VecDeque;

use crate::contract::Checked;
use crate::idindex::fnv1a;
use crate::request::{Event, PutEventsRequest, limits};

/// Events held before the oldest are dropped (and counted in [`Outbox::dropped`]).
pub const OUTBOX_CAPACITY: usize = 10_000;

/// One accepted event with the request fields that route it.
#[derive(Debug, Clone, PartialEq)]
struct Queued {
    tracking_id: Option<String>,
    session_id: String,
    user_id: Option<String>,
    event: Event,
}

impl Queued {
    fn same_batch(&self, other: &Queued) -> bool {
        self.session_id == other.session_id
            && self.user_id == other.user_id
            && self.tracking_id == other.tracking_id
    }
}

/// Accepted events waiting to be synced, oldest first, bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    queue: VecDeque<Queued>,
    capacity: usize,
    dropped: u64,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new(OUTBOX_CAPACITY)
    }
}

impl Outbox {
    /// An outbox holding at most `capacity` events (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Outbox {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            dropped: 0,
        }
    }

    /// Queues the events of a request the contract accepted (only [`crate::contract`] makes a
    /// [`Checked`]), so every batch [`Outbox::take`] hands out is one the sync server accepts.
    /// `first_seq` is the engine sequence number of its first event; events without an
    /// `eventId` get one derived from the session and that number.
    pub fn record(&mut self, checked: Checked<'_>, first_seq: u64) {
        let req = checked.request();
        for (k, e) in req.event_list.iter().enumerate() {
            let mut event = e.clone();
            if event.event_id.is_none() {
                event.event_id = Some(derived_event_id(&req.session_id, first_seq + k as u64));
            }
            if self.queue.len() >= self.capacity {
                self.queue.pop_front();
                self.dropped += 1;
            }
            self.queue.push_back(Queued {
                tracking_id: req.tracking_id.clone(),
                session_id: req.session_id.clone(),
                user_id: req.user_id.clone(),
                event,
            });
        }
    }

    /// Removes and returns up to `max_events` of the oldest events as `PutEvents` requests:
    /// consecutive events of the same session, user and tracking id share a batch of at most
    /// 10 events (Personalize's limit). Every event is returned exactly once.
    pub fn take(&mut self, max_events: usize) -> Vec<PutEventsRequest> {
        let mut out: Vec<PutEventsRequest> = Vec::new();
        let mut last: Option<Queued> = None;
        for _ in 0..max_events.min(self.queue.len()) {
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            let joins = match (&last, out.last()) {
                (Some(prev), Some(batch)) => {
                    prev.same_batch(&q) && batch.event_list.len() < limits::MAX_EVENTS_PER_CALL
                }
                _ => false,
            };
            let event = q.event.clone();
            if joins {
                if let Some(batch) = out.last_mut() {
                    batch.event_list.push(event);
                }
            } else {
                out.push(PutEventsRequest {
                    tracking_id: q.tracking_id.clone(),
                    session_id: q.session_id.clone(),
                    user_id: q.user_id.clone(),
                    event_list: vec![event],
                });
            }
            last = Some(Queued {
                event: Event::default(),
                ..q
            });
        }
        out
    }

    /// Events waiting.
    #[must_use]
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Events dropped because the outbox was full (oldest first), since the engine started.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// A deterministic event id for callers that send none: `ev-` and 16 hex digits.
#[must_use]
pub fn derived_event_id(session_id: &str, seq: u64) -> String {
    let h = fnv1a(session_id.as_bytes()) ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!(
        "ev-{:016x}",
        h.rotate_left(23).wrapping_mul(0x0000_0100_0000_01b3)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(session: &str, n: usize) -> PutEventsRequest {
        PutEventsRequest {
            session_id: session.into(),
            event_list: (0..n)
                .map(|k| Event {
                    event_type: "view".into(),
                    item_id: Some(format!("i{k}")),
                    ..Event::default()
                })
                .collect(),
            ..PutEventsRequest::default()
        }
    }

    fn record(o: &mut Outbox, r: &PutEventsRequest, first_seq: u64) {
        let checked = crate::contract::put_events(r, &crate::contract::Policy::PERSONALIZE)
            .expect("a valid request");
        o.record(checked, first_seq);
    }

    #[test]
    fn bounded_and_counts_drops() {
        let mut o = Outbox::new(3);
        record(&mut o, &req("s", 5), 1);
        assert_eq!(o.len(), 3);
        assert_eq!(o.dropped(), 2);
        let b = o.take(10);
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].event_list[0].item_id.as_deref(), Some("i2"));
    }

    #[test]
    fn batches_split_by_session_and_size() {
        let mut o = Outbox::default();
        record(&mut o, &req("a", 8), 1);
        record(&mut o, &req("a", 8), 9);
        record(&mut o, &req("b", 1), 17);
        let b = o.take(100);
        let sizes: Vec<usize> = b.iter().map(|r| r.event_list.len()).collect();
        assert_eq!(sizes, vec![10, 6, 1]);
        assert!(o.is_empty());
    }
}
