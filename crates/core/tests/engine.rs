//! Engine behaviour on a small hand-built model: shapes, limits, fallbacks, sessions, filters.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeMap;

use edgerec_core::model::ServingOptions;
use edgerec_core::request::{
    Event, GetPersonalizedRankingRequest, GetRecommendationsRequest, Promotion, PutEventsRequest,
};
use edgerec_core::{
    Catalog, Column, ColumnKind, ColumnValues, Embedding, Engine, ErrorCode, FactorModel,
    Histories, Model, NamedFilter, NeighborModel, PopularityModel, Recipe, Recommender,
    RecommenderModel, RequestError, UserTable,
};

const N: usize = 12;

/// 12 items in two clusters (0–5 "red", 6–11 "blue") with 2-d factors pointing to their
/// cluster; two known users, one per cluster; popularity = item index order.
fn model() -> Model {
    let items: Vec<f32> = (0..N)
        .flat_map(|i| {
            if i < 6 {
                [1.0, 0.05 * i as f32]
            } else {
                [0.05 * i as f32, 1.0]
            }
        })
        .collect();
    let mut gram = vec![0.0; 4];
    for r in items.chunks(2) {
        gram[0] += r[0] * r[0];
        gram[1] += r[0] * r[1];
        gram[2] += r[1] * r[0];
        gram[3] += r[1] * r[1];
    }
    let factors = FactorModel {
        item_factors: Embedding::from_f32(N, 2, items),
        user_factors: Embedding::from_f32(2, 2, vec![1.0, 0.0, 0.0, 1.0]),
        gram,
        regularization: 0.1,
        alpha: 10.0,
        event_weights: vec![1.0, 1.0],
        recency_half_life: 0.0,
        content: None,
        context: None,
    };
    let mut nb = NeighborModel {
        offsets: vec![0],
        ..NeighborModel::default()
    };
    for i in 0..N as u32 {
        let base = if i < 6 { 0 } else { 6 };
        for j in base..base + 6 {
            if j != i {
                nb.neighbors.push(j);
                nb.weights.push(1.0 / (1.0 + (i as f32 - j as f32).abs()));
            }
        }
        nb.offsets.push(nb.neighbors.len() as u32);
    }
    let rec = |name: &str, recipe, model| Recommender {
        name: name.into(),
        recipe,
        event_type: None,
        serving: ServingOptions::default(),
        model,
    };
    Model {
        catalog: Catalog {
            item_ids: (0..N).map(|i| format!("item{i}")).collect(),
            columns: vec![
                Column {
                    name: "COLOR".into(),
                    kind: ColumnKind::Categorical,
                    values: ColumnValues::Categorical {
                        dictionary: vec!["red".into(), "blue".into()],
                        offsets: (0..=N as u32).collect(),
                        codes: (0..N as u32).map(|i| u32::from(i >= 6)).collect(),
                    },
                },
                Column {
                    name: "PRICE".into(),
                    kind: ColumnKind::Numeric,
                    values: ColumnValues::Numeric((0..N).map(|i| i as f64).collect()),
                },
            ],
            creation_time: vec![0; N].into(),
            event_types: vec!["view".into(), "purchase".into()],
            context_columns: vec![],
        },
        users: UserTable {
            user_ids: ["alice", "bob"].into(),
            columns: vec![],
        },
        histories: Histories {
            offsets: vec![0, 1, 2],
            items: vec![0, 6],
            event_types: vec![1, 0],
            timestamps: vec![1, 2].into(),
            ..Histories::default()
        },
        popularity: PopularityModel {
            counts: (0..N as u32).map(|i| 100 - i).collect(),
            ranked: (0..N as u32).collect(),
        },
        recommenders: vec![
            rec(
                "for-you",
                Recipe::UserPersonalization,
                RecommenderModel::Factors(factors),
            ),
            rec("related", Recipe::Sims, RecommenderModel::Neighbors(nb)),
            rec(
                "popular",
                Recipe::PopularityCount,
                RecommenderModel::Popularity(PopularityModel {
                    counts: (0..N as u32).map(|i| 100 - i).collect(),
                    ranked: (0..N as u32).collect(),
                }),
            ),
            rec(
                "trending",
                Recipe::TrendingNow,
                RecommenderModel::Popularity(PopularityModel {
                    counts: vec![0; N],
                    ranked: Vec::new(),
                }),
            ),
        ],
        meta: edgerec_core::ModelMeta {
            filters: vec![NamedFilter {
                name: "only-blue".into(),
                expression: "INCLUDE ItemID WHERE Items.COLOR IN (\"blue\")".into(),
            }],
            ..Default::default()
        },
    }
}

