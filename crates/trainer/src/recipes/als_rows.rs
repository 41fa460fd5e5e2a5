//! The sparse part of ALS's conjugate-gradient steps, one row at a time, compiled for the
//! vector unit of the machine that runs it (AVX2 on x86-64, NEON on aarch64), chosen at run
//! time. It is nearly all of ALS's time.
//!
//! The arithmetic is the same operations in the same order whatever the vector unit: eight
//! partial sums per dot product, each a separate multiply and add (never a fused multiply-add),
//! summed in a fixed order. The compiler may only vectorise it, not reorder it, so the result
//! is bit for bit the portable loop's.

use pulp::{Arch, Simd, WithSimd};

/// One row's entries (`idx`, `val`) of the weight matrix and the other side's factors `y`
/// (`k` columns, row-major).
#[derive(Clone, Copy)]
pub(super) struct Row<'a> {
    pub y: &'a [f32],
    pub k: usize,
    pub idx: &'a [u32],
    pub val: &'a [f32],
}

impl Row<'_> {
    /// `out += Σ coef(wᵢ, yᵢ·v) · yᵢ` over the row's entries `(i, wᵢ)`, on the fastest vector
    /// unit of `arch`.
    #[inline]
    pub fn accumulate(
        self,
        arch: Arch,
        v: &[f32],
        out: &mut [f32],
        coef: impl Fn(f32, f32) -> f32,
    ) {
        arch.dispatch(Accumulate {
            row: self,
            v,
            out,
            coef,
        });
    }
}

struct Accumulate<'a, F> {
    row: Row<'a>,
    v: &'a [f32],
    out: &'a mut [f32],
    coef: F,
}

impl<F: Fn(f32, f32) -> f32> WithSimd for Accumulate<'_, F> {
    type Output = ();

    // Inlined into pulp's per-architecture entry points, which enable the target's features:
    // that is what lets the loops below use the wide registers.
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        let Accumulate { row, v, out, coef } = self;
        let k = row.k;
        for (j, (&i, &w)) in row.idx.iter().zip(row.val).enumerate() {
            if let Some(&ahead) = row.idx.get(j + PREFETCH_AHEAD) {
                prefetch(row.y, ahead as usize * k, k);
            }
            let yi = &row.y[i as usize * k..(i as usize + 1) * k];
            axpy(coef(w, dot(yi, v)), yi, out);
        }
    }
}

/// How many entries ahead the kernel asks for a row of `y`. The rows are gathered at random
/// from a table far larger than the caches, so without this the loads wait on memory.
const PREFETCH_AHEAD: usize = 8;

/// Asks the cache for `y[start..start + len]`, a 64-byte line at a time (a hint: no effect on
/// results).
#[inline(always)]
fn prefetch(y: &[f32], start: usize, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        let end = (start + len).min(y.len());
        let mut at = start;
        while at < end {
            let line = y[at..].as_ptr().cast::<i8>();
            // SAFETY: SSE is part of every x86-64 target, and a prefetch of an address inside
            // `y` reads nothing into the program and cannot fault.
            #[allow(unsafe_code)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(line);
            }
            at += 16;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (y, start, len);
}

/// `a · b` as eight partial sums, added in order, then the tail: the order of the core's f32
/// `Embedding` dot product, kept here because it must inline into the vectorised entry point.
#[inline(always)]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for j in 0..8 {
            acc[j] += x[j] * y[j];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `y += a · x`.
#[inline(always)]
pub(super) fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (yv, &xv) in y.iter_mut().zip(x) {
        *yv += a * xv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dispatched kernel gives exactly the portable loop's bits (same operations, same
    /// order), for lengths with and without a tail.
    #[test]
    fn dispatched_equals_portable_bit_for_bit() {
        for k in [1usize, 7, 8, 13, 64, 128] {
            let n = 9usize;
            let y: Vec<f32> = (0..n * k)
                .map(|j| ((j * 7919 % 1000) as f32 - 500.0) * 1e-3)
                .collect();
            let v: Vec<f32> = (0..k).map(|j| (j as f32 * 0.37).sin()).collect();
            let idx: Vec<u32> = vec![3, 0, 8, 5, 5, 1];
            let val: Vec<f32> = vec![1.0, 2.5, 0.5, 4.0, 1.0, 3.0];
            let coef = |w: f32, d: f32| (1.0 + 20.0 * w) - 20.0 * w * d;
            let mut fast = vec![0.25f32; k];
            Row {
                y: &y,
                k,
                idx: &idx,
                val: &val,
            }
            .accumulate(Arch::new(), &v, &mut fast, coef);
            let mut plain = vec![0.25f32; k];
            for (&i, &w) in idx.iter().zip(&val) {
                let yi = &y[i as usize * k..(i as usize + 1) * k];
                let mut acc = [0.0f32; 8];
                for (x, z) in yi.chunks_exact(8).zip(v.chunks_exact(8)) {
                    for j in 0..8 {
                        acc[j] += x[j] * z[j];
                    }
                }
                let rem = k - k % 8;
                let tail: f32 = (rem..k).map(|j| yi[j] * v[j]).sum();
                let d = acc.iter().sum::<f32>() + tail;
                let a = coef(w, d);
                for (o, &x) in plain.iter_mut().zip(yi) {
                    *o += a * x;
                }
            }
            let bits = |s: &[f32]| s.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&fast), bits(&plain), "k = {k}");
        }
    }
}
