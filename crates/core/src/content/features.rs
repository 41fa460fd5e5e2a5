//! The featurizer: item columns → a sparse, L2-normalised vector over hash buckets.
//!
//! Trainer and engine call the same code, so a vector computed at the edge for an item added
//! with `putItems` equals the one training would have computed. The hashing is part of the file
//! format (docs/format.md, "Content features"): a model's weights are indexed by these buckets.
//!
//! ```text
//! categorical value "Sci-Fi"        → token "sci-fi"                 (whole value, ASCII-lowercased)
//! textual "The Matrix (1999)"       → tokens "the" "matrix" "1999"   (split on ASCII non-alphanumerics)
//! token t of column C               → h = mix(fnv1a64(lower(C) · 0x1F · t))
//!                                      bucket = h mod buckets, sign = +1 if h < 2⁶³ else −1
//! ```

use crate::catalog::{Column, ColumnValues};

/// Tokens longer than this many bytes are cut to it.
pub const MAX_TOKEN_LEN: usize = 32;
/// At most this many tokens are read from one text value.
pub const MAX_TOKENS_PER_TEXT: usize = 256;

/// Separates the column name from the token in the hashed bytes.
const SEPARATOR: u8 = 0x1F;

/// FNV-1a (64-bit) over `bytes`, continuing from `h`.
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The splitmix64 finaliser: FNV's low bits are weak, the mix spreads every input bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The 64-bit hash of `token` (already lower-cased) in column `column`.
#[must_use]
pub fn token_hash(column: &str, token: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325;
    for b in column.bytes() {
        h = fnv1a(h, &[b.to_ascii_lowercase()]);
    }
    h = fnv1a(h, &[SEPARATOR]);
    mix(fnv1a(h, token))
}

/// The bucket (`h mod buckets`) and sign (`+1` when the top bit is clear) of a token hash.
#[must_use]
pub fn bucket_sign(h: u64, buckets: u32) -> (u32, f32) {
    let b = u32::try_from(h % u64::from(buckets.max(1))).unwrap_or(0);
    (b, if h >> 63 == 0 { 1.0 } else { -1.0 })
}

/// Calls `f` with each word of `text`: maximal runs of ASCII letters and digits and non-ASCII
/// bytes (so UTF-8 letters stay inside words), ASCII-lowercased, at least two bytes long, cut to
/// [`MAX_TOKEN_LEN`] bytes, at most [`MAX_TOKENS_PER_TEXT`] of them.
pub fn words(text: &str, mut f: impl FnMut(&[u8])) {
    let mut buf = [0u8; MAX_TOKEN_LEN];
    let mut len = 0usize;
    let mut run = 0usize;
    let mut emitted = 0usize;
    for &b in text.as_bytes().iter().chain(std::iter::once(&b' ')) {
        if b.is_ascii_alphanumeric() || b >= 0x80 {
            if len < MAX_TOKEN_LEN {
                buf[len] = b.to_ascii_lowercase();
                len += 1;
            }
            run += 1;
        } else {
            if run >= 2 {
                f(&buf[..len]);
                emitted += 1;
                if emitted >= MAX_TOKENS_PER_TEXT {
                    return;
                }
            }
            len = 0;
            run = 0;
        }
    }
}

/// Calls `f` with the token(s) of one row of `column`: each categorical value whole
/// (ASCII-lowercased, cut to [`MAX_TOKEN_LEN`] bytes), or the [`words`] of a text.
/// Numeric columns give no tokens.
pub fn column_tokens(column: &Column, row: usize, mut f: impl FnMut(&[u8])) {
    match &column.values {
        ColumnValues::Categorical { .. } => {
            for v in column.categorical_values(row) {
                let mut buf = [0u8; MAX_TOKEN_LEN];
                let n = v.len().min(MAX_TOKEN_LEN);
                for (o, b) in buf.iter_mut().zip(v.as_bytes()) {
                    *o = b.to_ascii_lowercase();
                }
                if n > 0 {
                    f(&buf[..n]);
                }
            }
        }
        ColumnValues::Textual(v) => {
            if let Some(s) = v.get(row) {
                words(s, f);
            }
        }
        ColumnValues::Numeric(_) => {}
    }
}

