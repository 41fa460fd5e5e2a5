//! The optional measurements of an evaluation (see [`super::run::EvalOptions`]): split A with
//! the held-out event's context, with exploration on, and after an update instead of a full
//! retrain.

use std::collections::BTreeMap;

use edgerec_core::{Engine, Exploration, Recipe};
use rayon::prelude::*;

use super::error::EvalError;
use super::protocol::{ColdSplit, WarmSplit};
use super::requests::request;
use super::results::{ContextLift, ExplorationCost, RecipeResult, UpdateComparison, UpdateGap};
use super::scoring::{cold_with, warm, warm_with};
use crate::config::TrainConfig;
use crate::progress::{Prefixed, Progress, SILENT, Unit};
use crate::train;

/// Split A NDCG@10 of each user-personalization recommender with the held-out event's context
/// in the request and with a wrong one (each column's next value, cyclically).
pub(super) fn context_lift(
    cfg: &TrainConfig,
    engine: &Engine,
    split: &WarmSplit,
    results: &[RecipeResult],
    cold_engine: &Engine,
    cold_split: &ColdSplit,
    event_type: &str,
) -> Result<Vec<ContextLift>, EvalError> {
    let dictionaries: BTreeMap<&str, &[String]> = split
        .train
        .interactions
        .context
        .iter()
        .map(|c| (c.name.as_str(), c.dictionary.as_slice()))
        .collect();
    let wrong = |ctx: &[(String, String)]| -> BTreeMap<String, String> {
        ctx.iter()
            .map(|(k, v)| {
                let d = dictionaries.get(k.as_str()).copied().unwrap_or(&[]);
                let next = d
                    .iter()
                    .position(|x| x == v)
                    .and_then(|p| d.get((p + 1) % d.len()))
                    .unwrap_or(v);
                (k.clone(), next.clone())
            })
            .collect()
    };
    let catalogue = engine.model().catalog.len();
    let mut out = Vec::new();
    for spec in cfg
        .recommenders
        .iter()
        .filter(|r| r.recipe == Recipe::UserPersonalization)
    {
        let Some(none) = results.iter().find(|x| x.name == spec.name) else {
            continue;
        };
        let (test, _) = warm_with(
            engine,
            split,
            &spec.name,
            catalogue,
            &|_| false,
            |c| c.context.iter().cloned().collect(),
            SILENT,
        )?;
        let (wrong, _) = warm_with(
            engine,
            split,
            &spec.name,
            catalogue,
            &|_| false,
            |c| wrong(&c.context),
            SILENT,
        )?;
        let cold_test = cold_with(cold_engine, cold_split, &spec.name, event_type, true)?;
        out.push(ContextLift {
            cold_ndcg_at_10: none
                .split_b
                .iter()
                .zip(&cold_test)
                .map(|(a, b)| (a.session_length, a.ndcg_at_10, b.ndcg_at_10))
                .collect(),
            name: spec.name.clone(),
            cases_with_context: split.test.iter().filter(|c| !c.context.is_empty()).count(),
            ndcg_at_10_no_context: none.split_a.ndcg_at_10,
            ndcg_at_10_test_context: test.ndcg_at_10,
            ndcg_at_10_wrong_context: wrong.ndcg_at_10,
        });
    }
    Ok(out)
}

/// Scores split A again with exploration on for every user-personalization recommender (its
/// configured settings, else Personalize's defaults), on the same trained model.
pub(super) fn exploration_cost(
    configured: &TrainConfig,
    engine: &Engine,
    split: &WarmSplit,
    results: &[RecipeResult],
) -> Result<Vec<ExplorationCost>, EvalError> {
    let mut model = engine.model().clone();
    let mut out = Vec::new();
    for spec in configured
        .recommenders
        .iter()
        .filter(|r| r.recipe == Recipe::UserPersonalization)
    {
        let e = spec.exploration.unwrap_or(Exploration::DEFAULT);
        if let Some(r) = model.recommenders.iter_mut().find(|r| r.name == spec.name) {
            r.serving.exploration = Some(e);
        }
    }
    let explored = Engine::from_bytes(&edgerec_core::format::encode(&model)?)?;
    let catalogue = model.catalog.len();
    for r in &model.recommenders {
        let (Some(e), Some(off)) = (
            r.serving.exploration,
            results.iter().find(|x| x.name == r.name),
        ) else {
            continue;
        };
        let (on, _) = warm(&explored, split, &r.name, catalogue, &|_| false, SILENT)?;
        let share = explored_share(&explored, split, &r.name)?;
        out.push(ExplorationCost {
            name: r.name.clone(),
            weight: e.weight,
            item_age_cut_off_days: e.item_age_cut_off_days,
            ndcg_at_10_off: off.split_a.ndcg_at_10,
            ndcg_at_10_on: on.ndcg_at_10,
            coverage_at_10_off: off.split_a.coverage_at_10,
            coverage_at_10_on: on.coverage_at_10,
            explored_share_at_10: share,
        });
    }
    Ok(out)
}

