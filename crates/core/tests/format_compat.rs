//! Files of older minor versions keep decoding: `tests/fixtures/format-1.0/model.erm` is the
//! golden model as the 1.0 writer produced it (before neighbour lists stored their history
//! decay). It must decode, serve its neighbour recommender with the 1.0 decay, and re-encode in
//! the 1.0 encoding, so 1.0 readers can still read what this writer makes of it.

use std::path::PathBuf;

use edgerec_core::format::{self, CAP_HISTORY_DECAY, CAP_NEIGHBORS};
use edgerec_core::{LEGACY_HISTORY_DECAY, RecommenderModel};

fn fixture() -> Vec<u8> {
    let p =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/format-1.0/model.erm");
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
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
