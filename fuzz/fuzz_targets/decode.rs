//! Model bytes → `format::decode` and `format::read_header`: any input may be refused, none
//! may panic. A model that decodes must also be servable: the target asks every recommender
//! for recommendations for the first known user and item, which must not panic either.
//! Every input is tried twice: as is (so the checksums guard the decoders), and with its file
//! length and checksums recomputed (so mutations reach the section decoders and the consistency
//! checks instead of stopping at a checksum mismatch).
//! The section reader is also checked against bincode's decoding of the same bytes.
//! Crashers go to `crates/core/tests/fuzz-regressions/decode/`, where a test replays them.

#![no_main]

use edgerec_core::Engine;
use edgerec_core::request::GetRecommendationsRequest;
use libfuzzer_sys::fuzz_target;

/// The input with its declared length, section checksums and header checksum made right,
/// when it has a readable section table (layout: docs/format.md).
fn rechecksummed(data: &[u8]) -> Option<Vec<u8>> {
    let mut b = data.to_vec();
    let n = u32::from_le_bytes(b.get(12..16)?.try_into().ok()?) as usize;
    if n > edgerec_core::format::MAX_SECTIONS {
        return None;
    }
    let table_end = 32 + 24 * n;
    b.get(table_end..table_end + 4)?;
    let len = b.len() as u64;
    b.get_mut(24..32)?.copy_from_slice(&len.to_le_bytes());
    for i in 0..n {
        let e = 32 + 24 * i;
        let off = u64::from_le_bytes(b.get(e + 8..e + 16)?.try_into().ok()?);
        let l = u64::from_le_bytes(b.get(e + 16..e + 24)?.try_into().ok()?);
        let (Ok(off), Ok(l)) = (usize::try_from(off), usize::try_from(l)) else {
            continue;
        };
        if let Some(body) = off.checked_add(l).and_then(|end| b.get(off..end)) {
            let crc = crc32fast::hash(body);
            b.get_mut(e + 4..e + 8)?.copy_from_slice(&crc.to_le_bytes());
        }
    }
    let crc = crc32fast::hash(b.get(..table_end)?);
    b.get_mut(table_end..table_end + 4)?
        .copy_from_slice(&crc.to_le_bytes());
    Some(b)
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if let Some(fixed) = rechecksummed(data) {
        check(&fixed);
    }
});

fn check(data: &[u8]) {
    let header = edgerec_core::format::read_header(data);
    let decoded = edgerec_core::format::decode(data);
    // the hand-written section reader accepts what bincode accepts, decoding the same model
    let by_bincode = edgerec_core::format::decode_with_bincode(data);
    assert_eq!(decoded.is_ok(), by_bincode.is_ok());
    if let (Ok(a), Ok(b)) = (&decoded, &by_bincode) {
        assert_eq!(
            edgerec_core::format::encode(a).ok(),
            edgerec_core::format::encode(b).ok()
        );
    }
    let Ok(model) = decoded else {
        return;
    };
    // a file that decodes has a readable header
    assert!(header.is_ok());
    let user = model.users.user_ids.get(0).map(str::to_owned);
    let item = model.catalog.item_ids.get(0).map(str::to_owned);
    let names: Vec<String> = model.recommenders.iter().map(|r| r.name.clone()).collect();
    let engine = Engine::new(model);
    let _ = engine.info();
    for name in names {
        for (user_id, item_id) in [(user.clone(), None), (None, item.clone()), (None, None)] {
            let req = GetRecommendationsRequest {
                recommender: Some(name.clone()),
                user_id,
                item_id,
                num_results: Some(5),
                ..GetRecommendationsRequest::default()
            };
            let _ = engine.get_recommendations(&req);
        }
    }
}
