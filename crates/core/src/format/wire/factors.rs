//! The shapes of factor recommenders: the factors themselves, embeddings (`f32` or int8), and
//! what extensions add to them: item content (`CAP_CONTENT`), exploration (`CAP_EXPLORATION`)
//! and learned context (`CAP_CONTEXT`).

use serde::{Deserialize, Serialize};

use super::ReadWire;
use crate::content::{ContentColumn, ContentModel};
use crate::embedding::Embedding;
use crate::format::codec::{Blob, CodecError, Seq, Strings, to_f32, to_i8};
#[cfg(feature = "write")]
use crate::format::codec::{StringsBuf, f32_bytes, i8_bytes};
use crate::format::read::{Read, Reader};
use crate::model::{ContextColumn, ContextModel, Exploration, FactorModel};

/// One learned context column (`CAP_CONTEXT`): values, and per value a factor-space vector
/// (`f32` little-endian, values × dim).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ContextColumnWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    #[serde(borrow)]
    pub values: Strings<'a>,
    #[serde(borrow)]
    pub vectors: Blob<'a>,
}

/// Learned context (`CAP_CONTEXT`): one entry per context column.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ContextWire<'a> {
    #[serde(borrow)]
    pub columns: Seq<ContextColumnWire<'a>>,
}

/// Exploration settings of a factor recommender (`CAP_EXPLORATION`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct ExplorationWire {
    pub weight: f32,
    pub item_age_cut_off_days: f32,
}

/// `CAP_CONTENT`: hashed item features and their projection (see `crate::content`).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ContentWire<'a> {
    #[serde(borrow)]
    pub columns: Strings<'a>,
    /// `f32` per column.
    #[serde(borrow)]
    pub weights: Blob<'a>,
    pub buckets: u32,
    /// `f32` per bucket.
    #[serde(borrow)]
    pub idf: Blob<'a>,
    /// `f32` per dimension.
    #[serde(borrow)]
    pub mean: Blob<'a>,
    #[serde(borrow)]
    pub projection: EmbeddingWire<'a>,
    #[serde(borrow)]
    pub item_vectors: Option<EmbeddingWire<'a>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct FactorsWire<'a> {
    #[serde(borrow)]
    pub item_factors: EmbeddingWire<'a>,
    #[serde(borrow)]
    pub user_factors: EmbeddingWire<'a>,
    #[serde(borrow)]
    pub gram: Blob<'a>,
    pub regularization: f32,
    pub alpha: f32,
    #[serde(borrow)]
    pub event_weights: Blob<'a>,
    pub recency_half_life: f32,
}

/// A `rows × dim` matrix: `data` is `f32` little-endian or raw `i8`; `scales` `f32` (int8 only).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum EmbeddingWire<'a> {
    F32 {
        rows: u32,
        dim: u32,
        #[serde(borrow)]
        data: Blob<'a>,
    },
    Int8 {
        rows: u32,
        dim: u32,
        #[serde(borrow)]
        data: Blob<'a>,
        #[serde(borrow)]
        scales: Blob<'a>,
    },
}

impl ExplorationWire {
    pub(crate) fn into_model(self) -> Exploration {
        Exploration {
            weight: self.weight,
            item_age_cut_off_days: self.item_age_cut_off_days,
        }
    }

    #[cfg(feature = "write")]
    pub(crate) fn from_model(e: Exploration) -> Self {
        ExplorationWire {
            weight: e.weight,
            item_age_cut_off_days: e.item_age_cut_off_days,
        }
    }
}

impl<'a> ReadWire<'a> for ExplorationWire {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(ExplorationWire {
            weight: r.f32()?,
            item_age_cut_off_days: r.f32()?,
        })
    }
}

impl<'a> ReadWire<'a> for ContextWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(ContextWire {
            columns: r.seq(|r| {
                Ok(ContextColumnWire {
                    name: r.str()?,
                    values: r.strings()?,
                    vectors: r.blob()?,
                })
            })?,
        })
    }
}

impl<'a> ReadWire<'a> for FactorsWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(FactorsWire {
            item_factors: EmbeddingWire::read(r)?,
            user_factors: EmbeddingWire::read(r)?,
            gram: r.blob()?,
            regularization: r.f32()?,
            alpha: r.f32()?,
            event_weights: r.blob()?,
            recency_half_life: r.f32()?,
        })
    }
}

impl<'a> ReadWire<'a> for ContentWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(ContentWire {
            columns: r.strings()?,
            weights: r.blob()?,
            buckets: r.u32()?,
            idf: r.blob()?,
            mean: r.blob()?,
            projection: EmbeddingWire::read(r)?,
            item_vectors: r.option(EmbeddingWire::read)?,
        })
    }
}

impl<'a> ReadWire<'a> for EmbeddingWire<'a> {
    fn read(r: &mut Reader<'a>) -> Read<Self> {
        Ok(match r.variant("embedding", 2)? {
            0 => EmbeddingWire::F32 {
                rows: r.u32()?,
                dim: r.u32()?,
                data: r.blob()?,
            },
            _ => EmbeddingWire::Int8 {
                rows: r.u32()?,
                dim: r.u32()?,
                data: r.blob()?,
                scales: r.blob()?,
            },
        })
    }
}

