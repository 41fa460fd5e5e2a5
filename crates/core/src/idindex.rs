//! A compact id → index hash table over ids the model already stores, so building the
//! index for 100k items copies no strings (open addressing, linear probing).
//!
//! The table holds one `u32` per slot at a load factor of at most 3/4 (100k ids: 133 334
//! slots, 521 KiB); a slot is picked by multiplying the mixed hash into the table size, so the
//! size need not be a power of two. The slots live in chunks of 128 KiB: the index is built
//! after the model is decoded, and chunks fit the free blocks that decoding leaves in wasm
//! memory (which never shrinks), where one 521 KiB block would grow it instead.
//!
//! While there are fewer than 2^24 − 1 ids, a slot's top 8 bits hold 8 more bits of the id's
//! hash, so a probe compares strings only when those match (1 in 256 of the other ids it
//! passes): at 3/4 load a probe passes several occupied slots, and without the tag each would
//! cost an id lookup and a string compare.

use crate::idlist::IdList;

const EMPTY: u32 = u32::MAX;
/// Bits of a tagged slot that hold the position; the 8 above hold the hash tag.
const POS_BITS: u32 = 24;
const POS_MASK: u32 = (1 << POS_BITS) - 1;

/// Ids addressable by position: what an [`IdIndex`] is built over.
pub trait Ids {
    /// Id at `i`, `None` when out of range.
    fn id(&self, i: usize) -> Option<&str>;
    /// Number of ids.
    fn count(&self) -> usize;
}

impl Ids for IdList {
    #[inline]
    fn id(&self, i: usize) -> Option<&str> {
        self.get(i)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

impl<S: AsRef<str>> Ids for [S] {
    #[inline]
    fn id(&self, i: usize) -> Option<&str> {
        self.get(i).map(AsRef::as_ref)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

impl<S: AsRef<str>> Ids for Vec<S> {
    #[inline]
    fn id(&self, i: usize) -> Option<&str> {
        self.as_slice().id(i)
    }
    fn count(&self) -> usize {
        self.len()
    }
}

/// Slots per chunk (128 KiB).
const CHUNK_BITS: u32 = 15;
const CHUNK: usize = 1 << CHUNK_BITS;

/// Maps external ids to their position in an id list.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    /// Slot `s` is `chunks[s / CHUNK][s % CHUNK]`.
    chunks: Vec<Vec<u32>>,
    len: usize,
    /// Slots carry a hash tag above [`POS_BITS`] (every position fits below `POS_MASK`).
    tagged: bool,
}

/// FNV-1a 64-bit: small, deterministic on every platform.
#[must_use]
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Slots for `n` ids: load factor at most 3/4.
fn slots_for(n: usize) -> usize {
    n.saturating_add(n / 3).saturating_add(1).max(8)
}

/// Hash of an id for the table: 8 bytes at a time (ids are hashed once each while a model
/// loads, 200k of them for the benchmark model), then mixed by the caller.
#[inline]
fn id_hash(bytes: &[u8]) -> u64 {
    const K: u64 = 0x517C_C1B7_2722_0A95;
    let mut h = bytes.len() as u64;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut b = [0u8; 8];
        b[..rest.len()].copy_from_slice(rest);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    h
}

/// The home slot of `id` in a table of `len` slots: a word-at-a-time hash, mixed so that every
/// input byte reaches the high bits, then scaled into `0..len` (no modulo, no power-of-two size); and
/// the id's 8-bit tag from other bits of the same hash.
#[inline]
#[allow(clippy::cast_possible_truncation)]
fn slot_of(id: &str, len: usize) -> (usize, u32) {
    let h = id_hash(id.as_bytes());
    let mixed = (h ^ (h >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (
        (((mixed >> 32) * len as u64) >> 32) as usize,
        ((mixed >> 24) & 0xFF) as u32,
    )
}

impl IdIndex {
    /// Indexes `ids`; for duplicate ids the first position wins.
    #[must_use]
    pub fn build<L: Ids + ?Sized>(ids: &L) -> Self {
        IdIndex::with_slots(ids, slots_for(ids.count()))
    }

    fn with_slots<L: Ids + ?Sized>(ids: &L, slots: usize) -> Self {
        // positions up to count − 1 (and later pushes re-check) stay below the mask
        IdIndex::with_mode(ids, slots, ids.count() < POS_MASK as usize)
    }

    fn with_mode<L: Ids + ?Sized>(ids: &L, slots: usize, tagged: bool) -> Self {
        let mut chunks = Vec::with_capacity(slots.div_ceil(CHUNK));
        let mut left = slots;
        while left > 0 {
            let n = left.min(CHUNK);
            chunks.push(vec![EMPTY; n]);
            left -= n;
        }
        let mut idx = IdIndex {
            chunks,
            len: slots,
            tagged,
        };
        for i in 0..ids.count() {
            if let (Ok(v), Some(id)) = (u32::try_from(i), ids.id(i)) {
                idx.insert(ids, id, v);
            }
        }
        idx
    }

    #[inline]
    fn slot(&self, s: usize) -> u32 {
        self.chunks
            .get(s >> CHUNK_BITS)
            .and_then(|c| c.get(s & (CHUNK - 1)))
            .copied()
            .unwrap_or(EMPTY)
    }

    /// The position a slot holds when it may hold `tag`'s id: every occupied slot untagged,
    /// only slots with the same tag when tagged.
    #[inline]
    fn candidate(&self, v: u32, tag: u32) -> Option<u32> {
        if !self.tagged {
            Some(v)
        } else if v >> POS_BITS == tag {
            Some(v & POS_MASK)
        } else {
            None
        }
    }

    fn insert<L: Ids + ?Sized>(&mut self, ids: &L, id: &str, value: u32) {
        let len = self.len;
        let (mut s, tag) = slot_of(id, len);
        for _ in 0..len {
            match self.slot(s) {
                EMPTY => {
                    let v = if self.tagged {
                        (tag << POS_BITS) | value
                    } else {
                        value
                    };
                    if let Some(slot) = self
                        .chunks
                        .get_mut(s >> CHUNK_BITS)
                        .and_then(|c| c.get_mut(s & (CHUNK - 1)))
                    {
                        *slot = v;
                    }
                    return;
                }
                v if self
                    .candidate(v, tag)
                    .is_some_and(|p| ids.id(p as usize) == Some(id)) =>
                {
                    return;
                }
                _ => s = if s + 1 == len { 0 } else { s + 1 },
            }
        }
    }

    /// Adds `ids[value]`, growing the table when it gets dense (for items added at run time).
    pub fn push<L: Ids + ?Sized>(&mut self, ids: &L, value: u32) {
        let n = value as usize + 1;
        if slots_for(n) > self.len || (self.tagged && value >= POS_MASK) {
            // Room for as many again, so that a run of pushes rebuilds O(log n) times.
            *self = IdIndex::with_slots(ids, slots_for(n.saturating_mul(2)));
            return;
        }
        if let Some(id) = ids.id(value as usize) {
            self.insert(ids, id, value);
        }
    }

    /// Position of `id` in `ids` (the same list the index was built from).
    #[must_use]
    #[inline]
    pub fn get<L: Ids + ?Sized>(&self, ids: &L, id: &str) -> Option<u32> {
        let len = self.len;
        if len == 0 {
            return None;
        }
        let (mut s, tag) = slot_of(id, len);
        // The load factor keeps empty slots, so a probe ends long before `len` steps.
        for _ in 0..len {
            match self.slot(s) {
                EMPTY => return None,
                v => {
                    if let Some(p) = self.candidate(v, tag)
                        && ids.id(p as usize) == Some(id)
                    {
                        return Some(p);
                    }
                    s = if s + 1 == len { 0 } else { s + 1 };
                }
            }
        }
        None
    }

    /// Heap bytes held.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<u32>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn untagged_slots_find_every_id() {
        // the layout for more than 2^24 - 1 ids, on a small list
        let ids: IdList = (0..1000).map(|i| format!("item-{i}")).collect();
        let idx = IdIndex::with_mode(&ids, slots_for(1000), false);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get(&ids, id), Some(i as u32));
        }
        assert_eq!(idx.get(&ids, "nope"), None);
    }

    #[test]
    fn finds_every_id_and_rejects_others() {
        let ids: IdList = (0..1000).map(|i| format!("item-{i}")).collect();
        let idx = IdIndex::build(&ids);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get(&ids, id), Some(i as u32));
        }
        assert_eq!(idx.get(&ids, "nope"), None);
        assert!(idx.heap_bytes() <= 1334 * 4);
    }

