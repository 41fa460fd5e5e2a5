#![allow(clippy::unwrap_used)]
//! Session neighbours (`CAP_SESSION_NEIGHBORS`): a session without a known user also scores
//! the items of the training users whose stored histories share its items, weighted by how
//! near in time they were active and how close each item lies to a shared one.

mod runtime_model;

#[cfg(feature = "write")]
use edgerec_core::format::{self, CAP_SESSION_NEIGHBORS};
use edgerec_core::request::{Event, PutEventsRequest};
use edgerec_core::session::neighbors::SessionNeighbors;
use edgerec_core::{Embedding, Engine, Histories, Model, RecommenderModel, UserTable};
use runtime_model::{events, ids, model, recs};

/// Seconds of a day.
const DAY: i64 = 86_400;

/// The shared model (neighbour lists only within the two colour clusters, items 0–5 and
/// 6–11) with four users: carol, active at day 0, had item 3 then 10 and 9; dave, active at
/// day 1000, had item 3 then 11 and 7. The neighbour recommender blends in `sn`.
fn with_neighbors(sn: Option<SessionNeighbors>) -> Model {
    let mut m = model();
    m.users = UserTable {
        user_ids: ["alice", "bob", "carol", "dave"].into(),
        columns: vec![],
    };
    m.histories = Histories {
        offsets: vec![0, 1, 2, 5, 8],
        items: vec![0, 6, 3, 10, 9, 3, 11, 7],
        event_types: vec![0; 8],
        timestamps: vec![1, 2, 0, 1, 2, 1000 * DAY, 1000 * DAY + 1, 1000 * DAY + 2].into(),
        ..Histories::default()
    };
    for r in &mut m.recommenders {
        match &mut r.model {
            RecommenderModel::Neighbors(n) => n.session_neighbors = sn.clone().map(Box::new),
            RecommenderModel::Factors(f) => {
                f.user_factors =
                    Embedding::from_f32(4, 2, vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.0, 1.0]);
            }
            RecommenderModel::Popularity(_) | RecommenderModel::Blend(_) => {}
        }
    }
    m
}

/// The top 10 after a one-event session on item 3 sent at `day`.
fn session_on_item3(e: &mut Engine, id: &str, day: i64) -> Vec<String> {
    e.put_events(&PutEventsRequest {
        session_id: id.into(),
        event_list: vec![Event {
            event_type: "view".into(),
            item_id: Some("item3".into()),
            #[allow(clippy::cast_precision_loss)]
            sent_at: (day * DAY) as f64,
            ..Event::default()
        }],
        ..PutEventsRequest::default()
    })
    .unwrap();
    ids(&e.get_recommendations(&recs("related", id, 10)).unwrap())
}

fn position(list: &[String], item: &str) -> Option<usize> {
    list.iter().position(|x| x == item)
}

#[test]
fn a_session_gains_the_items_of_users_who_share_its_items() {
    let mut off = Engine::new(with_neighbors(None));
    let plain = session_on_item3(&mut off, "s", 0);
    // The lists alone stay in item 3's cluster.
    assert_eq!(plain, ["item2", "item4", "item1", "item5", "item0"]);
    let mut on = Engine::new(with_neighbors(Some(SessionNeighbors::new(
        1.0, 10, 0.0, 0.0,
    ))));
    let blended = session_on_item3(&mut on, "s", 0);
    // Carol's and dave's other items join, and the list's own order is kept.
    for item in ["item7", "item9", "item10", "item11"] {
        assert!(position(&blended, item).is_some(), "{item}: {blended:?}");
    }
    let kept: Vec<&String> = blended.iter().filter(|i| plain.contains(i)).collect();
    assert_eq!(kept, plain.iter().collect::<Vec<_>>());
}

#[test]
fn neighbours_active_near_the_session_count_more() {
    let sn = SessionNeighbors::new(1.0, 10, 30.0, 0.0);
    let mut e = Engine::new(with_neighbors(Some(sn)));
    // At day 0 carol is near: her items rank with the lists' best, dave's (decayed over 1000
    // days of 30) after every list item.
    let early = session_on_item3(&mut e, "early", 0);
    assert_eq!(
        early,
        [
            "item2", "item4", "item9", "item10", "item1", "item5", "item0", "item7", "item11"
        ]
    );
    // At day 1000 dave is near and carol far.
    let late = session_on_item3(&mut e, "late", 1000);
    assert_eq!(
        late,
        [
            "item2", "item4", "item7", "item11", "item1", "item5", "item0", "item9", "item10"
        ]
    );
}

