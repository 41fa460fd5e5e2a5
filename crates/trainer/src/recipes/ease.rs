//! A closed-form item-item model (EASE, Steck 2019) pruned to the top neighbours per item,
//! so it fits an edge model file: `B = I − P · diag(1 / diag P)` with `P = (XᵀX + λI)⁻¹`
//! over the binary user × item matrix `X`. Row `i` of `B` says how much having item `i`
//! predicts each other item, which is exactly how neighbour lists are scored at the edge.
//!
//! Only items with at least `min_count` users take part, and at most `max_items` of them (the
//! most popular): the dense inverse is cubic in their number and its memory quadratic. The
//! rest get no EASE neighbours and keep their co-interaction ones. `XᵀX` is summed from each
//! user's items, so the user × item matrix is never formed densely.

use faer::Side;
use faer::linalg::solvers::DenseSolveCore;
use ndarray::Array2;
use rayon::prelude::*;

use super::dense;

/// Row `i` of the pruned EASE matrix: up to `top` positive weights, strongest first.
pub type EaseRows = Vec<Vec<(u32, f32)>>;

/// Which items take part and how the solve is regularised.
#[derive(Debug, Clone, Copy)]
pub struct EaseParams {
    /// L2 regularisation λ.
    pub lambda: f32,
    /// Items with fewer users take no part.
    pub min_count: u32,
    /// At most this many items take part, the ones with the most users (the dense solve is
    /// cubic in their number and quadratic in memory: 5,000 items take about 200 MB).
    pub max_items: usize,
    /// Weights kept per row.
    pub top: usize,
}

/// Trains EASE on each user's distinct `seqs` items (catalogue indices below `n`).
///
/// Returns one row per catalogue item (empty for items left out), or `None` when fewer
/// than two items qualify or the system is not positive definite (λ ≤ 0).
#[must_use]
pub fn train(seqs: &[Vec<u32>], n: usize, p: &EaseParams) -> Option<EaseRows> {
    let (items, column) = taking_part(seqs, n, p.min_count, p.max_items);
    let e = items.len();
    if e < 2 || p.lambda <= 0.0 {
        return None;
    }
    // Each user's columns.
    let columns: Vec<Vec<u32>> = seqs
        .iter()
        .map(|seq| {
            let mut cs: Vec<u32> = seq
                .iter()
                .filter_map(|&i| column.get(i as usize).copied().filter(|&c| c != u32::MAX))
                .collect();
            cs.sort_unstable();
            cs.dedup();
            cs
        })
        .collect();
    let mut users_of: Vec<Vec<u32>> = vec![Vec::new(); e];
    for (u, cs) in columns.iter().enumerate() {
        for &c in cs {
            users_of[c as usize].push(u32::try_from(u).unwrap_or(u32::MAX));
        }
    }
    // Gram matrix XᵀX + λI from the users' item sets (X is never formed densely).
    let mut gram = Array2::<f32>::zeros((e, e));
    dense::rows_mut(&mut gram)
        .par_chunks_mut(e)
        .enumerate()
        .for_each(|(r, row)| {
            for &u in &users_of[r] {
                for &c in columns.get(u as usize).map_or(&[][..], Vec::as_slice) {
                    row[c as usize] += 1.0;
                }
            }
            row[r] += p.lambda;
        });
    drop(users_of);
    // The factorisation reads the Gram matrix in place (its own copy is the factor).
    let inverse = dense::faer_ref(gram.view())
        .llt(Side::Lower)
        .ok()?
        .inverse();
    drop(gram);
    let rows = (0..e)
        .into_par_iter()
        .map(|r| {
            // B[r][c] = −P[r][c] / P[c][c] (c ≠ r).
            let row = (0..e)
                .filter(|&c| c != r)
                .map(|c| (items[c], -inverse[(r, c)] / inverse[(c, c)]));
            strongest(row, p.top)
        })
        .collect::<Vec<_>>();
    Some(by_item(&items, rows, n))
}

