#![allow(clippy::unwrap_used)]

use proptest::prelude::*;

use super::*;

fn cfg() -> SegmentConfig {
    SegmentConfig::from_json(r#"{"Product Viewed": "view", "$page": "pageview"}"#).unwrap()
}

fn event(m: &Mapped) -> (&PutEventsRequest, &Event) {
    match m {
        Mapped::Event(r) => (r, &r.event_list[0]),
        Mapped::User(u) => panic!("expected an event, got {u:?}"),
    }
}

fn field(e: &RequestError) -> String {
    match e {
        RequestError::InvalidInput { field, .. } => field.clone(),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn track_maps_every_field() {
    let body = br#"{"type":"track","anonymousId":"anon-1","userId":"u1","event":"Product Viewed",
        "messageId":"m-1","timestamp":"2024-05-01T12:30:00.500Z",
        "properties":{"product_id":"p9","price":12.5,"color":"red","qty":2,"gift":true,
                      "nested":{"a":1},"userId":"spoof","name":"A \"quoted\"\nname"}}"#;
    let m = parse_call(body, Some(CallType::Track), &cfg()).unwrap();
    let (r, e) = event(&m);
    assert_eq!(r.session_id, "anon-1");
    assert_eq!(r.user_id.as_deref(), Some("u1"));
    assert_eq!(e.event_type, "view");
    assert_eq!(e.item_id.as_deref(), Some("p9"));
    assert_eq!(e.event_id.as_deref(), Some("m-1"));
    assert_eq!(e.event_value, Some(12.5));
    assert_eq!(e.sent_at, 1_714_566_600.5);
    let props = e.properties.as_deref().unwrap();
    assert_eq!(
        props,
        r#"{"color":"red","gift":true,"name":"A \"quoted\"\nname","qty":2}"#
    );
    // The properties are a JSON object the sync server and the engine accept.
    let v: serde_json::Value = serde_json::from_str(props).unwrap();
    assert_eq!(v["name"], "A \"quoted\"\nname");
    crate::contract::put_events(r, &crate::contract::Policy::PERSONALIZE).unwrap();
}

#[test]
fn unmapped_track_names_are_kept_and_sku_numbers_are_item_ids() {
    let body = br#"{"userId":"u1","event":"Added To Cart","timestamp":"2024-05-01T12:30:00+02:00",
        "properties":{"sku":1234,"revenue":"n/a"}}"#;
    let m = parse_call(body, Some(CallType::Track), &cfg()).unwrap();
    let (r, e) = event(&m);
    // No anonymousId: the userId is the session.
    assert_eq!(r.session_id, "u1");
    assert_eq!(e.event_type, "Added To Cart");
    assert_eq!(e.item_id.as_deref(), Some("1234"));
    assert_eq!(e.sent_at, 1_714_559_400.0);
    // A revenue that is no number stays a property.
    assert_eq!(e.event_value, None);
    assert_eq!(e.properties.as_deref(), Some(r#"{"revenue":"n/a"}"#));
    // No messageId: a derived id, the same on a retry.
    let again = parse_call(body, Some(CallType::Track), &cfg()).unwrap();
    assert!(e.event_id.is_some());
    assert_eq!(event(&again).1.event_id, e.event_id);
}

#[test]
fn page_and_screen_use_the_configured_types() {
    let page = br#"{"anonymousId":"a","timestamp":"2024-01-01T00:00:00Z","name":"Home",
        "properties":{"url":"https://x/"}}"#;
    let m = parse_call(page, Some(CallType::Page), &cfg()).unwrap();
    assert_eq!(event(&m).1.event_type, "pageview");
    assert_eq!(event(&m).1.item_id, None);
    assert_eq!(event(&m).1.sent_at, 1_704_067_200.0);
    let m = parse_call(page, Some(CallType::Page), &SegmentConfig::default()).unwrap();
    assert_eq!(event(&m).1.event_type, "page");
    let screen =
        br#"{"type":"screen","anonymousId":"a","originalTimestamp":"2024-01-01T00:00:01Z"}"#;
    let m = parse_call(screen, None, &cfg()).unwrap();
    assert_eq!(event(&m).1.event_type, "screen");
    assert_eq!(event(&m).1.sent_at, 1_704_067_201.0);
}

#[test]
fn identify_is_a_user_record() {
    let body = br#"{"type":"identify","userId":"u7","anonymousId":"a",
        "traits":{"plan":"pro","age":41,"address":{"city":"x"}}}"#;
    let m = parse_call(body, Some(CallType::Identify), &cfg()).unwrap();
    assert_eq!(
        m,
        Mapped::User(User {
            user_id: "u7".into(),
            properties: Some(r#"{"age":41,"plan":"pro"}"#.into()),
        })
    );
    let e = parse_call(
        br#"{"anonymousId":"a","traits":{}}"#,
        Some(CallType::Identify),
        &cfg(),
    )
    .unwrap_err();
    assert_eq!(field(&e), "userId");
}

#[test]
fn bad_calls_name_the_field() {
    let cases: &[(&[u8], Option<CallType>, &str)] = &[
        (b"", Some(CallType::Track), "body"),
        (b"[1]", Some(CallType::Track), "body"),
        (b"{\"event\":", Some(CallType::Track), "body"),
        (br#"{"anonymousId":"a","timestamp":"2024-01-01T00:00:00Z"}"#, Some(CallType::Track), "event"),
        (br#"{"anonymousId":"a","event":7,"timestamp":"2024-01-01T00:00:00Z"}"#, Some(CallType::Track), "event"),
        (br#"{"event":"e","timestamp":"2024-01-01T00:00:00Z"}"#, Some(CallType::Track), "anonymousId"),
        (br#"{"anonymousId":"a","event":"e"}"#, Some(CallType::Track), "timestamp"),
        (br#"{"anonymousId":"a","event":"e","timestamp":"yesterday"}"#, Some(CallType::Track), "timestamp"),
        (br#"{"anonymousId":"a","event":"e","timestamp":"2023-02-29T00:00:00Z"}"#, Some(CallType::Track), "timestamp"),
        (br#"{"anonymousId":"a","event":"e","timestamp":1700000000}"#, Some(CallType::Track), "timestamp"),
        (br#"{"anonymousId":"a","event":"e","timestamp":"1969-12-31T23:59:59Z"}"#, Some(CallType::Track), "timestamp"),
        (br#"{"anonymousId":"","event":"e","timestamp":"2024-01-01T00:00:00Z"}"#, Some(CallType::Track), "anonymousId"),
        (br#"{"anonymousId":true,"event":"e","timestamp":"2024-01-01T00:00:00Z"}"#, Some(CallType::Track), "anonymousId"),
        (br#"{"anonymousId":"a","event":"e","timestamp":"2024-01-01T00:00:00Z","properties":[]}"#, Some(CallType::Track), "properties"),
        (br#"{"anonymousId":"a","event":"e","timestamp":"2024-01-01T00:00:00Z","properties":{"product_id":{}}}"#, Some(CallType::Track), "properties.product_id"),
        (br#"{"anonymousId":"a","event":"e","timestamp":"2024-01-01T00:00:00Z","messageId":""}"#, Some(CallType::Track), "messageId"),
        (br#"{"type":"page","anonymousId":"a","event":"e","timestamp":"2024-01-01T00:00:00Z"}"#, Some(CallType::Track), "type"),
        (br#"{"type":"alias","anonymousId":"a","timestamp":"2024-01-01T00:00:00Z"}"#, None, "type"),
        (br#"{"anonymousId":"a","timestamp":"2024-01-01T00:00:00Z"}"#, None, "type"),
        (br#"{"type":"identify","userId":"u","traits":"x"}"#, None, "traits"),
    ];
    for (body, route, want) in cases {
        let e = parse_call(body, *route, &cfg()).unwrap_err();
        assert_eq!(field(&e), *want, "{}: {e}", String::from_utf8_lossy(body));
    }
    let long = format!(
        r#"{{"anonymousId":"{}","event":"e","timestamp":"2024-01-01T00:00:00Z"}}"#,
        "a".repeat(257)
    );
    let e = parse_call(long.as_bytes(), Some(CallType::Track), &cfg()).unwrap_err();
    assert_eq!(field(&e), "anonymousId");
    assert!(e.to_string().contains("256"), "{e}");
}

#[test]
fn a_batch_keeps_the_good_calls_and_names_the_bad_ones() {
    let body = br#"{"batch":[
        {"type":"track","anonymousId":"a","event":"Product Viewed","timestamp":"2024-01-01T00:00:00Z","messageId":"m0","properties":{"product_id":"p1"}},
        {"type":"track","anonymousId":"a","event":"e","timestamp":"not a time"},
        {"type":"identify","userId":"u","traits":{"plan":"pro"}},
        {"type":"group","groupId":"g"},
        7,
        {"type":"page","anonymousId":"a","timestamp":"2024-01-01T00:00:02Z"}
    ]}"#;
    let b = parse_batch(body, &cfg()).unwrap();
    let good: Vec<usize> = b.calls.iter().map(|(k, _)| *k).collect();
    assert_eq!(good, [0, 2, 5]);
    let bad: Vec<(usize, String)> = b.rejected.iter().map(|(k, e)| (*k, field(e))).collect();
    assert_eq!(
        bad,
        [
            (1, "batch[1].timestamp".to_owned()),
            (3, "batch[3].type".to_owned()),
            (4, "batch[4]".to_owned())
        ]
    );
    assert!(b.rejected[0].1.to_string().contains("not an RFC 3339 time"));
    let reqs = b.put_events();
    assert_eq!(reqs.len(), 1);
    assert_eq!(reqs[0].0, [0, 5]);
    assert_eq!(reqs[0].1.event_list[0].event_id.as_deref(), Some("m0"));
    assert_eq!(b.users().len(), 1);
    for bad in [&b"{}"[..], b"{\"batch\":[]}", b"{\"batch\":{}}", b"[]"] {
        assert!(parse_batch(bad, &cfg()).is_err());
    }
}

#[test]
fn batches_are_chunked_per_session_and_limit() {
    let mut calls = Vec::new();
    for k in 0..25 {
        let session = if k % 2 == 0 { "a" } else { "b" };
        calls.push(format!(
            r#"{{"type":"track","anonymousId":"{session}","event":"e","timestamp":"2024-01-01T00:00:{k:02}Z"}}"#
        ));
    }
    let body = format!(r#"{{"batch":[{}]}}"#, calls.join(","));
    let b = parse_batch(body.as_bytes(), &cfg()).unwrap();
    let reqs = b.put_events();
    let sizes: Vec<usize> = reqs.iter().map(|(_, r)| r.event_list.len()).collect();
    assert_eq!(sizes, [10, 10, 3, 2]);
    let mut all: Vec<usize> = reqs.iter().flat_map(|(k, _)| k.clone()).collect();
    all.sort_unstable();
    assert_eq!(all, (0..25).collect::<Vec<_>>());
    for (_, r) in &reqs {
        crate::contract::put_events(r, &crate::contract::Policy::PERSONALIZE).unwrap();
        assert!(r.event_list.iter().all(|e| e.event_id.is_some()));
    }
}

#[test]
fn times_and_keys() {
    assert_eq!(rfc3339("1970-01-01T00:00:00Z"), Some(0.0));
    assert_eq!(rfc3339("2000-02-29T23:59:59.25z"), Some(951_868_799.25));
    assert_eq!(
        rfc3339("2024-05-01 12:30:00-0130"),
        Some(1_714_566_600.0 + 5400.0)
    );
    for bad in [
        "2024-13-01T00:00:00Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T00:00:00",
        "2024-05-01T00:00:00.Z",
        "2024-05-01T00:00:00Zx",
        "2024-5-01T00:00:00Z",
        "",
    ] {
        assert_eq!(rfc3339(bad), None, "{bad}");
    }
    assert_eq!(
        basic_write_key("Basic dGhlLWtleTo="),
        Some("the-key".to_owned())
    );
    assert_eq!(
        basic_write_key("Basic dGhlLWtleQ=="),
        Some("the-key".to_owned())
    );
    assert_eq!(basic_write_key("Basic !!"), None);
    assert_eq!(basic_write_key("Bearer x"), None);
    assert_eq!(basic_write_key("Basic Og=="), None);
    assert!(SegmentConfig::from_json("[1]").is_err());
    assert!(SegmentConfig::from_json(r#"{"a":1}"#).is_err());
    assert_eq!(
        SegmentConfig::from_json(" ").unwrap(),
        SegmentConfig::default()
    );
}

#[test]
fn long_properties_keep_what_fits() {
    let big = "x".repeat(900);
    let body = format!(
        r#"{{"anonymousId":"a","event":"e","timestamp":"2024-01-01T00:00:00Z","properties":{{"a":"{big}","b":"{big}","c":1}}}}"#
    );
    let m = parse_call(body.as_bytes(), Some(CallType::Track), &cfg()).unwrap();
    let p = event(&m).1.properties.clone().unwrap();
    assert!(p.chars().count() <= limits::MAX_PROPERTIES_LEN);
    assert_eq!(p, format!(r#"{{"a":"{big}","c":1}}"#));
}

proptest! {
    /// Any track call with a messageId maps to an event that passes PutEvents validation,
    /// with the messageId as its eventId and the ids as sent.
    #[test]
    fn track_calls_map_and_validate(
        anon in "[a-zA-Z0-9-]{1,40}",
        user in proptest::option::of("[a-zA-Z0-9]{1,20}"),
        name in "[a-zA-Z ]{1,30}",
        msg in "[a-f0-9-]{1,36}",
        secs in 0u64..4_000_000_000,
        item in proptest::option::of(0u64..1_000_000),
        props in proptest::collection::btree_map(
            "[a-z_\"\\\\]{1,8}".prop_filter("not a mapped key", |k| {
                !matches!(k.as_str(), "sku" | "product_id" | "price" | "revenue" | "value")
            }),
            "[ -~é\n]{0,20}",
            0..8,
        ),
    ) {
        let mut call = serde_json::json!({
            "type": "track", "anonymousId": anon, "event": name, "messageId": msg,
            "timestamp": iso(secs),
            "properties": props,
        });
        if let Some(u) = &user {
            call["userId"] = serde_json::json!(u);
        }
        if let Some(i) = item {
            call["properties"]["product_id"] = serde_json::json!(i);
        }
        let body = serde_json::to_vec(&serde_json::json!({"batch": [call.clone(), call]})).unwrap();
        let b = parse_batch(&body, &SegmentConfig::default()).unwrap();
        prop_assert!(b.rejected.is_empty(), "{:?}", b.rejected);
        let reqs = b.put_events();
        prop_assert_eq!(reqs.len(), 1);
        let r = &reqs[0].1;
        crate::contract::put_events(r, &crate::contract::Policy::PERSONALIZE).unwrap();
        prop_assert_eq!(&r.session_id, &anon);
        prop_assert_eq!(&r.user_id, &user);
        for e in &r.event_list {
            prop_assert_eq!(e.event_id.as_deref(), Some(msg.as_str()));
            #[allow(clippy::cast_precision_loss)]
            let want = secs as f64;
            prop_assert_eq!(e.sent_at, want);
            prop_assert_eq!(e.item_id.clone(), item.map(|i| i.to_string()));
            prop_assert_eq!(&e.event_type, &name);
            if let Some(p) = &e.properties {
                let v: serde_json::Value = serde_json::from_str(p).unwrap();
                let o = v.as_object().unwrap();
                let sent = serde_json::to_value(&props).unwrap();
                for (k, val) in o {
                    prop_assert_eq!(Some(val), sent.get(k));
                }
            }
        }
    }

    /// Whatever the bytes, a batch parses or fails without panicking, and every call is
    /// either mapped or rejected.
    #[test]
    fn any_batch_is_mapped_or_rejected(calls in proptest::collection::vec(any::<u8>(), 0..6)) {
        let items: Vec<serde_json::Value> = calls.iter().map(|&c| match c % 5 {
            0 => serde_json::json!({"type":"track","anonymousId":"a","event":"e","timestamp":"2024-01-01T00:00:00Z"}),
            1 => serde_json::json!({"type":"track","event":"e","timestamp":"2024-01-01T00:00:00Z"}),
            2 => serde_json::json!({"type":"identify","userId":"u"}),
            3 => serde_json::json!({"type":"page","anonymousId":"a","timestamp":"x"}),
            _ => serde_json::json!(c),
        }).collect();
        let body = serde_json::to_vec(&serde_json::json!({"batch": items})).unwrap();
        match parse_batch(&body, &SegmentConfig::default()) {
            Ok(b) => {
                prop_assert_eq!(b.calls.len() + b.rejected.len(), calls.len());
                let ok = calls.iter().filter(|&&c| c % 5 == 0 || c % 5 == 2).count();
                prop_assert_eq!(b.calls.len(), ok);
            }
            Err(_) => prop_assert!(calls.is_empty()),
        }
    }
}

/// An RFC 3339 UTC time of `secs`.
fn iso(secs: u64) -> String {
    crate::calendar::utc_text(i64::try_from(secs).unwrap())
}

#[test]
fn schema_traits_keep_the_user_fields() {
    use crate::{Column, ColumnKind, ColumnValues};
    let col = |name: &str| Column {
        name: name.into(),
        kind: ColumnKind::Categorical,
        values: ColumnValues::Numeric(Vec::new()),
    };
    let user = User {
        user_id: "u".into(),
        properties: Some(r#"{"email":"a@b","membership_tier":"gold","plan":"pro"}"#.into()),
    };
    let kept = schema_traits(&user, &[col("MEMBERSHIPTIER"), col("PLAN")]);
    assert_eq!(
        kept.properties.as_deref(),
        Some(r#"{"membership_tier":"gold","plan":"pro"}"#)
    );
    assert_eq!(schema_traits(&user, &[]).properties, None);
}
