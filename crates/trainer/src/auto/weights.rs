//! Fitting a blend's weights on the validation cases' part lists.
//!
//! The weights of known users are fitted on the known-user cases, those of sessions on the
//! sessions of each length (1, 3 and 5 events; 2 and 4 take the mean of their neighbours,
//! each weight vector scaled to sum 1 first, and longer sessions those of 5). The search
//! starts from the best single part at weight 1 and tries every other part at each weight of
//! [`GRID`] in turn, keeping a change when it raises the mean NDCG@10, for [`ROUNDS`] rounds.
//! A blend whose gain over the best single part (paired over the cases) is not above one
//! standard error is that part alone: with few validation cases a searched blend mostly fits
//! noise. Each weight vector
//! is scored exactly as [`edgerec_core::engine::blend::fuse`] ranks (the same [`scaled`]
//! scores, summed in the same order), on the lists prepared once.

use edgerec_core::engine::blend::scaled;
use edgerec_core::topk::Scored;
use edgerec_core::{Engine, RecommenderModel};
use rayon::prelude::*;
use serde::Serialize;

use super::score::{Case, ScoreError, cold_cases, each_case, warm_cases};
use super::split::ValidationSplit;
use crate::evaluate::protocol::SESSION_LENGTHS;

/// Weights tried for each part, relative to the best single part's 1.
pub const GRID: [f32; 12] = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 3.0, 5.0];
/// Rounds over the parts.
pub const ROUNDS: usize = 2;

/// Every validation case's list from every part of the validation model's blend.
#[derive(Debug, Clone)]
pub struct PartLists {
    pub cases: Vec<Case>,
    /// `lists[case][part]`: the part's best items for the case (`None`: nothing of its own).
    pub lists: Vec<Vec<Option<Vec<Scored>>>>,
}

impl PartLists {
    /// Scores every case of `v` on every part of blend `name` of `engine`.
    pub fn score(
        engine: &Engine,
        v: &ValidationSplit,
        name: &str,
        event_type: &str,
    ) -> Result<Self, ScoreError> {
        let depth = engine
            .model()
            .recommender(name)
            .and_then(|r| match &r.model {
                RecommenderModel::Blend(b) => Some(b.depth as usize),
                _ => None,
            })
            .unwrap_or(100);
        let mut cases = warm_cases(engine, v);
        cases.extend(cold_cases(engine, v));
        let lists = each_case(engine, v, &cases, event_type, |e, user| {
            e.part_lists(name, user, depth)
        })?;
        Ok(PartLists { cases, lists })
    }

    /// Indices of the known-user cases, or of the sessions of `n` events.
    fn select(&self, events: usize) -> Vec<usize> {
        (0..self.cases.len())
            .filter(|&c| self.cases[c].events == events)
            .collect()
    }

    /// Mean NDCG@10 of part `p` alone over `cases` (its own first 10 items: what a blend of it
    /// alone ranks too).
    fn alone(&self, cases: &[usize], p: usize) -> f64 {
        if cases.is_empty() {
            return 0.0;
        }
        let sum: f64 = cases
            .iter()
            .map(|&c| {
                let top: Vec<u32> = self.lists[c]
                    .get(p)
                    .and_then(Option::as_deref)
                    .map(|l| l.iter().take(10).map(|s| s.item).collect())
                    .unwrap_or_default();
                self.cases[c].ndcg(&top)
            })
            .sum();
        #[allow(clippy::cast_precision_loss)]
        let n = cases.len() as f64;
        sum / n
    }

    /// Mean NDCG@10 of part `p` alone over the known-user cases.
    #[must_use]
    pub fn known_ndcg(&self, p: usize) -> f64 {
        self.alone(&self.select(0), p)
    }

    /// Mean NDCG@10 of part `p` alone over every session case.
    #[must_use]
    pub fn session_ndcg(&self, p: usize) -> f64 {
        let all: Vec<usize> = (0..self.cases.len())
            .filter(|&c| self.cases[c].events > 0)
            .collect();
        self.alone(&all, p)
    }
}

/// The cases of one fit in the form `fuse` sees them, for scoring many weight vectors
/// quickly: per case the items of the parts' lists with each part's scaled score (negative
/// where the item is not in that part's list).
struct Compact<'a> {
    lists: &'a PartLists,
    cases: Vec<CompactCase>,
    parts: usize,
}

struct CompactCase {
    case: usize,
    items: Vec<u32>,
    /// `items × parts`, row-major.
    scaled: Vec<f32>,
}

