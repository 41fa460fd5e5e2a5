//! The user slice as bytes (a "user profile"): one known user's own data, sent only to that
//! user and loaded next to a public model (see [`crate::user_slice`]). `docs/format.md` has the
//! byte layout.
//!
//! ```text
//! offset  size  field
//!      0     8  magic  89 45 52 50 0d 0a 1a 0a   ("\x89ERP\r\n\x1a\n")
//!      8     2  format major (1)
//!     10     2  format minor (0)
//!     12     4  body length n (≤ MAX_SLICE_BODY)
//!     16     8  model id of the model the slice was cut from
//!     24     n  body: user id, metadata columns, history, factor rows
//!   24+n     4  CRC32 of bytes 0 .. 24+n
//! ```
//!
//! The body uses the encoding of the model's sections (bincode 2's standard encoding) and its
//! array codecs, read by the same reader. Every count and length is checked against the bytes
//! that hold it before anything is allocated; any damage is a [`SliceError`], never a panic.

use super::codec::{Varints, to_f32, to_i8, zigzag};
use super::read::Reader;
use super::writer::Writer;
use crate::catalog::ColumnKind;
use crate::error::SliceError;
use crate::records::Cell;
use crate::request::limits;
use crate::user_slice::{FactorRow, SliceColumn, SliceFactor, SliceHistory, UserSlice};

/// The first eight bytes of a user slice.
pub const SLICE_MAGIC: [u8; 8] = *b"\x89ERP\r\n\x1a\n";
/// The format version this build writes: (major, minor). A reader reads its major's every
/// minor; a later minor may only append fields after the last one, which older readers skip.
pub const SLICE_FORMAT_VERSION: (u16, u16) = (1, 0);
/// Largest body accepted (16 MiB).
pub const MAX_SLICE_BODY: usize = 16 << 20;
/// Most metadata columns a slice may carry.
pub const MAX_SLICE_COLUMNS: usize = 64;
/// Most values of one categorical cell.
pub const MAX_CELL_VALUES: usize = 1000;
/// Most factor rows (one per factor recommender).
pub const MAX_SLICE_FACTORS: usize = 64;
/// Longest factor row.
pub const MAX_FACTOR_DIM: usize = 4096;

const HEADER_LEN: usize = 24;
const CRC_LEN: usize = 4;

/// Column kind codes, as in the model's sections.
const KINDS: [ColumnKind; 4] = [
    ColumnKind::Categorical,
    ColumnKind::Numeric,
    ColumnKind::Textual,
    ColumnKind::Boolean,
];

fn kind_code(k: ColumnKind) -> u8 {
    match k {
        ColumnKind::Categorical => 0,
        ColumnKind::Numeric => 1,
        ColumnKind::Textual => 2,
        ColumnKind::Boolean => 3,
    }
}

/// Encodes a slice. Deterministic: the same slice always gives the same bytes.
#[must_use]
pub fn encode(s: &UserSlice) -> Vec<u8> {
    let mut w = Writer::default();
    w.str(&s.user_id);
    w.count(s.columns.len());
    for c in &s.columns {
        w.str(&c.name);
        w.u8(kind_code(c.kind));
        w.option(c.value.as_ref(), |w, v| match v {
            Cell::Categorical(values) => {
                w.u8(0);
                w.count(values.len());
                for v in values {
                    w.str(v);
                }
            }
            Cell::Numeric(x) => {
                w.u8(1);
                w.f64(*x);
            }
            Cell::Text(t) => {
                w.u8(2);
                w.str(t);
            }
        });
    }
    let h = &s.history;
    w.varints(h.items.iter().map(|&i| u64::from(i)));
    w.varints(h.event_types.iter().map(|&e| u64::from(e)));
    let mut prev = 0i64;
    w.varints(h.timestamps.iter().map(|&t| {
        let d = t.wrapping_sub(prev);
        prev = t;
        zigzag(d)
    }));
    w.count(s.factors.len());
    for f in &s.factors {
        w.str(&f.recommender);
        match &f.row {
            FactorRow::F32(v) => {
                w.u8(0);
                let b: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                w.bytes(&b);
            }
            FactorRow::Int8 { values, scale } => {
                w.u8(1);
                let b: Vec<u8> = values.iter().map(|&q| q.cast_unsigned()).collect();
                w.bytes(&b);
                w.f32(*scale);
            }
        }
    }
    let body = w.0;
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + CRC_LEN);
    out.extend_from_slice(&SLICE_MAGIC);
    out.extend_from_slice(&SLICE_FORMAT_VERSION.0.to_le_bytes());
    out.extend_from_slice(&SLICE_FORMAT_VERSION.1.to_le_bytes());
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&s.model_id.to_le_bytes());
    out.extend_from_slice(&body);
    let crc = crate::crc32::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

