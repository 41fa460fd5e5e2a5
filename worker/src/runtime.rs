//! The two runtime operations (GetRecommendations, GetPersonalizedRanking) behind one trait, so
//! the stateless path and the session Durable Object answer them the same way.

use std::collections::BTreeMap;

use edgerec_core::experiment::{self, Assignment, Experiment};
use edgerec_core::{Engine, GetPersonalizedRankingRequest, GetRecommendationsRequest, Model};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ApiError;

pub trait Operation: Serialize + DeserializeOwned {
    /// The route (the same in the Worker and its Durable Object).
    const PATH: &'static str;
    fn user_id(&self) -> Option<&str>;
    fn context_mut(&mut self) -> &mut BTreeMap<String, String>;
    fn recommendation_id_mut(&mut self) -> &mut Option<String>;
    /// The `filter` fields of the request (`field`, value): the request's own and its
    /// promotions'.
    fn filters(&self) -> Vec<(String, &str)>;
    /// The JSON answer.
    fn answer(&self, engine: &Engine) -> Result<Vec<u8>, ApiError>;
    /// Applies the experiment over the request's recommender for `key` (the core's
    /// assignment): the variant's recommender and filter replace the request's.
    fn apply_experiment<'a>(
        &mut self,
        list: &'a [Experiment],
        key: Option<&str>,
    ) -> Option<Assignment<'a>>;
    /// The recommender the request names (by name or ARN).
    fn recommender(&self) -> Option<String>;
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(v).map_err(|e| ApiError::internal("serialising the answer", e))
}

impl Operation for GetRecommendationsRequest {
    const PATH: &'static str = "/recommendations";
    fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
    fn context_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.context
    }
    fn recommendation_id_mut(&mut self) -> &mut Option<String> {
        &mut self.recommendation_id
    }
    fn filters(&self) -> Vec<(String, &str)> {
        let own = self.filter.as_deref().map(|f| ("filter".to_owned(), f));
        let promoted = self.promotions.iter().enumerate().filter_map(|(k, p)| {
            p.filter
                .as_deref()
                .map(|f| (format!("promotions[{k}].filter"), f))
        });
        own.into_iter().chain(promoted).collect()
    }
    fn apply_experiment<'a>(
        &mut self,
        list: &'a [Experiment],
        key: Option<&str>,
    ) -> Option<Assignment<'a>> {
        experiment::apply_recommendations(list, self, key)
    }
    fn recommender(&self) -> Option<String> {
        self.recommender_name().ok().map(str::to_owned)
    }
    fn answer(&self, engine: &Engine) -> Result<Vec<u8>, ApiError> {
        to_json(
            &engine
                .get_recommendations(self)
                .map_err(|e| ApiError::request(&e))?,
        )
    }
}

impl Operation for GetPersonalizedRankingRequest {
    const PATH: &'static str = "/personalize-ranking";
    fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }
    fn context_mut(&mut self) -> &mut BTreeMap<String, String> {
        &mut self.context
    }
    fn recommendation_id_mut(&mut self) -> &mut Option<String> {
        &mut self.recommendation_id
    }
    fn filters(&self) -> Vec<(String, &str)> {
        self.filter
            .as_deref()
            .map(|f| ("filter".to_owned(), f))
            .into_iter()
            .collect()
    }
    fn apply_experiment<'a>(
        &mut self,
        list: &'a [Experiment],
        key: Option<&str>,
    ) -> Option<Assignment<'a>> {
        experiment::apply_ranking(list, self, key)
    }
    fn recommender(&self) -> Option<String> {
        self.recommender_name().ok().map(str::to_owned)
    }
    fn answer(&self, engine: &Engine) -> Result<Vec<u8>, ApiError> {
        to_json(
            &engine
                .get_personalized_ranking(self)
                .map_err(|e| ApiError::request(&e))?,
        )
    }
}

/// Filters by name only: unless ad-hoc expressions are allowed (`ALLOW_FILTER_EXPRESSIONS`),
/// every `filter` of the request must name a filter of the model (as `filterArn` always does),
/// so callers can apply only the filters an administrator defined, as in Personalize.
pub fn named_filters_only<Op: Operation>(op: &Op, model: &Model) -> Result<(), ApiError> {
    for (field, value) in op.filters() {
        let name = value.trim();
        if !model.meta.filters.iter().any(|f| f.name == name) {
            return Err(ApiError::invalid(
                &field,
                format!(
                    "{:?} is not a filter of the model: ad-hoc filter expressions are disabled \
                     (ALLOW_FILTER_EXPRESSIONS); name a filter with filterArn",
                    name.chars().take(60).collect::<String>()
                ),
            ));
        }
    }
    Ok(())
}

/// A random UUID (version 4) from `crypto.getRandomValues`.
pub fn uuid() -> Result<String, ApiError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal("random source", e))?;
    Ok(edgerec_core::request::uuid_v4(b))
}
