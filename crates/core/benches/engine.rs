//! Engine hot paths on a synthetic 100k-item × 64-dim int8 model:
//! top-25 for a known user, and PutEvents (20 events, fold-in) + top-25 for a new session;
//! and what exploration (`explorationWeight` 0.3) and a request `context` add to top-25.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_core::model::{ContextColumn, ContextModel, Exploration};
use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::{Engine, Model, RecommenderModel};

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

criterion_group!(engine_benches, benches, extension_benches);
criterion_main!(engine_benches);
