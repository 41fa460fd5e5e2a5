//! Deterministic `eventId`s for events a client sends without one.
//!
//! The sync server deduplicates events by `eventId`. A client that sends none and retries a
//! `PutEvents` call (the AWS SDK retries on timeouts and 5xx answers) would otherwise get a new
//! random id on every attempt and the same event would be stored twice. The id here is derived
//! from everything the request says about the event — the request's `trackingId`, `sessionId`
//! and `userId`, the event's position in `eventList`, and the event's type, item, `sentAt`,
//! value, properties, impressions, `recommendationId`, `metricAttribution` and `recommender` —
//! so a retried request gets the same ids, and two events that differ in any of these get
//! different ones. The position keeps two identical events of one call apart (the client sent
//! two).
//!
//! The id is a UUID of version 8 (RFC 9562's layout for application-defined UUIDs) made from
//! the first 16 bytes of a SHA-256 over a length-prefixed encoding of those fields, so no two
//! different field lists encode alike. Adapters (the Worker, the sync server, the package) call
//! [`fill_event_ids`] before they hand the request on; ids the client sent are kept.

use sha2::{Digest, Sha256};

use crate::request::{Event, PutEventsRequest};

/// Domain separation: the hash of an event id is never the hash of anything else.
const DOMAIN: &[u8] = b"edgerec-event-id\nv1\n";

/// The id of `req.event_list[index]` as derived from its content (whether or not it has one).
/// `index` beyond the list hashes the request fields only; callers pass a valid position.
#[must_use]
pub fn derive_event_id(req: &PutEventsRequest, index: usize) -> String {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    opt_str(&mut h, req.tracking_id.as_deref());
    str_field(&mut h, &req.session_id);
    opt_str(&mut h, req.user_id.as_deref());
    h.update((index as u64).to_le_bytes());
    if let Some(e) = req.event_list.get(index) {
        event(&mut h, e);
    }
    let digest = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    uuid_v8(b)
}

/// Gives every event without an `eventId` its derived one; returns how many were filled.
pub fn fill_event_ids(req: &mut PutEventsRequest) -> usize {
    let missing: Vec<usize> = req
        .event_list
        .iter()
        .enumerate()
        .filter(|(_, e)| e.event_id.is_none())
        .map(|(k, _)| k)
        .collect();
    for &k in &missing {
        let id = derive_event_id(req, k);
        if let Some(e) = req.event_list.get_mut(k) {
            e.event_id = Some(id);
        }
    }
    missing.len()
}

fn event(h: &mut Sha256, e: &Event) {
    str_field(h, &e.event_type);
    opt_str(h, e.item_id.as_deref());
    number(h, Some(e.sent_at));
    number(h, e.event_value);
    opt_str(h, e.properties.as_deref());
    h.update((e.impression.len() as u64).to_le_bytes());
    for id in &e.impression {
        str_field(h, id);
    }
    opt_str(h, e.recommendation_id.as_deref());
    // Added after the fields above, and only when present, so the ids of events without them
    // are what they always were.
    if let Some(m) = &e.metric_attribution {
        h.update(b"metricAttribution");
        str_field(h, &m.event_attribution_source);
    }
    if let Some(r) = &e.recommender {
        h.update(b"recommender");
        str_field(h, r);
    }
}

fn str_field(h: &mut Sha256, s: &str) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s.as_bytes());
}

fn opt_str(h: &mut Sha256, s: Option<&str>) {
    match s {
        None => h.update([0u8]),
        Some(s) => {
            h.update([1u8]);
            str_field(h, s);
        }
    }
}

/// A number by its IEEE bits; `-0.0` counts as `0.0` (JSON cannot tell them apart reliably).
fn number(h: &mut Sha256, v: Option<f64>) {
    match v {
        None => h.update([0u8]),
        Some(v) => {
            h.update([1u8]);
            let v = if v == 0.0 { 0.0 } else { v };
            h.update(v.to_bits().to_le_bytes());
        }
    }
}

