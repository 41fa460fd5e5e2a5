//! Personalize interactions CSVs: the reserved fields plus up to 5 contextual columns, with an
//! optional Avro schema file. Items and users files are read by `metadata`.

use std::path::Path;

use super::builder::{Builder, Event};
use super::delimited::{Layout, Next};
use super::error::{DropReason, ImportError, Location, RowError};
use super::report::{FieldSource, FileReport, FileRole};
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

/// Read a Personalize interactions CSV into `b`.
///
/// # Errors
/// Unreadable file, bad schema, unusable header. Malformed rows are collected in `b`.
pub(crate) fn read_interactions(
    path: &Path,
    schema_path: Option<&Path>,
    b: &mut Builder,
) -> Result<FileReport, ImportError> {
    let mut t = b.open(path, Layout::PERSONALIZE)?;
    let header = t.read_header()?;
    let schema = match schema_path {
        Some(p) => {
            let s = read_schema(p, "Interactions", &mut b.warnings)?;
            check_header(&s, p, &header, path)?;
            Some(s)
        }
        None => None,
    };
    let s = schema.as_ref();
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

    let mut report = FileReport::new(path, FileRole::Interactions);
    let source = |reserved: bool| {
        if reserved {
            FieldSource::Reserved
        } else if s.is_some() {
            FieldSource::Schema
        } else {
            FieldSource::Inferred
        }
    };
    let mut slots = Vec::with_capacity(header.len());
    let mut context = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let col = i + 1;
        let (slot, ty, role, note) = match name.as_str() {
            "USER_ID" => (Slot::User, AvroType::String, FieldRole::UserId, None),
            "ITEM_ID" => (Slot::Item, AvroType::String, FieldRole::ItemId, None),
            "TIMESTAMP" => (
                Slot::Time,
                AvroType::Long,
                FieldRole::Timestamp,
                Some("epoch seconds".to_owned()),
            ),
            "EVENT_TYPE" => (
                Slot::EventType,
                AvroType::String,
                FieldRole::EventType,
                Some("compared case-insensitively, stored lower-cased".to_owned()),
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
                Some("|-separated item ids".to_owned()),
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
                Some("metric attribution only; not kept in the dataset".to_owned()),
            ),
            _ => {
                let f = s.and_then(|s| s.field(name));
                match f {
                    Some(f) if f.avro_type == AvroType::String && !f.categorical => (
                        Slot::Ignored,
                        AvroType::String,
                        FieldRole::Ignored,
                        Some("string field without \"categorical\": true (ignored, as Personalize does)".to_owned()),
                    ),
                    _ => {
                        if context.len() == MAX_CONTEXT_COLUMNS {
                            return Err(ImportError::header(
                                Location::new(path, 1, Some(col), Some(name)),
                                format!(
                                    "too many contextual columns: at most {MAX_CONTEXT_COLUMNS} besides the reserved fields \
                                     (found {} so far: {})",
                                    context.len() + 1,
                                    context.join(", ")
                                ),
                            ));
                        }
                        context.push(name.clone());
                        let ty = f.map_or(AvroType::String, |f| f.avro_type);
                        let note = (ty != AvroType::String).then(|| "values kept as categorical labels".to_owned());
                        (Slot::Context(context.len() - 1), ty, FieldRole::Context, note)
                    }
                }
            }
        };
        let reserved = !matches!(slot, Slot::Context(_)) && role != FieldRole::Ignored;
        let ty = s.and_then(|s| s.field(name)).map_or(ty, |f| f.avro_type);
        report.field(name, col, ty, role, source(reserved), note);
        slots.push(slot);
    }
    let find = |slot: Slot| slots.iter().position(|&x| x == slot);
    let mut required = [
        ("USER_ID", Slot::User),
        ("ITEM_ID", Slot::Item),
        ("TIMESTAMP", Slot::Time),
    ]
    .iter()
    .filter(|(_, slot)| find(*slot).is_none())
    .map(|(n, _)| *n)
    .peekable();
    if required.peek().is_some() {
        let missing: Vec<&str> = required.collect();
        return Err(ImportError::header(
            Location::new(path, 1, None, None),
            format!(
                "missing required column(s) {} (found: {}); interactions need USER_ID, ITEM_ID and TIMESTAMP",
                missing.join(", "),
                header.join(", ")
            ),
        ));
    }
    let (ui, ii, ti) = (
        find(Slot::User).unwrap_or(0),
        find(Slot::Item).unwrap_or(0),
        find(Slot::Time).unwrap_or(0),
    );
    let (eti, evi, imi, rci) = (
        find(Slot::EventType),
        find(Slot::EventValue),
        find(Slot::Impression),
        find(Slot::RecommendationId),
    );
    if b.min_event_value.is_some() && evi.is_none() {
        return Err(ImportError::Spec(format!(
            "{}: a minimum event value was given but the file has no EVENT_VALUE column",
            path.display()
        )));
    }
    let context_idx: Vec<usize> = (0..context.len())
        .filter_map(|c| find(Slot::Context(c)))
        .collect();
    b.set_context_columns(&context);
    b.enable_optional(imi.is_some(), rci.is_some());
    let not_null = |i: usize| s.and_then(|s| s.fields.get(i)).is_some_and(|f| !f.nullable);

    let mut conv = Conversions::default();
    loop {
        let line = match t.next_row()? {
            Next::End => break,
            Next::Bad(e) => {
                report.rows_read += 1;
                b.reject(&mut report, e);
                continue;
            }
            Next::Row(line) => line,
        };
        report.rows_read += 1;
        let f = &t.fields;
        let get = |i: usize| f.get(i).map_or("", String::as_str);
        let parsed = (|| -> Result<Event<'_>, RowError> {
            let err = |i: usize, (reason, message): (DropReason, String)| {
                t.error(line, i, reason, message)
            };
            let user = get(ui);
            check_id(user, "USER_ID").map_err(|e| err(ui, e))?;
            let item = get(ii);
            check_id(item, "ITEM_ID").map_err(|e| err(ii, e))?;
            let ts = get(ti);
            if ts.is_empty() {
                return Err(err(
                    ti,
                    (DropReason::MissingField, "TIMESTAMP is empty".into()),
                ));
            }
            let epoch = parse_epoch(ts).map_err(|m| err(ti, (DropReason::BadTimestamp, m)))?;
            if epoch.from_millis {
                conv.millis_at(|| t.at(line, ti));
            }
            let event_type = match eti {
                Some(i) if get(i).is_empty() => {
                    return Err(err(
                        i,
                        (DropReason::MissingField, "EVENT_TYPE is empty".into()),
                    ));
                }
                Some(i) => get(i),
                None => DEFAULT_EVENT_TYPE,
            };
            let value = match evi {
                Some(i) if get(i).is_empty() => {
                    if not_null(i) {
                        return Err(err(
                            i,
                            (
                                DropReason::MissingField,
                                "EVENT_VALUE is empty but the schema does not allow null".into(),
                            ),
                        ));
                    }
                    f32::NAN
                }
                Some(i) => match get(i).parse::<f32>() {
                    Ok(v) if v.is_finite() => v,
                    _ => {
                        return Err(err(
                            i,
                            (
                                DropReason::BadNumber,
                                format!("invalid EVENT_VALUE {:?}: expected a number", get(i)),
                            ),
                        ));
                    }
                },
                None => f32::NAN,
            };
            let impression = match imi {
                Some(i) => {
                    let v = get(i);
                    let n = v.chars().count();
                    if n > MAX_CATEGORICAL_CHARS {
                        return Err(err(
                            i,
                            (
                                DropReason::ValueTooLong,
                                format!(
                                    "IMPRESSION is {n} characters long; the limit is {MAX_CATEGORICAL_CHARS}"
                                ),
                            ),
                        ));
                    }
                    let ids: Vec<&str> = split_categorical(v).collect();
                    for id in &ids {
                        check_id(id, "IMPRESSION item id").map_err(|e| err(i, e))?;
                    }
                    Some(ids)
                }
                None => None,
            };
            let mut ctx = Vec::with_capacity(context_idx.len());
            for &i in &context_idx {
                let v = get(i);
                let name = t.names.get(i).map_or("", String::as_str);
                check_categorical(v, name).map_err(|e| err(i, e))?;
                if v.is_empty() && not_null(i) {
                    return Err(err(
                        i,
                        (
                            DropReason::MissingField,
                            format!("{name} is empty but the schema does not allow null"),
                        ),
                    ));
                }
                ctx.push(v);
            }
            Ok(Event {
                user,
                item,
                timestamp: epoch.seconds,
                event_type,
                value,
                impression,
                recommendation_id: rci.map(get),
                context: ctx,
            })
        })();
        match parsed {
            Ok(e) => {
                if b.passes_threshold(e.value) {
                    b.push(&e)?;
                    report.rows_kept += 1;
                } else {
                    let i = evi.unwrap_or(0);
                    let msg = b.threshold_message(get(i));
                    let e = t.error(line, i, DropReason::BelowEventValueThreshold, msg);
                    b.reject(&mut report, e);
                }
            }
            Err(e) => b.reject(&mut report, e),
        }
    }
    conv.warn(path, &mut b.warnings);
    if context.len() + b_event_types(b) > 10 {
        b.warnings.push(format!(
            "{}: Personalize allows at most 10 distinct event types plus contextual columns; found {} + {}",
            path.display(),
            b_event_types(b),
            context.len()
        ));
    }
    Ok(report)
}

fn b_event_types(b: &Builder) -> usize {
    b.interactions
        .event_type
        .iter()
        .copied()
        .max()
        .map_or(0, |m| usize::from(m) + 1)
}
