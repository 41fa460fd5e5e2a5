//! What a training run reports: sizes, timings, and the choices made on validation data.

use serde::Serialize;

use crate::auto::report::AutoReport;

/// Timings and sizes of one training run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TrainReport {
    pub items: usize,
    pub users: usize,
    pub interactions: usize,
    pub recommenders: Vec<RecommenderReport>,
    /// What the validation pass chose (`auto` weights, factor settings), when there was one.
    pub auto: Option<AutoReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecommenderReport {
    pub name: String,
    pub recipe: String,
    pub seconds: f64,
}
