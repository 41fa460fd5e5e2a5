//! The section decoder: reads the bincode 2 encoding (`config::standard()`, through serde) of
//! the wire shapes in `wire.rs`, by hand.
//!
//! The encoder still goes through bincode and serde (`write` feature); decoding does not, so the
//! wasm package carries this one small reader instead of a serde visitor per wire type. It
//! accepts exactly what bincode accepts and produces the same values: a differential test
//! encodes random models with bincode and decodes them with both.
//!
//! bincode's standard encoding, as read here: `u8` one byte; other unsigned integers varints
//! (a byte < 251 is the value; 251, 252, 253 are followed by a little-endian u16, u32, u64, and
//! a `u32` may not use 253); `i64` the zigzag of a varint; `f32` 4 bytes little-endian; `bool`
//! one byte 0 or 1; `Option` one byte 0 or 1 then the value; an enum variant a `u32` varint
//! index then its fields; strings and byte strings a varint length then the bytes; a sequence
//! a varint count then its elements; a struct its fields in order.

use super::codec::{Blob, Seq, Strings, Varints};
use super::wire::{
    CatalogWire, ColumnWire, ContentWire, ContextColumnWire, EmbeddingWire, ExplorationWire,
    FactorsWire, HistoriesWire, ListsWire, MetaWire, ModelWire, NamedFilterWire, PopularityWire,
    PrivacyWire, RecommenderWire, SessionNeighborsWire, SessionPairsWire, TimelineWire, UsersWire,
    ValuesWire,
};

/// Elements of a sequence reserved before the first one is read (as `Seq` does).
const SEQ_PREALLOC: usize = 16;

/// Reads values from one section's bytes, front to back.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type Read<T> = Result<T, String>;

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Fails unless every byte was read.
    pub(crate) fn finish(&self) -> Read<()> {
        match self.bytes.len() - self.pos {
            0 => Ok(()),
            n => Err(format!("{n} bytes follow the encoded value")),
        }
    }

    fn take(&mut self, n: usize) -> Read<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(format!(
                "the section ends {} bytes early",
                self.pos.saturating_add(n) - self.bytes.len()
            ));
        };
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Read<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(crate) fn u8(&mut self) -> Read<u8> {
        Ok(self.array::<1>()?[0])
    }

    /// A varint of at most `max_tag` (252: up to `u32`, 253: up to `u64`).
    fn varint(&mut self, max_tag: u8) -> Read<u64> {
        let tag = self.u8()?;
        match tag {
            0..=250 => Ok(u64::from(tag)),
            251 => Ok(u64::from(u16::from_le_bytes(self.array()?))),
            252 => Ok(u64::from(u32::from_le_bytes(self.array()?))),
            253 if max_tag >= 253 => Ok(u64::from_le_bytes(self.array()?)),
            t => Err(format!("invalid integer tag {t}")),
        }
    }

    pub(crate) fn u64(&mut self) -> Read<u64> {
        self.varint(253)
    }

    pub(crate) fn u32(&mut self) -> Read<u32> {
        // At most 4 bytes after the tag: always fits.
        self.varint(252)
            .map(|v| u32::try_from(v).unwrap_or(u32::MAX))
    }

    #[allow(clippy::cast_possible_wrap)]
    fn i64(&mut self) -> Read<i64> {
        let z = self.u64()?;
        Ok(((z >> 1) as i64) ^ -((z & 1) as i64))
    }

    pub(crate) fn f32(&mut self) -> Read<f32> {
        Ok(f32::from_le_bytes(self.array()?))
    }

    pub(crate) fn f64(&mut self) -> Read<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn bool(&mut self) -> Read<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("invalid boolean {b}")),
        }
    }

    /// A length-prefixed byte string, borrowed.
    fn bytes(&mut self) -> Read<&'a [u8]> {
        let n = self.u64()?;
        let n = usize::try_from(n).map_err(|_| format!("length {n} does not fit in memory"))?;
        self.take(n)
    }

    /// A length-prefixed UTF-8 string, borrowed.
    pub(crate) fn str(&mut self) -> Read<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|e| format!("invalid UTF-8: {e}"))
    }

    pub(crate) fn option_tag(&mut self) -> Read<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            t => Err(format!("invalid option tag {t}")),
        }
    }

    /// An enum variant index below `count`.
    pub(crate) fn variant(&mut self, what: &str, count: u32) -> Read<u32> {
        let v = self.u32()?;
        if v < count {
            Ok(v)
        } else {
            Err(format!(
                "{what}: unknown variant {v} (expected 0 to {})",
                count - 1
            ))
        }
    }

    fn seq<T>(&mut self, mut each: impl FnMut(&mut Self) -> Read<T>) -> Read<Seq<T>> {
        let n = self.u64()?;
        let mut v = Vec::with_capacity(usize::try_from(n).unwrap_or(0).min(SEQ_PREALLOC));
        for _ in 0..n {
            v.push(each(self)?);
        }
        Ok(Seq(v))
    }

    pub(crate) fn blob(&mut self) -> Read<Blob<'a>> {
        self.bytes().map(Blob)
    }

    pub(crate) fn varints(&mut self) -> Read<Varints<'a>> {
        Ok(Varints {
            count: self.u64()?,
            bytes: self.blob()?,
        })
    }

    /// Every list of strings in a section is read here.
    fn strings(&mut self) -> Read<Strings<'a>> {
        Ok(Strings {
            count: self.u64()?,
            lens: self.blob()?,
            suffixes: self.blob()?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// the sections, field by field in the order of their wire structs

pub(crate) fn meta<'a>(r: &mut Reader<'a>) -> Read<MetaWire<'a>> {
    Ok(MetaWire {
        version: r.u64()?,
        created_at: r.i64()?,
        data_time: r.i64()?,
        dataset: r.str()?,
        producer: r.str()?,
        filters: r.seq(|r| {
            Ok(NamedFilterWire {
                name: r.str()?,
                expression: r.str()?,
            })
        })?,
    })
}

