//! Extension blocks (format 1.3): how a recommender's model grows without a new wire shape per
//! feature.
//!
//! A neighbour or factor model is written as its 1.0 shape followed by a list of blocks, each
//! keyed by the number of the capability bit it stands for and holding that feature's fields
//! as a length-prefixed byte string:
//!
//! ```text
//! NeighborsWith: offsets · neighbours · weights · [ (bit, bytes) … ]   bits strictly ascending
//! FactorsWith:   factors                        · [ (bit, bytes) … ]
//! ```
//!
//! A new feature is a new capability bit and the shape of its block, nothing else. A reader
//! skips a block whose bit it does not know: the file's required capabilities (checked before
//! any section is read) already refused every file that needs such a bit, so a block that gets
//! this far is one its writer marked optional. A known bit that does not apply to the model
//! (exploration on neighbour lists), a block out of order or twice, or a block with bytes left
//! over is an error.

use super::ReadWire;
use super::block::ExtensionWire;
use super::factors::{ContentWire, ContextWire, ExplorationWire};
use super::neighbors::{ListsWire, SessionNeighborsWire, SessionPairsWire, TimelineWire};
use super::parts::ModelParts;
use crate::format::codec::Seq;
use crate::format::read::{Read, Reader};
use crate::format::{
    CAP_CONTENT, CAP_CONTEXT, CAP_EXPLORATION, CAP_HISTORY_DECAY, CAP_POPULARITY_TIMELINE,
    CAP_SESSION_NEIGHBORS, CAP_SESSION_PAIRS, CAP_SESSION_POPULARITY, CAP_TRANSITIONS,
    SUPPORTED_CAPABILITIES,
};

/// Reads the fields of the feature capability `flag` stands for into the model's parts: the
/// body of its extension block, or (`legacy`) the same fields inside a 1.1 or 1.2 shape.
pub(crate) fn read_feature<'a>(
    model: &mut ModelParts<'a>,
    flag: u64,
    r: &mut Reader<'a>,
) -> Read<()> {
    match (model, flag) {
        (ModelParts::Neighbors(n), CAP_HISTORY_DECAY) => n.history_decay = r.f32()?,
        (ModelParts::Neighbors(n), CAP_SESSION_POPULARITY) => n.session_popularity = r.f32()?,
        (ModelParts::Neighbors(n), CAP_POPULARITY_TIMELINE) => {
            n.timeline = Some(TimelineWire::read(r)?);
        }
        (ModelParts::Neighbors(n), CAP_SESSION_NEIGHBORS) => {
            n.session_neighbors = Some(SessionNeighborsWire::read(r)?);
        }
        (ModelParts::Neighbors(n), CAP_TRANSITIONS) => n.transitions = Some(ListsWire::read(r)?),
        (ModelParts::Neighbors(n), CAP_SESSION_PAIRS) => {
            n.session_pairs = Some(SessionPairsWire::read(r)?);
        }
        (ModelParts::Factors(f), CAP_EXPLORATION) => {
            f.exploration = Some(ExplorationWire::read(r)?);
        }
        (ModelParts::Factors(f), CAP_CONTEXT) => f.context = Some(ContextWire::read(r)?),
        (model, CAP_CONTENT) => {
            let content = ContentWire::read(r)?;
            match model {
                ModelParts::Neighbors(n) => n.content = Some(content),
                ModelParts::Factors(f) => f.content = Some(content),
                _ => return Err("does not apply".into()),
            }
        }
        _ => return Err("does not apply to this model".into()),
    }
    Ok(())
}

/// The blocks in order, each with its capability flag, or `None` for a bit this build does
/// not know (the block is skipped). Fails on blocks out of order or repeated.
fn blocks<'e, 'a>(
    exts: &'e Seq<ExtensionWire<'a>>,
) -> impl Iterator<Item = Read<(Option<u64>, &'e ExtensionWire<'a>)>> {
    let mut prev: Option<u8> = None;
    exts.0.iter().map(move |e| {
        if let Some(p) = prev.filter(|&p| p >= e.capability) {
            return Err(format!(
                "extension block {} follows block {p} (ascending, each once)",
                e.capability
            ));
        }
        prev = Some(e.capability);
        let flag = 1u64
            .checked_shl(u32::from(e.capability))
            .filter(|f| f & SUPPORTED_CAPABILITIES != 0);
        Ok((flag, e))
    })
}

/// Adds a model's extension blocks to its parts, each body read by hand.
pub(crate) fn apply<'a>(model: &mut ModelParts<'a>, exts: &Seq<ExtensionWire<'a>>) -> Read<()> {
    for block in blocks(exts) {
        let (flag, e) = block?;
        if let Some(flag) = flag {
            let mut r = Reader::new(e.body.0);
            read_feature(model, flag, &mut r)
                .and_then(|()| r.finish())
                .map_err(|err| format!("extension block {}: {err}", e.capability))?;
        }
    }
    Ok(())
}

