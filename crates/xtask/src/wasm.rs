//! The npm package `edgerec`: build (two wasm builds, bindings, wasm-opt, package layout) and
//! its tests (wasm-bindgen-test in Node and headless Chromium, black-box `node --test` on the
//! packed package, packaging smoke tests: Node ESM, Node CJS, Vite + Chromium, workerd).
//!
//! `cargo xtask wasm [build|test|bench]`; `cargo xtask test` runs `test`. The tests take the
//! Worker's build (the `edgerec/aws` test compares with the AWS SDK against the Worker), which
//! the caller builds, so this module does not depend on the Worker's.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, run, setup};

const CRATE: &str = "edgerec-wasm";
const ARTIFACT: &str = "edgerec_wasm";

struct Paths {
    root: PathBuf,
    /// `packages/edgerec`: sources, types, tests, tools.
    src: PathBuf,
    /// `target/npm`: everything this module writes.
    out: PathBuf,
}

impl Paths {
    fn new(root: &Path) -> Self {
        Paths {
            root: root.to_path_buf(),
            src: root.join("packages/edgerec"),
            out: root.join("target/npm"),
        }
    }

    /// The staged package (what `npm pack` packs).
    fn pkg(&self) -> PathBuf {
        self.out.join("edgerec")
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.src.join("tools/node_modules/.bin").join(name)
    }
}

/// `build` or `bench` (`test` is [`test`], which needs the Worker's build).
pub fn task(root: &Path, what: &str) -> Result<()> {
    let p = Paths::new(root);
    match what {
        "" | "build" => build(&p).map(|_| ()),
        "bench" => {
            build(&p)?;
            bench(&p)
        }
        other => bail!("unknown wasm task {other:?}: use build, test or bench"),
    }
}

/// Everything `cargo xtask test` runs for the package; `worker_build` is the Worker's build
/// folder, which the `edgerec/aws` test serves in Miniflare.
pub fn test(root: &Path, worker_build: &Path) -> Result<()> {
    test_with(&Paths::new(root), worker_build)
}

/// The golden fixture: `$EDGEREC_GOLDEN_DIR`, else `tests/fixtures/golden`.
fn golden_dir(p: &Paths) -> PathBuf {
    std::env::var_os("EDGEREC_GOLDEN_DIR")
        .map_or_else(|| p.root.join("tests/fixtures/golden"), PathBuf::from)
}

fn test_with(p: &Paths, worker_build: &Path) -> Result<()> {
    setup::ensure(&p.root, setup::Needs::PACKAGE_TEST)?;
    let tarball = build(p)?;
    run(
        "wasm: size and import list",
        Command::new("node")
            .arg(p.src.join("tools/check-wasm.mjs"))
            .arg(p.pkg())
            .arg(p.src.join("wasm-imports.txt")),
    )?;
    wasm_bindgen_tests(p)?;
    let medium = p.out.join("medium-5k-64.erm");
    run(
        "wasm: a 5k-item × 64-dim model and the native engine's answers on it",
        crate::bench_model()?
            .arg(&medium)
            .args(["--items", "5000", "--expect"])
            .arg(p.out.join("medium-5k-64.expected.json")),
    )?;
    let (signed, public_key) = rust_signed_model(p)?;
    let consumer = install_consumer(p, &tarball)?;
    run(
        "npm package: node --test (golden parity, sessions, outbox, limits, recovery, verification; both builds; edgerec/aws = the AWS SDK against the Worker)",
        Command::new("node")
            .arg("--test")
            .arg("--test-concurrency=1")
            .arg(consumer.join("test"))
            .current_dir(&consumer)
            .env("EDGEREC_GOLDEN_DIR", golden_dir(p))
            .env("EDGEREC_MEDIUM_MODEL", &medium)
            .env("EDGEREC_SIGNED_MODEL", &signed)
            .env("EDGEREC_SIGNED_MODEL_PUBLIC_KEY", &public_key)
            .env("EDGEREC_TOOLS", p.src.join("tools/node_modules"))
            .env("EDGEREC_WORKER_DIR", p.root.join("worker"))
            .env("EDGEREC_WORKER_BUILD", worker_build)
            .env("EDGEREC_BIN", crate::edgerec_bin(&p.root)),
    )?;
    run(
        "npm package: TypeScript declarations (tsc --noEmit over a typed usage example)",
        Command::new(p.tool("tsc"))
            .arg("-p")
            .arg(consumer.join("types/tsconfig.json")),
    )?;
    run(
        "npm package: TypeScript declarations for require (tsc --noEmit, a CommonJS .cts consumer)",
        Command::new(p.tool("tsc"))
            .arg("-p")
            .arg(consumer.join("types/cjs/tsconfig.json")),
    )?;
    run(
        "npm package: smoke tests (Node ESM, Node CJS, Vite + headless Chromium, workerd)",
        Command::new("node")
            .arg("--test")
            .arg("--test-concurrency=1")
            .arg(consumer.join("smoke"))
            .current_dir(&consumer)
            .env("EDGEREC_TOOLS", p.src.join("tools/node_modules"))
            .env("EDGEREC_GOLDEN_DIR", golden_dir(p)),
    )?;
    Ok(())
}

