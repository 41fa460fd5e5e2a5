//! The `.erm` model file: a fixed little-endian header with a checksummed section table,
//! followed by bincode-encoded sections, each with its own CRC32. `docs/format.md` is the byte
//! layout; this module is the only code that reads model bytes.
//!
//! ```text
//! ┌────────────────────────── header ───────────────────────────┐┌──── sections ────┐
//! magic · version · count · capabilities · length · table · crc   meta catalog users
//!                                                                 histories popularity
//!                                                                 recommender…
//! ```
//!
//! Decoding checks, in order: magic, version, limits, header checksum, capabilities, file
//! length, section placement, each section's checksum, each section's contents, and finally the
//! consistency of the whole model. Every failure is a distinct [`FormatError`]; no input panics.

mod check;
mod codec;
mod header;
pub(crate) mod read;
pub mod sessions;
pub mod signature;
pub mod slice;
mod wire;
pub(crate) mod writer;

use std::borrow::Cow;

#[cfg(feature = "write")]
use bincode::config;

use crate::error::FormatError;
use crate::model::Model;
pub use header::{FLAG_PUBLIC, FileInfo, SectionInfo, SectionKind};
use wire::ReadWire;

/// The first eight bytes of every model file (PNG-style: a non-ASCII byte, the name, then line
/// endings and an end-of-file byte that text-mode transfers would mangle).
pub const MAGIC: [u8; 8] = *b"\x89ERM\r\n\x1a\n";

/// The newest format version this build writes: (major, minor). A minor bump adds optional
/// sections, flags or capability bits that older readers of the same major can safely ignore
/// or refuse by bit; a major bump changes the layout of something existing. The writer stamps
/// a file with the oldest version that holds everything it uses (see [`version_of`]), so a
/// file of an older minor re-encodes to the same bytes.
pub const FORMAT_VERSION: (u16, u16) = (1, 4);

/// The oldest format version this build reads. Any minor of a supported major is read.
pub const OLDEST_SUPPORTED_FORMAT_VERSION: (u16, u16) = (1, 0);

/// Required capability: some embedding is stored as `f32`.
pub const CAP_EMBEDDING_F32: u64 = 1 << 0;
/// Required capability: some embedding is stored as int8 with per-row scales.
pub const CAP_EMBEDDING_INT8: u64 = 1 << 1;
/// Required capability: a recommender ranks by popularity counts.
pub const CAP_POPULARITY: u64 = 1 << 2;
/// Required capability: a recommender holds item-item neighbour lists.
pub const CAP_NEIGHBORS: u64 = 1 << 3;
/// Required capability: a recommender holds matrix-factorisation factors.
pub const CAP_FACTORS: u64 = 1 << 4;
/// Required capability (format 1.1): neighbour lists store their own history decay.
pub const CAP_HISTORY_DECAY: u64 = 1 << 5;
/// Required capability (format 1.1): a recommender has recipe code 4, `trending-now`.
pub const CAP_TRENDING: u64 = 1 << 6;
/// Required capability (format 1.1): a recommender holds item content features (hashed
/// metadata and text projected into its space), or has recipe code 5, `similar-items`.
pub const CAP_CONTENT: u64 = 1 << 7;
/// Required capability (format 1.1): a factor recommender stores exploration settings.
pub const CAP_EXPLORATION: u64 = 1 << 8;
/// Required capability (format 1.1): a factor recommender stores learned context vectors.
pub const CAP_CONTEXT: u64 = 1 << 9;
/// Required capability (format 1.1): neighbour lists store a short-session popularity prior.
pub const CAP_SESSION_POPULARITY: u64 = 1 << 10;
/// Required capability (format 1.1): the short-session prior counts recent popularity from a
/// timeline of each item's users.
pub const CAP_POPULARITY_TIMELINE: u64 = 1 << 11;
/// Required capability (format 1.1): neighbour lists blend in session neighbours, the
/// training users whose stored histories share a session's items.
pub const CAP_SESSION_NEIGHBORS: u64 = 1 << 12;
/// Required capability (format 1.1): neighbour lists carry transition lists that score
/// sessions without a known user.
pub const CAP_TRANSITIONS: u64 = 1 << 13;
/// Required capability (format 1.2): session neighbours read from session pairs, an
/// aggregate that holds no one's history, instead of stored histories.
pub const CAP_SESSION_PAIRS: u64 = 1 << 14;
/// Required capability (format 1.2): a recommender blends other recommenders of the model
/// with learned weights (recipe code 6, `auto`).
pub const CAP_BLEND: u64 = 1 << 15;
/// Required capability (format 1.3): some recommender section stores its neighbour lists or
/// factors with extension blocks, one per feature, keyed by that feature's capability bit
/// (see `docs/format.md`). From 1.3 on a neighbour or factor feature is a new bit and a new
/// block, not a new encoding.
pub const CAP_EXTENSIONS: u64 = 1 << 16;
/// Required capability (format 1.4): some recommender serves the model of an earlier
/// recommender of the file instead of storing its own (a `personalized-ranking` trained with
/// the same factors as a `user-personalization`, say), so the factors are stored once.
pub const CAP_SHARED_MODELS: u64 = 1 << 17;