/// `xxxxxxxx-xxxx-8xxx-yxxx-xxxxxxxxxxxx` from 16 bytes (version 8, RFC 9562 variant).
fn uuid_v8(mut b: [u8; 16]) -> String {
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn req() -> PutEventsRequest {
        PutEventsRequest {
            tracking_id: Some("tracker".into()),
            session_id: "s-1".into(),
            user_id: Some("u-1".into()),
            event_list: vec![
                Event {
                    event_type: "view".into(),
                    item_id: Some("i1".into()),
                    sent_at: 1_700_000_000.25,
                    ..Event::default()
                },
                Event {
                    event_type: "view".into(),
                    item_id: Some("i1".into()),
                    sent_at: 1_700_000_000.25,
                    ..Event::default()
                },
            ],
        }
    }

    #[test]
    fn a_retried_request_gets_the_same_ids() {
        let mut a = req();
        let mut b = req();
        assert_eq!(fill_event_ids(&mut a), 2);
        fill_event_ids(&mut b);
        assert_eq!(a, b);
        let id = a.event_list[0].event_id.clone().unwrap_or_default();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "8", "version 8: {id}");
        assert!(
            matches!(&id[19..20], "8" | "9" | "a" | "b"),
            "variant: {id}"
        );
    }

    #[test]
    fn two_identical_events_of_one_call_stay_two() {
        let mut a = req();
        fill_event_ids(&mut a);
        assert_ne!(a.event_list[0].event_id, a.event_list[1].event_id);
    }

    #[test]
    fn ids_the_client_sent_are_kept() {
        let mut a = req();
        a.event_list[1].event_id = Some("mine".into());
        assert_eq!(fill_event_ids(&mut a), 1);
        assert_eq!(a.event_list[1].event_id.as_deref(), Some("mine"));
        // The derivation does not read the id, so a filled id equals the one derived alone.
        assert_eq!(a.event_list[0].event_id, Some(derive_event_id(&req(), 0)));
    }

    #[test]
    fn the_rule_is_fixed() {
        // A change of the derivation breaks deduplication across versions: it must be deliberate.
        // (The value was checked against an independent implementation of the encoding above.)
        assert_eq!(
            derive_event_id(&req(), 0),
            "fc7e7e80-ce54-8815-8208-dff773cda0ae"
        );
    }

    #[test]
    fn every_field_counts() {
        let base = derive_event_id(&req(), 0);
        let changes: [fn(&mut PutEventsRequest); 12] = [
            |r| r.tracking_id = None,
            |r| r.session_id = "s-2".into(),
            |r| r.user_id = None,
            |r| r.event_list[0].event_type = "purchase".into(),
            |r| r.event_list[0].item_id = None,
            |r| r.event_list[0].sent_at += 0.001,
            |r| r.event_list[0].event_value = Some(0.0),
            |r| r.event_list[0].properties = Some("{}".into()),
            |r| r.event_list[0].impression = vec!["i2".into()],
            |r| r.event_list[0].recommendation_id = Some("RID-1".into()),
            |r| {
                r.event_list[0].metric_attribution = Some(crate::request::MetricAttribution {
                    event_attribution_source: "email".into(),
                });
            },
            |r| r.event_list[0].recommender = Some("top-picks".into()),
        ];
        for (k, change) in changes.iter().enumerate() {
            let mut r = req();
            change(&mut r);
            assert_ne!(
                derive_event_id(&r, 0),
                base,
                "change {k} left the id unchanged"
            );
        }
    }

    proptest! {
        /// Moving bytes between adjacent fields never gives the same id (length prefixes).
        #[test]
        fn field_boundaries_are_unambiguous(a in ".{0,12}", b in ".{0,12}", split in 0usize..12) {
            let joined = format!("{a}{b}");
            let cut = joined.char_indices().nth(split).map_or(joined.len(), |(i, _)| i);
            let (x, y) = joined.split_at(cut);
            let mk = |s: &str, u: &str| PutEventsRequest {
                session_id: s.into(),
                user_id: Some(u.into()),
                event_list: vec![Event { event_type: "view".into(), ..Event::default() }],
                ..PutEventsRequest::default()
            };
            if (a.as_str(), b.as_str()) != (x, y) {
                prop_assert_ne!(derive_event_id(&mk(&a, &b), 0), derive_event_id(&mk(x, y), 0));
            }
        }
    }
}
