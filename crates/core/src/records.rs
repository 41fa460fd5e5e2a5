//! `PutItems` / `PutUsers`: catalogue and user records added or replaced at run time.
//!
//! A record's `properties` is Personalize's JSON object string whose keys are the schema
//! fields in camelCase (`{"category": "books|garden", "price": 12.5, "creationTimestamp": …}`);
//! keys match the model's columns ignoring case and underscores. A record with an existing id
//! replaces that row's metadata (fields it leaves out become null), as in Personalize.
//!
//! A new item has no interactions yet: it gets a zero popularity count and follows the ranked
//! items of every popularity list. A factor recommender with content features (`CAP_CONTENT`)
//! places it in its factor space from its metadata at once (see [`crate::content`]); without
//! them it gets a zero factor row. A `similar-items` recommender computes its content vector,
//! so the item has related items and is one. Filters see it at once, so it can be served by
//! an INCLUDE filter or by the popular back-fill of a filtered request. A new user has metadata
//! (for `CurrentUser` filters) but no factors or history until events arrive.

use crate::catalog::{Column, ColumnKind, ColumnValues};
use crate::contract::{self, Policy};
use crate::embedding::Embedding;
use crate::error::RequestError;
use crate::idindex::IdIndex;
use crate::json::{Number, Value};
use crate::model::{Model, RecommenderModel};
use crate::request::{Item, User, check_id, limits};

/// One column value of a record (`None` in [`Record::cells`] means null).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Categorical(Vec<String>),
    Numeric(f64),
    Text(String),
}

/// A validated record, ready to apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: String,
    /// One entry per column of the target table, in column order.
    pub cells: Vec<Option<Cell>>,
    /// `creationTimestamp` (items only), epoch seconds.
    pub creation_time: Option<i64>,
}

