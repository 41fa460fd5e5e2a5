//! Learned context: a request's `context` shifts the user's vector by the model's context
//! vectors; unknown columns and values change nothing.

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]

use std::collections::BTreeMap;

use edgerec_core::model::{ContextColumn, ServingOptions};
use edgerec_core::request::{GetPersonalizedRankingRequest, GetRecommendationsRequest};
use edgerec_core::{
    Catalog, ContextModel, Embedding, Engine, FactorModel, Histories, Model, PopularityModel,
    Recipe, Recommender, RecommenderModel, UserTable,
};

const N: usize = 8;

/// Items 0–3 along axis 0 ("mobile" items), 4–7 along axis 1 ("desktop" items); the user
/// leans slightly towards the desktop items.
fn model(context: Option<ContextModel>) -> Model {
    let items: Vec<f32> = (0..N)
        .flat_map(|i| {
            let t = 1.0 - 0.05 * (i % 4) as f32;
            if i < 4 { [t, 0.0] } else { [0.0, t] }
        })
        .collect();
    let fm = FactorModel {
        item_factors: Embedding::from_f32(N, 2, items),
        user_factors: Embedding::from_f32(1, 2, vec![0.4, 0.5]),
        gram: vec![1.0, 0.0, 0.0, 1.0],
        regularization: 0.1,
        alpha: 1.0,
        event_weights: vec![1.0],
        recency_half_life: 0.0,
        context,
        content: None,
    };
    let rec = |name: &str, recipe| Recommender {
        name: name.into(),
        recipe,
        event_type: None,
        serving: ServingOptions::default(),
        model: RecommenderModel::Factors(fm.clone()),
    };
    Model {
        catalog: Catalog {
            item_ids: (0..N).map(|i| format!("i{i}")).collect(),
            columns: vec![],
            creation_time: vec![0; N].into(),
            event_types: vec!["view".into()],
            context_columns: vec!["DEVICE".into()],
        },
        users: UserTable {
            user_ids: ["u"].into_iter().collect(),
            columns: vec![],
        },
        histories: Histories {
            offsets: vec![0, 0],
            ..Histories::default()
        },
        popularity: PopularityModel {
            counts: vec![1; N],
            ranked: (0..N as u32).collect(),
        },
        recommenders: vec![
            rec("for-you", Recipe::UserPersonalization),
            rec("ranking", Recipe::PersonalizedRanking),
        ],
        meta: edgerec_core::ModelMeta::default(),
    }
}

fn device() -> ContextModel {
    ContextModel {
        columns: vec![ContextColumn {
            name: "DEVICE".into(),
            values: vec!["mobile".into(), "desktop".into()],
            vectors: vec![0.5, -0.3, -0.2, 0.2],
        }],
    }
}

fn top(e: &Engine, ctx: &[(&str, &str)]) -> Vec<String> {
    let req = GetRecommendationsRequest {
        recommender: Some("for-you".into()),
        user_id: Some("u".into()),
        num_results: Some(4),
        context: ctx
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        ..GetRecommendationsRequest::default()
    };
    e.get_recommendations(&req)
        .unwrap()
        .item_list
        .into_iter()
        .map(|p| p.item_id)
        .collect()
}

fn desktop_items(list: &[String]) -> usize {
    list.iter()
        .filter(|id| id[1..].parse::<usize>().unwrap() >= 4)
        .count()
}

#[test]
fn context_moves_the_ranking_in_the_learned_direction() {
    let e = Engine::new(model(Some(device())));
    let none = top(&e, &[]);
    assert_eq!(desktop_items(&none), 4, "{none:?}");
    let mobile = top(&e, &[("DEVICE", "mobile")]);
    assert_eq!(desktop_items(&mobile), 0, "{mobile:?}");
    assert_eq!(
        top(&e, &[("device", "mobile")]),
        mobile,
        "column names ignore case"
    );
    assert_eq!(top(&e, &[("DEVICE", "desktop")]), none);
}

#[test]
fn unknown_context_is_a_no_op() {
    let e = Engine::new(model(Some(device())));
    let none = top(&e, &[]);
    assert_eq!(top(&e, &[("DEVICE", "television")]), none);
    assert_eq!(top(&e, &[("LOCATION", "mobile")]), none);
    // a model without context ignores every context
    let plain = Engine::new(model(None));
    assert_eq!(top(&plain, &[("DEVICE", "mobile")]), top(&plain, &[]));
    assert_eq!(top(&plain, &[]), none);
}

#[test]
fn personalized_ranking_uses_the_context() {
    let e = Engine::new(model(Some(device())));
    let rank = |ctx: BTreeMap<String, String>| -> Vec<String> {
        e.get_personalized_ranking(&GetPersonalizedRankingRequest {
            recommender: Some("ranking".into()),
            user_id: Some("u".into()),
            input_list: vec!["i0".into(), "i4".into()],
            context: ctx,
            ..GetPersonalizedRankingRequest::default()
        })
        .unwrap()
        .personalized_ranking
        .into_iter()
        .map(|p| p.item_id)
        .collect()
    };
    assert_eq!(rank(BTreeMap::new()), ["i4", "i0"]);
    let mobile = BTreeMap::from([("DEVICE".to_owned(), "mobile".to_owned())]);
    assert_eq!(rank(mobile), ["i0", "i4"]);
}

#[cfg(feature = "write")]
#[test]
fn context_round_trips_behind_its_capability_bit() {
    use edgerec_core::format;
    let m = model(Some(device()));
    let bytes = format::encode(&m).unwrap();
    assert_ne!(
        format::read_header(&bytes).unwrap().capabilities & format::CAP_CONTEXT,
        0
    );
    assert_eq!(format::decode(&bytes).unwrap(), m);
    let plain = format::encode(&model(None)).unwrap();
    assert_eq!(
        format::read_header(&plain).unwrap().capabilities & format::CAP_CONTEXT,
        0
    );
    let mut bad = model(Some(device()));
    if let RecommenderModel::Factors(f) = &mut bad.recommenders[0].model {
        f.context.as_mut().unwrap().columns[0].vectors.pop();
    }
    assert!(format::encode(&bad).is_err());
}
