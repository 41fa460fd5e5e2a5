//! The `.erm` container: round trips, determinism, and one distinct error per corruption.

#![cfg(feature = "write")]
#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

use edgerec_core::content::{ContentColumn, ContentModel};
use edgerec_core::format::{
    self, CAP_FACTORS, FORMAT_VERSION, MAGIC, MAX_FILE_LEN, MAX_SECTIONS, SUPPORTED_CAPABILITIES,
    SectionKind,
};
use edgerec_core::model::{
    ContextColumn, ContextModel, Exploration, NamedFilter, ServingOptions, TransitionLists,
};
use edgerec_core::session::neighbors::SessionNeighbors;
use edgerec_core::{
    Catalog, Column, ColumnKind, ColumnValues, Embedding, FactorModel, FormatError, Histories,
    Model, ModelMeta, NeighborModel, PopularityModel, PopularityTimeline, Recipe, Recommender,
    RecommenderModel, UserTable,
};
use proptest::prelude::*;

fn cat(name: &str, kind: ColumnKind, dict: &[&str], offsets: Vec<u32>, codes: Vec<u32>) -> Column {
    Column {
        name: name.into(),
        kind,
        values: ColumnValues::Categorical {
            dictionary: dict.iter().map(|s| (*s).to_owned()).collect(),
            offsets,
            codes,
        },
    }
}

/// Four items, three users, every column kind and every recommender kind.
fn sample() -> Model {
    let items = 4;
    let f: Vec<f32> = (0..items * 3).map(|i| (i as f32 * 0.37).sin()).collect();
    let u: Vec<f32> = (0..3 * 3).map(|i| (i as f32 * 0.71).cos()).collect();
    Model {
        meta: ModelMeta {
            version: 7,
            created_at: 1_700_000_000,
            data_time: 1_699_999_000,
            dataset: "sample".into(),
            producer: "tests".into(),
            filters: vec![NamedFilter {
                name: "no-books".into(),
                expression: "EXCLUDE ItemID WHERE Items.GENRES IN (\"books\")".into(),
            }],
            ..ModelMeta::default()
        },
        catalog: Catalog {
            item_ids: ["item-1", "item-2", "ítem-3", "x"].into(),
            columns: vec![
                cat(
                    "GENRES",
                    ColumnKind::Categorical,
                    &["books", "music", "film"],
                    vec![0, 2, 2, 3, 4],
                    vec![0, 1, 2, 0],
                ),
                cat(
                    "IN_STOCK",
                    ColumnKind::Boolean,
                    &["true", "false"],
                    vec![0, 1, 2, 3, 4],
                    vec![0, 1, 0, 0],
                ),
                Column {
                    name: "PRICE".into(),
                    kind: ColumnKind::Numeric,
                    values: ColumnValues::Numeric(vec![19.99, f64::NAN, 5.0, -0.5]),
                },
                Column {
                    name: "WEIGHT".into(),
                    kind: ColumnKind::Numeric,
                    values: ColumnValues::Numeric(vec![0.1 + 0.2, 1e300, -0.0, 3.0]),
                },
                Column {
                    name: "DESCRIPTION".into(),
                    kind: ColumnKind::Textual,
                    values: ColumnValues::Textual(vec![
                        "a book".into(),
                        String::new(),
                        "ünïcode ✓".into(),
                        "x".into(),
                    ]),
                },
            ],
            creation_time: vec![1_600_000_000, -5, i64::MAX, i64::MIN].into(),
            event_types: vec!["click".into(), "purchase".into()],
            context_columns: vec!["DEVICE".into()],
        },
        users: UserTable {
            user_ids: ["u1", "u2", "u3"].into(),
            columns: vec![cat(
                "TIER",
                ColumnKind::Categorical,
                &["gold"],
                vec![0, 1, 1, 1],
                vec![0],
            )],
        },
        histories: Histories {
            offsets: vec![0, 2, 2, 3],
            items: vec![0, 3, 1],
            event_types: vec![0, 1, 0],
            timestamps: vec![10, 20, 5].into(),
            ..Histories::default()
        },
        popularity: PopularityModel {
            counts: vec![2, 0, 1, 2],
            ranked: vec![0, 3, 2],
        },
        recommenders: vec![
            Recommender {
                name: "best-sellers".into(),
                recipe: Recipe::PopularityCount,
                event_type: Some("purchase".into()),
                serving: ServingOptions::default(),
                // not the derived order: stored explicitly
                model: RecommenderModel::Popularity(PopularityModel {
                    counts: vec![1, 1, 0, 0],
                    ranked: vec![1, 0],
                }),
            },
            Recommender {
                name: "also-viewed".into(),
                recipe: Recipe::Sims,
                event_type: None,
                serving: ServingOptions {
                    exclude_interacted: false,
                    exclude_event_types: vec!["purchase".into()],
                    max_history: 5,
                    exploration: None,
                },
                model: RecommenderModel::Neighbors(NeighborModel {
                    session_pairs: None,
                    offsets: vec![0, 2, 3, 3, 4],
                    neighbors: vec![1, 2, 0, 0],
                    weights: vec![0.5, 0.25, 1.0, -2.0],
                    history_decay: 0.5,
                    session_popularity: 0.0,
                    timeline: None,
                    session_neighbors: None,
                    content: None,
                    transitions: None,
                }),
            },
            Recommender {
                name: "recommended-for-you".into(),
                recipe: Recipe::UserPersonalization,
                event_type: None,
                serving: ServingOptions::default(),
                model: RecommenderModel::Factors(FactorModel {
                    item_factors: Embedding::quantize(items, 3, &f),
                    user_factors: Embedding::quantize(3, 3, &u),
                    gram: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                    regularization: 0.1,
                    alpha: 40.0,
                    event_weights: vec![1.0, 3.0],
                    recency_half_life: 20.0,
                    content: None,
                    context: None,
                }),
            },
            Recommender {
                name: "ranking".into(),
                recipe: Recipe::PersonalizedRanking,
                event_type: None,
                serving: ServingOptions::default(),
                model: RecommenderModel::Factors(FactorModel {
                    item_factors: Embedding::from_f32(items, 3, f.clone()),
                    user_factors: Embedding::from_f32(0, 3, vec![]),
                    gram: vec![0.5; 9],
                    regularization: 0.0,
                    alpha: 1.0,
                    event_weights: vec![],
                    recency_half_life: 0.0,
                    content: None,
                    context: None,
                }),
            },
        ],
    }
}