/// The capabilities format 1.0 defined.
const CAPS_1_0: u64 =
    CAP_EMBEDDING_F32 | CAP_EMBEDDING_INT8 | CAP_POPULARITY | CAP_NEIGHBORS | CAP_FACTORS;

/// The capabilities formats up to 1.1 defined.
const CAPS_1_1: u64 = CAPS_1_0
    | CAP_HISTORY_DECAY
    | CAP_TRENDING
    | CAP_CONTENT
    | CAP_EXPLORATION
    | CAP_CONTEXT
    | CAP_SESSION_POPULARITY
    | CAP_POPULARITY_TIMELINE
    | CAP_SESSION_NEIGHBORS
    | CAP_TRANSITIONS;

/// Every capability this build can serve. A file that requires any other bit is refused with
/// [`FormatError::MissingCapabilities`].
pub const SUPPORTED_CAPABILITIES: u64 =
    CAPS_1_1 | CAP_SESSION_PAIRS | CAP_BLEND | CAP_EXTENSIONS | CAP_SHARED_MODELS;

/// The oldest format version that holds a model needing `caps`: 1.4 for shared models, 1.3 for
/// extension blocks, 1.2 for a public model, a stated k-anonymity floor or a 1.2 capability,
/// 1.1 for a 1.1 capability, else 1.0.
#[must_use]
pub fn version_of(caps: u64, meta: &crate::model::ModelMeta) -> (u16, u16) {
    if caps & CAP_SHARED_MODELS != 0 {
        (1, 4)
    } else if caps & CAP_EXTENSIONS != 0 {
        (1, 3)
    } else if meta.profile == crate::model::Profile::Public
        || meta.min_users > 0
        || caps & !CAPS_1_1 != 0
    {
        (1, 2)
    } else if caps & !CAPS_1_0 != 0 {
        (1, 1)
    } else {
        (1, 0)
    }
}

/// Largest model file accepted (2 GiB).
pub const MAX_FILE_LEN: u64 = 1 << 31;

/// Most sections a file may list.
pub const MAX_SECTIONS: usize = 64;

/// Longest recommender name read from a section when listing the table.
const MAX_NAME_LEN: u64 = 1024;

/// Reads the header and section table (for `inspect` and `info()`): version, capabilities,
/// total length, and per section its kind, name, offset, length and checksum. Section contents
/// are not verified; [`decode`] does that.
pub fn read_header(bytes: &[u8]) -> Result<FileInfo, FormatError> {
    header::parse(bytes)
}

