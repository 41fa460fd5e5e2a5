//! Item content: metadata and text as vectors, for items without (enough) interactions.
//!
//! A [`ContentModel`] turns an item's categorical and textual columns into a dense vector in a
//! recommender's space (format capability `CAP_CONTENT`):
//!
//! ```text
//! columns ──features──► sparse hashed tokens ──× idf, per-column unit norm × weight, unit norm──► x
//! x ──► mean + Σ_b x_b · projection[b]  (buckets × dim, learned by the trainer)
//! ```
//!
//! `user-personalization` learns the projection onto its item factors (so a new item lands in
//! the factor space); `similar-items` onto co-interaction factors, and keeps a vector per item
//! for items without enough neighbours (ranked by dot product, like related items by factors). The engine places items added with
//! `putItems` with [`ContentModel::vector`].

pub mod features;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::embedding::Embedding;

/// Most hash buckets a content model may have.
pub const MAX_BUCKETS: u32 = 1 << 20;

/// One item column the features come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentColumn {
    /// Catalogue column name (categorical, boolean or textual).
    pub name: String,
    /// Weight of the column's unit-length sub-vector.
    pub weight: f32,
}

/// Hashed features of item metadata and text, and their projection to a dense vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentModel {
    pub columns: Vec<ContentColumn>,
    /// Number of hash buckets.
    pub buckets: u32,
    /// Weight per bucket (inverse document frequency of the training catalogue), `buckets` long.
    pub idf: Vec<f32>,
    /// Added to every projection (`dim` long): the mean of the targets.
    pub mean: Vec<f32>,
    /// `buckets × dim`.
    pub projection: Embedding,
    /// A vector per catalogue item (`similar-items`): its co-interaction factors, or its
    /// projected content when it had too few interactions (and for items added with
    /// `putItems`). `None` for factor recommenders, whose item factors hold those rows.
    pub item_vectors: Option<Embedding>,
}

impl ContentModel {
    /// Dimension of the projected vectors.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.projection.dim()
    }

    /// The sparse, unit-length feature vector of catalogue row `row`, sorted by bucket; empty
    /// when the item has no tokens in the content columns.
    #[must_use]
    pub fn features(&self, catalog: &Catalog, row: usize) -> Vec<(u32, f32)> {
        let mut all = Vec::new();
        for c in &self.columns {
            let Some(col) = catalog.column(&c.name) else {
                continue;
            };
            let mut v: Vec<(u32, f32)> = features::row_features(col, row, self.buckets)
                .into_iter()
                .map(|(b, s)| (b, s * self.idf.get(b as usize).copied().unwrap_or(1.0)))
                .collect();
            v = features::merge(v);
            features::normalize(&mut v);
            all.extend(v.into_iter().map(|(b, x)| (b, x * c.weight)));
        }
        let mut all = features::merge(all);
        features::normalize(&mut all);
        all
    }

    /// Projects a sparse feature vector: `mean + Σ x_b · projection[b]`.
    #[must_use]
    pub fn project(&self, x: &[(u32, f32)]) -> Vec<f32> {
        let d = self.dim();
        let mut out = self.mean.clone();
        out.resize(d, 0.0);
        let mut row = vec![0.0f32; d];
        for &(b, v) in x {
            self.projection.row_into(b as usize, &mut row);
            for (o, r) in out.iter_mut().zip(&row) {
                *o += v * r;
            }
        }
        out
    }

    /// The dense vector of catalogue row `row`; `None` when the item has no content tokens.
    #[must_use]
    pub fn vector(&self, catalog: &Catalog, row: usize) -> Option<Vec<f32>> {
        let x = self.features(catalog, row);
        (!x.is_empty()).then(|| self.project(&x))
    }

    /// The unit-length vector of catalogue row `row`, for neighbour search.
    #[must_use]
    pub fn unit_vector(&self, catalog: &Catalog, row: usize) -> Option<Vec<f32>> {
        let mut v = self.vector(catalog, row)?;
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n <= 0.0 || !n.is_finite() {
            return None;
        }
        v.iter_mut().for_each(|x| *x /= n);
        Some(v)
    }

    /// True when the sizes agree (`dim` = the recommender's dimension, `items` catalogue rows)
    /// and every weight is finite.
    #[must_use]
    pub fn is_consistent(&self, dim: usize, items: usize) -> bool {
        self.buckets > 0
            && self.buckets <= MAX_BUCKETS
            && self.idf.len() == self.buckets as usize
            && self.idf.iter().all(|x| x.is_finite())
            && self.mean.len() == dim
            && self.mean.iter().all(|x| x.is_finite())
            && self.columns.iter().all(|c| c.weight.is_finite())
            && self.projection.is_consistent()
            && self.projection.rows() == self.buckets as usize
            && self.projection.dim() == dim
            && self
                .item_vectors
                .as_ref()
                .is_none_or(|v| v.is_consistent() && v.rows() == items && v.dim() == dim)
    }
}

/// Writes `v` into row `r` of `e` (int8 rows get their own scale). Out-of-range rows and
/// wrong lengths are ignored.
pub fn set_row(e: &mut Embedding, r: usize, v: &[f32]) {
    let d = e.dim();
    if v.len() != d {
        return;
    }
    match e {
        Embedding::F32 { data, .. } => {
            if let Some(row) = data.get_mut(r * d..(r + 1) * d) {
                row.copy_from_slice(v);
            }
        }
        Embedding::Int8 { data, scales, .. } => {
            let Embedding::Int8 {
                data: q, scales: s, ..
            } = Embedding::quantize(1, d, v)
            else {
                return;
            };
            if let (Some(row), Some(scale), Some(&s0)) = (
                data.get_mut(r * d..(r + 1) * d),
                scales.get_mut(r),
                s.first(),
            ) {
                row.copy_from_slice(&q);
                *scale = s0;
            }
        }
    }
}
