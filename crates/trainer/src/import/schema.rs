//! Personalize's Avro schema files (docs/personalize.md): parsing, validation against a CSV
//! header, writing, and type inference for files that come without a schema.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use super::error::{ImportError, Location};
use super::text::{parse_bool, parse_number};

/// How a field is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRole {
    UserId,
    ItemId,
    Timestamp,
    EventType,
    EventValue,
    Impression,
    RecommendationId,
    /// Contextual (interaction metadata) categorical column.
    Context,
    Categorical,
    Numeric,
    Boolean,
    Textual,
    CreationTimestamp,
    /// An event's session (anonymous events count for their session's user).
    SessionId,
    /// An event's unique id (repeated ids are dropped).
    EventId,
    /// An event's other properties (a JSON object), expanded into contextual fields.
    Properties,
    /// Read but not used (the note says why).
    Ignored,
}

impl fmt::Display for FieldRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UserId => "user id",
            Self::ItemId => "item id",
            Self::Timestamp => "timestamp",
            Self::EventType => "event type",
            Self::EventValue => "event value",
            Self::Impression => "impression",
            Self::RecommendationId => "recommendation id",
            Self::Context => "context (categorical)",
            Self::Categorical => "categorical",
            Self::Numeric => "numeric",
            Self::Boolean => "boolean",
            Self::Textual => "textual",
            Self::CreationTimestamp => "creation timestamp",
            Self::SessionId => "session id",
            Self::EventId => "event id",
            Self::Properties => "properties",
            Self::Ignored => "ignored",
        })
    }
}

/// The primitive Avro types Personalize accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AvroType {
    String,
    Int,
    Long,
    Float,
    Double,
    Boolean,
}

impl AvroType {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Int => "int",
            Self::Long => "long",
            Self::Float => "float",
            Self::Double => "double",
            Self::Boolean => "boolean",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "string" => Self::String,
            "int" => Self::Int,
            "long" => Self::Long,
            "float" => Self::Float,
            "double" => Self::Double,
            "boolean" => Self::Boolean,
            _ => return None,
        })
    }

    #[must_use]
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Int | Self::Long | Self::Float | Self::Double)
    }
}

/// One field of a schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaField {
    /// Upper-case name.
    pub name: String,
    pub avro_type: AvroType,
    /// Declared as a `["null", T]` union.
    pub nullable: bool,
    pub categorical: bool,
    pub textual: bool,
    /// `"itemName": true` (the item's title).
    pub item_name: bool,
}

impl SchemaField {
    #[must_use]
    pub fn new(name: &str, avro_type: AvroType, nullable: bool) -> Self {
        Self {
            name: name.to_ascii_uppercase(),
            avro_type,
            nullable,
            categorical: false,
            textual: false,
            item_name: false,
        }
    }
}

/// A parsed schema file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Schema {
    /// The record name (`Interactions`, `Items`, `Users`).
    pub name: String,
    pub fields: Vec<SchemaField>,
}

impl Schema {
    /// The field named `name` (case-insensitive).
    #[must_use]
    pub fn field(&self, name: &str) -> Option<&SchemaField> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }
}

/// Read and validate a schema file. Warnings (e.g. an unexpected record name) go to `warnings`.
///
/// # Errors
/// [`ImportError::Io`] when unreadable, [`ImportError::Schema`] when invalid.
pub fn read_schema(
    path: &Path,
    expected_name: &str,
    warnings: &mut Vec<String>,
) -> Result<Schema, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ImportError::io(path, e))?;
    parse_schema(path, &text, expected_name, warnings)
}

