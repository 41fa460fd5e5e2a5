//! The three kinds of artefact table, read and checked row by row:
//!
//! * factors (Spark ALS's `itemFactors` / `userFactors`): `id` (int32/int64 or string) and
//!   `features` (a list of float or double), every row of the same rank;
//! * neighbours: `item`, `neighbour` (ids) and `weight` (float or double);
//! * popularity: `item` and `count` (integer or double, >= 0).
//!
//! Integer ids are written as decimal text, the form the catalogue's ids take. A null, a
//! non-finite number, a duplicate id or a row of another rank is refused with the file, the row
//! and the column.

use std::collections::HashSet;
use std::path::Path;

use super::error::ArtefactError;
use super::parquet::{File, Leaf, Values, parts};

/// Factors per id, row-major (`ids.len() × rank`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactorTable {
    pub ids: Vec<String>,
    pub rank: usize,
    pub values: Vec<f32>,
}

impl FactorTable {
    /// The factors of row `r`.
    #[must_use]
    pub fn row(&self, r: usize) -> &[f32] {
        self.values
            .get(r * self.rank..(r + 1) * self.rank)
            .unwrap_or(&[])
    }
}

/// One neighbour entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbor {
    pub item: String,
    pub neighbor: String,
    pub weight: f32,
}

/// A count per item.
#[derive(Debug, Clone, PartialEq)]
pub struct Count {
    pub item: String,
    pub count: f64,
}

/// Reads a factor table (`id`, `features`).
///
/// # Errors
/// See [`ArtefactError`]; an empty table is refused.
pub fn read_factors(path: &Path) -> Result<FactorTable, ArtefactError> {
    let mut t = FactorTable::default();
    let mut seen = HashSet::new();
    for file in parts(path)? {
        let f = File::open(&file)?;
        let ids = ids(&f, "id")?;
        let c = f.require("features")?;
        let leaf = f.read(c, "features")?;
        let lists = lists(&f, &leaf, "features")?;
        if lists.len() != ids.len() {
            return Err(disagree(&file, "id", "features"));
        }
        for (r, (id, (a, b))) in ids.into_iter().zip(lists).enumerate() {
            let row = r + 1;
            let values = float_slice(&leaf.values, a, b);
            if t.ids.is_empty() {
                t.rank = values.len();
                if t.rank == 0 {
                    return Err(ArtefactError::Rank {
                        path: file,
                        row,
                        found: 0,
                        expected: 1,
                    });
                }
            } else if values.len() != t.rank {
                return Err(ArtefactError::Rank {
                    path: file,
                    row,
                    found: values.len(),
                    expected: t.rank,
                });
            }
            for &v in values {
                t.values.push(finite(&file, row, "features", v, "")? as f32);
            }
            if !seen.insert(id.clone()) {
                return Err(ArtefactError::Duplicate {
                    path: file,
                    row,
                    what: "id",
                    id,
                });
            }
            t.ids.push(id);
        }
    }
    if t.ids.is_empty() {
        return Err(ArtefactError::Empty {
            path: path.to_owned(),
        });
    }
    Ok(t)
}

/// Reads a neighbour table (`item`, `neighbour`, `weight`; `neighbor` is accepted too).
/// Entries of an item with itself are dropped.
///
/// # Errors
/// See [`ArtefactError`].
pub fn read_neighbors(path: &Path) -> Result<Vec<Neighbor>, ArtefactError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for file in parts(path)? {
        let f = File::open(&file)?;
        let items = ids(&f, "item")?;
        let name = if f.find("neighbour").is_some() {
            "neighbour"
        } else {
            "neighbor"
        };
        let neighbors = ids(&f, name)?;
        let weights = numbers(&f, "weight")?;
        if neighbors.len() != items.len() || weights.len() != items.len() {
            return Err(disagree(&file, "item", name));
        }
        for (r, ((item, neighbor), weight)) in
            items.into_iter().zip(neighbors).zip(weights).enumerate()
        {
            let row = r + 1;
            let weight = finite(&file, row, "weight", weight, "")? as f32;
            if item == neighbor {
                continue;
            }
            if !seen.insert((item.clone(), neighbor.clone())) {
                return Err(ArtefactError::Duplicate {
                    path: file,
                    row,
                    what: "pair",
                    id: format!("{item} -> {neighbor}"),
                });
            }
            out.push(Neighbor {
                item,
                neighbor,
                weight,
            });
        }
    }
    Ok(out)
}

/// Reads a popularity table (`item`, `count`).
///
/// # Errors
/// See [`ArtefactError`]; a count must be finite and >= 0.
pub fn read_counts(path: &Path) -> Result<Vec<Count>, ArtefactError> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for file in parts(path)? {
        let f = File::open(&file)?;
        let items = ids(&f, "item")?;
        let counts = numbers(&f, "count")?;
        if counts.len() != items.len() {
            return Err(disagree(&file, "item", "count"));
        }
        for (r, (item, count)) in items.into_iter().zip(counts).enumerate() {
            let row = r + 1;
            let count = finite(&file, row, "count", count, " >= 0")?;
            if count < 0.0 {
                return Err(ArtefactError::Number {
                    path: file,
                    row,
                    column: "count".into(),
                    value: count,
                    rule: " >= 0",
                });
            }
            if !seen.insert(item.clone()) {
                return Err(ArtefactError::Duplicate {
                    path: file,
                    row,
                    what: "item",
                    id: item,
                });
            }
            out.push(Count { item, count });
        }
    }
    Ok(out)
}

