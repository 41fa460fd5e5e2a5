//! One known user's own data, cut from a private model: exactly what the engine reads to answer
//! for that user, so that a model without anyone's personal data (the public profile) plus this
//! slice answers that user as the private model does.
//!
//! ```text
//! private model ──Model::user_slice(id)──► UserSlice ──format::slice::encode──► bytes ─┐
//!                                                                                     │ (only to that user)
//! public model ──Engine──► Engine::load_user_profile(bytes) ◄─────────────────────────┘
//!                          the user is a known user of this engine from then on
//! ```
//!
//! A known user's answers read: their row of every factor recommender (the query vector), their
//! stored history (fold-in together with live events, neighbour scoring, exclusion of what they
//! interacted with, `Interactions` filters) and their metadata (`CurrentUser` filters). The slice
//! carries exactly these. Item-side data (catalogue, item factors, neighbour lists, popularity)
//! is the model's, which is why a slice is tied to the model it was cut from by [`model_id`].

use crate::catalog::{Column, ColumnKind, ColumnValues};
use crate::embedding::Embedding;
use crate::error::SliceError;
use crate::idindex::IdIndex;
use crate::model::{Histories, Model, RecommenderModel};
use crate::records::{self, Cell, Record};

/// One user's slice of a model.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSlice {
    /// [`model_id`] of the model the slice was cut from; loading needs the same model.
    pub model_id: u64,
    pub user_id: String,
    /// Every user metadata column of the model with this user's value (`None` = null).
    pub columns: Vec<SliceColumn>,
    /// The user's stored interactions, oldest first.
    pub history: SliceHistory,
    /// The user's row of each factor recommender that has user rows.
    pub factors: Vec<SliceFactor>,
}

/// A user metadata column and the user's value in it.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceColumn {
    /// The column's name as the model spells it (`MEMBERSHIP`).
    pub name: String,
    pub kind: ColumnKind,
    pub value: Option<Cell>,
}

/// A user's interactions as the model's histories hold them, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SliceHistory {
    /// Catalogue indexes.
    pub items: Vec<u32>,
    /// Event-type codes (indexes into the catalogue's event types).
    pub event_types: Vec<u16>,
    /// Epoch seconds.
    pub timestamps: Vec<i64>,
}

/// A user's row of one factor recommender, stored as the model stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceFactor {
    /// The recommender's name.
    pub recommender: String,
    pub row: FactorRow,
}

/// One embedding row: f32 values, or int8 values with their scale (`value = q · scale`).
#[derive(Debug, Clone, PartialEq)]
pub enum FactorRow {
    F32(Vec<f32>),
    Int8 { values: Vec<i8>, scale: f32 },
}

impl FactorRow {
    /// The row's length.
    #[must_use]
    pub fn dim(&self) -> usize {
        match self {
            FactorRow::F32(v) => v.len(),
            FactorRow::Int8 { values, .. } => values.len(),
        }
    }

    /// Row `r` of `e` as stored (`None` when out of range).
    #[must_use]
    pub fn of(e: &Embedding, r: usize) -> Option<FactorRow> {
        let d = e.dim();
        let span = r.checked_mul(d)?..r.checked_add(1)?.checked_mul(d)?;
        match e {
            Embedding::F32 { data, .. } => data.get(span).map(|v| FactorRow::F32(v.to_vec())),
            Embedding::Int8 { data, scales, .. } => Some(FactorRow::Int8 {
                values: data.get(span)?.to_vec(),
                scale: *scales.get(r)?,
            }),
        }
    }
}

