//! The result of evaluating a filter: the allowed items (or users) as a bitset, with a cheap
//! "everything allowed" form when no expression applied.

use crate::bitset::BitSet;

/// The set of allowed rows (items for [`ItemMask`], users for [`UserMask`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mask {
    len: usize,
    /// `None`: every row in `0..len` is allowed.
    set: Option<BitSet>,
}

/// Allowed items, by catalogue index.
pub type ItemMask = Mask;
/// Allowed users, by user-table index.
pub type UserMask = Mask;

impl Mask {
    /// Everything in `0..len` allowed (no allocation).
    #[must_use]
    pub fn all(len: usize) -> Self {
        Mask { len, set: None }
    }

    /// Exactly the members of `set`.
    #[must_use]
    pub fn from_bitset(set: BitSet) -> Self {
        Mask {
            len: set.len(),
            set: Some(set),
        }
    }

    /// True when `i` is allowed (false when out of range).
    #[inline]
    #[must_use]
    pub fn contains(&self, i: usize) -> bool {
        match &self.set {
            None => i < self.len,
            Some(s) => s.contains(i),
        }
    }

    /// Number of allowed rows.
    #[must_use]
    pub fn count(&self) -> usize {
        self.set.as_ref().map_or(self.len, BitSet::count)
    }

    /// Size of the universe (catalogue or user-table length).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// True when the filter let everything through without building a bitset.
    #[must_use]
    pub fn is_all(&self) -> bool {
        self.set.is_none()
    }

    /// The bitset, or `None` for the all-allowed form.
    #[must_use]
    pub fn as_bitset(&self) -> Option<&BitSet> {
        self.set.as_ref()
    }

    /// The allowed rows as a bitset (materialises the all-allowed form).
    #[must_use]
    pub fn into_bitset(self) -> BitSet {
        self.set.unwrap_or_else(|| BitSet::full(self.len))
    }

    /// Allowed rows in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        let (all, set) = match &self.set {
            None => (Some(0..self.len), None),
            Some(s) => (None, Some(s.iter())),
        };
        all.into_iter().flatten().chain(set.into_iter().flatten())
    }
}
