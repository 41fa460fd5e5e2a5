//! Experiment assignment: stable, shares honoured over 10⁵ ids, disabled experiments assign
//! nothing, the parser total on any text, and the golden assignments that the npm package and
//! the Worker check too (`tests/fixtures/experiments/assignments.json`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use edgerec_core::experiment::{self, Experiment};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The declaration of the golden fixture: three unequal variants over the golden model's
/// `recommended-for-you`, and a disabled experiment over `best-sellers`.
const DECLARATION: &str = r#"[
  {"name": "home-2026", "recommender": "recommended-for-you", "variants": [
    {"name": "control", "share": 0.5},
    {"name": "best-sellers", "recommender": "best-sellers", "share": 0.3},
    {"name": "popular", "recommender": "best-sellers", "share": 0.2}]},
  {"name": "paused", "recommender": "best-sellers", "enabled": false, "variants": [
    {"name": "a"}, {"name": "b"}]}
]"#;

fn golden_keys() -> Vec<String> {
    let mut keys: Vec<String> = (0..60).map(|i| format!("user-{i}")).collect();
    keys.extend((0..30).map(|i| format!("s-{:08x}", i * 2_654_435_761_u64 % (1 << 32))));
    keys.extend(["Zoë", "用户", "a:b", " ", "0"].map(str::to_owned));
    keys
}

#[test]
fn golden_assignments() {
    let list = experiment::parse(DECLARATION).unwrap();
    let assignments: Vec<Value> = golden_keys()
        .iter()
        .map(|k| {
            let a = experiment::assign(&list, "recommended-for-you", k).unwrap();
            assert!(experiment::assign(&list, "best-sellers", k).is_none());
            json!({"key": k, "bucket": experiment::bucket("home-2026", k), "variant": a.variant.name,
                   "recommender": a.variant.recommender.as_deref().unwrap_or("recommended-for-you")})
        })
        .collect();
    // Bad declarations and the core's messages: the npm package, which reads declarations in
    // JavaScript, must refuse them with the same words.
    let v = r#"[{"name": "a"}, {"name": "b"}]"#;
    let long = "n".repeat(300);
    let bad = [
        "[1]".to_owned(),
        "3".to_owned(),
        format!(r#"{{"name": "e", "variants": {v}}}"#),
        format!(r#"{{"name": "e", "recommender": "r", "enabled": "yes", "variants": {v}}}"#),
        r#"{"name": "e", "recommender": "r", "variants": {}}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": "a"}]}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": "a"}, {"name": "a"}]}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": 0}, {"name": "b", "share": 1}]}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": "1"}, {"name": "b", "share": 1}]}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "share": 1}, {"name": "b"}]}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": "a", "shares": 1}, {"name": "b"}]}"#.to_owned(),
        r#"{"name": "e", "recommender": "r", "variants": [{"name": 7}, {"name": "b"}]}"#.to_owned(),
        format!(r#"{{"name": "", "recommender": "r", "variants": {v}}}"#),
        format!(r#"{{"name": "{long}", "recommender": "r", "variants": {v}}}"#),
        format!(r#"[{{"name": "e", "recommender": "r", "variants": {v}}}, {{"name": "f", "recommender": "r", "variants": {v}}}]"#),
        format!(r#"[{{"name": "e", "recommender": "r", "variants": {v}}}, {{"name": "e", "recommender": "q", "variants": {v}}}]"#),
    ];
    let errors: Vec<Value> = bad
        .iter()
        .map(
            |d| json!({"declaration": d, "message": experiment::parse(d).unwrap_err().to_string()}),
        )
        .collect();
    let doc = json!({
        "about": "variants of the experiment home-2026 by key, as the core assigns them; written by crates/core/tests/experiment.rs (EDGEREC_UPDATE_GOLDEN=1), checked by the core, the npm package and the Worker",
        "experiments": serde_json::from_str::<Value>(DECLARATION).unwrap(),
        "assignments": assignments,
        "errors": errors,
    });
    let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/experiments/assignments.json"
    );
    if std::env::var_os("EDGEREC_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &text).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(path).ok(),
        Some(text),
        "tests/fixtures/experiments/assignments.json is stale: EDGEREC_UPDATE_GOLDEN=1 rewrites it"
    );
}

#[test]
fn shares_within_two_percent_over_100k_ids() {
    let list = experiment::parse(DECLARATION).unwrap();
    let e = &list[0];
    let mut counts = [0u32; 3];
    for i in 0..100_000 {
        let v = e.assign(&format!("visitor-{i}")).unwrap();
        counts[e.variants.iter().position(|w| w.name == v.name).unwrap()] += 1;
    }
    for (c, want) in counts.iter().zip([0.5, 0.3, 0.2]) {
        let got = f64::from(*c) / 100_000.0;
        assert!((got - want).abs() < 0.02, "{counts:?}");
    }
    let eq = Experiment::equal("ab", None, &["a", "b", "c", "d"]).unwrap();
    let mut counts = [0u32; 4];
    for i in 0..100_000 {
        let v = eq.assign(&format!("u{i}")).unwrap();
        counts[eq.variants.iter().position(|w| w.name == v.name).unwrap()] += 1;
    }
    assert!(
        counts
            .iter()
            .all(|c| (f64::from(*c) / 1e5 - 0.25).abs() < 0.02),
        "{counts:?}"
    );
}

fn declaration() -> impl Strategy<Value = (String, Vec<f64>, bool)> {
    (
        "[a-z][a-z0-9-]{0,12}",
        prop::collection::vec(0.01f64..100.0, 2..=10),
        any::<bool>(),
    )
}

proptest! {
    #[test]
    fn parse_never_panics(text in ".{0,200}") {
        let _ = experiment::parse(&text);
    }

    #[test]
    fn parse_never_panics_on_json_shapes(text in r#"[\[\]{}",:a-z0-9 .-]{0,120}"#) {
        let _ = experiment::parse(&text);
        let _ = experiment::parse(&format!(r#"{{"name": "e", "recommender": "r", "variants": [{text}]}}"#));
    }

    #[test]
    fn assignment_is_stable_in_range_and_disabled_is_none(
        (name, shares, enabled) in declaration(),
        keys in prop::collection::vec(".{1,40}", 1..20),
    ) {
        let variants: Vec<Value> = shares.iter().enumerate()
            .map(|(k, s)| json!({"name": format!("v{k}"), "share": s})).collect();
        let text = json!({"name": name, "recommender": "slot", "enabled": enabled, "variants": variants}).to_string();
        let list = experiment::parse(&text).unwrap();
        prop_assert_eq!(list[0].variants.len(), shares.len());
        for k in &keys {
            let a = list[0].assign(k);
            prop_assert_eq!(a.is_some(), enabled);
            prop_assert_eq!(a, list[0].assign(k));
            prop_assert!(experiment::bucket(&name, k) < experiment::BUCKETS);
            if let Some(v) = a {
                // The variant's cumulative range holds the key's bucket.
                let total: f64 = shares.iter().sum();
                let i = list[0].variants.iter().position(|w| w == v).unwrap();
                let b = experiment::bucket(&name, k) as f64;
                let lo = (shares[..i].iter().sum::<f64>() / total * 1e4).round();
                let hi = (shares[..=i].iter().sum::<f64>() / total * 1e4).round();
                prop_assert!(b >= lo && (b < hi || i + 1 == shares.len()));
            }
        }
    }
}
