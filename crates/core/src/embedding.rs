//! Dense row matrices of factors, stored as int8 with a per-row scale (default) or f32.

use serde::{Deserialize, Serialize};

use crate::dot;

/// A `rows × dim` matrix of embeddings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Embedding {
    /// Full precision, row-major.
    F32 { rows: u32, dim: u32, data: Vec<f32> },
    /// Symmetric int8 quantisation: `value = q * scale[row]`, row-major.
    Int8 {
        rows: u32,
        dim: u32,
        data: Vec<i8>,
        scales: Vec<f32>,
    },
}

impl Embedding {
    /// Builds an f32 embedding from row-major data.
    #[must_use]
    pub fn from_f32(rows: usize, dim: usize, data: Vec<f32>) -> Self {
        debug_assert_eq!(data.len(), rows * dim);
        Embedding::F32 {
            rows: u32::try_from(rows).unwrap_or(u32::MAX),
            dim: u32::try_from(dim).unwrap_or(u32::MAX),
            data,
        }
    }

    /// Quantises row-major f32 data to int8 with one scale per row (max-abs / 127).
    #[must_use]
    pub fn quantize(rows: usize, dim: usize, data: &[f32]) -> Self {
        let mut q = Vec::with_capacity(rows * dim);
        let mut scales = Vec::with_capacity(rows);
        for r in 0..rows {
            let row = &data[r * dim..(r + 1) * dim];
            let (s, inv) = quant_scale(row);
            scales.push(s);
            q.extend(row.iter().map(|&x| quant(x, inv)));
        }
        Embedding::Int8 {
            rows: u32::try_from(rows).unwrap_or(u32::MAX),
            dim: u32::try_from(dim).unwrap_or(u32::MAX),
            data: q,
            scales,
        }
    }

    #[must_use]
    pub fn rows(&self) -> usize {
        match self {
            Embedding::F32 { rows, .. } | Embedding::Int8 { rows, .. } => *rows as usize,
        }
    }

    #[must_use]
    pub fn dim(&self) -> usize {
        match self {
            Embedding::F32 { dim, .. } | Embedding::Int8 { dim, .. } => *dim as usize,
        }
    }

    /// True when the stored sizes agree with `rows × dim` (checked after decoding).
    #[must_use]
    pub fn is_consistent(&self) -> bool {
        let n = self.rows().checked_mul(self.dim());
        match self {
            Embedding::F32 { data, .. } => n == Some(data.len()),
            Embedding::Int8 { data, scales, .. } => {
                n == Some(data.len())
                    && scales.len() == self.rows()
                    && scales.iter().all(|s| s.is_finite())
            }
        }
    }

    /// Writes row `r` as f32 into `out` (length `dim`). Out-of-range rows give zeros.
    pub fn row_into(&self, r: usize, out: &mut [f32]) {
        let d = self.dim();
        match self {
            Embedding::F32 { data, .. } => match data.get(r * d..(r + 1) * d) {
                Some(row) => out.copy_from_slice(row),
                None => out.fill(0.0),
            },
            Embedding::Int8 { data, scales, .. } => {
                match (data.get(r * d..(r + 1) * d), scales.get(r)) {
                    (Some(row), Some(&s)) => {
                        for (o, &q) in out.iter_mut().zip(row) {
                            *o = f32::from(q) * s;
                        }
                    }
                    _ => out.fill(0.0),
                }
            }
        }
    }

    /// Row `r` as a new f32 vector.
    #[must_use]
    pub fn row(&self, r: usize) -> Vec<f32> {
        let mut v = vec![0.0; self.dim()];
        self.row_into(r, &mut v);
        v
    }

