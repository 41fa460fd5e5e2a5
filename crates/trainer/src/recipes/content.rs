//! Item content: learns how hashed item metadata and text map into a recommender's item space.
//!
//! The featurizer is the core's ([`edgerec_core::content`]): the trainer only learns its
//! weights, so an item added at the edge with `putItems` gets exactly the vector training would
//! have given it.
//!
//! * **idf** per hash bucket over the catalogue: `ln((1 + n) / (1 + df)) + 1`.
//! * **projection**: ridge regression from the unit-length feature vectors of warm items (at
//!   least `min_interactions` users) to their target vectors (item factors), centred on the
//!   targets' mean: `(XᵀX + λI) W = Xᵀ(Y − mean)`, solved by conjugate gradients, one system
//!   per target dimension, all at once (the cost is a few sparse products per step).

use edgerec_core::content::{ContentColumn, ContentModel, features};
use edgerec_core::{Catalog, ColumnKind, Embedding};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::dense;
use super::error::{RecipeError, params_of};
use crate::config::EmbeddingKind;

/// Content hyperparameters, `content_*` keys of a recommender (`contentWeight=0.5`, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContentParams {
    /// Use item metadata and text (`user-personalization`: places cold items; off = the model
    /// is written exactly as without content).
    pub content: bool,
    /// Item columns to use (categorical or textual); empty = every such column of the catalogue.
    pub content_columns: Vec<String>,
    /// Hash buckets.
    pub content_buckets: u32,
    /// Ridge regularisation of the projection.
    pub content_regularization: f32,
    /// Conjugate-gradient steps of the ridge regression.
    pub content_steps: usize,
    /// Items with fewer users than this are placed (partly) from their content; the
    /// projection is learned from the others.
    pub content_min_interactions: u32,
    /// `similar-items`: weight of content similarity against co-interaction.
    pub content_weight: f32,
    /// `similar-items`: nearest items by content added to each item's candidates.
    pub content_neighbors: usize,
}

impl Default for ContentParams {
    fn default() -> Self {
        ContentParams {
            content: true,
            content_columns: Vec::new(),
            content_buckets: 4096,
            content_regularization: 1.0,
            content_steps: 30,
            content_min_interactions: 5,
            content_weight: 1.0,
            content_neighbors: 20,
        }
    }
}

impl ContentParams {
    /// Splits the `content*` keys off a recommender's hyperparameters.
    ///
    /// # Errors
    /// When they do not parse, or `content_buckets` is out of range.
    pub fn split(params: &toml::Table) -> Result<(Self, toml::Table), RecipeError> {
        let (content, rest): (toml::Table, toml::Table) = params
            .clone()
            .into_iter()
            .partition(|(k, _)| k.starts_with("content"));
        let p: ContentParams = params_of(content)?;
        let max = edgerec_core::content::MAX_BUCKETS;
        if p.content_buckets == 0 || p.content_buckets > max {
            return Err(RecipeError::ContentBuckets { max });
        }
        Ok((p, rest))
    }
}

/// The content columns of `catalog` the params select (categorical, boolean or textual);
/// an error names a selected column that is missing or numeric.
///
/// # Errors
/// [`RecipeError::NumericContentColumn`], [`RecipeError::UnknownContentColumn`].
pub fn columns(catalog: &Catalog, p: &ContentParams) -> Result<Vec<ContentColumn>, RecipeError> {
    let usable = |k: ColumnKind| {
        matches!(
            k,
            ColumnKind::Categorical | ColumnKind::Boolean | ColumnKind::Textual
        )
    };
    if p.content_columns.is_empty() {
        return Ok(catalog
            .columns
            .iter()
            .filter(|c| usable(c.kind))
            .map(|c| ContentColumn {
                name: c.name.clone(),
                weight: 1.0,
            })
            .collect());
    }
    p.content_columns
        .iter()
        .map(|name| match catalog.column(name) {
            Some(c) if usable(c.kind) => Ok(ContentColumn {
                name: c.name.clone(),
                weight: 1.0,
            }),
            Some(_) => Err(RecipeError::NumericContentColumn(name.clone())),
            None => Err(RecipeError::UnknownContentColumn(name.clone())),
        })
        .collect()
}

