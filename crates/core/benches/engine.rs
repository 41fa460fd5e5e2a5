//! Engine hot paths on a synthetic 100k-item × 64-dim int8 model:
//! top-25 for a known user, and PutEvents (20 events, fold-in) + top-25 for a new session;
//! and what exploration (`explorationWeight` 0.3) and a request `context` add to top-25;
//! and a sims session of 5 events + top-25 with its popularity prior, all-time and recent
//! (100 neighbours and 10 timeline bins per item), and recent with session neighbours (200
//! of 1,000 users with 500 items each).

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_core::model::{ContextColumn, ContextModel, Exploration, ServingOptions};
use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::session::neighbors::SessionNeighbors;
use edgerec_core::{
    Engine, Histories, Model, NeighborModel, PopularityTimeline, Recipe, Recommender,
    RecommenderModel, TransitionLists,
};

mod synthetic_model;

const ITEMS: usize = 100_000;

fn model() -> Model {
    synthetic_model::model(ITEMS)
}

fn benches(c: &mut Criterion) {
    let engine = Engine::new(model());
    if let RecommenderModel::Factors(fm) = &engine.model().recommenders[0].model {
        let q = fm.user_factors.row(3);
        c.bench_function("score_all_100k_x64_int8", |b| {
            b.iter(|| {
                let mut best = f32::MIN;
                fm.item_factors.score_all(&q, |_, s| best = best.max(s));
                best
            });
        });
    }
    let req = GetRecommendationsRequest {
        recommender: Some("recommended-for-you".into()),
        user_id: Some("user-17".into()),
        ..GetRecommendationsRequest::default()
    };
    c.bench_function("top25_known_user_100k_x64_int8", |b| {
        b.iter(|| engine.get_recommendations(&req).unwrap());
    });
    let events: Vec<Event> = (0..20)
        .map(|k| Event {
            event_type: "view".into(),
            item_id: Some(format!("item-{}", (k * 4999) % ITEMS)),
            sent_at: k as f64,
            ..Event::default()
        })
        .collect();
    let mut n = 0u64;
    c.bench_function("foldin20_plus_top25_new_session_100k_x64_int8", |b| {
        b.iter(|| {
            let mut e = engine.fork();
            n += 1;
            let session = format!("s{n}");
            for chunk in events.chunks(10) {
                e.put_events(&PutEventsRequest {
                    session_id: session.clone(),
                    event_list: chunk.to_vec(),
                    ..PutEventsRequest::default()
                })
                .unwrap();
            }
            e.get_recommendations(&GetRecommendationsRequest {
                recommender: Some("recommended-for-you".into()),
                user_id: Some(session),
                ..GetRecommendationsRequest::default()
            })
            .unwrap()
        });
    });
}

/// The same model with exploration on and a learned DEVICE context column.
fn extended_model() -> Model {
    let mut m = model();
    m.catalog.context_columns = vec!["DEVICE".into()];
    let rec = &mut m.recommenders[0];
    rec.serving.exploration = Some(Exploration::DEFAULT);
    if let RecommenderModel::Factors(fm) = &mut rec.model {
        let dim = fm.item_factors.dim();
        fm.context = Some(ContextModel {
            columns: vec![ContextColumn {
                name: "DEVICE".into(),
                values: vec!["phone".into(), "desktop".into(), "tv".into()],
                vectors: (0..3 * dim)
                    .map(|k| ((k * 37 % 101) as f32 - 50.0) / 500.0)
                    .collect(),
            }],
        });
    }
    m
}

fn extension_benches(c: &mut Criterion) {
    let engine = Engine::new(extended_model());
    let plain = GetRecommendationsRequest {
        recommender: Some("recommended-for-you".into()),
        user_id: Some("user-17".into()),
        ..GetRecommendationsRequest::default()
    };
    c.bench_function("top25_known_user_exploration_100k_x64_int8", |b| {
        b.iter(|| engine.get_recommendations(&plain).unwrap());
    });
    let with_context = GetRecommendationsRequest {
        context: [("DEVICE".to_owned(), "tv".to_owned())].into(),
        ..plain.clone()
    };
    c.bench_function("top25_known_user_exploration_context_100k_x64_int8", |b| {
        b.iter(|| engine.get_recommendations(&with_context).unwrap());
    });
}

