//! Which trainer trains each recipe.

use edgerec_core::Recipe;

use super::blend::Blend;
use super::factors::FactorRecipe;
use super::popularity::PopularityCount;
use super::similar::SimilarItems;
use super::sims::recipe::Sims;
use super::trainable::Trainable;
use super::trending::TrendingNow;

/// The trainer of `recipe`.
#[must_use]
pub fn trainer(recipe: Recipe) -> &'static dyn Trainable {
    match recipe {
        Recipe::Auto => &Blend,
        Recipe::PopularityCount => &PopularityCount,
        Recipe::TrendingNow => &TrendingNow,
        Recipe::Sims => &Sims,
        Recipe::SimilarItems => &SimilarItems,
        Recipe::UserPersonalization | Recipe::PersonalizedRanking => &FactorRecipe,
    }
}
