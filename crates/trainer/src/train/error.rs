//! Why training failed.

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("recommender {name:?}: {message}")]
    Recommender { name: String, message: String },
    #[error("no interactions to train on")]
    Empty,
    #[error("filter {name:?}: {message}")]
    Filter { name: String, message: String },
}
