//! One stable sort for the engine's cold paths (section tables, filter literals, session
//! exports, ranking of at most a few hundred items).
//!
//! The standard library's sorts are fast but generate several KiB of code for every element
//! type and comparator they are used with, which is most of what sorting costs in the wasm
//! package. Here the merge sort itself is compiled once, over indices with a `dyn` comparator;
//! each caller adds only a small permutation step. The hot top-K selection does not sort with
//! this (it uses a heap).

use std::cmp::Ordering;

/// Sorts `v` by `cmp`, stably (equal elements keep their order), in O(n log n).
pub(crate) fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let order = {
        let items: &[T] = v;
        stable_order(items.len(), &mut |a, b| cmp(&items[a], &items[b]))
    };
    permute(v, &order);
}

/// Sorts `v` ascending, stably.
pub(crate) fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, T::cmp);
}

/// Sorts `v` by a key, stably.
pub(crate) fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// The positions `0..n` in the order `cmp` gives them (ties by position): a bottom-up merge
/// sort over indices, compiled once for every caller.
fn stable_order(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut a: Vec<usize> = (0..n).collect();
    let mut b = vec![0usize; n];
    let mut width = 1;
    while width < n {
        let mut start = 0;
        while start < n {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            for slot in &mut b[start..end] {
                let take_left = j >= end || (i < mid && cmp(a[i], a[j]) != Ordering::Greater);
                if take_left {
                    *slot = a[i];
                    i += 1;
                } else {
                    *slot = a[j];
                    j += 1;
                }
            }
            start = end;
        }
        std::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

/// Rearranges `v` so that `v[k]` becomes the old `v[order[k]]`, following each cycle of the
/// permutation with swaps.
fn permute<T>(v: &mut [T], order: &[usize]) {
    let mut done = vec![false; v.len()];
    for start in 0..v.len() {
        if done[start] {
            continue;
        }
        let mut k = start;
        loop {
            done[k] = true;
            let src = order[k];
            if src == start {
                break;
            }
            v.swap(k, src);
            k = src;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn matches_the_standard_stable_sort(v in proptest::collection::vec((0u8..6, any::<u16>()), 0..300)) {
            let mut want = v.clone();
            want.sort_by_key(|x| x.0);
            let mut got = v;
            super::sort_by_key(&mut got, |x| x.0);
            prop_assert_eq!(got, want);
        }

        #[test]
        fn sorts_strings(v in proptest::collection::vec("[a-c]{0,3}", 0..100)) {
            let mut want = v.clone();
            want.sort();
            let mut got = v;
            super::sort(&mut got);
            prop_assert_eq!(got, want);
        }
    }
}