/// Inverse document frequency per bucket over every catalogue item.
fn idf(catalog: &Catalog, cols: &[ContentColumn], buckets: u32) -> Vec<f32> {
    let n = catalog.len();
    let df: Vec<Vec<u32>> = (0..n)
        .into_par_iter()
        .map(|row| {
            let mut b: Vec<u32> = cols
                .iter()
                .filter_map(|c| catalog.column(&c.name))
                .flat_map(|c| features::row_features(c, row, buckets))
                .map(|(b, _)| b)
                .collect();
            b.sort_unstable();
            b.dedup();
            b
        })
        .collect();
    let mut counts = vec![0u32; buckets as usize];
    for row in &df {
        for &b in row {
            counts[b as usize] += 1;
        }
    }
    #[allow(clippy::cast_precision_loss)]
    counts
        .iter()
        .map(|&d| ((1.0 + n as f32) / (1.0 + d as f32)).ln() + 1.0)
        .collect()
}

/// Learns a content model whose projection maps items onto the rows of `targets` (one per
/// catalogue item, `dim` columns); `users[i]` is item `i`'s user count. `None` when no item has content
/// or too few items are warm to learn from.
#[must_use]
pub fn learn(
    catalog: &Catalog,
    targets: ArrayView2<'_, f32>,
    users: &[u32],
    p: &ContentParams,
    cols: Vec<ContentColumn>,
    kind: EmbeddingKind,
) -> Option<ContentModel> {
    let (n, dim) = (catalog.len(), targets.ncols());
    if cols.is_empty() || dim == 0 || targets.nrows() != n {
        return None;
    }
    let buckets = p.content_buckets;
    let mut model = ContentModel {
        idf: idf(catalog, &cols, buckets),
        columns: cols,
        buckets,
        mean: vec![0.0; dim],
        projection: Embedding::from_f32(0, dim, Vec::new()),
        item_vectors: None,
    };
    let x: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map(|row| model.features(catalog, row))
        .collect();
    let warm: Vec<usize> = (0..n)
        .filter(|&i| {
            users.get(i).copied().unwrap_or(0) >= p.content_min_interactions.max(1)
                && !x[i].is_empty()
        })
        .collect();
    if warm.len() < 2 {
        return None;
    }
    #[allow(clippy::cast_precision_loss)]
    let inv = 1.0 / warm.len() as f32;
    let mut mean = vec![0.0f32; dim];
    for &i in &warm {
        for (m, t) in mean.iter_mut().zip(targets.row(i)) {
            *m += t * inv;
        }
    }
    let rows: Vec<&[(u32, f32)]> = warm.iter().map(|&i| x[i].as_slice()).collect();
    let mut y = Array2::<f32>::zeros((warm.len(), dim));
    for (yr, &i) in dense::rows_mut(&mut y).chunks_mut(dim).zip(&warm) {
        for ((o, t), m) in yr.iter_mut().zip(targets.row(i)).zip(&mean) {
            *o = t - m;
        }
    }
    let w = ridge_cg(
        &rows,
        &y,
        buckets as usize,
        p.content_regularization,
        p.content_steps,
    );
    model.mean = mean;
    model.projection = match kind {
        EmbeddingKind::Int8 => Embedding::quantize(buckets as usize, dim, dense::rows(&w)),
        EmbeddingKind::F32 => Embedding::from_f32(buckets as usize, dim, dense::into_rows(w)),
    };
    Some(model)
}