/// The items that take part in a closed-form model: those in at least `min_count` of `seqs`,
/// at most `max_items` of them (the most popular; ties: lower index), ascending; and each
/// catalogue item's column among them (`u32::MAX` for the rest).
pub(super) fn taking_part(
    seqs: &[Vec<u32>],
    n: usize,
    min_count: u32,
    max_items: usize,
) -> (Vec<u32>, Vec<u32>) {
    let mut count = vec![0u32; n];
    for seq in seqs {
        for &i in seq {
            if let Some(c) = count.get_mut(i as usize) {
                *c += 1;
            }
        }
    }
    let mut items: Vec<u32> = (0..n)
        .filter(|&i| count[i] >= min_count.max(1))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    let by_users = |a: &u32, b: &u32| count[*b as usize].cmp(&count[*a as usize]).then(a.cmp(b));
    if items.len() > max_items && max_items > 0 {
        items.select_nth_unstable_by(max_items - 1, by_users);
        items.truncate(max_items);
    }
    items.sort_unstable();
    let mut column = vec![u32::MAX; n];
    for (c, &i) in items.iter().enumerate() {
        column[i as usize] = u32::try_from(c).unwrap_or(u32::MAX);
    }
    (items, column)
}

/// The `top` strongest positive finite weights of a row, strongest first (ties: lower item).
pub(super) fn strongest(row: impl Iterator<Item = (u32, f32)>, top: usize) -> Vec<(u32, f32)> {
    let mut row: Vec<(u32, f32)> = row.filter(|&(_, w)| w > 0.0 && w.is_finite()).collect();
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if row.len() > top && top > 0 {
        row.select_nth_unstable_by(top - 1, order);
    }
    row.truncate(top);
    row.sort_by(order);
    row
}

/// Rows of the taking-part `items` (in their order) as one row per catalogue item of `n`
/// (empty for the rest).
pub(super) fn by_item(items: &[u32], rows: Vec<Vec<(u32, f32)>>, n: usize) -> EaseRows {
    let mut out: EaseRows = vec![Vec::new(); n];
    for (&i, row) in items.iter().zip(rows) {
        if let Some(slot) = out.get_mut(i as usize) {
            *slot = row;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(lambda: f32, min_count: u32) -> EaseParams {
        EaseParams {
            lambda,
            min_count,
            max_items: 1000,
            top: 10,
        }
    }

    #[test]
    fn items_bought_together_predict_each_other() {
        // Users 0–3 have items 0 and 1; users 4–7 have items 2 and 3; item 4 is everywhere.
        let mut seqs = Vec::new();
        for u in 0..8u32 {
            let pair = if u < 4 { [0, 1] } else { [2, 3] };
            seqs.push(vec![pair[0], pair[1], 4]);
        }
        let rows = train(&seqs, 5, &params(1.0, 1)).expect("trained");
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
        let rows = train(&seqs, 3, &params(0.5, 2)).expect("trained");
        assert!(rows[2].is_empty());
        assert_eq!(rows[0].first().map(|r| r.0), Some(1));
        assert!(train(&seqs, 3, &params(0.5, 3)).is_none());
        assert!(train(&seqs, 3, &params(0.0, 1)).is_none());
    }

    #[test]
    fn at_most_max_items_take_part_the_most_popular_ones() {
        // Item k is in the histories of users 0..=k+1: higher items are more popular.
        let seqs: Vec<Vec<u32>> = (0..6u32)
            .map(|u| (0..5u32).filter(|&k| u <= k + 1).collect())
            .collect();
        let all = train(&seqs, 5, &params(1.0, 1)).expect("trained");
        assert!(all.iter().all(|r| !r.is_empty()), "{all:?}");
        let capped = train(
            &seqs,
            5,
            &EaseParams {
                max_items: 3,
                ..params(1.0, 1)
            },
        )
        .expect("trained");
        let taking_part: Vec<usize> = (0..5).filter(|&i| !capped[i].is_empty()).collect();
        assert_eq!(taking_part, [2, 3, 4]);
        assert!(capped.iter().flatten().all(|&(j, _)| j >= 2), "{capped:?}");
    }
}