/// `Model` equality where `NaN` equals `NaN` (and `-0.0` differs from `0.0`): compares the
/// debug renderings of bit patterns through a second encode.
fn assert_same(a: &Model, b: &Model) {
    assert_eq!(format::encode(a).unwrap(), format::encode(b).unwrap());
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

/// Recomputes the header checksum after a test edits header fields; leaves the bytes alone when
/// the (possibly edited) section count puts the checksum past the end of the file.
fn fix_header_crc(bytes: &mut [u8]) {
    let n = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let end = 32 + 24 * n;
    if end + 4 > bytes.len() {
        return;
    }
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..end + 4].copy_from_slice(&crc.to_le_bytes());
}

fn put_u64(bytes: &mut [u8], at: usize, v: u64) {
    bytes[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn round_trip_every_kind() {
    let m = sample();
    let bytes = format::encode(&m).unwrap();
    assert_eq!(&bytes[..8], &MAGIC);
    let back = format::decode(&bytes).unwrap();
    assert_same(&m, &back);
    // bit-exact floats, including NaN, -0.0 and values that need the raw f64 codec
    let ColumnValues::Numeric(w) = &back.catalog.columns[3].values else {
        panic!()
    };
    assert_eq!(w[0].to_bits(), (0.1f64 + 0.2).to_bits());
    assert_eq!(w[2].to_bits(), (-0.0f64).to_bits());
    let ColumnValues::Numeric(p) = &back.catalog.columns[2].values else {
        panic!()
    };
    assert!(p[1].is_nan());
    assert_eq!(p[0], 19.99);
    // everything except NaN compares equal structurally
    assert_eq!(back.recommenders, m.recommenders);
    assert_eq!(back.histories, m.histories);
    assert_eq!(back.users, m.users);
    assert_eq!(back.meta, m.meta);
    assert_eq!(back.popularity, m.popularity);
}

#[test]
fn empty_model_round_trips() {
    let m = Model::default();
    let back = format::decode(&format::encode(&m).unwrap()).unwrap();
    assert_eq!(back, m);
}

#[test]
fn encode_is_deterministic() {
    let a = format::encode(&sample()).unwrap();
    let b = format::encode(&sample().clone()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn header_lists_sections_with_names() {
    let bytes = format::encode(&sample()).unwrap();
    let info = format::read_header(&bytes).unwrap();
    // Stamped with the oldest version that holds what the model uses, never a newer one.
    assert_eq!(
        info.version,
        format::version_of(info.capabilities, &sample().meta)
    );
    assert!(info.version <= FORMAT_VERSION);
    assert_eq!(info.file_length, bytes.len() as u64);
    assert_ne!(info.capabilities & CAP_FACTORS, 0);
    let kinds: Vec<SectionKind> = info.sections.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds[..5],
        [
            SectionKind::Meta,
            SectionKind::Catalog,
            SectionKind::Users,
            SectionKind::Histories,
            SectionKind::Popularity
        ]
    );
    let names: Vec<&str> = info.sections[5..].iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "best-sellers",
            "also-viewed",
            "recommended-for-you",
            "ranking"
        ]
    );
    let total: u64 = info.sections.iter().map(|s| s.length).sum();
    assert_eq!(info.header_length + total, bytes.len() as u64);
    let json = serde_json::to_value(&info).unwrap();
    assert_eq!(json["sections"][1]["kind"], "catalog");
}

#[test]
fn unknown_section_kinds_are_skipped() {
    // Append an unknown section: rebuild the header with one more entry.
    let bytes = format::encode(&sample()).unwrap();
    let info = format::read_header(&bytes).unwrap();
    let n = info.sections.len();
    let extra = b"future data".to_vec();
    let shift = 24u64;
    let mut out = Vec::new();
    out.extend_from_slice(&bytes[..12]);
    out.extend_from_slice(&((n + 1) as u32).to_le_bytes());
    out.extend_from_slice(&bytes[16..24]);
    out.extend_from_slice(&(bytes.len() as u64 + shift + extra.len() as u64).to_le_bytes());
    for s in &info.sections {
        out.extend_from_slice(&s.code.to_le_bytes());
        out.extend_from_slice(&s.flags.to_le_bytes());
        out.extend_from_slice(&s.crc32.to_le_bytes());
        out.extend_from_slice(&(s.offset + shift).to_le_bytes());
        out.extend_from_slice(&s.length.to_le_bytes());
    }
    out.extend_from_slice(&0x7777u16.to_le_bytes());
    out.extend_from_slice(&0xffffu16.to_le_bytes()); // unknown flags too
    out.extend_from_slice(&0u32.to_le_bytes()); // wrong crc: unknown sections are not read
    out.extend_from_slice(&(bytes.len() as u64 + shift).to_le_bytes());
    out.extend_from_slice(&(extra.len() as u64).to_le_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&bytes[info.header_length as usize..]);
    out.extend_from_slice(&extra);
    let info2 = format::read_header(&out).unwrap();
    assert_eq!(
        info2.sections.last().unwrap().kind,
        SectionKind::Unknown(0x7777)
    );
    assert_same(&format::decode(&out).unwrap(), &sample());
}

#[test]
fn newer_minor_is_read_newer_major_is_not() {
    let mut bytes = format::encode(&sample()).unwrap();
    bytes[10..12].copy_from_slice(&(FORMAT_VERSION.1 + 3).to_le_bytes());
    fix_header_crc(&mut bytes);
    assert!(format::decode(&bytes).is_ok());
    bytes[8..10].copy_from_slice(&(FORMAT_VERSION.0 + 1).to_le_bytes());
    match format::decode(&bytes) {
        Err(FormatError::UnsupportedVersion {
            found_major,
            newest,
            ..
        }) => {
            assert_eq!(found_major, FORMAT_VERSION.0 + 1);
            assert_eq!(newest, FORMAT_VERSION.0);
        }
        other => panic!("{other:?}"),
    }
    bytes[8..10].copy_from_slice(&0u16.to_le_bytes());
    assert!(matches!(
        format::decode(&bytes),
        Err(FormatError::UnsupportedVersion { found_major: 0, .. })
    ));
}

#[test]
fn bad_magic() {
    let mut bytes = format::encode(&sample()).unwrap();
    bytes[1] = b'X';
    assert!(matches!(
        format::decode(&bytes),
        Err(FormatError::BadMagic { .. })
    ));
    assert!(matches!(
        format::decode(b"PK\x03\x04 zip file"),
        Err(FormatError::BadMagic { .. })
    ));
    assert!(matches!(
        format::decode(b"{\"json\": 1}"),
        Err(FormatError::BadMagic { .. })
    ));
}

#[test]
fn truncation_is_reported_at_every_offset() {
    let bytes = format::encode(&sample()).unwrap();
    for cut in 0..bytes.len() {
        match format::decode(&bytes[..cut]) {
            Err(FormatError::Truncated {
                what,
                needed,
                available,
            }) => {
                assert_eq!(available, cut as u64, "{what}");
                assert!(needed > available);
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    let info = format::read_header(&bytes).unwrap();
    match format::decode(&bytes[..bytes.len() - 1]) {
        Err(FormatError::Truncated {
            what: "file",
            needed,
            ..
        }) => assert_eq!(needed, info.file_length),
        other => panic!("{other:?}"),
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        format::decode(&longer),
        Err(FormatError::SectionTable(_))
    ));
}

#[test]
fn flipped_section_byte_names_the_section() {
    let bytes = format::encode(&sample()).unwrap();
    let info = format::read_header(&bytes).unwrap();
    for s in &info.sections {
        for at in [s.offset, s.offset + s.length / 2, s.offset + s.length - 1] {
            let mut b = bytes.clone();
            b[at as usize] ^= 0x40;
            match format::decode(&b) {
                Err(FormatError::Checksum {
                    section,
                    stored,
                    computed,
                }) => {
                    if s.kind == SectionKind::Recommender {
                        // the name itself may be the damaged part
                        assert!(section.starts_with("recommender"), "{section}");
                        assert!(
                            section.ends_with(&format!("(section {})", s.index)),
                            "{section}"
                        );
                    } else {
                        assert_eq!(section, s.label());
                    }
                    assert_ne!(stored, computed);
                }
                other => panic!("{}: {other:?}", s.label()),
            }
        }
    }
    let recommender = info
        .sections
        .iter()
        .find(|s| s.name == "also-viewed")
        .unwrap();
    let mut b = bytes.clone();
    b[(recommender.offset + recommender.length - 1) as usize] ^= 1;
    let msg = format::decode(&b).unwrap_err().to_string();
    assert!(
        msg.contains("recommender \"also-viewed\" (section 6)"),
        "{msg}"
    );
}

#[test]
fn flipped_header_byte_is_a_header_checksum_error() {
    let bytes = format::encode(&sample()).unwrap();
    let info = format::read_header(&bytes).unwrap();
    // bytes 16.. (capabilities, length, table, crc) are covered by the header checksum
    for at in 16..info.header_length as usize {
        let mut b = bytes.clone();
        b[at] ^= 0x01;
        match format::decode(&b) {
            Err(FormatError::Checksum { section, .. }) => assert_eq!(section, "header"),
            other => panic!("byte {at}: {other:?}"),
        }
    }
}

#[test]
fn huge_lengths_are_too_large() {
    let bytes = format::encode(&sample()).unwrap();
    // section count
    let mut b = bytes.clone();
    b[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        format::decode(&b),
        Err(FormatError::TooLarge { what: "section count", value, limit }) if value == u64::from(u32::MAX) && limit == MAX_SECTIONS as u64
    ));
    // declared file length
    let mut b = bytes.clone();
    put_u64(&mut b, 24, u64::MAX);
    fix_header_crc(&mut b);
    assert!(
        matches!(format::decode(&b), Err(FormatError::TooLarge { what: "declared file length", limit, .. }) if limit == MAX_FILE_LEN)
    );
    // a section length
    let mut b = bytes.clone();
    put_u64(&mut b, 32 + 24 + 16, u64::MAX - 3);
    fix_header_crc(&mut b);
    assert!(matches!(
        format::decode(&b),
        Err(FormatError::TooLarge {
            what: "section length",
            ..
        })
    ));
    // a section offset that overflows with its length
    let mut b = bytes.clone();
    put_u64(&mut b, 32 + 24 + 8, u64::MAX - 3);
    fix_header_crc(&mut b);
    assert!(matches!(
        format::decode(&b),
        Err(FormatError::SectionTable(_))
    ));
}

#[test]
fn section_table_errors() {
    let bytes = format::encode(&sample()).unwrap();
    let info = format::read_header(&bytes).unwrap();
    // overlap: point the catalog at the meta section
    let mut b = bytes.clone();
    put_u64(&mut b, 32 + 24 + 8, info.sections[0].offset);
    fix_header_crc(&mut b);
    assert!(
        matches!(format::decode(&b), Err(FormatError::SectionTable(m)) if m.contains("overlap"))
    );
    // a section inside the header
    let mut b = bytes.clone();
    put_u64(&mut b, 32 + 8, 0);
    fix_header_crc(&mut b);
    assert!(matches!(
        format::decode(&b),
        Err(FormatError::SectionTable(_))
    ));
    // a duplicated singleton: turn the users section into a second catalog
    let mut b = bytes.clone();
    b[32 + 2 * 24..32 + 2 * 24 + 2].copy_from_slice(&2u16.to_le_bytes());
    fix_header_crc(&mut b);
    assert!(matches!(
        format::decode(&b),
        Err(FormatError::Section { .. } | FormatError::SectionTable(_))
    ));
    // a missing section: turn histories into an unknown kind
    let mut b = bytes.clone();
    b[32 + 3 * 24..32 + 3 * 24 + 2].copy_from_slice(&999u16.to_le_bytes());
    fix_header_crc(&mut b);
    assert_eq!(
        format::decode(&b),
        Err(FormatError::MissingSection("histories"))
    );
}

#[test]
fn unknown_required_capability() {
    let mut b = format::encode(&sample()).unwrap();
    let caps = SUPPORTED_CAPABILITIES | (1 << 40);
    put_u64(&mut b, 16, caps);
    fix_header_crc(&mut b);
    assert_eq!(
        format::decode(&b),
        Err(FormatError::MissingCapabilities {
            missing: 1 << 40,
            supported: SUPPORTED_CAPABILITIES
        })
    );
    // a header that under-declares what the sections use is inconsistent
    let mut b = format::encode(&sample()).unwrap();
    put_u64(&mut b, 16, 0);
    fix_header_crc(&mut b);
    assert!(matches!(
        format::decode(&b),
        Err(FormatError::Inconsistent(_))
    ));
}

#[test]
fn inconsistent_models_are_refused_by_encode_and_decode() {
    type Edit = Box<dyn Fn(&mut Model)>;
    let cases: Vec<(&str, Edit)> = vec![
        (
            "column",
            Box::new(|m: &mut Model| m.catalog.item_ids.push("extra")),
        ),
        (
            "PRICE",
            Box::new(|m: &mut Model| {
                if let ColumnValues::Numeric(v) = &mut m.catalog.columns[2].values {
                    v.pop();
                }
            }),
        ),
        (
            "dictionary",
            Box::new(|m: &mut Model| {
                if let ColumnValues::Categorical { codes, .. } = &mut m.catalog.columns[0].values {
                    codes[0] = 99;
                }
            }),
        ),
        (
            "histories cover",
            Box::new(|m: &mut Model| {
                m.users.user_ids.truncate(2);
                m.users.columns.clear();
            }),
        ),
        (
            "user column",
            Box::new(|m: &mut Model| m.users.user_ids.truncate(2)),
        ),
        (
            "histories",
            Box::new(|m: &mut Model| m.histories.items[0] = 4),
        ),
        (
            "event type",
            Box::new(|m: &mut Model| m.histories.event_types[0] = 2),
        ),
        (
            "counts",
            Box::new(|m: &mut Model| m.popularity.counts.pop().map(|_| ()).unwrap_or(())),
        ),
        (
            "ranks item",
            Box::new(|m: &mut Model| m.popularity.ranked[0] = 10),
        ),
        (
            "also-viewed",
            Box::new(|m: &mut Model| {
                if let RecommenderModel::Neighbors(n) = &mut m.recommenders[1].model {
                    n.neighbors[0] = 4;
                }
            }),
        ),
        (
            "recommended-for-you",
            Box::new(|m: &mut Model| {
                if let RecommenderModel::Factors(f) = &mut m.recommenders[2].model {
                    f.gram.pop();
                }
            }),
        ),
        (
            "twice",
            Box::new(|m: &mut Model| m.recommenders[1].name = "best-sellers".into()),
        ),
        (
            "kind",
            Box::new(|m: &mut Model| m.catalog.columns[2].kind = ColumnKind::Textual),
        ),
    ];
    for (needle, edit) in cases {
        let mut m = sample();
        edit(&mut m);
        match format::encode(&m) {
            Err(FormatError::Inconsistent(msg)) => assert!(msg.contains(needle), "{needle}: {msg}"),
            other => panic!("{needle}: {other:?}"),
        }
    }
}

#[test]
fn decode_checks_consistency_of_well_formed_sections() {
    // Write an inconsistent model by encoding two consistent ones and splicing the catalog of
    // one into the other: every checksum is right, the cross-section check is not.
    let a = format::encode(&sample()).unwrap();
    let mut small = sample();
    small.catalog.item_ids.pop();
    for c in &mut small.catalog.columns {
        c.values = match &c.values {
            ColumnValues::Numeric(v) => ColumnValues::Numeric(v[..3].to_vec()),
            ColumnValues::Textual(v) => ColumnValues::Textual(v[..3].to_vec()),
            ColumnValues::Categorical {
                dictionary,
                offsets,
                codes,
            } => ColumnValues::Categorical {
                dictionary: dictionary.clone(),
                offsets: offsets[..4].to_vec(),
                codes: codes[..offsets[3] as usize].to_vec(),
            },
        };
    }
    small.catalog.creation_time.pop();
    small.histories = Histories::default();
    small.popularity = PopularityModel {
        counts: vec![0; 3],
        ranked: vec![],
    };
    small.recommenders.clear();
    let b = format::encode(&small).unwrap();
    let ia = format::read_header(&a).unwrap();
    let ib = format::read_header(&b).unwrap();
    let cat_b = &ib.sections[1];
    let catalog_b = &b[cat_b.offset as usize..(cat_b.offset + cat_b.length) as usize];
    // rebuild `a` with b's catalog
    let mut sections: Vec<Vec<u8>> = ia
        .sections
        .iter()
        .map(|s| a[s.offset as usize..(s.offset + s.length) as usize].to_vec())
        .collect();
    sections[1] = catalog_b.to_vec();
    let n = sections.len();
    let mut out = a[..32].to_vec();
    let mut off = (32 + 24 * n + 4) as u64;
    for (s, body) in ia.sections.iter().zip(&sections) {
        out.extend_from_slice(&s.code.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        off += body.len() as u64;
    }
    put_u64(&mut out, 24, off);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    for body in &sections {
        out.extend_from_slice(body);
    }
    match format::decode(&out) {
        Err(FormatError::Inconsistent(msg)) => assert!(!msg.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn int8_matrix_survives_exactly() {
    let m = sample();
    let back = format::decode(&format::encode(&m).unwrap()).unwrap();
    let (RecommenderModel::Factors(a), RecommenderModel::Factors(b)) =
        (&m.recommenders[2].model, &back.recommenders[2].model)
    else {
        panic!()
    };
    assert_eq!(a.item_factors, b.item_factors);
    let Embedding::Int8 { data, .. } = &b.item_factors else {
        panic!()
    };
    assert_eq!(
        data.capacity(),
        data.len(),
        "decoded once, into an exactly sized vector"
    );
}

// ------------------------------------------------------------------------------------------
// properties

fn arb_strings(max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-zé😀_-]{0,12}", 0..max)
}

prop_compose! {
    fn arb_model()(items in 0usize..12, users in 0usize..6, dim in 1usize..5, seed in any::<u64>(),
                   ids_extra in arb_strings(3), dataset in ".{0,20}")
        -> Model {
        let mut s = seed;
        let mut next = move || { s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407); s >> 33 };
        let item_ids: Vec<String> = (0..items).map(|i| format!("it{i}-{}", ids_extra.get(i % 3).cloned().unwrap_or_default())).collect();
        let user_ids: Vec<String> = (0..users).map(|u| format!("user-{u}")).collect();
        let mut offsets = vec![0u32];
        let mut codes = Vec::new();
        for _ in 0..items {
            for _ in 0..next() % 3 { codes.push((next() % 4) as u32); }
            offsets.push(codes.len() as u32);
        }
        let numeric: Vec<f64> = (0..items).map(|_| match next() % 4 { 0 => f64::NAN, 1 => (next() % 10_000) as f64 / 100.0, 2 => f64::from_bits(next() << 20), _ => -((next() % 50) as f64) }).collect();
        let numeric: Vec<f64> = numeric.into_iter().map(|x| if x.is_nan() { f64::NAN } else { x }).collect();
        let mut h = Histories { offsets: vec![0], ..Histories::default() };
        if items > 0 {
            for _ in 0..users {
                for _ in 0..next() % 4 {
                    h.items.push((next() % items as u64) as u32);
                    h.event_types.push((next() % 2) as u16);
                    h.timestamps.push(next() as i64 - (1 << 30));
                }
                h.offsets.push(h.items.len() as u32);
            }
        } else {
            h.offsets = (0..=users).map(|_| 0).collect();
        }
        let counts: Vec<u32> = (0..items).map(|_| (next() % 5) as u32).collect();
        let mut ranked: Vec<u32> = (0..items as u32).filter(|&i| counts[i as usize] > 0).collect();
        ranked.sort_by_key(|&i| (std::cmp::Reverse(counts[i as usize]), i));
        let mut n_off = vec![0u32];
        let mut nbrs = Vec::new();
        for _ in 0..items { for _ in 0..next() % 3 { nbrs.push((next() % items as u64) as u32); } n_off.push(nbrs.len() as u32); }
        let weights: Vec<f32> = nbrs.iter().map(|&n| n as f32 * 0.5).collect();
        let f: Vec<f32> = (0..items * dim).map(|_| (next() % 200) as f32 / 100.0 - 1.0).collect();
        let uf: Vec<f32> = (0..users * dim).map(|_| (next() % 200) as f32 / 100.0 - 1.0).collect();
        let int8 = next() % 2 == 0;
        // the format's optional parts, each present or not, so every model variant is drawn
        let ext = next();
        let content = |rows: usize, dim: usize, vectors: bool, next: &mut dyn FnMut() -> u64| {
            let buckets = 1 + (next() % 8) as usize;
            let w: Vec<f32> = (0..buckets * dim).map(|_| (next() % 200) as f32 / 100.0 - 1.0).collect();
            let v: Vec<f32> = (0..rows * dim).map(|_| (next() % 200) as f32 / 100.0 - 1.0).collect();
            Box::new(ContentModel {
                columns: vec![ContentColumn { name: "C".into(), weight: 0.5 }],
                buckets: buckets as u32,
                idf: (0..buckets).map(|b| 1.0 + b as f32).collect(),
                mean: vec![0.125; dim],
                projection: Embedding::quantize(buckets, dim, &w),
                item_vectors: vectors.then(|| Embedding::quantize(rows, dim, &v)),
            })
        };
        let sims_content = (ext & 2 != 0).then(|| content(items, 2, true, &mut next));
        let mf_content = (ext & 4 != 0).then(|| content(items, dim, false, &mut next));
        let context = (ext & 16 != 0).then(|| ContextModel { columns: vec![ContextColumn {
            name: "DEVICE".into(),
            values: vec!["phone".into(), "tv".into()],
            vectors: (0..2 * dim).map(|_| (next() % 200) as f32 / 100.0 - 1.0).collect(),
        }] });
        // A popularity timeline (only with the prior on): ascending bins per item.
        let timeline = (ext & 96 == 96).then(|| {
            let (mut t_off, mut bins, mut tcounts) = (vec![0u32], Vec::new(), Vec::new());
            for _ in 0..items {
                let mut b = 0u32;
                for _ in 0..next() % 3 {
                    b += 1 + (next() % 500) as u32;
                    bins.push(b);
                    tcounts.push(1 + (next() % 9) as u32);
                }
                t_off.push(bins.len() as u32);
            }
            Box::new(PopularityTimeline::new(next() as f64, 1.0 + (next() % 1000) as f64,
                4.0 + (next() % 4000) as f64, t_off, bins, tcounts))
        });
        // Session neighbours, with or without the prior and its timeline.
        let session_neighbors = (ext & 128 != 0).then(|| Box::new(SessionNeighbors::new(
            (next() % 100) as f32 / 50.0, (next() % 1001) as u32, (next() % 365) as f32, (next() % 20) as f32)));
        // Transition lists, with or without session neighbours and the prior.
        let transitions = (ext & 256 != 0).then(|| {
            let (mut offsets, mut neighbors) = (vec![0u32], Vec::new());
            for _ in 0..items { for _ in 0..next() % 4 { neighbors.push((next() % items as u64) as u32); } offsets.push(neighbors.len() as u32); }
            let weights = neighbors.iter().map(|_| (next() % 1000) as f32 / 250.0).collect();
            Box::new(TransitionLists { offsets, neighbors, weights })
        });
        let mf_serving = ServingOptions { exploration: (ext & 8 != 0).then_some(Exploration::DEFAULT), ..ServingOptions::default() };
        Model {
            meta: ModelMeta { version: next(), created_at: next() as i64, data_time: -(next() as i64), dataset, producer: "p".into(), filters: vec![], min_users: (next() % 7) as u32, ..ModelMeta::default() },
            catalog: Catalog {
                item_ids: item_ids.into(),
                columns: vec![
                    cat("C", ColumnKind::Categorical, &["a", "b", "c", "d"], offsets, codes),
                    Column { name: "N".into(), kind: ColumnKind::Numeric, values: ColumnValues::Numeric(numeric) },
                ],
                creation_time: (0..items).map(|_| next() as i64).collect(),
                event_types: vec!["view".into(), "buy".into()],
                context_columns: if context.is_some() { vec!["DEVICE".into()] } else { vec![] },
            },
            users: UserTable { user_ids: user_ids.into(), columns: vec![] },
            histories: h,
            popularity: PopularityModel { counts: counts.clone(), ranked: ranked.clone() },
            recommenders: vec![
                Recommender { name: "pop".into(), recipe: Recipe::PopularityCount, event_type: None, serving: ServingOptions::default(),
                    model: RecommenderModel::Popularity(PopularityModel { counts, ranked }) },
                Recommender { name: "sims".into(), recipe: Recipe::Sims, event_type: Some("view".into()), serving: ServingOptions::default(),
                    model: RecommenderModel::Neighbors(NeighborModel { offsets: n_off, neighbors: nbrs, weights,
                        history_decay: if ext & 1 != 0 { 0.5 } else { 1.0 },
                        session_popularity: if ext & 32 != 0 { 0.75 } else { 0.0 }, timeline, session_neighbors, session_pairs: None, content: sims_content, transitions }) },
                Recommender { name: "mf".into(), recipe: Recipe::UserPersonalization, event_type: None, serving: mf_serving,
                    model: RecommenderModel::Factors(FactorModel {
                        item_factors: if int8 { Embedding::quantize(items, dim, &f) } else { Embedding::from_f32(items, dim, f) },
                        user_factors: if int8 { Embedding::quantize(users, dim, &uf) } else { Embedding::from_f32(users, dim, uf) },
                        gram: vec![0.25; dim * dim], regularization: 0.1, alpha: 2.0, event_weights: vec![1.0, 2.0], recency_half_life: 0.0, content: mf_content, context }) },
            ],
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn random_models_round_trip(m in arb_model()) {
        let bytes = format::encode(&m).unwrap();
        let back = format::decode(&bytes).unwrap();
        prop_assert_eq!(format::encode(&back).unwrap(), bytes);
        prop_assert_eq!(format!("{back:?}"), format!("{m:?}"));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = format::decode(&bytes);
        let _ = format::read_header(&bytes);
        let mut with_magic = MAGIC.to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = format::decode(&with_magic);
    }

    #[test]
    fn mutations_of_a_valid_file_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8), fix_crc in any::<bool>()) {
        let mut bytes = format::encode(&sample()).unwrap();
        for (at, v) in edits {
            let i = at % bytes.len();
            bytes[i] = v;
        }
        if fix_crc { fix_header_crc(&mut bytes); }
        let _ = format::decode(&bytes);
        let _ = format::read_header(&bytes);
    }

    #[test]
    fn mutated_sections_with_fixed_checksums_never_panic(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..6), which in any::<usize>()) {
        // re-checksum the edited section so that the section decoders themselves see the damage
        let bytes = format::encode(&sample()).unwrap();
        let info = format::read_header(&bytes).unwrap();
        let s = &info.sections[which % info.sections.len()];
        let mut b = bytes.clone();
        for (at, v) in edits {
            let i = s.offset as usize + at % s.length as usize;
            b[i] = v;
        }
        let idx = which % info.sections.len();
        let crc = crc32fast::hash(&b[s.offset as usize..(s.offset + s.length) as usize]);
        let at = 32 + 24 * idx + 4;
        b[at..at + 4].copy_from_slice(&crc.to_le_bytes());
        fix_header_crc(&mut b);
        let _ = format::decode(&b);
    }

    /// The hand-written section reader and bincode decode random models to the same model.
    #[test]
    fn section_reader_decodes_as_bincode_does(m in arb_model()) {
        let bytes = format::encode(&m).unwrap();
        let ours = format::decode(&bytes).unwrap();
        let theirs = format::decode_with_bincode(&bytes).unwrap();
        prop_assert_eq!(format::encode(&ours).unwrap(), format::encode(&theirs).unwrap());
    }

    /// On damaged sections (checksums fixed) both readers accept the same files with the same
    /// model and refuse the same files, with the same kind of error.
    #[test]
    fn section_reader_accepts_what_bincode_accepts(m in arb_model(), edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4), which in any::<usize>()) {
        let bytes = format::encode(&m).unwrap();
        let info = format::read_header(&bytes).unwrap();
        let idx = which % info.sections.len();
        let s = &info.sections[idx];
        prop_assume!(s.length > 0);
        let mut b = bytes.clone();
        for (at, v) in edits {
            b[s.offset as usize + at % s.length as usize] = v;
        }
        let crc = crc32fast::hash(&b[s.offset as usize..(s.offset + s.length) as usize]);
        let at = 32 + 24 * idx + 4;
        b[at..at + 4].copy_from_slice(&crc.to_le_bytes());
        fix_header_crc(&mut b);
        match (format::decode(&b), format::decode_with_bincode(&b)) {
            (Ok(ours), Ok(theirs)) => {
                prop_assert_eq!(format::encode(&ours).unwrap(), format::encode(&theirs).unwrap());
            }
            (Err(ours), Err(theirs)) => {
                prop_assert_eq!(std::mem::discriminant(&ours), std::mem::discriminant(&theirs));
            }
            (ours, theirs) => prop_assert!(false, "reader {ours:?} but bincode {theirs:?}"),
        }
    }
}

/// Feeds `bytes` to a [`format::SectionDecoder`] the way the wasm package does: a header prefix,
/// then each wanted section as its own owned buffer.
fn decode_by_sections(bytes: &[u8]) -> Result<(Model, format::FileInfo), FormatError> {
    let prefix = &bytes[..bytes.len().min(format::MAX_HEADER_LEN)];
    let mut d = format::SectionDecoder::new(prefix, bytes.len() as u64)?;
    while let Some(s) = d.next_section() {
        let (at, len) = (s.offset as usize, s.length as usize);
        d.push_section(bytes[at..at + len].to_vec())?;
    }
    d.finish()
}

#[test]
fn section_by_section_decoding_equals_whole_file_decoding() {
    let m = sample();
    let bytes = format::encode(&m).unwrap();
    let (back, info) = decode_by_sections(&bytes).unwrap();
    assert_same(&m, &back);
    assert_eq!(back.recommenders, m.recommenders);
    // the section names are known once decoded (recommender names come from their sections)
    let whole = format::read_header(&bytes).unwrap();
    let names = |i: &format::FileInfo| {
        i.sections
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&info), names(&whole));
    // sections are asked for largest first, and the recommenders still come out in file order
    let prefix = &bytes[..bytes.len().min(format::MAX_HEADER_LEN)];
    let mut d = format::SectionDecoder::new(prefix, bytes.len() as u64).unwrap();
    let mut lengths = Vec::new();
    while let Some(s) = d.next_section() {
        let (at, len) = (s.offset as usize, s.length as usize);
        lengths.push(len);
        d.push_section(bytes[at..at + len].to_vec()).unwrap();
    }
    assert_eq!(lengths.len(), whole.sections.len());
    assert!(lengths.windows(2).all(|w| w[0] >= w[1]), "{lengths:?}");
    let file_order: Vec<usize> = whole.sections.iter().map(|s| s.length as usize).collect();
    assert_ne!(lengths, file_order, "the sample should need reordering");
    assert!(m.recommenders.len() >= 2);
    assert!(m.recommenders.iter().any(|r| matches!(
        &r.model,
        RecommenderModel::Factors(f) if matches!(f.item_factors, Embedding::Int8 { .. })
    )));
}

#[test]
fn section_decoder_rejects_wrong_lengths_corruption_and_missing_sections() {
    let bytes = format::encode(&sample()).unwrap();
    let prefix = &bytes[..bytes.len().min(format::MAX_HEADER_LEN)];
    // a body of the wrong length
    let mut d = format::SectionDecoder::new(prefix, bytes.len() as u64).unwrap();
    let s = d.next_section().unwrap().clone();
    let short = bytes[s.offset as usize..(s.offset + s.length) as usize - 1].to_vec();
    assert!(matches!(
        d.push_section(short),
        Err(FormatError::Truncated { .. })
    ));
    // a corrupted body
    let mut d = format::SectionDecoder::new(prefix, bytes.len() as u64).unwrap();
    let mut body = bytes[s.offset as usize..(s.offset + s.length) as usize].to_vec();
    body[0] ^= 0x40;
    assert!(matches!(
        d.push_section(body),
        Err(FormatError::Checksum { .. })
    ));
    // finishing early
    let d = format::SectionDecoder::new(prefix, bytes.len() as u64).unwrap();
    assert!(matches!(d.finish(), Err(FormatError::Truncated { .. })));
    // a file length that disagrees with the header
    assert!(format::SectionDecoder::new(prefix, bytes.len() as u64 + 1).is_err());
    // every truncated prefix fails cleanly
    for cut in 0..prefix.len().min(200) {
        assert!(format::SectionDecoder::new(&bytes[..cut], cut as u64).is_err());
    }
}
