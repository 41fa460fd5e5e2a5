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

/// An event whose `properties` hold a key Personalize reserves is refused by the engine with the
/// field named, so it never enters the outbox (and never reaches the sync server, which would
/// refuse it).
#[test]
fn reserved_and_malformed_properties_never_enter_the_outbox() {
    let mut e = Engine::new(model());
    for (properties, what) in [
        (r#"{"userId":"x"}"#, "reserved key"),
        (r#"{"device":"m","recommendationId":"r"}"#, "reserved key"),
        ("{not json}", "JSON object"),
        ("{\"a\":1} {}", "JSON object"),
    ] {
        let mut req = events("s1", None, &["item1"]);
        req.event_list[0].properties = Some(properties.into());
        match e.put_events(&req).unwrap_err() {
            edgerec_core::RequestError::InvalidInput { field, message } => {
                assert_eq!(field, "eventList[0].properties", "{properties}");
                assert!(message.contains(what), "{properties}: {message}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(e.outbox_len(), 0);
    assert_eq!(e.session_count(), 0, "a refused call changes no session");
}

mod contract_props {
    use super::*;
    use edgerec_core::PutEventsRequest;
    use edgerec_core::contract::{self, Policy};
    use edgerec_core::request::MetricAttribution;
    use proptest::prelude::*;

    fn opt<T: Clone + std::fmt::Debug + 'static>(
        s: impl Strategy<Value = T> + 'static,
    ) -> impl Strategy<Value = Option<T>> {
        prop_oneof![Just(None), s.prop_map(Some)]
    }

    fn pick(options: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::sample::select(options).prop_map(str::to_owned)
    }

    const ITEMS: &[&str] = &["item1", "item2", "item7", "not-in-the-model"];

    /// A valid event, any of its optional fields present or not.
    fn event() -> impl Strategy<Value = Event> {
        (
            (
                opt(pick(&[
                    "e-1",
                    "e-2",
                    "0d0c5a3e-4f1b-4c7a-9d1e-2f3a4b5c6d7e",
                ])),
                pick(&["view", "click", "Purchase"]),
                opt(pick(ITEMS)),
                0.0..2e9f64,
                opt(-1e6..1e6f64),
            ),
            (
                opt(pick(&[
                    "{}",
                    r#"{"device":"mobile"}"#,
                    r#" {"numberOfRatings":3,"nested":{"userId":[1,2]}} "#,
                ])),
                prop::collection::vec(pick(ITEMS), 0..4),
                opt(pick(&["RID-1", "rid-0123456789abcdef"])),
                opt(pick(&["email", "partner site ~ 2026"])),
                opt(pick(&["top-picks", "best-sellers"])),
            ),
        )
            .prop_map(
                |(
                    (event_id, event_type, item_id, sent_at, event_value),
                    (properties, impression, recommendation_id, source, recommender),
                )| Event {
                    event_id,
                    event_type,
                    item_id,
                    sent_at,
                    event_value,
                    properties,
                    impression,
                    recommendation_id,
                    metric_attribution: source.map(|s| MetricAttribution {
                        event_attribution_source: s,
                    }),
                    recommender,
                },
            )
    }

    /// One way to break a request (the event is picked by index, modulo the list's length).
    fn breaking(req: &mut PutEventsRequest, at: usize, how: u8) {
        let n = req.event_list.len();
        if n == 0 {
            return;
        }
        let e = &mut req.event_list[at % n];
        match how {
            0 => e.properties = Some(r#"{"userId":"x"}"#.into()),
            1 => e.properties = Some(r#"{"a":1,"sessionId":"s"}"#.into()),
            2 => e.properties = Some("{broken}".into()),
            3 => e.properties = Some("[1]".into()),
            4 => e.properties = Some(String::new()),
            5 => e.event_type = String::new(),
            6 => e.sent_at = -1.0,
            7 => e.sent_at = f64::NAN,
            8 => e.event_value = Some(f64::INFINITY),
            9 => e.impression = vec!["item1".into(); 26],
            10 => e.impression.push(String::new()),
            11 => e.recommendation_id = Some("r".repeat(41)),
            12 => {
                e.metric_attribution = Some(MetricAttribution {
                    event_attribution_source: "caf\u{e9}".into(),
                });
            }
            13 => e.recommender = Some("x".repeat(257)),
            14 => req.session_id = String::new(),
            _ => req.event_list.extend(vec![Event::default(); 10]),
        }
    }

    fn request() -> impl Strategy<Value = PutEventsRequest> {
        (
            opt(pick(&["tracker"])),
            pick(&["s1", "s2"]),
            opt(pick(&["alice", "new-user"])),
            prop::collection::vec(event(), 0..11),
            opt((any::<usize>(), 0u8..16)),
        )
            .prop_map(|(tracking_id, session_id, user_id, event_list, broken)| {
                let mut req = PutEventsRequest {
                    tracking_id,
                    session_id,
                    user_id,
                    event_list,
                };
                if let Some((at, how)) = broken {
                    breaking(&mut req, at, how);
                }
                req
            })
    }

    fn close(a: f64, b: f64) -> bool {
        a == b || (a - b).abs() <= 2.0 * f64::EPSILON * a.abs().max(b.abs())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The engine accepts exactly what the contract accepts (refusing with the same field),
        /// and every batch its outbox hands out passes the sync server's policy, serialises
        /// without nulls or empty lists, and reads back to the same batch.
        #[test]
        fn the_outbox_emits_only_what_the_server_accepts(reqs in prop::collection::vec(request(), 1..8)) {
            let mut e = Engine::new(model());
            let mut accepted = 0;
            for req in &reqs {
                let checked = contract::put_events(req, &Policy::PERSONALIZE).map(|_| ());
                let applied = e.put_events(req);
                prop_assert_eq!(&checked, &applied);
                if applied.is_ok() {
                    accepted += req.event_list.len();
                }
            }
            let batches = e.take_outbox(usize::MAX);
            prop_assert_eq!(batches.iter().map(|b| b.event_list.len()).sum::<usize>(), accepted);
            for b in &batches {
                prop_assert!(contract::put_events(b, &Policy::SYNC_SERVER).is_ok(), "{:?}", b);
                prop_assert!(contract::put_events(b, &Policy::PERSONALIZE).is_ok(), "{:?}", b);
                let text = serde_json::to_string(b).unwrap();
                prop_assert!(!text.contains(":null") && !text.contains(":[]"), "{}", text);
                let mut back: PutEventsRequest = serde_json::from_str(&text).unwrap();
                // serde_json's default number reader (the sync server's) may land one ulp off.
                for (x, y) in back.event_list.iter_mut().zip(&b.event_list) {
                    prop_assert!(close(x.sent_at, y.sent_at), "{} {}", x.sent_at, y.sent_at);
                    x.sent_at = y.sent_at;
                    if let (Some(p), Some(q)) = (x.event_value, y.event_value) {
                        prop_assert!(close(p, q), "{p} {q}");
                        x.event_value = y.event_value;
                    }
                }
                prop_assert_eq!(&back, b);
            }
        }
    }
}
