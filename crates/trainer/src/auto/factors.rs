//! The validation model's candidates and the choice among factor configurations.
//!
//! Factor recommenders whose config leaves `factors`, `regularization` and `alpha` open are
//! trained once per configuration of [`GRID`] on the validation data; the one with the best
//! validation NDCG@10, known users and sessions counted alike (each relative to the best
//! candidate on it), is kept. Recommenders that share a recipe family, event type, event
//! weights and other parameters (`user-personalization` and `personalized-ranking` of the
//! default config) share one search.

use edgerec_core::Recipe;
use serde::Serialize;

use super::params::{AutoParams, auto_params, tunable};
use super::weights::PartLists;
use crate::config::{RecommenderSpec, TrainConfig};
use crate::train::error::TrainError;

/// Name of the validation model's blend over every candidate (it exists only there).
pub const VALIDATION_BLEND: &str = "validation/candidates";

/// Factor configurations tried: (factors, regularization, alpha). The last one, strongly
/// regularised with little confidence weight, is for small catalogues bought again and again
/// (baskets), where the factors should stay close to popularity; on the seven datasets
/// of the evaluation it replaced (128, 10, 5), which no trainer validation split chose
/// except one where (128, 30, 20) was as good.
pub const GRID: [(i64, f64, f64); 4] = [
    (64, 10.0, 5.0),
    (128, 100.0, 20.0),
    (128, 30.0, 20.0),
    (64, 100.0, 1.0),
];

/// ALS iterations of each candidate in the validation model (the final model trains the chosen
/// configuration with its own, 15 by default): the candidates' order, and the lists the blend
/// is fitted on, are settled well before the factors converge, and the candidates are most of
/// the validation pass's training time.
pub const VALIDATION_ITERATIONS: i64 = 8;

/// One factor configuration tried and its validation NDCG@10.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub params: toml::Table,
    /// Mean over the known-user cases.
    pub known_ndcg: f64,
    /// Mean over the session cases (every length).
    pub session_ndcg: f64,
}

/// The search of one group of factor recommenders.
#[derive(Debug, Clone, Serialize)]
pub struct FactorSearch {
    /// The recommenders that share it.
    pub recommenders: Vec<String>,
    pub candidates: Vec<Candidate>,
    /// Index of the chosen candidate.
    pub chosen: usize,
}

/// Factor recommenders sharing one search, and their candidates (validation-model names).
#[derive(Debug, Clone)]
struct Group {
    specs: Vec<String>,
    candidates: Vec<(String, toml::Table)>,
    chosen: usize,
}

/// What the validation model holds.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The validation model's recommenders other than its blend, in order (the blend's parts).
    parts: Vec<String>,
    groups: Vec<Group>,
}

/// What makes factor recommenders share a search: everything but their name, with the
/// searched keys left out.
fn family_key(spec: &RecommenderSpec) -> String {
    format!(
        "{:?}|{:?}|{:?}|{:?}",
        matches!(
            spec.recipe,
            Recipe::UserPersonalization | Recipe::PersonalizedRanking
        ),
        spec.event_type,
        spec.event_weights,
        spec.params
    )
}

impl Plan {
    /// The plan for `cfg` (expanded): every tunable factor recommender gets a group, every
    /// part of an `auto` recommender a place in the validation model.
    pub fn new(cfg: &TrainConfig) -> Result<Self, TrainError> {
        let mut groups: Vec<(String, Group)> = Vec::new();
        for r in cfg.recommenders.iter().filter(|r| tunable(r)) {
            let key = family_key(r);
            if let Some((_, g)) = groups.iter_mut().find(|(k, _)| *k == key) {
                g.specs.push(r.name.clone());
                continue;
            }
            let candidates = GRID
                .iter()
                .enumerate()
                .map(|(k, &(f, reg, alpha))| {
                    let mut t = r.params.clone();
                    t.insert("factors".into(), toml::Value::Integer(f));
                    t.insert("regularization".into(), toml::Value::Float(reg));
                    t.insert("alpha".into(), toml::Value::Float(alpha));
                    if !t.contains_key("iterations") {
                        t.insert(
                            "iterations".into(),
                            toml::Value::Integer(VALIDATION_ITERATIONS),
                        );
                    }
                    (format!("{}#{k}", r.name), t)
                })
                .collect();
            groups.push((
                key,
                Group {
                    specs: vec![r.name.clone()],
                    candidates,
                    chosen: 0,
                },
            ));
        }
        let mut parts: Vec<String> = Vec::new();
        for (_, g) in &groups {
            parts.extend(g.candidates.iter().map(|(n, _)| n.clone()));
        }
        for r in cfg.recommenders.iter().filter(|r| r.recipe == Recipe::Auto) {
            for part in auto_params(r)?.parts {
                let in_group = groups.iter().any(|(_, g)| g.specs.contains(&part));
                if !in_group && !parts.contains(&part) {
                    parts.push(part);
                }
            }
        }
        Ok(Plan {
            parts,
            groups: groups.into_iter().map(|(_, g)| g).collect(),
        })
    }

