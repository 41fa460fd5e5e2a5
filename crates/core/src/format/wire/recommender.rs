//! `RECOMMENDER`: one named recommender, its serving options and its model.
//!
//! A model is one of four kinds, each with one current shape: popularity counts, neighbour
//! lists, factors, and a blend. Neighbour lists and factors that use no feature beyond format
//! 1.0 are written in their 1.0 shapes (variants 1 and 2), so 1.0 readers keep reading them;
//! with any feature they are written as the 1.0 shape plus extension blocks (variants 13 and
//! 14, format 1.3, see `extension`). Variants 3 to 11 are the encodings of formats 1.1 and
//! 1.2, read only (`legacy`).

use serde::{Deserialize, Serialize};

use super::ReadWire;
use super::block::ExtensionWire;
use super::extension;
use super::factors::{FactorParts, FactorsWire};
use super::legacy;
use super::neighbors::{ListsWire, NeighborParts};
use super::parts::{BlendWire, ModelParts};
use super::popularity::PopularityWire;
use crate::format::codec::{CodecError, Seq, Strings, to_f32};
use crate::format::read::{Read, Reader};
use crate::model::{BlendModel, Recipe, Recommender, RecommenderModel, ServingOptions};

/// One named recommender. The name comes first so that the section table can be listed with
/// names without decoding whole sections.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RecommenderWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    /// The recipe code, see [`recipe_code`].
    pub recipe: u8,
    #[serde(borrow)]
    pub event_type: Option<&'a str>,
    pub exclude_interacted: bool,
    #[serde(borrow)]
    pub exclude_event_types: Strings<'a>,
    pub max_history: u32,
    #[serde(borrow)]
    pub model: ModelWire<'a>,
}

