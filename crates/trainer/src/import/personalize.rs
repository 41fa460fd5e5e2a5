//! Personalize interactions CSVs: the reserved fields plus up to 5 contextual columns, with an
//! optional Avro schema file. Items and users files are read by `metadata`.

use std::path::Path;

use super::builder::{Builder, Event};
use super::delimited::Layout;
use super::error::{DropReason, ImportError, Location, RowError};
use super::report::{FieldSource, FileReport, FileRole};
use super::rows::{Row, Rows};
use super::schema::FieldRole;
use super::schema::{AvroType, Schema, check_header, read_schema};
use super::text::{MAX_CATEGORICAL_CHARS, check_categorical, check_id, split_categorical};
use super::time::parse_epoch;

/// The event type given to every interaction when the file has no `EVENT_TYPE` column.
pub const DEFAULT_EVENT_TYPE: &str = "click";
/// Personalize's limit on contextual (interaction metadata) columns.
pub const MAX_CONTEXT_COLUMNS: usize = 5;
/// Personalize's limit on user metadata fields.
pub const MAX_USER_FIELDS: usize = 5;
/// Personalize's limit on item metadata fields.
pub const MAX_ITEM_FIELDS: usize = 50;

/// Counts of values converted while reading a file, turned into warnings at the end.
#[derive(Debug, Default)]
pub(crate) struct Conversions {
    pub millis: usize,
    pub first_millis: Option<Location>,
    pub truncated: usize,
    pub first_truncated: Option<Location>,
}

impl Conversions {
    pub fn millis_at(&mut self, loc: impl FnOnce() -> Location) {
        self.millis += 1;
        if self.first_millis.is_none() {
            self.first_millis = Some(loc());
        }
    }

    pub fn truncated_at(&mut self, loc: impl FnOnce() -> Location) {
        self.truncated += 1;
        if self.first_truncated.is_none() {
            self.first_truncated = Some(loc());
        }
    }

