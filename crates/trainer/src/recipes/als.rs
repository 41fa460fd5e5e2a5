//! Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky),
//! with the conjugate-gradient inner solver (Takács et al.), run for all rows of a side in
//! lockstep so that its dense part is one faer matrix product per step. Deterministic for a
//! seed and thread count: each row's sparse part and update are its own.

use faer::linalg::matmul::matmul;
use faer::{Accum, Par};
use ndarray::{Array2, ArrayView1, ArrayView2};
use pulp::Arch;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::als_rows::{Row, axpy, dot};
use super::dense;

/// Hyperparameters of `user-personalization` / `personalized-ranking`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlsParams {
    pub factors: usize,
    pub regularization: f32,
    /// Confidence of an interaction with weight `w`: `1 + alpha · w`.
    pub alpha: f32,
    pub iterations: usize,
    /// Conjugate-gradient steps per row and iteration.
    pub cg_steps: usize,
    pub seed: u64,
    /// Recency half-life (in events) for session fold-in at the edge; 0 = none.
    pub recency_half_life: f32,
    /// Iterations of an update (`--mode update`), warm-started from the previous model.
    pub update_iterations: usize,
    /// Over-relaxation of an update's iterations: each side moves `update_relaxation` times
    /// the step a plain iteration would take (1 = plain ALS). Starting from the previous
    /// model, plain iterations take the new data in slowly.
    pub update_relaxation: f32,
    /// Strength of the learned context (the interactions' categorical context columns, used by
    /// a request's `context`); 0 = not learned. See [`super::context`].
    pub context_weight: f32,
    /// Pseudo-count shrinking each item's context lift towards none.
    pub context_shrinkage: f32,
    /// Ridge penalty of the context fit, relative to the mean diagonal of the item Gram matrix.
    pub context_ridge: f32,
}

impl Default for AlsParams {
    fn default() -> Self {
        AlsParams {
            factors: 64,
            regularization: 10.0,
            alpha: 5.0,
            iterations: 15,
            cg_steps: 3,
            seed: 42,
            recency_half_life: 0.0,
            update_iterations: 2,
            update_relaxation: 1.8,
            context_weight: 0.25,
            context_shrinkage: 10.0,
            context_ridge: 0.05,
        }
    }
}

/// A sparse matrix in CSR form: row `r` has `(idx, val)[off[r]..off[r+1]]`.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    pub off: Vec<usize>,
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl Csr {
    #[must_use]
    pub fn rows(&self) -> usize {
        self.off.len().saturating_sub(1)
    }

    /// The transpose, with `cols` columns.
    #[must_use]
    pub fn transpose(&self, cols: usize) -> Csr {
        let mut counts = vec![0usize; cols + 1];
        for &j in &self.idx {
            counts[j as usize + 1] += 1;
        }
        for k in 1..counts.len() {
            counts[k] += counts[k - 1];
        }
        let mut fill = counts.clone();
        let mut idx = vec![0u32; self.idx.len()];
        let mut val = vec![0f32; self.val.len()];
        for r in 0..self.rows() {
            for k in self.off[r]..self.off[r + 1] {
                let j = self.idx[k] as usize;
                idx[fill[j]] = u32::try_from(r).unwrap_or(u32::MAX);
                val[fill[j]] = self.val[k];
                fill[j] += 1;
            }
        }
        Csr {
            off: counts,
            idx,
            val,
        }
    }
}

/// Trained factors: one row per user and per item, `dim` columns.
#[derive(Debug, Clone)]
pub struct Factors {
    pub users: Array2<f32>,
    pub items: Array2<f32>,
}

impl Factors {
    /// The number of factors.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.items.ncols()
    }
}

/// Trains on the user × item weight matrix `r` (weights are interaction strengths).
/// `progress(iteration)` is called after each iteration.
#[must_use]
pub fn train(r: &Csr, n_items: usize, p: &AlsParams, progress: &(dyn Fn(usize) + Sync)) -> Factors {
    let k = p.factors.max(1);
    let rt = r.transpose(n_items);
    let users = init(r.rows(), k, p.seed);
    let items = init(n_items, k, p.seed ^ 0x5eed);
    alternate(users, items, r, &rt, p, p.iterations, 1.0, progress)
}

