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

use super::codec::{CodecError, leb128, zigzag};
use super::read::Reader;
use super::wire::{EmbeddingWire, HistoriesWire, ReadWire, UsersWire};
use super::writer::Writer;
use crate::catalog::{Column, ColumnKind, ColumnValues};
use crate::embedding::Embedding;
use crate::error::{SliceError, quoted};
use crate::request::limits;
use crate::user_slice::UserSlice;

/// The first eight bytes of a user slice.
pub const SLICE_MAGIC: [u8; 8] = *b"\x89ERP\r\n\x1a\n";
/// The format version this build writes: (major, minor). A reader reads its major's every
/// minor; a later minor may only append fields after the last one, which older readers skip.
pub const SLICE_FORMAT_VERSION: (u16, u16) = (1, 0);
/// Largest body accepted (16 MiB).
pub const MAX_SLICE_BODY: usize = 16 << 20;
/// Most metadata columns a slice may carry.
pub const MAX_SLICE_COLUMNS: usize = 64;
/// Most factor rows (one per factor recommender).
pub const MAX_SLICE_FACTORS: usize = 64;
/// Longest factor row.
pub const MAX_FACTOR_DIM: usize = 4096;

const HEADER_LEN: usize = 24;
const CRC_LEN: usize = 4;

/// The `Strings` codec with no shared prefixes: the count, then (0, length) per string, then
/// the strings' bytes.
fn strings(w: &mut Writer, items: &[&str]) {
    w.count(items.len());
    let mut lens = Vec::with_capacity(2 * items.len());
    for s in items {
        leb128(&mut lens, 0);
        leb128(&mut lens, s.len() as u64);
    }
    w.bytes(&lens);
    w.bytes(items.concat().as_bytes());
}

/// A one-row column as the `users` section stores columns.
fn column(w: &mut Writer, c: &Column) {
    w.str(&c.name);
    w.u8(match c.kind {
        ColumnKind::Categorical => 0,
        ColumnKind::Numeric => 1,
        ColumnKind::Textual => 2,
        ColumnKind::Boolean => 3,
    });
    match &c.values {
        ColumnValues::Categorical { .. } => {
            let values: Vec<&str> = c.categorical_values(0).collect();
            w.u8(0);
            strings(w, &values);
            w.varints([0, values.len() as u64].into_iter());
            w.varints((0..values.len()).map(|c| c as u64));
        }
        ColumnValues::Numeric(v) => {
            w.u8(1);
            w.bytes(&v.first().copied().unwrap_or(f64::NAN).to_le_bytes());
        }
        ColumnValues::Textual(v) => {
            w.u8(3);
            let text: Vec<&str> = v.iter().take(1).map(String::as_str).collect();
            strings(w, &text);
        }
    }
}