/// The model with a sims recommender added: 100 pseudo-random neighbours per item, the
/// short-session prior on, and with `timeline` 10 bins of new users per item over 1,000 bins.
/// With `session_neighbors` the 1,000 users' histories are 500 items of the `HEAD` most
/// popular (about 250 users per item, the sessions' items among them), and sessions blend in
/// their 200 most similar users. With `transitions` every item has a transition row of 100
/// pseudo-random items too (the trainer's default size).
fn sims_model(timeline: bool, session_neighbors: bool, transitions: bool) -> Model {
    let mut m = model();
    if session_neighbors {
        m.histories = head_histories();
    }
    let mut state = 11u64;
    let mut next = move || lcg(&mut state);
    let (mut offsets, mut neighbors, mut weights) = (vec![0u32], Vec::new(), Vec::new());
    let (mut t_offsets, mut bins, mut counts) = (vec![0u32], Vec::new(), Vec::new());
    for _ in 0..ITEMS {
        for k in 0..100 {
            neighbors.push(next() % ITEMS as u32);
            weights.push(1.0 / (1.0 + k as f32));
        }
        offsets.push(neighbors.len() as u32);
        let mut b = next() % 100;
        for _ in 0..10 {
            bins.push(b);
            counts.push(1 + next() % 50);
            b += 1 + next() % 90;
        }
        t_offsets.push(bins.len() as u32);
    }
    m.recommenders.push(Recommender {
        name: "sims".into(),
        recipe: Recipe::Sims,
        event_type: None,
        serving: ServingOptions::default(),
        model: RecommenderModel::Neighbors(NeighborModel {
            session_pairs: None,
            offsets,
            neighbors,
            weights,
            history_decay: 1.0,
            session_popularity: 0.8,
            timeline: timeline.then(|| {
                Box::new(PopularityTimeline::new(
                    0.0, 3600.0, 14_400.0, t_offsets, bins, counts,
                ))
            }),
            session_neighbors: session_neighbors
                .then(|| Box::new(SessionNeighbors::new(0.5, 200, 60.0, 10.0))),
            content: None,
            transitions: transitions.then(|| {
                let mut state = 13u64;
                Box::new(TransitionLists::from_rows((0..ITEMS).map(|_| {
                    (0..100)
                        .map(|k| (lcg(&mut state) % ITEMS as u32, 0.5 / (1.0 + k as f32)))
                        .collect::<Vec<_>>()
                })))
            }),
        }),
    });
    m
}

/// The next pseudo-random number of a 64-bit linear congruential generator (its high bits).
fn lcg(state: &mut u64) -> u32 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 33) as u32
}

/// Items the session-neighbour bench's histories and sessions draw from.
const HEAD: usize = 2_000;

/// 1,000 users with 500 pseudo-random items each of the first [`HEAD`], an hour apart.
fn head_histories() -> Histories {
    let mut h = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    let mut state = 5u64;
    for _ in 0..1_000 {
        for k in 0..500i64 {
            h.items.push(lcg(&mut state) % HEAD as u32);
            h.event_types.push(0);
            h.timestamps.push(1_000_000 + k * 3_600);
        }
        h.offsets.push(h.items.len() as u32);
    }
    h
}

fn sims_benches(c: &mut Criterion) {
    for (name, timeline, neighbors, transitions) in [
        ("prior_all_time", false, false, false),
        ("prior_recent", true, false, false),
        ("prior_recent_session_neighbors", true, true, false),
        (
            "prior_recent_session_neighbors_transitions",
            true,
            true,
            true,
        ),
    ] {
        let engine = Engine::new(sims_model(timeline, neighbors, transitions));
        let items = if neighbors { HEAD } else { ITEMS } as u64;
        let mut i = 0u64;
        c.bench_function(&format!("sims_putevents5_plus_top25_{name}_100k"), |b| {
            b.iter(|| {
                i += 1;
                let mut e = engine.fork();
                let session = format!("s{i}");
                e.put_events(&PutEventsRequest {
                    session_id: session.clone(),
                    event_list: (0..5u64)
                        .map(|k| Event {
                            event_type: "view".into(),
                            item_id: Some(format!("item-{}", (i * 7 + k * 13) % items)),
                            sent_at: 1_800_000.0 + k as f64,
                            ..Event::default()
                        })
                        .collect(),
                    ..PutEventsRequest::default()
                })
                .unwrap();
                e.get_recommendations(&GetRecommendationsRequest {
                    recommender: Some("sims".into()),
                    user_id: Some(session),
                    num_results: Some(25),
                    ..GetRecommendationsRequest::default()
                })
                .unwrap()
            });
        });
    }
}

criterion_group!(engine_benches, benches, extension_benches, sims_benches);
criterion_main!(engine_benches);
