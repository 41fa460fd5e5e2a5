//! `POPULARITY`: per-item counts and the ranking they give (the fallback ranking, and a
//! popularity recommender's model).

use serde::{Deserialize, Serialize};

use super::ReadWire;
#[cfg(feature = "write")]
use crate::format::codec::VarintBuf;
use crate::format::codec::{CodecError, Varints};
use crate::format::read::{Read, Reader};
use crate::model::PopularityModel;

/// `POPULARITY` (and a popularity recommender's model).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PopularityWire<'a> {
    #[serde(borrow)]
    pub counts: Varints<'a>,
    /// Empty with `ranked_derived` set when `ranked` is exactly the order the counts give
    /// (non-zero counts, descending, ties by ascending item index): the decoder rebuilds it.
    pub ranked_derived: bool,
    #[serde(borrow)]
    pub ranked: Varints<'a>,
}

impl<'a> ReadWire<'a> for PopularityWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(PopularityWire {
            counts: r.varints()?,
            ranked_derived: r.bool()?,
            ranked: r.varints()?,
        })
    }
}

/// Items with a non-zero count, most popular first, ties by ascending index. A counting sort
/// when the counts are small relative to the catalogue (the usual case), else a comparison sort.
fn rank(counts: &[u32]) -> Vec<u32> {
    let max = counts.iter().copied().max().unwrap_or(0) as usize;
    if max <= counts.len().saturating_mul(4) {
        // The result is allocated before the scratch table, so that freeing the table leaves
        // no hole below the result (wasm memory never shrinks; a hole is memory spent).
        let mut out = vec![0u32; counts.iter().filter(|&&c| c > 0).count()];
        // starts[c] = first output slot of count c, for counts in descending order
        let mut starts = vec![0usize; max + 1];
        for &c in counts {
            if let Some(s) = starts.get_mut(c as usize) {
                *s += 1;
            }
        }
        let mut next = 0usize;
        for c in (1..=max).rev() {
            if let Some(s) = starts.get_mut(c) {
                let n = *s;
                *s = next;
                next += n;
            }
        }
        debug_assert_eq!(next, out.len());
        for (i, &c) in counts.iter().enumerate() {
            if c == 0 {
                continue;
            }
            if let (Some(s), Ok(i)) = (starts.get_mut(c as usize), u32::try_from(i)) {
                if let Some(slot) = out.get_mut(*s) {
                    *slot = i;
                }
                *s += 1;
            }
        }
        return out;
    }
    let mut r: Vec<u32> = (0..counts.len())
        .filter(|&i| counts.get(i).is_some_and(|&c| c > 0))
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    crate::sort::sort_by_key(&mut r, |&i| {
        (
            std::cmp::Reverse(counts.get(i as usize).copied().unwrap_or(0)),
            i,
        )
    });
    r
}

impl PopularityWire<'_> {
    pub(crate) fn into_model(self, what: &str) -> Result<PopularityModel, CodecError> {
        let counts = self.counts.to_u32(what)?;
        let ranked = if self.ranked_derived {
            if self.ranked.count != 0 {
                return Err(CodecError::new(what, "derived ranking with stored items"));
            }
            rank(&counts)
        } else {
            self.ranked.to_u32(what)?
        };
        Ok(PopularityModel { counts, ranked })
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use super::*;

    pub(crate) struct PopularityBufs {
        counts: VarintBuf,
        derived: bool,
        ranked: VarintBuf,
    }

    impl PopularityBufs {
        pub(crate) fn new(p: &PopularityModel) -> Self {
            let PopularityModel { counts, ranked } = p;
            let derived = rank(counts) == *ranked;
            PopularityBufs {
                counts: VarintBuf::plain(counts.iter().map(|&c| u64::from(c))),
                derived,
                ranked: if derived {
                    VarintBuf::default()
                } else {
                    VarintBuf::plain(ranked.iter().map(|&c| u64::from(c)))
                },
            }
        }

        pub(crate) fn wire(&self) -> PopularityWire<'_> {
            PopularityWire {
                counts: self.counts.wire(),
                ranked_derived: self.derived,
                ranked: self.ranked.wire(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn counting_and_comparison_ranks_agree() {
        let small = [3u32, 0, 1, 3, 2, 0, 1];
        assert_eq!(rank(&small), vec![0, 3, 4, 2, 6]);
        let big = [u32::MAX, 0, 7, u32::MAX, 7];
        assert_eq!(rank(&big), vec![0, 3, 2, 4]);
        assert!(rank(&[]).is_empty());
        assert!(rank(&[0, 0]).is_empty());
    }
}