fn req(rec: &str, user: Option<&str>, item: Option<&str>, n: u32) -> GetRecommendationsRequest {
    GetRecommendationsRequest {
        recommender: Some(rec.into()),
        user_id: user.map(Into::into),
        item_id: item.map(Into::into),
        num_results: Some(n),
        ..GetRecommendationsRequest::default()
    }
}

fn ids(e: &Engine, r: &GetRecommendationsRequest) -> Vec<String> {
    e.get_recommendations(r)
        .unwrap()
        .item_list
        .into_iter()
        .map(|p| p.item_id)
        .collect()
}

fn idx(ids: &[String]) -> Vec<usize> {
    ids.iter().map(|s| s[4..].parse().unwrap()).collect()
}

#[test]
fn known_users_get_their_cluster_without_seen_items() {
    let e = Engine::new(model());
    let a = idx(&ids(&e, &req("for-you", Some("alice"), None, 5)));
    assert!(a.iter().all(|&i| i < 6 && i != 0), "{a:?}");
    let b = idx(&ids(&e, &req("for-you", Some("bob"), None, 5)));
    assert!(b.iter().all(|&i| i > 6), "{b:?}");
}

#[test]
fn unknown_user_and_item_fall_back_to_popular() {
    let e = Engine::new(model());
    assert_eq!(
        idx(&ids(&e, &req("for-you", Some("nobody"), None, 3))),
        vec![0, 1, 2]
    );
    assert_eq!(
        idx(&ids(&e, &req("related", None, Some("nope"), 3))),
        vec![0, 1, 2]
    );
    let r = e
        .get_recommendations(&req("related", None, Some("item3"), 3))
        .unwrap();
    assert_eq!(
        idx(&r
            .item_list
            .iter()
            .map(|p| p.item_id.clone())
            .collect::<Vec<_>>()),
        vec![2, 4, 1]
    );
    assert!(
        r.item_list.iter().all(|p| p.score.is_none()),
        "SIMS returns no scores"
    );
    assert!(r.recommendation_id.len() <= 40);
    // Nothing trending in the window: the globally popular items instead of an empty list.
    assert_eq!(
        idx(&ids(&e, &req("trending", None, None, 3))),
        vec![0, 1, 2]
    );
}

#[test]
fn session_events_fold_in_at_once() {
    let mut e = Engine::new(model());
    let before = idx(&ids(&e, &req("for-you", Some("visitor"), None, 4)));
    assert_eq!(before, vec![0, 1, 2, 3], "new visitor: popular items");
    let events = (7..10)
        .map(|i| Event {
            event_type: "View".into(),
            item_id: Some(format!("item{i}")),
            sent_at: f64::from(i),
            ..Event::default()
        })
        .collect();
    e.put_events(&PutEventsRequest {
        session_id: "visitor".into(),
        event_list: events,
        ..PutEventsRequest::default()
    })
    .unwrap();
    let after = idx(&ids(&e, &req("for-you", Some("visitor"), None, 3)));
    assert!(
        after.iter().all(|&i| i >= 6 && !(7..10).contains(&i)),
        "{after:?}"
    );
    // Item-based recommenders use the session too.
    let rel = idx(&ids(&e, &req("related", Some("visitor"), None, 3)));
    assert!(rel.iter().all(|&i| i >= 6), "{rel:?}");
}

#[test]
fn anonymous_session_merges_into_user_on_login() {
    let mut e = Engine::new(model());
    let ev = |i: u32| Event {
        event_type: "view".into(),
        item_id: Some(format!("item{i}")),
        sent_at: 1.0,
        ..Event::default()
    };
    e.put_events(&PutEventsRequest {
        session_id: "s1".into(),
        event_list: vec![ev(8), ev(9)],
        ..Default::default()
    })
    .unwrap();
    e.put_events(&PutEventsRequest {
        session_id: "s1".into(),
        user_id: Some("carol".into()),
        event_list: vec![ev(10)],
        ..Default::default()
    })
    .unwrap();
    let got = idx(&ids(&e, &req("for-you", Some("carol"), None, 3)));
    assert!(
        got.iter().all(|&i| i >= 6 && ![8, 9, 10].contains(&i)),
        "{got:?}"
    );
}

