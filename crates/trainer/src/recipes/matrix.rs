//! The training matrix shared by every recipe: items and users in catalogue order
//! (raw ids ascending, numerically when they are integers), and each user's interactions
//! in time order.

use crate::dataset::Dataset;
use edgerec_core::id_order::compare_raw_ids;

/// Which items form the catalogue of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CatalogScope {
    /// Every item of the interactions and of the items file (cold items included).
    #[default]
    All,
    /// Only items with interactions (the evaluation protocol's catalogue).
    Interactions,
}

/// One interaction in the matrix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    /// Catalogue index.
    pub item: u32,
    pub timestamp: i64,
    pub event_type: u16,
    pub value: f32,
}

/// Users × items, in catalogue order, built once and shared by the recipes.
#[derive(Debug, Clone)]
pub struct TrainingMatrix {
    /// Catalogue index → dataset item index.
    pub items: Vec<u32>,
    /// Dataset item index → catalogue index (`u32::MAX` when not in the catalogue).
    pub item_pos: Vec<u32>,
    /// User row → dataset user index (users with interactions, raw ids ascending).
    pub users: Vec<u32>,
    /// CSR of entries per user row, in time order (timestamp, then raw item id).
    pub offsets: Vec<usize>,
    pub entries: Vec<Entry>,
    /// Latest interaction timestamp.
    pub max_time: i64,
}

impl TrainingMatrix {
    /// Builds the matrix from a dataset.
    #[must_use]
    pub fn build(ds: &Dataset, scope: CatalogScope) -> Self {
        let it = &ds.interactions;
        let n_items = ds.item_ids.len();
        let mut has = vec![scope == CatalogScope::All; n_items];
        let mut user_has = vec![false; ds.user_ids.len()];
        for (&u, &i) in it.user.iter().zip(&it.item) {
            if let Some(h) = has.get_mut(i as usize) {
                *h = true;
            }
            if let Some(h) = user_has.get_mut(u as usize) {
                *h = true;
            }
        }
        let mut items: Vec<u32> = (0..n_items)
            .filter(|&i| has[i])
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        items.sort_by(|&a, &b| compare_raw_ids(&ds.item_ids[a as usize], &ds.item_ids[b as usize]));
        let mut item_pos = vec![u32::MAX; n_items];
        for (p, &i) in items.iter().enumerate() {
            item_pos[i as usize] = u32::try_from(p).unwrap_or(u32::MAX);
        }
        let mut users: Vec<u32> = (0..ds.user_ids.len())
            .filter(|&u| user_has[u])
            .filter_map(|u| u32::try_from(u).ok())
            .collect();
        users.sort_by(|&a, &b| compare_raw_ids(&ds.user_ids[a as usize], &ds.user_ids[b as usize]));
        let mut user_pos = vec![u32::MAX; ds.user_ids.len()];
        for (p, &u) in users.iter().enumerate() {
            user_pos[u as usize] = u32::try_from(p).unwrap_or(u32::MAX);
        }
        let mut counts = vec![0usize; users.len() + 1];
        for &u in &it.user {
            if let Some(&p) = user_pos.get(u as usize)
                && p != u32::MAX
            {
                counts[p as usize + 1] += 1;
            }
        }
        for k in 1..counts.len() {
            counts[k] += counts[k - 1];
        }
        let offsets = counts.clone();
        let mut fill = counts;
        let empty = Entry {
            item: 0,
            timestamp: 0,
            event_type: 0,
            value: f32::NAN,
        };
        let mut entries = vec![empty; offsets.last().copied().unwrap_or(0)];
        let mut max_time = i64::MIN;
        for r in 0..it.len() {
            let (u, i) = (it.user[r] as usize, it.item[r] as usize);
            let (Some(&p), Some(&ip)) = (user_pos.get(u), item_pos.get(i)) else {
                continue;
            };
            if p == u32::MAX || ip == u32::MAX {
                continue;
            }
            let ts = it.timestamp.get(r).copied().unwrap_or(0);
            max_time = max_time.max(ts);
            entries[fill[p as usize]] = Entry {
                item: ip,
                timestamp: ts,
                event_type: it.event_type.get(r).copied().unwrap_or(0),
                value: it.event_value.get(r).copied().unwrap_or(f32::NAN),
            };
            fill[p as usize] += 1;
        }
        for u in 0..users.len() {
            // Catalogue order equals raw-id order, so the item index breaks timestamp ties.
            entries[offsets[u]..offsets[u + 1]].sort_by_key(|e| (e.timestamp, e.item));
        }
        TrainingMatrix {
            items,
            item_pos,
            users,
            offsets,
            entries,
            max_time: if max_time == i64::MIN { 0 } else { max_time },
        }
    }

    #[must_use]
    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    #[must_use]
    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    /// Entries of user row `u`, oldest first.
    #[must_use]
    pub fn row(&self, u: usize) -> &[Entry] {
        match (self.offsets.get(u), self.offsets.get(u + 1)) {
            (Some(&a), Some(&b)) => &self.entries[a..b],
            _ => &[],
        }
    }

    /// Distinct items per user with summed weights, where `weight(entry)` gives each
    /// interaction's weight (0 drops it). CSR: `(offsets, items, weights)`.
    #[must_use]
    pub fn weighted_rows(
        &self,
        weight: impl Fn(&Entry) -> f32,
    ) -> (Vec<usize>, Vec<u32>, Vec<f32>) {
        let mut offsets = Vec::with_capacity(self.n_users() + 1);
        let mut items = Vec::with_capacity(self.entries.len());
        let mut weights = Vec::with_capacity(self.entries.len());
        offsets.push(0);
        let mut scratch: Vec<(u32, f32)> = Vec::new();
        for u in 0..self.n_users() {
            scratch.clear();
            scratch.extend(
                self.row(u)
                    .iter()
                    .map(|e| (e.item, weight(e)))
                    .filter(|x| x.1 > 0.0),
            );
            scratch.sort_by_key(|x| x.0);
            let mut k = 0;
            while k < scratch.len() {
                let i = scratch[k].0;
                let mut w = 0.0;
                while k < scratch.len() && scratch[k].0 == i {
                    w += scratch[k].1;
                    k += 1;
                }
                items.push(i);
                weights.push(w);
            }
            offsets.push(items.len());
        }
        (offsets, items, weights)
    }
}