/// A fingerprint of the model data a known user's answers depend on besides their own slice:
/// the model's identity (version, training time, data time, dataset), the catalogue's size and
/// event types, and per recommender its name, recipe, serving options and the shape and a sample
/// of its item-side data (all of a factor recommender's `YᵀY`, which sums every item factor).
/// A private model and its public projection have the same id; another training run or
/// catalogue has another. FNV-1a over the fields in a fixed order (see `docs/format.md`).
#[must_use]
pub fn model_id(m: &Model) -> u64 {
    let mut h = Fnv::new();
    h.bytes(b"edgerec model id 1");
    h.u64(m.meta.version);
    h.i64(m.meta.created_at);
    h.i64(m.meta.data_time);
    h.str(&m.meta.dataset);
    h.u64(m.catalog.len() as u64);
    h.u64(m.catalog.event_types.len() as u64);
    for t in &m.catalog.event_types {
        h.str(t);
    }
    h.sample(&m.popularity.counts, |h, &c| h.u64(u64::from(c)));
    h.u64(m.recommenders.len() as u64);
    for r in &m.recommenders {
        h.str(&r.name);
        h.str(r.recipe.name());
        h.str(r.event_type.as_deref().unwrap_or(""));
        h.u64(u64::from(r.serving.exclude_interacted));
        h.u64(r.serving.exclude_event_types.len() as u64);
        for t in &r.serving.exclude_event_types {
            h.str(t);
        }
        h.u64(u64::from(r.serving.max_history));
        match &r.model {
            RecommenderModel::Popularity(p) => {
                h.u64(0);
                h.sample(&p.counts, |h, &c| h.u64(u64::from(c)));
            }
            RecommenderModel::Neighbors(n) => {
                h.u64(1);
                h.u64(n.offsets.len() as u64);
                h.sample(&n.neighbors, |h, &j| h.u64(u64::from(j)));
                h.sample(&n.weights, |h, w| h.u64(u64::from(w.to_bits())));
                h.u64(u64::from(n.history_decay.to_bits()));
            }
            RecommenderModel::Factors(f) => {
                h.u64(2);
                h.u64(f.item_factors.rows() as u64);
                h.u64(f.dim() as u64);
                for x in &f.gram {
                    h.u64(u64::from(x.to_bits()));
                }
                h.u64(u64::from(f.regularization.to_bits()));
                h.u64(u64::from(f.alpha.to_bits()));
            }
        }
    }
    h.0
}

/// Streaming FNV-1a 64.
struct Fnv(u64);

/// Elements of a long array that [`model_id`] reads: evenly spaced, first and last included.
const SAMPLE: usize = 64;

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }

    #[allow(clippy::cast_sign_loss)]
    fn i64(&mut self, v: i64) {
        self.u64(v as u64);
    }

    fn str(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.bytes(s.as_bytes());
    }

    /// The length of `v` and up to [`SAMPLE`] evenly spaced elements.
    fn sample<T>(&mut self, v: &[T], each: impl Fn(&mut Self, &T)) {
        self.u64(v.len() as u64);
        let n = v.len();
        if n == 0 {
            return;
        }
        let k = n.min(SAMPLE);
        for s in 0..k {
            // s · (n − 1) / (k − 1): 0 and n − 1 are always read.
            let i = if k == 1 { 0 } else { s * (n - 1) / (k - 1) };
            if let Some(x) = v.get(i) {
                each(self, x);
            }
        }
    }
}

impl Model {
    /// The slice of the known user `user_id` (`None` when the model has no such user). A
    /// linear search; [`crate::Engine::user_slice`] looks the user up in its index.
    #[must_use]
    pub fn user_slice(&self, user_id: &str) -> Option<UserSlice> {
        let row = self.users.user_ids.iter().position(|u| u == user_id)?;
        Some(UserSlice::of_row(self, row, model_id(self)))
    }
}

impl UserSlice {
    /// The slice of user row `row` of `model`, whose [`model_id`] is `id`.
    #[must_use]
    pub fn of_row(model: &Model, row: usize, id: u64) -> UserSlice {
        let columns = model
            .users
            .columns
            .iter()
            .map(|c| SliceColumn {
                name: c.name.clone(),
                kind: c.kind,
                value: cell(c, row),
            })
            .collect();
        let h = &model.histories;
        let range = h.range(row);
        let history = SliceHistory {
            items: h.items.get(range.clone()).unwrap_or_default().to_vec(),
            event_types: h
                .event_types
                .get(range.clone())
                .unwrap_or_default()
                .to_vec(),
            timestamps: range.filter_map(|k| h.timestamps.get(k)).collect(),
        };
        let factors = model
            .recommenders
            .iter()
            .filter_map(|r| match &r.model {
                RecommenderModel::Factors(f) => {
                    FactorRow::of(&f.user_factors, row).map(|row| SliceFactor {
                        recommender: r.name.clone(),
                        row,
                    })
                }
                _ => None,
            })
            .collect();
        UserSlice {
            model_id: id,
            user_id: model.users.user_ids.get(row).unwrap_or_default().to_owned(),
            columns,
            history,
            factors,
        }
    }

