//! Offline evaluation (PROTOCOL.md): splits, metrics, and scoring through `core::Engine`.

pub mod protocol;
