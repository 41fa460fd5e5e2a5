//! Binding behaviour checked in every JS host: shapes, errors with codes, sessions, outbox.

use edgerec_wasm::Recommender;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

use crate::common::{get, item_ids, json, model_bytes};

fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_default()
}

fn message(e: &JsValue) -> String {
    get(e, "message").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
fn recommends_in_personalize_shape() {
    let r = Recommender::from_bytes(&model_bytes()).expect("model loads");
    let resp = r
        .get_recommendations(json(
            r#"{"recommender":"for-you","userId":"bob","numResults":3}"#,
        ))
        .expect("recommendations");
    assert_eq!(item_ids(&resp), ["item07", "item08", "item09"]);
    let rid = get(&resp, "recommendationId")
        .as_string()
        .unwrap_or_default();
    assert!(rid.starts_with("RID-") && rid.len() == 40, "{rid}");
    let first = js_sys::Array::from(&get(&resp, "itemList")).get(0);
    assert!(get(&first, "score").as_f64().is_some());
    let info = r.info().expect("info");
    assert_eq!(get(&info, "items").as_f64(), Some(12.0));
    // A file is stamped with the oldest format version that holds what it uses: this model uses
    // only what format 1.0 defined.
    assert_eq!(
        get(&info, "formatVersion").as_string().as_deref(),
        Some("1.0")
    );
}

#[wasm_bindgen_test]
fn errors_carry_codes_and_fields() {
    let bad = Recommender::from_bytes(b"not a model").expect_err("garbage is rejected");
    assert_eq!(code(&bad), "ModelFormatError");
    assert!(bad.is_instance_of::<js_sys::Error>());
    let r = Recommender::from_bytes(&model_bytes()).expect("model loads");
    let e = r
        .get_recommendations(json(r#"{"recommender":"for-you","numResults":501}"#))
        .expect_err("too many results");
    assert_eq!(code(&e), "InvalidInputException");
    assert!(message(&e).contains("numResults"), "{}", message(&e));
    let e = r
        .get_recommendations(json(r#"{"recommender":"nope"}"#))
        .expect_err("unknown recommender");
    assert_eq!(code(&e), "ResourceNotFoundException");
    let e = r
        .get_recommendations(json(r#"{"recommender":"for-you","numResults":"ten"}"#))
        .expect_err("wrong type");
    assert_eq!(code(&e), "InvalidInputException");
    assert!(message(&e).contains("numResults"), "{}", message(&e));
}

#[wasm_bindgen_test]
fn events_adapt_and_reach_the_outbox_once() {
    let mut r = Recommender::from_bytes(&model_bytes()).expect("model loads");
    r.put_events(json(
        r#"{"sessionId":"s1","eventList":[{"eventType":"view","itemId":"item08","sentAt":1},{"eventType":"view","itemId":"item09","sentAt":2}]}"#,
    ))
    .expect("events accepted");
    let resp = r
        .get_recommendations(json(
            r#"{"recommender":"for-you","userId":"s1","numResults":3}"#,
        ))
        .expect("recommendations");
    assert!(
        item_ids(&resp).iter().all(|i| i.as_str() >= "item06"),
        "{:?}",
        item_ids(&resp)
    );
    let batches = js_sys::Array::from(&r.take_outbox(100).expect("outbox"));
    assert_eq!(batches.length(), 1);
    let events = js_sys::Array::from(&get(&batches.get(0), "eventList"));
    assert_eq!(events.length(), 2);
    let id = get(&events.get(0), "eventId")
        .as_string()
        .unwrap_or_default();
    assert_eq!(id.len(), 36, "a random UUID: {id}");
    assert_eq!(
        js_sys::Array::from(&r.take_outbox(100).expect("outbox")).length(),
        0
    );
    let bytes = r.export_sessions();
    let mut other = Recommender::from_bytes(&model_bytes()).expect("model loads");
    assert_eq!(other.import_sessions(&bytes).expect("import"), 1);
    let again = other
        .get_recommendations(json(
            r#"{"recommender":"for-you","userId":"s1","numResults":3}"#,
        ))
        .expect("recommendations");
    assert_eq!(item_ids(&again), item_ids(&resp));
    let e = other
        .import_sessions(&bytes[..bytes.len() - 1])
        .expect_err("truncated");
    assert_eq!(code(&e), "InvalidInputException");
}

#[wasm_bindgen_test]
fn the_outbox_holds_only_what_the_sync_server_accepts() {
    let mut r = Recommender::from_bytes(&model_bytes()).expect("model loads");
    // A key Personalize reserves: refused by the core's contract, as the sync server refuses it.
    let e = r
        .put_events(json(
            r#"{"sessionId":"s1","eventList":[{"eventType":"view","itemId":"item08","sentAt":1,"properties":"{\"userId\":\"x\"}"}]}"#,
        ))
        .expect_err("reserved key");
    assert_eq!(code(&e), "InvalidInputException");
    assert!(
        message(&e).contains("eventList[0].properties"),
        "{}",
        message(&e)
    );
    assert_eq!(
        js_sys::Array::from(&r.take_outbox(100).expect("outbox")).length(),
        0
    );
    r.put_events(json(
        r#"{"sessionId":"s1","eventList":[{"eventType":"click","itemId":"item08","sentAt":1,"metricAttribution":{"eventAttributionSource":"email"},"recommender":"for-you"}]}"#,
    ))
    .expect("events accepted");
    let batch = js_sys::Array::from(&r.take_outbox(100).expect("outbox")).get(0);
    let event = js_sys::Array::from(&get(&batch, "eventList")).get(0);
    // Absent fields and empty lists are left out, as the sync server takes the batch.
    let has = |o: &JsValue, k: &str| js_sys::Reflect::has(o, &JsValue::from_str(k)).unwrap_or(true);
    for absent in ["trackingId", "userId"] {
        assert!(!has(&batch, absent), "{absent}");
    }
    for absent in ["impression", "eventValue", "properties", "recommendationId"] {
        assert!(!has(&event, absent), "{absent}");
    }
    assert_eq!(
        get(&get(&event, "metricAttribution"), "eventAttributionSource").as_string(),
        Some("email".to_owned())
    );
    assert_eq!(
        get(&event, "recommender").as_string(),
        Some("for-you".to_owned())
    );
}

#[wasm_bindgen_test]
fn cold_items_are_usable_at_once() {
    let mut r = Recommender::from_bytes(&model_bytes()).expect("model loads");
    r.put_items(json(
        r#"[{"itemId":"fresh","properties":"{\"color\":\"green\"}"}]"#,
    ))
    .expect("items accepted");
    let resp = r
        .get_recommendations(json(
            r#"{"recommender":"popular","numResults":3,"filter":"INCLUDE ItemID WHERE Items.COLOR IN (\"green\")"}"#,
        ))
        .expect("recommendations");
    assert_eq!(item_ids(&resp), ["fresh"]);
    let e = r
        .put_items(json(r#"[{"itemId":"x","properties":"{\"size\":1}"}]"#))
        .expect_err("unknown field");
    assert!(
        message(&e).contains("items[0].properties.size"),
        "{}",
        message(&e)
    );
}

#[wasm_bindgen_test]
fn option_maps_may_be_js_maps() {
    let r = Recommender::from_bytes(&model_bytes()).expect("model loads");
    let req = json(r#"{"recommender":"for-you","userId":"bob"}"#);
    let values = js_sys::Map::new();
    values.set(
        &JsValue::from_str("K"),
        &JsValue::from_str(&"x".repeat(1001)),
    );
    js_sys::Reflect::set(&req, &JsValue::from_str("filterValues"), &values).expect("set");
    let e = r
        .get_recommendations(req)
        .expect_err("an over-long filter value in a Map");
    assert_eq!(code(&e), "InvalidInputException");
    assert!(message(&e).contains("filterValues.K"), "{}", message(&e));
}
