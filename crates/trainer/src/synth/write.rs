//! Writing [`SynthOutput`] as Personalize CSVs and Avro schema JSON files.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{SynthError, SynthOutput};

pub const ITEMS_CSV: &str = "items.csv";
pub const USERS_CSV: &str = "users.csv";
pub const INTERACTIONS_CSV: &str = "interactions.csv";
pub const ITEMS_SCHEMA: &str = "items.schema.json";
pub const USERS_SCHEMA: &str = "users.schema.json";
pub const INTERACTIONS_SCHEMA: &str = "interactions.schema.json";

#[derive(Serialize)]
struct AvroSchema {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    namespace: &'static str,
    fields: Vec<AvroField>,
    version: &'static str,
}

#[derive(Serialize)]
struct AvroField {
    name: &'static str,
    #[serde(rename = "type")]
    kind: serde_json::Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    categorical: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    textual: bool,
    #[serde(rename = "itemName", skip_serializing_if = "std::ops::Not::not")]
    item_name: bool,
}

#[derive(Clone, Copy)]
enum Kind {
    Plain(&'static str),
    Nullable(&'static str),
}

fn field(name: &'static str, kind: Kind) -> AvroField {
    let kind = match kind {
        Kind::Plain(t) => serde_json::Value::from(t),
        Kind::Nullable(t) => serde_json::Value::from(vec!["null", t]),
    };
    AvroField {
        name,
        kind,
        categorical: false,
        textual: false,
        item_name: false,
    }
}

fn categorical(name: &'static str, kind: Kind) -> AvroField {
    AvroField {
        categorical: true,
        ..field(name, kind)
    }
}

fn schema(name: &'static str, fields: Vec<AvroField>) -> String {
    let s = AvroSchema {
        kind: "record",
        name,
        namespace: "com.amazonaws.personalize.schema",
        fields,
        version: "1.0",
    };
    // Serialising plain structs of strings cannot fail.
    let mut text = serde_json::to_string_pretty(&s).unwrap_or_default();
    text.push('\n');
    text
}

/// The Avro schema of `items.csv`.
#[must_use]
pub fn items_schema() -> String {
    schema(
        "Items",
        vec![
            field("ITEM_ID", Kind::Plain("string")),
            field("PRICE", Kind::Plain("float")),
            categorical("CATEGORY_L1", Kind::Plain("string")),
            categorical("CATEGORY_L2", Kind::Nullable("string")),
            categorical("GENDER_AFFINITY", Kind::Nullable("string")),
            categorical("PROMOTED", Kind::Nullable("string")),
            field("CURRENT_STOCK", Kind::Plain("int")),
            field("CREATION_TIMESTAMP", Kind::Plain("long")),
            AvroField {
                item_name: true,
                ..field("PRODUCT_NAME", Kind::Nullable("string"))
            },
            AvroField {
                textual: true,
                ..field("PRODUCT_DESCRIPTION", Kind::Nullable("string"))
            },
        ],
    )
}

/// The Avro schema of `users.csv`.
#[must_use]
pub fn users_schema() -> String {
    schema(
        "Users",
        vec![
            field("USER_ID", Kind::Plain("string")),
            field("AGE", Kind::Nullable("int")),
            categorical("GENDER", Kind::Nullable("string")),
            categorical("PERSONA", Kind::Nullable("string")),
            categorical("DISCOUNT_PERSONA", Kind::Nullable("string")),
        ],
    )
}

/// The Avro schema of `interactions.csv`.
#[must_use]
pub fn interactions_schema() -> String {
    schema(
        "Interactions",
        vec![
            field("USER_ID", Kind::Plain("string")),
            field("ITEM_ID", Kind::Plain("string")),
            field("TIMESTAMP", Kind::Plain("long")),
            field("EVENT_TYPE", Kind::Plain("string")),
            field("EVENT_VALUE", Kind::Nullable("float")),
            categorical("DEVICE", Kind::Nullable("string")),
        ],
    )
}

/// A CSV field, quoted only when needed (RFC 4180: `"` doubled).
fn push_field(line: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&value.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(value);
    }
}

/// A text field: always quoted; `"` becomes `'`, line breaks become spaces, so no escaping is needed.
fn push_text(line: &mut String, value: &str) {
    line.push('"');
    line.extend(value.chars().map(|c| match c {
        '"' => '\'',
        '\n' | '\r' => ' ',
        c => c,
    }));
    line.push('"');
}

/// Write `items.csv`.
///
/// # Errors
/// Any write error.
pub fn write_items_csv(out: &SynthOutput, mut w: impl Write) -> io::Result<()> {
    let mut line = String::from(
        "ITEM_ID,PRICE,CATEGORY_L1,CATEGORY_L2,GENDER_AFFINITY,PROMOTED,CURRENT_STOCK,CREATION_TIMESTAMP,\
         PRODUCT_NAME,PRODUCT_DESCRIPTION\n",
    );
    for item in &out.items {
        push_field(&mut line, &item.id);
        let _ = write!(line, ",{:.2},", item.price);
        push_field(&mut line, &item.category_l1);
        line.push(',');
        push_field(&mut line, &item.category_l2);
        line.push(',');
        push_field(&mut line, item.gender_affinity.as_deref().unwrap_or(""));
        let _ = write!(
            line,
            ",{},{},{},",
            item.promoted, item.current_stock, item.creation_timestamp
        );
        push_text(&mut line, &item.name);
        line.push(',');
        push_text(&mut line, &item.description);
        line.push('\n');
        if line.len() > 1 << 16 {
            w.write_all(line.as_bytes())?;
            line.clear();
        }
    }
    w.write_all(line.as_bytes())
}

/// Write `users.csv`.
///
/// # Errors
/// Any write error.
pub fn write_users_csv(out: &SynthOutput, mut w: impl Write) -> io::Result<()> {
    let mut line = String::from("USER_ID,AGE,GENDER,PERSONA,DISCOUNT_PERSONA\n");
    for u in &out.users {
        push_field(&mut line, &u.id);
        let _ = write!(line, ",{},", u.age);
        push_field(&mut line, &u.gender);
        line.push(',');
        push_field(&mut line, &u.persona);
        line.push(',');
        push_field(&mut line, &u.discount_persona);
        line.push('\n');
    }
    w.write_all(line.as_bytes())
}

/// Write `interactions.csv`.
///
/// # Errors
/// Any write error.
pub fn write_interactions_csv(out: &SynthOutput, mut w: impl Write) -> io::Result<()> {
    let mut line = String::from("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n");
    for e in &out.interactions {
        push_field(&mut line, &out.users[e.user as usize].id);
        line.push(',');
        push_field(&mut line, &out.items[e.item as usize].id);
        let _ = write!(line, ",{},{},", e.timestamp, e.event_type.as_str());
        if let Some(v) = e.event_value {
            let _ = write!(line, "{v:.2}");
        }
        line.push(',');
        line.push_str(e.device.as_str());
        line.push('\n');
        if line.len() > 1 << 16 {
            w.write_all(line.as_bytes())?;
            line.clear();
        }
    }
    w.write_all(line.as_bytes())
}

/// All six files as (file name, bytes), in the order they are written.
#[must_use]
pub fn render_files(out: &SynthOutput) -> Vec<(&'static str, Vec<u8>)> {
    let mut items = Vec::new();
    let mut users = Vec::new();
    let mut interactions = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_items_csv(out, &mut items);
    let _ = write_users_csv(out, &mut users);
    let _ = write_interactions_csv(out, &mut interactions);
    vec![
        (INTERACTIONS_CSV, interactions),
        (ITEMS_CSV, items),
        (USERS_CSV, users),
        (INTERACTIONS_SCHEMA, interactions_schema().into_bytes()),
        (ITEMS_SCHEMA, items_schema().into_bytes()),
        (USERS_SCHEMA, users_schema().into_bytes()),
    ]
}

/// Write the six files into `dir` (created if missing) and return their paths.
///
/// # Errors
/// [`SynthError::Io`] when the directory or a file cannot be written.
pub fn write_dir(out: &SynthOutput, dir: &Path) -> Result<Vec<PathBuf>, SynthError> {
    std::fs::create_dir_all(dir).map_err(|source| SynthError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, bytes) in render_files(out) {
        let path = dir.join(name);
        std::fs::write(&path, bytes).map_err(|source| SynthError::Io {
            path: path.clone(),
            source,
        })?;
        written.push(path);
    }
    Ok(written)
}
