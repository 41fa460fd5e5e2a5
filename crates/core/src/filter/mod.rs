//! Personalize filter expressions: parse, compile against a catalogue, evaluate per request.
//!
//! ```text
//! text ──parse──► FilterExpr ──compile(catalog, users)──► CompiledFilter (cached in FilterCache)
//!                                                           └─ evaluate_items(request) ──► ItemMask
//! ```
//!
//! # Language
//! `INCLUDE|EXCLUDE ItemID|UserID WHERE <conditions> [IF CurrentUser.F <op> v [AND ...]]`,
//! expressions chained with `|`. Conditions are `Dataset.FIELD IN (...)`, `NOT IN (...)` or a
//! comparison `= != < <= > >=`; values are double-quoted strings (`\"` and `\\` escape), numbers,
//! `$PARAMETERS` and, for event types, `*`. Keywords and dataset names are case-insensitive; field
//! names match the schema case-insensitively. `AND` binds tighter than `OR` (no parentheses).
//!
//! # Semantics
//! - Chaining: includes are united, excludes are united, result = includes − excludes; when no
//!   INCLUDE applies, the includes are every item.
//! - A multi-valued categorical field (`a|b|c`) is `IN` a list when any of its values is.
//!   `NOT IN` is exactly the negation of `IN` (so a row without values is `NOT IN` anything).
//!   Matching is exact, except event types and boolean columns, which ignore case.
//! - Numeric comparisons are false for null (`NaN`) values. `IN`/`NOT IN` on a numeric field
//!   compares numbers for equality (an extension).
//! - `Items.CREATION_TIMESTAMP` (epoch seconds) reads `Catalog::creation_time` unless the catalogue
//!   has a column of that name.
//! - `Interactions.EVENT_TYPE IN (...)` matches the items of the actor's interactions the caller
//!   passes in [`FilterInput::interactions`] (newest first: live session, then model history);
//!   at most [`MAX_INTERACTIONS_PER_EVENT_TYPE`] interactions per event type count, as in
//!   Personalize. `*` (or `"*"`, or a parameter value `"*"`) means every event type.
//!   For UserID filters, a user matches when their model history has such an event.
//! - `CurrentItem.FIELD` (right-hand side only, ItemID filters): compares with the request's item.
//!   `Items.GENRE IN CurrentItem.GENRE` matches items sharing a value with it; a null current
//!   value makes comparisons false.
//! - `IF CurrentUser...`: the expression applies only when every IF condition holds for the
//!   request's user; anonymous users and null values make the condition false (expression skipped).
//! - Parameters: `filterValues[NAME]` holds comma-separated quoted values (`"\"a\",\"b\""`; bare
//!   values are accepted too, see [`parse_value_list`]). An EXCLUDE expression with a parameter
//!   missing from `filterValues` is skipped; an INCLUDE one is an error naming the parameter. The
//!   same holds for a missing current item. Values that do not occur in the catalogue match nothing.
//!
//! # Restrictions enforced at compile time (Personalize's rules)
//! - Textual fields cannot be filtered; unknown fields are errors listing the known ones.
//! - Comparisons need a numeric field; categorical fields take `IN`/`NOT IN`.
//! - All `WHERE` conditions of an expression use the dataset of the first one (so Items and
//!   Interactions, and OR across datasets, need `|`).
//! - Interactions: only `EVENT_TYPE`, only `IN (...)`; `*` only there.
//! - `CurrentUser` only in `IF` (ItemID filters only); `CurrentItem` only on the right.
//! - `NOT IN` cannot take `$PARAMETERS` (use `IN` with the opposite action).
//! - At most [`MAX_DISTINCT_FIELDS`] distinct dataset fields per filter (`CurrentItem.F` counts as
//!   `Items.F`, `CurrentUser.F` as `Users.F`). Personalize's current guide allows 10; we keep 5.
//! - All chained expressions share one target; `ActionID` and the Actions dataset are not supported.
//! - Boolean columns *are* accepted (matched case-insensitively), although Personalize rejects
//!   them; the catalogue stores them as `"true"`/`"false"` categorical values.
//!
//! # Cost
//! Literal conditions are precomputed bitsets; categorical conditions with parameters or
//! `CurrentItem` use a per-column inverted index (cost ∝ matching items); numeric ones scan the
//! column (or only the candidates left by the other conditions of their conjunction).

