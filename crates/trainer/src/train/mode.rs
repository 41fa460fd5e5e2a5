//! How much of a model a training run retrains, and how it reports its progress.

use edgerec_core::Model;

/// Progress callbacks: `(recommender, step, total_steps)`.
pub type Progress<'a> = &'a (dyn Fn(&str, usize, usize) + Sync);

/// How much of a model to retrain (Personalize's `trainingMode`).
#[derive(Debug, Clone, Copy)]
pub enum TrainingMode<'a> {
    /// Everything from scratch.
    Full,
    /// Starts from this model: factor recommenders keep their trained factors for the items and
    /// users they know and run `update_iterations` warm-started, over-relaxed iterations (new
    /// items and users are learned from their interactions) and keep their content projection;
    /// sims recomputes its co-interaction lists exactly and keeps its closed-form (EASE) part;
    /// popularity, trending and histories are recomputed from the data (cheap and exact).
    /// `similar-items` and a factor-blended sims retrain in full.
    Update(&'a Model),
}
