#![allow(clippy::unwrap_used)]
//! Files of older minor versions keep decoding to the models they were written from:
//! - `tests/fixtures/format-1.0/model.erm` is the golden model as the 1.0 writer produced it
//!   (before neighbour lists stored their history decay). It must decode, serve its neighbour
//!   recommender with the 1.0 decay, and re-encode to the same bytes, so 1.0 readers can still
//!   read what this writer makes of it.
//! - `tests/fixtures/format-1.1/` holds the golden models as the 1.1 writer produced them, before
//!   extension blocks: they must decode to exactly the models of the current golden files,
//!   which the current writer made from the same training.
//! - `tests/fixtures/format-1.2/public.erm` is a public model of the 1.2 writer with every 1.2
//!   encoding (session pairs, transition lists, a popularity timeline, a blend, learned
//!   context): it must decode by both readers and re-encode with extension blocks to the same
//!   model.
//! - `tests/fixtures/format-1.3/model.erm` is the golden model as the 1.3 writer produced it,
//!   its two factor recommenders each with their own copy of the same factors: it must decode
//!   to the model of the current golden file, which stores them once (1.4).

use std::path::PathBuf;

use edgerec_core::format::{self, CAP_HISTORY_DECAY, CAP_NEIGHBORS};
use edgerec_core::{LEGACY_HISTORY_DECAY, Model, RecommenderModel};

fn read(name: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fixture() -> Vec<u8> {
    read("format-1.0/model.erm")
}

fn assert_same(a: &Model, b: &Model, what: &str) {
    assert!(a == b, "{what}: the models differ");
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what}");
}

#[test]
fn format_1_1_files_decode_to_the_models_the_current_writer_stores() {
    for (old, new) in [
        ("format-1.1/model.erm", "golden/model-v1.erm"),
        ("format-1.1/content.erm", "golden/content-v1.erm"),
    ] {
        let (old_bytes, new_bytes) = (read(old), read(new));
        assert_eq!(format::read_header(&old_bytes).expect(old).version, (1, 1));
        let new_info = format::read_header(&new_bytes).expect(new);
        assert!(new_info.version >= (1, 3), "{new}");
        assert_ne!(new_info.capabilities & format::CAP_EXTENSIONS, 0);
        let decoded = format::decode(&old_bytes).expect(old);
        assert_same(&decoded, &format::decode(&new_bytes).expect(new), old);
    }
}

#[test]
fn format_1_2_file_decodes_with_every_1_2_encoding() {
    let bytes = read("format-1.2/public.erm");
    let info = format::read_header(&bytes).expect("header");
    assert_eq!(info.version, (1, 2));
    let model = format::decode(&bytes).expect("a 1.2 file decodes");
    let neighbors: Vec<_> = model
        .recommenders
        .iter()
        .filter_map(|r| match &r.model {
            RecommenderModel::Neighbors(n) => Some(n),
            _ => None,
        })
        .collect();
    assert!(
        neighbors
            .iter()
            .any(|n| n.session_pairs.is_some() && n.transitions.is_some() && n.timeline.is_some())
    );
    assert!(
        model
            .recommenders
            .iter()
            .any(|r| matches!(r.model, RecommenderModel::Blend(_)))
    );
    assert!(model.recommenders.iter().any(|r| matches!(
        &r.model,
        RecommenderModel::Factors(f) if f.context.is_some()
    )));
    let mut engine = edgerec_core::Engine::from_bytes(&bytes).expect("serves");
    let top = *model.popularity.ranked.first().expect("a popular item");
    let item = model
        .catalog
        .item_ids
        .get(top as usize)
        .expect("an item")
        .to_owned();
    let events: edgerec_core::PutEventsRequest = serde_json::from_value(serde_json::json!({
        "sessionId": "s1", "userId": "someone-new",
        "eventList": [{"eventType": "view", "itemId": item, "sentAt": 1751327000}]
    }))
    .expect("events");
    engine.put_events(&events).expect("putEvents");
    for name in ["for-you", "also-viewed"] {
        let req: edgerec_core::GetRecommendationsRequest = serde_json::from_value(
            serde_json::json!({"recommender": name, "userId": "someone-new", "itemId": item, "numResults": 5}),
        )
        .expect("request");
        let got = engine.get_recommendations(&req).expect("recommendations");
        assert_eq!(got.item_list.len(), 5, "{name}");
    }
}