/// Longest possible header (fixed part, a full section table and its checksum): a prefix of
/// this many bytes (or the whole file when shorter) is what [`SectionDecoder::new`] needs.
pub const MAX_HEADER_LEN: usize =
    header::FIXED_LEN + header::ENTRY_LEN * MAX_SECTIONS + header::CRC_LEN;

/// Decodes a model file, verifying every checksum and the model's consistency.
pub fn decode(bytes: &[u8]) -> Result<Model, FormatError> {
    decode_sections(bytes, false)
}

/// [`decode`] with the sections decoded by bincode through serde, as they were before the
/// hand-written reader; for the differential tests, which check that both agree.
#[cfg(feature = "write")]
#[doc(hidden)]
pub fn decode_with_bincode(bytes: &[u8]) -> Result<Model, FormatError> {
    decode_sections(bytes, true)
}

/// A whole file through the [`SectionDecoder`], its sections read by hand or (`bincode`, with
/// the `write` feature only) by bincode.
fn decode_sections(bytes: &[u8], bincode: bool) -> Result<Model, FormatError> {
    let prefix = bytes.get(..MAX_HEADER_LEN).unwrap_or(bytes);
    let mut decoder = SectionDecoder::new(prefix, bytes.len() as u64)?;
    #[cfg(feature = "write")]
    {
        decoder.bincode = bincode;
    }
    #[cfg(not(feature = "write"))]
    let _ = bincode;
    while let Some(s) = decoder.next_section() {
        let body = header::section_bytes(bytes, s).ok_or_else(|| {
            FormatError::SectionTable(format!("{} lies outside the file", s.label()))
        })?;
        decoder.accept(Cow::Borrowed(body))?;
    }
    decoder.finish().map(|(model, _)| model)
}

/// Decodes a model from its sections handed over one at a time, so that the whole file never
/// has to be resident next to the decoded model (the wasm package feeds it section by section).
/// Large int8 item factors reuse the section's own buffer instead of being copied.
///
/// Sections are asked for largest first (ties in file order), whatever their order in the
/// file: the biggest buffer is then allocated while the heap has no free holes, and the
/// smaller sections decode into and around the space it releases. Wasm memory never shrinks,
/// so any hole left below a late large buffer would count as resident memory for good.
///
/// ```text
/// new(header prefix, file length) ─► next_section() ─► push_section(bytes of that range) ─┐
///                                          ▲──────────────────────────────────────────────┘
///                                    None ─► finish() ─► (Model, FileInfo)
/// ```
#[derive(Debug)]
pub struct SectionDecoder {
    info: FileInfo,
    /// Indexes into `info.sections` of the known sections, in the order they are decoded.
    order: Vec<usize>,
    /// Position in `order` of the next section to decode.
    next: usize,
    meta: Option<crate::model::ModelMeta>,
    catalog: Option<crate::catalog::Catalog>,
    users: Option<crate::catalog::UserTable>,
    histories: Option<crate::model::Histories>,
    popularity: Option<crate::model::PopularityModel>,
    privacy: Option<u32>,
    /// Recommenders with the index of their section (the model keeps file order).
    recommenders: Vec<(usize, crate::model::Recommender)>,
    /// Recommenders that serve another's model: their section's index and that recommender's.
    shared: Vec<(usize, u32)>,
    /// Sections decoded by bincode instead of `read` ([`decode_with_bincode`]).
    #[cfg(feature = "write")]
    bincode: bool,
}

impl SectionDecoder {
    /// Reads the header from `prefix`: the first [`MAX_HEADER_LEN`] bytes of a file of
    /// `file_len` bytes (the whole file when it is shorter).
    pub fn new(prefix: &[u8], file_len: u64) -> Result<Self, FormatError> {
        let info = header::parse_with(prefix, file_len)?;
        let mut order: Vec<usize> = (0..info.sections.len())
            .filter(|&i| {
                info.sections
                    .get(i)
                    .is_some_and(|s| !matches!(s.kind, SectionKind::Unknown(_)))
            })
            .collect();
        crate::sort::sort_by_key(&mut order, |&i| {
            std::cmp::Reverse(info.sections.get(i).map_or(0, |s| s.length))
        });
        Ok(SectionDecoder {
            info,
            order,
            next: 0,
            meta: None,
            catalog: None,
            users: None,
            histories: None,
            popularity: None,
            privacy: None,
            recommenders: Vec::new(),
            shared: Vec::new(),
            #[cfg(feature = "write")]
            bincode: false,
        })
    }

