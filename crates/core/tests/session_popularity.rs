#![allow(clippy::unwrap_used)]
//! The neighbour models' short-session popularity prior (`session_popularity`): a session of
//! `n` items, or one item's related items, adds `session_popularity / n · count / max count`
//! to each neighbour; it is stored behind `CAP_SESSION_POPULARITY` and only when on.

mod runtime_model;

#[cfg(feature = "write")]
use edgerec_core::format::{self, CAP_SESSION_POPULARITY};
use edgerec_core::request::GetRecommendationsRequest;
use edgerec_core::{Engine, Model, PopularityModel, RecommenderModel};
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