#[test]
fn filters_backfill_and_named_filters() {
    let e = Engine::new(model());
    // alice likes red, but only blue is allowed: her top is blue items, all passing.
    let mut r = req("for-you", Some("alice"), None, 4);
    r.filter = Some("INCLUDE ItemID WHERE Items.COLOR IN ($C)".into());
    r.filter_values = BTreeMap::from([("C".into(), "\"blue\"".into())]);
    let got = idx(&ids(&e, &r));
    assert_eq!(got.len(), 4);
    assert!(got.iter().all(|&i| i >= 6), "{got:?}");
    // A filter leaving fewer items than asked for: back-filled with popular items that pass.
    let mut r = req("related", None, Some("item3"), 8);
    r.filter = Some("EXCLUDE ItemID WHERE Items.PRICE > 4".into());
    let resp = e.get_recommendations(&r).unwrap();
    let got: Vec<usize> = idx(&resp
        .item_list
        .iter()
        .map(|p| p.item_id.clone())
        .collect::<Vec<_>>());
    assert_eq!(
        got,
        vec![2, 4, 1, 0],
        "neighbours of 3 with price ≤ 4; nothing else passes"
    );
    assert!(resp.item_list.iter().all(|p| p.reason.is_none()));
    // Item 8's neighbours are all blue and pricier: the list is popular back-fill that passes.
    let mut r = req("related", None, Some("item8"), 3);
    r.filter = Some("EXCLUDE ItemID WHERE Items.PRICE > 4".into());
    let resp = e.get_recommendations(&r).unwrap();
    let got: Vec<usize> = idx(&resp
        .item_list
        .iter()
        .map(|p| p.item_id.clone())
        .collect::<Vec<_>>());
    assert_eq!(got, vec![0, 1, 2]);
    assert!(
        resp.item_list
            .iter()
            .all(|p| p.reason.as_deref() == Some(&["Popular item".to_owned()][..]))
    );
    // Named filter by name and by ARN.
    let mut r = req("popular", None, None, 3);
    r.filter = Some("only-blue".into());
    assert_eq!(idx(&ids(&e, &r)), vec![6, 7, 8]);
    let mut r = req("popular", None, None, 3);
    r.filter_arn = Some("arn:aws:personalize:us-east-1:1:filter/only-blue".into());
    assert_eq!(idx(&ids(&e, &r)), vec![6, 7, 8]);
    r.filter_arn = Some("arn:aws:personalize:us-east-1:1:filter/missing".into());
    assert_eq!(
        e.get_recommendations(&r).unwrap_err().code(),
        ErrorCode::ResourceNotFound
    );
    // Interaction filter sees the model history: alice purchased item0.
    let mut r = req("popular", Some("alice"), None, 2);
    r.filter = Some("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"purchase\")".into());
    assert_eq!(idx(&ids(&e, &r)), vec![1, 2]);
    // A parse error names the column.
    let mut r = req("popular", None, None, 2);
    r.filter = Some("EXCLUDE ItemID WHERE Items.COLOR (\"red\")".into());
    let err = e.get_recommendations(&r).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("column"), "{err}");
}

#[test]
fn promotions_take_their_share_and_are_marked() {
    let e = Engine::new(model());
    let mut r = req("for-you", Some("alice"), None, 10);
    r.promotions = vec![Promotion {
        name: Some("blue-week".into()),
        percent_promoted_items: Some(20),
        filter: Some("INCLUDE ItemID WHERE Items.COLOR IN (\"blue\")".into()),
        ..Promotion::default()
    }];
    let resp = e.get_recommendations(&r).unwrap();
    assert_eq!(resp.item_list.len(), 10);
    let promoted: Vec<_> = resp
        .item_list
        .iter()
        .filter(|p| p.promotion_name.as_deref() == Some("blue-week"))
        .collect();
    assert_eq!(promoted.len(), 2);
    assert!(
        promoted
            .iter()
            .all(|p| p.item_id.as_str() >= "item6" || p.item_id.len() > 5)
    );
    assert_ne!(
        resp.item_list[0].promotion_name.as_deref(),
        Some("blue-week"),
        "the top slot stays the model's"
    );
}

#[test]
fn personalized_ranking_orders_and_appends_unknown() {
    let e = Engine::new(model());
    let r = e
        .get_personalized_ranking(&GetPersonalizedRankingRequest {
            recommender: Some("for-you".into()),
            user_id: Some("bob".into()),
            input_list: vec!["item1".into(), "ghost".into(), "item9".into()],
            ..Default::default()
        })
        .unwrap();
    let got: Vec<&str> = r
        .personalized_ranking
        .iter()
        .map(|p| p.item_id.as_str())
        .collect();
    assert_eq!(got, vec!["item9", "item1", "ghost"]);
    let total: f64 = r.personalized_ranking.iter().filter_map(|p| p.score).sum();
    assert!(
        (total - 1.0).abs() < 1e-3,
        "softmax over the input list sums to 1: {total}"
    );
    assert!(r.personalized_ranking[2].score.is_none());
}

