#![allow(clippy::unwrap_used)]
//! The `auto` recipe: the default config trains `recommended-for-you`, a blend of its other
//! recommenders with weights learned on a validation split of the training data, that the
//! model file carries and the engine serves; an update keeps the learned weights.

use edgerec_core::request::GetRecommendationsRequest;
use edgerec_core::{Engine, Recipe, RecommenderModel};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::train::{TrainingMode, build_model, train_model};

/// 400 users in four taste groups over 80 items (20 per group), each with 20 events in time
/// order that walk through the group's items: enough users for a validation pass.
fn dataset() -> Dataset {
    let mut d = Dataset {
        item_ids: (0..80).map(|i| format!("i{i:02}")).collect(),
        event_types: vec!["view".into()],
        ..Dataset::default()
    };
    let mut state = 11u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u32::try_from(state >> 33).unwrap()
    };
    for u in 0..400u32 {
        d.user_ids.push(format!("u{u}"));
        let group = u % 4;
        let start = next() % 20;
        for k in 0..20u32 {
            // Mostly the next item of the group in turn, sometimes a random one of the group.
            let step = if next() % 4 == 0 { next() % 20 } else { k };
            d.interactions.user.push(u);
            d.interactions.item.push(group * 20 + (start + step) % 20);
            d.interactions.timestamp.push(1_000 + i64::from(k));
            d.interactions.event_type.push(0);
            d.interactions.event_value.push(1.0);
        }
    }
    d
}

fn blend(model: &edgerec_core::Model) -> &edgerec_core::model::BlendModel {
    let r = model.recommender("recommended-for-you").unwrap();
    assert_eq!(r.recipe, Recipe::Auto);
    match &r.model {
        RecommenderModel::Blend(b) => b,
        other => panic!("recommended-for-you is a blend, not {other:?}"),
    }
}

fn recommend(engine: &Engine, user: &str) -> Vec<String> {
    engine
        .get_recommendations(&GetRecommendationsRequest {
            recommender: Some("recommended-for-you".into()),
            user_id: Some(user.into()),
            num_results: Some(10),
            ..Default::default()
        })
        .unwrap()
        .item_list
        .into_iter()
        .map(|i| i.item_id)
        .collect()
}

#[test]
fn the_default_config_trains_a_learned_blend() {
    let ds = dataset();
    let cfg = TrainConfig::default_for(&ds.event_types);
    let (model, report) = build_model(&ds, &cfg, &|_, _, _| {}).unwrap();

    let auto = report.auto.as_ref().expect("a validation pass ran");
    assert!(auto.warm_cases > 0 && auto.cold_users > 0, "{auto:?}");
    assert!(auto.validation_interactions < ds.interactions.len());
    let choice = auto
        .blends
        .iter()
        .find(|b| b.name == "recommended-for-you")
        .unwrap();
    // Known users and sessions of 1, 3 and 5 events were each fitted, never below the best
    // single part.
    let fitted: Vec<usize> = choice.fits.iter().map(|f| f.events).collect();
    assert_eq!(fitted, [0, 1, 3, 5]);
    for f in &choice.fits {
        let best = f.parts.iter().copied().fold(0.0, f64::max);
        assert!(f.ndcg >= best - 1e-9, "{f:?}");
        assert!(f.weights.iter().any(|&w| w > 0.0), "{f:?}");
    }

    // The model carries the learned weights, and the parts are the model's recommenders.
    let b = blend(&model);
    let names: Vec<&str> = b
        .parts
        .iter()
        .map(|&p| model.recommenders[p as usize].name.as_str())
        .collect();
    assert_eq!(
        names,
        choice.parts.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(b.known, choice.known);
    // Factor settings were chosen on validation data and recorded in the model.
    assert!(!auto.factors.is_empty());

    // It round-trips through the file format and answers known users and sessions.
    let bytes = edgerec_core::format::encode(&model).unwrap();
    let engine = Engine::from_bytes(&bytes).unwrap();
    assert_eq!(blend(engine.model()), b);
    let known = recommend(&engine, "u0");
    assert!(!known.is_empty());
    // User u0 is in group 0 (items i00..i19) and has seen most of it: what the blend adds
    // first are the group's items u0 has not seen.
    let in_group = known.iter().take(3).filter(|i| i.as_str() < "i20").count();
    assert_eq!(in_group, known.len().min(3), "{known:?}");
    // A stranger with no events: no part has anything of its own unless popularity has a
    // weight, and the engine's popularity fallback answers.
    assert!(!recommend(&engine, "nobody").is_empty());
}

#[test]
fn an_update_keeps_the_learned_weights_and_fixed_weights_need_no_validation() {
    let ds = dataset();
    let cfg = TrainConfig::default_for(&ds.event_types);
    let (base, _) = build_model(&ds, &cfg, &|_, _, _| {}).unwrap();
    let (updated, report) =
        train_model(&ds, &cfg, TrainingMode::Update(&base), &|_, _, _| {}).unwrap();
    assert!(report.auto.is_none(), "an update runs no validation pass");
    assert_eq!(blend(&updated), blend(&base));

    let fixed = TrainConfig::parse(
        r#"
[recommenders]
a = "sims"
b = "popularity-count"

[recommenders.mix]
recipe = "auto"
parts = ["a", "b"]
known = [1.0, 0.5]
session = [[1.0], [0.25]]
"#,
    )
    .unwrap();
    let (model, report) = build_model(&ds, &fixed, &|_, _, _| {}).unwrap();
    assert!(report.auto.is_none(), "weights given: nothing to learn");
    let RecommenderModel::Blend(b) = &model.recommender("mix").unwrap().model else {
        panic!("mix is a blend");
    };
    assert_eq!(b.known, [1.0, 0.5]);
    assert_eq!(b.session, [1.0, 0.25]);
}

#[test]
fn a_blend_part_must_be_a_recommender_of_the_config() {
    let cfg = TrainConfig::parse(
        r#"
[recommenders.mix]
recipe = "auto"
parts = ["missing"]
"#,
    )
    .unwrap();
    let err = build_model(&dataset(), &cfg, &|_, _, _| {}).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}
