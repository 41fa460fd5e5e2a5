#![allow(clippy::unwrap_used)]
//! Parquet interactions, with files written by the parquet crate's own writer: every column
//! type the reader accepts (string and integer ids, epoch seconds as INT64 / INT32 / DOUBLE,
//! TIMESTAMP(MILLIS/MICROS/NANOS), DATE), nulls, PROPERTIES, sessions, duplicate EVENT_IDs,
//! partitioned folders and `since`, every error path (wrong type, missing column, nested
//! column, too many contextual fields, malformed rows) and corrupt bytes (truncated or
//! bit-flipped files: a typed error, never a panic).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use edgerec_trainer::import::{
    self, DatasetSpec, DropReason, FieldRole, Format, ImportError, ImportReport, PartitionDate,
};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use proptest::prelude::*;

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "edgerec-parquet-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One column's values (`None` = null) in a row group.
#[derive(Clone)]
enum Col {
    Str(Vec<Option<&'static str>>),
    I64(Vec<Option<i64>>),
    I32(Vec<Option<i32>>),
    F64(Vec<Option<f64>>),
}

/// Writes `groups` (row groups of columns, in the schema's order) to `path`.
fn write(path: &Path, schema: &str, groups: &[Vec<Col>], compression: Compression) {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    let schema = Arc::new(parse_message_type(schema).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(compression)
            .build(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut w = SerializedFileWriter::new(file, schema, props).unwrap();
    for cols in groups {
        let mut g = w.next_row_group().unwrap();
        for col in cols {
            let mut c = g.next_column().unwrap().unwrap();
            fn split<T: Clone>(v: &[Option<T>]) -> (Vec<T>, Vec<i16>) {
                let defs = v.iter().map(|x| i16::from(x.is_some())).collect();
                (v.iter().flatten().cloned().collect(), defs)
            }
            match col {
                Col::Str(v) => {
                    let (vals, defs) = split(v);
                    let vals: Vec<ByteArray> = vals.into_iter().map(ByteArray::from).collect();
                    c.typed::<ByteArrayType>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
                Col::I64(v) => {
                    let (vals, defs) = split(v);
                    c.typed::<Int64Type>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
                Col::I32(v) => {
                    let (vals, defs) = split(v);
                    c.typed::<Int32Type>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
                Col::F64(v) => {
                    let (vals, defs) = split(v);
                    c.typed::<DoubleType>()
                        .write_batch(&vals, Some(&defs), None)
                        .unwrap();
                }
            }
            c.close().unwrap();
        }
        g.close().unwrap();
    }
    w.close().unwrap();
}

const LAKE_SCHEMA: &str = "message event {
    optional binary EVENT_ID (STRING);
    optional binary USER_ID (STRING);
    optional binary SESSION_ID (STRING);
    optional binary ITEM_ID (STRING);
    required int64 TIMESTAMP;
    required binary EVENT_TYPE (STRING);
    optional double EVENT_VALUE;
    optional binary PROPERTIES (STRING);
}";

fn s(v: &[Option<&'static str>]) -> Col {
    Col::Str(v.to_vec())
}

fn load(
    spec: &DatasetSpec,
) -> Result<(edgerec_trainer::dataset::Dataset, ImportReport), ImportError> {
    import::load(spec)
}

/// A lake event file: 6 rows, two of them anonymous, one without an item, one repeating an
/// EVENT_ID of the same file.
fn lake_file(path: &Path, compression: Compression) {
    write(
        path,
        LAKE_SCHEMA,
        &[
            vec![
                s(&[Some("e1"), Some("e2"), Some("e3")]),
                s(&[None, Some("alice"), None]),
                s(&[Some("s1"), Some("s1"), Some("s2")]),
                s(&[Some("i1"), Some("i2"), Some("i1")]),
                Col::I64(vec![Some(100), Some(200), Some(300)]),
                s(&[Some("View"), Some("Purchase"), Some("view")]),
                Col::F64(vec![None, Some(2.5), None]),
                s(&[
                    Some(r#"{"device": "mobile", "pageType": "home"}"#),
                    None,
                    Some(r#"{"device": "desktop", "n": 3, "nested": {"a": 1}}"#),
                ]),
            ],
            vec![
                s(&[Some("e4"), Some("e2"), Some("e5")]),
                s(&[Some("bob"), Some("alice"), Some("bob")]),
                s(&[None, Some("s1"), None]),
                s(&[Some("i3"), Some("i2"), None]),
                Col::I64(vec![Some(400), Some(200), Some(500)]),
                s(&[Some("View"), Some("Purchase"), Some("View")]),
                Col::F64(vec![Some(1.0), Some(2.5), None]),
                s(&[None, None, None]),
            ],
        ],
        compression,
    );
}

#[test]
fn a_lake_file_becomes_interactions() {
    let dir = temp_dir("file");
    let path = dir.join("events.parquet");
    lake_file(&path, Compression::SNAPPY);
    let (ds, report) = load(&DatasetSpec::new(&path)).unwrap();
    assert_eq!(report.format, "parquet");
    let f = &report.files[0];
    assert_eq!((f.rows_read, f.rows_kept), (6, 4));
    assert_eq!(f.dropped_for(DropReason::DuplicateEvent), 1);
    assert_eq!(f.dropped_for(DropReason::NoItem), 1);
    assert_eq!(report.malformed_rows, 0);
    // s1's anonymous event takes alice (the first user s1 showed, in a later row); s2 never
    // shows one and is its own user.
    assert_eq!(ds.user_ids, ["alice", "s2", "bob"]);
    assert_eq!(ds.interactions.user, [0, 0, 1, 2]);
    assert_eq!(ds.item_ids, ["i1", "i2", "i3"]);
    assert_eq!(ds.interactions.timestamp, [100, 200, 300, 400]);
    assert_eq!(ds.event_types, ["view", "purchase"]);
    let v = &ds.interactions.event_value;
    assert!(v[0].is_nan() && (v[1] - 2.5).abs() < 1e-6 && (v[3] - 1.0).abs() < 1e-6);
    let p = f.parquet.as_ref().unwrap();
    assert_eq!((p.anonymous_attributed, p.anonymous_sessions), (1, 1));
    assert_eq!(p.files_read, 1);
    // The properties' scalar keys are contextual fields, camelCase as UPPER_SNAKE.
    let names: Vec<&str> = ds
        .interactions
        .context
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["DEVICE", "PAGE_TYPE", "N"]);
    let device = &ds.interactions.context[0];
    assert_eq!(device.dictionary, ["mobile", "desktop"]);
    assert_eq!(device.codes, [0, u32::MAX, 1, u32::MAX]);
    assert_eq!(ds.interactions.context[2].dictionary, ["3"]);
    let role = |n: &str| f.fields.iter().find(|x| x.name == n).map(|x| x.role);
    assert_eq!(role("SESSION_ID"), Some(FieldRole::SessionId));
    assert_eq!(role("EVENT_ID"), Some(FieldRole::EventId));
    assert_eq!(role("PAGE_TYPE"), Some(FieldRole::Context));
    assert_eq!(role("NESTED"), Some(FieldRole::Ignored));
    let text = report.to_string();
    assert!(
        text.contains("duplicate EVENT_ID (first row kept)"),
        "{text}"
    );
    assert!(
        text.contains(":5:1 (EVENT_ID): EVENT_ID \"e2\" was read before"),
        "{text}"
    );
    assert!(
        text.contains("1 took their session's user, 1 count for their session"),
        "{text}"
    );
}

#[test]
fn integer_ids_and_every_timestamp_type() {
    let dir = temp_dir("types");
    let cases: [(&str, Col, i64); 6] = [
        (
            "required int64 TIMESTAMP;",
            Col::I64(vec![Some(1_700_000_000)]),
            1_700_000_000,
        ),
        (
            "required int32 TIMESTAMP;",
            Col::I32(vec![Some(1_700_000_000)]),
            1_700_000_000,
        ),
        (
            "required double TIMESTAMP;",
            Col::F64(vec![Some(1_700_000_000.9)]),
            1_700_000_000,
        ),
        (
            "required int64 TIMESTAMP (TIMESTAMP(MILLIS,true));",
            Col::I64(vec![Some(1_700_000_000_123)]),
            1_700_000_000,
        ),
        (
            "required int64 TIMESTAMP (TIMESTAMP(MICROS,false));",
            Col::I64(vec![Some(1_700_000_000_123_456)]),
            1_700_000_000,
        ),
        (
            "required int64 TIMESTAMP (TIMESTAMP(NANOS,true));",
            Col::I64(vec![Some(1_700_000_000_123_456_789)]),
            1_700_000_000,
        ),
    ];
    for (i, (field, col, want)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("t{i}.parquet"));
        let schema = format!(
            "message m {{ required int64 USER_ID; required int32 ITEM_ID; {field} required int32 EVENT_VALUE; }}"
        );
        write(
            &path,
            &schema,
            &[vec![
                Col::I64(vec![Some(-42)]),
                Col::I32(vec![Some(7)]),
                col,
                Col::I32(vec![Some(3)]),
            ]],
            Compression::ZSTD(Default::default()),
        );
        let (ds, report) = load(&DatasetSpec::new(&path)).unwrap();
        assert_eq!(ds.user_ids, ["-42"], "{field}");
        assert_eq!(ds.item_ids, ["7"], "{field}");
        assert_eq!(ds.interactions.timestamp, [want], "{field}");
        assert_eq!(ds.interactions.event_value, [3.0], "{field}");
        assert_eq!(ds.event_types, ["click"], "{field}");
        assert_eq!(report.interactions, 1);
    }
    // Epoch milliseconds in a plain INT64 column are converted, with a warning (as in CSV).
    let path = dir.join("ms.parquet");
    write(
        &path,
        "message m { required binary USER_ID (STRING); required binary ITEM_ID (STRING); required int64 TIMESTAMP; }",
        &[vec![
            s(&[Some("u")]),
            s(&[Some("i")]),
            Col::I64(vec![Some(1_700_000_000_999)]),
        ]],
        Compression::UNCOMPRESSED,
    );
    let (ds, report) = load(&DatasetSpec::new(&path)).unwrap();
    assert_eq!(ds.interactions.timestamp, [1_700_000_000]);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("epoch milliseconds"))
    );
    // DATE: days since 1970-01-01.
    let path = dir.join("date.parquet");
    write(
        &path,
        "message m { required binary USER_ID; required binary ITEM_ID; required int32 TIMESTAMP (DATE); }",
        &[vec![
            s(&[Some("u")]),
            s(&[Some("i")]),
            Col::I32(vec![Some(19_675)]),
        ]],
        Compression::GZIP(Default::default()),
    );
    let (ds, _) = load(&DatasetSpec::new(&path)).unwrap();
    assert_eq!(ds.interactions.timestamp, [19_675 * 86_400]);
}

#[test]
fn wrong_types_and_missing_columns_are_refused_naming_them() {
    let dir = temp_dir("schema");
    let cases = [
        (
            "message m { required double USER_ID; required binary ITEM_ID; required int64 TIMESTAMP; }",
            vec![
                Col::F64(vec![Some(1.0)]),
                s(&[Some("i")]),
                Col::I64(vec![Some(1)]),
            ],
            "column USER_ID (column 1) is DOUBLE; USER_ID must be a string or an integer",
        ),
        (
            "message m { required binary USER_ID; required binary ITEM_ID; required binary TIMESTAMP (STRING); }",
            vec![s(&[Some("u")]), s(&[Some("i")]), s(&[Some("1")])],
            "column TIMESTAMP (column 3) is BYTE_ARRAY (STRING); TIMESTAMP must be epoch seconds",
        ),
        (
            "message m { required binary USER_ID; required binary ITEM_ID; required int64 TIMESTAMP; required binary EVENT_VALUE (STRING); }",
            vec![
                s(&[Some("u")]),
                s(&[Some("i")]),
                Col::I64(vec![Some(1)]),
                s(&[Some("x")]),
            ],
            "column EVENT_VALUE (column 4) is BYTE_ARRAY (STRING); EVENT_VALUE must be a number",
        ),
        (
            "message m { required binary ITEM_ID; required int64 TIMESTAMP; }",
            vec![s(&[Some("i")]), Col::I64(vec![Some(1)])],
            "missing required column(s) USER_ID (found: ITEM_ID, TIMESTAMP)",
        ),
        (
            "message m { required binary user_id; required binary ITEM_ID; required int64 TIMESTAMP; required binary USER_ID; }",
            vec![
                s(&[Some("u")]),
                s(&[Some("i")]),
                Col::I64(vec![Some(1)]),
                s(&[Some("u")]),
            ],
            "two columns are named USER_ID",
        ),
        (
            "message m { required binary USER_ID; repeated binary ITEM_ID; required int64 TIMESTAMP; }",
            vec![s(&[Some("u")]), s(&[Some("i")]), Col::I64(vec![Some(1)])],
            "column ITEM_ID is nested",
        ),
    ];
    for (i, (schema, cols, want)) in cases.into_iter().enumerate() {
        let path = dir.join(format!("s{i}.parquet"));
        if schema.contains("repeated") {
            // The writer needs repetition levels for a repeated column: write it elsewhere.
            let bytes = nested_file();
            std::fs::write(&path, bytes).unwrap();
        } else {
            write(&path, schema, &[cols], Compression::UNCOMPRESSED);
        }
        let err = load(&DatasetSpec::new(&path)).err().unwrap();
        assert!(matches!(err, ImportError::Schema { .. }), "{err}");
        let text = err.to_string();
        assert!(text.starts_with(&path.display().to_string()), "{text}");
        assert!(text.contains(want), "{text}\nwanted: {want}");
    }
}

/// A file whose ITEM_ID is a repeated (list-like) column.
fn nested_file() -> Vec<u8> {
    let schema = Arc::new(
        parse_message_type(
            "message m { required binary USER_ID; repeated binary ITEM_ID; required int64 TIMESTAMP; }",
        )
        .unwrap(),
    );
    let mut out = Vec::new();
    let mut w =
        SerializedFileWriter::new(&mut out, schema, Arc::new(WriterProperties::default())).unwrap();
    let mut g = w.next_row_group().unwrap();
    let mut c = g.next_column().unwrap().unwrap();
    c.typed::<ByteArrayType>()
        .write_batch(&[ByteArray::from("u")], None, None)
        .unwrap();
    c.close().unwrap();
    let mut c = g.next_column().unwrap().unwrap();
    c.typed::<ByteArrayType>()
        .write_batch(
            &[ByteArray::from("a"), ByteArray::from("b")],
            Some(&[1, 1]),
            Some(&[0, 1]),
        )
        .unwrap();
    c.close().unwrap();
    let mut c = g.next_column().unwrap().unwrap();
    c.typed::<Int64Type>()
        .write_batch(&[1], None, None)
        .unwrap();
    c.close().unwrap();
    g.close().unwrap();
    w.close().unwrap();
    out
}

#[test]
fn malformed_rows_name_file_row_and_column() {
    let dir = temp_dir("rows");
    let path = dir.join("bad.parquet");
    let long: &'static str = Box::leak("x".repeat(300).into_boxed_str());
    write(
        &path,
        "message m { optional binary USER_ID (STRING); optional binary ITEM_ID (STRING); optional int64 TIMESTAMP; optional binary EVENT_TYPE (STRING); optional binary PROPERTIES (STRING); }",
        &[
            vec![
                s(&[Some("u1"), Some("u2")]),
                s(&[Some("i1"), Some("i2")]),
                Col::I64(vec![Some(1), None]),
                s(&[Some("View"), Some("View")]),
                s(&[None, None]),
            ],
            vec![
                s(&[None, Some(long), Some("u5"), Some("u6")]),
                s(&[Some("i3"), Some("i4"), Some("i5"), Some("i6")]),
                Col::I64(vec![Some(3), Some(4), Some(5), Some(6)]),
                s(&[Some("View"), Some("View"), None, Some("View")]),
                s(&[None, None, None, Some("[1, 2]")]),
            ],
        ],
        Compression::SNAPPY,
    );
    let err = load(&DatasetSpec::new(&path)).err().unwrap();
    let text = err.to_string();
    let p = path.display();
    assert!(text.starts_with("5 malformed rows"), "{text}");
    for want in [
        format!("{p}:2:3 (TIMESTAMP): TIMESTAMP is empty"),
        format!("{p}:3:1 (USER_ID): USER_ID is empty and the row has no SESSION_ID"),
        format!("{p}:4:1 (USER_ID): USER_ID is 300 characters long"),
        format!("{p}:5:4 (EVENT_TYPE): EVENT_TYPE is empty"),
        format!("{p}:6:5 (PROPERTIES): PROPERTIES is not a JSON object"),
    ] {
        assert!(text.contains(&want), "{text}\nwanted: {want}");
    }
    let (ds, report) = load(&DatasetSpec {
        skip_bad_rows: true,
        ..DatasetSpec::new(&path)
    })
    .unwrap();
    assert_eq!(ds.user_ids, ["u1"]);
    assert_eq!(report.malformed_rows, 5);
    let f = &report.files[0];
    assert_eq!(f.dropped_for(DropReason::MissingField), 3);
    assert_eq!(f.dropped_for(DropReason::IdTooLong), 1);
    assert_eq!(f.dropped_for(DropReason::InvalidProperties), 1);
}

/// A folder: `dt=` partitions at two depths, a file outside any partition, hidden files, and an
/// EVENT_ID written twice (in two partitions, as a retried batch is).
fn lake(dir: &Path) {
    let file = |ids: &[Option<&'static str>], users: &[Option<&'static str>], t: i64| {
        let n = ids.len();
        vec![
            s(ids),
            s(users),
            s(&vec![None; n]),
            s(&vec![Some("i1"); n]),
            Col::I64((0..n as i64).map(|k| Some(t + k)).collect()),
            s(&vec![Some("View"); n]),
            Col::F64(vec![None; n]),
            s(&vec![None; n]),
        ]
    };
    let w = |rel: &str, cols: Vec<Col>| {
        write(
            &dir.join(rel),
            LAKE_SCHEMA,
            &[cols],
            Compression::ZSTD(Default::default()),
        );
    };
    w(
        "dt=2024-05-01/part-0.parquet",
        file(&[Some("a1"), Some("a2")], &[Some("u1"), Some("u2")], 100),
    );
    w(
        "dt=2024-05-02/part-0.parquet",
        file(&[Some("b1"), Some("a2")], &[Some("u3"), Some("u2")], 200),
    );
    w(
        "dt=2024-05-03/hour=01/part-0.parquet",
        file(&[Some("c1")], &[Some("u4")], 300),
    );
    w("backfill.parquet", file(&[Some("d1")], &[Some("u5")], 50));
    std::fs::write(dir.join("dt=2024-05-03/_SUCCESS"), b"").unwrap();
    std::fs::write(dir.join("dt=2024-05-03/.part-0.parquet.crc"), b"junk").unwrap();
    std::fs::write(dir.join("README.txt"), b"not data").unwrap();
}

#[test]
fn a_partitioned_folder_is_read_in_path_order_and_since_skips_old_days() {
    let dir = temp_dir("lake");
    lake(&dir);
    let (ds, report) = load(&DatasetSpec::new(&dir)).unwrap();
    assert_eq!(report.format, "parquet");
    // Sorted paths: backfill.parquet, dt=2024-05-01, dt=2024-05-02, dt=2024-05-03/hour=01.
    assert_eq!(ds.user_ids, ["u5", "u1", "u2", "u3", "u4"]);
    assert_eq!(ds.interactions.timestamp, [50, 100, 101, 200, 300]);
    let f = &report.files[0];
    assert_eq!((f.rows_read, f.rows_kept), (6, 5));
    assert_eq!(f.dropped_for(DropReason::DuplicateEvent), 1);
    assert_eq!(f.parquet.as_ref().unwrap().files_read, 4);

    let since: PartitionDate = "2024-05-02".parse().unwrap();
    let (ds, report) = load(&DatasetSpec {
        since: Some(since),
        format: Format::Parquet,
        ..DatasetSpec::new(&dir)
    })
    .unwrap();
    // The duplicate of a2 is now the first copy read, so it counts.
    assert_eq!(ds.user_ids, ["u5", "u3", "u2", "u4"]);
    let f = &report.files[0];
    let p = f.parquet.as_ref().unwrap();
    assert_eq!((p.files_read, p.files_skipped), (3, 1));
    assert_eq!(p.since.as_deref(), Some("2024-05-02"));
    assert_eq!((f.rows_read, f.rows_kept), (4, 4));
    assert!(
        report
            .to_string()
            .contains("3 read, 1 in partitions before dt=2024-05-02 not read")
    );

    let old = temp_dir("old");
    std::fs::create_dir_all(old.join("dt=2024-05-01")).unwrap();
    std::fs::copy(
        dir.join("dt=2024-05-01/part-0.parquet"),
        old.join("dt=2024-05-01/p.parquet"),
    )
    .unwrap();
    let err = load(&DatasetSpec {
        since: "2030-01-01".parse().ok(),
        ..DatasetSpec::new(&old)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains(
            "no .parquet files in partitions from dt=2030-01-01 on (1 older file(s) left out)"
        ),
        "{err}"
    );
    // --since on a CSV is a mistake, said so.
    let csv = dir.join("x.csv");
    std::fs::write(&csv, "USER_ID,ITEM_ID,TIMESTAMP\nu,i,1\n").unwrap();
    let err = load(&DatasetSpec {
        since: Some(since),
        ..DatasetSpec::new(&csv)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("reads the dt=YYYY-MM-DD partitions of a Parquet folder"),
        "{err}"
    );
    // A dt= value that is not a date cannot be compared with --since.
    write(
        &dir.join("dt=latest/p.parquet"),
        LAKE_SCHEMA,
        &[vec![
            s(&[Some("z")]),
            s(&[Some("u")]),
            s(&[None]),
            s(&[Some("i")]),
            Col::I64(vec![Some(1)]),
            s(&[Some("View")]),
            Col::F64(vec![None]),
            s(&[None]),
        ]],
        Compression::SNAPPY,
    );
    let err = load(&DatasetSpec {
        since: Some(since),
        ..DatasetSpec::new(&dir)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("dt=latest/p.parquet: partition dt=latest: \"latest\" is not a date"),
        "{err}"
    );
}

#[test]
fn more_than_five_contextual_fields_are_refused() {
    let dir = temp_dir("ctx");
    let path = dir.join("ctx.parquet");
    write(
        &path,
        "message m { required binary USER_ID; required binary ITEM_ID; required int64 TIMESTAMP; optional binary DEVICE (STRING); optional binary PROPERTIES (STRING); }",
        &[vec![
            s(&[Some("u"), Some("u")]),
            s(&[Some("i"), Some("j")]),
            Col::I64(vec![Some(1), Some(2)]),
            s(&[Some("mobile"), None]),
            s(&[
                Some(r#"{"a": 1, "b": 2, "c": 3, "d": 4, "device": "tv"}"#),
                Some(r#"{"a": 1, "e": 5}"#),
            ]),
        ]],
        Compression::SNAPPY,
    );
    let err = load(&DatasetSpec::new(&path)).err().unwrap().to_string();
    let want = format!(
        "{}:2:5 (PROPERTIES) (PROPERTIES key \"e\"): too many contextual fields: at most 5 besides \
         the reserved fields (already DEVICE, A, B, C, D; E would be one more)",
        path.display()
    );
    assert_eq!(err, want);
}

#[test]
fn the_same_rows_as_csv_give_the_same_dataset() {
    let dir = temp_dir("csv");
    let path = dir.join("events.parquet");
    lake_file(&path, Compression::SNAPPY);
    // The rows the lake file keeps, as a CSV (users resolved, duplicates and item-less rows out).
    let csv = dir.join("events.csv");
    std::fs::write(
        &csv,
        "USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE,PAGE_TYPE,N\n\
         alice,i1,100,View,,mobile,home,\n\
         alice,i2,200,Purchase,2.5,,,\n\
         s2,i1,300,view,,desktop,,3\n\
         bob,i3,400,View,1,,,\n",
    )
    .unwrap();
    let (a, _) = load(&DatasetSpec {
        name: "x".into(),
        ..DatasetSpec::new(&path)
    })
    .unwrap();
    let (b, _) = load(&DatasetSpec {
        name: "x".into(),
        ..DatasetSpec::new(&csv)
    })
    .unwrap();
    assert_eq!(a.user_ids, b.user_ids);
    assert_eq!(a.item_ids, b.item_ids);
    assert_eq!(a.event_types, b.event_types);
    assert_eq!(a.interactions.user, b.interactions.user);
    assert_eq!(a.interactions.item, b.interactions.item);
    assert_eq!(a.interactions.timestamp, b.interactions.timestamp);
    assert_eq!(a.interactions.event_type, b.interactions.event_type);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&a.interactions.event_value),
        bits(&b.interactions.event_value)
    );
    assert_eq!(a.interactions.context, b.interactions.context);
}

#[test]
fn not_parquet_and_empty_folders_are_errors() {
    let dir = temp_dir("junk");
    let path = dir.join("junk.parquet");
    std::fs::write(&path, b"PAR1 this is not a parquet file PAR1").unwrap();
    let err = load(&DatasetSpec::new(&path)).err().unwrap();
    assert!(matches!(err, ImportError::Parquet { .. }), "{err}");
    assert_eq!(err.code(), "InvalidParquet");
    let empty = temp_dir("empty");
    let err = load(&DatasetSpec {
        format: Format::Parquet,
        ..DatasetSpec::new(&empty)
    })
    .err()
    .unwrap()
    .to_string();
    assert!(err.ends_with(": no .parquet files"), "{err}");
}

fn lake_bytes() -> Vec<u8> {
    let dir = temp_dir("bytes");
    let path = dir.join("e.parquet");
    lake_file(&path, Compression::SNAPPY);
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    bytes
}

#[test]
fn a_corrupt_page_is_an_error_naming_file_row_group_and_column() {
    let bytes = lake_bytes();
    let dir = temp_dir("pages");
    let path = dir.join("c.parquet");
    let mut found = None;
    // Garble one byte at a time past the magic number until a page fails to decode.
    for at in 4..bytes.len() / 2 {
        let mut b = bytes.clone();
        b[at] ^= 0xFF;
        std::fs::write(&path, &b).unwrap();
        if let Err(ImportError::Parquet { message, .. }) = load(&DatasetSpec::new(&path))
            && message.contains(", column ")
        {
            found = Some(message);
            break;
        }
    }
    let message = found.expect("no garbled byte made a page unreadable");
    assert!(message.starts_with("row group 0, column "), "{message}");
    let err = ImportError::Parquet {
        path: path.clone(),
        message,
    };
    assert!(err.to_string().starts_with(&format!(
        "{}: unreadable Parquet: row group ",
        path.display()
    )));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Truncated or bit-flipped files give an error or some rows, never a panic.
    #[test]
    fn corrupt_files_never_panic(
        cut in 0usize..2000,
        flips in proptest::collection::vec((0usize..4000, 0u8..8), 0..6),
    ) {
        let mut bytes = lake_bytes();
        for (at, bit) in flips {
            let n = bytes.len();
            bytes[at % n] ^= 1 << bit;
        }
        if cut > 0 && cut < bytes.len() {
            bytes.truncate(bytes.len() - cut);
        }
        let dir = temp_dir("fuzz");
        let path = dir.join("f.parquet");
        std::fs::write(&path, &bytes).unwrap();
        let _ = load(&DatasetSpec { skip_bad_rows: true, ..DatasetSpec::new(&path) });
        let _ = std::fs::remove_dir_all(&dir);
    }
}
