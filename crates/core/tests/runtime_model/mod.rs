//! A small hand-built model shared by the outbox, sessions and records tests: 12 items in two
//! colour clusters with 2-d factors, two known users, a factor, a neighbour and a popularity
//! recommender.

#![allow(
    dead_code,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use edgerec_core::model::ServingOptions;
use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::{
    Catalog, Column, ColumnKind, ColumnValues, Embedding, FactorModel, Histories, Model,
    NeighborModel, PopularityModel, Recipe, Recommender, RecommenderModel, UserTable,
};

pub const N: usize = 12;

pub fn model() -> Model {
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
    let factors = FactorModel {
        item_factors: Embedding::quantize(N, 2, &items),
        user_factors: Embedding::from_f32(2, 2, vec![1.0, 0.0, 0.0, 1.0]),
        gram,
        regularization: 0.1,
        alpha: 10.0,
        event_weights: vec![1.0, 1.0],
        recency_half_life: 0.0,
        content: None,
        context: None,
    };
    let mut nb = NeighborModel {
        offsets: vec![0],
        ..NeighborModel::default()
    };
    for i in 0..N as u32 {
        let base = if i < 6 { 0 } else { 6 };
        for j in base..base + 6 {
            if j != i {
                nb.neighbors.push(j);
                nb.weights.push(1.0 / (1.0 + (i as f32 - j as f32).abs()));
            }
        }
        nb.offsets.push(nb.neighbors.len() as u32);
    }
    let rec = |name: &str, recipe, model| Recommender {
        name: name.into(),
        recipe,
        event_type: None,
        serving: ServingOptions::default(),
        model,
    };
    let popularity = PopularityModel {
        counts: (0..N as u32).map(|i| 100 - i).collect(),
        ranked: (0..N as u32).collect(),
    };
    Model {
        catalog: Catalog {
            item_ids: (0..N).map(|i| format!("item{i}")).collect(),
            columns: vec![
                Column {
                    name: "COLOR".into(),
                    kind: ColumnKind::Categorical,
                    values: ColumnValues::Categorical {
                        dictionary: vec!["red".into(), "blue".into()],
                        offsets: (0..=N as u32).collect(),
                        codes: (0..N as u32).map(|i| u32::from(i >= 6)).collect(),
                    },
                },
                Column {
                    name: "PRICE".into(),
                    kind: ColumnKind::Numeric,
                    values: ColumnValues::Numeric((0..N).map(|i| i as f64).collect()),
                },
            ],
            creation_time: vec![0; N].into(),
            event_types: vec!["view".into(), "purchase".into()],
            context_columns: vec![],
        },
        users: UserTable {
            user_ids: ["alice", "bob"].into(),
            columns: vec![Column {
                name: "TIER".into(),
                kind: ColumnKind::Categorical,
                values: ColumnValues::Categorical {
                    dictionary: vec!["gold".into()],
                    offsets: vec![0, 1, 1],
                    codes: vec![0],
                },
            }],
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
            rec(
                "for-you",
                Recipe::UserPersonalization,
                RecommenderModel::Factors(factors),
            ),
            rec("related", Recipe::Sims, RecommenderModel::Neighbors(nb)),
            rec(
                "popular",
                Recipe::PopularityCount,
                RecommenderModel::Popularity(popularity),
            ),
        ],
        meta: edgerec_core::ModelMeta::default(),
    }
}

pub fn events(session: &str, user: Option<&str>, items: &[&str]) -> PutEventsRequest {
    PutEventsRequest {
        session_id: session.into(),
        user_id: user.map(Into::into),
        event_list: items
            .iter()
            .enumerate()
            .map(|(k, i)| Event {
                event_type: "view".into(),
                item_id: Some((*i).into()),
                sent_at: k as f64,
                ..Event::default()
            })
            .collect(),
        ..PutEventsRequest::default()
    }
}

pub fn recs(rec: &str, user: &str, n: u32) -> GetRecommendationsRequest {
    GetRecommendationsRequest {
        recommender: Some(rec.into()),
        user_id: Some(user.into()),
        num_results: Some(n),
        ..GetRecommendationsRequest::default()
    }
}

pub fn ids(resp: &edgerec_core::GetRecommendationsResponse) -> Vec<String> {
    resp.item_list.iter().map(|p| p.item_id.clone()).collect()
}
