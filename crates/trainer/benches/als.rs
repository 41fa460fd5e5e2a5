//! ALS alone: iterations of the implicit-feedback factor model on a generated matrix the
//! shape of a storefront's (40,000 users, 100,000 items with Zipf-like popularity, 1,000,000
//! interactions), at the default trainer's 128 factors. Almost all of the time is the sparse
//! part of the conjugate-gradient steps, rows of the other side gathered from a table larger
//! than the caches: what decides a large training's time (`docs/scale.md`).

#![allow(clippy::unwrap_used, clippy::cast_possible_truncation)]

use criterion::{Criterion, criterion_group, criterion_main};
use edgerec_trainer::recipes::als::{self, AlsParams, Csr};

/// `users × items` weights, `per_user` distinct items per user on average, item `i` drawn
/// with probability about proportional to `1 / (i + 1)`.
fn matrix(users: u32, items: u32, per_user: u32) -> Csr {
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut csr = Csr {
        off: vec![0],
        ..Csr::default()
    };
    for _ in 0..users {
        let n = 1 + (next() * f64::from(2 * per_user - 1)) as u32;
        let mut row: Vec<u32> = (0..n)
            .map(|_| ((f64::from(items).powf(next()) - 1.0) as u32).min(items - 1))
            .collect();
        row.sort_unstable();
        row.dedup();
        csr.val.extend(row.iter().map(|_| 1.0f32));
        csr.idx.extend(row);
        csr.off.push(csr.idx.len());
    }
    csr
}

fn benches(c: &mut Criterion) {
    let (users, items) = (40_000u32, 100_000u32);
    let r = matrix(users, items, 25);
    println!(
        "{} users, {} items, {} interactions",
        users,
        items,
        r.idx.len()
    );
    let mut group = c.benchmark_group("als_40k_users_100k_items");
    group.sample_size(10);
    for factors in [64usize, 128] {
        let p = AlsParams {
            factors,
            regularization: 100.0,
            alpha: 20.0,
            iterations: 2,
            ..AlsParams::default()
        };
        group.bench_function(format!("2_iterations_{factors}_factors"), |b| {
            b.iter(|| als::train(&r, items as usize, &p, &|_| {}));
        });
    }
    group.finish();
}

criterion_group!(training, benches);
criterion_main!(training);
