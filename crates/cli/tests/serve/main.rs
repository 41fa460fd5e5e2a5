#![allow(clippy::unwrap_used)]
//! `edgerec serve` over real HTTP on loopback: the binary is started on 127.0.0.1 with a free
//! port and driven with an HTTP client.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use edgerec_core::Engine;
use edgerec_core::request::GetRecommendationsRequest;
use serde_json::{Value, json};

#[path = "../../../core/tests/public_model/mod.rs"]
mod public_model;

mod admin;
mod ingest;
mod lake;
mod profiles;
mod retrain;
mod segment;

const WRITE: &str = "test-write-token";
const ADMIN: &str = "test-admin-token";

struct Server {
    child: Child,
    base: String,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "edgerec-serve-test-{}-{tag}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn start(tag: &str, extra: &[&str]) -> Server {
    let dir = temp_dir(tag);
    start_in(dir, extra)
}

fn start_in(dir: PathBuf, extra: &[&str]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args([
            "--listen",
            "127.0.0.1:0",
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
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    Server {
        child,
        base: format!("http://{addr}"),
        dir,
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn collect(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Resp {
    let mut r = r.unwrap();
    let headers = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap_or_default();
    Resp {
        status,
        headers,
        body,
    }
}

impl Server {
    /// Kills the server (SIGKILL) and hands its folder over instead of deleting it.
    fn kill_keep_dir(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::take(&mut self.dir)
    }

    fn post(&self, path: &str, token: Option<&str>, body: &str) -> Resp {
        let mut req = agent()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        collect(req.send(body))
    }

    fn get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let mut req = agent().get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        collect(req.call())
    }

    /// A GET with the admin token.
    fn admin_get(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        let auth = format!("Bearer {ADMIN}");
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        self.get(path, &all)
    }

    fn stored_events(&self) -> u64 {
        self.admin_get("/health", &[]).json()["store"]["events"]
            .as_u64()
            .unwrap()
    }

    fn metrics_text(&self) -> String {
        let r = self.admin_get("/metrics", &[]);
        assert_eq!(r.status, 200);
        String::from_utf8(r.body).unwrap()
    }

    fn metric(&self, name: &str) -> f64 {
        let text = self.metrics_text();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("metric {name} not found in\n{text}"))
    }
}

/// Sends only the headers of a POST with a large `Content-Length`, then reads the answer.
fn raw_post(s: &Server, path: &str, token: &str, length: usize) -> (u16, String) {
    use std::io::{Read, Write};
    let addr = s.base.strip_prefix("http://").unwrap();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = c.read_to_string(&mut out);
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = out.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

fn event(id: &str, t: &str, item: &str, at: u64) -> Value {
    json!({"eventId": id, "eventType": t, "itemId": item, "sentAt": at})
}

fn batch(session: &str, user: Option<&str>, events: &[Value]) -> String {
    let mut b = json!({"trackingId": "t", "sessionId": session, "eventList": events});
    if let Some(u) = user {
        b["userId"] = json!(u);
    }
    b.to_string()
}

/// Events where every user views a few catalogue items and `hot` many times.
fn traffic(prefix: &str, users: usize, hot: &str, t0: u64) -> Vec<String> {
    let mut bodies = Vec::new();
    for u in 0..users {
        let mut ev = Vec::new();
        for k in 0..6 {
            ev.push(event(
                &format!("{prefix}-{u}-{k}"),
                "click",
                &format!("item-{}", (u * 3 + k) % 40),
                t0 + (u * 10 + k) as u64,
            ));
        }
        ev.push(event(
            &format!("{prefix}-{u}-hot"),
            "click",
            hot,
            t0 + (u * 10 + 9) as u64,
        ));
        bodies.push(batch(
            &format!("{prefix}-session-{u}"),
            Some(&format!("user-{u}")),
            &ev,
        ));
    }
    bodies
}

/// The lines of /metrics that the store's counters make.
fn store_lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| {
            [
                "edgerec_store_",
                "edgerec_recommendations_total{",
                "edgerec_impressions_total{",
                "edgerec_clicks_total{",
                "edgerec_attributed_events_total{",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

/// /health and /metrics (in-memory counters) against a fresh read of the store.
fn assert_counters_match_the_store(s: &Server) {
    use edgerec_server::counters::Totals;
    use edgerec_server::metrics::Metrics;
    let db = edgerec_server::store::open_read_only(&s.dir.join("data")).unwrap();
    let totals = Totals::load(&db).unwrap();
    let health = s.admin_get("/health", &[]).json();
    assert_eq!(
        health["store"],
        serde_json::to_value(totals.counts).unwrap()
    );
    let expected = store_lines(&Metrics::default().render(&totals, "click", false));
    assert_eq!(store_lines(&s.metrics_text()), expected);
}

/// Unix seconds now.
fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