fn disagree(path: &Path, a: &str, b: &str) -> ArtefactError {
    ArtefactError::Parquet {
        path: path.to_owned(),
        message: format!("columns {a} and {b} hold different numbers of rows"),
    }
}

fn finite(
    path: &Path,
    row: usize,
    column: &str,
    v: f64,
    rule: &'static str,
) -> Result<f64, ArtefactError> {
    // An f32 column takes the value as f32: it must stay finite there too.
    if v.is_finite() && (v.abs() <= f64::from(f32::MAX)) {
        Ok(v)
    } else {
        Err(ArtefactError::Number {
            path: path.to_owned(),
            row,
            column: column.to_owned(),
            value: v,
            rule,
        })
    }
}

/// A required scalar column's rows as ids: integers as decimal text, strings as they are.
fn ids(f: &File, column: &str) -> Result<Vec<String>, ArtefactError> {
    let leaf = scalar_column(f, column)?;
    let present = present(&leaf);
    match &leaf.values {
        Values::Int(v) => Ok(rows(f, column, &present, v)?
            .into_iter()
            .map(ToString::to_string)
            .collect()),
        Values::Bytes(v) => rows(f, column, &present, v)?
            .into_iter()
            .enumerate()
            .map(|(k, b)| {
                String::from_utf8(b.clone()).map_err(|_| ArtefactError::Utf8 {
                    path: f.path.clone(),
                    row: k + 1,
                    column: column.to_owned(),
                })
            })
            .collect(),
        Values::Float(_) => Err(ArtefactError::ColumnType {
            path: f.path.clone(),
            column: column.to_owned(),
            found: "a floating-point number".into(),
            expected: "an integer or a string id",
        }),
    }
}

/// A required scalar column's rows as numbers.
fn numbers(f: &File, column: &str) -> Result<Vec<f64>, ArtefactError> {
    let leaf = scalar_column(f, column)?;
    let present = present(&leaf);
    #[allow(clippy::cast_precision_loss)]
    match &leaf.values {
        Values::Int(v) => Ok(rows(f, column, &present, v)?
            .into_iter()
            .map(|&x| x as f64)
            .collect()),
        Values::Float(v) => Ok(rows(f, column, &present, v)?.into_iter().copied().collect()),
        Values::Bytes(_) => Err(ArtefactError::ColumnType {
            path: f.path.clone(),
            column: column.to_owned(),
            found: "a string".into(),
            expected: "a number",
        }),
    }
}

/// Column `column`, which must hold one value per row.
fn scalar_column(f: &File, column: &str) -> Result<Leaf, ArtefactError> {
    let c = f.require(column)?;
    let leaf = f.read(c, column)?;
    if leaf.max_rep > 0 {
        return Err(ArtefactError::ColumnType {
            path: f.path.clone(),
            column: column.to_owned(),
            found: "a list".into(),
            expected: "a single value per row",
        });
    }
    Ok(leaf)
}

/// Per row of a scalar column: whether its value is there.
fn present(leaf: &Leaf) -> Vec<bool> {
    if leaf.max_def == 0 {
        let n = match &leaf.values {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bytes(v) => v.len(),
        };
        vec![true; n]
    } else {
        leaf.def.iter().map(|&d| d == leaf.max_def).collect()
    }
}

/// The values of a scalar column's rows; a null row is refused.
fn rows<'a, T>(
    f: &File,
    column: &str,
    present: &[bool],
    values: &'a [T],
) -> Result<Vec<&'a T>, ArtefactError> {
    let mut it = values.iter();
    present
        .iter()
        .enumerate()
        .map(|(k, &p)| {
            p.then(|| it.next())
                .flatten()
                .ok_or_else(|| ArtefactError::Null {
                    path: f.path.clone(),
                    row: k + 1,
                    column: column.to_owned(),
                })
        })
        .collect()
}

/// Per row of a list column: the range of its values in the leaf's values. A null list, an
/// empty one or a null element is refused.
fn lists(f: &File, leaf: &Leaf, column: &str) -> Result<Vec<(usize, usize)>, ArtefactError> {
    if leaf.max_rep != 1 || !matches!(leaf.values, Values::Float(_)) {
        return Err(ArtefactError::ColumnType {
            path: f.path.clone(),
            column: column.to_owned(),
            found: if leaf.max_rep == 0 {
                "a single value per row".into()
            } else {
                "not a list of numbers".into()
            },
            expected: "a list of floats or doubles",
        });
    }
    let n = leaf.rep.len();
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut value = 0usize;
    for k in 0..n {
        let defined = leaf.max_def == 0 || leaf.def.get(k) == Some(&leaf.max_def);
        if leaf.rep[k] == 0 {
            out.push((value, value));
        }
        let Some(last) = out.last_mut() else {
            return Err(ArtefactError::Parquet {
                path: f.path.clone(),
                message: format!("column {column}: a list continues before it starts"),
            });
        };
        if !defined {
            return Err(ArtefactError::Null {
                path: f.path.clone(),
                row: out.len(),
                column: format!("{column} (or one of its values)"),
            });
        }
        value += 1;
        last.1 = value;
    }
    Ok(out)
}

fn float_slice(values: &Values, a: usize, b: usize) -> &[f64] {
    match values {
        Values::Float(v) => v.get(a..b).unwrap_or(&[]),
        _ => &[],
    }
}
