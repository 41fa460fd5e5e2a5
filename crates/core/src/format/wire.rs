//! The bincode shapes of the sections (format 1.x) and their conversion to and from the
//! in-memory model.
//!
//! These types are the file format; the model types are not. Each conversion destructures the
//! model type without `..`, so a new model field fails to compile here until the format decides
//! how to store it (and whether that needs a minor or a major version).

use serde::{Deserialize, Serialize};

use super::codec::{Blob, CodecError, Seq, Strings, Varints, to_f32, to_f64, to_i8};
#[cfg(feature = "write")]
use super::codec::{StringsBuf, VarintBuf, f32_bytes, f64_bytes, i8_bytes, zigzag};
use crate::catalog::{Catalog, Column, ColumnKind, ColumnValues, UserTable};
use crate::content::{ContentColumn, ContentModel};
use crate::embedding::Embedding;
use crate::model::{
    BlendModel, ContextColumn, ContextModel, Exploration, FactorModel, Histories,
    LEGACY_HISTORY_DECAY, ModelMeta, NamedFilter, NeighborModel, PopularityModel,
    PopularityTimeline, Recipe, Recommender, RecommenderModel, ServingOptions, TransitionLists,
};
use crate::session::neighbors::SessionNeighbors;
use crate::session::pairs::SessionPairs;

/// `META`: descriptive facts.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct MetaWire<'a> {
    pub version: u64,
    pub created_at: i64,
    pub data_time: i64,
    #[serde(borrow)]
    pub dataset: &'a str,
    #[serde(borrow)]
    pub producer: &'a str,
    #[serde(borrow)]
    pub filters: Seq<NamedFilterWire<'a>>,
}

/// `PRIVACY` (format 1.2): the fewest distinct users behind any stored aggregate.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PrivacyWire {
    pub min_users: u32,
}

/// A named filter: name and expression.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct NamedFilterWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    #[serde(borrow)]
    pub expression: &'a str,
}

/// `CATALOG`: item ids, creation times, event types, context columns and item metadata.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct CatalogWire<'a> {
    #[serde(borrow)]
    pub item_ids: Strings<'a>,
    /// Zigzag differences.
    #[serde(borrow)]
    pub creation_time: Varints<'a>,
    #[serde(borrow)]
    pub event_types: Strings<'a>,
    #[serde(borrow)]
    pub context_columns: Strings<'a>,
    #[serde(borrow)]
    pub columns: Seq<ColumnWire<'a>>,
}

/// `USERS`: user ids and user metadata.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct UsersWire<'a> {
    #[serde(borrow)]
    pub user_ids: Strings<'a>,
    #[serde(borrow)]
    pub columns: Seq<ColumnWire<'a>>,
}

