#![allow(clippy::unwrap_used)]
//! Dataset import: Personalize CSVs (inferred and schema-typed), malformed rows with exact
//! locations, schema mismatches, MovieLens/mapped adapters, round-trips through the normalised
//! output, a no-panic property over arbitrary bytes, and the real datasets when present.
//!
//! The real data is looked up in `$EDGEREC_DATA`, else in `<repo root>/../shared/data`; when a
//! folder is absent the test prints why and passes.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use edgerec_core::{ColumnKind, ColumnValues};
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::import::{
    self, DatasetSpec, DropReason, FieldRole, FieldSource, FileRole, Format, ImportError,
    ImportReport, MapSpec, TimeFormat,
};
use proptest::prelude::*;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn data_root() -> PathBuf {
    match std::env::var_os("EDGEREC_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => repo().join("../shared/data"),
    }
}

/// The shared dataset folder `name`, or `None` (after saying so) when `file` is not in it.
fn locate(name: &str, file: &str) -> Option<PathBuf> {
    let dir = data_root().join(name);
    if dir.join(file).is_file() {
        Some(dir)
    } else {
        println!("skipped: {name} not found at {}", dir.display());
        None
    }
}

/// A fresh empty temporary folder.
fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "edgerec-import-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn load(spec: &DatasetSpec) -> (Dataset, ImportReport) {
    match import::load(spec) {
        Ok(x) => x,
        Err(e) => panic!("import failed: {e}"),
    }
}

fn load_err(spec: &DatasetSpec) -> ImportError {
    match import::load(spec) {
        Ok(_) => panic!("import unexpectedly succeeded"),
        Err(e) => e,
    }
}

/// Datasets compared through `Debug`, so that NaN event values compare equal.
fn same(a: &Dataset, b: &Dataset) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Write `ds` as normalised CSVs and import them again.
fn round_trip(ds: &Dataset) -> Dataset {
    let dir = temp_dir("roundtrip");
    import::write_personalize(ds, &dir).unwrap();
    let spec = DatasetSpec {
        name: ds.name.clone(),
        ..DatasetSpec::new(&dir)
    };
    let (back, _) = load(&spec);
    let _ = std::fs::remove_dir_all(&dir);
    back
}

fn categorical(ds_cols: &[edgerec_core::Column], name: &str, row: usize) -> Vec<String> {
    let c = ds_cols.iter().find(|c| c.name == name).unwrap();
    c.categorical_values(row).map(str::to_owned).collect()
}

