//! A tiny model built and encoded in the test, so the binding tests need no files.

#![allow(
    dead_code,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use edgerec_core::model::ServingOptions;
use edgerec_core::{
    Catalog, Column, ColumnKind, ColumnValues, Embedding, FactorModel, Histories, Model,
    PopularityModel, Recipe, Recommender, RecommenderModel, UserTable,
};
use wasm_bindgen::JsValue;

pub const N: usize = 12;

/// 12 items in two colour clusters with 2-d factors; users alice (red) and bob (blue).
pub fn model_bytes() -> Vec<u8> {
    let items: Vec<f32> = (0..N)
        .flat_map(|i| {
            if i < 6 {
                [1.0, 0.05 * i as f32]
            } else {
                [0.05 * i as f32, 1.0]
            }
        })
        .collect();
    let mut gram = vec![0.0; 4];
    for r in items.chunks(2) {
        gram[0] += r[0] * r[0];
        gram[1] += r[0] * r[1];
        gram[2] += r[1] * r[0];
        gram[3] += r[1] * r[1];
    }
    let popularity = PopularityModel {
        counts: (0..N as u32).map(|i| 100 - i).collect(),
        ranked: (0..N as u32).collect(),
    };
    let model = Model {
        catalog: Catalog {
            item_ids: (0..N).map(|i| format!("item{i:02}")).collect(),
            columns: vec![Column {
                name: "COLOR".into(),
                kind: ColumnKind::Categorical,
                values: ColumnValues::Categorical {
                    dictionary: vec!["red".into(), "blue".into()],
                    offsets: (0..=N as u32).collect(),
                    codes: (0..N as u32).map(|i| u32::from(i >= 6)).collect(),
                },
            }],
            creation_time: vec![0; N].into(),
            event_types: vec!["view".into(), "purchase".into()],
            context_columns: vec![],
        },
        users: UserTable {
            user_ids: ["alice", "bob"].into(),
            columns: vec![],
        },
        histories: Histories {
            offsets: vec![0, 1, 2],
            items: vec![0, 6],
            event_types: vec![1, 0],
            timestamps: vec![1, 2].into(),
            ..Histories::default()
        },
        popularity: popularity.clone(),
        recommenders: vec![
            Recommender {
                name: "for-you".into(),
                recipe: Recipe::UserPersonalization,
                event_type: None,
                serving: ServingOptions::default(),
                model: RecommenderModel::Factors(FactorModel {
                    item_factors: Embedding::quantize(N, 2, &items),
                    user_factors: Embedding::from_f32(2, 2, vec![1.0, 0.0, 0.0, 1.0]),
                    gram,
                    regularization: 0.1,
                    alpha: 10.0,
                    event_weights: vec![1.0, 1.0],
                    recency_half_life: 0.0,
                    content: None,
                    context: None,
                }),
            },
            Recommender {
                name: "popular".into(),
                recipe: Recipe::PopularityCount,
                event_type: None,
                serving: ServingOptions::default(),
                model: RecommenderModel::Popularity(popularity),
            },
        ],
        meta: edgerec_core::ModelMeta::default(),
    };
    edgerec_core::format::encode(&model).expect("the test model encodes")
}

pub fn json(text: &str) -> JsValue {
    js_sys::JSON::parse(text).expect("valid JSON in the test")
}

pub fn get(v: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(v, &JsValue::from_str(key)).expect("property")
}

pub fn item_ids(resp: &JsValue) -> Vec<String> {
    let list = js_sys::Array::from(&get(resp, "itemList"));
    list.iter()
        .map(|p| get(&p, "itemId").as_string().unwrap_or_default())
        .collect()
}
