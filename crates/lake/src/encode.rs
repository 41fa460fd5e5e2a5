//! Events → one Parquet file (bytes), with the parquet crate's column writers: no I/O, no Arrow,
//! so it also runs in the Worker (wasm32).

use std::borrow::Borrow;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::event::LakeEvent;

/// The lake's file schema: one row per event, in acceptance order. Readers (the trainer's
/// Parquet import) read exactly these columns.
pub const SCHEMA: &str = "
message event {
    required binary EVENT_ID (STRING);
    optional binary USER_ID (STRING);
    required binary SESSION_ID (STRING);
    optional binary ITEM_ID (STRING);
    required int64 TIMESTAMP;
    required binary EVENT_TYPE (STRING);
    optional double EVENT_VALUE;
    optional binary IMPRESSION (STRING);
    optional binary RECOMMENDATION_ID (STRING);
    optional binary PROPERTIES (STRING);
}
";

/// Why a batch could not be encoded (the parquet writer failed; `column` names where).
#[derive(Debug, thiserror::Error)]
#[error("encoding the lake's Parquet file ({column}): {source}")]
pub struct EncodeError {
    /// The column being written, or `schema` / `file`.
    pub column: &'static str,
    #[source]
    pub source: ParquetError,
}

fn at(column: &'static str) -> impl Fn(ParquetError) -> EncodeError {
    move |source| EncodeError { column, source }
}

/// One column's values for the rows: strings (required or optional), an int64 or a double.
enum Values {
    Text(Vec<Option<ByteArray>>),
    Int(Vec<i64>),
    Real(Vec<Option<f64>>),
}

fn text(s: &str) -> ByteArray {
    ByteArray::from(s.as_bytes().to_vec())
}

