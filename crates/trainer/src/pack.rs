//! Trains the configured recommenders and assembles one `core::Model`.

use std::collections::HashMap;
use std::time::Instant;

use edgerec_core::IdList;
use edgerec_core::content::{ContentColumn, ContentModel};
use edgerec_core::model::{BlendModel, ServingOptions};
use edgerec_core::{
    Catalog, Column, ColumnValues, Embedding, FactorModel, Histories, Model, ModelMeta,
    NamedFilter, Recipe, Recommender, RecommenderModel, TransitionLists, UserTable,
};

use crate::auto::params::auto_params;
use crate::config::{EmbeddingKind, RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::privacy::{self, Support};
use crate::recipes::TrainingMatrix;
use crate::recipes::als::{self, AlsParams, Csr};
use crate::recipes::content::{self, ContentParams};
use crate::recipes::popularity::{self, PopularityParams};
use crate::recipes::similar;
use crate::recipes::sims::{self, SimsParams};
use crate::recipes::{context, trending};
use crate::train::error::TrainError;
use crate::train::mode::{Progress, TrainingMode};
use crate::train::report::{RecommenderReport, TrainReport};

/// Trains `cfg` (expanded) as it stands: factor recommenders the config leaves open take
/// their defaults, and blends without weights weigh their parts equally.
pub(crate) fn train_fixed(
    ds: &Dataset,
    cfg: &TrainConfig,
    mode: TrainingMode<'_>,
    progress: Progress<'_>,
    phases: &dyn crate::progress::Progress,
) -> Result<(Model, TrainReport), TrainError> {
    if ds.interactions.is_empty() {
        return Err(TrainError::Empty);
    }
    let m = TrainingMatrix::build(ds, cfg.model.catalog);
    let mut report = TrainReport {
        items: m.n_items(),
        users: m.n_users(),
        interactions: m.entries.len(),
        recommenders: Vec::new(),
        auto: None,
    };
    let catalog = catalog(ds, &m, cfg);
    let floor = cfg.model.public_min_users;
    // Every user's whole history, for counting the users behind each stored pair.
    let all = if floor > 1 {
        histories(&m, 0)
    } else {
        Histories::default()
    };
    let mut supports: HashMap<Option<u16>, Support> = HashMap::new();
    let mut cache: HashMap<String, RecommenderModel> = HashMap::new();
    let mut recommenders = Vec::new();
    phases.start(
        "training",
        Some(cfg.recommenders.len() as u64),
        crate::progress::Unit::Count("recommenders"),
    );
    for spec in &cfg.recommenders {
        let t = Instant::now();
        phases.note(&format!("{} ({})", spec.name, spec.recipe.name()));
        let err = |message: String| TrainError::Recommender {
            name: spec.name.clone(),
            message,
        };
        let type_code = match &spec.event_type {
            Some(t) => Some(event_code(ds, t).ok_or_else(|| {
                err(format!(
                    "event type {t:?} does not occur in the interactions (found: {})",
                    ds.event_types.join(", ")
                ))
            })?),
            None => None,
        };
        let keep = move |code: u16| type_code.is_none_or(|c| c == code);
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}",
            family(spec.recipe),
            spec.event_type,
            spec.params,
            spec.event_weights
        );
        let model = if let Some(m) = cache.get(&key) {
            m.clone()
        } else {
            let mut built = match spec.recipe {
                Recipe::Auto => RecommenderModel::Blend(blend(cfg, spec).map_err(&err)?),
                Recipe::PopularityCount => {
                    let p: PopularityParams = params(spec).map_err(&err)?;
                    let since = p.since(m.max_time).map_err(&err)?;
                    RecommenderModel::Popularity(popularity::train(&m, |e| {
                        keep(e.event_type) && e.timestamp >= since
                    }))
                }
                Recipe::TrendingNow => {
                    let p: trending::TrendingParams = params(spec).map_err(&err)?;
                    RecommenderModel::Popularity(trending::train(&m, &p, keep))
                }
                Recipe::Sims => {
                    let p: SimsParams = params(spec).map_err(&err)?;
                    let factors = (p.factor_weight > 0.0).then(|| {
                        let als = AlsParams {
                            factors: p.factor_dims.max(1),
                            seed: cfg.model.seed,
                            ..AlsParams::default()
                        };
                        let weights = event_weights(ds, spec);
                        train_factors(&m, &als, &weights, keep, None, &|_| {}).items
                    });
                    // An update keeps the closed-form part from the previous model: only a
                    // full retrain pays for the EASE inverse.
                    let previous = match mode {
                        TrainingMode::Update(prev) if p.ease_weight > 0.0 => {
                            previous_neighbors(prev, &spec.name, ds, &m).map(|rows| {
                                let transitions = previous_transitions(prev, &spec.name, ds, &m);
                                (rows, prev.meta.data_time, transitions)
                            })
                        }
                        _ => None,
                    };
                    RecommenderModel::Neighbors(match previous {
                        Some((rows, seen, transitions)) => {
                            let mut nm = sims::train_update(
                                &m,
                                &p,
                                |e| keep(e.event_type),
                                |e| e.timestamp <= seen,
                                factors.as_deref(),
                                &rows,
                            );
                            // The transition lists too come from the previous model (a
                            // model that had none gets new ones).
                            nm.transitions = match transitions {
                                Some(t) if p.transitions_on() => Some(Box::new(t)),
                                Some(_) => None,
                                None => sims::transition_lists_of(&m, &p, |e| keep(e.event_type)),
                            };
                            nm
                        }
                        None => sims::train(&m, &p, |e| keep(e.event_type), factors.as_deref()),
                    })
                }
                Recipe::SimilarItems => {
                    let (cp, rest) = ContentParams::split(&spec.params).map_err(&err)?;
                    let p: SimsParams = params_of(rest).map_err(&err)?;
                    let als = AlsParams {
                        factors: p.factor_dims.max(1),
                        seed: cfg.model.seed,
                        ..AlsParams::default()
                    };
                    let weights = event_weights(ds, spec);
                    let f = train_factors(&m, &als, &weights, keep, None, &|_| {});
                    let columns = content::columns(&catalog, &cp).map_err(&err)?;
                    RecommenderModel::Neighbors(similar::train(
                        &m,
                        &p,
                        &cp,
                        |e| keep(e.event_type),
                        similar::SimilarInputs {
                            catalog: &catalog,
                            factors: &f.items,
                            dim: f.dim,
                            columns,
                            embedding: cfg.model.embedding,
                        },
                    ))
                }
                Recipe::UserPersonalization | Recipe::PersonalizedRanking => {
                    let (cp, rest) = ContentParams::split(&spec.params).map_err(&err)?;
                    let mut p: AlsParams = params_of(rest).map_err(&err)?;
                    if !spec.params.contains_key("seed") {
                        p.seed = cfg.model.seed;
                    }
                    let weights = event_weights(ds, spec);
                    let warm = match mode {
                        TrainingMode::Update(prev) => warm_start(prev, &spec.name, ds, &m, &p),
                        TrainingMode::Full => None,
                    };
                    let total = if warm.is_some() {
                        p.update_iterations
                    } else {
                        p.iterations
                    };
                    let mut f = train_factors(&m, &p, &weights, keep, warm.as_ref(), &|it| {
                        progress(&spec.name, it, total)
                    });
                    let placed = if cp.content {
                        let columns = content::columns(&catalog, &cp).map_err(&err)?;
                        let users = content::user_counts(&m, |e| keep(e.event_type));
                        // An update keeps the previous projection (the factors it maps to
                        // moved little); a full training, or changed columns, learns it.
                        let kept = match mode {
                            TrainingMode::Update(prev) => previous_content(
                                prev,
                                &spec.name,
                                &columns,
                                cp.content_buckets,
                                f.dim,
                                cfg.model.embedding,
                            ),
                            TrainingMode::Full => None,
                        };
                        let cm = kept.or_else(|| {
                            content::learn(
                                &catalog,
                                &f.items,
                                f.dim,
                                &users,
                                &cp,
                                columns,
                                cfg.model.embedding,
                            )
                        });
                        if let Some(cm) = &cm {
                            content::place_cold_items(
                                &mut f.items,
                                f.dim,
                                &catalog,
                                cm,
                                &users,
                                cp.content_min_interactions,
                            );
                        }
                        cm
                    } else {
                        None
                    };
                    let mut fm = factor_model(
                        &f,
                        &p,
                        weights,
                        cfg.model.embedding,
                        cfg.model.user_embedding.unwrap_or(cfg.model.embedding),
                    );
                    fm.content = placed.map(Box::new);
                    fm.context = context::train(
                        ds,
                        &m,
                        &f.items,
                        f.dim,
                        &context::ContextParams {
                            min_users: floor,
                            ..context::ContextParams::from_als(&p)
                        },
                        keep,
                    );
                    RecommenderModel::Factors(fm)
                }
            };
            if floor > 1 {
                let support = supports
                    .entry(type_code)
                    .or_insert_with(|| Support::new(&all, m.n_items(), keep));
                privacy::floor::apply(&mut built, support, floor);
            }
            cache.insert(key, built.clone());
            built
        };
        recommenders.push(Recommender {
            name: spec.name.clone(),
            recipe: spec.recipe,
            event_type: spec.event_type.clone(),
            serving: ServingOptions {
                exclude_interacted: spec.exclude_interacted,
                exclude_event_types: spec.exclude_event_types.clone(),
                exploration: spec.exploration,
                ..ServingOptions::default()
            },
            model,
        });
        report.recommenders.push(RecommenderReport {
            name: spec.name.clone(),
            recipe: spec.recipe.name().to_owned(),
            seconds: t.elapsed().as_secs_f64(),
        });
        phases.advance(1);
    }
    let mut model = Model {
        meta: ModelMeta {
            version: 0,
            created_at: created_at(),
            data_time: m.max_time,
            dataset: ds.name.clone(),
            producer: format!("edgerec-trainer {}", env!("CARGO_PKG_VERSION")),
            filters: Vec::new(),
            profile: edgerec_core::Profile::Private,
            // A floor of 1 keeps everything: nothing to state (and the file stays 1.0/1.1).
            min_users: if floor > 1 { floor } else { 0 },
        },
        catalog,
        users: users(ds, &m),
        histories: histories(&m, cfg.model.history_limit),
        popularity: popularity::train(&m, |_| true),
        recommenders,
    };
    privacy::floor::counts(&mut model.popularity, floor);
    for (name, expression) in &cfg.filters {
        edgerec_core::filter::CompiledFilter::compile(expression, &model.catalog, &model.users)
            .map_err(|e| TrainError::Filter {
                name: name.clone(),
                message: e.to_string(),
            })?;
        model.meta.filters.push(NamedFilter {
            name: name.clone(),
            expression: expression.clone(),
        });
    }
    Ok((model, report))
}

