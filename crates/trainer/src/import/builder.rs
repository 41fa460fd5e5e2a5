//! Accumulates what the readers parse into a [`Dataset`]: ids interned in first-seen order,
//! interactions as parallel columns, metadata rows turned into core [`Column`]s at the end.

use std::collections::HashMap;
use std::path::Path;

use edgerec_core::{Column, ColumnKind, ColumnValues};
use indexmap::IndexSet;

use super::delimited::{Layout, Table};
use super::error::{ImportError, RowError};
use super::report::FileReport;
use crate::dataset::{ContextColumn, Dataset, Interactions};
use crate::progress::{Progress, SILENT};

/// Maps strings (external ids, categorical and context values) to dense indices in
/// first-seen order. Each string is stored once: the set is both the lookup and the
/// index-to-string table (at 50 million interactions the user ids alone are about 2 million
/// strings).
#[derive(Debug, Default)]
pub(crate) struct Interner {
    ids: IndexSet<String>,
}

impl Interner {
    pub fn intern(&mut self, id: &str, what: &'static str) -> Result<u32, ImportError> {
        if let Some(i) = self.ids.get_index_of(id) {
            return u32::try_from(i).map_err(|_| too_many(what));
        }
        let i = u32::try_from(self.ids.len())
            .ok()
            .filter(|&i| i < u32::MAX)
            .ok_or_else(|| too_many(what))?;
        self.ids.insert(id.to_owned());
        Ok(i)
    }

    /// [`Interner::intern`] for a value of a column, whose codes saturate instead of failing.
    pub fn code(&mut self, v: &str) -> u32 {
        self.intern(v, "values").unwrap_or(u32::MAX - 1)
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// The ids, by index.
    pub fn into_ids(self) -> Vec<String> {
        self.ids.into_iter().collect()
    }
}

fn too_many(what: &'static str) -> ImportError {
    ImportError::TooMany {
        what,
        limit: u64::from(u32::MAX - 1),
    }
}

/// One parsed metadata value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Null,
    Number(f64),
    Text(String),
    /// Categorical values (one or more); booleans are stored as `["true"]` / `["false"]`.
    Labels(Vec<String>),
}

impl Cell {
    /// `text`, or null when it is empty.
    pub fn text(text: String) -> Self {
        if text.is_empty() {
            Self::Null
        } else {
            Self::Text(text)
        }
    }

    /// `labels`, or null when there are none.
    pub fn labels(labels: Vec<String>) -> Self {
        if labels.is_empty() {
            Self::Null
        } else {
            Self::Labels(labels)
        }
    }
}

/// Metadata rows of the items or users file, keyed by entity index.
#[derive(Debug, Default)]
pub(crate) struct MetaTable {
    /// Column names (upper-case) and kinds.
    pub columns: Vec<(String, ColumnKind)>,
    /// Row position per entity index.
    index: HashMap<u32, usize>,
    rows: Vec<Vec<Cell>>,
}

impl MetaTable {
    pub fn new(columns: Vec<(String, ColumnKind)>) -> Self {
        Self {
            columns,
            ..Self::default()
        }
    }

    /// Whether `entity` already has a row.
    pub fn contains(&self, entity: u32) -> bool {
        self.index.contains_key(&entity)
    }

    /// Add a row (the caller checks duplicates with [`Self::contains`]).
    pub fn push(&mut self, entity: u32, cells: Vec<Cell>) {
        self.index.insert(entity, self.rows.len());
        self.rows.push(cells);
    }

    /// Add a column whose cells are null for every existing row.
    pub fn add_column(&mut self, name: &str, kind: ColumnKind) -> usize {
        self.columns.push((name.to_owned(), kind));
        for r in &mut self.rows {
            r.push(Cell::Null);
        }
        self.columns.len() - 1
    }

    /// Set one cell, adding a row of nulls for `entity` if needed.
    pub fn set(&mut self, entity: u32, column: usize, cell: Cell) {
        let pos = match self.index.get(&entity) {
            Some(&p) => p,
            None => {
                self.push(entity, vec![Cell::Null; self.columns.len()]);
                self.rows.len() - 1
            }
        };
        if let Some(c) = self.rows[pos].get_mut(column) {
            *c = cell;
        }
    }

