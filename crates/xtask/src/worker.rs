//! The Cloudflare Worker (`worker/`): build (cargo for wasm32, the wasm-bindgen CLI, wasm-opt,
//! and a hand-written entry module — no worker-build, no bundler), its tests in Miniflare
//! (workerd), and `dev`, which serves a model locally for the demo.
//!
//! `cargo xtask worker [build|test|dev <model.erm> [port]]` (dev on port 8788 unless given);
//! `cargo xtask test` runs `test`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use anyhow::{Context, Result, bail};

use crate::{cargo, run, setup, wasm};

const ARTIFACT: &str = "edgerec_worker";
/// Rust flags of the wasm build (also used for clippy, so they share one build cache).
const SIMD: &str = "-C target-feature=+simd128";

/// The local Worker's default port: `edgerec serve` defaults to 8787 and the storefront to 8080.
pub const DEV_PORT: u16 = 8788;

/// `worker/build`: what wrangler deploys (`main = "build/entry.mjs"` in wrangler.toml).
pub fn build_dir(root: &Path) -> PathBuf {
    root.join("worker/build")
}

pub fn task(root: &Path, args: &[String]) -> Result<()> {
    match args.first().map(String::as_str).unwrap_or("build") {
        "build" => build(root).map(|_| ()),
        "test" => test(root),
        "dev" => {
            let model = args
                .get(1)
                .context("usage: cargo xtask worker dev <model.erm> [port]")?;
            let port = args
                .get(2)
                .map_or(Ok(DEV_PORT), |p| p.parse())
                .context("port")?;
            let mut child = dev(root, Path::new(model), None, port, "", "dev-token", "")?;
            println!("worker: http://127.0.0.1:{port}/ (write token dev-token); Ctrl-C stops it");
            child.wait()?;
            Ok(())
        }
        other => bail!("unknown worker task {other:?}: use build, test or dev"),
    }
}