/// A factor model as any of its encodings gives it: the factors, and what the encoding's
/// extensions (or, in the older encodings, its optional fields) add.
pub(crate) struct FactorParts<'a> {
    pub factors: FactorsWire<'a>,
    pub exploration: Option<ExplorationWire>,
    pub context: Option<ContextWire<'a>>,
    pub content: Option<ContentWire<'a>>,
}

impl<'a> FactorParts<'a> {
    pub(crate) fn new(factors: FactorsWire<'a>) -> Self {
        FactorParts {
            factors,
            exploration: None,
            context: None,
            content: None,
        }
    }

    /// The factor model and its exploration settings (a serving option of the recommender).
    /// With `copy_item_data` false, int8 item factors are left without values.
    pub(crate) fn into_model(
        self,
        what: &str,
        copy_item_data: bool,
    ) -> Result<(FactorModel, Option<Exploration>), CodecError> {
        let f = self.factors;
        let model = FactorModel {
            item_factors: f.item_factors.into_model(what, copy_item_data)?,
            user_factors: f.user_factors.into_model(what, true)?,
            gram: to_f32(f.gram, what)?,
            regularization: f.regularization,
            alpha: f.alpha,
            event_weights: to_f32(f.event_weights, what)?,
            recency_half_life: f.recency_half_life,
            context: match self.context {
                Some(c) => Some(c.into_model(what)?),
                None => None,
            },
            content: match self.content {
                Some(c) => Some(Box::new(c.into_model(what)?)),
                None => None,
            },
        };
        Ok((model, self.exploration.map(ExplorationWire::into_model)))
    }
}

impl ContextWire<'_> {
    fn into_model(self, what: &str) -> Result<ContextModel, CodecError> {
        Ok(ContextModel {
            columns: self
                .columns
                .0
                .into_iter()
                .map(|c| {
                    Ok(ContextColumn {
                        name: c.name.to_owned(),
                        values: c.values.decode(what)?,
                        vectors: to_f32(c.vectors, what)?,
                    })
                })
                .collect::<Result<_, CodecError>>()?,
        })
    }
}

/// The extension capabilities a factor model needs (with its recommender's exploration
/// settings): each is one extension block.
pub(crate) fn extensions(f: &FactorModel, exploration: Option<Exploration>) -> u64 {
    use crate::format::{CAP_CONTENT, CAP_CONTEXT, CAP_EXPLORATION};
    let bit = |on: bool, cap: u64| if on { cap } else { 0 };
    bit(f.content.is_some(), CAP_CONTENT)
        | bit(exploration.is_some(), CAP_EXPLORATION)
        | bit(f.context.is_some(), CAP_CONTEXT)
}

impl ContentWire<'_> {
    pub(crate) fn into_model(self, what: &str) -> Result<ContentModel, CodecError> {
        let names = self.columns.decode(what)?;
        let weights = to_f32(self.weights, what)?;
        if names.len() != weights.len() {
            return Err(CodecError::new(
                what,
                format!(
                    "{} content columns with {} weights",
                    names.len(),
                    weights.len()
                ),
            ));
        }
        Ok(ContentModel {
            columns: names
                .into_iter()
                .zip(weights)
                .map(|(name, weight)| ContentColumn { name, weight })
                .collect(),
            buckets: self.buckets,
            idf: to_f32(self.idf, what)?,
            mean: to_f32(self.mean, what)?,
            projection: self.projection.into_model(what, true)?,
            item_vectors: match self.item_vectors {
                Some(v) => Some(v.into_model(what, true)?),
                None => None,
            },
        })
    }
}

impl EmbeddingWire<'_> {
    pub(crate) fn into_model(self, what: &str, copy_int8: bool) -> Result<Embedding, CodecError> {
        let expect = |rows: u32, dim: u32, width: u64, len: usize| {
            let n = u64::from(rows)
                .checked_mul(u64::from(dim))
                .and_then(|n| n.checked_mul(width));
            if n == Some(len as u64) {
                Ok(())
            } else {
                Err(CodecError::new(
                    what,
                    format!(
                        "a {rows} x {dim} embedding of {width}-byte values does not fit {len} bytes"
                    ),
                ))
            }
        };
        Ok(match self {
            EmbeddingWire::F32 { rows, dim, data } => {
                expect(rows, dim, 4, data.0.len())?;
                Embedding::F32 {
                    rows,
                    dim,
                    data: to_f32(data, what)?,
                }
            }
            EmbeddingWire::Int8 {
                rows,
                dim,
                data,
                scales,
            } => {
                expect(rows, dim, 1, data.0.len())?;
                expect(rows, 1, 4, scales.0.len())?;
                Embedding::Int8 {
                    rows,
                    dim,
                    data: if copy_int8 { to_i8(data) } else { Vec::new() },
                    scales: to_f32(scales, what)?,
                }
            }
        })
    }
}

#[cfg(feature = "write")]
pub(crate) mod out {
    use bincode::error::EncodeError;

