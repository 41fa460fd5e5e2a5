//! The dependency rules of docs/design.md ("Dependency rules"), checked with `cargo tree`.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

const WASM_CRATES: &[&str] = &["wasm-bindgen", "js-sys", "web-sys", "getrandom"];
/// What only the sync server may pull in: its HTTP stack, async runtime, database and logging.
const SERVER_CRATES: &[&str] = &["axum", "tokio", "rusqlite", "tracing", "tracing-subscriber"];
const WORKSPACE: &[&str] = &[
    "edgerec-core",
    "edgerec-trainer",
    "edgerec-lake",
    "edgerec-server",
    "edgerec-cli",
    "edgerec-wasm",
    "edgerec-worker",
];

/// A crate of the main workspace above the core: the workspace crates it may depend on, and
/// other crates it must not pull in.
struct Rule {
    package: &'static str,
    may_use: &'static [&'static str],
    forbidden: &'static [&'static str],
}

/// The trainer library stays free of the server's crates; the server builds on the trainer
/// (its retrains); the `edgerec` binary (edgerec-cli) is the only crate that uses both.
const RULES: &[Rule] = &[
    Rule {
        package: "edgerec-trainer",
        may_use: &["edgerec-core"],
        forbidden: SERVER_CRATES,
    },
    Rule {
        package: "edgerec-lake",
        may_use: &["edgerec-core"],
        forbidden: &["axum", "rusqlite"],
    },
    Rule {
        package: "edgerec-server",
        may_use: &["edgerec-core", "edgerec-trainer", "edgerec-lake"],
        forbidden: &[],
    },
    Rule {
        package: "edgerec-cli",
        may_use: &[
            "edgerec-core",
            "edgerec-trainer",
            "edgerec-lake",
            "edgerec-server",
        ],
        forbidden: &[],
    },
];

/// What `package`'s dependency tree `deps` (as `cargo tree` lists it) breaks of `rule`.
fn violations(rule: &Rule, deps: &[String]) -> Vec<String> {
    let package = rule.package;
    let mut errors = Vec::new();
    for dep in deps {
        let dep = dep.as_str();
        if WORKSPACE.contains(&dep) && dep != package && !rule.may_use.contains(&dep) {
            errors.push(format!(
                "{package} depends on {dep}; of the workspace it may depend only on {}",
                rule.may_use.join(", ")
            ));
        }
        if rule.forbidden.contains(&dep) {
            errors.push(format!(
                "{package} depends on {dep}, which only the sync server (edgerec-server) may use"
            ));
        }
    }
    errors
}

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
            if SERVER_CRATES.contains(&dep.as_str()) {
                errors.push(format!(
                    "edgerec-core depends on {dep}, which only the sync server (edgerec-server) may use ({extra:?})"
                ));
            }
        }
    }
    for rule in RULES {
        errors.extend(violations(rule, &tree(root, rule.package, &[])?));
    }
    // The Worker is its own workspace (wasm32 only): it may use edgerec-core and the lake's
    // encoder (edgerec-lake without its `store` feature), nothing else of ours.
    let worker = root.join("worker/Cargo.toml");
    for dep in tree(
        root,
        "edgerec-worker",
        &["--manifest-path", &worker.to_string_lossy()],
    )? {
        if WORKSPACE.contains(&dep.as_str())
            && !["edgerec-worker", "edgerec-core", "edgerec-lake"].contains(&dep.as_str())
        {
            errors.push(format!(
                "edgerec-worker depends on {dep}; it may depend only on edgerec-core and edgerec-lake"
            ));
        }
        // (tokio is there anyway: the `worker` crate uses it.)
        if dep == "object_store" {
            errors.push(format!(
                "edgerec-worker depends on {dep}: it must use edgerec-lake with default-features = false (the encoder only)"
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

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(package: &str) -> &'static Rule {
        RULES
            .iter()
            .find(|r| r.package == package)
            .unwrap_or_else(|| panic!("no rule for {package}"))
    }

    fn deps(names: &[&str]) -> Vec<String> {
        names.iter().map(|&n| n.to_owned()).collect()
    }

    #[test]
    fn the_trainer_may_use_the_core_and_none_of_the_servers_crates() {
        let trainer = rule("edgerec-trainer");
        assert!(
            violations(
                trainer,
                &deps(&["edgerec-trainer", "edgerec-core", "serde"])
            )
            .is_empty()
        );
        for forbidden in [
            "edgerec-server",
            "edgerec-cli",
            "axum",
            "tokio",
            "rusqlite",
            "tracing",
        ] {
            let found = violations(
                trainer,
                &deps(&["edgerec-trainer", "edgerec-core", forbidden]),
            );
            assert_eq!(found.len(), 1, "{forbidden}: {found:?}");
            assert!(found[0].contains(forbidden), "{found:?}");
        }
    }

    #[test]
    fn the_server_may_use_the_trainer_and_the_core_only() {
        let server = rule("edgerec-server");
        let fine = deps(&[
            "edgerec-server",
            "edgerec-trainer",
            "edgerec-core",
            "axum",
            "tokio",
            "rusqlite",
        ]);
        assert!(violations(server, &fine).is_empty());
        for forbidden in ["edgerec-cli", "edgerec-wasm"] {
            assert_eq!(
                violations(server, &deps(&["edgerec-server", forbidden])).len(),
                1
            );
        }
    }

    #[test]
    fn the_binary_may_use_every_library_but_the_bindings() {
        let cli = rule("edgerec-cli");
        let fine = deps(&[
            "edgerec-cli",
            "edgerec-server",
            "edgerec-trainer",
            "edgerec-core",
            "clap",
        ]);
        assert!(violations(cli, &fine).is_empty());
        assert_eq!(
            violations(cli, &deps(&["edgerec-cli", "edgerec-wasm"])).len(),
            1
        );
    }
}
