#![allow(clippy::unwrap_used)]
//! The HTTP answers that refuse a batch for good (`contract::is_refusal`), written out for the
//! edges that are not Rust: the storefront's sync code (`www/public/js/sync.js`) keeps its own
//! copy of the rule and its Node test checks it against `tests/fixtures/contract/refusals.json`,
//! which this test writes (with `EDGEREC_UPDATE_GOLDEN=1`) and keeps current.

use edgerec_core::contract::is_refusal;
use serde_json::json;

#[test]
fn committed_refusals_are_current() {
    let refused: Vec<u16> = (100..600).filter(|&s| is_refusal(s)).collect();
    let doc = json!({
        "about": "HTTP statuses 100 to 599 that refuse an event batch for good (parked, not retried), as the core's contract::is_refusal decides; written by crates/core/tests/refusals.rs (EDGEREC_UPDATE_GOLDEN=1), checked by www/test/sync.test.mjs",
        "refused": refused,
    });
    let text = serde_json::to_string(&doc).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/contract/refusals.json"
    );
    if std::env::var_os("EDGEREC_UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).ok(),
        Some(text),
        "tests/fixtures/contract/refusals.json is stale: EDGEREC_UPDATE_GOLDEN=1 rewrites it"
    );
}

#[test]
fn the_rule_refuses_batch_errors_and_retries_the_rest() {
    assert!(is_refusal(400) && is_refusal(413) && is_refusal(422));
    for status in [200, 401, 403, 404, 408, 429, 500, 503] {
        assert!(!is_refusal(status), "{status}");
    }
}