/// The golden model signed by `edgerec sign` with a key from `edgerec keygen`, so the package's
/// verification test checks the Rust signer against the JS verifier. Returns (model, public key
/// file).
fn rust_signed_model(p: &Paths) -> Result<(PathBuf, PathBuf)> {
    crate::build_edgerec()?;
    let bin = crate::edgerec_bin(&p.root);
    let dir = p.out.join("signing");
    std::fs::create_dir_all(&dir)?;
    let key = dir.join("model-signing");
    let signed = dir.join("model-v1.signed.erm");
    run(
        "wasm: edgerec keygen (a key for the Rust-signed model of the verification test)",
        Command::new(&bin)
            .args(["keygen", "--force", "--output"])
            .arg(&key),
    )?;
    run(
        "wasm: edgerec sign the golden model",
        Command::new(&bin)
            .args(["sign", "--key"])
            .arg(&key)
            .arg("--model")
            .arg(golden_dir(p).join("model-v1.erm"))
            .arg("--output")
            .arg(&signed),
    )?;
    Ok((signed, dir.join("model-signing.pub")))
}

/// Builds the package into `target/npm/edgerec` and packs it; returns the tarball.
fn build(p: &Paths) -> Result<PathBuf> {
    setup::ensure(&p.root, setup::Needs::BUILD)?;
    let version = setup::locked_wasm_bindgen(&p.root)?;
    // opt-level 3, not the profile's "z": the scoring loop runs about 13x faster for ~7 % more
    // brotli bytes. LLVM's inliner limited to 40 (of 225) keeps the loops as fast and the
    // package about 5 % smaller. Each build has its own target dir, so neither invalidates the
    // other.
    let mut built = Vec::new();
    for (name, rustflags) in [
        ("baseline", "-C llvm-args=-inline-threshold=40"),
        (
            "simd128",
            "-C llvm-args=-inline-threshold=40 -C target-feature=+simd128",
        ),
    ] {
        let dir = p.root.join(format!("target/wasm-{name}"));
        run(
            &format!("wasm: cargo build ({name})"),
            cargo()
                .args([
                    "build",
                    "-p",
                    CRATE,
                    "--target",
                    "wasm32-unknown-unknown",
                    "--profile",
                    "wasm-release",
                ])
                .env("CARGO_TARGET_DIR", &dir)
                .env("CARGO_PROFILE_WASM_RELEASE_OPT_LEVEL", "3")
                .env("RUSTFLAGS", rustflags),
        )?;
        built.push(
            dir.join("wasm32-unknown-unknown/wasm-release")
                .join(format!("{ARTIFACT}.wasm")),
        );
    }
    let (base, simd) = (&built[0], &built[1]);
    let gen_dir = p.out.join("bindgen");
    let pkg = p.pkg();
    let _ = std::fs::remove_dir_all(&pkg);
    let wasm_out = pkg.join("dist/wasm");
    std::fs::create_dir_all(&wasm_out)?;
    let mut glue = Vec::new();
    for (name, input) in [("baseline", base), ("simd", simd)] {
        let dir = gen_dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        bindgen(
            &format!("wasm: wasm-bindgen {version} ({name})"),
            input,
            ARTIFACT,
            &dir,
        )?;
        glue.push(std::fs::read_to_string(dir.join(format!("{ARTIFACT}.js")))?);
        let dest = if name == "simd" {
            "edgerec_wasm_simd_bg.wasm"
        } else {
            "edgerec_wasm_bg.wasm"
        };
        // wasm-opt takes most of a rebuild's time: its output is kept in target/npm/opt and
        // reused while it is newer than the cargo build it came from, the npm tools and this
        // file (its flags). -Os, not -O3: LLVM has already optimised the code at level 3, and
        // the Node benchmark gives the same times either way (simd128: top-25 0.650 against
        // 0.646 ms, putEvents + top-25 0.957 against 0.954 ms), for 180 B (baseline) and 560 B
        // (simd128) less brotli.
        let optimised = p.out.join("opt").join(dest);
        if crate::is_newer(&optimised, input)
            && crate::is_newer(&optimised, &p.src.join("tools/package-lock.json"))
            && crate::is_newer(&optimised, &p.root.join("crates/xtask/src/wasm.rs"))
        {
            println!("=== wasm: wasm-opt -Os ({name}): up to date");
        } else {
            std::fs::create_dir_all(p.out.join("opt"))?;
            run(
                &format!("wasm: wasm-opt -Os ({name})"),
                Command::new(p.tool("wasm-opt"))
                    // Rust's wasm32 target puts the stack first, growing down from 1 MiB
                    // towards 0, and the data after it: the lowest KiB is touched only by a
                    // stack over 1023 KiB deep, so wasm-opt may fold constant offsets into
                    // loads and stores (about 1.3 KB less brotli) without changing behaviour.
                    .args([
                        "-Os",
                        "--low-memory-unused",
                        "--converge",
                        "--strip-debug",
                        "--strip-producers",
                    ])
                    .arg(dir.join(format!("{ARTIFACT}_bg.wasm")))
                    .arg("-o")
                    .arg(&optimised),
            )?;
        }
        std::fs::copy(&optimised, wasm_out.join(dest))?;
    }
    if glue[0] != glue[1] {
        bail!(
            "the baseline and simd128 builds need different JS bindings; they must share one glue file"
        );
    }
    std::fs::write(
        wasm_out.join(format!("{ARTIFACT}.js")),
        with_reset(&glue[0])?,
    )?;
    stage(p, &pkg)?;
    let _ = std::fs::remove_file(p.out.join(format!("edgerec-{}.tgz", workspace_version(p)?)));
    run(
        "npm pack",
        Command::new("npm")
            .args(["pack", "--silent", "--pack-destination"])
            .arg(&p.out)
            .current_dir(&pkg),
    )?;
    let tarball = p.out.join(format!("edgerec-{}.tgz", workspace_version(p)?));
    if !tarball.is_file() {
        bail!("npm pack did not write {}", tarball.display());
    }
    println!("=== package: {}", tarball.display());
    Ok(tarball)
}