#[test]
fn personalize_folder_with_inferred_types_bom_crlf_and_quotes() {
    let (ds, report) = load(&DatasetSpec::new(fixtures().join("basic")));
    assert_eq!(report.format, "personalize");
    assert_eq!(ds.name, "basic");
    // First-seen order: interaction items, then impression items, then the items file.
    assert_eq!(ds.item_ids, ["i1", "i2", "i3", "i,3", "i9", "i4"]);
    assert_eq!(ds.user_ids, ["u1", "u2", "u3", "u4"]);
    assert_eq!(ds.event_types, ["click", "purchase"]);
    let x = &ds.interactions;
    assert_eq!(x.len(), 4);
    assert_eq!(x.event_type, [0, 0, 1, 0]);
    assert_eq!(
        x.timestamp,
        [1_700_000_000, 1_700_000_100, 1_700_000_200, 1_700_000_300]
    );
    assert_eq!(x.event_value[0], 1.5);
    assert!(x.event_value[1].is_nan());
    assert_eq!(
        x.impression,
        Some(vec![vec![0, 1, 2], vec![1], vec![], vec![4, 0]])
    );
    assert_eq!(x.context.len(), 1);
    assert_eq!(x.context[0].name, "DEVICE");
    assert_eq!(x.context[0].dictionary, ["mobile", "desktop"]);
    assert_eq!(x.context[0].codes, [0, 1, 0, u32::MAX]);

    // Items: multi-valued categorical, numeric, boolean, textual (cleaned), creation times.
    let cols = &ds.item_columns;
    let kinds: Vec<(&str, ColumnKind)> = cols.iter().map(|c| (c.name.as_str(), c.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("GENRES", ColumnKind::Categorical),
            ("PRICE", ColumnKind::Numeric),
            ("PROMOTED", ColumnKind::Boolean),
            ("DESCRIPTION", ColumnKind::Textual),
        ]
    );
    assert!(cols.iter().all(|c| c.len() == ds.item_ids.len()));
    assert_eq!(categorical(cols, "GENRES", 0), ["Comedy", "Drama"]);
    assert_eq!(categorical(cols, "GENRES", 5), ["Horror", "Comedy"]);
    assert!(categorical(cols, "GENRES", 2).is_empty());
    assert_eq!(cols[1].numeric_value(0), Some(9.99));
    assert_eq!(cols[1].numeric_value(3), None);
    assert_eq!(categorical(cols, "PROMOTED", 5), ["true"]);
    assert_eq!(
        cols[3].display_value(0).as_deref(),
        Some("A funny film about two friends who travel & laugh.")
    );
    assert_eq!(
        cols[3].display_value(5).as_deref(),
        Some("Scary \"quoted\" text that goes on and on and on and on")
    );
    assert_eq!(ds.item_creation.len(), ds.item_ids.len());
    assert_eq!(ds.item_creation[0], Some(1_600_000_000));
    assert_eq!(ds.item_creation[1], None);

    // Users: numeric with a null, categorical.
    assert_eq!(ds.user_columns.len(), 2);
    assert_eq!(ds.user_columns[0].numeric_value(1), None);
    assert_eq!(ds.user_columns[0].numeric_value(3), Some(50.0));
    assert_eq!(categorical(&ds.user_columns, "SEGMENT", 3), ["gold"]);

    // The report shows what was inferred, and the minimum warnings.
    let items = report.file(FileRole::Items).unwrap();
    let role = |n: &str| {
        items
            .fields
            .iter()
            .find(|f| f.name == n)
            .map(|f| (f.role, f.source))
    };
    assert_eq!(
        role("GENRES"),
        Some((FieldRole::Categorical, FieldSource::Inferred))
    );
    assert_eq!(
        role("PRICE"),
        Some((FieldRole::Numeric, FieldSource::Inferred))
    );
    assert_eq!(
        role("PROMOTED"),
        Some((FieldRole::Boolean, FieldSource::Inferred))
    );
    assert_eq!(
        role("DESCRIPTION"),
        Some((FieldRole::Textual, FieldSource::Inferred))
    );
    assert_eq!(
        role("CREATION_TIMESTAMP"),
        Some((FieldRole::CreationTimestamp, FieldSource::Reserved))
    );
    assert_eq!((report.interactions, report.users, report.items), (4, 4, 6));
    assert_eq!(report.items_with_interactions, 3);
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("only 4 interactions"))
    );
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("only 1 users have 2 or more interactions"))
    );
    let text = report.to_string();
    assert!(
        text.contains("4 interactions, 4 users, 6 items (3 with interactions)"),
        "{text}"
    );
    assert!(
        text.contains("event types: click (3), purchase (1)"),
        "{text}"
    );
    assert!(text.contains("inferred: labels"), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["files"][1]["fields"][1]["role"], "categorical");
    assert_eq!(json["event_types"][0]["name"], "click");
}

#[test]
fn malformed_rows_fail_with_exact_locations() {
    let path = fixtures().join("bad/bad_rows.csv");
    let p = path.display();
    let err = load_err(&DatasetSpec::new(&path));
    let ImportError::MalformedRows { total, errors } = &err else {
        panic!("expected malformed rows, got {err}");
    };
    assert_eq!(*total, 6);
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            format!(
                "{p}:3:3 (TIMESTAMP): invalid timestamp \"yesterday\": expected epoch seconds (e.g. 1700000000)"
            ),
            format!("{p}:4:1 (USER_ID): USER_ID is empty"),
            format!(
                "{p}:5:4 (EVENT_VALUE): missing field(s): expected 4 fields (as in the header), found 3"
            ),
            format!("{p}:6:1 (USER_ID): USER_ID is 300 characters long; ids may have at most 256"),
            format!("{p}:7:4 (EVENT_VALUE): invalid EVENT_VALUE \"abc\": expected a number"),
            format!("{p}:8:5: extra field(s): expected 4 fields (as in the header), found 5"),
        ]
    );
    let text = err.to_string();
    assert!(
        text.starts_with("6 malformed rows (rerun with --skip-bad-rows"),
        "{text}"
    );
    assert_eq!(err.code(), "MalformedRows");
}

