//! Replays every file in `tests/fuzz-regressions/decode/` (fuzz crashers and hand-made nasty
//! inputs) through `format::decode` and `format::read_header`: each must return, never panic.
//! Files named `ok-*` must decode; every other file must be refused.
//!
//! The hand-made files are produced by `write_seed_files` (run it with
//! `cargo test -p edgerec-core --features write --test format_regressions -- --ignored`), which
//! rewrites them deterministically; fuzz crashers are added by hand with a descriptive name.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use edgerec_core::format;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions/decode")
}

#[test]
fn replay_decode_regressions() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/fuzz-regressions/decode exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "the regression corpus is empty");
    let mut ok = 0;
    for path in &files {
        let bytes = std::fs::read(path).expect("readable file");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let _ = format::read_header(&bytes);
        match format::decode(&bytes) {
            Ok(_) => {
                assert!(
                    name.starts_with("ok-"),
                    "{name} decoded but should be refused"
                );
                ok += 1;
            }
            Err(e) => {
                assert!(!name.starts_with("ok-"), "{name} should decode: {e}");
                eprintln!("{name}: {e}");
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(ok >= 1, "the corpus holds at least one valid file");
}

#[cfg(feature = "write")]
mod seeds {
    use edgerec_core::format::{self, MAGIC};
    use edgerec_core::model::ServingOptions;
    use edgerec_core::{
        Catalog, Column, ColumnKind, ColumnValues, Embedding, FactorModel, Histories, Model,
        NeighborModel, PopularityModel, Recipe, Recommender, RecommenderModel, UserTable,
    };

    fn small() -> Model {
        let f: Vec<f32> = (0..6).map(|i| i as f32 / 6.0 - 0.5).collect();
        Model {
            catalog: Catalog {
                item_ids: ["a", "b", "c"].into(),
                columns: vec![
                    Column {
                        name: "GENRE".into(),
                        kind: ColumnKind::Categorical,
                        values: ColumnValues::Categorical {
                            dictionary: vec!["x".into(), "y".into()],
                            offsets: vec![0, 1, 3, 3],
                            codes: vec![0, 0, 1],
                        },
                    },
                    Column {
                        name: "PRICE".into(),
                        kind: ColumnKind::Numeric,
                        values: ColumnValues::Numeric(vec![1.5, f64::NAN, 2.25]),
                    },
                ],
                creation_time: vec![10, 20, 30].into(),
                event_types: vec!["view".into()],
                context_columns: vec![],
            },
            users: UserTable {
                user_ids: ["u"].into(),
                columns: vec![],
            },
            histories: Histories {
                offsets: vec![0, 2],
                items: vec![0, 2],
                event_types: vec![0, 0],
                timestamps: vec![1, 2].into(),
                ..Histories::default()
            },
            popularity: PopularityModel {
                counts: vec![1, 0, 1],
                ranked: vec![0, 2],
            },
            recommenders: vec![
                Recommender {
                    name: "sims".into(),
                    recipe: Recipe::Sims,
                    event_type: None,
                    serving: ServingOptions::default(),
                    model: RecommenderModel::Neighbors(NeighborModel {
                        offsets: vec![0, 1, 1, 2],
                        neighbors: vec![2, 0],
                        weights: vec![0.5, 0.5],
                        ..NeighborModel::default()
                    }),
                },
                Recommender {
                    name: "mf".into(),
                    recipe: Recipe::UserPersonalization,
                    event_type: None,
                    serving: ServingOptions::default(),
                    model: RecommenderModel::Factors(FactorModel {
                        item_factors: Embedding::quantize(3, 2, &f),
                        user_factors: Embedding::quantize(1, 2, &[0.5, -0.5]),
                        gram: vec![1.0, 0.0, 0.0, 1.0],
                        regularization: 0.1,
                        alpha: 1.0,
                        event_weights: vec![1.0],
                        recency_half_life: 0.0,
                        content: None,
                        context: None,
                    }),
                },
            ],
            ..Model::default()
        }
    }

    fn fix_header_crc(b: &mut [u8]) {
        let n = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
        let end = 32 + 24 * n;
        let crc = crc32fast::hash(&b[..end]);
        b[end..end + 4].copy_from_slice(&crc.to_le_bytes());
    }

    /// Rewrites the hand-made files of the corpus.
    #[test]
    #[ignore = "regenerates the committed corpus files"]
    fn write_seed_files() {
        let valid = format::encode(&small()).unwrap();
        let info = format::read_header(&valid).unwrap();
        let mut files: Vec<(String, Vec<u8>)> = vec![
            ("ok-small-model".into(), valid.clone()),
            (
                "ok-empty-model".into(),
                format::encode(&Model::default()).unwrap(),
            ),
            ("empty-file".into(), vec![]),
            ("magic-only".into(), MAGIC.to_vec()),
            ("magic-prefix".into(), MAGIC[..5].to_vec()),
            ("not-a-model".into(), b"{\"itemList\": []}".to_vec()),
            ("truncated-header".into(), valid[..20].to_vec()),
            ("truncated-table".into(), valid[..40].to_vec()),
            (
                "truncated-last-byte".into(),
                valid[..valid.len() - 1].to_vec(),
            ),
        ];
        let mut b = valid.clone();
        b[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
        files.push(("huge-section-count".into(), b));
        let mut b = valid.clone();
        b[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
        fix_header_crc(&mut b);
        files.push(("huge-file-length".into(), b));
        let mut b = valid.clone();
        b[32 + 16..32 + 24].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        fix_header_crc(&mut b);
        files.push(("huge-section-length".into(), b));
        let mut b = valid.clone();
        b[32 + 8..32 + 16].copy_from_slice(&(u64::MAX - 1).to_le_bytes());
        fix_header_crc(&mut b);
        files.push(("overflowing-section-offset".into(), b));
        let mut b = valid.clone();
        b[8..10].copy_from_slice(&999u16.to_le_bytes());
        files.push(("future-major-version".into(), b));
        let mut b = valid.clone();
        b[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        fix_header_crc(&mut b);
        files.push(("unknown-capabilities".into(), b));
        for (i, s) in info.sections.iter().enumerate() {
            let mut b = valid.clone();
            b[(s.offset + s.length / 2) as usize] ^= 0x10;
            files.push((format!("bit-flip-section-{i}-{}", s.kind.name()), b));
            // the same flip with a recomputed checksum reaches the section decoder
            let mut b = valid.clone();
            let at = (s.offset + s.length / 2) as usize;
            b[at] ^= 0x10;
            let crc = crc32fast::hash(&b[s.offset as usize..(s.offset + s.length) as usize]);
            let e = 32 + 24 * i + 4;
            b[e..e + 4].copy_from_slice(&crc.to_le_bytes());
            fix_header_crc(&mut b);
            if format::decode(&b).is_err() {
                files.push((
                    format!("rechecksummed-flip-section-{i}-{}", s.kind.name()),
                    b,
                ));
            }
            // a huge varint count at the start of the section, checksums fixed
            let mut b = valid.clone();
            let start = s.offset as usize;
            let end = (s.offset + s.length) as usize;
            // bincode varint marker 0xfd: a u64 follows; u64::MAX as the first count or length
            b[start] = 0xfd;
            for x in &mut b[start + 1..end.min(start + 9)] {
                *x = 0xff;
            }
            let crc = crc32fast::hash(&b[start..end]);
            b[e..e + 4].copy_from_slice(&crc.to_le_bytes());
            fix_header_crc(&mut b);
            files.push((format!("huge-count-section-{i}-{}", s.kind.name()), b));
        }
        let dir = super::dir();
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in files {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}
