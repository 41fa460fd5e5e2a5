#![allow(clippy::unwrap_used)]
//! Item content in training: `similar-items` gives cold items neighbours from their metadata
//! and text, `user-personalization` places them in its factor space (in full training and in
//! training mode UPDATE), and the engine places items added later with `putItems` the same way.

use edgerec_core::request::{GetRecommendationsRequest, Item};
use edgerec_core::{Column, ColumnKind, ColumnValues, Engine, RecommenderModel};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::train::{TrainingMode, build_model, train_model};

const GENRES: [&str; 3] = ["books", "garden", "toys"];
const WORDS: [&str; 3] = [
    "novel story author",
    "plant flower soil",
    "game puzzle play",
];

/// 90 users in three taste groups over 30 warm items (10 per genre); with `cold`, three more
/// items (`c0`, `c1`, `c2`, one per genre) that nobody interacted with.
fn dataset(cold: bool) -> Dataset {
    let mut item_ids: Vec<String> = (0..30).map(|i| format!("i{i:02}")).collect();
    if cold {
        item_ids.extend((0..3).map(|g| format!("c{g}")));
    }
    let genre = |i: usize| if i < 30 { i / 10 } else { i - 30 };
    let n = item_ids.len();
    let mut d = Dataset {
        name: "content".into(),
        item_columns: vec![
            Column {
                name: "GENRES".into(),
                kind: ColumnKind::Categorical,
                values: ColumnValues::Categorical {
                    dictionary: GENRES.iter().map(|s| (*s).to_owned()).collect(),
                    offsets: (0..=u32::try_from(n).unwrap()).collect(),
                    codes: (0..n).map(|i| u32::try_from(genre(i)).unwrap()).collect(),
                },
            },
            Column {
                name: "DESCRIPTION".into(),
                kind: ColumnKind::Textual,
                values: ColumnValues::Textual(
                    (0..n)
                        .map(|i| format!("A {} number {i}", WORDS[genre(i)]))
                        .collect(),
                ),
            },
        ],
        item_creation: vec![None; n],
        item_ids,
        event_types: vec!["view".into()],
        ..Dataset::default()
    };
    let mut state = 11u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        u32::try_from(state >> 33).unwrap()
    };
    for u in 0..90u32 {
        d.user_ids.push(format!("u{u}"));
        let group = u % 3;
        for k in 0..12i64 {
            let item = if next() % 6 == 0 {
                next() % 30
            } else {
                group * 10 + next() % 10
            };
            d.interactions.user.push(u);
            d.interactions.item.push(item);
            d.interactions.timestamp.push(1_000 + k);
            d.interactions.event_type.push(0);
            d.interactions.event_value.push(f32::NAN);
        }
    }
    d
}

