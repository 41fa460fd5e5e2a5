//! Validation cases scored through the engine, as `evaluate` scores the protocol: known users
//! by their user id, sessions through `putEvents` on a fresh session with each event at its
//! time in the data. Lists are item indices of the engine's catalogue.

use edgerec_core::request::GetRecommendationsRequest;
use edgerec_core::{Engine, RequestError};
use rayon::prelude::*;

use super::split::ValidationSplit;
use crate::evaluate::protocol::{ColdUser, N_TARGETS, SESSION_LENGTHS};

/// Why validation scoring failed (a request the engine refused).
#[derive(Debug, thiserror::Error)]
#[error("validation request for {what}: {source}")]
pub struct ScoreError {
    what: String,
    source: RequestError,
}

/// `1 / log2(position + 1)` for 0-based `rank`.
fn gain(rank: usize) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let p = rank as f64 + 2.0;
    1.0 / p.log2()
}

/// NDCG@10 of `list` (best first) against `targets` (the ideal list has
/// `min(10, targets)` hits); 0 for no targets.
#[must_use]
pub fn ndcg_at_10(list: &[u32], targets: &[u32]) -> f64 {
    ndcg_with_ideal(list, targets, targets.len())
}

/// NDCG@10 of `list` against `targets` when `ideal` targets existed (some may be outside the
/// catalogue, so not in `targets`, yet count in the ideal gain).
fn ndcg_with_ideal(list: &[u32], targets: &[u32], ideal: usize) -> f64 {
    let ideal: f64 = (0..ideal.min(10)).map(gain).sum();
    if ideal <= 0.0 {
        return 0.0;
    }
    let got: f64 = list
        .iter()
        .take(10)
        .enumerate()
        .filter(|(_, i)| targets.contains(i))
        .map(|(r, _)| gain(r))
        .sum();
    got / ideal
}

/// One validation case: whose request it is and what it should find.
#[derive(Debug, Clone)]
pub struct Case {
    /// Known user id, or the cold user whose first `events` events make the session.
    pub user: String,
    /// Events of the session (0 for a known user).
    pub events: usize,
    /// Target item indices in the engine's catalogue (targets outside it are left out but
    /// still count in the ideal gain through `ideal`).
    pub targets: Vec<u32>,
    /// Number of targets, in the catalogue or not.
    pub ideal: usize,
}

impl Case {
    /// NDCG@10 of `list` for this case.
    #[must_use]
    pub fn ndcg(&self, list: &[u32]) -> f64 {
        ndcg_with_ideal(list, &self.targets, self.ideal)
    }
}

/// The known-user cases of `v` for `engine`'s catalogue.
#[must_use]
pub fn warm_cases(engine: &Engine, v: &ValidationSplit) -> Vec<Case> {
    v.warm
        .iter()
        .map(|c| Case {
            user: c.user.clone(),
            events: 0,
            targets: engine.item_index(&c.item).into_iter().collect(),
            ideal: 1,
        })
        .collect()
}

/// The session cases of `v` for `engine`'s catalogue: one per cold user and session length.
#[must_use]
pub fn cold_cases(engine: &Engine, v: &ValidationSplit) -> Vec<Case> {
    let mut out = Vec::new();
    for &n in &SESSION_LENGTHS {
        for u in &v.cold {
            let t = u.targets(n);
            out.push(Case {
                user: u.user.clone(),
                events: n,
                targets: t.iter().filter_map(|id| engine.item_index(id)).collect(),
                ideal: t.len(),
            });
        }
    }
    out
}

/// `f(engine, user id)` for every case, in parallel: known users on `engine` itself, sessions
/// on a fork that received the cold user's first events through `putEvents`.
pub fn each_case<T: Send>(
    engine: &Engine,
    v: &ValidationSplit,
    cases: &[Case],
    event_type: &str,
    f: impl Fn(&Engine, &str) -> Result<T, RequestError> + Sync,
) -> Result<Vec<T>, ScoreError> {
    let cold: std::collections::HashMap<&str, &ColdUser> =
        v.cold.iter().map(|u| (u.user.as_str(), u)).collect();
    cases
        .par_iter()
        .map(|c| {
            let err = |source| ScoreError {
                what: c.user.clone(),
                source,
            };
            match cold.get(c.user.as_str()).filter(|_| c.events > 0) {
                None => f(engine, &c.user).map_err(err),
                Some(u) => {
                    let mut e = engine.fork();
                    let session = format!("validation-session-{}-{}", u.user, c.events);
                    put_session(&mut e, &session, u, c.events, event_type).map_err(err)?;
                    f(&e, &session).map_err(err)
                }
            }
        })
        .collect()
}

/// The first `n` events of `u` into `session`, each at its time in the data.
fn put_session(
    e: &mut Engine,
    session: &str,
    u: &ColdUser,
    n: usize,
    event_type: &str,
) -> Result<(), RequestError> {
    for batch in u.session_batches(n, session, event_type) {
        e.put_events(&batch)?;
    }
    Ok(())
}

/// The top `N_TARGETS` item indices of recommender `name` for `user`.
pub fn top(engine: &Engine, name: &str, user: &str) -> Result<Vec<u32>, RequestError> {
    #[allow(clippy::cast_possible_truncation)]
    let r = engine.get_recommendations(&GetRecommendationsRequest {
        recommender: Some(name.to_owned()),
        user_id: Some(user.to_owned()),
        num_results: Some(N_TARGETS as u32),
        ..GetRecommendationsRequest::default()
    })?;
    Ok(r.item_list
        .iter()
        .filter_map(|p| engine.item_index(&p.item_id))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndcg_counts_hits_by_position_over_the_ideal() {
        assert!((ndcg_at_10(&[5, 1, 2], &[5]) - 1.0).abs() < 1e-12);
        assert!((ndcg_at_10(&[1, 5], &[5]) - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(ndcg_at_10(&[1, 2], &[5]), 0.0);
        assert_eq!(ndcg_at_10(&[1, 2], &[]), 0.0);
        let two = ndcg_at_10(&[7, 8], &[7, 8, 9]);
        let ideal = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!((two - (1.0 + 1.0 / 3f64.log2()) / ideal).abs() < 1e-12);
        // A target outside the catalogue still counts in the ideal.
        let c = Case {
            user: String::new(),
            events: 0,
            targets: vec![],
            ideal: 1,
        };
        assert_eq!(c.ndcg(&[1, 2]), 0.0);
    }
}