#[test]
fn items_near_the_shared_item_count_more() {
    // Carol had 3, then 10, then 9: without a position decay 9 and 10 tie (lower index first).
    let mut flat = Engine::new(with_neighbors(Some(SessionNeighbors::new(
        1.0, 10, 30.0, 0.0,
    ))));
    let l = session_on_item3(&mut flat, "s", 0);
    assert!(position(&l, "item9") < position(&l, "item10"), "{l:?}");
    // With one, 10 (next to 3) is ahead of 9 (two positions on).
    let mut near = Engine::new(with_neighbors(Some(SessionNeighbors::new(
        1.0, 10, 30.0, 1.0,
    ))));
    let l = session_on_item3(&mut near, "s", 0);
    assert!(position(&l, "item10") < position(&l, "item9"), "{l:?}");
}

#[test]
fn the_number_of_neighbours_bounds_whose_items_count() {
    // Both users share item 3; with one neighbour kept, only the nearer one (carol at day 0).
    let mut e = Engine::new(with_neighbors(Some(SessionNeighbors::new(
        1.0, 1, 10_000.0, 0.0,
    ))));
    let l = session_on_item3(&mut e, "s", 0);
    assert!(position(&l, "item9").is_some(), "{l:?}");
    assert!(position(&l, "item11").is_none(), "{l:?}");
    // None kept: the lists alone.
    let mut none = Engine::new(with_neighbors(Some(SessionNeighbors::new(
        1.0, 0, 0.0, 0.0,
    ))));
    assert_eq!(
        session_on_item3(&mut none, "s", 0),
        ["item2", "item4", "item1", "item5", "item0"]
    );
}

#[test]
fn known_users_and_related_items_are_left_to_the_lists() {
    let sn = SessionNeighbors::new(1.0, 10, 0.0, 0.0);
    let mut e = Engine::new(with_neighbors(Some(sn)));
    // Alice is a known user: her session adds to her history, and neighbours are not used.
    e.put_events(&events("a", Some("alice"), &["item3"]))
        .unwrap();
    let alice = ids(&e
        .get_recommendations(&recs("related", "alice", 10))
        .unwrap());
    assert!(position(&alice, "item9").is_none(), "{alice:?}");
    // Related items of an item have no session.
    let related = ids(&e
        .get_recommendations(&edgerec_core::GetRecommendationsRequest {
            recommender: Some("related".into()),
            item_id: Some("item3".into()),
            num_results: Some(10),
            ..edgerec_core::GetRecommendationsRequest::default()
        })
        .unwrap());
    assert_eq!(related, ["item2", "item4", "item1", "item5", "item0"]);
}

#[test]
fn a_model_without_histories_scores_like_the_lists() {
    let mut m = with_neighbors(Some(SessionNeighbors::new(1.0, 10, 0.0, 0.0)));
    m.users = UserTable::default();
    m.histories = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    let mut e = Engine::new(m);
    assert_eq!(
        session_on_item3(&mut e, "s", 0),
        ["item2", "item4", "item1", "item5", "item0"]
    );
}

#[cfg(feature = "write")]
#[test]
fn the_settings_are_stored_behind_their_capability_and_checked() {
    let sn = SessionNeighbors::new(0.5, 200, 60.0, 10.0);
    let on = format::encode(&with_neighbors(Some(sn.clone()))).unwrap();
    let off = format::encode(&with_neighbors(None)).unwrap();
    assert_ne!(
        format::read_header(&on).unwrap().capabilities & CAP_SESSION_NEIGHBORS,
        0
    );
    assert_eq!(
        format::read_header(&off).unwrap().capabilities & CAP_SESSION_NEIGHBORS,
        0
    );
    let back = format::decode(&on).unwrap();
    assert_eq!(back.recommenders, with_neighbors(Some(sn)).recommenders);
    assert_eq!(format::encode(&back).unwrap(), on);
    // A decoded model serves the same lists as the one it was written from.
    let mut a = Engine::new(back);
    let mut b = Engine::new(with_neighbors(Some(SessionNeighbors::new(
        0.5, 200, 60.0, 10.0,
    ))));
    assert_eq!(
        session_on_item3(&mut a, "s", 3),
        session_on_item3(&mut b, "s", 3)
    );
    // Settings that cannot be served are refused with a message, not written.
    for bad in [
        SessionNeighbors::new(f32::NAN, 10, 0.0, 0.0),
        SessionNeighbors::new(1.0, 10, -1.0, 0.0),
        SessionNeighbors::new(1.0, 10, 0.0, f32::INFINITY),
        SessionNeighbors::new(1.0, 1_000_000, 0.0, 0.0),
    ] {
        let err = format::encode(&with_neighbors(Some(bad))).unwrap_err();
        assert!(err.to_string().contains("session neighbours"), "{err}");
    }
}
