//! Personalize items and users CSVs: the id plus metadata fields, typed by an Avro schema file
//! or inferred from the values.

use std::collections::HashSet;
use std::path::Path;

use edgerec_core::ColumnKind;

use super::builder::{Builder, Cell, MetaTable};
use super::delimited::{Layout, Next};
use super::error::{DropReason, ImportError, Location, RowError};
use super::personalize::{Conversions, MAX_ITEM_FIELDS, MAX_USER_FIELDS, check_type};
use super::report::{FieldSource, FileReport, FileRole};
use super::schema::FieldRole;
use super::schema::{AvroType, SchemaField, check_header, infer, read_schema};
use super::text::{
    check_categorical, check_id, normalise_text, parse_bool, parse_number, split_categorical,
};
use super::time::parse_epoch;

/// Which metadata file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entity {
    Items,
    Users,
}

impl Entity {
    fn id(self) -> &'static str {
        match self {
            Self::Items => "ITEM_ID",
            Self::Users => "USER_ID",
        }
    }

    fn record(self) -> &'static str {
        match self {
            Self::Items => "Items",
            Self::Users => "Users",
        }
    }

    fn max_fields(self) -> usize {
        match self {
            Self::Items => MAX_ITEM_FIELDS,
            Self::Users => MAX_USER_FIELDS,
        }
    }
}

/// How one metadata field is read.
#[derive(Debug, Clone)]
struct MetaField {
    kind: Option<ColumnKind>,
    avro_type: AvroType,
    nullable: bool,
    creation: bool,
    /// Position in the [`MetaTable`] columns.
    column: usize,
}

/// The role and note for a schema field.
fn schema_role(f: &SchemaField) -> (FieldRole, Option<String>) {
    match f.avro_type {
        t if t.is_numeric() => (FieldRole::Numeric, None),
        AvroType::Boolean => (FieldRole::Boolean, None),
        _ if f.categorical => (FieldRole::Categorical, None),
        _ if f.textual => (FieldRole::Textual, None),
        _ if f.item_name => (FieldRole::Textual, Some("itemName (item title), kept as text".to_owned())),
        _ => (
            FieldRole::Ignored,
            Some("string field without \"categorical\" or \"textual\" (ignored, as Personalize does)".to_owned()),
        ),
    }
}

fn kind_of(role: FieldRole) -> Option<ColumnKind> {
    match role {
        FieldRole::Numeric => Some(ColumnKind::Numeric),
        FieldRole::Boolean => Some(ColumnKind::Boolean),
        FieldRole::Categorical => Some(ColumnKind::Categorical),
        FieldRole::Textual => Some(ColumnKind::Textual),
        _ => None,
    }
}

