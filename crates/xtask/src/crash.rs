//! `cargo xtask crash`: the sync server's durability test and ingest measurements, all on
//! 127.0.0.1 against `edgerec serve` (the release build; the tests' build under `cargo xtask test`).
//!
//! 1. Ingest rate: loader threads post PutEvents batches (100 / 500 / 1000 events, unique
//!    ids) over keep-alive connections for a fixed time; acknowledged events/s and the p50/p99
//!    acknowledgement latency per batch size.
//! 2. Crash: loaders post batches with unique ids while the server is killed with SIGKILL and
//!    restarted several times; a batch that was not acknowledged is retried (as an edge outbox
//!    does). Afterwards every acknowledged event must be in the store exactly once.
//! 3. Event → published model: with `--update-every 1s`, the time from posting an event to
//!    `GET /model` serving a model that contains it.
//!
//! Every loop is bounded in time and stops by itself.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

const WRITE: &str = "crash-test-write-token";
const ADMIN: &str = "crash-test-admin-token";

/// How much to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub bench_seconds: f64,
    pub batch_sizes: &'static [usize],
    pub kills: usize,
    pub loaders: usize,
}

impl Plan {
    /// The short run inside `cargo xtask test`.
    pub const QUICK: Plan = Plan {
        bench_seconds: 3.0,
        batch_sizes: &[100, 1000],
        kills: 3,
        loaders: 4,
    };
    /// `cargo xtask crash`.
    pub const FULL: Plan = Plan {
        bench_seconds: 6.0,
        batch_sizes: &[100, 500, 1000],
        kills: 6,
        loaders: 4,
    };
}

/// A running `edgerec serve`.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(bin: &Path, data: &Path, listen: &str, extra: &[&str]) -> Result<Server> {
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args([
                "--listen",
                listen,
                "--write-token",
                WRITE,
                "--admin-token",
                ADMIN,
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix("listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            bail!("edgerec serve did not start: first line {line:?}");
        };
        if !addr.starts_with("127.") {
            let _ = child.kill();
            bail!("refusing a non-loopback address {addr}");
        }
        Ok(Server {
            addr: addr.to_owned(),
            child,
        })
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    r: BufReader<TcpStream>,
}

impl Conn {
    fn open(addr: &str) -> std::io::Result<Conn> {
        let s = TcpStream::connect(addr)?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(20)))?;
        s.set_write_timeout(Some(Duration::from_secs(20)))?;
        Ok(Conn {
            r: BufReader::new(s),
        })
    }

    /// Sends a request and reads the answer: (status, body).
    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
            body.len()
        );
        if let Some(t) = token {
            head.push_str(&format!(
                "Authorization: Bearer {t}\r\nContent-Type: application/json\r\n"
            ));
        }
        head.push_str("\r\n");
        let s = self.r.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let mut line = String::new();
        if self.r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.r.read_line(&mut line)? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut out = vec![0; length];
        self.r.read_exact(&mut out)?;
        Ok((status, out))
    }
}

