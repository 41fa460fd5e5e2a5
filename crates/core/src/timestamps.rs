//! Epoch-second timestamps stored as offsets from their minimum in the narrowest width their
//! span allows (none when all are equal, then `u8`, `u16`, `u32`), else as plain `i64`.
//! Real creation times and history timestamps span years, so they take 4 bytes instead of 8.
//!
//! Serialised with serde exactly like a `Vec<i64>`.

use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list of `i64` timestamps. Equality compares values, not representations.
#[derive(Clone, Default)]
pub struct Timestamps {
    /// Value `i` is `base + offset i`.
    base: i64,
    offsets: Offsets,
}

#[derive(Clone)]
enum Offsets {
    /// Every value equals the base.
    Same(usize),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    /// Plain values (`base` unused).
    Wide(Vec<i64>),
}

impl Default for Offsets {
    fn default() -> Self {
        Offsets::Same(0)
    }
}

impl Offsets {
    /// The narrowest offsets for a span of `span` (`None`: wider than `u32`).
    fn for_span(span: Option<u64>, count: usize) -> Offsets {
        match span {
            Some(0) => Offsets::Same(0),
            Some(s) if s <= u64::from(u8::MAX) => Offsets::U8(Vec::with_capacity(count)),
            Some(s) if s <= u64::from(u16::MAX) => Offsets::U16(Vec::with_capacity(count)),
            Some(s) if s <= u64::from(u32::MAX) => Offsets::U32(Vec::with_capacity(count)),
            _ => Offsets::Wide(Vec::with_capacity(count)),
        }
    }
}

impl Timestamps {
    #[must_use]
    pub fn new() -> Self {
        Timestamps::default()
    }

