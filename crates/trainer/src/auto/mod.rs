//! Choices made on validation data while training: the `auto` recipe (the default
//! `recommended-for-you`, a learned blend of the model's other recommenders) and the
//! hyperparameters of factor models whose config leaves them open.
//!
//! A training that needs either runs in two passes:
//!
//! 1. **Validation** ([`split`]): the trainer holds out part of its own data the way the
//!    evaluation protocol's validation does — known users' last items, and the whole histories
//!    of one bucket of users for sessions — and trains on the rest one model holding every
//!    candidate: the parts of each blend, and each factor configuration to try ([`factors`]).
//!    Every candidate scores the held-out cases through the engine, as `evaluate` does;
//!    factor models keep the best configuration, and each blend's weights are fitted on the
//!    parts' lists ([`weights`]), for known users and for sessions of each length separately,
//!    falling back to the best single part where no blend does better.
//! 2. **Final**: everything is trained from scratch on all the data with the chosen settings.
//!    (Starting from the validation model as an update was tried and dropped: the factor
//!    models it gave scored below a full training with the same settings on validation.)
//!
//! Nothing here reads anything but the training data, so a test split stays unseen.

pub mod factors;
pub mod params;
pub mod report;
pub mod score;
pub mod split;
pub mod weights;

use std::collections::BTreeMap;
use std::time::Instant;

use edgerec_core::{Engine, Model, Recipe, RecommenderModel};

