//! The dependency rules of docs/design.md ("Dependency rules"), checked with `cargo tree`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

const WASM_CRATES: &[&str] = &["wasm-bindgen", "js-sys", "web-sys", "getrandom"];
const WORKSPACE: &[&str] = &[
    "edgerec-core",
    "edgerec-trainer",
    "edgerec-wasm",
    "edgerec-worker",
];

fn tree(root: &Path, package: &str, extra: &[&str]) -> Result<Vec<String>> {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(root)
        .args([
            "tree", "-p", package, "-e", "normal", "--prefix", "none", "--format", "{p}",
        ])
        .args(extra)
        .output()
        .context("running cargo tree")?;
    if !out.status.success() {
        bail!(
            "cargo tree -p {package} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

/// Fails when a crate depends on something docs/design.md's dependency rules forbid.
pub fn check(root: &Path) -> Result<()> {
    println!("=== dependency rules (cargo tree)");
    let mut errors = Vec::new();
    for extra in [
        &[][..],
        &["--target", "wasm32-unknown-unknown"][..],
        &["--all-features"][..],
    ] {
        for dep in tree(root, "edgerec-core", extra)? {
            if WASM_CRATES.contains(&dep.as_str()) {
                errors.push(format!(
                    "edgerec-core depends on the wasm/RNG crate {dep} ({extra:?})"
                ));
            }
            if WORKSPACE.contains(&dep.as_str()) && dep != "edgerec-core" {
                errors.push(format!("edgerec-core depends on the workspace crate {dep}"));
            }
        }
    }
    for dep in tree(root, "edgerec-trainer", &[])? {
        if WORKSPACE.contains(&dep.as_str()) && dep != "edgerec-trainer" && dep != "edgerec-core" {
            errors.push(format!(
                "edgerec-trainer depends on {dep}; it may depend only on edgerec-core"
            ));
        }
    }
    // The Worker is its own workspace (wasm32 only): it may use edgerec-core, nothing else of ours.
    let worker = root.join("worker/Cargo.toml");
    for dep in tree(
        root,
        "edgerec-worker",
        &["--manifest-path", &worker.to_string_lossy()],
    )? {
        if WORKSPACE.contains(&dep.as_str()) && dep != "edgerec-worker" && dep != "edgerec-core" {
            errors.push(format!(
                "edgerec-worker depends on {dep}; it may depend only on edgerec-core"
            ));
        }
    }
    if errors.is_empty() {
        println!("=== dependency rules: ok");
        Ok(())
    } else {
        bail!("dependency rules violated:\n  {}", errors.join("\n  "))
    }
}