/// Builds the Worker into `worker/build`: `entry.mjs`, `edgerec_worker.js` (+ snippets) and
/// `edgerec_worker_bg.wasm` (wasm-opt -O3). Returns the folder.
pub fn build(root: &Path) -> Result<PathBuf> {
    setup::ensure(root, setup::Needs::BUILD)?;
    let version = setup::locked_wasm_bindgen(root)?;
    let tools = setup::ensure_node_tools(root)?;
    let target = root.join("target/worker");
    // simd128: workerd's V8 has it, and the core's scoring loop vectorises with it.
    run(
        "worker: cargo build (wasm32 + simd128, release)",
        cargo()
            .args([
                "build",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(root.join("worker/Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTFLAGS", SIMD),
    )?;
    let out = build_dir(root);
    let raw = target
        .join("wasm32-unknown-unknown/release")
        .join(format!("{ARTIFACT}.wasm"));
    let entry = root.join("worker/js/entry.mjs");
    if crate::is_newer(&out.join(format!("{ARTIFACT}_bg.wasm")), &raw)
        && crate::is_newer(&out.join("entry.mjs"), &entry)
    {
        println!("=== worker: {} is up to date", out.display());
        return Ok(out);
    }
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    wasm::bindgen(
        &format!("worker: wasm-bindgen {version} (--target web)"),
        &raw,
        ARTIFACT,
        &out,
    )?;
    let glue = out.join(format!("{ARTIFACT}.js"));
    let text = std::fs::read_to_string(&glue)?;
    std::fs::write(&glue, wasm::with_reset(&text)?)?;
    let wasm_file = out.join(format!("{ARTIFACT}_bg.wasm"));
    run(
        "worker: wasm-opt -O3",
        Command::new(tools.join(".bin/wasm-opt"))
            .args(["-O3", "--strip-debug", "--strip-producers"])
            .arg(&wasm_file)
            .arg("-o")
            .arg(&wasm_file),
    )?;
    std::fs::copy(&entry, out.join("entry.mjs"))?;
    let size = std::fs::metadata(&wasm_file)?.len();
    println!("=== worker: {} ({size} bytes wasm)", out.display());
    Ok(out)
}

/// Everything `cargo xtask test` runs for the Worker.
pub fn test(root: &Path) -> Result<()> {
    setup::ensure(root, setup::Needs::PACKAGE_TEST)?;
    let manifest = root.join("worker/Cargo.toml");
    let target = root.join("target/worker");
    run(
        "worker: cargo fmt --check",
        cargo()
            .args(["fmt", "--manifest-path"])
            .arg(&manifest)
            .args(["--", "--check"]),
    )?;
    run(
        "worker: clippy -D warnings (wasm32)",
        cargo()
            .args([
                "clippy",
                "--release",
                "--target",
                "wasm32-unknown-unknown",
                "--manifest-path",
            ])
            .arg(&manifest)
            .args(["--", "-D", "warnings"])
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTFLAGS", SIMD),
    )?;
    // Native, so in the main target folder: the dependencies it shares with the workspace's
    // tests are built once.
    run(
        "worker: unit tests (native: SigV4, context, sync batches)",
        cargo()
            .args(["test", "--lib", "--manifest-path"])
            .arg(&manifest)
            .env("CARGO_TARGET_DIR", root.join("target")),
    )?;
    let build = build(root)?;
    let tools = setup::ensure_node_tools(root)?;
    // The parity test compares with the npm package (`cargo xtask test` has just built it).
    let npm = root.join("target/npm/edgerec");
    if !npm.join("dist/node.js").is_file() {
        wasm::task(root, "build")?;
    }
    let swap = target.join("swap-2k.erm");
    run(
        "worker: a second model for the hot-swap test",
        crate::bench_model()?.arg(&swap).args(["--items", "2000"]),
    )?;
    crate::build_edgerec()?;
    let bin = crate::edgerec_bin(root);
    let demo = root.join("data/demo");
    let demo_model = target.join("demo.erm");
    run(
        "worker: the storefront model (a DEVICE context column) for the automatic-context test",
        &mut crate::storefront::train(&bin, &demo, &demo.join("edgerec.toml"), &demo_model),
    )?;
    let golden_public = target.join("golden-public.erm");
    run(
        "worker: the golden model's public profile (what GET /model serves)",
        Command::new(&bin)
            .args(["export", "--profile", "public", "--model"])
            .arg(root.join("tests/fixtures/golden/model-v1.erm"))
            .arg("--output")
            .arg(&golden_public),
    )?;
    // The lake test decodes the Parquet objects the Worker wrote with pyarrow.
    let python = setup::ensure_python_tools(root)?;
    run(
        "worker: Miniflare tests (routes, errors, limits, sessions, sync, lake, ETag, hot swap, AWS SDK, parity)",
        Command::new("node")
            .arg("--test")
            .arg("--test-concurrency=1")
            .arg(root.join("worker/tests"))
            .env("EDGEREC_WORKER_BUILD", &build)
            .env("EDGEREC_TOOLS", &tools)
            .env("EDGEREC_GOLDEN_DIR", root.join("tests/fixtures/golden"))
            .env("EDGEREC_SWAP_MODEL", &swap)
            .env("EDGEREC_DEMO_MODEL", &demo_model)
            .env("EDGEREC_GOLDEN_PUBLIC_MODEL", &golden_public)
            .env("EDGEREC_BIN", &bin)
            .env("EDGEREC_NPM_PACKAGE", &npm)
            .env("EDGEREC_PYTHON", &python)
            .env("EDGEREC_CI_STRICT", "1"),
    )
}

/// Builds the Worker and serves it locally (workerd through Miniflare, on 127.0.0.1:`port`)
/// with `model` published in its local R2 bucket. Write routes accept `Authorization: Bearer
/// <token>`; accepted events are forwarded to `sync_url` (`edgerec serve`, with the same
/// bearer token) unless it is empty. With `model_public_key` (base64), models must be signed by
/// that key (`MODEL_PUBLIC_KEY`). Returns once `GET /health` answers 200; the child is the
/// leader of its own process group (stop it with `kill -- -<pid>` or [`stop`]).
pub fn dev(
    root: &Path,
    model: &Path,
    public_model: Option<&Path>,
    port: u16,
    sync_url: &str,
    token: &str,
    model_public_key: &str,
) -> Result<Child> {
    let build = build(root)?;
    let tools = setup::ensure_node_tools(root)?;
    let model =
        std::fs::canonicalize(model).with_context(|| format!("model {}", model.display()))?;
    let mut cmd = Command::new("node");
    cmd.arg(root.join("worker/js/dev.mjs"))
        .env("EDGEREC_WORKER_BUILD", &build)
        .env("EDGEREC_TOOLS", &tools)
        .env("EDGEREC_MODEL", &model)
        .env("EDGEREC_PORT", port.to_string())
        .env("EDGEREC_SYNC_URL", sync_url)
        .env("EDGEREC_TOKEN", token)
        .env("EDGEREC_MODEL_PUBLIC_KEY", model_public_key);
    if let Some(p) = public_model {
        let p = std::fs::canonicalize(p).with_context(|| format!("model {}", p.display()))?;
        cmd.env("EDGEREC_PUBLIC_MODEL", p);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().context("starting node worker/js/dev.mjs")?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait()? {
            bail!("the local Worker exited before it was ready ({status})");
        }
        if health_ok(port) {
            return Ok(child);
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    stop(&mut child);
    bail!("the local Worker did not answer GET /health within 60 s")
}

/// Stops a Worker started by [`dev`] (its whole process group: node and workerd).
pub fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", child.id())])
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `GET /health` answers 200 (plain HTTP/1.0 over loopback; no client dependency).
fn health_ok(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
    if s.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.ends_with(b"200")
}