/// The distinct `(bucket, sign)` features of one row of `column` (binary term frequency:
/// a token counts once), sorted by hash.
#[must_use]
pub fn row_features(column: &Column, row: usize, buckets: u32) -> Vec<(u32, f32)> {
    let mut hashes = Vec::new();
    column_tokens(column, row, |t| hashes.push(token_hash(&column.name, t)));
    crate::sort::sort(&mut hashes);
    hashes.dedup();
    hashes
        .into_iter()
        .map(|h| bucket_sign(h, buckets))
        .collect()
}

/// Merges `(bucket, value)` pairs into a sparse vector sorted by bucket (values of one bucket
/// summed, zeros dropped).
#[must_use]
pub fn merge(mut v: Vec<(u32, f32)>) -> Vec<(u32, f32)> {
    crate::sort::sort_by_key(&mut v, |x| x.0);
    let mut out: Vec<(u32, f32)> = Vec::with_capacity(v.len());
    for (b, x) in v {
        match out.last_mut() {
            Some(last) if last.0 == b => last.1 += x,
            _ => out.push((b, x)),
        }
    }
    out.retain(|x| x.1 != 0.0);
    out
}

/// Scales a sparse vector to unit L2 norm (an all-zero vector stays as it is).
pub fn normalize(v: &mut [(u32, f32)]) {
    let n = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
    if n > 0.0 && n.is_finite() {
        v.iter_mut().for_each(|x| x.1 /= n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::ColumnKind;

    fn collect_words(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        words(s, |t| out.push(String::from_utf8_lossy(t).into_owned()));
        out
    }

    #[test]
    fn words_split_on_ascii_punctuation_and_keep_utf8_letters() {
        assert_eq!(
            collect_words("The Matrix (1999), a SCI-FI film: Amélie's x"),
            ["the", "matrix", "1999", "sci", "fi", "film", "amélie"]
        );
        assert!(collect_words("").is_empty());
        assert!(collect_words("a b c ! ?").is_empty());
        let long = "x".repeat(100);
        assert_eq!(collect_words(&long), ["x".repeat(MAX_TOKEN_LEN)]);
        let many = "ab ".repeat(1000);
        assert_eq!(collect_words(&many).len(), MAX_TOKENS_PER_TEXT);
    }

    /// The hashes are part of the file format: these values must never change (they are
    /// listed in docs/format.md and hold on every platform, being integer arithmetic only).
    #[test]
    fn token_hashes_are_stable() {
        assert_eq!(token_hash("GENRES", b"comedy"), 0x2b5c_35a6_17a3_74f3);
        assert_eq!(token_hash("TITLE", b"matrix"), 0x8c8a_ffd7_6c00_11cb);
        assert_eq!(
            token_hash("PRODUCT_DESCRIPTION", b"backpack"),
            0xb4c3_5800_f5ba_b847
        );
        assert_eq!(bucket_sign(0x2b5c_35a6_17a3_74f3, 4096), (1267, 1.0));
        assert_eq!(bucket_sign(0x8c8a_ffd7_6c00_11cb, 4096), (459, -1.0));
    }

    #[test]
    fn column_name_case_does_not_matter_but_the_column_does() {
        assert_eq!(
            token_hash("GENRES", b"drama"),
            token_hash("genres", b"drama")
        );
        assert_ne!(token_hash("GENRES", b"drama"), token_hash("TAGS", b"drama"));
        assert_ne!(
            token_hash("GENRES", b"drama"),
            token_hash("GENRES", b"dramb")
        );
    }

    #[test]
    fn categorical_values_are_whole_tokens() {
        let c = Column {
            name: "GENRES".into(),
            kind: ColumnKind::Categorical,
            values: ColumnValues::Categorical {
                dictionary: vec!["Sci-Fi".into(), "Drama".into()],
                offsets: vec![0, 2, 2],
                codes: vec![0, 1],
            },
        };
        let f = row_features(&c, 0, 1 << 12);
        assert_eq!(f.len(), 2);
        let (b, s) = bucket_sign(token_hash("GENRES", b"sci-fi"), 1 << 12);
        assert!(f.contains(&(b, s)));
        assert!(row_features(&c, 1, 1 << 12).is_empty());
        assert!(row_features(&c, 9, 1 << 12).is_empty());
    }

    #[test]
    fn merge_sums_and_normalize_scales() {
        let mut v = merge(vec![(3, 1.0), (1, 2.0), (3, 1.0), (2, 0.0)]);
        assert_eq!(v, [(1, 2.0), (3, 2.0)]);
        normalize(&mut v);
        let n: f32 = v.iter().map(|x| x.1 * x.1).sum();
        assert!((n - 1.0).abs() < 1e-6);
    }
}
