//! Exploration (`explorationWeight`, `explorationItemAgeCutOff`) with impression discounting,
//! on a hand-built model: 120 warm items and 40 cold ones (few users), 10 of them new.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::collections::{BTreeMap, HashMap};

use edgerec_core::model::ServingOptions;
use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
use edgerec_core::{
    Catalog, Column, ColumnKind, ColumnValues, Embedding, Engine, Exploration, FactorModel,
    Histories, Model, ModelMeta, PopularityModel, Recipe, Recommender, RecommenderModel, UserTable,
    format,
};

const WARM: usize = 120;
const N: usize = 160;
const DAY: i64 = 86_400;
const NOW: i64 = 1_000 * DAY;

fn is_cold(i: usize) -> bool {
    i >= WARM
}

/// Items 150..160 were created 5 days before the data time; all others 400 days before.
fn is_new(i: usize) -> bool {
    i >= 150
}

fn model(exploration: Option<Exploration>) -> Model {
    // 4-d factors on a deterministic spiral; the user looks along the first axis.
    let items: Vec<f32> = (0..N)
        .flat_map(|i| {
            // cold items have small vectors, as little-trained items do
            let a = i as f32 * 0.37;
            let s = if is_cold(i) { 0.3 } else { 1.0 };
            [s * a.cos(), s * a.sin(), s * (a * 0.5).cos() * 0.3, 0.1]
        })
        .collect();
    let factors = FactorModel {
        gram: {
            let mut g = vec![0.0; 16];
            for r in items.chunks(4) {
                for a in 0..4 {
                    for b in 0..4 {
                        g[a * 4 + b] += r[a] * r[b];
                    }
                }
            }
            g
        },
        item_factors: Embedding::from_f32(N, 4, items),
        user_factors: Embedding::from_f32(1, 4, vec![1.0, 0.0, 0.0, 0.0]),
        regularization: 0.1,
        alpha: 10.0,
        event_weights: vec![1.0],
        recency_half_life: 0.0,
        context: None,
        content: None,
    };
    let counts: Vec<u32> = (0..N)
        .map(|i| if is_cold(i) { 1 } else { 200 - i as u32 })
        .collect();
    let mut ranked: Vec<u32> = (0..N as u32).collect();
    ranked.sort_by_key(|&i| (std::cmp::Reverse(counts[i as usize]), i));
    Model {
        meta: ModelMeta {
            data_time: NOW,
            ..ModelMeta::default()
        },
        catalog: Catalog {
            item_ids: (0..N).map(|i| format!("i{i}")).collect(),
            columns: vec![Column {
                name: "COLOR".into(),
                kind: ColumnKind::Categorical,
                values: ColumnValues::Categorical {
                    dictionary: vec!["red".into(), "blue".into()],
                    offsets: (0..=N as u32).collect(),
                    codes: (0..N as u32).map(|i| i % 2).collect(),
                },
            }],
            creation_time: (0..N)
                .map(|i| {
                    if is_new(i) {
                        NOW - 5 * DAY
                    } else {
                        NOW - 400 * DAY
                    }
                })
                .collect(),
            event_types: vec!["view".into()],
            context_columns: vec![],
        },
        users: UserTable {
            user_ids: ["u"].into_iter().collect(),
            columns: vec![],
        },
        histories: Histories {
            offsets: vec![0, 1],
            items: vec![0],
            event_types: vec![0],
            timestamps: vec![NOW].into(),
            ..Histories::default()
        },
        popularity: PopularityModel { counts, ranked },
        recommenders: vec![Recommender {
            name: "for-you".into(),
            recipe: Recipe::UserPersonalization,
            event_type: None,
            serving: ServingOptions {
                exploration,
                ..ServingOptions::default()
            },
            model: RecommenderModel::Factors(factors),
        }],
    }
}

