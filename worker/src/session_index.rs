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
//!
//! `LIVE_INDEX_CACHE_SECONDS` (default 0: off) lets an isolate also remember, for that long, the
//! keys R2 had no marker for, so repeated reads of a user without a session cost no R2 call
//! either. The price: an event for that key written through *another* isolate within that time
//! is not seen by this one until the entry expires (writes through this isolate mark the key
//! live at once). Personalize itself takes seconds to reflect events; a storefront that reads
//! right after writing through the AWS SDK keeps the default.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

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
    /// Keys without a marker, with when (ms since 1970) R2 said so.
    static ABSENT: RefCell<HashMap<String, f64>> = RefCell::new(HashMap::new());
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
    ABSENT.with(|a| a.borrow_mut().remove(key));
}

/// Records that `key` has live state, learnt from a write this isolate forwarded.
pub fn remember_live(key: &str) {
    remember(key);
}

/// Whether R2 had no marker for `key` less than `ttl_ms` ago.
fn recently_absent(key: &str, ttl_ms: f64, now: f64) -> bool {
    ttl_ms > 0.0
        && ABSENT.with(|a| {
            a.borrow()
                .get(key)
                .is_some_and(|at| now >= *at && now - at < ttl_ms)
        })
}

fn remember_absent(key: &str, now: f64) {
    ABSENT.with(|a| {
        let mut a = a.borrow_mut();
        if a.len() >= REMEMBERED {
            a.clear();
        }
        a.insert(key.to_owned(), now);
    });
}

/// How many keys this isolate remembers as live.
pub fn remembered() -> usize {
    LIVE.with(|l| l.borrow().len())
}

/// For a read: whether `key` has (or had) live state in a Durable Object, and how that was
/// found out (remembered, asked R2, or, with `LIVE_INDEX_CACHE_SECONDS`, recently absent).
pub async fn lookup(env: &Env, key: &str) -> Result<(bool, Index), ApiError> {
    find(env, key, config::live_index_cache_ms(env)).await
}

async fn find(env: &Env, key: &str, ttl_ms: f64) -> Result<(bool, Index), ApiError> {
    if LIVE.with(|l| l.borrow().contains(key)) {
        metrics::index_lookup(Index::Remembered);
        return Ok((true, Index::Remembered));
    }
    let now = js_sys::Date::now();
    if recently_absent(key, ttl_ms, now) {
        metrics::index_lookup(Index::RecentlyAbsent);
        return Ok((false, Index::RecentlyAbsent));
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
    } else if ttl_ms > 0.0 {
        remember_absent(key, now);
    }
    Ok((found, Index::Asked))
}

/// Whether `key` has (or had) live state in a Durable Object, never from the recently-absent
/// entries: a write (a user's object taking an anonymous session) must not miss a session that
/// went live through another isolate.
pub async fn is_live(env: &Env, key: &str) -> Result<bool, ApiError> {
    Ok(find(env, key, 0.0).await?.0)
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
