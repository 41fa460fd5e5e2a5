//! Hyperparameter search (`--hpo`, Personalize's `performHPO`): each searchable recommender of
//! a config is trained with its configured parameters and with random draws from its recipe's
//! search space, every candidate is scored on the protocol's **validation** split (never the
//! test split), and the best one is kept. Parameters the config sets explicitly stay fixed;
//! ties keep the earlier candidate, so the configured parameters win unless beaten.

use serde::Serialize;

use super::run::{EvalError, EvalOptions, evaluate_observed};
use crate::config::{RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::progress::{AsNotes, Progress, SILENT, Unit};
use crate::synth::rng::Rng;
use edgerec_core::Recipe;

/// What a candidate is chosen by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Objective {
    /// Split A NDCG@10 (known users).
    Warm,
    /// Mean split B NDCG@10 over the session lengths (new users through `putEvents`).
    Cold,
    /// The mean of the two.
    #[default]
    Both,
}

impl Objective {
    /// Parses `warm`, `cold` or `both`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Objective> {
        match s {
            "warm" => Some(Objective::Warm),
            "cold" => Some(Objective::Cold),
            "both" => Some(Objective::Both),
            _ => None,
        }
    }
}

/// How to search.
#[derive(Debug, Clone, Copy)]
pub struct HpoOptions {
    /// Candidates per recommender, the configured parameters included.
    pub trials: usize,
    pub seed: u64,
    pub objective: Objective,
    /// Keep interactions with `EVENT_VALUE` ≥ this (as `evaluate --min-event-value`).
    pub min_event_value: Option<f32>,
    /// Cold-user folds split B is pooled over (see [`EvalOptions::cold_folds`]).
    pub cold_folds: u8,
}

impl Default for HpoOptions {
    fn default() -> Self {
        HpoOptions {
            trials: 12,
            seed: 42,
            objective: Objective::Both,
            min_event_value: None,
            cold_folds: 1,
        }
    }
}

/// One scored candidate.
#[derive(Debug, Clone, Serialize)]
pub struct Trial {
    /// The searched parameters (snake_case), as they would be written in a config.
    pub params: toml::Table,
    pub split_a_ndcg_at_10: f64,
    pub split_b_ndcg_at_10: f64,
    pub score: f64,
}

/// The search of one recommender.
#[derive(Debug, Clone, Serialize)]
pub struct RecommenderSearch {
    pub name: String,
    pub recipe: String,
    pub trials: Vec<Trial>,
    /// Index of the chosen trial (0 = the configured parameters).
    pub best: usize,
}

/// Everything `--hpo` did.
#[derive(Debug, Clone, Serialize)]
pub struct HpoReport {
    pub objective: Objective,
    pub searches: Vec<RecommenderSearch>,
}

/// Candidate values per searchable parameter of a recipe (empty = not searched).
#[must_use]
pub fn space(recipe: Recipe) -> Vec<(&'static str, Vec<toml::Value>)> {
    let f = |v: &[f64]| v.iter().map(|&x| toml::Value::Float(x)).collect::<Vec<_>>();
    let i = |v: &[i64]| {
        v.iter()
            .map(|&x| toml::Value::Integer(x))
            .collect::<Vec<_>>()
    };
    match recipe {
        Recipe::Sims => vec![
            ("window", i(&[5, 10, 20, 40])),
            ("distance_exponent", f(&[0.0, 0.5, 1.0])),
            ("backward_weight", f(&[0.1, 0.25, 0.5, 1.0])),
            ("popularity_discount_factor", f(&[0.4, 0.6, 0.8, 1.0])),
            ("history_decay", f(&[0.5, 1.0, 2.0])),
            ("ease_weight", f(&[0.0, 0.25, 0.5])),
            ("ease_lambda", f(&[200.0, 500.0, 2000.0])),
            ("early_position_scale", f(&[0.0, 20.0, 40.0, 80.0])),
            ("global_weight", f(&[0.0, 0.01, 0.03])),
            ("session_popularity", f(&[0.0, 0.4, 0.8, 1.2])),
            (
                "session_popularity_window_days",
                f(&[0.0, 30.0, 60.0, 180.0]),
            ),
            ("session_neighbors_weight", f(&[0.0, 0.25, 0.5, 0.75])),
            ("session_neighbors_window_days", f(&[30.0, 60.0, 180.0])),
            ("transition_weight", f(&[0.0, 0.25, 0.5, 1.0])),
            ("transition_prefix", i(&[5, 10, 20])),
        ],
        Recipe::UserPersonalization | Recipe::PersonalizedRanking => vec![
            ("factors", i(&[32, 64, 128])),
            ("regularization", f(&[1.0, 10.0, 30.0, 100.0])),
            ("alpha", f(&[1.0, 5.0, 20.0])),
            ("recency_half_life", f(&[0.0, 5.0, 20.0])),
        ],
        Recipe::PopularityCount | Recipe::TrendingNow | Recipe::SimilarItems | Recipe::Auto => {
            Vec::new()
        }
    }
}

