//! Forwarding accepted writes to the sync server (`SYNC_URL`, `edgerec serve`), which stores
//! them and retrains. Events reach it through a Cloudflare Queue when `SYNC_QUEUE` is bound
//! (retried with a delay, then the dead-letter queue), else through the session's Durable
//! Object: batches are written to its storage before the write is acknowledged and delivered
//! by its alarm, retried with exponential backoff until the server accepts them.

use edgerec_core::PutEventsRequest;
use serde::{Deserialize, Serialize};
use worker::durable::ListOptions;
use worker::{
    Env, Fetch, Headers, MessageBatch, MessageExt, Method, QueueRetryOptionsBuilder, Request,
    RequestInit, Storage, console_error, console_log,
};

use crate::config::{self, var};

/// One write to forward: the sync server's route and the JSON body (as text, so it crosses the
/// queue's structured clone unchanged).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Batch {
    pub path: String,
    pub body: String,
}

/// Delay before a queue message is retried, seconds.
const QUEUE_RETRY_DELAY_S: u32 = 30;
/// Longest wait between alarm retries, milliseconds.
const MAX_BACKOFF_MS: i64 = 10 * 60 * 1000;
const OUTBOX_PREFIX: &str = "outbox/";
const ATTEMPTS_KEY: &str = "outbox-attempts";
/// The number of the next outbox entry.
const OUTBOX_NEXT_KEY: &str = "outbox-next";

/// `outbox/` and the entry's number, zero-padded so keys sort in order.
fn outbox_key(n: u64) -> String {
    format!("{OUTBOX_PREFIX}{n:020}")
}

/// How writes reach the sync server in this deployment.
pub fn mode(env: &Env) -> &'static str {
    if var(env, "SYNC_URL").is_none() {
        "disabled"
    } else if env.queue(config::SYNC_QUEUE).is_ok() {
        "queue"
    } else {
        "durable-object-alarm"
    }
}

/// `PutEvents` batches as the sync server's `POST /events` bodies (the core's serialisation
/// leaves out absent fields and empty impression lists, as the server wants them).
pub fn event_batches(reqs: Vec<PutEventsRequest>) -> Vec<Batch> {
    reqs.into_iter()
        .filter_map(|r| serde_json::to_string(&r).ok())
        .map(|body| Batch {
            path: "/events".into(),
            body,
        })
        .collect()
}

/// Hands batches over for delivery: to the queue when bound, else into `storage` with an alarm.
/// Returns once they are durable (queued or stored).
pub async fn enqueue(env: &Env, storage: &Storage, batches: Vec<Batch>) -> worker::Result<()> {
    if batches.is_empty() || var(env, "SYNC_URL").is_none() {
        return Ok(());
    }
    if let Ok(queue) = env.queue(config::SYNC_QUEUE) {
        for b in batches {
            queue.send(b).await?;
        }
        return Ok(());
    }
    // Keys from a counter kept in the same storage: unique and in order, however many
    // batches arrive in the same millisecond. Read and write happen with no other I/O between
    // them, so the object's input gate keeps other requests out (one atomic `put_multiple`).
    let next: u64 = storage.get(OUTBOX_NEXT_KEY).await?.unwrap_or(0);
    let entries = js_sys::Object::new();
    for (i, b) in batches.iter().enumerate() {
        let body = serde_json::to_string(b).map_err(|e| worker::Error::RustError(e.to_string()))?;
        js_sys::Reflect::set(&entries, &outbox_key(next + i as u64).into(), &body.into())
            .map_err(|e| worker::Error::RustError(format!("{e:?}")))?;
    }
    js_sys::Reflect::set(
        &entries,
        &OUTBOX_NEXT_KEY.into(),
        &wasm_bindgen::JsValue::from_f64((next + batches.len() as u64) as f64),
    )
    .map_err(|e| worker::Error::RustError(format!("{e:?}")))?;
    storage.put_multiple_raw(entries).await?;
    if storage.get_alarm().await?.is_none() {
        storage.set_alarm(0i64).await?;
    }
    Ok(())
}

/// POSTs one batch to the sync server with its bearer token.
pub async fn post(env: &Env, batch: &Batch) -> Result<(), String> {
    let base = var(env, "SYNC_URL").ok_or("SYNC_URL is not set")?;
    let url = format!("{}{}", base.trim_end_matches('/'), batch.path);
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json");
    if let Some(t) = var(env, "SYNC_TOKEN") {
        let _ = headers.set("authorization", &format!("Bearer {t}"));
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(batch.body.as_str().into()));
    let req = Request::new_with_init(&url, &init).map_err(|e| e.to_string())?;
    let mut resp = Fetch::Request(req)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if (200..300).contains(&resp.status_code()) {
        Ok(())
    } else {
        let text = resp.text().await.unwrap_or_default();
        Err(format!("{url} answered {}: {text}", resp.status_code()))
    }
}

