//! The core's own JSON reader (`crates/core/src/json.rs`, compiled here from the core's source:
//! it is private to the core) against serde_json, which it replaces in the wasm package: for
//! every text, both give the same value (floats compared by their bits, objects by their sorted
//! entries), or both refuse with the same message, line and column. None may panic.
//!
//! Input: the text (inputs that are not UTF-8 are read lossily, as a JS string would be).
//! Crashers go to `crates/core/tests/fuzz-regressions/core_json/`.

#![no_main]
#![allow(dead_code)]

#[path = "../../crates/core/src/decimal.rs"]
mod decimal;
#[path = "../../crates/core/src/json.rs"]
mod json;
#[path = "../../crates/core/src/sort.rs"]
mod sort;

use json::{Number, Value};
use libfuzzer_sys::fuzz_target;

fn same(ours: &Value, theirs: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (ours, theirs) {
        (Value::Null, J::Null) => true,
        (Value::Bool(a), J::Bool(b)) => a == b,
        (Value::String(a), J::String(b)) => a == b,
        (Value::Number(a), J::Number(b)) => match a {
            Number::PosInt(n) => b.is_u64() && b.as_u64() == Some(*n),
            Number::NegInt(n) => b.is_i64() && !b.is_u64() && b.as_i64() == Some(*n),
            Number::Float(f) => b.is_f64() && b.as_f64().map(f64::to_bits) == Some(f.to_bits()),
        },
        (Value::Array(a), J::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y))
        }
        (Value::Object(a), J::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .zip(b)
                    .all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let ours = json::from_str(&text);
    let theirs = serde_json::from_str::<serde_json::Value>(&text);
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert!(same(a, b), "{text:?}: ours {a:?}, serde_json {b:?}"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
        _ => panic!("{text:?}: ours {ours:?}, serde_json {theirs:?}"),
    }
});