/// Read a Personalize items or users CSV into `b`.
///
/// # Errors
/// Unreadable file, bad schema, unusable header. Malformed rows are collected in `b`.
pub(crate) fn read_metadata(
    path: &Path,
    schema_path: Option<&Path>,
    entity: Entity,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let role = match entity {
        Entity::Items => FileRole::Items,
        Entity::Users => FileRole::Users,
    };
    let mut report = FileReport::new(path, role);
    let mut t = b.open(path, Layout::PERSONALIZE)?;
    let header = t.read_header()?;
    let schema = match schema_path {
        Some(p) => {
            let s = read_schema(p, entity.record(), &mut b.warnings)?;
            check_header(&s, p, &header, path)?;
            Some(s)
        }
        None => None,
    };
    check_type(
        schema.as_ref(),
        schema_path,
        entity.id(),
        &[AvroType::String],
    )?;
    check_type(
        schema.as_ref(),
        schema_path,
        "CREATION_TIMESTAMP",
        &[AvroType::Long, AvroType::Int],
    )?;
    let Some(id_col) = header.iter().position(|h| h == entity.id()) else {
        return Err(ImportError::header(
            Location::new(path, 1, None, None),
            format!(
                "missing required column {} (found: {})",
                entity.id(),
                header.join(", ")
            ),
        ));
    };

    // Read every row first: types may have to be inferred from all values.
    let mut rows: Vec<(u64, Vec<String>)> = Vec::new();
    loop {
        match t.next_row()? {
            Next::End => break,
            Next::Bad(e) => {
                report.rows_read += 1;
                b.reject(&mut report, e);
            }
            Next::Row(line) => {
                report.rows_read += 1;
                rows.push((line, std::mem::take(&mut t.fields)));
            }
        }
    }

    let mut fields: Vec<Option<MetaField>> = Vec::with_capacity(header.len());
    let mut columns = Vec::new();
    let mut metadata = 0usize;
    for (i, name) in header.iter().enumerate() {
        let col = i + 1;
        if i == id_col {
            report.field(
                name,
                col,
                AvroType::String,
                if entity == Entity::Items {
                    FieldRole::ItemId
                } else {
                    FieldRole::UserId
                },
                FieldSource::Reserved,
                None,
            );
            fields.push(None);
            continue;
        }
        let sf = schema.as_ref().and_then(|s| s.field(name));
        let nullable = sf.is_none_or(|f| f.nullable);
        if entity == Entity::Items && name == "CREATION_TIMESTAMP" {
            report.field(
                name,
                col,
                AvroType::Long,
                FieldRole::CreationTimestamp,
                FieldSource::Reserved,
                Some("epoch seconds".into()),
            );
            fields.push(Some(MetaField {
                kind: None,
                avro_type: AvroType::Long,
                nullable,
                creation: true,
                column: usize::MAX,
            }));
            continue;
        }
        metadata += 1;
        if metadata > entity.max_fields() {
            return Err(ImportError::header(
                Location::new(path, 1, Some(col), Some(name)),
                format!(
                    "too many metadata fields: Personalize allows at most {} in a {} dataset",
                    entity.max_fields(),
                    entity.record().to_lowercase()
                ),
            ));
        }
        let (avro_type, role, src, note) = match sf {
            Some(f) => {
                let (role, note) = schema_role(f);
                (f.avro_type, role, FieldSource::Schema, note)
            }
            None => {
                let inf = infer(
                    rows.iter()
                        .map(|(_, r)| r.get(i).map_or("", String::as_str)),
                );
                (
                    inf.avro_type,
                    inf.role,
                    FieldSource::Inferred,
                    Some(inf.note),
                )
            }
        };
        report.field(name, col, avro_type, role, src, note);
        let kind = kind_of(role);
        let column = if kind.is_some() {
            columns.len()
        } else {
            usize::MAX
        };
        if let Some(k) = kind {
            columns.push((name.clone(), k));
        }
        fields.push(Some(MetaField {
            kind,
            avro_type,
            nullable,
            creation: false,
            column,
        }));
    }
    if metadata == 0 {
        b.warnings.push(format!(
            "{}: no metadata fields besides {}; Personalize requires at least one",
            path.display(),
            entity.id()
        ));
    }

    let mut table = MetaTable::new(columns);
    let mut seen: HashSet<u32> = HashSet::new();
    let mut conv = Conversions::default();
    for (line, row) in &rows {
        let line = *line;
        let get = |i: usize| row.get(i).map_or("", String::as_str);
        let err =
            |i: usize, (reason, message): (DropReason, String)| t.error(line, i, reason, message);
        let id = get(id_col);
        if let Err(e) = check_id(id, entity.id()) {
            b.reject(&mut report, err(id_col, e));
            continue;
        }
        let parsed = (|| -> Result<(Vec<Cell>, Option<i64>), RowError> {
            let mut cells = vec![Cell::Null; table.columns.len()];
            let mut creation = None;
            for (i, spec) in fields.iter().enumerate() {
                let Some(spec) = spec else { continue };
                let v = get(i);
                let name = header.get(i).map_or("", String::as_str);
                if v.is_empty() {
                    if !spec.nullable {
                        return Err(err(
                            i,
                            (
                                DropReason::MissingField,
                                format!("{name} is empty but the schema does not allow null"),
                            ),
                        ));
                    }
                    continue;
                }
                if spec.creation {
                    let e = parse_epoch(v).map_err(|m| err(i, (DropReason::BadTimestamp, m)))?;
                    if e.from_millis {
                        conv.millis_at(|| t.at(line, i));
                    }
                    creation = Some(e.seconds);
                    continue;
                }
                let cell = match spec.kind {
                    None => continue,
                    Some(ColumnKind::Numeric) => {
                        let x = parse_number(v).filter(|x| {
                            !matches!(spec.avro_type, AvroType::Int | AvroType::Long)
                                || x.fract() == 0.0
                        });
                        match x {
                            Some(x) => Cell::Number(x),
                            None => {
                                return Err(err(
                                    i,
                                    (
                                        DropReason::BadNumber,
                                        format!(
                                            "invalid {} value {v:?} for {name}",
                                            spec.avro_type.as_str()
                                        ),
                                    ),
                                ));
                            }
                        }
                    }
                    Some(ColumnKind::Boolean) => match parse_bool(v) {
                        Some(x) => Cell::Labels(vec![x.to_string()]),
                        None => {
                            return Err(err(
                                i,
                                (
                                    DropReason::BadBoolean,
                                    format!(
                                        "invalid boolean {v:?} for {name}: expected true or false"
                                    ),
                                ),
                            ));
                        }
                    },
                    Some(ColumnKind::Categorical) => {
                        let mut labels = Vec::new();
                        for x in split_categorical(v) {
                            check_categorical(x, name).map_err(|e| err(i, e))?;
                            labels.push(x.to_owned());
                        }
                        if labels.is_empty() {
                            Cell::Null
                        } else {
                            Cell::Labels(labels)
                        }
                    }
                    Some(ColumnKind::Textual) => {
                        let (text, cut) = normalise_text(v);
                        if cut {
                            conv.truncated_at(|| t.at(line, i));
                        }
                        if text.is_empty() {
                            Cell::Null
                        } else {
                            Cell::Text(text)
                        }
                    }
                };
                if let Some(c) = cells.get_mut(spec.column) {
                    *c = cell;
                }
            }
            Ok((cells, creation))
        })();
        match parsed {
            Ok((cells, creation)) => {
                let idx = match entity {
                    Entity::Items => b.items.intern(id, "items")?,
                    Entity::Users => b.users.intern(id, "users")?,
                };
                if !seen.insert(idx) {
                    let msg = format!(
                        "{} {id:?} already has a row; this one is ignored",
                        entity.id()
                    );
                    b.reject(&mut report, err(id_col, (DropReason::DuplicateId, msg)));
                    continue;
                }
                table.push(idx, cells);
                if let Some(c) = creation {
                    b.item_creation.insert(idx, c);
                }
                report.rows_kept += 1;
            }
            Err(e) => b.reject(&mut report, e),
        }
    }
    conv.warn(path, &mut b.warnings);
    let dups = report.dropped_for(DropReason::DuplicateId);
    if dups > 0 {
        b.warnings.push(format!(
            "{}: {dups} duplicate {} row(s) were dropped (the first row of each id is kept)",
            path.display(),
            entity.id()
        ));
    }
    match entity {
        Entity::Items => b.item_meta = Some(table),
        Entity::Users => b.user_meta = Some(table),
    }
    Ok(report)
}
