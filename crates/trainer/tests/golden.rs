#![allow(clippy::unwrap_used)]
//! The golden fixture: a tiny model trained from a fixed dataset, committed with the answers
//! the engine gives. This test checks that training is byte-for-byte reproducible and that the
//! committed answers still hold; the core, npm and Worker tests read the same files.
//!
//! Regenerate (after an intended change) with `EDGEREC_UPDATE_GOLDEN=1 cargo test -p edgerec-trainer --test golden`.

use std::path::PathBuf;

use edgerec_core::request::{
    GetPersonalizedRankingRequest, GetRecommendationsRequest, PutEventsRequest,
};
use edgerec_core::{Column, ColumnKind, ColumnValues, Engine};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::{Dataset, Interactions};
use edgerec_trainer::train::build_model;
use serde_json::{Value, json};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden")
}

/// 60 users in three taste groups over 30 items in three categories, deterministic.
fn dataset() -> Dataset {
    let mut it = Interactions::default();
    let mut state = 2024u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    for u in 0..60u32 {
        let group = u % 3;
        for k in 0..12u32 {
            let item = if next() % 5 == 0 {
                next() % 30
            } else {
                group * 10 + next() % 10
            };
            it.user.push(u);
            it.item.push(item);
            it.timestamp
                .push(1_700_000_000 + i64::from(u) * 1000 + i64::from(k) * 10);
            it.event_type.push(u16::from(k % 4 == 3));
            it.event_value.push(f32::NAN);
        }
    }
    let categories = ["books", "garden", "toys"];
    Dataset {
        name: "golden".into(),
        user_ids: (0..60).map(|u| format!("u{u}")).collect(),
        item_ids: (0..30).map(|i| format!("i{i:02}")).collect(),
        event_types: vec!["view".into(), "purchase".into()],
        interactions: it,
        item_columns: vec![
            Column {
                name: "CATEGORY".into(),
                kind: ColumnKind::Categorical,
                values: ColumnValues::Categorical {
                    dictionary: categories.iter().map(|s| (*s).to_owned()).collect(),
                    offsets: (0..=30).collect(),
                    codes: (0..30).map(|i| i / 10).collect(),
                },
            },
            Column {
                name: "PRICE".into(),
                kind: ColumnKind::Numeric,
                values: ColumnValues::Numeric((0..30).map(|i| 5.0 + f64::from(i) * 1.5).collect()),
            },
        ],
        item_creation: vec![None; 30],
        user_columns: vec![],
    }
}

const CONFIG: &str = r#"
[model]
embedding = "int8"
# The fixture predates the k-anonymity floor; it keeps every pair, so the models stay those
# the older formats' fixtures hold (the floor is tested in tests/privacy.rs).
publicMinUsers = 1
[recommenders]
recommended-for-you = "user-personalization (factors=8, iterations=10, regularization=1.0, alpha=10.0, content=false)"
ranking = "personalized-ranking (factors=8, iterations=10, regularization=1.0, alpha=10.0, content=false)"
also-viewed = "sims (minCointeractionCount=1)"
best-sellers = "popularity-count (eventType=purchase)"
"#;

/// The requests the fixture answers (also replayed by the npm and Worker tests).
fn cases() -> Vec<Value> {
    vec![
        json!({"op": "getRecommendations", "request": {"recommender": "recommended-for-you", "userId": "u1", "numResults": 5}}),
        json!({"op": "getRecommendations", "request": {"recommender": "recommended-for-you", "userId": "stranger", "numResults": 5}}),
        json!({"op": "getRecommendations", "request": {"recommender": "also-viewed", "itemId": "i03", "numResults": 5}}),
        json!({"op": "getRecommendations", "request": {"recommender": "best-sellers", "numResults": 5, "metadataColumns": {"ITEMS": ["CATEGORY", "PRICE"]}}}),
        json!({"op": "getPersonalizedRanking", "request": {"recommender": "ranking", "userId": "u2", "inputList": ["i01", "i15", "i25", "nope"]}}),
        json!({"op": "putEvents+getRecommendations", "events": {"sessionId": "s-1", "eventList": [
            {"eventType": "view", "itemId": "i21", "sentAt": 1}, {"eventType": "view", "itemId": "i22", "sentAt": 2}, {"eventType": "purchase", "itemId": "i23", "sentAt": 3}]},
          "request": {"recommender": "recommended-for-you", "userId": "s-1", "numResults": 5}}),
    ]
}

fn answer(engine: &Engine, case: &Value) -> Value {
    let mut e = engine.fork();
    let op = case["op"].as_str().unwrap();
    if let Some(ev) = case.get("events") {
        let req: PutEventsRequest = serde_json::from_value(ev.clone()).unwrap();
        e.put_events(&req).unwrap();
    }
    let mut resp = if op == "getPersonalizedRanking" {
        let req: GetPersonalizedRankingRequest =
            serde_json::from_value(case["request"].clone()).unwrap();
        serde_json::to_value(e.get_personalized_ranking(&req).unwrap()).unwrap()
    } else {
        let req: GetRecommendationsRequest =
            serde_json::from_value(case["request"].clone()).unwrap();
        serde_json::to_value(e.get_recommendations(&req).unwrap()).unwrap()
    };
    // recommendationId is an opaque per-request token; the lists are what must agree.
    resp.as_object_mut().unwrap().remove("recommendationId");
    resp
}

#[test]
fn golden_fixture_is_reproducible_and_answers_hold() {
    let cfg = TrainConfig::parse(CONFIG).unwrap();
    let (mut model, _) = build_model(&dataset(), &cfg, &|_, _, _| {}).unwrap();
    model.meta.created_at = 0;
    model.meta.version = 1;
    let bytes = edgerec_core::format::encode(&model).unwrap();
    let engine = Engine::from_bytes(&bytes).unwrap();
    let expected: Vec<Value> = cases()
        .into_iter()
        .map(|c| {
            let response = answer(&engine, &c);
            let mut c = c;
            c["response"] = response;
            c
        })
        .collect();
    // Sanity: the personalised lists are not the popularity list, and the session moved the answer.
    assert_ne!(expected[0]["response"], expected[1]["response"]);
    let session_items: Vec<&str> = expected[5]["response"]["itemList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["itemId"].as_str().unwrap())
        .collect();
    assert!(
        session_items
            .iter()
            .filter(|i| i[1..].parse::<u32>().unwrap() >= 20)
            .count()
            >= 3,
        "a session in the toys group should get mostly toys: {session_items:?}"
    );
    let model_path = dir().join("model-v1.erm");
    let expected_path = dir().join("model-v1.expected.json");
    let expected_json = serde_json::to_string_pretty(&Value::Array(expected)).unwrap() + "\n";
    if std::env::var_os("EDGEREC_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(dir()).unwrap();
        std::fs::write(&model_path, &bytes).unwrap();
        std::fs::write(&expected_path, &expected_json).unwrap();
        return;
    }
    let committed =
        std::fs::read(&model_path).expect("golden model missing: run with EDGEREC_UPDATE_GOLDEN=1");
    assert!(
        committed == bytes,
        "training the golden dataset no longer reproduces tests/fixtures/golden/model-v1.erm byte for byte"
    );
    let committed_json = std::fs::read_to_string(&expected_path).unwrap();
    assert_eq!(
        committed_json, expected_json,
        "the engine's answers changed"
    );
}
