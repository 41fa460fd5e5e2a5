//! `cargo xtask demo`: the one-command demo. Builds the trainer and the npm package, generates the
//! storefront interactions over the retail catalogue, trains the storefront model, starts the
//! local Worker, the sync server (`edgerec serve`) and the storefront (`www/server.mjs`), prints
//! the URLs and runs until Ctrl-C, which stops every process it started.
//!
//! `cargo xtask demo [--port 8080] [--sync-port 8787] [--worker-port 8788]`. Everything it writes
//! is under `target/demo`.
//!
//! Also here: the storefront's end-to-end test in headless Chromium, run by `cargo xtask test`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::{run as step, setup, wasm};

/// Ports and paths of one demo run.
struct Options {
    port: u16,
    sync_port: u16,
    worker_port: u16,
}

fn parse_args(args: &[String]) -> Result<Options> {
    let mut o = Options {
        port: 8080,
        sync_port: 8787,
        worker_port: crate::worker::DEV_PORT,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let value = |it: &mut std::slice::Iter<'_, String>| -> Result<u16> {
            it.next()
                .with_context(|| format!("{a} needs a port number"))?
                .parse()
                .with_context(|| format!("{a}: not a port number"))
        };
        match a.as_str() {
            "--port" => o.port = value(&mut it)?,
            "--sync-port" => o.sync_port = value(&mut it)?,
            "--worker-port" => o.worker_port = value(&mut it)?,
            other => bail!(
                "unknown demo option {other:?}; use --port N, --sync-port N and --worker-port N"
            ),
        }
    }
    Ok(o)
}

/// Fails with one line when a port of the demo is taken (by an earlier demo, say).
fn check_free(port: u16, flag: &str) -> Result<()> {
    std::net::TcpListener::bind(("127.0.0.1", port))
        .map(drop)
        .map_err(|e| {
            anyhow::anyhow!(
                "port {port} on 127.0.0.1 is not free ({e}); pick another with {flag} N"
            )
        })
}

