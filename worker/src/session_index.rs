//! Which session keys have live state, so that reads for users the model does not know do not
//! create Durable Objects.
//!
//! Only a write creates a session's Durable Object. Before it applies its first events, the
//! object records its key here: an empty object `sessions/<hex SHA-256 of the key>` in the
//! Worker's private `MODELS` bucket. R2 is strongly consistent (a write is visible to every
//! later read, everywhere), so a read that arrives after PutEvents was acknowledged finds the
//! marker and goes to the object; a read for a user with neither trained data nor a marker is
//! answered in the stateless Worker, exactly as a new object would answer it (no session),
//! without creating one. Markers are never removed, so an isolate remembers the keys it found
//! (a bounded set) and asks R2 only for keys it has not seen live.

use std::cell::RefCell;
use std::collections::HashSet;

use sha2::{Digest, Sha256};
use worker::Env;

use crate::api::ApiError;
use crate::config;
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

/// Whether `key` has (or had) live state in a Durable Object.
pub async fn is_live(env: &Env, key: &str) -> Result<bool, ApiError> {
    if LIVE.with(|l| l.borrow().contains(key)) {
        return Ok(true);
    }
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    let found = bucket
        .head(object_key(key))
        .await
        .map_err(|e| ApiError::internal("reading the session index", e))?
        .is_some();
    if found {
        remember(key);
    }
    Ok(found)
}

/// Records that `key` has live state; returns once the marker is durable.
pub async fn mark_live(env: &Env, key: &str) -> Result<(), ApiError> {
    let bucket = env
        .bucket(config::MODELS_BUCKET)
        .map_err(|e| ApiError::internal("the MODELS R2 binding", e))?;
    bucket
        .put(object_key(key), Vec::<u8>::new())
        .execute()
        .await
        .map_err(|e| ApiError::internal("writing the session index", e))?;
    remember(key);
    Ok(())
}
