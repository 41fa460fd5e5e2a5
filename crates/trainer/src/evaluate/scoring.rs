//! Scoring one recommender through `core::Engine`: split A (a request per test user, or a
//! replayed session on a model that knows no user), split B (a fresh session per cold user and
//! session length, fed through `putEvents`), and the item-affinity segments.

use std::collections::BTreeMap;

use edgerec_core::Engine;
use edgerec_core::request::{Event, PutEventsRequest};
use rayon::prelude::*;

use super::error::EvalError;
use super::metrics::{ColdMetrics, ColdReport, WarmMetrics, WarmReport};
use super::protocol::{ColdSplit, N_TARGETS, SESSION_LENGTHS, WarmSplit};
use super::requests::{ids, request};
use super::results::SegmentReport;
use crate::progress::{Progress, SILENT};

/// Split A: one request per test user (top 25), against the model of the train set; also the
/// report over the test users whose item is cold (`cold(item)`).
/// Each request advances `progress` by one.
pub(super) fn warm(
    engine: &Engine,
    split: &WarmSplit,
    name: &str,
    catalogue: usize,
    cold: &(dyn Fn(&str) -> bool + Sync),
    progress: &dyn Progress,
) -> Result<(WarmReport, WarmReport), EvalError> {
    warm_with(
        engine,
        split,
        name,
        catalogue,
        cold,
        |_| BTreeMap::new(),
        progress,
    )
}

/// [`warm`] with a request `context` per test case; the second report counts only the
/// cases whose held-out item `cold` accepts.
pub(super) fn warm_with(
    engine: &Engine,
    split: &WarmSplit,
    name: &str,
    catalogue: usize,
    cold: &(dyn Fn(&str) -> bool + Sync),
    context: impl Fn(&super::protocol::WarmCase) -> BTreeMap<String, String> + Sync,
    progress: &dyn Progress,
) -> Result<(WarmReport, WarmReport), EvalError> {
    let lists: Vec<Vec<String>> = split
        .test
        .par_iter()
        .map(|case| {
            let mut req = request(name, &case.user, 25);
            req.context = context(case);
            let list = ids(engine, &req);
            progress.advance(1);
            list
        })
        .collect::<Result<_, _>>()?;
    Ok(warm_reports(split, &lists, catalogue, cold))
}

/// Events of a session replayed from the data: the most recent this many of a user.
const REPLAYED_EVENTS: usize = edgerec_core::request::limits::SESSION_EVENTS_PER_TYPE;

/// Split A on a model that knows no user (the public profile): each test user's most recent
/// training events are sent through `putEvents` into a fresh session first, as a browser that
/// kept them would, then the top 25 is asked for; the second report counts only the cases
/// whose held-out item `cold` accepts.
/// The split A reports of the lists answered per test case: all of them, and those whose
/// held-out item `cold` accepts.
fn warm_reports(
    split: &WarmSplit,
    lists: &[Vec<String>],
    catalogue: usize,
    cold: &(dyn Fn(&str) -> bool + Sync),
) -> (WarmReport, WarmReport) {
    let mut m = WarmMetrics::new(catalogue);
    let mut c = WarmMetrics::new(catalogue);
    for (case, list) in split.test.iter().zip(lists) {
        m.add(list, &case.item);
        if cold(&case.item) {
            c.add(list, &case.item);
        }
    }
    (m.finish(), c.finish())
}

pub(super) fn warm_replayed(
    engine: &Engine,
    split: &WarmSplit,
    name: &str,
    catalogue: usize,
    cold: &(dyn Fn(&str) -> bool + Sync),
    progress: &dyn Progress,
) -> Result<(WarmReport, WarmReport), EvalError> {
    let train = &split.train;
    let it = &train.interactions;
    // Each user's interactions in time order (timestamp, then raw item id).
    let mut rows: Vec<usize> = (0..it.len()).collect();
    rows.sort_by(|&a, &b| {
        it.user[a]
            .cmp(&it.user[b])
            .then(it.timestamp[a].cmp(&it.timestamp[b]))
            .then_with(|| {
                super::protocol::compare_raw_ids(
                    &train.item_ids[it.item[a] as usize],
                    &train.item_ids[it.item[b] as usize],
                )
            })
    });
    let mut by_user: std::collections::HashMap<u32, &[usize]> = std::collections::HashMap::new();
    for run in rows.chunk_by(|&a, &b| it.user[a] == it.user[b]) {
        by_user.insert(it.user[run[0]], run);
    }
    let lists: Vec<Vec<String>> = split
        .test
        .par_iter()
        .map(|case| {
            let mut e = engine.fork();
            let own = by_user.get(&case.user_index).copied().unwrap_or(&[]);
            #[allow(clippy::cast_precision_loss)]
            let events: Vec<Event> = own[own.len().saturating_sub(REPLAYED_EVENTS)..]
                .iter()
                .map(|&r| Event {
                    event_type: train
                        .event_types
                        .get(usize::from(it.event_type[r]))
                        .cloned()
                        .unwrap_or_else(|| "click".to_owned()),
                    item_id: Some(train.item_ids[it.item[r] as usize].clone()),
                    sent_at: it.timestamp[r].max(0) as f64,
                    ..Event::default()
                })
                .collect();
            for chunk in events.chunks(10) {
                e.put_events(&PutEventsRequest {
                    session_id: case.user.clone(),
                    user_id: Some(case.user.clone()),
                    event_list: chunk.to_vec(),
                    ..PutEventsRequest::default()
                })
                .map_err(|err| EvalError::Request {
                    what: format!("putEvents for user {}", case.user),
                    message: err.to_string(),
                })?;
            }
            let list = ids(&e, &request(name, &case.user, 25));
            progress.advance(1);
            list
        })
        .collect::<Result<_, _>>()?;
    Ok(warm_reports(split, &lists, catalogue, cold))
}

