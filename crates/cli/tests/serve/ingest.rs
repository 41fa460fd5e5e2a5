//! Auth scopes, bad input refused whole, replays deduplicated.

use super::*;

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
    for (body, status, field) in &bad_event_batches() {
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
    batches_hold_at_most_1000_events(&s);
    bodies_over_the_limit_are_refused_unread(&s);
    bad_items_users_and_retrain_modes_name_the_field(&s);
    // Only the one good batch was stored.
    assert_eq!(s.stored_events(), 1000);
    assert_eq!(s.metric("edgerec_events_stored_total"), 1000.0);
}

/// PutEvents bodies refused whole: (body, status, the field the error names).
fn bad_event_batches() -> Vec<(String, u16, &'static str)> {
    vec![
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
    ]
}

/// 1000 events per request are accepted (an edge outbox batch); 1001 are not.
fn batches_hold_at_most_1000_events(s: &Server) {
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
}

/// Body limit: refused from the declared length, before the body is read.
fn bodies_over_the_limit_are_refused_unread(s: &Server) {
    let (status, body) = raw_post(s, "/events", WRITE, 300_000);
    assert_eq!(status, 413, "{body}");
    assert!(
        body.contains("InvalidInputException") && body.contains("200000"),
        "{body}"
    );
}

/// Bad PutItems and PutUsers bodies and retrain modes: the error names the field.
fn bad_items_users_and_retrain_modes_name_the_field(s: &Server) {
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