#[test]
fn limits_are_enforced_with_the_field_named() {
    let mut e = Engine::new(model());
    let field_of = |err: RequestError| match err {
        RequestError::InvalidInput { field, .. } => field,
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let mut r = req("for-you", Some("alice"), None, 501);
    assert_eq!(
        field_of(e.get_recommendations(&r).unwrap_err()),
        "numResults"
    );
    r.num_results = Some(51);
    r.metadata_columns = BTreeMap::from([("ITEMS".into(), vec!["COLOR".into()])]);
    assert_eq!(
        field_of(e.get_recommendations(&r).unwrap_err()),
        "numResults"
    );
    let r = req("for-you", Some(&"u".repeat(257)), None, 5);
    assert_eq!(field_of(e.get_recommendations(&r).unwrap_err()), "userId");
    let mut r = req("for-you", Some("alice"), None, 5);
    r.filter_values = (0..26).map(|i| (format!("K{i}"), "\"x\"".into())).collect();
    assert_eq!(
        field_of(e.get_recommendations(&r).unwrap_err()),
        "filterValues"
    );
    let mut r = req("for-you", Some("alice"), None, 5);
    r.context = (0..151).map(|i| (format!("K{i}"), "x".into())).collect();
    assert_eq!(field_of(e.get_recommendations(&r).unwrap_err()), "context");
    let r = req("nope", Some("alice"), None, 5);
    assert_eq!(
        e.get_recommendations(&r).unwrap_err().code(),
        ErrorCode::ResourceNotFound
    );
    let ev = Event {
        event_type: "view".into(),
        item_id: Some("item1".into()),
        sent_at: 1.0,
        ..Event::default()
    };
    let too_many = PutEventsRequest {
        session_id: "s".into(),
        event_list: vec![ev.clone(); 11],
        ..Default::default()
    };
    assert_eq!(field_of(e.put_events(&too_many).unwrap_err()), "eventList");
    let mut bad = ev.clone();
    bad.properties = Some("x".repeat(1025));
    let r = PutEventsRequest {
        session_id: "s".into(),
        event_list: vec![bad],
        ..Default::default()
    };
    assert_eq!(
        field_of(e.put_events(&r).unwrap_err()),
        "eventList[0].properties"
    );
    let mut bad = ev;
    bad.impression = (0..26).map(|i| format!("item{i}")).collect();
    let r = PutEventsRequest {
        session_id: "s".into(),
        event_list: vec![bad],
        ..Default::default()
    };
    assert_eq!(
        field_of(e.put_events(&r).unwrap_err()),
        "eventList[0].impression"
    );
    let r = GetPersonalizedRankingRequest {
        recommender: Some("for-you".into()),
        user_id: Some("alice".into()),
        input_list: (0..501).map(|i| format!("i{i}")).collect(),
        ..Default::default()
    };
    assert_eq!(
        field_of(e.get_personalized_ranking(&r).unwrap_err()),
        "inputList"
    );
    // Metadata comes back when asked for.
    let mut r = req("popular", None, None, 2);
    r.metadata_columns = BTreeMap::from([("ITEMS".into(), vec!["COLOR".into(), "PRICE".into()])]);
    let resp = e.get_recommendations(&r).unwrap();
    let m = resp.item_list[1].metadata.as_ref().unwrap();
    assert_eq!(m["COLOR"], "red");
    assert_eq!(m["PRICE"], "1");
}

#[test]
fn item_affinity_segments_rank_users_by_factors() {
    let e = Engine::new(model());
    let item = |id: &str| e.item_index(id).unwrap();
    let users = |items: &[u32]| -> Vec<String> {
        e.users_for_items("for-you", items, 5)
            .unwrap()
            .into_iter()
            .map(|u| u.user_id)
            .collect()
    };
    // item3 is in alice's cluster: she comes first.
    assert_eq!(
        users(&[item("item3")]).first().map(String::as_str),
        Some("alice")
    );
    assert_eq!(
        users(&[item("item9")]).first().map(String::as_str),
        Some("bob")
    );
    // alice already has item0, so she is not in its segment.
    assert!(!users(&[item("item0")]).contains(&"alice".to_owned()));
    let seg = e.users_for_items("for-you", &[item("item3")], 1).unwrap();
    assert_eq!(seg.len(), 1);
    assert!(e.users_for_items("for-you", &[], 5).unwrap().is_empty());
    let err = e
        .users_for_items("related", &[item("item3")], 5)
        .unwrap_err();
    assert!(err.to_string().contains("user-personalization"), "{err}");
    assert!(matches!(
        e.users_for_items("nope", &[0], 5),
        Err(edgerec_core::RequestError::NotFound { .. })
    ));
}