/// Split B: a fresh session per cold user and N, fed through `putEvents`, then top 10; the
/// metrics pool the cold users of every fold (each scored by its fold's engine). Each cold
/// user and session length advances `progress` by one.
pub(super) fn cold(
    folds: &[(Engine, ColdSplit)],
    name: &str,
    event_type: &str,
    progress: &dyn Progress,
) -> Result<Vec<ColdReport>, EvalError> {
    cold_pooled(
        folds.iter().map(|(e, s)| (e, s)),
        name,
        event_type,
        false,
        progress,
    )
}

/// [`cold`] on one split, with the first target's context in each request when
/// `with_context` is set.
pub(super) fn cold_with(
    engine: &Engine,
    split: &ColdSplit,
    name: &str,
    event_type: &str,
    with_context: bool,
) -> Result<Vec<ColdReport>, EvalError> {
    cold_pooled([(engine, split)], name, event_type, with_context, SILENT)
}

/// Split B metrics per session length over the cold users of every `(engine, split)` fold.
fn cold_pooled<'a>(
    folds: impl IntoIterator<Item = (&'a Engine, &'a ColdSplit)>,
    name: &str,
    event_type: &str,
    with_context: bool,
    progress: &dyn Progress,
) -> Result<Vec<ColdReport>, EvalError> {
    let mut metrics: Vec<ColdMetrics> = SESSION_LENGTHS
        .iter()
        .map(|&n| ColdMetrics::new(n))
        .collect();
    for (engine, split) in folds {
        for (m, &n) in metrics.iter_mut().zip(&SESSION_LENGTHS) {
            let lists = cold_lists(engine, split, name, event_type, n, with_context, progress)?;
            for (u, list) in split.users.iter().zip(&lists) {
                m.add(list, u.targets(n));
            }
        }
    }
    Ok(metrics.iter().map(ColdMetrics::finish).collect())
}

/// Each cold user's top 10 after a fresh session of their first `n` events.
fn cold_lists(
    engine: &Engine,
    split: &ColdSplit,
    name: &str,
    event_type: &str,
    n: usize,
    with_context: bool,
    progress: &dyn Progress,
) -> Result<Vec<Vec<String>>, EvalError> {
    split
        .users
        .par_iter()
        .map(|u| {
            let mut e = engine.fork();
            let session = format!("cold-session-{}-{n}", u.user);
            for batch in u.session_batches(n, &session, event_type) {
                e.put_events(&batch).map_err(|err| EvalError::Request {
                    what: format!("putEvents for cold user {}", u.user),
                    message: err.to_string(),
                })?;
            }
            #[allow(clippy::cast_possible_truncation)]
            let mut req = request(name, &session, N_TARGETS as u32);
            if with_context {
                req.context = u.target_context(n).iter().cloned().collect();
            }
            let list = ids(&e, &req);
            progress.advance(1);
            list
        })
        .collect()
}

/// Item-affinity hits and recall at 1 % on split A (see [`SegmentReport`]).
pub(super) fn segment_metrics(
    engine: &Engine,
    split: &WarmSplit,
    name: &str,
) -> Result<SegmentReport, EvalError> {
    let mut relevant: std::collections::BTreeMap<&str, Vec<&str>> =
        std::collections::BTreeMap::new();
    for case in &split.test {
        relevant.entry(&case.item).or_default().push(&case.user);
    }
    let users = engine.model().users.user_ids.len();
    let segment_size = users.div_ceil(100).max(1);
    let scored: Vec<(usize, usize)> = relevant
        .par_iter()
        .filter_map(|(item, who)| {
            let i = engine.item_index(item)?;
            Some(
                engine
                    .users_for_items(name, &[i], segment_size)
                    .map(|seg| {
                        let hits = seg
                            .iter()
                            .filter(|u| who.contains(&u.user_id.as_str()))
                            .count();
                        (hits, who.len())
                    })
                    .map_err(|e| EvalError::Request {
                        what: format!("segment of {name:?} for item {item:?}"),
                        message: e.to_string(),
                    }),
            )
        })
        .collect::<Result<_, _>>()?;
    #[allow(clippy::cast_precision_loss)]
    let n = scored.len().max(1) as f64;
    #[allow(clippy::cast_precision_loss)]
    Ok(SegmentReport {
        items: scored.len(),
        segment_size,
        hits_at_1_percent: scored.iter().map(|&(h, _)| h as f64).sum::<f64>() / n,
        recall_at_1_percent: scored
            .iter()
            .map(|&(h, r)| h as f64 / r.max(1) as f64)
            .sum::<f64>()
            / n,
    })
}
