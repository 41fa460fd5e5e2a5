//! Offline evaluation (docs/protocol.md): splits, metrics, and scoring through `core::Engine`.

pub mod embedding_gap;
pub mod hpo;
pub mod metrics;
pub mod new_items;
pub mod protocol;
pub mod run;