    /// Index into `info.sections` of the next section to decode.
    fn next_index(&self) -> Option<usize> {
        self.order.get(self.next).copied()
    }

    /// The section whose bytes (`offset .. offset + length` of the file) are wanted next;
    /// `None` when every known section has been decoded. Unknown sections are skipped.
    #[must_use]
    pub fn next_section(&self) -> Option<&SectionInfo> {
        self.info.sections.get(self.next_index()?)
    }

    /// Decodes the bytes of the section [`SectionDecoder::next_section`] named, taking
    /// ownership so that the buffer can become the model's storage.
    pub fn push_section(&mut self, body: Vec<u8>) -> Result<(), FormatError> {
        self.accept(Cow::Owned(body))
    }

    fn accept(&mut self, body: Cow<'_, [u8]>) -> Result<(), FormatError> {
        #[cfg(feature = "write")]
        let bincode = self.bincode;
        #[cfg(not(feature = "write"))]
        let bincode = false;
        let index = self.next_index().unwrap_or(usize::MAX);
        let Some(s) = self.info.sections.get(index) else {
            return Err(FormatError::SectionTable(
                "a section was handed over after the last one".to_owned(),
            ));
        };
        if body.len() as u64 != s.length {
            return Err(FormatError::Truncated {
                what: "section",
                needed: s.length,
                available: body.len() as u64,
            });
        }
        let computed = crate::crc32::hash(&body);
        if computed != s.crc32 {
            return Err(FormatError::Checksum {
                section: s.label(),
                stored: s.crc32,
                computed,
            });
        }
        let sec = |e: codec::CodecError| FormatError::Section {
            section: s.label(),
            message: e.0,
        };
        match s.kind {
            SectionKind::Meta => {
                let w = section(&body, s, bincode, wire::MetaWire::read)?;
                once(&mut self.meta, s, w.into_model())?;
            }
            SectionKind::Catalog => {
                let w = section(&body, s, bincode, wire::CatalogWire::read)?;
                once(&mut self.catalog, s, w.into_model().map_err(sec)?)?;
            }
            SectionKind::Users => {
                let w = section(&body, s, bincode, wire::UsersWire::read)?;
                once(&mut self.users, s, w.into_model().map_err(sec)?)?;
            }
            SectionKind::Histories => {
                let w = section(&body, s, bincode, wire::HistoriesWire::read)?;
                once(&mut self.histories, s, w.into_model().map_err(sec)?)?;
            }
            SectionKind::Popularity => {
                let w = section(&body, s, bincode, wire::PopularityWire::read)?;
                once(
                    &mut self.popularity,
                    s,
                    w.into_model("popularity").map_err(sec)?,
                )?;
            }
            SectionKind::Privacy => {
                let w = section(&body, s, bincode, wire::PrivacyWire::read)?;
                once(&mut self.privacy, s, w.min_users)?;
            }
            SectionKind::Recommender => {
                let w = recommender(&body, s, bincode)?;
                if let Some(k) = w.shares() {
                    self.shared.push((index, k));
                }
                let reuse = match &body {
                    Cow::Owned(_) => w.int8_item_data_range(&body),
                    Cow::Borrowed(_) => None,
                };
                let mut rec = w.into_model(reuse.is_none()).map_err(sec)?;
                if let (Cow::Owned(buf), Some(range)) = (body, reuse)
                    && let crate::model::RecommenderModel::Factors(f) = &mut rec.model
                    && let crate::embedding::Embedding::Int8 { data, .. } = &mut f.item_factors
                {
                    *data = in_place(buf, range);
                    rehome(f);
                }
                if let Some(slot) = self.info.sections.get_mut(index) {
                    slot.name.clone_from(&rec.name);
                }
                self.recommenders.push((index, rec));
            }
            SectionKind::Unknown(_) => {}
        }
        self.next += 1;
        Ok(())
    }

