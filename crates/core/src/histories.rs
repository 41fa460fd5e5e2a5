//! Known users' interaction histories (CSR by user) and the item → users index derived from
//! them on first use.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// Row `i` of a CSR layout: `offsets[i]..offsets[i + 1]`, or empty when the offsets are
/// missing, decreasing or past `len` (the length of the arrays they index).
#[must_use]
pub fn csr_row(offsets: &[u32], i: usize, len: usize) -> std::ops::Range<usize> {
    match (offsets.get(i), offsets.get(i.saturating_add(1))) {
        (Some(&a), Some(&b)) if a <= b && (b as usize) <= len => a as usize..b as usize,
        _ => 0..0,
    }
}

/// Most users scanned per session item, its most recent: bounds a request's cost on large
/// catalogues, where a popular item has tens of thousands of users.
pub const MAX_USERS_PER_ITEM: usize = 1_000;

/// Per-user interaction histories of known users, in time order (oldest first).
///
/// User `u` has entries `offsets[u]..offsets[u + 1]` of `items` / `event_types` / `timestamps`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Histories {
    pub offsets: Vec<u32>,
    pub items: Vec<u32>,
    /// Event-type code per entry (index into `Catalog::event_types`).
    pub event_types: Vec<u16>,
    pub timestamps: crate::timestamps::Timestamps,
    /// Derived: each item's users, for session neighbours (built on first use).
    #[serde(skip)]
    pub item_users: ItemUsersCache,
}

impl Histories {
    /// Number of users with a history slot.
    #[must_use]
    pub fn users(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Entry range of user `u` (empty when out of range or inconsistent).
    #[must_use]
    pub fn range(&self, u: usize) -> std::ops::Range<usize> {
        csr_row(&self.offsets, u, self.items.len())
    }

    /// Items of user `u`, oldest first.
    #[must_use]
    pub fn items_of(&self, u: usize) -> &[u32] {
        &self.items[self.range(u)]
    }

    /// True when every array agrees with the offsets (checked after decoding).
    #[must_use]
    pub fn is_consistent(&self, items: usize) -> bool {
        let n = self.items.len();
        self.offsets.first().is_none_or(|&o| o == 0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last().is_none_or(|&o| o as usize == n)
            && self.event_types.len() == n
            && self.timestamps.len() == n
            && self.items.iter().all(|&i| (i as usize) < items)
    }
}

/// The item → users index of a model's histories, derived on first use and shared by every
/// recommender with session neighbours. A cache: it compares equal to any other.
#[derive(Debug, Clone, Default)]
pub struct ItemUsersCache(OnceLock<ItemUsers>);

impl PartialEq for ItemUsersCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl ItemUsersCache {
    /// The index of `h` (the histories holding this cache).
    pub(crate) fn get(&self, h: &Histories) -> &ItemUsers {
        self.0.get_or_init(|| ItemUsers::new(h))
    }
}

/// Each item's users (CSR by item): the user and the index of their first entry for the
/// item in the histories; users ascending, or for an item with more than
/// [`MAX_USERS_PER_ITEM`] users latest first (ties: lower user first).
#[derive(Debug, Clone, Default)]
pub(crate) struct ItemUsers {
    offsets: Vec<u32>,
    entries: Vec<(u32, u32)>,
}

impl ItemUsers {
    pub(crate) fn new(h: &Histories) -> Self {
        let items = h.items.iter().map(|&i| i as usize + 1).max().unwrap_or(0);
        let mut counts = vec![0u32; items + 1];
        let mut last = vec![u32::MAX; items];
        let firsts = |f: &mut dyn FnMut(u32, u32, usize)| {
            for u in 0..h.users() {
                let Ok(user) = u32::try_from(u) else { break };
                for k in h.range(u) {
                    if let (Some(&i), Ok(k)) = (h.items.get(k), u32::try_from(k)) {
                        f(user, k, i as usize);
                    }
                }
            }
        };
        let mut count = |user: u32, _: u32, i: usize| {
            if last[i] != user {
                last[i] = user;
                counts[i + 1] += 1;
            }
        };
        firsts(&mut count);
        for i in 0..items {
            counts[i + 1] += counts[i];
        }
        let offsets = counts;
        let mut fill = offsets.clone();
        let mut entries = vec![(0u32, 0u32); offsets.last().copied().unwrap_or(0) as usize];
        last.fill(u32::MAX);
        let mut place = |user: u32, k: u32, i: usize| {
            if last[i] != user {
                last[i] = user;
                entries[fill[i] as usize] = (user, k);
                fill[i] += 1;
            }
        };
        firsts(&mut place);
        // Only an item with more users than a request scans needs them in time order.
        for w in offsets.windows(2) {
            if let Some(run) = entries
                .get_mut(w[0] as usize..w[1] as usize)
                .filter(|run| run.len() > MAX_USERS_PER_ITEM)
            {
                crate::sort::sort_by_key(run, |&(u, k)| {
                    (
                        std::cmp::Reverse(h.timestamps.get(k as usize).unwrap_or(i64::MIN)),
                        u,
                    )
                });
            }
        }
        ItemUsers { offsets, entries }
    }

    /// Items covered: one more than the largest item in the histories.
    pub(crate) fn items(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Item `i`'s users, at most [`MAX_USERS_PER_ITEM`], latest first.
    pub(crate) fn of(&self, i: u32) -> &[(u32, u32)] {
        let all = &self.entries[csr_row(&self.offsets, i as usize, self.entries.len())];
        &all[..all.len().min(MAX_USERS_PER_ITEM)]
    }
}
