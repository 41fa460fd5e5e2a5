//! `user-personalization` / `personalized-ranking` as pack trains them: ALS factors (an update
//! warm-starts from the previous model's), cold items placed from their content, and the
//! learned context vectors, packed into the core's [`FactorModel`]. Also the co-interaction
//! factors `sims` and `similar-items` blend in.

use edgerec_core::content::{ContentColumn, ContentModel};
use edgerec_core::{Embedding, FactorModel, Model, RecommenderModel};
use ndarray::Array2;

use super::TrainingMatrix;
use super::als::{self, AlsParams, Csr};
use super::content::{self, ContentParams};
use super::context::{self, ContextParams};
use super::dense;
use super::error::{RecipeError, params_of};
use super::previous::rows_by_id;
use super::trainable::{Inputs, RecipeTrainer};
use crate::config::EmbeddingKind;
use crate::dataset::Dataset;

/// The factor recipes (`user-personalization`, `personalized-ranking`).
#[derive(Debug, Clone, Copy)]
pub struct FactorRecipe;

/// Their hyperparameters: ALS and content.
#[derive(Debug, Clone)]
pub struct FactorParams {
    pub als: AlsParams,
    pub content: ContentParams,
}

impl RecipeTrainer for FactorRecipe {
    type Params = FactorParams;

    /// The `content*` keys are content's, the rest ALS's; the seed is the model's unless set.
    fn params(&self, input: &Inputs<'_>) -> Result<FactorParams, RecipeError> {
        let (content, rest) = ContentParams::split(&input.spec.params)?;
        let mut als: AlsParams = params_of(rest)?;
        if !input.spec.params.contains_key("seed") {
            als.seed = input.cfg.model.seed;
        }
        Ok(FactorParams { als, content })
    }

    fn train(&self, input: &Inputs<'_>, p: &FactorParams) -> Result<RecommenderModel, RecipeError> {
        factor_recommender(input, p, None)
    }

    /// Starts from the previous model's factors for the items and users it knows (when it has
    /// a factor recommender of this name and size) and keeps its content projection (when it
    /// was learned from the same columns).
    fn update(
        &self,
        input: &Inputs<'_>,
        p: &FactorParams,
        prev: &Model,
    ) -> Result<RecommenderModel, RecipeError> {
        factor_recommender(input, p, Some(prev))
    }
}

fn factor_recommender(
    input: &Inputs<'_>,
    p: &FactorParams,
    prev: Option<&Model>,
) -> Result<RecommenderModel, RecipeError> {
    let Inputs {
        ds, cfg, spec, m, ..
    } = *input;
    let weights = input.event_weights();
    let warm = prev.and_then(|prev| warm_start(prev, &spec.name, ds, m, &p.als));
    let total = if warm.is_some() {
        p.als.update_iterations
    } else {
        p.als.iterations
    };
    let mut f = train_factors(
        m,
        &p.als,
        &weights,
        |t| input.keeps(t),
        warm.as_ref(),
        &|it| (input.progress)(&spec.name, it, total),
    );
    let placed = if p.content.content {
        content_model(input, &p.content, &mut f, prev)?
    } else {
        None
    };
    let mut fm = factor_model(
        &f,
        &p.als,
        weights,
        cfg.model.embedding,
        cfg.model.user_embedding.unwrap_or(cfg.model.embedding),
    );
    fm.content = placed.map(Box::new);
    fm.context = context::train(
        ds,
        m,
        f.items.view(),
        &ContextParams {
            min_users: cfg.model.public_min_users,
            ..ContextParams::from_als(&p.als)
        },
        |t| input.keeps(t),
    );
    Ok(RecommenderModel::Factors(fm))
}

/// The content projection (the previous model's in an update, when it still fits: the factors
/// it maps to moved little; else learned here), with the cold items of `f` placed by it.
fn content_model(
    input: &Inputs<'_>,
    cp: &ContentParams,
    f: &mut als::Factors,
    prev: Option<&Model>,
) -> Result<Option<ContentModel>, RecipeError> {
    let embedding = input.cfg.model.embedding;
    let columns = content::columns(input.catalog, cp)?;
    let users = content::user_counts(input.m, |e| input.keeps(e.event_type));
    let kept = prev.and_then(|prev| {
        previous_content(
            prev,
            &input.spec.name,
            &columns,
            cp.content_buckets,
            f.dim(),
            embedding,
        )
    });
    let cm = kept.or_else(|| {
        content::learn(
            input.catalog,
            f.items.view(),
            &users,
            cp,
            columns,
            embedding,
        )
    });
    if let Some(cm) = &cm {
        content::place_cold_items(
            &mut f.items,
            input.catalog,
            cm,
            &users,
            cp.content_min_interactions,
        );
    }
    Ok(cm)
}

