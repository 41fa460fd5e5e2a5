//! `edgerec serve --lake DIR`: accepted events land in the lake as Parquet partitioned by day,
//! each eventId once, also across retried batches, a failing store and a crash mid-export.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use edgerec_server::db::{self, Access, lake::SeqRange};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use serde_json::json;

use super::{Server, WRITE, batch, event, start, start_in, temp_dir};

/// 2023-11-14T22:13:20Z: the test's events fall on 2023-11-14 and 2023-11-15 (UTC).
const T0: u64 = 1_700_000_000;
const DAY: u64 = 86_400;

/// One row of a lake file: the partition folder, the file name and the columns we check.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    dir: String,
    file: String,
    event_id: String,
    timestamp: i64,
    impression: Option<String>,
    properties: Option<String>,
    user_id: Option<String>,
}

/// Every row of every `.parquet` file under the lake folder, file by file (sorted by path).
fn read_lake(lake: &Path) -> Vec<Row> {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(lake).unwrap() {
        let dir = dir.unwrap().path();
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "parquet") {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut rows = Vec::new();
    for path in files {
        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
        let (dir, file) = (name(path.parent().unwrap()), name(&path));
        let reader = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for row in reader.get_row_iter(None).unwrap() {
            let row = row.unwrap();
            let col = |name: &str| {
                row.get_column_iter()
                    .find(|(n, _)| n.as_str() == name)
                    .map(|(_, f)| f.clone())
                    .unwrap_or_else(|| panic!("no column {name}"))
            };
            let text = |name: &str| match col(name) {
                Field::Str(s) => Some(s),
                Field::Null => None,
                other => panic!("{name}: {other:?}"),
            };
            rows.push(Row {
                dir: dir.clone(),
                file: file.clone(),
                event_id: text("EVENT_ID").unwrap(),
                timestamp: match col("TIMESTAMP") {
                    Field::Long(v) => v,
                    other => panic!("TIMESTAMP: {other:?}"),
                },
                impression: text("IMPRESSION"),
                properties: text("PROPERTIES"),
                user_id: text("USER_ID"),
            });
        }
    }
    rows
}

/// The UTC day folder of an epoch second (only the two days of the test).
fn day_dir(timestamp: i64) -> &'static str {
    if (timestamp as u64) < 1_700_006_400 {
        "dt=2023-11-14"
    } else {
        "dt=2023-11-15"
    }
}

/// The lake's progress in /health.
fn lake_status(s: &Server) -> serde_json::Value {
    s.admin_get("/health", &[]).json()["lake"].clone()
}

