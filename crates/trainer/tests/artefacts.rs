//! `edgerec pack`'s library side on small Parquet tables written here with the parquet crate
//! (the shapes Spark writes: ALS factors as `id` + a list of floats, neighbours, counts; one
//! file or a folder of part files): each recommender from its table, ids across tables, the
//! floor with interactions, typed errors naming file, row and column, and no panic on a
//! truncated or corrupted file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use edgerec_core::Engine;
use edgerec_core::request::GetRecommendationsRequest;
use edgerec_trainer::artefacts::{
    self, ArtefactError, Artefacts, PackError, PackOptions, read_counts, read_factors,
    read_neighbors,
};
use edgerec_trainer::dataset::Dataset;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, FloatType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use proptest::prelude::*;

/// One column of a test table.
enum Col {
    /// A string column (null where `None`).
    Text(&'static str, Vec<Option<&'static str>>),
    /// An int64 column.
    Long(&'static str, Vec<i64>),
    /// A double column.
    Double(&'static str, Vec<f64>),
    /// A list of floats per row, Spark's 3-level LIST (`None`: a null list).
    Floats(&'static str, Vec<Option<Vec<f32>>>),
}

/// Writes `cols` as one snappy-compressed Parquet file at `path`.
fn write_table(path: &Path, cols: &[Col]) {
    let fields: Vec<String> = cols
        .iter()
        .map(|c| match c {
            Col::Text(n, _) => format!("optional binary {n} (UTF8);"),
            Col::Long(n, _) => format!("required int64 {n};"),
            Col::Double(n, _) => format!("required double {n};"),
            Col::Floats(n, _) => format!(
                "optional group {n} (LIST) {{ repeated group list {{ required float element; }} }}"
            ),
        })
        .collect();
    let schema = parse_message_type(&format!("message spark_schema {{ {} }}", fields.join(" ")))
        .expect("schema");
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let file = std::fs::File::create(path).expect("create");
    let mut w = SerializedFileWriter::new(file, Arc::new(schema), Arc::new(props)).expect("writer");
    let mut rg = w.next_row_group().expect("row group");
    let mut k = 0;
    while let Some(mut col) = rg.next_column().expect("column") {
        match &cols[k] {
            Col::Text(_, v) => {
                let values: Vec<ByteArray> =
                    v.iter().flatten().map(|s| ByteArray::from(*s)).collect();
                let def: Vec<i16> = v.iter().map(|x| i16::from(x.is_some())).collect();
                col.typed::<ByteArrayType>()
                    .write_batch(&values, Some(&def), None)
                    .expect("write");
            }
            Col::Long(_, v) => {
                col.typed::<Int64Type>()
                    .write_batch(v, None, None)
                    .expect("write");
            }
            Col::Double(_, v) => {
                col.typed::<DoubleType>()
                    .write_batch(v, None, None)
                    .expect("write");
            }
            Col::Floats(_, rows) => {
                let (mut values, mut def, mut rep) = (Vec::new(), Vec::new(), Vec::new());
                for row in rows {
                    match row {
                        None => {
                            def.push(0);
                            rep.push(0);
                        }
                        Some(r) if r.is_empty() => {
                            def.push(1);
                            rep.push(0);
                        }
                        Some(r) => {
                            for (i, &x) in r.iter().enumerate() {
                                values.push(x);
                                def.push(2);
                                rep.push(i16::from(i > 0));
                            }
                        }
                    }
                }
                col.typed::<FloatType>()
                    .write_batch(&values, Some(&def), Some(&rep))
                    .expect("write");
            }
        }
        col.close().expect("close column");
        k += 1;
    }
    rg.close().expect("close row group");
    w.close().expect("close file");
}

/// A fresh folder under the test target's temporary directory.
fn dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("artefacts-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

fn factors(path: &Path, ids: &[&'static str], rows: &[&[f32]]) {
    write_table(
        path,
        &[
            Col::Text("id", ids.iter().map(|&s| Some(s)).collect()),
            Col::Floats("features", rows.iter().map(|r| Some(r.to_vec())).collect()),
        ],
    );
}

fn top(engine: &Engine, req: GetRecommendationsRequest) -> Vec<String> {
    engine
        .get_recommendations(&req)
        .expect("request")
        .item_list
        .into_iter()
        .map(|i| i.item_id)
        .collect()
}

fn request(recommender: &str) -> GetRecommendationsRequest {
    GetRecommendationsRequest {
        recommender: Some(recommender.to_owned()),
        num_results: Some(10),
        ..GetRecommendationsRequest::default()
    }
}

/// The four tables of a small catalogue: items a, b, c with factors; d only in the
/// neighbour and popularity tables; users 1 and 2 (integer ids).
fn tables(d: &Path) -> Artefacts {
    factors(
        &d.join("items.parquet"),
        &["a", "b", "c"],
        &[&[1.0, 0.0], &[0.6, 0.4], &[0.0, 1.0]],
    );
    write_table(
        &d.join("users.parquet"),
        &[
            Col::Long("id", vec![1, 2]),
            Col::Floats("features", vec![Some(vec![1.0, 0.0]), Some(vec![0.0, 1.0])]),
        ],
    );
    write_table(
        &d.join("neighbors.parquet"),
        &[
            Col::Text(
                "item",
                vec![Some("a"), Some("a"), Some("a"), Some("b"), Some("c")],
            ),
            Col::Text(
                "neighbour",
                vec![Some("c"), Some("b"), Some("d"), Some("a"), Some("c")],
            ),
            Col::Double("weight", vec![0.5, 0.9, 0.1, 0.8, 1.0]),
        ],
    );
    write_table(
        &d.join("popularity.parquet"),
        &[
            Col::Text("item", vec![Some("b"), Some("a"), Some("d")]),
            Col::Long("count", vec![9, 7, 5]),
        ],
    );
    Artefacts {
        item_factors: Some(read_factors(&d.join("items.parquet")).expect("items")),
        user_factors: Some(read_factors(&d.join("users.parquet")).expect("users")),
        neighbors: Some(read_neighbors(&d.join("neighbors.parquet")).expect("neighbours")),
        popularity: Some(read_counts(&d.join("popularity.parquet")).expect("popularity")),
    }
}

#[test]
fn each_recommender_comes_from_its_table() {
    let d = dir("each");
    let a = tables(&d);
    // The self-pair c -> c is dropped; int ids are their decimal text.
    assert_eq!(a.neighbors.as_ref().map(Vec::len), Some(4));
    assert_eq!(
        a.user_factors.as_ref().map(|u| u.ids.clone()),
        Some(vec!["1".into(), "2".into()])
    );
    let opts = PackOptions {
        max_neighbors: 2,
        ..PackOptions::default()
    };
    let (model, report) = artefacts::pack(&a, Dataset::default(), &opts).expect("pack");
    assert_eq!(
        report.recommenders,
        [
            "user-personalization",
            "personalized-ranking",
            "sims",
            "popularity-count"
        ]
    );
    assert_eq!((report.items, report.users, report.rank), (4, 2, 2));
    // d is in no catalogue CSV and has no factors; without interactions no floor is stated.
    assert_eq!((report.items_added, report.items_without_factors), (4, 1));
    assert_eq!((report.users_without_factors, report.min_users), (0, 0));
    assert_eq!(
        report.neighbor_entries, 3,
        "a keeps its 2 strongest, b its 1"
    );
    assert_eq!(model.meta.min_users, 0);

    let engine =
        Engine::from_bytes(&edgerec_core::format::encode(&model).expect("encode")).expect("decode");
    let related = |item: &str| {
        top(
            &engine,
            GetRecommendationsRequest {
                item_id: Some(item.to_owned()),
                ..request("sims")
            },
        )
    };
    assert_eq!(related("a")[..2], ["b", "c"]);
    assert_eq!(related("b")[0], "a");
    assert_eq!(top(&engine, request("popularity-count")), ["b", "a", "d"]);
    let for_user = |user: &str| {
        top(
            &engine,
            GetRecommendationsRequest {
                user_id: Some(user.to_owned()),
                ..request("user-personalization")
            },
        )
    };
    assert_eq!(for_user("1")[..2], ["a", "b"]);
    assert_eq!(for_user("2")[..2], ["c", "b"]);
}

#[test]
fn a_folder_of_part_files_is_one_table() {
    let d = dir("parts");
    let t = d.join("item_factors");
    std::fs::create_dir_all(&t).expect("mkdir");
    factors(
        &t.join("part-00001-x.snappy.parquet"),
        &["c"],
        &[&[0.0, 1.0]],
    );
    factors(
        &t.join("part-00000-x.snappy.parquet"),
        &["a", "b"],
        &[&[1.0, 0.0], &[0.5, 0.5]],
    );
    std::fs::write(t.join("_SUCCESS"), "").expect("marker");
    std::fs::write(t.join(".part-00000-x.snappy.parquet.crc"), "junk").expect("crc");
    let f = read_factors(&t).expect("read");
    assert_eq!(f.ids, ["a", "b", "c"]);
    assert_eq!((f.rank, f.row(2)), (2, &[0.0, 1.0][..]));
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).expect("mkdir");
    std::fs::write(empty.join("_SUCCESS"), "").expect("marker");
    assert!(matches!(
        read_factors(&empty),
        Err(ArtefactError::NoParts { .. })
    ));
}

#[test]
fn interactions_give_histories_and_the_floor() {
    let d = dir("floor");
    let a = tables(&d);
    // a and b share users 1, 2 and 3; a and c only user 3.
    let csv = d.join("interactions.csv");
    std::fs::write(
        &csv,
        "USER_ID,ITEM_ID,TIMESTAMP\n1,a,1\n1,b,2\n2,a,3\n2,b,4\n3,a,5\n3,b,6\n3,c,7\n",
    )
    .expect("csv");
    let (ds, _) =
        edgerec_trainer::load_dataset(&edgerec_trainer::DatasetSpec::new(&csv)).expect("import");
    let opts = PackOptions {
        min_users: 2,
        ..PackOptions::default()
    };
    let (model, report) = artefacts::pack(&a, ds, &opts).expect("pack");
    assert_eq!(
        (report.interactions, report.users, report.min_users),
        (7, 3, 2)
    );
    assert_eq!(model.meta.min_users, 2);
    let engine =
        Engine::from_bytes(&edgerec_core::format::encode(&model).expect("encode")).expect("decode");
    let related = top(
        &engine,
        GetRecommendationsRequest {
            item_id: Some("a".to_owned()),
            ..request("sims")
        },
    );
    assert_eq!(related.first().map(String::as_str), Some("b"));
    assert!(!related.contains(&"c".to_owned()) || related.len() > 1);
    // User 1's own items (a, b) are not recommended back; user 3 has no factors: popularity.
    let own = top(
        &engine,
        GetRecommendationsRequest {
            user_id: Some("1".to_owned()),
            ..request("user-personalization")
        },
    );
    assert!(
        !own.contains(&"a".to_owned()) && !own.contains(&"b".to_owned()),
        "{own:?}"
    );
    assert_eq!(report.users_without_factors, 1);
}

/// The message of `read(path)`'s error, checked to name the file.
fn message<T: std::fmt::Debug>(path: &Path, r: Result<T, ArtefactError>) -> String {
    let m = r.expect_err("should be refused").to_string();
    assert!(m.contains(&path.display().to_string()), "{m}");
    m
}

#[test]
fn bad_tables_are_refused_with_file_row_and_column() {
    let d = dir("errors");
    let p = d.join("rank.parquet");
    factors(&p, &["a", "b", "c"], &[&[1.0, 0.0], &[0.5, 0.5], &[1.0]]);
    let m = message(&p, read_factors(&p));
    assert!(
        m.contains("row 3: features has 1 values, expected 2"),
        "{m}"
    );

    let p = d.join("null-id.parquet");
    write_table(
        &p,
        &[
            Col::Text("id", vec![Some("a"), None]),
            Col::Floats("features", vec![Some(vec![1.0]), Some(vec![2.0])]),
        ],
    );
    assert!(message(&p, read_factors(&p)).ends_with("row 2: id is null"));

    let p = d.join("null-features.parquet");
    write_table(
        &p,
        &[
            Col::Text("id", vec![Some("a"), Some("b")]),
            Col::Floats("features", vec![Some(vec![1.0]), None]),
        ],
    );
    assert!(message(&p, read_factors(&p)).contains("row 2: features"));

    let p = d.join("dup.parquet");
    factors(&p, &["a", "a"], &[&[1.0], &[2.0]]);
    assert!(message(&p, read_factors(&p)).ends_with("row 2: id \"a\" appears twice"));

    let p = d.join("nan.parquet");
    factors(&p, &["a", "b"], &[&[1.0], &[f32::NAN]]);
    assert!(message(&p, read_factors(&p)).contains("row 2: features is NaN"));

    let p = d.join("no-features.parquet");
    write_table(&p, &[Col::Text("id", vec![Some("a")])]);
    let m = message(&p, read_factors(&p));
    assert!(m.ends_with("no column \"features\" (found: id)"), "{m}");

    let p = d.join("float-ids.parquet");
    write_table(
        &p,
        &[Col::Double("item", vec![1.5]), Col::Long("count", vec![3])],
    );
    assert!(message(&p, read_counts(&p)).contains("column \"item\" is a floating-point number"));

    let p = d.join("negative.parquet");
    write_table(
        &p,
        &[
            Col::Text("item", vec![Some("a"), Some("b")]),
            Col::Double("count", vec![1.0, -2.0]),
        ],
    );
    assert!(message(&p, read_counts(&p)).contains("row 2: count is -2"));

    let p = d.join("text-weight.parquet");
    write_table(
        &p,
        &[
            Col::Text("item", vec![Some("a")]),
            Col::Text("neighbour", vec![Some("b")]),
            Col::Text("weight", vec![Some("high")]),
        ],
    );
    assert!(message(&p, read_neighbors(&p)).contains("column \"weight\" is a string"));

    let p = d.join("not-parquet.parquet");
    std::fs::write(&p, "USER_ID,ITEM_ID\n1,2\n").expect("write");
    assert!(message(&p, read_counts(&p)).contains("not a readable Parquet file"));

    let missing = d.join("missing");
    assert!(matches!(
        read_counts(&missing),
        Err(ArtefactError::Io { .. })
    ));
}

#[test]
fn pack_refuses_what_cannot_make_a_model() {
    let d = dir("refuse");
    let a = tables(&d);
    let none = Artefacts::default();
    assert!(matches!(
        artefacts::pack(&none, Dataset::default(), &PackOptions::default()),
        Err(PackError::Nothing)
    ));
    let users_alone = Artefacts {
        user_factors: a.user_factors.clone(),
        ..Artefacts::default()
    };
    assert!(matches!(
        artefacts::pack(&users_alone, Dataset::default(), &PackOptions::default()),
        Err(PackError::UserFactorsAlone)
    ));
    factors(&d.join("rank3.parquet"), &["1"], &[&[1.0, 2.0, 3.0]]);
    let mismatch = Artefacts {
        user_factors: Some(read_factors(&d.join("rank3.parquet")).expect("read")),
        ..a.clone()
    };
    let e = artefacts::pack(&mismatch, Dataset::default(), &PackOptions::default())
        .expect_err("rank mismatch");
    assert_eq!(
        e.to_string(),
        "the user factors have rank 3, the item factors 2: both come from one ALS model"
    );
    let bad = PackOptions {
        alpha: f32::NAN,
        ..PackOptions::default()
    };
    assert!(matches!(
        artefacts::pack(&a, Dataset::default(), &bad),
        Err(PackError::Param {
            what: "--alpha",
            ..
        })
    ));
}

/// The bytes of a valid factor table, written once (the proptests run side by side).
fn valid_bytes() -> Vec<u8> {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES
        .get_or_init(|| {
            let p = dir("proptest-source").join("t.parquet");
            let ids: Vec<&'static str> = vec!["a", "b", "c", "d", "e", "f"];
            let rows: Vec<Vec<f32>> = (0..6u8).map(|i| vec![f32::from(i), 1.0, -0.5]).collect();
            let rows: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
            factors(&p, &ids, &rows);
            std::fs::read(&p).expect("read")
        })
        .clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A truncated file is refused with a typed error, never a panic.
    #[test]
    fn truncated_files_are_refused(cut in 0usize..1000) {
        let bytes = valid_bytes();
        let cut = cut % bytes.len();
        let p = dir(&format!("trunc-{cut}")).join("t.parquet");
        std::fs::write(&p, &bytes[..cut]).expect("write");
        prop_assert!(read_factors(&p).is_err());
    }

    /// A file with bytes overwritten reads or is refused; it never panics.
    #[test]
    fn corrupted_files_never_panic(at in 0usize..1000, value in any::<u8>(), span in 1usize..8) {
        let mut bytes = valid_bytes();
        let at = at % bytes.len();
        for b in bytes.iter_mut().skip(at).take(span) {
            *b = value;
        }
        let p = dir(&format!("corrupt-{at}-{value}-{span}")).join("t.parquet");
        std::fs::write(&p, &bytes).expect("write");
        let _ = read_factors(&p);
    }
}
