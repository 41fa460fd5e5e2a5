//! A compact id → index hash table over ids the model already stores, so building the
//! index for 100k items copies no strings (open addressing, FNV-1a, linear probing).

const EMPTY: u32 = u32::MAX;

/// Maps external ids to their position in an id list.
#[derive(Debug, Clone, Default)]
pub struct IdIndex {
    slots: Vec<u32>,
    mask: usize,
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

#[allow(clippy::cast_possible_truncation)]
fn slot_of(id: &str, mask: usize) -> usize {
    (fnv1a(id.as_bytes()) as usize) & mask
}

impl IdIndex {
    /// Indexes `ids`; for duplicate ids the first position wins.
    #[must_use]
    pub fn build<S: AsRef<str>>(ids: &[S]) -> Self {
        let cap = (ids.len().max(4) * 2).next_power_of_two();
        let mut idx = IdIndex {
            slots: vec![EMPTY; cap],
            mask: cap - 1,
        };
        for (i, id) in ids.iter().enumerate() {
            if let Ok(i) = u32::try_from(i) {
                idx.insert(ids, id.as_ref(), i);
            }
        }
        idx
    }

    fn insert<S: AsRef<str>>(&mut self, ids: &[S], id: &str, value: u32) {
        let mut s = slot_of(id, self.mask);
        loop {
            match self.slots[s] {
                EMPTY => {
                    self.slots[s] = value;
                    return;
                }
                v if ids.get(v as usize).is_some_and(|x| x.as_ref() == id) => return,
                _ => s = (s + 1) & self.mask,
            }
        }
    }

    /// Adds `ids[value]`, growing the table when it gets dense (for items added at run time).
    pub fn push<S: AsRef<str>>(&mut self, ids: &[S], value: u32) {
        if (value as usize + 1) * 2 > self.slots.len() {
            *self = IdIndex::build(ids);
            return;
        }
        if let Some(id) = ids.get(value as usize) {
            self.insert(ids, id.as_ref(), value);
        }
    }

    /// Position of `id` in `ids` (the same list the index was built from).
    #[must_use]
    pub fn get<S: AsRef<str>>(&self, ids: &[S], id: &str) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mut s = slot_of(id, self.mask);
        loop {
            match self.slots[s] {
                EMPTY => return None,
                v if ids.get(v as usize).is_some_and(|x| x.as_ref() == id) => return Some(v),
                _ => s = (s + 1) & self.mask,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_id_and_rejects_others() {
        let ids: Vec<String> = (0..1000).map(|i| format!("item-{i}")).collect();
        let idx = IdIndex::build(&ids);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(idx.get(&ids, id), Some(i as u32));
        }
        assert_eq!(idx.get(&ids, "nope"), None);
    }

    #[test]
    fn push_grows() {
        let mut ids: Vec<String> = vec!["a".into()];
        let mut idx = IdIndex::build(&ids);
        for i in 1..100u32 {
            ids.push(format!("x{i}"));
            idx.push(&ids, i);
        }
        assert_eq!(idx.get(&ids, "x57"), Some(57));
        assert_eq!(idx.get(&ids, "a"), Some(0));
    }
}
