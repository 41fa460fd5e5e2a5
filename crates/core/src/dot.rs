//! Exact integer dot products of int8 rows with an i16 query (quantised once per scan).
//!
//! Kernels with the same result: a portable one (the reference, used on baseline wasm and other
//! targets), one over wasm simd128's `i32x4.dot_i16x8_s`, and one over x86-64's SSE2
//! `pmaddwd` (part of the x86-64 baseline). The sums are exact in i32 as long as
//! `dim · 127 · max |query|` stays below 2^31 (the caller sizes the query codes so), so every
//! build ranks identically.

/// `Σ row[k] · query[k]` (same length as `row`).
#[inline]
#[must_use]
pub fn dot_i8(row: &[i8], query: &[i16]) -> i32 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::dot(row, query)
    }
    #[cfg(target_arch = "x86_64")]
    {
        sse2::dot(row, query)
    }
    #[cfg(not(any(
        all(target_arch = "wasm32", target_feature = "simd128"),
        target_arch = "x86_64"
    )))]
    {
        dot_i8_portable(row, query)
    }
}

/// [`dot_i8`] of four rows at once (same sums): shares the query loads and the final
/// reductions between the rows.
#[inline]
#[must_use]
pub fn dot4_i8(rows: [&[i8]; 4], query: &[i16]) -> [i32; 4] {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd128::dot4(rows, query)
    }
    #[cfg(target_arch = "x86_64")]
    {
        sse2::dot4(rows, query)
    }
    #[cfg(not(any(
        all(target_arch = "wasm32", target_feature = "simd128"),
        target_arch = "x86_64"
    )))]
    {
        rows.map(|r| dot_i8(r, query))
    }
}

