//! A list of external ids stored as one string plus compact end offsets: 100k ids cost their
//! bytes and about two bytes each, instead of a `String` (pointer, length, capacity and a heap
//! block) apiece.
//!
//! ```text
//! text:   "item-0item-1item-10…"
//! starts: [0, 230, …]            text offset of each block of 32 ids
//! rel:    [6, 12, 19, …]         end of id i relative to its block's start (u16)
//! get(i) = text[start(i)..starts[i/32] + rel[i]], start(i) = end of id i-1 (or the block start)
//! ```
//!
//! A block of 32 ids spans at most 32 KiB of text with ids of up to 1 KiB (256 characters), so
//! the `u16` offsets always fit in practice; a list whose ids are longer switches to one
//! `usize` end per id, so appending never fails.
//!
//! Serialised with serde exactly like a `Vec<String>` (a sequence of strings), so any encoding
//! of a catalogue is unchanged; deserialising appends each string to the text without
//! allocating it on its own.

use std::fmt;

use serde::de::{DeserializeSeed, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Ids per block of relative offsets.
const BLOCK: usize = 32;

/// External ids in order; the position of an id is its internal index.
#[derive(Clone, Default)]
pub struct IdList {
    text: String,
    ends: Ends,
}

#[derive(Clone)]
enum Ends {
    Blocked {
        /// Text offset where block `b` (ids `32 b ..`) starts.
        starts: Vec<usize>,
        /// End of id `i` relative to `starts[i / 32]`.
        rel: Vec<u16>,
    },
    /// End of id `i` in the text.
    Wide(Vec<usize>),
}

impl Default for Ends {
    fn default() -> Self {
        Ends::Blocked {
            starts: Vec::new(),
            rel: Vec::new(),
        }
    }
}

impl Ends {
    fn len(&self) -> usize {
        match self {
            Ends::Blocked { rel, .. } => rel.len(),
            Ends::Wide(v) => v.len(),
        }
    }

    #[inline]
    fn end(&self, i: usize) -> Option<usize> {
        match self {
            Ends::Blocked { starts, rel } => {
                Some(starts.get(i / BLOCK)? + usize::from(*rel.get(i)?))
            }
            Ends::Wide(v) => v.get(i).copied(),
        }
    }

    #[inline]
    fn start(&self, i: usize) -> Option<usize> {
        match self {
            Ends::Blocked { starts, rel } => {
                let base = *starts.get(i / BLOCK)?;
                if i.is_multiple_of(BLOCK) {
                    Some(base)
                } else {
                    Some(base + usize::from(*rel.get(i - 1)?))
                }
            }
            Ends::Wide(v) => match i.checked_sub(1) {
                Some(p) => v.get(p).copied(),
                None => Some(0),
            },
        }
    }

    fn to_wide(&self) -> Vec<usize> {
        (0..self.len()).filter_map(|i| self.end(i)).collect()
    }
}

impl IdList {
    /// An empty list.
    #[must_use]
    pub fn new() -> Self {
        IdList::default()
    }

    /// An empty list with room for `count` ids totalling `bytes` bytes, so that building a
    /// list of known size allocates exactly once per buffer.
    #[must_use]
    pub fn with_capacity(count: usize, bytes: usize) -> Self {
        IdList {
            text: String::with_capacity(bytes),
            ends: Ends::Blocked {
                starts: Vec::with_capacity(count.div_ceil(BLOCK)),
                rel: Vec::with_capacity(count),
            },
        }
    }

    /// Appends an id.
    pub fn push(&mut self, id: &str) {
        let start = self.text.len();
        self.text.push_str(id);
        let end = self.text.len();
        if let Ends::Blocked { starts, rel } = &mut self.ends {
            if rel.len().is_multiple_of(BLOCK) {
                starts.push(start);
            }
            let base = starts.last().copied().unwrap_or(0);
            if let Ok(r) = u16::try_from(end - base) {
                rel.push(r);
                return;
            }
            if rel.len().is_multiple_of(BLOCK) {
                starts.pop();
            }
            self.ends = Ends::Wide(self.ends.to_wide());
        }
        if let Ends::Wide(v) = &mut self.ends {
            v.push(end);
        }
    }

    /// Removes the last id.
    pub fn pop(&mut self) -> Option<String> {
        let last = self.len().checked_sub(1)?;
        let id = self.get(last).map(str::to_owned);
        self.truncate(last);
        id
    }

    /// Keeps the first `len` ids.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len() {
            return;
        }
        let text_len = self.ends.start(len).unwrap_or(0);
        match &mut self.ends {
            Ends::Blocked { starts, rel } => {
                rel.truncate(len);
                starts.truncate(len.div_ceil(BLOCK));
            }
            Ends::Wide(v) => v.truncate(len),
        }
        self.text.truncate(text_len);
    }

    /// Number of ids.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Id `i`, `None` when out of range.
    #[must_use]
    #[inline]
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = self.ends.end(i)?;
        let start = self.ends.start(i)?;
        self.text.get(start..end)
    }

    /// Whether `id` is in the list (a linear scan; use an [`crate::idindex::IdIndex`] for
    /// repeated lookups).
    #[must_use]
    pub fn contains(&self, id: &str) -> bool {
        self.iter().any(|x| x == id)
    }

    /// The ids in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            front: 0,
            back: self.len(),
        }
    }

    /// The ids as owned strings.
    #[must_use]
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }

    /// Heap bytes held (every buffer's capacity).
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        let word = std::mem::size_of::<usize>();
        self.text.capacity()
            + match &self.ends {
                Ends::Blocked { starts, rel } => starts.capacity() * word + rel.capacity() * 2,
                Ends::Wide(v) => v.capacity() * word,
            }
    }
}