pub(crate) fn norm(s: &str) -> String {
    s.chars()
        .filter(|&c| c != '_')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Validates `PutItems` records against the catalogue's columns.
pub fn parse_items(columns: &[Column], items: &[Item]) -> Result<Vec<Record>, RequestError> {
    contract::record_count("items", items.len(), &Policy::PERSONALIZE)?;
    items
        .iter()
        .enumerate()
        .map(|(k, it)| {
            let f = format!("items[{k}]");
            check_id(&format!("{f}.itemId"), &it.item_id)?;
            parse_record(
                &f,
                columns,
                &it.item_id,
                it.properties.as_deref(),
                limits::MAX_ITEM_PROPERTIES_LEN,
                true,
            )
        })
        .collect()
}

/// Validates `PutUsers` records against the user table's columns.
pub fn parse_users(columns: &[Column], users: &[User]) -> Result<Vec<Record>, RequestError> {
    contract::record_count("users", users.len(), &Policy::PERSONALIZE)?;
    users
        .iter()
        .enumerate()
        .map(|(k, u)| {
            let f = format!("users[{k}]");
            check_id(&format!("{f}.userId"), &u.user_id)?;
            parse_record(
                &f,
                columns,
                &u.user_id,
                u.properties.as_deref(),
                limits::MAX_USER_PROPERTIES_LEN,
                false,
            )
        })
        .collect()
}

fn parse_record(
    field: &str,
    columns: &[Column],
    id: &str,
    properties: Option<&str>,
    max_len: usize,
    items: bool,
) -> Result<Record, RequestError> {
    let mut rec = Record {
        id: id.to_owned(),
        cells: vec![None; columns.len()],
        creation_time: None,
    };
    let Some(text) = properties else {
        return Ok(rec);
    };
    let pf = format!("{field}.properties");
    // The contract's check (length, a JSON object), then the schema's.
    let map = contract::properties_object(&pf, text, max_len, &[])?;
    for (key, value) in &map {
        let kf = format!("{pf}.{key}");
        let n = norm(key);
        if items && n == "creationtimestamp" {
            rec.creation_time = match value {
                Value::Null => None,
                #[allow(clippy::cast_possible_truncation)]
                Value::Number(x) => x
                    .as_f64()
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .map(|t| t as i64),
                _ => None,
            };
            if rec.creation_time.is_none() && !value.is_null() {
                return Err(RequestError::invalid(
                    kf,
                    "must be a non-negative Unix time in seconds",
                ));
            }
            continue;
        }
        let Some(pos) = columns.iter().position(|c| norm(&c.name) == n) else {
            let known: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            return Err(RequestError::invalid(
                kf,
                format!(
                    "is not a field of the schema (fields: {})",
                    known.join(", ")
                ),
            ));
        };
        rec.cells[pos] = cell(&kf, columns[pos].kind, value)?;
    }
    Ok(rec)
}

/// What a JSON value is, for messages: "a string", "an array", ….
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn cell(field: &str, kind: ColumnKind, v: &Value) -> Result<Option<Cell>, RequestError> {
    let wrong = |what: &str| RequestError::invalid(field, format!("must be {what}"));
    Ok(match (kind, v) {
        (_, Value::Null) => None,
        (ColumnKind::Numeric, Value::Number(x)) => Some(Cell::Numeric(
            x.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| wrong("a finite number"))?,
        )),
        (ColumnKind::Numeric, _) => return Err(wrong("a number")),
        (ColumnKind::Boolean, Value::Bool(b)) => Some(Cell::Categorical(vec![b.to_string()])),
        (ColumnKind::Boolean, Value::String(s)) if s == "true" || s == "false" => {
            Some(Cell::Categorical(vec![s.clone()]))
        }
        (ColumnKind::Boolean, _) => return Err(wrong("true or false")),
        (ColumnKind::Categorical, Value::String(s)) => {
            let vals: Vec<String> = s
                .split('|')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect();
            if vals.iter().any(|x| x.chars().count() > limits::MAX_ID_LEN) {
                return Err(wrong("categorical values of at most 256 characters each"));
            }
            (!vals.is_empty()).then_some(Cell::Categorical(vals))
        }
        (ColumnKind::Categorical, Value::Number(x)) => {
            Some(Cell::Categorical(vec![number_text(*x)]))
        }
        (ColumnKind::Categorical, Value::Bool(b)) => Some(Cell::Categorical(vec![b.to_string()])),
        (ColumnKind::Categorical, _) => return Err(wrong("a string (values separated by '|')")),
        (ColumnKind::Textual, Value::String(s)) => Some(Cell::Text(s.clone())),
        (ColumnKind::Textual, _) => return Err(wrong("a string")),
    })
}

/// A JSON number as category text, as `serde_json` prints it: integers in full, other values
/// as their shortest round-trip digits — plain from 1e-5 up to 1e16 (`12.5`, `5.0`,
/// `0.00001`), else in exponent form (`1e-7`, `1.5e+16`).
///
/// Written out here rather than through `Number`'s `Display` so that the wasm package carries
/// no float printer (see `crate::decimal`): up to 15 significant digits the text is exactly
/// `serde_json`'s; longer values get 17 digits that read back within a relative 1e-14.
fn number_text(x: Number) -> String {
    if let Some(i) = x.as_i64() {
        return i.to_string();
    }
    if let Some(u) = x.as_u64() {
        return u.to_string();
    }
    let f = x.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    crate::decimal::render(f, -5..16, ".0")
}

