//! Which session keys have live state, so that a read goes to a Durable Object only when its
//! key has state the Worker cannot see otherwise.
//!
//! Only a write creates a session's Durable Object. Before it applies its first events, the
//! object records its key here: an empty object `sessions/<hex SHA-256 of the key>` in the
//! Worker's private `MODELS` bucket. R2 is strongly consistent (a write is visible to every
//! later read, everywhere), so a read that arrives after PutEvents was acknowledged finds the
//! marker and goes to the object, whichever isolate it lands on; a read for a key without a
//! marker — a user of the model without live events, or a user the model does not know — is
//! answered in the stateless Worker from the model, exactly as the object would answer it (its
//! engine is the model's with no session), without calling or creating one. Markers are never
//! removed, so an isolate remembers the keys it found (a bounded set) and asks R2 only for keys
//! it has not seen live: a read of a remembered key costs one Durable Object call and no R2
//! call; any other read that names a user costs one R2 `HEAD`.

use std::cell::RefCell;
use std::collections::HashSet;

use sha2::{Digest, Sha256};
use worker::Env;

use crate::api::ApiError;
use crate::config;
use crate::metrics::{self, Index};
use crate::sigv4::hex;

const PREFIX: &str = "sessions/";
/// Keys an isolate remembers as live before it starts over.
const REMEMBERED: usize = 10_000;

thread_local! {
    static LIVE: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

fn object_key(key: &str) -> String {
    format!("{PREFIX}{}", hex(&Sha256::digest(key.as_bytes())))
}

fn remember(key: &str) {
    LIVE.with(|l| {
        let mut l = l.borrow_mut();
        if l.len() >= REMEMBERED {
            l.clear();
        }
        l.insert(key.to_owned());
    });
}

/// How many keys this isolate remembers as live.
pub fn remembered() -> usize {
    LIVE.with(|l| l.borrow().len())
}

/// Whether `key` has (or had) live state in a Durable Object, and whether R2 was asked.
pub async fn lookup(env: &Env, key: &str) -> Result<(bool, Index), ApiError> {
    if LIVE.with(|l| l.borrow().contains(key)) {
        metrics::index_lookup(Index::Remembered);
        return Ok((true, Index::Remembered));
    }
    metrics::index_lookup(Index::Asked);
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    metrics::r2_call();
    let found = bucket
        .head(object_key(key))
        .await
        .map_err(|e| ApiError::internal("reading the session index", e))?
        .is_some();
    if found {
        remember(key);
    }
    Ok((found, Index::Asked))
}

/// Whether `key` has (or had) live state in a Durable Object.
pub async fn is_live(env: &Env, key: &str) -> Result<bool, ApiError> {
    Ok(lookup(env, key).await?.0)
}

/// Records that `key` has live state; returns once the marker is durable.
pub async fn mark_live(env: &Env, key: &str) -> Result<(), ApiError> {
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    metrics::r2_call();
    bucket
        .put(object_key(key), Vec::<u8>::new())
        .execute()
        .await
        .map_err(|e| ApiError::internal("writing the session index", e))?;
    remember(key);
    Ok(())
}
