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

use crate::catalog::{Column, ColumnKind, ColumnValues, UserTable};
use crate::embedding::Embedding;
use crate::error::{SliceError, quoted};
use crate::idindex::{IdIndex, fnv1a};
use crate::model::{Histories, Model, RecommenderModel};
use crate::records::{self, Cell, Record};

/// One user's slice of a model, in the model's own types, each holding this one user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserSlice {
    /// [`model_id`] of the model the slice was cut from; loading needs the same model.
    pub model_id: u64,
    /// The user's id and, for every user metadata column of the model, the user's value (one
    /// row; an empty value is null).
    pub user: UserTable,
    /// The user's stored interactions, oldest first (one user: offsets `[0, n]`).
    pub history: Histories,
    /// The user's row of each factor recommender that has user rows, by recommender name, as
    /// stored (one row each).
    pub factors: Vec<(String, Embedding)>,
}

/// A fingerprint of the model data a known user's answers depend on besides their own slice:
/// the model's identity (version, training time, data time, dataset), the catalogue's size and
/// event types, a sample of the global popularity, and per recommender its name and a sample of
/// its item-side data (popularity counts; neighbour ids and weights; a factor recommender's item
/// count and all of its `YᵀY`, which sums every item factor). A private model and its public
/// projection have the same id; another training run or catalogue has another. Each field is
/// hashed with FNV-1a and folded in, in a fixed order (see `docs/format.md`).
#[must_use]
pub fn model_id(m: &Model) -> u64 {
    let mut h = Fnv(fnv1a(b"edgerec model id 1"));
    h.u64(m.meta.version);
    h.u64(m.meta.created_at.cast_unsigned());
    h.u64(m.meta.data_time.cast_unsigned());
    h.part(m.meta.dataset.as_bytes());
    h.u64(m.catalog.len() as u64);
    for t in &m.catalog.event_types {
        h.part(t.as_bytes());
    }
    let counts = |c: &[u32], i: usize| c.get(i).map_or(0, |&x| u64::from(x));
    h.sample(m.popularity.counts.len(), &|i| {
        counts(&m.popularity.counts, i)
    });
    for r in &m.recommenders {
        h.part(r.name.as_bytes());
        match &r.model {
            RecommenderModel::Popularity(p) => h.sample(p.counts.len(), &|i| counts(&p.counts, i)),
            RecommenderModel::Neighbors(n) => {
                h.sample(n.neighbors.len(), &|i| counts(&n.neighbors, i));
                h.sample(n.weights.len(), &|i| {
                    n.weights.get(i).map_or(0, |w| u64::from(w.to_bits()))
                });
            }
            RecommenderModel::Factors(f) => {
                h.u64(f.item_factors.rows() as u64);
                for x in &f.gram {
                    h.u64(u64::from(x.to_bits()));
                }
            }
            RecommenderModel::Blend(b) => {
                h.u64(u64::from(b.depth));
                for (&p, w) in b.parts.iter().zip(&b.known) {
                    h.u64(u64::from(p));
                    h.u64(u64::from(w.to_bits()));
                }
            }
        }
    }
    h.0
}

/// Fields folded into a hash one at a time: `h = rotl(h ^ fnv1a(field), 17) · φ` (as
/// recommendation ids are derived), so field boundaries count.
struct Fnv(u64);

/// Elements of a long array that [`model_id`] reads: evenly spaced, first and last included.
const SAMPLE: usize = 64;