/// [`apply`] with each body decoded by bincode as its typed shape (the differential tests,
/// which check that both agree).
#[cfg(feature = "write")]
pub(crate) fn apply_bincode<'a>(
    model: &mut ModelParts<'a>,
    exts: &Seq<ExtensionWire<'a>>,
) -> Read<()> {
    fn body<'a, T: serde::Deserialize<'a>>(e: &ExtensionWire<'a>) -> Read<T> {
        crate::format::bincode_value(e.body.0)
            .map_err(|err| format!("extension block {}: {err}", e.capability))
    }
    let wrong = |e: &ExtensionWire<'_>| format!("extension block {}: does not apply", e.capability);
    for block in blocks(exts) {
        let (flag, e) = block?;
        match (&mut *model, flag) {
            (_, None) => {}
            (ModelParts::Neighbors(n), Some(CAP_HISTORY_DECAY)) => n.history_decay = body(e)?,
            (ModelParts::Neighbors(n), Some(CAP_SESSION_POPULARITY)) => {
                n.session_popularity = body(e)?;
            }
            (ModelParts::Neighbors(n), Some(CAP_POPULARITY_TIMELINE)) => {
                n.timeline = Some(body(e)?);
            }
            (ModelParts::Neighbors(n), Some(CAP_SESSION_NEIGHBORS)) => {
                n.session_neighbors = Some(body(e)?);
            }
            (ModelParts::Neighbors(n), Some(CAP_TRANSITIONS)) => n.transitions = Some(body(e)?),
            (ModelParts::Neighbors(n), Some(CAP_SESSION_PAIRS)) => {
                n.session_pairs = Some(body(e)?);
            }
            (ModelParts::Neighbors(n), Some(CAP_CONTENT)) => n.content = Some(body(e)?),
            (ModelParts::Factors(f), Some(CAP_CONTENT)) => f.content = Some(body(e)?),
            (ModelParts::Factors(f), Some(CAP_EXPLORATION)) => f.exploration = Some(body(e)?),
            (ModelParts::Factors(f), Some(CAP_CONTEXT)) => f.context = Some(body(e)?),
            _ => return Err(wrong(e)),
        }
    }
    Ok(())
}

#[cfg(all(test, feature = "write"))]
mod tests {
    use super::*;
    use crate::format::CAP_FACTORS;
    use crate::format::codec::Blob;
    use crate::format::codec::Varints;
    use crate::format::wire::block::out::Extensions;
    use crate::format::wire::neighbors::NeighborParts;

    fn lists() -> ListsWire<'static> {
        let none = || Varints {
            count: 0,
            bytes: Blob(&[]),
        };
        ListsWire {
            offsets: none(),
            neighbors: none(),
            weights: Blob(&[]),
        }
    }

    fn apply(blocks: &[(u8, Vec<u8>)]) -> Read<NeighborParts<'_>> {
        let exts = Seq(blocks
            .iter()
            .map(|(capability, body)| ExtensionWire {
                capability: *capability,
                body: Blob(body),
            })
            .collect());
        let mut by_hand = ModelParts::Neighbors(NeighborParts::new(lists()));
        let mut by_bincode = ModelParts::Neighbors(NeighborParts::new(lists()));
        let hand = super::apply(&mut by_hand, &exts);
        let theirs = apply_bincode(&mut by_bincode, &exts);
        assert_eq!(
            hand.is_ok(),
            theirs.is_ok(),
            "the hand reader and bincode agree"
        );
        match (hand, by_hand) {
            (Ok(()), ModelParts::Neighbors(n)) => Ok(n),
            (Err(e), _) => Err(e),
            _ => Err("not neighbours".into()),
        }
    }

    fn bit_of(cap: u64) -> u8 {
        u8::try_from(cap.trailing_zeros()).unwrap_or(u8::MAX)
    }

    #[test]
    fn blocks_set_their_fields_and_unknown_bits_are_skipped() {
        let blocks = [
            (bit_of(CAP_HISTORY_DECAY), 0.25f32.to_le_bytes().to_vec()),
            (
                bit_of(CAP_SESSION_POPULARITY),
                2.0f32.to_le_bytes().to_vec(),
            ),
            // a bit no build defines yet: an optional block a newer writer added
            (40, vec![1, 2, 3]),
        ];
        let p = apply(&blocks).expect("applies");
        assert_eq!(p.history_decay.to_bits(), 0.25f32.to_bits());
        assert_eq!(p.session_popularity.to_bits(), 2.0f32.to_bits());
        assert!(p.content.is_none() && p.timeline.is_none());
    }

    #[test]
    fn misplaced_repeated_inapplicable_and_overlong_blocks_are_refused() {
        let decay = (bit_of(CAP_HISTORY_DECAY), 0.5f32.to_le_bytes().to_vec());
        let prior = (
            bit_of(CAP_SESSION_POPULARITY),
            1.0f32.to_le_bytes().to_vec(),
        );
        let err = |blocks: &[(u8, Vec<u8>)]| apply(blocks).err().unwrap_or_default();
        assert!(err(&[prior.clone(), decay.clone()]).contains("ascending, each once"));
        assert!(err(&[decay.clone(), decay.clone()]).contains("ascending, each once"));
        assert!(
            err(&[(bit_of(CAP_EXPLORATION), vec![0; 8])]).contains("does not apply to this model")
        );
        assert!(err(&[(bit_of(CAP_FACTORS), vec![])]).contains("does not apply"));
        assert!(err(&[(bit_of(CAP_HISTORY_DECAY), vec![0; 5])]).contains("1 bytes follow"));
        assert!(err(&[(bit_of(CAP_HISTORY_DECAY), vec![0; 3])]).contains("extension block 5"));
    }

    #[test]
    fn blocks_are_written_in_ascending_order_of_their_bits() {
        let mut e = Extensions::default();
        e.push(CAP_SESSION_POPULARITY, 1.0f32).expect("encodes");
        e.push(CAP_HISTORY_DECAY, 0.5f32).expect("encodes");
        let bits: Vec<u8> = e.wire().0.iter().map(|b| b.capability).collect();
        assert_eq!(
            bits,
            vec![bit_of(CAP_HISTORY_DECAY), bit_of(CAP_SESSION_POPULARITY)]
        );
        assert_eq!(e.capabilities(), CAP_HISTORY_DECAY | CAP_SESSION_POPULARITY);
        assert!(apply(&[]).is_ok());
    }
}