    /// The model, once every section has been decoded, with the file's header facts.
    pub fn finish(mut self) -> Result<(Model, FileInfo), FormatError> {
        if let Some(s) = self.next_section() {
            return Err(FormatError::Truncated {
                what: "sections",
                needed: s.offset + s.length,
                available: s.offset,
            });
        }
        let mut meta = self.meta.ok_or(FormatError::MissingSection("meta"))?;
        meta.profile = self.info.profile;
        meta.min_users = self.privacy.unwrap_or(0);
        let shared;
        let model = Model {
            meta,
            catalog: self.catalog.ok_or(FormatError::MissingSection("catalog"))?,
            users: self.users.ok_or(FormatError::MissingSection("users"))?,
            histories: self
                .histories
                .ok_or(FormatError::MissingSection("histories"))?,
            popularity: self
                .popularity
                .ok_or(FormatError::MissingSection("popularity"))?,
            recommenders: {
                crate::sort::sort_by_key(&mut self.recommenders, |(index, _)| *index);
                shared = self.shared.is_empty()
                    || (self.info.capabilities & CAP_SHARED_MODELS != 0
                        && share(&mut self.recommenders, &self.shared));
                self.recommenders.into_iter().map(|(_, r)| r).collect()
            },
        };
        let caps = capabilities(&model);
        // One return for both checks: each early return after the model is assembled carries
        // its own copy of the model's drop code, which the npm package's size budget counts.
        if !shared || caps & !self.info.capabilities != 0 {
            return Err(FormatError::Inconsistent(if shared {
                format!(
                    "the model uses capabilities {:#x} that the header does not declare ({:#x})",
                    caps & !self.info.capabilities,
                    self.info.capabilities
                )
            } else {
                "a recommender shares the factors of one that is not an earlier recommender with factors of its own, or the header lacks CAP_SHARED_MODELS".to_owned()
            }));
        }
        check::model(&model)?;
        Ok((model, self.info))
    }
}

/// Gives each recommender that serves another's factors (`shared`: its section's index and
/// the other's index among `recommenders`, which are in file order) a copy of those factors.
/// False when the other does not come before it or stores no factors of its own.
fn share(recommenders: &mut [(usize, crate::model::Recommender)], shared: &[(usize, u32)]) -> bool {
    use crate::model::RecommenderModel;
    for &(section, k) in shared {
        let k = k as usize;
        let at = recommenders.iter().position(|(i, _)| *i == section);
        let model = match (at, recommenders.get(k)) {
            (Some(at), Some((i, r))) if k < at && !shared.iter().any(|s| s.0 == *i) => {
                match &r.model {
                    RecommenderModel::Factors(f) => RecommenderModel::Factors(f.clone()),
                    _ => return false,
                }
            }
            _ => return false,
        };
        if let Some((_, r)) = at.and_then(|at| recommenders.get_mut(at)) {
            r.model = model;
        }
    }
    true
}

/// Turns a section buffer into the int8 values at `range` of it: moved to the front, the rest
/// released (shrinking in place), so the values are never held twice.
fn in_place(mut buf: Vec<u8>, range: std::ops::Range<usize>) -> Vec<i8> {
    let len = range.len();
    buf.copy_within(range, 0);
    buf.truncate(len);
    buf.shrink_to_fit();
    // Same size and alignment: the cast reuses the allocation.
    bytemuck::allocation::try_cast_vec(buf)
        .unwrap_or_else(|(_, buf)| buf.iter().map(|&b| b.cast_signed()).collect())
}

