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

/// Runs once when the module is instantiated.
#[wasm_bindgen(start)]
pub fn start() {
    #[cfg(feature = "dev")]
    console_error_panic_hook::set_once();
}
