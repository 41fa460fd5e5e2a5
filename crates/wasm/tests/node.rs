//! The bindings in Node (`wasm-bindgen-test-runner` runs them there by default).

#![allow(clippy::unwrap_used)]

mod cases;
mod common;
