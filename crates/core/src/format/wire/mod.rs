//! The bincode shapes of the sections (format 1.x), one module per section kind, each with its
//! hand-written reader ([`ReadWire`]), its conversion into the in-memory model and (`write`)
//! its encoder.
//!
//! These types are the file format; the model types are not. Each conversion destructures the
//! model type without `..`, so a new model field fails to compile here until the format decides
//! how to store it: for a neighbour or factor model, as an extension block behind a new
//! capability bit (`extension`); anything else needs a new minor or major version.
//!
//! | section       | module        |
//! |---------------|---------------|
//! | `meta`, `privacy` | `meta`    |
//! | `catalog`, `users` | `catalog` |
//! | `histories`   | `histories`   |
//! | `popularity`  | `popularity`  |
//! | `recommender` | `recommender`, with `parts`, `neighbors`, `factors`, `block`, `extension` and `legacy` |

pub(crate) mod block;
pub(crate) mod catalog;
pub(crate) mod extension;
pub(crate) mod factors;
pub(crate) mod histories;
pub(crate) mod legacy;
pub(crate) mod meta;
pub(crate) mod neighbors;
pub(crate) mod parts;
pub(crate) mod popularity;
pub(crate) mod recommender;

use super::read::{Read, Reader};

/// A wire shape read by hand, field by field in the order of its struct, exactly as bincode
/// reads it (see `read.rs`).
pub(crate) trait ReadWire<'a>: Sized {
    fn read(r: &mut Reader<'a>) -> Read<Self>;
}

pub(crate) use catalog::{CatalogWire, UsersWire};
pub(crate) use factors::EmbeddingWire;
pub(crate) use histories::HistoriesWire;
pub(crate) use meta::{MetaWire, PrivacyWire};
pub(crate) use popularity::PopularityWire;
pub(crate) use recommender::{RecommenderParts, RecommenderWire};

/// The encoders: owned buffers of one section, borrowed by its wire shape while it is
/// serialized.
#[cfg(feature = "write")]
pub(crate) mod out {
    pub(crate) use super::catalog::out::{CatalogBufs, UsersBufs};
    pub(crate) use super::histories::out::HistoriesBufs;
    pub(crate) use super::meta::out::meta;
    pub(crate) use super::popularity::out::PopularityBufs;
    pub(crate) use super::recommender::out::RecommenderBufs;
}
