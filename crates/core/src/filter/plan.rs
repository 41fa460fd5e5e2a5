//! The evaluation plan a filter compiles to.
//!
//! Each expression becomes an [`ExprPlan`]. `WHERE` conditions over a table (Items or Users) are
//! kept in disjunctive normal form; within a conjunction the conditions with literal values are
//! folded into one precomputed bitset (`Conj::base`), and a fully literal expression becomes a
//! single bitset (`RowsPlan::fixed`). Conditions with `$PARAMETERS` or `CurrentItem` stay as
//! predicates resolved per request. Interaction conditions keep their event types.

use std::sync::Arc;

use super::FilterTarget;
use super::ast::{Action, Op};
use super::index::ColumnIndex;
use crate::bitset::BitSet;

/// Where a numeric field's values live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumSource {
    Column(usize),
    /// `Items.CREATION_TIMESTAMP` when the catalogue has no such column: `Catalog::creation_time`.
    CreationTime,
}

/// `FIELD IN / NOT IN (...)` on a categorical field.
#[derive(Debug)]
pub(crate) struct CatPred {
    pub col: usize,
    pub index: Arc<ColumnIndex>,
    pub negate: bool,
    /// Canonical codes of the literal values (values absent from the data are dropped).
    pub lits: Vec<u32>,
    pub params: Vec<String>,
    /// `IN CurrentItem.FIELD`: the current item's values of this catalogue column.
    pub current: Option<usize>,
}

/// A condition on a numeric field: `IN`/`NOT IN` (equality with any operand) or a comparison
/// (exactly one operand).
#[derive(Debug)]
pub(crate) struct NumPred {
    pub src: NumSource,
    pub op: Op,
    pub lits: Vec<f64>,
    pub params: Vec<String>,
    pub current: Option<NumSource>,
    /// `Items.PRICE` etc., for messages about parameter values.
    pub display: String,
}

#[derive(Debug)]
pub(crate) enum Pred {
    Cat(CatPred),
    Num(NumPred),
}

impl Pred {
    pub(crate) fn is_static(&self) -> bool {
        match self {
            Pred::Cat(p) => p.params.is_empty() && p.current.is_none(),
            Pred::Num(p) => p.params.is_empty() && p.current.is_none(),
        }
    }
}

/// One conjunction: `base ∧ dynamic[0] ∧ dynamic[1] ∧ …`.
#[derive(Debug)]
pub(crate) struct Conj {
    /// Intersection of the literal conditions; `None` = no literal condition.
    pub base: Option<BitSet>,
    pub dynamic: Vec<Pred>,
}

/// Conditions over the rows of a table.
#[derive(Debug)]
pub(crate) struct RowsPlan {
    pub conjs: Vec<Conj>,
    /// The whole disjunction, when every condition is literal.
    pub fixed: Option<BitSet>,
}

/// `Interactions.EVENT_TYPE IN (...)`.
#[derive(Debug)]
pub(crate) struct EventCond {
    /// `*` present: every event type.
    pub any: bool,
    /// Literal event types, lower-cased.
    pub types: Vec<String>,
    pub params: Vec<String>,
}

#[derive(Debug)]
pub(crate) enum Body {
    Rows(RowsPlan),
    /// Interaction conditions in disjunctive normal form.
    Events(Vec<Vec<EventCond>>),
}

/// One compiled expression.
#[derive(Debug)]
pub(crate) struct ExprPlan {
    pub action: Action,
    pub body: Body,
    /// `IF CurrentUser...` conditions over the user table.
    pub if_preds: Vec<Pred>,
    /// Distinct parameter names the expression needs.
    pub params: Vec<String>,
    pub uses_current_item: bool,
}

/// A filter compiled against one catalogue and user table. Cheap to share (`Arc`) and to
/// evaluate many times; evaluation never re-parses.
#[derive(Debug)]
pub struct CompiledFilter {
    pub(crate) target: FilterTarget,
    pub(crate) exprs: Vec<ExprPlan>,
    pub(crate) items: usize,
    pub(crate) users: usize,
    pub(crate) parameters: Vec<String>,
    pub(crate) fields: Vec<String>,
}

impl CompiledFilter {
    /// What the filter selects.
    #[must_use]
    pub fn target(&self) -> FilterTarget {
        self.target
    }

    /// Distinct `$PARAMETER` names, in order of first appearance.
    #[must_use]
    pub fn parameters(&self) -> &[String] {
        &self.parameters
    }

    /// Distinct dataset fields the filter uses (`Items.GENRE`, `Interactions.EVENT_TYPE`, ...).
    #[must_use]
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// True when some expression looks at the actor's interactions (so the caller must pass them).
    #[must_use]
    pub fn uses_interactions(&self) -> bool {
        self.exprs.iter().any(|e| matches!(e.body, Body::Events(_)))
    }

    /// True when some expression compares with `CurrentItem`.
    #[must_use]
    pub fn uses_current_item(&self) -> bool {
        self.exprs.iter().any(|e| e.uses_current_item)
    }

    /// True when some expression has an `IF CurrentUser...` clause.
    #[must_use]
    pub fn uses_current_user(&self) -> bool {
        self.exprs.iter().any(|e| !e.if_preds.is_empty())
    }
}