/// The blend of `auto` recommender `spec`: its parts as indices of the model's recommenders
/// (the config's order), with its weights (equal when it has none).
fn blend(cfg: &TrainConfig, spec: &RecommenderSpec) -> Result<BlendModel, String> {
    let p = auto_params(spec).map_err(|e| e.to_string())?;
    let n = p.parts.len();
    let known = if p.has_weights() {
        p.known.clone()
    } else {
        vec![1.0; n]
    };
    let session = if p.has_weights() {
        p.session.clone()
    } else {
        vec![vec![1.0]; n]
    };
    let parts = p
        .parts
        .iter()
        .map(|name| {
            let r = cfg
                .recommenders
                .iter()
                .position(|r| &r.name == name)
                .ok_or_else(|| format!("part {name:?} is not a recommender of the config"))?;
            u32::try_from(r).map_err(|e| e.to_string())
        })
        .collect::<Result<_, String>>()?;
    Ok(BlendModel::new(p.depth.max(1), parts, known, &session))
}

fn family(r: Recipe) -> Recipe {
    match r {
        Recipe::PersonalizedRanking => Recipe::UserPersonalization,
        other => other,
    }
}

fn event_code(ds: &Dataset, t: &str) -> Option<u16> {
    ds.event_types
        .iter()
        .position(|x| x.eq_ignore_ascii_case(t))
        .and_then(|p| u16::try_from(p).ok())
}

