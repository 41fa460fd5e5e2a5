//! Per-request evaluation of a [`CompiledFilter`].

use std::borrow::Cow;

use super::ast::{Action, Op};
use super::plan::{
    Body, CatPred, CompiledFilter, Conj, EventCond, ExprPlan, NumPred, NumSource, Pred, RowsPlan,
};
use super::values::parse_value_list;
use super::{
    FilterInput, FilterTarget, InteractionRef, ItemMask, MAX_INTERACTIONS_PER_EVENT_TYPE, UserMask,
};
use crate::bitset::BitSet;
use crate::catalog::{Catalog, Column, ColumnValues, UserTable};
use crate::error::FilterError;
use crate::model::Histories;

/// The rows a predicate ranges over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Table<'a> {
    pub columns: &'a [Column],
    pub rows: usize,
    pub creation_time: Option<&'a crate::timestamps::Timestamps>,
}

impl<'a> Table<'a> {
    pub fn items(c: &'a Catalog) -> Self {
        Table {
            columns: &c.columns,
            rows: c.len(),
            creation_time: Some(&c.creation_time),
        }
    }

    pub fn users(u: &'a UserTable) -> Self {
        Table {
            columns: &u.columns,
            rows: u.user_ids.len(),
            creation_time: None,
        }
    }

    fn num(&self, src: NumSource, row: usize) -> Option<f64> {
        match src {
            NumSource::Column(c) => self.columns.get(c).and_then(|c| c.numeric_value(row)),
            #[allow(clippy::cast_precision_loss)]
            NumSource::CreationTime => self
                .creation_time
                .and_then(|t| t.get(row))
                .map(|t| t as f64),
        }
    }

    /// The dictionary codes of a categorical row.
    fn codes(&self, col: usize, row: usize) -> &'a [u32] {
        match self.columns.get(col).map(|c| &c.values) {
            Some(ColumnValues::Categorical { offsets, codes, .. }) => {
                match (offsets.get(row), offsets.get(row + 1)) {
                    (Some(&a), Some(&b)) if a <= b && (b as usize) <= codes.len() => {
                        &codes[a as usize..b as usize]
                    }
                    _ => &[],
                }
            }
            _ => &[],
        }
    }
}

/// The current item of a related-items request, as a catalogue row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Row {
    None,
    Item(usize),
}

/// Parameter values resolved for one expression.
pub(crate) type Params<'a> = [(&'a str, Vec<String>)];

/// Owned form of [`Params`].
type ParamList<'a> = Vec<(&'a str, Vec<String>)>;

fn param_values<'p>(params: &'p Params<'_>, name: &str) -> &'p [String] {
    params
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[], |(_, v)| v.as_slice())
}

/// Canonical codes a categorical predicate matches, sorted.
fn cat_codes(p: &CatPred, table: &Table<'_>, params: &Params<'_>, current: Row) -> Vec<u32> {
    let mut codes = p.lits.clone();
    for name in &p.params {
        codes.extend(
            param_values(params, name)
                .iter()
                .filter_map(|v| p.index.code_of(v)),
        );
    }
    if let (Some(c2), Row::Item(row)) = (p.current, current) {
        if c2 == p.col {
            codes.extend(
                table
                    .codes(c2, row)
                    .iter()
                    .filter_map(|&c| p.index.canonical(c)),
            );
        } else if let Some(col) = table.columns.get(c2) {
            codes.extend(
                col.categorical_values(row)
                    .filter_map(|v| p.index.code_of(v)),
            );
        }
    }
    crate::sort::sort(&mut codes);
    codes.dedup();
    codes
}

/// How a numeric predicate tests a value.
enum NumTest {
    /// Equal to one of (`negate`: none of) the operands.
    AnyEq(Vec<f64>, bool),
    Cmp(Op, f64),
    Const(bool),
}

impl NumTest {
    fn test(&self, v: Option<f64>) -> bool {
        match (self, v) {
            (NumTest::AnyEq(xs, negate), v) => v.is_some_and(|v| xs.contains(&v)) != *negate,
            (NumTest::Cmp(op, x), Some(v)) => op.compare(v, *x),
            (NumTest::Cmp(..), None) => false,
            (NumTest::Const(b), _) => *b,
        }
    }
}

