//! How many distinct users back a pair of items: the users whose histories hold both.

use edgerec_core::Histories;

/// Each item's users (ascending), from per-user histories, for counting the users two items
/// share. Built from a model's [`Histories`] or from training data turned into one, so that
/// training and `export` count support the same way.
#[derive(Debug, Clone, Default)]
pub struct Support {
    /// CSR by item: `users[offsets[i]..offsets[i + 1]]` ascending.
    offsets: Vec<u32>,
    users: Vec<u32>,
}

impl Support {
    /// The users of each of `items` catalogue items among the history entries whose event type
    /// `keep` accepts (a user counts once per item).
    #[must_use]
    pub fn new(h: &Histories, items: usize, keep: impl Fn(u16) -> bool) -> Self {
        let mut counts = vec![0u32; items + 1];
        let mut last = vec![u32::MAX; items];
        let visit = |f: &mut dyn FnMut(u32, usize)| {
            for u in 0..h.users() {
                let Ok(user) = u32::try_from(u) else { break };
                for k in h.range(u) {
                    let (Some(&i), Some(&t)) = (h.items.get(k), h.event_types.get(k)) else {
                        continue;
                    };
                    if (i as usize) < items && keep(t) {
                        f(user, i as usize);
                    }
                }
            }
        };
        visit(&mut |user, i| {
            if last[i] != user {
                last[i] = user;
                counts[i + 1] += 1;
            }
        });
        for i in 0..items {
            counts[i + 1] += counts[i];
        }
        let offsets = counts;
        let mut fill = offsets.clone();
        let mut users = vec![0u32; offsets.last().copied().unwrap_or(0) as usize];
        last.fill(u32::MAX);
        visit(&mut |user, i| {
            if last[i] != user {
                last[i] = user;
                users[fill[i] as usize] = user;
                fill[i] += 1;
            }
        });
        Support { offsets, users }
    }

    /// Item `i`'s users, ascending (empty outside the catalogue).
    #[must_use]
    pub fn users_of(&self, i: u32) -> &[u32] {
        &self.users[edgerec_core::model::csr_row(&self.offsets, i as usize, self.users.len())]
    }

    /// Distinct users of item `i`.
    #[must_use]
    pub fn count(&self, i: u32) -> usize {
        self.users_of(i).len()
    }

    /// Whether at least `k` users have both `i` and `j` (stops counting at `k`).
    #[must_use]
    pub fn at_least(&self, i: u32, j: u32, k: u32) -> bool {
        shared_at_least(self.users_of(i), self.users_of(j), k as usize)
    }
}

/// Whether the ascending lists `a` and `b` share at least `k` values: the shorter one is
/// walked and each value searched for (galloping) in the rest of the longer one.
#[must_use]
pub fn shared_at_least(a: &[u32], b: &[u32], k: usize) -> bool {
    if k == 0 {
        return true;
    }
    let (short, mut long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if short.len() < k {
        return false;
    }
    let mut found = 0;
    for (walked, &x) in short.iter().enumerate() {
        // Not enough left to reach k.
        if found + (short.len() - walked) < k {
            return false;
        }
        // Gallop to the first value >= x, then binary search inside that step.
        let mut step = 1;
        while step < long.len() && long[step] < x {
            step *= 2;
        }
        let hi = (step + 1).min(long.len());
        let at = long[..hi].partition_point(|&y| y < x);
        long = &long[at..];
        if long.first() == Some(&x) {
            found += 1;
            if found >= k {
                return true;
            }
            long = &long[1..];
        }
        if long.is_empty() {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn users_per_item_and_shared_users() {
        // User 0: items 0, 1, 1; user 1: 1, 2; user 2: 0, 1 (event type 1 for item 0).
        let h = Histories {
            offsets: vec![0, 3, 5, 7],
            items: vec![0, 1, 1, 1, 2, 0, 1],
            event_types: vec![0, 0, 0, 0, 0, 1, 0],
            timestamps: vec![0; 7].into(),
            ..Histories::default()
        };
        let s = Support::new(&h, 3, |_| true);
        assert_eq!(s.users_of(0), [0, 2]);
        assert_eq!(s.users_of(1), [0, 1, 2]);
        assert_eq!(s.users_of(2), [1]);
        assert!(s.users_of(7).is_empty());
        assert!(s.at_least(0, 1, 2));
        assert!(!s.at_least(0, 1, 3));
        assert!(!s.at_least(0, 2, 1));
        let typed = Support::new(&h, 3, |t| t == 0);
        assert_eq!(typed.users_of(0), [0]);
        assert_eq!(typed.count(1), 3);
    }

    proptest! {
        #[test]
        fn shared_at_least_agrees_with_a_set_intersection(
            a in proptest::collection::btree_set(0u32..60, 0..40),
            b in proptest::collection::btree_set(0u32..60, 0..40),
            k in 0usize..12,
        ) {
            let shared = a.intersection(&b).count();
            let a: Vec<u32> = a.into_iter().collect();
            let b: Vec<u32> = b.into_iter().collect();
            prop_assert_eq!(shared_at_least(&a, &b, k), shared >= k);
            prop_assert_eq!(shared_at_least(&b, &a, k), shared >= k);
        }
    }
}
