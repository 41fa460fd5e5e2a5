//! Epoch-second timestamps stored as `u32` offsets from their minimum whenever they span less
//! than 136 years (every real catalogue), else as plain `i64`: half the memory of a `Vec<i64>`
//! for item creation times and history timestamps.
//!
//! Serialised with serde exactly like a `Vec<i64>`.

use std::fmt;

use serde::de::{SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A list of `i64` timestamps. Equality compares values, not representations.
#[derive(Clone)]
pub struct Timestamps {
    repr: Repr,
    /// Whether the narrow base is chosen (else the first value pushed becomes the base).
    based: bool,
}

#[derive(Clone)]
enum Repr {
    /// Value `i` is `base + offsets[i]`.
    Narrow {
        base: i64,
        offsets: Vec<u32>,
    },
    Wide(Vec<i64>),
}

impl Default for Timestamps {
    fn default() -> Self {
        Timestamps {
            repr: Repr::Narrow {
                base: 0,
                offsets: Vec::new(),
            },
            based: false,
        }
    }
}

impl Timestamps {
    #[must_use]
    pub fn new() -> Self {
        Timestamps::default()
    }

    /// A list for values in `min..=max` with room for `count` of them, narrow when the range
    /// allows (decoders read the range first, then push without reallocating).
    #[must_use]
    pub fn with_range(count: usize, min: i64, max: i64) -> Self {
        let narrow = max
            .checked_sub(min)
            .is_some_and(|span| u32::try_from(span).is_ok());
        Timestamps {
            repr: if narrow {
                Repr::Narrow {
                    base: min,
                    offsets: Vec::with_capacity(count),
                }
            } else {
                Repr::Wide(Vec::with_capacity(count))
            },
            based: true,
        }
    }

    #[must_use]
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Narrow { offsets, .. } => offsets.len(),
            Repr::Wide(v) => v.len(),
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
        match &self.repr {
            Repr::Narrow { base, offsets } => offsets.get(i).map(|&o| base + i64::from(o)),
            Repr::Wide(v) => v.get(i).copied(),
        }
    }

    /// The offset of `t` in a narrow list, if it fits (a list without a base takes `t`).
    fn narrow_offset(&mut self, t: i64) -> Option<u32> {
        let based = std::mem::replace(&mut self.based, true);
        match &mut self.repr {
            Repr::Narrow { base, .. } => {
                if !based {
                    *base = t;
                }
                t.checked_sub(*base).and_then(|d| u32::try_from(d).ok())
            }
            Repr::Wide(_) => None,
        }
    }

    /// Switches to plain `i64` values.
    fn widen(&mut self) {
        if let Repr::Narrow { .. } = self.repr {
            self.repr = Repr::Wide(self.to_vec());
        }
    }

    /// Appends `t` (a value outside the narrow range widens the list).
    pub fn push(&mut self, t: i64) {
        if let Some(o) = self.narrow_offset(t)
            && let Repr::Narrow { offsets, .. } = &mut self.repr
        {
            offsets.push(o);
            return;
        }
        self.widen();
        if let Repr::Wide(v) = &mut self.repr {
            v.push(t);
        }
    }

    /// Sets value `i` to `t`; `false` when `i` is out of range.
    pub fn set(&mut self, i: usize, t: i64) -> bool {
        if i >= self.len() {
            return false;
        }
        let fits = match &self.repr {
            Repr::Narrow { base, .. } => t.checked_sub(*base).and_then(|d| u32::try_from(d).ok()),
            Repr::Wide(_) => None,
        };
        if let (Repr::Narrow { offsets, .. }, Some(o)) = (&mut self.repr, fits)
            && let Some(slot) = offsets.get_mut(i)
        {
            *slot = o;
            return true;
        }
        self.widen();
        if let Repr::Wide(v) = &mut self.repr
            && let Some(slot) = v.get_mut(i)
        {
            *slot = t;
        }
        true
    }

    /// Removes the last value.
    pub fn pop(&mut self) -> Option<i64> {
        let last = self.get(self.len().checked_sub(1)?);
        match &mut self.repr {
            Repr::Narrow { offsets, .. } => {
                offsets.pop();
            }
            Repr::Wide(v) => {
                v.pop();
            }
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
        match &self.repr {
            Repr::Narrow { base, offsets } => {
                offsets.iter().map(|&o| base + i64::from(o)).collect()
            }
            Repr::Wide(v) => v.clone(),
        }
    }

    /// Heap bytes held.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        match &self.repr {
            Repr::Narrow { offsets, .. } => offsets.capacity() * 4,
            Repr::Wide(v) => v.capacity() * 8,
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
    fn real_timestamps_take_four_bytes_each() {
        let t: Timestamps = (0..1000).map(|i| 1_700_000_000 + i * 60).collect();
        assert_eq!(t.heap_bytes(), 4000);
        let wide = Timestamps::from(vec![i64::MIN, i64::MAX]);
        assert_eq!(wide.get(1), Some(i64::MAX));
    }
}
