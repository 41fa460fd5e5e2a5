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

#[path = "../../core/tests/public_model/mod.rs"]
mod public_model;

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

#[test]
fn auth_scopes_are_enforced() {
    let s = start("auth", &["--no-train-on-start"]);
    let body = batch(
        "s1",
        Some("u1"),
        &[event("e1", "click", "i1", 1_700_000_000)],
    );
    let r = s.post("/events", None, &body);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["__type"], "UnauthorizedException");
    assert_eq!(r.header("x-amzn-ErrorType"), Some("UnauthorizedException"));
    assert_eq!(s.post("/events", Some("nope"), &body).status, 401);
    assert_eq!(
        s.post("/items", None, r#"{"items":[{"itemId":"a"}]}"#)
            .status,
        401
    );
    assert_eq!(
        s.post("/users", Some("nope"), r#"{"users":[{"userId":"a"}]}"#)
            .status,
        401
    );
    // The write token cannot use admin routes.
    let r = s.post("/retrain?mode=full", Some(WRITE), "");
    assert_eq!(r.status, 403);
    assert_eq!(r.json()["__type"], "AccessDeniedException");
    assert_eq!(s.post("/retrain", None, "").status, 401);
    assert_eq!(
        s.get(
            "/retrains",
            &[("authorization", &format!("Bearer {WRITE}"))]
        )
        .status,
        403
    );
    assert_eq!(
        s.get(
            "/retrains",
            &[("authorization", &format!("Bearer {ADMIN}"))]
        )
        .status,
        200
    );
    // Nothing was stored by the refused requests.
    assert_eq!(s.stored_events(), 0);
    // The write token works on write routes, and so does the admin token.
    assert_eq!(s.post("/events", Some(WRITE), &body).status, 200);
    let body2 = batch(
        "s1",
        Some("u1"),
        &[event("e2", "click", "i1", 1_700_000_000)],
    );
    assert_eq!(s.post("/events", Some(ADMIN), &body2).status, 200);
    assert_eq!(
        s.post(
            "/items",
            Some(WRITE),
            r#"{"items":[{"itemId":"a","properties":"{\"price\":3}"}]}"#
        )
        .status,
        200
    );
    assert_eq!(
        s.post("/users", Some(WRITE), r#"{"users":[{"userId":"u1"}]}"#)
            .status,
        200
    );
    assert_eq!(s.stored_events(), 2);
    assert_eq!(s.metric("edgerec_unauthorized_total"), 5.0);
    assert_eq!(s.metric("edgerec_forbidden_total"), 2.0);
}

#[test]
fn bad_input_is_rejected_whole_and_names_the_field() {
    let s = start(
        "limits",
        &["--no-train-on-start", "--max-body-bytes", "200000"],
    );
    let cases: Vec<(String, u16, &str)> = vec![
        ("{not json".into(), 400, "body"),
        ("[1,2]".into(), 400, "body"),
        (r#"{"eventList":[]}"#.into(), 400, "sessionId"),
        (
            r#"{"sessionId":"s","eventList":[]}"#.into(),
            400,
            "eventList",
        ),
        (
            batch(
                "s",
                None,
                &[
                    event("ok-1", "click", "i", 1),
                    json!({"eventId": "x", "eventType": "click"}),
                ],
            ),
            400,
            "eventList[1].sentAt",
        ),
        (
            batch("s", None, &[json!({"eventType": "", "sentAt": 1})]),
            400,
            "eventList[0].eventType",
        ),
        (
            batch(
                "s",
                None,
                &[json!({"eventType": "c", "sentAt": "yesterday"})],
            ),
            400,
            "eventList[0].sentAt",
        ),
        (
            batch(
                "s",
                None,
                &[json!({"eventType": "c", "sentAt": 1, "properties": "{\"sessionId\":\"x\"}"})],
            ),
            400,
            "eventList[0].properties",
        ),
        (
            batch(
                "s",
                None,
                &[json!({"eventType": "c", "sentAt": 1, "recommendationId": "r".repeat(41)})],
            ),
            400,
            "eventList[0].recommendationId",
        ),
        (
            batch(
                "s",
                None,
                &[json!({"eventType": "c", "sentAt": 1, "impression": vec!["i"; 26]})],
            ),
            400,
            "eventList[0].impression",
        ),
        (
            batch(&"s".repeat(257), None, &[event("e", "c", "i", 1)]),
            400,
            "sessionId",
        ),
        // A key Personalize reserves, in the core's contract: the edge refuses it too.
        (
            batch(
                "s",
                None,
                &[json!({"eventType": "c", "sentAt": 1, "properties": "{\"userId\":\"x\"}"})],
            ),
            400,
            "eventList[0].properties",
        ),
        (
            batch(
                "s",
                None,
                &[json!({"eventType": "c", "sentAt": 1, "impression": []})],
            ),
            400,
            "eventList[0].impression",
        ),
        (
            batch(
                "s",
                None,
                &[
                    json!({"eventType": "c", "sentAt": 1, "metricAttribution": {"eventAttributionSource": "caf\u{e9}"}}),
                ],
            ),
            400,
            "eventList[0].metricAttribution.eventAttributionSource",
        ),
    ];
    for (body, status, field) in &cases {
        let r = s.post("/events", Some(WRITE), body);
        assert_eq!(r.status, *status, "{body}: {:?}", r.json());
        assert_eq!(r.json()["__type"], "InvalidInputException");
        assert_eq!(r.json()["field"], *field, "{body}");
        assert!(
            r.json()["message"].as_str().unwrap().starts_with(field),
            "{:?}",
            r.json()
        );
    }
    // 1000 events per request are accepted (an edge outbox batch); 1001 are not.
    let events: Vec<Value> = (0..1001)
        .map(|i| event(&format!("big-{i}"), "view", "i", 1))
        .collect();
    let r = s.post("/events", Some(WRITE), &batch("s", None, &events));
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("eventList"))
    );
    let r = s.post("/events", Some(WRITE), &batch("s", None, &events[..1000]));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["stored"], 1000);
    // Body limit: refused from the declared length, before the body is read.
    let (status, body) = raw_post(&s, "/events", WRITE, 300_000);
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("InvalidInputException") && body.contains("200000"),
        "{body}"
    );
    // Items and users.
    let r = s.post(
        "/items",
        Some(WRITE),
        r#"{"items":[{"itemId":"a"},{"properties":"{}"}]}"#,
    );
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("items[1].itemId"))
    );
    let r = s.post(
        "/users",
        Some(WRITE),
        r#"{"users":[{"userId":"a","properties":"not json"}]}"#,
    );
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("users[0].properties"))
    );
    let r = s.post("/retrain?mode=sideways", Some(ADMIN), "");
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("mode")));
    // Only the one good batch was stored.
    assert_eq!(s.stored_events(), 1000);
    assert_eq!(s.metric("edgerec_events_stored_total"), 1000.0);
}

