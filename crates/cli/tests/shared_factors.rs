//! `edgerec inspect` says which recommender's factors a recommender serves only when the file
//! stores them once, and `edgerec export --no-shared-models` writes the copies that readers
//! before format 1.4 need.

use std::path::{Path, PathBuf};

mod common;
use common::{edgerec, run};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name)
}

fn recommender_line<'t>(inspect: &'t str, name: &str) -> &'t str {
    inspect
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with(name))
        .unwrap_or_default()
}

#[test]
fn inspect_names_shared_factors_and_export_writes_copies() {
    let shared = run(edgerec().arg("inspect").arg(fixture("golden/model-v1.erm")));
    assert!(shared.contains("format 1.4"), "{shared}");
    let line = recommender_line(&shared, "recommended-for-you");
    assert!(
        line.contains("the factors of ranking (stored once)"),
        "{shared}"
    );

    // The 1.3 file holds the same model with two copies: inspect must not call them shared.
    let copies = run(edgerec()
        .arg("inspect")
        .arg(fixture("format-1.3/model.erm")));
    let line = recommender_line(&copies, "recommended-for-you");
    assert!(line.contains("item × 60 user factors"), "{copies}");

    let dir = std::env::temp_dir().join(format!("edgerec-shared-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let out = dir.join("copies.erm");
    run(edgerec()
        .args([
            "export",
            "--profile",
            "private",
            "--no-shared-models",
            "--model",
        ])
        .arg(fixture("golden/model-v1.erm"))
        .arg("--output")
        .arg(&out));
    let written = std::fs::read(&out).expect("written");
    let old = std::fs::read(fixture("format-1.3/model.erm")).expect("fixture");
    assert!(written == old, "the copies are the 1.3 writer's bytes");
    let _ = std::fs::remove_dir_all(&dir);
}