fn config() -> TrainConfig {
    TrainConfig::parse(
        r#"
[model]
embedding = "f32"
[recommenders]
for-you = "user-personalization (factors=8, iterations=10, contentBuckets=256)"
plain = "user-personalization (factors=8, iterations=10, content=false)"
similar = "similar-items (factorDims=8, contentBuckets=256, minCointeractionCount=1)"
"#,
    )
    .unwrap()
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

fn rank(list: &[String], id: &str) -> usize {
    list.iter().position(|x| x == id).unwrap_or(usize::MAX)
}

fn engine(model: &edgerec_core::Model) -> Engine {
    Engine::from_bytes(&edgerec_core::format::encode(model).unwrap()).unwrap()
}

/// Every user of group `g` ranks the cold item of their genre above the other cold items.
fn assert_cold_items_placed(e: &Engine, rec: &str) {
    for u in 0..9 {
        let list = ids(e, rec, Some(&format!("u{u}")), None, 40);
        let own = format!("c{}", u % 3);
        for g in 0..3 {
            if g != u % 3 {
                assert!(
                    rank(&list, &own) < rank(&list, &format!("c{g}")),
                    "{rec}: u{u} ranks {own} below c{g}: {list:?}"
                );
            }
        }
    }
}

#[test]
fn similar_items_gives_cold_items_neighbours_of_their_genre() {
    let (model, _) = build_model(&dataset(true), &config(), &|_, _, _| {}).unwrap();
    let e = engine(&model);
    for g in 0..3 {
        let similar = ids(&e, "similar", None, Some(&format!("c{g}")), 5);
        assert_eq!(similar.len(), 5, "{similar:?}");
        for s in &similar {
            let i: usize = s[1..].parse().unwrap();
            assert_eq!(
                i / 10,
                g,
                "c{g}'s neighbour {s} has another genre: {similar:?}"
            );
        }
    }
    // Trained items list their co-interaction neighbours first.
    let of_warm = ids(&e, "similar", None, Some("i03"), 5);
    assert!(of_warm.iter().all(|s| s.starts_with('i')), "{of_warm:?}");
    // Related items need no session transitions.
    match &model.recommender("similar").unwrap().model {
        RecommenderModel::Neighbors(n) => assert!(n.transitions.is_none()),
        _ => panic!("similar is a neighbour recommender"),
    }
}

#[test]
fn user_personalization_places_cold_items_by_content() {
    let (model, _) = build_model(&dataset(true), &config(), &|_, _, _| {}).unwrap();
    match &model.recommender("plain").unwrap().model {
        RecommenderModel::Factors(f) => assert!(f.content.is_none()),
        _ => panic!("plain is a factor recommender"),
    }
    let e = engine(&model);
    assert_cold_items_placed(&e, "for-you");
}

#[test]
fn update_places_new_items_from_metadata() {
    let cfg = config();
    let (base, _) = build_model(&dataset(false), &cfg, &|_, _, _| {}).unwrap();
    let (updated, _) = train_model(
        &dataset(true),
        &cfg,
        TrainingMode::Update(&base),
        &|_, _, _| {},
    )
    .unwrap();
    assert_eq!(updated.catalog.len(), 33);
    assert_cold_items_placed(&engine(&updated), "for-you");
    // The update kept the previous content projection instead of learning it again.
    let content = |m: &edgerec_core::Model| match &m.recommender("for-you").unwrap().model {
        RecommenderModel::Factors(f) => f.content.clone().expect("for-you uses content"),
        _ => panic!("for-you is a factor recommender"),
    };
    assert_eq!(content(&updated), content(&base));
}

#[test]
fn put_items_places_items_like_training_does() {
    let (model, _) = build_model(&dataset(false), &config(), &|_, _, _| {}).unwrap();
    let mut e = engine(&model);
    let items: Vec<Item> = (0..3)
        .map(|g| Item {
            item_id: format!("c{g}"),
            properties: Some(format!(
                r#"{{"genres": "{}", "description": "A {} number {}"}}"#,
                GENRES[g],
                WORDS[g],
                30 + g
            )),
        })
        .collect();
    e.put_items(&items).unwrap();
    assert_cold_items_placed(&e, "for-you");
    let similar = ids(&e, "similar", None, Some("c2"), 5);
    assert!(
        similar
            .iter()
            .all(|s| s[1..].parse::<usize>().unwrap() / 10 == 2),
        "{similar:?}"
    );
}

/// The content fixture next to the golden one (`tests/fixtures/golden/content-v1.erm`): the
/// model of `dataset(false)`, read by the npm package's content and exploration tests. Training is reproducible,
/// so the committed bytes must match; regenerate with
/// `EDGEREC_UPDATE_GOLDEN=1 cargo test -p edgerec-trainer --test content`.
#[test]
fn content_fixture_is_reproducible() {
    let cfg = TrainConfig::parse(
        r#"
[model]
embedding = "int8"
publicMinUsers = 1
[recommenders]
recommended-for-you = "user-personalization (factors=8, iterations=10, contentBuckets=256)"
similar = "similar-items (factorDims=8, contentBuckets=256, minCointeractionCount=1)"
explore = "user-personalization (factors=8, iterations=10, contentBuckets=256, explorationWeight=0.6, explorationItemAgeCutOff=30)"
"#,
    )
    .unwrap();
    let (model, _) = build_model(&dataset(false), &cfg, &|_, _, _| {}).unwrap();
    let mut model = model;
    model.meta.created_at = 0;
    let bytes = edgerec_core::format::encode(&model).unwrap();
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/golden/content-v1.erm");
    if std::env::var_os("EDGEREC_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &bytes).unwrap();
    }
    let committed = std::fs::read(&path).unwrap();
    assert!(
        committed == bytes,
        "{} differs from a fresh training run",
        path.display()
    );
    let mut e = engine(&model);
    let items: Vec<Item> = (0..3)
        .map(|g| Item {
            item_id: format!("c{g}"),
            properties: Some(format!(r#"{{"genres": "{}"}}"#, GENRES[g])),
        })
        .collect();
    e.put_items(&items).unwrap();
    assert_cold_items_placed(&e, "recommended-for-you");
}
