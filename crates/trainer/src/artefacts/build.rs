//! Puts artefact tables into one model: the recommenders `edgerec train` makes by default,
//! each from the table that holds it, assembled by [`crate::pack`] as a training is.
//!
//! * item factors (+ user factors) → `user-personalization` and `personalized-ranking`;
//! * neighbours → `sims`, each item's list sorted by weight and cut at `max_neighbors`;
//! * popularity counts → `popularity-count`, and the model's global popularity (the fallback
//!   for unknown users and the session prior of `sims`).
//!
//! Ids: every id of every table joins the catalogue (items) or the user table (users of the
//! user factors), next to those of the catalogue CSV and the interactions, as `edgerec train`
//! adds an interacted item missing from the items file. An item without factors gets a row of
//! zeros (factor recommenders never rank it; sessions and neighbours still can), and so does a
//! user of the interactions without factors (the engine answers such a user with popularity,
//! as it answers an unknown one).

use std::collections::{HashMap, HashSet};

use edgerec_core::id_order::compare_raw_ids;
use edgerec_core::{Column, ColumnValues, Model, NeighborModel, Recipe, RecommenderModel};
use ndarray::Array2;

use super::error::PackError;
use super::tables::{Count, FactorTable, Neighbor};
use crate::config::{EmbeddingKind, RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::recipes::als::{AlsParams, Factors};
use crate::recipes::factors::factor_model;
use crate::recipes::sims::SimsParams;
use crate::recipes::{CatalogScope, TrainingMatrix, popularity};

/// The tables to pack; each is optional, at least one is needed.
#[derive(Debug, Clone, Default)]
pub struct Artefacts {
    pub item_factors: Option<FactorTable>,
    pub user_factors: Option<FactorTable>,
    pub neighbors: Option<Vec<Neighbor>>,
    pub popularity: Option<Vec<Count>>,
}

/// How to pack them.
#[derive(Debug, Clone)]
pub struct PackOptions {
    /// Neighbours kept per item (strongest first).
    pub max_neighbors: usize,
    /// How item factors are stored.
    pub embedding: EmbeddingKind,
    /// How user factors are stored (default: as `embedding`).
    pub user_embedding: Option<EmbeddingKind>,
    /// Fold-in of sessions: the L2 regularisation and the confidence scale `1 + alpha · w`.
    pub regularization: f32,
    pub alpha: f32,
    /// The k-anonymity floor, applied with the interactions (see [`crate::privacy`]);
    /// without interactions the tables' own floor stands and none is stated in the model.
    pub min_users: u32,
}

impl Default for PackOptions {
    fn default() -> Self {
        let als = AlsParams::default();
        PackOptions {
            max_neighbors: SimsParams::default().max_neighbors,
            embedding: EmbeddingKind::Int8,
            user_embedding: None,
            regularization: als.regularization,
            alpha: als.alpha,
            min_users: crate::privacy::DEFAULT_MIN_USERS,
        }
    }
}

/// What was packed.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct PackReport {
    pub items: usize,
    pub users: usize,
    pub interactions: usize,
    /// Items of the tables found neither in the catalogue CSV nor in the interactions.
    pub items_added: usize,
    /// Catalogue items without a row of item factors (zeros in the model).
    pub items_without_factors: usize,
    /// Known users without a row of user factors (zeros: answered by popularity).
    pub users_without_factors: usize,
    /// The factors' rank (0 without factors).
    pub rank: usize,
    /// Neighbour entries kept (after `max_neighbors`, before the floor).
    pub neighbor_entries: usize,
    /// The recommenders, in the model's order.
    pub recommenders: Vec<String>,
    /// The floor stated in the model (0: none stated).
    pub min_users: u32,
}