    /// Scores every row against `query` (length `dim`), calling `emit(row, score)`.
    ///
    /// For int8 the query is quantised too and the dot products are accumulated in i32,
    /// which is exact for the quantised values and vectorises well (native and wasm simd128).
    pub fn score_all(&self, query: &[f32], mut emit: impl FnMut(usize, f32)) {
        let d = self.dim();
        if d == 0 || query.len() != d {
            return;
        }
        match self {
            Embedding::F32 { data, .. } => {
                for (r, row) in data.chunks_exact(d).enumerate() {
                    emit(r, dot_f32(row, query));
                }
            }
            Embedding::Int8 { data, scales, .. } => {
                // The query in i16 codes, as fine as the exact i32 sums allow (±32767 up to
                // 516 dimensions): its rounding then adds next to nothing to the rows' own.
                let (qs, q) = quantize_query(query);
                #[allow(clippy::cast_precision_loss)]
                let score = |dot: i32, s: f32| dot as f32 * s * qs;
                // Four rows at a time (same exact sums as one by one), then the rest.
                let blocks = data.chunks_exact(4 * d).zip(scales.chunks_exact(4));
                let mut r = 0;
                for (rows, s4) in blocks {
                    let (a, rest) = rows.split_at(d);
                    let (b, rest) = rest.split_at(d);
                    let (c, e) = rest.split_at(d);
                    let dots = dot::dot4_i8([a, b, c, e], &q);
                    for (k, (&dp, &s)) in dots.iter().zip(s4).enumerate() {
                        emit(r + k, score(dp, s));
                    }
                    r += 4;
                }
                let rest = data.get(r * d..).unwrap_or(&[]);
                for ((row, &s), i) in rest
                    .chunks_exact(d)
                    .zip(scales.get(r..).unwrap_or(&[]))
                    .zip(r..)
                {
                    emit(i, score(dot::dot_i8(row, &q), s));
                }
            }
        }
    }

    /// Score of one row against `query`.
    #[must_use]
    pub fn score_row(&self, r: usize, query: &[f32]) -> f32 {
        let d = self.dim();
        match self {
            Embedding::F32 { data, .. } => data
                .get(r * d..(r + 1) * d)
                .map_or(0.0, |row| dot_f32(row, query)),
            Embedding::Int8 { data, scales, .. } => {
                match (data.get(r * d..(r + 1) * d), scales.get(r)) {
                    (Some(row), Some(&s)) => {
                        row.iter()
                            .zip(query)
                            .map(|(&a, &b)| f32::from(a) * b)
                            .sum::<f32>()
                            * s
                    }
                    _ => 0.0,
                }
            }
        }
    }

    /// Bytes used by the stored values.
    #[must_use]
    pub fn byte_size(&self) -> usize {
        match self {
            Embedding::F32 { data, .. } => data.len() * 4,
            Embedding::Int8 { data, scales, .. } => data.len() + scales.len() * 4,
        }
    }
}

fn quant_scale(row: &[f32]) -> (f32, f32) {
    let m = row.iter().fold(0.0f32, |a, &x| a.max(x.abs()));
    if m > 0.0 && m.is_finite() {
        (m / 127.0, 127.0 / m)
    } else {
        (0.0, 0.0)
    }
}

/// `query` as i16 codes and their scale: the largest code is `32767`, or less when
/// `dim · 127 · code` would leave i32 (the kernels' exact sums).
fn quantize_query(query: &[f32]) -> (f32, Vec<i16>) {
    let m = query.iter().fold(0.0f32, |a, &x| a.max(x.abs()));
    if !(m > 0.0 && m.is_finite()) {
        return (0.0, vec![0; query.len()]);
    }
    let limit = i64::from(i32::MAX) / (127 * i64::try_from(query.len().max(1)).unwrap_or(i64::MAX));
    #[allow(clippy::cast_precision_loss)]
    let top = limit.clamp(1, 32_767) as f32;
    let inv = top / m;
    #[allow(clippy::cast_possible_truncation)]
    let q = query
        .iter()
        .map(|&x| (x * inv).round().clamp(-top, top) as i16)
        .collect();
    (m / top, q)
}

#[allow(clippy::cast_possible_truncation)]
fn quant(x: f32, inv: f32) -> i8 {
    (x * inv).round().clamp(-127.0, 127.0) as i8
}

#[inline]
fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int8_scores_track_f32() {
        let dim = 16;
        let rows = 50;
        let data: Vec<f32> = (0..rows * dim)
            .map(|i| ((i * 7919 % 97) as f32 / 48.0) - 1.0)
            .collect();
        let q: Vec<f32> = (0..dim).map(|i| (i as f32 / 8.0) - 1.0).collect();
        let f = Embedding::from_f32(rows, dim, data.clone());
        let i8e = Embedding::quantize(rows, dim, &data);
        let mut a = vec![0.0; rows];
        let mut b = vec![0.0; rows];
        f.score_all(&q, |r, s| a[r] = s);
        i8e.score_all(&q, |r, s| b[r] = s);
        for r in 0..rows {
            assert!(
                (a[r] - b[r]).abs() < 0.05 * a[r].abs().max(1.0),
                "{r}: {} vs {}",
                a[r],
                b[r]
            );
        }
        assert!(i8e.is_consistent());
    }
}
