//! Closed-form fold-in of a user vector from weighted interactions (the ALS normal equations
//! with the model's Gram matrix), so new and anonymous users are personalised without retraining.

use std::collections::HashMap;

use super::history::Interaction;
use crate::linalg::cholesky_solve;
use crate::model::FactorModel;

/// Confidence weight per distinct item: event-type weight × recency decay, summed over repeats.
#[must_use]
pub fn weights(
    fm: &FactorModel,
    event_types: &[String],
    inter: &[Interaction<'_>],
) -> Vec<(u32, f32)> {
    let mut acc: HashMap<u32, f32> = HashMap::with_capacity(inter.len());
    let mut order = Vec::with_capacity(inter.len());
    for (rank, it) in inter.iter().enumerate() {
        let type_w = event_types
            .iter()
            .position(|t| t == it.event_type)
            .and_then(|c| fm.event_weights.get(c).copied())
            .unwrap_or(1.0);
        #[allow(clippy::cast_precision_loss)]
        let decay = if fm.recency_half_life > 0.0 {
            0.5f32.powf(rank as f32 / fm.recency_half_life)
        } else {
            1.0
        };
        let w = type_w * decay;
        if w <= 0.0 || !w.is_finite() {
            continue;
        }
        let e = acc.entry(it.item).or_insert_with(|| {
            order.push(it.item);
            0.0
        });
        *e += w;
    }
    order
        .into_iter()
        .map(|i| (i, acc.get(&i).copied().unwrap_or(0.0)))
        .collect()
}

/// Solves `(YᵀY + Σ (c−1) y yᵀ + λI) x = Σ c y` with `c = 1 + α·w`. `None` for no items
/// or a degenerate system.
#[must_use]
pub fn fold_in(fm: &FactorModel, items: &[(u32, f32)]) -> Option<Vec<f32>> {
    if items.is_empty() {
        return None;
    }
    let d = fm.dim();
    if d == 0 || fm.gram.len() != d * d {
        return None;
    }
    let mut a = fm.gram.clone();
    for k in 0..d {
        a[k * d + k] += fm.regularization.max(1e-6);
    }
    let mut b = vec![0.0f32; d];
    let mut y = vec![0.0f32; d];
    for &(i, w) in items {
        if i as usize >= fm.item_factors.rows() {
            continue;
        }
        fm.item_factors.row_into(i as usize, &mut y);
        let c = 1.0 + fm.alpha * w;
        for r in 0..d {
            b[r] += c * y[r];
            let s = (c - 1.0) * y[r];
            if s != 0.0 {
                let row = &mut a[r * d..(r + 1) * d];
                for (x, &yc) in row.iter_mut().zip(&y) {
                    *x += s * yc;
                }
            }
        }
    }
    cholesky_solve(&mut a, &mut b, d).then_some(b)
}