fn num_test(
    p: &NumPred,
    table: &Table<'_>,
    params: &Params<'_>,
    current: Row,
) -> Result<NumTest, FilterError> {
    let mut xs = p.lits.clone();
    for name in &p.params {
        for v in param_values(params, name) {
            let x = crate::decimal::parse_f64(v.trim())
                .filter(|x| x.is_finite())
                .ok_or_else(|| FilterError::InvalidFilterValues {
                    key: name.clone(),
                    message: format!(
                        "{} needs numbers, found \"{}\"",
                        p.display,
                        super::lexer::clip(v)
                    ),
                })?;
            xs.push(x);
        }
    }
    if let (Some(src), Row::Item(row)) = (p.current, current) {
        xs.extend(table.num(src, row));
    }
    Ok(match p.op {
        Op::In => NumTest::AnyEq(xs, false),
        Op::NotIn => NumTest::AnyEq(xs, true),
        op => match xs.as_slice() {
            [] => NumTest::Const(false),
            [x] => NumTest::Cmp(op, *x),
            _ => {
                let name = p.params.first().cloned().unwrap_or_default();
                return Err(FilterError::InvalidFilterValues {
                    key: name,
                    message: format!("{} {} needs a single number", p.display, op.symbol()),
                });
            }
        },
    })
}

/// The rows of `table` matching `p`.
pub(crate) fn pred_mask(
    p: &Pred,
    table: &Table<'_>,
    params: &Params<'_>,
    current: Row,
) -> Result<BitSet, FilterError> {
    match p {
        Pred::Cat(c) => {
            let mut m = c.index.mask(&cat_codes(c, table, params, current));
            if c.negate {
                m.invert();
            }
            Ok(m)
        }
        Pred::Num(n) => {
            let t = num_test(n, table, params, current)?;
            let mut m = BitSet::empty(table.rows);
            for r in 0..table.rows {
                if t.test(table.num(n.src, r)) {
                    m.insert(r);
                }
            }
            Ok(m)
        }
    }
}

/// Keeps the members of `m` that satisfy `p` (cheaper than a full scan when `m` is small).
fn retain(
    m: &BitSet,
    p: &Pred,
    table: &Table<'_>,
    params: &Params<'_>,
    current: Row,
) -> Result<BitSet, FilterError> {
    let mut out = BitSet::empty(m.len());
    match p {
        Pred::Cat(c) => {
            let codes = cat_codes(c, table, params, current);
            for r in m.iter() {
                let hit = table
                    .codes(c.col, r)
                    .iter()
                    .filter_map(|&k| c.index.canonical(k))
                    .any(|k| codes.binary_search(&k).is_ok());
                if hit != c.negate {
                    out.insert(r);
                }
            }
        }
        Pred::Num(n) => {
            let t = num_test(n, table, params, current)?;
            for r in m.iter() {
                if t.test(table.num(n.src, r)) {
                    out.insert(r);
                }
            }
        }
    }
    Ok(out)
}

/// Whether row `row` satisfies `p` (for `IF CurrentUser...`).
fn row_holds(
    p: &Pred,
    table: &Table<'_>,
    params: &Params<'_>,
    row: usize,
) -> Result<bool, FilterError> {
    Ok(match p {
        Pred::Cat(c) => {
            let codes = cat_codes(c, table, params, Row::None);
            let hit = table
                .codes(c.col, row)
                .iter()
                .filter_map(|&k| c.index.canonical(k))
                .any(|k| codes.binary_search(&k).is_ok());
            hit != c.negate
        }
        Pred::Num(n) => num_test(n, table, params, Row::None)?.test(table.num(n.src, row)),
    })
}

fn eval_conj(
    conj: &Conj,
    table: &Table<'_>,
    params: &Params<'_>,
    current: Row,
) -> Result<BitSet, FilterError> {
    let mut m: Option<BitSet> = conj.base.clone();
    // Categorical conditions first: their masks come straight from the inverted index.
    for p in conj.dynamic.iter().filter(|p| matches!(p, Pred::Cat(_))) {
        let pm = pred_mask(p, table, params, current)?;
        match &mut m {
            None => m = Some(pm),
            Some(b) => b.intersect_with(&pm),
        }
    }
    for p in conj.dynamic.iter().filter(|p| matches!(p, Pred::Num(_))) {
        m = Some(match &m {
            None => pred_mask(p, table, params, current)?,
            Some(b) => retain(b, p, table, params, current)?,
        });
    }
    Ok(m.unwrap_or_else(|| BitSet::full(table.rows)))
}

