//! The sync server's `/recommendations-log` route as the Worker sends to it: what each answer
//! recommended, one entry per answer, several merged into one request when a queue delivers them
//! together.

/// The sync server's route for logged recommendations.
pub const LOG_PATH: &str = "/recommendations-log";

/// Log batches of one queue delivery merged into one `/recommendations-log` body (at most 1000
/// entries, the server's limit per request); `None` when a body is unreadable.
pub fn merge(bodies: &[&str]) -> Option<String> {
    let mut all = Vec::new();
    for b in bodies {
        let v: serde_json::Value = serde_json::from_str(b).ok()?;
        all.extend(v["recommendations"].as_array()?.iter().cloned());
    }
    (all.len() <= 1000).then(|| serde_json::json!({ "recommendations": all }).to_string())
}