/// Appends `__edgerecReset()` to the bindings: it forgets the instance so that `initSync` can
/// instantiate the module again after a trap. Fails if this wasm-bindgen's glue changed shape.
pub(crate) fn with_reset(glue: &str) -> Result<String> {
    if !glue.contains("let wasmModule, wasmInstance, wasm;")
        || !glue.contains("let __wbg_init_promise;")
    {
        bail!(
            "unexpected wasm-bindgen glue: cannot add the reset hook (check crates/xtask/src/wasm.rs)"
        );
    }
    let caches: Vec<&str> = glue
        .lines()
        .filter_map(|l| {
            l.strip_prefix("let ")
                .and_then(|r| r.strip_suffix(" = null;"))
        })
        .filter(|n| n.starts_with("cached"))
        .collect();
    let mut out = glue.to_owned();
    out.push_str("\n// Added by the edgerec build: lets the package instantiate the module again after a trap.\n");
    out.push_str("export function __edgerecReset() {\n    wasm = undefined;\n    wasmInstance = undefined;\n    wasmModule = undefined;\n    __wbg_init_promise = undefined;\n");
    for c in caches {
        out.push_str(&format!("    {c} = null;\n"));
    }
    out.push_str("}\n");
    Ok(out)
}

fn workspace_version(p: &Paths) -> Result<String> {
    let toml = std::fs::read_to_string(p.root.join("Cargo.toml"))?;
    let mut in_pkg = false;
    for l in toml.lines() {
        if l.starts_with('[') {
            in_pkg = l.trim() == "[workspace.package]";
        } else if in_pkg && let Some(v) = l.trim().strip_prefix("version = \"") {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("no version in [workspace.package] of Cargo.toml")
}

/// Copies the JS entries, declarations and README, and writes package.json with the version.
fn stage(p: &Paths, pkg: &Path) -> Result<()> {
    for entry in std::fs::read_dir(p.src.join("src"))? {
        let path = entry?.path();
        if let Some(name) = path.file_name() {
            std::fs::copy(&path, pkg.join("dist").join(name))?;
        }
    }
    // Each declaration file twice: `.d.ts` for `import`, `.d.cts` for `require`.
    for entry in std::fs::read_dir(p.src.join("types"))? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let Some(stem) = name.as_deref().and_then(|n| n.strip_suffix(".d.ts")) else {
            continue;
        };
        let dts = std::fs::read_to_string(&path)?;
        std::fs::write(pkg.join(format!("{stem}.d.ts")), &dts)?;
        std::fs::write(
            pkg.join(format!("{stem}.d.cts")),
            commonjs_declarations(&dts),
        )?;
    }
    std::fs::copy(p.src.join("README.md"), pkg.join("README.md"))?;
    std::fs::copy(p.root.join("LICENSE"), pkg.join("LICENSE"))?;
    let manifest = std::fs::read_to_string(p.src.join("package.json"))?;
    let version = workspace_version(p)?;
    let manifest = manifest.replacen(
        "\"version\": \"0.0.0\"",
        &format!("\"version\": \"{version}\""),
        1,
    );
    std::fs::write(pkg.join("package.json"), manifest)?;
    Ok(())
}

/// The declarations for `require` users (`.d.cts`): the same shapes, since the CommonJS entry
/// exports the ES module's namespace; relative imports (`'./index.js'`) point at the other
/// `.d.cts` files (`'./index.cjs'`).
fn commonjs_declarations(dts: &str) -> String {
    let mut out = String::from(
        "// Declarations for `require` (CommonJS); the same as the .d.ts beside it for `import`.\n",
    );
    for line in dts.lines() {
        let mapped = line.find(" from './").and_then(|at| {
            let (head, tail) = line.split_at(at);
            let module = tail.strip_prefix(" from './")?;
            let (name, rest) = module.split_once(".js'")?;
            Some(format!("{head} from './{name}.cjs'{rest}"))
        });
        out.push_str(mapped.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}

/// A throwaway project with the packed tarball installed and the tests copied in, so every
/// test imports `edgerec` the way a user does.
fn install_consumer(p: &Paths, tarball: &Path) -> Result<PathBuf> {
    let dir = p.out.join("consumer");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("package.json"),
        "{ \"name\": \"edgerec-consumer\", \"private\": true, \"type\": \"module\" }\n",
    )?;
    run(
        "npm install the packed tarball",
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--offline",
                "--no-package-lock",
            ])
            .arg(tarball)
            .current_dir(&dir),
    )?;
    for sub in ["test", "smoke", "types"] {
        copy_dir(&p.src.join(sub), &dir.join(sub))?;
    }
    Ok(dir)
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path = entry?.path();
        let dest = to.join(path.file_name().context("file name")?);
        if path.is_dir() {
            copy_dir(&path, &dest)?;
        } else {
            std::fs::copy(&path, &dest)?;
        }
    }
    Ok(())
}