#[test]
fn format_1_0_file_decodes_with_the_legacy_history_decay() {
    let bytes = fixture();
    let info = format::read_header(&bytes).expect("1.0 header");
    assert_eq!(info.version, (1, 0));
    assert_eq!(info.capabilities & CAP_HISTORY_DECAY, 0);
    assert_ne!(info.capabilities & CAP_NEIGHBORS, 0);
    let model = format::decode(&bytes).expect("a 1.0 file decodes");
    let decays: Vec<f32> = model
        .recommenders
        .iter()
        .filter_map(|r| match &r.model {
            RecommenderModel::Neighbors(n) => Some(n.history_decay),
            _ => None,
        })
        .collect();
    assert!(
        !decays.is_empty(),
        "the fixture has a neighbour recommender"
    );
    assert!(
        decays
            .iter()
            .all(|&d| d.to_bits() == LEGACY_HISTORY_DECAY.to_bits())
    );
}

#[cfg(feature = "write")]
#[test]
fn legacy_decay_keeps_the_1_0_encoding_and_others_need_the_capability() {
    let mut model = format::decode(&fixture()).expect("decodes");
    let again = format::encode(&model).expect("encodes");
    let info = format::read_header(&again).expect("header");
    assert_eq!(
        info.capabilities & CAP_HISTORY_DECAY,
        0,
        "1.0 readers can read it"
    );
    for r in &mut model.recommenders {
        if let RecommenderModel::Neighbors(n) = &mut r.model {
            n.history_decay = 0.75;
        }
    }
    let bytes = format::encode(&model).expect("encodes");
    let info = format::read_header(&bytes).expect("header");
    assert_ne!(info.capabilities & CAP_HISTORY_DECAY, 0);
    let back = format::decode(&bytes).expect("decodes");
    assert_eq!(back, model);
}

#[cfg(feature = "write")]
#[test]
fn format_1_0_file_re_encodes_to_the_same_bytes() {
    let bytes = fixture();
    let model = format::decode(&bytes).expect("decodes");
    let unshared = format::EncodeOptions {
        share_models: false,
    };
    let again = format::encode_with(&model, unshared).expect("encodes");
    assert!(again == bytes, "the 1.0 encoding is kept byte for byte");
    // By default its two recommenders with the same factors store them once (1.4).
    let shared = format::encode(&model).expect("encodes");
    let info = format::read_header(&shared).expect("header");
    assert_eq!(info.version, (1, 4));
    assert_ne!(info.capabilities & format::CAP_SHARED_MODELS, 0);
    assert!(
        shared.len() + 1000 < bytes.len(),
        "{} against {}",
        shared.len(),
        bytes.len()
    );
    assert_eq!(format::decode(&shared).expect("decodes"), model);
}

#[cfg(feature = "write")]
#[test]
fn format_1_2_file_re_encodes_with_extension_blocks_to_the_same_model() {
    let bytes = read("format-1.2/public.erm");
    let model = format::decode(&bytes).expect("decodes");
    assert_same(
        &format::decode_with_bincode(&bytes).expect("bincode decodes it too"),
        &model,
        "bincode",
    );
    let again = format::encode(&model).expect("encodes");
    let (old, new) = (
        format::read_header(&bytes).expect("header"),
        format::read_header(&again).expect("header"),
    );
    assert_eq!(new.version, (1, 3));
    assert_eq!(
        new.capabilities & !format::CAP_EXTENSIONS,
        old.capabilities,
        "the same features, now as extension blocks"
    );
    assert_same(&format::decode(&again).expect("decodes"), &model, "1.3");
    assert_same(
        &format::decode_with_bincode(&again).expect("decodes"),
        &model,
        "1.3 by bincode",
    );
}

