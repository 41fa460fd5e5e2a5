//! Writes the synthetic benchmark model (100k items × 64 dims, int8, 1 000 known users with 50
//! interactions each), the same model as `crates/core/benches/engine.rs`, for the Node benchmark.
//!
//! `cargo run --release -p edgerec-wasm --example bench_model -- out.erm [--items N] [--expect out.json]`
//!
//! `--items` makes a smaller model of the same kind; `--expect` also writes the native engine's
//! answers to a few requests, which the Node tests compare with both wasm builds.

#[path = "../../core/benches/synthetic_model/mod.rs"]
mod synthetic_model;

use synthetic_model::model;

/// The native engine's answers: top-25 for ten known users and for a session after 20 events.
fn expectations(bytes: &[u8], items: usize) -> Result<String, String> {
    use edgerec_core::request::{Event, GetRecommendationsRequest, PutEventsRequest};
    let mut engine = edgerec_core::Engine::from_bytes(bytes).map_err(|e| e.to_string())?;
    let req = |user: String| GetRecommendationsRequest {
        recommender: Some("recommended-for-you".into()),
        user_id: Some(user),
        ..GetRecommendationsRequest::default()
    };
    let mut cases = Vec::new();
    for u in 0..10 {
        let user = format!("user-{}", u * 97);
        let resp = engine
            .get_recommendations(&req(user.clone()))
            .map_err(|e| e.to_string())?;
        let ids: Vec<String> = resp.item_list.into_iter().map(|p| p.item_id).collect();
        cases.push(format!("{{\"userId\":\"{user}\",\"itemIds\":{ids:?}}}"));
    }
    let events: Vec<Event> = (0..20)
        .map(|k| Event {
            event_type: "view".into(),
            item_id: Some(format!("item-{}", (k * 4999) % items)),
            sent_at: k as f64,
            ..Event::default()
        })
        .collect();
    let mut viewed = Vec::new();
    for chunk in events.chunks(10) {
        engine
            .put_events(&PutEventsRequest {
                session_id: "session-1".into(),
                event_list: chunk.to_vec(),
                ..PutEventsRequest::default()
            })
            .map_err(|e| e.to_string())?;
        let ids: Vec<String> = chunk.iter().filter_map(|e| e.item_id.clone()).collect();
        viewed.push(format!("{ids:?}"));
    }
    let resp = engine
        .get_recommendations(&req("session-1".into()))
        .map_err(|e| e.to_string())?;
    let ids: Vec<String> = resp.item_list.into_iter().map(|p| p.item_id).collect();
    cases.push(format!(
        "{{\"userId\":\"session-1\",\"viewed\":[{}],\"itemIds\":{ids:?}}}",
        viewed.join(",")
    ));
    Ok(format!("[\n{}\n]\n", cases.join(",\n")))
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first().cloned() else {
        eprintln!("usage: bench_model OUT.erm [--items N] [--expect OUT.json]");
        return std::process::ExitCode::from(2);
    };
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let items = flag("--items")
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let bytes = match edgerec_core::format::encode(&model(items)) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("encoding: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    if let Err(e) = std::fs::write(&out, &bytes) {
        eprintln!("writing {out}: {e}");
        return std::process::ExitCode::FAILURE;
    }
    println!("wrote {out}: {} bytes", bytes.len());
    if let Some(path) = flag("--expect") {
        match expectations(&bytes, items).map(|json| std::fs::write(&path, json)) {
            Ok(Ok(())) => println!("wrote {path}"),
            Ok(Err(e)) => {
                eprintln!("writing {path}: {e}");
                return std::process::ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("native engine: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
