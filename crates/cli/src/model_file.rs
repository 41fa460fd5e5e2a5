//! Reading model files for the query commands.

use std::path::Path;

use anyhow::{Context, Result};
use edgerec_core::Engine;

/// Reads and decodes a `.erm` file into an engine.
pub fn load_engine(path: &Path) -> Result<Engine> {
    let bytes = std::fs::read(path).with_context(|| format!("reading model {}", path.display()))?;
    Engine::from_bytes(&bytes).with_context(|| format!("decoding model {}", path.display()))
}

/// The recommender to use: the given name, else the model's first recommender.
pub fn recommender_or_first(engine: &Engine, name: Option<&str>) -> Result<String> {
    match name {
        Some(n) => Ok(n.to_owned()),
        None => engine
            .model()
            .recommenders
            .first()
            .map(|r| r.name.clone())
            .context("the model has no recommenders"),
    }
}
