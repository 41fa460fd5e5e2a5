//! Recipes: each turns a [`TrainingMatrix`] into one recommender's model.
//!
//! * [`popularity`] — `popularity-count`: unique users per item (optionally one event type).
//! * [`sims`] — `sims`: item-item co-interaction with popularity discount.
//! * [`ease`] — a pruned closed-form item-item model that `sims` can blend in.
//! * [`trending`] — `trending-now`: items whose unique-user count grows most between windows.
//! * [`als`] — `user-personalization` / `personalized-ranking`: implicit-feedback ALS
//!   (its per-row sparse kernel in `als_rows`, vectorised for the machine it runs on).
//! * [`context`] — their learned context vectors (device, location, ...).
//! * [`blend`] — `auto`: a weighted blend of other recommenders of the model.
//! * [`dense`] — the dense matrices as `ndarray` arrays, and faer's views of them.
//!
//! [`trainable`] is what pack asks of a recipe (parse its hyperparameters, train, update from
//! a previous model); each family implements it next to its algorithm ([`factors`] for the
//! factor recipes, [`sims::recipe`] for `sims`).

pub mod als;
mod als_rows;
pub mod blend;
pub mod content;
pub mod context;
pub mod dense;
pub mod ease;
pub mod error;
pub mod factors;
pub mod matrix;
pub mod popularity;
pub mod previous;
pub mod registry;
pub mod similar;
pub mod sims;
pub mod trainable;
pub mod transitions;
pub mod trending;

pub use error::RecipeError;
pub use matrix::{CatalogScope, TrainingMatrix};
pub use registry::trainer;
pub use trainable::{Inputs, RecipeTrainer, Trainable};
