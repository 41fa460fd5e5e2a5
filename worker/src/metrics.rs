//! What the Worker measures: counters of this isolate (requests, errors by type, latency,
//! cache hits, Durable Object and R2 calls, live keys), reported to admins by `GET /health`,
//! and one data point per request to Workers Analytics Engine when the `METRICS` binding is
//! configured (nothing is written without it, e.g. locally).
//!
//! The handlers say how a request was answered through two internal response headers,
//! [`SERVED`] and [`INDEX`], which [`finish`] reads and removes before the answer leaves the
//! Worker. No user id, session id or request body is ever recorded: a data point holds the
//! route, the status, the error type, how the answer was made, the latency and the model.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use worker::{AnalyticsEngineDataPointBuilder, Env, Response};

/// The optional Analytics Engine binding.
pub const BINDING: &str = "METRICS";
/// Internal header: how the answer was made ([`Served`]).
pub const SERVED: &str = "x-edgerec-served";
/// Internal header: how the live-session index was consulted ([`Index`]).
pub const INDEX: &str = "x-edgerec-index";

/// Latencies kept for the percentiles.
const WINDOW: usize = 1024;
/// Upper bounds of the latency histogram, milliseconds (the last bucket is everything above).
const BUCKETS_MS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// How a request was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// A read naming no user, answered from the isolate's model.
    Anonymous,
    /// `304 Not Modified` (the caller's `ETag` still holds).
    NotModified,
    /// A read naming a user without live state, answered from the isolate's model.
    Model,
    /// By the key's Durable Object (a read with live state, or a write).
    Session,
}

impl Served {
    pub fn as_str(self) -> &'static str {
        match self {
            Served::Anonymous => "anonymous",
            Served::NotModified => "not-modified",
            Served::Model => "model",
            Served::Session => "session",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            Served::Anonymous,
            Served::NotModified,
            Served::Model,
            Served::Session,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// How a read found out whether its key has live state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// The isolate remembered the key as live (no R2 call).
    Remembered,
    /// Asked R2 for the key's marker.
    Asked,
    /// The isolate found no marker for the key within `LIVE_INDEX_CACHE_SECONDS` (no R2 call).
    RecentlyAbsent,
}

impl Index {
    pub fn as_str(self) -> &'static str {
        match self {
            Index::Remembered => "remembered",
            Index::Asked => "asked",
            Index::RecentlyAbsent => "recently-absent",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Index::Remembered, Index::Asked, Index::RecentlyAbsent]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Isolate-wide counters (one isolate serves many requests; the Durable Objects that live in
/// the same isolate count here too).
#[derive(Debug, Default)]
struct Stats {
    started_ms: f64,
    requests: u64,
    errors: BTreeMap<String, u64>,
    served: BTreeMap<&'static str, u64>,
    latencies: Vec<f64>,
    next: usize,
    histogram: [u64; BUCKETS_MS.len() + 1],
    do_calls: u64,
    r2_calls: u64,
    index_remembered: u64,
    index_asked: u64,
    index_recently_absent: u64,
    model_loads: u64,
    events_applied: u64,
}

thread_local! {
    static STATS: RefCell<Stats> = RefCell::new(Stats {
        started_ms: now(),
        ..Stats::default()
    });
}

fn now() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// One call to a Durable Object.
pub fn do_call() {
    STATS.with(|s| s.borrow_mut().do_calls += 1);
}

/// One call to R2 (a HEAD, GET or PUT).
pub fn r2_call() {
    STATS.with(|s| s.borrow_mut().r2_calls += 1);
}

/// One lookup in the live-session index.
pub fn index_lookup(how: Index) {
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        match how {
            Index::Remembered => s.index_remembered += 1,
            Index::Asked => s.index_asked += 1,
            Index::RecentlyAbsent => s.index_recently_absent += 1,
        }
    });
}

/// One model read from R2 and decoded (or installed by `PUT /model`).
pub fn model_loaded() {
    STATS.with(|s| s.borrow_mut().model_loads += 1);
}

/// One PutEvents applied by a Durable Object of this isolate.
pub fn events_applied() {
    STATS.with(|s| s.borrow_mut().events_applied += 1);
}

/// Marks `r` as answered in the way `served` (and, for reads naming a user, how the index was
/// consulted); [`finish`] takes the marks off.
pub fn mark(r: &mut Response, served: Served, index: Option<Index>) {
    let h = r.headers_mut();
    let _ = h.set(SERVED, served.as_str());
    if let Some(i) = index {
        let _ = h.set(INDEX, i.as_str());
    }
}

/// What one request leaves in the metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The route's pattern (`/recommendations`, `/users/{userId}/profile`, `other`): never an id.
    pub route: &'static str,
    pub method: String,
    pub status: u16,
    /// The `x-amzn-errortype` of an error answer.
    pub error: Option<String>,
    pub served: Option<Served>,
    pub index: Option<Index>,
    pub ms: f64,
    pub model_version: Option<u64>,
    pub model_etag: Option<String>,
}

