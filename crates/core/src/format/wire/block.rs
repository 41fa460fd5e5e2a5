//! The extension block (format 1.3): a capability bit's number and the fields of the feature it
//! stands for, as a length-prefixed byte string (see `extension` for how blocks are read into a
//! model, and `docs/format.md`).

use serde::{Deserialize, Serialize};

use super::ReadWire;
use crate::format::codec::Blob;
use crate::format::read::{Read, Reader};

/// One extension block: the capability bit's number (0 to 63) and the feature's fields.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ExtensionWire<'a> {
    pub capability: u8,
    #[serde(borrow)]
    pub body: Blob<'a>,
}

impl<'a> ReadWire<'a> for ExtensionWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(ExtensionWire {
            capability: r.u8()?,
            body: r.blob()?,
        })
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use bincode::error::EncodeError;
    use serde::Serialize;

    use super::ExtensionWire;
    use crate::format::codec::{Blob, Seq};

    /// Encoded extension blocks, kept in ascending order of their bits.
    #[derive(Default)]
    pub(crate) struct Extensions(Vec<(u8, Vec<u8>)>);

    impl Extensions {
        /// Encodes `value` as the block of capability flag `cap` (one bit set).
        pub(crate) fn push(&mut self, cap: u64, value: impl Serialize) -> Result<(), EncodeError> {
            let bit = u8::try_from(cap.trailing_zeros()).unwrap_or(u8::MAX);
            let body = bincode::serde::encode_to_vec(value, bincode::config::standard())?;
            let at = self.0.partition_point(|(b, _)| *b < bit);
            self.0.insert(at, (bit, body));
            Ok(())
        }

        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }

        /// The flags of the blocks held.
        pub(crate) fn capabilities(&self) -> u64 {
            self.0.iter().fold(0, |caps, (bit, _)| {
                caps | 1u64.checked_shl(u32::from(*bit)).unwrap_or(0)
            })
        }

        pub(crate) fn wire(&self) -> Seq<ExtensionWire<'_>> {
            Seq(self
                .0
                .iter()
                .map(|(capability, body)| ExtensionWire {
                    capability: *capability,
                    body: Blob(body),
                })
                .collect())
        }
    }
}
