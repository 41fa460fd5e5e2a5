#![allow(clippy::unwrap_used)]

use super::*;
use crate::error::RequestError;
use crate::request::{
    Event, Item, MetricAttribution, PutEventsRequest, PutItemsRequest, PutUsersRequest, User,
};

fn event() -> Event {
    Event {
        event_type: "view".into(),
        item_id: Some("i1".into()),
        sent_at: 1_700_000_000.5,
        ..Event::default()
    }
}

fn events(list: Vec<Event>) -> PutEventsRequest {
    PutEventsRequest {
        session_id: "s1".into(),
        event_list: list,
        ..PutEventsRequest::default()
    }
}

/// The field an event request is refused for, under `policy`.
fn refused(req: &PutEventsRequest, policy: &Policy) -> String {
    match put_events(req, policy).unwrap_err() {
        RequestError::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

fn with(change: impl FnOnce(&mut Event)) -> PutEventsRequest {
    let mut e = event();
    change(&mut e);
    events(vec![event(), e])
}

#[test]
fn a_valid_request_passes_both_policies() {
    let mut e = event();
    e.event_id = Some("e-1".into());
    e.event_value = Some(2.5);
    e.properties = Some(r#"{"device": "mobile", "numberOfRatings": 3}"#.into());
    e.impression = vec!["i1".into(), "i2".into()];
    e.recommendation_id = Some("RID-1".into());
    e.metric_attribution = Some(MetricAttribution {
        event_attribution_source: "newsletter 2026-03".into(),
    });
    e.recommender = Some("top-picks".into());
    let mut req = events(vec![e]);
    req.user_id = Some("u1".into());
    req.tracking_id = Some("t1".into());
    for policy in [Policy::PERSONALIZE, Policy::SYNC_SERVER] {
        assert_eq!(put_events(&req, &policy).unwrap().request(), &req);
    }
}

#[test]
fn every_refusal_names_its_field() {
    let p = &Policy::PERSONALIZE;
    let cases: Vec<(PutEventsRequest, &str)> = vec![
        (
            with(|e| e.properties = Some(r#"{"userId": "x"}"#.into())),
            "eventList[1].properties",
        ),
        (
            with(|e| e.properties = Some(r#"{"a": 1, "impression": []}"#.into())),
            "eventList[1].properties",
        ),
        (
            with(|e| e.properties = Some("{not json}".into())),
            "eventList[1].properties",
        ),
        (
            with(|e| e.properties = Some("[1, 2]".into())),
            "eventList[1].properties",
        ),
        (
            with(|e| e.properties = Some(String::new())),
            "eventList[1].properties",
        ),
        (
            with(|e| e.properties = Some(format!(r#"{{"a": "{}"}}"#, "x".repeat(1020)))),
            "eventList[1].properties",
        ),
        (
            with(|e| e.event_type = String::new()),
            "eventList[1].eventType",
        ),
        (with(|e| e.sent_at = -1.0), "eventList[1].sentAt"),
        (with(|e| e.sent_at = f64::INFINITY), "eventList[1].sentAt"),
        (
            with(|e| e.event_value = Some(f64::NAN)),
            "eventList[1].eventValue",
        ),
        (
            with(|e| e.event_id = Some("x".repeat(257))),
            "eventList[1].eventId",
        ),
        (
            with(|e| e.item_id = Some(String::new())),
            "eventList[1].itemId",
        ),
        (
            with(|e| e.impression = vec!["i".into(); 26]),
            "eventList[1].impression",
        ),
        (
            with(|e| e.impression = vec!["i1".into(), String::new()]),
            "eventList[1].impression[1]",
        ),
        (
            with(|e| e.recommendation_id = Some("r".repeat(41))),
            "eventList[1].recommendationId",
        ),
        (
            with(|e| {
                e.metric_attribution = Some(MetricAttribution {
                    event_attribution_source: "caf\u{e9}".into(),
                });
            }),
            "eventList[1].metricAttribution.eventAttributionSource",
        ),
        (
            with(|e| e.metric_attribution = Some(MetricAttribution::default())),
            "eventList[1].metricAttribution.eventAttributionSource",
        ),
        (
            with(|e| e.recommender = Some(String::new())),
            "eventList[1].recommender",
        ),
        (events(Vec::new()), "eventList"),
        (
            PutEventsRequest {
                session_id: String::new(),
                ..events(vec![event()])
            },
            "sessionId",
        ),
        (
            PutEventsRequest {
                user_id: Some("u".repeat(257)),
                ..events(vec![event()])
            },
            "userId",
        ),
    ];
    for (req, field) in cases {
        assert_eq!(refused(&req, p), field, "{req:?}");
        assert_eq!(refused(&req, &Policy::SYNC_SERVER), field, "{req:?}");
    }
}

#[test]
fn the_policies_differ_in_batch_sizes_only() {
    let eleven = events(vec![event(); 11]);
    assert_eq!(refused(&eleven, &Policy::PERSONALIZE), "eventList");
    assert!(put_events(&eleven, &Policy::SYNC_SERVER).is_ok());
    let thousand = events(vec![event(); 1000]);
    assert!(put_events(&thousand, &Policy::SYNC_SERVER).is_ok());
    let over = events(vec![event(); 1001]);
    assert_eq!(refused(&over, &Policy::SYNC_SERVER), "eventList");

    let items = |n: usize| PutItemsRequest {
        items: (0..n)
            .map(|k| Item {
                item_id: format!("i{k}"),
                properties: Some(r#"{"CATEGORY": "books"}"#.into()),
            })
            .collect(),
        ..PutItemsRequest::default()
    };
    assert!(put_items(&items(10), &Policy::PERSONALIZE).is_ok());
    assert!(put_items(&items(11), &Policy::PERSONALIZE).is_err());
    assert!(put_items(&items(100), &Policy::SYNC_SERVER).is_ok());
    assert!(put_items(&items(101), &Policy::SYNC_SERVER).is_err());
    assert!(put_items(&items(0), &Policy::SYNC_SERVER).is_err());
}

#[test]
fn records_are_checked_without_a_schema() {
    let field = |r: Result<(), RequestError>| match r.unwrap_err() {
        RequestError::InvalidInput { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let users = |u: Vec<User>| PutUsersRequest {
        users: u,
        ..PutUsersRequest::default()
    };
    let user = |id: &str, p: Option<&str>| User {
        user_id: id.into(),
        properties: p.map(str::to_owned),
    };
    let p = &Policy::SYNC_SERVER;
    assert!(put_users(&users(vec![user("u1", Some(r#"{"userId": 1}"#))]), p).is_ok());
    assert_eq!(
        field(put_users(&users(vec![user("u1", None), user("", None)]), p)),
        "users[1].userId"
    );
    assert_eq!(
        field(put_users(&users(vec![user("u1", Some("nope"))]), p)),
        "users[0].properties"
    );
    let long = format!(r#"{{"a": "{}"}}"#, "x".repeat(24_000));
    assert_eq!(
        field(put_users(&users(vec![user("u1", Some(&long))]), p)),
        "users[0].properties"
    );
    assert!(
        put_items(
            &PutItemsRequest {
                items: vec![Item {
                    item_id: "i".into(),
                    properties: Some(long),
                }],
                ..PutItemsRequest::default()
            },
            p
        )
        .is_ok(),
        "items may hold 32,000 characters"
    );
    let arn = PutItemsRequest {
        dataset_arn: Some(String::new()),
        items: vec![Item::default()],
    };
    assert_eq!(field(put_items(&arn, p)), "datasetArn");
}

#[test]
fn refusals_are_the_4xx_about_the_batch() {
    for s in [400, 409, 413, 415, 422, 499] {
        assert!(is_refusal(s), "{s}");
    }
    for s in [200, 204, 301, 401, 403, 404, 408, 429, 500, 502, 503] {
        assert!(!is_refusal(s), "{s}");
    }
}

#[test]
fn the_wire_form_leaves_out_absent_fields_and_refuses_an_empty_impression() {
    let req = events(vec![event()]);
    let text = serde_json::to_string(&req).unwrap();
    assert_eq!(
        text,
        r#"{"sessionId":"s1","eventList":[{"eventType":"view","itemId":"i1","sentAt":1700000000.5}]}"#
    );
    let mut full = event();
    full.metric_attribution = Some(MetricAttribution {
        event_attribution_source: "email".into(),
    });
    full.recommender = Some("top".into());
    let text = serde_json::to_string(&events(vec![full.clone()])).unwrap();
    assert!(
        text.contains(
            r#""metricAttribution":{"eventAttributionSource":"email"},"recommender":"top""#
        ),
        "{text}"
    );
    let back: PutEventsRequest = serde_json::from_str(&text).unwrap();
    assert_eq!(back.event_list[0], full);

    let read = |json: &str| serde_json::from_str::<PutEventsRequest>(json);
    let empty =
        read(r#"{"sessionId":"s","eventList":[{"eventType":"v","sentAt":1,"impression":[]}]}"#);
    assert!(
        empty
            .unwrap_err()
            .to_string()
            .contains("must hold at least 1 item id"),
    );
    let null =
        read(r#"{"sessionId":"s","eventList":[{"eventType":"v","sentAt":1,"impression":null}]}"#)
            .unwrap();
    assert!(null.event_list[0].impression.is_empty());
    let items = serde_json::to_string(&PutItemsRequest {
        items: vec![Item {
            item_id: "i".into(),
            properties: None,
        }],
        ..PutItemsRequest::default()
    })
    .unwrap();
    assert_eq!(items, r#"{"items":[{"itemId":"i"}]}"#);
}
