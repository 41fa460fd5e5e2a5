//! `similar-items` (Personalize's `aws-similar-items`): co-interaction neighbours blended with
//! item metadata and text, so items with few or no interactions, and items added later with
//! `putItems`, still have related items.
//!
//! 1. Co-interaction lists as in [`super::sims`].
//! 2. Co-interaction factors (ALS) of every item, and a content model learned to predict them
//!    from the item's hashed metadata and text ([`super::content`]). The engine gets every
//!    item's vector: its factors when it has `content_min_interactions` users, else its
//!    projected content; an item added with `putItems` gets its projected content.
//! 3. Each item's list is re-scored: `co / max co + w_i · cos(v_i, v_j)` over its
//!    co-interaction neighbours and its nearest items by that vector, with
//!    `w_i = content_weight · m / (m + users_i)` (`m` = `content_min_interactions`), so content
//!    decides for cold items and only breaks ties for popular ones.
//!
//! It trains no transition lists: they serve sessions without a known user, and the recipe
//! answers an item's related items (`transition_weight` is ignored here).

use edgerec_core::topk::TopK;
use edgerec_core::{Catalog, Embedding, NeighborModel, RecommenderModel};
use faer::linalg::matmul::matmul;
use faer::{Accum, Par};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

use super::TrainingMatrix;
use super::content::{self, ContentParams};
use super::dense;
use super::error::{RecipeError, params_of};
use super::factors::co_interaction_factors;
use super::matrix::Entry;
use super::sims::{self, SimsParams};
use super::trainable::{Inputs, RecipeTrainer};
use crate::config::EmbeddingKind;

/// The `similar-items` recipe (an update retrains it in full).
#[derive(Debug, Clone, Copy)]
pub struct SimilarItems;

/// Its hyperparameters: the `content*` keys, and `sims`'s.
#[derive(Debug, Clone)]
pub struct SimilarParams {
    pub sims: SimsParams,
    pub content: ContentParams,
}

impl RecipeTrainer for SimilarItems {
    type Params = SimilarParams;

    fn params(&self, input: &Inputs<'_>) -> Result<SimilarParams, RecipeError> {
        let (content, rest) = ContentParams::split(&input.spec.params)?;
        Ok(SimilarParams {
            sims: params_of(rest)?,
            content,
        })
    }

    fn train(
        &self,
        input: &Inputs<'_>,
        p: &SimilarParams,
    ) -> Result<RecommenderModel, RecipeError> {
        let f = co_interaction_factors(input, p.sims.factor_dims);
        let columns = content::columns(input.catalog, &p.content)?;
        Ok(RecommenderModel::Neighbors(train(
            input.m,
            &p.sims,
            &p.content,
            |e| input.keeps(e.event_type),
            SimilarInputs {
                catalog: input.catalog,
                factors: f.items.view(),
                columns,
                embedding: input.cfg.model.embedding,
            },
        )))
    }
}

/// Everything the recipe needs besides the interactions.
#[derive(Debug)]
pub struct SimilarInputs<'a> {
    pub catalog: &'a Catalog,
    /// Co-interaction factors, one row per item in catalogue order.
    pub factors: ArrayView2<'a, f32>,
    pub columns: Vec<edgerec_core::content::ContentColumn>,
    pub embedding: EmbeddingKind,
}

