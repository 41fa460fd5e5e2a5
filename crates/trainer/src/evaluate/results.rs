//! What one evaluation run measures per recommender: the split A and B reports with their
//! timings and sizes, and the optional measurements (context, exploration, update against
//! retraining, segments). `run` fills them; `scoring` and `optional` compute them.

use serde::Serialize;

use super::metrics::{ColdReport, WarmReport};

/// Split A NDCG@10 by the context passed in the requests.
#[derive(Debug, Clone, Serialize)]
pub struct ContextLift {
    pub name: String,
    /// Test cases whose held-out event has a context.
    pub cases_with_context: usize,
    pub ndcg_at_10_no_context: f64,
    pub ndcg_at_10_test_context: f64,
    pub ndcg_at_10_wrong_context: f64,
    /// Split B (cold sessions) NDCG@10 per session length N: (N, no context, the first
    /// target's context).
    pub cold_ndcg_at_10: Vec<(usize, f64, f64)>,
}

/// Split A with exploration off (the main numbers) and on.
#[derive(Debug, Clone, Serialize)]
pub struct ExplorationCost {
    pub name: String,
    pub weight: f32,
    pub item_age_cut_off_days: f32,
    pub ndcg_at_10_off: f64,
    pub ndcg_at_10_on: f64,
    pub coverage_at_10_off: f64,
    pub coverage_at_10_on: f64,
    /// Share of the top-10 slots that exploration filled.
    pub explored_share_at_10: f64,
}

/// Update against full retraining on the same split-A train set.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateComparison {
    /// Fraction of the train interactions (oldest first) the base model saw.
    pub base_fraction: f64,
    pub base_interactions: usize,
    pub full_train_seconds: f64,
    pub update_train_seconds: f64,
    /// Per recommender, split A NDCG@10 of both models, paired per test user.
    pub ndcg_at_10: Vec<UpdateGap>,
}

/// One recommender's split-A NDCG@10 after an update and after a full retrain.
#[derive(Debug, Clone, Serialize)]
pub struct UpdateGap {
    pub name: String,
    pub full: f64,
    pub update: f64,
    /// Mean over test users of (update − full) NDCG@10, and its paired standard error.
    pub difference: f64,
    pub difference_se: f64,
}

/// One recommender's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct RecipeResult {
    pub name: String,
    pub recipe: String,
    pub split_a: WarmReport,
    pub split_b: Vec<ColdReport>,
    /// Wall time of training on the split-A train set.
    pub train_seconds: f64,
    /// Bytes of this recommender's own section in the split-A model file (the catalogue, users
    /// and histories it shares with the others are in [`EvalReport::model_bytes`] only).
    pub model_bytes: usize,
    /// Item-affinity segments on split A (factor recommenders only).
    pub segments: Option<SegmentReport>,
    /// Split A restricted to the test users whose held-out item had 1 to
    /// [`COLD_ITEM_USERS`] − 1 users in training (cold items still in the catalogue).
    pub cold_items: WarmReport,
}

/// Items with fewer training users than this count as cold in [`RecipeResult::cold_items`].
pub const COLD_ITEM_USERS: usize = 5;

/// Personalize's item-affinity metrics on split A: for each held-out item, the users whose
/// held-out item it is are the relevant ones, and the segment is the top 1 % of known users.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SegmentReport {
    /// Held-out items scored (those in the catalogue).
    pub items: usize,
    /// Users in each segment (1 % of the known users, at least 1).
    pub segment_size: usize,
    /// Mean number of relevant users in the segment.
    pub hits_at_1_percent: f64,
    /// Mean share of the relevant users that are in the segment.
    pub recall_at_1_percent: f64,
}