impl Sample {
    /// A cache hit: a `304`, or a read whose live state the isolate remembered (no R2 call).
    pub fn cache_hit(&self) -> bool {
        self.served == Some(Served::NotModified)
            || matches!(self.index, Some(Index::Remembered | Index::RecentlyAbsent))
    }

    /// The Analytics Engine columns: blobs (route, method, status, error type, served, index,
    /// model ETag) and doubles (latency ms, status, Durable Object called 0/1, cache hit 0/1,
    /// model version, R2 index lookup 0/1).
    pub fn columns(&self) -> (Vec<String>, Vec<f64>) {
        let blobs = vec![
            self.route.to_owned(),
            self.method.clone(),
            self.status.to_string(),
            self.error.clone().unwrap_or_default(),
            self.served
                .map(Served::as_str)
                .unwrap_or_default()
                .to_owned(),
            self.index.map(Index::as_str).unwrap_or_default().to_owned(),
            self.model_etag.clone().unwrap_or_default(),
        ];
        let flag = |b: bool| if b { 1.0 } else { 0.0 };
        let doubles = vec![
            self.ms,
            f64::from(self.status),
            flag(self.served == Some(Served::Session)),
            flag(self.cache_hit()),
            self.model_version.map_or(0.0, |v| v as f64),
            flag(self.index == Some(Index::Asked)),
        ];
        (blobs, doubles)
    }
}