/// Moves the factor arrays decoded from a recommender section into the space the section
/// released (they were allocated while the whole section was still held, so above it): each
/// is copied into the best-fitting free block, typically the released tail, and its old block
/// returns to the top of the heap, where later allocations reuse it. Without this the tail
/// stays a hole and wasm memory, which never shrinks, grows by as much again.
fn rehome(f: &mut crate::model::FactorModel) {
    use crate::embedding::Embedding;
    fn again<T: Copy>(v: &mut Vec<T>) {
        *v = v.as_slice().to_vec();
    }
    if let Embedding::Int8 { scales, .. } = &mut f.item_factors {
        again(scales);
    }
    match &mut f.user_factors {
        Embedding::Int8 { data, scales, .. } => {
            again(data);
            again(scales);
        }
        Embedding::F32 { data, .. } => again(data),
    }
    again(&mut f.gram);
    again(&mut f.event_weights);
}

fn once<T>(slot: &mut Option<T>, s: &SectionInfo, v: T) -> Result<(), FormatError> {
    if slot.replace(v).is_some() {
        return Err(FormatError::SectionTable(format!(
            "section {} appears more than once",
            s.label()
        )));
    }
    Ok(())
}

/// Decodes one section's wire shape with `read`, which must use every byte. Allocation is
/// bounded by the section: every array is a borrowed byte string (see `codec`), so decoding a
/// section allocates only after a codec has checked the element count against its bytes.
fn section<'b, T: serde::Deserialize<'b>>(
    body: &'b [u8],
    s: &SectionInfo,
    bincode: bool,
    read: fn(&mut read::Reader<'b>) -> Result<T, String>,
) -> Result<T, FormatError> {
    #[cfg(feature = "write")]
    if bincode {
        return section_bincode(body, s);
    }
    #[cfg(not(feature = "write"))]
    let _ = bincode;
    by_hand(body, s, read)
}

/// [`section`] by the hand-written reader.
fn by_hand<'b, T>(
    body: &'b [u8],
    s: &SectionInfo,
    read: fn(&mut read::Reader<'b>) -> Result<T, String>,
) -> Result<T, FormatError> {
    let mut r = read::Reader::new(body);
    read(&mut r)
        .and_then(|v| r.finish().map(|()| v))
        .map_err(|message| FormatError::Section {
            section: s.label(),
            message,
        })
}

/// A recommender section, its model in parts ([`section`] for recommenders: the hand-written
/// reader reads the model straight into its parts).
fn recommender<'b>(
    body: &'b [u8],
    s: &SectionInfo,
    bincode: bool,
) -> Result<wire::RecommenderParts<'b>, FormatError> {
    #[cfg(feature = "write")]
    if bincode {
        return section_bincode::<wire::RecommenderWire>(body, s)?
            .into_parts()
            .map_err(|message| FormatError::Section {
                section: s.label(),
                message,
            });
    }
    #[cfg(not(feature = "write"))]
    let _ = bincode;
    by_hand(body, s, wire::RecommenderWire::read_parts)
}

/// [`section`] through bincode and serde.
#[cfg(feature = "write")]
fn section_bincode<'b, T: serde::Deserialize<'b>>(
    body: &'b [u8],
    s: &SectionInfo,
) -> Result<T, FormatError> {
    bincode_value(body).map_err(|message| FormatError::Section {
        section: s.label(),
        message,
    })
}

/// One value decoded by bincode and serde from `bytes`, which it must use whole (a section,
/// or an extension block's body).
#[cfg(feature = "write")]
pub(crate) fn bincode_value<'b, T: serde::Deserialize<'b>>(bytes: &'b [u8]) -> Result<T, String> {
    // A const generic takes no conversion that can fail; MAX_FILE_LEN (a u64 below 2^32)
    // fits in `usize` on every target.
    #[allow(clippy::cast_possible_truncation)]
    let cfg = config::standard().with_limit::<{ MAX_FILE_LEN as usize }>();
    let (v, used) =
        bincode::serde::borrow_decode_from_slice::<T, _>(bytes, cfg).map_err(|e| e.to_string())?;
    match bytes.len().saturating_sub(used) {
        0 => Ok(v),
        n => Err(format!("{n} bytes follow the encoded value")),
    }
}

