//! Training entry points: a full training (with a validation pass when the config leaves
//! choices to the trainer, see [`crate::auto`]) or an update of a previous model; both end in
//! [`crate::pack`], which trains each recommender and assembles the model.

pub mod error;
pub mod mode;
pub mod report;

pub use error::TrainError;
pub use mode::{Progress, TrainingMode};
pub use report::{RecommenderReport, TrainReport};

use edgerec_core::Model;

use crate::auto;
use crate::config::TrainConfig;
use crate::dataset::Dataset;
use crate::pack;

/// Trains every recommender of `cfg` on `ds` and assembles the model.
pub fn build_model(
    ds: &Dataset,
    cfg: &TrainConfig,
    progress: Progress<'_>,
) -> Result<(Model, TrainReport), TrainError> {
    train_model(ds, cfg, TrainingMode::Full, progress)
}

/// Trains (`Full`) or updates (`Update`) every recommender of `cfg` on `ds`. A full training
/// whose config leaves choices to the trainer (`auto` weights, factor settings) makes them on
/// validation data first (see [`crate::auto`]); an update keeps the previous model's.
pub fn train_model(
    ds: &Dataset,
    cfg: &TrainConfig,
    mode: TrainingMode<'_>,
    progress: Progress<'_>,
) -> Result<(Model, TrainReport), TrainError> {
    train(ds, cfg, mode, progress, crate::progress::SILENT)
}

/// [`train_model`] reporting to `progress`: a phase counting the recommenders, with a note
/// naming the one in training and its iteration.
pub fn train_model_reporting(
    ds: &Dataset,
    cfg: &TrainConfig,
    mode: TrainingMode<'_>,
    progress: &dyn crate::progress::Progress,
) -> Result<(Model, TrainReport), TrainError> {
    train(
        ds,
        cfg,
        mode,
        &|name, step, total| progress.note(&format!("{name}: iteration {step}/{total}")),
        progress,
    )
}

fn train(
    ds: &Dataset,
    cfg: &TrainConfig,
    mode: TrainingMode<'_>,
    progress: Progress<'_>,
    phases: &dyn crate::progress::Progress,
) -> Result<(Model, TrainReport), TrainError> {
    if ds.interactions.is_empty() {
        return Err(TrainError::Empty);
    }
    let cfg = auto::expand(cfg)?;
    match mode {
        TrainingMode::Full if auto::needs_validation(&cfg)? => {
            auto::train(ds, &cfg, progress, phases)
        }
        TrainingMode::Full => pack::train_fixed(ds, &cfg, mode, progress, phases),
        TrainingMode::Update(prev) => {
            pack::train_fixed(ds, &auto::carry_over(&cfg, prev), mode, progress, phases)
        }
    }
}