/// The route pattern of `path`, for the metrics (no ids).
pub fn route_of(path: &str, routes: &[&'static str]) -> &'static str {
    if let Some(r) = routes.iter().find(|r| **r == path) {
        return r;
    }
    if crate::paths::user_segment(path).is_some() {
        return "/users/{userId}/profile";
    }
    "other"
}

/// Reads and removes the internal marks of `r`, counts the request and, with `METRICS` bound,
/// writes its data point.
pub fn finish(env: &Env, r: &mut Response, mut sample: Sample) {
    let h = r.headers_mut();
    sample.served = h.get(SERVED).ok().flatten().and_then(|v| Served::parse(&v));
    sample.index = h.get(INDEX).ok().flatten().and_then(|v| Index::parse(&v));
    let _ = h.delete(SERVED);
    let _ = h.delete(INDEX);
    if sample.status >= 400 {
        sample.error = h.get("x-amzn-errortype").ok().flatten();
    }
    record(&sample);
    if let Ok(dataset) = env.analytics_engine(BINDING) {
        let (blobs, doubles) = sample.columns();
        let written = AnalyticsEngineDataPointBuilder::new()
            .indexes([sample.route])
            .blobs(blobs)
            .doubles(doubles)
            .write_to(&dataset);
        if let Err(e) = written {
            worker::console_error!("metrics: the Analytics Engine data point was not written: {e}");
        }
    }
}

fn record(sample: &Sample) {
    STATS.with(|s| {
        let mut s = s.borrow_mut();
        s.requests += 1;
        if let Some(e) = &sample.error {
            *s.errors.entry(e.clone()).or_default() += 1;
        } else if sample.status >= 400 {
            *s.errors
                .entry(format!("HTTP {}", sample.status))
                .or_default() += 1;
        }
        if let Some(served) = sample.served {
            *s.served.entry(served.as_str()).or_default() += 1;
        }
        if s.latencies.len() < WINDOW {
            s.latencies.push(sample.ms);
        } else {
            let i = s.next;
            s.latencies[i] = sample.ms;
        }
        s.next = (s.next + 1) % WINDOW;
        let bucket = BUCKETS_MS
            .iter()
            .position(|b| sample.ms <= *b)
            .unwrap_or(BUCKETS_MS.len());
        s.histogram[bucket] += 1;
    });
}

/// The `q`-quantile (0..=1) of `sorted`, nearest rank.
fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

/// This isolate's counters, for the admin `GET /health`. `live_keys`: keys the isolate
/// remembers as live; `model`: the model's version, R2 upload time and load time (ms since 1970).
pub fn snapshot(live_keys: usize, model: Option<(u64, f64, f64)>) -> Value {
    let t = now();
    STATS.with(|s| {
        let s = s.borrow();
        let mut sorted = s.latencies.clone();
        sorted.sort_by(f64::total_cmp);
        let mut histogram = serde_json::Map::new();
        for (i, n) in s.histogram.iter().enumerate() {
            let label = BUCKETS_MS
                .get(i)
                .map_or_else(|| "+Inf".to_owned(), |b| format!("{b}"));
            histogram.insert(label, json!(n));
        }
        json!({
            "uptimeSeconds": ((t - s.started_ms) / 1000.0).max(0.0),
            "requests": s.requests,
            "errors": s.errors,
            "served": s.served,
            "latencyMs": {
                "window": sorted.len(),
                "p50": quantile(&sorted, 0.5),
                "p90": quantile(&sorted, 0.9),
                "p99": quantile(&sorted, 0.99),
                "max": sorted.last(),
                "histogram": histogram,
            },
            "cacheHits": {
                "notModified": s.served.get(Served::NotModified.as_str()).copied().unwrap_or(0),
                "liveIndexRemembered": s.index_remembered,
                "liveIndexAskedR2": s.index_asked,
                "liveIndexRecentlyAbsent": s.index_recently_absent,
            },
            "doCalls": s.do_calls,
            "r2Calls": s.r2_calls,
            "modelLoads": s.model_loads,
            "sessions": {
                "liveKeysRemembered": live_keys,
                "eventsApplied": s.events_applied,
            },
            "model": model.map(|(version, uploaded, loaded)| json!({
                "version": version,
                "ageSeconds": ((t - uploaded) / 1000.0).max(0.0),
                "loadedSecondsAgo": ((t - loaded) / 1000.0).max(0.0),
            })),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sample {
        Sample {
            route: "/recommendations",
            method: "POST".into(),
            status: 200,
            error: None,
            served: Some(Served::Model),
            index: Some(Index::Asked),
            ms: 3.5,
            model_version: Some(7),
            model_etag: Some("\"abc\"".into()),
        }
    }

    #[test]
    fn columns_hold_no_ids_and_flag_do_calls_and_cache_hits() {
        let (blobs, doubles) = sample().columns();
        assert_eq!(
            blobs,
            [
                "/recommendations",
                "POST",
                "200",
                "",
                "model",
                "asked",
                "\"abc\""
            ]
        );
        assert_eq!(doubles, [3.5, 200.0, 0.0, 0.0, 7.0, 1.0]);
        let mut s = sample();
        s.served = Some(Served::Session);
        s.index = Some(Index::Remembered);
        let (_, d) = s.columns();
        assert_eq!((d[2], d[3], d[5]), (1.0, 1.0, 0.0));
        s.served = Some(Served::NotModified);
        s.index = None;
        assert!(s.cache_hit());
    }

    #[test]
    fn routes_are_patterns() {
        let routes = ["/recommendations", "/health"];
        assert_eq!(route_of("/health", &routes), "/health");
        assert_eq!(
            route_of("/users/alice/profile", &routes),
            "/users/{userId}/profile"
        );
        assert_eq!(route_of("/alice", &routes), "other");
    }

    #[test]
    fn counters_and_percentiles() {
        for ms in [1.0, 2.0, 3.0, 4.0, 100.0] {
            record(&Sample { ms, ..sample() });
        }
        record(&Sample {
            status: 400,
            error: Some("InvalidInputException".into()),
            ..sample()
        });
        let v = snapshot(3, Some((7, 0.0, 0.0)));
        assert_eq!(v["requests"], 6);
        assert_eq!(v["errors"]["InvalidInputException"], 1);
        assert_eq!(v["latencyMs"]["p50"], 3.0);
        assert_eq!(v["latencyMs"]["max"], 100.0);
        assert_eq!(v["latencyMs"]["histogram"]["5"], 3);
        assert_eq!(v["latencyMs"]["histogram"]["100"], 1);
        assert_eq!(v["sessions"]["liveKeysRemembered"], 3);
        assert_eq!(v["model"]["version"], 7);
        assert_eq!(quantile(&[], 0.5), None);
    }
}
