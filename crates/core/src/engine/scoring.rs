//! Scoring by recipe family: factors (dot products over all items), neighbours (item-item),
//! popularity. Every path honours the `blocked` set and returns at most `k` items, best first.

use std::collections::{BTreeMap, HashMap};

use super::history::Interaction;
use crate::bitset::BitSet;
use crate::content::ContentModel;
use crate::embedding::Embedding;
use crate::model::{
    FactorModel, Model, NeighborModel, PopularityModel, Recommender, RecommenderModel,
};
use crate::session::Session;
use crate::timeline::TimelineAt;
use crate::topk::{Scored, TopK};

/// Who and what a request is about.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// Known user row.
    pub user: Option<u32>,
    pub session: Option<&'a Session>,
    /// Index of the recommender in the model (keys the session's fold-in vectors).
    pub recommender: usize,
    /// The item of a related-items request, when known to the model.
    pub item: Option<u32>,
    /// The request's `context` map (device, location, ...).
    pub context: Option<&'a BTreeMap<String, String>>,
}

/// How a list was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The recommender's own model.
    Model,
    /// Popular items, because the model had nothing for this actor.
    PopularFallback,
}

/// The scored list of a request.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub items: Vec<Scored>,
    /// Whether scores are meaningful to report (Personalize omits them for SIMS/popularity).
    pub has_scores: bool,
    pub source: Source,
}

