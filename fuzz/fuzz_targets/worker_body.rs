//! The Worker's request bodies → the typed requests its routes parse (`worker/src/body.rs`,
//! the same module the Worker compiles) → the engine's answer, as the routes and the Durable
//! Objects run them. Any input may be refused, none may panic, and:
//! - what the front route parsed, serialised and forwarded to a Durable Object parses there
//!   again to the same request (the forward is lossless; numbers within the few ulps that
//!   serde_json's default build may be off, see `parse_forwarded`);
//! - the deterministic eventIds of a PutEvents call are the same for the same call;
//! - a request that parses is answered or refused by the engine with a typed error, and an
//!   answer holds at most the asked-for number of items.
//!
//! Input: the first byte picks the route (`POST /recommendations`, `POST /personalize-ranking`,
//! `POST /events`, `POST /items`, `POST /users`, `GET /recommendations?<query>`); the rest is
//! the body (or the query string). A first byte from `0xf0` is a Segment route instead
//! (`/v1/track`, `/v1/page`, `/v1/screen`, `/v1/identify`, `/v1/batch`): every call is mapped or
//! rejected, and every mapped PutEvents request validates and survives the forward.
//! Crashers go to `crates/core/tests/fuzz-regressions/worker_body/`.

#![no_main]

#[path = "../../worker/src/body.rs"]
#[allow(dead_code)]
mod body;
#[path = "../../crates/core/tests/runtime_model/mod.rs"]
mod runtime_model;

use std::sync::OnceLock;

use edgerec_core::{
    Engine, GetPersonalizedRankingRequest, GetRecommendationsRequest, PutEventsRequest,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| Engine::new(runtime_model::model()))
}

/// Parses as a route does; on success, the forward to a Durable Object (serialise, parse)
/// gives the same request.
fn parse_forwarded<T>(bytes: &[u8]) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let req: T = match body::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.field.is_empty() && !e.message.is_empty());
            return None;
        }
    };
    let forwarded = serde_json::to_vec(&req).expect("a parsed request serialises");
    let again: T = body::parse(&forwarded).expect("a forwarded request parses again");
    // Numbers: the Worker builds serde_json with `float_roundtrip` (exact, checked by its unit
    // test `a_forwarded_request_keeps_its_numbers`); this crate cannot, since `core_json`
    // compares with serde_json's default build. That build parses `d·10^e` as the float of `d`
    // times (or divided by) a rounded power of ten, once more by 1e308 below 1e-308: up to four
    // roundings of half an ulp, so up to 3 ulps off (2 seen, `sentAt` 1.2222222222222221e61).
    // So the numbers are compared here within 3 ulps, everything else exactly.
    if again != req {
        let a = serde_json::to_value(&again).expect("serialises");
        let b = serde_json::to_value(&req).expect("serialises");
        assert!(
            same_within_ulps(&a, &b),
            "forwarded as {}",
            String::from_utf8_lossy(&forwarded)
        );
    }
    Some(req)
}

fn same_within_ulps(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => {
                x.to_bits() == y.to_bits()
                    || (x.signum() == y.signum() && x.to_bits().abs_diff(y.to_bits()) <= 3)
            }
            _ => x == y,
        },
        (J::Array(x), J::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_within_ulps(a, b))
        }
        (J::Object(x), J::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, a), (kb, b))| ka == kb && same_within_ulps(a, b))
        }
        _ => a == b,
    }
}

fn recommendations(req: &GetRecommendationsRequest) {
    if let Some(user) = &req.user_id
        && edgerec_core::request::check_id("userId", user).is_err()
    {
        return;
    }
    if let Ok(resp) = engine().get_recommendations(req) {
        let asked = req.num_results.map_or(usize::MAX, |n| n as usize);
        assert!(resp.item_list.len() <= asked);
        serde_json::to_vec(&resp).expect("an answer serialises");
    }
}

fn segment(route: u8, rest: &[u8]) {
    use edgerec_core::segment::{CallType, SegmentConfig};
    let call = match route % 5 {
        0 => Some(CallType::Track),
        1 => Some(CallType::Page),
        2 => Some(CallType::Screen),
        3 => Some(CallType::Identify),
        _ => None,
    };
    let config = SegmentConfig::default();
    let mapped = match body::segment(call, rest, &config) {
        Ok(m) => m,
        Err(e) => {
            assert!(!e.field.is_empty() && !e.message.is_empty());
            return;
        }
    };
    let mut seen: Vec<usize> = mapped.calls.iter().map(|(k, _)| *k).collect();
    seen.extend(mapped.rejected.iter().map(|(k, _)| *k));
    seen.sort_unstable();
    let n = seen.len();
    seen.dedup();
    assert_eq!(seen.len(), n, "a call is mapped or rejected, once");
    for (_, req) in mapped.put_events() {
        edgerec_core::contract::put_events(&req, &edgerec_core::contract::Policy::PERSONALIZE)
            .expect("mapped events validate");
        let forwarded = serde_json::to_vec(&req).expect("serialises");
        let again = parse_forwarded::<PutEventsRequest>(&forwarded).expect("parses");
        assert_eq!(again.event_list.len(), req.event_list.len());
        assert!(req.event_list.iter().all(|e| e.event_id.is_some()));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&route, rest)) = data.split_first() else {
        return;
    };
    if route >= 0xf0 {
        segment(route, rest);
        return;
    }
    match route % 6 {
        0 => {
            if let Some(req) = parse_forwarded::<GetRecommendationsRequest>(rest) {
                recommendations(&req);
            }
        }
        1 => {
            if let Some(req) = parse_forwarded::<GetPersonalizedRankingRequest>(rest)
                && let Ok(resp) = engine().get_personalized_ranking(&req)
            {
                assert!(resp.personalized_ranking.len() <= req.input_list.len());
            }
        }
        2 => {
            let Some(mut req) = parse_forwarded::<PutEventsRequest>(rest) else {
                return;
            };
            if edgerec_core::contract::put_events(
                &req,
                &edgerec_core::contract::Policy::PERSONALIZE,
            )
            .is_err()
            {
                return;
            }
            let mut twice = req.clone();
            edgerec_core::event_id::fill_event_ids(&mut req);
            edgerec_core::event_id::fill_event_ids(&mut twice);
            assert_eq!(req, twice, "eventIds are derived deterministically");
            let mut session = engine().fork();
            if session.put_events(&req).is_ok() {
                let key = req.user_id.clone();
                recommendations(&GetRecommendationsRequest {
                    user_id: key,
                    num_results: Some(5),
                    ..GetRecommendationsRequest::default()
                });
            }
        }
        3 => {
            if let Ok(r) = body::parse::<edgerec_core::PutItemsRequest>(rest) {
                let columns = &engine().model().catalog.columns;
                if edgerec_core::records::parse_items(columns, &r.items).is_ok() {
                    engine()
                        .fork()
                        .put_items(&r.items)
                        .expect("items that validate are applied");
                }
            }
        }
        4 => {
            if let Ok(r) = body::parse::<edgerec_core::PutUsersRequest>(rest) {
                let columns = &engine().model().users.columns;
                if edgerec_core::records::parse_users(columns, &r.users).is_ok() {
                    engine()
                        .fork()
                        .put_users(&r.users)
                        .expect("users that validate are applied");
                }
            }
        }
        _ => {
            let pairs = form_urlencoded::parse(rest);
            if let Ok(map) = body::query_body(pairs) {
                let json = serde_json::to_vec(&map).expect("a JSON map serialises");
                if let Some(req) = parse_forwarded::<GetRecommendationsRequest>(&json) {
                    recommendations(&req);
                }
            }
        }
    }
});
