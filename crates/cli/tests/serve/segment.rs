//! Segment's HTTP tracking API (`/v1/track`, `page`, `identify`, `batch`).

use super::*;

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
    let s = start_with_a_user_schema();
    let track = json!({"anonymousId": "anon-1", "userId": "u1", "event": "Product Viewed",
        "messageId": "msg-1", "timestamp": "2024-05-01T12:30:00.000Z",
        "properties": {"product_id": "p9", "price": 12.5, "color": "red"}})
    .to_string();
    track_needs_the_write_token_and_is_stored_once(&s, &track);
    page_is_stored_and_identify_keeps_the_schemas_traits(&s);
    bad_calls_name_the_field(&s);
    the_calls_are_stored_as_events(&s);
    a_batch_stores_its_good_calls_once(&s);
    calls_with_nothing_valid_are_refused_whole(&s);
    assert_eq!(s.stored_events(), 4);
    assert_eq!(
        s.metric("edgerec_segment_calls_rejected_total"),
        3.0 + 3.0 + 3.0 + 2.0
    );
    assert_counters_match_the_store(&s);
}

/// A server seeded with a users file that gives the user schema (PLAN, AGE), whose seed model
/// is published; identify keeps those traits.
fn start_with_a_user_schema() -> Server {
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
    s
}

/// Refused without the write token or with a wrong one; stored once with Bearer, then the same
/// messageId again with Basic is a duplicate.
fn track_needs_the_write_token_and_is_stored_once(s: &Server, track: &str) {
    for auth in [None, Some("Bearer nope".to_owned()), Some(basic("nope"))] {
        let r = s.post_auth("/v1/track", auth.as_deref(), track);
        assert_eq!(r.status, 401, "{auth:?}");
        assert_eq!(r.json()["__type"], "UnauthorizedException");
    }
    assert_eq!(s.stored_events(), 0);
    let r = s.post_auth("/v1/track", Some(&bearer(WRITE)), track);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(1), Some(0))
    );
    let r = s.post_auth("/v1/track", Some(&basic(WRITE)), track);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(0), Some(1))
    );
}

/// page (Basic with the admin token works too, as on every write route); identify → the users
/// table, with the traits of the user schema only (no e-mail address), and needs a userId.
fn page_is_stored_and_identify_keeps_the_schemas_traits(s: &Server) {
    let page = json!({"anonymousId": "anon-2", "timestamp": "2024-05-01T12:31:00Z",
        "properties": {"url": "https://shop/p/1"}})
    .to_string();
    let r = s.post_auth("/v1/page", Some(&basic(ADMIN)), &page);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["stored"], 1);
    let identify = json!({"userId": "u1", "traits": {"plan": "pro", "age": 41,
        "email": "someone@example.com", "name": "Someone"}})
    .to_string();
    let r = s.post_auth("/v1/identify", Some(&bearer(WRITE)), &identify);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(r.json()["usersStored"], 1);
    assert_eq!(
        s.stored_user("u1"),
        Some(Some(r#"{"age":41,"plan":"pro"}"#.to_owned()))
    );
    // identify needs a userId; the error names the field.
    let r = s.post_auth(
        "/v1/identify",
        Some(&bearer(WRITE)),
        r#"{"anonymousId":"a","traits":{}}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "InvalidInputException");
    assert_eq!(r.json()["field"], "userId");
}

/// A call of another type on a typed route, and a bad time.
fn bad_calls_name_the_field(s: &Server) {
    let r = s.post_auth(
        "/v1/track",
        Some(&bearer(WRITE)),
        r#"{"type":"page","anonymousId":"a","timestamp":"2024-05-01T12:31:00Z"}"#,
    );
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("type")));
    let r = s.post_auth(
        "/v1/track",
        Some(&bearer(WRITE)),
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
}

/// The track and the page as events: mapped event types, item id and value from the
/// properties, the other properties kept.
fn the_calls_are_stored_as_events(s: &Server) {
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
}

/// A batch: the bad calls are listed by index, the good ones stored; a replay stores nothing
/// new.
fn a_batch_stores_its_good_calls_once(s: &Server) {
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
    let r = s.post_auth("/v1/batch", Some(&bearer(WRITE)), &batch);
    assert_eq!(
        (r.json()["stored"].as_u64(), r.json()["duplicates"].as_u64()),
        (Some(0), Some(2))
    );
    assert_eq!(s.stored_events(), 4);
    let r = s.post_auth("/v1/batch", None, &batch);
    assert_eq!(r.status, 401);
}

/// Nothing valid: 400 in Personalize's shape, with the list; a call above Segment's 32 KB is
/// refused whole.
fn calls_with_nothing_valid_are_refused_whole(s: &Server) {
    let r = s.post_auth(
        "/v1/batch",
        Some(&bearer(WRITE)),
        r#"{"batch":[{"type":"track","anonymousId":"a"},{"type":"nope"}]}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["__type"], "InvalidInputException");
    assert_eq!(r.json()["field"], "batch[0].event");
    assert_eq!(r.json()["rejected"].as_array().map(Vec::len), Some(2));
    let r = s.post_auth("/v1/batch", Some(&bearer(WRITE)), r#"{"batch":[]}"#);
    assert_eq!((r.status, r.json()["field"].as_str()), (400, Some("batch")));
    let big = json!({"anonymousId": "a", "event": "e", "timestamp": "2024-05-01T12:31:00Z",
        "properties": {"blob": "x".repeat(40_000)}})
    .to_string();
    assert_eq!(
        s.post_auth("/v1/track", Some(&bearer(WRITE)), &big).status,
        413
    );
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
