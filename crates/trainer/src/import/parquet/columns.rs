//! What each column of a Parquet file holds: its role (by case-insensitive name, as in the CSV
//! importer), and its type, checked against what the role accepts.

use std::path::Path;

use ::parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use ::parquet::schema::types::{ColumnDescriptor, SchemaDescriptor};

use super::super::error::ImportError;
use super::super::report::{FieldSource, FileReport};
use super::super::schema::{AvroType, FieldRole};

/// How a column's values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// BYTE_ARRAY (strings; binary without annotation is read as UTF-8 too).
    Text,
    /// INT32 / INT64, signed.
    Int,
    /// INT32 / INT64 annotated unsigned (their bits hold the value); `wide` for INT64.
    UInt {
        wide: bool,
    },
    /// FLOAT / DOUBLE.
    Float,
    Bool,
    /// INT64 TIMESTAMP: units per second.
    Timestamp(i64),
    /// INT96 timestamps (older Spark and Hive).
    Int96,
    /// INT32 DATE: days since 1970-01-01.
    Date,
    /// Anything else (decimals, fixed-length bytes, times of day, intervals...).
    Other,
}

impl Kind {
    pub(super) fn of(d: &ColumnDescriptor) -> Self {
        let logical = d.logical_type_ref();
        match d.physical_type() {
            Physical::BYTE_ARRAY => match (logical, d.converted_type()) {
                (Some(LogicalType::Decimal(_)), _) | (_, ConvertedType::DECIMAL) => Self::Other,
                _ => Self::Text,
            },
            Physical::BOOLEAN => Self::Bool,
            Physical::FLOAT | Physical::DOUBLE => Self::Float,
            Physical::INT96 => Self::Int96,
            Physical::INT32 | Physical::INT64 => match (logical, d.converted_type()) {
                (Some(LogicalType::Timestamp(t)), _) => Self::Timestamp(match t.unit {
                    TimeUnit::MILLIS => 1_000,
                    TimeUnit::MICROS => 1_000_000,
                    TimeUnit::NANOS => 1_000_000_000,
                }),
                (_, ConvertedType::TIMESTAMP_MILLIS) => Self::Timestamp(1_000),
                (_, ConvertedType::TIMESTAMP_MICROS) => Self::Timestamp(1_000_000),
                (Some(LogicalType::Date), _) | (_, ConvertedType::DATE) => Self::Date,
                (Some(LogicalType::Integer(i)), _) if !i.is_signed => Self::UInt {
                    wide: d.physical_type() == Physical::INT64,
                },
                (
                    _,
                    ConvertedType::UINT_8
                    | ConvertedType::UINT_16
                    | ConvertedType::UINT_32
                    | ConvertedType::UINT_64,
                ) => Self::UInt {
                    wide: d.physical_type() == Physical::INT64,
                },
                (Some(LogicalType::Integer(_)) | None, _) => match d.converted_type() {
                    ConvertedType::NONE
                    | ConvertedType::INT_8
                    | ConvertedType::INT_16
                    | ConvertedType::INT_32
                    | ConvertedType::INT_64 => Self::Int,
                    _ => Self::Other,
                },
                _ => Self::Other,
            },
            Physical::FIXED_LEN_BYTE_ARRAY => Self::Other,
        }
    }

    /// The closest Avro type, for the report.
    fn avro(self, d: &ColumnDescriptor) -> AvroType {
        match self {
            Self::Int | Self::UInt { .. } if d.physical_type() == Physical::INT32 => AvroType::Int,
            Self::Int | Self::UInt { .. } | Self::Timestamp(_) | Self::Int96 | Self::Date => {
                AvroType::Long
            }
            Self::Float if d.physical_type() == Physical::FLOAT => AvroType::Float,
            Self::Float => AvroType::Double,
            Self::Bool => AvroType::Boolean,
            Self::Text | Self::Other => AvroType::String,
        }
    }
}

/// A column's type as the file declares it: `INT64 (TIMESTAMP(MILLIS))`, `BYTE_ARRAY (STRING)`.
pub(super) fn describe(d: &ColumnDescriptor) -> String {
    let physical = d.physical_type().to_string();
    match (d.logical_type_ref(), d.converted_type()) {
        (Some(l), _) => format!("{physical} ({})", logical_name(l)),
        (None, ConvertedType::NONE) => physical,
        (None, c) => format!("{physical} ({c})"),
    }
}