fn le<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(src) = b.get(at..at + N) {
        a.copy_from_slice(src);
    }
    a
}

/// Decodes a slice, checking in order: magic, version, length, checksum, then the body and
/// every bound. The model id is returned as found; [`crate::Engine::load_user_profile`]
/// compares it with its model's.
pub fn decode(bytes: &[u8]) -> Result<UserSlice, SliceError> {
    let head = bytes.get(..SLICE_MAGIC.len()).unwrap_or(bytes);
    if head != &SLICE_MAGIC[..head.len()] {
        return Err(SliceError::BadMagic {
            found: head.to_vec(),
        });
    }
    if bytes.len() < HEADER_LEN + CRC_LEN {
        return Err(SliceError::Truncated {
            what: "header",
            needed: (HEADER_LEN + CRC_LEN) as u64,
            available: bytes.len() as u64,
        });
    }
    let major = u16::from_le_bytes(le(bytes, 8));
    let minor = u16::from_le_bytes(le(bytes, 10));
    if major != SLICE_FORMAT_VERSION.0 {
        return Err(SliceError::UnsupportedVersion {
            found_major: major,
            found_minor: minor,
            supported: SLICE_FORMAT_VERSION.0,
        });
    }
    let n = u32::from_le_bytes(le(bytes, 12)) as usize;
    if n > MAX_SLICE_BODY {
        return Err(SliceError::TooLarge {
            what: "body length",
            value: n as u64,
            limit: MAX_SLICE_BODY as u64,
        });
    }
    let total = HEADER_LEN + n + CRC_LEN;
    if bytes.len() < total {
        return Err(SliceError::Truncated {
            what: "body",
            needed: total as u64,
            available: bytes.len() as u64,
        });
    }
    if bytes.len() > total {
        return Err(SliceError::Malformed(format!(
            "the header declares {total} bytes but {} are present",
            bytes.len()
        )));
    }
    let stored = u32::from_le_bytes(le(bytes, HEADER_LEN + n));
    let computed = crate::crc32::hash(&bytes[..HEADER_LEN + n]);
    if stored != computed {
        return Err(SliceError::Checksum { stored, computed });
    }
    let model_id = u64::from_le_bytes(le(bytes, 16));
    let mut r = Reader::new(&bytes[HEADER_LEN..HEADER_LEN + n]);
    let s = body(&mut r, model_id).map_err(SliceError::Malformed)?;
    if minor == SLICE_FORMAT_VERSION.1 {
        r.finish().map_err(SliceError::Malformed)?;
    }
    check(&s)?;
    Ok(s)
}

type Read<T> = Result<T, String>;

/// A count of items that each take at least `min_bytes`, checked against the bytes left and
/// against `limit`.
fn count(r: &mut Reader<'_>, what: &str, min_bytes: usize, limit: usize) -> Read<usize> {
    let n = r.u64()?;
    match usize::try_from(n) {
        Ok(n) if n <= limit && n.saturating_mul(min_bytes) <= r.remaining() => Ok(n),
        _ => Err(format!(
            "{what}: {n} entries exceed the limit of {limit} or the {} bytes left",
            r.remaining()
        )),
    }
}

