//! The section decoder: reads the bincode 2 encoding (`config::standard()`, through serde) of
//! the wire shapes in `wire/`, by hand: this is the reader of bincode's primitives, and each
//! shape's [`super::wire::ReadWire`] reads its fields with it.
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

/// Elements of a sequence reserved before the first one is read (as `Seq` does).
const SEQ_PREALLOC: usize = 16;

/// Reads values from one section's bytes, front to back.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

pub(crate) type Read<T> = Result<T, String>;

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
    pub(crate) fn i64(&mut self) -> Read<i64> {
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

    pub(crate) fn bool(&mut self) -> Read<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("invalid boolean {b}")),
        }
    }

    /// A length-prefixed byte string, borrowed.
    pub(crate) fn bytes(&mut self) -> Read<&'a [u8]> {
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

    pub(crate) fn seq<T>(&mut self, mut each: impl FnMut(&mut Self) -> Read<T>) -> Read<Seq<T>> {
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
    pub(crate) fn strings(&mut self) -> Read<Strings<'a>> {
        Ok(Strings {
            count: self.u64()?,
            lens: self.blob()?,
            suffixes: self.blob()?,
        })
    }

    /// An `Option`: a tag byte, then the value when it is 1.
    pub(crate) fn option<T>(&mut self, each: impl FnOnce(&mut Self) -> Read<T>) -> Read<Option<T>> {
        if self.option_tag()? {
            Ok(Some(each(self)?))
        } else {
            Ok(None)
        }
    }
}
