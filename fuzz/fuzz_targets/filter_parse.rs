//! Filter text → `filter::parse`, `CompiledFilter::compile` and evaluation against a small
//! catalogue with every column kind: any input may be refused, none may panic, and the canonical
//! form of anything that parses must parse again.
//! Input: the expression up to the first newline; the rest is every parameter's value.
//! Crashers go to `crates/core/tests/fuzz-regressions/filter_parse/`, where a test replays them.

#![no_main]

#[path = "../../crates/core/tests/filter_exercise/mod.rs"]
mod filter_exercise;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    filter_exercise::exercise(data);
});