fn body(r: &mut Reader<'_>, model_id: u64) -> Read<UserSlice> {
    let user_id = r.str()?.to_owned();
    let ncols = count(r, "columns", 3, MAX_SLICE_COLUMNS)?;
    let mut columns = Vec::with_capacity(ncols);
    for _ in 0..ncols {
        let name = r.str()?.to_owned();
        let kind = *KINDS
            .get(usize::from(r.u8()?))
            .ok_or_else(|| format!("column {name:?}: unknown kind"))?;
        let value = if r.option_tag()? {
            Some(match r.u8()? {
                0 => {
                    let nv = count(r, "categorical values", 1, MAX_CELL_VALUES)?;
                    let mut v = Vec::with_capacity(nv);
                    for _ in 0..nv {
                        v.push(r.str()?.to_owned());
                    }
                    Cell::Categorical(v)
                }
                1 => Cell::Numeric(r.f64()?),
                2 => Cell::Text(r.str()?.to_owned()),
                t => return Err(format!("column {name:?}: unknown value tag {t}")),
            })
        } else {
            None
        };
        columns.push(SliceColumn { name, kind, value });
    }
    let e = |e: super::codec::CodecError| e.0;
    let items: Varints<'_> = r.varints()?;
    let types: Varints<'_> = r.varints()?;
    let times: Varints<'_> = r.varints()?;
    let history = SliceHistory {
        items: items.to_u32("history items").map_err(e)?,
        event_types: types.to_u16("history event types").map_err(e)?,
        timestamps: times
            .to_timestamps("history timestamps")
            .map_err(e)?
            .to_vec(),
    };
    let nf = count(r, "factor rows", 3, MAX_SLICE_FACTORS)?;
    let mut factors = Vec::with_capacity(nf);
    for _ in 0..nf {
        let recommender = r.str()?.to_owned();
        let row = match r.u8()? {
            0 => FactorRow::F32(to_f32(r.blob()?, "factor row").map_err(e)?),
            1 => {
                let values = to_i8(r.blob()?);
                FactorRow::Int8 {
                    values,
                    scale: r.f32()?,
                }
            }
            t => return Err(format!("factor row of {recommender:?}: unknown tag {t}")),
        };
        factors.push(SliceFactor { recommender, row });
    }
    Ok(UserSlice {
        model_id,
        user_id,
        columns,
        history,
        factors,
    })
}

/// The bounds and invariants a decoded slice must meet.
fn check(s: &UserSlice) -> Result<(), SliceError> {
    let bad = |m: String| Err(SliceError::Malformed(m));
    let id_ok = |id: &str| !id.is_empty() && id.chars().count() <= limits::MAX_ID_LEN;
    if !id_ok(&s.user_id) {
        return bad(format!(
            "the user id must be 1 to {} characters",
            limits::MAX_ID_LEN
        ));
    }
    for (k, c) in s.columns.iter().enumerate() {
        if !id_ok(&c.name) {
            return bad(format!("column {k} has an empty or over-long name"));
        }
        if s.columns[..k]
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name))
        {
            return bad(format!("column {:?} appears twice", c.name));
        }
        let fits = match (&c.value, c.kind) {
            (None, _) => true,
            (Some(Cell::Categorical(v)), ColumnKind::Categorical | ColumnKind::Boolean) => {
                !v.is_empty()
            }
            (Some(Cell::Numeric(x)), ColumnKind::Numeric) => x.is_finite(),
            (Some(Cell::Text(t)), ColumnKind::Textual) => !t.is_empty(),
            _ => false,
        };
        if !fits {
            return bad(format!(
                "column {:?}: the value does not fit a {:?} column (or is an empty or non-finite value)",
                c.name, c.kind
            ));
        }
    }
    let h = &s.history;
    if h.event_types.len() != h.items.len() || h.timestamps.len() != h.items.len() {
        return bad(format!(
            "history: {} items, {} event types and {} timestamps disagree",
            h.items.len(),
            h.event_types.len(),
            h.timestamps.len()
        ));
    }
    for (k, f) in s.factors.iter().enumerate() {
        if s.factors[..k]
            .iter()
            .any(|o| o.recommender == f.recommender)
        {
            return bad(format!("factor row {:?} appears twice", f.recommender));
        }
        let d = f.row.dim();
        let finite = match &f.row {
            FactorRow::F32(v) => v.iter().all(|x| x.is_finite()),
            FactorRow::Int8 { scale, .. } => scale.is_finite(),
        };
        if d == 0 || d > MAX_FACTOR_DIM || !finite {
            return bad(format!(
                "factor row {:?}: {d} values (1 to {MAX_FACTOR_DIM}), or not finite",
                f.recommender
            ));
        }
    }
    Ok(())
}
