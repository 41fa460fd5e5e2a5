#![allow(clippy::unwrap_used, clippy::cast_precision_loss)]
//! Item content (`CAP_CONTENT`): items added with `putItems` are placed from their metadata,
//! so `user-personalization` can recommend them and `similar-items` finds their neighbours,
//! and content models survive the file format.

mod runtime_model;

use edgerec_core::content::features::{bucket_sign, token_hash};
use edgerec_core::content::{ContentColumn, ContentModel};
use edgerec_core::format::{self, CAP_CONTENT};
use edgerec_core::model::ServingOptions;
use edgerec_core::request::{GetRecommendationsRequest, Item};
use edgerec_core::{Embedding, Engine, Model, Recipe, Recommender, RecommenderModel};

const BUCKETS: u32 = 64;

/// A projection that sends colour "red" to `red` and "blue" to `blue`.
fn content(red: [f32; 2], blue: [f32; 2], item_vectors: Option<Embedding>) -> ContentModel {
    let mut w = vec![0.0f32; BUCKETS as usize * 2];
    for (token, v) in [(&b"red"[..], red), (&b"blue"[..], blue)] {
        let (b, sign) = bucket_sign(token_hash("COLOR", token), BUCKETS);
        w[b as usize * 2] = sign * v[0];
        w[b as usize * 2 + 1] = sign * v[1];
    }
    ContentModel {
        columns: vec![ContentColumn {
            name: "COLOR".into(),
            weight: 1.0,
        }],
        buckets: BUCKETS,
        idf: vec![1.0; BUCKETS as usize],
        mean: vec![0.0, 0.0],
        projection: Embedding::quantize(BUCKETS as usize, 2, &w),
        item_vectors,
    }
}

/// The shared runtime model with content on its factor recommender and a `similar-items`
/// recommender (the neighbour lists of `related`, plus unit content vectors per item).
fn model() -> Model {
    let mut m = runtime_model::model();
    for r in &mut m.recommenders {
        if let RecommenderModel::Factors(f) = &mut r.model {
            f.content = Some(Box::new(content([1.5, 0.0], [0.0, 1.5], None)));
        }
    }
    let mut nb = match &m.recommender("related").unwrap().model {
        RecommenderModel::Neighbors(n) => n.clone(),
        _ => unreachable!(),
    };
    let n = m.catalog.len();
    let unit: Vec<f32> = (0..n)
        .flat_map(|i| if i < 6 { [1.0, 0.0] } else { [0.0, 1.0] })
        .collect();
    nb.content = Some(Box::new(content(
        [1.0, 0.0],
        [0.0, 1.0],
        Some(Embedding::quantize(n, 2, &unit)),
    )));
    m.recommenders.push(Recommender {
        name: "similar".into(),
        recipe: Recipe::SimilarItems,
        event_type: None,
        serving: ServingOptions::default(),
        model: RecommenderModel::Neighbors(nb),
    });
    m
}

fn ids(e: &Engine, rec: &str, user: Option<&str>, item: Option<&str>, k: u32) -> Vec<String> {
    e.get_recommendations(&GetRecommendationsRequest {
        recommender: Some(rec.into()),
        user_id: user.map(str::to_owned),
        item_id: item.map(str::to_owned),
        num_results: Some(k),
        ..GetRecommendationsRequest::default()
    })
    .unwrap()
    .item_list
    .into_iter()
    .map(|p| p.item_id)
    .collect()
}

fn put(e: &mut Engine, id: &str, properties: Option<&str>) {
    e.put_items(&[Item {
        item_id: id.into(),
        properties: properties.map(str::to_owned),
    }])
    .unwrap();
}

#[test]
fn a_put_item_is_placed_in_the_factor_space_from_its_metadata() {
    let mut e = Engine::new(model());
    // alice's factors point at the red cluster, bob's at the blue one.
    assert!(!ids(&e, "for-you", Some("alice"), None, 12).contains(&"fresh-red".to_owned()));
    put(&mut e, "fresh-red", Some(r#"{"color": "red", "price": 3}"#));
    put(&mut e, "fresh-blue", Some(r#"{"color": "blue"}"#));
    let alice = ids(&e, "for-you", Some("alice"), None, 5);
    assert_eq!(alice[0], "fresh-red", "{alice:?}");
    assert!(!alice.contains(&"fresh-blue".to_owned()));
    let bob = ids(&e, "for-you", Some("bob"), None, 5);
    assert_eq!(bob[0], "fresh-blue", "{bob:?}");
    // Related items by factors work for the new item too.
    // (items 0–5 tie on the red axis; int8 rounding decides their order)
    let related = ids(&e, "for-you", None, Some("fresh-red"), 3);
    let red: Vec<String> = (0..6).map(|i| format!("item{i}")).collect();
    assert_eq!(related.len(), 3);
    assert!(related.iter().all(|id| red.contains(id)), "{related:?}");
}

#[test]
fn a_put_item_without_content_tokens_keeps_a_zero_row() {
    let mut e = Engine::new(model());
    put(&mut e, "bare", None);
    let alice = ids(&e, "for-you", Some("alice"), None, 12);
    assert!(!alice[..6].contains(&"bare".to_owned()), "{alice:?}");
    // No content vector: no related items from similar-items either.
    assert!(ids(&e, "similar", None, Some("bare"), 5).is_empty());
}

#[test]
fn similar_items_finds_neighbours_of_a_put_item_by_content() {
    let mut e = Engine::new(model());
    put(&mut e, "fresh-blue", Some(r#"{"color": "blue"}"#));
    let similar = ids(&e, "similar", None, Some("fresh-blue"), 6);
    assert_eq!(similar.len(), 6, "{similar:?}");
    let blue: Vec<String> = (6..12).map(|i| format!("item{i}")).collect();
    assert!(similar.iter().all(|i| blue.contains(i)), "{similar:?}");
    // Trained items keep their co-interaction lists first; the new item follows by content.
    let of_item7 = ids(&e, "similar", None, Some("item7"), 6);
    assert_eq!(
        of_item7[..5],
        ["item6", "item8", "item9", "item10", "item11"]
    );
    assert_eq!(of_item7[5], "fresh-blue");
    // A session that viewed the new item gets its content neighbours.
    e.put_events(&edgerec_core::PutEventsRequest {
        session_id: "s".into(),
        event_list: vec![edgerec_core::Event {
            event_type: "view".into(),
            item_id: Some("fresh-blue".into()),
            sent_at: 1.0,
            ..edgerec_core::Event::default()
        }],
        ..edgerec_core::PutEventsRequest::default()
    })
    .unwrap();
    let session = ids(&e, "similar", Some("s"), None, 4);
    assert!(session.iter().all(|i| blue.contains(i)), "{session:?}");
    assert_eq!(session.len(), 4);
}

#[test]
fn content_models_round_trip_behind_their_capability() {
    let plain = runtime_model::model();
    let bytes = format::encode(&plain).unwrap();
    assert_eq!(
        format::read_header(&bytes).unwrap().capabilities & CAP_CONTENT,
        0
    );
    let m = model();
    let bytes = format::encode(&m).unwrap();
    assert_ne!(
        format::read_header(&bytes).unwrap().capabilities & CAP_CONTENT,
        0
    );
    let back = format::decode(&bytes).unwrap();
    assert_eq!(back, m);
    // A projection of the wrong size is refused.
    let mut bad = m;
    if let RecommenderModel::Factors(f) = &mut bad.recommenders[0].model
        && let Some(c) = f.content.as_mut()
    {
        c.idf.pop();
    }
    assert!(format::encode(&bad).is_err());
}