    /// Checks that the slice fits `model` (whose id the caller has compared): its items and
    /// event types are in the catalogue, its factor rows belong to factor recommenders of the
    /// same dimension, and its columns have the kinds of the model's columns of those names.
    pub fn check_fits(&self, model: &Model) -> Result<(), SliceError> {
        let bad = |m: String| Err(SliceError::Inconsistent(m));
        let items = model.catalog.len();
        if let Some(i) = self.history.items.iter().find(|&&i| i as usize >= items) {
            return bad(format!(
                "history item {i} is outside the {items}-item catalogue"
            ));
        }
        let types = model.catalog.event_types.len();
        if let Some(e) = self
            .history
            .event_types
            .iter()
            .find(|&&e| usize::from(e) >= types)
        {
            return bad(format!(
                "history event type {e} is outside the {types} event types"
            ));
        }
        for f in &self.factors {
            match model.recommender(&f.recommender).map(|r| &r.model) {
                Some(RecommenderModel::Factors(fm)) if fm.dim() == f.row.dim() => {}
                Some(RecommenderModel::Factors(fm)) => {
                    return bad(format!(
                        "the row for {:?} has {} values, the recommender's factors {}",
                        f.recommender,
                        f.row.dim(),
                        fm.dim()
                    ));
                }
                _ => {
                    return bad(format!(
                        "the model has no factor recommender {:?}",
                        f.recommender
                    ));
                }
            }
        }
        for c in &self.columns {
            if let Some(have) = column(&model.users.columns, &c.name)
                && have.kind != c.kind
            {
                return bad(format!(
                    "user column {:?} is {:?} in the model but {:?} in the profile",
                    c.name, have.kind, c.kind
                ));
            }
        }
        Ok(())
    }

    /// Makes the slice's user a known user of `model`: adds (or replaces) their id and
    /// metadata, history and factor rows. Returns the user's row. The caller checked the slice
    /// with [`UserSlice::check_fits`]; `index` is the model's user-id index.
    pub(crate) fn apply(&self, model: &mut Model, index: &mut IdIndex) -> u32 {
        let users = model.users.user_ids.len();
        for c in &self.columns {
            if column(&model.users.columns, &c.name).is_none() {
                model
                    .users
                    .columns
                    .push(null_column(&c.name, c.kind, users));
            }
        }
        let cells = model
            .users
            .columns
            .iter()
            .map(|have| {
                self.columns
                    .iter()
                    .find(|c| c.name.eq_ignore_ascii_case(&have.name))
                    .and_then(|c| c.value.clone())
            })
            .collect();
        records::apply_users(
            model,
            index,
            vec![Record {
                id: self.user_id.clone(),
                cells,
                creation_time: None,
            }],
        );
        let row = index
            .get(&model.users.user_ids, &self.user_id)
            .unwrap_or_default();
        set_history(&mut model.histories, row as usize, &self.history);
        for r in &mut model.recommenders {
            if let RecommenderModel::Factors(f) = &mut r.model {
                let mine = self
                    .factors
                    .iter()
                    .find(|s| s.recommender == r.name)
                    .map(|s| &s.row);
                set_user_row(&mut f.user_factors, row as usize, mine);
            }
        }
        row
    }
}

/// The model's column named `name` (case-insensitive, as filters look columns up).
fn column<'c>(columns: &'c [Column], name: &str) -> Option<&'c Column> {
    columns.iter().find(|c| c.name.eq_ignore_ascii_case(name))
}

/// The value of `row` in `c` (`None` for null: no categorical values, `NaN`, empty text).
fn cell(c: &Column, row: usize) -> Option<Cell> {
    match &c.values {
        ColumnValues::Categorical { .. } => {
            let v: Vec<String> = c.categorical_values(row).map(str::to_owned).collect();
            (!v.is_empty()).then_some(Cell::Categorical(v))
        }
        ColumnValues::Numeric(_) => c.numeric_value(row).map(Cell::Numeric),
        ColumnValues::Textual(v) => v
            .get(row)
            .filter(|s| !s.is_empty())
            .map(|s| Cell::Text(s.clone())),
    }
}

/// A column of `rows` nulls.
fn null_column(name: &str, kind: ColumnKind, rows: usize) -> Column {
    let values = match kind {
        ColumnKind::Categorical | ColumnKind::Boolean => ColumnValues::Categorical {
            dictionary: Vec::new(),
            offsets: vec![0; rows + 1],
            codes: Vec::new(),
        },
        ColumnKind::Numeric => ColumnValues::Numeric(vec![f64::NAN; rows]),
        ColumnKind::Textual => ColumnValues::Textual(vec![String::new(); rows]),
    };
    Column {
        name: name.to_owned(),
        kind,
        values,
    }
}

