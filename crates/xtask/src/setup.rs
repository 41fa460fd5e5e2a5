//! What the tasks need besides the Rust toolchain, installed on first use: the wasm32 target and
//! the clippy/rustfmt components (rustup), the wasm-bindgen CLI at the version of Cargo.lock
//! (`cargo install`), the npm package's build and test tools (`npm ci` from their lockfile),
//! Debian's chromium + chromium-driver (apt-get, as root), and the Python tools some tests run
//! (pyarrow, moto, pyspark, … from `tests/python-requirements.txt`, pip into `target/pyenv`)
//! with the Java runtime Spark needs (Debian's openjdk-17-jre-headless). Each check is cheap and skips
//! what is already there; when something cannot be installed here the task stops at once with
//! one line naming the command to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::run;

const WASM32: &str = "wasm32-unknown-unknown";
/// The oldest Node the package's tools and its CommonJS entry (`require` of an ES module) run on.
const NODE_MIN: (u32, u32) = (20, 19);
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// What a task needs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Needs {
    /// The wasm32 target (npm package, Worker, the core's wasm32 build).
    pub wasm32: bool,
    /// `cargo fmt` and `cargo clippy`.
    pub lint: bool,
    /// The wasm-bindgen CLI (and its test runner) at the version of Cargo.lock.
    pub wasm_bindgen: bool,
    /// Node ≥ 20.19 with npm, and `packages/edgerec/tools/node_modules`.
    pub node_tools: bool,
    /// Debian's chromium and chromedriver (the browser tests).
    pub chromium: bool,
    /// The Python tools of `tests/python-requirements.txt` in `target/pyenv`.
    pub python: bool,
}

impl Needs {
    /// `cargo xtask test`: everything.
    pub const TEST: Needs = Needs {
        wasm32: true,
        lint: true,
        wasm_bindgen: true,
        node_tools: true,
        chromium: true,
        python: true,
    };
    /// `cargo xtask demo`, `wasm build`, `worker build/dev`.
    pub const BUILD: Needs = Needs {
        wasm32: true,
        lint: false,
        wasm_bindgen: true,
        node_tools: true,
        chromium: false,
        python: false,
    };
    /// `cargo xtask wasm test`, `worker test`: the builds plus lints and the browser.
    pub const PACKAGE_TEST: Needs = Needs {
        lint: true,
        chromium: true,
        ..Needs::BUILD
    };
}

/// Checks (and installs) what `needs` asks for; the cheap checks that can only fail come first,
/// so a machine that cannot run the task learns it before anything is installed.
pub fn ensure(root: &Path, needs: Needs) -> Result<()> {
    if needs.node_tools {
        check_node()?;
    }
    if needs.chromium {
        check_chromium_installable()?;
    }
    if needs.wasm32 {
        ensure_wasm32()?;
    }
    if needs.lint {
        ensure_lint_components()?;
    }
    if needs.wasm_bindgen {
        ensure_wasm_bindgen(root)?;
    }
    if needs.node_tools {
        ensure_node_tools(root)?;
    }
    if needs.chromium {
        ensure_chromium()?;
    }
    if needs.python {
        ensure_java()?;
        ensure_python_tools(root)?;
    }
    Ok(())
}

/// The command's stdout when it ran and succeeded.
fn output(cmd: &mut Command) -> Option<String> {
    cmd.stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
}

fn has_rustup() -> bool {
    output(Command::new("rustup").arg("--version")).is_some()
}

/// The active toolchain's name (rustup's proxies set it for the processes they start).
fn toolchain() -> String {
    std::env::var("RUSTUP_TOOLCHAIN").unwrap_or_default()
}

/// `rustup <args>` for the active toolchain (the one rust-toolchain.toml selects).
fn rustup(args: &[&str]) -> Command {
    let mut c = Command::new("rustup");
    c.args(args);
    let tc = toolchain();
    if !tc.is_empty() {
        c.args(["--toolchain", &tc]);
    }
    c
}

fn rustup_hint(what: &str) -> String {
    let tc = toolchain();
    if tc.is_empty() {
        format!("rustup {what}")
    } else {
        format!("rustup {what} --toolchain {tc}")
    }
}

/// The wasm32 target's standard library in the active toolchain's sysroot.
fn ensure_wasm32() -> Result<()> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = output(Command::new(&rustc).args(["--print", "sysroot"]))
        .map(|s| PathBuf::from(s.trim()))
        .with_context(|| format!("could not run {rustc} --print sysroot"))?;
    let lib = sysroot.join("lib/rustlib").join(WASM32).join("lib");
    if has_std(&lib) {
        return Ok(());
    }
    if !has_rustup() {
        bail!(
            "the {WASM32} target is not installed and rustup is not on PATH; install Rust with rustup (https://rustup.rs), then run: rustup target add {WASM32}"
        );
    }
    run(
        &format!("setup: {}", rustup_hint(&format!("target add {WASM32}"))),
        &mut rustup(&["target", "add", WASM32]),
    )?;
    if !has_std(&lib) {
        bail!(
            "rustup added {WASM32} but {} has no standard library; run: {}",
            lib.display(),
            rustup_hint(&format!("target add {WASM32}"))
        );
    }
    Ok(())
}

