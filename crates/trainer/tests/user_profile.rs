//! User profiles on a trained storefront model (the demo data: 500 users with metadata, the
//! demo config's factor and neighbour recommenders): for every user, the model without people
//! plus that user's profile answers as the private model does — top 25 with scores, with the
//! request's context, named and ad-hoc filters over their interactions and their metadata.

#![allow(clippy::unwrap_used)]

#[path = "../../core/tests/public_model/mod.rs"]
mod public_model;

use std::path::PathBuf;

use edgerec_core::request::{GetPersonalizedRankingRequest, GetRecommendationsRequest};
use edgerec_core::{Engine, RecommenderModel, format};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::import::{DatasetSpec, load};
use edgerec_trainer::train::build_model;
use serde_json::{Value, json};

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/demo")
}

/// The answer, or the error's message (a filter naming a user column the model without people
/// lacks fails until the profile brings the column).
fn ask(e: &Engine, req: &Value) -> Value {
    let r: GetRecommendationsRequest = serde_json::from_value(req.clone()).unwrap();
    e.get_recommendations(&r).map_or_else(
        |err| json!(err.to_string()),
        |a| serde_json::to_value(a).unwrap(),
    )
}

fn rank(e: &Engine, req: &Value) -> Value {
    let r: GetPersonalizedRankingRequest = serde_json::from_value(req.clone()).unwrap();
    e.get_personalized_ranking(&r).map_or_else(
        |err| json!(err.to_string()),
        |a| serde_json::to_value(a).unwrap(),
    )
}

#[test]
fn every_demo_shopper_gets_the_private_answers_from_the_public_model() {
    let mut spec = DatasetSpec::new(demo().join("interactions.csv"));
    spec.items = Some(demo().join("items.csv"));
    spec.users = Some(demo().join("users.csv"));
    let (ds, _) = load(&spec).unwrap();
    let cfg =
        TrainConfig::parse(&std::fs::read_to_string(demo().join("edgerec.toml")).unwrap()).unwrap();
    let (model, _) = build_model(&ds, &cfg, &|_, _, _| {}).unwrap();
    let private_bytes = format::encode(&model).unwrap();
    let private = Engine::from_bytes(&private_bytes).unwrap();
    assert!(model.users.columns.len() >= 3, "user metadata is imported");
    let public_bytes =
        format::encode(&public_model::without_people(private.model(), false)).unwrap();
    let mut public = Engine::from_bytes(&public_bytes).unwrap();
    let personal: Vec<(String, bool)> = model
        .recommenders
        .iter()
        .filter_map(|r| match r.model {
            RecommenderModel::Popularity(_) => None,
            RecommenderModel::Factors(_) => Some((r.name.clone(), true)),
            RecommenderModel::Neighbors(_) | RecommenderModel::Blend(_) => {
                Some((r.name.clone(), false))
            }
        })
        .collect();
    assert!(personal.len() >= 4, "{personal:?}");
    let filters = [
        "exclude-purchased",
        r#"INCLUDE ItemID WHERE Items.CATEGORY_L1 IN ("apparel", "footwear") IF CurrentUser.GENDER IN ("F")"#,
        r#"EXCLUDE ItemID WHERE Items.PRICE > 50 IF CurrentUser.AGE < 35"#,
        r#"INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("View")"#,
    ];
    let inputs: Vec<String> = model
        .catalog
        .item_ids
        .iter()
        .take(60)
        .map(str::to_owned)
        .collect();
    let users: Vec<String> = model.users.user_ids.iter().map(str::to_owned).collect();
    assert_eq!(users.len(), 500);
    let mut differed = 0;
    for (k, u) in users.iter().enumerate() {
        let mut requests = Vec::new();
        for (rec, factors) in &personal {
            let base = json!({"recommender": rec, "userId": u, "numResults": 25,
                              "recommendationId": "rid", "context": {"DEVICE": "mobile"}});
            requests.push((base.clone(), false));
            if k % 5 == 0 {
                for f in filters {
                    let mut r = base.clone();
                    r["filter"] = json!(f);
                    requests.push((r, false));
                }
                if *factors {
                    requests.push((
                        json!({"recommender": rec, "userId": u, "inputList": inputs, "recommendationId": "rid"}),
                        true,
                    ));
                }
            }
        }
        let answer = |e: &Engine| -> Vec<Value> {
            requests
                .iter()
                .map(|(r, ranking)| if *ranking { rank(e, r) } else { ask(e, r) })
                .collect()
        };
        let want = answer(&private);
        assert!(want.iter().all(|w| w.is_object()), "{want:?}");
        if answer(&public) != want {
            differed += 1;
        }
        let bytes = private.user_profile(u).unwrap();
        assert_eq!(public.load_user_profile(&bytes).unwrap(), *u);
        let got = answer(&public);
        for ((g, w), (r, _)) in got.iter().zip(&want).zip(&requests) {
            assert_eq!(g, w, "{r}");
        }
    }
    assert!(
        differed > 450,
        "only {differed} shoppers differed before loading"
    );
}
