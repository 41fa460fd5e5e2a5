//! Replays the committed golden fixture (`tests/fixtures/golden/`) through the engine: the
//! same model bytes must give the same lists here, in the npm package and in the Worker.

use std::path::PathBuf;

use edgerec_core::Engine;
use edgerec_core::request::{
    GetPersonalizedRankingRequest, GetRecommendationsRequest, PutEventsRequest,
};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/golden")
}

#[test]
fn golden_fixture_answers() {
    let bytes =
        std::fs::read(dir().join("model-v1.erm")).expect("tests/fixtures/golden/model-v1.erm");
    let cases: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(dir().join("model-v1.expected.json")).expect("expected json"),
    )
    .expect("valid json");
    assert!(cases.len() >= 5);
    let engine = Engine::from_bytes(&bytes).expect("the golden model decodes");
    for case in &cases {
        let mut e = engine.fork();
        if let Some(ev) = case.get("events") {
            let req: PutEventsRequest = serde_json::from_value(ev.clone()).expect("events");
            e.put_events(&req).expect("putEvents");
        }
        let mut got = if case["op"] == "getPersonalizedRanking" {
            let req: GetPersonalizedRankingRequest =
                serde_json::from_value(case["request"].clone()).expect("request");
            serde_json::to_value(e.get_personalized_ranking(&req).expect("ranking")).expect("json")
        } else {
            let req: GetRecommendationsRequest =
                serde_json::from_value(case["request"].clone()).expect("request");
            serde_json::to_value(e.get_recommendations(&req).expect("recommendations"))
                .expect("json")
        };
        got.as_object_mut()
            .expect("object")
            .remove("recommendationId");
        assert_eq!(got, case["response"], "case {}", case["request"]);
    }
}
