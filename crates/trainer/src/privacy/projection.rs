//! The public projection of a private model: the same item-side data, and no per-person
//! record.
//!
//! * the users section keeps its columns' names and kinds (so `putUsers` records and
//!   `CurrentUser` filters still work for the caller's own record) and loses every id and
//!   value;
//! * the histories are emptied;
//! * every factor recommender keeps its item factors and loses its user factors (0 rows);
//! * a neighbour recommender with session neighbours, which read the histories, gets session
//!   pairs instead ([`super::session_pairs`]), read over a session window
//!   [`PAIRS_WINDOW_FACTOR`] times wider;
//! * the header says `public`.
//!
//! The item-side aggregates already meet the k-anonymity floor when the model was trained with
//! it (`meta.min_users` ≥ k), so they are kept byte for byte. An older model (trained before
//! the floor, or with a lower one) has its support recounted from the histories it holds:
//! counting only those can find fewer users than the training data had, never more, so the
//! result errs on the safe side. Context values cannot be recounted (the histories hold no
//! context), so such a model must be retrained.

use edgerec_core::{
    Column, ColumnValues, Embedding, Histories, Model, Profile, RecommenderModel, UserTable,
};

use super::floor;
use super::session_pairs::{self, PairParams};
use super::support::Support;

/// Why a model has no public projection.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(
        "the model was trained with aggregates backed by at least {stated} users, fewer than the {wanted} asked for, and it holds no histories to count them again from: retrain it with publicMinUsers = {wanted}"
    )]
    NoHistories { stated: u32, wanted: u32 },
    #[error(
        "recommender {name:?} learned context values before the k-anonymity floor existed (or with a lower one), and the histories hold no context to count their users: retrain the model with this version"
    )]
    Context { name: String },
    #[error(
        "the model is already public, with aggregates backed by at least {stated} users; {wanted} were asked for"
    )]
    AlreadyPublic { stated: u32, wanted: u32 },
}

/// Most cells stored for one pair of items.
pub const MAX_CELLS_PER_PAIR: usize = 16;

/// Most neighbouring items stored per item in the session pairs. Chosen on the evaluation
/// protocol's validation split of five datasets (the public profile, 100 against 200): every
/// split A and split B NDCG@10 within 1 % (the largest drop −0.9 %), the file 30 % smaller on
/// ml-100k and 16 % on ml-latest-small; 50 cost up to 2.7 % (a split B cell of the 5-core
/// grocery reviews).
pub const MAX_PAIR_NEIGHBORS: usize = 100;

/// How many times wider the session window is when session neighbours read session pairs.
/// A cell's day is the mean of at least `k` users' days, so it places the pair in time more
/// coarsely than one user's own day does; reading it over a wider window keeps what it says
/// about the pair's recency without counting that mean as exact. Chosen on the evaluation
/// protocol's validation split (ml-latest-small, cold sessions of one event: NDCG@10 0.2367
/// at 1×, 0.2405 at 2×, the private model's session neighbours 0.2419).
pub const PAIRS_WINDOW_FACTOR: f32 = 2.0;

/// The public projection of `model`, every aggregate backed by at least `min_users` users.
pub fn public(model: &Model, min_users: u32) -> Result<Model, ProjectionError> {
    let k = min_users.max(1);
    let stated = model.meta.min_users.max(1);
    if model.meta.profile == Profile::Public {
        return if stated >= k {
            Ok(model.clone())
        } else {
            Err(ProjectionError::AlreadyPublic { stated, wanted: k })
        };
    }
    let mut out = model.clone();
    if stated < k {
        recount(&mut out, k)?;
        out.meta.min_users = k;
    }
    let items = model.catalog.len();
    for r in &mut out.recommenders {
        match &mut r.model {
            RecommenderModel::Neighbors(nm) => {
                let Some(sn) = nm.session_neighbors.as_deref() else {
                    continue;
                };
                nm.session_pairs = session_pairs::build(
                    &model.histories,
                    items,
                    &PairParams {
                        position_decay: sn.position_decay,
                        min_users: out.meta.min_users.max(k),
                        max_cells: MAX_CELLS_PER_PAIR,
                        max_neighbors: MAX_PAIR_NEIGHBORS,
                    },
                )
                .map(Box::new);
                if let Some(sn) = nm.session_neighbors.as_mut() {
                    sn.window_days *= PAIRS_WINDOW_FACTOR;
                }
                if nm.session_pairs.is_none() {
                    // Nothing to stand in for the histories: the settings alone would do nothing.
                    nm.session_neighbors = None;
                }
            }
            RecommenderModel::Factors(f) => f.user_factors = empty_like(&f.item_factors),
            RecommenderModel::Popularity(_) | RecommenderModel::Blend(_) => {}
        }
    }
    out.users = UserTable {
        user_ids: edgerec_core::IdList::default(),
        columns: model.users.columns.iter().map(schema_only).collect(),
    };
    out.histories = Histories::default();
    out.meta.profile = Profile::Public;
    Ok(out)
}

/// Applies the floor of `k` users to every aggregate, counting support in the histories.
fn recount(m: &mut Model, k: u32) -> Result<(), ProjectionError> {
    if m.histories.items.is_empty() {
        return Err(ProjectionError::NoHistories {
            stated: m.meta.min_users,
            wanted: k,
        });
    }
    let items = m.catalog.len();
    floor::counts(&mut m.popularity, k);
    for r in &mut m.recommenders {
        if let RecommenderModel::Factors(f) = &r.model
            && f.context.is_some()
        {
            return Err(ProjectionError::Context {
                name: r.name.clone(),
            });
        }
        let code = r.event_type.as_deref().and_then(|t| {
            m.catalog
                .event_types
                .iter()
                .position(|e| e.eq_ignore_ascii_case(t))
        });
        let support = Support::new(&m.histories, items, |t| {
            code.is_none_or(|c| usize::from(t) == c)
        });
        floor::apply(&mut r.model, &support, k);
    }
    Ok(())
}

/// A factor matrix of no rows, stored like `like`.
fn empty_like(like: &Embedding) -> Embedding {
    match like {
        Embedding::F32 { dim, .. } => Embedding::F32 {
            rows: 0,
            dim: *dim,
            data: Vec::new(),
        },
        Embedding::Int8 { dim, .. } => Embedding::Int8 {
            rows: 0,
            dim: *dim,
            data: Vec::new(),
            scales: Vec::new(),
        },
    }
}

/// A column's name and kind, with no rows.
fn schema_only(c: &Column) -> Column {
    Column {
        name: c.name.clone(),
        kind: c.kind,
        values: match &c.values {
            ColumnValues::Categorical { .. } => ColumnValues::Categorical {
                dictionary: Vec::new(),
                offsets: vec![0],
                codes: Vec::new(),
            },
            ColumnValues::Numeric(_) => ColumnValues::Numeric(Vec::new()),
            ColumnValues::Textual(_) => ColumnValues::Textual(Vec::new()),
        },
    }
}
