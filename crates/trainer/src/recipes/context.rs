//! Context for `user-personalization` / `personalized-ranking`: what the interactions'
//! categorical context columns (`DEVICE`, time of day, location, ...) say about items.
//!
//! For each column and value `v`, the item's shrunk log-lift under `v`,
//!
//! ```text
//! y_iv = ln( ((n_iv + β·P(v)) / (n_i + β)) / P(v) )
//! ```
//!
//! (`n_iv` interactions of item `i` under `v`, `n_i` of item `i` with the column set, `P(v)` the
//! value's share), is fitted by weighted ridge regression on the item factors:
//! `c_v = argmin Σ_i w_i (c·x_i − y_iv)² + λ‖c‖²` with `w_i = n_i / (n_i + β)`. A request with
//! context `v` adds `weight · c_v` to the user's vector, so every item's score moves by
//! `weight` times a smoothed, low-rank version of its log-lift, at no per-item serving cost.

use edgerec_core::ContextModel;
use edgerec_core::model::ContextColumn;
use ndarray::{Array2, ArrayView2};

use super::{TrainingMatrix, dense};
use crate::dataset::Dataset;

/// Values kept per context column (the most frequent ones).
pub const MAX_VALUES: usize = 64;

/// How the context vectors are fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ContextParams {
    /// Scale of the stored vectors (0 = no context learned).
    pub weight: f32,
    /// Pseudo-count shrinking each item's lift towards none.
    pub shrinkage: f32,
    /// Ridge penalty relative to the mean diagonal of the weighted item Gram matrix.
    pub ridge: f32,
    /// Values used by fewer distinct users are left out (the k-anonymity floor, see
    /// [`crate::privacy::floor`]; 0 or 1 keeps every value).
    pub min_users: u32,
}

impl ContextParams {
    #[must_use]
    pub fn from_als(p: &super::als::AlsParams) -> Self {
        ContextParams {
            weight: p.context_weight,
            shrinkage: p.context_shrinkage,
            ridge: p.context_ridge,
            min_users: 0,
        }
    }
}

