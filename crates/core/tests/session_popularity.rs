#![allow(clippy::unwrap_used)]
//! The neighbour models' short-session popularity prior (`session_popularity`): a session of
//! `n` items, or one item's related items, adds `session_popularity / n · count / max count`
//! to each neighbour; it is stored behind `CAP_SESSION_POPULARITY` and only when on. With a
//! popularity timeline (`CAP_POPULARITY_TIMELINE`) the counts are those decayed to the
//! session's time.

mod runtime_model;

#[cfg(feature = "write")]
use edgerec_core::format::{self, CAP_POPULARITY_TIMELINE, CAP_SESSION_POPULARITY};
use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::{Engine, Model, PopularityModel, PopularityTimeline, RecommenderModel};
use runtime_model::{events, ids, model, recs};

/// The shared model with item 5 far more popular than the rest and the neighbour
/// recommender's prior set to `prior`.
fn with_prior(prior: f32) -> Model {
    let mut m = model();
    let counts: Vec<u32> = (0..runtime_model::N)
        .map(|i| if i == 5 { 1000 } else { 10 })
        .collect();
    let mut ranked: Vec<u32> = (0..runtime_model::N as u32).collect();
    ranked.sort_by_key(|&i| (std::cmp::Reverse(counts[i as usize]), i));
    m.popularity = PopularityModel { counts, ranked };
    for r in &mut m.recommenders {
        if let RecommenderModel::Neighbors(n) = &mut r.model {
            n.session_popularity = prior;
        }
    }
    m
}

fn related(e: &Engine, item: &str) -> Vec<String> {
    ids(&e
        .get_recommendations(&GetRecommendationsRequest {
            recommender: Some("related".into()),
            item_id: Some(item.into()),
            num_results: Some(5),
            ..GetRecommendationsRequest::default()
        })
        .unwrap())
}

fn session(e: &mut Engine, id: &str, items: &[&str]) -> Vec<String> {
    e.put_events(&events(id, None, items)).unwrap();
    ids(&e.get_recommendations(&recs("related", id, 10)).unwrap())
}

fn position(list: &[String], item: &str) -> usize {
    list.iter().position(|x| x == item).unwrap()
}

#[test]
fn the_prior_lifts_popular_neighbours_of_short_sessions_and_fades_with_length() {
    // Item 3's neighbours weigh 1 / (1 + |3 - j|): 2 and 4 first, then 1 and 5, then 0.
    let mut off = Engine::new(with_prior(0.0));
    assert_eq!(
        related(&off, "item3"),
        ["item2", "item4", "item1", "item5", "item0"]
    );
    let mut on = Engine::new(with_prior(0.4));
    // 1/3 + 0.4 for the popular item 5 against 1/2 + 0.004 for item 2.
    assert_eq!(
        related(&on, "item3"),
        ["item5", "item2", "item4", "item1", "item0"]
    );
    // A one-item session is scored like the item's related items.
    assert_eq!(
        session(&mut on, "s1", &["item3"])[..5],
        related(&on, "item3")[..]
    );
    assert_eq!(
        session(&mut off, "s1", &["item3"])[..5],
        related(&off, "item3")[..]
    );
    // Five items: the prior is a fifth as large and item 2 is back ahead of item 5.
    let long = ["item3", "item6", "item7", "item8", "item9"];
    let long_on = session(&mut on, "s5", &long);
    assert!(
        position(&long_on, "item2") < position(&long_on, "item5"),
        "{long_on:?}"
    );
}

#[cfg(feature = "write")]
#[test]
fn the_prior_is_stored_only_when_on() {
    let off = format::encode(&with_prior(0.0)).unwrap();
    let on = format::encode(&with_prior(0.4)).unwrap();
    assert_eq!(
        format::read_header(&off).unwrap().capabilities & CAP_SESSION_POPULARITY,
        0
    );
    assert_ne!(
        format::read_header(&on).unwrap().capabilities & CAP_SESSION_POPULARITY,
        0
    );
    let back = format::decode(&on).unwrap();
    assert_eq!(back.recommenders, with_prior(0.4).recommenders);
    assert_eq!(format::encode(&back).unwrap(), on);
    // Without the prior the neighbour model keeps its earlier encoding: only the prior's
    // bytes differ.
    assert_eq!(
        format::decode(&off).unwrap().recommenders,
        with_prior(0.0).recommenders
    );
    assert!(on.len() > off.len());
}

/// The prior at 0.4 with a timeline (bins of 100 s from t = 1000, decay over 100 s): every
/// item has 10 users in bins 0 and 10, except item 5 with 1000 in bin 0 (popular early) and
/// item 1 with 1000 in bin 10 (popular late).
fn with_timeline() -> Model {
    let mut m = with_prior(0.4);
    let n = runtime_model::N;
    let (mut offsets, mut bins, mut counts) = (vec![0], Vec::new(), Vec::new());
    for i in 0..n {
        bins.extend([0, 10]);
        counts.extend(match i {
            5 => [1000, 10],
            1 => [10, 1000],
            _ => [10, 10],
        });
        offsets.push(bins.len() as u32);
    }
    let t = PopularityTimeline::new(1000.0, 100.0, 100.0, offsets, bins, counts);
    for r in &mut m.recommenders {
        if let RecommenderModel::Neighbors(nm) = &mut r.model {
            nm.timeline = Some(Box::new(t.clone()));
        }
    }
    m
}