/// The recommender name at the start of a recommender section, if it reads as one (and is
/// not longer than a name can be).
fn peek_name(body: &[u8]) -> Option<String> {
    let name = read::Reader::new(body).str().ok()?;
    // within the MAX_NAME_LEN + 10 bytes that bincode's limit allowed when it read this
    (name.len() as u64 <= MAX_NAME_LEN + 10).then(|| name.to_owned())
}

/// The capability bits a model needs: per recommender its model kind, its recipe, its
/// embeddings and the features its extension blocks hold (the same features the 1.1 and 1.2
/// shapes held, under the same bits).
fn capabilities(m: &Model) -> u64 {
    use crate::embedding::Embedding;
    use crate::model::{Recipe, RecommenderModel};
    let emb = |e: &Embedding| match e {
        Embedding::F32 { .. } => CAP_EMBEDDING_F32,
        Embedding::Int8 { .. } => CAP_EMBEDDING_INT8,
    };
    let content = |c: &Option<Box<crate::content::ContentModel>>| {
        c.as_deref().map_or(0, |c| {
            emb(&c.projection) | c.item_vectors.as_ref().map_or(0, &emb)
        })
    };
    m.recommenders.iter().fold(0, |caps, r| {
        let recipe = match r.recipe {
            Recipe::TrendingNow => CAP_TRENDING,
            Recipe::SimilarItems => CAP_CONTENT,
            Recipe::Auto => CAP_BLEND,
            _ => 0,
        };
        caps | recipe
            | match &r.model {
                RecommenderModel::Popularity(_) => CAP_POPULARITY,
                RecommenderModel::Neighbors(n) => {
                    CAP_NEIGHBORS | wire::neighbors::extensions(n) | content(&n.content)
                }
                RecommenderModel::Factors(f) => {
                    CAP_FACTORS
                        | emb(&f.item_factors)
                        | emb(&f.user_factors)
                        | wire::factors::extensions(f, r.serving.exploration)
                        | content(&f.content)
                }
                RecommenderModel::Blend(_) => CAP_BLEND,
            }
    })
}

/// The recommender before `i` whose factors recommender `i` serves when written with shared
/// models (a file with [`CAP_SHARED_MODELS`]): the first with the same factors. Only for a
/// recommender without exploration settings (they are stored with the factors).
#[cfg(feature = "write")]
#[must_use]
pub fn shared_factors(recommenders: &[crate::model::Recommender], i: usize) -> Option<usize> {
    use crate::model::RecommenderModel;
    let r = recommenders.get(i)?;
    let RecommenderModel::Factors(f) = &r.model else {
        return None;
    };
    if r.serving.exploration.is_some() {
        return None;
    }
    recommenders
        .get(..i)?
        .iter()
        .position(|r| matches!(&r.model, RecommenderModel::Factors(g) if f == g))
}

/// How [`encode_with`] writes a model.
#[cfg(feature = "write")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Store a factor model once when several recommenders hold the same one (format 1.4,
    /// [`CAP_SHARED_MODELS`]). Off, each stores its own copy, which readers before 1.4 read.
    pub share_models: bool,
}

#[cfg(feature = "write")]
impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions { share_models: true }
    }
}

/// Encodes a model with the default [`EncodeOptions`]. Deterministic: the same model always
/// gives the same bytes. Fails only when the model is inconsistent (the same checks
/// [`decode`] applies) or exceeds the limits.
#[cfg(feature = "write")]
pub fn encode(model: &Model) -> Result<Vec<u8>, FormatError> {
    encode_with(model, EncodeOptions::default())
}