pub(crate) fn catalog<'a>(r: &mut Reader<'a>) -> Read<CatalogWire<'a>> {
    Ok(CatalogWire {
        item_ids: r.strings()?,
        creation_time: r.varints()?,
        event_types: r.strings()?,
        context_columns: r.strings()?,
        columns: r.seq(column)?,
    })
}

pub(crate) fn users<'a>(r: &mut Reader<'a>) -> Read<UsersWire<'a>> {
    Ok(UsersWire {
        user_ids: r.strings()?,
        columns: r.seq(column)?,
    })
}

fn column<'a>(r: &mut Reader<'a>) -> Read<ColumnWire<'a>> {
    Ok(ColumnWire {
        name: r.str()?,
        kind: r.u8()?,
        values: match r.variant("column values", 4)? {
            0 => ValuesWire::Categorical {
                dictionary: r.strings()?,
                offsets: r.varints()?,
                codes: r.varints()?,
            },
            1 => ValuesWire::Numeric(r.blob()?),
            2 => ValuesWire::Decimal {
                scale: r.u8()?,
                values: r.varints()?,
            },
            _ => ValuesWire::Textual(r.strings()?),
        },
    })
}

pub(crate) fn histories<'a>(r: &mut Reader<'a>) -> Read<HistoriesWire<'a>> {
    Ok(HistoriesWire {
        offsets: r.varints()?,
        items: r.varints()?,
        event_types: r.varints()?,
        timestamps: r.varints()?,
    })
}

pub(crate) fn privacy(r: &mut Reader<'_>) -> Read<PrivacyWire> {
    Ok(PrivacyWire {
        min_users: r.u32()?,
    })
}

pub(crate) fn popularity<'a>(r: &mut Reader<'a>) -> Read<PopularityWire<'a>> {
    Ok(PopularityWire {
        counts: r.varints()?,
        ranked_derived: r.bool()?,
        ranked: r.varints()?,
    })
}

