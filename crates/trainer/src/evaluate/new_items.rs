//! Items added after training (`evaluate --new-items FRACTION`): a share of the items loses
//! every interaction from the training data, the model is trained without them, and they are
//! added to the engine with `putItems` and their metadata, as the edge would. Then, through the
//! core:
//!
//! * **related P@10**: `getRecommendations(itemId = new item)` against the 20 items that share
//!   the most users with it in the held-out data, and (**cosine**) against the 20 items with
//!   the highest `shared users / sqrt(users_i · users_j)`, which does not favour popular items;
//! * **ranking AUC** (factor recommenders): for up to 10 known users of each new item,
//!   `getPersonalizedRanking` over the new items; the share of the other new items ranked
//!   below it (0.5 = no information, as with zero factor rows).

use std::collections::{HashMap, HashSet};

use edgerec_core::request::{GetPersonalizedRankingRequest, GetRecommendationsRequest, Item};
use edgerec_core::{ColumnKind, ColumnValues, Engine, Recipe};
use rayon::prelude::*;
use serde::Serialize;

use super::error::EvalError;
use super::protocol::{splitmix64, subset};
use crate::config::{RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;

/// Related items of a new item that count as relevant.
const RELEVANT: usize = 20;
/// Known users of a new item whose rankings are scored.
const USERS_PER_ITEM: usize = 10;
/// Items need at least this many users to be picked as new (so they have held-out neighbours).
const MIN_USERS: usize = 5;

/// One recommender's new-item numbers.
#[derive(Debug, Clone, Serialize)]
pub struct NewItemsResult {
    pub name: String,
    pub recipe: String,
    /// Mean precision@10 of related items against held-out co-interactions.
    pub related_precision_at_10: f64,
    /// The same against the top items by co-interaction cosine.
    pub related_cosine_precision_at_10: f64,
    /// Mean ranking AUC of new items among new items (factor recommenders).
    pub ranking_auc: Option<f64>,
}

/// The new-items check.
#[derive(Debug, Clone, Serialize)]
pub struct NewItemsReport {
    pub fraction: f64,
    /// Items held out of training and added with `putItems`.
    pub items: usize,
    /// (user, new item) pairs scored for the ranking AUC.
    pub ranking_pairs: usize,
    pub results: Vec<NewItemsResult>,
}

fn err(what: impl Into<String>, e: impl std::fmt::Display) -> EvalError {
    EvalError::Request {
        what: what.into(),
        message: e.to_string(),
    }
}

/// `putItems` properties of dataset item `i` for the model's columns.
fn properties(ds: &Dataset, engine: &Engine, i: usize) -> String {
    let mut map = serde_json::Map::new();
    for c in &ds.item_columns {
        if engine.model().catalog.column(&c.name).is_none() {
            continue;
        }
        let v = match (&c.values, c.kind) {
            (ColumnValues::Numeric(_), _) => c
                .numeric_value(i)
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number),
            (ColumnValues::Textual(v), _) => v.get(i).filter(|s| !s.is_empty()).map(|s| {
                let cut: String = s.chars().take(2000).collect();
                serde_json::Value::String(cut)
            }),
            (ColumnValues::Categorical { .. }, ColumnKind::Boolean) => c
                .categorical_values(i)
                .next()
                .map(|b| serde_json::Value::Bool(b == "true")),
            (ColumnValues::Categorical { .. }, _) => {
                let vals: Vec<&str> = c.categorical_values(i).collect();
                (!vals.is_empty()).then(|| serde_json::Value::String(vals.join("|")))
            }
        };
        if let Some(v) = v {
            map.insert(c.name.clone(), v);
        }
    }
    serde_json::Value::Object(map).to_string()
}