#[test]
fn format_1_3_file_decodes_to_the_model_that_stores_shared_factors_once() {
    let old = read("format-1.3/model.erm");
    let new = read("golden/model-v1.erm");
    assert_eq!(format::read_header(&old).expect("1.3").version, (1, 3));
    let info = format::read_header(&new).expect("golden");
    assert_eq!(info.version, (1, 4));
    assert_ne!(info.capabilities & format::CAP_SHARED_MODELS, 0);
    let decoded = format::decode(&new).expect("golden");
    let by_bincode = format::decode_with_bincode(&new).expect("golden, by bincode");
    assert_same(&by_bincode, &decoded, "golden/model-v1.erm by bincode");
    assert_same(
        &format::decode(&old).expect("1.3"),
        &decoded,
        "format-1.3/model.erm",
    );
    assert!(
        new.len() + 1000 < old.len(),
        "{} against {}",
        new.len(),
        old.len()
    );
    // The section that shares is a few bytes; the factors are read once and served by both.
    let section = |name: &str| info.sections.iter().find(|s| s.name == name).expect(name);
    assert!(section("recommended-for-you").length < 40);
    assert_eq!(
        decoded.recommender("recommended-for-you").map(|r| &r.model),
        decoded.recommender("ranking").map(|r| &r.model)
    );
}

/// Recomputes every section checksum and the header checksum of `b`.
fn reseal(b: &mut [u8]) {
    let n = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    for i in 0..n {
        let e = 32 + 24 * i;
        let offset = u64::from_le_bytes(b[e + 8..e + 16].try_into().unwrap()) as usize;
        let length = u64::from_le_bytes(b[e + 16..e + 24].try_into().unwrap()) as usize;
        let crc = crc32fast::hash(&b[offset..offset + length]);
        b[e + 4..e + 8].copy_from_slice(&crc.to_le_bytes());
    }
    let end = 32 + 24 * n;
    let crc = crc32fast::hash(&b[..end]);
    b[end..end + 4].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn a_bad_shared_reference_is_an_inconsistent_model_not_a_panic() {
    let bytes = read("golden/model-v1.erm");
    let info = format::read_header(&bytes).expect("header");
    let names: Vec<&str> = info
        .sections
        .iter()
        .filter(|s| s.kind == format::SectionKind::Recommender)
        .map(|s| s.name.as_str())
        .collect();
    let shared = info
        .sections
        .iter()
        .find(|s| s.name == "recommended-for-you")
        .expect("shared");
    // The section ends with the index of the recommender whose factors it serves (one byte).
    let at = (shared.offset + shared.length - 1) as usize;
    let ranking = names.iter().position(|n| *n == "ranking").unwrap();
    assert_eq!(usize::from(bytes[at]), ranking);
    let itself = names
        .iter()
        .position(|n| *n == "recommended-for-you")
        .unwrap();
    let neighbours = names.iter().position(|n| *n == "also-viewed").unwrap();
    for (k, why) in [
        (itself, "itself"),
        (neighbours, "a recommender without factors"),
        (names.len(), "no recommender"),
    ] {
        let mut b = bytes.clone();
        b[at] = u8::try_from(k).unwrap();
        reseal(&mut b);
        match format::decode(&b) {
            Err(edgerec_core::FormatError::Inconsistent(msg)) => {
                assert!(msg.contains("shares the factors"), "{why}: {msg}");
            }
            other => panic!("{why}: {other:?}"),
        }
    }
    // A shared model in a file whose header does not require the capability.
    let mut b = bytes.clone();
    let caps = info.capabilities & !format::CAP_SHARED_MODELS;
    b[16..24].copy_from_slice(&caps.to_le_bytes());
    reseal(&mut b);
    match format::decode(&b) {
        Err(edgerec_core::FormatError::Inconsistent(msg)) => {
            assert!(msg.contains("CAP_SHARED_MODELS"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}
