#![allow(clippy::unwrap_used)]
//! Training mode UPDATE: starts from a previous model, keeps what it learned for known items
//! and users, learns new items from their interactions, and answers like a full retrain.

use edgerec_core::request::GetRecommendationsRequest;
use edgerec_core::{Engine, RecommenderModel};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::train::{TrainingMode, build_model, train_model};

/// 90 users in three taste groups over 30 items (10 per group); with `new_item`, the last
/// events of the first group's users are on item `i30`, which did not exist before.
fn dataset(new_item: bool) -> Dataset {
    let n_items = if new_item { 31 } else { 30 };
    let mut d = Dataset {
        item_ids: (0..n_items).map(|i| format!("i{i:02}")).collect(),
        event_types: vec!["view".into()],
        ..Dataset::default()
    };
    let mut state = 7u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u32::try_from(state >> 33).unwrap()
    };
    for u in 0..90u32 {
        d.user_ids.push(format!("u{u}"));
        let group = u % 3;
        let mut push = |item: u32, t: i64| {
            d.interactions.user.push(u);
            d.interactions.item.push(item);
            d.interactions.timestamp.push(t);
            d.interactions.event_type.push(0);
            d.interactions.event_value.push(1.0);
        };
        for k in 0..10i64 {
            push(group * 10 + next() % 10, 1_000 + k);
        }
        if new_item && group == 0 {
            push(30, 5_000);
        }
    }
    d
}

fn config() -> TrainConfig {
    TrainConfig::parse(
        r#"
[recommenders]
for-you = "user-personalization (factors = 8, iterations = 10)"
also = "sims"
"#,
    )
    .unwrap()
}

fn factor_row(model: &edgerec_core::Model, item: &str) -> Vec<f32> {
    let row = model
        .catalog
        .item_ids
        .iter()
        .position(|i| i == item)
        .unwrap();
    match &model.recommender("for-you").unwrap().model {
        RecommenderModel::Factors(f) => f.item_factors.row(row),
        _ => panic!("for-you is a factor recommender"),
    }
}

#[test]
fn update_learns_new_items_and_keeps_known_factors_close() {
    let cfg = config();
    let (base, _) = build_model(&dataset(false), &cfg, &|_, _, _| {}).unwrap();
    let steps = std::sync::Mutex::new(Vec::new());
    let (updated, _) = train_model(
        &dataset(true),
        &cfg,
        TrainingMode::Update(&base),
        &|name, step, total| steps.lock().unwrap().push((name.to_owned(), step, total)),
    )
    .unwrap();
    // The update ran its own (few) iterations, not the full training's ten.
    let steps = steps.into_inner().unwrap();
    assert!(
        !steps.is_empty() && steps.iter().all(|(_, _, total)| *total == 2),
        "{steps:?}"
    );

    // The new item is in the catalogue and has a learned vector.
    assert!(updated.catalog.item_ids.iter().any(|i| i == "i30"));
    let v = factor_row(&updated, "i30");
    assert!(
        v.iter().any(|x| x.abs() > 1e-3),
        "i30 has a trained vector: {v:?}"
    );

    // Known items keep roughly their direction (warm start, not a fresh random init).
    let cos = |a: &[f32], b: &[f32]| {
        let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
        let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        dot / (n(a) * n(b)).max(1e-9)
    };
    let mean_cos: f32 = (0..30)
        .map(|i| {
            let id = format!("i{i:02}");
            cos(&factor_row(&base, &id), &factor_row(&updated, &id))
        })
        .sum::<f32>()
        / 30.0;
    assert!(
        mean_cos > 0.8,
        "known items moved too far: mean cosine {mean_cos}"
    );

    // The updated model serves: a known first-group user gets first-group items.
    let engine = Engine::from_bytes(&edgerec_core::format::encode(&updated).unwrap()).unwrap();
    let r = engine
        .get_recommendations(&GetRecommendationsRequest {
            recommender: Some("for-you".into()),
            user_id: Some("u3".into()),
            num_results: Some(5),
            ..GetRecommendationsRequest::default()
        })
        .unwrap();
    let first_group = r
        .item_list
        .iter()
        .filter(|p| p.item_id.as_str() < "i10")
        .count();
    assert!(first_group >= 3, "{:?}", r.item_list);
}

#[test]
fn update_without_a_matching_recommender_trains_in_full() {
    let cfg = config();
    let (base, _) = build_model(
        &dataset(false),
        &TrainConfig::parse(
            "[recommenders]\nother = \"user-personalization (factors = 4, iterations = 3)\"\n",
        )
        .unwrap(),
        &|_, _, _| {},
    )
    .unwrap();
    let totals = std::sync::Mutex::new(Vec::new());
    train_model(
        &dataset(true),
        &cfg,
        TrainingMode::Update(&base),
        &|_, _, total| {
            totals.lock().unwrap().push(total);
        },
    )
    .unwrap();
    assert!(totals.into_inner().unwrap().iter().all(|&t| t == 10));
}
