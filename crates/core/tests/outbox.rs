//! The outbox: every accepted `PutEvents` event comes out of `take_outbox` exactly once, in
//! Personalize-shaped batches, with an `eventId`.

#![allow(clippy::unwrap_used)]

mod runtime_model;

use std::collections::BTreeSet;

use edgerec_core::request::Event;
use edgerec_core::{Engine, ErrorCode};
use runtime_model::{events, model};

#[test]
fn every_accepted_event_once_with_ids() {
    let mut e = Engine::new(model());
    let mut req = events("s1", None, &["item1", "item2", "item3"]);
    req.event_list[0].event_id = Some("given-1".into());
    e.put_events(&req).unwrap();
    e.put_events(&events("s2", Some("alice"), &["item7"; 10]))
        .unwrap();
    e.put_events(&events("s1", None, &["nope"])).unwrap();
    // Rejected requests are not queued.
    let mut bad = events("s1", None, &["item1"]);
    bad.event_list[0].sent_at = f64::NAN;
    assert_eq!(
        e.put_events(&bad).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
    assert_eq!(e.outbox_len(), 14);

    let first = e.take_outbox(5);
    let rest = e.take_outbox(1000);
    assert!(e.take_outbox(1000).is_empty());
    assert_eq!(e.outbox_len(), 0);
    let all: Vec<&Event> = first
        .iter()
        .chain(&rest)
        .flat_map(|b| &b.event_list)
        .collect();
    assert_eq!(all.len(), 14);
    assert_eq!(first.iter().map(|b| b.event_list.len()).sum::<usize>(), 5);
    let ids: BTreeSet<&str> = all
        .iter()
        .map(|ev| ev.event_id.as_deref().unwrap())
        .collect();
    assert_eq!(ids.len(), 14, "event ids are unique");
    assert!(ids.contains("given-1"));
    for b in first.iter().chain(&rest) {
        assert!((1..=10).contains(&b.event_list.len()));
    }
    // Order and routing are kept.
    assert_eq!(first[0].session_id, "s1");
    assert_eq!(first[0].event_list[0].item_id.as_deref(), Some("item1"));
    let alice: Vec<_> = first
        .iter()
        .chain(&rest)
        .filter(|b| b.user_id.as_deref() == Some("alice"))
        .collect();
    assert_eq!(alice.iter().map(|b| b.event_list.len()).sum::<usize>(), 10);
    assert_eq!(
        rest.last()
            .unwrap()
            .event_list
            .last()
            .unwrap()
            .item_id
            .as_deref(),
        Some("nope")
    );
    // The batch is PutEvents JSON.
    let json = serde_json::to_value(&first[0]).unwrap();
    assert_eq!(json["sessionId"], "s1");
    assert!(json["eventList"][0]["eventId"].is_string());
}

#[test]
fn forks_have_their_own_outbox() {
    let mut e = Engine::new(model());
    e.put_events(&events("s1", None, &["item1"])).unwrap();
    let mut f = e.fork();
    assert_eq!(f.outbox_len(), 0);
    f.put_events(&events("s9", None, &["item2"])).unwrap();
    assert_eq!(e.take_outbox(10)[0].session_id, "s1");
    assert_eq!(f.take_outbox(10)[0].session_id, "s9");
    assert_eq!(e.outbox_dropped(), 0);
}

#[test]
fn derived_ids_are_deterministic() {
    let run = || {
        let mut e = Engine::new(model());
        e.put_events(&events("s1", None, &["item1", "item2"]))
            .unwrap();
        e.take_outbox(10)
    };
    assert_eq!(run(), run());
}
