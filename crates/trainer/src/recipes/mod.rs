//! Recipes: each turns a [`TrainingMatrix`] into one recommender's model.
//!
//! * [`popularity`] — `popularity-count`: unique users per item (optionally one event type).
//! * [`sims`] — `sims`: item-item co-interaction with popularity discount.
//! * [`ease`] — a pruned closed-form item-item model that `sims` can blend in.
//! * [`trending`] — `trending-now`: items whose unique-user count grows most between windows.
//! * [`als`] — `user-personalization` / `personalized-ranking`: implicit-feedback ALS.
//! * [`context`] — their learned context vectors (device, location, ...).

pub mod als;
pub mod content;
pub mod context;
pub mod ease;
pub mod matrix;
pub mod popularity;
pub mod similar;
pub mod sims;
pub mod transitions;
pub mod trending;

pub use matrix::{CatalogScope, TrainingMatrix};
