//! Per-column inverted indexes for categorical fields: value → code, code → rows.
//!
//! Built once per column (shared by every expression a [`FilterCache`](super::FilterCache)
//! compiles) so that `IN` conditions cost O(matching rows), not O(rows), at request time.

use std::collections::HashMap;
use std::sync::Arc;

use crate::bitset::BitSet;
use crate::catalog::{Column, ColumnKind, ColumnValues};

/// Which table a column belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Side {
    Items,
    Users,
}

/// The inverted index of one categorical column.
#[derive(Debug)]
pub(crate) struct ColumnIndex {
    /// Values compare case-insensitively (boolean columns).
    pub fold_case: bool,
    /// Value (lower-cased when `fold_case`) → canonical code.
    lookup: HashMap<String, u32>,
    /// Dictionary code → canonical code (codes of equal values share one canonical code).
    canon: Vec<u32>,
    /// Rows of canonical code `c`: `rows[offsets[c]..offsets[c + 1]]`, ascending, no repeats.
    offsets: Vec<u32>,
    rows: Vec<u32>,
    /// Row count of the column.
    pub len: usize,
}

impl ColumnIndex {
    /// Indexes `col`; `None` when it is not categorical.
    pub fn build(col: &Column, len: usize) -> Option<ColumnIndex> {
        let ColumnValues::Categorical {
            dictionary,
            offsets,
            codes,
        } = &col.values
        else {
            return None;
        };
        let fold_case = col.kind == ColumnKind::Boolean;
        let mut lookup: HashMap<String, u32> = HashMap::with_capacity(dictionary.len());
        let mut canon = Vec::with_capacity(dictionary.len());
        for (code, v) in dictionary.iter().enumerate() {
            let key = if fold_case {
                v.to_ascii_lowercase()
            } else {
                v.clone()
            };
            let code = u32::try_from(code).unwrap_or(u32::MAX);
            canon.push(*lookup.entry(key).or_insert(code));
        }
        // Count rows per canonical code, then fill (rows visited in order → ascending lists).
        let mut counts = vec![0u32; dictionary.len() + 1];
        let mut last_row_of = vec![u32::MAX; dictionary.len()];
        let row_codes = |r: usize| -> &[u32] {
            match (offsets.get(r), offsets.get(r + 1)) {
                (Some(&a), Some(&b)) if a <= b && (b as usize) <= codes.len() => {
                    &codes[a as usize..b as usize]
                }
                _ => &[],
            }
        };
        for r in 0..len {
            let r32 = u32::try_from(r).unwrap_or(u32::MAX);
            for &c in row_codes(r) {
                if let Some(&k) = canon.get(c as usize)
                    && let Some(last) = last_row_of.get_mut(k as usize)
                    && *last != r32
                {
                    *last = r32;
                    counts[k as usize + 1] += 1;
                }
            }
        }
        for k in 1..counts.len() {
            counts[k] += counts[k - 1];
        }
        let mut fill = counts.clone();
        let mut rows = vec![0u32; counts.last().copied().unwrap_or(0) as usize];
        last_row_of.fill(u32::MAX);
        for r in 0..len {
            let r32 = u32::try_from(r).unwrap_or(u32::MAX);
            for &c in row_codes(r) {
                if let Some(&k) = canon.get(c as usize)
                    && let Some(last) = last_row_of.get_mut(k as usize)
                    && *last != r32
                {
                    *last = r32;
                    if let Some(slot) = fill.get_mut(k as usize)
                        && let Some(dst) = rows.get_mut(*slot as usize)
                    {
                        *dst = r32;
                        *slot += 1;
                    }
                }
            }
        }
        Some(ColumnIndex {
            fold_case,
            lookup,
            canon,
            offsets: counts,
            rows,
            len,
        })
    }

    /// The canonical code of `value`, if any row could hold it.
    pub fn code_of(&self, value: &str) -> Option<u32> {
        if self.fold_case {
            self.lookup.get(&value.to_ascii_lowercase()).copied()
        } else {
            self.lookup.get(value).copied()
        }
    }

    /// The canonical code of dictionary code `code`.
    pub fn canonical(&self, code: u32) -> Option<u32> {
        self.canon.get(code as usize).copied()
    }

    /// Rows holding canonical code `code`.
    pub fn rows_of(&self, code: u32) -> &[u32] {
        let c = code as usize;
        match (self.offsets.get(c), self.offsets.get(c + 1)) {
            (Some(&a), Some(&b)) if a <= b && (b as usize) <= self.rows.len() => {
                &self.rows[a as usize..b as usize]
            }
            _ => &[],
        }
    }

    /// Rows holding any of `codes` (canonical), as a bitset over `0..len`.
    pub fn mask(&self, codes: &[u32]) -> BitSet {
        let mut m = BitSet::empty(self.len);
        for &c in codes {
            for &r in self.rows_of(c) {
                m.insert(r as usize);
            }
        }
        m
    }
}

/// Indexes built so far, keyed by table and column position.
#[derive(Debug, Default)]
pub(crate) struct Indexes {
    map: HashMap<(Side, usize), Arc<ColumnIndex>>,
}

impl Indexes {
    /// The index of column `pos` of `side` (built on first use).
    pub fn get(
        &mut self,
        side: Side,
        pos: usize,
        col: &Column,
        len: usize,
    ) -> Option<Arc<ColumnIndex>> {
        if let Some(ix) = self.map.get(&(side, pos))
            && ix.len == len
        {
            return Some(Arc::clone(ix));
        }
        let ix = Arc::new(ColumnIndex::build(col, len)?);
        self.map.insert((side, pos), Arc::clone(&ix));
        Some(ix)
    }

    pub fn clear(&mut self) {
        self.map.clear();
    }
}
