//! `sims`: item-item co-interaction. Two items are related when the same users interacted
//! with both; `popularity_discount_factor` (0 = raw co-counts, 1 = cosine-normalised) damps
//! popular items, and pairs seen fewer than `min_cointeraction_count` times are dropped.

use edgerec_core::NeighborModel;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::TrainingMatrix;
use super::matrix::Entry;

/// Hyperparameters (Personalize's names in snake case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimsParams {
    pub popularity_discount_factor: f32,
    pub min_cointeraction_count: u32,
    /// Neighbours kept per item.
    pub max_neighbors: usize,
    /// Most recent distinct items per user considered (bounds the quadratic pair count).
    pub max_user_history: usize,
}

impl Default for SimsParams {
    fn default() -> Self {
        SimsParams {
            popularity_discount_factor: 0.5,
            min_cointeraction_count: 3,
            max_neighbors: 100,
            max_user_history: 1000,
        }
    }
}

/// Trains neighbour lists from the entries `keep` accepts.
#[must_use]
pub fn train(
    m: &TrainingMatrix,
    p: &SimsParams,
    keep: impl Fn(&Entry) -> bool + Sync,
) -> NeighborModel {
    let n = m.n_items();
    // Distinct recent items per user.
    let user_items: Vec<Vec<u32>> = (0..m.n_users())
        .into_par_iter()
        .map(|u| {
            let mut seen = std::collections::HashSet::new();
            let mut v: Vec<u32> = m
                .row(u)
                .iter()
                .rev()
                .filter(|e| keep(e))
                .filter(|e| seen.insert(e.item))
                .take(p.max_user_history)
                .map(|e| e.item)
                .collect();
            v.sort_unstable();
            v
        })
        .collect();
    let mut item_users: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (u, items) in user_items.iter().enumerate() {
        for &i in items {
            item_users[i as usize].push(u32::try_from(u).unwrap_or(u32::MAX));
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let pop: Vec<f32> = item_users.iter().map(|u| u.len() as f32).collect();
    let d = p.popularity_discount_factor.clamp(0.0, 1.0) / 2.0;
    let lists: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0u32; n], Vec::<u32>::new()),
            |(counts, touched), i| {
                for &u in &item_users[i] {
                    for &j in &user_items[u as usize] {
                        if j as usize != i {
                            if counts[j as usize] == 0 {
                                touched.push(j);
                            }
                            counts[j as usize] += 1;
                        }
                    }
                }
                let mut out: Vec<(u32, f32)> = Vec::new();
                for &j in touched.iter() {
                    let c = counts[j as usize];
                    counts[j as usize] = 0;
                    if c >= p.min_cointeraction_count.max(1) {
                        #[allow(clippy::cast_precision_loss)]
                        let s = c as f32 / (pop[i] * pop[j as usize]).powf(d);
                        out.push((j, s));
                    }
                }
                touched.clear();
                out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                out.truncate(p.max_neighbors);
                out
            },
        )
        .collect();
    let mut model = NeighborModel {
        offsets: Vec::with_capacity(n + 1),
        neighbors: Vec::new(),
        weights: Vec::new(),
    };
    model.offsets.push(0);
    for l in lists {
        for (j, s) in l {
            model.neighbors.push(j);
            model.weights.push(s);
        }
        model
            .offsets
            .push(u32::try_from(model.neighbors.len()).unwrap_or(u32::MAX));
    }
    model
}
