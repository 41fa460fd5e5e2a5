//! `PutItems` / `PutUsers`: cold items and users usable at once, metadata from the
//! Personalize `properties` JSON, limits and type errors naming the field.

#![allow(clippy::unwrap_used)]

mod runtime_model;

use std::collections::BTreeMap;

use edgerec_core::request::{GetRecommendationsRequest, Item, User};
use edgerec_core::{Engine, ErrorCode, RequestError};
use runtime_model::{ids, model, recs};

fn item(id: &str, props: &str) -> Item {
    Item {
        item_id: id.into(),
        properties: Some(props.into()),
    }
}

fn filtered(rec: &str, expr: &str, n: u32) -> GetRecommendationsRequest {
    GetRecommendationsRequest {
        filter: Some(expr.into()),
        metadata_columns: BTreeMap::from([("ITEMS".into(), vec!["COLOR".into(), "PRICE".into()])]),
        ..recs(rec, "nobody", n)
    }
}

fn field(err: RequestError) -> String {
    match err {
        RequestError::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn new_items_are_served_by_filters_and_popularity() {
    let mut e = Engine::new(model());
    e.put_items(&[
        item(
            "new-1",
            r#"{"color": "green|red", "price": 9.5, "creationTimestamp": 1700000000}"#,
        ),
        item("new-2", r#"{"COLOR": "green"}"#),
        Item {
            item_id: "new-3".into(),
            properties: None,
        },
    ])
    .unwrap();
    assert_eq!(e.info().items, 15);
    assert_eq!(e.item_index("new-2"), Some(13));
    let green = r#"INCLUDE ItemID WHERE Items.COLOR IN ("green")"#;
    for rec in ["popular", "for-you"] {
        let r = e.get_recommendations(&filtered(rec, green, 5)).unwrap();
        let got: BTreeMap<String, BTreeMap<String, String>> = r
            .item_list
            .iter()
            .map(|p| (p.item_id.clone(), p.metadata.clone().unwrap()))
            .collect();
        assert_eq!(got.len(), 2, "{rec}: {got:?}");
        assert_eq!(got["new-1"]["COLOR"], "green|red");
        assert_eq!(got["new-1"]["PRICE"], "9.5");
        assert!(!got["new-2"].contains_key("PRICE"));
    }
    // Unfiltered popularity ranks cold items after every known item.
    let all = ids(&e
        .get_recommendations(&recs("popular", "nobody", 20))
        .unwrap());
    assert_eq!(&all[12..], ["new-1", "new-2", "new-3"]);
    // Events on a new item are accepted and do not disturb the known items' neighbours.
    e.put_events(&runtime_model::events("s", None, &["new-1"]))
        .unwrap();
    assert!(e.get_recommendations(&recs("related", "s", 5)).is_ok());
}

#[test]
fn existing_items_are_replaced() {
    let mut e = Engine::new(model());
    let blue = r#"INCLUDE ItemID WHERE Items.COLOR IN ("blue")"#;
    let before = ids(&e
        .get_recommendations(&filtered("popular", blue, 20))
        .unwrap());
    assert!(!before.contains(&"item0".to_string()));
    e.put_items(&[item("item0", r#"{"color": "blue", "price": 1}"#)])
        .unwrap();
    assert_eq!(e.info().items, 12);
    let after = ids(&e
        .get_recommendations(&filtered("popular", blue, 20))
        .unwrap());
    assert_eq!(after[0], "item0");
    assert_eq!(after.len(), before.len() + 1);
}

#[test]
fn forks_keep_their_own_catalogue() {
    let e = Engine::new(model());
    let mut f = e.fork();
    f.put_items(&[item("only-in-fork", "{}")]).unwrap();
    assert!(f.item_index("only-in-fork").is_some());
    assert!(e.item_index("only-in-fork").is_none());
    assert_eq!(e.info().items, 12);
}

#[test]
fn users_get_metadata_for_filters() {
    let mut e = Engine::new(model());
    e.put_users(&[User {
        user_id: "carol".into(),
        properties: Some(r#"{"tier": "gold"}"#.into()),
    }])
    .unwrap();
    assert!(e.user_index("carol").is_some());
    assert_eq!(e.info().users, 3);
    let req = GetRecommendationsRequest {
        filter: Some(
            r#"INCLUDE ItemID WHERE Items.COLOR IN ("blue") IF CurrentUser.TIER IN ("gold")"#
                .into(),
        ),
        ..recs("popular", "carol", 3)
    };
    let got = ids(&e.get_recommendations(&req).unwrap());
    assert_eq!(got, ["item6", "item7", "item8"]);
}

#[test]
fn bad_records_name_the_field() {
    let mut e = Engine::new(model());
    let cases: Vec<(Vec<Item>, &str)> = vec![
        (vec![], "items"),
        (
            (0..11).map(|k| item(&format!("x{k}"), "{}")).collect(),
            "items",
        ),
        (vec![item("", "{}")], "items[0].itemId"),
        (vec![item(&"x".repeat(257), "{}")], "items[0].itemId"),
        (
            vec![item("a", "{}"), item("b", "[1]")],
            "items[1].properties",
        ),
        (
            vec![item("a", r#"{"size": 3}"#)],
            "items[0].properties.size",
        ),
        (
            vec![item("a", r#"{"price": "cheap"}"#)],
            "items[0].properties.price",
        ),
        (
            vec![item("a", r#"{"color": [1]}"#)],
            "items[0].properties.color",
        ),
        (
            vec![item("a", r#"{"creationTimestamp": "today"}"#)],
            "items[0].properties.creationTimestamp",
        ),
        (
            vec![item(
                "a",
                &format!(r#"{{"color": "{}"}}"#, "x".repeat(33_000)),
            )],
            "items[0].properties",
        ),
    ];
    for (records, want) in cases {
        let err = e.put_items(&records).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(field(err), want);
    }
    assert_eq!(e.info().items, 12, "nothing was added by rejected calls");
    let err = e
        .put_users(&[User {
            user_id: "u".into(),
            properties: Some("{\"tier\": [1]}".into()),
        }])
        .unwrap_err();
    assert_eq!(field(err), "users[0].properties.tier");
}
