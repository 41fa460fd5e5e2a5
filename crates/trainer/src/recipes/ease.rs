//! A closed-form item-item model (EASE, Steck 2019) pruned to the top neighbours per item,
//! so it fits an edge model file: `B = I − P · diag(1 / diag P)` with `P = (XᵀX + λI)⁻¹`
//! over the binary user × item matrix `X`. Row `i` of `B` says how much having item `i`
//! predicts each other item, which is exactly how neighbour lists are scored at the edge.
//!
//! Only items with at least `min_count` users take part (the dense inverse is cubic in their
//! number); the rest get no EASE neighbours and keep their co-interaction ones.

use faer::linalg::matmul::matmul;
use faer::linalg::solvers::DenseSolveCore;
use faer::{Accum, Mat, Par, Side};

/// Row `i` of the pruned EASE matrix: up to `top` positive weights, strongest first.
pub type EaseRows = Vec<Vec<(u32, f32)>>;

/// Trains EASE on each user's distinct `seqs` items (catalogue indices below `n`).
///
/// Returns one row per catalogue item (empty for items left out), or `None` when fewer
/// than two items qualify or the system is not positive definite (λ ≤ 0).
#[must_use]
pub fn train(
    seqs: &[Vec<u32>],
    n: usize,
    lambda: f32,
    min_count: u32,
    top: usize,
) -> Option<EaseRows> {
    let mut count = vec![0u32; n];
    for seq in seqs {
        for &i in seq {
            if let Some(c) = count.get_mut(i as usize) {
                *c += 1;
            }
        }
    }
    // Dense column of every qualifying item.
    let mut column = vec![u32::MAX; n];
    let mut items: Vec<u32> = Vec::new();
    for (i, &c) in count.iter().enumerate() {
        if c >= min_count.max(1) {
            column[i] = u32::try_from(items.len()).unwrap_or(u32::MAX);
            items.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }
    let e = items.len();
    if e < 2 || lambda <= 0.0 {
        return None;
    }
    let x = Mat::<f32>::from_fn(seqs.len(), e, |_, _| 0.0);
    let mut x = x;
    for (u, seq) in seqs.iter().enumerate() {
        for &i in seq {
            if let Some(&c) = column.get(i as usize).filter(|&&c| c != u32::MAX) {
                x[(u, c as usize)] = 1.0;
            }
        }
    }
    let mut g = Mat::<f32>::zeros(e, e);
    matmul(
        g.as_mut(),
        Accum::Replace,
        x.transpose(),
        x.as_ref(),
        1.0,
        Par::rayon(0),
    );
    drop(x);
    for d in 0..e {
        g[(d, d)] += lambda;
    }
    let p = g.llt(Side::Lower).ok()?.inverse();
    drop(g);
    let rows = (0..e)
        .map(|r| {
            // B[r][c] = −P[r][c] / P[c][c] (c ≠ r).
            let mut row: Vec<(u32, f32)> = (0..e)
                .filter(|&c| c != r)
                .map(|c| (items[c], -p[(r, c)] / p[(c, c)]))
                .filter(|&(_, w)| w > 0.0 && w.is_finite())
                .collect();
            row.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            row.truncate(top);
            row
        })
        .collect::<Vec<_>>();
    let mut out: EaseRows = vec![Vec::new(); n];
    for (r, row) in rows.into_iter().enumerate() {
        out[items[r] as usize] = row;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_bought_together_predict_each_other() {
        // Users 0–3 have items 0 and 1; users 4–7 have items 2 and 3; item 4 is everywhere.
        let mut seqs = Vec::new();
        for u in 0..8u32 {
            let pair = if u < 4 { [0, 1] } else { [2, 3] };
            seqs.push(vec![pair[0], pair[1], 4]);
        }
        let rows = train(&seqs, 5, 1.0, 1, 10).expect("trained");
        assert_eq!(rows[0].first().map(|r| r.0), Some(1));
        assert_eq!(rows[3].first().map(|r| r.0), Some(2));
        assert!(
            rows[0].iter().all(|&(j, _)| j != 2 && j != 3),
            "{:?}",
            rows[0]
        );
    }

    #[test]
    fn rare_items_are_left_out_and_degenerate_input_gives_none() {
        let seqs = vec![vec![0, 1], vec![0, 1], vec![0, 2]];
        let rows = train(&seqs, 3, 0.5, 2, 10).expect("trained");
        assert!(rows[2].is_empty());
        assert_eq!(rows[0].first().map(|r| r.0), Some(1));
        assert!(train(&seqs, 3, 0.5, 3, 10).is_none());
        assert!(train(&seqs, 3, 0.0, 1, 10).is_none());
    }
}
