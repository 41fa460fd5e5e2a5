//! `cargo xtask <task>`: the project's build, test and demo driver. CI runs `cargo xtask test`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod crash;
mod demo;
mod deps;
mod docs;
mod eval_report;
mod fuzz;
mod setup;
mod storefront;
mod wasm;
mod worker;

const USAGE: &str = "usage: cargo xtask <test|demo|deps|crash|fuzz|wasm|worker|eval-report|docs>

  test, demo, wasm and worker first install what they need and skip what is there: the wasm32
  target and clippy/rustfmt (rustup), the wasm-bindgen CLI of Cargo.lock (cargo install), the
  npm tools (npm ci in packages/edgerec/tools) and, for the tests, as root, Debian's chromium
  and chromium-driver (apt-get). What they cannot install stops them with the command to run.

  test   fmt check, clippy -D warnings, all tests, the core checked for wasm32,
         the dependency rules, every fuzz target for 5 s, the benches compiled, and the evaluation on
         ../shared/data/ml-100k (or $EDGEREC_DATA/ml-100k) when it is present
  demo   build, generate the storefront data, train, start the sync server, the local
         Worker and the storefront (www/), print the URLs; Ctrl-C stops it
         (--port N, --sync-port N, --worker-port N; default ports 8080, 8787, 8788)
  deps   check the workspace dependency rules only
  wasm   build the npm package edgerec into target/npm (`wasm test`: and run its
         tests; `wasm bench`: the Node benchmark on a synthetic 100k-item model)
  worker the Cloudflare Worker: build into worker/build (`worker test`: and its
         Miniflare tests; `worker dev <model.erm> [port]`: serve a model locally,
         on port 8788 unless given)
  fuzz   every fuzz target of fuzz/ for 5 s (`fuzz <target> [seconds]`: one, longer);
         installs cargo-fuzz when missing
  crash  the sync server's ingest rate, kill -9 crash test and event-to-model latency
  eval-report  `edgerec evaluate --html` on the demo data, checked in headless Chromium;
         the screenshot is kept in target/test-artefacts/eval-report
  docs   every code block of README.md, packages/edgerec/README.md, worker/README.md and
         www/README.md run on the demo data (tests/docs; a block marked no-run says why)";