/// The portable kernel (the reference the simd128 kernel is tested against).
#[inline]
#[must_use]
pub fn dot_i8_portable(row: &[i8], query: &[i16]) -> i32 {
    // Eight independent accumulators over chunks of eight, written out: the wasm package is
    // built for size (no loop unrolling), where a 16-lane array accumulator stayed a loop
    // through memory; native x86-64 uses the SSE2 kernel instead.
    let (mut a0, mut a1, mut a2, mut a3) = (0i32, 0i32, 0i32, 0i32);
    let (mut a4, mut a5, mut a6, mut a7) = (0i32, 0i32, 0i32, 0i32);
    let mut ca = row.chunks_exact(8);
    let mut cb = query.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let m = |k: usize| i32::from(x[k]) * i32::from(y[k]);
        a0 += m(0);
        a1 += m(1);
        a2 += m(2);
        a3 += m(3);
        a4 += m(4);
        a5 += m(5);
        a6 += m(6);
        a7 += m(7);
    }
    let tail: i32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum();
    ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + tail
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd128 {
    use core::arch::wasm32::{
        i16x8_extend_high_i8x16, i16x8_extend_low_i8x16, i32x4_add, i32x4_dot_i16x8,
        i32x4_extract_lane, i32x4_shuffle, i32x4_splat, v128, v128_load,
    };

    pub fn dot4(rows: [&[i8]; 4], query: &[i16]) -> [i32; 4] {
        let d = query.len();
        if rows.iter().any(|r| r.len() != d) {
            return rows.map(|r| dot(r, query));
        }
        let full = d - d % 16;
        let mut acc = [i32x4_splat(0); 4];
        let mut c = 0;
        while c < full {
            let ql = load(&query[c..c + 8]);
            let qh = load(&query[c + 8..c + 16]);
            for (a, r) in acc.iter_mut().zip(rows) {
                let v = load(&r[c..c + 16]);
                let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(v), ql);
                let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(v), qh);
                *a = i32x4_add(*a, i32x4_add(lo, hi));
            }
            c += 16;
        }
        // Transposing reduction: lane k of `s` is the sum of the lanes of acc[k].
        let [a, b, e, f] = acc;
        let t0 = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(a, b),
            i32x4_shuffle::<2, 6, 3, 7>(a, b),
        );
        let t1 = i32x4_add(
            i32x4_shuffle::<0, 4, 1, 5>(e, f),
            i32x4_shuffle::<2, 6, 3, 7>(e, f),
        );
        let s = i32x4_add(
            i32x4_shuffle::<0, 1, 4, 5>(t0, t1),
            i32x4_shuffle::<2, 3, 6, 7>(t0, t1),
        );
        let tail = |r: &[i8]| -> i32 {
            r[full..]
                .iter()
                .zip(&query[full..])
                .map(|(&x, &y)| i32::from(x) * i32::from(y))
                .sum()
        };
        [
            i32x4_extract_lane::<0>(s) + tail(rows[0]),
            i32x4_extract_lane::<1>(s) + tail(rows[1]),
            i32x4_extract_lane::<2>(s) + tail(rows[2]),
            i32x4_extract_lane::<3>(s) + tail(rows[3]),
        ]
    }

    /// 16 bytes at the start of `s` (which holds at least 16 bytes) as one vector.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn load<T>(s: &[T]) -> v128 {
        assert!(std::mem::size_of_val(s) >= 16);
        // SAFETY: `s` spans at least 16 readable bytes (asserted above); v128.load has no
        // alignment requirement.
        unsafe { v128_load(s.as_ptr().cast::<v128>()) }
    }

    #[inline]
    pub fn dot(row: &[i8], query: &[i16]) -> i32 {
        let mut acc = i32x4_splat(0);
        let mut ca = row.chunks_exact(16);
        let mut cb = query.chunks_exact(16);
        for (x, y) in (&mut ca).zip(&mut cb) {
            let v = load(x);
            let lo = i32x4_dot_i16x8(i16x8_extend_low_i8x16(v), load(&y[..8]));
            let hi = i32x4_dot_i16x8(i16x8_extend_high_i8x16(v), load(&y[8..]));
            acc = i32x4_add(acc, i32x4_add(lo, hi));
        }
        let tail: i32 = ca
            .remainder()
            .iter()
            .zip(cb.remainder())
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum();
        i32x4_extract_lane::<0>(acc)
            + i32x4_extract_lane::<1>(acc)
            + i32x4_extract_lane::<2>(acc)
            + i32x4_extract_lane::<3>(acc)
            + tail
    }
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use core::arch::x86_64::{
        __m128i, _mm_add_epi32, _mm_cvtsi128_si32, _mm_loadu_si128, _mm_madd_epi16,
        _mm_setzero_si128, _mm_shuffle_epi32, _mm_srai_epi16, _mm_unpackhi_epi8,
        _mm_unpackhi_epi32, _mm_unpackhi_epi64, _mm_unpacklo_epi8, _mm_unpacklo_epi32,
        _mm_unpacklo_epi64,
    };

    #[allow(unsafe_code)]
    pub fn dot4(rows: [&[i8]; 4], query: &[i16]) -> [i32; 4] {
        let d = query.len();
        if rows.iter().any(|r| r.len() != d) {
            return rows.map(|r| dot(r, query));
        }
        let full = d - d % 16;
        // SAFETY: the intrinsics below only need SSE2, which every x86-64 target has; the
        // loads go through `load`, which checks its bounds.
        unsafe {
            let mut acc = [_mm_setzero_si128(); 4];
            let mut c = 0;
            while c < full {
                let ql = load(&query[c..c + 8]);
                let qh = load(&query[c + 8..c + 16]);
                for (a, r) in acc.iter_mut().zip(rows) {
                    let v = load(&r[c..c + 16]);
                    let lo = _mm_srai_epi16::<8>(_mm_unpacklo_epi8(v, v));
                    let hi = _mm_srai_epi16::<8>(_mm_unpackhi_epi8(v, v));
                    *a = _mm_add_epi32(
                        *a,
                        _mm_add_epi32(_mm_madd_epi16(lo, ql), _mm_madd_epi16(hi, qh)),
                    );
                }
                c += 16;
            }
            // Transposing reduction: lane k of `s` is the sum of the lanes of acc[k].
            let [a, b, e, f] = acc;
            let u = _mm_add_epi32(_mm_unpacklo_epi32(a, b), _mm_unpackhi_epi32(a, b));
            let v = _mm_add_epi32(_mm_unpacklo_epi32(e, f), _mm_unpackhi_epi32(e, f));
            let s = _mm_add_epi32(_mm_unpacklo_epi64(u, v), _mm_unpackhi_epi64(u, v));
            let tail = |r: &[i8]| -> i32 {
                r[full..]
                    .iter()
                    .zip(&query[full..])
                    .map(|(&x, &y)| i32::from(x) * i32::from(y))
                    .sum()
            };
            [
                _mm_cvtsi128_si32(s) + tail(rows[0]),
                _mm_cvtsi128_si32(_mm_shuffle_epi32::<1>(s)) + tail(rows[1]),
                _mm_cvtsi128_si32(_mm_shuffle_epi32::<2>(s)) + tail(rows[2]),
                _mm_cvtsi128_si32(_mm_shuffle_epi32::<3>(s)) + tail(rows[3]),
            ]
        }
    }

    /// 16 bytes at the start of `s` (which holds at least 16 bytes) as one vector.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn load<T>(s: &[T]) -> __m128i {
        assert!(std::mem::size_of_val(s) >= 16);
        // SAFETY: `s` spans at least 16 readable bytes (asserted above); loadu is unaligned;
        // SSE2 is part of every x86-64 target.
        unsafe { _mm_loadu_si128(s.as_ptr().cast::<__m128i>()) }
    }

    #[inline]
    #[allow(unsafe_code)]
    pub fn dot(row: &[i8], query: &[i16]) -> i32 {
        // SAFETY: the intrinsics below only need SSE2, which every x86-64 target has; the
        // loads go through `load`, which checks its bounds.
        unsafe {
            let mut acc = _mm_setzero_si128();
            let mut ca = row.chunks_exact(16);
            let mut cb = query.chunks_exact(16);
            for (x, y) in (&mut ca).zip(&mut cb) {
                let v = load(x);
                // i8 → i16 sign extension: each byte paired with itself, shifted right by 8.
                let lo = _mm_srai_epi16::<8>(_mm_unpacklo_epi8(v, v));
                let hi = _mm_srai_epi16::<8>(_mm_unpackhi_epi8(v, v));
                acc = _mm_add_epi32(
                    acc,
                    _mm_add_epi32(
                        _mm_madd_epi16(lo, load(&y[..8])),
                        _mm_madd_epi16(hi, load(&y[8..])),
                    ),
                );
            }
            let tail: i32 = ca
                .remainder()
                .iter()
                .zip(cb.remainder())
                .map(|(&x, &y)| i32::from(x) * i32::from(y))
                .sum();
            let s = _mm_add_epi32(acc, _mm_shuffle_epi32::<0b0100_1110>(acc));
            let s = _mm_add_epi32(s, _mm_shuffle_epi32::<0b1011_0001>(s));
            _mm_cvtsi128_si32(s) + tail
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(a: &[i8], b: &[i16]) -> i32 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| i32::from(x) * i32::from(y))
            .sum()
    }

    #[test]
    fn kernels_agree_with_the_definition_at_every_length_and_extreme() {
        for len in [0usize, 1, 7, 15, 16, 17, 31, 32, 33, 64, 100, 128] {
            for pattern in 0..4 {
                let a: Vec<i8> = (0..len)
                    .map(|k| match pattern {
                        0 => 127,
                        1 => -127,
                        2 => i8::try_from((k * 37 % 255) as i32 - 127).unwrap_or(0),
                        _ => {
                            if k % 2 == 0 {
                                127
                            } else {
                                -127
                            }
                        }
                    })
                    .collect();
                let b: Vec<i16> = (0..len)
                    .map(|k| match pattern {
                        0 | 1 => -32767,
                        2 => ((k * 9091 % 65535) as i32 - 32767) as i16,
                        _ => 32767,
                    })
                    .collect();
                let want = naive(&a, &b);
                assert_eq!(dot_i8_portable(&a, &b), want, "portable, len {len}");
                assert_eq!(dot_i8(&a, &b), want, "dispatch, len {len}");
                let neg: Vec<i8> = a.iter().map(|&x| -x).collect();
                let rev: Vec<i8> = a.iter().rev().copied().collect();
                assert_eq!(
                    dot4_i8([&a, &neg, &rev, &a], &b),
                    [want, -want, naive(&rev, &b), want],
                    "four rows, len {len}"
                );
            }
        }
    }
}