fn eval_rows<'p>(
    plan: &'p RowsPlan,
    table: &Table<'_>,
    params: &Params<'_>,
    current: Row,
) -> Result<Cow<'p, BitSet>, FilterError> {
    if let Some(f) = &plan.fixed {
        return Ok(Cow::Borrowed(f));
    }
    let mut out: Option<BitSet> = None;
    for conj in &plan.conjs {
        let m = eval_conj(conj, table, params, current)?;
        match &mut out {
            None => out = Some(m),
            Some(o) => o.union_with(&m),
        }
    }
    Ok(Cow::Owned(out.unwrap_or_else(|| BitSet::empty(table.rows))))
}

/// Event types an interaction condition accepts: `None` = every type.
fn event_types<'a>(c: &'a EventCond, params: &'a Params<'_>) -> Option<Vec<Cow<'a, str>>> {
    let mut types: Vec<Cow<'a, str>> = c.types.iter().map(|t| Cow::Borrowed(t.as_str())).collect();
    for name in &c.params {
        for v in param_values(params, name) {
            if v.trim() == "*" {
                return None;
            }
            types.push(Cow::Owned(v.to_ascii_lowercase()));
        }
    }
    if c.any { None } else { Some(types) }
}

/// Items the actor interacted with under one of the condition's event types, counting at most
/// [`MAX_INTERACTIONS_PER_EVENT_TYPE`] interactions (the first, i.e. newest, ones) per event type.
fn event_items(
    c: &EventCond,
    params: &Params<'_>,
    interactions: &[InteractionRef<'_>],
    items: usize,
) -> BitSet {
    let types = event_types(c, params);
    let mut m = BitSet::empty(items);
    let mut seen: Vec<(&str, usize)> = Vec::new();
    for it in interactions {
        let ok = types
            .as_ref()
            .is_none_or(|ts| ts.iter().any(|t| t.eq_ignore_ascii_case(it.event_type)));
        if !ok {
            continue;
        }
        let slot = match seen
            .iter()
            .position(|(t, _)| t.eq_ignore_ascii_case(it.event_type))
        {
            Some(k) => k,
            None => {
                seen.push((it.event_type, 0));
                seen.len() - 1
            }
        };
        if let Some((_, n)) = seen.get_mut(slot)
            && *n < MAX_INTERACTIONS_PER_EVENT_TYPE
        {
            *n += 1;
            m.insert(it.item as usize);
        }
    }
    m
}

/// Users with at least one interaction (in the model's histories) of the condition's event types.
fn event_users(
    c: &EventCond,
    params: &Params<'_>,
    catalog: &Catalog,
    histories: &Histories,
    users: usize,
) -> BitSet {
    let types = event_types(c, params);
    let code_ok: Vec<bool> = catalog
        .event_types
        .iter()
        .map(|et| {
            types
                .as_ref()
                .is_none_or(|ts| ts.iter().any(|t| t.eq_ignore_ascii_case(et)))
        })
        .collect();
    let mut m = BitSet::empty(users);
    for u in 0..users.min(histories.users()) {
        let hit = histories.range(u).any(|k| {
            histories
                .event_types
                .get(k)
                .is_some_and(|&c| code_ok.get(c as usize).copied().unwrap_or(false))
        });
        if hit {
            m.insert(u);
        }
    }
    m
}

fn dnf<T>(conjs: &[Vec<T>], rows: usize, mut f: impl FnMut(&T) -> BitSet) -> BitSet {
    let mut out = BitSet::empty(rows);
    for conj in conjs {
        let mut m: Option<BitSet> = None;
        for c in conj {
            let cm = f(c);
            match &mut m {
                None => m = Some(cm),
                Some(b) => b.intersect_with(&cm),
            }
        }
        out.union_with(&m.unwrap_or_else(|| BitSet::full(rows)));
    }
    out
}

/// Resolves what an expression needs from the request. `Ok(None)`: the expression does not
/// apply (an EXCLUDE missing a parameter or the current item, or a false `IF`).
fn prepare<'i>(
    e: &ExprPlan,
    input: &FilterInput<'i>,
    users: &UserTable,
    current: Row,
) -> Result<Option<ParamList<'i>>, FilterError> {
    let mut params = Vec::with_capacity(e.params.len());
    for name in &e.params {
        let Some((key, raw)) = input.filter_values.get_key_value(name.as_str()) else {
            return match e.action {
                Action::Include => Err(FilterError::MissingParameter(name.clone())),
                Action::Exclude => Ok(None),
            };
        };
        let values = parse_value_list(raw).map_err(|message| FilterError::InvalidFilterValues {
            key: name.clone(),
            message,
        })?;
        params.push((key.as_str(), values));
    }
    if e.uses_current_item && current == Row::None {
        return match e.action {
            Action::Include => Err(FilterError::MissingCurrentItem),
            Action::Exclude => Ok(None),
        };
    }
    if !e.if_preds.is_empty() {
        let table = Table::users(users);
        let Some(row) = input
            .current_user
            .map(|u| u as usize)
            .filter(|&u| u < table.rows)
        else {
            return Ok(None);
        };
        for p in &e.if_preds {
            if !row_holds(p, &table, &params, row)? {
                return Ok(None);
            }
        }
    }
    Ok(Some(params))
}