/// The recommender's own top `k` for one request, and whether its scores are meaningful to
/// report (Personalize omits them for SIMS/popularity); `None` when the recipe has nothing of
/// its own for the actor. Blends are scored from their parts (`engine::blend`), not here.
#[must_use]
pub fn own(
    model: &Model,
    rec: &Recommender,
    actor: &Actor<'_>,
    recent: &[Interaction<'_>],
    blocked: &BitSet,
    k: usize,
) -> Option<(Vec<Scored>, bool)> {
    match &rec.model {
        RecommenderModel::Factors(fm) => factor_query(fm, actor).map(|q| {
            let top = match context_vector(fm, actor) {
                Some(c) => top_by_context(fm, &q, &c, blocked, k),
                None => top_by_vector(fm, &q, blocked, k),
            };
            (top, true)
        }),
        RecommenderModel::Neighbors(nm) => {
            neighbor_scores(nm, model, actor, recent, blocked, k).map(|v| (v, false))
        }
        // An empty ranking (nothing trending in the window) falls back to global popularity.
        RecommenderModel::Popularity(p) if p.ranked.is_empty() => None,
        RecommenderModel::Popularity(p) => Some((top_popular(p, blocked, k), false)),
        RecommenderModel::Blend(_) => None,
    }
}

/// A request's scored list: the recommender's own list, else global popularity.
#[must_use]
pub fn or_popular(
    model: &Model,
    blocked: &BitSet,
    k: usize,
    scored: Option<(Vec<Scored>, bool)>,
) -> Scoring {
    match scored {
        Some((items, has_scores)) => Scoring {
            items,
            has_scores,
            source: Source::Model,
        },
        None => Scoring {
            items: top_popular(&model.popularity, blocked, k),
            has_scores: false,
            source: Source::PopularFallback,
        },
    }
}

/// The query vector: the item's own vector for related-items requests, else the session's
/// fold-in, else the known user's trained factors (`None` for a row of zeros).
pub(super) fn factor_query(fm: &FactorModel, actor: &Actor<'_>) -> Option<Vec<f32>> {
    if let Some(i) = actor.item {
        return Some(fm.item_factors.row(i as usize));
    }
    if let Some(v) = actor
        .session
        .and_then(|s| s.vectors.get(&actor.recommender))
    {
        return Some(v.clone());
    }
    let u = actor.user? as usize;
    // A row of zeros is no row: a user added without factors (see `user_slice`), or trained
    // without interactions; popularity answers them, as it answers unknown users.
    (u < fm.user_factors.rows())
        .then(|| fm.user_factors.row(u))
        .filter(|v| v.iter().any(|&x| x != 0.0))
}

/// The learned context vector of a user request's `context` (`None` for related-items
/// requests, models without context, and contexts the model does not know).
pub(super) fn context_vector(fm: &FactorModel, actor: &Actor<'_>) -> Option<Vec<f32>> {
    if actor.item.is_some() {
        return None;
    }
    fm.context.as_ref()?.shift(actor.context?, fm.dim())
}

/// A relevance score adjusted by the context: `s · exp(c·x)`, the item's relevance times its
/// learned lift under the context (for `s <= 0`, `s · exp(−c·x)`, so a lift still helps).
#[must_use]
pub fn contextual(score: f32, lift: f32) -> f32 {
    let l = lift.clamp(-10.0, 10.0);
    if score > 0.0 {
        score * l.exp()
    } else {
        score * (-l).exp()
    }
}

/// Top `k` items by [`contextual`] score, skipping blocked items.
#[must_use]
pub fn top_by_context(
    fm: &FactorModel,
    query: &[f32],
    context: &[f32],
    blocked: &BitSet,
    k: usize,
) -> Vec<Scored> {
    let mut lifts = vec![0f32; fm.item_factors.rows()];
    fm.item_factors.score_all(context, |i, s| {
        if let Some(l) = lifts.get_mut(i) {
            *l = s;
        }
    });
    top_adjusted(&fm.item_factors, query, blocked, k, |i, s| {
        contextual(s, lifts.get(i).copied().unwrap_or(0.0))
    })
}

/// Top `k` items by dot product with `query`, skipping blocked items.
#[must_use]
pub fn top_by_vector(fm: &FactorModel, query: &[f32], blocked: &BitSet, k: usize) -> Vec<Scored> {
    top_by_embedding(&fm.item_factors, query, blocked, k)
}

/// Top `k` rows of `rows` by dot product with `query`, skipping blocked rows.
#[must_use]
pub fn top_by_embedding(
    rows: &Embedding,
    query: &[f32],
    blocked: &BitSet,
    k: usize,
) -> Vec<Scored> {
    top_adjusted(rows, query, blocked, k, |_, s| s)
}

/// Top `k` rows by `adjust(row, dot product with query)`, skipping blocked rows.
fn top_adjusted(
    rows: &Embedding,
    query: &[f32],
    blocked: &BitSet,
    k: usize,
    adjust: impl Fn(usize, f32) -> f32,
) -> Vec<Scored> {
    let mut top = TopK::new(k);
    let mut threshold = f32::NEG_INFINITY;
    rows.score_all(query, |i, s| {
        let s = adjust(i, s);
        // `>=` keeps ties, which push() breaks by index; NaN never passes.
        if s >= threshold
            && !blocked.contains(i)
            && let Ok(i) = u32::try_from(i)
        {
            top.push(i, s);
            threshold = top.threshold();
        }
    });
    top.into_sorted()
}

/// Most popular unblocked items.
#[must_use]
pub fn top_popular(p: &PopularityModel, blocked: &BitSet, k: usize) -> Vec<Scored> {
    p.ranked
        .iter()
        .filter(|&&i| !blocked.contains(i as usize))
        .take(k)
        .map(|&i| Scored {
            item: i,
            #[allow(clippy::cast_precision_loss)]
            score: p.counts.get(i as usize).copied().unwrap_or(0) as f32,
        })
        .collect()
}

/// Content neighbours used for a history item that has no neighbour list.
const CONTENT_NEIGHBORS: usize = 20;

/// The `k` items whose vectors have the largest dot product with item `i`'s, skipping
/// blocked items and `i`; empty when `i` has no vector.
fn content_neighbors(c: &ContentModel, i: u32, blocked: &BitSet, k: usize) -> Vec<Scored> {
    let Some(iv) = c.item_vectors.as_ref() else {
        return Vec::new();
    };
    let q = iv.row(i as usize);
    if q.iter().all(|&x| x == 0.0) {
        return Vec::new();
    }
    let mut skip = blocked.clone();
    skip.insert(i as usize);
    top_by_embedding(iv, &q, &skip, k)
        .into_iter()
        .filter(|s| s.score > 0.0)
        .collect()
}

/// Item-item scores: the item's neighbours, or for a user the recency-weighted sum of the
/// neighbours of their recent items. `None` when there is nothing to start from.
fn neighbor_scores(
    nm: &NeighborModel,
    model: &Model,
    actor: &Actor<'_>,
    recent: &[Interaction<'_>],
    blocked: &BitSet,
    k: usize,
) -> Option<Vec<Scored>> {
    let popularity = &model.popularity;
    if let Some(i) = actor.item {
        let prior = SessionPrior::new(nm, popularity, 1, None);
        let (nb, w) = nm.of(i as usize);
        let mut top = TopK::new(k);
        for (&j, &s) in nb.iter().zip(w) {
            if !blocked.contains(j as usize) {
                top.push(j, s + prior.of(j));
            }
        }
        let mut list = top.into_sorted();
        // Too few co-interaction neighbours (a cold or new item): content neighbours follow.
        if list.len() < k
            && let Some(c) = nm.content.as_deref()
        {
            let mut more = blocked.clone();
            for s in &list {
                more.insert(s.item as usize);
            }
            list.extend(content_neighbors(c, i, &more, k - list.len()));
        }
        return Some(list);
    }
    if recent.is_empty() {
        return None;
    }
    let mut acc: HashMap<u32, f32> = HashMap::new();
    // A session without a known user: the transition lists and the session neighbours.
    let anonymous_session = actor.user.is_none() && actor.session.is_some();
    let transitions = nm.transitions.as_deref().filter(|_| anonymous_session);
    for (rank, it) in recent.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let decay = 1.0 / (1.0 + nm.history_decay * rank as f32);
        if let Some(t) = transitions {
            let (nb, w) = t.of(it.item as usize);
            add_list(&mut acc, nb, w, decay, blocked);
        }
        let (nb, w) = nm.of(it.item as usize);
        if nb.is_empty()
            && let Some(c) = nm.content.as_deref()
        {
            // An item without a list (added with putItems): its content neighbours.
            for s in content_neighbors(c, it.item, blocked, CONTENT_NEIGHBORS) {
                *acc.entry(s.item).or_default() += decay * s.score;
            }
            continue;
        }
        add_list(&mut acc, nb, w, decay, blocked);
    }
    let at = session_time(actor);
    if anonymous_session {
        blend_session_neighbors(nm, model, recent, at, blocked, k, &mut acc);
    }
    let prior = SessionPrior::new(nm, popularity, recent.len(), at);
    let bound = prior.bound();
    let mut top = TopK::new(k);
    for (j, s) in acc {
        // The prior only looks up candidates that could still enter the list.
        if s + bound >= top.threshold() {
            top.push(j, s + prior.of(j));
        }
    }
    Some(top.into_sorted())
}

/// Adds `decay ×` a weighted list to the scores `acc`, skipping blocked items.
fn add_list(acc: &mut HashMap<u32, f32>, nb: &[u32], w: &[f32], decay: f32, blocked: &BitSet) {
    for (&j, &s) in nb.iter().zip(w) {
        if !blocked.contains(j as usize) {
            *acc.entry(j).or_default() += decay * s;
        }
    }
}

/// Items of the session neighbours blended into a list of `k`: the best `max(2k, this)`.
const SESSION_NEIGHBOR_ITEMS: usize = 200;

/// Adds the session neighbours' scores to a session's item-item scores `acc`:
/// `weight / √n × (the strongest item-item score) × neighbour score / the strongest`, so the
/// blend does not depend on the scale of the lists. Only the neighbours' best items are
/// added (see [`SESSION_NEIGHBOR_ITEMS`]). The scores come from `pairs` when the model has
/// them (and no histories), else from the stored histories.
fn blend_session_neighbors(
    nm: &NeighborModel,
    model: &Model,
    recent: &[Interaction<'_>],
    at: Option<f64>,
    blocked: &BitSet,
    k: usize,
    acc: &mut HashMap<u32, f32>,
) {
    let Some(sn) = nm.session_neighbors.as_deref() else {
        return;
    };
    let w = sn.weight_for(recent.len());
    if w <= 0.0 {
        return;
    }
    let session: Vec<u32> = recent.iter().map(|it| it.item).collect();
    let scale = w * acc.values().copied().fold(0.0f32, f32::max);
    if scale <= 0.0 {
        return;
    }
    let best = k.saturating_mul(2).max(SESSION_NEIGHBOR_ITEMS);
    let scores = match nm.session_pairs.as_deref() {
        Some(p) => p.scores(&session, at, sn.window_days, blocked, best),
        None => sn.scores(&model.histories, &session, at, blocked, best),
    };
    for s in scores {
        *acc.entry(s.item).or_default() += scale * s.score;
    }
}

/// A neighbour model's short-session popularity prior for a session of `n` items:
/// `session_popularity / n · count(j) / max count` (see [`NeighborModel::session_popularity`]),
/// with the counts of the model's popularity, or with a timeline the counts decayed to the
/// session's time.
struct SessionPrior<'m> {
    counts: Counts<'m>,
    scale: f32,
    /// At least the largest prior of any item, see [`SessionPrior::bound`].
    bound: f32,
}

enum Counts<'m> {
    AllTime(&'m [u32]),
    AsOf(TimelineAt<'m>),
}

impl<'m> SessionPrior<'m> {
    /// `at`: the session's time (its latest event), `None` for the model's end.
    fn new(
        nm: &'m NeighborModel,
        popularity: &'m PopularityModel,
        n: usize,
        at: Option<f64>,
    ) -> Self {
        let off = SessionPrior {
            counts: Counts::AllTime(&[]),
            scale: 0.0,
            bound: 0.0,
        };
        if nm.session_popularity <= 0.0 || n == 0 {
            return off;
        }
        let (counts, top) = match nm.timeline.as_deref() {
            Some(t) => match t.at(at.unwrap_or_else(|| t.end())) {
                Some(now) => {
                    let top = now.peak();
                    (Counts::AsOf(now), top)
                }
                None => return off,
            },
            None => {
                let top = popularity
                    .ranked
                    .first()
                    .and_then(|&i| popularity.counts.get(i as usize))
                    .copied()
                    .unwrap_or(0);
                #[allow(clippy::cast_precision_loss)]
                (Counts::AllTime(&popularity.counts), top as f32)
            }
        };
        #[allow(clippy::cast_precision_loss)]
        let scale = if top > 0.0 && top.is_finite() {
            nm.session_popularity / (n as f32 * top)
        } else {
            0.0
        };
        SessionPrior {
            counts,
            scale,
            // 0 when off (a non-finite `top` has scale 0).
            bound: if scale == 0.0 {
                0.0
            } else {
                scale * top * 1.001
            },
        }
    }

    /// At least the largest prior of any item (`session_popularity / n`, with room for
    /// rounding), so a candidate whose score plus this cannot enter a list is skipped.
    fn bound(&self) -> f32 {
        self.bound
    }

    #[inline]
    fn of(&self, j: u32) -> f32 {
        if self.scale == 0.0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let count = match &self.counts {
            Counts::AllTime(c) => c.get(j as usize).copied().unwrap_or(0) as f32,
            Counts::AsOf(now) => now.count(j as usize),
        };
        self.scale * count
    }
}

/// The time of the actor's session: its latest event's `sentAt`.
fn session_time(actor: &Actor<'_>) -> Option<f64> {
    actor
        .session?
        .events
        .values()
        .flatten()
        .map(|e| e.sent_at)
        .filter(|t| t.is_finite())
        .reduce(f64::max)
}