/// `Xᵀ (X v)` plus `λ v`, for a `buckets × dim` block `v`.
fn normal_product(rows: &[&[(u32, f32)]], v: &Array2<f32>, lambda: f32) -> Array2<f32> {
    let dim = v.ncols();
    let mut xv = Array2::<f32>::zeros((rows.len(), dim));
    dense::rows_mut(&mut xv)
        .par_chunks_mut(dim)
        .zip(rows)
        .for_each(|(out, r)| {
            for &(b, x) in *r {
                for (o, w) in out.iter_mut().zip(dense::row(v, b as usize)) {
                    *o += x * w;
                }
            }
        });
    let mut out = v.mapv(|w| lambda * w);
    for (r, xr) in rows.iter().zip(dense::rows(&xv).chunks(dim)) {
        for &(b, x) in *r {
            for (o, s) in dense::row_mut(&mut out, b as usize).iter_mut().zip(xr) {
                *o += x * s;
            }
        }
    }
    out
}

/// Solves `(XᵀX + λI) W = XᵀY` (`W` is `buckets × dim`) by conjugate gradients, one system
/// per column of `Y`, stepped together. `y` is `rows × dim`, non-empty in `dim`.
fn ridge_cg(
    rows: &[&[(u32, f32)]],
    y: &Array2<f32>,
    buckets: usize,
    lambda: f32,
    steps: usize,
) -> Array2<f32> {
    let dim = y.ncols();
    let mut b = Array2::<f32>::zeros((buckets, dim));
    for (r, yr) in rows.iter().zip(dense::rows(y).chunks(dim)) {
        for &(k, x) in *r {
            for (o, t) in dense::row_mut(&mut b, k as usize).iter_mut().zip(yr) {
                *o += x * t;
            }
        }
    }
    let lambda = lambda.max(1e-4);
    let mut w = Array2::<f32>::zeros((buckets, dim));
    let mut r = b;
    let mut p = r.clone();
    let col_dot = |a: &Array2<f32>, c: &Array2<f32>| {
        let mut s = vec![0.0f64; dim];
        for (ra, rc) in dense::rows(a).chunks(dim).zip(dense::rows(c).chunks(dim)) {
            for ((s, x), y) in s.iter_mut().zip(ra).zip(rc) {
                *s += f64::from(*x) * f64::from(*y);
            }
        }
        s
    };
    let mut rr = col_dot(&r, &r);
    for _ in 0..steps {
        let ap = normal_product(rows, &p, lambda);
        let pap = col_dot(&p, &ap);
        #[allow(clippy::cast_possible_truncation)]
        let alpha: Vec<f32> = rr
            .iter()
            .zip(&pap)
            .map(|(a, b)| if *b > 0.0 { (a / b) as f32 } else { 0.0 })
            .collect();
        for (((wr, pr), rr_), apr) in dense::rows_mut(&mut w)
            .chunks_mut(dim)
            .zip(dense::rows(&p).chunks(dim))
            .zip(dense::rows_mut(&mut r).chunks_mut(dim))
            .zip(dense::rows(&ap).chunks(dim))
        {
            for c in 0..dim {
                wr[c] += alpha[c] * pr[c];
                rr_[c] -= alpha[c] * apr[c];
            }
        }
        let rr_new = col_dot(&r, &r);
        #[allow(clippy::cast_possible_truncation)]
        let beta: Vec<f32> = rr_new
            .iter()
            .zip(&rr)
            .map(|(a, b)| if *b > 0.0 { (a / b) as f32 } else { 0.0 })
            .collect();
        for (pr, rr_) in dense::rows_mut(&mut p)
            .chunks_mut(dim)
            .zip(dense::rows(&r).chunks(dim))
        {
            for c in 0..dim {
                pr[c] = rr_[c] + beta[c] * pr[c];
            }
        }
        rr = rr_new;
        if rr.iter().all(|&x| x < 1e-12) {
            break;
        }
    }
    w
}

