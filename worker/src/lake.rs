//! The event lake from the Worker: when an R2 bucket is bound as `LAKE`, the queue consumer also
//! writes each `PutEvents` batch it delivers as Parquet (the lake crate's encoder: one file per
//! UTC day, `dt=YYYY-MM-DD/worker-<hash>.parquet` under `LAKE_PREFIX`), before it posts the
//! batch to the sync server. A thin adapter: the batch's events become `LakeEvent`s, the lake
//! crate makes the files, R2 stores them.
//!
//! Exactly once per `eventId`: the file's name is a hash of the batch's event ids, so a
//! redelivered message (a failed post, a retried consumer) and a client's retry of the same
//! call (same ids: the Worker derives missing ids from the event's content) overwrite the same
//! object instead of adding a copy. A failed put retries the message like a failed post.

use edgerec_core::PutEventsRequest;
use edgerec_core::event_id::derive_event_id;
use edgerec_lake::{LakeEvent, LakeFile};
use sha2::{Digest, Sha256};
use worker::Env;

use crate::config::var;
use crate::sigv4::hex;

/// The R2 binding of the lake.
pub const LAKE_BUCKET: &str = "LAKE";

/// Whether the lake is bound.
pub fn bound(env: &Env) -> bool {
    env.bucket(LAKE_BUCKET).is_ok()
}

/// A `PutEvents` request's events as lake rows, in order (an event without an id gets the one
/// the Worker derives for it at ingest).
pub fn lake_events(req: &PutEventsRequest) -> Vec<LakeEvent> {
    req.event_list
        .iter()
        .enumerate()
        .map(|(i, e)| LakeEvent {
            event_id: e
                .event_id
                .clone()
                .unwrap_or_else(|| derive_event_id(req, i)),
            user_id: req.user_id.clone(),
            session_id: req.session_id.clone(),
            item_id: e.item_id.clone(),
            timestamp: LakeEvent::timestamp_of(e.sent_at),
            event_type: e.event_type.clone(),
            event_value: e.event_value,
            impression: e.impression.clone(),
            recommendation_id: e.recommendation_id.clone(),
            properties: e.properties.clone(),
        })
        .collect()
}

/// The stem of a batch's files: `worker-` and 128 bits of SHA-256 over its event ids.
pub fn stem(events: &[LakeEvent]) -> String {
    let mut h = Sha256::new();
    for e in events {
        h.update((e.event_id.len() as u64).to_le_bytes());
        h.update(e.event_id.as_bytes());
    }
    format!("worker-{}", &hex(&h.finalize())[..32])
}

/// The files of a `POST /events` batch body (keys without the prefix).
pub fn batch_files(body: &str) -> Result<Vec<LakeFile>, String> {
    let req: PutEventsRequest = serde_json::from_str(body)
        .map_err(|e| format!("lake: the queued batch is not a PutEvents body: {e}"))?;
    let events = lake_events(&req);
    edgerec_lake::files(&events, &stem(&events)).map_err(|e| format!("lake: {e}"))
}

/// The object key of a file: `LAKE_PREFIX/` (when set) and the file's key.
fn object_key(env: &Env, key: &str) -> String {
    match var(env, "LAKE_PREFIX") {
        Some(p) if !p.trim_matches('/').is_empty() => format!("{}/{key}", p.trim_matches('/')),
        _ => key.to_owned(),
    }
}

/// Writes a `POST /events` batch to the `LAKE` bucket; returns the files written.
pub async fn write(env: &Env, body: &str) -> Result<usize, String> {
    let files = batch_files(body)?;
    let bucket = env
        .bucket(LAKE_BUCKET)
        .map_err(|e| format!("lake: {LAKE_BUCKET} is not bound: {e}"))?;
    for f in &files {
        crate::metrics::r2_call();
        bucket
            .put(object_key(env, &f.key), f.bytes.clone())
            .execute()
            .await
            .map_err(|e| format!("lake: writing {}: {e}", f.key))?;
    }
    Ok(files.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(ids: &[Option<&str>], sent_at: f64) -> String {
        let events: Vec<serde_json::Value> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let mut e = serde_json::json!({"eventType": "view", "itemId": format!("i{i}"), "sentAt": sent_at + i as f64, "impression": ["a", "b"]});
                if let Some(id) = id {
                    e["eventId"] = serde_json::json!(id);
                }
                e
            })
            .collect();
        serde_json::json!({"sessionId": "s1", "userId": "u1", "eventList": events}).to_string()
    }

    #[test]
    fn a_batch_makes_one_file_per_day_named_by_its_event_ids() {
        // 1_700_006_399 is the last second of 2023-11-14 (UTC).
        let files =
            batch_files(&body(&[Some("e1"), Some("e2")], 1_700_006_399.0)).unwrap_or_default();
        let keys: Vec<&str> = files.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys.len(), 2, "{keys:?}");
        assert!(keys[0].starts_with("dt=2023-11-14/worker-"), "{keys:?}");
        assert!(keys[1].starts_with("dt=2023-11-15/worker-"), "{keys:?}");
        assert_eq!(files.iter().map(|f| f.rows).sum::<usize>(), 2);
        // The same ids name the same objects; other ids other ones.
        let again =
            batch_files(&body(&[Some("e1"), Some("e2")], 1_700_006_399.0)).unwrap_or_default();
        assert_eq!(again, files);
        let other =
            batch_files(&body(&[Some("e1"), Some("e3")], 1_700_006_399.0)).unwrap_or_default();
        assert_ne!(other[0].key, files[0].key);
    }

    #[test]
    fn rows_carry_the_request_fields_and_derived_ids() {
        let req: PutEventsRequest =
            serde_json::from_str(&body(&[None, Some("e2")], 1_700_000_000_500.0))
                .unwrap_or_default();
        let rows = lake_events(&req);
        assert_eq!(rows[0].event_id, derive_event_id(&req, 0));
        assert_eq!(rows[1].event_id, "e2");
        assert_eq!(rows[1].user_id.as_deref(), Some("u1"));
        assert_eq!(rows[0].timestamp, 1_700_000_000);
        assert_eq!(rows[0].impression_text().as_deref(), Some("a|b"));
    }

    #[test]
    fn a_body_that_is_not_put_events_is_an_error() {
        let err = batch_files("{\"items\": []}").err().unwrap_or_default();
        assert!(err.contains("not a PutEvents body"), "{err}");
    }
}
