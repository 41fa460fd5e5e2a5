//! `HISTORIES`: per-user interaction histories.

use serde::{Deserialize, Serialize};

use super::ReadWire;
#[cfg(feature = "write")]
use crate::format::codec::VarintBuf;
use crate::format::codec::{CodecError, Varints};
use crate::format::read::{Read, Reader};
use crate::model::Histories;

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HistoriesWire<'a> {
    /// Offset differences.
    #[serde(borrow)]
    pub offsets: Varints<'a>,
    #[serde(borrow)]
    pub items: Varints<'a>,
    #[serde(borrow)]
    pub event_types: Varints<'a>,
    /// Zigzag differences.
    #[serde(borrow)]
    pub timestamps: Varints<'a>,
}

impl<'a> ReadWire<'a> for HistoriesWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(HistoriesWire {
            offsets: r.varints()?,
            items: r.varints()?,
            event_types: r.varints()?,
            timestamps: r.varints()?,
        })
    }
}

impl HistoriesWire<'_> {
    pub(crate) fn into_model(self) -> Result<Histories, CodecError> {
        Ok(Histories {
            offsets: self.offsets.to_offsets("history offsets")?,
            items: self.items.to_u32("history items")?,
            event_types: self.event_types.to_u16("history event types")?,
            timestamps: self.timestamps.to_timestamps("history timestamps")?,
            ..Histories::default()
        })
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use super::*;

    pub(crate) struct HistoriesBufs([VarintBuf; 4]);

    impl HistoriesBufs {
        pub(crate) fn new(h: &Histories) -> Self {
            let Histories {
                offsets,
                items,
                event_types,
                timestamps,
                item_users: _,
            } = h;
            HistoriesBufs([
                VarintBuf::deltas(offsets),
                VarintBuf::plain(items.iter().map(|&i| u64::from(i))),
                VarintBuf::plain(event_types.iter().map(|&e| u64::from(e))),
                VarintBuf::signed_deltas(&timestamps.to_vec()),
            ])
        }

        pub(crate) fn wire(&self) -> HistoriesWire<'_> {
            let [o, i, e, t] = &self.0;
            HistoriesWire {
                offsets: o.wire(),
                items: i.wire(),
                event_types: e.wire(),
                timestamps: t.wire(),
            }
        }
    }
}