/// Encodes a model as `options` say (see [`encode`]).
#[cfg(feature = "write")]
pub fn encode_with(model: &Model, options: EncodeOptions) -> Result<Vec<u8>, FormatError> {
    use wire::out;
    check::model(model)?;
    let Model {
        meta,
        catalog,
        users,
        histories,
        popularity,
        recommenders,
    } = model;
    let enc = |kind: SectionKind, v: Result<Vec<u8>, bincode::error::EncodeError>| {
        v.map(|b| (kind, b)).map_err(|e| FormatError::Section {
            section: kind.name().to_owned(),
            message: e.to_string(),
        })
    };
    let cfg = config::standard();
    let mut bodies = vec![
        enc(
            SectionKind::Meta,
            bincode::serde::encode_to_vec(out::meta(meta), cfg),
        )?,
        enc(
            SectionKind::Catalog,
            bincode::serde::encode_to_vec(out::CatalogBufs::new(catalog).wire(), cfg),
        )?,
        enc(
            SectionKind::Users,
            bincode::serde::encode_to_vec(out::UsersBufs::new(users).wire(), cfg),
        )?,
        enc(
            SectionKind::Histories,
            bincode::serde::encode_to_vec(out::HistoriesBufs::new(histories).wire(), cfg),
        )?,
        enc(
            SectionKind::Popularity,
            bincode::serde::encode_to_vec(out::PopularityBufs::new(popularity).wire(), cfg),
        )?,
    ];
    if meta.min_users > 0 {
        bodies.push(enc(
            SectionKind::Privacy,
            bincode::serde::encode_to_vec(
                wire::PrivacyWire {
                    min_users: meta.min_users,
                },
                cfg,
            ),
        )?);
    }
    let mut extended = false;
    let mut shared = false;
    for (i, r) in recommenders.iter().enumerate() {
        let shares = shared_factors(recommenders, i)
            .filter(|_| options.share_models)
            .and_then(|j| u32::try_from(j).ok());
        shared |= shares.is_some();
        let bufs = out::RecommenderBufs::new(r, shares);
        let bytes = bufs.and_then(|b| {
            extended |= b.extensions() != 0;
            debug_assert_eq!(b.extensions() & !capabilities(model), 0);
            bincode::serde::encode_to_vec(b.wire(), cfg)
        });
        bodies.push(enc(SectionKind::Recommender, bytes)?);
    }
    if bodies.len() > MAX_SECTIONS {
        return Err(FormatError::TooLarge {
            what: "section count",
            value: bodies.len() as u64,
            limit: MAX_SECTIONS as u64,
        });
    }
    let mut offset = header::header_len(bodies.len()) as u64;
    let mut table = Vec::with_capacity(bodies.len());
    for (index, (kind, b)) in bodies.iter().enumerate() {
        table.push(SectionInfo {
            index,
            kind: *kind,
            code: kind.code(),
            name: kind.name().to_owned(),
            flags: if *kind == SectionKind::Meta && meta.profile == crate::model::Profile::Public {
                FLAG_PUBLIC
            } else {
                0
            },
            offset,
            length: b.len() as u64,
            crc32: crate::crc32::hash(b),
        });
        offset += b.len() as u64;
    }
    if offset > MAX_FILE_LEN {
        return Err(FormatError::TooLarge {
            what: "file length",
            value: offset,
            limit: MAX_FILE_LEN,
        });
    }
    let caps = capabilities(model)
        | if extended { CAP_EXTENSIONS } else { 0 }
        | if shared { CAP_SHARED_MODELS } else { 0 };
    let mut file = header::write_with_version(version_of(caps, meta), caps, offset, &table);
    file.reserve(
        usize::try_from(offset)
            .unwrap_or(0)
            .saturating_sub(file.len()),
    );
    for (_, b) in &bodies {
        file.extend_from_slice(b);
    }
    Ok(file)
}