impl<'a> Compact<'a> {
    fn new(lists: &'a PartLists, cases: &[usize], parts: &[usize]) -> Self {
        let cases = cases
            .par_iter()
            .map(|&c| {
                let row = &lists.lists[c];
                let mut at: std::collections::HashMap<u32, usize> =
                    std::collections::HashMap::new();
                let mut items = Vec::new();
                let mut values: Vec<f32> = Vec::new();
                for (k, &p) in parts.iter().enumerate() {
                    let Some(list) = row.get(p).and_then(Option::as_deref) else {
                        continue;
                    };
                    for (item, x) in scaled(list) {
                        let i = *at.entry(item).or_insert_with(|| {
                            items.push(item);
                            values.extend(std::iter::repeat_n(-1.0, parts.len()));
                            items.len() - 1
                        });
                        values[i * parts.len() + k] = x;
                    }
                }
                CompactCase {
                    case: c,
                    items,
                    scaled: values,
                }
            })
            .collect();
        Compact {
            lists,
            cases,
            parts: parts.len(),
        }
    }

    /// Mean NDCG@10 of the blend with `weights` (one per part), as `fuse` ranks it.
    fn mean_ndcg(&self, weights: &[f32]) -> f64 {
        if self.cases.is_empty() {
            return 0.0;
        }
        let sum: f64 = self.per_case(weights).iter().sum();
        #[allow(clippy::cast_precision_loss)]
        let n = self.cases.len() as f64;
        sum / n
    }

    /// NDCG@10 of the blend with `weights` on each case, as `fuse` ranks it.
    fn per_case(&self, weights: &[f32]) -> Vec<f64> {
        self.cases
            .par_iter()
            .map_init(Vec::new, |scored: &mut Vec<(f32, u32)>, cc| {
                scored.clear();
                for (i, &item) in cc.items.iter().enumerate() {
                    let row = &cc.scaled[i * self.parts..(i + 1) * self.parts];
                    let mut s = 0.0f32;
                    let mut listed = false;
                    for (&x, &w) in row.iter().zip(weights) {
                        if x >= 0.0 && w > 0.0 {
                            s += w * x;
                            listed = true;
                        }
                    }
                    if listed {
                        scored.push((s, item));
                    }
                }
                let order =
                    |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
                if scored.len() > 10 {
                    scored.select_nth_unstable_by(9, order);
                    scored.truncate(10);
                }
                scored.sort_by(order);
                let top: Vec<u32> = scored.iter().map(|x| x.1).collect();
                self.lists.cases[cc.case].ndcg(&top)
            })
            .collect()
    }
}

/// Mean and standard error of the paired differences `a[c] - b[c]`.
fn paired_gain(a: &[f64], b: &[f64]) -> (f64, f64) {
    let n = a.len().min(b.len());
    if n < 2 {
        return (0.0, 0.0);
    }
    #[allow(clippy::cast_precision_loss)]
    let nf = n as f64;
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let mean = d.iter().sum::<f64>() / nf;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (nf - 1.0);
    (mean, (var / nf).sqrt())
}

/// Validation NDCG@10 of one group of cases: each part alone and the chosen weights.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    /// 0 = known users, else the session length.
    pub events: usize,
    pub cases: usize,
    /// Each part alone.
    pub parts: Vec<f64>,
    /// The chosen weights (one per part).
    pub weights: Vec<f32>,
    pub ndcg: f64,
    /// The best blend's gain over the best single part, paired over the cases, and its
    /// standard error: the blend is kept only when the gain exceeds one standard error.
    pub gain: f64,
    pub gain_se: f64,
}

/// A blend's fitted weights and what they scored on validation.
#[derive(Debug, Clone, Serialize)]
pub struct BlendChoice {
    pub name: String,
    pub parts: Vec<String>,
    /// One weight per part for known users.
    pub known: Vec<f32>,
    /// Per part, its weights for sessions of 1, 2, … events.
    pub session: Vec<Vec<f32>>,
    pub fits: Vec<Fit>,
}