/// The Durable Object alarm: delivers stored batches in order; on failure keeps the rest and
/// schedules the next attempt with exponential backoff.
pub async fn deliver_stored(env: &Env, storage: &Storage) -> worker::Result<()> {
    let pending = storage
        .list_with_options(ListOptions::new().prefix(OUTBOX_PREFIX))
        .await?;
    let mut keys: Vec<String> = pending
        .keys()
        .into_iter()
        .filter_map(|k| k.ok()?.as_string())
        .collect();
    keys.sort();
    for key in keys {
        let Some(text) = storage.get::<String>(&key).await? else {
            continue;
        };
        let batch: Batch = match serde_json::from_str(&text) {
            Ok(b) => b,
            Err(e) => {
                console_error!("sync: stored batch {key} is unreadable and stays stored: {e}");
                continue;
            }
        };
        if let Err(e) = post(env, &batch).await {
            let attempts: u32 = storage.get(ATTEMPTS_KEY).await?.unwrap_or(0) + 1;
            storage.put(ATTEMPTS_KEY, attempts).await?;
            let delay = (1000i64 << attempts.min(20)).min(MAX_BACKOFF_MS);
            console_error!("sync: delivery failed (attempt {attempts}, next in {delay} ms): {e}");
            storage.set_alarm(delay).await?;
            return Ok(());
        }
        storage.delete(&key).await?;
    }
    storage.delete(ATTEMPTS_KEY).await?;
    Ok(())
}

/// Batches not yet delivered by the alarm.
pub async fn stored_count(storage: &Storage) -> usize {
    storage
        .list_with_options(ListOptions::new().prefix(OUTBOX_PREFIX))
        .await
        .map_or(0, |m| m.size() as usize)
}

/// The queue consumer: each message is one batch; failures are retried after a delay and end in
/// the dead-letter queue after the configured retries, never dropped.
pub async fn consume(batch: &MessageBatch<Batch>, env: &Env) {
    let messages = match batch.messages() {
        Ok(m) => m,
        Err(e) => {
            console_error!("sync: undecodable queue batch, retrying it: {e}");
            batch.retry_all();
            return;
        }
    };
    // Recommendation-log entries of this delivery go to the server as one request.
    let (logs, messages): (Vec<_>, Vec<_>) = messages
        .into_iter()
        .partition(|m| m.body().path == crate::experiments::LOG_PATH);
    let bodies: Vec<&str> = logs.iter().map(|m| m.body().body.as_str()).collect();
    let merged = if bodies.len() > 1 {
        crate::experiments::merge(&bodies)
    } else {
        None
    };
    let messages = match merged {
        Some(body) => {
            let one = Batch {
                path: crate::experiments::LOG_PATH.to_owned(),
                body,
            };
            let sent = post(env, &one).await;
            for m in &logs {
                settle(m, &sent);
            }
            messages
        }
        None => logs.into_iter().chain(messages).collect(),
    };
    for m in messages {
        let sent = post(env, m.body()).await;
        settle(&m, &sent);
    }
}

/// Acknowledges a delivered message; retries one that was not after a delay.
fn settle(m: &worker::Message<Batch>, sent: &Result<(), String>) {
    match sent {
        Ok(()) => m.ack(),
        Err(e) => {
            console_log!("sync: delivery failed, retrying in {QUEUE_RETRY_DELAY_S} s: {e}");
            m.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(QUEUE_RETRY_DELAY_S)
                    .build(),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_keys_sort_in_counter_order() {
        let keys: Vec<String> = [0, 9, 10, 99, 100, u64::MAX].map(outbox_key).to_vec();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(sorted, keys);
        assert!(keys.iter().all(|k| k.starts_with(OUTBOX_PREFIX)));
    }

    #[test]
    fn empty_impressions_and_nulls_are_left_out() {
        let req = PutEventsRequest {
            session_id: "s".into(),
            event_list: vec![edgerec_core::Event {
                event_type: "click".into(),
                item_id: Some("i1".into()),
                sent_at: 1.0,
                ..Default::default()
            }],
            ..Default::default()
        };
        let b = event_batches(vec![req]);
        assert_eq!(b.len(), 1);
        let body: serde_json::Value = serde_json::from_str(&b[0].body).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"sessionId": "s", "eventList": [{"eventType": "click", "itemId": "i1", "sentAt": 1.0}]})
        );
    }
}
