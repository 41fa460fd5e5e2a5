//! The same binding tests in headless Chromium.

#![allow(clippy::unwrap_used)]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod cases;
mod common;
