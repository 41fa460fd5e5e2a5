//! WebAssembly bindings of `edgerec-core` for the npm package `edgerec`.
//!
//! An adapter, not an engine: every exported method converts its arguments ([`convert`]),
//! calls `edgerec_core::Engine`, and converts the answer or the error ([`error`]) back. The JS
//! wrapper in `packages/edgerec` adds loading, SIMD selection and recovery after a trap.

mod convert;
mod error;
mod loader;
mod recommender;

pub use loader::ModelLoader;
pub use recommender::Recommender;

use wasm_bindgen::prelude::wasm_bindgen;

/// The variant index of `key` in the experiment `name` with these `shares` (the core's
/// assignment, `edgerec_core::experiment`); the package reads and checks the declaration.
#[wasm_bindgen(js_name = experimentVariant)]
#[must_use]
pub fn experiment_variant(name: &str, key: &str, shares: &[f64]) -> u32 {
    let i = edgerec_core::experiment::pick(shares, edgerec_core::experiment::bucket(name, key));
    u32::try_from(i).unwrap_or(0)
}

/// Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "dev")]
    console_error_panic_hook::set_once();
}
