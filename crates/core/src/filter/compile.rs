//! Name resolution and Personalize's rules: from a syntax tree to a [`CompiledFilter`] plan.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::FilterTarget;
use super::ast::{Condition, Dataset, FieldRef, FilterExpr, Op, Rhs, Target, Value};
use super::eval::{Row, Table};
use super::index::{ColumnIndex, Indexes, Side};
use super::plan::{
    Body, CatPred, CompiledFilter, Conj, EventCond, ExprPlan, NumPred, NumSource, Pred, RowsPlan,
};
use crate::bitset::BitSet;
use crate::catalog::{Catalog, Column, ColumnKind, ColumnValues, UserTable};
use crate::error::FilterError;

/// At most this many distinct dataset fields per filter (all chained expressions together).
pub const MAX_DISTINCT_FIELDS: usize = 5;

/// Compiles `expr` against `catalog` and `users`, building column indexes as needed.
pub(crate) fn compile(
    expr: &FilterExpr,
    catalog: &Catalog,
    users: &UserTable,
    indexes: &mut Indexes,
) -> Result<CompiledFilter, FilterError> {
    let mut c = Compiler {
        catalog,
        users,
        indexes,
        fields: Vec::new(),
        field_set: BTreeSet::new(),
        params: Vec::new(),
    };
    let first = expr
        .expressions
        .first()
        .ok_or_else(|| FilterError::Invalid("empty filter".into()))?;
    let target = match first.target {
        Target::ItemId => FilterTarget::Items,
        Target::UserId => FilterTarget::Users,
        Target::ActionId => {
            return Err(compile_err(
                first.column,
                "ActionID filters are not supported: this engine recommends items and builds user segments only",
            ));
        }
    };
    let mut exprs = Vec::with_capacity(expr.expressions.len());
    for e in &expr.expressions {
        if e.target != first.target {
            return Err(compile_err(
                e.column,
                "all chained expressions of a filter must use the same target (ItemID or UserID)",
            ));
        }
        exprs.push(c.expression(e, target)?);
    }
    if c.fields.len() > MAX_DISTINCT_FIELDS {
        return Err(FilterError::Invalid(format!(
            "the filter uses {} distinct dataset fields ({}); the maximum is {MAX_DISTINCT_FIELDS}",
            c.fields.len(),
            c.fields.join(", ")
        )));
    }
    Ok(CompiledFilter {
        target,
        exprs,
        items: catalog.len(),
        users: users.user_ids.len(),
        parameters: c.params,
        fields: c.fields,
    })
}

fn compile_err(column: usize, message: impl Into<String>) -> FilterError {
    FilterError::Compile {
        column,
        message: message.into(),
    }
}

/// A resolved field.
enum Kind {
    Cat(usize, Arc<ColumnIndex>),
    Num(NumSource),
}

struct Compiler<'a> {
    catalog: &'a Catalog,
    users: &'a UserTable,
    indexes: &'a mut Indexes,
    fields: Vec<String>,
    field_set: BTreeSet<String>,
    params: Vec<String>,
}

