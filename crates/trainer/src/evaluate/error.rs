//! Why an evaluation failed.

use crate::train::TrainError;

/// Why an evaluation failed.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error("model file: {0}")]
    Format(#[from] edgerec_core::FormatError),
    #[error("request failed for {what}: {message}")]
    Request { what: String, message: String },
    #[error("writing {path}: {message}", path = path.display())]
    Write {
        path: std::path::PathBuf,
        message: String,
    },
    #[error("public projection: {0}")]
    Projection(#[from] crate::privacy::projection::ProjectionError),
}