/// Processes started by the demo, stopped (SIGTERM, then SIGKILL after a grace period) on drop.
#[derive(Debug, Default)]
struct Children(Vec<(&'static str, Child)>);

impl Children {
    fn push(&mut self, name: &'static str, child: Child) {
        self.0.push((name, child));
    }

    /// The first child that exited on its own, with its status.
    fn exited(&mut self) -> Option<String> {
        self.0.iter_mut().find_map(|(name, c)| match c.try_wait() {
            Ok(Some(status)) => Some(format!("{name} stopped ({status})")),
            _ => None,
        })
    }

    fn stop(&mut self) {
        for (_, c) in &mut self.0 {
            if matches!(c.try_wait(), Ok(None)) {
                let pid = c.id().to_string();
                let _ = Command::new("kill").args(["-TERM", &pid]).status();
                // A child that leads its own process group (the Worker: node and workerd)
                // is stopped as a group; for the others this finds no group and does nothing.
                let _ = Command::new("kill")
                    .args(["-TERM", "--", &format!("-{pid}")])
                    .stderr(Stdio::null())
                    .status();
            }
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for (name, c) in &mut self.0 {
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            if matches!(c.try_wait(), Ok(None)) {
                eprintln!("demo: {name} did not stop within 10 s; killing it");
                let _ = c.kill();
            }
            let _ = c.wait();
        }
        self.0.clear();
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `s` as one single-quoted shell word.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A random token (for the write and admin routes of this run's sync server).
fn token(prefix: &str) -> Result<String> {
    let mut buf = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .context("reading /dev/urandom for the demo's tokens")?;
    Ok(buf.iter().fold(prefix.to_owned(), |mut s, b| {
        s.push_str(&format!("{b:02x}"));
        s
    }))
}

/// `GET path` on 127.0.0.1:port; the body of a 200 answer.
fn http_get(port: u16, path: &str, token: Option<&str>) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let auth = token.map_or_else(String::new, |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Connection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_owned())
}

/// The public half of a key made by `edgerec keygen` (its `.pub` file, base64).
fn read_public_key(key: &Path) -> Result<String> {
    let path = PathBuf::from(format!("{}.pub", key.display()));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.trim().to_owned())
}

/// Waits until the sync server has published a model; returns its version.
fn wait_for_model(children: &mut Children, port: u16, admin_token: &str) -> Result<u64> {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(300) {
        if let Some(why) = children.exited() {
            bail!("{why} before publishing a model");
        }
        let version = http_get(port, "/health", Some(admin_token)).and_then(|b| {
            let rest = b.split("\"modelVersion\":").nth(1)?;
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u64>().ok()
        });
        if let Some(v) = version.filter(|&v| v >= 1) {
            return Ok(v);
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    bail!("the sync server published no model within 300 s")
}

/// Builds, generates, trains, serves; returns when Ctrl-C was pressed and everything stopped.
pub fn run(root: &Path, args: &[String]) -> Result<()> {
    let opts = parse_args(args)?;
    for (port, flag) in [
        (opts.port, "--port"),
        (opts.sync_port, "--sync-port"),
        (opts.worker_port, "--worker-port"),
    ] {
        check_free(port, flag)?;
    }
    setup::ensure(root, setup::Needs::BUILD)?;
    let out = root.join("target/demo");
    std::fs::create_dir_all(&out)?;
    crate::build_edgerec()?;
    wasm::task(root, "build")?;
    let files = prepare_models(root, &out)?;
    let tokens = Tokens::new()?;
    let stop = stop_on_ctrl_c()?;
    let mut children = Children::default();
    start_worker(root, &opts, &files, &tokens, &mut children)?;
    start_sync_server(root, &opts, &files, &tokens, &mut children)?;
    let version = wait_for_model(&mut children, opts.sync_port, &tokens.admin)?;
    println!("=== the sync server published model v{version}");
    start_storefront(root, &opts, &files, &tokens, &mut children)?;
    wait_for_storefront(&mut children, opts.port)?;
    print_banner(&opts, &files, &tokens);
    run_until_stopped(&stop, &mut children)?;
    println!("=== demo stopped");
    Ok(())
}

/// What the demo's preparation leaves under `target/demo`, and the inputs it trains from.
struct DemoFiles {
    /// The `edgerec` binary.
    bin: PathBuf,
    out: PathBuf,
    /// The generated storefront interactions, items and users.
    data: PathBuf,
    config: PathBuf,
    /// The trained storefront model (private profile, signed).
    model: PathBuf,
    /// Its public profile, signed: what browsers get.
    public_model: PathBuf,
    /// The demo's model-signing key and its public half (base64).
    key: PathBuf,
    public_key: String,
}

/// Generates the storefront data, trains the storefront model, signs it and exports its public
/// profile.
fn prepare_models(root: &Path, out: &Path) -> Result<DemoFiles> {
    let bin = crate::edgerec_bin(root);
    let data = out.join("data");
    step(
        "generate storefront interactions over the retail catalogue",
        Command::new(&bin)
            .args(["generate", "--catalog"])
            .arg(root.join("data/retail"))
            .arg("--out")
            .arg(&data),
    )?;
    let config = root.join("data/demo/edgerec.toml");
    let model = out.join("store.erm");
    step(
        "train the storefront model",
        &mut crate::storefront::train(&bin, &data, &config, &model),
    )?;
    // One signing key for the demo (kept across runs): the trained model and every model the
    // sync server publishes are signed with it, and the local Worker accepts no other.
    let key = out.join("keys/model-signing");
    if !key.is_file() {
        step(
            "make the demo's model-signing key",
            Command::new(&bin).arg("keygen").arg("--output").arg(&key),
        )?;
    }
    let public_key = read_public_key(&key)?;
    step(
        "sign the storefront model",
        Command::new(&bin)
            .arg("sign")
            .arg("--key")
            .arg(&key)
            .arg("--model")
            .arg(&model),
    )?;
    step("inspect", Command::new(&bin).arg("inspect").arg(&model))?;
    // What browsers may get: no shopper's id, metadata, history or factors.
    let public_model = out.join("store.public.erm");
    step(
        "export the storefront model's public profile (signed)",
        Command::new(&bin)
            .args(["export", "--profile", "public", "--model"])
            .arg(&model)
            .arg("--output")
            .arg(&public_model)
            .arg("--sign-key")
            .arg(&key),
    )?;
    Ok(DemoFiles {
        bin,
        out: out.to_owned(),
        data,
        config,
        model,
        public_model,
        key,
        public_key,
    })
}

/// This run's random tokens.
struct Tokens {
    write: String,
    admin: String,
    /// The key the storefront's backend mints shoppers' user tokens with, which the sync server
    /// checks before it hands out a shopper's profile.
    user_token_secret: String,
}

impl Tokens {
    fn new() -> Result<Tokens> {
        Ok(Tokens {
            write: token("demo-write-")?,
            admin: token("demo-admin-")?,
            user_token_secret: token("demo-user-token-")?,
        })
    }
}

impl Options {
    fn sync_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.sync_port)
    }

    fn worker_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.worker_port)
    }

    fn storefront_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// A flag that Ctrl-C sets.
fn stop_on_ctrl_c() -> Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .context("installing the Ctrl-C handler")?;
    Ok(stop)
}

/// The local Cloudflare Worker first (workerd through Miniflare): the same model, accepted only
/// when signed by the demo's key (also the newer models the sync server's publish hook PUTs),
/// the Personalize REST API at the edge, its accepted events forwarded to the sync server. It
/// listens before the sync server starts, so the sync server's first publish reaches it.
fn start_worker(
    root: &Path,
    opts: &Options,
    files: &DemoFiles,
    tokens: &Tokens,
    children: &mut Children,
) -> Result<()> {
    println!("=== start the local Worker on {}", opts.worker_url());
    children.push(
        "worker",
        crate::worker::dev(
            root,
            &files.model,
            Some(files.public_model.as_path()),
            opts.worker_port,
            &opts.sync_url(),
            &tokens.write,
            &files.public_key,
        )?,
    );
    Ok(())
}

/// The sync server: the same seed data, the event log on top, a retrain every 2 minutes when
/// events arrived, each published model also written to target/demo/published.
fn start_sync_server(
    root: &Path,
    opts: &Options,
    files: &DemoFiles,
    tokens: &Tokens,
    children: &mut Children,
) -> Result<()> {
    println!("=== start the sync server on {}", opts.sync_url());
    children.push(
        "edgerec serve",
        Command::new(&files.bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(files.out.join("sync"))
            .args(["--listen", &format!("127.0.0.1:{}", opts.sync_port)])
            .arg("--interactions")
            .arg(files.data.join("interactions.csv"))
            .arg("--items")
            .arg(files.data.join("items.csv"))
            .arg("--users")
            .arg(files.data.join("users.csv"))
            .arg("--config")
            .arg(&files.config)
            .args(["--update-every", "2m"])
            .arg("--sign-key")
            .arg(&files.key)
            .arg("--publish-dir")
            .arg(files.out.join("published"))
            // Each newer model also goes to the local Worker (its hot swap).
            .arg("--publish-hook")
            .arg(format!(
                "node {} http://127.0.0.1:{} {{path}} {{public_path}}",
                shell_quote(&root.join("worker/js/put-model.mjs").to_string_lossy()),
                opts.worker_port
            ))
            .env("EDGEREC_WORKER_TOKEN", &tokens.write)
            .env("EDGEREC_WRITE_TOKEN", &tokens.write)
            .env("EDGEREC_ADMIN_TOKEN", &tokens.admin)
            .env("EDGEREC_USER_TOKEN_SECRET", &tokens.user_token_secret)
            .spawn()
            .context("starting edgerec serve")?,
    );
    Ok(())
}

/// The storefront's origin server: the shop, the package, the catalogue; /api/* to the sync
/// server.
fn start_storefront(
    root: &Path,
    opts: &Options,
    files: &DemoFiles,
    tokens: &Tokens,
    children: &mut Children,
) -> Result<()> {
    children.push(
        "storefront server",
        Command::new("node")
            .arg(root.join("www/server.mjs"))
            .args(["--port", &opts.port.to_string(), "--sync", &opts.sync_url()])
            .arg("--package")
            .arg(root.join("target/npm/edgerec"))
            .arg("--data")
            .arg(&files.data)
            .arg("--catalog")
            .arg(root.join("data/retail"))
            .env("EDGEREC_WRITE_TOKEN", &tokens.write)
            .env("EDGEREC_ADMIN_TOKEN", &tokens.admin)
            .env("EDGEREC_USER_TOKEN_SECRET", &tokens.user_token_secret)
            .spawn()
            .context("starting the storefront server (node www/server.mjs)")?,
    );
    Ok(())
}

/// Waits until the storefront answers `GET /` (at most 30 s).
fn wait_for_storefront(children: &mut Children, port: u16) -> Result<()> {
    let t = Instant::now();
    while http_get(port, "/", None).is_none() {
        if let Some(why) = children.exited() {
            bail!("{why}");
        }
        if t.elapsed() > Duration::from_secs(30) {
            bail!("the storefront did not answer on http://127.0.0.1:{port}/ within 30 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// The URLs, tokens and commands of the running demo.
fn print_banner(opts: &Options, files: &DemoFiles, tokens: &Tokens) {
    println!("{}", banner(opts, files, tokens));
}

fn banner(opts: &Options, files: &DemoFiles, tokens: &Tokens) -> String {
    let storefront = opts.storefront_url();
    let sync_url = opts.sync_url();
    let worker_url = opts.worker_url();
    let (admin_token, write_token) = (&tokens.admin, &tokens.write);
    format!(
        "
edgerec demo is running (Ctrl-C stops it):

  Storefront                      {storefront}
  Sync server health / metrics    {sync_url}/health   {sync_url}/metrics   (admin token)
  Published model (signed)        {sync_url}/model   (private: admin token; also {published})
  Public model (what browsers get) {sync_url}/model/public   {worker_url}/model
  Worker (Personalize REST API)   {worker_url}/health   POST {worker_url}/recommendations
  Model file (trained above)      {model}
  Ports: storefront {port}, sync server {sync_port}, Worker {worker_port} (--port, --sync-port, --worker-port)

  The shop computes every recommendation in the browser. Events go to the sync server, which
  retrains every 2 minutes when new events arrived; the page swaps the new model in by itself.
  Signing in as a demo shopper (the selector at the top) fetches that shopper's own profile
  with a user token the storefront's backend mints, and loads it into the page's engine.
  Retrain now:  curl -X POST -H 'Authorization: Bearer {admin_token}' '{sync_url}/retrain?mode=full&wait=true'
  Write token (PutEvents at {sync_url}/events): {write_token}
  The Worker answers anonymous lists to anyone; reads that name a userId and every write need
  Authorization: Bearer {write_token}
",
        published = files.out.join("published/model.erm").display(),
        model = files.model.display(),
        port = opts.port,
        sync_port = opts.sync_port,
        worker_port = opts.worker_port,
    )
}

/// Runs until Ctrl-C (then stops every child) or until a child stops on its own (an error).
fn run_until_stopped(stop: &AtomicBool, children: &mut Children) -> Result<()> {
    while !stop.load(Ordering::SeqCst) {
        if let Some(why) = children.exited() {
            // A Ctrl-C in the terminal reaches the children too; give the handler a moment.
            std::thread::sleep(Duration::from_millis(500));
            if stop.load(Ordering::SeqCst) {
                break;
            }
            children.stop();
            bail!("{why}; the demo stopped");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    println!("\n=== Ctrl-C: stopping the storefront and the sync server");
    children.stop();
    Ok(())
}

/// The storefront in headless Chromium against a real sync server (www/test). Needs the npm
/// package (`wasm::test` builds it) and the `edgerec` binary (`crate::edgerec_bin`).
pub fn test(root: &Path) -> Result<()> {
    let artefacts: PathBuf = root.join("target/test-artefacts/storefront");
    step(
        "storefront: headless Chromium (personalisation, offline, outbox sync, model refresh, installable)",
        Command::new("node")
            .args(["--test", "--test-concurrency=1"])
            .arg(root.join("www/test"))
            .current_dir(root)
            .env("EDGEREC_BIN", crate::edgerec_bin(root))
            .env(
                "EDGEREC_TOOLS",
                root.join("packages/edgerec/tools/node_modules"),
            )
            .env("EDGEREC_PACKAGE", root.join("target/npm/edgerec"))
            .env("EDGEREC_ARTEFACTS", &artefacts),
    )?;
    println!("=== storefront artefacts: {}", artefacts.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{DemoFiles, Options, Tokens, banner};

    /// The banner a demo prints once everything answers, with every URL and token in place.
    #[test]
    fn banner_is_pinned() {
        let opts = Options {
            port: 8080,
            sync_port: 8787,
            worker_port: 8788,
        };
        let out = PathBuf::from("/r/target/demo");
        let files = DemoFiles {
            bin: PathBuf::from("/r/target/debug/edgerec"),
            data: out.join("data"),
            config: PathBuf::from("/r/data/demo/edgerec.toml"),
            model: out.join("store.erm"),
            public_model: out.join("store.public.erm"),
            key: out.join("keys/model-signing"),
            public_key: "KEY".into(),
            out,
        };
        let tokens = Tokens {
            write: "W".into(),
            admin: "A".into(),
            user_token_secret: "U".into(),
        };
        assert_eq!(
            banner(&opts, &files, &tokens),
            "
edgerec demo is running (Ctrl-C stops it):

  Storefront                      http://127.0.0.1:8080/
  Sync server health / metrics    http://127.0.0.1:8787/health   http://127.0.0.1:8787/metrics   (admin token)
  Published model (signed)        http://127.0.0.1:8787/model   (private: admin token; also /r/target/demo/published/model.erm)
  Public model (what browsers get) http://127.0.0.1:8787/model/public   http://127.0.0.1:8788/model
  Worker (Personalize REST API)   http://127.0.0.1:8788/health   POST http://127.0.0.1:8788/recommendations
  Model file (trained above)      /r/target/demo/store.erm
  Ports: storefront 8080, sync server 8787, Worker 8788 (--port, --sync-port, --worker-port)

  The shop computes every recommendation in the browser. Events go to the sync server, which
  retrains every 2 minutes when new events arrived; the page swaps the new model in by itself.
  Signing in as a demo shopper (the selector at the top) fetches that shopper's own profile
  with a user token the storefront's backend mints, and loads it into the page's engine.
  Retrain now:  curl -X POST -H 'Authorization: Bearer A' 'http://127.0.0.1:8787/retrain?mode=full&wait=true'
  Write token (PutEvents at http://127.0.0.1:8787/events): W
  The Worker answers anonymous lists to anyone; reads that name a userId and every write need
  Authorization: Bearer W
"
        );
    }
}