/// `iterations` rounds of solving the users, then the items; `rt` is `r` transposed. With
/// `relaxation` ω ≠ 1 each side moves to `old + ω · (solved − old)`.
#[allow(clippy::too_many_arguments)]
fn alternate(
    mut users: Array2<f32>,
    mut items: Array2<f32>,
    r: &Csr,
    rt: &Csr,
    p: &AlsParams,
    iterations: usize,
    relaxation: f32,
    progress: &(dyn Fn(usize) + Sync),
) -> Factors {
    let step = |x: &mut Array2<f32>, y: &Array2<f32>, r: &Csr| {
        if (relaxation - 1.0).abs() < f32::EPSILON || !relaxation.is_finite() {
            solve_side(x, y, r, p);
            return;
        }
        let old = x.clone();
        solve_side(x, y, r, p);
        dense::rows_mut(x)
            .par_iter_mut()
            .zip(dense::rows(&old))
            .for_each(|(v, o)| *v = o + relaxation * (*v - o));
    };
    for it in 0..iterations {
        step(&mut users, &items, r);
        step(&mut items, &users, rt);
        progress(it + 1);
    }
    Factors { users, items }
}

/// Factors of a previous model to start from: rows of the new matrices, `None` for rows
/// the previous model did not have (they start from the usual random initialisation).
#[derive(Debug)]
pub struct WarmStart {
    pub users: Vec<Option<Vec<f32>>>,
    pub items: Vec<Option<Vec<f32>>>,
}

/// An update: `p.update_iterations` ALS iterations starting from `warm` (users solved first,
/// against the previous item factors).
#[must_use]
pub fn train_warm(
    r: &Csr,
    n_items: usize,
    p: &AlsParams,
    warm: &WarmStart,
    progress: &(dyn Fn(usize) + Sync),
) -> Factors {
    let k = p.factors.max(1);
    let rt = r.transpose(n_items);
    let seed = |rows: &[Option<Vec<f32>>], seed: u64| {
        let mut m = init(rows.len(), k, seed);
        for (mut row, prev) in m.rows_mut().into_iter().zip(rows) {
            if let Some(v) = prev.as_ref().filter(|v| v.len() == k) {
                row.assign(&ArrayView1::from(v.as_slice()));
            }
        }
        m
    };
    let users = seed(&warm.users, p.seed);
    let items = seed(&warm.items, p.seed ^ 0x5eed);
    alternate(
        users,
        items,
        r,
        &rt,
        p,
        p.update_iterations.max(1),
        p.update_relaxation,
        progress,
    )
}

/// `Yᵀ Y` of an `n × k` matrix.
#[must_use]
pub fn gram(y: ArrayView2<'_, f32>) -> Array2<f32> {
    let k = y.ncols();
    let ym = dense::faer_ref(y);
    let mut g = Array2::<f32>::zeros((k, k));
    matmul(
        dense::faer_mut(g.view_mut()),
        Accum::Replace,
        ym.transpose(),
        ym,
        1.0,
        Par::rayon(0),
    );
    g
}

/// `rows × k` small random values (row-major order of the seed's sequence).
fn init(rows: usize, k: usize, seed: u64) -> Array2<f32> {
    let mut state = seed;
    #[allow(clippy::cast_precision_loss)]
    let scale = 0.1 / (k as f32).sqrt();
    Array2::from_shape_fn((rows, k), |_| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        #[allow(clippy::cast_precision_loss)]
        let u = (z >> 40) as f32 / (1u64 << 24) as f32;
        (u - 0.5) * 2.0 * scale
    })
}

