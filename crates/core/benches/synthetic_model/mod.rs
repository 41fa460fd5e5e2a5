//! The synthetic benchmark model: `n` items × 64 dims int8 with random factors, 1 000 known
//! users with 50 interactions each, one user-personalization recommender. Shared by the engine
//! bench and by `crates/wasm/examples/bench_model.rs`, which writes it for the Node benchmark.

#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]

use edgerec_core::model::ServingOptions;
use edgerec_core::{
    Catalog, Embedding, FactorModel, Histories, Model, PopularityModel, Recipe, Recommender,
    RecommenderModel, UserTable,
};

pub const USERS: usize = 1_000;
pub const DIM: usize = 64;

fn rng(state: &mut u64) -> f32 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32 - 0.5
}

/// The model with `n` items (the benches use 100 000).
pub fn model(n: usize) -> Model {
    let mut s = 7u64;
    let items: Vec<f32> = (0..n * DIM).map(|_| rng(&mut s)).collect();
    let users: Vec<f32> = (0..USERS * DIM).map(|_| rng(&mut s)).collect();
    let mut gram = vec![0.0f32; DIM * DIM];
    for row in items.chunks_exact(DIM) {
        for a in 0..DIM {
            for b in 0..DIM {
                gram[a * DIM + b] += row[a] * row[b];
            }
        }
    }
    let mut histories = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    for u in 0..USERS {
        for k in 0..50 {
            histories.items.push(((u * 7919 + k * 104_729) % n) as u32);
            histories.event_types.push(0);
            histories.timestamps.push(k as i64);
        }
        histories.offsets.push(histories.items.len() as u32);
    }
    let counts: Vec<u32> = (0..n).map(|i| (n - i) as u32).collect();
    Model {
        catalog: Catalog {
            item_ids: (0..n).map(|i| format!("item-{i}")).collect(),
            creation_time: vec![0; n].into(),
            event_types: vec!["view".into()],
            ..Catalog::default()
        },
        users: UserTable {
            user_ids: (0..USERS).map(|u| format!("user-{u}")).collect(),
            columns: vec![],
        },
        histories,
        popularity: PopularityModel {
            ranked: (0..n as u32).collect(),
            counts,
        },
        recommenders: vec![Recommender {
            name: "recommended-for-you".into(),
            recipe: Recipe::UserPersonalization,
            event_type: None,
            serving: ServingOptions::default(),
            model: RecommenderModel::Factors(FactorModel {
                item_factors: Embedding::quantize(n, DIM, &items),
                user_factors: Embedding::quantize(USERS, DIM, &users),
                gram,
                regularization: 10.0,
                alpha: 5.0,
                event_weights: vec![1.0],
                recency_half_life: 0.0,
                content: None,
                context: None,
            }),
        }],
        ..Model::default()
    }
}