/// Encodes a slice. Deterministic: the same slice always gives the same bytes.
#[must_use]
pub fn encode(s: &UserSlice) -> Vec<u8> {
    let mut w = Writer::default();
    // users: user_ids Strings, columns Seq<Column>
    strings(&mut w, &[s.user_id()]);
    w.count(s.user.columns.len());
    for c in &s.user.columns {
        column(&mut w, c);
    }
    // histories: offsets, items, event_types, timestamps
    let h = &s.history;
    w.varints([0, h.items.len() as u64].into_iter());
    w.varints(h.items.iter().map(|&i| u64::from(i)));
    w.varints(h.event_types.iter().map(|&e| u64::from(e)));
    let mut prev = 0i64;
    w.varints(h.timestamps.iter().map(|t| {
        let d = t.wrapping_sub(prev);
        prev = t;
        zigzag(d)
    }));
    w.count(s.factors.len());
    for (name, e) in &s.factors {
        w.str(name);
        match e {
            Embedding::F32 { rows, dim, data } => {
                w.u8(0);
                w.u64(u64::from(*rows));
                w.u64(u64::from(*dim));
                w.bytes(
                    &data
                        .iter()
                        .flat_map(|x| x.to_le_bytes())
                        .collect::<Vec<_>>(),
                );
            }
            Embedding::Int8 {
                rows,
                dim,
                data,
                scales,
            } => {
                w.u8(1);
                w.u64(u64::from(*rows));
                w.u64(u64::from(*dim));
                w.bytes(&data.iter().map(|&q| q.cast_unsigned()).collect::<Vec<_>>());
                w.bytes(
                    &scales
                        .iter()
                        .flat_map(|x| x.to_le_bytes())
                        .collect::<Vec<_>>(),
                );
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
    let corrupt = |m: String| Err(SliceError::Corrupt(m));
    if bytes.len() < HEADER_LEN + CRC_LEN {
        return corrupt(format!(
            "truncated: {} bytes, shorter than the {}-byte header and checksum",
            bytes.len(),
            HEADER_LEN + CRC_LEN
        ));
    }
    let major = u16::from_le_bytes(le(bytes, 8));
    let minor = u16::from_le_bytes(le(bytes, 10));
    if major != SLICE_FORMAT_VERSION.0 {
        return corrupt(format!(
            "unsupported format version {major}.{minor}: this build reads version {}",
            SLICE_FORMAT_VERSION.0
        ));
    }
    let n = u32::from_le_bytes(le(bytes, 12)) as usize;
    let total = HEADER_LEN + n + CRC_LEN;
    if n > MAX_SLICE_BODY || bytes.len() != total {
        return corrupt(format!(
            "truncated or too long: the header declares a body of {n} bytes (at most {MAX_SLICE_BODY}), {total} bytes in all, but {} are present",
            bytes.len()
        ));
    }
    let stored = u32::from_le_bytes(le(bytes, HEADER_LEN + n));
    let computed = crate::crc32::hash(&bytes[..HEADER_LEN + n]);
    if stored != computed {
        return corrupt(format!(
            "checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (the bytes are corrupted)"
        ));
    }
    let mut r = Reader::new(&bytes[HEADER_LEN..HEADER_LEN + n]);
    let s = body(&mut r, u64::from_le_bytes(le(bytes, 16)), minor)?;
    check(&s)?;
    Ok(s)
}

/// The body: the user, their history and their factor rows, in the encodings of the model's
/// `users` and `histories` sections and of its embeddings.
fn body(r: &mut Reader<'_>, model_id: u64, minor: u16) -> Result<UserSlice, SliceError> {
    let e = |e: CodecError| SliceError::Corrupt(e.0);
    let user = UsersWire::read(r)
        .map_err(SliceError::Corrupt)?
        .into_model()
        .map_err(e)?;
    let history = HistoriesWire::read(r)
        .map_err(SliceError::Corrupt)?
        .into_model()
        .map_err(e)?;
    let n = r.u64().map_err(SliceError::Corrupt)?;
    if n > MAX_SLICE_FACTORS as u64 {
        return Err(SliceError::Corrupt(format!(
            "{n} factor rows exceed the limit of {MAX_SLICE_FACTORS}"
        )));
    }
    let mut factors = Vec::new();
    for _ in 0..n {
        let name = r.str().map_err(SliceError::Corrupt)?.to_owned();
        let row = EmbeddingWire::read(r)
            .map_err(SliceError::Corrupt)?
            .into_model("factor row", true)
            .map_err(e)?;
        factors.push((name, row));
    }
    if minor == SLICE_FORMAT_VERSION.1 {
        r.finish().map_err(SliceError::Corrupt)?;
    }
    Ok(UserSlice {
        model_id,
        user,
        history,
        factors,
    })
}

/// The bounds and invariants a decoded slice must meet.
fn check(s: &UserSlice) -> Result<(), SliceError> {
    let bad = |m: String| Err(SliceError::Corrupt(m));
    let id = s.user_id();
    if s.user.user_ids.len() != 1 || id.is_empty() || id.chars().count() > limits::MAX_ID_LEN {
        return bad(format!(
            "expected one user id of 1 to {} characters",
            limits::MAX_ID_LEN
        ));
    }
    if s.user.columns.len() > MAX_SLICE_COLUMNS {
        return bad(format!("more than {MAX_SLICE_COLUMNS} columns"));
    }
    for (k, c) in s.user.columns.iter().enumerate() {
        super::check::column(c, 1, "user").map_err(|e| SliceError::Corrupt(e.to_string()))?;
        if s.user.columns[..k]
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&c.name))
        {
            return bad(format!("column {} appears twice", quoted(&c.name)));
        }
    }
    let h = &s.history;
    if h.offsets.len() != 2 || !h.is_consistent(usize::MAX) {
        return bad("the history is not one user's".to_owned());
    }
    for (k, (name, e)) in s.factors.iter().enumerate() {
        let finite = match e {
            Embedding::F32 { data, .. } => data.iter().all(|x| x.is_finite()),
            Embedding::Int8 { .. } => true,
        };
        if s.factors[..k].iter().any(|(o, _)| o == name)
            || e.rows() != 1
            || e.dim() == 0
            || e.dim() > MAX_FACTOR_DIM
            || !e.is_consistent()
            || !finite
        {
            return bad(format!(
                "factor row {}: one row of 1 to {MAX_FACTOR_DIM} finite values, once per recommender",
                quoted(name)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use bincode::config;

    use super::*;
    use crate::catalog::UserTable;
    use crate::model::Histories;

    /// A slice with every kind of column, both kinds of factor row and a history.
    fn sample() -> UserSlice {
        let mut user = UserTable::default();
        user.user_ids.push("ann@example.com");
        let col = |name: &str, kind, values| Column {
            name: name.into(),
            kind,
            values,
        };
        user.columns = vec![
            col(
                "TIER",
                ColumnKind::Categorical,
                ColumnValues::Categorical {
                    dictionary: vec!["gold".into(), "new".into()],
                    offsets: vec![0, 2],
                    codes: vec![0, 1],
                },
            ),
            col(
                "MEMBER",
                ColumnKind::Boolean,
                ColumnValues::Categorical {
                    dictionary: vec![],
                    offsets: vec![0, 0],
                    codes: vec![],
                },
            ),
            col(
                "AGE",
                ColumnKind::Numeric,
                ColumnValues::Numeric(vec![41.5]),
            ),
            col(
                "BIO",
                ColumnKind::Textual,
                ColumnValues::Textual(vec!["likes tea".into()]),
            ),
        ];
        UserSlice {
            model_id: 0x1234_5678_9abc_def0,
            user,
            history: Histories {
                offsets: vec![0, 3],
                items: vec![7, 300, 7],
                event_types: vec![0, 1, 0],
                timestamps: [1_700_000_000, 1_699_999_000, 1_700_000_500]
                    .into_iter()
                    .collect(),
                ..Histories::default()
            },
            factors: vec![
                (
                    "f32".into(),
                    Embedding::from_f32(1, 3, vec![0.5, -1.25, 3.0]),
                ),
                (
                    "int8".into(),
                    Embedding::Int8 {
                        rows: 1,
                        dim: 2,
                        data: vec![-127, 64],
                        scales: vec![0.01],
                    },
                ),
            ],
        }
    }

    /// The hand-written body is the bincode encoding of the sections' wire types it claims to
    /// be: bincode reads it back to the same user, history and rows.
    #[test]
    fn the_body_is_what_bincode_reads_as_the_sections() {
        let s = sample();
        let bytes = encode(&s);
        let body = &bytes[HEADER_LEN..bytes.len() - CRC_LEN];
        type Body<'a> = (
            UsersWire<'a>,
            HistoriesWire<'a>,
            Vec<(&'a str, EmbeddingWire<'a>)>,
        );
        let (wire, used): (Body<'_>, usize) =
            bincode::serde::borrow_decode_from_slice(body, config::standard()).expect("bincode");
        assert_eq!(used, body.len());
        let (users, history, factors) = wire;
        assert_eq!(users.into_model().ok(), Some(s.user.clone()));
        assert_eq!(history.into_model().ok(), Some(s.history.clone()));
        let rows: Vec<(String, Embedding)> = factors
            .into_iter()
            .filter_map(|(n, e)| Some((n.to_owned(), e.into_model("row", true).ok()?)))
            .collect();
        assert_eq!(rows, s.factors);
        assert_eq!(decode(&bytes), Ok(s));
    }
}
