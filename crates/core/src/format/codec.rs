//! Array codecs used inside sections: LEB128 varints, zigzag deltas, little-endian floats,
//! front-coded strings and raw bytes.
//!
//! Every codec is a count plus one borrowed byte string, so decoding knows the exact number of
//! elements before it allocates and can check that number against the bytes that hold them.
//! Nothing here trusts a count: each decoder returns [`CodecError`] instead of panicking or
//! allocating for elements that are not there.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::idlist::IdList;
use crate::timestamps::Timestamps;

/// A borrowed byte string, written with `serialize_bytes` (bincode: varint length + bytes) and
/// read back without copying.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Blob<'a>(pub &'a [u8]);

impl fmt::Debug for Blob<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({} bytes)", self.0.len())
    }
}

impl Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Blob<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de [u8]>::deserialize(d).map(Blob)
    }
}

/// Why an array inside a section could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CodecError(pub String);

impl CodecError {
    pub(crate) fn new(what: &str, msg: impl fmt::Display) -> Self {
        CodecError(format!("{what}: {msg}"))
    }
}

/// `count` unsigned LEB128 varints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Varints<'a> {
    pub count: u64,
    #[serde(borrow)]
    pub bytes: Blob<'a>,
}

#[cfg(any(test, feature = "write"))]
/// Owned encoder output for [`Varints`].
#[derive(Debug, Clone, Default)]
pub(crate) struct VarintBuf {
    pub count: u64,
    pub bytes: Vec<u8>,
}

#[cfg(any(test, feature = "write"))]
impl VarintBuf {
    pub(crate) fn push(&mut self, v: u64) {
        self.count += 1;
        leb128(&mut self.bytes, v);
    }

    pub(crate) fn wire(&self) -> Varints<'_> {
        Varints {
            count: self.count,
            bytes: Blob(&self.bytes),
        }
    }

    /// Plain unsigned values.
    pub(crate) fn plain(values: impl IntoIterator<Item = u64>) -> Self {
        let mut b = VarintBuf::default();
        for v in values {
            b.push(v);
        }
        b
    }

    /// Differences of successive values (each must be ≥ the previous one, the first from 0).
    /// Values that decrease are stored as a wrapping difference, which decoding rejects; the
    /// encoder only uses this for offsets, whose monotonicity the model guarantees.
    pub(crate) fn deltas(values: &[u32]) -> Self {
        let mut prev = 0u32;
        VarintBuf::plain(values.iter().map(|&v| {
            let d = u64::from(v.wrapping_sub(prev));
            prev = v;
            d
        }))
    }

    /// Zigzag-coded differences of successive signed values (the first from 0).
    pub(crate) fn signed_deltas(values: &[i64]) -> Self {
        let mut prev = 0i64;
        VarintBuf::plain(values.iter().map(|&v| {
            let d = v.wrapping_sub(prev);
            prev = v;
            zigzag(d)
        }))
    }
}

/// Appends `v` as an unsigned LEB128 varint (7 bits a byte, low bits first).
pub(crate) fn leb128(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        #[allow(clippy::cast_possible_truncation)]
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    out.push(v as u8);
}

#[allow(clippy::cast_sign_loss)]
pub(crate) fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

#[allow(clippy::cast_possible_wrap)]
fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Reads varints one at a time, failing on truncation or overlong encodings.
struct VarintReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl VarintReader<'_> {
    #[inline]
    fn next(&mut self) -> Option<u64> {
        let first = *self.bytes.get(self.pos)?;
        if first < 0x80 {
            self.pos += 1;
            return Some(u64::from(first));
        }
        let mut v = 0u64;
        let mut shift = 0u32;
        loop {
            let b = *self.bytes.get(self.pos)?;
            self.pos += 1;
            let low = u64::from(b & 0x7f);
            if shift == 63 && low > 1 {
                return None;
            }
            v |= low << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
            if shift > 63 {
                return None;
            }
        }
    }
}

