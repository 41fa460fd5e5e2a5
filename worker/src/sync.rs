//! Forwarding accepted writes to the sync server (`SYNC_URL`, `edgerec serve`), which stores
//! them and retrains. Events reach it through a Cloudflare Queue when `SYNC_QUEUE` is bound
//! (retried with a delay, then the dead-letter queue), else through the session's Durable
//! Object: batches are written to its storage before the write is acknowledged and delivered
//! by its alarm, retried with exponential backoff until the server accepts them.
//!
//! Everything forwarded passed the core's event contract first (`edgerec_core::contract`), so
//! the sync server accepts it. Should it refuse a batch for good all the same — a 4xx about the
//! batch itself ([`contract::is_refusal`]; a server with another policy, a body over its size
//! limit) — sending it again cannot help: the batch is **parked**, never retried forever nor
//! dropped. It is written with the server's answer to the `MODELS` bucket under `parked/`
//! (one place for every Durable Object and the queue consumer; `GET /sync/parked` lists them
//! for the operator), and delivery goes on with the next batch. 5xx answers, network errors and
//! the 4xx answers about the deployment (401, 403, 404, 408, 429) are retried as before.
//!
//! When an R2 bucket is bound as `LAKE` (and `SYNC_QUEUE`), the queue consumer also writes each
//! events batch to the event lake as Parquet ([`crate::lake`]) before posting it; with a lake
//! and a queue, events are queued even without a `SYNC_URL` (then only the lake gets them).

use edgerec_core::PutEventsRequest;
use edgerec_core::contract;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use worker::durable::ListOptions;
use worker::{
    Env, Fetch, Headers, MessageBatch, MessageExt, Method, QueueRetryOptionsBuilder, Request,
    RequestInit, Storage, console_error, console_log,
};

use crate::config::{self, var};
use crate::sigv4::hex;

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

/// Whether accepted events go anywhere: to the sync server, or to the lake through the queue.
fn forwarding(env: &Env) -> bool {
    var(env, "SYNC_URL").is_some()
        || (crate::lake::bound(env) && env.queue(config::SYNC_QUEUE).is_ok())
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
    if batches.is_empty() || !forwarding(env) {
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

/// Why a batch was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The sync server refused the batch for good ([`contract::is_refusal`]): park it.
    Refused { status: u16, message: String },
    /// It could not take it now (5xx, a network error, a 4xx about the deployment): retry.
    Later(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Refused { message, .. } | Failure::Later(message) => f.write_str(message),
        }
    }
}

/// What an answer of the sync server means for the batch it answered.
fn outcome(status: u16, message: String) -> Result<(), Failure> {
    if (200..300).contains(&status) {
        Ok(())
    } else if contract::is_refusal(status) {
        Err(Failure::Refused { status, message })
    } else {
        Err(Failure::Later(message))
    }
}

/// POSTs one batch to the sync server with its bearer token.
pub async fn post(env: &Env, batch: &Batch) -> Result<(), Failure> {
    let later = |e: String| Failure::Later(e);
    let base = var(env, "SYNC_URL").ok_or_else(|| later("SYNC_URL is not set".into()))?;
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
    let req = Request::new_with_init(&url, &init).map_err(|e| later(e.to_string()))?;
    let mut resp = Fetch::Request(req)
        .send()
        .await
        .map_err(|e| later(e.to_string()))?;
    let status = resp.status_code();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = resp.text().await.unwrap_or_default();
    outcome(status, format!("{url} answered {status}: {text}"))
}

/// Where parked batches are kept in the `MODELS` bucket.
const PARKED_PREFIX: &str = "parked/";

/// A batch the sync server refused, as parked: the batch, the server's answer and where it
/// was parked from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Parked {
    pub path: String,
    pub body: String,
    pub status: u16,
    pub error: String,
    /// Milliseconds since 1970.
    pub parked_at: f64,
    /// `durable-object` (an alarm's delivery), `queue` (the queue consumer) or `worker` (a
    /// recommendation log posted at once, without a queue).
    pub from: String,
}

/// `parked/`, the time (ms, 13 digits, so keys list oldest first) and a hash of the batch.
fn parked_key(at_ms: f64, batch: &Batch) -> String {
    let digest = Sha256::digest([batch.path.as_bytes(), b"\n", batch.body.as_bytes()].concat());
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let at = at_ms.max(0.0) as u64;
    format!("{PARKED_PREFIX}{at:013}-{}", &hex(&digest)[..16])
}

/// Parks a refused batch in the `MODELS` bucket; returns once it is durable.
async fn park(
    env: &Env,
    batch: &Batch,
    status: u16,
    error: &str,
    from: &str,
) -> worker::Result<()> {
    let parked_at = js_sys::Date::now();
    let record = Parked {
        path: batch.path.clone(),
        body: batch.body.clone(),
        status,
        error: error.to_owned(),
        parked_at,
        from: from.to_owned(),
    };
    let bytes = serde_json::to_vec(&record).map_err(|e| worker::Error::RustError(e.to_string()))?;
    crate::metrics::r2_call();
    env.bucket(config::MODELS_BUCKET)?
        .put(parked_key(parked_at, batch), bytes)
        .execute()
        .await?;
    console_error!(
        "sync: the sync server refused a {} batch for good ({status}); parked, not retried: {error}",
        batch.path
    );
    Ok(())
}