    /// One core column per metadata column, with a row per entity index `0..n` (nulls for
    /// entities without a row). Categorical dictionaries are in first-seen order over entity
    /// indices, so they depend only on the data, not on the file's row order.
    pub fn into_columns(self, n: usize) -> Vec<Column> {
        let order: Vec<Option<usize>> = (0..n)
            .map(|e| {
                u32::try_from(e)
                    .ok()
                    .and_then(|e| self.index.get(&e).copied())
            })
            .collect();
        let cell = |e: usize, c: usize| -> &Cell {
            order[e]
                .and_then(|p| self.rows.get(p))
                .and_then(|r| r.get(c))
                .unwrap_or(&Cell::Null)
        };
        let mut out = Vec::with_capacity(self.columns.len());
        for (c, (name, kind)) in self.columns.iter().enumerate() {
            let values = match kind {
                ColumnKind::Numeric => ColumnValues::Numeric(
                    (0..n)
                        .map(|e| match cell(e, c) {
                            Cell::Number(x) => *x,
                            _ => f64::NAN,
                        })
                        .collect(),
                ),
                ColumnKind::Textual => ColumnValues::Textual(
                    (0..n)
                        .map(|e| match cell(e, c) {
                            Cell::Text(t) => t.clone(),
                            _ => String::new(),
                        })
                        .collect(),
                ),
                ColumnKind::Categorical | ColumnKind::Boolean => {
                    let mut dict = Interner::default();
                    let mut offsets = Vec::with_capacity(n + 1);
                    let mut codes = Vec::new();
                    offsets.push(0u32);
                    for e in 0..n {
                        if let Cell::Labels(vs) = cell(e, c) {
                            for v in vs {
                                let code = dict.code(v);
                                if !row_has(&codes, &offsets, code) {
                                    codes.push(code);
                                }
                            }
                        }
                        offsets.push(u32::try_from(codes.len()).unwrap_or(u32::MAX));
                    }
                    ColumnValues::Categorical {
                        dictionary: dict.into_ids(),
                        offsets,
                        codes,
                    }
                }
            };
            out.push(Column {
                name: name.clone(),
                kind: *kind,
                values,
            });
        }
        out
    }
}

/// Whether the row being built (codes after the last offset) already holds `code`.
fn row_has(codes: &[u32], offsets: &[u32], code: u32) -> bool {
    let start = offsets.last().map_or(0, |&o| o as usize);
    codes.get(start..).is_some_and(|r| r.contains(&code))
}

/// One interaction as parsed, borrowed from the reader's row.
#[derive(Debug, Default)]
pub(crate) struct Event<'a> {
    pub user: &'a str,
    pub item: &'a str,
    pub timestamp: i64,
    /// Event type as given (compared case-insensitively).
    pub event_type: &'a str,
    /// NaN when absent.
    pub value: f32,
    pub impression: Option<Vec<&'a str>>,
    pub recommendation_id: Option<&'a str>,
    /// One value per context column (empty = null).
    pub context: Vec<&'a str>,
}

/// Import-wide state: the growing dataset, malformed-row policy and collected errors; reading
/// each file is a phase of the import's progress.
#[derive(Default)]
pub(crate) struct Builder<'p> {
    progress: Option<&'p dyn Progress>,
    pub users: Interner,
    pub items: Interner,
    event_types: Vec<String>,
    event_index: HashMap<String, u16>,
    pub interactions: Interactions,
    context: Vec<(ContextColumn, Interner)>,
    pub item_meta: Option<MetaTable>,
    pub user_meta: Option<MetaTable>,
    pub item_creation: HashMap<u32, i64>,
    pub min_event_value: Option<f32>,
    /// First malformed rows over all files, and their total.
    pub errors: Vec<RowError>,
    pub error_total: usize,
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("interactions", &self.interactions.len())
            .field("error_total", &self.error_total)
            .finish_non_exhaustive()
    }
}

impl<'p> Builder<'p> {
    pub fn new(min_event_value: Option<f32>) -> Self {
        Self {
            min_event_value,
            ..Self::default()
        }
    }