/// Packs `artefacts` into a model over `ds` (the catalogue CSV and interactions as
/// imported; an empty dataset without them).
///
/// # Errors
/// [`PackError`]: no table, user factors without item factors or of another rank, bad
/// options, or what assembling the model refuses (a filter, ...).
pub fn pack(
    artefacts: &Artefacts,
    ds: Dataset,
    opts: &PackOptions,
) -> Result<(Model, PackReport), PackError> {
    let a = artefacts;
    if a.item_factors.is_none() && a.neighbors.is_none() && a.popularity.is_none() {
        return Err(if a.user_factors.is_some() {
            PackError::UserFactorsAlone
        } else {
            PackError::Nothing
        });
    }
    if let (Some(i), Some(u)) = (&a.item_factors, &a.user_factors)
        && i.rank != u.rank
    {
        return Err(PackError::RankMismatch {
            items: i.rank,
            users: u.rank,
        });
    }
    for (what, value) in [
        ("--regularization", opts.regularization),
        ("--alpha", opts.alpha),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(PackError::Param { what, value });
        }
    }
    let mut ds = ds;
    let interactions = ds.interactions.len();
    let items_added = add_ids(&mut ds, a);
    let cfg = config(&ds, opts, interactions > 0);
    let m = with_every_user(TrainingMatrix::build(&ds, CatalogScope::All), &ds);
    let catalog = crate::pack::catalog(&ds, &m, &cfg);
    let mut report = PackReport {
        items: m.n_items(),
        users: m.n_users(),
        interactions,
        items_added,
        min_users: if cfg.model.public_min_users > 1 {
            cfg.model.public_min_users
        } else {
            0
        },
        ..PackReport::default()
    };
    let counts = a.popularity.as_ref().map(|c| item_counts(&ds, &m, c));
    let mut given: Vec<(&RecommenderSpec, RecommenderModel)> = Vec::new();
    for spec in &cfg.recommenders {
        let model = match spec.recipe {
            Recipe::UserPersonalization | Recipe::PersonalizedRanking => a
                .item_factors
                .as_ref()
                .map(|items| factors(&ds, &m, items, a.user_factors.as_ref(), opts, &mut report)),
            Recipe::Sims => a.neighbors.as_ref().map(|n| {
                let has_popularity = counts.is_some() || interactions > 0;
                let nm = neighbors(&ds, &m, n, opts.max_neighbors, has_popularity);
                report.neighbor_entries = nm.neighbors.len();
                RecommenderModel::Neighbors(nm)
            }),
            Recipe::PopularityCount => counts
                .as_ref()
                .map(|c| RecommenderModel::Popularity(popularity::from_counts(c.clone()))),
            _ => None,
        };
        if let Some(model) = model {
            report.recommenders.push(spec.name.clone());
            given.push((spec, model));
        }
    }
    let mut model = crate::pack::assemble_given(&ds, &cfg, &m, catalog, given)?;
    if let Some(c) = counts {
        model.popularity = popularity::from_counts(c);
        crate::privacy::floor::counts(&mut model.popularity, cfg.model.public_min_users);
    }
    if model.meta.dataset.is_empty() {
        "artefacts".clone_into(&mut model.meta.dataset);
    }
    Ok((model, report))
}

/// `edgerec train`'s default recommenders with one table each (the blend `auto` is left out:
/// it weighs its parts on validation data, which takes a training), and the model options.
fn config(ds: &Dataset, opts: &PackOptions, has_interactions: bool) -> TrainConfig {
    let mut cfg = TrainConfig::default_for(&ds.event_types);
    cfg.recommenders.retain(|r| r.recipe != Recipe::Auto);
    cfg.model.embedding = opts.embedding;
    cfg.model.user_embedding = opts.user_embedding;
    // The floor counts users in the interactions; without them it cannot be checked here.
    cfg.model.public_min_users = if has_interactions { opts.min_users } else { 1 };
    cfg
}

/// Adds every id of the tables that the dataset lacks (items with null metadata, users
/// without metadata); returns the number of items added.
fn add_ids(ds: &mut Dataset, a: &Artefacts) -> usize {
    if ds.event_types.is_empty() {
        ds.event_types
            .push(crate::import::DEFAULT_EVENT_TYPE.to_owned());
    }
    let mut known: HashSet<String> = ds.item_ids.iter().cloned().collect();
    let before = ds.item_ids.len();
    let mut add = |id: &str, ds: &mut Dataset| {
        if known.insert(id.to_owned()) {
            ds.item_ids.push(id.to_owned());
        }
    };
    if let Some(t) = &a.item_factors {
        for id in &t.ids {
            add(id, ds);
        }
    }
    if let Some(n) = &a.neighbors {
        for e in n {
            add(&e.item, ds);
            add(&e.neighbor, ds);
        }
    }
    if let Some(c) = &a.popularity {
        for e in c {
            add(&e.item, ds);
        }
    }
    let added = ds.item_ids.len() - before;
    let n = ds.item_ids.len();
    for c in &mut ds.item_columns {
        pad(c, n);
    }
    ds.item_creation.resize(n, None);
    if let Some(t) = &a.user_factors {
        let mut users: HashSet<String> = ds.user_ids.iter().cloned().collect();
        for id in &t.ids {
            if users.insert(id.clone()) {
                ds.user_ids.push(id.clone());
            }
        }
        let n = ds.user_ids.len();
        for c in &mut ds.user_columns {
            pad(c, n);
        }
    }
    added
}

/// Null rows up to `n` rows.
fn pad(c: &mut Column, n: usize) {
    match &mut c.values {
        ColumnValues::Categorical { offsets, .. } => {
            let last = offsets.last().copied().unwrap_or(0);
            if offsets.is_empty() {
                offsets.push(0);
            }
            offsets.resize(n + 1, last);
        }
        ColumnValues::Numeric(v) => v.resize(n, f64::NAN),
        ColumnValues::Textual(v) => v.resize(n, String::new()),
    }
}

/// `m` with every user of the dataset, those without interactions (known from their factors)
/// included, in raw-id order.
fn with_every_user(m: TrainingMatrix, ds: &Dataset) -> TrainingMatrix {
    let mut row_of = vec![usize::MAX; ds.user_ids.len()];
    for (r, &u) in m.users.iter().enumerate() {
        if let Some(x) = row_of.get_mut(u as usize) {
            *x = r;
        }
    }
    let mut users: Vec<u32> = (0..ds.user_ids.len())
        .filter_map(|u| u32::try_from(u).ok())
        .collect();
    users.sort_by(|&a, &b| compare_raw_ids(&ds.user_ids[a as usize], &ds.user_ids[b as usize]));
    let mut offsets = Vec::with_capacity(users.len() + 1);
    let mut entries = Vec::with_capacity(m.entries.len());
    offsets.push(0);
    for &u in &users {
        let r = row_of[u as usize];
        if r != usize::MAX {
            entries.extend_from_slice(m.row(r));
        }
        offsets.push(entries.len());
    }
    TrainingMatrix {
        users,
        offsets,
        entries,
        ..m
    }
}