/// Fits weights for `cases` over `parts` (validation-model indices).
fn fit_cases(lists: &PartLists, cases: &[usize], parts: &[usize], events: usize) -> Fit {
    let alone: Vec<f64> = parts.iter().map(|&p| lists.alone(cases, p)).collect();
    let compact = Compact::new(lists, cases, parts);
    let best = alone
        .iter()
        .enumerate()
        .fold(None::<(usize, f64)>, |acc, (i, &x)| match acc {
            Some((_, b)) if b >= x => acc,
            _ => Some((i, x)),
        })
        .map_or(0, |(i, _)| i);
    // The best single part at weight 1: where the search starts, and what it falls back to.
    let mut single_weights = vec![0.0f32; parts.len()];
    if let Some(w) = single_weights.get_mut(best) {
        *w = 1.0;
    }
    let single = alone.get(best).copied().unwrap_or(0.0);
    let mut weights = single_weights.clone();
    let mut score = single;
    for _ in 0..ROUNDS {
        let mut changed = false;
        for k in (0..parts.len()).filter(|&k| k != best) {
            for &g in &GRID {
                if g.to_bits() == weights[k].to_bits() {
                    continue;
                }
                let mut trial = weights.clone();
                trial[k] = g;
                let s = compact.mean_ndcg(&trial);
                if s > score + 1e-9 {
                    score = s;
                    weights = trial;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let (gain, gain_se) = if weights == single_weights {
        (0.0, 0.0)
    } else {
        paired_gain(
            &compact.per_case(&weights),
            &compact.per_case(&single_weights),
        )
    };
    if gain <= gain_se {
        weights = single_weights;
        score = single;
    }
    Fit {
        events,
        cases: cases.len(),
        parts: alone,
        weights,
        ndcg: score,
        gain,
        gain_se,
    }
}

/// `w` scaled to sum 1 (unchanged when it sums to 0).
fn unit(w: &[f32]) -> Vec<f32> {
    let s: f32 = w.iter().sum();
    if s > 0.0 {
        w.iter().map(|x| x / s).collect()
    } else {
        w.to_vec()
    }
}

/// Fits the weights of blend `name` over its `parts` (validation-model indices; `names`
/// their recommender names).
#[must_use]
pub fn fit(lists: &PartLists, parts: &[usize], name: &str, names: &[String]) -> BlendChoice {
    let mut fits = Vec::new();
    let known_cases = lists.select(0);
    let known = if known_cases.is_empty() {
        vec![1.0; parts.len()]
    } else {
        let f = fit_cases(lists, &known_cases, parts, 0);
        let w = f.weights.clone();
        fits.push(f);
        w
    };
    // Weights at the session lengths validated, scaled to sum 1.
    let mut at: Vec<(usize, Vec<f32>)> = Vec::new();
    for &n in &SESSION_LENGTHS {
        let cases = lists.select(n);
        if cases.is_empty() {
            continue;
        }
        let f = fit_cases(lists, &cases, parts, n);
        at.push((n, unit(&f.weights)));
        fits.push(f);
    }
    let table = session_table(&at, parts.len());
    BlendChoice {
        name: name.to_owned(),
        parts: names.to_vec(),
        known,
        session: (0..parts.len())
            .map(|p| table.iter().map(|w| w[p]).collect())
            .collect(),
        fits,
    }
}

/// Weights for sessions of 1, 2, … up to the longest validated length from the weights at
/// the validated lengths: a length between two takes the mean of its neighbours (linear in
/// the length); below the first, the first. No validated length: equal weights.
fn session_table(at: &[(usize, Vec<f32>)], parts: usize) -> Vec<Vec<f32>> {
    let Some(&(last, _)) = at.last() else {
        return vec![vec![1.0; parts]];
    };
    (1..=last)
        .map(|n| {
            let hi = at.iter().position(|(m, _)| *m >= n).unwrap_or(at.len() - 1);
            let (m1, w1) = &at[hi];
            if *m1 == n || hi == 0 {
                return w1.clone();
            }
            let (m0, w0) = &at[hi - 1];
            #[allow(clippy::cast_precision_loss)]
            let t = (n - m0) as f32 / (m1 - m0) as f32;
            w0.iter().zip(w1).map(|(a, b)| a + t * (b - a)).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(items: &[u32]) -> Option<Vec<Scored>> {
        #[allow(clippy::cast_precision_loss)]
        Some(
            items
                .iter()
                .enumerate()
                .map(|(r, &item)| Scored {
                    item,
                    score: 10.0 - r as f32,
                })
                .collect(),
        )
    }

    fn case(events: usize, target: u32) -> Case {
        Case {
            user: String::new(),
            events,
            targets: vec![target],
            ideal: 1,
        }
    }

    #[test]
    fn a_part_that_finds_what_the_other_misses_gets_weight() {
        // Part 0 ranks the target first in half the cases, part 1 in the other half; each
        // has the target at rank 5 otherwise (behind items of its own), so a blend beats both.
        let mut cases = Vec::new();
        let mut rows = Vec::new();
        for k in 0..20u32 {
            cases.push(case(0, 100 + k));
            let t = 100 + k;
            let (a, b) = ([1, 2, 3, 4, 5], [11, 12, 13, 14, 15]);
            let good = |f: [u32; 5]| [t, f[0], f[1], f[2], f[3], f[4]];
            let ok = |f: [u32; 5]| [f[0], f[1], f[2], f[3], t, f[4]];
            if k % 2 == 0 {
                rows.push(vec![scored(&good(a)), scored(&ok(b)), None]);
            } else {
                rows.push(vec![scored(&ok(a)), scored(&good(b)), None]);
            }
        }
        let lists = PartLists { cases, lists: rows };
        let names = vec!["a".to_owned(), "b".to_owned(), "c".to_owned()];
        let c = fit(&lists, &[0, 1, 2], "x", &names);
        assert!(c.known[0] > 0.0 && c.known[1] > 0.0, "{:?}", c.known);
        assert_eq!(c.known[2], 0.0);
        let f = &c.fits[0];
        assert!(f.ndcg > f.parts[0] && f.ndcg > f.parts[1], "{f:?}");
        // No session cases: equal weights for sessions.
        assert_eq!(c.session, vec![vec![1.0], vec![1.0], vec![1.0]]);
    }

    #[test]
    fn a_useless_part_is_left_out() {
        let mut cases = Vec::new();
        let mut rows = Vec::new();
        for k in 0..10u32 {
            cases.push(case(1, 100 + k));
            rows.push(vec![scored(&[100 + k, 1, 2]), scored(&[7, 8, 9])]);
        }
        let lists = PartLists { cases, lists: rows };
        let c = fit(&lists, &[0, 1], "x", &["a".into(), "b".into()]);
        assert_eq!(c.session, vec![vec![1.0], vec![0.0]]);
        assert_eq!(
            c.known,
            vec![1.0, 1.0],
            "no known-user cases: equal weights"
        );
    }

    #[test]
    fn compact_scoring_ranks_as_fuse_does() {
        use edgerec_core::engine::blend::fuse;
        // Lists with overlapping items, ties and a flat list.
        let mut cases = Vec::new();
        let mut rows = Vec::new();
        for k in 0..40u32 {
            let a: Vec<u32> = (0..30).map(|j| (j * 7 + k) % 50).collect();
            let b: Vec<u32> = (0..25).map(|j| (j * 3 + 2 * k) % 50).collect();
            let flat = Some(vec![
                Scored {
                    item: k % 50,
                    score: 1.0,
                },
                Scored {
                    item: 49,
                    score: 1.0,
                },
            ]);
            cases.push(Case {
                user: String::new(),
                events: 1,
                targets: vec![k % 50, (k + 3) % 50],
                ideal: 2,
            });
            rows.push(vec![scored(&a), scored(&b), flat, None]);
        }
        let lists = PartLists { cases, lists: rows };
        let all: Vec<usize> = (0..40).collect();
        let parts = [0, 1, 2, 3];
        let compact = Compact::new(&lists, &all, &parts);
        for w in [
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.35, 0.0, 1.0],
            [0.2, 1.0, 3.0, 0.0],
            [0.7, 0.7, 0.05, 0.5],
        ] {
            let direct: f64 = all
                .iter()
                .map(|&c| {
                    let ls = parts
                        .iter()
                        .zip(&w)
                        .filter_map(|(&p, &wt)| Some((wt, lists.lists[c][p].as_deref()?)));
                    let top: Vec<u32> = fuse(&ls.collect::<Vec<_>>(), 10)
                        .iter()
                        .map(|s| s.item)
                        .collect();
                    lists.cases[c].ndcg(&top)
                })
                .sum::<f64>()
                / 40.0;
            assert!((compact.mean_ndcg(&w) - direct).abs() < 1e-12, "{w:?}");
        }
    }

    #[test]
    fn session_table_interpolates_between_validated_lengths() {
        let t = session_table(
            &[
                (1, vec![1.0, 0.0]),
                (3, vec![0.0, 1.0]),
                (5, vec![0.5, 0.5]),
            ],
            2,
        );
        assert_eq!(t.len(), 5);
        assert_eq!(t[0], vec![1.0, 0.0]);
        assert_eq!(t[1], vec![0.5, 0.5]);
        assert_eq!(t[2], vec![0.0, 1.0]);
        assert_eq!(t[3], vec![0.25, 0.75]);
        assert_eq!(t[4], vec![0.5, 0.5]);
        assert_eq!(session_table(&[], 3), vec![vec![1.0; 3]]);
    }
}