    /// [`Builder::new`] reporting each file read to `progress`.
    pub fn reporting(min_event_value: Option<f32>, progress: &'p dyn Progress) -> Self {
        Self {
            progress: Some(progress),
            ..Self::new(min_event_value)
        }
    }

    /// Opens a file of the import (a phase of the import's progress).
    pub fn open(&self, path: &Path, layout: Layout) -> Result<Table<'p>, ImportError> {
        Table::open_reporting(path, layout, self.progress.unwrap_or(SILENT))
    }

    /// Record a dropped row in `file`; malformed rows are also collected as errors.
    pub fn reject(&mut self, file: &mut FileReport, err: RowError) {
        if err.reason.is_malformed() {
            self.error_total += 1;
            if self.errors.len() < super::error::MAX_LISTED_ERRORS {
                self.errors.push(err.clone());
            }
        }
        file.record_drop(err);
    }

    /// Declare the context columns of the interactions (before the first event).
    pub fn set_context_columns(&mut self, names: &[String]) {
        self.context = names
            .iter()
            .map(|n| {
                (
                    ContextColumn {
                        name: n.clone(),
                        ..ContextColumn::default()
                    },
                    Interner::default(),
                )
            })
            .collect();
    }

    /// Adds a context column after the first events (a file read later has it): its values
    /// are null for the interactions so far. Returns its index.
    pub fn add_context_column(&mut self, name: &str) -> usize {
        let column = ContextColumn {
            name: name.to_owned(),
            codes: vec![u32::MAX; self.interactions.len()],
            ..ContextColumn::default()
        };
        self.context.push((column, Interner::default()));
        self.context.len() - 1
    }

    /// The context columns declared so far.
    pub fn context_names(&self) -> impl Iterator<Item = &str> {
        self.context.iter().map(|(c, _)| c.name.as_str())
    }

    /// The progress the import reports to.
    pub fn progress(&self) -> &'p dyn Progress {
        self.progress.unwrap_or(SILENT)
    }

    /// Declare that the interactions have impressions / recommendation ids (the interactions
    /// read before, from files without them, have none).
    pub fn enable_optional(&mut self, impression: bool, recommendation_id: bool) {
        let n = self.interactions.len();
        if impression && self.interactions.impression.is_none() {
            self.interactions.impression = Some(vec![Vec::new(); n]);
        }
        if recommendation_id && self.interactions.recommendation_id.is_none() {
            self.interactions.recommendation_id = Some(vec![None; n]);
        }
    }

    fn event_code(&mut self, name: &str) -> Result<u16, ImportError> {
        let key = name.to_lowercase();
        if let Some(&c) = self.event_index.get(&key) {
            return Ok(c);
        }
        let c = u16::try_from(self.event_types.len()).map_err(|_| ImportError::TooMany {
            what: "event types",
            limit: u64::from(u16::MAX) + 1,
        })?;
        self.event_index.insert(key.clone(), c);
        self.event_types.push(key);
        Ok(c)
    }

    /// Append one interaction (already validated).
    pub fn push(&mut self, e: &Event<'_>) -> Result<(), ImportError> {
        let user = self.users.intern(e.user, "users")?;
        let item = self.items.intern(e.item, "items")?;
        let event_type = self.event_code(e.event_type)?;
        if let Some(list) = &mut self.interactions.impression {
            let mut ids = Vec::with_capacity(e.impression.as_ref().map_or(0, Vec::len));
            for id in e.impression.iter().flatten() {
                ids.push(self.items.intern(id, "items")?);
            }
            list.push(ids);
        }
        if let Some(list) = &mut self.interactions.recommendation_id {
            list.push(
                e.recommendation_id
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned),
            );
        }
        for (i, (col, dict)) in self.context.iter_mut().enumerate() {
            let v = e.context.get(i).copied().unwrap_or("");
            col.codes
                .push(if v.is_empty() { u32::MAX } else { dict.code(v) });
        }
        let x = &mut self.interactions;
        x.user.push(user);
        x.item.push(item);
        x.timestamp.push(e.timestamp);
        x.event_type.push(event_type);
        x.event_value.push(e.value);
        Ok(())
    }

    /// Whether `value` passes the event value threshold (NaN never does when one is set).
    pub fn passes_threshold(&self, value: f32) -> bool {
        self.min_event_value.is_none_or(|t| value >= t)
    }

    /// Why a row with `raw` as its event value fails the threshold.
    pub fn threshold_message(&self, raw: &str) -> String {
        let t = self.min_event_value.unwrap_or(f32::NAN);
        if raw.is_empty() {
            format!("no event value; rows need one when a minimum event value ({t}) is set")
        } else {
            format!("event value {raw} is below the minimum event value {t}")
        }
    }

    /// The finished dataset.
    pub fn finish(mut self, name: &str) -> (Dataset, Vec<String>) {
        let n_items = self.items.len();
        let n_users = self.users.len();
        let item_columns = self
            .item_meta
            .take()
            .map(|m| m.into_columns(n_items))
            .unwrap_or_default();
        let user_columns = self
            .user_meta
            .take()
            .map(|m| m.into_columns(n_users))
            .unwrap_or_default();
        let item_creation = if self.item_creation.is_empty() {
            Vec::new()
        } else {
            (0..n_items)
                .map(|i| {
                    u32::try_from(i)
                        .ok()
                        .and_then(|i| self.item_creation.get(&i).copied())
                })
                .collect()
        };
        let mut interactions = std::mem::take(&mut self.interactions);
        interactions.context = self
            .context
            .into_iter()
            .map(|(mut c, d)| {
                c.dictionary = d.into_ids();
                c
            })
            .collect();
        let ds = Dataset {
            name: name.to_owned(),
            user_ids: self.users.into_ids(),
            item_ids: self.items.into_ids(),
            event_types: self.event_types,
            interactions,
            item_columns,
            item_creation,
            user_columns,
        };
        (ds, self.warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_first_seen() {
        let mut i = Interner::default();
        assert_eq!(i.intern("b", "items").ok(), Some(0));
        assert_eq!(i.intern("a", "items").ok(), Some(1));
        assert_eq!(i.intern("b", "items").ok(), Some(0));
        assert_eq!(i.into_ids(), ["b", "a"]);
    }

    #[test]
    fn meta_columns_follow_entity_order() {
        let mut t = MetaTable::new(vec![
            ("GENRES".into(), ColumnKind::Categorical),
            ("PRICE".into(), ColumnKind::Numeric),
        ]);
        t.push(
            2,
            vec![
                Cell::Labels(vec!["x".into(), "y".into(), "x".into()]),
                Cell::Number(3.0),
            ],
        );
        t.push(0, vec![Cell::Labels(vec!["y".into()]), Cell::Null]);
        let cols = t.into_columns(3);
        assert_eq!(
            cols[0].values,
            ColumnValues::Categorical {
                dictionary: vec!["y".into(), "x".into()],
                offsets: vec![0, 1, 1, 3],
                codes: vec![0, 1, 0],
            }
        );
        assert_eq!(cols[1].numeric_value(2), Some(3.0));
        assert_eq!(cols[1].numeric_value(1), None);
        assert_eq!(cols[0].len(), 3);
    }

    #[test]
    fn events_and_context() {
        let mut b = Builder::new(None);
        b.set_context_columns(&["DEVICE".into()]);
        b.enable_optional(true, false);
        let e = Event {
            user: "u",
            item: "i",
            event_type: "Click",
            value: f32::NAN,
            impression: Some(vec!["j", "i"]),
            context: vec!["mobile"],
            ..Event::default()
        };
        assert!(b.push(&e).is_ok());
        let e2 = Event {
            event_type: "CLICK",
            context: vec![""],
            impression: None,
            ..e
        };
        assert!(b.push(&e2).is_ok());
        let (ds, _) = b.finish("t");
        assert_eq!(ds.event_types, ["click"]);
        assert_eq!(ds.item_ids, ["i", "j"]);
        assert_eq!(ds.interactions.impression, Some(vec![vec![1, 0], vec![]]));
        assert_eq!(ds.interactions.context[0].codes, [0, u32::MAX]);
        assert_eq!(ds.interactions.context[0].dictionary, ["mobile"]);
    }
}
