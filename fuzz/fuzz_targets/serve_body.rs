//! `edgerec serve`'s request bodies → its validators (`crates/server/src/ingest.rs`: PutEvents,
//! PutItems, PutUsers, the recommendations log). Any input may be refused with a field-naming
//! error, none may panic, and what is accepted is what the store may keep:
//! - every event has an id; a server-assigned one is the hash of the event's content, so the
//!   same body parsed twice gives the same ids;
//! - event times are finite and not negative; `properties` is a JSON object's text, and
//!   `impression` and a log entry's `items` are the JSON text of an array of strings
//!   (`n_items` long);
//! - lists are within the routes' limits.
//!
//! Input: the first byte picks the route; the rest is the body.
//! Crashers go to `crates/core/tests/fuzz-regressions/serve_body/`.

#![no_main]

// Compiled from the server's source: the validators need only the core, serde and sha2, and
// the fuzz build then leaves out the server's HTTP, SQLite and object-store dependencies.
#[path = "../../crates/server/src/ingest.rs"]
#[allow(dead_code)]
mod ingest;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn json_object(text: &str) {
    let v: Value = serde_json::from_str(text).expect("stored properties are JSON");
    assert!(v.is_object(), "properties {text} are an object");
}

fn string_array(text: &str) -> usize {
    let v: Vec<String> = serde_json::from_str(text).expect("a stored id list is a JSON array");
    v.len()
}

fn check_error(e: &ingest::InputError) {
    assert!(!e.field.is_empty(), "an error names its field: {e}");
    assert!(!e.message.is_empty());
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    match route % 4 {
        0 => match ingest::parse_events(body) {
            Ok(put) => {
                assert!(put.events.len() <= ingest::MAX_EVENTS);
                for e in &put.events {
                    assert!(!e.event_id.is_empty());
                    assert!(e.sent_at.is_finite() && e.sent_at >= 0.0);
                    assert!(e.event_value.is_none_or(f64::is_finite));
                    assert_eq!(e.session_id, put.session_id);
                    if e.assigned_id {
                        assert_eq!(e.event_id, ingest::derived_id(e));
                    }
                    if let Some(p) = &e.properties {
                        json_object(p);
                    }
                    if let Some(i) = &e.impression {
                        string_array(i);
                    }
                }
                let again = ingest::parse_events(body).expect("the same body parses again");
                assert_eq!(again, put);
            }
            Err(e) => check_error(&e),
        },
        1 | 2 => match ingest::parse_records(body, route % 4 == 2) {
            Ok(records) => {
                assert!(records.len() <= ingest::MAX_RECORDS);
                for r in &records {
                    assert!(!r.id.is_empty());
                    if let Some(p) = &r.properties {
                        json_object(p);
                    }
                }
            }
            Err(e) => check_error(&e),
        },
        _ => match ingest::parse_recommendations(body, 1_767_225_600_000) {
            Ok(logged) => {
                assert!(logged.len() <= ingest::MAX_RECOMMENDATIONS);
                for r in &logged {
                    assert!(!r.recommendation_id.is_empty() && !r.recommender.is_empty());
                    assert_eq!(string_array(&r.items), r.n_items);
                    assert!(r.n_items <= ingest::MAX_LOGGED_ITEMS);
                }
            }
            Err(e) => check_error(&e),
        },
    }
});
