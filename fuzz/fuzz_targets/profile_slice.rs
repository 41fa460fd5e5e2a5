//! User-profile bytes → `format::slice::decode` and `Engine::load_user_profile`: any input may be
//! refused, none may panic. Each input is tried as is (the checksum guards the decoder) and
//! re-framed as a body with a correct header and checksum (so mutations reach the body reader
//! and the checks against the model). A profile that loads must be servable: the target then
//! asks every recommender for the profile's user.

#![no_main]

use edgerec_core::Engine;
use edgerec_core::format::slice;
use edgerec_core::request::GetRecommendationsRequest;
use libfuzzer_sys::fuzz_target;

/// The golden model (users included), so profiles cut from it load.
const MODEL: &[u8] = include_bytes!("../../tests/fixtures/golden/model-v1.erm");

/// `body` in a profile frame for the golden model, with a correct length and checksum.
fn framed(engine: &Engine, body: &[u8]) -> Vec<u8> {
    let mut b = slice::SLICE_MAGIC.to_vec();
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&(body.len() as u32).to_le_bytes());
    b.extend_from_slice(&engine.model_id().to_le_bytes());
    b.extend_from_slice(body);
    let crc = crc32fast::hash(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

fn exercise(engine: &Engine, bytes: &[u8]) {
    let mut e = engine.fork();
    let Ok(user) = e.load_user_profile(bytes) else {
        return;
    };
    for r in &engine.model().recommenders {
        let req = GetRecommendationsRequest {
            recommender: Some(r.name.clone()),
            user_id: Some(user.clone()),
            num_results: Some(25),
            ..GetRecommendationsRequest::default()
        };
        let _ = e.get_recommendations(&req);
    }
}

fuzz_target!(|data: &[u8]| {
    thread_local! {
        static ENGINE: Engine = Engine::from_bytes(MODEL).expect("the golden model decodes");
    }
    ENGINE.with(|engine| {
        let _ = slice::decode(data);
        exercise(engine, data);
        exercise(engine, &framed(engine, data));
    });
});
