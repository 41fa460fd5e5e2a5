//! edgerec-trainer: datasets in, `.erm` model files out.
//!
//! ```text
//! import ──► Dataset ──► recipes (popularity, sims, ALS) ──► pack ──► core::format::encode ──► .erm
//!                                    evaluate ◄── core::Engine ◄── core::format::decode ◄──┘
//! ```

pub mod auto;
pub mod config;
pub mod dataset;
pub mod evaluate;
pub mod import;
pub mod pack;
pub mod presets;
pub mod privacy;
pub mod progress;
pub mod recipes;
pub mod signing;
pub mod synth;
pub mod train;
