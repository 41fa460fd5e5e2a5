//! Decoding a synthetic 100k-item × 64-dim int8 model with ids and 5 item metadata columns,
//! 5k users with 20-event histories, global popularity and one factor recommender.
//! Budgets (docs/design.md): decode ≤ 30 ms, file ≤ 10 MB. Prints the encoded size per section.

#![allow(
    clippy::unwrap_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_core::model::ServingOptions;
use edgerec_core::{
    Catalog, Column, ColumnKind, ColumnValues, Embedding, FactorModel, Histories, Model, ModelMeta,
    PopularityModel, Recipe, Recommender, RecommenderModel, UserTable, format,
};

const ITEMS: usize = 100_000;
const USERS: usize = 5_000;
const EVENTS_PER_USER: usize = 20;
const DIM: usize = 64;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    }
}

fn categorical(name: &str, r: &mut Rng, values: usize, max_per_row: usize) -> Column {
    let dictionary = (0..values)
        .map(|v| format!("{}-{v}", name.to_lowercase()))
        .collect();
    let mut offsets = vec![0u32];
    let mut codes = Vec::new();
    for _ in 0..ITEMS {
        for _ in 0..1 + r.below(max_per_row) {
            codes.push(r.below(values) as u32);
        }
        offsets.push(codes.len() as u32);
    }
    Column {
        name: name.into(),
        kind: ColumnKind::Categorical,
        values: ColumnValues::Categorical {
            dictionary,
            offsets,
            codes,
        },
    }
}

fn model() -> Model {
    let mut r = Rng(42);
    let items: Vec<f32> = (0..ITEMS * DIM).map(|_| r.unit()).collect();
    let users: Vec<f32> = (0..USERS * DIM).map(|_| r.unit()).collect();
    let mut histories = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    for _ in 0..USERS {
        let mut t = 1_690_000_000 + r.below(1_000_000) as i64;
        for _ in 0..EVENTS_PER_USER {
            histories.items.push(r.below(ITEMS) as u32);
            histories.event_types.push(r.below(2) as u16);
            t += r.below(3_600) as i64;
            histories.timestamps.push(t);
        }
        histories.offsets.push(histories.items.len() as u32);
    }
    let mut counts = vec![0u32; ITEMS];
    for &i in &histories.items {
        counts[i as usize] += 1;
    }
    let mut ranked: Vec<u32> = (0..ITEMS as u32)
        .filter(|&i| counts[i as usize] > 0)
        .collect();
    ranked.sort_by_key(|&i| (std::cmp::Reverse(counts[i as usize]), i));
    let price = (0..ITEMS)
        .map(|_| (r.below(20_000) as f64 + 99.0) / 100.0)
        .collect();
    let in_stock = {
        let mut offsets = vec![0u32];
        let mut codes = Vec::new();
        for _ in 0..ITEMS {
            codes.push(u32::from(r.below(10) == 0));
            offsets.push(codes.len() as u32);
        }
        Column {
            name: "IN_STOCK".into(),
            kind: ColumnKind::Boolean,
            values: ColumnValues::Categorical {
                dictionary: vec!["true".into(), "false".into()],
                offsets,
                codes,
            },
        }
    };
    Model {
        meta: ModelMeta {
            version: 1,
            created_at: 1_700_000_000,
            data_time: 1_700_000_000,
            dataset: "synthetic-100k".into(),
            producer: "format bench".into(),
            ..ModelMeta::default()
        },
        catalog: Catalog {
            item_ids: (0..ITEMS).map(|i| format!("sku-{i:06}")).collect(),
            columns: vec![
                categorical("CATEGORY", &mut r, 40, 1),
                categorical("GENRES", &mut r, 25, 3),
                categorical("BRAND", &mut r, 2_000, 1),
                Column {
                    name: "PRICE".into(),
                    kind: ColumnKind::Numeric,
                    values: ColumnValues::Numeric(price),
                },
                in_stock,
            ],
            creation_time: (0..ITEMS)
                .map(|_| 1_600_000_000 + r.below(90_000_000) as i64)
                .collect(),
            event_types: vec!["click".into(), "purchase".into()],
            context_columns: vec!["DEVICE".into()],
        },
        users: UserTable {
            user_ids: (0..USERS).map(|u| format!("user-{u}")).collect(),
            columns: vec![],
        },
        histories,
        popularity: PopularityModel { counts, ranked },
        recommenders: vec![Recommender {
            name: "recommended-for-you".into(),
            recipe: Recipe::UserPersonalization,
            event_type: None,
            serving: ServingOptions::default(),
            model: RecommenderModel::Factors(FactorModel {
                item_factors: Embedding::quantize(ITEMS, DIM, &items),
                user_factors: Embedding::quantize(USERS, DIM, &users),
                gram: vec![0.0; DIM * DIM],
                regularization: 0.1,
                alpha: 40.0,
                event_weights: vec![1.0, 4.0],
                recency_half_life: 0.0,
                content: None,
                context: None,
            }),
        }],
    }
}

fn bench(c: &mut Criterion) {
    let m = model();
    let bytes = format::encode(&m).unwrap();
    let info = format::read_header(&bytes).unwrap();
    eprintln!(
        "encoded {ITEMS} items x {DIM} dims int8, 5 item columns, {USERS} users: {} bytes ({:.2} MB)",
        bytes.len(),
        bytes.len() as f64 / 1e6
    );
    for s in &info.sections {
        eprintln!("  {:<40} {:>10} bytes", s.label(), s.length);
    }
    assert_eq!(format::decode(&bytes).unwrap(), m);
    c.bench_function("format/decode 100k x 64 int8", |b| {
        b.iter(|| format::decode(black_box(&bytes)).unwrap());
    });
    c.bench_function("format/read_header", |b| {
        b.iter(|| format::read_header(black_box(&bytes)).unwrap());
    });
    c.bench_function("format/encode 100k x 64 int8", |b| {
        b.iter(|| format::encode(black_box(&m)).unwrap());
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