mod ast;
mod cache;
mod compile;
mod eval;
mod index;
mod lexer;
mod mask;
mod parser;
mod plan;
mod values;

use std::collections::BTreeMap;

pub use ast::{
    Action, Condition, Dataset, Expression, FieldRef, FilterExpr, Op, Rhs, Target, Value,
};
pub use cache::FilterCache;
pub use compile::MAX_DISTINCT_FIELDS;
pub use mask::{ItemMask, Mask, UserMask};
pub use parser::parse;
pub use plan::CompiledFilter;
pub use values::{
    MAX_FILTER_KEY_LEN, MAX_FILTER_VALUE_LEN, MAX_FILTER_VALUES, parse_value_list,
    validate_filter_values,
};

use crate::catalog::{Catalog, UserTable};
use crate::error::FilterError;

/// Interactions counted per event type, newest first (Personalize's default quota).
pub const MAX_INTERACTIONS_PER_EVENT_TYPE: usize = 100;

/// What a filter selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterTarget {
    /// `ItemID`: recommendations.
    Items,
    /// `UserID`: user segments.
    Users,
}

/// One interaction of the request's actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InteractionRef<'a> {
    /// Catalogue index of the item.
    pub item: u32,
    /// The event type (compared case-insensitively).
    pub event_type: &'a str,
}

static NO_VALUES: BTreeMap<String, String> = BTreeMap::new();

/// What a request contributes to a filter.
#[derive(Debug, Clone, Copy)]
pub struct FilterInput<'a> {
    /// `filterValues`: parameter name (without `$`) → comma-separated quoted values.
    pub filter_values: &'a BTreeMap<String, String>,
    /// The request's item (catalogue index) for related-items recommendations.
    pub current_item: Option<u32>,
    /// The request's user (row in the model's `UserTable`), when known.
    pub current_user: Option<u32>,
    /// The actor's interactions, newest first: live session events, then the model's history.
    pub interactions: &'a [InteractionRef<'a>],
}

impl Default for FilterInput<'_> {
    fn default() -> Self {
        FilterInput {
            filter_values: &NO_VALUES,
            current_item: None,
            current_user: None,
            interactions: &[],
        }
    }
}

impl<'a> FilterInput<'a> {
    /// An input with `filterValues` and nothing else.
    #[must_use]
    pub fn new(filter_values: &'a BTreeMap<String, String>) -> Self {
        FilterInput {
            filter_values,
            ..FilterInput::default()
        }
    }
}

impl CompiledFilter {
    /// Parses and compiles `expr` against `catalog` and `users` (without a cache).
    ///
    /// # Errors
    /// Parse errors (column, token found, what was expected) and compile errors (unknown or
    /// textual field, wrong operator for the field type, datasets mixed, too many fields, ...).
    pub fn compile(
        expr: &str,
        catalog: &Catalog,
        users: &UserTable,
    ) -> Result<CompiledFilter, FilterError> {
        Self::compile_parsed(&parse(expr)?, catalog, users)
    }

    /// Compiles an already parsed filter.
    ///
    /// # Errors
    /// As [`CompiledFilter::compile`], minus parse errors.
    pub fn compile_parsed(
        expr: &FilterExpr,
        catalog: &Catalog,
        users: &UserTable,
    ) -> Result<CompiledFilter, FilterError> {
        compile::compile(expr, catalog, users, &mut index::Indexes::default())
    }
}
