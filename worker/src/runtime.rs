//! The two runtime operations (GetRecommendations, GetPersonalizedRanking) behind one trait, so
//! the stateless path and the session Durable Object answer them the same way.

use std::collections::BTreeMap;

use edgerec_core::{Engine, GetPersonalizedRankingRequest, GetRecommendationsRequest};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::api::ApiError;

pub trait Operation: Serialize + DeserializeOwned {
    /// The route (the same in the Worker and its Durable Object).
    const PATH: &'static str;
    fn user_id(&self) -> Option<&str>;
    fn context_mut(&mut self) -> &mut BTreeMap<String, String>;
    fn recommendation_id_mut(&mut self) -> &mut Option<String>;
    /// The JSON answer.
    fn answer(&self, engine: &Engine) -> Result<Vec<u8>, ApiError>;
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
    fn answer(&self, engine: &Engine) -> Result<Vec<u8>, ApiError> {
        to_json(
            &engine
                .get_personalized_ranking(self)
                .map_err(|e| ApiError::request(&e))?,
        )
    }
}

/// A random UUID (version 4) from `crypto.getRandomValues`.
pub fn uuid() -> Result<String, ApiError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal("random source", e))?;
    Ok(edgerec_core::request::uuid_v4(b))
}