    pub fn warn(self, path: &Path, warnings: &mut Vec<String>) {
        if let Some(at) = self.first_millis {
            warnings.push(format!(
                "{}: {} timestamp(s) looked like epoch milliseconds (≥ 1e11) and were converted to seconds (first at {at})",
                path.display(),
                self.millis
            ));
        }
        if let Some(at) = self.first_truncated {
            warnings.push(format!(
                "{}: {} textual value(s) were longer than 20,000 characters and were truncated (first at {at})",
                path.display(),
                self.truncated
            ));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    User,
    Item,
    Time,
    EventType,
    EventValue,
    Impression,
    RecommendationId,
    Context(usize),
    Ignored,
}

pub(crate) fn check_type(
    schema: Option<&Schema>,
    path: Option<&Path>,
    name: &str,
    ok: &[AvroType],
) -> Result<(), ImportError> {
    let (Some(s), Some(p)) = (schema, path) else {
        return Ok(());
    };
    match s.field(name) {
        Some(f) if !ok.contains(&f.avro_type) => Err(ImportError::Schema {
            path: p.to_path_buf(),
            message: format!(
                "field {name:?} must be {}, found {}",
                ok.iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                f.avro_type.as_str()
            ),
        }),
        _ => Ok(()),
    }
}

/// Where the fields of an interactions file are (0-based columns).
#[derive(Debug)]
struct Columns {
    user: usize,
    item: usize,
    time: usize,
    event_type: Option<usize>,
    value: Option<usize>,
    impression: Option<usize>,
    recommendation_id: Option<usize>,
    /// The contextual columns, and their names.
    context: Vec<usize>,
    context_names: Vec<String>,
    /// Per column: whether the schema forbids null (an empty value).
    not_null: Vec<bool>,
}

/// Read a Personalize interactions CSV into `b`.
///
/// # Errors
/// Unreadable file, bad schema, unusable header. Malformed rows are collected in `b`.
pub(crate) fn read_interactions(
    path: &Path,
    schema_path: Option<&Path>,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let mut rows = Rows::open(b, path, Layout::PERSONALIZE, FileRole::Interactions)?;
    let header = rows.header()?;
    let schema = interactions_schema(path, schema_path, &header, b)?;
    let cols = columns(path, &header, schema.as_ref(), &mut rows.report)?;
    if b.min_event_value.is_some() && cols.value.is_none() {
        return Err(ImportError::Spec(format!(
            "{}: a minimum event value was given but the file has no EVENT_VALUE column",
            path.display()
        )));
    }
    b.set_context_columns(&cols.context_names);
    b.enable_optional(cols.impression.is_some(), cols.recommendation_id.is_some());
    let mut conv = Conversions::default();
    rows.each(b, |row, b| {
        let e = cols.event(row, &mut conv)?;
        if !b.passes_threshold(e.value) {
            return Err(row.below_threshold(cols.value.unwrap_or(0), b).into());
        }
        b.push(&e)?;
        Ok(())
    })?;
    conv.warn(path, &mut b.warnings);
    let context = cols.context.len();
    if context + b_event_types(b) > 10 {
        b.warnings.push(format!(
            "{}: Personalize allows at most 10 distinct event types plus contextual columns; found {} + {}",
            path.display(),
            b_event_types(b),
            context
        ));
    }
    Ok(rows.finish())
}

/// The interactions schema file, checked against the header and the reserved fields' types.
fn interactions_schema(
    path: &Path,
    schema_path: Option<&Path>,
    header: &[String],
    b: &mut Builder,
) -> Result<Option<Schema>, ImportError> {
    let Some(p) = schema_path else {
        return Ok(None);
    };
    let schema = read_schema(p, "Interactions", &mut b.warnings)?;
    check_header(&schema, p, header, path)?;
    let s = Some(&schema);
    check_type(s, schema_path, "USER_ID", &[AvroType::String])?;
    check_type(s, schema_path, "ITEM_ID", &[AvroType::String])?;
    check_type(
        s,
        schema_path,
        "TIMESTAMP",
        &[AvroType::Long, AvroType::Int],
    )?;
    check_type(s, schema_path, "EVENT_TYPE", &[AvroType::String])?;
    let numeric = [
        AvroType::Float,
        AvroType::Double,
        AvroType::Int,
        AvroType::Long,
    ];
    check_type(s, schema_path, "EVENT_VALUE", &numeric)?;
    check_type(s, schema_path, "IMPRESSION", &[AvroType::String])?;
    check_type(s, schema_path, "RECOMMENDATION_ID", &[AvroType::String])?;
    Ok(Some(schema))
}

/// What each header column holds (declared in `report`), and where the fields are.
fn columns(
    path: &Path,
    header: &[String],
    s: Option<&Schema>,
    report: &mut FileReport,
) -> Result<Columns, ImportError> {
    let mut slots = Vec::with_capacity(header.len());
    let mut context = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let (slot, ty, role, note) = slot_of(name, s, &context).ok_or_else(|| {
            ImportError::header(
                Location::new(path, 1, Some(i + 1), Some(name)),
                format!(
                    "too many contextual columns: at most {MAX_CONTEXT_COLUMNS} besides the reserved fields \
                     (found {} so far: {})",
                    context.len() + 1,
                    context.join(", ")
                ),
            )
        })?;
        if let Slot::Context(_) = slot {
            context.push(name.clone());
        }
        let reserved = !matches!(slot, Slot::Context(_)) && role != FieldRole::Ignored;
        let source = if reserved {
            FieldSource::Reserved
        } else if s.is_some() {
            FieldSource::Schema
        } else {
            FieldSource::Inferred
        };
        let ty = s.and_then(|s| s.field(name)).map_or(ty, |f| f.avro_type);
        report.field(name, i + 1, ty, role, source, note);
        slots.push(slot);
    }
    let find = |slot: Slot| slots.iter().position(|&x| x == slot);
    let missing: Vec<&str> = [
        ("USER_ID", Slot::User),
        ("ITEM_ID", Slot::Item),
        ("TIMESTAMP", Slot::Time),
    ]
    .iter()
    .filter(|(_, slot)| find(*slot).is_none())
    .map(|(n, _)| *n)
    .collect();
    if !missing.is_empty() {
        return Err(ImportError::header(
            Location::new(path, 1, None, None),
            format!(
                "missing required column(s) {} (found: {}); interactions need USER_ID, ITEM_ID and TIMESTAMP",
                missing.join(", "),
                header.join(", ")
            ),
        ));
    }
    Ok(Columns {
        user: find(Slot::User).unwrap_or(0),
        item: find(Slot::Item).unwrap_or(0),
        time: find(Slot::Time).unwrap_or(0),
        event_type: find(Slot::EventType),
        value: find(Slot::EventValue),
        impression: find(Slot::Impression),
        recommendation_id: find(Slot::RecommendationId),
        context: (0..context.len())
            .filter_map(|c| find(Slot::Context(c)))
            .collect(),
        context_names: context,
        not_null: (0..header.len())
            .map(|i| s.and_then(|s| s.fields.get(i)).is_some_and(|f| !f.nullable))
            .collect(),
    })
}

/// The slot, type, role and note of header column `name`, given the contextual columns so
/// far; `None` when it would be one contextual column too many.
fn slot_of(
    name: &str,
    s: Option<&Schema>,
    context: &[String],
) -> Option<(Slot, AvroType, FieldRole, Option<String>)> {
    let note = |n: &str| Some(n.to_owned());
    Some(match name {
        "USER_ID" => (Slot::User, AvroType::String, FieldRole::UserId, None),
        "ITEM_ID" => (Slot::Item, AvroType::String, FieldRole::ItemId, None),
        "TIMESTAMP" => (
            Slot::Time,
            AvroType::Long,
            FieldRole::Timestamp,
            note("epoch seconds"),
        ),
        "EVENT_TYPE" => (
            Slot::EventType,
            AvroType::String,
            FieldRole::EventType,
            note("compared case-insensitively, stored lower-cased"),
        ),
        "EVENT_VALUE" => (
            Slot::EventValue,
            AvroType::Float,
            FieldRole::EventValue,
            None,
        ),
        "IMPRESSION" => (
            Slot::Impression,
            AvroType::String,
            FieldRole::Impression,
            note("|-separated item ids"),
        ),
        "RECOMMENDATION_ID" => (
            Slot::RecommendationId,
            AvroType::String,
            FieldRole::RecommendationId,
            None,
        ),
        "EVENT_ATTRIBUTION_SOURCE" => (
            Slot::Ignored,
            AvroType::String,
            FieldRole::Ignored,
            note("metric attribution only; not kept in the dataset"),
        ),
        _ => match s.and_then(|s| s.field(name)) {
            Some(f) if f.avro_type == AvroType::String && !f.categorical => (
                Slot::Ignored,
                AvroType::String,
                FieldRole::Ignored,
                note("string field without \"categorical\": true (ignored, as Personalize does)"),
            ),
            f => {
                if context.len() == MAX_CONTEXT_COLUMNS {
                    return None;
                }
                let ty = f.map_or(AvroType::String, |f| f.avro_type);
                let note = (ty != AvroType::String)
                    .then(|| "values kept as categorical labels".to_owned());
                (Slot::Context(context.len()), ty, FieldRole::Context, note)
            }
        },
    })
}

impl Columns {
    fn not_null(&self, i: usize) -> bool {
        self.not_null.get(i).copied().unwrap_or(false)
    }

