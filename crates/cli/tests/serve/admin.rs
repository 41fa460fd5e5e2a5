//! What needs the admin token, the tokens and key printed at creation, and the in-memory
//! counters of `/health` and `/metrics` against the store.

use super::*;

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