/// Writes `value` into row `row` of `column`: appends when `row` is the column's length,
/// else replaces the row.
pub(crate) fn set_row(column: &mut Column, row: usize, value: Option<&Cell>) {
    let append = row >= column.len();
    match &mut column.values {
        ColumnValues::Categorical {
            dictionary,
            offsets,
            codes,
        } => {
            let mut new_codes = Vec::new();
            if let Some(Cell::Categorical(vals)) = value {
                for v in vals {
                    let code = match dictionary.iter().position(|d| d == v) {
                        Some(c) => c,
                        None => {
                            dictionary.push(v.clone());
                            dictionary.len() - 1
                        }
                    };
                    new_codes.push(u32::try_from(code).unwrap_or(u32::MAX));
                }
            }
            if offsets.is_empty() {
                offsets.push(0);
            }
            if append {
                codes.extend(new_codes);
                offsets.push(u32::try_from(codes.len()).unwrap_or(u32::MAX));
            } else {
                let (a, b) = (offsets[row] as usize, offsets[row + 1] as usize);
                let old = b - a;
                codes.splice(a..b, new_codes.iter().copied());
                let delta =
                    i64::try_from(new_codes.len()).unwrap_or(0) - i64::try_from(old).unwrap_or(0);
                for o in &mut offsets[row + 1..] {
                    *o = u32::try_from(i64::from(*o) + delta).unwrap_or(0);
                }
            }
        }
        ColumnValues::Numeric(v) => {
            let x = match value {
                Some(Cell::Numeric(x)) => *x,
                _ => f64::NAN,
            };
            if append { v.push(x) } else { v[row] = x }
        }
        ColumnValues::Textual(v) => {
            let s = match value {
                Some(Cell::Text(s)) => s.clone(),
                _ => String::new(),
            };
            if append { v.push(s) } else { v[row] = s }
        }
    }
}

pub(crate) fn push_zero_row(e: &mut Embedding) {
    match e {
        Embedding::F32 { rows, dim, data } => {
            data.resize(data.len() + *dim as usize, 0.0);
            *rows += 1;
        }
        Embedding::Int8 {
            rows,
            dim,
            data,
            scales,
        } => {
            data.resize(data.len() + *dim as usize, 0);
            scales.push(0.0);
            *rows += 1;
        }
    }
}

/// Applies validated item records: replaces known items' metadata, appends new items (with
/// zero factors, zero popularity, ranked last). Returns how many items are new.
pub fn apply_items(model: &mut Model, index: &mut IdIndex, records: Vec<Record>) -> usize {
    let mut added = 0;
    for rec in records {
        let (row, is_new) = match index.get(&model.catalog.item_ids, &rec.id) {
            Some(r) => (r as usize, false),
            None => {
                let r = model.catalog.item_ids.len();
                let Ok(r32) = u32::try_from(r) else { continue };
                model.catalog.item_ids.push(&rec.id);
                index.push(&model.catalog.item_ids, r32);
                model
                    .catalog
                    .creation_time
                    .push(rec.creation_time.unwrap_or(model.meta.data_time));
                model.popularity.counts.push(0);
                model.popularity.ranked.push(r32);
                for rm in &mut model.recommenders {
                    match &mut rm.model {
                        RecommenderModel::Popularity(p) => {
                            p.counts.push(0);
                            p.ranked.push(r32);
                        }
                        RecommenderModel::Neighbors(n) => {
                            let last = n.offsets.last().copied().unwrap_or(0);
                            if n.offsets.is_empty() {
                                n.offsets.push(0);
                            }
                            n.offsets.push(last);
                        }
                        RecommenderModel::Factors(f) => push_zero_row(&mut f.item_factors),
                        // Its parts are other recommenders of the model.
                        RecommenderModel::Blend(_) => {}
                    }
                }
                added += 1;
                (r, true)
            }
        };
        if let Some(t) = rec.creation_time {
            model.catalog.creation_time.set(row, t);
        }
        for (c, value) in model.catalog.columns.iter_mut().zip(&rec.cells) {
            set_row(c, row, value.as_ref());
        }
        place_by_content(model, row, is_new);
    }
    added
}