/// Solves every row of `x` given the fixed factors `y`: `cg_steps` conjugate-gradient steps
/// per row, warm-started from the row's current value. The rows run in lockstep so that the
/// dense part of every step, `P · (YᵀY + λI)` for all rows at once, is one matrix product;
/// each row's sparse part and update are its own (a row stops when its residual vanishes
/// or its curvature is not positive).
fn solve_side(x: &mut Array2<f32>, y: &Array2<f32>, r: &Csr, p: &AlsParams) {
    let (n, k) = x.dim();
    if n == 0 {
        return;
    }
    let mut g = gram(y.view());
    g.diag_mut().mapv_inplace(|d| d + p.regularization);
    let product = |m: &Array2<f32>, out: &mut Array2<f32>| {
        let (lhs, rhs) = (dense::faer_ref(m.view()), dense::faer_ref(g.view()));
        let dst = dense::faer_mut(out.view_mut());
        matmul(dst, Accum::Replace, lhs, rhs, 1.0, Par::rayon(0));
    };
    // r = b − A x with A = G + Σ αw y yᵀ and b = Σ (1 + αw) y; then p = r.
    let mut ap = Array2::<f32>::zeros((n, k));
    product(x, &mut ap);
    let mut res = Array2::<f32>::zeros((n, k));
    let mut rs = vec![0f32; n];
    let y = dense::rows(y);
    let arch = Arch::new();
    let row = |u: usize| {
        let (a, b) = (r.off[u], r.off[u + 1]);
        Row {
            y,
            k,
            idx: &r.idx[a..b],
            val: &r.val[a..b],
        }
    };
    dense::rows_mut(&mut res)
        .par_chunks_mut(k)
        .zip(dense::rows(x).par_chunks(k))
        .zip(dense::rows(&ap).par_chunks(k))
        .zip(rs.par_iter_mut())
        .enumerate()
        .for_each(|(u, (((ru, xu), du), rsu))| {
            for (a, &b) in ru.iter_mut().zip(du) {
                *a = -b;
            }
            row(u).accumulate(arch, xu, ru, |w, d| {
                let c = p.alpha * w;
                (1.0 + c) - c * d
            });
            *rsu = dot(ru, ru);
        });
    let mut dir = res.clone();
    let mut done: Vec<bool> = rs.iter().map(|&v| v < 1e-20).collect();
    for _ in 0..p.cg_steps {
        if done.iter().all(|&d| d) {
            break;
        }
        product(&dir, &mut ap);
        dense::rows_mut(x)
            .par_chunks_mut(k)
            .zip(dense::rows_mut(&mut res).par_chunks_mut(k))
            .zip(dense::rows_mut(&mut dir).par_chunks_mut(k))
            .zip(dense::rows_mut(&mut ap).par_chunks_mut(k))
            .zip(rs.par_iter_mut().zip(done.par_iter_mut()))
            .enumerate()
            .for_each(|(u, ((((xu, ru), pu), apu), (rsu, doneu)))| {
                if *doneu {
                    return;
                }
                row(u).accumulate(arch, pu, apu, |w, d| p.alpha * w * d);
                let pap = dot(pu, apu);
                if pap <= 0.0 || !pap.is_finite() {
                    *doneu = true;
                    return;
                }
                let step = *rsu / pap;
                axpy(step, pu, xu);
                axpy(-step, apu, ru);
                let rs_new = dot(ru, ru);
                let beta = rs_new / *rsu;
                for (pv, &rv) in pu.iter_mut().zip(ru.iter()) {
                    *pv = rv + beta * *pv;
                }
                *rsu = rs_new;
                if rs_new < 1e-20 {
                    *doneu = true;
                }
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two disjoint user groups with disjoint item sets: each user's top items must come
    /// from their own group.
    #[test]
    fn separates_two_communities() {
        let mut off = vec![0];
        let (mut idx, mut val) = (Vec::new(), Vec::new());
        for u in 0..20u32 {
            let base = if u < 10 { 0 } else { 10 };
            for j in 0..10u32 {
                if (u + j) % 3 != 0 {
                    idx.push(base + j);
                    val.push(1.0);
                }
            }
            off.push(idx.len());
        }
        let r = Csr { off, idx, val };
        let p = AlsParams {
            factors: 8,
            regularization: 0.1,
            alpha: 10.0,
            iterations: 10,
            ..AlsParams::default()
        };
        let f = train(&r, 20, &p, &|_| {});
        for u in 0..20 {
            let xu = f.users.row(u);
            let score = |i: usize| xu.dot(&f.items.row(i));
            let own: f32 = (0..10)
                .map(|j| score(if u < 10 { j } else { 10 + j }))
                .sum();
            let other: f32 = (0..10)
                .map(|j| score(if u < 10 { 10 + j } else { j }))
                .sum();
            assert!(own > other + 1.0, "user {u}: own {own} other {other}");
        }
    }

    #[test]
    fn deterministic_for_a_seed() {
        let r = Csr {
            off: vec![0, 2, 3],
            idx: vec![0, 1, 1],
            val: vec![1.0, 1.0, 1.0],
        };
        let p = AlsParams {
            factors: 4,
            iterations: 3,
            ..AlsParams::default()
        };
        let a = train(&r, 2, &p, &|_| {});
        let b = train(&r, 2, &p, &|_| {});
        assert_eq!(a.items, b.items);
        assert_eq!(a.users, b.users);
    }
}