/// Parse and validate schema JSON text (`path` is only used in messages).
///
/// # Errors
/// [`ImportError::Schema`] naming the problem.
pub fn parse_schema(
    path: &Path,
    text: &str,
    expected_name: &str,
    warnings: &mut Vec<String>,
) -> Result<Schema, ImportError> {
    let bad = |message: String| ImportError::Schema {
        path: path.to_path_buf(),
        message,
    };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    let obj = v
        .as_object()
        .ok_or_else(|| bad("expected a JSON object".into()))?;
    match obj.get("type").and_then(Value::as_str) {
        Some("record") => {}
        other => return Err(bad(format!("\"type\" must be \"record\", found {other:?}"))),
    }
    let name = obj
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if !name.eq_ignore_ascii_case(expected_name) {
        warnings.push(format!(
            "{}: record name {name:?} does not match the dataset type {expected_name:?}",
            path.display()
        ));
    }
    let fields = obj
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("\"fields\" must be an array".into()))?;
    let mut out = Vec::with_capacity(fields.len());
    let mut seen = HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let n = i + 1;
        let fname = f
            .get("name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad(format!("field {n} has no \"name\"")))?;
        let key: String = fname
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !seen.insert(key) {
            return Err(bad(format!(
                "field {fname:?} collides with an earlier field (names must be unique ignoring case and non-alphanumerics)"
            )));
        }
        let (avro_type, nullable) =
            field_type(f.get("type")).map_err(|m| bad(format!("field {fname:?}: {m}")))?;
        let flag = |k: &str| f.get(k).and_then(Value::as_bool).unwrap_or(false);
        let mut field = SchemaField::new(fname, avro_type, nullable);
        field.categorical = flag("categorical");
        field.textual = flag("textual");
        field.item_name = flag("itemName");
        if field.categorical && field.textual {
            return Err(bad(format!(
                "field {fname:?} cannot be both categorical and textual"
            )));
        }
        if (field.categorical || field.textual) && avro_type != AvroType::String {
            return Err(bad(format!(
                "field {fname:?}: categorical/textual fields must be strings, found {}",
                avro_type.as_str()
            )));
        }
        out.push(field);
    }
    Ok(Schema { name, fields: out })
}

fn field_type(t: Option<&Value>) -> Result<(AvroType, bool), String> {
    let prim = |s: &str| {
        AvroType::parse(s).ok_or_else(|| {
            format!("unknown type {s:?} (expected string, int, long, float, double or boolean)")
        })
    };
    match t {
        Some(Value::String(s)) => prim(s).map(|t| (t, false)),
        Some(Value::Array(u)) => {
            let mut has_null = false;
            let mut inner = None;
            for x in u {
                match x.as_str() {
                    Some("null") => has_null = true,
                    Some(s) if inner.is_none() => inner = Some(prim(s)?),
                    _ => {
                        return Err(format!(
                            "unsupported union {}: use [\"null\", T]",
                            Value::Array(u.clone())
                        ));
                    }
                }
            }
            match inner {
                Some(t) => Ok((t, has_null)),
                None => Err("a union needs one non-null type".into()),
            }
        }
        Some(other @ Value::Object(_)) => Err(format!(
            "nested types are not supported ({other}); Personalize schemas are flat"
        )),
        Some(other) => Err(format!("invalid type {other}")),
        None => Err("missing \"type\"".into()),
    }
}

/// Check that the header lists exactly the schema's fields in the same order.
///
/// # Errors
/// [`ImportError::Header`] at the first column that differs.
pub fn check_header(
    schema: &Schema,
    schema_path: &Path,
    header: &[String],
    csv: &Path,
) -> Result<(), ImportError> {
    for (i, h) in header.iter().enumerate() {
        match schema.fields.get(i) {
            Some(f) if f.name.eq_ignore_ascii_case(h) => {}
            Some(f) => {
                return Err(ImportError::header(
                    Location::new(csv, 1, Some(i + 1), Some(h)),
                    format!(
                        "header field {h:?} does not match field {} {:?} of the schema {} (the order must be the same)",
                        i + 1,
                        f.name,
                        schema_path.display()
                    ),
                ));
            }
            None => {
                return Err(ImportError::header(
                    Location::new(csv, 1, Some(i + 1), Some(h)),
                    format!(
                        "header field {h:?} is not in the schema {} ({} fields)",
                        schema_path.display(),
                        schema.fields.len()
                    ),
                ));
            }
        }
    }
    if let Some(missing) = schema.fields.get(header.len()) {
        return Err(ImportError::header(
            Location::new(csv, 1, Some(header.len() + 1), None),
            format!(
                "schema field {:?} of {} is missing from the header",
                missing.name,
                schema_path.display()
            ),
        ));
    }
    Ok(())
}

