//! The shapes of neighbour recommenders: the neighbour lists themselves, and what extensions
//! add to them: the history decay (`CAP_HISTORY_DECAY`), the short-session prior and its
//! timeline (`CAP_SESSION_POPULARITY`, `CAP_POPULARITY_TIMELINE`), session neighbours and
//! session pairs (`CAP_SESSION_NEIGHBORS`, `CAP_SESSION_PAIRS`), transition lists
//! (`CAP_TRANSITIONS`) and item content (`CAP_CONTENT`).

use serde::{Deserialize, Serialize};

use super::ReadWire;
use super::factors::ContentWire;
use crate::format::codec::{Blob, CodecError, Varints, to_f32};
#[cfg(feature = "write")]
use crate::format::codec::{VarintBuf, f32_bytes};
use crate::format::read::{Read, Reader};
use crate::model::{LEGACY_HISTORY_DECAY, NeighborModel, PopularityTimeline, TransitionLists};
use crate::session::neighbors::SessionNeighbors;
use crate::session::pairs::SessionPairs;

/// Session pairs (`CAP_SESSION_PAIRS`), see [`crate::session::pairs::SessionPairs`]: per item
/// its cells, offsets delta-coded, neighbouring items, days as zigzag differences and `f32`
/// little-endian weights.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct SessionPairsWire<'a> {
    #[serde(borrow)]
    pub offsets: Varints<'a>,
    #[serde(borrow)]
    pub neighbors: Varints<'a>,
    #[serde(borrow)]
    pub days: Varints<'a>,
    #[serde(borrow)]
    pub weights: Blob<'a>,
}

/// Weighted lists in CSR layout (`CAP_TRANSITIONS`): offsets delta-coded, items, and `f32`
/// little-endian weights.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ListsWire<'a> {
    #[serde(borrow)]
    pub offsets: Varints<'a>,
    #[serde(borrow)]
    pub neighbors: Varints<'a>,
    #[serde(borrow)]
    pub weights: Blob<'a>,
}

/// Session-neighbour settings (`CAP_SESSION_NEIGHBORS`), see
/// [`crate::session::neighbors::SessionNeighbors`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct SessionNeighborsWire {
    pub weight: f32,
    pub users: u32,
    pub window_days: f32,
    pub position_decay: f32,
}

/// A popularity timeline (`CAP_POPULARITY_TIMELINE`): per item its non-empty bins (numbers
/// delta-coded within the item) and their counts.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TimelineWire<'a> {
    pub origin: f64,
    pub bin_seconds: f64,
    pub window_seconds: f64,
    #[serde(borrow)]
    pub offsets: Varints<'a>,
    #[serde(borrow)]
    pub bins: Varints<'a>,
    #[serde(borrow)]
    pub counts: Varints<'a>,
}

impl TimelineWire<'_> {
    fn into_model(self, what: &str) -> Result<PopularityTimeline, CodecError> {
        let what = format!("{what}: popularity timeline");
        let offsets = self.offsets.to_offsets(&what)?;
        let mut bins = self.bins.to_u32(&what)?;
        let counts = self.counts.to_u32(&what)?;
        if offsets.last().is_none_or(|&o| o as usize != bins.len()) || counts.len() != bins.len() {
            return Err(CodecError::new(&what, "offsets, bins and counts disagree"));
        }
        for w in offsets.windows(2) {
            let mut prev: Option<u32> = None;
            for b in &mut bins[w[0] as usize..w[1] as usize] {
                let v = match prev {
                    None => *b,
                    Some(p) => p
                        .checked_add(*b)
                        .ok_or_else(|| CodecError::new(&what, "bin number overflows"))?,
                };
                *b = v;
                prev = Some(v);
            }
        }
        Ok(PopularityTimeline::new(
            self.origin,
            self.bin_seconds,
            self.window_seconds,
            offsets,
            bins,
            counts,
        ))
    }
}

impl<'a> ReadWire<'a> for ListsWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(ListsWire {
            offsets: r.varints()?,
            neighbors: r.varints()?,
            weights: r.blob()?,
        })
    }
}

impl<'a> ReadWire<'a> for SessionPairsWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(SessionPairsWire {
            offsets: r.varints()?,
            neighbors: r.varints()?,
            days: r.varints()?,
            weights: r.blob()?,
        })
    }
}

impl<'a> ReadWire<'a> for SessionNeighborsWire {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(SessionNeighborsWire {
            weight: r.f32()?,
            users: r.u32()?,
            window_days: r.f32()?,
            position_decay: r.f32()?,
        })
    }
}