/// Sets user `row`'s history to `s`: users between the last one held and `row` get empty
/// histories; a user already held has theirs replaced.
fn set_history(h: &mut Histories, row: usize, s: &SliceHistory) {
    if h.offsets.is_empty() {
        h.offsets.push(0);
    }
    let last = |h: &Histories| h.offsets.last().copied().unwrap_or(0);
    while h.users() < row {
        let end = last(h);
        h.offsets.push(end);
    }
    let added = u32::try_from(s.items.len()).unwrap_or(u32::MAX);
    if h.users() == row {
        h.items.extend_from_slice(&s.items);
        h.event_types.extend_from_slice(&s.event_types);
        for &t in &s.timestamps {
            h.timestamps.push(t);
        }
        let end = last(h).saturating_add(added);
        h.offsets.push(end);
    } else {
        let range = h.range(row);
        let removed = u32::try_from(range.len()).unwrap_or(u32::MAX);
        h.items.splice(range.clone(), s.items.iter().copied());
        h.event_types
            .splice(range.clone(), s.event_types.iter().copied());
        let mut times = h.timestamps.to_vec();
        times.splice(range, s.timestamps.iter().copied());
        h.timestamps = times.into_iter().collect();
        for o in h.offsets.iter_mut().skip(row + 1) {
            *o = o.saturating_sub(removed).saturating_add(added);
        }
    }
    // The derived item → users index no longer matches.
    h.item_users = crate::session_neighbors::ItemUsersCache::default();
}

/// Sets user `r`'s row of `e` to `row`, or to zeros (which scoring treats as no row) when the
/// slice has none. Rows between the last one held and `r` are zeros. Values are copied as
/// stored, so scores equal the private model's: an int8 row joins f32 rows dequantised (the
/// same `q · scale` scoring computes) and f32 rows turn int8 factors into f32.
fn set_user_row(e: &mut Embedding, r: usize, row: Option<&FactorRow>) {
    let Some(row) = row else {
        if r < e.rows() {
            write_row(e, r, &FactorRow::F32(vec![0.0; e.dim()]));
        }
        return;
    };
    let dim = e.dim();
    if e.rows() == 0 {
        *e = match row {
            FactorRow::F32(_) => Embedding::from_f32(0, dim, Vec::new()),
            FactorRow::Int8 { .. } => Embedding::Int8 {
                rows: 0,
                dim: u32::try_from(dim).unwrap_or(u32::MAX),
                data: Vec::new(),
                scales: Vec::new(),
            },
        };
    } else if matches!((&*e, row), (Embedding::Int8 { .. }, FactorRow::F32(_))) {
        let rows = e.rows();
        let data = (0..rows).flat_map(|i| e.row(i)).collect();
        *e = Embedding::from_f32(rows, dim, data);
    }
    while e.rows() < r {
        records::push_zero_row(e);
    }
    if e.rows() == r {
        records::push_zero_row(e);
    }
    write_row(e, r, row);
}

/// Overwrites row `r` (which exists) of `e`.
fn write_row(e: &mut Embedding, r: usize, row: &FactorRow) {
    let d = e.dim();
    let span = r * d..(r + 1) * d;
    match (e, row) {
        (Embedding::F32 { data, .. }, FactorRow::F32(v)) => {
            if let Some(dst) = data.get_mut(span) {
                dst.iter_mut().zip(v).for_each(|(o, &x)| *o = x);
            }
        }
        (Embedding::F32 { data, .. }, FactorRow::Int8 { values, scale }) => {
            if let Some(dst) = data.get_mut(span) {
                for (o, &q) in dst.iter_mut().zip(values) {
                    *o = f32::from(q) * scale;
                }
            }
        }
        (Embedding::Int8 { data, scales, .. }, FactorRow::Int8 { values, scale }) => {
            if let (Some(dst), Some(s)) = (data.get_mut(span), scales.get_mut(r)) {
                dst.iter_mut().zip(values).for_each(|(o, &q)| *o = q);
                *s = *scale;
            }
        }
        // Only zeros reach an int8 matrix as f32 (see `set_user_row`).
        (Embedding::Int8 { data, scales, .. }, FactorRow::F32(_)) => {
            if let (Some(dst), Some(s)) = (data.get_mut(span), scales.get_mut(r)) {
                dst.fill(0);
                *s = 0.0;
            }
        }
    }
}