    use super::*;
    use crate::format::wire::block::out::Extensions;
    use crate::format::{CAP_CONTENT, CAP_CONTEXT, CAP_EXPLORATION};

    /// A factor model's factors and its extension blocks.
    pub(crate) struct FactorsBufs<'m> {
        f: &'m FactorModel,
        items: EmbeddingBufs,
        users: EmbeddingBufs,
        gram: Vec<u8>,
        event_weights: Vec<u8>,
        pub extensions: Extensions,
    }

    impl<'m> FactorsBufs<'m> {
        pub(crate) fn new(
            f: &'m FactorModel,
            exploration: Option<Exploration>,
        ) -> Result<Self, EncodeError> {
            let FactorModel {
                item_factors,
                user_factors,
                gram,
                regularization: _,
                alpha: _,
                event_weights,
                recency_half_life: _,
                content,
                context,
            } = f;
            let mut ext = Extensions::default();
            if let Some(c) = content {
                ext.push(CAP_CONTENT, ContentBufs::new(c).wire())?;
            }
            if let Some(e) = exploration {
                ext.push(CAP_EXPLORATION, ExplorationWire::from_model(e))?;
            }
            if let Some(c) = context {
                let cols: Vec<_> = c
                    .columns
                    .iter()
                    .map(|col| {
                        (
                            StringsBuf::new(col.values.iter().map(String::as_str)),
                            f32_bytes(&col.vectors),
                        )
                    })
                    .collect();
                let wire = ContextWire {
                    columns: Seq(c
                        .columns
                        .iter()
                        .zip(&cols)
                        .map(|(col, (values, vectors))| ContextColumnWire {
                            name: &col.name,
                            values: values.wire(),
                            vectors: Blob(vectors),
                        })
                        .collect()),
                };
                ext.push(CAP_CONTEXT, wire)?;
            }
            Ok(FactorsBufs {
                f,
                items: EmbeddingBufs::new(item_factors),
                users: EmbeddingBufs::new(user_factors),
                gram: f32_bytes(gram),
                event_weights: f32_bytes(event_weights),
                extensions: ext,
            })
        }

        pub(crate) fn wire(&self) -> FactorsWire<'_> {
            FactorsWire {
                item_factors: self.items.wire(),
                user_factors: self.users.wire(),
                gram: Blob(&self.gram),
                regularization: self.f.regularization,
                alpha: self.f.alpha,
                event_weights: Blob(&self.event_weights),
                recency_half_life: self.f.recency_half_life,
            }
        }
    }

    pub(crate) enum EmbeddingBufs {
        F32(u32, u32, Vec<u8>),
        Int8(u32, u32, Vec<u8>, Vec<u8>),
    }

    impl EmbeddingBufs {
        pub(crate) fn new(e: &Embedding) -> Self {
            match e {
                Embedding::F32 { rows, dim, data } => {
                    EmbeddingBufs::F32(*rows, *dim, f32_bytes(data))
                }
                Embedding::Int8 {
                    rows,
                    dim,
                    data,
                    scales,
                } => EmbeddingBufs::Int8(*rows, *dim, i8_bytes(data), f32_bytes(scales)),
            }
        }

        pub(crate) fn wire(&self) -> EmbeddingWire<'_> {
            match self {
                EmbeddingBufs::F32(rows, dim, data) => EmbeddingWire::F32 {
                    rows: *rows,
                    dim: *dim,
                    data: Blob(data),
                },
                EmbeddingBufs::Int8(rows, dim, data, scales) => EmbeddingWire::Int8 {
                    rows: *rows,
                    dim: *dim,
                    data: Blob(data),
                    scales: Blob(scales),
                },
            }
        }
    }

    pub(crate) struct ContentBufs {
        columns: StringsBuf,
        weights: Vec<u8>,
        buckets: u32,
        idf: Vec<u8>,
        mean: Vec<u8>,
        projection: EmbeddingBufs,
        item_vectors: Option<EmbeddingBufs>,
    }

    impl ContentBufs {
        pub(crate) fn new(c: &ContentModel) -> Self {
            let ContentModel {
                columns,
                buckets,
                idf,
                mean,
                projection,
                item_vectors,
            } = c;
            let weights: Vec<f32> = columns.iter().map(|c| c.weight).collect();
            ContentBufs {
                columns: StringsBuf::new(columns.iter().map(|c| c.name.as_str())),
                weights: f32_bytes(&weights),
                buckets: *buckets,
                idf: f32_bytes(idf),
                mean: f32_bytes(mean),
                projection: EmbeddingBufs::new(projection),
                item_vectors: item_vectors.as_ref().map(EmbeddingBufs::new),
            }
        }

        pub(crate) fn wire(&self) -> ContentWire<'_> {
            ContentWire {
                columns: self.columns.wire(),
                weights: Blob(&self.weights),
                buckets: self.buckets,
                idf: Blob(&self.idf),
                mean: Blob(&self.mean),
                projection: self.projection.wire(),
                item_vectors: self.item_vectors.as_ref().map(EmbeddingBufs::wire),
            }
        }
    }
}
