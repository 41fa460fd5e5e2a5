//! The `auto` recipe's parameters, and which factor recommenders leave theirs to the trainer.

use edgerec_core::Recipe;

use crate::config::RecommenderSpec;
pub use crate::recipes::blend::AutoParams;
use crate::recipes::error::params_of;
use crate::train::error::TrainError;

/// The recipes an `auto` recommender blends by default, in order.
pub const DEFAULT_PARTS: [Recipe; 3] = [
    Recipe::Sims,
    Recipe::UserPersonalization,
    Recipe::PopularityCount,
];

/// The `auto` parameters of `spec`.
pub fn auto_params(spec: &RecommenderSpec) -> Result<AutoParams, TrainError> {
    params_of(spec.params.clone()).map_err(|error| TrainError::Recipe {
        name: spec.name.clone(),
        error,
    })
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
