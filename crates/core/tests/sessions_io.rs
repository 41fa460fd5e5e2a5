//! Export and import of live sessions: round trip, determinism, and damage rejected with an
//! `InvalidInputException` on `sessions` that changes nothing.

#![allow(clippy::unwrap_used)]

mod runtime_model;

use edgerec_core::{Engine, ErrorCode, RequestError};
use runtime_model::{events, ids, model, recs};

fn busy_engine() -> Engine {
    let mut e = Engine::new(model());
    e.put_events(&events("anon-1", None, &["item7", "item8", "item9"]))
        .unwrap();
    e.put_events(&events("s-2", Some("alice"), &["item2", "unknown-item"]))
        .unwrap();
    let mut imp = events("s-3", None, &["item1"]);
    imp.event_list[0].impression = vec!["item3".into(), "item4".into()];
    e.put_events(&imp).unwrap();
    e
}

#[test]
fn round_trip_restores_recommendations() {
    let e = busy_engine();
    let bytes = e.export_sessions();
    assert_eq!(
        bytes,
        busy_engine().export_sessions(),
        "export is deterministic"
    );
    let mut fresh = e.fork();
    assert_eq!(fresh.import_sessions(&bytes).unwrap(), 3);
    assert_eq!(fresh.session_count(), 3);
    for user in ["anon-1", "alice", "s-3"] {
        for rec in ["for-you", "related"] {
            assert_eq!(
                ids(&fresh.get_recommendations(&recs(rec, user, 5)).unwrap()),
                ids(&e.get_recommendations(&recs(rec, user, 5)).unwrap()),
                "{rec} for {user}"
            );
        }
    }
    // Re-exporting the imported sessions gives the same sessions back.
    let again = fresh.export_sessions();
    let mut third = e.fork();
    third.import_sessions(&again).unwrap();
    assert_eq!(
        ids(&third
            .get_recommendations(&recs("for-you", "anon-1", 5))
            .unwrap()),
        ids(&e
            .get_recommendations(&recs("for-you", "anon-1", 5))
            .unwrap())
    );
}

#[test]
fn empty_export_imports_nothing() {
    let e = Engine::new(model());
    let bytes = e.export_sessions();
    let mut f = e.fork();
    assert_eq!(f.import_sessions(&bytes).unwrap(), 0);
}

fn field(err: &RequestError) -> String {
    match err {
        RequestError::InvalidInput { field, .. } => field.clone(),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn damage_is_rejected_and_changes_nothing() {
    let bytes = busy_engine().export_sessions();
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        bytes[..10].to_vec(),
        bytes[..bytes.len() - 1].to_vec(),
        [bytes.as_slice(), &[0]].concat(),
    ];
    for at in [0, 8, 10, 12, 16, 25, bytes.len() - 1] {
        let mut b = bytes.clone();
        b[at] ^= 0x41;
        cases.push(b);
    }
    let mut e = Engine::new(model());
    for (k, b) in cases.iter().enumerate() {
        let err = e.import_sessions(b).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "case {k}");
        assert_eq!(field(&err), "sessions", "case {k}");
        assert_eq!(e.session_count(), 0, "case {k}");
    }
    // Every truncation fails cleanly (no panic).
    for n in 0..bytes.len() {
        assert!(e.import_sessions(&bytes[..n]).is_err());
    }
}

#[test]
fn huge_length_claims_are_bounded() {
    // A valid header around a payload whose first varint claims 2^60 sessions.
    let payload = [0xFD, 0, 0, 0, 0, 0, 0, 0x10, 0];
    let mut b = b"\x89ERS\r\n\x1a\n".to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    b.extend_from_slice(&crc32fast_hash(&payload).to_le_bytes());
    b.extend_from_slice(&payload);
    let mut e = Engine::new(model());
    assert_eq!(
        e.import_sessions(&b).unwrap_err().code(),
        ErrorCode::InvalidInput
    );
}

/// CRC-32 (IEEE), bitwise, so the test needs no extra dependency.
fn crc32fast_hash(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}
