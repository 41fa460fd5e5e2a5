//! The writing side of [`super::read::Reader`]: bincode 2's standard encoding by hand, for the
//! small formats that must be written where the `write` feature (bincode) is not compiled in —
//! exported sessions and user slices, which the Worker writes too.
//!
//! Integers are varints (a byte < 251 is the value; 251, 252, 253 are followed by a
//! little-endian u16, u32, u64), floats 4 or 8 bytes little-endian, an `Option` a byte 0 or 1
//! then the value, strings and byte strings a varint length then the bytes.

use super::codec::leb128;

/// Bytes written front to back.
#[derive(Debug, Default)]
pub(crate) struct Writer(pub Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    #[allow(clippy::cast_possible_truncation)]
    pub(crate) fn u64(&mut self, v: u64) {
        if v < 251 {
            self.0.push(v as u8);
        } else if let Ok(v) = u16::try_from(v) {
            self.0.push(251);
            self.0.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = u32::try_from(v) {
            self.0.push(252);
            self.0.extend_from_slice(&v.to_le_bytes());
        } else {
            self.0.push(253);
            self.0.extend_from_slice(&v.to_le_bytes());
        }
    }

    /// A length or count.
    pub(crate) fn count(&mut self, n: usize) {
        self.u64(n as u64);
    }

    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.count(b.len());
        self.0.extend_from_slice(b);
    }

    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    pub(crate) fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }

    pub(crate) fn option<T>(&mut self, v: Option<T>, each: impl FnOnce(&mut Self, T)) {
        match v {
            None => self.0.push(0),
            Some(x) => {
                self.0.push(1);
                each(self, x);
            }
        }
    }

    /// The `Varints` codec: the count, then the values as LEB128 varints in one byte string.
    pub(crate) fn varints(&mut self, values: impl ExactSizeIterator<Item = u64>) {
        self.count(values.len());
        let mut b = Vec::with_capacity(values.len());
        for v in values {
            leb128(&mut b, v);
        }
        self.bytes(&b);
    }
}