/// The columns in schema order: name, whether nulls are allowed, and the values.
fn columns<E: Borrow<LakeEvent>>(events: &[E]) -> [(&'static str, Values); 10] {
    let rows = || events.iter().map(Borrow::borrow);
    let opt =
        |f: fn(&LakeEvent) -> Option<&str>| Values::Text(rows().map(|e| f(e).map(text)).collect());
    [
        (
            "EVENT_ID",
            Values::Text(rows().map(|e| Some(text(&e.event_id))).collect()),
        ),
        ("USER_ID", opt(|e| e.user_id.as_deref())),
        (
            "SESSION_ID",
            Values::Text(rows().map(|e| Some(text(&e.session_id))).collect()),
        ),
        ("ITEM_ID", opt(|e| e.item_id.as_deref())),
        (
            "TIMESTAMP",
            Values::Int(rows().map(|e| e.timestamp).collect()),
        ),
        (
            "EVENT_TYPE",
            Values::Text(rows().map(|e| Some(text(&e.event_type))).collect()),
        ),
        (
            "EVENT_VALUE",
            Values::Real(rows().map(|e| e.event_value).collect()),
        ),
        (
            "IMPRESSION",
            Values::Text(
                rows()
                    .map(|e| e.impression_text().map(|s| text(&s)))
                    .collect(),
            ),
        ),
        ("RECOMMENDATION_ID", opt(|e| e.recommendation_id.as_deref())),
        ("PROPERTIES", opt(|e| e.properties.as_deref())),
    ]
}

/// The present values of an optional column and its definition levels (1 present, 0 null).
fn levels<T: Clone>(values: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
    let present = values.iter().flatten().cloned().collect();
    let defs = values.iter().map(|v| i16::from(v.is_some())).collect();
    (present, defs)
}

/// Encodes `events` (in order) as one Parquet file of the lake's [`SCHEMA`], Snappy-compressed,
/// one row group. An empty slice makes a valid file with no rows.
pub fn encode<E: Borrow<LakeEvent>>(events: &[E]) -> Result<Vec<u8>, EncodeError> {
    let schema = Arc::new(parse_message_type(SCHEMA).map_err(at("schema"))?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("edgerec-lake {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut out = Vec::new();
    let mut file = SerializedFileWriter::new(&mut out, schema, props).map_err(at("file"))?;
    let mut group = file.next_row_group().map_err(at("file"))?;
    for (name, values) in columns(events) {
        let Some(mut col) = group.next_column().map_err(at(name))? else {
            return Err(EncodeError {
                column: name,
                source: ParquetError::General("the schema has fewer columns".into()),
            });
        };
        match values {
            Values::Text(v) => {
                let w = col.typed::<ByteArrayType>();
                if v.iter().all(Option::is_some) && is_required(name) {
                    let present: Vec<ByteArray> = v.into_iter().flatten().collect();
                    w.write_batch(&present, None, None).map_err(at(name))?;
                } else {
                    let (present, defs) = levels(&v);
                    w.write_batch(&present, Some(&defs), None)
                        .map_err(at(name))?;
                }
            }
            Values::Int(v) => {
                col.typed::<Int64Type>()
                    .write_batch(&v, None, None)
                    .map_err(at(name))?;
            }
            Values::Real(v) => {
                let (present, defs) = levels(&v);
                col.typed::<DoubleType>()
                    .write_batch(&present, Some(&defs), None)
                    .map_err(at(name))?;
            }
        }
        col.close().map_err(at(name))?;
    }
    group.close().map_err(at("file"))?;
    file.close().map_err(at("file"))?;
    Ok(out)
}

/// The columns that never hold nulls.
fn is_required(name: &str) -> bool {
    matches!(name, "EVENT_ID" | "SESSION_ID" | "EVENT_TYPE")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;

    use super::*;

    fn event(i: usize) -> LakeEvent {
        LakeEvent {
            event_id: format!("e{i}"),
            user_id: i.is_multiple_of(2).then(|| format!("u{i}")),
            session_id: format!("s{}", i / 3),
            item_id: (!i.is_multiple_of(3)).then(|| format!("item-{i}")),
            timestamp: 1_700_000_000 + i as i64,
            event_type: "click".into(),
            event_value: i.is_multiple_of(4).then_some(i as f64 * 0.5),
            impression: if i.is_multiple_of(5) {
                vec!["a".into(), "b".into()]
            } else {
                Vec::new()
            },
            recommendation_id: (i == 1).then(|| "rid-1".into()),
            properties: (i == 2).then(|| r#"{"device":"m"}"#.into()),
        }
    }

    /// Reads a file back into events with the parquet crate's record reader.
    pub(crate) fn decode(bytes: Vec<u8>) -> Vec<LakeEvent> {
        let reader = SerializedFileReader::new(bytes::Bytes::from(bytes)).unwrap();
        let text = |f: &Field| match f {
            Field::Str(s) => Some(s.clone()),
            Field::Null => None,
            other => panic!("expected a string, found {other:?}"),
        };
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|row| {
                let row = row.unwrap();
                let c: Vec<&Field> = row.get_column_iter().map(|(_, f)| f).collect();
                LakeEvent {
                    event_id: text(c[0]).unwrap(),
                    user_id: text(c[1]),
                    session_id: text(c[2]).unwrap(),
                    item_id: text(c[3]),
                    timestamp: match c[4] {
                        Field::Long(v) => *v,
                        other => panic!("TIMESTAMP {other:?}"),
                    },
                    event_type: text(c[5]).unwrap(),
                    event_value: match c[6] {
                        Field::Double(v) => Some(*v),
                        _ => None,
                    },
                    impression: text(c[7])
                        .map(|s| s.split('|').map(str::to_owned).collect())
                        .unwrap_or_default(),
                    recommendation_id: text(c[8]),
                    properties: text(c[9]),
                }
            })
            .collect()
    }

    #[test]
    fn a_batch_round_trips_through_the_parquet_reader() {
        let events: Vec<LakeEvent> = (0..25).map(event).collect();
        let bytes = encode(&events).unwrap();
        assert_eq!(&bytes[..4], b"PAR1");
        let meta = SerializedFileReader::new(bytes::Bytes::from(bytes.clone()))
            .unwrap()
            .metadata()
            .clone();
        let names: Vec<&str> = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name())
            .collect();
        assert_eq!(
            names,
            [
                "EVENT_ID",
                "USER_ID",
                "SESSION_ID",
                "ITEM_ID",
                "TIMESTAMP",
                "EVENT_TYPE",
                "EVENT_VALUE",
                "IMPRESSION",
                "RECOMMENDATION_ID",
                "PROPERTIES"
            ]
        );
        assert_eq!(
            meta.row_group(0).column(0).compression(),
            Compression::SNAPPY
        );
        assert_eq!(decode(bytes), events);
    }

    #[test]
    fn no_events_make_an_empty_file() {
        let bytes = encode::<LakeEvent>(&[]).unwrap();
        assert!(decode(bytes).is_empty());
    }
}