fn logical_name(l: &LogicalType) -> String {
    match l {
        LogicalType::Timestamp(t) | LogicalType::Time(t) => {
            let unit = match t.unit {
                TimeUnit::MILLIS => "MILLIS",
                TimeUnit::MICROS => "MICROS",
                TimeUnit::NANOS => "NANOS",
            };
            let what = if matches!(l, LogicalType::Timestamp(_)) {
                "TIMESTAMP"
            } else {
                "TIME"
            };
            format!("{what}({unit})")
        }
        LogicalType::Integer(i) => format!(
            "INT({}, {})",
            i.bit_width,
            if i.is_signed { "signed" } else { "unsigned" }
        ),
        LogicalType::Decimal(d) => format!("DECIMAL({}, {})", d.precision, d.scale),
        other => format!("{other:?}").to_ascii_uppercase(),
    }
}

/// What a column is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    User,
    Item,
    Time,
    EventType,
    EventValue,
    Impression,
    RecommendationId,
    Session,
    EventId,
    Properties,
    /// Any other plain column: a contextual field of the interactions.
    Extra,
    Ignored,
}

impl Slot {
    fn of(name: &str) -> Self {
        match name {
            "USER_ID" => Self::User,
            "ITEM_ID" => Self::Item,
            "TIMESTAMP" => Self::Time,
            "EVENT_TYPE" => Self::EventType,
            "EVENT_VALUE" => Self::EventValue,
            "IMPRESSION" => Self::Impression,
            "RECOMMENDATION_ID" => Self::RecommendationId,
            "SESSION_ID" => Self::Session,
            "EVENT_ID" => Self::EventId,
            "PROPERTIES" => Self::Properties,
            "EVENT_ATTRIBUTION_SOURCE" => Self::Ignored,
            _ => Self::Extra,
        }
    }

    /// The kinds the slot accepts, and how to say it.
    fn accepts(self, kind: Kind) -> Result<(), &'static str> {
        let ok = match self {
            Self::User | Self::Item | Self::Session | Self::EventId => {
                matches!(kind, Kind::Text | Kind::Int | Kind::UInt { .. })
            }
            Self::Time => !matches!(kind, Kind::Text | Kind::Bool | Kind::Other),
            Self::EventValue => matches!(kind, Kind::Int | Kind::UInt { .. } | Kind::Float),
            Self::EventType | Self::Impression | Self::RecommendationId | Self::Properties => {
                kind == Kind::Text
            }
            Self::Extra => matches!(
                kind,
                Kind::Text | Kind::Int | Kind::UInt { .. } | Kind::Float | Kind::Bool
            ),
            Self::Ignored => true,
        };
        if ok {
            return Ok(());
        }
        Err(match self {
            Self::User | Self::Item | Self::Session | Self::EventId => "a string or an integer",
            Self::Time => {
                "epoch seconds (INT64, INT32 or DOUBLE) or a TIMESTAMP (MILLIS, MICROS or NANOS)"
            }
            Self::EventValue => "a number (DOUBLE, FLOAT, INT32 or INT64)",
            _ => "a string",
        })
    }

    fn role(self) -> FieldRole {
        match self {
            Self::User => FieldRole::UserId,
            Self::Item => FieldRole::ItemId,
            Self::Time => FieldRole::Timestamp,
            Self::EventType => FieldRole::EventType,
            Self::EventValue => FieldRole::EventValue,
            Self::Impression => FieldRole::Impression,
            Self::RecommendationId => FieldRole::RecommendationId,
            Self::Session => FieldRole::SessionId,
            Self::EventId => FieldRole::EventId,
            Self::Properties => FieldRole::Properties,
            Self::Extra => FieldRole::Context,
            Self::Ignored => FieldRole::Ignored,
        }
    }

    fn note(self, kind: Kind) -> Option<&'static str> {
        Some(match (self, kind) {
            (
                Self::User | Self::Item | Self::Session | Self::EventId,
                Kind::Int | Kind::UInt { .. },
            ) => "integers read as decimal text",
            (Self::Time, Kind::Timestamp(_) | Kind::Int96) => "converted to epoch seconds",
            (Self::Time, Kind::Date) => "days, converted to epoch seconds (midnight UTC)",
            (Self::Time, _) => "epoch seconds",
            (Self::EventType, _) => "compared case-insensitively, stored lower-cased",
            (Self::Impression, _) => "|-separated item ids",
            (Self::Session, _) => "events without USER_ID count for their session's user",
            (Self::EventId, _) => "rows repeating an EVENT_ID already read are dropped",
            (Self::Properties, _) => {
                "a JSON object: its top-level values are contextual fields (camelCase keys as UPPER_SNAKE)"
            }
            (Self::Extra, Kind::Text) => return None,
            (Self::Extra, _) => "values kept as categorical labels",
            (Self::Ignored, _) => "metric attribution only; not kept in the dataset",
            _ => return None,
        })
    }
}