/// Share of the top-10 slots marked `Exploration` over the split-A requests.
fn explored_share(engine: &Engine, split: &WarmSplit, name: &str) -> Result<f64, EvalError> {
    let counts: Vec<(usize, usize)> = split
        .test
        .par_iter()
        .map(|case| {
            engine
                .get_recommendations(&request(name, &case.user, 10))
                .map(|r| {
                    let x = r
                        .item_list
                        .iter()
                        .filter(|p| {
                            p.reason
                                .as_ref()
                                .is_some_and(|v| v.iter().any(|s| s == "Exploration"))
                        })
                        .count();
                    (x, r.item_list.len())
                })
                .map_err(|e| EvalError::Request {
                    what: format!("{name:?} / user {:?}", case.user),
                    message: e.to_string(),
                })
        })
        .collect::<Result<_, _>>()?;
    let (x, n) = counts.iter().fold((0, 0), |(a, b), &(x, n)| (a + x, b + n));
    #[allow(clippy::cast_precision_loss)]
    Ok(x as f64 / n.max(1) as f64)
}

/// Trains a base model on the oldest `fraction` of the split-A train interactions, updates it
/// with all of them, and scores the update on split A next to the full retrain's `results`.
pub(super) fn compare_update(
    progress: &dyn Progress,
    split: &WarmSplit,
    cfg: &TrainConfig,
    fraction: f64,
    results: &[RecipeResult],
    full: &Engine,
    full_report: &train::TrainReport,
) -> Result<UpdateComparison, EvalError> {
    let train = &split.train;
    let mut times: Vec<i64> = train.interactions.timestamp.clone();
    times.sort_unstable();
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let cut = ((times.len() as f64 * fraction.clamp(0.0, 1.0)) as usize).min(times.len());
    let cutoff = times
        .get(cut.saturating_sub(1))
        .copied()
        .unwrap_or(i64::MIN);
    let rows: Vec<u32> = train
        .interactions
        .timestamp
        .iter()
        .enumerate()
        .filter(|&(_, &t)| t <= cutoff)
        .filter_map(|(r, _)| u32::try_from(r).ok())
        .collect();
    let base_ds = super::protocol::subset(train, &rows);
    let (base, _) = train::train_model_reporting(
        &base_ds,
        cfg,
        train::TrainingMode::Full,
        &Prefixed::new(progress, "update check: base model"),
    )?;
    let base = edgerec_core::format::decode(&edgerec_core::format::encode(&base)?)?;
    let (updated, update_report) = train::train_model_reporting(
        train,
        cfg,
        train::TrainingMode::Update(&base),
        &Prefixed::new(progress, "update check: update"),
    )?;
    progress.start("update check: scoring", None, Unit::Count("steps"));
    // Both sides timed the same way: the recommenders' training times from their reports.
    let seconds = |r: &train::TrainReport| r.recommenders.iter().map(|x| x.seconds).sum::<f64>();
    let update_train_seconds = seconds(&update_report);
    let full_train_seconds = seconds(full_report);
    let engine = Engine::from_bytes(&edgerec_core::format::encode(&updated)?)?;
    let names: Vec<&str> = results.iter().map(|r| r.name.as_str()).collect();
    let ndcg_at_10 = super::embedding_gap::compare(&engine, full, split, &names)?
        .into_iter()
        .map(|g| UpdateGap {
            name: g.name,
            full: g.ndcg_at_10_f32,
            update: g.ndcg_at_10_int8,
            difference: g.difference,
            difference_se: g.difference_se,
        })
        .collect();
    Ok(UpdateComparison {
        base_fraction: fraction,
        base_interactions: rows.len(),
        full_train_seconds,
        update_train_seconds,
        ndcg_at_10,
    })
}