use crate::config::{RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::pack;
use crate::train::error::TrainError;
use crate::train::mode::{Progress, TrainingMode};
use crate::train::report::TrainReport;

pub use params::{AutoParams, DEFAULT_PARTS, auto_params, tunable};
pub use report::AutoReport;

/// `cfg` with the parts of every `auto` recommender named in its parameters, and the parts
/// the config lacks added as recommenders of their own (`<name>/<recipe>`, defaults).
pub fn expand(cfg: &TrainConfig) -> Result<TrainConfig, TrainError> {
    let mut out = cfg.clone();
    let autos: Vec<usize> = (0..cfg.recommenders.len())
        .filter(|&k| cfg.recommenders[k].recipe == Recipe::Auto)
        .collect();
    for k in autos {
        let spec = out.recommenders[k].clone();
        let mut p = auto_params(&spec)?;
        if p.parts.is_empty() {
            for recipe in DEFAULT_PARTS {
                let existing = out.recommenders.iter().find(|r| {
                    r.recipe == recipe
                        && r.event_type == spec.event_type
                        && !(recipe == Recipe::PopularityCount
                            && r.params.contains_key("lookback_days"))
                });
                let name = match existing {
                    Some(r) => r.name.clone(),
                    None => {
                        let name = format!("{}/{}", spec.name, recipe.name());
                        out.recommenders.push(RecommenderSpec {
                            name: name.clone(),
                            recipe,
                            event_type: spec.event_type.clone(),
                            exclude_interacted: recipe != Recipe::PopularityCount,
                            exclude_event_types: Vec::new(),
                            event_weights: BTreeMap::new(),
                            params: toml::Table::new(),
                            exploration: None,
                        });
                        name
                    }
                };
                p.parts.push(name);
            }
        }
        for part in &p.parts {
            let Some(r) = out.recommenders.iter().find(|r| &r.name == part) else {
                return Err(TrainError::Recommender {
                    name: spec.name.clone(),
                    message: format!("part {part:?} is not a recommender of the config"),
                });
            };
            if r.recipe == Recipe::Auto {
                return Err(TrainError::Recommender {
                    name: spec.name.clone(),
                    message: format!("part {part:?} is itself an auto recommender"),
                });
            }
        }
        if !p.known.is_empty() && p.known.len() != p.parts.len()
            || !p.session.is_empty() && p.session.len() != p.parts.len()
        {
            return Err(TrainError::Recommender {
                name: spec.name.clone(),
                message: format!(
                    "known and session need one weight entry per part ({} parts)",
                    p.parts.len()
                ),
            });
        }
        out.recommenders[k].params = p.to_table();
    }
    Ok(out)
}

/// Whether training `cfg` in full makes choices on validation data.
pub fn needs_validation(cfg: &TrainConfig) -> Result<bool, TrainError> {
    for r in &cfg.recommenders {
        if tunable(r) || r.recipe == Recipe::Auto && !auto_params(r)?.has_weights() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Fewest known-user cases plus session users for a validation pass: below it the factor
/// defaults and equal blend weights are used.
const MIN_CASES: usize = 30;

/// Trains `cfg` (expanded) with a validation pass (see the module docs).
pub fn train(
    ds: &Dataset,
    cfg: &TrainConfig,
    progress: Progress<'_>,
    phases: &dyn crate::progress::Progress,
) -> Result<(Model, TrainReport), TrainError> {
    let t0 = Instant::now();
    let v = split::split(ds);
    let mut report = AutoReport {
        warm_cases: v.warm.len(),
        cold_users: v.cold.len(),
        validation_interactions: v.train.interactions.len(),
        ..AutoReport::default()
    };
    if v.warm.len() + v.cold.len() < MIN_CASES || v.train.interactions.is_empty() {
        let (model, mut r) = pack::train_fixed(ds, cfg, TrainingMode::Full, progress, phases)?;
        report.validation_seconds = t0.elapsed().as_secs_f64();
        r.auto = Some(report);
        return Ok((model, r));
    }
    let mut plan = factors::Plan::new(cfg)?;
    let vcfg = plan.validation_config(cfg)?;
    let t1 = Instant::now();
    let (vmodel, _) = pack::train_fixed(
        &v.train,
        &vcfg,
        TrainingMode::Full,
        progress,
        &ValidationPhases(phases),
    )?;
    report.candidates_seconds = t1.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let bytes = edgerec_core::format::encode(&vmodel).map_err(internal)?;
    let engine = Engine::from_bytes(&bytes).map_err(internal)?;
    let event_type = ds.event_types.first().map_or("click", String::as_str);
    let lists = weights::PartLists::score(&engine, &v, factors::VALIDATION_BLEND, event_type)
        .map_err(|e| TrainError::Recommender {
            name: factors::VALIDATION_BLEND.to_owned(),
            message: e.to_string(),
        })?;
    report.scoring_seconds = t1.elapsed().as_secs_f64();
    let mut tuned = cfg.clone();
    report.factors = plan.choose(&lists, &mut tuned);
    for k in 0..tuned.recommenders.len() {
        if tuned.recommenders[k].recipe != Recipe::Auto {
            continue;
        }
        let mut p = auto_params(&tuned.recommenders[k])?;
        if p.has_weights() {
            continue;
        }
        let parts: Vec<usize> = p
            .parts
            .iter()
            .map(|name| plan.part_index(&tuned, name))
            .collect::<Option<_>>()
            .ok_or_else(|| TrainError::Recommender {
                name: tuned.recommenders[k].name.clone(),
                message: "a part is missing from the validation model".to_owned(),
            })?;
        let choice = weights::fit(&lists, &parts, &tuned.recommenders[k].name, &p.parts);
        p.known.clone_from(&choice.known);
        p.session.clone_from(&choice.session);
        tuned.recommenders[k].params = p.to_table();
        report.blends.push(choice);
    }
    report.validation_seconds = t0.elapsed().as_secs_f64();
    drop((engine, bytes, vmodel));
    let (model, mut r) = pack::train_fixed(ds, &tuned, TrainingMode::Full, progress, phases)?;
    r.auto = Some(report);
    Ok((model, r))
}

/// `cfg` for an update from `prev`: factor recommenders the config leaves open take the
/// previous model's settings, and blends without weights the previous blend's.
#[must_use]
pub fn carry_over(cfg: &TrainConfig, prev: &Model) -> TrainConfig {
    let mut out = cfg.clone();
    for r in &mut out.recommenders {
        let Some(old) = prev.recommender(&r.name) else {
            continue;
        };
        match &old.model {
            RecommenderModel::Factors(f) if tunable(r) => {
                let dim = i64::try_from(f.dim()).unwrap_or(64);
                r.params.insert("factors".into(), toml::Value::Integer(dim));
                r.params.insert(
                    "regularization".into(),
                    toml::Value::Float(f64::from(f.regularization)),
                );
                r.params
                    .insert("alpha".into(), toml::Value::Float(f64::from(f.alpha)));
            }
            RecommenderModel::Blend(b) => {
                let Ok(mut p) = auto_params(r) else { continue };
                let names: Vec<&str> = b
                    .parts
                    .iter()
                    .filter_map(|&x| prev.recommenders.get(x as usize))
                    .map(|x| x.name.as_str())
                    .collect();
                if p.has_weights()
                    || names != p.parts.iter().map(String::as_str).collect::<Vec<_>>()
                {
                    continue;
                }
                p.known.clone_from(&b.known);
                p.session = (0..b.parts.len())
                    .map(|i| (1..=b.lengths()).map(|n| b.session_weight(i, n)).collect())
                    .collect();
                r.params = p.to_table();
            }
            _ => {}
        }
    }
    out
}

/// The validation pass's phases, named as such (`validation: training`).
struct ValidationPhases<'a>(&'a dyn crate::progress::Progress);

impl crate::progress::Progress for ValidationPhases<'_> {
    fn start(&self, phase: &str, total: Option<u64>, unit: crate::progress::Unit) {
        self.0.start(&format!("validation: {phase}"), total, unit);
    }
    fn advance(&self, n: u64) {
        self.0.advance(n);
    }
    fn set_done(&self, done: u64) {
        self.0.set_done(done);
    }
    fn note(&self, text: &str) {
        self.0.note(text);
    }
    fn finish(&self) {
        self.0.finish();
    }
}

fn internal(e: edgerec_core::FormatError) -> TrainError {
    TrainError::Recommender {
        name: "validation model".to_owned(),
        message: e.to_string(),
    }
}