/// One metadata column.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct ColumnWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    /// 0 categorical, 1 numeric, 2 textual, 3 boolean.
    pub kind: u8,
    #[serde(borrow)]
    pub values: ValuesWire<'a>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ValuesWire<'a> {
    Categorical {
        #[serde(borrow)]
        dictionary: Strings<'a>,
        /// Offset differences (`rows + 1` values, the first being the first offset).
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        codes: Varints<'a>,
    },
    /// `f64` little-endian, `NaN` = null.
    Numeric(#[serde(borrow)] Blob<'a>),
    /// Values that are all `n / 10^scale` for integers `n` (and canonical `NaN` for null):
    /// one varint per row, 0 = null, else zigzag(`n`) + 1.
    Decimal {
        scale: u8,
        #[serde(borrow)]
        values: Varints<'a>,
    },
    Textual(#[serde(borrow)] Strings<'a>),
}

/// `HISTORIES`: per-user interaction histories.
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

/// `RECOMMENDER`: one named recommender. The name comes first so that the section table can
/// be listed with names without decoding whole sections.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RecommenderWire<'a> {
    #[serde(borrow)]
    pub name: &'a str,
    /// 0 popularity-count, 1 sims, 2 user-personalization, 3 personalized-ranking.
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

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ModelWire<'a> {
    Popularity(#[serde(borrow)] PopularityWire<'a>),
    Neighbors {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
    },
    Factors(#[serde(borrow)] FactorsWire<'a>),
    /// Format 1.1 (`CAP_HISTORY_DECAY`): neighbour lists with their history decay.
    NeighborsDecay {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
    },
    /// `CAP_CONTENT`: neighbour lists with their history decay and item content vectors.
    NeighborsContent {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
        #[serde(borrow)]
        content: ContentWire<'a>,
    },
    /// `CAP_CONTENT`: factors with the projection of item metadata into their space.
    FactorsContent {
        #[serde(borrow)]
        factors: FactorsWire<'a>,
        #[serde(borrow)]
        content: ContentWire<'a>,
    },
    /// Format 1.1: factors with optional extensions, each behind its own capability bit
    /// (`CAP_EXPLORATION`). Written only when an extension is present, so models without
    /// them keep the `Factors` encoding byte for byte.
    FactorsExtended {
        #[serde(borrow)]
        factors: FactorsWire<'a>,
        exploration: Option<ExplorationWire>,
        #[serde(borrow)]
        context: Option<Seq<ContextColumnWire<'a>>>,
        /// `CAP_CONTENT` with an extension.
        #[serde(borrow)]
        content: Option<ContentWire<'a>>,
    },
    /// Format 1.1 (`CAP_SESSION_POPULARITY`): neighbour lists with their history decay, their
    /// short-session popularity prior and optional item content (`CAP_CONTENT`). Written only
    /// when the prior is on, so other neighbour models keep their encodings byte for byte.
    NeighborsExtended {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
        session_popularity: f32,
        #[serde(borrow)]
        content: Option<ContentWire<'a>>,
    },
    /// Format 1.1 (`CAP_POPULARITY_TIMELINE`): [`ModelWire::NeighborsExtended`] whose prior
    /// counts recent popularity from a timeline of each item's users.
    NeighborsTimed {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
        session_popularity: f32,
        #[serde(borrow)]
        timeline: TimelineWire<'a>,
        #[serde(borrow)]
        content: Option<ContentWire<'a>>,
    },
    /// Format 1.1 (`CAP_SESSION_NEIGHBORS`): neighbour lists whose sessions also blend in
    /// the training users sharing their items, with the prior's timeline optional.
    NeighborsSession {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
        session_popularity: f32,
        #[serde(borrow)]
        timeline: Option<TimelineWire<'a>>,
        session_neighbors: SessionNeighborsWire,
        #[serde(borrow)]
        content: Option<ContentWire<'a>>,
    },
    /// Format 1.1 (`CAP_TRANSITIONS`): neighbour lists with transition lists for sessions
    /// without a known user, the prior's timeline and the session neighbours optional.
    NeighborsTransitions {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
        session_popularity: f32,
        #[serde(borrow)]
        timeline: Option<TimelineWire<'a>>,
        session_neighbors: Option<SessionNeighborsWire>,
        #[serde(borrow)]
        transitions: ListsWire<'a>,
        #[serde(borrow)]
        content: Option<ContentWire<'a>>,
    },
    /// Format 1.2 (`CAP_SESSION_PAIRS`): neighbour lists whose session neighbours are read
    /// from session pairs instead of stored histories (the public profile), the prior's
    /// timeline and the transition lists optional.
    NeighborsPairs {
        #[serde(borrow)]
        offsets: Varints<'a>,
        #[serde(borrow)]
        neighbors: Varints<'a>,
        /// `f32` little-endian.
        #[serde(borrow)]
        weights: Blob<'a>,
        history_decay: f32,
        session_popularity: f32,
        #[serde(borrow)]
        timeline: Option<TimelineWire<'a>>,
        session_neighbors: SessionNeighborsWire,
        #[serde(borrow)]
        session_pairs: SessionPairsWire<'a>,
        #[serde(borrow)]
        transitions: Option<ListsWire<'a>>,
        #[serde(borrow)]
        content: Option<ContentWire<'a>>,
    },
    /// Format 1.2 (`CAP_BLEND`, recipe code 6 `auto`): a blend of other recommenders of the
    /// model, see [`crate::model::BlendModel`]. Per part its recommender's index, its weight
    /// for known users (`f32` little-endian), and its weights for sessions of 1, 2, … events
    /// (`f32` little-endian, part after part, the same count for every part).
    Blend {
        depth: u32,
        #[serde(borrow)]
        parts: Varints<'a>,
        #[serde(borrow)]
        known: Blob<'a>,
        #[serde(borrow)]
        session: Blob<'a>,
    },
}

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

// ---------------------------------------------------------------------------------------------
// decoding: wire → model

impl MetaWire<'_> {
    pub(crate) fn into_model(self) -> ModelMeta {
        ModelMeta {
            version: self.version,
            created_at: self.created_at,
            data_time: self.data_time,
            dataset: self.dataset.to_owned(),
            producer: self.producer.to_owned(),
            filters: self
                .filters
                .0
                .into_iter()
                .map(|f| NamedFilter {
                    name: f.name.to_owned(),
                    expression: f.expression.to_owned(),
                })
                .collect(),
            // Stated by the header and the privacy section (`SectionDecoder::finish`).
            profile: crate::model::Profile::Private,
            min_users: 0,
        }
    }
}

impl CatalogWire<'_> {
    pub(crate) fn into_model(self) -> Result<Catalog, CodecError> {
        Ok(Catalog {
            item_ids: self.item_ids.decode_ids("item ids")?,
            columns: columns(self.columns)?,
            creation_time: self.creation_time.to_timestamps("creation times")?,
            event_types: self.event_types.decode("event types")?,
            context_columns: self.context_columns.decode("context columns")?,
        })
    }
}

impl UsersWire<'_> {
    pub(crate) fn into_model(self) -> Result<UserTable, CodecError> {
        Ok(UserTable {
            user_ids: self.user_ids.decode_ids("user ids")?,
            columns: columns(self.columns)?,
        })
    }
}