    /// The validation model's config: the candidates and the blends' parts, and one blend
    /// over all of them (whose part lists the cases are scored on).
    pub fn validation_config(&self, cfg: &TrainConfig) -> Result<TrainConfig, TrainError> {
        let mut recommenders = Vec::new();
        for name in &self.parts {
            let from_group = self.groups.iter().find_map(|g| {
                let (_, params) = g.candidates.iter().find(|(n, _)| n == name)?;
                Some((g.specs.first()?, params))
            });
            let spec = match from_group {
                Some((base, params)) => {
                    let base = cfg.recommenders.iter().find(|r| &r.name == base);
                    base.map(|b| RecommenderSpec {
                        name: name.clone(),
                        recipe: Recipe::UserPersonalization,
                        params: params.clone(),
                        exploration: None,
                        ..b.clone()
                    })
                }
                None => cfg.recommenders.iter().find(|r| &r.name == name).cloned(),
            };
            recommenders.push(spec.ok_or_else(|| TrainError::Recommender {
                name: name.clone(),
                message: "not in the config".to_owned(),
            })?);
        }
        let depth = cfg
            .recommenders
            .iter()
            .filter(|r| r.recipe == Recipe::Auto)
            .map(|r| auto_params(r).map(|p| p.depth))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .max()
            .unwrap_or(AutoParams::default().depth);
        let n = self.parts.len();
        recommenders.push(RecommenderSpec {
            name: VALIDATION_BLEND.to_owned(),
            recipe: Recipe::Auto,
            event_type: None,
            exclude_interacted: true,
            exclude_event_types: Vec::new(),
            event_weights: std::collections::BTreeMap::new(),
            params: AutoParams {
                depth,
                parts: self.parts.clone(),
                known: vec![1.0; n],
                session: vec![vec![1.0]; n],
            }
            .to_table(),
            exploration: None,
        });
        Ok(TrainConfig {
            recommenders,
            filters: std::collections::BTreeMap::new(),
            ..cfg.clone()
        })
    }

    /// Chooses each group's configuration on `lists` and writes it into `tuned`'s specs.
    pub fn choose(&mut self, lists: &PartLists, tuned: &mut TrainConfig) -> Vec<FactorSearch> {
        let mut out = Vec::new();
        for g in &mut self.groups {
            let scored: Vec<(f64, f64)> = g
                .candidates
                .iter()
                .map(|(name, _)| {
                    let p = self
                        .parts
                        .iter()
                        .position(|x| x == name)
                        .unwrap_or(usize::MAX);
                    (lists.known_ndcg(p), lists.session_ndcg(p))
                })
                .collect();
            let best = |f: fn(&(f64, f64)) -> f64| scored.iter().map(f).fold(0.0, f64::max);
            let (bk, bs) = (best(|x| x.0), best(|x| x.1));
            let rel = |x: f64, b: f64| if b > 0.0 { x / b } else { 0.0 };
            let score = |x: &(f64, f64)| rel(x.0, bk) + rel(x.1, bs);
            g.chosen = scored
                .iter()
                .enumerate()
                .fold(None::<(usize, f64)>, |acc, (i, x)| match acc {
                    Some((_, s)) if s >= score(x) => acc,
                    _ => Some((i, score(x))),
                })
                .map_or(0, |(i, _)| i);
            let params = &g.candidates[g.chosen].1;
            for r in &mut tuned.recommenders {
                if g.specs.contains(&r.name) {
                    for k in ["factors", "regularization", "alpha"] {
                        if let Some(v) = params.get(k) {
                            r.params.insert(k.to_owned(), v.clone());
                        }
                    }
                }
            }
            out.push(FactorSearch {
                recommenders: g.specs.clone(),
                candidates: g
                    .candidates
                    .iter()
                    .zip(&scored)
                    .map(|((_, params), &(k, s))| Candidate {
                        params: params.clone(),
                        known_ndcg: k,
                        session_ndcg: s,
                    })
                    .collect(),
                chosen: g.chosen,
            });
        }
        out
    }

    /// The validation model's part that stands for recommender `name` of the config (a
    /// factor recommender: its group's chosen candidate).
    #[must_use]
    pub fn part_index(&self, _cfg: &TrainConfig, name: &str) -> Option<usize> {
        let target = self
            .groups
            .iter()
            .find(|g| g.specs.iter().any(|s| s == name))
            .and_then(|g| g.candidates.get(g.chosen))
            .map_or(name, |(n, _)| n.as_str());
        self.parts.iter().position(|p| p == target)
    }
}