impl<'a> ReadWire<'a> for TimelineWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(TimelineWire {
            origin: r.f64()?,
            bin_seconds: r.f64()?,
            window_seconds: r.f64()?,
            offsets: r.varints()?,
            bins: r.varints()?,
            counts: r.varints()?,
        })
    }
}

/// A neighbour model as any of its encodings gives it: the lists, and what the encoding's
/// extensions (or, in the older encodings, its fixed fields) add. What an encoding does not
/// store keeps its 1.0 meaning: the 1.0 history decay, no prior, nothing else.
pub(crate) struct NeighborParts<'a> {
    pub lists: ListsWire<'a>,
    pub history_decay: f32,
    pub session_popularity: f32,
    pub timeline: Option<TimelineWire<'a>>,
    pub session_neighbors: Option<SessionNeighborsWire>,
    pub session_pairs: Option<SessionPairsWire<'a>>,
    pub transitions: Option<ListsWire<'a>>,
    pub content: Option<ContentWire<'a>>,
}

impl<'a> NeighborParts<'a> {
    pub(crate) fn new(lists: ListsWire<'a>) -> Self {
        NeighborParts {
            lists,
            history_decay: LEGACY_HISTORY_DECAY,
            session_popularity: 0.0,
            timeline: None,
            session_neighbors: None,
            session_pairs: None,
            transitions: None,
            content: None,
        }
    }

    pub(crate) fn into_model(self, what: &str) -> Result<NeighborModel, CodecError> {
        let lists = self.lists;
        Ok(NeighborModel {
            offsets: lists.offsets.to_offsets(what)?,
            neighbors: lists.neighbors.to_u32(what)?,
            weights: to_f32(lists.weights, what)?,
            history_decay: self.history_decay,
            session_popularity: self.session_popularity,
            timeline: match self.timeline {
                Some(t) => Some(Box::new(t.into_model(what)?)),
                None => None,
            },
            // Checked with the rest of the model (`check::model`).
            session_neighbors: self.session_neighbors.map(|w| {
                Box::new(SessionNeighbors::new(
                    w.weight,
                    w.users,
                    w.window_days,
                    w.position_decay,
                ))
            }),
            content: match self.content {
                Some(c) => Some(Box::new(c.into_model(what)?)),
                None => None,
            },
            transitions: match self.transitions {
                Some(t) => Some(Box::new(TransitionLists {
                    offsets: t.offsets.to_offsets(what)?,
                    neighbors: t.neighbors.to_u32(what)?,
                    weights: to_f32(t.weights, what)?,
                })),
                None => None,
            },
            session_pairs: match self.session_pairs {
                Some(p) => Some(Box::new(SessionPairs {
                    offsets: p.offsets.to_offsets(what)?,
                    neighbors: p.neighbors.to_u32(what)?,
                    days: p.days.to_timestamps(what)?,
                    weights: to_f32(p.weights, what)?,
                })),
                None => None,
            },
        })
    }
}