/// Distinct users per catalogue item among the entries `keep` accepts.
#[must_use]
pub fn user_counts(
    m: &super::TrainingMatrix,
    keep: impl Fn(&super::matrix::Entry) -> bool,
) -> Vec<u32> {
    let mut counts = vec![0u32; m.n_items()];
    let mut last = vec![u32::MAX; m.n_items()];
    for u in 0..m.n_users() {
        let uu = u32::try_from(u).unwrap_or(u32::MAX);
        for e in m.row(u).iter().filter(|e| keep(e)) {
            let i = e.item as usize;
            if last[i] != uu {
                last[i] = uu;
                counts[i] += 1;
            }
        }
    }
    counts
}

/// Places items with fewer than `min` users in the factor space from their content: an item
/// with `c` users gets `(c / min) · trained + (1 − c / min) · content` (items without
/// content tokens keep their trained factors).
pub fn place_cold_items(
    items: &mut Array2<f32>,
    catalog: &Catalog,
    model: &ContentModel,
    users: &[u32],
    min: u32,
) {
    let (min, dim) = (min.max(1), items.ncols().max(1));
    dense::rows_mut(items)
        .par_chunks_mut(dim)
        .enumerate()
        .for_each(|(i, row)| {
            let c = users.get(i).copied().unwrap_or(0);
            if c >= min {
                return;
            }
            if let Some(v) = model.vector(catalog, i) {
                #[allow(clippy::cast_precision_loss)]
                let keep = c as f32 / min as f32;
                for (r, x) in row.iter_mut().zip(&v) {
                    *r = keep * *r + (1.0 - keep) * x;
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;
    use edgerec_core::{Column, ColumnValues};

    /// Two genres; items of genre A have factors (1, 0), of genre B (0, 1).
    fn catalog(n: usize) -> Catalog {
        let mut offsets = vec![0u32];
        let mut codes = Vec::new();
        for i in 0..n {
            codes.push(u32::from(i % 2 == 1));
            offsets.push(u32::try_from(codes.len()).unwrap_or(0));
        }
        Catalog {
            item_ids: (0..n).map(|i| format!("i{i}")).collect(),
            columns: vec![Column {
                name: "GENRES".into(),
                kind: ColumnKind::Categorical,
                values: ColumnValues::Categorical {
                    dictionary: vec!["A".into(), "B".into()],
                    offsets,
                    codes,
                },
            }],
            ..Catalog::default()
        }
    }

    #[test]
    fn ridge_projection_recovers_genre_factors_for_cold_items() {
        let n = 40;
        let cat = catalog(n);
        let targets = Array2::from_shape_fn((n, 2), |(i, c)| if i % 2 == c { 1.0 } else { 0.0 });
        // The last two items are cold: no users.
        let users: Vec<u32> = (0..n).map(|i| if i >= n - 2 { 0 } else { 10 }).collect();
        let p = ContentParams {
            content_regularization: 0.01,
            ..ContentParams::default()
        };
        let cols = columns(&cat, &p).expect("columns");
        let m = learn(&cat, targets.view(), &users, &p, cols, EmbeddingKind::F32).expect("learned");
        let a = m.vector(&cat, n - 2).expect("vector");
        let b = m.vector(&cat, n - 1).expect("vector");
        assert!(a[0] > 0.9 && a[1].abs() < 0.1, "{a:?}");
        assert!(b[1] > 0.9 && b[0].abs() < 0.1, "{b:?}");
        let mut items = Array2::zeros((n, 2));
        place_cold_items(&mut items, &cat, &m, &users, 5);
        assert!(items[(n - 1, 1)] > 0.9);
        assert_eq!(items[(0, 0)], 0.0, "warm items keep their factors");
    }

    #[test]
    fn params_split_off_content_keys() {
        let mut t = toml::Table::new();
        t.insert("content_weight".into(), toml::Value::Float(0.5));
        t.insert("factors".into(), toml::Value::Integer(8));
        let (p, rest) = ContentParams::split(&t).expect("split");
        assert!((p.content_weight - 0.5).abs() < 1e-6);
        assert_eq!(rest.len(), 1);
        t.insert("content_bogus".into(), toml::Value::Integer(1));
        assert!(ContentParams::split(&t).is_err());
    }
}
