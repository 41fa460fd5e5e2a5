#![allow(clippy::unwrap_used)]
//! Transition lists (`CAP_TRANSITIONS`): a session without a known user also sums the
//! transition rows of its items (what new users go on to); known users and related items
//! keep the neighbour lists alone.

mod runtime_model;

#[cfg(feature = "write")]
use edgerec_core::format::{self, CAP_TRANSITIONS};
use edgerec_core::{Engine, GetRecommendationsRequest, Model, RecommenderModel, TransitionLists};
use runtime_model::{events, ids, model, recs};

/// Item 3 is followed by items 9 (0.4) and 7 (0.3), across the two colour clusters that the
/// neighbour lists stay within; item 9 by item 3 (1.0).
fn transitions() -> TransitionLists {
    let mut rows = vec![Vec::new(); 12];
    rows[3] = vec![(9, 0.4), (7, 0.3)];
    rows[9] = vec![(3, 1.0)];
    TransitionLists::from_rows(rows)
}

/// The shared model with `t` on its neighbour recommender.
fn with_transitions(t: Option<TransitionLists>) -> Model {
    let mut m = model();
    for r in &mut m.recommenders {
        if let RecommenderModel::Neighbors(n) = &mut r.model {
            n.transitions = t.clone().map(Box::new);
        }
    }
    m
}

/// The top 10 of `related` for `user` after a session of `items`.
fn after(e: &mut Engine, session: &str, user: Option<&str>, items: &[&str]) -> Vec<String> {
    e.put_events(&events(session, user, items)).unwrap();
    ids(&e
        .get_recommendations(&recs("related", user.unwrap_or(session), 10))
        .unwrap())
}

#[test]
fn an_anonymous_session_adds_the_transitions_of_its_items_to_the_lists() {
    let mut off = Engine::new(with_transitions(None));
    assert_eq!(
        after(&mut off, "s", None, &["item3"]),
        ["item2", "item4", "item1", "item5", "item0"]
    );
    let mut on = Engine::new(with_transitions(Some(transitions())));
    // Item 3's lists weigh 1/2, 1/3 and 1/4 by distance; its transitions 0.4 and 0.3.
    assert_eq!(
        after(&mut on, "s", None, &["item3"]),
        [
            "item2", "item4", "item9", "item1", "item5", "item7", "item0"
        ]
    );
    // The session's items are excluded, and older events count less (history decay 1).
    let two = after(&mut on, "t", None, &["item9", "item3"]);
    assert!(!two.contains(&"item3".to_owned()), "{two:?}");
    assert!(!two.contains(&"item9".to_owned()), "{two:?}");
    assert!(two.contains(&"item7".to_owned()), "{two:?}");
}

#[test]
fn known_users_and_related_items_keep_the_lists_alone() {
    let mut e = Engine::new(with_transitions(Some(transitions())));
    let alice = after(&mut e, "a", Some("alice"), &["item3"]);
    assert!(
        !alice.contains(&"item9".to_owned()) && !alice.contains(&"item7".to_owned()),
        "{alice:?}"
    );
    let related = ids(&e
        .get_recommendations(&GetRecommendationsRequest {
            recommender: Some("related".into()),
            item_id: Some("item3".into()),
            num_results: Some(10),
            ..GetRecommendationsRequest::default()
        })
        .unwrap());
    assert_eq!(related, ["item2", "item4", "item1", "item5", "item0"]);
}

#[cfg(feature = "write")]
#[test]
fn the_lists_are_stored_behind_their_capability_and_checked() {
    let on = format::encode(&with_transitions(Some(transitions()))).unwrap();
    let off = format::encode(&with_transitions(None)).unwrap();
    assert_ne!(
        format::read_header(&on).unwrap().capabilities & CAP_TRANSITIONS,
        0
    );
    assert_eq!(
        format::read_header(&off).unwrap().capabilities & CAP_TRANSITIONS,
        0
    );
    let back = format::decode(&on).unwrap();
    assert_eq!(
        back.recommenders,
        with_transitions(Some(transitions())).recommenders
    );
    assert_eq!(format::encode(&back).unwrap(), on);
    let mut a = Engine::new(back);
    let mut b = Engine::new(with_transitions(Some(transitions())));
    assert_eq!(
        after(&mut a, "s", None, &["item3"]),
        after(&mut b, "s", None, &["item3"])
    );
    // Lists that do not fit the catalogue are refused with a message, not written.
    let mut bad_item = transitions();
    bad_item.neighbors[0] = 12;
    let mut bad_weight = transitions();
    bad_weight.weights[1] = f32::NAN;
    let mut short = transitions();
    short.offsets.pop();
    for bad in [bad_item, bad_weight, short] {
        let err = format::encode(&with_transitions(Some(bad))).unwrap_err();
        assert!(err.to_string().contains("transition lists"), "{err}");
    }
}
