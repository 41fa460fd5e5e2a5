//! What the validation pass chose, as `edgerec train` prints it and `evaluate` reports it.

use serde::Serialize;

use super::{factors, weights};

/// What the validation pass chose.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AutoReport {
    /// Known-user cases and session users held out, and the interactions trained on.
    pub warm_cases: usize,
    pub cold_users: usize,
    pub validation_interactions: usize,
    /// Seconds of the validation pass (training the candidates, scoring, fitting).
    pub validation_seconds: f64,
    /// Of which training the validation model, and scoring the cases on its parts.
    pub candidates_seconds: f64,
    pub scoring_seconds: f64,
    pub factors: Vec<factors::FactorSearch>,
    pub blends: Vec<weights::BlendChoice>,
}