fn params<T: serde::de::DeserializeOwned>(spec: &RecommenderSpec) -> Result<T, String> {
    params_of(spec.params.clone())
}

fn params_of<T: serde::de::DeserializeOwned>(table: toml::Table) -> Result<T, String> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| format!("invalid hyperparameters: {}", e.message()))
}

/// Weight per dataset event type (default 1).
fn event_weights(ds: &Dataset, spec: &RecommenderSpec) -> Vec<f32> {
    ds.event_types
        .iter()
        .map(|t| {
            spec.event_weights
                .get(&t.to_ascii_lowercase())
                .copied()
                .unwrap_or(1.0)
        })
        .collect()
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

fn rows_by_id(ids: &IdList) -> HashMap<&str, usize> {
    ids.iter().enumerate().map(|(r, id)| (id, r)).collect()
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

/// The previous model's neighbour lists of recommender `name`, mapped by item id onto the
/// catalogue of `m` (items it did not know get empty lists); `None` when it has no such
/// neighbour recommender.
fn previous_neighbors(
    prev: &Model,
    name: &str,
    ds: &Dataset,
    m: &TrainingMatrix,
) -> Option<sims::PriorRows> {
    let RecommenderModel::Neighbors(nm) = &prev.recommender(name)?.model else {
        return None;
    };
    Some(rows_onto(prev, ds, m, |r| nm.of(r)))
}

/// The previous model's transition lists of recommender `name`, mapped like
/// [`previous_neighbors`]; `None` when it has none.
fn previous_transitions(
    prev: &Model,
    name: &str,
    ds: &Dataset,
    m: &TrainingMatrix,
) -> Option<TransitionLists> {
    let RecommenderModel::Neighbors(nm) = &prev.recommender(name)?.model else {
        return None;
    };
    let t = nm.transitions.as_deref()?;
    Some(TransitionLists::from_rows(rows_onto(prev, ds, m, |r| {
        t.of(r)
    })))
}

/// Rows of the previous model's items (`row` of a previous item index), mapped by item id
/// onto the catalogue of `m`: items it did not know get empty rows, and entries naming items
/// no longer in the catalogue are dropped.
fn rows_onto<'p>(
    prev: &Model,
    ds: &Dataset,
    m: &TrainingMatrix,
    row: impl Fn(usize) -> (&'p [u32], &'p [f32]),
) -> sims::PriorRows {
    let prev_items = rows_by_id(&prev.catalog.item_ids);
    let mut new_of_prev = vec![u32::MAX; prev.catalog.item_ids.len()];
    let mut prev_of_new = vec![usize::MAX; m.items.len()];
    for (c, &d) in m.items.iter().enumerate() {
        let Some(&r) = ds
            .item_ids
            .get(d as usize)
            .and_then(|id| prev_items.get(id.as_str()))
        else {
            continue;
        };
        if let Some(slot) = new_of_prev.get_mut(r) {
            *slot = u32::try_from(c).unwrap_or(u32::MAX);
            prev_of_new[c] = r;
        }
    }
    prev_of_new
        .iter()
        .map(|&r| {
            if r == usize::MAX {
                return Vec::new();
            }
            let (js, ws) = row(r);
            js.iter()
                .zip(ws)
                .filter_map(|(&j, &w)| {
                    let c = *new_of_prev.get(j as usize)?;
                    (c != u32::MAX).then_some((c, w))
                })
                .collect()
        })
        .collect()
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
    let k = f.dim;
    let emb = |data: &[f32], kind: EmbeddingKind| match kind {
        EmbeddingKind::Int8 => Embedding::quantize(data.len() / k, k, data),
        EmbeddingKind::F32 => Embedding::from_f32(data.len() / k, k, data.to_vec()),
    };
    FactorModel {
        item_factors: emb(&f.items, kind),
        user_factors: emb(&f.users, user_kind),
        gram: als::gram(&f.items, k),
        regularization: p.regularization,
        alpha: p.alpha,
        event_weights,
        recency_half_life: p.recency_half_life,
        content: None,
        context: None,
    }
}

fn created_at() -> i64 {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return t;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Reorders a column's rows: new row `r` = old row `order[r]`.
fn reorder(col: &Column, order: &[u32]) -> Column {
    let values = match &col.values {
        ColumnValues::Categorical {
            dictionary,
            offsets,
            codes,
        } => {
            let mut no = Vec::with_capacity(order.len() + 1);
            let mut nc = Vec::new();
            no.push(0u32);
            for &o in order {
                let o = o as usize;
                if let (Some(&a), Some(&b)) = (offsets.get(o), offsets.get(o + 1)) {
                    nc.extend_from_slice(codes.get(a as usize..b as usize).unwrap_or(&[]));
                }
                no.push(u32::try_from(nc.len()).unwrap_or(u32::MAX));
            }
            ColumnValues::Categorical {
                dictionary: dictionary.clone(),
                offsets: no,
                codes: nc,
            }
        }
        ColumnValues::Numeric(v) => ColumnValues::Numeric(
            order
                .iter()
                .map(|&o| v.get(o as usize).copied().unwrap_or(f64::NAN))
                .collect(),
        ),
        ColumnValues::Textual(v) => ColumnValues::Textual(
            order
                .iter()
                .map(|&o| v.get(o as usize).cloned().unwrap_or_default())
                .collect(),
        ),
    };
    Column {
        name: col.name.clone(),
        kind: col.kind,
        values,
    }
}

fn catalog(ds: &Dataset, m: &TrainingMatrix, cfg: &TrainConfig) -> Catalog {
    let mut first_seen = vec![i64::MAX; m.n_items()];
    for e in &m.entries {
        let f = &mut first_seen[e.item as usize];
        *f = (*f).min(e.timestamp);
    }
    Catalog {
        item_ids: m
            .items
            .iter()
            .map(|&i| ds.item_ids[i as usize].as_str())
            .collect(),
        columns: ds
            .item_columns
            .iter()
            .filter(|c| {
                !cfg.model
                    .drop_item_columns
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&c.name))
            })
            .map(|c| reorder(c, &m.items))
            .collect(),
        creation_time: m
            .items
            .iter()
            .zip(&first_seen)
            .map(|(&i, &f)| {
                ds.item_creation
                    .get(i as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(if f == i64::MAX { m.max_time } else { f })
            })
            .collect(),
        event_types: ds.event_types.clone(),
        context_columns: ds
            .interactions
            .context
            .iter()
            .map(|c| c.name.clone())
            .collect(),
    }
}

fn users(ds: &Dataset, m: &TrainingMatrix) -> UserTable {
    UserTable {
        user_ids: m
            .users
            .iter()
            .map(|&u| ds.user_ids[u as usize].as_str())
            .collect(),
        columns: ds
            .user_columns
            .iter()
            .map(|c| reorder(c, &m.users))
            .collect(),
    }
}

fn histories(m: &TrainingMatrix, limit: usize) -> Histories {
    let mut h = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    for u in 0..m.n_users() {
        let row = m.row(u);
        let start = if limit == 0 {
            0
        } else {
            row.len().saturating_sub(limit)
        };
        for e in &row[start..] {
            h.items.push(e.item);
            h.event_types.push(e.event_type);
            h.timestamps.push(e.timestamp);
        }
        h.offsets
            .push(u32::try_from(h.items.len()).unwrap_or(u32::MAX));
    }
    h
}