/// Learns the context vectors of every context column of `ds` with at least two values, on
/// the interactions `keep` accepts; `None` when there is nothing to learn or `weight` is 0.
#[must_use]
pub fn train(
    ds: &Dataset,
    m: &TrainingMatrix,
    item_factors: ArrayView2<'_, f32>,
    p: &ContextParams,
    keep: impl Fn(u16) -> bool,
) -> Option<ContextModel> {
    let dim = item_factors.ncols();
    if p.weight == 0.0 || dim == 0 {
        return None;
    }
    let shrinkage = f64::from(p.shrinkage.max(0.0));
    let it = &ds.interactions;
    let n_items = m.n_items();
    let mut columns = Vec::new();
    for col in &it.context {
        // rows of catalogue items the recommender trains on, with the column set
        let rows: Vec<(usize, usize, u32)> = col
            .codes
            .iter()
            .enumerate()
            .filter(|&(r, &code)| {
                code != u32::MAX && keep(it.event_type.get(r).copied().unwrap_or(0))
            })
            .filter_map(|(r, &code)| {
                let item = *m.item_pos.get(*it.item.get(r)? as usize)?;
                (item != u32::MAX).then_some((r, item as usize, code))
            })
            .collect();
        let mut freq = vec![0usize; col.dictionary.len()];
        let mut users: Vec<(u32, u32)> = Vec::with_capacity(rows.len());
        for &(r, _, code) in &rows {
            if let Some(f) = freq.get_mut(code as usize) {
                *f += 1;
            }
            users.extend(it.user.get(r).map(|&u| (code, u)));
        }
        // Distinct users per value: a value fewer than `min_users` people used is left out.
        users.sort_unstable();
        users.dedup();
        let mut distinct = vec![0u32; col.dictionary.len()];
        for &(code, _) in &users {
            if let Some(d) = distinct.get_mut(code as usize) {
                *d += 1;
            }
        }
        let mut values: Vec<usize> = (0..freq.len())
            .filter(|&v| freq[v] > 0 && distinct[v] >= p.min_users)
            .collect();
        values.sort_by_key(|&v| (std::cmp::Reverse(freq[v]), v));
        values.truncate(MAX_VALUES);
        if values.len() < 2 {
            continue;
        }
        let slot: std::collections::HashMap<usize, usize> =
            values.iter().enumerate().map(|(s, &v)| (v, s)).collect();
        let nv = values.len();
        // Each user's own mix of values: the expected count of an item under a value is what
        // its users' mixes predict, so that who uses a value (older users on desktops) is not
        // mistaken for what the value makes people choose.
        let mut user_mix: std::collections::HashMap<u32, Vec<f64>> =
            std::collections::HashMap::new();
        for &(r, _, code) in &rows {
            if let (Some(&u), Some(&s)) = (it.user.get(r), slot.get(&(code as usize))) {
                user_mix.entry(u).or_insert_with(|| vec![0.0; nv])[s] += 1.0;
            }
        }
        for mix in user_mix.values_mut() {
            let t: f64 = mix.iter().sum();
            mix.iter_mut().for_each(|x| *x /= t.max(1.0));
        }
        let mut n_i = vec![0f64; n_items];
        // Interactions under each value (rows) with each item (columns), observed and expected.
        let mut observed = Array2::<f64>::zeros((nv, n_items));
        let mut expected = Array2::<f64>::zeros((nv, n_items));
        for &(r, item, code) in &rows {
            let (Some(&s), Some(mix)) = (
                slot.get(&(code as usize)),
                it.user.get(r).and_then(|u| user_mix.get(u)),
            ) else {
                continue;
            };
            n_i[item] += 1.0;
            observed[(s, item)] += 1.0;
            for (v, p) in mix.iter().enumerate() {
                expected[(v, item)] += p;
            }
        }
        let mut vectors = Vec::with_capacity(nv * dim);
        for s in 0..nv {
            let (observed, expected) = (dense::row(&observed, s), dense::row(&expected, s));
            let targets = (0..n_items).filter(|&i| n_i[i] > 0.0).map(|i| {
                let (o, e) = (observed[i], expected[i]);
                let lift = (o + shrinkage) / (e + shrinkage).max(1e-9);
                (
                    i,
                    n_i[i] / (n_i[i] + shrinkage).max(1e-9),
                    lift.max(1e-9).ln(),
                )
            });
            let c = ridge(item_factors, f64::from(p.ridge), targets);
            #[allow(clippy::cast_possible_truncation)]
            vectors.extend(c.iter().map(|&x| (f64::from(p.weight) * x) as f32));
        }
        columns.push(ContextColumn {
            name: col.name.clone(),
            values: values.iter().map(|&v| col.dictionary[v].clone()).collect(),
            vectors,
        });
    }
    (!columns.is_empty()).then_some(ContextModel { columns })
}

