//! The engine (being written).

/// Answers requests from a decoded model.
#[derive(Debug)]
pub struct Engine;