fn main() -> ExitCode {
    let task = std::env::args().nth(1).unwrap_or_default();
    let result = match task.as_str() {
        "test" => test(),
        "demo" => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            demo::run(&root(), &args)
        }
        "deps" => deps::check(&root()),
        "wasm" => match std::env::args().nth(2).unwrap_or_default().as_str() {
            "test" => package_test(&root()),
            other => wasm::task(&root(), other),
        },
        "worker" => worker::task(&root(), &std::env::args().skip(2).collect::<Vec<_>>()),
        "crash" => crash::run(&root(), crash::Plan::FULL),
        "fuzz" => fuzz::task(&root(), &std::env::args().skip(2).collect::<Vec<_>>()),
        "eval-report" => eval_report::test(&root()),
        "docs" => docs::test(&root()),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Where the shared datasets live: `$EDGEREC_DATA`, else `../shared/data` beside the repo.
fn data_dir() -> PathBuf {
    std::env::var_os("EDGEREC_DATA").map_or_else(|| root().join("../shared/data"), PathBuf::from)
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Every step run so far and its wall time, for the summary at the end of `cargo xtask test`.
static STEP_TIMES: std::sync::Mutex<Vec<(String, f64)>> = std::sync::Mutex::new(Vec::new());

fn run(step: &str, cmd: &mut Command) -> Result<()> {
    let t = Instant::now();
    println!("=== {step}");
    let status = cmd
        .status()
        .with_context(|| format!("{step}: could not start {cmd:?}"))?;
    let seconds = t.elapsed().as_secs_f64();
    println!(
        "=== {step}: {} in {seconds:.1}s",
        if status.success() { "ok" } else { "FAILED" },
    );
    STEP_TIMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((step.to_owned(), seconds));
    if !status.success() {
        bail!("{step} failed ({status})");
    }
    Ok(())
}

/// Everything CI proves. The native steps come first and share one dependency build (dev
/// profile, all features): the tests' build serves the benches (compiled in the test profile,
/// not in release) and the examples the package tests run; the fuzz targets build once, in
/// their own instrumented profile, and run briefly. Then the wasm package and the Worker, then
/// the suites that run the `edgerec` binary (the tests' build, see [`edgerec_bin`]).
fn test() -> Result<()> {
    let t = Instant::now();
    let root = root();
    TESTS_BUILD.store(true, std::sync::atomic::Ordering::Relaxed);
    setup::ensure(&root, setup::Needs::TEST)?;
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--", "--check"]),
    )?;
    run(
        "clippy -D warnings",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    run(
        "core compiles for wasm32-unknown-unknown on its own (the package builds below link it)",
        cargo().args([
            "check",
            "-p",
            "edgerec-core",
            "--target",
            "wasm32-unknown-unknown",
        ]),
    )?;
    deps::check(&root)?;
    fuzz::quick(&root)?;
    // The tests that run Python tools (Parquet writers, a local S3 server, Spark) find them
    // through EDGEREC_PYTHON; under CI a missing tool fails such a test instead of skipping it.
    run(
        "tests",
        cargo()
            .args(["test", "--workspace", "--all-features"])
            .env("EDGEREC_PYTHON", setup::python(&root))
            .env("EDGEREC_CI_STRICT", "1"),
    )?;
    run(
        "benches compile (test profile: the tests' build)",
        cargo().args([
            "test",
            "--workspace",
            "--all-features",
            "--benches",
            "--no-run",
        ]),
    )?;
    package_test(&root)?;
    worker::test(&root)?;
    crash::run(&root, crash::Plan::QUICK)?;
    demo::test(&root)?;
    eval_report::test(&root)?;
    docs::test(&root)?;
    evaluation_gate()?;
    print_step_times();
    println!(
        "xtask test: all steps passed in {:.0}s",
        t.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The steps' wall times, longest first.
fn print_step_times() {
    let mut steps = STEP_TIMES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone();
    steps.sort_by(|a, b| b.1.total_cmp(&a.1));
    println!("=== step times (longest first)");
    for (step, seconds) in steps {
        println!("{seconds:>8.1}s  {step}");
    }
}

/// `a` exists and was written after `b`.
pub(crate) fn is_newer(a: &Path, b: &Path) -> bool {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    matches!((modified(a), modified(b)), (Some(x), Some(y)) if x > y)
}

/// The `bench_model` example of edgerec-wasm (writes synthetic models), built with the
/// workspace's test features so that it reuses the tests' build.
pub(crate) fn bench_model() -> Result<Command> {
    run(
        "build the bench_model example",
        cargo().args([
            "build",
            "--workspace",
            "--all-features",
            "--example",
            "bench_model",
        ]),
    )?;
    Ok(Command::new(
        root().join("target/debug/examples/bench_model"),
    ))
}

/// The npm package's tests. Its `edgerec/aws` test runs the AWS SDK against the Worker, so the
/// Worker is built first and handed over.
fn package_test(root: &Path) -> Result<()> {
    let worker_build = worker::build(root)?;
    wasm::test(root, &worker_build)
}

/// Whether the steps run the tests' build of `edgerec` (set by `cargo xtask test`).
static TESTS_BUILD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The `edgerec` binary the steps run. `cargo xtask test` runs the one its `cargo test` built
/// (the dev profile optimises the workspace at level 1, so it trains the test data quickly),
/// which saves a second, release, build of the whole dependency tree; the other tasks (the
/// demo, `crash`, `docs`, …) run the release build.
pub(crate) fn edgerec_bin(root: &Path) -> PathBuf {
    if TESTS_BUILD.load(std::sync::atomic::Ordering::Relaxed) {
        root.join("target/debug/edgerec")
    } else {
        root.join("target/release/edgerec")
    }
}

/// Builds [`edgerec_bin`]: under `cargo xtask test`, the tests' build with the tests' features
/// (a no-op after the tests step); otherwise the release build.
pub(crate) fn build_edgerec() -> Result<()> {
    if TESTS_BUILD.load(std::sync::atomic::Ordering::Relaxed) {
        run(
            "build edgerec (the tests' build)",
            cargo().args(["test", "--workspace", "--all-features", "--no-run"]),
        )
    } else {
        run(
            "build edgerec (release)",
            cargo().args(["build", "--release", "-p", "edgerec-cli"]),
        )
    }
}

/// Evaluates every recipe on ml-100k and fails if user-personalization falls below the
/// popularity baseline on split A or on split B at any N.
fn evaluation_gate() -> Result<()> {
    let ml = data_dir().join("ml-100k");
    if !ml.join("u.data").is_file() {
        println!(
            "=== evaluation on ml-100k: SKIPPED — {} not found (set EDGEREC_DATA to the folder holding ml-100k/)",
            ml.display()
        );
        return Ok(());
    }
    build_edgerec()?;
    let out = root().join("target/eval-ml-100k.json");
    run(
        "evaluate ml-100k (fails below the popularity baseline)",
        Command::new(edgerec_bin(&root()))
            .arg("evaluate")
            .arg("--interactions")
            .arg(&ml)
            .arg("--json")
            .arg(&out)
            .arg("--check-baseline")
            .arg("user-personalization"),
    )
}
