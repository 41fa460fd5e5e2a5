//! A recommender's model as any of its encodings gives it, before its arrays are decoded: the
//! 1.0 shapes, the shapes with extension blocks and the legacy 1.1 and 1.2 shapes all read into
//! these parts, and one conversion turns them into the model.

use serde::{Deserialize, Serialize};

use super::factors::FactorParts;
use super::neighbors::NeighborParts;
use super::popularity::PopularityWire;
use crate::format::codec::{Blob, Varints};

/// A blend (`CAP_BLEND`, recipe code 6 `auto`), see [`crate::model::BlendModel`]. Per part
/// its recommender's index, its weight for known users (`f32` little-endian), and its weights
/// for sessions of 1, 2, … events (`f32` little-endian, part after part, the same count for
/// every part).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct BlendWire<'a> {
    pub depth: u32,
    #[serde(borrow)]
    pub parts: Varints<'a>,
    #[serde(borrow)]
    pub known: Blob<'a>,
    #[serde(borrow)]
    pub session: Blob<'a>,
}

/// A model as any of its encodings gives it, before its arrays are decoded.
pub(crate) enum ModelParts<'a> {
    Popularity(PopularityWire<'a>),
    Neighbors(NeighborParts<'a>),
    Factors(FactorParts<'a>),
    Blend(BlendWire<'a>),
    Shared(super::recommender::SharedWire),
}