/// The model of a recommender, by variant number (the order of the variants is the format).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ModelWire<'a> {
    /// 0: popularity counts.
    Popularity(#[serde(borrow)] PopularityWire<'a>),
    /// 1: neighbour lists (format 1.0: the 1.0 history decay, nothing else).
    Neighbors(#[serde(borrow)] ListsWire<'a>),
    /// 2: factors (format 1.0: no extension).
    Factors(#[serde(borrow)] FactorsWire<'a>),
    /// 3 to 11: the encodings of formats 1.1 and 1.2, read only.
    NeighborsDecay(#[serde(borrow)] legacy::NeighborsDecay<'a>),
    NeighborsContent(#[serde(borrow)] legacy::NeighborsContent<'a>),
    FactorsContent(#[serde(borrow)] legacy::FactorsContent<'a>),
    FactorsExtended(#[serde(borrow)] legacy::FactorsExtended<'a>),
    NeighborsExtended(#[serde(borrow)] legacy::NeighborsExtended<'a>),
    NeighborsTimed(#[serde(borrow)] legacy::NeighborsTimed<'a>),
    NeighborsSession(#[serde(borrow)] legacy::NeighborsSession<'a>),
    NeighborsTransitions(#[serde(borrow)] legacy::NeighborsTransitions<'a>),
    NeighborsPairs(#[serde(borrow)] legacy::NeighborsPairs<'a>),
    /// 12 (format 1.2, `CAP_BLEND`): a blend of other recommenders of the model.
    Blend(#[serde(borrow)] BlendWire<'a>),
    /// 13 (format 1.3, `CAP_EXTENSIONS`): neighbour lists with extension blocks.
    NeighborsWith(#[serde(borrow)] WithExtensions<'a, ListsWire<'a>>),
    /// 14 (format 1.3, `CAP_EXTENSIONS`): factors with extension blocks.
    FactorsWith(#[serde(borrow)] WithExtensions<'a, FactorsWire<'a>>),
    /// 15 (format 1.4, `CAP_SHARED_MODELS`): the model of an earlier recommender of the file.
    Shared(SharedWire),
}

/// A recommender that serves another recommender's factors (`CAP_SHARED_MODELS`): the index of
/// that recommender among the file's recommender sections, in table order (an earlier one,
/// which stores its own factors). A shared recommender has no exploration settings of its own
/// (they are a serving option stored with the factors), so the writer shares only for one
/// without them.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct SharedWire {
    pub recommender: u32,
}

/// A model's 1.0 shape followed by its extension blocks.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct WithExtensions<'a, T> {
    pub base: T,
    #[serde(borrow)]
    pub extensions: Seq<ExtensionWire<'a>>,
}

/// The number of [`ModelWire`] variants.
const MODEL_VARIANTS: u32 = 16;

impl<'a> RecommenderWire<'a> {
    /// Reads a recommender section by hand, its model straight into its parts.
    pub(crate) fn read_parts(r: &mut Reader<'a>) -> Read<RecommenderParts<'a>> {
        Ok(RecommenderParts {
            name: r.str()?,
            recipe: r.u8()?,
            event_type: r.option(Reader::str)?,
            exclude_interacted: r.bool()?,
            exclude_event_types: r.strings()?,
            max_history: r.u32()?,
            model: match r.variant("recommender model", MODEL_VARIANTS)? {
                0 => ModelParts::Popularity(PopularityWire::read(r)?),
                1 => ModelParts::Neighbors(NeighborParts::new(ListsWire::read(r)?)),
                2 => ModelParts::Factors(FactorParts::new(FactorsWire::read(r)?)),
                12 => ModelParts::Blend(BlendWire {
                    depth: r.u32()?,
                    parts: r.varints()?,
                    known: r.blob()?,
                    session: r.blob()?,
                }),
                v @ (13 | 14) => {
                    let mut model = if v == 13 {
                        ModelParts::Neighbors(NeighborParts::new(ListsWire::read(r)?))
                    } else {
                        ModelParts::Factors(FactorParts::new(FactorsWire::read(r)?))
                    };
                    extension::apply(&mut model, &r.seq(ExtensionWire::read)?)?;
                    model
                }
                15 => ModelParts::Shared(SharedWire {
                    recommender: r.u32()?,
                }),
                v => legacy::read(v, r)?,
            },
        })
    }

    /// The recommender with its model in parts, as bincode decoded it (the differential
    /// tests).
    #[cfg(feature = "write")]
    pub(crate) fn into_parts(self) -> Read<RecommenderParts<'a>> {
        let model = match self.model {
            ModelWire::Popularity(p) => ModelParts::Popularity(p),
            ModelWire::Neighbors(l) => ModelParts::Neighbors(NeighborParts::new(l)),
            ModelWire::Factors(f) => ModelParts::Factors(FactorParts::new(f)),
            ModelWire::NeighborsDecay(m) => m.into_parts(),
            ModelWire::NeighborsContent(m) => m.into_parts(),
            ModelWire::FactorsContent(m) => m.into_parts(),
            ModelWire::FactorsExtended(m) => m.into_parts(),
            ModelWire::NeighborsExtended(m) => m.into_parts(),
            ModelWire::NeighborsTimed(m) => m.into_parts(),
            ModelWire::NeighborsSession(m) => m.into_parts(),
            ModelWire::NeighborsTransitions(m) => m.into_parts(),
            ModelWire::NeighborsPairs(m) => m.into_parts(),
            ModelWire::Blend(b) => ModelParts::Blend(b),
            ModelWire::NeighborsWith(w) => {
                let mut model = ModelParts::Neighbors(NeighborParts::new(w.base));
                extension::apply_bincode(&mut model, &w.extensions)?;
                model
            }
            ModelWire::FactorsWith(w) => {
                let mut model = ModelParts::Factors(FactorParts::new(w.base));
                extension::apply_bincode(&mut model, &w.extensions)?;
                model
            }
            ModelWire::Shared(s) => ModelParts::Shared(s),
        };
        Ok(RecommenderParts {
            name: self.name,
            recipe: self.recipe,
            event_type: self.event_type,
            exclude_interacted: self.exclude_interacted,
            exclude_event_types: self.exclude_event_types,
            max_history: self.max_history,
            model,
        })
    }
}

/// A recommender section read, its model in parts.
pub(crate) struct RecommenderParts<'a> {
    pub name: &'a str,
    pub recipe: u8,
    pub event_type: Option<&'a str>,
    pub exclude_interacted: bool,
    pub exclude_event_types: Strings<'a>,
    pub max_history: u32,
    pub model: ModelParts<'a>,
}

/// The recipe codes: 0 popularity-count, 1 sims, 2 user-personalization, 3
/// personalized-ranking, 4 trending-now (1.1), 5 similar-items (1.1), 6 auto (1.2).
const RECIPES: [Recipe; 7] = [
    Recipe::PopularityCount,
    Recipe::Sims,
    Recipe::UserPersonalization,
    Recipe::PersonalizedRanking,
    Recipe::TrendingNow,
    Recipe::SimilarItems,
    Recipe::Auto,
];

/// A recipe's code in the file.
#[cfg(feature = "write")]
fn recipe_code(recipe: Recipe) -> u8 {
    let code = RECIPES.iter().position(|&r| r == recipe).unwrap_or(0);
    u8::try_from(code).unwrap_or(0)
}

impl RecommenderParts<'_> {
    /// The index of the recommender whose model this one serves, if it shares one.
    pub(crate) fn shares(&self) -> Option<u32> {
        match &self.model {
            ModelParts::Shared(s) => Some(s.recommender),
            _ => None,
        }
    }

    /// Where the int8 item-factor values lie in `body` (the section this was read from).
    pub(crate) fn int8_item_data_range(&self, body: &[u8]) -> Option<std::ops::Range<usize>> {
        let ModelParts::Factors(f) = &self.model else {
            return None;
        };
        let super::factors::EmbeddingWire::Int8 { data, .. } = &f.factors.item_factors else {
            return None;
        };
        let start = (data.0.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
        let end = start.checked_add(data.0.len())?;
        (end <= body.len()).then_some(start..end)
    }

    /// The recommender. With `copy_item_data` false, int8 item factors are left without
    /// values (their sizes checked), for the caller to move the section's own bytes in.
    pub(crate) fn into_model(self, copy_item_data: bool) -> Result<Recommender, CodecError> {
        let what = format!("recommender {}", self.name);
        let recipe = *RECIPES.get(usize::from(self.recipe)).ok_or_else(|| {
            CodecError::new(&what, format!("unknown recipe code {}", self.recipe))
        })?;
        let mut exploration = None;
        let model = match self.model {
            ModelParts::Popularity(p) => RecommenderModel::Popularity(p.into_model(&what)?),
            ModelParts::Neighbors(n) => RecommenderModel::Neighbors(n.into_model(&what)?),
            ModelParts::Factors(f) => {
                let (f, e) = f.into_model(&what, copy_item_data)?;
                exploration = e;
                RecommenderModel::Factors(f)
            }
            ModelParts::Blend(b) => RecommenderModel::Blend(BlendModel {
                parts: b.parts.to_u32(&what)?,
                known: to_f32(b.known, &what)?,
                session: to_f32(b.session, &what)?,
                depth: b.depth,
            }),
            // A stand-in until the decoder, with every recommender read, puts the shared
            // model here (see `shares`).
            ModelParts::Shared(_) => RecommenderModel::Blend(BlendModel::default()),
        };
        Ok(Recommender {
            name: self.name.to_owned(),
            recipe,
            event_type: self.event_type.map(str::to_owned),
            serving: ServingOptions {
                exclude_interacted: self.exclude_interacted,
                exclude_event_types: self.exclude_event_types.decode(&what)?,
                max_history: self.max_history,
                exploration,
            },
            model,
        })
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use bincode::error::EncodeError;

    use super::*;
    use crate::format::codec::{Blob, StringsBuf, VarintBuf, f32_bytes};
    use crate::format::wire::factors::out::FactorsBufs;
    use crate::format::wire::neighbors::out::NeighborsBufs;
    use crate::format::wire::popularity::out::PopularityBufs;

    enum ModelBufs<'m> {
        Popularity(PopularityBufs),
        Neighbors(NeighborsBufs),
        Factors(FactorsBufs<'m>),
        /// Depth, the parts' recommenders, known-user weights and session weights.
        Blend(u32, VarintBuf, Vec<u8>, Vec<u8>),
        /// The index of the recommender whose model this one serves.
        Shared(u32),
    }

    /// Owned buffers of one recommender section, borrowed by its wire shape while it is
    /// serialized.
    pub(crate) struct RecommenderBufs<'m> {
        r: &'m Recommender,
        exclude_event_types: StringsBuf,
        model: ModelBufs<'m>,
    }

    impl<'m> RecommenderBufs<'m> {
        /// The buffers of `r`, which serves the model of recommender `shares` when given.
        pub(crate) fn new(r: &'m Recommender, shares: Option<u32>) -> Result<Self, EncodeError> {
            let Recommender {
                name: _,
                recipe: _,
                event_type: _,
                serving,
                model,
            } = r;
            let ServingOptions {
                exclude_interacted: _,
                exclude_event_types,
                max_history: _,
                exploration,
            } = serving;
            let model = match model {
                _ if let Some(k) = shares => ModelBufs::Shared(k),
                RecommenderModel::Popularity(p) => ModelBufs::Popularity(PopularityBufs::new(p)),
                RecommenderModel::Neighbors(n) => ModelBufs::Neighbors(NeighborsBufs::new(n)?),
                RecommenderModel::Factors(f) => {
                    ModelBufs::Factors(FactorsBufs::new(f, *exploration)?)
                }
                RecommenderModel::Blend(b) => ModelBufs::Blend(
                    b.depth,
                    VarintBuf::plain(b.parts.iter().map(|&p| u64::from(p))),
                    f32_bytes(&b.known),
                    f32_bytes(&b.session),
                ),
            };
            Ok(RecommenderBufs {
                r,
                exclude_event_types: StringsBuf::new(
                    exclude_event_types.iter().map(String::as_str),
                ),
                model,
            })
        }

        /// The capability flags of the extension blocks written.
        pub(crate) fn extensions(&self) -> u64 {
            match &self.model {
                ModelBufs::Neighbors(n) => n.extensions.capabilities(),
                ModelBufs::Factors(f) => f.extensions.capabilities(),
                ModelBufs::Popularity(_) | ModelBufs::Blend(..) | ModelBufs::Shared(_) => 0,
            }
        }

        pub(crate) fn wire(&self) -> RecommenderWire<'_> {
            let r = self.r;
            RecommenderWire {
                name: &r.name,
                recipe: recipe_code(r.recipe),
                event_type: r.event_type.as_deref(),
                exclude_interacted: r.serving.exclude_interacted,
                exclude_event_types: self.exclude_event_types.wire(),
                max_history: r.serving.max_history,
                model: match &self.model {
                    ModelBufs::Popularity(p) => ModelWire::Popularity(p.wire()),
                    // The 1.0 shapes whenever there is no extension, so 1.0 readers keep
                    // reading them.
                    ModelBufs::Neighbors(n) if n.extensions.is_empty() => {
                        ModelWire::Neighbors(n.lists.wire())
                    }
                    ModelBufs::Neighbors(n) => ModelWire::NeighborsWith(WithExtensions {
                        base: n.lists.wire(),
                        extensions: n.extensions.wire(),
                    }),
                    ModelBufs::Factors(f) if f.extensions.is_empty() => {
                        ModelWire::Factors(f.wire())
                    }
                    ModelBufs::Factors(f) => ModelWire::FactorsWith(WithExtensions {
                        base: f.wire(),
                        extensions: f.extensions.wire(),
                    }),
                    ModelBufs::Blend(depth, parts, known, session) => ModelWire::Blend(BlendWire {
                        depth: *depth,
                        parts: parts.wire(),
                        known: Blob(known),
                        session: Blob(session),
                    }),
                    ModelBufs::Shared(k) => ModelWire::Shared(SharedWire { recommender: *k }),
                },
            }
        }
    }
}