/// A PutEvents body with ids `{prefix}-{first}..{first+n}`.
fn batch_body(prefix: &str, first: u64, n: usize) -> String {
    let mut b = String::with_capacity(n * 110 + 64);
    b.push_str(&format!(
        r#"{{"sessionId":"{prefix}-s{first}","userId":"{prefix}-u{}","eventList":["#,
        first % 997
    ));
    for i in 0..n as u64 {
        if i > 0 {
            b.push(',');
        }
        let id = first + i;
        b.push_str(&format!(
            r#"{{"eventId":"{prefix}-{id}","eventType":"click","itemId":"item-{}","sentAt":{}}}"#,
            id % 5000,
            1_700_000_000 + id
        ));
    }
    b.push_str("]}");
    b
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One ingest-rate measurement.
#[derive(Debug)]
pub struct Rate {
    pub batch: usize,
    pub events_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: usize,
}

fn bench(bin: &Path, work: &Path, plan: Plan, batch: usize) -> Result<Rate> {
    let data = work.join(format!("bench-{batch}"));
    let _ = std::fs::remove_dir_all(&data);
    let server = Server::start(bin, &data, "127.0.0.1:0", &["--no-train-on-start"])?;
    let addr = server.addr.clone();
    let acked = Arc::new(AtomicU64::new(0));
    let lat = Arc::new(Mutex::new(Vec::<f64>::new()));
    let errors = Arc::new(AtomicU64::new(0));
    let t0 = Instant::now();
    let deadline = t0 + Duration::from_secs_f64(plan.bench_seconds);
    std::thread::scope(|sc| {
        for w in 0..plan.loaders {
            let (addr, acked, lat, errors) = (&addr, &acked, &lat, &errors);
            sc.spawn(move || {
                let mut local = Vec::new();
                let mut next = (w as u64) << 40;
                let mut conn: Option<Conn> = None;
                while Instant::now() < deadline {
                    let body = batch_body("bench", next, batch);
                    let c = match conn.take() {
                        Some(c) => c,
                        None => match Conn::open(addr) {
                            Ok(c) => c,
                            Err(_) => {
                                errors.fetch_add(1, Ordering::Relaxed);
                                std::thread::sleep(Duration::from_millis(20));
                                continue;
                            }
                        },
                    };
                    let mut c = c;
                    let t = Instant::now();
                    match c.request("POST", "/events", Some(WRITE), body.as_bytes()) {
                        Ok((200, _)) => {
                            local.push(t.elapsed().as_secs_f64() * 1000.0);
                            acked.fetch_add(batch as u64, Ordering::Relaxed);
                            next += batch as u64;
                            conn = Some(c);
                        }
                        _ => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                if let Ok(mut l) = lat.lock() {
                    l.extend(local);
                }
            });
        }
    });
    let secs = t0.elapsed().as_secs_f64();
    server.kill();
    let _ = std::fs::remove_dir_all(&data);
    let mut l = lat.lock().map(|v| v.clone()).unwrap_or_default();
    l.sort_by(f64::total_cmp);
    if errors.load(Ordering::Relaxed) > 0 {
        bail!(
            "ingest benchmark (batch {batch}): {} failed requests",
            errors.load(Ordering::Relaxed)
        );
    }
    #[allow(clippy::cast_precision_loss)]
    Ok(Rate {
        batch,
        events_per_s: acked.load(Ordering::Relaxed) as f64 / secs,
        p50_ms: percentile(&l, 0.5),
        p99_ms: percentile(&l, 0.99),
        requests: l.len(),
    })
}

/// The crash test's counts.
#[derive(Debug, Default)]
pub struct CrashCounts {
    pub sent: u64,
    pub acknowledged: u64,
    pub stored: u64,
    pub stored_unacknowledged: u64,
    pub duplicates: u64,
    pub lost: u64,
    pub kills: usize,
    pub retried_batches: u64,
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn crash(bin: &Path, work: &Path, plan: Plan) -> Result<CrashCounts> {
    let data = work.join("crash");
    let _ = std::fs::remove_dir_all(&data);
    let listen = format!("127.0.0.1:{}", free_port()?);
    let mut server = Some(Server::start(
        bin,
        &data,
        &listen,
        &["--no-train-on-start"],
    )?);
    let stop = AtomicBool::new(false);
    // Per loader: the ids of every batch sent, and whether it was acknowledged.
    let sent = AtomicU64::new(0);
    let acked_ids: Mutex<Vec<(u64, usize)>> = Mutex::new(Vec::new());
    let retried = AtomicU64::new(0);
    let mut counts = CrashCounts::default();
    let hard_deadline = Instant::now() + Duration::from_secs(120 + 30 * plan.kills as u64);
    std::thread::scope(|sc| -> Result<()> {
        for w in 0..plan.loaders {
            let (listen, stop, sent, acked_ids, retried) =
                (&listen, &stop, &sent, &acked_ids, &retried);
            sc.spawn(move || {
                let batch = 100usize;
                let mut next = (w as u64) << 40;
                let mut pending: Option<(u64, String)> = None;
                let mut conn: Option<Conn> = None;
                let mut local = Vec::new();
                while !stop.load(Ordering::Relaxed) && Instant::now() < hard_deadline {
                    let (first, body) = match pending.take() {
                        Some(p) => {
                            retried.fetch_add(1, Ordering::Relaxed);
                            p
                        }
                        None => {
                            let b = batch_body("crash", next, batch);
                            let first = next;
                            next += batch as u64;
                            sent.fetch_add(batch as u64, Ordering::Relaxed);
                            (first, b)
                        }
                    };
                    let mut c = match conn.take().map_or_else(|| Conn::open(listen), Ok) {
                        Ok(c) => c,
                        Err(_) => {
                            pending = Some((first, body));
                            std::thread::sleep(Duration::from_millis(25));
                            continue;
                        }
                    };
                    match c.request("POST", "/events", Some(WRITE), body.as_bytes()) {
                        Ok((200, _)) => {
                            local.push((first, batch));
                            conn = Some(c);
                        }
                        _ => {
                            // Not acknowledged: keep it in the "outbox" and retry.
                            pending = Some((first, body));
                            std::thread::sleep(Duration::from_millis(25));
                        }
                    }
                }
                if let Ok(mut a) = acked_ids.lock() {
                    a.extend(local);
                }
            });
        }
        let mut k = 0usize;
        while k < plan.kills && Instant::now() < hard_deadline {
            // Irregular intervals: 0.6 s to 1.5 s.
            let wait = 600 + (k as u64 * 347) % 900;
            std::thread::sleep(Duration::from_millis(wait));
            if let Some(s) = server.take() {
                s.kill();
            }
            k += 1;
            std::thread::sleep(Duration::from_millis(100));
            server = Some(Server::start(
                bin,
                &data,
                &listen,
                &["--no-train-on-start"],
            )?);
        }
        counts.kills = k;
        std::thread::sleep(Duration::from_millis(800));
        stop.store(true, Ordering::Relaxed);
        Ok(())
    })?;
    // The loaders have stopped; kill the last server too, without a graceful shutdown.
    if let Some(s) = server.take() {
        s.kill();
    }
    counts.kills += 1;
    counts.sent = sent.load(Ordering::Relaxed);
    counts.retried_batches = retried.load(Ordering::Relaxed);
    let acked = acked_ids.lock().map(|a| a.clone()).unwrap_or_default();
    // What the store holds, read back through `edgerec report --event-ids`.
    let out = Command::new(bin)
        .args(["report", "--data-dir"])
        .arg(&data)
        .arg("--event-ids")
        .output()
        .context("edgerec report --event-ids")?;
    if !out.status.success() {
        bail!(
            "edgerec report --event-ids failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = String::from_utf8(out.stdout)?;
    let mut seen: HashMap<&str, u32> = HashMap::new();
    for id in text.lines() {
        *seen.entry(id).or_default() += 1;
    }
    counts.stored = text.lines().count() as u64;
    counts.duplicates = seen
        .values()
        .filter(|&&n| n > 1)
        .map(|&n| u64::from(n - 1))
        .sum();
    let mut acked_set = std::collections::HashSet::new();
    for (first, n) in &acked {
        for id in *first..*first + *n as u64 {
            let key = format!("crash-{id}");
            if !seen.contains_key(key.as_str()) {
                counts.lost += 1;
            }
            acked_set.insert(key);
        }
    }
    counts.acknowledged = acked_set.len() as u64;
    counts.stored_unacknowledged = seen.keys().filter(|k| !acked_set.contains(**k)).count() as u64;
    let _ = std::fs::remove_dir_all(&data);
    Ok(counts)
}

/// Time from posting events to `GET /model` serving a model that contains them.
fn event_to_model(bin: &Path, work: &Path) -> Result<Vec<f64>> {
    let data = work.join("latency");
    let _ = std::fs::remove_dir_all(&data);
    let server = Server::start(
        bin,
        &data,
        "127.0.0.1:0",
        &[
            "--no-train-on-start",
            "--update-every",
            "1s",
            "--no-eval-gate",
        ],
    )?;
    let result = (|| -> Result<Vec<f64>> {
        let mut c = Conn::open(&server.addr)?;
        let mut out = Vec::new();
        let mut version = 0u64;
        for round in 0..3u64 {
            let t = Instant::now();
            let (st, _) = c.request(
                "POST",
                "/events",
                Some(WRITE),
                batch_body(&format!("lat{round}"), round * 1000, 200).as_bytes(),
            )?;
            if st != 200 {
                bail!("posting events answered {st}");
            }
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let (st, body) = c.request("GET", "/health", Some(ADMIN), b"")?;
                let text = String::from_utf8_lossy(&body);
                let v = text
                    .split("\"modelVersion\":")
                    .nth(1)
                    .and_then(|r| r.split([',', '}']).next())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(0);
                if st == 200 && v > version {
                    version = v;
                    out.push(t.elapsed().as_secs_f64());
                    break;
                }
                if Instant::now() > deadline {
                    bail!("no model containing the round-{round} events within 120 s");
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(out)
    })();
    server.kill();
    let _ = std::fs::remove_dir_all(&data);
    result
}

/// Runs the measurements and the crash test; fails on any lost or duplicated event.
pub fn run(root: &Path, plan: Plan) -> Result<()> {
    crate::build_edgerec()?;
    let bin = crate::edgerec_bin(root);
    let work: PathBuf = root.join("target/crash-test");
    std::fs::create_dir_all(&work)?;
    println!(
        "=== sync server: ingest rate (durable, acknowledged; {} loader connections on 127.0.0.1)",
        plan.loaders
    );
    for &b in plan.batch_sizes {
        let r = bench(&bin, &work, plan, b)?;
        println!(
            "    batch {:>4}: {:>8.0} events/s  ack latency p50 {:>6.1} ms  p99 {:>6.1} ms  ({} requests)",
            r.batch, r.events_per_s, r.p50_ms, r.p99_ms, r.requests
        );
    }
    println!(
        "=== sync server: crash test ({} SIGKILLs while {} loaders post batches of 100)",
        plan.kills, plan.loaders
    );
    let c = crash(&bin, &work, plan)?;
    println!(
        "    sent {}  acknowledged {}  stored {}  (stored but unacknowledged {})  duplicates {}  lost {}  kills {}  retried batches {}",
        c.sent,
        c.acknowledged,
        c.stored,
        c.stored_unacknowledged,
        c.duplicates,
        c.lost,
        c.kills,
        c.retried_batches
    );
    if c.lost > 0 || c.duplicates > 0 {
        bail!(
            "crash test failed: {} acknowledged events lost, {} duplicates",
            c.lost,
            c.duplicates
        );
    }
    if c.acknowledged == 0 {
        bail!("crash test acknowledged no events");
    }
    if c.stored > c.sent {
        bail!(
            "crash test: the store holds {} events but only {} were sent",
            c.stored,
            c.sent
        );
    }
    println!("=== sync server: event → published model (--update-every 1s)");
    let l = event_to_model(&bin, &work)?;
    let shown: Vec<String> = l.iter().map(|s| format!("{s:.2} s")).collect();
    println!("    {}", shown.join(", "));
    println!("=== sync server: crash test ok");
    Ok(())
}
