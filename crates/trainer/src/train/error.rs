//! Why training failed.

use crate::recipes::RecipeError;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A recipe refused the recommender's config or data. (Not a `source`: the message
    /// already says it, and error chains would say it twice.)
    #[error("recommender {name:?}: {error}")]
    Recipe { name: String, error: RecipeError },
    #[error("recommender {name:?}: {message}")]
    Recommender { name: String, message: String },
    #[error("no interactions to train on")]
    Empty,
    #[error("filter {name:?}: {message}")]
    Filter { name: String, message: String },
}