#[test]
fn crlf_bom_and_multiline_fields_keep_line_numbers() {
    let path = fixtures().join("bad/crlf_bad.csv");
    let err = load_err(&DatasetSpec::new(&path));
    assert_eq!(
        err.to_string().lines().nth(1).unwrap_or_default(),
        format!(
            "  {}:6:3 (TIMESTAMP): invalid timestamp \"soon\": expected epoch seconds (e.g. 1700000000)",
            path.display()
        )
    );
    let (ds, _) = load(&DatasetSpec {
        skip_bad_rows: true,
        ..DatasetSpec::new(&path)
    });
    assert_eq!(ds.item_ids, ["i1", "multi\nline"]);
}

#[test]
fn skip_bad_rows_drops_and_counts_by_reason() {
    let spec = DatasetSpec {
        skip_bad_rows: true,
        ..DatasetSpec::new(fixtures().join("bad/bad_rows.csv"))
    };
    let (ds, report) = load(&spec);
    assert_eq!(ds.user_ids, ["u1", "u8"]);
    let f = report.file(FileRole::Interactions).unwrap();
    assert_eq!((f.rows_read, f.rows_kept, f.rows_dropped()), (8, 2, 6));
    assert_eq!(f.dropped_for(DropReason::WrongColumnCount), 2);
    assert_eq!(f.dropped_for(DropReason::BadTimestamp), 1);
    assert_eq!(f.dropped_for(DropReason::MissingField), 1);
    assert_eq!(f.dropped_for(DropReason::IdTooLong), 1);
    assert_eq!(f.dropped_for(DropReason::BadNumber), 1);
    assert_eq!(report.malformed_rows, 6);
    let text = report.to_string();
    assert!(
        text.contains("dropped 1 row(s): id longer than 256 characters"),
        "{text}"
    );
    assert!(
        text.contains("bad_rows.csv:6:1 (USER_ID): USER_ID is 300 characters long"),
        "{text}"
    );
}

#[test]
fn event_value_threshold_drops_are_counted_not_errors() {
    let spec = DatasetSpec {
        min_event_value: Some(2.0),
        skip_bad_rows: true,
        ..DatasetSpec::new(fixtures().join("basic"))
    };
    let (ds, report) = load(&spec);
    assert_eq!(ds.interactions.event_value, [20.0, 2.0]);
    assert_eq!(report.dropped_for(DropReason::BelowEventValueThreshold), 2);
    assert_eq!(report.malformed_rows, 0);
    assert!(report.to_string().contains("below eventValueThreshold"));
    // No EVENT_VALUE column: the threshold cannot apply.
    let spec = DatasetSpec {
        min_event_value: Some(2.0),
        ..DatasetSpec::new(fixtures().join("bad/millis.csv"))
    };
    assert!(matches!(load_err(&spec), ImportError::Spec(_)));
}

#[test]
fn milliseconds_are_converted_with_a_warning() {
    let (ds, report) = load(&DatasetSpec::new(fixtures().join("bad/millis.csv")));
    assert_eq!(ds.interactions.timestamp, [1_700_000_000, 1_700_000_001]);
    assert_eq!(ds.event_types, [import::DEFAULT_EVENT_TYPE]);
    let w = report
        .warnings
        .iter()
        .find(|w| w.contains("milliseconds"))
        .unwrap();
    assert!(
        w.contains("1 timestamp(s)") && w.contains("millis.csv:2:3 (TIMESTAMP)"),
        "{w}"
    );
}

#[test]
fn header_problems_are_errors() {
    let e = load_err(&DatasetSpec::new(fixtures().join("bad/no_timestamp.csv")));
    assert!(e.to_string().ends_with(
        "no_timestamp.csv:1: missing required column(s) TIMESTAMP (found: USER_ID, ITEM_ID, EVENT_TYPE); \
         interactions need USER_ID, ITEM_ID and TIMESTAMP"
    ), "{e}");
    let e = load_err(&DatasetSpec::new(
        fixtures().join("bad/too_many_context.csv"),
    ));
    assert!(
        e.to_string()
            .contains("too_many_context.csv:1:9 (F): too many contextual columns"),
        "{e}"
    );
    assert_eq!(e.code(), "InvalidHeader");
}