fn has_std(lib: &Path) -> bool {
    std::fs::read_dir(lib).is_ok_and(|entries| {
        entries
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

fn cargo_cmd() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// `cargo fmt` and `cargo clippy` answer `--version`.
fn ensure_lint_components() -> Result<()> {
    let missing: Vec<&str> = [("fmt", "rustfmt"), ("clippy", "clippy")]
        .into_iter()
        .filter(|(sub, _)| output(cargo_cmd().args([sub, "--version"])).is_none())
        .map(|(_, component)| component)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let add = format!("component add {}", missing.join(" "));
    if !has_rustup() {
        bail!(
            "cargo {} is missing and rustup is not on PATH; install Rust with rustup (https://rustup.rs), then run: rustup {add}",
            missing.join(" and ")
        );
    }
    let mut args = vec!["component", "add"];
    args.extend(&missing);
    run(&format!("setup: {}", rustup_hint(&add)), &mut rustup(&args))
}

/// The wasm-bindgen version of Cargo.lock.
pub fn locked_wasm_bindgen(root: &Path) -> Result<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    bail!("Cargo.lock has no wasm-bindgen entry")
}

/// The version a `<tool> --version` line reports (`wasm-bindgen 0.2.130`).
fn tool_version(tool: &str) -> Option<String> {
    output(Command::new(tool).arg("--version"))
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_owned))
}

/// The wasm-bindgen CLI and test runner must equal the crate version in Cargo.lock (the
/// schema between the crate and the CLI differs otherwise); returns the version.
pub fn ensure_wasm_bindgen(root: &Path) -> Result<String> {
    let locked = locked_wasm_bindgen(root)?;
    let cli = tool_version("wasm-bindgen");
    let runner = tool_version("wasm-bindgen-test-runner");
    if cli.as_deref() == Some(locked.as_str()) && runner.as_deref() == Some(locked.as_str()) {
        return Ok(locked);
    }
    println!(
        "=== setup: the wasm-bindgen CLI is {}, Cargo.lock has {locked}: installing it (about 2 minutes, once)",
        cli.as_deref().unwrap_or("missing")
    );
    // Exactly the locked version, without --locked: the CLI's own lockfile pins a
    // webpki-roots release the registry no longer serves.
    run(
        &format!("setup: cargo install wasm-bindgen-cli --version ={locked}"),
        cargo_install().args([
            "--force",
            "wasm-bindgen-cli",
            "--version",
            &format!("={locked}"),
        ]),
    )?;
    if tool_version("wasm-bindgen").as_deref() != Some(locked.as_str()) {
        bail!(
            "wasm-bindgen {locked} was installed but another version comes first on PATH; put {} first on PATH",
            cargo_bin().display()
        );
    }
    Ok(locked)
}

/// The cargo-fuzz the fuzz steps install when it is missing or another version.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// cargo-fuzz at [`CARGO_FUZZ_VERSION`] (`cargo fuzz --version` prints `cargo-fuzz 0.13.2`).
pub fn ensure_cargo_fuzz() -> Result<()> {
    let installed = output(cargo_cmd().args(["fuzz", "--version"]))
        .and_then(|s| s.split_whitespace().nth(1).map(str::to_owned));
    if installed.as_deref() == Some(CARGO_FUZZ_VERSION) {
        return Ok(());
    }
    run(
        &format!(
            "setup: cargo install cargo-fuzz --version ={CARGO_FUZZ_VERSION} (it is {}; under a minute, once)",
            installed.as_deref().unwrap_or("missing")
        ),
        cargo_install().args([
            "--force",
            "cargo-fuzz",
            "--version",
            &format!("={CARGO_FUZZ_VERSION}"),
        ]),
    )
}

/// `cargo install` for a build tool: optimised at level 1, without LTO and in 16 codegen
/// units, which about halves its first build; the tools (wasm-bindgen on a few hundred KB of
/// wasm, cargo-fuzz's command line) run in well under a second either way.
fn cargo_install() -> Command {
    let mut c = cargo_cmd();
    c.arg("install")
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_RELEASE_LTO", "false")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16");
    c
}

/// Where `cargo install` puts binaries.
fn cargo_bin() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_default()
        .join("bin")
}