fn columns(cols: Seq<ColumnWire<'_>>) -> Result<Vec<Column>, CodecError> {
    cols.0.into_iter().map(ColumnWire::into_model).collect()
}

pub(crate) const POW10: [f64; 10] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

impl ColumnWire<'_> {
    fn into_model(self) -> Result<Column, CodecError> {
        let what = format!("column {}", self.name);
        let kind = match self.kind {
            0 => ColumnKind::Categorical,
            1 => ColumnKind::Numeric,
            2 => ColumnKind::Textual,
            3 => ColumnKind::Boolean,
            k => return Err(CodecError::new(&what, format!("unknown column kind {k}"))),
        };
        let values = match self.values {
            ValuesWire::Categorical {
                dictionary,
                offsets,
                codes,
            } => ColumnValues::Categorical {
                dictionary: dictionary.decode(&what)?,
                offsets: offsets.to_offsets(&what)?,
                codes: codes.to_u32(&what)?,
            },
            ValuesWire::Numeric(b) => ColumnValues::Numeric(to_f64(b, &what)?),
            ValuesWire::Decimal { scale, values } => {
                let div = *POW10
                    .get(usize::from(scale))
                    .ok_or_else(|| CodecError::new(&what, format!("decimal scale {scale}")))?;
                ColumnValues::Numeric(values.to_decimal(&what, div)?)
            }
            ValuesWire::Textual(s) => ColumnValues::Textual(s.decode(&what)?),
        };
        Ok(Column {
            name: self.name.to_owned(),
            kind,
            values,
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

/// The fields every neighbour-model encoding holds some of; the older encodings fill in what
/// they do not store (the 1.0 history decay, no prior, no content).
struct NeighborsWire<'a> {
    offsets: Varints<'a>,
    neighbors: Varints<'a>,
    weights: Blob<'a>,
    history_decay: f32,
    session_popularity: f32,
    timeline: Option<TimelineWire<'a>>,
    session_neighbors: Option<SessionNeighborsWire>,
    session_pairs: Option<SessionPairsWire<'a>>,
    transitions: Option<ListsWire<'a>>,
    content: Option<ContentWire<'a>>,
}

impl NeighborsWire<'_> {
    fn into_model(self, what: &str) -> Result<RecommenderModel, CodecError> {
        Ok(RecommenderModel::Neighbors(NeighborModel {
            offsets: self.offsets.to_offsets(what)?,
            neighbors: self.neighbors.to_u32(what)?,
            weights: to_f32(self.weights, what)?,
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
        }))
    }
}

impl RecommenderWire<'_> {
    /// Where the int8 item-factor values lie in `body` (the section this was decoded from).
    pub(crate) fn int8_item_data_range(&self, body: &[u8]) -> Option<std::ops::Range<usize>> {
        let (ModelWire::Factors(f)
        | ModelWire::FactorsContent { factors: f, .. }
        | ModelWire::FactorsExtended { factors: f, .. }) = &self.model
        else {
            return None;
        };
        let EmbeddingWire::Int8 { data, .. } = &f.item_factors else {
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
        let recipe = match self.recipe {
            0 => Recipe::PopularityCount,
            1 => Recipe::Sims,
            2 => Recipe::UserPersonalization,
            3 => Recipe::PersonalizedRanking,
            4 => Recipe::TrendingNow,
            5 => Recipe::SimilarItems,
            6 => Recipe::Auto,
            r => return Err(CodecError::new(&what, format!("unknown recipe code {r}"))),
        };
        let mut exploration = None;
        let model = match self.model {
            ModelWire::Popularity(p) => RecommenderModel::Popularity(p.into_model(&what)?),
            ModelWire::Neighbors {
                offsets,
                neighbors,
                weights,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay: LEGACY_HISTORY_DECAY,
                session_popularity: 0.0,
                timeline: None,
                session_neighbors: None,
                session_pairs: None,
                transitions: None,
                content: None,
            }
            .into_model(&what)?,
            ModelWire::NeighborsDecay {
                offsets,
                neighbors,
                weights,
                history_decay,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity: 0.0,
                timeline: None,
                session_neighbors: None,
                session_pairs: None,
                transitions: None,
                content: None,
            }
            .into_model(&what)?,
            ModelWire::NeighborsContent {
                offsets,
                neighbors,
                weights,
                history_decay,
                content,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity: 0.0,
                timeline: None,
                session_neighbors: None,
                session_pairs: None,
                transitions: None,
                content: Some(content),
            }
            .into_model(&what)?,
            ModelWire::NeighborsExtended {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                content,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline: None,
                session_neighbors: None,
                session_pairs: None,
                transitions: None,
                content,
            }
            .into_model(&what)?,
            ModelWire::NeighborsTimed {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                content,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline: Some(timeline),
                session_neighbors: None,
                session_pairs: None,
                transitions: None,
                content,
            }
            .into_model(&what)?,
            ModelWire::NeighborsSession {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors,
                content,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors: Some(session_neighbors),
                session_pairs: None,
                transitions: None,
                content,
            }
            .into_model(&what)?,
            ModelWire::NeighborsTransitions {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors,
                transitions,
                content,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors,
                session_pairs: None,
                transitions: Some(transitions),
                content,
            }
            .into_model(&what)?,
            ModelWire::NeighborsPairs {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors,
                session_pairs,
                transitions,
                content,
            } => NeighborsWire {
                offsets,
                neighbors,
                weights,
                history_decay,
                session_popularity,
                timeline,
                session_neighbors: Some(session_neighbors),
                session_pairs: Some(session_pairs),
                transitions,
                content,
            }
            .into_model(&what)?,
            ModelWire::Factors(f) => {
                RecommenderModel::Factors(f.into_model(&what, copy_item_data, None)?)
            }
            ModelWire::FactorsContent { factors, content } => {
                let content = Some(Box::new(content.into_model(&what)?));
                RecommenderModel::Factors(factors.into_model(&what, copy_item_data, content)?)
            }
            ModelWire::FactorsExtended {
                factors,
                exploration: e,
                context,
                content,
            } => {
                exploration = e.map(|e| Exploration {
                    weight: e.weight,
                    item_age_cut_off_days: e.item_age_cut_off_days,
                });
                let content = match content {
                    Some(c) => Some(Box::new(c.into_model(&what)?)),
                    None => None,
                };
                let mut f = factors.into_model(&what, copy_item_data, content)?;
                f.context = context
                    .map(|cols| -> Result<ContextModel, CodecError> {
                        Ok(ContextModel {
                            columns: cols
                                .0
                                .into_iter()
                                .map(|c| {
                                    Ok(ContextColumn {
                                        name: c.name.to_owned(),
                                        values: c.values.decode(&what)?,
                                        vectors: to_f32(c.vectors, &what)?,
                                    })
                                })
                                .collect::<Result<_, CodecError>>()?,
                        })
                    })
                    .transpose()?;
                RecommenderModel::Factors(f)
            }
            ModelWire::Blend {
                depth,
                parts,
                known,
                session,
            } => RecommenderModel::Blend(BlendModel {
                parts: parts.to_u32(&what)?,
                known: to_f32(known, &what)?,
                session: to_f32(session, &what)?,
                depth,
            }),
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

impl FactorsWire<'_> {
    fn into_model(
        self,
        what: &str,
        copy_item_data: bool,
        content: Option<Box<ContentModel>>,
    ) -> Result<FactorModel, CodecError> {
        Ok(FactorModel {
            item_factors: self.item_factors.into_model(what, copy_item_data)?,
            user_factors: self.user_factors.into_model(what, true)?,
            gram: to_f32(self.gram, what)?,
            regularization: self.regularization,
            alpha: self.alpha,
            event_weights: to_f32(self.event_weights, what)?,
            recency_half_life: self.recency_half_life,
            context: None,
            content,
        })
    }
}

impl ContentWire<'_> {
    fn into_model(self, what: &str) -> Result<ContentModel, CodecError> {
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

// ---------------------------------------------------------------------------------------------
// encoding: model → owned buffers → wire

/// Owned byte buffers of one section, borrowed by its wire shape while it is serialized.
#[cfg(feature = "write")]
pub(crate) mod out {
    use super::*;

    pub(crate) fn meta(m: &ModelMeta) -> MetaWire<'_> {
        let ModelMeta {
            version,
            created_at,
            data_time,
            dataset,
            producer,
            filters,
            profile: _,
            min_users: _,
        } = m;
        MetaWire {
            version: *version,
            created_at: *created_at,
            data_time: *data_time,
            dataset,
            producer,
            filters: Seq(filters
                .iter()
                .map(|f| {
                    let NamedFilter { name, expression } = f;
                    NamedFilterWire { name, expression }
                })
                .collect()),
        }
    }

    pub(crate) struct ColumnBufs<'m> {
        name: &'m str,
        kind: u8,
        values: ValuesBufs,
    }

    enum ValuesBufs {
        Categorical(StringsBuf, VarintBuf, VarintBuf),
        Numeric(Vec<u8>),
        Decimal(u8, VarintBuf),
        Textual(StringsBuf),
    }

    impl<'m> ColumnBufs<'m> {
        pub(crate) fn new(c: &'m Column) -> Self {
            let Column { name, kind, values } = c;
            let kind = match kind {
                ColumnKind::Categorical => 0,
                ColumnKind::Numeric => 1,
                ColumnKind::Textual => 2,
                ColumnKind::Boolean => 3,
            };
            let values = match values {
                ColumnValues::Categorical {
                    dictionary,
                    offsets,
                    codes,
                } => ValuesBufs::Categorical(
                    StringsBuf::new(dictionary.iter().map(String::as_str)),
                    VarintBuf::deltas(offsets),
                    VarintBuf::plain(codes.iter().map(|&c| u64::from(c))),
                ),
                ColumnValues::Numeric(v) => match decimal(v) {
                    Some((scale, buf)) => ValuesBufs::Decimal(scale, buf),
                    None => ValuesBufs::Numeric(f64_bytes(v)),
                },
                ColumnValues::Textual(v) => {
                    ValuesBufs::Textual(StringsBuf::new(v.iter().map(String::as_str)))
                }
            };
            ColumnBufs { name, kind, values }
        }

        pub(crate) fn wire(&self) -> ColumnWire<'_> {
            ColumnWire {
                name: self.name,
                kind: self.kind,
                values: match &self.values {
                    ValuesBufs::Categorical(d, o, c) => ValuesWire::Categorical {
                        dictionary: d.wire(),
                        offsets: o.wire(),
                        codes: c.wire(),
                    },
                    ValuesBufs::Numeric(b) => ValuesWire::Numeric(Blob(b)),
                    ValuesBufs::Decimal(scale, b) => ValuesWire::Decimal {
                        scale: *scale,
                        values: b.wire(),
                    },
                    ValuesBufs::Textual(s) => ValuesWire::Textual(s.wire()),
                },
            }
        }
    }

    /// The smallest decimal scale at which every value round-trips bit for bit, if any.
    fn decimal(v: &[f64]) -> Option<(u8, VarintBuf)> {
        'scale: for (scale, &p) in POW10.iter().enumerate() {
            let mut buf = VarintBuf::default();
            for &x in v {
                if x.is_nan() {
                    if x.to_bits() != f64::NAN.to_bits() {
                        return None;
                    }
                    buf.push(0);
                    continue;
                }
                let scaled = (x * p).round();
                if scaled.is_nan() || scaled.abs() >= 9_007_199_254_740_992.0 {
                    continue 'scale;
                }
                #[allow(clippy::cast_possible_truncation)]
                let n = scaled as i64;
                if (n as f64 / p).to_bits() != x.to_bits() {
                    continue 'scale;
                }
                buf.push(zigzag(n) + 1);
            }
            return u8::try_from(scale).ok().map(|s| (s, buf));
        }
        None
    }

    pub(crate) struct CatalogBufs<'m> {
        item_ids: StringsBuf,
        creation_time: VarintBuf,
        event_types: StringsBuf,
        context_columns: StringsBuf,
        columns: Vec<ColumnBufs<'m>>,
    }

    impl<'m> CatalogBufs<'m> {
        pub(crate) fn new(c: &'m Catalog) -> Self {
            let Catalog {
                item_ids,
                columns,
                creation_time,
                event_types,
                context_columns,
            } = c;
            CatalogBufs {
                item_ids: StringsBuf::new(item_ids.iter()),
                creation_time: VarintBuf::signed_deltas(&creation_time.to_vec()),
                event_types: StringsBuf::new(event_types.iter().map(String::as_str)),
                context_columns: StringsBuf::new(context_columns.iter().map(String::as_str)),
                columns: columns.iter().map(ColumnBufs::new).collect(),
            }
        }

        pub(crate) fn wire(&self) -> CatalogWire<'_> {
            CatalogWire {
                item_ids: self.item_ids.wire(),
                creation_time: self.creation_time.wire(),
                event_types: self.event_types.wire(),
                context_columns: self.context_columns.wire(),
                columns: Seq(self.columns.iter().map(ColumnBufs::wire).collect()),
            }
        }
    }

    pub(crate) struct UsersBufs<'m> {
        user_ids: StringsBuf,
        columns: Vec<ColumnBufs<'m>>,
    }

    impl<'m> UsersBufs<'m> {
        pub(crate) fn new(u: &'m UserTable) -> Self {
            let UserTable { user_ids, columns } = u;
            UsersBufs {
                user_ids: StringsBuf::new(user_ids.iter()),
                columns: columns.iter().map(ColumnBufs::new).collect(),
            }
        }

        pub(crate) fn wire(&self) -> UsersWire<'_> {
            UsersWire {
                user_ids: self.user_ids.wire(),
                columns: Seq(self.columns.iter().map(ColumnBufs::wire).collect()),
            }
        }
    }

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

    enum EmbeddingBufs {
        F32(u32, u32, Vec<u8>),
        Int8(u32, u32, Vec<u8>, Vec<u8>),
    }

    impl EmbeddingBufs {
        fn new(e: &Embedding) -> Self {
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

        fn wire(&self) -> EmbeddingWire<'_> {
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

    enum ModelBufs<'m> {
        Popularity(PopularityBufs),
        /// Offsets, neighbours, weights, history decay, session popularity, timeline, session
        /// neighbours, content, transitions, session pairs.
        Neighbors(
            VarintBuf,
            VarintBuf,
            Vec<u8>,
            f32,
            f32,
            Option<TimelineBufs<'m>>,
            Option<&'m SessionNeighbors>,
            Option<ContentBufs>,
            Option<ListsBufs>,
            Option<Box<PairsBufs>>,
        ),
        Factors(
            &'m FactorModel,
            EmbeddingBufs,
            EmbeddingBufs,
            Vec<u8>,
            Vec<u8>,
            Option<ContentBufs>,
            Option<Vec<(&'m str, StringsBuf, Vec<u8>)>>,
        ),
        /// Depth, the parts' recommenders, known-user weights and session weights.
        Blend(u32, VarintBuf, Vec<u8>, Vec<u8>),
    }

    /// Weighted CSR lists: offsets (delta-coded), items, weights.
    struct ListsBufs(VarintBuf, VarintBuf, Vec<u8>);

    impl ListsBufs {
        fn new(offsets: &[u32], neighbors: &[u32], weights: &[f32]) -> Self {
            ListsBufs(
                VarintBuf::deltas(offsets),
                VarintBuf::plain(neighbors.iter().map(|&n| u64::from(n))),
                f32_bytes(weights),
            )
        }

        fn wire(&self) -> ListsWire<'_> {
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

    struct ContentBufs {
        columns: StringsBuf,
        weights: Vec<u8>,
        buckets: u32,
        idf: Vec<u8>,
        mean: Vec<u8>,
        projection: EmbeddingBufs,
        item_vectors: Option<EmbeddingBufs>,
    }

    impl ContentBufs {
        fn new(c: &ContentModel) -> Self {
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

        fn wire(&self) -> ContentWire<'_> {
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

    fn session_neighbors_wire(sn: &SessionNeighbors) -> SessionNeighborsWire {
        SessionNeighborsWire {
            weight: sn.weight,
            users: sn.users,
            window_days: sn.window_days,
            position_decay: sn.position_decay,
        }
    }

    pub(crate) struct RecommenderBufs<'m> {
        r: &'m Recommender,
        exclude_event_types: StringsBuf,
        model: ModelBufs<'m>,
    }

    impl<'m> RecommenderBufs<'m> {
        pub(crate) fn new(r: &'m Recommender) -> Self {
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
                exploration: _,
            } = serving;
            let model = match model {
                RecommenderModel::Popularity(p) => ModelBufs::Popularity(PopularityBufs::new(p)),
                RecommenderModel::Neighbors(NeighborModel {
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
                }) => {
                    let lists = ListsBufs::new(offsets, neighbors, weights);
                    ModelBufs::Neighbors(
                        lists.0,
                        lists.1,
                        lists.2,
                        *history_decay,
                        *session_popularity,
                        timeline.as_deref().map(TimelineBufs::new),
                        session_neighbors.as_deref(),
                        content.as_deref().map(ContentBufs::new),
                        transitions
                            .as_deref()
                            .map(|t| ListsBufs::new(&t.offsets, &t.neighbors, &t.weights)),
                        session_pairs
                            .as_deref()
                            .map(|p| Box::new(PairsBufs::new(p))),
                    )
                }
                RecommenderModel::Factors(f) => {
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
                    ModelBufs::Factors(
                        f,
                        EmbeddingBufs::new(item_factors),
                        EmbeddingBufs::new(user_factors),
                        f32_bytes(gram),
                        f32_bytes(event_weights),
                        content.as_deref().map(ContentBufs::new),
                        context.as_ref().map(|c| {
                            c.columns
                                .iter()
                                .map(|col| {
                                    (
                                        col.name.as_str(),
                                        StringsBuf::new(col.values.iter().map(String::as_str)),
                                        f32_bytes(&col.vectors),
                                    )
                                })
                                .collect()
                        }),
                    )
                }
                RecommenderModel::Blend(b) => ModelBufs::Blend(
                    b.depth,
                    VarintBuf::plain(b.parts.iter().map(|&p| u64::from(p))),
                    f32_bytes(&b.known),
                    f32_bytes(&b.session),
                ),
            };
            RecommenderBufs {
                r,
                exclude_event_types: StringsBuf::new(
                    exclude_event_types.iter().map(String::as_str),
                ),
                model,
            }
        }

        pub(crate) fn wire(&self) -> RecommenderWire<'_> {
            let r = self.r;
            RecommenderWire {
                name: &r.name,
                recipe: match r.recipe {
                    Recipe::PopularityCount => 0,
                    Recipe::Sims => 1,
                    Recipe::UserPersonalization => 2,
                    Recipe::PersonalizedRanking => 3,
                    Recipe::TrendingNow => 4,
                    Recipe::SimilarItems => 5,
                    Recipe::Auto => 6,
                },
                event_type: r.event_type.as_deref(),
                exclude_interacted: r.serving.exclude_interacted,
                exclude_event_types: self.exclude_event_types.wire(),
                max_history: r.serving.max_history,
                model: match &self.model {
                    ModelBufs::Popularity(p) => ModelWire::Popularity(p.wire()),
                    // The 1.0 encoding whenever it says the same, so 1.0 readers keep working.
                    // Session pairs stand in for the histories of session neighbours.
                    ModelBufs::Neighbors(o, n, w, d, p, t, Some(sn), c, tr, Some(sp)) => {
                        ModelWire::NeighborsPairs {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                            session_popularity: *p,
                            timeline: t.as_ref().map(TimelineBufs::wire),
                            session_neighbors: session_neighbors_wire(sn),
                            session_pairs: sp.wire(),
                            transitions: tr.as_ref().map(ListsBufs::wire),
                            content: c.as_ref().map(ContentBufs::wire),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, p, t, sn, c, Some(tr), _) => {
                        ModelWire::NeighborsTransitions {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                            session_popularity: *p,
                            timeline: t.as_ref().map(TimelineBufs::wire),
                            session_neighbors: sn.map(session_neighbors_wire),
                            transitions: tr.wire(),
                            content: c.as_ref().map(ContentBufs::wire),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, p, t, Some(sn), c, None, _) => {
                        ModelWire::NeighborsSession {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                            session_popularity: *p,
                            timeline: t.as_ref().map(TimelineBufs::wire),
                            session_neighbors: session_neighbors_wire(sn),
                            content: c.as_ref().map(ContentBufs::wire),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, p, Some(t), _, c, _, _)
                        if p.to_bits() != 0 =>
                    {
                        ModelWire::NeighborsTimed {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                            session_popularity: *p,
                            timeline: t.wire(),
                            content: c.as_ref().map(ContentBufs::wire),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, p, _, _, c, _, _) if p.to_bits() != 0 => {
                        ModelWire::NeighborsExtended {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                            session_popularity: *p,
                            content: c.as_ref().map(ContentBufs::wire),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, _, _, _, Some(c), _, _) => {
                        ModelWire::NeighborsContent {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                            content: c.wire(),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, _, _, _, None, _, _)
                        if d.to_bits() == LEGACY_HISTORY_DECAY.to_bits() =>
                    {
                        ModelWire::Neighbors {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                        }
                    }
                    ModelBufs::Neighbors(o, n, w, d, _, _, _, None, _, _) => {
                        ModelWire::NeighborsDecay {
                            offsets: o.wire(),
                            neighbors: n.wire(),
                            weights: Blob(w),
                            history_decay: *d,
                        }
                    }
                    ModelBufs::Factors(f, items, users, gram, ew, content, ctx) => {
                        let factors = FactorsWire {
                            item_factors: items.wire(),
                            user_factors: users.wire(),
                            gram: Blob(gram),
                            regularization: f.regularization,
                            alpha: f.alpha,
                            event_weights: Blob(ew),
                            recency_half_life: f.recency_half_life,
                        };
                        // The 1.0 encoding whenever there is no extension.
                        match (r.serving.exploration, ctx, content) {
                            (None, None, None) => ModelWire::Factors(factors),
                            (None, None, Some(c)) => ModelWire::FactorsContent {
                                factors,
                                content: c.wire(),
                            },
                            (e, ctx, content) => ModelWire::FactorsExtended {
                                factors,
                                exploration: e.map(|e| ExplorationWire {
                                    weight: e.weight,
                                    item_age_cut_off_days: e.item_age_cut_off_days,
                                }),
                                context: ctx.as_ref().map(|cols| {
                                    Seq(cols
                                        .iter()
                                        .map(|(name, values, vectors)| ContextColumnWire {
                                            name,
                                            values: values.wire(),
                                            vectors: Blob(vectors),
                                        })
                                        .collect())
                                }),
                                content: content.as_ref().map(|c| c.wire()),
                            },
                        }
                    }
                    ModelBufs::Blend(depth, parts, known, session) => ModelWire::Blend {
                        depth: *depth,
                        parts: parts.wire(),
                        known: Blob(known),
                        session: Blob(session),
                    },
                },
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
