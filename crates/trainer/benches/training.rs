//! Training time of the deployable model (`user-personalization`, `sims`, `popularity-count`):
//! a full training against `--mode update` from a model trained on the oldest 90 % of the
//! same interactions (the update goal is at least 5× faster on MovieLens latest-small).
//!
//! Reads MovieLens latest-small from `$EDGEREC_DATA`, else `<repo root>/../shared/data`; when
//! it is absent, says so and benches a generated dataset of the same shape instead.

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::evaluate::protocol::subset;
use edgerec_trainer::train::{TrainingMode, build_model, train_model};

const CONFIG: &str = r#"
[recommenders]
user-personalization = "user-personalization"
sims = "sims"
popularity-count = "popularity-count"
"#;

fn data_root() -> PathBuf {
    match std::env::var_os("EDGEREC_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// MovieLens latest-small, or a generated stand-in: 610 users, 9,700 items with Zipf-like
/// popularity, 100,000 interactions, each user's items drawn around a drifting taste.
fn dataset() -> (String, Dataset) {
    let dir = data_root().join("ml-latest-small");
    if dir.join("ratings.csv").is_file() {
        let (ds, _) = edgerec_trainer::import::load_movielens(&dir).unwrap();
        return ("ml-latest-small".into(), ds);
    }
    println!(
        "ml-latest-small not found at {}: benching a generated dataset of its shape",
        dir.display()
    );
    let (users, items, events) = (610u32, 9_700u32, 100_000u32);
    let mut d = Dataset {
        item_ids: (0..items).map(|i| format!("i{i}")).collect(),
        user_ids: (0..users).map(|u| format!("u{u}")).collect(),
        event_types: vec!["rating".into()],
        ..Dataset::default()
    };
    let mut state = 42u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    for e in 0..events {
        let u = next() % users;
        // Half popular items (the square of a uniform draw), half near the user's taste.
        let x = next() % 10_000;
        let item = if next() % 2 == 0 {
            (x * x / 10_000 * items / 10_000) % items
        } else {
            (u * 16 + e / 2_000 + next() % 40) % items
        };
        d.interactions.user.push(u);
        d.interactions.item.push(item);
        d.interactions.timestamp.push(i64::from(e));
        d.interactions.event_type.push(0);
        d.interactions.event_value.push(1.0);
    }
    ("generated".into(), d)
}

fn benches(c: &mut Criterion) {
    let cfg = TrainConfig::parse(CONFIG).unwrap();
    let (name, all) = dataset();
    let mut times = all.interactions.timestamp.clone();
    times.sort_unstable();
    let cutoff = times[times.len() * 9 / 10 - 1];
    let rows: Vec<u32> = (0..all.interactions.timestamp.len())
        .filter(|&r| all.interactions.timestamp[r] <= cutoff)
        .map(|r| u32::try_from(r).unwrap())
        .collect();
    let (base, _) = build_model(&subset(&all, &rows), &cfg, &|_, _, _| {}).unwrap();
    let mut group = c.benchmark_group(format!("train_{name}"));
    group.sample_size(10);
    group.bench_function("full", |b| {
        b.iter(|| build_model(&all, &cfg, &|_, _, _| {}).unwrap());
    });
    group.bench_function("update_from_oldest_90_percent", |b| {
        b.iter(|| train_model(&all, &cfg, TrainingMode::Update(&base), &|_, _, _| {}).unwrap());
    });
    group.finish();
}

criterion_group!(training, benches);
criterion_main!(training);