/// Parameter sets to try for `spec`: its own first, then distinct random draws.
fn candidates(spec: &RecommenderSpec, opts: &HpoOptions, stream: u64) -> Vec<toml::Table> {
    let free: Vec<_> = space(spec.recipe)
        .into_iter()
        .filter(|(k, _)| !spec.params.contains_key(*k))
        .collect();
    let mut out = vec![spec.params.clone()];
    if free.is_empty() {
        return out;
    }
    let combinations = free
        .iter()
        .map(|(_, v)| v.len())
        .fold(1usize, usize::saturating_mul);
    let wanted = opts.trials.max(1).min(combinations.saturating_add(1));
    let mut rng = Rng::stream(opts.seed, 0x0048_504f, stream);
    let mut attempts = 0;
    while out.len() < wanted && attempts < wanted * 50 {
        attempts += 1;
        let mut t = spec.params.clone();
        for (k, values) in &free {
            let at = usize::try_from(rng.next_u64() % values.len() as u64).unwrap_or(0);
            t.insert((*k).to_owned(), values[at].clone());
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Most candidates trained and scored in one evaluation (a model file holds ≤ 64 sections).
const BATCH: usize = 24;

/// Mean split B NDCG@10 over the session lengths.
fn cold_mean(r: &super::run::RecipeResult) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let n = r.split_b.len().max(1) as f64;
    r.split_b.iter().map(|c| c.ndcg_at_10).sum::<f64>() / n
}

fn score(objective: Objective, a: f64, b: f64) -> f64 {
    match objective {
        Objective::Warm => a,
        Objective::Cold => b,
        Objective::Both => (a + b) / 2.0,
    }
}

/// Searches every searchable recommender of `cfg` and returns the config with the chosen
/// parameters, and the report.
pub fn search(
    ds: &Dataset,
    cfg: &TrainConfig,
    opts: &HpoOptions,
) -> Result<(TrainConfig, HpoReport), EvalError> {
    search_with(ds, cfg, opts, SILENT)
}

/// [`search`] reporting to `progress`: one phase per searched recommender counting its trials
/// as they are scored, noting the best so far and where the evaluation of the current batch of
/// trials is.
pub fn search_with(
    ds: &Dataset,
    cfg: &TrainConfig,
    opts: &HpoOptions,
    progress: &dyn Progress,
) -> Result<(TrainConfig, HpoReport), EvalError> {
    let mut tuned = cfg.clone();
    let mut searches = Vec::new();
    for (k, spec) in cfg.recommenders.iter().enumerate() {
        if space(spec.recipe).is_empty() {
            continue;
        }
        let cands = candidates(spec, opts, k as u64);
        progress.start(
            &format!("hyperparameter search for {}", spec.name),
            Some(cands.len() as u64),
            Unit::Count("trials"),
        );
        let status = AsNotes::new(progress);
        let mut trials = Vec::with_capacity(cands.len());
        let mut best_so_far: Option<(usize, f64)> = None;
        for (b, chunk) in cands.chunks(BATCH).enumerate() {
            let mut trial_cfg = TrainConfig {
                recommenders: Vec::new(),
                filters: std::collections::BTreeMap::new(),
                ..cfg.clone()
            };
            for (j, params) in chunk.iter().enumerate() {
                trial_cfg.recommenders.push(RecommenderSpec {
                    name: format!("trial-{}", b * BATCH + j),
                    params: params.clone(),
                    ..spec.clone()
                });
            }
            let report = evaluate_observed(
                ds,
                &trial_cfg,
                &EvalOptions {
                    validation: true,
                    min_event_value: opts.min_event_value,
                    cold_folds: opts.cold_folds,
                    ..EvalOptions::default()
                },
                &status,
                &mut |r| {
                    let Some(i) = r.name.strip_prefix("trial-").and_then(|i| i.parse().ok()) else {
                        return; // the popularity baseline
                    };
                    let s = score(opts.objective, r.split_a.ndcg_at_10, cold_mean(r));
                    if best_so_far.is_none_or(|(_, b)| s > b) {
                        best_so_far = Some((i, s));
                    }
                    if let Some((bi, bs)) = best_so_far {
                        status.set_prefix(&format!("best {bs:.4} (trial {bi})"));
                    }
                    progress.advance(1);
                },
            )?;
            for (j, params) in chunk.iter().enumerate() {
                let name = format!("trial-{}", b * BATCH + j);
                let Some(r) = report.results.iter().find(|r| r.name == name) else {
                    continue;
                };
                let a = r.split_a.ndcg_at_10;
                let cold = cold_mean(r);
                trials.push(Trial {
                    params: params.clone(),
                    split_a_ndcg_at_10: a,
                    split_b_ndcg_at_10: cold,
                    score: score(opts.objective, a, cold),
                });
            }
        }
        let best = trials
            .iter()
            .enumerate()
            .fold(None::<(usize, f64)>, |acc, (i, t)| match acc {
                Some((_, s)) if s >= t.score => acc,
                _ => Some((i, t.score)),
            })
            .map_or(0, |(i, _)| i);
        if let Some(t) = trials.get(best) {
            tuned.recommenders[k].params = t.params.clone();
        }
        searches.push(RecommenderSearch {
            name: spec.name.clone(),
            recipe: spec.recipe.name().to_owned(),
            trials,
            best,
        });
    }
    Ok((
        tuned,
        HpoReport {
            objective: opts.objective,
            searches,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(recipe: Recipe, params: toml::Table) -> RecommenderSpec {
        RecommenderSpec {
            name: "r".to_owned(),
            recipe,
            event_type: None,
            exclude_interacted: true,
            exclude_event_types: Vec::new(),
            event_weights: std::collections::BTreeMap::new(),
            params,
            exploration: None,
        }
    }

    #[test]
    fn candidates_start_with_the_config_keep_pinned_params_and_are_distinct() {
        let mut pinned = toml::Table::new();
        pinned.insert("window".to_owned(), toml::Value::Integer(7));
        let opts = HpoOptions {
            trials: 10,
            ..HpoOptions::default()
        };
        let c = candidates(&spec(Recipe::Sims, pinned.clone()), &opts, 0);
        assert_eq!(c.len(), 10);
        assert_eq!(c[0], pinned);
        assert!(
            c.iter()
                .all(|t| t.get("window") == Some(&toml::Value::Integer(7)))
        );
        for (i, a) in c.iter().enumerate() {
            assert!(c[i + 1..].iter().all(|b| b != a));
        }
        // Deterministic for a seed.
        assert_eq!(c, candidates(&spec(Recipe::Sims, pinned), &opts, 0));
        // Nothing to search.
        let pop = candidates(&spec(Recipe::PopularityCount, toml::Table::new()), &opts, 0);
        assert_eq!(pop.len(), 1);
    }

    #[test]
    fn every_candidate_value_is_accepted_by_its_recipe() {
        for recipe in [Recipe::Sims, Recipe::UserPersonalization] {
            for (k, values) in space(recipe) {
                for v in values {
                    let mut t = toml::Table::new();
                    t.insert(k.to_owned(), v);
                    let ok = match recipe {
                        Recipe::Sims => toml::Value::Table(t)
                            .try_into::<crate::recipes::sims::SimsParams>()
                            .is_ok(),
                        _ => toml::Value::Table(t)
                            .try_into::<crate::recipes::als::AlsParams>()
                            .is_ok(),
                    };
                    assert!(ok, "{recipe:?} {k}");
                }
            }
        }
    }
}