#[test]
fn schema_typed_folder() {
    let (ds, report) = load(&DatasetSpec::new(fixtures().join("schema")));
    assert_eq!(ds.event_types, ["view", "buy"]);
    // NOTE is a string without "categorical": ignored, as Personalize does.
    let names: Vec<&str> = ds
        .interactions
        .context
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["LOCATION"]);
    let f = report.file(FileRole::Interactions).unwrap();
    assert_eq!(f.fields[5].role, FieldRole::Ignored);
    let kinds: Vec<(&str, ColumnKind)> = ds
        .item_columns
        .iter()
        .map(|c| (c.name.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("TITLE", ColumnKind::Textual),
            ("GENRES", ColumnKind::Categorical),
            ("RATING", ColumnKind::Numeric),
            ("KIDS", ColumnKind::Boolean),
            ("DESCRIPTION", ColumnKind::Textual),
        ]
    );
    // "Short" would be inferred categorical; the schema says textual.
    assert_eq!(
        ds.item_columns[4].display_value(0).as_deref(),
        Some("Short")
    );
    assert_eq!(
        ds.item_columns[4].display_value(1).as_deref(),
        Some("Two words")
    );
    let items = report.file(FileRole::Items).unwrap();
    assert!(
        items
            .fields
            .iter()
            .skip(1)
            .all(|f| f.source == FieldSource::Schema)
    );
    assert!(same(&round_trip(&ds), &ds));
}

#[test]
fn schema_mismatch_names_the_column() {
    let dir = fixtures().join("schema_mismatch");
    let e = load_err(&DatasetSpec::new(&dir));
    assert_eq!(
        e.to_string(),
        format!(
            "{}:1:2 (DESCRIPTION): header field \"DESCRIPTION\" does not match field 2 \"GENRES\" of the schema {} \
             (the order must be the same)",
            dir.join("items.csv").display(),
            dir.join("items.schema.json").display()
        )
    );
    let spec = DatasetSpec {
        format: Format::Personalize,
        interactions_schema: Some(fixtures().join("bad/unknown_type.schema.json")),
        ..DatasetSpec::new(dir.join("interactions.csv"))
    };
    let e = load_err(&spec);
    assert!(matches!(e, ImportError::Schema { .. }));
    assert!(
        e.to_string()
            .contains("field \"USER_ID\": unknown type \"uuid\""),
        "{e}"
    );
}

#[test]
fn mapped_without_header_tab_and_epoch_ms() {
    let mut map = MapSpec::parse("user=1,item=2,time=3,value=4,event_name=view").unwrap();
    map.delimiter = b'\t';
    map.has_header = false;
    map.time_format = "epoch-ms".parse::<TimeFormat>().unwrap();
    let spec = DatasetSpec {
        format: Format::Mapped(map),
        min_event_value: Some(2.0),
        ..DatasetSpec::new(fixtures().join("bad/views.tsv"))
    };
    let (ds, report) = load(&spec);
    assert_eq!(ds.user_ids, ["s1"]);
    assert_eq!(ds.item_ids, ["100", "101"]);
    assert_eq!(ds.event_types, ["view"]);
    assert_eq!(ds.interactions.timestamp, [1_700_000_000, 1_700_000_060]);
    assert_eq!(report.dropped_for(DropReason::BelowEventValueThreshold), 1);
    assert_eq!(report.format, "mapped");
}

#[test]
fn normalised_output_round_trips() {
    let (ds, _) = load(&DatasetSpec::new(fixtures().join("basic")));
    let back = round_trip(&ds);
    assert!(same(&back, &ds), "{back:#?}\n!=\n{ds:#?}");
}

#[test]
fn demo_data_imports_and_round_trips() {
    let dir = repo().join("data/demo");
    if !dir.join("interactions.csv").is_file() {
        println!("skipped: {} not found", dir.display());
        return;
    }
    let (ds, report) = load(&DatasetSpec::new(&dir));
    assert_eq!(report.malformed_rows, 0);
    assert!(ds.interactions.len() > 1000);
    assert!(ds.event_types.iter().all(|t| *t == t.to_lowercase()));
    assert!(same(&round_trip(&ds), &ds));
}