/// The top 5 after a one-event session on item 3 sent at `at`.
fn session_at(e: &mut Engine, id: &str, at: f64) -> Vec<String> {
    e.put_events(&PutEventsRequest {
        session_id: id.into(),
        event_list: vec![Event {
            event_type: "view".into(),
            item_id: Some("item3".into()),
            sent_at: at,
            ..Event::default()
        }],
        ..PutEventsRequest::default()
    })
    .unwrap();
    ids(&e.get_recommendations(&recs("related", id, 5)).unwrap())
}

#[test]
fn a_timeline_makes_the_prior_the_popularity_as_of_the_session() {
    let mut e = Engine::new(with_timeline());
    // Early on item 5 is the popular one, later item 1 (1/3 + 0.4 against 1/2 + 0.004).
    assert_eq!(
        session_at(&mut e, "early", 1050.0),
        ["item5", "item2", "item4", "item1", "item0"]
    );
    assert_eq!(
        session_at(&mut e, "late", 2050.0),
        ["item1", "item2", "item4", "item5", "item0"]
    );
    // Related items have no session: popularity as of the end of the data (bin 11).
    assert_eq!(
        related(&e, "item3"),
        ["item1", "item2", "item4", "item5", "item0"]
    );
    // Long after the data the ranking is the end's: every count decays alike.
    assert_eq!(
        session_at(&mut e, "later", 1.0e9),
        ["item1", "item2", "item4", "item5", "item0"]
    );
    // Before the first bin nothing was popular yet: no prior.
    assert_eq!(
        session_at(&mut e, "before", 500.0),
        ["item2", "item4", "item1", "item5", "item0"]
    );
}

#[test]
fn timeline_counts_decay_and_ignore_the_future() {
    let t = PopularityTimeline::new(0.0, 10.0, 20.0, vec![0, 2, 3], vec![0, 3, 5], vec![4, 2, 7]);
    let at = |x: f64| t.counts_at(x);
    // t = 35 is in bin 3: bin 0 is 3 bins (30 s) old, bin 3 current, bin 5 in the future.
    let c = at(35.0);
    let item0 = 4.0 * (-1.5f32).exp() + 2.0;
    assert!((c[0] - item0).abs() < 1e-5, "{c:?}");
    assert_eq!(c[1], 0.0);
    // The peak over items as of a bin, derived once when the timeline is built.
    assert!((t.at(35.0).unwrap().peak() - item0).abs() < 1e-5);
    assert!((t.at(15.0).unwrap().peak() - 4.0 * (-0.5f32).exp()).abs() < 1e-5);
    let late = t.at(55.0).unwrap();
    assert!((late.count(1) - 7.0).abs() < 1e-6);
    assert!(
        (late.peak() - 7.0).abs() < 1e-6,
        "item 1 is the most popular by then"
    );
    // Far later: the last bin's counts (the proportions of any later time).
    assert_eq!(at(1.0e12), at(55.0));
    assert!(t.at(-1.0).is_none());
    assert!(t.at(f64::NAN).is_none());
    assert_eq!(at(-1.0), [0.0, 0.0]);
    assert_eq!(t.end(), 60.0);
    // Deserialised, it derives the same tables (they are not serialised).
    let json = serde_json::to_string(&t).unwrap();
    assert!(!json.contains("peaks"), "{json}");
    let back: PopularityTimeline = serde_json::from_str(&json).unwrap();
    assert_eq!(back, t);
    assert_eq!(back.at(35.0).unwrap().peak(), t.at(35.0).unwrap().peak());
    assert!(t.is_consistent(2));
    assert!(!t.is_consistent(3));
    let unsorted =
        PopularityTimeline::new(0.0, 10.0, 20.0, vec![0, 2, 3], vec![3, 0, 5], vec![4, 2, 7]);
    assert!(!unsorted.is_consistent(2));
    let empty_bin =
        PopularityTimeline::new(0.0, 10.0, 20.0, vec![0, 2, 3], vec![0, 3, 5], vec![4, 0, 7]);
    assert!(!empty_bin.is_consistent(2));
    // Inconsistent parts are refused by the check, never a panic when building.
    let broken = PopularityTimeline::new(0.0, 0.0, -1.0, vec![0, 9], vec![1], vec![]);
    assert!(!broken.is_consistent(1));
    assert!(broken.at(5.0).is_none());
}

#[cfg(feature = "write")]
#[test]
fn the_timeline_is_stored_behind_its_capability_and_round_trips() {
    let m = with_timeline();
    let bytes = format::encode(&m).unwrap();
    let caps = format::read_header(&bytes).unwrap().capabilities;
    assert_ne!(caps & CAP_POPULARITY_TIMELINE, 0);
    assert_ne!(caps & CAP_SESSION_POPULARITY, 0);
    let back = format::decode(&bytes).unwrap();
    assert_eq!(back.recommenders, m.recommenders);
    assert_eq!(format::encode(&back).unwrap(), bytes);
    let plain = format::encode(&with_prior(0.4)).unwrap();
    assert_eq!(
        format::read_header(&plain).unwrap().capabilities & CAP_POPULARITY_TIMELINE,
        0
    );
    // A timeline without the prior is refused, not dropped.
    let mut off = with_timeline();
    for r in &mut off.recommenders {
        if let RecommenderModel::Neighbors(nm) = &mut r.model {
            nm.session_popularity = 0.0;
        }
    }
    let err = format::encode(&off).unwrap_err().to_string();
    assert!(err.contains("timeline"), "{err}");
}
