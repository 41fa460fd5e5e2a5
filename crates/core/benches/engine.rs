//! Engine hot paths on a synthetic 100k-item × 64-dim int8 model:
//! top-25 for a known user, and PutEvents (20 events, fold-in) + top-25 for a new session.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_core::model::ServingOptions;
use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::{
    Catalog, Embedding, Engine, FactorModel, Histories, Model, PopularityModel, Recipe,
    Recommender, RecommenderModel, UserTable,
};

const ITEMS: usize = 100_000;
const USERS: usize = 1_000;
const DIM: usize = 64;

fn rng(state: &mut u64) -> f32 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
}

fn model() -> Model {
    let mut s = 7u64;
    let items: Vec<f32> = (0..ITEMS * DIM).map(|_| rng(&mut s)).collect();
    let users: Vec<f32> = (0..USERS * DIM).map(|_| rng(&mut s)).collect();
    let mut gram = vec![0.0f32; DIM * DIM];
    for row in items.chunks_exact(DIM) {
        for a in 0..DIM {
            for b in 0..DIM {
                gram[a * DIM + b] += row[a] * row[b];
            }
        }
    }
    let mut histories = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    for u in 0..USERS {
        for k in 0..50 {
            histories
                .items
                .push(((u * 7919 + k * 104_729) % ITEMS) as u32);
            histories.event_types.push(0);
            histories.timestamps.push(k as i64);
        }
        histories.offsets.push(histories.items.len() as u32);
    }
    let counts: Vec<u32> = (0..ITEMS).map(|i| (ITEMS - i) as u32).collect();
    Model {
        catalog: Catalog {
            item_ids: (0..ITEMS).map(|i| format!("item-{i}")).collect(),
            creation_time: vec![0; ITEMS],
            event_types: vec!["view".into()],
            ..Catalog::default()
        },
        users: UserTable {
            user_ids: (0..USERS).map(|u| format!("user-{u}")).collect(),
            columns: vec![],
        },
        histories,
        popularity: PopularityModel {
            ranked: (0..ITEMS as u32).collect(),
            counts,
        },
        recommenders: vec![Recommender {
            name: "recommended-for-you".into(),
            recipe: Recipe::UserPersonalization,
            event_type: None,
            serving: ServingOptions::default(),
            model: RecommenderModel::Factors(FactorModel {
                item_factors: Embedding::quantize(ITEMS, DIM, &items),
                user_factors: Embedding::quantize(USERS, DIM, &users),
                gram,
                regularization: 10.0,
                alpha: 5.0,
                event_weights: vec![1.0],
                recency_half_life: 0.0,
            }),
        }],
        ..Model::default()
    }
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

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
