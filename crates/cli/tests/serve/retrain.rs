//! Ingest → retrain → publish: the cycle, the schedule and attribution, the evaluation gate.

use super::*;

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

#[test]
fn ingest_retrain_publish_cycle() {
    let dir = temp_dir("cycle");
    let out = PublishTargets::in_dir(&dir);
    let s = start_in(dir.clone(), &out.serve_args());
    assert_eq!(s.admin_get("/model", &[]).status, 404);
    let etag1 = a_full_retrain_publishes_v1(&s);
    an_update_attributes_anonymous_sessions(&s, &etag1);
    old_versions_stay_available(&s, &etag1);
    a_third_publish_prunes_v1_and_reaches_the_folder_and_the_hook(&s, &out);
    everything_published_is_signed(&s, &out);
    tampered_files_are_refused_by_verify(&s, &out);

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

/// Where the cycle's server publishes: a folder, and a hook that logs each call and keeps a
/// copy of what it was handed (to check its signature afterwards).
struct PublishTargets {
    publish: PathBuf,
    hook_log: PathBuf,
    hook_dir: PathBuf,
    hook: String,
}

impl PublishTargets {
    fn in_dir(dir: &std::path::Path) -> PublishTargets {
        let publish = dir.join("published");
        let hook_log = dir.join("hook.log");
        let hook_dir = dir.join("hook");
        std::fs::create_dir_all(&hook_dir).unwrap();
        let hook = format!(
            "echo {{version}} {{path}} >> '{}' && cp {{path}} '{}/v{{version}}.erm'",
            hook_log.display(),
            hook_dir.display()
        );
        PublishTargets {
            publish,
            hook_log,
            hook_dir,
            hook,
        }
    }

    fn serve_args(&self) -> Vec<&str> {
        vec![
            "--no-train-on-start",
            // The gate has its own test; on these few shoppers the k-anonymity floor moves
            // split A by more than its allowed drop between retrains.
            "--no-eval-gate",
            "--publish-dir",
            self.publish.to_str().unwrap(),
            "--publish-hook",
            &self.hook,
            "--keep-models",
            "2",
        ]
    }
}

/// Events, then a full retrain: v1, with hot-a on top, served with an etag. Returns the etag.
fn a_full_retrain_publishes_v1(s: &Server) -> String {
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
    etag1
}

/// New events (some anonymous sessions that later identify) make hot-b the most popular; an
/// update publishes v2, where the anonymous sessions' events belong to the users who logged
/// in later.
fn an_update_attributes_anonymous_sessions(s: &Server, etag1: &str) {
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
    let m2 = s.admin_get("/model", &[("if-none-match", etag1)]);
    assert_eq!(m2.status, 200);
    assert_ne!(m2.header("etag").unwrap(), etag1);
    assert_eq!(top_popular(&m2.body, 1), ["hot-b"]);
    // The anonymous session's events belong to the user who logged in later.
    let model = edgerec_core::format::decode(&m2.body).unwrap();
    assert!(model.users.user_ids.iter().any(|u| u == "late-user-0"));
    assert!(!model.users.user_ids.iter().any(|u| u == "anon-0"));
}

/// Old versions stay available by number.
fn old_versions_stay_available(s: &Server, etag1: &str) {
    let old = s.admin_get("/models/1", &[]);
    assert_eq!(old.status, 200);
    assert_eq!(old.header("etag"), Some(etag1));
    assert_eq!(top_popular(&old.body, 1), ["hot-a"]);
    assert_eq!(s.admin_get("/models/99", &[]).status, 404);
    assert_eq!(s.admin_get("/models/abc", &[]).json()["field"], "version");
}

/// A third publish prunes v1 (--keep-models 2); every publish went to the folder and through
/// the hook.
fn a_third_publish_prunes_v1_and_reaches_the_folder_and_the_hook(s: &Server, out: &PublishTargets) {
    for b in traffic("c", 3, "hot-c", 1_700_300_000) {
        assert_eq!(s.post("/events", Some(WRITE), &b).status, 200);
    }
    assert_eq!(
        s.post("/retrain?wait=true", Some(ADMIN), "").json()["version"],
        3
    );
    assert_eq!(s.admin_get("/models/1", &[]).status, 404);
    assert_eq!(s.admin_get("/models/2", &[]).status, 200);
    assert_eq!(
        std::fs::read(out.publish.join("model.erm")).unwrap(),
        s.admin_get("/model", &[]).body
    );
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.publish.join("model.json")).unwrap()).unwrap();
    assert_eq!(manifest["version"], 3);
    assert_eq!(
        std::fs::read(out.publish.join("model.public.erm")).unwrap(),
        s.get("/model/public", &[]).body
    );
    assert_eq!(manifest["public"]["file"], "model-v3.public.erm");
    let log = std::fs::read_to_string(&out.hook_log).unwrap();
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log.lines().last().unwrap().starts_with("3 "));
    assert_eq!(s.metric("edgerec_model_version"), 3.0);
}

/// Everything published is signed by the key kept in tokens.json: the served bytes, the
/// published files, and every file the hook was handed.
fn everything_published_is_signed(s: &Server, out: &PublishTargets) {
    let key = signing_key(s);
    let served = s.admin_get("/model", &[]).body;
    edgerec_trainer::signing::verify(&served, std::slice::from_ref(&key)).unwrap();
    edgerec_trainer::signing::verify(
        &std::fs::read(out.publish.join("model.erm")).unwrap(),
        std::slice::from_ref(&key),
    )
    .unwrap();
    for v in 1..=3 {
        let bytes = std::fs::read(out.hook_dir.join(format!("v{v}.erm"))).unwrap();
        let ok = edgerec_trainer::signing::verify(&bytes, std::slice::from_ref(&key)).unwrap();
        assert_eq!(ok.key, key);
        assert_eq!(
            edgerec_core::format::decode(&bytes).unwrap().meta.version,
            v
        );
    }
}

/// What the hook got, tampered with (one byte flipped, checksums recomputed): it still
/// decodes, but `edgerec verify` refuses it; the untouched file passes.
fn tampered_files_are_refused_by_verify(s: &Server, out: &PublishTargets) {
    let key = signing_key(s);
    let hooked = out.hook_dir.join("v3.erm");
    let tampered = out.hook_dir.join("v3-tampered.erm");
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