pub(crate) fn recommender<'a>(r: &mut Reader<'a>) -> Read<RecommenderWire<'a>> {
    Ok(RecommenderWire {
        name: r.str()?,
        recipe: r.u8()?,
        event_type: if r.option_tag()? {
            Some(r.str()?)
        } else {
            None
        },
        exclude_interacted: r.bool()?,
        exclude_event_types: r.strings()?,
        max_history: r.u32()?,
        model: match r.variant("recommender model", 13)? {
            0 => ModelWire::Popularity(popularity(r)?),
            1 => ModelWire::Neighbors {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
            },
            2 => ModelWire::Factors(factors(r)?),
            3 => ModelWire::NeighborsDecay {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
            },
            4 => ModelWire::NeighborsContent {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
                content: content(r)?,
            },
            5 => ModelWire::FactorsContent {
                factors: factors(r)?,
                content: content(r)?,
            },
            7 => ModelWire::NeighborsExtended {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
                session_popularity: r.f32()?,
                content: option(r, content)?,
            },
            8 => ModelWire::NeighborsTimed {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
                session_popularity: r.f32()?,
                timeline: timeline(r)?,
                content: option(r, content)?,
            },
            9 => ModelWire::NeighborsSession {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
                session_popularity: r.f32()?,
                timeline: option(r, timeline)?,
                session_neighbors: session_neighbors(r)?,
                content: option(r, content)?,
            },
            10 => ModelWire::NeighborsTransitions {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
                session_popularity: r.f32()?,
                timeline: option(r, timeline)?,
                session_neighbors: option(r, session_neighbors)?,
                transitions: ListsWire {
                    offsets: r.varints()?,
                    neighbors: r.varints()?,
                    weights: r.blob()?,
                },
                content: option(r, content)?,
            },
            11 => ModelWire::NeighborsPairs {
                offsets: r.varints()?,
                neighbors: r.varints()?,
                weights: r.blob()?,
                history_decay: r.f32()?,
                session_popularity: r.f32()?,
                timeline: option(r, timeline)?,
                session_neighbors: session_neighbors(r)?,
                session_pairs: SessionPairsWire {
                    offsets: r.varints()?,
                    neighbors: r.varints()?,
                    days: r.varints()?,
                    weights: r.blob()?,
                },
                transitions: option(r, |r| {
                    Ok(ListsWire {
                        offsets: r.varints()?,
                        neighbors: r.varints()?,
                        weights: r.blob()?,
                    })
                })?,
                content: option(r, content)?,
            },
            12 => ModelWire::Blend {
                depth: r.u32()?,
                parts: r.varints()?,
                known: r.blob()?,
                session: r.blob()?,
            },
            _ => ModelWire::FactorsExtended {
                factors: factors(r)?,
                exploration: option(r, |r| {
                    Ok(ExplorationWire {
                        weight: r.f32()?,
                        item_age_cut_off_days: r.f32()?,
                    })
                })?,
                context: option(r, |r| {
                    r.seq(|r| {
                        Ok(ContextColumnWire {
                            name: r.str()?,
                            values: r.strings()?,
                            vectors: r.blob()?,
                        })
                    })
                })?,
                content: option(r, content)?,
            },
        },
    })
}

fn option<'a, T>(
    r: &mut Reader<'a>,
    each: impl FnOnce(&mut Reader<'a>) -> Read<T>,
) -> Read<Option<T>> {
    if r.option_tag()? {
        Ok(Some(each(r)?))
    } else {
        Ok(None)
    }
}

fn session_neighbors(r: &mut Reader<'_>) -> Read<SessionNeighborsWire> {
    Ok(SessionNeighborsWire {
        weight: r.f32()?,
        users: r.u32()?,
        window_days: r.f32()?,
        position_decay: r.f32()?,
    })
}

fn factors<'a>(r: &mut Reader<'a>) -> Read<FactorsWire<'a>> {
    Ok(FactorsWire {
        item_factors: embedding(r)?,
        user_factors: embedding(r)?,
        gram: r.blob()?,
        regularization: r.f32()?,
        alpha: r.f32()?,
        event_weights: r.blob()?,
        recency_half_life: r.f32()?,
    })
}

fn content<'a>(r: &mut Reader<'a>) -> Read<ContentWire<'a>> {
    Ok(ContentWire {
        columns: r.strings()?,
        weights: r.blob()?,
        buckets: r.u32()?,
        idf: r.blob()?,
        mean: r.blob()?,
        projection: embedding(r)?,
        item_vectors: option(r, embedding)?,
    })
}

pub(crate) fn embedding<'a>(r: &mut Reader<'a>) -> Read<EmbeddingWire<'a>> {
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

fn timeline<'a>(r: &mut Reader<'a>) -> Read<TimelineWire<'a>> {
    Ok(TimelineWire {
        origin: r.f64()?,
        bin_seconds: r.f64()?,
        window_seconds: r.f64()?,
        offsets: r.varints()?,
        bins: r.varints()?,
        counts: r.varints()?,
    })
}
