//! Context learned from the demo storefront's DEVICE column: the trained model carries it, and
//! a request's device moves the recommendations towards what shoppers view on that device.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use edgerec_core::format::{self, CAP_CONTEXT};
use edgerec_core::request::GetRecommendationsRequest;
use edgerec_core::{ColumnValues, Engine, RecommenderModel};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::import::{DatasetSpec, load};
use edgerec_trainer::train::build_model;

fn demo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data/demo")
}

#[test]
fn device_context_is_learned_and_moves_the_ranking() {
    let mut spec = DatasetSpec::new(demo().join("interactions.csv"));
    spec.items = Some(demo().join("items.csv"));
    let (ds, _) = load(&spec).unwrap();
    let cfg = TrainConfig::parse("[recommenders]\nfor-you = \"user-personalization\"\n").unwrap();
    let (model, _) = build_model(&ds, &cfg, &|_, _, _| {}).unwrap();
    let RecommenderModel::Factors(fm) = &model.recommenders[0].model else {
        panic!("factors expected");
    };
    let cm = fm.context.as_ref().expect("context learned");
    assert_eq!(cm.columns[0].name, "DEVICE");
    let mut values = cm.columns[0].values.clone();
    values.sort();
    assert_eq!(values, ["desktop", "mobile", "tablet"]);
    let bytes = format::encode(&model).unwrap();
    assert_ne!(
        format::read_header(&bytes).unwrap().capabilities & CAP_CONTEXT,
        0
    );
    let engine = Engine::from_bytes(&bytes).unwrap();

    // Share of furniture / electronics / instruments (desktop categories in the generator)
    // in the top 10, over the known users, by the device in the request.
    let cat = model
        .catalog
        .columns
        .iter()
        .find(|c| c.name == "CATEGORY_L1")
        .unwrap();
    let ColumnValues::Categorical {
        dictionary,
        offsets,
        codes,
    } = &cat.values
    else {
        panic!("categorical expected");
    };
    let heavy: Vec<u32> = ["furniture", "electronics", "instruments"]
        .iter()
        .filter_map(|c| dictionary.iter().position(|d| d == c))
        .map(|p| u32::try_from(p).unwrap())
        .collect();
    let share = |device: Option<&str>| {
        let (mut hits, mut total) = (0usize, 0usize);
        for user in model.users.user_ids.iter().take(100) {
            let req = GetRecommendationsRequest {
                recommender: Some("for-you".into()),
                user_id: Some(user.to_string()),
                num_results: Some(10),
                context: device
                    .map(|d| BTreeMap::from([("DEVICE".to_owned(), d.to_owned())]))
                    .unwrap_or_default(),
                ..GetRecommendationsRequest::default()
            };
            for p in engine.get_recommendations(&req).unwrap().item_list {
                let i = engine.item_index(&p.item_id).unwrap() as usize;
                let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
                hits += usize::from(codes[a..b].iter().any(|c| heavy.contains(c)));
                total += 1;
            }
        }
        hits as f64 / total as f64
    };
    let (none, desktop, mobile) = (share(None), share(Some("desktop")), share(Some("mobile")));
    eprintln!(
        "desktop-category share of the top 10: mobile {mobile:.3}, none {none:.3}, desktop {desktop:.3}"
    );
    assert!(
        mobile < none && none < desktop,
        "desktop-category share: mobile {mobile:.3}, none {none:.3}, desktop {desktop:.3}"
    );
    assert_eq!(
        share(Some("smart-fridge")),
        none,
        "unknown values change nothing"
    );
}