impl Fnv {
    // Called from many places: one copy of the hash loop, not one per field.
    #[inline(never)]
    fn part(&mut self, b: &[u8]) {
        self.0 = (self.0 ^ fnv1a(b))
            .rotate_left(17)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn u64(&mut self, v: u64) {
        self.part(&v.to_le_bytes());
    }

    /// The length `n` of an array and up to [`SAMPLE`] evenly spaced elements of it.
    fn sample(&mut self, n: usize, at: &dyn Fn(usize) -> u64) {
        self.u64(n as u64);
        let k = n.min(SAMPLE);
        for s in 0..k {
            // s · (n − 1) / (k − 1): 0 and n − 1 are always read.
            self.u64(at(if k == 1 { 0 } else { s * (n - 1) / (k - 1) }));
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

/// Row `r` of `e` as a one-row embedding, stored as `e` stores it.
fn row_of(e: &Embedding, r: usize) -> Option<Embedding> {
    let d = e.dim();
    let span = r.checked_mul(d)?..r.checked_add(1)?.checked_mul(d)?;
    let dim = u32::try_from(d).ok()?;
    Some(match e {
        Embedding::F32 { data, .. } => Embedding::F32 {
            rows: 1,
            dim,
            data: data.get(span)?.to_vec(),
        },
        Embedding::Int8 { data, scales, .. } => Embedding::Int8 {
            rows: 1,
            dim,
            data: data.get(span)?.to_vec(),
            scales: vec![*scales.get(r)?],
        },
    })
}

impl UserSlice {
    /// The slice's user id.
    #[must_use]
    pub fn user_id(&self) -> &str {
        self.user.user_ids.get(0).unwrap_or_default()
    }

    /// The slice of user row `row` of `model`, whose [`model_id`] is `id`.
    #[must_use]
    pub fn of_row(model: &Model, row: usize, id: u64) -> UserSlice {
        let mut user = UserTable::default();
        user.user_ids
            .push(model.users.user_ids.get(row).unwrap_or_default());
        user.columns = model
            .users
            .columns
            .iter()
            .map(|c| {
                let mut one = null_column(&c.name, c.kind, 0);
                records::set_row(&mut one, 0, cell(c, row).as_ref());
                one
            })
            .collect();
        let h = &model.histories;
        let range = h.range(row);
        let history = Histories {
            offsets: vec![0, u32::try_from(range.len()).unwrap_or(u32::MAX)],
            items: h.items.get(range.clone()).unwrap_or_default().to_vec(),
            event_types: h
                .event_types
                .get(range.clone())
                .unwrap_or_default()
                .to_vec(),
            timestamps: range.filter_map(|k| h.timestamps.get(k)).collect(),
            ..Histories::default()
        };
        let factors = model
            .recommenders
            .iter()
            .filter_map(|r| match &r.model {
                RecommenderModel::Factors(f) => {
                    row_of(&f.user_factors, row).map(|e| (r.name.clone(), e))
                }
                _ => None,
            })
            .collect();
        UserSlice {
            model_id: id,
            user,
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
        for (name, e) in &self.factors {
            match model.recommender(name).map(|r| &r.model) {
                Some(RecommenderModel::Factors(fm)) if fm.dim() == e.dim() => {}
                _ => {
                    return bad(format!(
                        "the model has no factor recommender {} of {} dimensions",
                        quoted(name),
                        e.dim()
                    ));
                }
            }
        }
        for c in &self.user.columns {
            if column(&model.users.columns, &c.name).is_some_and(|have| have.kind != c.kind) {
                return bad(format!(
                    "user column {} has another kind in the model",
                    quoted(&c.name)
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
        for c in &self.user.columns {
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
            .map(|have| column(&self.user.columns, &have.name).and_then(|c| cell(c, 0)))
            .collect();
        records::apply_users(
            model,
            index,
            vec![Record {
                id: self.user_id().to_owned(),
                cells,
                creation_time: None,
            }],
        );
        let row = index
            .get(&model.users.user_ids, self.user_id())
            .unwrap_or_default();
        set_history(&mut model.histories, row as usize, &self.history);
        for r in &mut model.recommenders {
            if let RecommenderModel::Factors(f) = &mut r.model {
                let mine = self.factors.iter().find(|(n, _)| *n == r.name);
                set_user_row(&mut f.user_factors, row as usize, mine.map(|(_, e)| e));
            }
        }
        row
    }
}

/// The column named `name` (case-insensitive, as filters look columns up).
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
            offsets: vec![0],
            codes: Vec::new(),
        },
        ColumnKind::Numeric => ColumnValues::Numeric(Vec::new()),
        ColumnKind::Textual => ColumnValues::Textual(Vec::new()),
    };
    let mut c = Column {
        name: name.to_owned(),
        kind,
        values,
    };
    for r in 0..rows {
        records::set_row(&mut c, r, None);
    }
    c
}

/// Sets user `row`'s history to `s`'s (one user), rebuilding the histories: users between the
/// last one held and `row` get empty histories; a user already held has theirs replaced.
fn set_history(h: &mut Histories, row: usize, s: &Histories) {
    let mut out = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    for u in 0..h.users().max(row + 1) {
        let (from, range) = if u == row {
            (s, s.range(0))
        } else {
            (&*h, h.range(u))
        };
        for k in range {
            if let (Some(&i), Some(&e), Some(t)) = (
                from.items.get(k),
                from.event_types.get(k),
                from.timestamps.get(k),
            ) {
                out.items.push(i);
                out.event_types.push(e);
                out.timestamps.push(t);
            }
        }
        out.offsets
            .push(u32::try_from(out.items.len()).unwrap_or(u32::MAX));
    }
    *h = out;
}

/// Sets user `r`'s row of `e` to `row`'s (one row), or to zeros (which scoring treats as no
/// row) when the slice has none. The matrix becomes f32, which holds any stored row exactly:
/// an int8 value becomes the `q · scale` that scoring computes from it, so scores equal the
/// private model's. Rows between the last one held and `r` are zeros.
fn set_user_row(e: &mut Embedding, r: usize, row: Option<&Embedding>) {
    let (rows, dim) = (e.rows(), e.dim());
    if row.is_none() && r >= rows {
        return;
    }
    let mut data: Vec<f32> = match std::mem::replace(e, Embedding::from_f32(0, dim, Vec::new())) {
        Embedding::F32 { data, .. } => data,
        int8 => (0..rows).flat_map(|i| int8.row(i)).collect(),
    };
    let rows = rows.max(r + 1);
    data.resize(rows * dim, 0.0);
    let values = row.map_or_else(|| vec![0.0; dim], |x| x.row(0));
    for (o, v) in data[r * dim..(r + 1) * dim].iter_mut().zip(values) {
        *o = v;
    }
    *e = Embedding::from_f32(rows, dim, data);
}
