//! The co-interaction pass shared by a full training and an update: which pairs of a history
//! count and with what weight ([`PairWeights`]), and the per-item sums of those weights
//! ([`Accumulator`]).

use super::SimsParams;

/// `(user, position)` of every occurrence of each catalogue item in `seqs`.
pub(super) fn occurrences(seqs: &[Vec<u32>], n: usize) -> Vec<Vec<(u32, u32)>> {
    let mut out: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
    for (u, seq) in seqs.iter().enumerate() {
        for (pos, &i) in seq.iter().enumerate() {
            if let Some(o) = out.get_mut(i as usize) {
                o.push((
                    u32::try_from(u).unwrap_or(u32::MAX),
                    u32::try_from(pos).unwrap_or(u32::MAX),
                ));
            }
        }
    }
    out
}

/// The weight of each pair of history positions (see the module docs of [`super`]).
pub(super) struct PairWeights {
    window: usize,
    reach: usize,
    backward: f32,
    global: f32,
    position: Vec<f32>,
    distance: Vec<f32>,
}

impl PairWeights {
    /// Weights for histories of up to `longest` items.
    pub(super) fn new(p: &SimsParams, longest: usize) -> Self {
        let window = if p.window == 0 { usize::MAX } else { p.window };
        let global = p.global_weight.max(0.0);
        let reach = if global <= 0.0 {
            window
        } else if p.global_reach == 0 {
            usize::MAX
        } else {
            p.global_reach.max(window)
        };
        #[allow(clippy::cast_precision_loss)]
        let position = (0..longest)
            .map(|q| {
                if p.early_position_scale > 0.0 {
                    (1.0 + q as f32 / p.early_position_scale).powf(-0.5)
                } else {
                    1.0
                }
            })
            .collect();
        #[allow(clippy::cast_precision_loss)]
        let distance = (0..=p.window.min(4096))
            .map(|dist| 1.0 / (dist.max(1) as f32).powf(p.distance_exponent))
            .collect();
        PairWeights {
            window,
            reach,
            backward: p.backward_weight.max(0.0),
            global,
            position,
            distance,
        }
    }

    /// Calls `f(seq[q], weight)` for every position `q` paired with `pos` in `seq`, among
    /// positions `from..` only.
    #[inline]
    pub(super) fn each(&self, seq: &[u32], pos: usize, from: usize, mut f: impl FnMut(u32, f32)) {
        let Some(last) = seq.len().checked_sub(1) else {
            return;
        };
        let lo = pos.saturating_sub(self.reach).max(from);
        let hi = pos.saturating_add(self.reach).min(last);
        if lo > hi {
            return;
        }
        // Pairs beyond the window weigh `global` alone; those inside it, the full weight.
        let near_lo = pos.saturating_sub(self.window).max(lo);
        let near_hi = pos.saturating_add(self.window).min(hi);
        let at = |q: usize| self.position.get(q).copied().unwrap_or(0.0);
        let here = at(pos);
        for &j in seq.get(lo..near_lo).unwrap_or(&[]) {
            f(j, self.global);
        }
        if near_lo <= near_hi {
            for (q, &j) in seq.iter().enumerate().take(near_hi + 1).skip(near_lo) {
                if q == pos {
                    continue;
                }
                let dist = q.abs_diff(pos);
                let mut w = self.distance.get(dist).copied().unwrap_or(1.0);
                if q < pos {
                    w *= self.backward;
                }
                f(j, w * here * at(q) + self.global);
            }
        }
        for &j in seq.get((near_hi + 1).max(lo)..=hi).unwrap_or(&[]) {
            f(j, self.global);
        }
    }
}

/// Per-neighbour pair counts and weight sums of one item at a time (counts are signed so
/// an accumulator can also hold a difference).
pub(super) struct Accumulator {
    counts: Vec<i32>,
    sums: Vec<f32>,
    marked: Vec<bool>,
    touched: Vec<u32>,
}

impl Accumulator {
    pub(super) fn new(n: usize) -> Self {
        Accumulator {
            counts: vec![0; n],
            sums: vec![0.0; n],
            marked: vec![false; n],
            touched: Vec::new(),
        }
    }

    /// Adds a pair with neighbour `j` (`sign` −1 takes one away).
    #[inline]
    pub(super) fn add(&mut self, j: u32, w: f32, sign: i32) {
        let j = j as usize;
        let (Some(c), Some(s), Some(m)) = (
            self.counts.get_mut(j),
            self.sums.get_mut(j),
            self.marked.get_mut(j),
        ) else {
            return;
        };
        if !*m {
            *m = true;
            self.touched.push(u32::try_from(j).unwrap_or(u32::MAX));
        }
        *c += sign;
        *s += w;
    }

    /// The neighbours seen at least `min_count` times with a positive sum, with that sum, in
    /// no particular order; leaves the accumulator empty.
    pub(super) fn drain(&mut self, min_count: u32) -> Vec<(u32, f32)> {
        let out = self.difference(None, min_count);
        self.clear();
        out
    }

    /// What [`Self::drain`] would give for `self − minus`, leaving both as they are.
    pub(super) fn difference(
        &self,
        minus: Option<&Accumulator>,
        min_count: u32,
    ) -> Vec<(u32, f32)> {
        let min = i32::try_from(min_count.max(1)).unwrap_or(i32::MAX);
        let value = |acc: &Accumulator, j: usize| (acc.counts[j], acc.sums[j]);
        let mut out = Vec::with_capacity(self.touched.len());
        let mut push = |j: u32, (c, s): (i32, f32)| {
            if c >= min && s > 0.0 {
                out.push((j, s));
            }
        };
        for &j in &self.touched {
            let (c, s) = value(self, j as usize);
            let (dc, ds) = minus.map_or((0, 0.0), |m| value(m, j as usize));
            push(j, (c - dc, s - ds));
        }
        if let Some(m) = minus {
            // Neighbours only `minus` has (it takes away what `self` never had).
            for &j in &m.touched {
                if !self.marked[j as usize] {
                    let (dc, ds) = value(m, j as usize);
                    push(j, (-dc, -ds));
                }
            }
        }
        out
    }

    /// Empties the accumulator.
    pub(super) fn clear(&mut self) {
        for &j in &self.touched {
            self.counts[j as usize] = 0;
            self.sums[j as usize] = 0.0;
            self.marked[j as usize] = false;
        }
        self.touched.clear();
    }
}