/// One column the reader uses.
#[derive(Debug, Clone)]
pub(super) struct Col {
    /// Leaf index in the file's schema.
    pub index: usize,
    pub name: String,
    pub kind: Kind,
}

/// Where a file's fields are.
#[derive(Debug, Clone, Default)]
pub(super) struct FileColumns {
    pub user: Option<Col>,
    pub item: Option<Col>,
    pub time: Option<Col>,
    pub event_type: Option<Col>,
    pub value: Option<Col>,
    pub impression: Option<Col>,
    pub recommendation_id: Option<Col>,
    pub session: Option<Col>,
    pub event_id: Option<Col>,
    pub properties: Option<Col>,
    /// Contextual fields, in schema order.
    pub extra: Vec<Col>,
}

impl FileColumns {
    /// The columns of `schema` (a file at `path`), declaring those not in `report` yet.
    ///
    /// # Errors
    /// [`ImportError::Schema`] for a missing required column, a reserved column of the wrong
    /// type, nested or repeated, or two columns with the same name.
    pub(super) fn of(
        path: &Path,
        schema: &SchemaDescriptor,
        report: &mut FileReport,
    ) -> Result<Self, ImportError> {
        let err = |message: String| ImportError::Schema {
            path: path.to_path_buf(),
            message,
        };
        let mut cols = Self::default();
        let mut names: Vec<String> = Vec::new();
        for (index, d) in schema.columns().iter().enumerate() {
            let parts = d.path().parts();
            let top = parts
                .first()
                .map_or("", String::as_str)
                .to_ascii_uppercase();
            let nested = parts.len() > 1 || d.max_rep_level() > 0;
            let slot = Slot::of(&top);
            if nested {
                if slot != Slot::Extra && slot != Slot::Ignored {
                    return Err(err(format!(
                        "column {top} is nested (a list, map or struct); {top} must be a plain column"
                    )));
                }
                if !names.contains(&top) {
                    names.push(top.clone());
                    declare(
                        report,
                        &top,
                        index,
                        AvroType::String,
                        FieldRole::Ignored,
                        Some("a nested column (list, map or struct): not read"),
                    );
                }
                continue;
            }
            if names.contains(&top) {
                return Err(err(format!(
                    "two columns are named {top} (names are compared case-insensitively)"
                )));
            }
            names.push(top.clone());
            let kind = Kind::of(d);
            if let Err(expected) = slot.accepts(kind) {
                if slot == Slot::Extra {
                    declare(
                        report,
                        &top,
                        index,
                        AvroType::String,
                        FieldRole::Ignored,
                        Some("a type contextual fields cannot hold (not read)"),
                    );
                    continue;
                }
                return Err(err(format!(
                    "column {top} (column {}) is {}; {top} must be {expected}",
                    index + 1,
                    describe(d)
                )));
            }
            declare(
                report,
                &top,
                index,
                kind.avro(d),
                slot.role(),
                slot.note(kind),
            );
            let col = Some(Col {
                index,
                name: top,
                kind,
            });
            match slot {
                Slot::User => cols.user = col,
                Slot::Item => cols.item = col,
                Slot::Time => cols.time = col,
                Slot::EventType => cols.event_type = col,
                Slot::EventValue => cols.value = col,
                Slot::Impression => cols.impression = col,
                Slot::RecommendationId => cols.recommendation_id = col,
                Slot::Session => cols.session = col,
                Slot::EventId => cols.event_id = col,
                Slot::Properties => cols.properties = col,
                Slot::Extra => cols.extra.extend(col),
                Slot::Ignored => {}
            }
        }
        let missing: Vec<&str> = [
            ("USER_ID", cols.user.is_none()),
            ("ITEM_ID", cols.item.is_none()),
            ("TIMESTAMP", cols.time.is_none()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        if !missing.is_empty() {
            return Err(err(format!(
                "missing required column(s) {} (found: {}); interactions need USER_ID, ITEM_ID and TIMESTAMP",
                missing.join(", "),
                names.join(", ")
            )));
        }
        Ok(cols)
    }
}

/// Adds a field to the report unless a file read before declared it.
pub(super) fn declare(
    report: &mut FileReport,
    name: &str,
    index: usize,
    ty: AvroType,
    role: FieldRole,
    note: Option<&str>,
) {
    if report.fields.iter().any(|f| f.name == name) {
        return;
    }
    let source = match role {
        FieldRole::Context | FieldRole::Ignored => FieldSource::Inferred,
        _ => FieldSource::Reserved,
    };
    report.field(name, index + 1, ty, role, source, note.map(str::to_owned));
}
