//! Writing a [`Dataset`] as normalised Personalize CSVs plus Avro schema files, so that any
//! input format becomes the canonical one (and importing the output gives the same dataset).

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use edgerec_core::{Column, ColumnKind, ColumnValues};

use super::error::ImportError;
use super::schema::{AvroType, SchemaField, render_schema};
use super::text::escape_text;
use crate::dataset::Dataset;

pub const INTERACTIONS_CSV: &str = "interactions.csv";
pub const ITEMS_CSV: &str = "items.csv";
pub const USERS_CSV: &str = "users.csv";
pub const INTERACTIONS_SCHEMA: &str = "interactions.schema.json";
pub const ITEMS_SCHEMA: &str = "items.schema.json";
pub const USERS_SCHEMA: &str = "users.schema.json";

/// Append a CSV field: quoted when it holds a comma, quote, backslash or line break; inside
/// quotes `"` is doubled and `\` is escaped as `\\` (Personalize's reading rule).
fn push_field(line: &mut String, value: &str) {
    if value.contains([',', '"', '\\', '\n', '\r'])
        || value.starts_with(char::is_whitespace)
        || value.ends_with(char::is_whitespace)
    {
        line.push('"');
        for c in value.chars() {
            match c {
                '"' => line.push_str("\"\""),
                '\\' => line.push_str("\\\\"),
                c => line.push(c),
            }
        }
        line.push('"');
    } else {
        line.push_str(value);
    }
}

fn push_row(line: &mut String, fields: &[String]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_field(line, f);
    }
    line.push('\n');
}

struct Out {
    path: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    line: String,
}

impl Out {
    fn create(path: PathBuf) -> Result<Self, ImportError> {
        let file = std::fs::File::create(&path).map_err(|e| ImportError::io(&path, e))?;
        Ok(Self {
            path,
            file: std::io::BufWriter::new(file),
            line: String::new(),
        })
    }

    fn row(&mut self, fields: &[String]) -> Result<(), ImportError> {
        self.line.clear();
        push_row(&mut self.line, fields);
        self.file
            .write_all(self.line.as_bytes())
            .map_err(|e| ImportError::io(&self.path, e))
    }

    fn finish(mut self) -> Result<PathBuf, ImportError> {
        self.file
            .flush()
            .map_err(|e| ImportError::io(&self.path, e))?;
        Ok(self.path)
    }
}

fn write_text(path: PathBuf, text: &str) -> Result<PathBuf, ImportError> {
    std::fs::write(&path, text).map_err(|e| ImportError::io(&path, e))?;
    Ok(path)
}

