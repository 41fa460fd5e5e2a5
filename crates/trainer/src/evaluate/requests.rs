//! Recommendation requests as the evaluation makes them, answered by the engine.

use edgerec_core::Engine;
use edgerec_core::request::GetRecommendationsRequest;

use super::error::EvalError;

pub(crate) fn request(name: &str, user: &str, k: u32) -> GetRecommendationsRequest {
    GetRecommendationsRequest {
        recommender: Some(name.to_owned()),
        user_id: Some(user.to_owned()),
        num_results: Some(k),
        ..GetRecommendationsRequest::default()
    }
}

pub(crate) fn ids(
    engine: &Engine,
    req: &GetRecommendationsRequest,
) -> Result<Vec<String>, EvalError> {
    engine
        .get_recommendations(req)
        .map(|r| r.item_list.into_iter().map(|p| p.item_id).collect())
        .map_err(|e| EvalError::Request {
            what: format!("{:?} / user {:?}", req.recommender, req.user_id),
            message: e.to_string(),
        })
}