    /// A list for values in `min..=max` with room for `count` of them, in the narrowest width
    /// the range allows (decoders read the range first, then push without reallocating).
    #[must_use]
    pub fn with_range(count: usize, min: i64, max: i64) -> Self {
        let span = max.checked_sub(min).and_then(|d| u64::try_from(d).ok());
        Timestamps {
            base: min,
            offsets: Offsets::for_span(span, count),
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        match &self.offsets {
            Offsets::Same(n) => *n,
            Offsets::U8(v) => v.len(),
            Offsets::U16(v) => v.len(),
            Offsets::U32(v) => v.len(),
            Offsets::Wide(v) => v.len(),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i`, `None` when out of range.
    #[must_use]
    #[inline]
    pub fn get(&self, i: usize) -> Option<i64> {
        let b = self.base;
        match &self.offsets {
            Offsets::Same(n) => (i < *n).then_some(b),
            Offsets::U8(v) => v.get(i).map(|&o| b + i64::from(o)),
            Offsets::U16(v) => v.get(i).map(|&o| b + i64::from(o)),
            Offsets::U32(v) => v.get(i).map(|&o| b + i64::from(o)),
            Offsets::Wide(v) => v.get(i).copied(),
        }
    }

    /// Stores `t` at `i` (`i == len` appends) if it fits the current width; `false` if not.
    fn store(&mut self, i: usize, t: i64) -> bool {
        if let Offsets::Wide(v) = &mut self.offsets {
            return match v.get_mut(i) {
                Some(slot) => {
                    *slot = t;
                    true
                }
                None => {
                    v.push(t);
                    true
                }
            };
        }
        let Some(d) = t.checked_sub(self.base).and_then(|d| u64::try_from(d).ok()) else {
            return false;
        };
        fn put<T: TryFrom<u64>>(v: &mut Vec<T>, i: usize, d: u64) -> bool {
            let Ok(o) = T::try_from(d) else { return false };
            match v.get_mut(i) {
                Some(slot) => *slot = o,
                None => v.push(o),
            }
            true
        }
        match &mut self.offsets {
            Offsets::Same(n) => {
                if d != 0 {
                    return false;
                }
                if i == *n {
                    *n += 1;
                }
                true
            }
            Offsets::U8(v) => put(v, i, d),
            Offsets::U16(v) => put(v, i, d),
            Offsets::U32(v) => put(v, i, d),
            Offsets::Wide(_) => false,
        }
    }

    /// Re-encodes with room for `t` (a rare O(n) step: the width grows at most four times,
    /// the base moves only for a value below every other one).
    fn rebuild_with(&mut self, i: usize, t: i64) {
        let mut values = self.to_vec();
        match values.get_mut(i) {
            Some(slot) => *slot = t,
            None => values.push(t),
        }
        *self = values.into_iter().collect();
    }

    /// Appends `t`.
    pub fn push(&mut self, t: i64) {
        // An empty list without a width chosen by `with_range` takes its base from `t`.
        if let Offsets::Same(0) = self.offsets {
            self.base = t;
        }
        let n = self.len();
        if !self.store(n, t) {
            self.rebuild_with(n, t);
        }
    }

    /// Sets value `i` to `t`; `false` when `i` is out of range.
    pub fn set(&mut self, i: usize, t: i64) -> bool {
        if i >= self.len() {
            return false;
        }
        if !self.store(i, t) {
            self.rebuild_with(i, t);
        }
        true
    }

    /// Removes the last value.
    pub fn pop(&mut self) -> Option<i64> {
        let last = self.get(self.len().checked_sub(1)?);
        match &mut self.offsets {
            Offsets::Same(n) => *n -= 1,
            Offsets::U8(v) => drop(v.pop()),
            Offsets::U16(v) => drop(v.pop()),
            Offsets::U32(v) => drop(v.pop()),
            Offsets::Wide(v) => drop(v.pop()),
        }
        last
    }

    /// The values in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = i64> + ExactSizeIterator + '_ {
        (0..self.len()).map(|i| self.get(i).unwrap_or_default())
    }

    /// The values as a `Vec<i64>`.
    #[must_use]
    pub fn to_vec(&self) -> Vec<i64> {
        self.iter().collect()
    }

    /// Heap bytes held.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        match &self.offsets {
            Offsets::Same(_) => 0,
            Offsets::U8(v) => v.capacity(),
            Offsets::U16(v) => v.capacity() * 2,
            Offsets::U32(v) => v.capacity() * 4,
            Offsets::Wide(v) => v.capacity() * 8,
        }
    }
}

impl PartialEq for Timestamps {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Timestamps {}

impl fmt::Debug for Timestamps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl From<Vec<i64>> for Timestamps {
    fn from(v: Vec<i64>) -> Self {
        v.into_iter().collect()
    }
}

impl<const N: usize> From<[i64; N]> for Timestamps {
    fn from(v: [i64; N]) -> Self {
        v.into_iter().collect()
    }
}

impl FromIterator<i64> for Timestamps {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Self {
        let v: Vec<i64> = iter.into_iter().collect();
        let min = v.iter().copied().min().unwrap_or(0);
        let max = v.iter().copied().max().unwrap_or(0);
        let mut t = Timestamps::with_range(v.len(), min, max);
        for x in v {
            t.push(x);
        }
        t
    }
}

impl PartialEq<Vec<i64>> for Timestamps {
    fn eq(&self, other: &Vec<i64>) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i).copied())
    }
}

impl Serialize for Timestamps {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Timestamps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Timestamps;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence of timestamps")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Timestamps, A::Error> {
                let mut t = Timestamps::new();
                while let Some(x) = seq.next_element::<i64>()? {
                    t.push(x);
                }
                Ok(t)
            }
        }
        d.deserialize_seq(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values() -> impl Strategy<Value = Vec<i64>> {
        prop_oneof![
            prop::collection::vec(1_500_000_000i64..1_800_000_000, 0..40),
            prop::collection::vec(1_500_000_000i64..1_500_000_300, 0..40),
            prop::collection::vec(1_500_000_000i64..1_500_070_000, 0..40),
            prop::collection::vec(Just(5i64), 0..40),
            prop::collection::vec(any::<i64>(), 0..40),
        ]
    }

    proptest! {
        #[test]
        fn behaves_like_a_vec(v in values(), extra in any::<i64>(), at in 0usize..50, to in any::<i64>()) {
            let mut t = Timestamps::from(v.clone());
            let mut w = v.clone();
            prop_assert_eq!(t.to_vec(), w.clone());
            prop_assert_eq!(t.iter().collect::<Vec<_>>(), w.clone());
            t.push(extra);
            w.push(extra);
            prop_assert!(t == w);
            let ok = t.set(at, to);
            prop_assert_eq!(ok, at < w.len());
            if let Some(x) = w.get_mut(at) {
                *x = to;
            }
            prop_assert!(t == w);
            prop_assert_eq!(t.pop(), w.pop());
            prop_assert!(t == w);
            let cfg = bincode::config::standard();
            prop_assert_eq!(
                bincode::serde::encode_to_vec(&t, cfg).unwrap(),
                bincode::serde::encode_to_vec(&w, cfg).unwrap()
            );
            let json = serde_json::to_string(&t).unwrap();
            let back: Timestamps = serde_json::from_str(&json).unwrap();
            prop_assert!(back == w);
        }
    }

    #[test]
    fn width_follows_the_span() {
        let years: Timestamps = (0..1000).map(|i| 1_700_000_000 + i * 60_000).collect();
        assert_eq!(years.heap_bytes(), 4000);
        let hours: Timestamps = (0..1000).map(|i| 1_700_000_000 + i * 60).collect();
        assert_eq!(hours.heap_bytes(), 2000);
        let same = Timestamps::from(vec![7; 1000]);
        assert_eq!(
            (same.heap_bytes(), same.get(999), same.get(1000)),
            (0, Some(7), None)
        );
        let wide = Timestamps::from(vec![i64::MIN, i64::MAX]);
        assert_eq!((wide.get(0), wide.get(1)), (Some(i64::MIN), Some(i64::MAX)));
    }

    #[test]
    fn pushing_below_the_base_or_beyond_the_width_re_encodes() {
        let mut t = Timestamps::from(vec![100, 100]);
        t.push(101);
        t.push(99);
        t.push(100_000);
        t.push(i64::MAX);
        assert!(t == vec![100, 100, 101, 99, 100_000, i64::MAX]);
        assert!(t.set(0, i64::MIN));
        assert_eq!(t.get(0), Some(i64::MIN));
    }
}
