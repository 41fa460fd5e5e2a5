//! Personalize items and users CSVs: the id plus metadata fields, typed by an Avro schema file
//! or inferred from the values.

use std::collections::HashSet;
use std::path::Path;

use edgerec_core::ColumnKind;

use super::builder::{Builder, Cell, MetaTable};
use super::delimited::Layout;
use super::error::{DropReason, ImportError, Location, RowError};
use super::personalize::{Conversions, MAX_ITEM_FIELDS, MAX_USER_FIELDS, check_type};
use super::report::{FieldSource, FileReport, FileRole};
use super::rows::{Row, Rows};
use super::schema::FieldRole;
use super::schema::{AvroType, Schema, SchemaField, check_header, infer, read_schema};
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

    fn file_role(self) -> FileRole {
        match self {
            Self::Items => FileRole::Items,
            Self::Users => FileRole::Users,
        }
    }

    fn id_role(self) -> FieldRole {
        match self {
            Self::Items => FieldRole::ItemId,
            Self::Users => FieldRole::UserId,
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
    let mut rows = Rows::open(b, path, Layout::PERSONALIZE, entity.file_role())?;
    let header = rows.header()?;
    let schema = metadata_schema(path, schema_path, &header, entity, b)?;
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
    let stored = rows.collect(b)?;
    let Fields {
        fields,
        columns,
        metadata,
    } = declare(
        path,
        &header,
        schema.as_ref(),
        entity,
        id_col,
        &stored,
        &mut rows.report,
    )?;
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
    rows.each_of(&stored, b, |row, b| {
        let id = row.get(id_col);
        check_id(id, entity.id()).map_err(|e| row.err(id_col, e))?;
        let (cells, creation) = cells(row, &fields, table.columns.len(), &mut conv)?;
        let idx = match entity {
            Entity::Items => b.items.intern(id, "items")?,
            Entity::Users => b.users.intern(id, "users")?,
        };
        if !seen.insert(idx) {
            return Err(row.duplicate(id_col, entity.id()).into());
        }
        table.push(idx, cells);
        if let Some(c) = creation {
            b.item_creation.insert(idx, c);
        }
        Ok(())
    })?;
    conv.warn(path, &mut b.warnings);
    let report = rows.finish();
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

/// The schema file, checked against the header and the id's and creation time's types.
fn metadata_schema(
    path: &Path,
    schema_path: Option<&Path>,
    header: &[String],
    entity: Entity,
    b: &mut Builder,
) -> Result<Option<Schema>, ImportError> {
    let Some(p) = schema_path else {
        return Ok(None);
    };
    let schema = read_schema(p, entity.record(), &mut b.warnings)?;
    check_header(&schema, p, header, path)?;
    check_type(Some(&schema), schema_path, entity.id(), &[AvroType::String])?;
    check_type(
        Some(&schema),
        schema_path,
        "CREATION_TIMESTAMP",
        &[AvroType::Long, AvroType::Int],
    )?;
    Ok(Some(schema))
}

/// How the columns of a metadata file are read.
#[derive(Debug)]
struct Fields {
    /// Per header column (`None` for the id).
    fields: Vec<Option<MetaField>>,
    /// The [`MetaTable`] columns.
    columns: Vec<(String, ColumnKind)>,
    /// Metadata fields (all but the id and the creation time).
    metadata: usize,
}

impl Fields {
    /// Adds a metadata field read as `role` (a [`MetaTable`] column when the role keeps
    /// values).
    fn push_metadata(&mut self, name: &str, role: FieldRole, avro_type: AvroType, nullable: bool) {
        let kind = kind_of(role);
        let column = match kind {
            Some(k) => {
                self.columns.push((name.to_owned(), k));
                self.columns.len() - 1
            }
            None => usize::MAX,
        };
        self.fields.push(Some(MetaField {
            kind,
            avro_type,
            nullable,
            creation: false,
            column,
        }));
    }
}

/// How each header column is read, declared in `report`; types come from the schema or are
/// inferred from `rows`.
fn declare(
    path: &Path,
    header: &[String],
    schema: Option<&Schema>,
    entity: Entity,
    id_col: usize,
    rows: &[(u64, Vec<String>)],
    report: &mut FileReport,
) -> Result<Fields, ImportError> {
    let mut out = Fields {
        fields: Vec::with_capacity(header.len()),
        columns: Vec::new(),
        metadata: 0,
    };
    for (i, name) in header.iter().enumerate() {
        let col = i + 1;
        if i == id_col {
            let role = entity.id_role();
            report.field(
                name,
                col,
                AvroType::String,
                role,
                FieldSource::Reserved,
                None,
            );
            out.fields.push(None);
            continue;
        }
        let sf = schema.and_then(|s| s.field(name));
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
            out.fields.push(Some(MetaField {
                kind: None,
                avro_type: AvroType::Long,
                nullable,
                creation: true,
                column: usize::MAX,
            }));
            continue;
        }
        out.metadata += 1;
        if out.metadata > entity.max_fields() {
            return Err(ImportError::header(
                Location::new(path, 1, Some(col), Some(name)),
                format!(
                    "too many metadata fields: Personalize allows at most {} in a {} dataset",
                    entity.max_fields(),
                    entity.record().to_lowercase()
                ),
            ));
        }
        let (avro_type, role, src, note) = typed(sf, rows, i);
        report.field(name, col, avro_type, role, src, note);
        out.push_metadata(name, role, avro_type, nullable);
    }
    Ok(out)
}

/// The type, role, source and note of metadata column `i`: the schema's `sf`, or inferred
/// from the column's values in `rows`.
fn typed(
    sf: Option<&SchemaField>,
    rows: &[(u64, Vec<String>)],
    i: usize,
) -> (AvroType, FieldRole, FieldSource, Option<String>) {
    match sf {
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
    }
}

/// The cells of `row` (`n` columns) and its creation time; timestamps converted from
/// milliseconds and truncated texts are counted in `conv`.
fn cells(
    row: Row<'_>,
    fields: &[Option<MetaField>],
    n: usize,
    conv: &mut Conversions,
) -> Result<(Vec<Cell>, Option<i64>), RowError> {
    let mut cells = vec![Cell::Null; n];
    let mut creation = None;
    for (i, spec) in fields.iter().enumerate() {
        let Some(spec) = spec else { continue };
        let v = row.get(i);
        if v.is_empty() {
            if !spec.nullable {
                let message = format!(
                    "{} is empty but the schema does not allow null",
                    row.name(i)
                );
                return Err(row.error(i, DropReason::MissingField, message));
            }
            continue;
        }
        if spec.creation {
            let e = parse_epoch(v).map_err(|m| row.error(i, DropReason::BadTimestamp, m))?;
            if e.from_millis {
                conv.millis_at(|| row.at(i));
            }
            creation = Some(e.seconds);
            continue;
        }
        let Some(kind) = spec.kind else { continue };
        let cell = cell(row, i, kind, spec.avro_type, conv)?;
        if let Some(c) = cells.get_mut(spec.column) {
            *c = cell;
        }
    }
    Ok((cells, creation))
}

/// The non-empty value in column `i` of `row` as a cell of `kind`.
fn cell(
    row: Row<'_>,
    i: usize,
    kind: ColumnKind,
    avro_type: AvroType,
    conv: &mut Conversions,
) -> Result<Cell, RowError> {
    let v = row.get(i);
    let name = row.name(i);
    Ok(match kind {
        ColumnKind::Numeric => {
            let whole = matches!(avro_type, AvroType::Int | AvroType::Long);
            match parse_number(v).filter(|x| !whole || x.fract() == 0.0) {
                Some(x) => Cell::Number(x),
                None => {
                    let message = format!("invalid {} value {v:?} for {name}", avro_type.as_str());
                    return Err(row.error(i, DropReason::BadNumber, message));
                }
            }
        }
        ColumnKind::Boolean => match parse_bool(v) {
            Some(x) => Cell::Labels(vec![x.to_string()]),
            None => {
                let message = format!("invalid boolean {v:?} for {name}: expected true or false");
                return Err(row.error(i, DropReason::BadBoolean, message));
            }
        },
        ColumnKind::Categorical => {
            let mut labels = Vec::new();
            for x in split_categorical(v) {
                check_categorical(x, name).map_err(|e| row.err(i, e))?;
                labels.push(x.to_owned());
            }
            Cell::labels(labels)
        }
        ColumnKind::Textual => {
            let (text, cut) = normalise_text(v);
            if cut {
                conv.truncated_at(|| row.at(i));
            }
            Cell::text(text)
        }
    })
}