fn engine(weight: Option<f32>) -> Engine {
    let m = model(weight.map(|weight| Exploration {
        weight,
        item_age_cut_off_days: 30.0,
    }));
    Engine::new(m)
}

fn req(rid: &str, k: u32) -> GetRecommendationsRequest {
    GetRecommendationsRequest {
        recommender: Some("for-you".into()),
        user_id: Some("u".into()),
        num_results: Some(k),
        recommendation_id: Some(rid.into()),
        ..GetRecommendationsRequest::default()
    }
}

/// (item index, explored) of a response.
fn list(e: &Engine, r: &GetRecommendationsRequest) -> Vec<(usize, bool)> {
    e.get_recommendations(r)
        .unwrap()
        .item_list
        .into_iter()
        .map(|p| {
            let explored = p.reason.as_deref() == Some(&["Exploration".to_owned()][..]);
            (p.item_id[1..].parse().unwrap(), explored)
        })
        .collect()
}

/// How often each item is explored over `runs` recommendation ids.
fn explored_counts(e: &Engine, runs: usize) -> HashMap<usize, usize> {
    let mut c = HashMap::new();
    for r in 0..runs {
        for (i, x) in list(e, &req(&format!("rid-{r}"), 10)) {
            if x {
                *c.entry(i).or_default() += 1;
            }
        }
    }
    c
}

#[test]
fn weight_zero_is_identical_to_no_exploration() {
    let off = engine(None);
    let zero = engine(Some(0.0));
    for r in 0..20 {
        let rq = req(&format!("rid-{r}"), 25);
        assert_eq!(
            off.get_recommendations(&rq).unwrap(),
            zero.get_recommendations(&rq).unwrap()
        );
    }
}

#[cfg(feature = "write")]
#[test]
fn exploration_round_trips_behind_its_capability_bit() {
    let m = model(Some(Exploration::DEFAULT));
    let bytes = format::encode(&m).unwrap();
    let info = format::read_header(&bytes).unwrap();
    assert_ne!(info.capabilities & format::CAP_EXPLORATION, 0);
    assert_eq!(format::decode(&bytes).unwrap(), m);
    let bad = model(Some(Exploration {
        weight: 1.5,
        item_age_cut_off_days: 30.0,
    }));
    assert!(format::encode(&bad).is_err());
    // no exploration, no capability bit
    let bytes = format::encode(&model(None)).unwrap();
    assert_eq!(
        format::read_header(&bytes).unwrap().capabilities & format::CAP_EXPLORATION,
        0
    );
}

#[test]
fn deterministic_for_a_recommendation_id_and_varies_across_ids() {
    let e = engine(Some(0.3));
    let a = list(&e, &req("rid-a", 20));
    assert_eq!(a, list(&e, &req("rid-a", 20)));
    let distinct: std::collections::HashSet<Vec<(usize, bool)>> = (0..20)
        .map(|r| list(&e, &req(&format!("rid-{r}"), 20)))
        .collect();
    assert!(distinct.len() > 5, "{} distinct lists", distinct.len());
}

#[test]
fn explored_items_are_marked_cold_or_new_and_not_first() {
    let e = engine(Some(1.0));
    let relevance_only = list(&engine(None), &req("x", 10));
    assert!(relevance_only.iter().all(|&(i, x)| !is_cold(i) && !x));
    for r in 0..30 {
        let l = list(&e, &req(&format!("rid-{r}"), 10));
        assert_eq!(l.len(), 10);
        assert!(!l[0].1, "the first slot stays with the most relevant item");
        assert_eq!(l[0].0, relevance_only[0].0);
        let explored: Vec<usize> = l.iter().filter(|p| p.1).map(|p| p.0).collect();
        assert_eq!(explored.len(), 5, "w = 1 explores half of the slots");
        assert!(explored.iter().all(|&i| is_cold(i)), "{explored:?}");
        // the other slots keep the relevance order
        let plain: Vec<usize> = l.iter().filter(|p| !p.1).map(|p| p.0).collect();
        assert_eq!(
            plain,
            relevance_only[..5].iter().map(|p| p.0).collect::<Vec<_>>()
        );
    }
    let counts = explored_counts(&engine(Some(0.3)), 200);
    let new = counts
        .iter()
        .filter(|(i, _)| is_new(**i))
        .map(|(_, n)| n)
        .sum::<usize>();
    assert!(new > 0, "new items are explored: {counts:?}");
}