/// Content vectors of item `row` after its metadata changed: the factor row of a new item
/// (trained items keep their factors) and the neighbour-search vector of any item.
fn place_by_content(model: &mut Model, row: usize, is_new: bool) {
    let catalog = &model.catalog;
    for rm in &mut model.recommenders {
        match &mut rm.model {
            RecommenderModel::Factors(f) if is_new => {
                if let Some(v) = f.content.as_deref().and_then(|c| c.vector(catalog, row)) {
                    crate::content::set_row(&mut f.item_factors, row, &v);
                }
            }
            RecommenderModel::Neighbors(n) => {
                if let Some(c) = n.content.as_deref_mut() {
                    let v = c.vector(catalog, row).unwrap_or_else(|| vec![0.0; c.dim()]);
                    if let Some(iv) = c.item_vectors.as_mut() {
                        if row >= iv.rows() {
                            push_zero_row(iv);
                        }
                        crate::content::set_row(iv, row, &v);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Applies validated user records: replaces known users' metadata, appends new users (no
/// factors, no history). Returns how many users are new.
pub fn apply_users(model: &mut Model, index: &mut IdIndex, records: Vec<Record>) -> usize {
    let mut added = 0;
    for rec in records {
        let row = match index.get(&model.users.user_ids, &rec.id) {
            Some(r) => r as usize,
            None => {
                let r = model.users.user_ids.len();
                let Ok(r32) = u32::try_from(r) else { continue };
                model.users.user_ids.push(&rec.id);
                index.push(&model.users.user_ids, r32);
                added += 1;
                r
            }
        };
        for (c, value) in model.users.columns.iter_mut().zip(&rec.cells) {
            set_row(c, row, value.as_ref());
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::number_text;
    use crate::json::Number;

    fn json(f: f64) -> serde_json::Number {
        serde_json::Number::from_f64(f).unwrap_or_else(|| serde_json::Number::from(0))
    }

    /// The number as `crate::json` holds it.
    fn ours(n: &serde_json::Number) -> Number {
        match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Number::PosInt(u),
            (None, Some(i)) => Number::NegInt(i),
            (None, None) => Number::Float(n.as_f64().unwrap_or(f64::NAN)),
        }
    }

    #[test]
    fn numbers_print_as_serde_json_does() {
        for f in [
            0.0,
            -0.0,
            0.1,
            12.5,
            5.0,
            -3.0,
            1e15,
            1e16,
            1.5e17,
            1e-4,
            1e-5,
            1.5e-6,
            1e-7,
            123_456.789,
        ] {
            assert_eq!(number_text(ours(&json(f))), json(f).to_string(), "{f:e}");
        }
        // extremes: 17 digits, close to the value
        for f in [
            1e300,
            -2.5e-300,
            1.5e307,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            1.0 / 3.0,
        ] {
            let back: f64 = number_text(ours(&json(f))).parse().unwrap_or(f64::NAN);
            assert!((back - f).abs() <= 1e-14 * f.abs(), "{f:e}");
        }
        for n in [
            serde_json::Number::from(-42i64),
            serde_json::Number::from(u64::MAX),
        ] {
            assert_eq!(number_text(ours(&n)), n.to_string());
        }
    }

    proptest! {
        /// Up to 15 significant digits (and exponents an `f64` power of ten covers) the
        /// shortest round-trip digits are unique, so the text is exactly `serde_json`'s.
        #[test]
        fn matches_serde_json_up_to_15_digits(m in -999_999_999_999_999i64..1_000_000_000_000_000, e in -22i32..8) {
            let f: f64 = format!("{m}e{e}").parse().unwrap_or(0.0);
            prop_assume!(f.is_finite() && f != 0.0);
            prop_assert_eq!(number_text(ours(&json(f))), json(f).to_string());
        }

        #[test]
        fn reads_back_close(bits in any::<u64>()) {
            let f = f64::from_bits(bits);
            prop_assume!(f.is_finite() && f.abs() > 1e-300);
            let back: f64 = number_text(ours(&json(f))).parse().unwrap_or(f64::NAN);
            prop_assert!((back - f).abs() <= 1e-14 * f.abs(), "{} {}", f, back);
        }
    }
}
