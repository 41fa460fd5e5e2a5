#![allow(clippy::unwrap_used)]
//! `popularity-count` with `lookbackDays`: only the most recent interactions count, so an item
//! that took off lately leads the list ("trending now") while the all-time count still ranks the
//! long-time favourites first.

use edgerec_core::Engine;
use edgerec_core::request::GetRecommendationsRequest;
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::{Dataset, Interactions};
use edgerec_trainer::train::build_model;

const DAY: i64 = 86_400;
const START: i64 = 1_700_000_000;

/// 40 users over 30 days: items 0–4 are viewed by everyone early on; item 9 only by 15 users in
/// the last two days; items 5–8 now and then.
fn dataset() -> Dataset {
    let mut it = Interactions::default();
    let mut push = |user: u32, item: u32, ts: i64| {
        it.user.push(user);
        it.item.push(item);
        it.timestamp.push(ts);
        it.event_type.push(0);
        it.event_value.push(f32::NAN);
    };
    for u in 0..40u32 {
        for item in 0..5u32 {
            push(u, item, START + i64::from(u) * 3600 + i64::from(item));
        }
        push(u, 5 + u % 4, START + 10 * DAY + i64::from(u) * 3600);
    }
    for u in 0..15u32 {
        push(u, 9, START + 28 * DAY + i64::from(u) * 3600);
    }
    // One late interaction with an old favourite, so the last two days are not item 9 alone.
    push(39, 0, START + 29 * DAY);
    Dataset {
        name: "lookback".into(),
        user_ids: (0..40).map(|u| format!("u{u}")).collect(),
        item_ids: (0..10).map(|i| format!("i{i}")).collect(),
        event_types: vec!["view".into()],
        interactions: it,
        item_columns: vec![],
        item_creation: vec![None; 10],
        user_columns: vec![],
    }
}

fn top(engine: &Engine, recommender: &str) -> Vec<String> {
    let req: GetRecommendationsRequest = serde_json::from_value(serde_json::json!({
        "recommender": recommender, "numResults": 3
    }))
    .unwrap();
    let resp = serde_json::to_value(engine.fork().get_recommendations(&req).unwrap()).unwrap();
    resp["itemList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["itemId"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn lookback_days_counts_only_recent_interactions() {
    let cfg = TrainConfig::parse(
        // A handful of users per item: no k-anonymity floor here (tests/privacy.rs covers it).
        r#"
[model]
publicMinUsers = 1
[recommenders]
most-viewed = "popularity-count (eventType=view)"
trending-now = "popularity-count (eventType=view, lookbackDays=7)"
"#,
    )
    .unwrap();
    let (model, _) = build_model(&dataset(), &cfg, &|_, _, _| {}).unwrap();
    let bytes = edgerec_core::format::encode(&model).unwrap();
    let engine = Engine::from_bytes(&bytes).unwrap();
    let all_time = top(&engine, "most-viewed");
    let trending = top(&engine, "trending-now");
    assert!(!all_time.contains(&"i9".to_owned()), "{all_time:?}");
    assert_eq!(
        trending,
        ["i9", "i0"],
        "only i9 and i0 were seen in the last week"
    );
}

#[test]
fn lookback_days_must_be_a_non_negative_number() {
    for bad in ["lookbackDays=-1", "lookbackDays=week", "lookbackDay=7"] {
        let cfg = TrainConfig::parse(&format!(
            "[recommenders]\ntrending = \"popularity-count ({bad})\"\n"
        ))
        .unwrap();
        let err = build_model(&dataset(), &cfg, &|_, _, _| {})
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("trending"), "{bad}: {err}");
    }
}