#[test]
fn movielens_100k() {
    let Some(dir) = locate("ml-100k", "u.data") else {
        return;
    };
    let t = Instant::now();
    let (ds, report) = import::load_movielens(&dir).unwrap();
    println!("ml-100k imported in {:?}", t.elapsed());
    assert_eq!(report.format, "movielens-100k");
    assert_eq!(ds.interactions.len(), 100_000);
    assert_eq!(ds.user_ids.len(), 943);
    assert_eq!(ds.item_ids.len(), 1_682);
    assert_eq!(ds.event_types, ["rating"]);
    assert_eq!(
        (ds.user_ids[0].as_str(), ds.item_ids[0].as_str()),
        ("196", "242")
    );
    assert_eq!(ds.interactions.timestamp[0], 881_250_949);
    assert_eq!(ds.interactions.event_value[0], 3.0);
    // Titles are Latin-1 (line 1005 of u.item holds an accented title).
    let title = ds.item_columns.iter().find(|c| c.name == "TITLE").unwrap();
    let ColumnValues::Textual(titles) = &title.values else {
        panic!("TITLE is textual")
    };
    assert!(
        titles
            .iter()
            .any(|t| t.contains('é') || t.contains('è') || t.contains('ö'))
    );
    assert!(!titles.iter().any(|t| t.contains('\u{FFFD}')));
    let toy = ds.item_ids.iter().position(|i| i == "1").unwrap();
    assert_eq!(titles[toy], "Toy Story (1995)");
    assert_eq!(
        categorical(&ds.item_columns, "GENRES", toy),
        ["Animation", "Children's", "Comedy"]
    );
    assert_eq!(ds.item_creation[toy], Some(788_918_400));
    assert_eq!(ds.user_columns.len(), 3);
    assert_eq!(report.users_with_two_interactions, 943);
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| w.contains("Personalize needs"))
    );

    let (_, r4) = import::load(&DatasetSpec {
        min_event_value: Some(4.0),
        ..DatasetSpec::new(&dir)
    })
    .unwrap();
    assert_eq!(
        r4.interactions + r4.dropped_for(DropReason::BelowEventValueThreshold),
        100_000
    );
    assert_eq!(r4.interactions, 55_375);
}

#[test]
fn movielens_latest_small() {
    let Some(dir) = locate("ml-latest-small", "ratings.csv") else {
        return;
    };
    let (ds, report) = import::load_movielens(&dir).unwrap();
    assert_eq!(report.format, "movielens-latest");
    assert_eq!(ds.interactions.len(), 100_836);
    assert_eq!(ds.user_ids.len(), 610);
    assert_eq!(report.items_with_interactions, 9_724);
    assert_eq!(ds.item_ids.len(), 9_742);
    assert_eq!(ds.interactions.event_value[0], 4.0);
    let names: Vec<&str> = ds.item_columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["TITLE", "GENRES", "TAGS"]);
    let id = ds.item_ids.iter().position(|i| i == "60756").unwrap();
    let tags = ds.item_columns[2].display_value(id).unwrap();
    assert!(
        tags.contains("funny") && tags.contains("Highly quotable"),
        "{tags}"
    );
    let genres = &ds.item_columns[1];
    assert!((0..ds.item_ids.len()).all(|r| {
        genres
            .categorical_values(r)
            .all(|g| g != "(no genres listed)")
    }));
    // Auto-detection on the folder gives the same dataset.
    let (auto, _) = load(&DatasetSpec::new(&dir));
    assert!(same(&auto, &ds));
    assert!(same(&round_trip(&ds), &ds));
}

#[test]
fn groceries_mapped() {
    let Some(dir) = locate("groceries", "Groceries_dataset.csv") else {
        return;
    };
    let mut map =
        MapSpec::parse("user=transaction_number,item=items,time=date,event_name=purchase").unwrap();
    map.time_format = "DD-MM-YYYY".parse().unwrap();
    let spec = DatasetSpec {
        format: Format::Mapped(map),
        ..DatasetSpec::new(dir.join("Groceries_dataset.csv"))
    };
    let (ds, report) = load(&spec);
    assert_eq!(ds.interactions.len(), 38_765);
    assert_eq!(ds.user_ids.len(), 3_898);
    assert_eq!(ds.item_ids.len(), 167);
    assert_eq!(ds.event_types, ["purchase"]);
    // 21-07-2015 on the first row.
    assert_eq!(ds.interactions.timestamp[0], 1_437_436_800);
    assert_eq!(report.malformed_rows, 0);
}

#[test]
fn diginetica_mapped() {
    let Some(dir) = locate("diginetica-sample", "sample_train-item-views.csv") else {
        return;
    };
    let mut map = MapSpec::parse("user=session_id,item=item_id,time=eventdate").unwrap();
    map.delimiter = b';';
    let spec = DatasetSpec {
        format: Format::Mapped(map),
        ..DatasetSpec::new(dir.join("sample_train-item-views.csv"))
    };
    let (ds, _) = load(&spec);
    assert_eq!(ds.interactions.len(), 12_391);
    assert_eq!(ds.user_ids.len(), 2_986);
    assert_eq!(ds.item_ids.len(), 7_139);
    assert_eq!(ds.interactions.timestamp[0], 1_462_752_000);
}

