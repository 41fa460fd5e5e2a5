//! Transition lists for sessions without a known user: a closed-form linear model of what
//! users go on to early in their histories, as session-aware linear item-item models (SLIT)
//! learn it. Every prefix of a history that ends within its first `prefix` positions is one
//! example: its last `span` items (the `k`-th from the end weighted `span_decay^k`) predict
//! the next `targets` items. Least squares with L2 regularisation λ,
//! `W = (XᵀX + λI)⁻¹ XᵀY`, and row `i` of `W` says how much having item `i` in a new
//! user's session predicts each other item next.
//!
//! A new user's first events follow other patterns than a long-time user's latest ones, so
//! these rows serve sessions only; known users keep their neighbour lists as they are. Like
//! EASE, only items with enough users take part, at most `max_items` of them (the solve is
//! cubic in their number), and each row is pruned to its `top` strongest weights.

use faer::Side;
use faer::linalg::solvers::Solve;
use ndarray::Array2;
use rayon::prelude::*;

use super::dense;
use super::ease::{EaseRows, by_item, strongest, taking_part};

/// The examples and the solve.
#[derive(Debug, Clone, Copy)]
pub struct TransitionParams {
    /// L2 regularisation λ.
    pub lambda: f32,
    /// Items with fewer users take no part.
    pub min_count: u32,
    /// At most this many items take part, the ones with the most users.
    pub max_items: usize,
    /// Weights kept per row.
    pub top: usize,
    /// Examples end at history positions 1 to `prefix` (the start of users' histories).
    pub prefix: usize,
    /// Items of an example's input: the last `span` before its end.
    pub span: usize,
    /// The `k`-th input item from the end weighs `span_decay^k`.
    pub span_decay: f32,
    /// Items of an example's output: the next `targets` from its end.
    pub targets: usize,
}

/// Trains the transition rows on each user's distinct `seqs` items in time order (catalogue
/// indices below `n`): one row per catalogue item, empty for items that take no part.
/// `None` when fewer than two items take part, nothing is learned or the system is not
/// positive definite (λ ≤ 0).
#[must_use]
pub fn train(seqs: &[Vec<u32>], n: usize, p: &TransitionParams) -> Option<EaseRows> {
    let (items, column) = taking_part(seqs, n, p.min_count, p.max_items);
    let e = items.len();
    if e < 2 || !(p.lambda > 0.0 && p.lambda.is_finite()) || p.span == 0 || p.targets == 0 {
        return None;
    }
    // XᵀX + λI and XᵀY, dense over the taking-part items, summed example by example.
    let mut gram = Array2::<f32>::zeros((e, e));
    let mut cross = Array2::<f32>::zeros((e, e));
    let mut learned = false;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for seq in seqs {
        let cols: Vec<usize> = seq
            .iter()
            .filter_map(|&i| column.get(i as usize).copied().filter(|&c| c != u32::MAX))
            .map(|c| c as usize)
            .collect();
        for end in 1..cols.len().min(p.prefix.saturating_add(1)) {
            x.clear();
            y.clear();
            let mut w = 1.0f32;
            for &c in cols[end.saturating_sub(p.span)..end].iter().rev() {
                x.push((c, w));
                w *= p.span_decay;
            }
            y.extend(cols[end..cols.len().min(end + p.targets)].iter().copied());
            for &(r, xr) in &x {
                let g = dense::row_mut(&mut gram, r);
                for &(c, xc) in &x {
                    g[c] += xr * xc;
                }
                let t = dense::row_mut(&mut cross, r);
                for &c in &y {
                    t[c] += xr;
                }
            }
            learned = true;
        }
    }
    if !learned {
        return None;
    }
    gram.diag_mut().mapv_inplace(|d| d + p.lambda);
    // The factorisation reads the Gram matrix in place (its own copy is the factor), and the
    // solve overwrites XᵀY with W.
    let llt = dense::faer_ref(gram.view()).llt(Side::Lower).ok()?;
    drop(gram);
    llt.solve_in_place(dense::faer_mut(cross.view_mut()));
    drop(llt);
    let w = cross;
    let rows = (0..e)
        .into_par_iter()
        .map(|r| {
            let row = dense::row(&w, r)
                .iter()
                .zip(&items)
                .enumerate()
                .filter(|&(c, _)| c != r)
                .map(|(_, (&wc, &item))| (item, wc));
            strongest(row, p.top)
        })
        .collect::<Vec<_>>();
    Some(by_item(&items, rows, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> TransitionParams {
        TransitionParams {
            lambda: 1.0,
            min_count: 1,
            max_items: 1000,
            top: 10,
            prefix: 15,
            span: 5,
            span_decay: 0.5,
            targets: 1,
        }
    }

    #[test]
    fn an_item_predicts_what_follows_it_not_what_precedes_it() {
        // Everyone goes 0 → 1 → 2; half of them also 3 → 4 afterwards.
        let seqs: Vec<Vec<u32>> = (0..10u32)
            .map(|u| {
                if u % 2 == 0 {
                    vec![0, 1, 2]
                } else {
                    vec![0, 1, 2, 3, 4]
                }
            })
            .collect();
        let rows = train(&seqs, 5, &params()).expect("trained");
        assert_eq!(rows[0].first().map(|r| r.0), Some(1), "{:?}", rows[0]);
        assert_eq!(rows[1].first().map(|r| r.0), Some(2), "{:?}", rows[1]);
        assert_eq!(rows[3].first().map(|r| r.0), Some(4), "{:?}", rows[3]);
        assert!(
            rows[2].iter().all(|&(j, _)| j != 0 && j != 1),
            "{:?}",
            rows[2]
        );
        assert!(rows[4].is_empty(), "nothing follows 4: {:?}", rows[4]);
    }

    #[test]
    fn only_prefixes_near_the_start_of_histories_are_examples() {
        // 0 → 1 happens at the start of histories, 2 → 3 only after position 3.
        let seqs: Vec<Vec<u32>> = (0..6).map(|_| vec![0, 1, 5, 6, 2, 3]).collect();
        let near = train(
            &seqs,
            7,
            &TransitionParams {
                prefix: 2,
                span: 1,
                ..params()
            },
        )
        .expect("trained");
        assert_eq!(near[0].first().map(|r| r.0), Some(1));
        assert!(near[2].is_empty(), "{:?}", near[2]);
        let whole = train(
            &seqs,
            7,
            &TransitionParams {
                prefix: 10,
                span: 1,
                ..params()
            },
        )
        .expect("trained");
        assert_eq!(whole[2].first().map(|r| r.0), Some(3));
    }

    #[test]
    fn degenerate_input_gives_none() {
        let seqs = vec![vec![0, 1], vec![0, 1]];
        assert!(train(&seqs, 2, &params()).is_some());
        let bad = [
            TransitionParams {
                lambda: 0.0,
                ..params()
            },
            TransitionParams {
                span: 0,
                ..params()
            },
            TransitionParams {
                min_count: 3,
                ..params()
            },
        ];
        for p in bad {
            assert!(train(&seqs, 2, &p).is_none(), "{p:?}");
        }
        assert!(
            train(&[vec![0], vec![1]], 2, &params()).is_none(),
            "no history has two items"
        );
    }
}
