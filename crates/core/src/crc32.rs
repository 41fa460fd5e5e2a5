//! CRC-32 (IEEE, reflected, as in zlib, PNG and `crc32fast`) of model files and session exports.
//!
//! Native builds use `crc32fast` (hardware-accelerated). The wasm build uses the table-driven
//! slice-by-8 below instead, whose 8 KiB of tables are computed on first use rather than
//! shipped: `crc32fast`'s 16 KiB constant table would be that much more `.wasm` to download.

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

    type Tables = [[u32; 256]; 8];

    fn tables() -> &'static Tables {
        static TABLES: OnceLock<Box<Tables>> = OnceLock::new();
        TABLES.get_or_init(|| {
            let mut t = Box::new([[0u32; 256]; 8]);
            for i in 0..256u32 {
                let mut c = i;
                for _ in 0..8 {
                    c = if c & 1 == 1 { (c >> 1) ^ POLY } else { c >> 1 };
                }
                t[0][i as usize] = c;
            }
            for i in 0..256 {
                for k in 1..8 {
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
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let lo = crc ^ u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            let hi = u32::from_le_bytes([c[4], c[5], c[6], c[7]]);
            crc = t[7][(lo & 0xff) as usize]
                ^ t[6][((lo >> 8) & 0xff) as usize]
                ^ t[5][((lo >> 16) & 0xff) as usize]
                ^ t[4][(lo >> 24) as usize]
                ^ t[3][(hi & 0xff) as usize]
                ^ t[2][((hi >> 8) & 0xff) as usize]
                ^ t[1][((hi >> 16) & 0xff) as usize]
                ^ t[0][(hi >> 24) as usize];
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