fn write_temp(bytes: &[u8], name: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir("prop");
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

/// CSV-ish bytes: mostly from a small alphabet of separators, quotes and digits.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => prop::sample::select(b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE|\"\\\r\n 0123456789abc;\t".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Arbitrary bytes never panic any reader: they import or give a typed error.
    #[test]
    fn random_bytes_never_panic(body in csvish(), header in any::<bool>(), skip in any::<bool>()) {
        let mut bytes = if header { b"USER_ID,ITEM_ID,TIMESTAMP,EVENT_VALUE\n".to_vec() } else { Vec::new() };
        bytes.extend_from_slice(&body);
        let (dir, path) = write_temp(&bytes, "interactions.csv");
        std::fs::write(dir.join("items.csv"), [b"ITEM_ID,A,B\n".as_slice(), &body].concat()).unwrap();
        let ml = dir.join("ml");
        std::fs::create_dir_all(&ml).unwrap();
        std::fs::write(ml.join("u.data"), &body).unwrap();
        std::fs::write(ml.join("u.item"), &body).unwrap();
        std::fs::write(ml.join("u.user"), &body).unwrap();
        let specs = [
            DatasetSpec { skip_bad_rows: skip, ..DatasetSpec::new(&dir) },
            DatasetSpec {
                skip_bad_rows: skip,
                format: Format::Mapped(MapSpec::parse("user=1,item=2,time=3").unwrap()),
                ..DatasetSpec::new(&path)
            },
            DatasetSpec { skip_bad_rows: skip, format: Format::MovieLens, ..DatasetSpec::new(&ml) },
            DatasetSpec { skip_bad_rows: skip, format: Format::MovieLens, ..DatasetSpec::new(&path) },
        ];
        for spec in &specs {
            if let Ok((ds, report)) = import::load(spec) {
                prop_assert_eq!(ds.interactions.len(), report.interactions);
                let _ = report.to_string();
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Normalised output imports back to the same dataset.
    #[test]
    fn round_trip_preserves_the_dataset(
        rows in prop::collection::vec(
            (
                "[a-c ,\"\\\\]{1,3}",
                "[x-z,é]{1,3}",
                0i64..2_000_000_000,
                prop::sample::select(vec!["View", "view", "BUY"]),
                prop::option::of(-5.0f32..5.0),
                prop::option::of("[pq]{1,2}"),
            ),
            1..30,
        ),
        items in prop::collection::vec(("[x-z]{1,2}", "[<>&a-d| ]{0,12}", prop::option::of(0.0f64..100.0)), 0..8),
    ) {
        let dir = temp_dir("prop-rt");
        let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\"\""));
        let mut csv = String::from("USER_ID,ITEM_ID,TIMESTAMP,EVENT_TYPE,EVENT_VALUE,DEVICE\n");
        for (u, i, t, e, v, d) in &rows {
            let v = v.map(|v| v.to_string()).unwrap_or_default();
            csv.push_str(&format!("{},{},{t},{e},{v},{}\n", quote(u), quote(i), d.clone().unwrap_or_default()));
        }
        std::fs::write(dir.join("interactions.csv"), csv).unwrap();
        let mut items_csv = String::from("ITEM_ID,TAGS,PRICE\n");
        for (i, tags, price) in &items {
            let p = price.map(|p| p.to_string()).unwrap_or_default();
            items_csv.push_str(&format!("{},{},{p}\n", quote(i), quote(tags)));
        }
        std::fs::write(dir.join("items.csv"), items_csv).unwrap();
        let spec = DatasetSpec { name: "p".into(), skip_bad_rows: true, ..DatasetSpec::new(&dir) };
        // Rows with ids that trim to nothing are dropped (and counted); others must survive.
        if let Ok((ds, report)) = import::load(&spec) {
            let f = report.file(FileRole::Interactions).unwrap();
            prop_assert_eq!(f.rows_read, f.rows_kept + f.rows_dropped());
            let back = round_trip(&ds);
            prop_assert!(same(&back, &ds), "{:?}\n!=\n{:?}", back, ds);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
