//! What a retrain reports: how it ended and its numbers. The retrainer makes it, `POST
//! /retrain?wait=true` answers it as JSON, and `/metrics` counts it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::Mode;
use crate::snapshot::SnapshotInfo;

/// How a retrain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Published,
    Rejected,
    Failed,
    Skipped,
}

impl Status {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::Rejected => "rejected",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// The report of one retrain (also the JSON answer of `POST /retrain?wait=true`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    pub id: i64,
    pub mode: Mode,
    /// What actually ran: `full`, or `update` (warm-started from the published model).
    pub training: &'static str,
    pub trigger: String,
    pub status: Status,
    pub version: Option<u64>,
    pub message: String,
    pub seconds: f64,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    /// Split-A NDCG@10 per recommender of this model (empty when the gate did not run).
    pub scores: BTreeMap<String, f64>,
    /// The same for the previously published model.
    pub previous_scores: BTreeMap<String, f64>,
    /// From the arrival of the oldest event this model is the first to include, to its publish.
    pub event_to_model_ms: Option<i64>,
    pub model_bytes: usize,
    pub snapshot: SnapshotInfo,
}