/// Format a number so that parsing it gives the same value back.
fn number(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

fn cell(col: &Column, row: usize) -> String {
    match &col.values {
        ColumnValues::Categorical { .. } => {
            col.categorical_values(row).collect::<Vec<_>>().join("|")
        }
        ColumnValues::Numeric(v) => v.get(row).map_or(String::new(), |x| number(*x)),
        ColumnValues::Textual(v) => v.get(row).map_or(String::new(), |s| escape_text(s)),
    }
}

fn column_field(col: &Column) -> SchemaField {
    let (ty, categorical, textual) = match col.kind {
        ColumnKind::Categorical => (AvroType::String, true, false),
        ColumnKind::Numeric => (AvroType::Double, false, false),
        ColumnKind::Textual => (AvroType::String, false, true),
        ColumnKind::Boolean => (AvroType::Boolean, false, false),
    };
    let mut f = SchemaField::new(&col.name, ty, true);
    f.categorical = categorical;
    f.textual = textual;
    f
}

/// Write `interactions.csv`, and `items.csv` / `users.csv` when the dataset has item or user
/// metadata, each with its `*.schema.json`, into `dir` (created if missing).
///
/// # Errors
/// [`ImportError::Io`] when a file cannot be written.
pub fn write_personalize(ds: &Dataset, dir: &Path) -> Result<Vec<PathBuf>, ImportError> {
    std::fs::create_dir_all(dir).map_err(|e| ImportError::io(dir, e))?;
    let mut written = Vec::new();
    let x = &ds.interactions;
    let has_value = x.event_value.iter().any(|v| !v.is_nan());
    let mut fields = vec![
        SchemaField::new("USER_ID", AvroType::String, false),
        SchemaField::new("ITEM_ID", AvroType::String, false),
        SchemaField::new("TIMESTAMP", AvroType::Long, false),
        SchemaField::new("EVENT_TYPE", AvroType::String, false),
    ];
    if has_value {
        fields.push(SchemaField::new("EVENT_VALUE", AvroType::Float, true));
    }
    if x.impression.is_some() {
        fields.push(SchemaField::new("IMPRESSION", AvroType::String, true));
    }
    if x.recommendation_id.is_some() {
        fields.push(SchemaField::new(
            "RECOMMENDATION_ID",
            AvroType::String,
            true,
        ));
    }
    for c in &x.context {
        let mut f = SchemaField::new(&c.name, AvroType::String, true);
        f.categorical = true;
        fields.push(f);
    }
    let mut out = Out::create(dir.join(INTERACTIONS_CSV))?;
    out.row(&fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>())?;
    let id = |ids: &[String], i: u32| ids.get(i as usize).cloned().unwrap_or_default();
    let mut row = Vec::with_capacity(fields.len());
    for r in 0..x.len() {
        row.clear();
        row.push(id(&ds.user_ids, x.user[r]));
        row.push(id(&ds.item_ids, x.item[r]));
        row.push(x.timestamp.get(r).copied().unwrap_or_default().to_string());
        row.push(
            x.event_type
                .get(r)
                .and_then(|&t| ds.event_types.get(usize::from(t)))
                .cloned()
                .unwrap_or_default(),
        );
        if has_value {
            let v = x.event_value.get(r).copied().unwrap_or(f32::NAN);
            row.push(if v.is_nan() {
                String::new()
            } else {
                format!("{v}")
            });
        }
        if let Some(imp) = &x.impression {
            let mut s = String::new();
            for (k, &i) in imp.get(r).into_iter().flatten().enumerate() {
                if k > 0 {
                    s.push('|');
                }
                let _ = write!(s, "{}", id(&ds.item_ids, i));
            }
            row.push(s);
        }
        if let Some(rec) = &x.recommendation_id {
            row.push(rec.get(r).cloned().flatten().unwrap_or_default());
        }
        for c in &x.context {
            let code = c.codes.get(r).copied().unwrap_or(u32::MAX);
            row.push(c.dictionary.get(code as usize).cloned().unwrap_or_default());
        }
        out.row(&row)?;
    }
    written.push(out.finish()?);
    written.push(write_text(
        dir.join(INTERACTIONS_SCHEMA),
        &render_schema("Interactions", &fields),
    )?);

    let has_creation = ds.item_creation.iter().any(Option::is_some);
    if !ds.item_columns.is_empty() || has_creation {
        let mut fields = vec![SchemaField::new("ITEM_ID", AvroType::String, false)];
        fields.extend(ds.item_columns.iter().map(column_field));
        if has_creation {
            fields.push(SchemaField::new("CREATION_TIMESTAMP", AvroType::Long, true));
        }
        let mut out = Out::create(dir.join(ITEMS_CSV))?;
        out.row(&fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>())?;
        for (i, item) in ds.item_ids.iter().enumerate() {
            row.clear();
            row.push(item.clone());
            row.extend(ds.item_columns.iter().map(|c| cell(c, i)));
            if has_creation {
                row.push(
                    ds.item_creation
                        .get(i)
                        .copied()
                        .flatten()
                        .map_or(String::new(), |t| t.to_string()),
                );
            }
            out.row(&row)?;
        }
        written.push(out.finish()?);
        written.push(write_text(
            dir.join(ITEMS_SCHEMA),
            &render_schema("Items", &fields),
        )?);
    }

    if !ds.user_columns.is_empty() {
        let mut fields = vec![SchemaField::new("USER_ID", AvroType::String, false)];
        fields.extend(ds.user_columns.iter().map(column_field));
        let mut out = Out::create(dir.join(USERS_CSV))?;
        out.row(&fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>())?;
        for (i, user) in ds.user_ids.iter().enumerate() {
            row.clear();
            row.push(user.clone());
            row.extend(ds.user_columns.iter().map(|c| cell(c, i)));
            out.row(&row)?;
        }
        written.push(out.finish()?);
        written.push(write_text(
            dir.join(USERS_SCHEMA),
            &render_schema("Users", &fields),
        )?);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let mut s = String::new();
        push_row(
            &mut s,
            &[
                "a".into(),
                "b,c".into(),
                "say \"hi\"".into(),
                "back\\slash".into(),
                " pad".into(),
            ],
        );
        assert_eq!(
            s,
            "a,\"b,c\",\"say \"\"hi\"\"\",\"back\\\\slash\",\" pad\"\n"
        );
    }
}
