//! `auto`: a blend of other recommenders of the model. Training writes the parts (as indices
//! of the model's recommenders, in the config's order) and their weights; the weights are
//! chosen on validation data beforehand (see [`crate::auto`]), and a blend without weights
//! weighs its parts equally.

use edgerec_core::RecommenderModel;
use edgerec_core::model::BlendModel;
use serde::{Deserialize, Serialize};

use super::error::RecipeError;
use super::trainable::{Inputs, RecipeTrainer};

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

/// The `auto` recipe.
#[derive(Debug, Clone, Copy)]
pub struct Blend;

impl RecipeTrainer for Blend {
    type Params = AutoParams;

    fn params(&self, input: &Inputs<'_>) -> Result<AutoParams, RecipeError> {
        input.params()
    }

    /// The blend of the spec: its parts as indices of the model's recommenders, with its
    /// weights (equal when it has none).
    fn train(&self, input: &Inputs<'_>, p: &AutoParams) -> Result<RecommenderModel, RecipeError> {
        let n = p.parts.len();
        let known = if p.has_weights() {
            p.known.clone()
        } else {
            vec![1.0; n]
        };
        let session = if p.has_weights() {
            p.session.clone()
        } else {
            vec![vec![1.0]; n]
        };
        let recommenders = &input.cfg.recommenders;
        let parts = p
            .parts
            .iter()
            .map(|name| {
                let r = recommenders
                    .iter()
                    .position(|r| &r.name == name)
                    .ok_or_else(|| RecipeError::UnknownPart(name.clone()))?;
                u32::try_from(r).map_err(|_| RecipeError::TooManyParts(r))
            })
            .collect::<Result<_, RecipeError>>()?;
        Ok(RecommenderModel::Blend(BlendModel::new(
            p.depth.max(1),
            parts,
            known,
            &session,
        )))
    }
}