impl Compiler<'_> {
    fn count_field(&mut self, dataset: &str, name: &str) {
        let key = format!("{dataset}.{}", name.to_ascii_uppercase());
        if self.field_set.insert(key.clone()) {
            self.fields.push(key);
        }
    }

    fn table(&self, side: Side) -> Table<'_> {
        match side {
            Side::Items => Table::items(self.catalog),
            Side::Users => Table::users(self.users),
        }
    }

    fn resolve(&mut self, side: Side, f: &FieldRef) -> Result<Kind, FilterError> {
        let (columns, len, ds): (&[Column], usize, &str) = match side {
            Side::Items => (&self.catalog.columns, self.catalog.len(), "Items"),
            Side::Users => (&self.users.columns, self.users.user_ids.len(), "Users"),
        };
        let display = format!("{}.{}", f.dataset.name(), f.name);
        let pos = columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(&f.name));
        let Some(pos) = pos else {
            if side == Side::Items && f.name.eq_ignore_ascii_case("CREATION_TIMESTAMP") {
                self.count_field(ds, &f.name);
                return Ok(Kind::Num(NumSource::CreationTime));
            }
            let mut known: Vec<&str> = columns
                .iter()
                .filter(|c| c.kind != ColumnKind::Textual)
                .map(|c| c.name.as_str())
                .take(20)
                .collect();
            if side == Side::Items {
                known.push("CREATION_TIMESTAMP");
            }
            let list = if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            };
            return Err(compile_err(
                f.column,
                format!("unknown field {display}; the filterable {ds} fields are: {list}"),
            ));
        };
        let Some(col) = columns.get(pos) else {
            return Err(FilterError::Invalid(format!("unknown field {display}")));
        };
        self.count_field(ds, &col.name);
        match (&col.values, col.kind) {
            (_, ColumnKind::Textual) | (ColumnValues::Textual(_), _) => Err(compile_err(
                f.column,
                format!(
                    "{display} is a textual field; filters cannot use textual (free-text) fields"
                ),
            )),
            (ColumnValues::Numeric(_), _) => Ok(Kind::Num(NumSource::Column(pos))),
            (ColumnValues::Categorical { .. }, _) => {
                let ix = self.indexes.get(side, pos, col, len).ok_or_else(|| {
                    FilterError::Invalid(format!("{display} could not be indexed"))
                })?;
                Ok(Kind::Cat(pos, ix))
            }
        }
    }

    fn add_param(&mut self, p: &str) {
        if !self.params.iter().any(|q| q == p) {
            self.params.push(p.to_string());
        }
    }

    fn expression(
        &mut self,
        e: &super::ast::Expression,
        target: FilterTarget,
    ) -> Result<ExprPlan, FilterError> {
        let first = e
            .conditions
            .first()
            .and_then(|c| c.first())
            .ok_or_else(|| compile_err(e.column, "an expression needs at least one condition"))?;
        let dataset = first.field.dataset;
        for c in e.conditions.iter().flatten() {
            let f = &c.field;
            match f.dataset {
                Dataset::CurrentUser => {
                    return Err(compile_err(
                        f.column,
                        format!("{f} is only allowed in the IF clause at the end of an expression"),
                    ));
                }
                Dataset::CurrentItem => {
                    return Err(compile_err(
                        f.column,
                        format!(
                            "{f} can only be on the right of a condition, e.g. Items.PRICE < CurrentItem.PRICE"
                        ),
                    ));
                }
                Dataset::Actions => {
                    return Err(compile_err(
                        f.column,
                        "the Actions dataset is not supported",
                    ));
                }
                Dataset::Items if target == FilterTarget::Users => {
                    return Err(compile_err(
                        f.column,
                        "Items conditions select items: use them with INCLUDE/EXCLUDE ItemID",
                    ));
                }
                Dataset::Users if target == FilterTarget::Items => {
                    return Err(compile_err(
                        f.column,
                        "Users conditions select users: use them with UserID, or test the current user with IF CurrentUser.FIELD",
                    ));
                }
                _ => {}
            }
            if f.dataset != dataset {
                return Err(compile_err(
                    f.column,
                    format!(
                        "cannot mix {} and {} conditions in one expression; chain separate expressions with '|'",
                        dataset.name(),
                        f.dataset.name()
                    ),
                ));
            }
        }
        if !e.if_conditions.is_empty() && target == FilterTarget::Users {
            let col = e.if_conditions.first().map_or(e.column, |c| c.field.column);
            return Err(compile_err(
                col,
                "IF CurrentUser conditions apply only to ItemID filters",
            ));
        }
        let mut uses_current_item = false;
        let body = if dataset == Dataset::Interactions {
            let mut conjs = Vec::with_capacity(e.conditions.len());
            for conj in &e.conditions {
                let mut out = Vec::with_capacity(conj.len());
                for c in conj {
                    out.push(self.event_cond(c)?);
                }
                conjs.push(out);
            }
            Body::Events(conjs)
        } else {
            let side = if dataset == Dataset::Items {
                Side::Items
            } else {
                Side::Users
            };
            let mut conjs = Vec::with_capacity(e.conditions.len());
            for conj in &e.conditions {
                let mut base: Option<BitSet> = None;
                let mut dynamic = Vec::new();
                for c in conj {
                    let p = self.pred(side, c, side == Side::Items)?;
                    if p.is_static() {
                        let m = super::eval::pred_mask(&p, &self.table(side), &[], Row::None)?;
                        match &mut base {
                            None => base = Some(m),
                            Some(b) => b.intersect_with(&m),
                        }
                    } else {
                        uses_current_item |= matches!(
                            &p,
                            Pred::Cat(CatPred {
                                current: Some(_),
                                ..
                            }) | Pred::Num(NumPred {
                                current: Some(_),
                                ..
                            })
                        );
                        dynamic.push(p);
                    }
                }
                conjs.push(Conj { base, dynamic });
            }
            let fixed = if conjs.iter().all(|c| c.dynamic.is_empty()) {
                let rows = self.table(side).rows;
                let mut m = BitSet::empty(rows);
                for c in &conjs {
                    match &c.base {
                        Some(b) => m.union_with(b),
                        None => m = BitSet::full(rows),
                    }
                }
                Some(m)
            } else {
                None
            };
            Body::Rows(RowsPlan { conjs, fixed })
        };
        let mut if_preds = Vec::with_capacity(e.if_conditions.len());
        for c in &e.if_conditions {
            if c.field.dataset != Dataset::CurrentUser {
                return Err(compile_err(
                    c.field.column,
                    format!(
                        "IF conditions must test the current user (CurrentUser.FIELD), found {}",
                        c.field
                    ),
                ));
            }
            if_preds.push(self.pred(Side::Users, c, false)?);
        }
        let mut params: Vec<String> = Vec::new();
        for p in e.parameters() {
            self.add_param(p);
            if !params.iter().any(|q| q == p) {
                params.push(p.to_string());
            }
        }
        Ok(ExprPlan {
            action: e.action,
            body,
            if_preds,
            params,
            uses_current_item,
        })
    }

    fn event_cond(&mut self, c: &Condition) -> Result<EventCond, FilterError> {
        let f = &c.field;
        if !f.name.eq_ignore_ascii_case("EVENT_TYPE") {
            return Err(compile_err(
                f.column,
                format!("{f}: interaction conditions can only use Interactions.EVENT_TYPE"),
            ));
        }
        self.count_field("Interactions", "EVENT_TYPE");
        let values = match (&c.op, &c.rhs) {
            (Op::In, Rhs::List(v)) => v,
            _ => {
                return Err(compile_err(
                    f.column,
                    format!(
                        "{f} supports only IN (...), e.g. Interactions.EVENT_TYPE IN (\"click\")"
                    ),
                ));
            }
        };
        let mut out = EventCond {
            any: false,
            types: Vec::new(),
            params: Vec::new(),
        };
        for v in values {
            match v {
                Value::Star => out.any = true,
                Value::Str(s) if s.trim() == "*" => out.any = true,
                Value::Str(s) => out.types.push(s.to_ascii_lowercase()),
                Value::Num { text, .. } => out.types.push(text.to_ascii_lowercase()),
                Value::Param(p) => out.params.push(p.clone()),
            }
        }
        Ok(out)
    }

    /// A condition over `side`'s rows (`allow_current`: `CurrentItem` may appear on the right).
    fn pred(
        &mut self,
        side: Side,
        c: &Condition,
        allow_current: bool,
    ) -> Result<Pred, FilterError> {
        let f = &c.field;
        let kind = self.resolve(side, f)?;
        if c.op == Op::NotIn && c.parameters().next().is_some() {
            return Err(compile_err(
                f.column,
                format!(
                    "{f} NOT IN cannot take $PARAMETERS; use IN with the opposite action (INCLUDE instead of EXCLUDE or the reverse)"
                ),
            ));
        }
        let current = match &c.rhs {
            Rhs::Field(r) => {
                if r.dataset != Dataset::CurrentItem || !allow_current {
                    let msg = if allow_current {
                        format!(
                            "the right of {f} {} can be values, $PARAMETERS or CurrentItem.FIELD, not {r}",
                            c.op.symbol()
                        )
                    } else {
                        format!(
                            "the right of {f} {} must be values or $PARAMETERS, not {r}",
                            c.op.symbol()
                        )
                    };
                    return Err(compile_err(r.column, msg));
                }
                Some((r, self.resolve(Side::Items, r)?))
            }
            _ => None,
        };
        let values: &[Value] = match &c.rhs {
            Rhs::List(v) => v,
            Rhs::Value(v) => std::slice::from_ref(v),
            Rhs::Field(_) => &[],
        };
        let display = f.to_string();
        match kind {
            Kind::Cat(col, index) => {
                if c.op.is_comparison() {
                    return Err(compile_err(
                        f.column,
                        format!(
                            "{display} is categorical: use IN or NOT IN (comparisons such as {} need a numeric field)",
                            c.op.symbol()
                        ),
                    ));
                }
                let mut lits = Vec::new();
                let mut params = Vec::new();
                for v in values {
                    match v {
                        Value::Str(s) => lits.extend(index.code_of(s)),
                        Value::Num { text, .. } => lits.extend(index.code_of(text)),
                        Value::Param(p) => params.push(p.clone()),
                        Value::Star => {
                            return Err(compile_err(
                                f.column,
                                format!(
                                    "'*' is only allowed with Interactions.EVENT_TYPE, not {display}"
                                ),
                            ));
                        }
                    }
                }
                crate::sort::sort(&mut lits);
                lits.dedup();
                let current = match current {
                    None => None,
                    Some((_, Kind::Cat(c2, _))) => Some(c2),
                    Some((r, Kind::Num(_))) => {
                        return Err(compile_err(
                            r.column,
                            format!("{display} is categorical but {r} is numeric"),
                        ));
                    }
                };
                Ok(Pred::Cat(CatPred {
                    col,
                    index,
                    negate: c.op == Op::NotIn,
                    lits,
                    params,
                    current,
                }))
            }
            Kind::Num(src) => {
                let mut lits = Vec::new();
                let mut params = Vec::new();
                for v in values {
                    match v {
                        Value::Num { value, .. } => lits.push(*value),
                        Value::Param(p) => params.push(p.clone()),
                        Value::Str(s) => {
                            return Err(compile_err(
                                f.column,
                                format!(
                                    "{display} is numeric: use a number or $PARAMETER, not the string \"{}\"",
                                    super::lexer::clip(s)
                                ),
                            ));
                        }
                        Value::Star => {
                            return Err(compile_err(
                                f.column,
                                format!(
                                    "'*' is only allowed with Interactions.EVENT_TYPE, not {display}"
                                ),
                            ));
                        }
                    }
                }
                let current = match current {
                    None => None,
                    Some((_, Kind::Num(s2))) => Some(s2),
                    Some((r, Kind::Cat(..))) => {
                        return Err(compile_err(
                            r.column,
                            format!("{display} is numeric but {r} is categorical"),
                        ));
                    }
                };
                Ok(Pred::Num(NumPred {
                    src,
                    op: c.op,
                    lits,
                    params,
                    current,
                    display,
                }))
            }
        }
    }
}
