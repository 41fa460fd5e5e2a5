//! `edgerec generate --interactions N`: the bulk generator writes a file the importer reads
//! whole, with exactly N interactions, and training on it works.

use std::path::PathBuf;

mod common;
use common::{edgerec, run};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgerec-bulk-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn bulk_data_imports_whole_and_trains() {
    let dir = scratch("train");
    let text = run(edgerec()
        .args(["generate", "--interactions", "30000", "--items", "3000"])
        .arg("--out")
        .arg(&dir));
    assert!(text.contains("generated 30000 interactions of "), "{text}");
    let csv = dir.join("interactions.csv");
    let report = run(edgerec().args(["validate", "--interactions"]).arg(&csv));
    assert!(report.contains("30,000 interactions"), "{report}");
    let model = dir.join("m.erm");
    let config = dir.join("c.toml");
    std::fs::write(&config, "[recommenders]\nsims = \"sims\"\n").expect("config written");
    run(edgerec()
        .args(["train", "--interactions"])
        .arg(&csv)
        .arg("--config")
        .arg(&config)
        .arg("--output")
        .arg(&model));
    let inspect = run(edgerec().arg("inspect").arg(&model));
    assert!(inspect.contains("neighbour pairs"), "{inspect}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bulk_settings_are_checked() {
    let out = edgerec()
        .args(["generate", "--interactions", "10", "--items", "0", "--out"])
        .arg(scratch("bad"))
        .output()
        .expect("edgerec runs");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("items must be at least 1"), "{err}");
    // The storefront's own options do not mix with bulk mode.
    let out = edgerec()
        .args(["generate", "--interactions", "10", "--users", "5", "--out"])
        .arg(scratch("mix"))
        .output()
        .expect("edgerec runs");
    assert!(!out.status.success());
}