impl PartialEq for IdList {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for IdList {}

impl std::ops::Index<usize> for IdList {
    type Output = str;

    /// Id `i`; panics when out of range, like a slice. Input paths use [`IdList::get`].
    #[allow(clippy::panic)]
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(id) => id,
            None => panic!("id index {i} out of range for a list of {}", self.len()),
        }
    }
}

impl fmt::Debug for IdList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// Iterator over the ids of an [`IdList`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    list: &'a IdList,
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a str;

    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        if self.front >= self.back {
            return None;
        }
        let id = self.list.get(self.front);
        self.front += 1;
        id
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back.saturating_sub(self.front);
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.list.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a IdList {
    type Item = &'a str;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<S: AsRef<str>> FromIterator<S> for IdList {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut list = IdList::new();
        list.extend(iter);
        list
    }
}

impl<S: AsRef<str>> Extend<S> for IdList {
    fn extend<I: IntoIterator<Item = S>>(&mut self, iter: I) {
        for id in iter {
            self.push(id.as_ref());
        }
    }
}

impl<S: AsRef<str>> From<Vec<S>> for IdList {
    fn from(v: Vec<S>) -> Self {
        let bytes = v.iter().map(|s| s.as_ref().len()).sum();
        let mut list = IdList::with_capacity(v.len(), bytes);
        list.extend(v);
        list
    }
}

impl<S: AsRef<str>, const N: usize> From<[S; N]> for IdList {
    fn from(v: [S; N]) -> Self {
        v.into_iter().collect()
    }
}

impl<S: AsRef<str>> From<&[S]> for IdList {
    fn from(v: &[S]) -> Self {
        v.iter().collect()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for IdList {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for IdList {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for IdList {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl Serialize for IdList {
    fn serialize<Z: Serializer>(&self, s: Z) -> Result<Z::Ok, Z::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for IdList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ListVisitor)
    }
}

/// Ids reserved before the first one is read, whatever length the input claims.
const DESERIALIZE_PREALLOC: usize = 4096;

struct ListVisitor;

impl<'de> Visitor<'de> for ListVisitor {
    type Value = IdList;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence of id strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<IdList, A::Error> {
        let hint = seq.size_hint().unwrap_or(0).min(DESERIALIZE_PREALLOC);
        let mut list = IdList::with_capacity(hint, 0);
        while seq.next_element_seed(Append(&mut list))?.is_some() {}
        Ok(list)
    }
}

/// Deserialises one string straight onto the end of a list.
struct Append<'l>(&'l mut IdList);

impl<'de> DeserializeSeed<'de> for Append<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Append<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an id string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push(v);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids() -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(
            prop_oneof![Just(String::new()), "[a-z0-9-]{1,12}", "\\PC{0,8}"],
            0..100,
        )
    }

    proptest! {
        #[test]
        fn holds_every_id_in_order(v in ids()) {
            let list = IdList::from(v.clone());
            prop_assert_eq!(list.len(), v.len());
            prop_assert_eq!(list.is_empty(), v.is_empty());
            for (i, id) in v.iter().enumerate() {
                prop_assert_eq!(list.get(i), Some(id.as_str()));
                prop_assert_eq!(&list[i], id.as_str());
            }
            prop_assert_eq!(list.get(v.len()), None);
            prop_assert_eq!(list.iter().collect::<Vec<_>>(), v.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(list.iter().rev().count(), v.len());
            prop_assert_eq!(list.to_vec(), v.clone());
            prop_assert!(list == v);
        }

        #[test]
        fn serde_matches_a_vec_of_strings(v in ids()) {
            let list: IdList = v.iter().collect();
            let cfg = bincode::config::standard();
            let ours = bincode::serde::encode_to_vec(&list, cfg).unwrap();
            let theirs = bincode::serde::encode_to_vec(&v, cfg).unwrap();
            prop_assert_eq!(&ours, &theirs);
            let (back, used): (IdList, usize) = bincode::serde::decode_from_slice(&ours, cfg).unwrap();
            prop_assert_eq!(used, ours.len());
            prop_assert_eq!(&back, &list);
            let json = serde_json::to_string(&list).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&v).unwrap());
            let back: IdList = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, list);
        }

        #[test]
        fn pop_and_truncate_match_a_vec(v in ids(), keep in 0usize..110) {
            let mut list = IdList::from(v.clone());
            let mut w = v.clone();
            list.truncate(keep);
            w.truncate(keep);
            prop_assert!(list == w);
            prop_assert_eq!(list.pop(), w.pop());
            prop_assert!(list == w);
            list.push("tail");
            w.push("tail".into());
            prop_assert!(list == w);
        }
    }

    #[test]
    fn with_capacity_allocates_once() {
        let mut list = IdList::with_capacity(3, 7);
        for id in ["ab", "", "cdefg"] {
            list.push(id);
        }
        assert_eq!(list.heap_bytes(), 7 + std::mem::size_of::<usize>() + 3 * 2);
        assert_eq!(list, ["ab", "", "cdefg"]);
    }

    #[test]
    fn ids_too_long_for_relative_offsets_switch_to_plain_ends() {
        let long = "x".repeat(40_000);
        let mut v: Vec<String> = (0..70).map(|i| format!("id-{i}")).collect();
        v[33] = long.clone();
        v[34] = long.clone();
        v[65] = long;
        let mut list = IdList::new();
        for id in &v {
            list.push(id);
        }
        assert!(list == v);
        list.truncate(34);
        v.truncate(34);
        assert!(list == v);
        assert_eq!(list.pop(), v.pop());
        assert!(list == v);
    }

    #[test]
    fn rejects_non_strings() {
        let r: Result<IdList, _> = serde_json::from_str("[\"a\", 3]");
        assert!(r.is_err());
    }
}