    /// The interaction of `row`; timestamps converted from milliseconds are counted in `conv`.
    fn event<'r>(&self, row: Row<'r>, conv: &mut Conversions) -> Result<Event<'r>, RowError> {
        let user = row.get(self.user);
        check_id(user, "USER_ID").map_err(|e| row.err(self.user, e))?;
        let item = row.get(self.item);
        check_id(item, "ITEM_ID").map_err(|e| row.err(self.item, e))?;
        let ts = row.required(self.time, "TIMESTAMP")?;
        let epoch =
            parse_epoch(ts).map_err(|m| row.error(self.time, DropReason::BadTimestamp, m))?;
        if epoch.from_millis {
            conv.millis_at(|| row.at(self.time));
        }
        let event_type = match self.event_type {
            Some(i) => row.required(i, "EVENT_TYPE")?,
            None => DEFAULT_EVENT_TYPE,
        };
        Ok(Event {
            user,
            item,
            timestamp: epoch.seconds,
            event_type,
            value: self.value(row)?,
            impression: self.impression(row)?,
            recommendation_id: self.recommendation_id.map(|i| row.get(i)),
            context: self.context(row)?,
        })
    }

    /// `EVENT_VALUE`, NaN when absent (or empty where the schema allows null).
    fn value(&self, row: Row<'_>) -> Result<f32, RowError> {
        let Some(i) = self.value else {
            return Ok(f32::NAN);
        };
        match row.get(i) {
            "" if self.not_null(i) => Err(row.error(
                i,
                DropReason::MissingField,
                "EVENT_VALUE is empty but the schema does not allow null".into(),
            )),
            "" => Ok(f32::NAN),
            v => match v.parse::<f32>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(row.error(
                    i,
                    DropReason::BadNumber,
                    format!("invalid EVENT_VALUE {v:?}: expected a number"),
                )),
            },
        }
    }

    /// The `IMPRESSION` item ids, when the file has the column.
    fn impression<'r>(&self, row: Row<'r>) -> Result<Option<Vec<&'r str>>, RowError> {
        let Some(i) = self.impression else {
            return Ok(None);
        };
        let v = row.get(i);
        let n = v.chars().count();
        if n > MAX_CATEGORICAL_CHARS {
            return Err(row.error(
                i,
                DropReason::ValueTooLong,
                format!("IMPRESSION is {n} characters long; the limit is {MAX_CATEGORICAL_CHARS}"),
            ));
        }
        let ids: Vec<&str> = split_categorical(v).collect();
        for id in &ids {
            check_id(id, "IMPRESSION item id").map_err(|e| row.err(i, e))?;
        }
        Ok(Some(ids))
    }

    /// The contextual values, one per contextual column (empty = null).
    fn context<'r>(&self, row: Row<'r>) -> Result<Vec<&'r str>, RowError> {
        let mut ctx = Vec::with_capacity(self.context.len());
        for &i in &self.context {
            let v = row.get(i);
            let name = row.name(i);
            check_categorical(v, name).map_err(|e| row.err(i, e))?;
            if v.is_empty() && self.not_null(i) {
                return Err(row.error(
                    i,
                    DropReason::MissingField,
                    format!("{name} is empty but the schema does not allow null"),
                ));
            }
            ctx.push(v);
        }
        Ok(ctx)
    }
}

fn b_event_types(b: &Builder) -> usize {
    b.interactions
        .event_type
        .iter()
        .copied()
        .max()
        .map_or(0, |m| usize::from(m) + 1)
}