/// Runs the check for every recommender of `cfg` (an evaluation config).
pub fn evaluate(
    ds: &Dataset,
    cfg: &TrainConfig,
    fraction: f64,
) -> Result<NewItemsReport, EvalError> {
    let users_of = users_per_item(ds);
    let new = pick_new_items(ds, &users_of, fraction);
    let is_new: HashSet<usize> = new.iter().copied().collect();
    let it = &ds.interactions;
    let rows: Vec<u32> = (0..it.len())
        .filter(|&r| !is_new.contains(&(it.item[r] as usize)))
        .filter_map(|r| u32::try_from(r).ok())
        .collect();
    let engine = engine_with_new_items(ds, cfg, &rows, &new)?;
    let targets = Targets {
        relevant: held_out_neighbours(ds, &rows, &users_of, &new),
        ids: new.iter().map(|&i| ds.item_ids[i].clone()).collect(),
        pairs: ranking_pairs(ds, &engine, &users_of, &new),
    };
    let results = cfg
        .recommenders
        .iter()
        .map(|spec| targets.score(&engine, spec))
        .collect::<Result<_, _>>()?;
    Ok(NewItemsReport {
        fraction,
        items: new.len(),
        ranking_pairs: targets.pairs.len(),
        results,
    })
}

/// The distinct users of each item.
fn users_per_item(ds: &Dataset) -> Vec<HashSet<u32>> {
    let it = &ds.interactions;
    let mut users_of: Vec<HashSet<u32>> = vec![HashSet::new(); ds.item_ids.len()];
    for (&u, &i) in it.user.iter().zip(&it.item) {
        if let Some(s) = users_of.get_mut(i as usize) {
            s.insert(u);
        }
    }
    users_of
}

/// The items held out: about `fraction` of those with [`MIN_USERS`] users or more, picked by a
/// hash of their id.
fn pick_new_items(ds: &Dataset, users_of: &[HashSet<u32>], fraction: f64) -> Vec<usize> {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let cut = (fraction.clamp(0.0, 1.0) * 10_000.0) as u64;
    (0..ds.item_ids.len())
        .filter(|&i| users_of[i].len() >= MIN_USERS)
        .filter(|&i| {
            let h = ds.item_ids[i]
                .bytes()
                .fold(0u64, |h, b| splitmix64(h ^ u64::from(b)));
            h % 10_000 < cut
        })
        .collect()
}

/// The engine of a model trained on the interactions `rows` (none of a new item), with the
/// `new` items then added through `putItems`.
fn engine_with_new_items(
    ds: &Dataset,
    cfg: &TrainConfig,
    rows: &[u32],
    new: &[usize],
) -> Result<Engine, EvalError> {
    let train = subset(ds, rows);
    let (model, _) = crate::train::build_model(&train, cfg, &|_, _, _| {})?;
    let mut engine = Engine::from_bytes(&edgerec_core::format::encode(&model)?)?;
    let items: Vec<Item> = new
        .iter()
        .map(|&i| Item {
            item_id: ds.item_ids[i].clone(),
            properties: Some(properties(ds, &engine, i)),
        })
        .collect();
    for chunk in items.chunks(10) {
        engine
            .put_items(chunk)
            .map_err(|e| err("putItems of the new items", e))?;
    }
    Ok(engine)
}

/// Held-out neighbours of each new item: the [`RELEVANT`] catalogue items (of the training
/// `rows`) sharing the most users with it, and those with the highest cosine.
fn held_out_neighbours(
    ds: &Dataset,
    rows: &[u32],
    users_of: &[HashSet<u32>],
    new: &[usize],
) -> Vec<(HashSet<String>, HashSet<String>)> {
    let it = &ds.interactions;
    let mut items_of: HashMap<u32, Vec<u32>> = HashMap::new();
    for &r in rows {
        let r = r as usize;
        items_of.entry(it.user[r]).or_default().push(it.item[r]);
    }
    new.par_iter()
        .map(|&i| {
            let mut co: HashMap<u32, u32> = HashMap::new();
            for u in &users_of[i] {
                let mut seen = HashSet::new();
                for &j in items_of.get(u).into_iter().flatten() {
                    if seen.insert(j) {
                        *co.entry(j).or_default() += 1;
                    }
                }
            }
            let mut v: Vec<(u32, u32)> = co.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let id = |j: u32| ds.item_ids[j as usize].clone();
            let by_count = v.iter().take(RELEVANT).map(|&(j, _)| id(j)).collect();
            #[allow(clippy::cast_precision_loss)]
            let cosine = |&(j, c): &(u32, u32)| {
                c as f64 / ((users_of[i].len() * users_of[j as usize].len()).max(1) as f64).sqrt()
            };
            v.sort_by(|a, b| cosine(b).total_cmp(&cosine(a)).then(a.0.cmp(&b.0)));
            let by_cosine = v.iter().take(RELEVANT).map(|&(j, _)| id(j)).collect();
            (by_count, by_cosine)
        })
        .collect()
}