    #[test]
    fn tables_larger_than_a_chunk_find_every_id() {
        let ids: IdList = (0..60_000).map(|i| format!("item-{i}")).collect();
        let idx = IdIndex::build(&ids);
        assert!(idx.chunks.len() >= 3);
        assert!(idx.chunks.iter().all(|c| c.len() <= CHUNK));
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get(&ids, id), Some(i as u32));
        }
        assert_eq!(idx.get(&ids, "item-60000"), None);
    }

    #[test]
    fn push_grows() {
        let mut ids = IdList::from(vec!["a"]);
        let mut idx = IdIndex::build(&ids);
        for i in 1..100u32 {
            ids.push(&format!("x{i}"));
            idx.push(&ids, i);
        }
        assert_eq!(idx.get(&ids, "x57"), Some(57));
        assert_eq!(idx.get(&ids, "a"), Some(0));
        assert_eq!(idx.get(&ids, "x100"), None);
    }

    #[test]
    fn empty_lists_find_nothing() {
        let ids = IdList::new();
        assert_eq!(IdIndex::build(&ids).get(&ids, ""), None);
        assert_eq!(IdIndex::default().get(&ids, "a"), None);
    }

    proptest! {
        #[test]
        fn every_id_maps_to_its_first_position(
            v in prop::collection::vec(prop_oneof![Just(String::new()), "[a-c]{0,3}", "\\PC{0,6}"], 0..200)
        ) {
            let ids = IdList::from(v.clone());
            let idx = IdIndex::build(&ids);
            for id in &v {
                let first = v.iter().position(|x| x == id).map(|p| p as u32);
                prop_assert_eq!(idx.get(&ids, id), first);
            }
            prop_assert_eq!(idx.get(&ids, "\u{0}absent\u{0}"), None);
        }
    }
}
