//! Offline evaluation (docs/protocol.md): splits, metrics, and scoring through `core::Engine`.

pub mod embedding_gap;
mod error;
pub mod given;
pub mod hpo;
pub mod metrics;
pub mod new_items;
mod optional;
pub mod protocol;
mod requests;
mod results;
pub mod run;
mod scoring;
