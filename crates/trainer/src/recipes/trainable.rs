//! What a recipe does for [`crate::pack`]: parse its hyperparameters from the recommender's
//! spec, train in full or update from a previous model, and hand back what it writes into
//! the model. Each recipe family implements [`RecipeTrainer`] in its own module; pack looks up
//! the [`Trainable`] of a spec's recipe with [`trainer`].

use edgerec_core::{Catalog, Model, RecommenderModel};

use super::TrainingMatrix;
use super::error::RecipeError;
use crate::config::{RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::train::error::TrainError;
use crate::train::mode::{Progress, TrainingMode};

/// Everything one recommender trains on: the data as pack prepared it and the spec.
#[derive(Clone, Copy)]
pub struct Inputs<'a> {
    pub ds: &'a Dataset,
    pub cfg: &'a TrainConfig,
    pub spec: &'a RecommenderSpec,
    pub m: &'a TrainingMatrix,
    /// The model's catalogue (item columns in catalogue order).
    pub catalog: &'a Catalog,
    /// The event type the recommender learns from (its code in the dataset), or every one.
    pub event_type: Option<u16>,
    /// Iteration callbacks of recipes that iterate.
    pub progress: Progress<'a>,
}

impl std::fmt::Debug for Inputs<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("recommender", &self.spec.name)
            .field("event_type", &self.event_type)
            .finish_non_exhaustive()
    }
}

impl Inputs<'_> {
    /// Whether the recommender learns from interactions of event type `code`.
    #[inline]
    #[must_use]
    pub fn keeps(&self, code: u16) -> bool {
        self.event_type.is_none_or(|c| c == code)
    }

    /// The spec's hyperparameters as `T`.
    ///
    /// # Errors
    /// [`RecipeError::Params`] when they do not parse.
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T, RecipeError> {
        super::error::params_of(self.spec.params.clone())
    }

    /// Weight per dataset event type (the spec's `event_weights`, default 1).
    #[must_use]
    pub fn event_weights(&self) -> Vec<f32> {
        self.ds
            .event_types
            .iter()
            .map(|t| {
                self.spec
                    .event_weights
                    .get(&t.to_ascii_lowercase())
                    .copied()
                    .unwrap_or(1.0)
            })
            .collect()
    }
}

/// One recipe family, as pack trains it.
pub trait RecipeTrainer: Sync {
    /// The hyperparameters, parsed from the spec before anything trains.
    type Params;

    /// Parses the spec's hyperparameters (defaults from the config where the recipe has them).
    ///
    /// # Errors
    /// When they do not parse or are out of range.
    fn params(&self, input: &Inputs<'_>) -> Result<Self::Params, RecipeError>;

    /// Trains from scratch: the recommender's model as written into the `.erm` file.
    ///
    /// # Errors
    /// When the config asks for what the data lacks (a content column, ...).
    fn train(&self, input: &Inputs<'_>, p: &Self::Params) -> Result<RecommenderModel, RecipeError>;

    /// Updates from the previous model `prev` (`--mode update`). By default a full training.
    ///
    /// # Errors
    /// As [`RecipeTrainer::train`].
    fn update(
        &self,
        input: &Inputs<'_>,
        p: &Self::Params,
        prev: &Model,
    ) -> Result<RecommenderModel, RecipeError> {
        let _ = prev;
        self.train(input, p)
    }
}

/// A recipe behind a trait object: parses, then trains or updates as `mode` says; errors name
/// the recommender.
pub trait Trainable: Sync {
    /// The recommender's model.
    ///
    /// # Errors
    /// [`TrainError::Recipe`] naming the recommender.
    fn fit(
        &self,
        input: &Inputs<'_>,
        mode: TrainingMode<'_>,
    ) -> Result<RecommenderModel, TrainError>;
}

impl<R: RecipeTrainer> Trainable for R {
    fn fit(
        &self,
        input: &Inputs<'_>,
        mode: TrainingMode<'_>,
    ) -> Result<RecommenderModel, TrainError> {
        let named = |error| TrainError::Recipe {
            name: input.spec.name.clone(),
            error,
        };
        let p = self.params(input).map_err(named)?;
        match mode {
            TrainingMode::Full => self.train(input, &p),
            TrainingMode::Update(prev) => self.update(input, &p, prev),
        }
        .map_err(named)
    }
}

#[cfg(test)]
mod tests {
    use edgerec_core::RecommenderModel;

    use crate::config::TrainConfig;
    use crate::recipes::trending::tests::dataset;
    use crate::train::build_model;

    /// The recommenders of `config` trained on a tiny dataset, by name.
    fn train(config: &str) -> Result<Vec<(String, RecommenderModel)>, String> {
        let ds = dataset(&[(0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 2), (2, 1, 2)]);
        let cfg = TrainConfig::parse(config).map_err(|e| e.to_string())?;
        build_model(&ds, &cfg, &|_, _, _| {})
            .map(|(m, _)| {
                m.recommenders
                    .into_iter()
                    .map(|r| (r.name, r.model))
                    .collect()
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn each_recipe_trains_its_model_kind() {
        let models = train(
            r#"
            [model]
            public_min_users = 1
            [recommenders]
            pop = "popularity-count"
            trend = "trending-now"
            sims = "sims"
            similar = "similar-items (factorDims=2)"
            up = "user-personalization (factors=2, iterations=1)"
            "#,
        );
        let mut kinds: Vec<(&str, &str)> = models
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|(name, m)| {
                let kind = match m {
                    RecommenderModel::Popularity(_) => "popularity",
                    RecommenderModel::Neighbors(_) => "neighbors",
                    RecommenderModel::Factors(_) => "factors",
                    RecommenderModel::Blend(_) => "blend",
                };
                (name.as_str(), kind)
            })
            .collect();
        kinds.sort_unstable();
        assert_eq!(
            kinds,
            [
                ("pop", "popularity"),
                ("similar", "neighbors"),
                ("sims", "neighbors"),
                ("trend", "popularity"),
                ("up", "factors"),
            ],
            "{models:?}"
        );
    }

    #[test]
    fn errors_name_the_recommender() {
        for (config, message) in [
            (
                "[recommenders]\nx = \"popularity-count (lookbackDays=-1)\"",
                "recommender \"x\": lookback_days must be a number of days >= 0, found -1",
            ),
            (
                "[recommenders]\ny = \"sims (eventType=purchase)\"",
                "recommender \"y\": event type \"purchase\" does not occur in the interactions (found: view)",
            ),
            (
                "[recommenders.z]\nrecipe = \"similar-items\"\ncontent_buckets = 0",
                "recommender \"z\": content_buckets must be 1 to 1048576",
            ),
            (
                "[recommenders.w]\nrecipe = \"user-personalization\"\nfactors = 2\ncontent_columns = [\"NONE\"]",
                "recommender \"w\": content column \"NONE\" is not an item column",
            ),
        ] {
            assert_eq!(train(config).err().as_deref(), Some(message), "{config}");
        }
        let unknown = train("[recommenders]\nv = \"trending-now (windowDays=1)\"");
        assert!(
            unknown.as_ref().is_err_and(|e| e.starts_with(
                "recommender \"v\": invalid hyperparameters: unknown field `window_days`"
            )),
            "{unknown:?}"
        );
    }
}