/// `(major, minor)` of `node --version` (`v20.19.2`).
fn node_version() -> Option<(u32, u32)> {
    let v = output(Command::new("node").arg("--version"))?;
    let mut parts = v.trim().trim_start_matches('v').split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Node ≥ 20.19 and npm on PATH.
pub fn check_node() -> Result<()> {
    let hint = "install Node.js 20.19 or newer with npm (https://nodejs.org, or your distribution's nodejs and npm packages)";
    match node_version() {
        None => bail!("node is not on PATH; {hint}"),
        Some(v) if v < NODE_MIN => bail!(
            "node is {}.{}, older than {}.{}; {hint}",
            v.0,
            v.1,
            NODE_MIN.0,
            NODE_MIN.1
        ),
        Some(_) => {}
    }
    if output(Command::new("npm").arg("--version")).is_none() {
        bail!("npm is not on PATH; {hint}");
    }
    Ok(())
}

/// The npm tools folder (`packages/edgerec/tools/node_modules`), installed from its lockfile
/// (`npm ci`) when missing or older than the lockfile; returns it.
pub fn ensure_node_tools(root: &Path) -> Result<PathBuf> {
    let tools = root.join("packages/edgerec/tools");
    let modules = tools.join("node_modules");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let fresh = matches!(
        (
            modified(&tools.join("package-lock.json")),
            modified(&modules.join(".package-lock.json")),
        ),
        (Some(lock), Some(installed)) if installed >= lock
    );
    let complete = ["wasm-opt", "tsc", "wrangler"]
        .iter()
        .all(|t| modules.join(".bin").join(t).exists());
    if !(fresh && complete) {
        run(
            "setup: npm ci (packages/edgerec/tools)",
            Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&tools),
        )?;
    }
    Ok(modules)
}

fn is_root() -> bool {
    output(Command::new("id").arg("-u")).is_some_and(|s| s.trim() == "0")
}

const CHROMIUM_HINT: &str = "apt-get install -y --no-install-recommends chromium chromium-driver";

/// Fails at once when chromedriver is missing and this process cannot install it.
fn check_chromium_installable() -> Result<()> {
    if Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").is_file() {
        bail!(
            "the browser tests need Chromium and chromedriver at {CHROMEDRIVER} (Debian: {CHROMIUM_HINT})"
        );
    }
    if !is_root() {
        bail!("the browser tests need Chromium and chromedriver; run as root: {CHROMIUM_HINT}");
    }
    Ok(())
}

/// `apt-get install` of Debian packages (without recommends), after an `apt-get update`.
fn apt_install(packages: &[&str]) -> Result<()> {
    run(
        "setup: apt-get update",
        Command::new("apt-get")
            .args(["update", "-qq"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    run(
        &format!("setup: apt-get install {}", packages.join(" ")),
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// Debian's chromium and chromium-driver, installed with apt-get when missing; returns the
/// driver.
pub fn ensure_chromium() -> Result<PathBuf> {
    let driver = PathBuf::from(CHROMEDRIVER);
    if driver.is_file() {
        return Ok(driver);
    }
    check_chromium_installable()?;
    apt_install(&["chromium", "chromium-driver"])?;
    if !driver.is_file() {
        bail!(
            "apt-get installed chromium-driver but {CHROMEDRIVER} is missing; run: {CHROMIUM_HINT}"
        );
    }
    Ok(driver)
}

const JAVA_HINT: &str = "apt-get install -y --no-install-recommends openjdk-17-jre-headless";

/// A Java runtime for Spark in local mode (pyspark's test): Debian's openjdk-17 headless JRE,
/// installed with apt-get when `java` is missing.
fn ensure_java() -> Result<()> {
    if output(Command::new("java").arg("-version")).is_some() {
        return Ok(());
    }
    if !Path::new("/usr/bin/apt-get").is_file() || !is_root() {
        bail!(
            "the Spark test needs a Java 17 runtime (java on PATH); as root on Debian: {JAVA_HINT}"
        );
    }
    apt_install(&["openjdk-17-jre-headless"])?;
    if output(Command::new("java").arg("-version")).is_none() {
        bail!("apt-get installed openjdk-17-jre-headless but java does not run; run: {JAVA_HINT}");
    }
    Ok(())
}

/// The Python tools the tests run (writers of real Parquet files, a local S3-compatible server,
/// Spark in local mode), pinned in this file.
const PYTHON_REQUIREMENTS: &str = "tests/python-requirements.txt";

/// The venv's interpreter: `target/pyenv/bin/python`.
pub fn python(root: &Path) -> PathBuf {
    root.join("target/pyenv/bin/python")
}

/// `target/pyenv` with [`PYTHON_REQUIREMENTS`] installed (pip from PyPI), when missing or older
/// than the requirements file; returns its interpreter. Tests find it through `EDGEREC_PYTHON`.
pub fn ensure_python_tools(root: &Path) -> Result<PathBuf> {
    let requirements = root.join(PYTHON_REQUIREMENTS);
    let venv = root.join("target/pyenv");
    let python = python(root);
    let stamp = venv.join(".requirements-installed");
    if crate::is_newer(&stamp, &requirements) && python.is_file() {
        return Ok(python);
    }
    if !python.is_file() {
        let system = ["python3", "python"]
            .into_iter()
            .find(|p| output(Command::new(p).arg("--version")).is_some())
            .context("python3 is not on PATH; install Python 3.9 or newer (Debian: apt-get install -y python3 python3-venv)")?;
        run(
            "setup: python3 -m venv target/pyenv",
            Command::new(system).arg("-m").arg("venv").arg(&venv),
        )?;
    }
    run(
        &format!(
            "setup: pip install -r {PYTHON_REQUIREMENTS} (into target/pyenv; a few minutes, once)"
        ),
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
    )?;
    std::fs::write(&stamp, "").with_context(|| format!("writing {}", stamp.display()))?;
    Ok(python)
}