#[test]
fn the_share_grows_with_the_weight() {
    let share = |w| {
        let e = engine(Some(w));
        (0..100)
            .map(|r| {
                list(&e, &req(&format!("rid-{r}"), 20))
                    .iter()
                    .filter(|p| p.1)
                    .count()
            })
            .sum::<usize>()
    };
    let (low, mid, high) = (share(0.1), share(0.3), share(0.6));
    assert!(0 < low && low < mid && mid < high, "{low} {mid} {high}");
}

#[test]
fn filters_apply_to_explored_items() {
    let e = engine(Some(1.0));
    for r in 0..30 {
        let mut rq = req(&format!("rid-{r}"), 10);
        rq.filter = Some("INCLUDE ItemID WHERE Items.COLOR IN (\"blue\")".into());
        let l = list(&e, &rq);
        assert!(l.iter().any(|p| p.1));
        assert!(l.iter().all(|p| p.0 % 2 == 1), "{l:?}");
    }
}

fn impressions(item: usize, times: usize) -> PutEventsRequest {
    PutEventsRequest {
        session_id: "s".into(),
        user_id: Some("u".into()),
        event_list: (0..times)
            .map(|t| Event {
                event_type: "view".into(),
                sent_at: t as f64,
                impression: vec![format!("i{item}")],
                ..Event::default()
            })
            .collect(),
        ..PutEventsRequest::default()
    }
}

#[test]
fn impressions_without_a_click_reduce_exposure() {
    let base = engine(Some(0.3));
    // Both sessions get six impression-only events (no items, so the same fold-in): of a
    // warm item that is never explored, or of the most explored item.
    let mut control = base.fork();
    control.put_events(&impressions(1, 6)).unwrap();
    let before = explored_counts(&control, 300);
    let (&top, &n_top) = before
        .iter()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(**i)))
        .unwrap();
    let mut shown = base.fork();
    shown.put_events(&impressions(top, 6)).unwrap();
    let after = explored_counts(&shown, 300);
    let n_after = after.get(&top).copied().unwrap_or(0);
    assert!(
        n_top >= 30 && n_after * 3 < n_top,
        "item {top}: explored {n_top} times in 300 requests, {n_after} after 6 impressions of it"
    );
    // the slots it gave up went to other cold items
    assert_eq!(
        before.values().sum::<usize>(),
        after.values().sum::<usize>()
    );
}

#[test]
fn a_recommendation_id_in_put_events_counts_as_impressions() {
    let mut e = engine(Some(1.0));
    let r = e.get_recommendations(&req("rid-shown", 10)).unwrap();
    let clicked = r.item_list[0].item_id.clone();
    e.put_events(&PutEventsRequest {
        session_id: "s".into(),
        user_id: Some("u".into()),
        event_list: vec![Event {
            event_type: "view".into(),
            item_id: Some(clicked.clone()),
            recommendation_id: Some("rid-shown".into()),
            ..Event::default()
        }],
        ..PutEventsRequest::default()
    })
    .unwrap();
    let sessions = edgerec_core::format::sessions::decode(&e.export_sessions()).unwrap();
    let imp: BTreeMap<String, u32> = sessions[0].impressions.iter().cloned().collect();
    assert_eq!(
        imp.len(),
        9,
        "every shown item but the clicked one: {imp:?}"
    );
    assert!(!imp.contains_key(&clicked));
    assert!(imp.values().all(|&n| n == 1));
}
