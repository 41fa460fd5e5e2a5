//! The `auto` recipe's parameters, and which factor recommenders leave theirs to the trainer.

use edgerec_core::Recipe;
use serde::{Deserialize, Serialize};

use crate::config::RecommenderSpec;
use crate::train::error::TrainError;

/// Hyperparameters of `auto` (all optional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoParams {
    /// Items each part contributes to the blend.
    pub depth: u32,
    /// The parts, by recommender name. Empty: the config's `sims`, `user-personalization` and
    /// `popularity-count` recommenders of the same event type, each added (named
    /// `<name>/<recipe>`) when the config has none.
    pub parts: Vec<String>,
    /// Weights for known users, one per part. Empty: learned on validation data.
    pub known: Vec<f32>,
    /// Weights for sessions of 1, 2, … events (the last for longer ones), one list per part.
    /// Empty: learned on validation data.
    pub session: Vec<Vec<f32>>,
}

impl Default for AutoParams {
    fn default() -> Self {
        AutoParams {
            depth: 100,
            parts: Vec::new(),
            known: Vec::new(),
            session: Vec::new(),
        }
    }
}

impl AutoParams {
    /// Whether the weights are set (nothing to learn).
    #[must_use]
    pub fn has_weights(&self) -> bool {
        !self.known.is_empty() && self.known.len() == self.session.len()
    }

    /// The params as a config table.
    #[must_use]
    pub fn to_table(&self) -> toml::Table {
        toml::Value::try_from(self)
            .ok()
            .and_then(|v| v.as_table().cloned())
            .unwrap_or_default()
    }
}

/// The recipes an `auto` recommender blends by default, in order.
pub const DEFAULT_PARTS: [Recipe; 3] = [
    Recipe::Sims,
    Recipe::UserPersonalization,
    Recipe::PopularityCount,
];

fn params_of<T: serde::de::DeserializeOwned>(spec: &RecommenderSpec) -> Result<T, TrainError> {
    toml::Value::Table(spec.params.clone())
        .try_into()
        .map_err(|e: toml::de::Error| TrainError::Recommender {
            name: spec.name.clone(),
            message: format!("invalid hyperparameters: {}", e.message()),
        })
}

/// The `auto` parameters of `spec`.
pub fn auto_params(spec: &RecommenderSpec) -> Result<AutoParams, TrainError> {
    params_of(spec)
}

/// Whether a factor recommender's hyperparameters are left to the trainer: its config sets
/// none of `factors`, `regularization` and `alpha`.
#[must_use]
pub fn tunable(spec: &RecommenderSpec) -> bool {
    matches!(
        spec.recipe,
        Recipe::UserPersonalization | Recipe::PersonalizedRanking
    ) && !["factors", "regularization", "alpha"]
        .iter()
        .any(|k| spec.params.contains_key(*k))
}
