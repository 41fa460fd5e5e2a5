//! The fuzz targets of `fuzz/` (cargo-fuzz, libFuzzer), on the stable toolchain: cargo-fuzz
//! passes nightly-only rustc flags, which `RUSTC_BOOTSTRAP=1` allows, and runs without a
//! sanitizer (`-s none`: the code is safe Rust, and coverage-guided mutation still runs).
//!
//! `cargo xtask fuzz` runs every target for [`QUICK_SECONDS`] (what `cargo xtask test` runs),
//! built in cargo-fuzz's `--dev` profile: unoptimised code, so its first build on a fresh
//! machine takes about half the release build's time, and debug assertions and overflow checks
//! on, which a short run wants more than speed. `cargo xtask fuzz <target> [seconds]` runs one
//! target for longer, built optimised (cargo-fuzz's default release profile). Each run starts from the
//! seed corpus `fuzz/corpus/<target>` and the target's crashers under
//! `crates/core/tests/fuzz-regressions/<target>`; what it finds goes to
//! `target/fuzz/corpus/<target>` (never into the repository), a crash to
//! `target/fuzz/artifacts/<target>/`, and fails the run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, run, setup};

/// Seconds each target runs in `cargo xtask test`.
pub const QUICK_SECONDS: u32 = 5;

/// How a run's targets are compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Build {
    /// `--dev`: quick to compile, for the short runs of `cargo xtask test`.
    Quick,
    /// Optimised, for long runs.
    Optimised,
}

/// The flags every cargo-fuzz call shares: the stable toolchain, no sanitizer.
fn cargo_fuzz(root: &Path, sub: &str, build: Build) -> Command {
    let mut c = cargo();
    c.current_dir(root)
        .args(["fuzz", sub, "-s", "none"])
        .env("RUSTC_BOOTSTRAP", "1");
    if build == Build::Quick {
        c.arg("--dev");
    }
    c
}

/// The targets `fuzz/Cargo.toml` declares (`cargo fuzz list`).
fn targets(root: &Path) -> Result<Vec<String>> {
    let out = cargo()
        .current_dir(root)
        .args(["fuzz", "list"])
        .output()
        .context("running cargo fuzz list")?;
    if !out.status.success() {
        bail!(
            "cargo fuzz list failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let list: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if list.is_empty() {
        bail!("cargo fuzz list names no targets");
    }
    Ok(list)
}

/// Runs `target` for `seconds` from its seeds and regressions.
fn run_target(root: &Path, target: &str, seconds: u32, build: Build) -> Result<()> {
    let work = root.join("target/fuzz");
    let corpus = work.join("corpus").join(target);
    let artifacts = work.join("artifacts").join(target);
    std::fs::create_dir_all(&corpus)?;
    std::fs::create_dir_all(&artifacts)?;
    let mut dirs: Vec<PathBuf> = vec![corpus, root.join("fuzz/corpus").join(target)];
    let regressions = root.join("crates/core/tests/fuzz-regressions").join(target);
    if regressions.is_dir() {
        dirs.push(regressions);
    }
    let mut cmd = cargo_fuzz(root, "run", build);
    cmd.arg(target)
        .args(dirs.iter().filter(|d| d.is_dir()))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg(format!("-artifact_prefix={}/", artifacts.display()))
        .arg("-timeout=10")
        .arg("-print_final_stats=1");
    run(
        &format!(
            "fuzz: {target} for {seconds}s (crashes go to {})",
            artifacts.display()
        ),
        &mut cmd,
    )
}

/// `cargo xtask fuzz [<target> [seconds]]`.
pub fn task(root: &Path, args: &[String]) -> Result<()> {
    match args {
        [] => quick(root),
        [target] => {
            build(root, Build::Quick)?;
            run_target(root, target, QUICK_SECONDS, Build::Quick)
        }
        [target, seconds] => {
            let seconds = seconds
                .parse()
                .with_context(|| format!("{seconds:?} is not a number of seconds"))?;
            build(root, Build::Optimised)?;
            run_target(root, target, seconds, Build::Optimised)
        }
        _ => bail!("usage: cargo xtask fuzz [<target> [seconds]]"),
    }
}

fn build(root: &Path, build: Build) -> Result<()> {
    setup::ensure_cargo_fuzz()?;
    let step = match build {
        Build::Quick => {
            "fuzz: build every target (cargo fuzz build --dev -s none, RUSTC_BOOTSTRAP=1 on the stable toolchain)"
        }
        Build::Optimised => {
            "fuzz: build every target (cargo fuzz build -s none, RUSTC_BOOTSTRAP=1 on the stable toolchain)"
        }
    };
    run(step, &mut cargo_fuzz(root, "build", build))
}

/// Every target for [`QUICK_SECONDS`] (`cargo xtask test`).
pub fn quick(root: &Path) -> Result<()> {
    build(root, Build::Quick)?;
    for target in targets(root)? {
        run_target(root, &target, QUICK_SECONDS, Build::Quick)?;
    }
    Ok(())
}