/// Trains the blended neighbour lists.
#[must_use]
pub fn train(
    m: &TrainingMatrix,
    p: &SimsParams,
    cp: &ContentParams,
    keep: impl Fn(&Entry) -> bool + Sync,
    input: SimilarInputs<'_>,
) -> NeighborModel {
    let lists_only = SimsParams {
        transition_weight: 0.0,
        ..p.clone()
    };
    let mut nm = sims::train(m, &lists_only, &keep, None);
    let users = content::user_counts(m, &keep);
    let Some(mut cm) = content::learn(
        input.catalog,
        input.factors,
        &users,
        cp,
        input.columns,
        input.embedding,
    ) else {
        return nm;
    };
    let n = m.n_items();
    let dim = input.factors.ncols();
    let min = cp.content_min_interactions.max(1);
    // Warm items keep their co-interaction factors, cold ones get their content's projection.
    let mut rows = Array2::<f32>::zeros((n, dim));
    dense::rows_mut(&mut rows)
        .par_chunks_mut(dim.max(1))
        .enumerate()
        .for_each(|(i, row)| {
            let warm = users.get(i).copied().unwrap_or(0) >= min;
            if warm && i < input.factors.nrows() {
                row.iter_mut()
                    .zip(input.factors.row(i))
                    .for_each(|(r, &x)| *r = x);
            } else if let Some(v) = cm.vector(input.catalog, i) {
                row.iter_mut().zip(v).for_each(|(r, x)| *r = x);
            }
        });
    let mut unit = rows.clone();
    for r in dense::rows_mut(&mut unit).chunks_mut(dim.max(1)) {
        let norm = r.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            r.iter_mut().for_each(|x| *x /= norm);
        }
    }
    let nearest = nearest_by_content(&unit, cp.content_neighbors.min(p.max_neighbors));
    let lists: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map(|i| blend(&nm, &unit, i, &users, p.max_neighbors, cp, &nearest[i]))
        .collect();
    nm.offsets = Vec::with_capacity(n + 1);
    nm.offsets.push(0);
    nm.neighbors.clear();
    nm.weights.clear();
    for l in lists {
        for (j, s) in l {
            nm.neighbors.push(j);
            nm.weights.push(s);
        }
        nm.offsets
            .push(u32::try_from(nm.neighbors.len()).unwrap_or(u32::MAX));
    }
    cm.item_vectors = Some(match input.embedding {
        EmbeddingKind::Int8 => Embedding::quantize(n, dim, dense::rows(&rows)),
        EmbeddingKind::F32 => Embedding::from_f32(n, dim, dense::into_rows(rows)),
    });
    nm.content = Some(Box::new(cm));
    nm
}

/// Rows of `unit` (`n × dim`, unit length) scored against each other in blocks (a dense
/// product per block), keeping each row's `k` best positive cosines, itself excluded.
fn nearest_by_content(unit: &Array2<f32>, k: usize) -> Vec<Vec<edgerec_core::topk::Scored>> {
    const BLOCK: usize = 256;
    let (n, dim) = unit.dim();
    if n == 0 || dim == 0 || k == 0 {
        return vec![Vec::new(); n];
    }
    let all = dense::faer_ref(unit.view());
    (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .flat_map_iter(|b| {
            let lo = b * BLOCK;
            let hi = (lo + BLOCK).min(n);
            let mut s = Array2::<f32>::zeros((hi - lo, n));
            matmul(
                dense::faer_mut(s.view_mut()),
                Accum::Replace,
                all.subrows(lo, hi - lo),
                all.transpose(),
                1.0,
                Par::Seq,
            );
            dense::rows(&s)
                .chunks(n)
                .zip(lo..hi)
                .map(|(scores, i)| {
                    let mut top = TopK::new(k);
                    for (j, &c) in scores.iter().enumerate() {
                        if j != i
                            && c > 0.0
                            && let Ok(j) = u32::try_from(j)
                        {
                            top.push(j, c);
                        }
                    }
                    top.into_sorted()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Item `i`'s blended list (see the module documentation).
fn blend(
    nm: &NeighborModel,
    unit: &Array2<f32>,
    i: usize,
    users: &[u32],
    max_neighbors: usize,
    cp: &ContentParams,
    nearest: &[edgerec_core::topk::Scored],
) -> Vec<(u32, f32)> {
    let row = |r: usize| dense::row(unit, r);
    let cos = |j: usize| -> f32 { row(i).iter().zip(row(j)).map(|(a, b)| a * b).sum() };
    let (nb, w) = nm.of(i);
    let max = w.iter().copied().fold(0.0f32, f32::max);
    #[allow(clippy::cast_precision_loss)]
    let shrink = cp.content_min_interactions.max(1) as f32;
    #[allow(clippy::cast_precision_loss)]
    let wi =
        cp.content_weight.max(0.0) * shrink / (shrink + users.get(i).copied().unwrap_or(0) as f32);
    let mut out: Vec<(u32, f32)> = nb
        .iter()
        .zip(w)
        .map(|(&j, &s)| {
            let co = if max > 0.0 { s / max } else { 0.0 };
            (j, co + wi * cos(j as usize))
        })
        .collect();
    let has_content = row(i).iter().any(|&x| x != 0.0);
    if has_content && wi > 0.0 {
        for s in nearest {
            if !nb.contains(&s.item) {
                out.push((s.item, wi * s.score));
            }
        }
    }
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out.truncate(max_neighbors);
    out
}