/// The extension capabilities a neighbour model needs: each is one extension block.
pub(crate) fn extensions(n: &NeighborModel) -> u64 {
    use crate::format::{
        CAP_CONTENT, CAP_HISTORY_DECAY, CAP_POPULARITY_TIMELINE, CAP_SESSION_NEIGHBORS,
        CAP_SESSION_PAIRS, CAP_SESSION_POPULARITY, CAP_TRANSITIONS,
    };
    let bit = |on: bool, cap: u64| if on { cap } else { 0 };
    bit(
        n.history_decay.to_bits() != LEGACY_HISTORY_DECAY.to_bits(),
        CAP_HISTORY_DECAY,
    ) | bit(n.content.is_some(), CAP_CONTENT)
        | bit(n.session_popularity.to_bits() != 0, CAP_SESSION_POPULARITY)
        | bit(n.timeline.is_some(), CAP_POPULARITY_TIMELINE)
        | bit(n.session_neighbors.is_some(), CAP_SESSION_NEIGHBORS)
        | bit(n.transitions.is_some(), CAP_TRANSITIONS)
        | bit(n.session_pairs.is_some(), CAP_SESSION_PAIRS)
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use bincode::error::EncodeError;

    use super::*;
    use crate::format::wire::block::out::Extensions;
    use crate::format::wire::factors::out::ContentBufs;
    use crate::format::{
        CAP_CONTENT, CAP_HISTORY_DECAY, CAP_POPULARITY_TIMELINE, CAP_SESSION_NEIGHBORS,
        CAP_SESSION_PAIRS, CAP_SESSION_POPULARITY, CAP_TRANSITIONS,
    };

    /// A neighbour model's lists and its extension blocks.
    pub(crate) struct NeighborsBufs {
        pub lists: ListsBufs,
        pub extensions: Extensions,
    }

    impl NeighborsBufs {
        pub(crate) fn new(n: &NeighborModel) -> Result<Self, EncodeError> {
            let NeighborModel {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors,
                session_pairs,
                content,
                transitions,
            } = n;
            let on = extensions(n);
            let mut ext = Extensions::default();
            if on & CAP_HISTORY_DECAY != 0 {
                ext.push(CAP_HISTORY_DECAY, history_decay)?;
            }
            if let Some(c) = content {
                ext.push(CAP_CONTENT, ContentBufs::new(c).wire())?;
            }
            if on & CAP_SESSION_POPULARITY != 0 {
                ext.push(CAP_SESSION_POPULARITY, session_popularity)?;
            }
            if let Some(t) = timeline {
                ext.push(CAP_POPULARITY_TIMELINE, TimelineBufs::new(t).wire())?;
            }
            if let Some(sn) = session_neighbors {
                ext.push(CAP_SESSION_NEIGHBORS, session_neighbors_wire(sn))?;
            }
            if let Some(t) = transitions {
                let t = ListsBufs::new(&t.offsets, &t.neighbors, &t.weights);
                ext.push(CAP_TRANSITIONS, t.wire())?;
            }
            if let Some(p) = session_pairs {
                ext.push(CAP_SESSION_PAIRS, PairsBufs::new(p).wire())?;
            }
            Ok(NeighborsBufs {
                lists: ListsBufs::new(offsets, neighbors, weights),
                extensions: ext,
            })
        }
    }

    /// Weighted CSR lists: offsets (delta-coded), items, weights.
    pub(crate) struct ListsBufs(VarintBuf, VarintBuf, Vec<u8>);

    impl ListsBufs {
        fn new(offsets: &[u32], neighbors: &[u32], weights: &[f32]) -> Self {
            ListsBufs(
                VarintBuf::deltas(offsets),
                VarintBuf::plain(neighbors.iter().map(|&n| u64::from(n))),
                f32_bytes(weights),
            )
        }

        pub(crate) fn wire(&self) -> ListsWire<'_> {
            ListsWire {
                offsets: self.0.wire(),
                neighbors: self.1.wire(),
                weights: Blob(&self.2),
            }
        }
    }

    /// Session pairs: offsets (delta-coded), items, days (zigzag differences), weights.
    struct PairsBufs(VarintBuf, VarintBuf, VarintBuf, Vec<u8>);

    impl PairsBufs {
        fn new(p: &SessionPairs) -> Self {
            PairsBufs(
                VarintBuf::deltas(&p.offsets),
                VarintBuf::plain(p.neighbors.iter().map(|&n| u64::from(n))),
                VarintBuf::signed_deltas(&p.days.to_vec()),
                f32_bytes(&p.weights),
            )
        }

        fn wire(&self) -> SessionPairsWire<'_> {
            SessionPairsWire {
                offsets: self.0.wire(),
                neighbors: self.1.wire(),
                days: self.2.wire(),
                weights: Blob(&self.3),
            }
        }
    }

    struct TimelineBufs<'m> {
        t: &'m PopularityTimeline,
        offsets: VarintBuf,
        bins: VarintBuf,
        counts: VarintBuf,
    }

    impl<'m> TimelineBufs<'m> {
        fn new(t: &'m PopularityTimeline) -> Self {
            let (offsets, bins, counts) = (&t.offsets, &t.bins, &t.counts);
            // Bin numbers delta-coded within each item.
            let mut coded = Vec::with_capacity(bins.len());
            for w in offsets.windows(2) {
                let run = bins.get(w[0] as usize..w[1] as usize).unwrap_or(&[]);
                let mut prev = None;
                for &b in run {
                    coded.push(u64::from(prev.map_or(b, |p: u32| b.wrapping_sub(p))));
                    prev = Some(b);
                }
            }
            TimelineBufs {
                t,
                offsets: VarintBuf::deltas(offsets),
                bins: VarintBuf::plain(coded),
                counts: VarintBuf::plain(counts.iter().map(|&c| u64::from(c))),
            }
        }

        fn wire(&self) -> TimelineWire<'_> {
            TimelineWire {
                origin: self.t.origin,
                bin_seconds: self.t.bin_seconds,
                window_seconds: self.t.window_seconds,
                offsets: self.offsets.wire(),
                bins: self.bins.wire(),
                counts: self.counts.wire(),
            }
        }
    }

    fn session_neighbors_wire(sn: &SessionNeighbors) -> SessionNeighborsWire {
        SessionNeighborsWire {
            weight: sn.weight,
            users: sn.users,
            window_days: sn.window_days,
            position_decay: sn.position_decay,
        }
    }
}
