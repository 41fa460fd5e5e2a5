//! Int8 against f32 embeddings on split A, paired user by user.
//!
//! Training is deterministic, so the two models hold the same trained factors stored two ways
//! and their difference is the quantisation alone. With one held-out item per user, a single
//! item crossing rank 10 moves NDCG@10 by `1/log2(11)/users` (on a few hundred test users about
//! 1 %), so the report gives the paired standard error of the difference and counts the
//! held-out items that left or entered the top 10 next to the two means.

use edgerec_core::Engine;
use rayon::prelude::*;
use serde::Serialize;

use super::error::EvalError;
use super::protocol::WarmSplit;
use super::requests::{ids, request};

/// One recommender's split-A NDCG@10 with int8 and with f32 embeddings.
#[derive(Debug, Clone, Serialize)]
pub struct EmbeddingGap {
    pub name: String,
    pub users: usize,
    pub ndcg_at_10_int8: f64,
    pub ndcg_at_10_f32: f64,
    /// Mean over users of (int8 − f32) NDCG@10.
    pub difference: f64,
    /// Standard error of that mean (paired over users).
    pub difference_se: f64,
    /// Held-out items in the f32 top 10 and not in the int8 top 10.
    pub left_top_10: usize,
    /// Held-out items in the int8 top 10 and not in the f32 top 10.
    pub entered_top_10: usize,
    /// Held-out items in both top 10s at different positions.
    pub moved_in_top_10: usize,
    /// Mean share of the f32 top 10 that the int8 top 10 also holds, over all test users:
    /// how closely the two lists agree, with no dependence on where the held-out item is.
    pub top_10_overlap: f64,
}

/// One test user's NDCG@10 and 0-based top-10 position of the held-out item (`None` outside).
type Hit = (f64, Option<usize>);

/// One test user on both sides, and the share of the f32 top 10 the int8 top 10 holds.
#[derive(Debug, Clone, Copy)]
struct Pair {
    int8: Hit,
    f32: Hit,
    overlap: f64,
}

/// NDCG@10 of one split-A case: `1/log2(position + 1)` if `item` is in the top 10, else 0.
fn gain(list: &[String], item: &str) -> Hit {
    match list.iter().take(10).position(|x| x == item) {
        #[allow(clippy::cast_precision_loss)]
        Some(p) => (1.0 / ((p + 2) as f64).log2(), Some(p)),
        None => (0.0, None),
    }
}

/// Share of `reference`'s first 10 items that `list`'s first 10 also hold (1 when both are
/// empty).
fn overlap(list: &[String], reference: &[String]) -> f64 {
    let reference = &reference[..reference.len().min(10)];
    if reference.is_empty() {
        return 1.0;
    }
    let shared = reference
        .iter()
        .filter(|x| list.iter().take(10).any(|y| y == *x))
        .count();
    #[allow(clippy::cast_precision_loss)]
    let share = shared as f64 / reference.len() as f64;
    share
}

/// Scores split A for each of `names` on both engines and pairs the results per test user.
/// Other pairs of models are compared the same way (an update against a full retrain): the
/// first engine takes the `int8` side.
pub fn compare(
    int8: &Engine,
    f32: &Engine,
    split: &WarmSplit,
    names: &[&str],
) -> Result<Vec<EmbeddingGap>, EvalError> {
    let mut out = Vec::new();
    for &name in names {
        let pairs: Vec<Pair> = split
            .test
            .par_iter()
            .map(|case| {
                let req = request(name, &case.user, 10);
                let (a, b) = (ids(int8, &req)?, ids(f32, &req)?);
                Ok(Pair {
                    int8: gain(&a, &case.item),
                    f32: gain(&b, &case.item),
                    overlap: overlap(&a, &b),
                })
            })
            .collect::<Result<_, EvalError>>()?;
        out.push(summarise(name, &pairs));
    }
    Ok(out)
}

/// The paired summary of per-user int8 and f32 gains, top-10 positions and agreement.
#[allow(clippy::cast_precision_loss)]
fn summarise(name: &str, pairs: &[Pair]) -> EmbeddingGap {
    let n = pairs.len();
    let mean = |f: &dyn Fn(&Pair) -> f64| {
        if n == 0 {
            0.0
        } else {
            pairs.iter().map(f).sum::<f64>() / n as f64
        }
    };
    let difference = mean(&|p| p.int8.0 - p.f32.0);
    let difference_se = if n < 2 {
        0.0
    } else {
        let ss: f64 = pairs
            .iter()
            .map(|p| (p.int8.0 - p.f32.0 - difference).powi(2))
            .sum();
        (ss / (n - 1) as f64).sqrt() / (n as f64).sqrt()
    };
    let count = |f: &dyn Fn(Option<usize>, Option<usize>) -> bool| {
        pairs.iter().filter(|p| f(p.int8.1, p.f32.1)).count()
    };
    EmbeddingGap {
        name: name.to_owned(),
        users: n,
        ndcg_at_10_int8: mean(&|p| p.int8.0),
        ndcg_at_10_f32: mean(&|p| p.f32.0),
        difference,
        difference_se,
        left_top_10: count(&|a, b| a.is_none() && b.is_some()),
        entered_top_10: count(&|a, b| a.is_some() && b.is_none()),
        moved_in_top_10: count(&|a, b| a.is_some() && b.is_some() && a != b),
        top_10_overlap: if n == 0 { 1.0 } else { mean(&|p| p.overlap) },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_gains_and_counts_top_10_crossings() {
        let list = |ids: &[&str]| -> Vec<String> { ids.iter().map(|s| (*s).to_owned()).collect() };
        let eleven: Vec<String> = (0..11).map(|k| format!("i{k}")).collect();
        assert_eq!(gain(&list(&["a", "x"]), "x"), (1.0 / 3f64.log2(), Some(1)));
        assert_eq!(gain(&eleven, "i10"), (0.0, None));
        assert!((overlap(&eleven[1..], &eleven) - 0.9).abs() < 1e-12);
        assert!((overlap(&list(&["b", "a"]), &list(&["a", "b", "c", "d"])) - 0.5).abs() < 1e-12);
        assert!((overlap(&list(&[]), &list(&[])) - 1.0).abs() < 1e-12);
        let pair = |int8, f32| Pair {
            int8,
            f32,
            overlap: 1.0,
        };
        let pairs = [
            // Left the top 10 under int8 (f32 had it 10th).
            pair(gain(&eleven, "i10"), gain(&eleven, "i9")),
            // First in both.
            pair(gain(&eleven, "i0"), gain(&eleven, "i0")),
            // Moved from 2nd to 3rd.
            pair(gain(&eleven, "i2"), gain(&eleven, "i1")),
        ];
        let g = summarise("up", &pairs);
        assert_eq!(g.users, 3);
        assert_eq!(
            (g.left_top_10, g.entered_top_10, g.moved_in_top_10),
            (1, 0, 1)
        );
        let d = [-1.0 / 11f64.log2(), 0.0, 0.5 - 1.0 / 3f64.log2()];
        assert!((g.difference - d.iter().sum::<f64>() / 3.0).abs() < 1e-12);
        assert!((g.ndcg_at_10_int8 - g.ndcg_at_10_f32 - g.difference).abs() < 1e-12);
        assert!(g.difference_se > 0.0);
        assert!((g.top_10_overlap - 1.0).abs() < 1e-12);
        let mut shifted = pairs;
        shifted[0].overlap = 0.4;
        assert!((summarise("up", &shifted).top_10_overlap - 0.8).abs() < 1e-12);
    }
}