/// Render a schema as Personalize Avro JSON.
#[must_use]
pub fn render_schema(name: &str, fields: &[SchemaField]) -> String {
    let fields: Vec<Value> = fields
        .iter()
        .map(|f| {
            let mut o = serde_json::Map::new();
            o.insert("name".into(), Value::from(f.name.clone()));
            let t = Value::from(f.avro_type.as_str());
            o.insert(
                "type".into(),
                if f.nullable {
                    Value::Array(vec![Value::from("null"), t])
                } else {
                    t
                },
            );
            if f.categorical {
                o.insert("categorical".into(), Value::Bool(true));
            }
            if f.textual {
                o.insert("textual".into(), Value::Bool(true));
            }
            if f.item_name {
                o.insert("itemName".into(), Value::Bool(true));
            }
            Value::Object(o)
        })
        .collect();
    let v = serde_json::json!({
        "type": "record",
        "name": name,
        "namespace": "com.amazonaws.personalize.schema",
        "fields": fields,
        "version": "1.0",
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

/// The type inferred for a metadata field from its values.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Inferred {
    pub avro_type: AvroType,
    pub role: FieldRole,
    pub note: String,
}

/// Infer a metadata field's type from its (trimmed) values:
/// numeric if every non-empty value is a number; boolean if all are `true`/`false`; otherwise a
/// string, textual when values are long (average over 30 characters) or when most values contain
/// spaces and they are mostly distinct (free text, not labels), else categorical.
pub(crate) fn infer<'a>(values: impl Iterator<Item = &'a str>) -> Inferred {
    let (mut n, mut numeric, mut integer, mut boolean, mut spaced, mut chars, mut multi) =
        (0usize, true, true, true, 0usize, 0usize, false);
    let mut distinct: HashSet<&str> = HashSet::new();
    for v in values.filter(|v| !v.is_empty()) {
        n += 1;
        if numeric {
            match parse_number(v) {
                Some(x) => integer &= x.fract() == 0.0 && !v.contains(['.', 'e', 'E']),
                None => numeric = false,
            }
        }
        boolean &= parse_bool(v).is_some();
        let len = v.chars().count();
        chars += len;
        if v.contains(char::is_whitespace) {
            spaced += 1;
        }
        multi |= v.contains('|');
        if distinct.len() < 100_000 {
            distinct.insert(v);
        }
    }
    if n == 0 {
        return Inferred {
            avro_type: AvroType::String,
            role: FieldRole::Categorical,
            note: "inferred: no values, read as categorical".into(),
        };
    }
    if numeric {
        let t = if integer {
            AvroType::Long
        } else {
            AvroType::Double
        };
        return Inferred {
            avro_type: t,
            role: FieldRole::Numeric,
            note: "inferred: every value is a number".into(),
        };
    }
    if boolean {
        return Inferred {
            avro_type: AvroType::Boolean,
            role: FieldRole::Boolean,
            note: "inferred: every value is true/false".into(),
        };
    }
    let avg = chars as f64 / n as f64;
    let spaced_share = spaced as f64 / n as f64;
    let distinct_share = distinct.len() as f64 / n as f64;
    if avg > 30.0 || (spaced_share > 0.5 && distinct_share > 0.5 && !multi) {
        return Inferred {
            avro_type: AvroType::String,
            role: FieldRole::Textual,
            note: format!(
                "inferred: free text (average {avg:.1} characters, {:.0}% with spaces)",
                spaced_share * 100.0
            ),
        };
    }
    Inferred {
        avro_type: AvroType::String,
        role: FieldRole::Categorical,
        note: format!(
            "inferred: labels ({} distinct{})",
            distinct.len(),
            if multi { ", multi-valued with |" } else { "" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS: &str = r#"{"type":"record","name":"Items","namespace":"com.amazonaws.personalize.schema",
 "fields":[{"name":"ITEM_ID","type":"string"},
           {"name":"GENRES","type":["null","string"],"categorical":true},
           {"name":"CREATION_TIMESTAMP","type":"long"},
           {"name":"DESCRIPTION","type":["null","string"],"textual":true}],
 "version":"1.0"}"#;

    fn parse(text: &str) -> Result<Schema, ImportError> {
        parse_schema(Path::new("s.json"), text, "Items", &mut Vec::new())
    }

    #[test]
    fn parses_the_guide_example() {
        let s = parse(ITEMS).ok();
        let s = s.as_ref();
        assert_eq!(s.map(|s| s.fields.len()), Some(4));
        let g = s.and_then(|s| s.field("genres"));
        assert_eq!(g.map(|g| (g.categorical, g.nullable)), Some((true, true)));
        let d = s.and_then(|s| s.field("DESCRIPTION"));
        assert_eq!(d.map(|d| d.textual), Some(true));
    }

    #[test]
    fn rejects_unknown_types_nesting_and_collisions() {
        let e = parse(r#"{"type":"record","name":"Items","fields":[{"name":"A","type":"bytes"}]}"#);
        assert!(e.is_err_and(|e| e.to_string().contains("unknown type \"bytes\"")));
        let e = parse(
            r#"{"type":"record","name":"Items","fields":[{"name":"A","type":{"type":"array"}}]}"#,
        );
        assert!(e.is_err_and(|e| e.to_string().contains("nested")));
        let e = parse(
            r#"{"type":"record","name":"Items","fields":[{"name":"GENRES_1","type":"string"},{"name":"GENRES1","type":"string"}]}"#,
        );
        assert!(e.is_err_and(|e| e.to_string().contains("collides")));
        assert!(parse("[1]").is_err());
        assert!(parse(r#"{"type":"enum"}"#).is_err());
    }

    #[test]
    fn header_must_follow_schema_order() {
        let s = parse(ITEMS).ok().unwrap_or(Schema {
            name: String::new(),
            fields: vec![],
        });
        let h = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let p = Path::new("s.json");
        let csv = Path::new("items.csv");
        assert!(
            check_header(
                &s,
                p,
                &h(&["ITEM_ID", "GENRES", "CREATION_TIMESTAMP", "DESCRIPTION"]),
                csv
            )
            .is_ok()
        );
        let e = check_header(
            &s,
            p,
            &h(&["ITEM_ID", "CREATION_TIMESTAMP", "GENRES", "DESCRIPTION"]),
            csv,
        );
        assert!(e.is_err_and(|e| {
            e.to_string()
                .starts_with("items.csv:1:2 (CREATION_TIMESTAMP): header field")
        }));
        let e = check_header(&s, p, &h(&["ITEM_ID", "GENRES", "CREATION_TIMESTAMP"]), csv);
        assert!(e.is_err_and(|e| {
            e.to_string()
                .contains("\"DESCRIPTION\" of s.json is missing")
        }));
    }

    #[test]
    fn render_then_parse() {
        let mut f = SchemaField::new("genres", AvroType::String, true);
        f.categorical = true;
        let fields = vec![SchemaField::new("ITEM_ID", AvroType::String, false), f];
        let text = render_schema("Items", &fields);
        assert_eq!(parse(&text).ok().map(|s| s.fields), Some(fields));
    }

    #[test]
    fn inference() {
        let roles = |v: &[&str]| infer(v.iter().copied()).role;
        assert_eq!(roles(&["1", "2.5", ""]), FieldRole::Numeric);
        assert_eq!(infer(["1", "2"].into_iter()).avro_type, AvroType::Long);
        assert_eq!(roles(&["true", "FALSE"]), FieldRole::Boolean);
        assert_eq!(roles(&["a|b", "c"]), FieldRole::Categorical);
        assert_eq!(
            roles(&["Home & Kitchen", "Home & Kitchen", "Toys", "Toys"]),
            FieldRole::Categorical
        );
        assert_eq!(
            roles(&["a nice film", "another one here", "more words"]),
            FieldRole::Textual
        );
        assert_eq!(roles(&[&"x".repeat(40)]), FieldRole::Textual);
        assert_eq!(roles(&["", ""]), FieldRole::Categorical);
    }
}
