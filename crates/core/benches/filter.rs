//! Filter costs on a synthetic 100k-item catalogue: compiling a typical expression, and the
//! per-request overhead of a category `IN` filter chained with an interaction EXCLUDE.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_core::filter::{CompiledFilter, FilterCache, FilterInput, InteractionRef, parse};
use edgerec_core::{Catalog, Column, ColumnKind, ColumnValues, UserTable};

const ITEMS: usize = 100_000;
const GENRES: usize = 20;

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn catalog() -> Catalog {
    let mut s = 7u64;
    let mut offsets = vec![0u32];
    let mut codes = Vec::new();
    for _ in 0..ITEMS {
        let k = 1 + next(&mut s) % 3;
        for _ in 0..k {
            codes.push((next(&mut s) % GENRES as u64) as u32);
        }
        offsets.push(codes.len() as u32);
    }
    let genre = Column {
        name: "GENRE".into(),
        kind: ColumnKind::Categorical,
        values: ColumnValues::Categorical {
            dictionary: (0..GENRES).map(|g| format!("genre{g}")).collect(),
            offsets,
            codes,
        },
    };
    let price = Column {
        name: "PRICE".into(),
        kind: ColumnKind::Numeric,
        values: ColumnValues::Numeric((0..ITEMS).map(|_| (next(&mut s) % 1000) as f64).collect()),
    };
    Catalog {
        item_ids: (0..ITEMS).map(|i| format!("item{i}")).collect(),
        columns: vec![genre, price],
        creation_time: vec![0; ITEMS].into(),
        event_types: vec!["click".into(), "stream".into()],
        context_columns: vec![],
    }
}

fn bench(c: &mut Criterion) {
    let cat = catalog();
    let users = UserTable::default();
    let mut s = 11u64;
    let interactions: Vec<InteractionRef<'_>> = (0..200)
        .map(|k| InteractionRef {
            item: (next(&mut s) % ITEMS as u64) as u32,
            event_type: if k % 2 == 0 { "click" } else { "stream" },
        })
        .collect();
    let typical = r#"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) AND Items.PRICE < 500 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")"#;
    c.bench_function("filter/parse typical expression", |b| {
        b.iter(|| parse(black_box(typical)).unwrap());
    });
    c.bench_function(
        "filter/compile typical expression (100k items, cold indexes)",
        |b| {
            b.iter(|| CompiledFilter::compile(black_box(typical), &cat, &users).unwrap());
        },
    );

    let mut values = BTreeMap::new();
    values.insert("GENRE".to_string(), "\"genre3\",\"genre7\"".to_string());
    let mut cache = FilterCache::new(16);
    let per_request = r#"INCLUDE ItemID WHERE Items.GENRE IN ($GENRE) | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ("click", "stream")"#;
    c.bench_function(
        "filter/request: category IN + interaction EXCLUDE (100k items)",
        |b| {
            b.iter(|| {
                let f = cache.get_or_compile(per_request, &cat, &users).unwrap();
                let input = FilterInput {
                    filter_values: &values,
                    current_item: None,
                    current_user: None,
                    interactions: &interactions,
                };
                let m = f.evaluate_items(&cat, &users, &input).unwrap();
                black_box(m.count())
            });
        },
    );
    let related = r"INCLUDE ItemID WHERE Items.PRICE < CurrentItem.PRICE AND Items.GENRE IN CurrentItem.GENRE";
    c.bench_function(
        "filter/request: CurrentItem price + genre (100k items)",
        |b| {
            b.iter(|| {
                let f = cache.get_or_compile(related, &cat, &users).unwrap();
                let input = FilterInput {
                    current_item: Some(42),
                    ..FilterInput::default()
                };
                black_box(f.evaluate_items(&cat, &users, &input).unwrap().count())
            });
        },
    );
    let fixed = r#"INCLUDE ItemID WHERE Items.GENRE IN ("genre1") AND Items.PRICE >= 100"#;
    c.bench_function(
        "filter/request: literal-only filter (precomputed, 100k items)",
        |b| {
            b.iter(|| {
                let f = cache.get_or_compile(fixed, &cat, &users).unwrap();
                black_box(
                    f.evaluate_items(&cat, &users, &FilterInput::default())
                        .unwrap()
                        .count(),
                )
            });
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
