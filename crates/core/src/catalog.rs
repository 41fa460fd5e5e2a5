//! The item catalogue and user table: ids, metadata columns, creation times.

use serde::{Deserialize, Serialize};

use crate::idlist::IdList;
use crate::timestamps::Timestamps;

/// How a metadata column is typed (Personalize's schema kinds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnKind {
    /// A string field with `"categorical": true`; values may be multi-valued (`a|b|c`).
    Categorical,
    /// int, long, float or double.
    Numeric,
    /// A string field with `"textual": true` (free text; not usable in filters).
    Textual,
    /// boolean (stored as categorical `"true"`/`"false"` values for filtering).
    Boolean,
}

/// Column values, one entry per row (item or user).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ColumnValues {
    /// Multi-valued categorical values as a CSR over a dictionary: row `r` has codes
    /// `codes[offsets[r]..offsets[r + 1]]`, each an index into `dictionary`.
    Categorical {
        dictionary: Vec<String>,
        offsets: Vec<u32>,
        codes: Vec<u32>,
    },
    /// Numeric values; `NaN` means null.
    Numeric(Vec<f64>),
    /// Free text, one string per row (may be empty).
    Textual(Vec<String>),
}

/// One named metadata column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Upper-case field name as in the schema (`GENRES`, `PRICE`).
    pub name: String,
    pub kind: ColumnKind,
    pub values: ColumnValues,
}

impl Column {
    /// Number of rows this column holds.
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.values {
            ColumnValues::Categorical { offsets, .. } => offsets.len().saturating_sub(1),
            ColumnValues::Numeric(v) => v.len(),
            ColumnValues::Textual(v) => v.len(),
        }
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The categorical values of `row` as strings (empty for other kinds or out of range).
    pub fn categorical_values(&self, row: usize) -> impl Iterator<Item = &str> {
        let (dict, codes): (&[String], &[u32]) = match &self.values {
            ColumnValues::Categorical {
                dictionary,
                offsets,
                codes,
            } => match (offsets.get(row), offsets.get(row + 1)) {
                (Some(&a), Some(&b)) if a <= b && (b as usize) <= codes.len() => {
                    (dictionary.as_slice(), &codes[a as usize..b as usize])
                }
                _ => (&[], &[]),
            },
            _ => (&[], &[]),
        };
        codes
            .iter()
            .filter_map(move |&c| dict.get(c as usize).map(String::as_str))
    }

    /// The numeric value of `row`, `None` if null, out of range, or not numeric.
    #[must_use]
    pub fn numeric_value(&self, row: usize) -> Option<f64> {
        match &self.values {
            ColumnValues::Numeric(v) => v.get(row).copied().filter(|x| !x.is_nan()),
            _ => None,
        }
    }

    /// A display string for `row` (categorical values joined with `|`), used for response metadata.
    #[must_use]
    pub fn display_value(&self, row: usize) -> Option<String> {
        match &self.values {
            ColumnValues::Categorical { .. } => {
                let v: Vec<&str> = self.categorical_values(row).collect();
                if v.is_empty() {
                    None
                } else {
                    Some(v.join("|"))
                }
            }
            ColumnValues::Numeric(_) => self.numeric_value(row).map(format_number),
            ColumnValues::Textual(v) => v.get(row).filter(|s| !s.is_empty()).cloned(),
        }
    }
}

fn format_number(x: f64) -> String {
    crate::decimal::format_f64(x)
}

/// The item catalogue of a model. Row `i` of every column is item index `i`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// External item ids; the position is the internal item index.
    pub item_ids: IdList,
    /// Item metadata columns, each with `item_ids.len()` rows.
    pub columns: Vec<Column>,
    /// `CREATION_TIMESTAMP` per item in epoch seconds (missing → first interaction time).
    pub creation_time: Timestamps,
    /// The interaction event types seen at training, lower-cased; index = event-type code.
    pub event_types: Vec<String>,
    /// Names of the contextual (interaction metadata) columns known to the model.
    pub context_columns: Vec<String>,
}

impl Catalog {
    #[must_use]
    pub fn len(&self) -> usize {
        self.item_ids.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.item_ids.is_empty()
    }

    /// The column named `name` (case-insensitive).
    #[must_use]
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }
}

/// Known users and their metadata (for `CurrentUser` filters and segments).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserTable {
    /// External user ids; the position is the internal user index.
    pub user_ids: IdList,
    /// User metadata columns (≤ 5 in Personalize), each with `user_ids.len()` rows.
    pub columns: Vec<Column>,
}
