//! The trainer's in-memory dataset: interactions plus optional item and user metadata,
//! with ids interned to dense indices. Produced by `import`, consumed by the recipes.

use edgerec_core::Column;

/// A categorical contextual column of the interactions (`DEVICE`, `LOCATION`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContextColumn {
    pub name: String,
    pub dictionary: Vec<String>,
    /// Code per interaction; `u32::MAX` = null.
    pub codes: Vec<u32>,
}

/// Interactions as parallel columns (one entry per row).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Interactions {
    /// Index into `Dataset::user_ids`.
    pub user: Vec<u32>,
    /// Index into `Dataset::item_ids`.
    pub item: Vec<u32>,
    /// Epoch seconds.
    pub timestamp: Vec<i64>,
    /// Index into `Dataset::event_types` (0 when the file has no EVENT_TYPE column).
    pub event_type: Vec<u16>,
    /// `EVENT_VALUE`; NaN when absent.
    pub event_value: Vec<f32>,
    /// `IMPRESSION` (item ids, `|`-separated in the file), when the column exists.
    pub impression: Option<Vec<Vec<u32>>>,
    /// `RECOMMENDATION_ID`, when the column exists.
    pub recommendation_id: Option<Vec<Option<String>>>,
    /// Up to 5 categorical contextual columns.
    pub context: Vec<ContextColumn>,
}

impl Interactions {
    #[must_use]
    pub fn len(&self) -> usize {
        self.user.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.user.is_empty()
    }
}

/// A dataset group: interactions plus optional item and user metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// Name for reports and model metadata (`ml-100k`).
    pub name: String,
    /// Interned user ids (first-seen order).
    pub user_ids: Vec<String>,
    /// Interned item ids: every item of the interactions and of the items file (first-seen order).
    pub item_ids: Vec<String>,
    /// Event types, lower-cased; `event_types[0]` is the default when the file has none.
    pub event_types: Vec<String>,
    pub interactions: Interactions,
    /// Item metadata columns, each with `item_ids.len()` rows (nulls for items without a row).
    pub item_columns: Vec<Column>,
    /// `CREATION_TIMESTAMP` per item when known.
    pub item_creation: Vec<Option<i64>>,
    /// User metadata columns, each with `user_ids.len()` rows.
    pub user_columns: Vec<Column>,
}