/// Weighted ridge regression of targets `(item, weight, y)` on the item factors.
fn ridge(
    factors: ArrayView2<'_, f32>,
    ridge: f64,
    targets: impl Iterator<Item = (usize, f64, f64)>,
) -> Vec<f64> {
    let dim = factors.ncols();
    let mut a = Array2::<f64>::zeros((dim, dim));
    let mut b = vec![0f64; dim];
    for (i, w, y) in targets {
        if i >= factors.nrows() {
            continue;
        }
        let x = factors.row(i);
        for r in 0..dim {
            let wx = w * f64::from(x[r]);
            b[r] += wx * y;
            for c in 0..dim {
                a[(r, c)] += wx * f64::from(x[c]);
            }
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let mean_diag = (0..dim).map(|r| a[(r, r)]).sum::<f64>() / dim as f64;
    let lambda = ridge.max(1e-6) * mean_diag.max(1e-12);
    a.diag_mut().mapv_inplace(|d| d + lambda);
    if solve(&mut a, &mut b) {
        b
    } else {
        vec![0.0; dim]
    }
}

/// Solves `a x = b` in place for a symmetric positive definite `a` (Cholesky); false when `a`
/// is not positive definite.
fn solve(a: &mut Array2<f64>, b: &mut [f64]) -> bool {
    let n = a.nrows().min(b.len());
    for j in 0..n {
        let mut d = a[(j, j)];
        for k in 0..j {
            d -= a[(j, k)] * a[(j, k)];
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[(j, j)] = d;
        for i in j + 1..n {
            let mut s = a[(i, j)];
            for k in 0..j {
                s -= a[(i, k)] * a[(j, k)];
            }
            a[(i, j)] = s / d;
        }
    }
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[(i, k)] * b[k];
        }
        b[i] = s / a[(i, i)];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[(k, i)] * b[k];
        }
        b[i] = s / a[(i, i)];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ContextColumn as DataColumn, Interactions};
    use crate::recipes::CatalogScope;

    /// Items 0–1 along axis 0, items 2–3 along axis 1; "mobile" users view items 0–1 more,
    /// "desktop" users items 2–3.
    fn dataset() -> Dataset {
        let mut it = Interactions::default();
        let mut codes = Vec::new();
        for u in 0..40u32 {
            for k in 0..10u32 {
                let mobile = k % 2 == 0;
                let item = if (k + u) % 5 == 0 {
                    // a few views against the trend
                    if mobile { 2 + u % 2 } else { u % 2 }
                } else if mobile {
                    u % 2
                } else {
                    2 + u % 2
                };
                it.user.push(u);
                it.item.push(item);
                it.timestamp.push(i64::from(u * 100 + k));
                it.event_type.push(0);
                it.event_value.push(f32::NAN);
                codes.push(u32::from(!mobile));
            }
        }
        it.context.push(DataColumn {
            name: "DEVICE".into(),
            dictionary: vec!["mobile".into(), "desktop".into()],
            codes,
        });
        Dataset {
            name: "t".into(),
            user_ids: (0..40).map(|u| format!("u{u}")).collect(),
            item_ids: (0..4).map(|i| format!("i{i}")).collect(),
            event_types: vec!["view".into()],
            interactions: it,
            ..Dataset::default()
        }
    }

    #[test]
    fn context_vectors_point_to_the_items_the_value_favours() {
        let ds = dataset();
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let factors = ndarray::arr2(&[[1.0f32, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]]);
        let p = ContextParams::from_als(&crate::recipes::als::AlsParams::default());
        let cm = train(&ds, &m, factors.view(), &p, |_| true).unwrap();
        assert_eq!(cm.columns.len(), 1);
        let col = &cm.columns[0];
        assert_eq!(col.name, "DEVICE");
        assert_eq!(col.values.len(), 2);
        let vec_of = |v: &str| {
            let s = col.values.iter().position(|x| x == v).unwrap();
            col.vectors[s * 2..s * 2 + 2].to_vec()
        };
        let (mobile, desktop) = (vec_of("mobile"), vec_of("desktop"));
        assert!(mobile[0] > 0.0 && mobile[1] < 0.0, "{mobile:?}");
        assert!(desktop[0] < 0.0 && desktop[1] > 0.0, "{desktop:?}");
        let off = ContextParams { weight: 0.0, ..p };
        assert!(train(&ds, &m, factors.view(), &off, |_| true).is_none());
    }

    #[test]
    fn a_column_with_one_value_teaches_nothing() {
        let mut ds = dataset();
        ds.interactions.context[0].codes.fill(0);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = ContextParams::from_als(&crate::recipes::als::AlsParams::default());
        assert!(train(&ds, &m, Array2::ones((4, 2)).view(), &p, |_| true).is_none());
    }
}