/// Includes ∪, excludes ∪, result = includes − excludes (all rows when nothing is included).
fn combine<'a>(
    exprs: &'a [ExprPlan],
    rows: usize,
    mut eval: impl FnMut(&'a ExprPlan) -> Result<Option<Cow<'a, BitSet>>, FilterError>,
) -> Result<BitSet, FilterError> {
    let mut include: Option<BitSet> = None;
    for e in exprs.iter().filter(|e| e.action == Action::Include) {
        if let Some(m) = eval(e)? {
            match &mut include {
                None => include = Some(m.into_owned()),
                Some(i) => i.union_with(&m),
            }
        }
    }
    let mut result = include;
    for e in exprs.iter().filter(|e| e.action == Action::Exclude) {
        if let Some(m) = eval(e)? {
            result
                .get_or_insert_with(|| BitSet::full(rows))
                .subtract(&m);
        }
    }
    Ok(result.unwrap_or_else(|| BitSet::full(rows)))
}

impl CompiledFilter {
    fn check_shape(
        &self,
        items: usize,
        users: usize,
        want: FilterTarget,
    ) -> Result<(), FilterError> {
        if self.target != want {
            return Err(FilterError::Invalid(match self.target {
                FilterTarget::Items => {
                    "this is an ItemID filter: it selects items, not users".into()
                }
                FilterTarget::Users => {
                    "this is a UserID filter: it selects users for segments, not items".into()
                }
            }));
        }
        if items != self.items || users != self.users {
            return Err(FilterError::Invalid(
                "the filter was compiled for a different catalogue or user table; compile it again"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The items this filter allows for one request.
    ///
    /// # Errors
    /// A missing parameter or current item of an INCLUDE expression, a malformed parameter
    /// value, or a filter that is not an ItemID filter for this catalogue.
    pub fn evaluate_items(
        &self,
        catalog: &Catalog,
        users: &UserTable,
        input: &FilterInput<'_>,
    ) -> Result<ItemMask, FilterError> {
        self.check_shape(catalog.len(), users.user_ids.len(), FilterTarget::Items)?;
        let table = Table::items(catalog);
        let current = match input.current_item {
            Some(i) if (i as usize) < table.rows => Row::Item(i as usize),
            _ => Row::None,
        };
        let mut any = false;
        let result = combine(&self.exprs, table.rows, |e| {
            let Some(params) = prepare(e, input, users, current)? else {
                return Ok(None);
            };
            any = true;
            Ok(Some(match &e.body {
                Body::Rows(plan) => eval_rows(plan, &table, &params, current)?,
                Body::Events(conjs) => Cow::Owned(dnf(conjs, table.rows, |c| {
                    event_items(c, &params, input.interactions, table.rows)
                })),
            }))
        })?;
        Ok(if any {
            ItemMask::from_bitset(result)
        } else {
            ItemMask::all(table.rows)
        })
    }

    /// The users this (UserID) filter allows, for user-segment jobs. `Interactions` conditions
    /// look at the model's histories.
    ///
    /// # Errors
    /// A missing parameter of an INCLUDE expression, a malformed parameter value, or a filter
    /// that is not a UserID filter for this model.
    pub fn evaluate_users(
        &self,
        catalog: &Catalog,
        users: &UserTable,
        histories: &Histories,
        input: &FilterInput<'_>,
    ) -> Result<UserMask, FilterError> {
        self.check_shape(catalog.len(), users.user_ids.len(), FilterTarget::Users)?;
        let table = Table::users(users);
        let mut any = false;
        let result = combine(&self.exprs, table.rows, |e| {
            let Some(params) = prepare(e, input, users, Row::None)? else {
                return Ok(None);
            };
            any = true;
            Ok(Some(match &e.body {
                Body::Rows(plan) => eval_rows(plan, &table, &params, Row::None)?,
                Body::Events(conjs) => Cow::Owned(dnf(conjs, table.rows, |c| {
                    event_users(c, &params, catalog, histories, table.rows)
                })),
            }))
        })?;
        Ok(if any {
            UserMask::from_bitset(result)
        } else {
            UserMask::all(table.rows)
        })
    }
}