/// The parked batches for `GET /sync/parked`: how many (of the first 1,000 keys), whether there
/// are more, and the oldest `limit` with their bodies.
pub async fn parked(env: &Env, limit: usize) -> worker::Result<serde_json::Value> {
    let bucket = env.bucket(config::MODELS_BUCKET)?;
    crate::metrics::r2_call();
    let list = bucket.list().prefix(PARKED_PREFIX).execute().await?;
    let objects = list.objects();
    let mut out = Vec::new();
    for o in objects.iter().take(limit) {
        crate::metrics::r2_call();
        let Some(obj) = bucket.get(o.key()).execute().await? else {
            continue;
        };
        let text = match obj.body() {
            Some(b) => b.text().await?,
            None => continue,
        };
        let mut v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        v["key"] = serde_json::Value::String(o.key());
        out.push(v);
    }
    Ok(serde_json::json!({
        "count": objects.len(),
        "truncated": list.truncated(),
        "parked": out,
    }))
}

/// The Durable Object alarm: delivers stored batches in order, parks the ones the server
/// refuses for good and goes on; on any other failure keeps the rest and schedules the next
/// attempt with exponential backoff.
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
        let failed = match post(env, &batch).await {
            Ok(()) => None,
            // Refused for good: parked, and the next batch goes on (unless parking failed).
            Err(Failure::Refused { status, message }) => {
                match park(env, &batch, status, &message, "durable-object").await {
                    Ok(()) => None,
                    Err(e) => Some(format!("parking a refused batch failed: {e}")),
                }
            }
            Err(Failure::Later(e)) => Some(e),
        };
        if let Some(e) = failed {
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

/// The queue consumer: each message is one batch. A batch the server refuses for good is parked
/// (as the alarm does) and acknowledged; other failures are retried after a delay and end in
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
        .partition(|m| m.body().path == crate::rec_log::LOG_PATH);
    let bodies: Vec<&str> = logs.iter().map(|m| m.body().body.as_str()).collect();
    let merged = if bodies.len() > 1 {
        crate::rec_log::merge(&bodies)
    } else {
        None
    };
    let messages = match merged {
        Some(body) => {
            let one = Batch {
                path: crate::rec_log::LOG_PATH.to_owned(),
                body,
            };
            let sent = settled(env, &one, post(env, &one).await).await;
            for m in &logs {
                settle(m, &sent);
            }
            messages
        }
        None => logs.into_iter().chain(messages).collect(),
    };
    for m in messages {
        let sent = settled(env, m.body(), deliver(env, m.body()).await).await;
        settle(&m, &sent);
    }
}

/// The consumer's delivery of one batch: an events batch to the lake first (when `LAKE` is
/// bound; a failed put retries the message, and the retry rewrites the same objects), then to
/// the sync server (when `SYNC_URL` is set).
async fn deliver(env: &Env, batch: &Batch) -> Result<(), Failure> {
    if batch.path == "/events" && crate::lake::bound(env) {
        crate::lake::write(env, &batch.body)
            .await
            .map_err(Failure::Later)?;
    }
    if var(env, "SYNC_URL").is_none() {
        return Ok(());
    }
    post(env, batch).await
}

/// A delivery's outcome for the queue: a refused batch counts as settled once it is parked.
async fn settled(env: &Env, batch: &Batch, sent: Result<(), Failure>) -> Result<(), String> {
    settle_or_park(env, batch, sent, "queue").await
}

/// POSTs a batch once; one the server refuses for good is parked (and counts as delivered).
pub async fn post_or_park(env: &Env, batch: &Batch, from: &str) -> Result<(), String> {
    settle_or_park(env, batch, post(env, batch).await, from).await
}

async fn settle_or_park(
    env: &Env,
    batch: &Batch,
    sent: Result<(), Failure>,
    from: &str,
) -> Result<(), String> {
    match sent {
        Ok(()) => Ok(()),
        Err(Failure::Refused { status, message }) => park(env, batch, status, &message, from)
            .await
            .map_err(|e| format!("parking a refused batch failed: {e}")),
        Err(Failure::Later(e)) => Err(e),
    }
}

/// Acknowledges a settled message; retries one that was not after a delay.
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
    fn refusals_are_parked_and_the_rest_retried() {
        assert_eq!(outcome(200, String::new()), Ok(()));
        for status in [400, 413, 422] {
            assert!(
                matches!(outcome(status, "no".into()), Err(Failure::Refused { status: s, .. }) if s == status)
            );
        }
        for status in [401, 403, 404, 408, 429, 500, 503] {
            assert_eq!(
                outcome(status, "later".into()),
                Err(Failure::Later("later".into()))
            );
        }
    }

    #[test]
    fn parked_keys_list_oldest_first() {
        let b = |body: &str| Batch {
            path: "/events".into(),
            body: body.into(),
        };
        let (a, z) = (
            parked_key(1_700_000_000_000.0, &b("x")),
            parked_key(1_800_000_000_000.0, &b("x")),
        );
        assert!(a < z && a.starts_with(PARKED_PREFIX), "{a} {z}");
        assert_ne!(parked_key(1.0, &b("x")), parked_key(1.0, &b("y")));
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