/// Waits until the lake holds `rows` rows by /health, or panics after 60 s.
fn wait_for_rows(s: &Server, rows: u64) {
    let end = Instant::now() + Duration::from_secs(60);
    loop {
        let st = lake_status(s);
        if st["rows"].as_u64() == Some(rows) && st["exportedSeq"].as_u64().is_some() {
            return;
        }
        assert!(
            Instant::now() < end,
            "the lake export did not reach {rows} rows: {st}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The event ids of the store in `seq` order, with their seqs.
fn stored(data: &Path) -> Vec<(i64, String)> {
    let c = edgerec_server::store::open_read_only(data).unwrap();
    db::events::in_range(&c, 0, i64::MAX)
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.event_id))
        .collect()
}

/// Each stored event is in the lake once, in its day's folder, files in acceptance order.
fn assert_lake_equals_store(lake: &Path, data: &Path) -> Vec<Row> {
    let rows = read_lake(lake);
    let store = stored(data);
    let ids: Vec<&str> = rows.iter().map(|r| r.event_id.as_str()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate EVENT_IDs in the lake");
    let expected: BTreeSet<&str> = store.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(unique, expected, "the lake holds exactly the stored events");
    for r in &rows {
        assert_eq!(r.dir, day_dir(r.timestamp), "{r:?}");
    }
    // Within a file, rows are in acceptance (seq) order.
    let seq: BTreeMap<&str, i64> = store.iter().map(|(s, id)| (id.as_str(), *s)).collect();
    let mut by_file: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    for r in &rows {
        by_file
            .entry((r.dir.as_str(), r.file.as_str()))
            .or_default()
            .push(seq[r.event_id.as_str()]);
    }
    for (file, seqs) in &by_file {
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{file:?}: {seqs:?}");
    }
    rows
}

fn lake_args(lake: &Path) -> Vec<String> {
    vec![
        "--lake".into(),
        lake.display().to_string(),
        "--lake-interval".into(),
        "100ms".into(),
        "--no-train-on-start".into(),
    ]
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn accepted_events_land_in_the_lake_once_partitioned_by_day() {
    let lake = temp_dir("lake-out");
    let a = lake_args(&lake);
    let s = start("lake", &args(&a));
    // Two days, seconds and milliseconds, every optional column, and retried batches.
    let mut first = Vec::new();
    for k in 0..12u64 {
        let mut e = event(
            &format!("lake-{k}"),
            "click",
            &format!("item-{k}"),
            T0 + k * 7000,
        );
        if k.is_multiple_of(3) {
            e["sentAt"] = json!((T0 + k * 7000) * 1000 + 999);
        }
        if k == 1 {
            e["impression"] = json!(["item-1", "item-2", "item-3"]);
            e["properties"] = json!("{\"device\":\"mobile\"}");
            e["eventValue"] = json!(9.5);
            e["recommendationId"] = json!("rid-0123456789abcdef");
        }
        first.push(e);
    }
    let body = batch("lake-session", Some("lake-user"), &first);
    assert_eq!(s.post("/events", Some(WRITE), &body).json()["stored"], 12);
    // The same batch again (a client's retry): nothing new is stored, nothing new exported.
    let again = s.post("/events", Some(WRITE), &body).json();
    assert_eq!(
        (again["stored"].clone(), again["duplicates"].clone()),
        (json!(0), json!(12))
    );
    // Events without ids, twice: the server derives the same ids, so they are stored once.
    let anon: Vec<_> = (0..3u64)
        .map(
            |k| json!({"eventType": "view", "itemId": format!("anon-{k}"), "sentAt": T0 + DAY + k}),
        )
        .collect();
    let anon_body = batch("anon-session", None, &anon);
    assert_eq!(
        s.post("/events", Some(WRITE), &anon_body).json()["stored"],
        3
    );
    assert_eq!(
        s.post("/events", Some(WRITE), &anon_body).json()["duplicates"],
        3
    );
    wait_for_rows(&s, 15);
    // Later events become a later range, in new files.
    let late: Vec<_> = (0..5u64)
        .map(|k| event(&format!("late-{k}"), "view", "item-9", T0 + DAY + 100 + k))
        .collect();
    assert_eq!(
        s.post("/events", Some(WRITE), &batch("late", None, &late))
            .json()["stored"],
        5
    );
    wait_for_rows(&s, 20);
    assert_eq!(s.stored_events(), 20);
    let rows = assert_lake_equals_store(&lake, &s.dir.join("data"));
    assert_eq!(rows.len(), 20);
    let dirs: BTreeSet<&str> = rows.iter().map(|r| r.dir.as_str()).collect();
    assert_eq!(dirs, BTreeSet::from(["dt=2023-11-14", "dt=2023-11-15"]));
    let files: BTreeSet<&str> = rows.iter().map(|r| r.file.as_str()).collect();
    assert!(
        files.contains("serve-000000000001-000000000015.parquet"),
        "{files:?}"
    );
    assert!(
        files.contains("serve-000000000016-000000000020.parquet"),
        "{files:?}"
    );
    // Columns as received: milliseconds floored to seconds, impressions joined with '|'.
    let r0 = rows.iter().find(|r| r.event_id == "lake-0").unwrap();
    assert_eq!(r0.timestamp, T0 as i64);
    assert_eq!(r0.user_id.as_deref(), Some("lake-user"));
    let r1 = rows.iter().find(|r| r.event_id == "lake-1").unwrap();
    assert_eq!(r1.impression.as_deref(), Some("item-1|item-2|item-3"));
    assert_eq!(r1.properties.as_deref(), Some("{\"device\":\"mobile\"}"));
    // Progress in /metrics.
    assert_eq!(s.metric("edgerec_lake_rows_total"), 20.0);
    assert_eq!(s.metric("edgerec_lake_exported_seq"), 20.0);
    let n_files = rows
        .iter()
        .map(|r| (r.dir.as_str(), r.file.as_str()))
        .collect::<BTreeSet<_>>()
        .len();
    assert_eq!(s.metric("edgerec_lake_files_total"), n_files as f64);
    assert_eq!(s.metric("edgerec_lake_export_failures_total"), 0.0);
    drop(s);
    let _ = std::fs::remove_dir_all(&lake);
}

#[test]
fn a_failing_lake_is_retried_without_blocking_ingest_or_losing_events() {
    let lake = temp_dir("lake-blocked");
    // A file where the day's folder must go: every put fails until it is removed.
    let blocker = lake.join("dt=2023-11-14");
    std::fs::write(&blocker, b"not a folder").unwrap();
    let a = lake_args(&lake);
    let s = start("lake-fail", &args(&a));
    let events: Vec<_> = (0..4u64)
        .map(|k| event(&format!("f-{k}"), "view", "item-1", T0 + k))
        .collect();
    let t = Instant::now();
    assert_eq!(
        s.post("/events", Some(WRITE), &batch("f", None, &events))
            .json()["stored"],
        4
    );
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "ingest waited for the lake"
    );
    let end = Instant::now() + Duration::from_secs(30);
    while s.metric("edgerec_lake_export_failures_total") < 1.0 {
        assert!(Instant::now() < end, "no failed export was counted");
        std::thread::sleep(Duration::from_millis(100));
    }
    let st = lake_status(&s);
    assert_eq!(st["rows"], 0, "{st}");
    assert!(
        st["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("dt=2023-11-14")),
        "{st}"
    );
    // More events while the store fails; then it recovers and everything arrives, once.
    let more: Vec<_> = (4..6u64)
        .map(|k| event(&format!("f-{k}"), "view", "item-1", T0 + k))
        .collect();
    assert_eq!(
        s.post("/events", Some(WRITE), &batch("f", None, &more))
            .json()["stored"],
        2
    );
    std::fs::remove_file(&blocker).unwrap();
    wait_for_rows(&s, 6);
    assert_eq!(
        assert_lake_equals_store(&lake, &s.dir.join("data")).len(),
        6
    );
    drop(s);
    let _ = std::fs::remove_dir_all(&lake);
}

#[test]
fn a_pending_range_is_written_again_exactly_after_a_crash() {
    // A server without the lake stores 30 events (seq 1..=30) on two days, then dies.
    let s = start("lake-crash", &["--no-train-on-start"]);
    for b in 0..3u64 {
        let events: Vec<_> = (0..10u64)
            .map(|k| {
                let n = b * 10 + k;
                event(
                    &format!("c-{n}"),
                    "view",
                    &format!("item-{k}"),
                    T0 + n * 1000,
                )
            })
            .collect();
        let r = s.post(
            "/events",
            Some(WRITE),
            &batch(&format!("c-{b}"), None, &events),
        );
        assert_eq!(r.json()["stored"], 10);
    }
    let dir: PathBuf = s.kill_keep_dir();
    let data = dir.join("data");
    // As a crash in the middle of an export leaves it: range 1..=20 recorded as pending, and
    // of its files one half written (the other never started).
    let range = SeqRange { first: 1, last: 20 };
    {
        let c = db::open(&edgerec_server::store::db_path(&data), Access::Writer).unwrap();
        db::schema::create(&c).unwrap();
        db::lake::begin(&c, range, 0).unwrap();
    }
    let lake = dir.join("lake");
    let stem = edgerec_server::lake::stem(range);
    std::fs::create_dir_all(lake.join("dt=2023-11-14")).unwrap();
    std::fs::write(
        lake.join("dt=2023-11-14").join(format!("{stem}.parquet")),
        b"PAR1 half a file",
    )
    .unwrap();
    // Restarted with the lake: the pending range is written again, exactly, then the rest.
    let a = lake_args(&lake);
    let s = start_in(dir, &args(&a));
    wait_for_rows(&s, 30);
    let rows = assert_lake_equals_store(&lake, &data);
    assert_eq!(rows.len(), 30);
    let in_file = |suffix: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r.file == format!("{suffix}.parquet"))
            .map(|r| r.event_id.clone())
            .collect()
    };
    let first: Vec<String> = (0..20).map(|n| format!("c-{n}")).collect();
    let rest: Vec<String> = (20..30).map(|n| format!("c-{n}")).collect();
    assert_eq!(
        in_file(&stem),
        first,
        "the redone range holds exactly seq 1..=20"
    );
    assert_eq!(
        in_file(&edgerec_server::lake::stem(SeqRange {
            first: 21,
            last: 30
        })),
        rest
    );
    // T0 + 6400 s is the first second of 2023-11-15: the redone range spans both days.
    let days: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.file == format!("{stem}.parquet"))
        .map(|r| r.dir.as_str())
        .collect();
    assert_eq!(days, BTreeSet::from(["dt=2023-11-14", "dt=2023-11-15"]));
}
