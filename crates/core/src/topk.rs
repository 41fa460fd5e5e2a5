//! Top-K selection with a fixed order: score descending, then item index ascending,
//! so every runtime (native, wasm, Worker) returns the same list.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A scored item. Ordered so that the "greatest" entry is the best one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub item: u32,
    pub score: f32,
}

impl Scored {
    /// Total order: higher score first, then lower item index; NaN ranks last.
    #[must_use]
    pub fn better_than(&self, other: &Scored) -> bool {
        self.rank_cmp(other) == Ordering::Greater
    }

    fn rank_cmp(&self, other: &Scored) -> Ordering {
        let a = if self.score.is_nan() {
            f32::NEG_INFINITY
        } else {
            self.score
        };
        let b = if other.score.is_nan() {
            f32::NEG_INFINITY
        } else {
            other.score
        };
        a.partial_cmp(&b)
            .unwrap_or(Ordering::Equal)
            .then_with(|| other.item.cmp(&self.item))
    }
}

impl Eq for Scored {}

/// Reverse order for the min-heap: the heap's top is the worst kept entry.
impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        other.rank_cmp(self)
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Keeps the best `k` entries seen so far.
#[derive(Debug)]
pub struct TopK {
    k: usize,
    heap: BinaryHeap<Scored>,
}

impl TopK {
    #[must_use]
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k.saturating_add(1).min(4096)),
        }
    }

    /// Offers one candidate.
    #[inline]
    pub fn push(&mut self, item: u32, score: f32) {
        if self.k == 0 {
            return;
        }
        let s = Scored { item, score };
        if self.heap.len() < self.k {
            self.heap.push(s);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && s.better_than(&worst)
        {
            *worst = s;
        }
    }

    /// The kept entries, best first.
    #[must_use]
    pub fn into_sorted(self) -> Vec<Scored> {
        // BinaryHeap::into_sorted_vec sorts ascending by Ord, and Ord is reversed: best first.
        self.heap.into_sorted_vec()
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// The lowest score that can still enter: `-inf` until `k` entries are held.
    /// Candidates scoring below it can be skipped without calling [`TopK::push`].
    #[must_use]
    pub fn threshold(&self) -> f32 {
        if self.heap.len() < self.k {
            f32::NEG_INFINITY
        } else {
            self.heap.peek().map_or(f32::NEG_INFINITY, |w| w.score)
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ties_break_by_ascending_index() {
        let mut t = TopK::new(3);
        for i in (0..10).rev() {
            t.push(i, 1.0);
        }
        let v: Vec<u32> = t.into_sorted().iter().map(|s| s.item).collect();
        assert_eq!(v, vec![0, 1, 2]);
    }

    #[test]
    fn nan_ranks_last() {
        let mut t = TopK::new(2);
        t.push(0, f32::NAN);
        t.push(1, -5.0);
        t.push(2, 3.0);
        let v: Vec<u32> = t.into_sorted().iter().map(|s| s.item).collect();
        assert_eq!(v, vec![2, 1]);
    }

    proptest! {
        #[test]
        fn matches_full_sort(scores in proptest::collection::vec(-3i32..3, 0..200), k in 0usize..30) {
            let mut t = TopK::new(k);
            for (i, &s) in scores.iter().enumerate() {
                t.push(i as u32, s as f32);
            }
            let got: Vec<u32> = t.into_sorted().iter().map(|s| s.item).collect();
            let mut all: Vec<(i32, u32)> = scores.iter().enumerate().map(|(i, &s)| (s, i as u32)).collect();
            all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            let want: Vec<u32> = all.into_iter().take(k).map(|x| x.1).collect();
            prop_assert_eq!(got, want);
        }
    }
}
