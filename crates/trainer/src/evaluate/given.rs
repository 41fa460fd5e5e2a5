//! A model trained elsewhere, on the protocol's split A: [`write_split_a`] writes split A's
//! training interactions, so that an outside engine (a Spark job, ...) trains on exactly them,
//! and [`evaluate_model`] scores each recommender of the model it made on split A's test
//! cases through `core::Engine`, as [`super::run`] scores the models it trains. Split B needs
//! a model of each cold-user split and is not scored here.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edgerec_core::{Engine, Model, Profile, Recipe};

use super::error::EvalError;
use super::protocol::{ColdCounts, Protocol, WarmSplit};
use super::results::RecipeResult;
use super::run::{EvalOptions, EvalReport, ModelBytes, item_users};
use super::scoring::{segment_metrics, warm, warm_replayed};
use crate::dataset::Dataset;
use crate::progress::{Progress, Unit};

/// Split A (or, with `opts.validation`, its validation split) of `ds` under `opts`' rules.
#[must_use]
pub fn split_a(ds: &Dataset, opts: &EvalOptions) -> WarmSplit {
    let protocol = Protocol::with_ids(ds, opts.min_event_value, opts.ids);
    if opts.validation {
        protocol.split_a_validation()
    } else {
        protocol.split_a()
    }
}

/// What [`write_split_a`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenSplit {
    pub path: PathBuf,
    pub interactions: usize,
    pub users: usize,
    pub test_users: usize,
}

/// Writes split A's training interactions into `dir/interactions.csv` as Personalize
/// columns (`USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE`; an absent value is empty).
///
/// # Errors
/// [`EvalError::Write`] when the folder or the file cannot be written.
pub fn write_split_a(
    ds: &Dataset,
    opts: &EvalOptions,
    dir: &Path,
) -> Result<WrittenSplit, EvalError> {
    let split = split_a(ds, opts);
    let path = dir.join("interactions.csv");
    let err = |message: String| EvalError::Write {
        path: path.clone(),
        message,
    };
    std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    let mut w = csv::Writer::from_path(&path).map_err(|e| err(e.to_string()))?;
    w.write_record([
        "USER_ID",
        "ITEM_ID",
        "TIMESTAMP",
        "EVENT_TYPE",
        "EVENT_VALUE",
    ])
    .map_err(|e| err(e.to_string()))?;
    let t = &split.train;
    let it = &t.interactions;
    for r in 0..it.len() {
        let value = it.event_value.get(r).copied().unwrap_or(f32::NAN);
        w.write_record([
            t.user_ids[it.user[r] as usize].as_str(),
            t.item_ids[it.item[r] as usize].as_str(),
            &it.timestamp[r].to_string(),
            t.event_types
                .get(usize::from(it.event_type[r]))
                .map_or("click", String::as_str),
            &if value.is_nan() {
                String::new()
            } else {
                value.to_string()
            },
        ])
        .map_err(|e| err(e.to_string()))?;
    }
    w.flush().map_err(|e| err(e.to_string()))?;
    Ok(WrittenSplit {
        path,
        interactions: it.len(),
        users: split.counts.train_users,
        test_users: split.test.len(),
    })
}

/// Scores every recommender of `model` on split A of `ds` (a `personalized-ranking` one is
/// the same factors as its `user-personalization` and is left out, as the protocol leaves it
/// out). The protocol's serving rules apply: each recommender excludes the user's own items
/// and explores nothing. The model is encoded and decoded first (in `opts.profile`), so the
/// engine sees the bytes the edge would. The baseline is the model's `popularity-count`
/// recommender without an event type, when it has one.
///
/// # Errors
/// When the model does not encode (or project) or a request fails.
pub fn evaluate_model(
    ds: &Dataset,
    model: &Model,
    opts: &EvalOptions,
    progress: &dyn Progress,
) -> Result<EvalReport, EvalError> {
    let t0 = Instant::now();
    let split = split_a(ds, opts);
    let mut model = model.clone();
    for r in &mut model.recommenders {
        r.serving.exclude_interacted = true;
        r.serving.exclude_event_types.clear();
        r.serving.exploration = None;
    }
    if opts.profile == Profile::Public {
        model = crate::privacy::projection::public(&model, model.meta.min_users)?;
    }
    let bytes = edgerec_core::format::encode(&model)?;
    let engine = Engine::from_bytes(&bytes)?;
    let sizes = ModelBytes::of(&bytes)?;
    let scored: Vec<(String, Recipe)> = model
        .recommenders
        .iter()
        .filter(|r| r.recipe != Recipe::PersonalizedRanking)
        .map(|r| (r.name.clone(), r.recipe))
        .collect();
    let users_of = item_users(&split.train);
    let cold_item = |id: &str| {
        users_of
            .get(id)
            .is_some_and(|&n| n < super::results::COLD_ITEM_USERS)
    };
    progress.start(
        "scoring",
        Some((split.test.len() * scored.len()) as u64),
        Unit::Count("requests"),
    );
    let catalogue = engine.model().catalog.len();
    let mut results = Vec::with_capacity(scored.len());
    for (name, recipe) in &scored {
        progress.note(name);
        let (split_a, cold_items) = match opts.profile {
            Profile::Private => warm(&engine, &split, name, catalogue, &cold_item, progress)?,
            Profile::Public => {
                warm_replayed(&engine, &split, name, catalogue, &cold_item, progress)?
            }
        };
        let segments = match recipe {
            Recipe::UserPersonalization if opts.profile == Profile::Private => {
                Some(segment_metrics(&engine, &split, name)?)
            }
            _ => None,
        };
        results.push(RecipeResult {
            name: name.clone(),
            recipe: recipe.name().to_owned(),
            split_a,
            split_b: Vec::new(),
            train_seconds: 0.0,
            model_bytes: sizes.recommenders.get(name).copied().unwrap_or(0),
            segments,
            cold_items,
        });
    }
    let baseline = model
        .recommenders
        .iter()
        .find(|r| r.recipe == Recipe::PopularityCount && r.event_type.is_none())
        .map(|r| r.name.clone())
        .unwrap_or_default();
    Ok(EvalReport {
        dataset: ds.name.clone(),
        validation: opts.validation,
        ids: opts.ids,
        profile: opts.profile,
        split_a: split.counts,
        split_b: ColdCounts::default(),
        cold_folds: 0,
        model_bytes: sizes.total,
        results,
        baseline,
        update: None,
        new_items: None,
        exploration_off: true,
        exploration: Vec::new(),
        context: Vec::new(),
        embedding_gap: Vec::new(),
        auto: None,
        seconds: t0.elapsed().as_secs_f64(),
    })
}