impl Varints<'_> {
    /// Checks the count against the bytes (every varint takes at least one byte) before
    /// anything is allocated, then calls `f` for each value in order.
    fn each(
        &self,
        what: &str,
        mut f: impl FnMut(u64) -> Result<(), CodecError>,
    ) -> Result<usize, CodecError> {
        let n = self.checked_count(what)?;
        let mut r = VarintReader {
            bytes: self.bytes.0,
            pos: 0,
        };
        for i in 0..n {
            let v = r
                .next()
                .ok_or_else(|| CodecError::new(what, format!("varint {i} of {n} is malformed")))?;
            f(v)?;
        }
        if r.pos != self.bytes.0.len() {
            return Err(CodecError::new(
                what,
                format!("{} bytes follow the last value", self.bytes.0.len() - r.pos),
            ));
        }
        Ok(n)
    }

    fn checked_count(&self, what: &str) -> Result<usize, CodecError> {
        match usize::try_from(self.count) {
            Ok(n) if n <= self.bytes.0.len() => Ok(n),
            _ => Err(CodecError::new(
                what,
                format!(
                    "{} values cannot fit in {} bytes",
                    self.count,
                    self.bytes.0.len()
                ),
            )),
        }
    }

    /// Plain `u32` values.
    pub(crate) fn to_u32(self, what: &str) -> Result<Vec<u32>, CodecError> {
        let mut out = Vec::with_capacity(self.checked_count(what)?);
        self.each(what, |v| {
            out.push(u32::try_from(v).map_err(|_| CodecError::new(what, "value exceeds u32"))?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Plain `u16` values.
    pub(crate) fn to_u16(self, what: &str) -> Result<Vec<u16>, CodecError> {
        let mut out = Vec::with_capacity(self.checked_count(what)?);
        self.each(what, |v| {
            out.push(u16::try_from(v).map_err(|_| CodecError::new(what, "value exceeds u16"))?);
            Ok(())
        })?;
        Ok(out)
    }

    /// Non-decreasing `u32` values stored as differences.
    pub(crate) fn to_offsets(self, what: &str) -> Result<Vec<u32>, CodecError> {
        let mut out = Vec::with_capacity(self.checked_count(what)?);
        let mut acc = 0u32;
        self.each(what, |d| {
            acc = u32::try_from(d)
                .ok()
                .and_then(|d| acc.checked_add(d))
                .ok_or_else(|| CodecError::new(what, "offset exceeds u32"))?;
            out.push(acc);
            Ok(())
        })?;
        Ok(out)
    }

    /// Decimal column values: 0 = null (`NaN`), else zigzag(`n`) + 1 for the value `n / div`,
    /// with `|n| < 2^53` so that `n` converts to `f64` exactly.
    #[allow(clippy::cast_precision_loss)]
    pub(crate) fn to_decimal(self, what: &str, div: f64) -> Result<Vec<f64>, CodecError> {
        let mut out = Vec::with_capacity(self.checked_count(what)?);
        self.each(what, |v| {
            let x = match v.checked_sub(1) {
                None => f64::NAN,
                Some(z) => {
                    let n = unzigzag(z);
                    if n.unsigned_abs() >= 1 << 53 {
                        return Err(CodecError::new(what, "decimal value out of range"));
                    }
                    n as f64 / div
                }
            };
            out.push(x);
            Ok(())
        })?;
        Ok(out)
    }

    /// Signed values stored as zigzag differences, as [`Timestamps`]: a first pass finds their
    /// range, so the list is allocated once, narrow when the range allows.
    pub(crate) fn to_timestamps(self, what: &str) -> Result<Timestamps, CodecError> {
        let n = self.checked_count(what)?;
        let (mut acc, mut min, mut max) = (0i64, i64::MAX, i64::MIN);
        self.each(what, |z| {
            acc = acc.wrapping_add(unzigzag(z));
            min = min.min(acc);
            max = max.max(acc);
            Ok(())
        })?;
        let mut out = Timestamps::with_range(n, min, max);
        let mut acc = 0i64;
        self.each(what, |z| {
            acc = acc.wrapping_add(unzigzag(z));
            out.push(acc);
            Ok(())
        })?;
        Ok(out)
    }
}

#[cfg(any(test, feature = "write"))]
/// `f32` values, little-endian.
pub(crate) fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[cfg(any(test, feature = "write"))]
/// `f64` values, little-endian.
pub(crate) fn f64_bytes(v: &[f64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

pub(crate) fn to_f32(b: Blob<'_>, what: &str) -> Result<Vec<f32>, CodecError> {
    let chunks = b.0.chunks_exact(4);
    if !chunks.remainder().is_empty() {
        return Err(CodecError::new(what, "byte length is not a multiple of 4"));
    }
    Ok(chunks
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

pub(crate) fn to_f64(b: Blob<'_>, what: &str) -> Result<Vec<f64>, CodecError> {
    let chunks = b.0.chunks_exact(8);
    if !chunks.remainder().is_empty() {
        return Err(CodecError::new(what, "byte length is not a multiple of 8"));
    }
    Ok(chunks
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect())
}

/// The one copy of an int8 matrix: section bytes straight into the model's `Vec<i8>`.
#[allow(clippy::cast_possible_wrap)]
pub(crate) fn to_i8(b: Blob<'_>) -> Vec<i8> {
    b.0.iter().map(|&x| x as i8).collect()
}

#[cfg(any(test, feature = "write"))]
#[allow(clippy::cast_sign_loss)]
pub(crate) fn i8_bytes(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

/// The longest prefix a front-coded string may share with the one before it.
pub(crate) const MAX_SHARED_PREFIX: u64 = 255;
/// Decoded strings of one list may total at most this many times the bytes that encode them.
pub(crate) const MAX_STRING_EXPANSION: u64 = 64;

/// A list of strings, front-coded: each string shares a prefix with the previous one.
/// `lens` holds two varints per string (shared prefix length, suffix length); `suffixes` the
/// concatenated suffixes, valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub(crate) struct Strings<'a> {
    pub count: u64,
    #[serde(borrow)]
    pub lens: Blob<'a>,
    #[serde(borrow)]
    pub suffixes: Blob<'a>,
}

#[cfg(any(test, feature = "write"))]
/// Owned encoder output for [`Strings`].
#[derive(Debug, Clone, Default)]
pub(crate) struct StringsBuf {
    count: u64,
    lens: VarintBuf,
    suffixes: Vec<u8>,
}

#[cfg(any(test, feature = "write"))]
impl StringsBuf {
    pub(crate) fn new<'s>(items: impl IntoIterator<Item = &'s str>) -> Self {
        let mut b = StringsBuf::default();
        let mut prev = "";
        for s in items {
            let mut shared = prev
                .bytes()
                .zip(s.bytes())
                .take_while(|(a, b)| a == b)
                .count()
                .min(usize::try_from(MAX_SHARED_PREFIX).unwrap_or(usize::MAX));
            while !s.is_char_boundary(shared) {
                shared -= 1;
            }
            let suffix = s.get(shared..).unwrap_or("");
            b.count += 1;
            b.lens.push(shared as u64);
            b.lens.push(suffix.len() as u64);
            b.suffixes.extend_from_slice(suffix.as_bytes());
            prev = s;
        }
        b
    }

    pub(crate) fn wire(&self) -> Strings<'_> {
        Strings {
            count: self.count,
            lens: Blob(&self.lens.bytes),
            suffixes: Blob(&self.suffixes),
        }
    }
}

impl<'a> Strings<'a> {
    /// The strings as owned `String`s (dictionaries, text columns, small lists).
    pub(crate) fn decode(self, what: &str) -> Result<Vec<String>, CodecError> {
        let (n, _) = self.sizes(what)?;
        let mut out = Vec::with_capacity(n);
        self.each(what, |s| out.push(s.to_owned()))?;
        Ok(out)
    }

    /// The strings as one [`IdList`], its buffers sized exactly before the first id is copied.
    pub(crate) fn decode_ids(self, what: &str) -> Result<IdList, CodecError> {
        let (n, bytes) = self.sizes(what)?;
        let mut out = IdList::with_capacity(n, bytes);
        self.each(what, |s| out.push(s))?;
        Ok(out)
    }

    fn lens(self, what: &str) -> Result<(usize, Varints<'a>), CodecError> {
        let pairs = self
            .count
            .checked_mul(2)
            .ok_or_else(|| CodecError::new(what, "string count overflows"))?;
        let lens = Varints {
            count: pairs,
            bytes: self.lens,
        };
        let n = usize::try_from(self.count)
            .ok()
            .filter(|_| lens.checked_count(what).is_ok())
            .ok_or_else(|| {
                CodecError::new(
                    what,
                    format!(
                        "{} strings cannot fit in {} bytes",
                        self.count,
                        self.lens.0.len()
                    ),
                )
            })?;
        Ok((n, lens))
    }

    /// The string count and the decoded strings' total length, read from the lengths alone
    /// (a cheap pass before anything is allocated) and checked against the expansion bound.
    fn sizes(self, what: &str) -> Result<(usize, usize), CodecError> {
        let (n, lens) = self.lens(what)?;
        let budget = (self.lens.0.len() as u64)
            .saturating_add(self.suffixes.0.len() as u64)
            .saturating_mul(MAX_STRING_EXPANSION);
        let mut total = 0u64;
        lens.each(what, |v| {
            total = total.saturating_add(v);
            if total > budget {
                return Err(CodecError::new(
                    what,
                    format!("decoded strings exceed {MAX_STRING_EXPANSION}x their encoded size"),
                ));
            }
            Ok(())
        })?;
        let bytes = usize::try_from(total)
            .map_err(|_| CodecError::new(what, "decoded strings overflow memory"))?;
        Ok((n, bytes))
    }

    /// Calls `f` with each decoded string in order (one reused buffer, no allocation per
    /// string), checking every prefix, suffix and the use of every text byte.
    fn each(self, what: &str, mut f: impl FnMut(&str)) -> Result<(), CodecError> {
        let (n, lens) = self.lens(what)?;
        let text = std::str::from_utf8(self.suffixes.0)
            .map_err(|e| CodecError::new(what, format!("invalid UTF-8: {e}")))?;
        let mut cur = String::new();
        let mut done = 0usize;
        let mut pending_shared: Option<u64> = None;
        let mut pos = 0usize;
        lens.each(what, |v| {
            let Some(shared) = pending_shared.take() else {
                pending_shared = Some(v);
                return Ok(());
            };
            let suffix_len =
                usize::try_from(v).map_err(|_| CodecError::new(what, "suffix length overflows"))?;
            let end = pos
                .checked_add(suffix_len)
                .ok_or_else(|| CodecError::new(what, "suffix length overflows"))?;
            let suffix = text.get(pos..end).ok_or_else(|| {
                CodecError::new(
                    what,
                    format!("string {done} runs past the text or splits a character"),
                )
            })?;
            pos = end;
            let keep = usize::try_from(shared)
                .ok()
                .filter(|&k| shared <= MAX_SHARED_PREFIX && cur.is_char_boundary(k))
                .ok_or_else(|| {
                    CodecError::new(what, format!("string {done} shares an invalid prefix"))
                })?;
            cur.truncate(keep);
            cur.push_str(suffix);
            f(&cur);
            done += 1;
            Ok(())
        })?;
        if pos != text.len() {
            return Err(CodecError::new(
                what,
                format!("{} text bytes are not used by any string", text.len() - pos),
            ));
        }
        debug_assert_eq!(done, n);
        Ok(())
    }
}

/// A sequence of section-defined records (columns, at most a few hundred) whose
/// pre-allocation is capped, whatever length the bytes claim.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Seq<T>(pub Vec<T>);

/// Elements reserved before the first one is read; the rest grow as elements arrive.
const SEQ_PREALLOC: usize = 16;

impl<T: Serialize> Serialize for Seq<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Seq<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for V<T> {
            type Value = Seq<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Seq<T>, A::Error> {
                let mut v = Vec::with_capacity(a.size_hint().unwrap_or(0).min(SEQ_PREALLOC));
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Seq(v))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip() {
        let v = [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        let b = VarintBuf::plain(v);
        let mut got = Vec::new();
        b.wire()
            .each("t", |x| {
                got.push(x);
                Ok(())
            })
            .ok();
        assert_eq!(got, v);
    }

    #[test]
    fn signed_deltas_round_trip() {
        let v = [0i64, -5, i64::MAX, i64::MIN, 1_700_000_000, 1_699_999_999];
        let b = VarintBuf::signed_deltas(&v);
        assert_eq!(
            b.wire().to_timestamps("t").map(|t| t.to_vec()),
            Ok(v.to_vec())
        );
    }

    #[test]
    fn offsets_round_trip_and_overflow() {
        let v = [0u32, 3, 3, 10, u32::MAX];
        assert_eq!(VarintBuf::deltas(&v).wire().to_offsets("t"), Ok(v.to_vec()));
        let over = VarintBuf::plain([u64::from(u32::MAX), 1]);
        assert!(over.wire().to_offsets("t").is_err());
    }

    #[test]
    fn count_larger_than_bytes_is_rejected_before_allocation() {
        let w = Varints {
            count: u64::MAX,
            bytes: Blob(&[1, 2, 3]),
        };
        assert!(w.to_u32("t").is_err());
        let s = Strings {
            count: u64::MAX / 2 + 1,
            lens: Blob(&[0, 0]),
            suffixes: Blob(&[]),
        };
        assert!(s.decode("t").is_err());
    }

    #[test]
    fn overlong_varints_are_rejected() {
        let w = Varints {
            count: 1,
            bytes: Blob(&[0xff; 11]),
        };
        assert!(w.to_u32("t").is_err());
        let w = Varints {
            count: 1,
            bytes: Blob(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
        };
        assert!(w.each("t", |_| Ok(())).is_err());
    }

    #[test]
    fn strings_round_trip() {
        let v = [
            "item-0001",
            "item-0002",
            "item-0002",
            "",
            "émoji-😀",
            "émoji-😁",
            "x",
        ];
        let b = StringsBuf::new(v.iter().copied());
        let got = b.wire().decode("t");
        assert_eq!(got, Ok(v.iter().map(|s| (*s).to_owned()).collect()));
    }

    #[test]
    fn strings_reject_bad_prefixes_and_text() {
        // shared prefix longer than the previous string
        let lens = VarintBuf::plain([0, 1, 5, 0]);
        let s = Strings {
            count: 2,
            lens: Blob(&lens.bytes),
            suffixes: Blob(b"a"),
        };
        assert!(s.decode("t").is_err());
        // suffix splits a multi-byte character
        let lens = VarintBuf::plain([0, 1, 0, 1]);
        let s = Strings {
            count: 2,
            lens: Blob(&lens.bytes),
            suffixes: Blob("é".as_bytes()),
        };
        assert!(s.decode("t").is_err());
        // unused text
        let lens = VarintBuf::plain([0, 1]);
        let s = Strings {
            count: 1,
            lens: Blob(&lens.bytes),
            suffixes: Blob(b"ab"),
        };
        assert!(s.decode("t").is_err());
    }

    #[test]
    fn floats_need_whole_values() {
        assert!(to_f32(Blob(&[0, 0, 0]), "t").is_err());
        assert!(to_f64(Blob(&[0; 9]), "t").is_err());
        let v = [1.5f32, -0.0, f32::INFINITY];
        assert_eq!(to_f32(Blob(&f32_bytes(&v)), "t"), Ok(v.to_vec()));
    }

    #[test]
    fn f64_and_i8_round_trip() {
        let v = [1.25f64, f64::NAN, -3.0];
        let back = to_f64(Blob(&f64_bytes(&v)), "t").unwrap_or_default();
        assert_eq!(back.len(), 3);
        assert!(back.iter().zip(&v).all(|(a, b)| a.to_bits() == b.to_bits()));
        let q = [-127i8, 0, 5, 127];
        assert_eq!(to_i8(Blob(&i8_bytes(&q))), q.to_vec());
    }
}