/// Catalogue index per item id.
fn catalogue_index<'a>(ds: &'a Dataset, m: &TrainingMatrix) -> HashMap<&'a str, u32> {
    m.items
        .iter()
        .enumerate()
        .filter_map(|(p, &d)| {
            Some((
                ds.item_ids.get(d as usize)?.as_str(),
                u32::try_from(p).ok()?,
            ))
        })
        .collect()
}

/// The factor recommender: the tables' rows in catalogue and user order (zeros where a table
/// has none), packed as a training packs its ALS factors.
fn factors(
    ds: &Dataset,
    m: &TrainingMatrix,
    items: &FactorTable,
    users: Option<&FactorTable>,
    opts: &PackOptions,
    report: &mut PackReport,
) -> RecommenderModel {
    let k = items.rank;
    report.rank = k;
    let rows = |t: &FactorTable, ids: &mut dyn Iterator<Item = &str>, missing: &mut usize| {
        let by_id: HashMap<&str, usize> = t
            .ids
            .iter()
            .enumerate()
            .map(|(r, id)| (id.as_str(), r))
            .collect();
        let mut out = Vec::new();
        let mut n = 0;
        for id in ids {
            n += 1;
            match by_id.get(id) {
                Some(&r) => out.extend_from_slice(t.row(r)),
                None => {
                    *missing += 1;
                    out.extend(std::iter::repeat_n(0.0, k));
                }
            }
        }
        Array2::from_shape_vec((n, k), out).unwrap_or_else(|_| Array2::zeros((n, k)))
    };
    // Both factor recommenders come from the same tables: the counts are set, not added.
    let (mut missing_items, mut missing_users) = (0, 0);
    let mut item_ids = m.items.iter().map(|&d| ds.item_ids[d as usize].as_str());
    let item_rows = rows(items, &mut item_ids, &mut missing_items);
    let user_rows = match users {
        Some(u) => {
            let mut user_ids = m.users.iter().map(|&d| ds.user_ids[d as usize].as_str());
            rows(u, &mut user_ids, &mut missing_users)
        }
        None => {
            missing_users = m.n_users();
            Array2::zeros((0, k))
        }
    };
    report.items_without_factors = missing_items;
    report.users_without_factors = missing_users;
    let f = Factors {
        users: user_rows,
        items: item_rows,
    };
    let p = AlsParams {
        factors: k,
        regularization: opts.regularization,
        alpha: opts.alpha,
        ..AlsParams::default()
    };
    let weights = vec![1.0; ds.event_types.len()];
    let kind = opts.embedding;
    RecommenderModel::Factors(factor_model(
        &f,
        &p,
        weights,
        kind,
        opts.user_embedding.unwrap_or(kind),
    ))
}

/// `sims` from the neighbour table: per catalogue item its entries, strongest first (ties:
/// catalogue order), at most `max` of them; serving as `sims`' defaults (history decay, and the
/// session popularity prior when the model has popularity counts).
fn neighbors(
    ds: &Dataset,
    m: &TrainingMatrix,
    table: &[Neighbor],
    max: usize,
    has_popularity: bool,
) -> NeighborModel {
    let index = catalogue_index(ds, m);
    let mut lists: Vec<Vec<(u32, f32)>> = vec![Vec::new(); m.n_items()];
    for e in table {
        if let (Some(&i), Some(&j)) = (index.get(e.item.as_str()), index.get(e.neighbor.as_str())) {
            lists[i as usize].push((j, e.weight));
        }
    }
    let defaults = SimsParams::default();
    let mut nm = NeighborModel {
        offsets: vec![0],
        history_decay: defaults.history_decay,
        session_popularity: if has_popularity {
            defaults.session_popularity
        } else {
            0.0
        },
        ..NeighborModel::default()
    };
    for mut list in lists {
        list.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        list.truncate(max);
        for (j, w) in list {
            nm.neighbors.push(j);
            nm.weights.push(w);
        }
        nm.offsets
            .push(u32::try_from(nm.neighbors.len()).unwrap_or(u32::MAX));
    }
    nm
}

/// Counts per catalogue item (rounded; 0 where the table has none).
fn item_counts(ds: &Dataset, m: &TrainingMatrix, table: &[Count]) -> Vec<u32> {
    let index = catalogue_index(ds, m);
    let mut out = vec![0u32; m.n_items()];
    for c in table {
        if let Some(&i) = index.get(c.item.as_str()) {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let n = c.count.round().clamp(0.0, f64::from(u32::MAX)) as u32;
            out[i as usize] = n;
        }
    }
    out
}