/// Co-interaction factors of `dims` dimensions (default ALS, the model's seed) on the
/// interactions the recommender learns from, for the recipes that blend them into
/// neighbour lists.
#[must_use]
pub fn co_interaction_factors(input: &Inputs<'_>, dims: usize) -> als::Factors {
    let p = AlsParams {
        factors: dims.max(1),
        seed: input.cfg.model.seed,
        ..AlsParams::default()
    };
    let weights = input.event_weights();
    train_factors(input.m, &p, &weights, |t| input.keeps(t), None, &|_| {})
}

/// Trains ALS on the matrix with per-event-type weights.
pub fn train_factors(
    m: &TrainingMatrix,
    p: &AlsParams,
    weights: &[f32],
    keep: impl Fn(u16) -> bool,
    warm: Option<&als::WarmStart>,
    progress: &(dyn Fn(usize) + Sync),
) -> als::Factors {
    let (off, idx, val) = m.weighted_rows(|e| {
        if keep(e.event_type) {
            weights.get(e.event_type as usize).copied().unwrap_or(1.0)
        } else {
            0.0
        }
    });
    let r = Csr { off, idx, val };
    match warm {
        Some(w) => als::train_warm(&r, m.n_items(), p, w, progress),
        None => als::train(&r, m.n_items(), p, progress),
    }
}

/// The previous model's factors of recommender `name`, mapped by item and user id onto the
/// rows of `m`; `None` when it has no such factor recommender of the configured size.
fn warm_start(
    prev: &Model,
    name: &str,
    ds: &Dataset,
    m: &TrainingMatrix,
    p: &AlsParams,
) -> Option<als::WarmStart> {
    let RecommenderModel::Factors(f) = &prev.recommender(name)?.model else {
        return None;
    };
    if f.dim() != p.factors.max(1) {
        return None;
    }
    let prev_items = rows_by_id(&prev.catalog.item_ids);
    let prev_users = rows_by_id(&prev.users.user_ids);
    let items = m
        .items
        .iter()
        .map(|&d| {
            let row = *prev_items.get(ds.item_ids.get(d as usize)?.as_str())?;
            (row < f.item_factors.rows()).then(|| f.item_factors.row(row))
        })
        .collect();
    let users = m
        .users
        .iter()
        .map(|&d| {
            let row = *prev_users.get(ds.user_ids.get(d as usize)?.as_str())?;
            (row < f.user_factors.rows()).then(|| f.user_factors.row(row))
        })
        .collect();
    Some(als::WarmStart { users, items })
}

/// The content projection of the previous model's factor recommender `name`, when it was
/// learned from the same columns and buckets for factors of dimension `dim` and is stored as
/// `kind`.
fn previous_content(
    prev: &Model,
    name: &str,
    columns: &[ContentColumn],
    buckets: u32,
    dim: usize,
    kind: EmbeddingKind,
) -> Option<ContentModel> {
    let RecommenderModel::Factors(f) = &prev.recommender(name)?.model else {
        return None;
    };
    let cm = f.content.as_deref()?;
    let same_kind = matches!(
        (kind, &cm.projection),
        (EmbeddingKind::Int8, Embedding::Int8 { .. }) | (EmbeddingKind::F32, Embedding::F32 { .. })
    );
    (same_kind && cm.columns == columns && cm.buckets == buckets && cm.dim() == dim)
        .then(|| cm.clone())
}

/// Packs trained factors into the core's factor model, item factors stored as `kind` and
/// user factors as `user_kind`.
#[must_use]
pub fn factor_model(
    f: &als::Factors,
    p: &AlsParams,
    event_weights: Vec<f32>,
    kind: EmbeddingKind,
    user_kind: EmbeddingKind,
) -> FactorModel {
    // The core's model keeps its factors and Gram matrix as row-major vectors.
    let emb = |a: &Array2<f32>, kind: EmbeddingKind| {
        let (rows, k) = a.dim();
        match kind {
            EmbeddingKind::Int8 => Embedding::quantize(rows, k, dense::rows(a)),
            EmbeddingKind::F32 => Embedding::from_f32(rows, k, dense::rows(a).to_vec()),
        }
    };
    FactorModel {
        item_factors: emb(&f.items, kind),
        user_factors: emb(&f.users, user_kind),
        gram: dense::into_rows(als::gram(f.items.view())),
        regularization: p.regularization,
        alpha: p.alpha,
        event_weights,
        recency_half_life: p.recency_half_life,
        content: None,
        context: None,
    }
}