#[test]
fn replays_are_deduplicated() {
    let s = start("dedupe", &["--no-train-on-start"]);
    let events: Vec<Value> = (0..50)
        .map(|i| {
            event(
                &format!("d-{i}"),
                "click",
                &format!("i{}", i % 7),
                1_700_000_000 + i,
            )
        })
        .collect();
    let body = batch("s1", Some("u1"), &events);
    let r = s.post("/events", Some(WRITE), &body);
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(50), Some(0))
    );
    let r = s.post("/events", Some(WRITE), &body);
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(0), Some(50))
    );
    // Events without an id get a server-assigned id derived from their content, so a replayed
    // batch is harmless too; a different event is stored.
    let anon = batch(
        "s2",
        None,
        &[json!({"eventType": "view", "itemId": "i1", "sentAt": 1_700_000_100})],
    );
    assert_eq!(s.post("/events", Some(WRITE), &anon).json()["stored"], 1);
    assert_eq!(
        s.post("/events", Some(WRITE), &anon).json()["duplicates"],
        1
    );
    let other = batch(
        "s2",
        None,
        &[json!({"eventType": "view", "itemId": "i1", "sentAt": 1_700_000_101})],
    );
    assert_eq!(s.post("/events", Some(WRITE), &other).json()["stored"], 1);
    // Concurrent replays of the same batch: stored exactly once.
    let events: Vec<Value> = (0..200)
        .map(|i| event(&format!("c-{i}"), "view", "i2", 1_700_000_000 + i))
        .collect();
    let body = batch("s3", Some("u3"), &events);
    let stored: u64 = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..4)
            .map(|_| {
                sc.spawn(|| {
                    s.post("/events", Some(WRITE), &body).json()["stored"]
                        .as_u64()
                        .unwrap()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(stored, 200);
    assert_eq!(s.stored_events(), 50 + 2 + 200);
    assert_eq!(
        s.metric("edgerec_events_deduplicated_total"),
        50.0 + 1.0 + 600.0
    );
}

/// The public key of the server's signing key, from its tokens file.
fn signing_key(s: &Server) -> edgerec_trainer::signing::PublicKey {
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(s.dir.join("data/tokens.json")).unwrap()).unwrap();
    edgerec_trainer::signing::PublicKey::parse(tokens["signingPublicKey"].as_str().unwrap())
        .unwrap()
}

/// A copy of a model with one byte of its catalogue section flipped and the section's and the
/// header's CRCs recomputed: a file the decoder accepts.
fn tamper(bytes: &[u8]) -> Vec<u8> {
    let info = edgerec_core::format::read_header(bytes).unwrap();
    let cat = info
        .sections
        .iter()
        .find(|x| x.kind == edgerec_core::format::SectionKind::Catalog)
        .unwrap();
    let mut out = bytes.to_vec();
    let (start, len) = (cat.offset as usize, cat.length as usize);
    out[start + len / 2] ^= 0x20;
    let crc = crc32(&out[start..start + len]);
    let at = 32 + 24 * cat.index + 4;
    out[at..at + 4].copy_from_slice(&crc.to_le_bytes());
    let end = 32 + 24 * info.sections.len();
    let crc = crc32(&out[..end]);
    out[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    out
}

/// CRC-32 (IEEE), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in bytes {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 == 1 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
    }
    !c
}

fn top_popular(bytes: &[u8], n: u32) -> Vec<String> {
    let engine = Engine::from_bytes(bytes).unwrap();
    let req = GetRecommendationsRequest {
        recommender: Some("popularity-count".into()),
        num_results: Some(n),
        ..GetRecommendationsRequest::default()
    };
    engine
        .get_recommendations(&req)
        .unwrap()
        .item_list
        .into_iter()
        .map(|p| p.item_id)
        .collect()
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

#[test]
fn ingest_retrain_publish_cycle() {
    let dir = temp_dir("cycle");
    let publish = dir.join("published");
    let hook_log = dir.join("hook.log");
    let hook_dir = dir.join("hook");
    std::fs::create_dir_all(&hook_dir).unwrap();
    // The hook keeps a copy of what it was handed, to check its signature afterwards.
    let hook = format!(
        "echo {{version}} {{path}} >> '{}' && cp {{path}} '{}/v{{version}}.erm'",
        hook_log.display(),
        hook_dir.display()
    );
    let s = start_in(
        dir.clone(),
        &[
            "--no-train-on-start",
            // The gate has its own test; on these few shoppers the k-anonymity floor moves
            // split A by more than its allowed drop between retrains.
            "--no-eval-gate",
            "--publish-dir",
            publish.to_str().unwrap(),
            "--publish-hook",
            &hook,
            "--keep-models",
            "2",
        ],
    );
    assert_eq!(s.admin_get("/model", &[]).status, 404);
    for b in traffic("a", 30, "hot-a", 1_700_000_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    let r = s.post("/retrain?mode=full&wait=true", Some(ADMIN), "");
    assert_eq!(r.status, 200, "{:?}", r.json());
    let o = r.json();
    assert_eq!(o["status"], "published", "{o}");
    assert_eq!(o["version"], 1);
    assert!(o["eventToModelMs"].as_i64().unwrap() >= 0);
    let m1 = s.admin_get("/model", &[]);
    assert_eq!(m1.status, 200);
    let etag1 = m1.header("etag").unwrap().to_owned();
    assert_eq!(m1.header("x-edgerec-model-version"), Some("1"));
    assert_eq!(top_popular(&m1.body, 1), ["hot-a"]);
    assert_eq!(
        edgerec_core::format::decode(&m1.body).unwrap().meta.version,
        1
    );
    assert_eq!(
        s.admin_get("/model", &[("if-none-match", &etag1)]).status,
        304
    );

    // New events (some anonymous sessions that later identify) make hot-b the most popular.
    for b in traffic("b", 40, "hot-b", 1_700_100_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    for u in 0..5 {
        let anon = batch(
            &format!("anon-{u}"),
            None,
            &[event(
                &format!("anon-{u}-1"),
                "click",
                "hot-b",
                1_700_200_000,
            )],
        );
        assert_eq!(s.post("/events", Some(WRITE), &anon).status, 200);
        let known = batch(
            &format!("anon-{u}"),
            Some(&format!("late-user-{u}")),
            &[event(
                &format!("anon-{u}-2"),
                "click",
                "item-1",
                1_700_200_010,
            )],
        );
        assert_eq!(s.post("/events", Some(WRITE), &known).status, 200);
    }
    let o = s
        .post("/retrain?mode=update&wait=true", Some(ADMIN), "")
        .json();
    assert_eq!(o["status"], "published", "{o}");
    assert_eq!(o["version"], 2);
    assert_eq!(o["mode"], "update");
    assert_eq!(o["training"], "update", "warm-started from v1");
    assert_eq!(o["snapshot"]["anonymousAttributed"], 5, "{o}");
    let m2 = s.admin_get("/model", &[("if-none-match", &etag1)]);
    assert_eq!(m2.status, 200);
    assert_ne!(m2.header("etag").unwrap(), etag1);
    assert_eq!(top_popular(&m2.body, 1), ["hot-b"]);
    // The anonymous session's events belong to the user who logged in later.
    let model = edgerec_core::format::decode(&m2.body).unwrap();
    assert!(model.users.user_ids.iter().any(|u| u == "late-user-0"));
    assert!(!model.users.user_ids.iter().any(|u| u == "anon-0"));
    // Old versions stay available.
    let old = s.admin_get("/models/1", &[]);
    assert_eq!(old.status, 200);
    assert_eq!(old.header("etag"), Some(etag1.as_str()));
    assert_eq!(top_popular(&old.body, 1), ["hot-a"]);
    assert_eq!(s.admin_get("/models/99", &[]).status, 404);
    assert_eq!(s.admin_get("/models/abc", &[]).json()["field"], "version");
    // A third publish prunes v1 (--keep-models 2).
    for b in traffic("c", 3, "hot-c", 1_700_300_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    assert_eq!(
        s.post("/retrain?wait=true", Some(ADMIN), "").json()["version"],
        3
    );
    assert_eq!(s.admin_get("/models/1", &[]).status, 404);
    assert_eq!(s.admin_get("/models/2", &[]).status, 200);
    // Published to the folder and through the hook.
    assert_eq!(
        std::fs::read(publish.join("model.erm")).unwrap(),
        s.admin_get("/model", &[]).body
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(publish.join("model.json")).unwrap()).unwrap();
    assert_eq!(manifest["version"], 3);
    assert_eq!(
        std::fs::read(publish.join("model.public.erm")).unwrap(),
        s.get("/model/public", &[]).body
    );
    assert_eq!(manifest["public"]["file"], "model-v3.public.erm");
    let log = std::fs::read_to_string(&hook_log).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.lines().last().unwrap().starts_with("3 "));
    assert_eq!(s.metric("edgerec_model_version"), 3.0);
    // Everything published is signed by the key kept in tokens.json: the served bytes, the
    // published files, and every file the hook was handed.
    let key = signing_key(&s);
    let served = s.admin_get("/model", &[]).body;
    edgerec_trainer::signing::verify(&served, std::slice::from_ref(&key)).unwrap();
    edgerec_trainer::signing::verify(
        &std::fs::read(publish.join("model.erm")).unwrap(),
        std::slice::from_ref(&key),
    )
    .unwrap();
    for v in 1..=3 {
        let bytes = std::fs::read(hook_dir.join(format!("v{v}.erm"))).unwrap();
        let ok = edgerec_trainer::signing::verify(&bytes, std::slice::from_ref(&key)).unwrap();
        assert_eq!(ok.key, key);
        assert_eq!(
            edgerec_core::format::decode(&bytes).unwrap().meta.version,
            v
        );
    }
    // What the hook got, tampered with (one byte flipped, checksums recomputed): it still
    // decodes, but `edgerec verify` refuses it; the untouched file passes.
    let hooked = hook_dir.join("v3.erm");
    let tampered = hook_dir.join("v3-tampered.erm");
    let bad = tamper(&std::fs::read(&hooked).unwrap());
    edgerec_core::format::decode(&bad).expect("the checksums alone accept the tampered file");
    std::fs::write(&tampered, &bad).unwrap();
    let verify = |file: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_edgerec"))
            .args(["verify", "--public-key", &key.to_base64()])
            .arg(file)
            .output()
            .unwrap()
    };
    let good = verify(&hooked);
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    let refused = verify(&tampered);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("does not match the model's bytes"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // A restart serves the latest published model, and versions keep increasing.
    let dir = s.kill_keep_dir();
    let s = start_in(dir, &["--no-train-on-start"]);
    let m = s.admin_get("/model", &[]);
    assert_eq!(m.header("x-edgerec-model-version"), Some("3"));
    assert_eq!(
        s.post("/retrain?wait=true", Some(ADMIN), "").json()["version"],
        4
    );
}

#[test]
fn scheduled_retrain_and_attribution() {
    let s = start(
        "schedule",
        &[
            "--update-every",
            "1s",
            "--no-eval-gate",
            "--experiment",
            "exp1",
            "--variants",
            "control,treatment",
            "--shares",
            "0.75,0.25",
        ],
    );
    for b in traffic("s", 10, "hot-s", 1_700_000_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    // The schedule publishes a model without being asked.
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.admin_get("/model", &[]).status != 200 {
        assert!(Instant::now() < deadline, "no scheduled model within 60 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    // Recommendations logged by the edge, then events that reference them.
    let e = s.get("/experiment?userId=user-1", &[]).json();
    assert_eq!(e["experiment"], "exp1");
    let v = e["variant"].as_str().unwrap().to_owned();
    // The core's assignment, as the Worker and the npm package make it.
    let mut want =
        edgerec_core::experiment::Experiment::equal("exp1", None, &["control", "treatment"])
            .unwrap();
    want.variants[0].share = 0.75;
    want.variants[1].share = 0.25;
    assert_eq!(v, want.assign("user-1").unwrap().name);
    assert_eq!(e["shares"], json!([0.75, 0.25]));
    let log = json!({"recommendations": [
        {"recommendationId": "rid-0000000000000001", "recommender": "top-picks", "userId": "user-1", "itemList": ["item-1", "item-2", "item-3"]},
        {"recommendationId": "rid-0000000000000002", "recommender": "best-sellers", "variant": "treatment", "sessionId": "s9", "itemList": [{"itemId": "item-4"}]}
    ]});
    let r = s.post("/recommendations-log", Some(WRITE), &log.to_string());
    assert_eq!(r.status, 200, "{:?}", r.json());
    let ev = vec![
        json!({"eventId": "att-1", "eventType": "click", "itemId": "item-2", "sentAt": 1_700_000_500, "recommendationId": "rid-0000000000000001"}),
        json!({"eventId": "att-2", "eventType": "purchase", "itemId": "item-2", "sentAt": 1_700_000_501, "recommendationId": "rid-0000000000000001"}),
        json!({"eventId": "att-3", "eventType": "click", "itemId": "item-4", "sentAt": 1_700_000_502, "recommender": "trending-now"}),
        json!({"eventId": "att-4", "eventType": "click", "itemId": "item-4", "sentAt": 1_700_000_503, "recommendationId": "rid-unknown"}),
    ];
    assert_eq!(
        s.post("/events", Some(WRITE), &batch("s1", Some("user-1"), &ev))
            .status,
        200
    );
    assert_eq!(
        s.metric("edgerec_clicks_total{recommender=\"top-picks\"}"),
        1.0
    );
    assert_eq!(
        s.metric("edgerec_impressions_total{recommender=\"top-picks\"}"),
        3.0
    );
    assert_eq!(
        s.metric("edgerec_clicks_total{recommender=\"trending-now\"}"),
        1.0
    );
    assert_eq!(
        s.metric("edgerec_clicks_total{recommender=\"SOURCE_NAME_UNDEFINED\"}"),
        1.0
    );
    assert_eq!(
        s.metric(
            "edgerec_attributed_events_total{recommender=\"top-picks\",event_type=\"purchase\"}"
        ),
        1.0
    );
    // The report, read from the same store while the server runs.
    let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .args(["report", "--data-dir"])
        .arg(s.dir.join("data"))
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rep: Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = rep["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["recommender"] == "top-picks")
        .unwrap();
    assert_eq!(top["recommendations"], 1);
    assert!((top["ctr"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(top["conversion"]["purchase"], 1.0);
    let exp = &rep["experiments"][0];
    assert_eq!(exp["experiment"], "exp1");
    let variants: Vec<&str> = exp["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["variant"].as_str().unwrap())
        .collect();
    assert!(
        variants.contains(&v.as_str()) && variants.contains(&"treatment"),
        "{variants:?}"
    );
    let text = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .args(["report", "--data-dir"])
        .arg(s.dir.join("data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("top-picks") && text.contains("experiment exp1"),
        "{text}"
    );
    assert!(s.metric("edgerec_retrains_total{mode=\"update\",status=\"published\"}") >= 1.0);
}

#[test]
fn a_regressing_model_is_kept_unpublished() {
    let s = start("gate", &["--no-train-on-start", "--max-regression", "0"]);
    // Structured traffic: users in 4 groups, each group clicking its own 10 items in order.
    let mut id = 0u64;
    for u in 0..80u64 {
        let g = u % 4;
        let ev: Vec<Value> = (0..10u64)
            .map(|k| {
                id += 1;
                event(
                    &format!("g-{id}"),
                    "click",
                    &format!("g{g}-item-{}", (k + u) % 10),
                    1_700_000_000 + u * 100 + k,
                )
            })
            .collect();
        assert_eq!(
            s.post(
                "/events",
                Some(WRITE),
                &batch(&format!("gs-{u}"), Some(&format!("gu-{u}")), &ev)
            )
            .status,
            200
        );
    }
    let o = s.post("/retrain?wait=true", Some(ADMIN), "").json();
    assert_eq!(o["status"], "published", "{o}");
    // Noise: the same users now click items of every group at random-looking positions.
    for u in 0..80u64 {
        let ev: Vec<Value> = (0..30u64)
            .map(|k| {
                id += 1;
                let x = (u * 7919 + k * 104_729) % 40;
                event(
                    &format!("n-{id}"),
                    "click",
                    &format!("g{}-item-{}", x % 4, x / 4),
                    1_700_100_000 + u * 100 + k,
                )
            })
            .collect();
        assert_eq!(
            s.post(
                "/events",
                Some(WRITE),
                &batch(&format!("ns-{u}"), Some(&format!("gu-{u}")), &ev)
            )
            .status,
            200
        );
    }
    let o = s.post("/retrain?wait=true", Some(ADMIN), "").json();
    assert_eq!(o["status"], "rejected", "{o}");
    assert!(o["message"].as_str().unwrap().contains("regressed"), "{o}");
    assert!(o["version"].is_null());
    // Still serving v1; the rejection is reported.
    assert_eq!(
        s.admin_get("/model", &[]).header("x-edgerec-model-version"),
        Some("1")
    );
    let r = s
        .get(
            "/retrains",
            &[("authorization", &format!("Bearer {ADMIN}"))],
        )
        .json();
    assert_eq!(r["retrains"][0]["status"], "rejected");
    assert_eq!(
        s.metric("edgerec_retrains_total{mode=\"full\",status=\"rejected\"}"),
        1.0
    );
}

#[test]
fn private_model_metrics_and_health_details_need_the_admin_token() {
    let s = start("admin-routes", &["--no-train-on-start", "--no-eval-gate"]);
    for b in traffic("p", 8, "hot-p", 1_700_000_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    assert_eq!(
        s.post("/retrain?wait=true", Some(ADMIN), "").json()["status"],
        "published"
    );
    let write = format!("Bearer {WRITE}");
    for path in ["/model", "/models/1", "/metrics"] {
        let r = s.get(path, &[]);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(r.json()["__type"], "UnauthorizedException", "{path}");
        assert!(r.body.len() < 300, "{path}: nothing but the error");
        let r = s.get(path, &[("authorization", &write)]);
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(r.json()["__type"], "AccessDeniedException", "{path}");
        assert_eq!(s.get(path, &[("authorization", "Bearer nope")]).status, 401);
        assert_eq!(s.admin_get(path, &[]).status, 200, "{path}");
    }
    // The public profile needs no credentials and holds no one's id or history.
    let public = s.get("/model/public", &[]);
    assert_eq!(public.status, 200);
    let etag = public.header("etag").unwrap().to_owned();
    assert_eq!(
        s.get("/model/public", &[("if-none-match", &etag)]).status,
        304
    );
    let private = s.admin_get("/model", &[]).body;
    let m = edgerec_core::format::decode(&public.body).unwrap();
    assert_eq!(m.meta.profile, edgerec_core::Profile::Public);
    assert!(m.users.user_ids.is_empty() && m.histories.items.is_empty());
    let p = edgerec_core::format::decode(&private).unwrap();
    assert_eq!(p.meta.profile, edgerec_core::Profile::Private);
    let user = p.users.user_ids.get(0).unwrap().to_owned();
    let found = |b: &[u8]| b.windows(user.len()).any(|w| w == user.as_bytes());
    assert!(found(&private) && !found(&public.body), "{user}");
    // /health: liveness for anyone, details for the admin only.
    let r = s.get("/health", &[]);
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    assert_eq!(s.get("/health", &[("authorization", &write)]).status, 403);
    let h = s.admin_get("/health", &[]).json();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["modelVersion"], 1);
    assert_eq!(h["store"]["events"], 8 * 7);
}

#[test]
fn tokens_and_the_signing_key_are_printed_only_when_created() {
    let dir = temp_dir("tokens");
    let data = dir.join("data");
    let run = |n: usize, level: &str| -> String {
        let log = dir.join(format!("stderr-{n}.log"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_edgerec"))
            .arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0", "--no-train-on-start"])
            .env_remove("EDGEREC_WRITE_TOKEN")
            .env_remove("EDGEREC_ADMIN_TOKEN")
            .env_remove("EDGEREC_SIGNING_KEY")
            .env_remove("EDGEREC_SIGNING_KEY_FILE")
            .env_remove("EDGEREC_USER_TOKEN_SECRET")
            .env("RUST_LOG", level)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("listening on"), "{line}");
        if level == "info" {
            // The start is logged just after the address is printed.
            for _ in 0..200 {
                let text = std::fs::read_to_string(&log).unwrap_or_default();
                if text.contains("edgerec serve started") {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        std::fs::read_to_string(&log).unwrap()
    };
    let first = run(1, "warn");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(data.join("tokens.json")).unwrap()).unwrap();
    let (w, a) = (
        tokens["writeToken"].as_str().unwrap(),
        tokens["adminToken"].as_str().unwrap(),
    );
    let public = tokens["signingPublicKey"].as_str().unwrap();
    assert!(w.starts_with("er_") && a.starts_with("er_") && w != a);
    assert!(tokens["signingKey"].as_str().is_some());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("tokens.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(first.contains(w) && first.contains(a), "{first}");
    assert!(first.contains(public), "{first}");
    let seed = tokens["signingKey"].as_str().unwrap();
    assert!(!first.contains(seed), "the private key is never printed");
    let user_secret = tokens["userTokenSecret"].as_str().unwrap();
    assert!(user_secret.len() >= 16);
    assert!(
        !first.contains(user_secret),
        "the user-token secret is never printed"
    );
    // A restart reuses them and prints no token; the public key (not a secret) is shown.
    let second = run(2, "warn");
    assert!(!second.contains(w) && !second.contains(a), "{second}");
    assert!(!second.contains(seed));
    assert!(second.contains(public), "{second}");
    let again: Value =
        serde_json::from_slice(&std::fs::read(data.join("tokens.json")).unwrap()).unwrap();
    assert_eq!(again, tokens);
    // The log of a server whose stderr is a file is plain text, without colour codes.
    let third = run(3, "info");
    assert!(third.contains("edgerec serve started"), "{third}");
    assert!(
        !third.contains('\u{1b}'),
        "colour codes in a log that is not a terminal: {third:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
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

#[test]
fn health_and_metrics_counters_match_the_store_after_ingest_and_restart() {
    let dir = temp_dir("counters");
    let s = start_in(dir, &["--no-train-on-start"]);
    assert_counters_match_the_store(&s);
    // Events attributed by their own field, by a log entry that came first, by one that comes
    // later (they move from SOURCE_NAME_UNDEFINED), and never; impressions on events.
    let log = |id: &str, rec: &str, items: &[&str]| {
        json!({"recommendations": [{"recommendationId": id, "recommender": rec, "itemList": items}]})
            .to_string()
    };
    assert_eq!(
        s.post(
            "/recommendations-log",
            Some(WRITE),
            &log("rid-a", "top-picks", &["i1", "i2"])
        )
        .status,
        200
    );
    let ev = vec![
        json!({"eventId": "c1", "eventType": "click", "itemId": "i1", "sentAt": 1_700_000_000, "recommendationId": "rid-a"}),
        json!({"eventId": "c2", "eventType": "click", "itemId": "i2", "sentAt": 1_700_000_001, "recommendationId": "rid-late", "impression": ["i2", "i3", "i4"]}),
        json!({"eventId": "c3", "eventType": "purchase", "itemId": "i2", "sentAt": 1_700_000_002, "recommendationId": "rid-late"}),
        json!({"eventId": "c4", "eventType": "click", "itemId": "i5", "sentAt": 1_700_000_003, "recommender": "trending-now", "recommendationId": "rid-late"}),
        json!({"eventId": "c5", "eventType": "view", "itemId": "i6", "sentAt": 1_700_000_004}),
    ];
    assert_eq!(
        s.post("/events", Some(WRITE), &batch("cs", Some("cu"), &ev))
            .status,
        200
    );
    let before = s.metrics_text();
    assert!(
        before.contains(
            "edgerec_attributed_events_total{recommender=\"SOURCE_NAME_UNDEFINED\",event_type=\"click\"} 1"
        ),
        "{before}"
    );
    assert!(before.contains("edgerec_impressions_total{recommender=\"SOURCE_NAME_UNDEFINED\"} 3"));
    assert_counters_match_the_store(&s);
    // The late log entry moves c2 and c3 to best-sellers; c4 keeps its own recommender but its
    // impressions no longer count; a replayed entry and replayed events change nothing.
    assert_eq!(
        s.post(
            "/recommendations-log",
            Some(WRITE),
            &log("rid-late", "best-sellers", &["i2"])
        )
        .status,
        200
    );
    s.post(
        "/recommendations-log",
        Some(WRITE),
        &log("rid-late", "other", &["i9"]),
    );
    s.post("/events", Some(WRITE), &batch("cs", Some("cu"), &ev));
    let after = s.metrics_text();
    assert!(!after.contains("SOURCE_NAME_UNDEFINED"), "{after}");
    assert!(after.contains(
        "edgerec_attributed_events_total{recommender=\"best-sellers\",event_type=\"purchase\"} 1"
    ));
    assert_counters_match_the_store(&s);
    // Items and users: new ids count once, updates do not.
    for body in [
        r#"{"items":[{"itemId":"n1"},{"itemId":"n2"},{"itemId":"n1"}]}"#,
        r#"{"items":[{"itemId":"n2","properties":"{\"price\":2}"}]}"#,
    ] {
        assert_eq!(s.post("/items", Some(WRITE), body).status, 200);
    }
    assert_eq!(
        s.post(
            "/users",
            Some(WRITE),
            r#"{"users":[{"userId":"u1"},{"userId":"u2"}]}"#
        )
        .status,
        200
    );
    assert_counters_match_the_store(&s);
    let h = s.admin_get("/health", &[]).json();
    assert_eq!(
        (
            &h["store"]["events"],
            &h["store"]["items"],
            &h["store"]["users"],
            &h["store"]["recommendations"]
        ),
        (&json!(5), &json!(2), &json!(1 + 1), &json!(2))
    );
    // After a restart the counters are read from the store again, and keep moving.
    let dir = s.kill_keep_dir();
    let s = start_in(dir, &["--no-train-on-start"]);
    assert_counters_match_the_store(&s);
    assert_eq!(s.admin_get("/health", &[]).json()["store"]["events"], 5);
    assert_eq!(
        s.post(
            "/recommendations-log",
            Some(WRITE),
            &log("rid-b", "top-picks", &["i7"])
        )
        .status,
        200
    );
    let more = vec![
        json!({"eventId": "d1", "eventType": "click", "itemId": "i7", "sentAt": 1_700_000_100, "recommendationId": "rid-b"}),
    ];
    assert_eq!(
        s.post("/events", Some(WRITE), &batch("ds", None, &more))
            .status,
        200
    );
    assert_counters_match_the_store(&s);
    assert_eq!(s.metric("edgerec_store_events"), 6.0);
    assert_eq!(
        s.metric("edgerec_clicks_total{recommender=\"top-picks\"}"),
        2.0
    );
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

/// `GET /users/{userId}/profile`: 401 without a token; 403 for a token that is forged, expired,
/// malformed or another user's; 404 for a user the model does not know; else the user's slice,
/// which makes the public model answer that user as the private one.
#[test]
fn user_profiles_need_that_users_token() {
    use edgerec_core::user_token::mint;
    const SECRET: &str = "test-user-token-secret";
    let s = start(
        "profile",
        &[
            "--no-train-on-start",
            "--no-eval-gate",
            "--user-token-secret",
            SECRET,
        ],
    );
    let mint = |u: &str, expiry: u64| mint(SECRET.as_bytes(), u, expiry).unwrap();
    let valid = |u: &str| mint(u, now() + 600);
    let get = |path: &str, token: &str| s.get(path, &[("authorization", &bearer(token))]);
    // No model yet: a valid token learns only that.
    let r = get("/users/user-3/profile", &valid("user-3"));
    assert_eq!(r.status, 404, "{:?}", r.json());
    assert!(r.json()["message"].as_str().unwrap().contains("no model"));

    let odd = "ann@example.com/x y";
    let mut bodies = traffic("p", 12, "hot-p", 1_700_000_000);
    bodies.push(batch(
        "odd-session",
        Some(odd),
        &[
            event("odd-1", "click", "item-5", 1_700_000_500),
            event("odd-2", "click", "item-6", 1_700_000_501),
        ],
    ));
    for b in bodies {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    let o = s
        .post("/retrain?mode=full&wait=true", Some(ADMIN), "")
        .json();
    assert_eq!(o["status"], "published", "{o}");

    let path = "/users/user-3/profile";
    let r = s.get(path, &[]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["__type"], "UnauthorizedException");
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    let refused = [
        (valid("user-4"), "another user"),
        (mint("user-3", now() - 1), "expired"),
        (
            edgerec_core::user_token::mint(b"another-secret-1234567", "user-3", now() + 600)
                .unwrap(),
            "signature",
        ),
        (valid("user-3").replacen("v1.", "v2.", 1), "version"),
        (WRITE.to_owned(), "malformed"),
        (ADMIN.to_owned(), "malformed"),
    ];
    for (token, says) in refused {
        let r = get(path, &token);
        assert_eq!(r.status, 403, "{says}: {:?}", r.json());
        assert_eq!(r.json()["__type"], "AccessDeniedException");
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains(says), "{says}: {message}");
    }
    let r = get("/users/nobody/profile", &valid("nobody"));
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["__type"], "ResourceNotFoundException");

    // The model the server publishes, and its projection without people.
    let model_bytes = s.admin_get("/model", &[]).body;
    let private = Engine::from_bytes(&model_bytes).unwrap();
    let public_bytes =
        edgerec_core::format::encode(&public_model::without_people(private.model(), false))
            .unwrap();
    let mut public = Engine::from_bytes(&public_bytes).unwrap();
    let names: Vec<String> = private
        .model()
        .recommenders
        .iter()
        .filter(|r| r.recipe.name() != "popularity-count")
        .map(|r| r.name.clone())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    let ask = |e: &Engine, rec: &str, u: &str| {
        let req: GetRecommendationsRequest = serde_json::from_value(
            json!({"recommender": rec, "userId": u, "numResults": 25, "recommendationId": "r"}),
        )
        .unwrap();
        serde_json::to_value(e.get_recommendations(&req).unwrap()).unwrap()
    };
    for u in ["user-3", "user-7", odd] {
        let encoded: String = u
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let r = get(&format!("/users/{encoded}/profile"), &valid(u));
        assert_eq!(r.status, 200, "{u}: {:?}", r.json());
        assert_eq!(r.header("content-type"), Some("application/octet-stream"));
        assert_eq!(r.header("cache-control"), Some("private, no-store"));
        assert_eq!(r.header("x-edgerec-model-version"), Some("1"));
        assert_eq!(public.load_user_profile(&r.body).unwrap(), u);
        for rec in &names {
            assert_eq!(ask(&public, rec, u), ask(&private, rec, u), "{u} {rec}");
        }
    }

    // `edgerec user-token` mints what the server accepts.
    let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .args(["user-token", "--user-id", "user-7", "--ttl", "60"])
        .env("EDGEREC_USER_TOKEN_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap();
    assert_eq!(get("/users/user-7/profile", token.trim()).status, 200);
}

/// Without `--user-token-secret`, serve generates one into its tokens file, keeps it across
/// restarts, and `edgerec user-token --data-dir` mints with it.
#[test]
fn the_user_token_secret_is_generated_and_kept() {
    let s = start("profile-secret", &["--no-train-on-start", "--no-eval-gate"]);
    let data = s.dir.join("data");
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(data.join("tokens.json")).unwrap()).unwrap();
    let secret = tokens["userTokenSecret"].as_str().unwrap().to_owned();
    assert!(secret.len() >= 16);
    for b in traffic("q", 6, "hot-q", 1_700_000_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    let o = s
        .post("/retrain?mode=full&wait=true", Some(ADMIN), "")
        .json();
    assert_eq!(o["status"], "published", "{o}");
    let mint = || {
        let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
            .args(["user-token", "--user-id", "user-2", "--data-dir"])
            .arg(&data)
            .env_remove("EDGEREC_USER_TOKEN_SECRET")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let token = mint();
    let r = s.get(
        "/users/user-2/profile",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(r.status, 200, "{:?}", r.json());
    let dir = s.kill_keep_dir();
    let s = start_in(dir, &["--no-train-on-start"]);
    let tokens: Value =
        serde_json::from_slice(&std::fs::read(data.join("tokens.json")).unwrap()).unwrap();
    assert_eq!(tokens["userTokenSecret"].as_str(), Some(secret.as_str()));
    let r = s.get(
        "/users/user-2/profile",
        &[("authorization", &bearer(&token))],
    );
    assert_eq!(r.status, 200);
    // Without a secret anywhere the command says where it looked.
    let out = Command::new(env!("CARGO_BIN_EXE_edgerec"))
        .args([
            "user-token",
            "--user-id",
            "u",
            "--data-dir",
            "/nonexistent-edgerec",
        ])
        .env_remove("EDGEREC_USER_TOKEN_SECRET")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("EDGEREC_USER_TOKEN_SECRET"));
}

/// `Authorization: Basic base64(key:)`, as Segment's HTTP API sends a write key.
fn basic(key: &str) -> String {
    use base64ct::{Base64, Encoding};
    format!(
        "Basic {}",
        Base64::encode_string(format!("{key}:").as_bytes())
    )
}

impl Server {
    fn post_auth(&self, path: &str, authorization: Option<&str>, body: &str) -> Resp {
        let mut req = agent()
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json");
        if let Some(a) = authorization {
            req = req.header("authorization", a);
        }
        collect(req.send(body))
    }

    /// `(event_id, session_id, user_id, event_type, item_id, sent_at, event_value, properties)`
    /// of the stored events, in store order.
    #[allow(clippy::type_complexity)]
    fn stored_rows(
        &self,
    ) -> Vec<(
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        f64,
        Option<f64>,
        Option<String>,
    )> {
        let db = edgerec_server::store::open_read_only(&self.dir.join("data")).unwrap();
        edgerec_server::db::events::all(&db)
            .unwrap()
            .into_iter()
            .map(|e| {
                (
                    e.event_id,
                    e.session_id,
                    e.user_id,
                    e.event_type,
                    e.item_id,
                    e.sent_at,
                    e.event_value,
                    e.properties,
                )
            })
            .collect()
    }

    fn stored_user(&self, user: &str) -> Option<Option<String>> {
        let db = edgerec_server::store::open_read_only(&self.dir.join("data")).unwrap();
        edgerec_server::db::records::properties(
            &db,
            edgerec_server::db::records::Table::Users,
            user,
        )
        .unwrap()
    }
}

#[test]
fn segment_calls_are_mapped_authorised_and_deduplicated() {
    // A seed whose users file gives the user schema (PLAN, AGE): identify keeps those traits.
    let dir = temp_dir("segment");
    let mut interactions = String::from("USER_ID,ITEM_ID,TIMESTAMP\n");
    for u in 0..12 {
        for i in 0..6 {
            interactions.push_str(&format!(
                "seed-{u},item-{},{}\n",
                (u + i) % 9,
                1_700_000_000 + i
            ));
        }
    }
    std::fs::write(dir.join("interactions.csv"), interactions).unwrap();
    std::fs::write(
        dir.join("users.csv"),
        "USER_ID,PLAN,AGE\nseed-0,free,30\nseed-1,pro,52\n",
    )
    .unwrap();
    let (seed_interactions, seed_users) = (dir.join("interactions.csv"), dir.join("users.csv"));
    let s = start_in(
        dir,
        &[
            "--interactions",
            seed_interactions.to_str().unwrap(),
            "--users",
            seed_users.to_str().unwrap(),
            "--no-eval-gate",
            "--segment-event-map",
            r#"{"Product Viewed":"view","$page":"pageview"}"#,
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while s.admin_get("/model", &[]).status != 200 {
        assert!(
            Instant::now() < deadline,
            "no model from the seed within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let bearer = format!("Bearer {WRITE}");
    let track = json!({"anonymousId": "anon-1", "userId": "u1", "event": "Product Viewed",
        "messageId": "msg-1", "timestamp": "2024-05-01T12:30:00.000Z",
        "properties": {"product_id": "p9", "price": 12.5, "color": "red"}})
    .to_string();

    // Refused without the write token, with a wrong one, and with the admin route's scope rules.
    for auth in [None, Some("Bearer nope".to_owned()), Some(basic("nope"))] {
        let r = s.post_auth("/v1/track", auth.as_deref(), &track);
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.json()["__type"], "UnauthorizedException");
    }
    assert_eq!(s.stored_events(), 0);

    // track with Bearer, then the same messageId again with Basic: stored once.
    let r = s.post_auth("/v1/track", Some(&bearer), &track);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let r = s.post_auth("/v1/track", Some(&basic(WRITE)), &track);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(0), Some(1))
    );

    // page (Basic with the admin token works too, as on every write route).
    let page = json!({"anonymousId": "anon-2", "timestamp": "2024-05-01T12:31:00Z",
        "properties": {"url": "https://shop/p/1"}})
    .to_string();
    let r = s.post_auth("/v1/page", Some(&basic(ADMIN)), &page);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["stored"], 1);

    // identify → the users table, with the traits of the user schema only (no e-mail address).
    let identify = json!({"userId": "u1", "traits": {"plan": "pro", "age": 41,
        "email": "someone@example.com", "name": "Someone"}})
    .to_string();
    let r = s.post_auth("/v1/identify", Some(&bearer), &identify);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["usersStored"], 1);
    assert_eq!(
        s.stored_user("u1"),
        Some(Some(r#"{"age":41,"plan":"pro"}"#.to_owned()))
    );
    // identify needs a userId; the error names the field.
    let r = s.post_auth(
        "/v1/identify",
        Some(&bearer),
        r#"{"anonymousId":"a","traits":{}}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "InvalidInputException");
    assert_eq!(r.json()["field"], "userId");
    // A call of another type on a typed route, and a bad time.
    let r = s.post_auth(
        "/v1/track",
        Some(&bearer),
        r#"{"type":"page","anonymousId":"a","timestamp":"2024-05-01T12:31:00Z"}"#,
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("type")));
    let r = s.post_auth(
        "/v1/track",
        Some(&bearer),
        r#"{"anonymousId":"a","event":"e","timestamp":"May 1st"}"#,
    );
    assert_eq!(
        (r.status, r.json()["field"].as_str()),
        (400, Some("timestamp"))
    );
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("not an RFC 3339 time")
    );

    let rows = s.stored_rows();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0],
        (
            "msg-1".to_owned(),
            "anon-1".to_owned(),
            Some("u1".to_owned()),
            "view".to_owned(),
            Some("p9".to_owned()),
            1_714_566_600.0,
            Some(12.5),
            Some(r#"{"color":"red"}"#.to_owned())
        )
    );
    assert_eq!(rows[1].3, "pageview");
    assert_eq!(rows[1].1, "anon-2");

    // A batch: the bad calls are listed by index, the good ones stored; a replay stores nothing
    // new.
    let batch = json!({"batch": [
        {"type": "track", "anonymousId": "b", "event": "Added", "messageId": "b-0",
         "timestamp": "2024-05-02T00:00:00Z", "properties": {"sku": 77}},
        {"type": "track", "anonymousId": "b", "event": "Added", "messageId": "b-1",
         "timestamp": "not a time"},
        {"type": "identify", "userId": "u2", "traits": {"plan": "free"}},
        {"type": "alias", "userId": "u2", "previousId": "b"},
        {"type": "screen", "userId": "u2", "messageId": "b-4",
         "originalTimestamp": "2024-05-02T00:00:01+01:00"},
        {"type": "track", "event": "Added", "messageId": "b-5", "timestamp": "2024-05-02T00:00:00Z"}
    ]})
    .to_string();
    let r = s.post_auth("/v1/batch", Some(&basic(WRITE)), &batch);
    assert_eq!(r.status, 200, "{:?}", r.json());
    let j = r.json();
    assert_eq!(
        (j["stored"].as_u64(), j["usersStored"].as_u64()),
        (Some(2), Some(1))
    );
    let rejected: Vec<(u64, String)> = j["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["index"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (1, "batch[1].timestamp".to_owned()),
            (3, "batch[3].type".to_owned()),
            (5, "batch[5].anonymousId".to_owned())
        ]
    );
    let rows = s.stored_rows();
    assert_eq!(rows.len(), 4);
    assert_eq!(
        (rows[2].0.as_str(), rows[2].4.as_deref()),
        ("b-0", Some("77"))
    );
    assert_eq!(
        (rows[3].0.as_str(), rows[3].1.as_str(), rows[3].3.as_str()),
        ("b-4", "u2", "screen")
    );
    assert_eq!(rows[3].5, 1_714_604_401.0);
    assert!(s.stored_user("u2").is_some());
    let r = s.post_auth("/v1/batch", Some(&bearer), &batch);
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(s.stored_events(), 4);

    // Nothing valid: 400 in Personalize's shape, with the list.
    let r = s.post_auth(
        "/v1/batch",
        Some(&bearer),
        r#"{"batch":[{"type":"track","anonymousId":"a"},{"type":"nope"}]}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "InvalidInputException");
    assert_eq!(r.json()["field"], "batch[0].event");
    assert_eq!(r.json()["rejected"].as_array().map(Vec::len), Some(2));
    let r = s.post_auth("/v1/batch", Some(&bearer), r#"{"batch":[]}"#);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("batch")));
    let r = s.post_auth("/v1/batch", None, &batch);
    assert_eq!(r.status, 401);
    // A call above Segment's 32 KB is refused whole.
    let big = json!({"anonymousId": "a", "event": "e", "timestamp": "2024-05-01T12:31:00Z",
        "properties": {"blob": "x".repeat(40_000)}})
    .to_string();
    assert_eq!(s.post_auth("/v1/track", Some(&bearer), &big).status, 413);
    assert_eq!(s.stored_events(), 4);
    assert_eq!(
        s.metric("edgerec_segment_calls_rejected_total"),
        3.0 + 3.0 + 3.0 + 2.0
    );
    assert_counters_match_the_store(&s);
}

/// Before a model says which user fields exist, identify is refused (naming the field) rather
/// than storing traits that may be personal data (names, e-mail addresses).
#[test]
fn segment_identify_needs_a_published_user_schema() {
    let s = start("segment-no-model", &["--no-train-on-start"]);
    let r = s.post_auth(
        "/v1/identify",
        Some(&format!("Bearer {WRITE}")),
        r#"{"userId":"u1","traits":{"email":"someone@example.com"}}"#,
    );
    assert_eq!(r.status, 400, "{:?}", r.json());
    assert_eq!(r.json()["field"], "userId");
    assert!(
        r.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("published model"))
    );
    assert_eq!(s.stored_user("u1"), None);
}
