//! The syntax tree of a filter expression, as [`parse`](super::parse) returns it.
//!
//! `Display` prints a canonical form that parses back to an equal tree (columns aside), so tools
//! and tests can build trees and turn them into expression text.

use std::fmt;

/// A whole filter: one or more expressions chained with `|`.
#[derive(Debug, Clone, PartialEq)]
pub struct FilterExpr {
    pub expressions: Vec<Expression>,
}

/// One `INCLUDE|EXCLUDE <target> WHERE ... [IF ...]` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    pub action: Action,
    pub target: Target,
    /// The `WHERE` conditions in disjunctive normal form: `AND` binds tighter than `OR`, so
    /// `a AND b OR c` is `[[a, b], [c]]`. Never empty, and no inner list is empty.
    pub conditions: Vec<Vec<Condition>>,
    /// The `IF CurrentUser.… AND …` conditions (all must hold); empty without `IF`.
    pub if_conditions: Vec<Condition>,
    /// 1-based column of the `INCLUDE`/`EXCLUDE` keyword.
    pub column: usize,
}

/// `INCLUDE` keeps only matches; `EXCLUDE` removes matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Include,
    Exclude,
}

/// What the expression selects: items (`ItemID`), actions (`ActionID`) or users (`UserID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    ItemId,
    ActionId,
    UserId,
}

/// The dataset part of `Dataset.FIELD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dataset {
    Items,
    Interactions,
    Users,
    Actions,
    CurrentItem,
    CurrentUser,
}

impl Dataset {
    /// Recognises a dataset name (case-insensitive).
    #[must_use]
    pub fn from_name(s: &str) -> Option<Dataset> {
        const ALL: [(&str, Dataset); 6] = [
            ("Items", Dataset::Items),
            ("Interactions", Dataset::Interactions),
            ("Users", Dataset::Users),
            ("Actions", Dataset::Actions),
            ("CurrentItem", Dataset::CurrentItem),
            ("CurrentUser", Dataset::CurrentUser),
        ];
        ALL.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(s))
            .map(|&(_, d)| d)
    }

    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Items => "Items",
            Dataset::Interactions => "Interactions",
            Dataset::Users => "Users",
            Dataset::Actions => "Actions",
            Dataset::CurrentItem => "CurrentItem",
            Dataset::CurrentUser => "CurrentUser",
        }
    }
}

/// `Dataset.FIELD` with the column where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRef {
    pub dataset: Dataset,
    /// The field name as written.
    pub name: String,
    pub column: usize,
}

/// A condition operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    In,
    NotIn,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Op::In => "IN",
            Op::NotIn => "NOT IN",
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    /// True for `=`, `!=`, `<`, `<=`, `>`, `>=`.
    #[must_use]
    pub fn is_comparison(self) -> bool {
        !matches!(self, Op::In | Op::NotIn)
    }

    /// Applies a comparison operator to two numbers (`IN` acts as `=`, `NOT IN` as `!=`).
    #[must_use]
    pub fn compare(self, a: f64, b: f64) -> bool {
        match self {
            Op::Eq | Op::In => a == b,
            Op::Ne | Op::NotIn => a != b,
            Op::Lt => a < b,
            Op::Le => a <= b,
            Op::Gt => a > b,
            Op::Ge => a >= b,
        }
    }
}

/// One value in a list or on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A double-quoted string (unescaped).
    Str(String),
    /// A number literal with its source text.
    Num { value: f64, text: String },
    /// `$NAME`, filled from `filterValues["NAME"]` at request time.
    Param(String),
    /// `*`: every event type.
    Star,
}

/// The right-hand side of a condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// `IN (v1, v2, ...)`.
    List(Vec<Value>),
    /// `< 10`, `= $AGE`.
    Value(Value),
    /// `IN CurrentItem.GENRE`, `< CurrentItem.PRICE`.
    Field(FieldRef),
}

/// `field op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: FieldRef,
    pub op: Op,
    pub rhs: Rhs,
}

impl Condition {
    /// Parameter names used by this condition, in order of appearance.
    pub fn parameters(&self) -> impl Iterator<Item = &str> {
        let values: &[Value] = match &self.rhs {
            Rhs::List(v) => v,
            Rhs::Value(v) => std::slice::from_ref(v),
            Rhs::Field(_) => &[],
        };
        values.iter().filter_map(|v| match v {
            Value::Param(p) => Some(p.as_str()),
            _ => None,
        })
    }
}

impl Expression {
    /// Every condition of the expression (`WHERE` then `IF`).
    pub fn all_conditions(&self) -> impl Iterator<Item = &Condition> {
        self.conditions.iter().flatten().chain(&self.if_conditions)
    }

    /// Parameter names used anywhere in the expression (may repeat).
    pub fn parameters(&self) -> impl Iterator<Item = &str> {
        self.all_conditions().flat_map(Condition::parameters)
    }
}

impl fmt::Display for FilterExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.expressions.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let action = match self.action {
            Action::Include => "INCLUDE",
            Action::Exclude => "EXCLUDE",
        };
        let target = match self.target {
            Target::ItemId => "ItemID",
            Target::ActionId => "ActionID",
            Target::UserId => "UserID",
        };
        write!(f, "{action} {target} WHERE ")?;
        for (i, conj) in self.conditions.iter().enumerate() {
            if i > 0 {
                f.write_str(" OR ")?;
            }
            for (j, c) in conj.iter().enumerate() {
                if j > 0 {
                    f.write_str(" AND ")?;
                }
                write!(f, "{c}")?;
            }
        }
        for (i, c) in self.if_conditions.iter().enumerate() {
            f.write_str(if i == 0 { " IF " } else { " AND " })?;
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for FieldRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.dataset.name(), self.name)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.field, self.op.symbol())?;
        match &self.rhs {
            Rhs::List(vs) => {
                f.write_str("(")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(")")
            }
            Rhs::Value(v) => write!(f, "{v}"),
            Rhs::Field(r) => write!(f, "{r}"),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => {
                f.write_str("\"")?;
                for ch in s.chars() {
                    if ch == '"' || ch == '\\' {
                        f.write_str("\\")?;
                    }
                    write!(f, "{ch}")?;
                }
                f.write_str("\"")
            }
            Value::Num { text, .. } => f.write_str(text),
            Value::Param(p) => write!(f, "${p}"),
            Value::Star => f.write_str("*"),
        }
    }
}