/// The (user, index in `new`) pairs of the ranking AUC: up to [`USERS_PER_ITEM`] users of each
/// new item that the engine knows, by user index.
fn ranking_pairs(
    ds: &Dataset,
    engine: &Engine,
    users_of: &[HashSet<u32>],
    new: &[usize],
) -> Vec<(String, usize)> {
    new.iter()
        .enumerate()
        .flat_map(|(k, &i)| {
            let mut us: Vec<u32> = users_of[i].iter().copied().collect();
            us.sort_unstable();
            us.into_iter()
                .map(|u| ds.user_ids[u as usize].clone())
                .filter(|u| engine.user_index(u).is_some())
                .take(USERS_PER_ITEM)
                .map(move |u| (u, k))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// What the new items are scored against.
struct Targets {
    /// The new items' ids.
    ids: Vec<String>,
    /// Per new item, its held-out neighbours by shared users and by cosine.
    relevant: Vec<(HashSet<String>, HashSet<String>)>,
    /// (known user, index of their new item in `ids`).
    pairs: Vec<(String, usize)>,
}

impl Targets {
    /// One recommender's numbers.
    fn score(&self, engine: &Engine, spec: &RecommenderSpec) -> Result<NewItemsResult, EvalError> {
        let precision = self.related_precision(engine, spec)?;
        let ranking_auc = if matches!(
            spec.recipe,
            Recipe::UserPersonalization | Recipe::PersonalizedRanking
        ) && self.ids.len() > 1
        {
            Some(self.ranking_auc(engine, spec)?)
        } else {
            None
        };
        Ok(NewItemsResult {
            name: spec.name.clone(),
            recipe: spec.recipe.name().to_owned(),
            related_precision_at_10: mean(&precision.iter().map(|p| p.0).collect::<Vec<_>>()),
            related_cosine_precision_at_10: mean(
                &precision.iter().map(|p| p.1).collect::<Vec<_>>(),
            ),
            ranking_auc,
        })
    }

    /// Per new item, precision@10 of its related items against both neighbour sets.
    fn related_precision(
        &self,
        engine: &Engine,
        spec: &RecommenderSpec,
    ) -> Result<Vec<(f64, f64)>, EvalError> {
        self.ids
            .par_iter()
            .zip(&self.relevant)
            .map(|(id, (rel, rel_cos))| {
                let resp = engine
                    .get_recommendations(&GetRecommendationsRequest {
                        recommender: Some(spec.name.clone()),
                        item_id: Some(id.clone()),
                        num_results: Some(10),
                        ..GetRecommendationsRequest::default()
                    })
                    .map_err(|e| err(format!("related items of new item {id}"), e))?;
                let hits = |r: &HashSet<String>| {
                    #[allow(clippy::cast_precision_loss)]
                    let n = resp
                        .item_list
                        .iter()
                        .filter(|p| r.contains(&p.item_id))
                        .count() as f64;
                    n / 10.0
                };
                Ok((hits(rel), hits(rel_cos)))
            })
            .collect()
    }

    /// Mean over the pairs of the share of the other new items (the first 500) ranked below the
    /// user's own.
    fn ranking_auc(&self, engine: &Engine, spec: &RecommenderSpec) -> Result<f64, EvalError> {
        let list: Vec<String> = self.ids.iter().take(500).cloned().collect();
        let aucs: Vec<f64> = self
            .pairs
            .par_iter()
            .filter(|(_, k)| *k < list.len())
            .map(|(u, k)| {
                let resp = engine
                    .get_personalized_ranking(&GetPersonalizedRankingRequest {
                        recommender: Some(spec.name.clone()),
                        user_id: Some(u.clone()),
                        input_list: list.clone(),
                        ..GetPersonalizedRankingRequest::default()
                    })
                    .map_err(|e| err(format!("ranking for user {u}"), e))?;
                let pos = resp
                    .personalized_ranking
                    .iter()
                    .position(|p| p.item_id == list[*k])
                    .unwrap_or(list.len() - 1);
                #[allow(clippy::cast_precision_loss)]
                Ok(1.0 - pos as f64 / (list.len() - 1) as f64)
            })
            .collect::<Result<_, EvalError>>()?;
        Ok(mean(&aucs))
    }
}

fn mean(v: &[f64]) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}