/// `wasm-bindgen-test` in Node and in headless Chromium.
fn wasm_bindgen_tests(p: &Paths) -> Result<()> {
    let driver = setup::ensure_chromium()?;
    let mut node = cargo();
    node.args([
        "test",
        "-p",
        CRATE,
        "--target",
        "wasm32-unknown-unknown",
        "--test",
        "node",
    ])
    .env(
        "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
        "wasm-bindgen-test-runner",
    );
    run("wasm-bindgen-test (Node)", &mut node)?;
    let mut browser = cargo();
    browser
        .args([
            "test",
            "-p",
            CRATE,
            "--target",
            "wasm32-unknown-unknown",
            "--test",
            "browser",
        ])
        .env(
            "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
            "wasm-bindgen-test-runner",
        )
        .env("CHROMEDRIVER", driver)
        .env(
            "WASM_BINDGEN_TEST_WEBDRIVER_JSON",
            p.root.join("crates/wasm/webdriver.json"),
        );
    run("wasm-bindgen-test (headless Chromium)", &mut browser)
}

/// The Node benchmark on a synthetic 100k × 64 int8 model, and the native figures beside it.
fn bench(p: &Paths) -> Result<()> {
    let model = p.out.join("bench-100k-64.erm");
    run(
        "bench: write the synthetic model",
        cargo()
            .args([
                "run",
                "--release",
                "-p",
                CRATE,
                "--example",
                "bench_model",
                "--",
            ])
            .arg(&model),
    )?;
    let consumer = install_consumer(
        p,
        &p.out.join(format!("edgerec-{}.tgz", workspace_version(p)?)),
    )?;
    copy_dir(&p.src.join("bench"), &consumer.join("bench"))?;
    run(
        "bench: Node (wasm)",
        Command::new("node")
            .arg("--expose-gc")
            .arg(consumer.join("bench/bench.mjs"))
            .arg(&model)
            .current_dir(&consumer),
    )
}

/// Runs the wasm-bindgen CLI (`--target web`, no TypeScript) on `input`, writing
/// `<artifact>.js` and `<artifact>_bg.wasm` into `out_dir`.
pub(crate) fn bindgen(step: &str, input: &Path, artifact: &str, out_dir: &Path) -> Result<()> {
    run(
        step,
        Command::new("wasm-bindgen")
            .arg(input)
            .args([
                "--target",
                "web",
                "--no-typescript",
                "--out-name",
                artifact,
                "--out-dir",
            ])
            .arg(out_dir),
    )
}
