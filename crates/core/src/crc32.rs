//! CRC-32 (IEEE, reflected, as in zlib, PNG and `crc32fast`) of model files and session exports.
//!
//! Native builds use `crc32fast` (hardware-accelerated). The wasm build uses the table-driven
//! slice-by-16 below instead (the algorithm of `crc32fast`'s portable path), whose 16 KiB of
//! tables are computed on first use rather than shipped in the `.wasm`.

/// The CRC-32 of `bytes`.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

/// The CRC-32 of `bytes`.
#[cfg(target_arch = "wasm32")]
pub(crate) fn hash(bytes: &[u8]) -> u32 {
    compact::hash(bytes)
}

#[cfg(any(test, target_arch = "wasm32"))]
mod compact {
    use std::sync::OnceLock;

    /// The reflected IEEE polynomial.
    const POLY: u32 = 0xEDB8_8320;

    type Tables = [[u32; 256]; 16];

    fn tables() -> &'static Tables {
        static TABLES: OnceLock<Box<Tables>> = OnceLock::new();
        TABLES.get_or_init(|| {
            let mut t = Box::new([[0u32; 256]; 16]);
            for i in 0..256u32 {
                let mut c = i;
                for _ in 0..8 {
                    c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
                }
                t[0][i as usize] = c;
            }
            for i in 0..256 {
                for k in 1..16 {
                    let prev = t[k - 1][i];
                    t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
                }
            }
            t
        })
    }

    pub(crate) fn hash(bytes: &[u8]) -> u32 {
        let t = tables();
        let mut crc = !0u32;
        let mut chunks = bytes.chunks_exact(16);
        for c in &mut chunks {
            let w = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            let (a, b, c2, d) = (crc ^ w(0), w(4), w(8), w(12));
            let at = |k: usize, word: u32, shift: u32| t[k][((word >> shift) & 0xff) as usize];
            crc = at(15, a, 0)
                ^ at(14, a, 8)
                ^ at(13, a, 16)
                ^ at(12, a, 24)
                ^ at(11, b, 0)
                ^ at(10, b, 8)
                ^ at(9, b, 16)
                ^ at(8, b, 24)
                ^ at(7, c2, 0)
                ^ at(6, c2, 8)
                ^ at(5, c2, 16)
                ^ at(4, c2, 24)
                ^ at(3, d, 0)
                ^ at(2, d, 8)
                ^ at(1, d, 16)
                ^ at(0, d, 24);
        }
        for &b in chunks.remainder() {
            crc = (crc >> 8) ^ t[0][((crc ^ u32::from(b)) & 0xff) as usize];
        }
        !crc
    }

    #[cfg(test)]
    mod tests {
        use proptest::prelude::*;

        #[test]
        fn known_values() {
            assert_eq!(super::hash(b""), 0);
            assert_eq!(super::hash(b"123456789"), 0xCBF4_3926);
        }

        proptest! {
            #[test]
            fn matches_crc32fast(data in proptest::collection::vec(any::<u8>(), 0..300)) {
                prop_assert_eq!(super::hash(&data), crc32fast::hash(&data));
            }
        }
    }
}
