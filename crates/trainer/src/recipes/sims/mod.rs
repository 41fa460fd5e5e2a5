//! `sims`: item-item co-interaction. Two items are related when the same users interacted
//! with both; `popularity_discount_factor` (0 = raw co-counts, 1 = cosine-normalised) damps
//! popular items, and pairs seen fewer than `min_cointeraction_count` times are dropped.
//!
//! Sequence-aware variant: with `window = W > 0` only items at most `W` positions apart in a
//! user's time-ordered history co-occur, each pair weighted `1 / distance^distance_exponent`,
//! and a pair where the neighbour came *before* the item counts `backward_weight` times as
//! much as one where it came after. `window = 0` counts every pair of a history once.
//!
//! Early positions: a pair inside the window at history positions `p` and `q` (0 = the
//! user's first item) is also weighted `1 / sqrt((1 + p/s)(1 + q/s))` with
//! `s = early_position_scale`, and `global_weight` adds a small weight to every pair of a
//! history up to `global_reach` positions apart, inside the window or not. A new user's first events (a cold session through
//! `putEvents`) follow other patterns than a long-time user's latest ones, so lists learned
//! mostly from the starts of histories predict them better; the whole-history part keeps
//! neighbours for items that only occur late. `global_weight > 0` visits every pair up to
//! `global_reach` (200) positions apart instead of `window`, ten times the pairs; the whole
//! history (`global_reach = 0`) scored the same on validation at several times the cost.
//!
//! Blend: each item's list is normalised by its strongest weight and `ease_weight ×` the
//! item's row of a closed-form EASE model (see [`ease`]), also normalised, is added; an
//! update reuses the previous model's lists in place of the EASE rows. EASE takes at most
//! `ease_max_items` (5,000) items, the most popular: on 20,000 items with 1.5 M interactions
//! its solve took 73 s and 5.7 GB against 3 s and 0.5 GB with the cap (the protocol's
//! catalogues have fewer items with 5 or more users, so their lists are unchanged).
//!
//! The defaults were chosen on the validation splits of ml-100k and ml-latest-small (the
//! protocol's split A and split B validation users; never the test users): a window of 20,
//! `distance_exponent` 0.5, `backward_weight` 0.25, `popularity_discount_factor` 0.6, a
//! serving `history_decay` of 1 and an EASE blend of 0.25 (λ = 500, items with ≥ 5 users).
//! Sequence-aware pairs roughly doubled split A NDCG@10 over whole-history co-counts on both
//! datasets; the EASE blend then added 2–4 % to split A and 1–4 % to split B, and the lower
//! popularity discount (0.85 before) favoured split B, which was the goal still unmet.
//! `early_position_scale` 40 with `global_weight` 0.01 then raised validation split B NDCG@10
//! (mean over sessions of 1, 3 and 5 events) from 0.2498 to 0.2534 on ml-100k and from
//! 0.2225 to 0.2299 on ml-latest-small, for 9 % and 3 % less split A NDCG@10. Scales of 30–60
//! and global weights of 0.005–0.02 scored within 0.001 of it; smaller scales (10) or larger
//! global weights (0.03–0.1) gained a little more on split B and cost 15–35 % on split A.
//! Limiting the global pairs to 200 positions apart changed the validation split B mean by
//! −0.0004 (ml-100k) and +0.0006 (ml-latest-small), split A by −1 % and +4 %; 50 and 100
//! scored within 0.002 of it.
//!
//! Short sessions: `session_popularity` β adds `β / n · count / max count` to the neighbours
//! of a session of `n` items (and of one item's related items), so short sessions lean towards
//! popular neighbours and long histories are left as they are. With
//! `session_popularity_window_days` W > 0 the counts are recent popularity: each item's users
//! decayed as `exp(−age / W)` to the session's latest event (`sentAt`), from a timeline of
//! first interactions stored in the model (bins of W / 4), and the related items of an item
//! use the end of the training data. Scored on nine pooled cold-user folds of the validation
//! data (`evaluate --validation --cold-folds 9`, NDCG@10 for 1 / 3 / 5 events):
//!
//! | prior | ml-100k | ml-latest-small |
//! |---|---|---|
//! | off | 0.2536 / 0.2406 / 0.2323 | 0.2275 / 0.2094 / 0.1947 |
//! | β 0.8, all-time counts | 0.2662 / 0.2441 / 0.2341 | 0.2060 / 0.2085 / 0.1942 |
//! | β 0.8, W 30 days | 0.2794 / 0.2480 / 0.2356 | 0.2292 / 0.2131 / 0.1970 |
//! | **β 0.8, W 60 days (default)** | 0.2765 / 0.2471 / 0.2355 | 0.2331 / 0.2145 / 0.1973 |
//! | β 1.2, W 60 days | 0.2726 / 0.2492 / 0.2360 | 0.2295 / 0.2177 / 0.1973 |
//!
//! ml-latest-small's ratings span 22 years, so all-time popularity misleads a new user of a
//! given year while recent popularity helps; split A moved by at most 0.5 %. Over β 0.6–1.6 ×
//! W 7–90 days the split B mean stayed within 1.2 % of the default's on ml-100k; on
//! ml-latest-small β 0.6–1.2 with W 60–90 days stayed within 0.5 %, W 30 days lost up to 2 %
//! and W 7–14 days 2–7 %. On the Groceries baskets (buyers as users) the default raised
//! one-event sessions by 5 % too. `--hpo` searches both.
//!
//! Session neighbours: a session without a known user also scores the items of the
//! `session_neighbors` (200) training users whose histories (stored in the model) share its
//! items, as session-based kNN does, with two twists: a neighbour counts
//! `exp(−|Δt| / 60 days)` by how far from the session's time they interacted with the shared
//! items, and each of their items `exp(−(d − 1) / 10)` by its distance `d` in their history
//! to the nearest shared item. The scores, scaled to the strongest item-item score, are added
//! with weight `0.5 / √n` (see [`edgerec_core::session::neighbors`]). On the same nine folds:
//!
//! | session neighbours | ml-100k | ml-latest-small |
//! |---|---|---|
//! | off | 0.2765 / 0.2471 / 0.2355 | 0.2331 / 0.2145 / 0.1973 |
//! | **200, weight 0.5, 60 days, position 10 (default)** | 0.2789 / 0.2475 / 0.2351 | 0.2443 / 0.2223 / 0.2019 |
//! | no time decay | 0.2755 / 0.2432 / 0.2332 | 0.2338 / 0.2156 / 0.1949 |
//! | no position decay | 0.2791 / 0.2477 / 0.2368 | 0.2377 / 0.2202 / 0.2006 |
//! | weight 0.75 | 0.2803 / 0.2461 / 0.2321 | 0.2464 / 0.2261 / 0.2043 |
//!
//! Without the time decay the neighbours lose more than they add: in ml-latest-small's 22
//! years the users who rated the same films in another decade went on to other films. 100 or
//! 400 neighbours, windows of 30–180 days and position constants of 5–20 scored within 1 %
//! of the default; a weight that does not fade with the session's length (0.5 at every `n`)
//! gained 1.3 % more on ml-latest-small and lost 2 % on ml-100k's five-event sessions.
//! Split A (known users) is unchanged: their own history is in the training data.
//!
//! Transition lists: such a session also sums, per item, what new users go on to after it,
//! learned in closed form from the starts of users' histories (see [`super::transitions`]:
//! prefixes ending at positions 1 to `transition_prefix` (10), their last `transition_span`
//! (5) items weighted `0.5^k` from the end predicting the next `transition_targets` (10),
//! λ 100), each row scaled to `transition_weight` (0.5). A long-time user's lists are left as
//! they are. On the same nine folds:
//!
//! | transitions | ml-100k | ml-latest-small |
//! |---|---|---|
//! | off | 0.2789 / 0.2475 / 0.2351 | 0.2443 / 0.2223 / 0.2019 |
//! | **weight 0.5, prefix 10 (default)** | 0.2819 / 0.2517 / 0.2383 | 0.2496 / 0.2280 / 0.2133 |
//! | prefix 5 | 0.2821 / 0.2493 / 0.2384 | 0.2513 / 0.2273 / 0.2112 |
//! | prefix 15 | 0.2806 / 0.2481 / 0.2388 | 0.2481 / 0.2278 / 0.2145 |
//! | prefix 25 | 0.2802 / 0.2472 / 0.2376 | 0.2467 / 0.2262 / 0.2103 |
//! | prefix 15, weight 1 | 0.2794 / 0.2487 / 0.2373 | 0.2463 / 0.2247 / 0.2158 |
//!
//! λ 30–300 and span decays 0.3–0.8 stayed within 1 % of the default. Blending the same rows
//! into every list instead (known users too) scored split B alike but cost split A 4 % on
//! ml-100k and 7 % on ml-latest-small. On the Groceries baskets it was neutral (±0.4 %). The
//! solve takes about a second on ml-latest-small (3,000 items take part); an update keeps the
//! previous model's rows.

use edgerec_core::session::neighbors::{MAX_SESSION_NEIGHBOR_USERS, SessionNeighbors};
use edgerec_core::{NeighborModel, TransitionLists};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::TrainingMatrix;
use super::ease;
use super::matrix::Entry;
use super::popularity;
use super::transitions;

mod pairs;
pub mod recipe;
mod update;

use pairs::{Accumulator, PairWeights};
pub use update::train_update;

/// Hyperparameters (Personalize's names in snake case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimsParams {
    pub popularity_discount_factor: f32,
    pub min_cointeraction_count: u32,
    /// Neighbours kept per item.
    pub max_neighbors: usize,
    /// Most recent distinct items per user considered (bounds the quadratic pair count).
    pub max_user_history: usize,
    /// Co-occurrence window in history positions; 0 = the whole history.
    pub window: usize,
    /// Pair weight `1 / distance^distance_exponent` inside the window.
    pub distance_exponent: f32,
    /// Weight of a pair whose neighbour precedes the item (1 = symmetric).
    pub backward_weight: f32,
    /// With a window: weight added to every pair of a history, inside the window or not.
    pub global_weight: f32,
    /// Farthest apart (in history positions) a pair gets `global_weight`; 0 = the whole
    /// history. Bounds the pair count at `2 · global_reach` per history item.
    pub global_reach: usize,
    /// Serving: the `r`-th most recent history item counts `1 / (1 + history_decay · r)`.
    pub history_decay: f32,
    /// Blend with a factor model: a pair's weight becomes `co / max co + factor_weight · cos`,
    /// with `cos` the cosine of the two items' ALS factors (0 = co-interaction only).
    pub factor_weight: f32,
    /// Size of the blended factor model.
    pub factor_dims: usize,
    /// Blend with a pruned closed-form item-item model (EASE): a pair's weight becomes
    /// `co / max co + ease_weight · b / max b`, with `b` the EASE weight (0 = off).
    pub ease_weight: f32,
    /// EASE's L2 regularisation λ.
    pub ease_lambda: f32,
    /// Items with fewer users than this take no part in EASE (its cost is cubic in the rest).
    pub ease_min_count: u32,
    /// At most this many items (the most popular) take part in EASE: its solve is cubic in
    /// their number and its memory quadratic (5,000 items: a few seconds and about 200 MB).
    pub ease_max_items: usize,
    /// A pair inside the window at history positions `p` and `q` (0 = a user's first item)
    /// weighs `1 / sqrt((1 + p/s)(1 + q/s))` more, with `s` this scale (0 = every position
    /// alike); `global_weight` is not scaled.
    pub early_position_scale: f32,
    /// Serving: a session of `n` items (or one item's related items, `n` = 1) adds
    /// `session_popularity / n · count / max count` to each neighbour, so short sessions lean
    /// towards popular neighbours and long histories are left as they are (0 = off).
    pub session_popularity: f32,
    /// With `session_popularity`: the prior counts each item's users decayed over this many
    /// days as of the session's latest event (`sentAt`; the end of the training data for
    /// related items), from a timeline stored in the model, instead of all-time counts
    /// (0 = all-time).
    pub session_popularity_window_days: f32,
    /// Serving: a session without a known user also scores the items of this many training
    /// users whose stored histories share its items, most similar first (0 = off; see
    /// [`edgerec_core::session::neighbors::SessionNeighbors`]).
    pub session_neighbors: u32,
    /// Blend weight of the session neighbours for one event, relative to the strongest
    /// item-item score; a session of `n` items weighs `1 / √n` of it.
    pub session_neighbors_weight: f32,
    /// A neighbour counts `exp(−|Δt| / W)`, `Δt` between the session's latest event and the
    /// neighbour's interactions with the shared items, W in days (0 = no time decay).
    pub session_neighbors_window_days: f32,
    /// A neighbour's item `d` history positions from the nearest shared item counts
    /// `exp(−(d − 1) / this)` (0 = every position alike).
    pub session_neighbors_position_decay: f32,
    /// Serving: a session without a known user also sums, `transition_weight ×` (each row
    /// scaled to its strongest weight), the transition lists of its items: what new users
    /// go on to, learned in closed form from the starts of users' histories (0 = off; see
    /// [`super::transitions`]). Items take part as in EASE (`ease_min_count`,
    /// `ease_max_items`).
    pub transition_weight: f32,
    /// The transition model's L2 regularisation λ.
    pub transition_lambda: f32,
    /// Transition examples end at history positions 1 to this.
    pub transition_prefix: usize,
    /// A transition example's input: the last this many items before its end.
    pub transition_span: usize,
    /// The `k`-th input item from an example's end weighs `transition_span_decay^k`.
    pub transition_span_decay: f32,
    /// A transition example's output: the next this many items.
    pub transition_targets: usize,
}

impl SimsParams {
    /// Whether sessions get transition lists (a positive finite `transition_weight`).
    #[must_use]
    pub fn transitions_on(&self) -> bool {
        self.transition_weight > 0.0 && self.transition_weight.is_finite()
    }
}

impl Default for SimsParams {
    fn default() -> Self {
        SimsParams {
            popularity_discount_factor: 0.6,
            min_cointeraction_count: 3,
            max_neighbors: 100,
            max_user_history: 1000,
            window: 20,
            distance_exponent: 0.5,
            backward_weight: 0.25,
            global_weight: 0.01,
            global_reach: 200,
            history_decay: 1.0,
            factor_weight: 0.0,
            factor_dims: 64,
            ease_weight: 0.25,
            ease_lambda: 500.0,
            ease_min_count: 5,
            ease_max_items: 5000,
            early_position_scale: 40.0,
            session_popularity: 0.8,
            session_popularity_window_days: 60.0,
            session_neighbors: 200,
            session_neighbors_weight: 0.5,
            session_neighbors_window_days: 60.0,
            session_neighbors_position_decay: 10.0,
            transition_weight: 0.5,
            transition_lambda: 100.0,
            transition_prefix: 10,
            transition_span: 5,
            transition_span_decay: 0.5,
            transition_targets: 10,
        }
    }
}

/// Each user's distinct items (first occurrence) in time order, the most recent
/// `max_user_history` of them.
fn sequences(
    m: &TrainingMatrix,
    max_history: usize,
    keep: &(impl Fn(&Entry) -> bool + Sync),
) -> Vec<Vec<u32>> {
    (0..m.n_users())
        .into_par_iter()
        .map(|u| {
            let mut seen = std::collections::HashSet::new();
            let v: Vec<u32> = m
                .row(u)
                .iter()
                .filter(|e| keep(e))
                .filter(|e| seen.insert(e.item))
                .map(|e| e.item)
                .collect();
            let skip = v.len().saturating_sub(max_history);
            v[skip..].to_vec()
        })
        .collect()
}

/// Weighted neighbour rows per catalogue item, strongest first (an EASE model, or in an
/// update the previous model's lists standing in for it).
pub type PriorRows = ease::EaseRows;

/// Trains neighbour lists from the entries `keep` accepts. With `ease_weight > 0` the rows
/// of a closed-form model trained here are blended in ([`train_update`] reuses a previous
/// model's instead).
#[must_use]
pub fn train(
    m: &TrainingMatrix,
    p: &SimsParams,
    keep: impl Fn(&Entry) -> bool + Sync,
    factors: Option<&[f32]>,
) -> NeighborModel {
    let n = m.n_items();
    let seqs = sequences(m, p.max_user_history.max(1), &keep);
    let occurrences = pairs::occurrences(&seqs, n);
    let discount = discounts(occurrences.iter().map(Vec::len), p);
    let weights = PairWeights::new(p, seqs.iter().map(Vec::len).max().unwrap_or(0));
    let unit = factors
        .filter(|_| p.factor_weight > 0.0)
        .map(|f| normalized_rows(f, n));
    let ease_rows = (p.ease_weight > 0.0)
        .then(|| {
            ease::train(
                &seqs,
                n,
                &ease::EaseParams {
                    lambda: p.ease_lambda,
                    min_count: p.ease_min_count,
                    max_items: p.ease_max_items,
                    top: p.max_neighbors,
                },
            )
        })
        .flatten();
    let lists: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || Accumulator::new(n),
            |acc, i| {
                for &(u, pos) in &occurrences[i] {
                    weights.each(&seqs[u as usize], pos as usize, 0, |j, w| acc.add(j, w, 1));
                }
                let sums = acc.drain(p.min_cointeraction_count);
                let mut out = co_list(sums, p, &discount, i, unit.as_deref());
                let ease_row = ease_rows.as_ref().and_then(|r| r.get(i));
                finish(&mut out, ease_row.map(Vec::as_slice), p);
                out
            },
        )
        .collect();
    let mut model = neighbor_model(lists, p);
    model.timeline = prior_timeline(m, &keep, p);
    model.transitions = transition_lists(&seqs, n, p);
    model
}

/// The transition lists of the entries `keep` accepts, when they are on (an update of a
/// model that had none trains them here).
#[must_use]
pub fn transition_lists_of(
    m: &TrainingMatrix,
    p: &SimsParams,
    keep: impl Fn(&Entry) -> bool + Sync,
) -> Option<Box<TransitionLists>> {
    if !p.transitions_on() {
        return None;
    }
    let seqs = sequences(m, p.max_user_history.max(1), &keep);
    transition_lists(&seqs, m.n_items(), p)
}

/// The transition lists of sessions, when they are on: each row scaled so its strongest
/// weight is `transition_weight`.
fn transition_lists(seqs: &[Vec<u32>], n: usize, p: &SimsParams) -> Option<Box<TransitionLists>> {
    if !p.transitions_on() {
        return None;
    }
    let rows = transitions::train(
        seqs,
        n,
        &transitions::TransitionParams {
            lambda: p.transition_lambda,
            min_count: p.ease_min_count,
            max_items: p.ease_max_items,
            top: p.max_neighbors,
            prefix: p.transition_prefix,
            span: p.transition_span,
            span_decay: p.transition_span_decay,
            targets: p.transition_targets,
        },
    )?;
    Some(Box::new(TransitionLists::from_rows(rows.into_iter().map(
        |row| {
            let top = row.first().map_or(1.0, |r| r.1);
            row.into_iter()
                .map(move |(j, w)| (j, p.transition_weight * w / top))
        },
    ))))
}

/// The timeline of the short-session prior, when it is on and counts recent popularity.
fn prior_timeline(
    m: &TrainingMatrix,
    keep: &(impl Fn(&Entry) -> bool + Sync),
    p: &SimsParams,
) -> Option<Box<edgerec_core::PopularityTimeline>> {
    if p.session_popularity <= 0.0 {
        return None;
    }
    popularity::timeline(m, keep, f64::from(p.session_popularity_window_days)).map(Box::new)
}

/// Each item's popularity discount: its number of users to the power
/// `popularity_discount_factor / 2` (a pair's sum is divided by both items' discounts).
fn discounts(users: impl Iterator<Item = usize>, p: &SimsParams) -> Vec<f32> {
    let d = p.popularity_discount_factor.clamp(0.0, 1.0) / 2.0;
    #[allow(clippy::cast_precision_loss)]
    users.map(|c| (c as f32).powf(d)).collect()
}

/// Item `i`'s co-interaction list from its pair `sums`: each divided by the popularity
/// discounts of both items, then blended with the factor cosines when `unit` is given;
/// unsorted.
fn co_list(
    mut sums: Vec<(u32, f32)>,
    p: &SimsParams,
    discount: &[f32],
    i: usize,
    unit: Option<&[f32]>,
) -> Vec<(u32, f32)> {
    for (j, s) in &mut sums {
        *s /= discount[i] * discount.get(*j as usize).copied().unwrap_or(1.0);
    }
    if let Some(y) = unit {
        blend(
            &mut sums,
            y,
            y.len() / discount.len().max(1),
            i,
            p.factor_weight,
        );
    }
    sums
}

/// Blends in the item's closed-form row, then keeps the strongest `max_neighbors`.
fn finish(out: &mut Vec<(u32, f32)>, ease_row: Option<&[(u32, f32)]>, p: &SimsParams) {
    if let Some(row) = ease_row.filter(|_| p.ease_weight > 0.0) {
        blend_ease(out, row, p.ease_weight);
    }
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if out.len() > p.max_neighbors && p.max_neighbors > 0 {
        out.select_nth_unstable_by(p.max_neighbors - 1, order);
    }
    out.truncate(p.max_neighbors);
    out.sort_by(order);
}

/// Packs one list per catalogue item into the core's neighbour model.
fn neighbor_model(lists: Vec<Vec<(u32, f32)>>, p: &SimsParams) -> NeighborModel {
    let mut model = NeighborModel {
        offsets: Vec::with_capacity(lists.len() + 1),
        neighbors: Vec::new(),
        weights: Vec::new(),
        history_decay: p.history_decay,
        session_popularity: p.session_popularity.max(0.0),
        timeline: None,
        session_neighbors: session_neighbors(p),
        session_pairs: None,
        content: None,
        transitions: None,
    };
    model.offsets.push(0);
    for l in lists {
        for (j, s) in l {
            model.neighbors.push(j);
            model.weights.push(s);
        }
        model
            .offsets
            .push(u32::try_from(model.neighbors.len()).unwrap_or(u32::MAX));
    }
    model
}

/// The session-neighbour settings, when they are on.
fn session_neighbors(p: &SimsParams) -> Option<Box<SessionNeighbors>> {
    let sn = SessionNeighbors::new(
        p.session_neighbors_weight,
        p.session_neighbors.min(MAX_SESSION_NEIGHBOR_USERS),
        p.session_neighbors_window_days.max(0.0),
        p.session_neighbors_position_decay.max(0.0),
    );
    (p.session_neighbors > 0 && p.session_neighbors_weight > 0.0 && sn.is_valid())
        .then(|| Box::new(sn))
}

/// Row-normalised copy of an `n × k` row-major matrix (zero rows stay zero).
fn normalized_rows(f: &[f32], n: usize) -> Vec<f32> {
    let k = f.len() / n.max(1);
    let mut out = f.to_vec();
    if k == 0 {
        return out;
    }
    for row in out.chunks_mut(k) {
        let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|x| *x /= norm);
        }
    }
    out
}

/// `co / max co + weight · cos(i, j)` for every candidate `j` of item `i`; `unit` holds the
/// row-normalised factors, `k` per item.
fn blend(list: &mut [(u32, f32)], unit: &[f32], k: usize, i: usize, weight: f32) {
    let max = list.iter().map(|&(_, s)| s).fold(0.0f32, f32::max);
    if max <= 0.0 || k == 0 {
        return;
    }
    let row = |r: usize| unit.get(r * k..(r + 1) * k).unwrap_or(&[]);
    let yi = row(i);
    for (j, s) in list.iter_mut() {
        let cos: f32 = yi.iter().zip(row(*j as usize)).map(|(a, b)| a * b).sum();
        *s = *s / max + weight * cos;
    }
}

/// `co / max co + weight · b / max b` over the union of the co-interaction list and the
/// item's EASE row (`row` sorted by weight, strongest first).
fn blend_ease(list: &mut Vec<(u32, f32)>, row: &[(u32, f32)], weight: f32) {
    let max = list.iter().map(|&(_, s)| s).fold(0.0f32, f32::max);
    if max > 0.0 {
        list.iter_mut().for_each(|(_, s)| *s /= max);
    }
    let Some(&(_, top)) = row.first().filter(|r| r.1 > 0.0) else {
        return;
    };
    list.extend(row.iter().map(|&(j, b)| (j, weight * b / top)));
    list.sort_unstable_by_key(|&(j, _)| j);
    list.dedup_by(|later, kept| {
        if later.0 == kept.0 {
            kept.1 += later.1;
            true
        } else {
            false
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;
    use crate::recipes::CatalogScope;

    /// Users who all view i0 i1 i2 i3 i4 i5 in this order.
    fn sequential(users: u32) -> Dataset {
        let mut d = Dataset {
            item_ids: (0..6).map(|i| format!("i{i}")).collect(),
            ..Dataset::default()
        };
        for u in 0..users {
            d.user_ids.push(format!("u{u}"));
            for i in 0..6u32 {
                d.interactions.user.push(u);
                d.interactions.item.push(i);
                d.interactions.timestamp.push(i64::from(i));
                d.interactions.event_type.push(0);
                d.interactions.event_value.push(1.0);
            }
        }
        d
    }

    /// One user per history, each history in time order.
    fn histories(hs: &[Vec<String>]) -> Dataset {
        let mut d = Dataset::default();
        for (u, h) in hs.iter().enumerate() {
            d.user_ids.push(format!("u{u}"));
            for (t, id) in h.iter().enumerate() {
                let item = match d.item_ids.iter().position(|x| x == id) {
                    Some(at) => at,
                    None => {
                        d.item_ids.push(id.clone());
                        d.item_ids.len() - 1
                    }
                };
                d.interactions
                    .user
                    .push(u32::try_from(u).unwrap_or(u32::MAX));
                d.interactions
                    .item
                    .push(u32::try_from(item).unwrap_or(u32::MAX));
                d.interactions
                    .timestamp
                    .push(i64::try_from(t).unwrap_or(i64::MAX));
                d.interactions.event_type.push(0);
                d.interactions.event_value.push(1.0);
            }
        }
        d
    }

    fn neighbours(m: &TrainingMatrix, nm: &NeighborModel, ds: &Dataset, item: &str) -> Vec<String> {
        let pos = m
            .items
            .iter()
            .position(|&d| ds.item_ids[d as usize] == item)
            .unwrap_or(usize::MAX);
        nm.of(pos)
            .0
            .iter()
            .map(|&j| ds.item_ids[m.items[j as usize] as usize].clone())
            .collect()
    }

    #[test]
    fn window_limits_pairs_and_distance_orders_them() {
        let ds = sequential(4);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            window: 2,
            distance_exponent: 1.0,
            backward_weight: 1.0,
            min_cointeraction_count: 1,
            global_weight: 0.0,
            ..SimsParams::default()
        };
        let nm = train(&m, &p, |_| true, None);
        assert!(nm.is_consistent(6));
        // i2's neighbours within two positions, the adjacent ones first.
        let n2 = neighbours(&m, &nm, &ds, "i2");
        assert_eq!(n2.len(), 4, "{n2:?}");
        assert!(n2[..2].contains(&"i1".to_owned()) && n2[..2].contains(&"i3".to_owned()));
        assert!(!n2.contains(&"i5".to_owned()));
        // The whole history: every other item is a neighbour.
        let all = train(
            &m,
            &SimsParams {
                window: 0,
                min_cointeraction_count: 1,
                ..p
            },
            |_| true,
            None,
        );
        assert_eq!(neighbours(&m, &all, &ds, "i2").len(), 5);
    }

    #[test]
    fn early_position_scale_favours_pairs_from_the_start_of_histories() {
        // Two users follow `t` with `e` as their first two items, two others follow it with
        // `l` after forty items of their own.
        let mut hs: Vec<Vec<String>> = Vec::new();
        for u in 0..4 {
            let mut h: Vec<String> = Vec::new();
            if u >= 2 {
                h.extend((0..40).map(|k| format!("f{u}-{k}")));
            }
            h.push("t".into());
            h.push(if u < 2 { "e" } else { "l" }.into());
            hs.push(h);
        }
        let ds = histories(&hs);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            window: 1,
            backward_weight: 0.0,
            global_weight: 0.0,
            min_cointeraction_count: 1,
            ease_weight: 0.0,
            early_position_scale: 0.0,
            ..SimsParams::default()
        };
        let weights = |nm: &NeighborModel| -> Vec<(String, f32)> {
            let t = m
                .items
                .iter()
                .position(|&d| ds.item_ids[d as usize] == "t")
                .unwrap_or(usize::MAX);
            let (js, ws) = nm.of(t);
            js.iter()
                .zip(ws)
                .map(|(&j, &w)| (ds.item_ids[m.items[j as usize] as usize].clone(), w))
                .collect()
        };
        let flat = weights(&train(&m, &p, |_| true, None));
        assert_eq!(flat.len(), 2, "{flat:?}");
        assert!((flat[0].1 - flat[1].1).abs() < 1e-6, "{flat:?}");
        let early = weights(&train(
            &m,
            &SimsParams {
                early_position_scale: 10.0,
                ..p
            },
            |_| true,
            None,
        ));
        assert_eq!(early[0].0, "e", "{early:?}");
        assert_eq!(early[1].0, "l", "{early:?}");
        assert!(early[0].1 > 3.0 * early[1].1, "{early:?}");
    }

    #[test]
    fn backward_weight_zero_keeps_only_items_that_came_after() {
        let ds = sequential(3);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            window: 5,
            backward_weight: 0.0,
            min_cointeraction_count: 1,
            global_weight: 0.0,
            ..SimsParams::default()
        };
        let nm = train(&m, &p, |_| true, None);
        assert_eq!(neighbours(&m, &nm, &ds, "i3"), ["i4", "i5"]);
        assert!(neighbours(&m, &nm, &ds, "i5").is_empty());
        assert_eq!(nm.history_decay, p.history_decay);
    }

    #[test]
    fn session_popularity_is_stored_for_serving_and_leaves_the_lists_alone() {
        let ds = sequential(3);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            min_cointeraction_count: 1,
            ..SimsParams::default()
        };
        let nm = train(&m, &p, |_| true, None);
        assert_eq!(nm.session_popularity, 0.8, "on by default");
        let t = nm
            .timeline
            .as_deref()
            .expect("recent popularity by default");
        assert_eq!(t.window_seconds, 60.0 * 86_400.0);
        assert_eq!(t.bin_seconds, 15.0 * 86_400.0);
        // Three users, each with items 0–5 at seconds 0–5: all in bin 0.
        assert_eq!(t.offsets, [0, 1, 2, 3, 4, 5, 6]);
        assert_eq!(t.bins, [0; 6]);
        assert_eq!(t.counts, [3; 6]);
        let all_time = SimsParams {
            session_popularity_window_days: 0.0,
            ..p.clone()
        };
        let all_time = train(&m, &all_time, |_| true, None);
        assert!(all_time.timeline.is_none(), "a window of 0 counts all time");
        assert_eq!(all_time.weights, nm.weights, "a serving setting only");
        let off = SimsParams {
            session_popularity: 0.0,
            ..p.clone()
        };
        let off = train(&m, &off, |_| true, None);
        assert_eq!(off.session_popularity, 0.0);
        assert!(off.timeline.is_none(), "no timeline without the prior");
        assert_eq!(off.weights, nm.weights, "a serving setting only");
        let negative = SimsParams {
            session_popularity: -1.0,
            ..p
        };
        let negative = train(&m, &negative, |_| true, None);
        assert_eq!(negative.session_popularity, 0.0);
        assert!(negative.timeline.is_none());
    }

    #[test]
    fn session_neighbors_are_a_serving_setting_on_by_default() {
        let ds = sequential(3);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            min_cointeraction_count: 1,
            ..SimsParams::default()
        };
        let nm = train(&m, &p, |_| true, None);
        assert_eq!(
            nm.session_neighbors.as_deref(),
            Some(&SessionNeighbors::new(0.5, 200, 60.0, 10.0))
        );
        for off in [
            SimsParams {
                session_neighbors: 0,
                ..p.clone()
            },
            SimsParams {
                session_neighbors_weight: 0.0,
                ..p.clone()
            },
            SimsParams {
                session_neighbors_weight: f32::NAN,
                ..p.clone()
            },
        ] {
            let off = train(&m, &off, |_| true, None);
            assert!(off.session_neighbors.is_none());
            assert_eq!(off.weights, nm.weights, "a serving setting only");
        }
        // Out-of-range settings are clamped to what the core serves.
        let wide = SimsParams {
            session_neighbors: 1_000_000,
            session_neighbors_window_days: -5.0,
            ..p
        };
        let wide = train(&m, &wide, |_| true, None);
        let sn = wide.session_neighbors.expect("on");
        assert_eq!(sn.users, MAX_SESSION_NEIGHBOR_USERS);
        assert_eq!(sn.window_days, 0.0);
    }

    #[test]
    fn transition_lists_serve_sessions_scaled_to_their_weight_and_leave_the_lists_alone() {
        let ds = sequential(6);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            min_cointeraction_count: 1,
            ease_min_count: 1,
            // What comes next after each item.
            transition_span: 1,
            transition_targets: 1,
            ..SimsParams::default()
        };
        let nm = train(&m, &p, |_| true, None);
        let t = nm.transitions.as_deref().expect("on by default");
        assert!(t.is_consistent(6));
        for i in 0..5 {
            let (js, ws) = t.of(i);
            assert_eq!(js.first(), Some(&(i as u32 + 1)), "item {i}: {js:?}");
            assert_eq!(
                ws.first(),
                Some(&0.5),
                "the strongest weight is transition_weight"
            );
            assert!(ws.windows(2).all(|w| w[0] >= w[1]), "{ws:?}");
        }
        assert!(t.of(5).0.is_empty(), "nothing follows the last item");
        for off in [0.0, -1.0, f32::NAN] {
            let off = SimsParams {
                transition_weight: off,
                ..p.clone()
            };
            let off = train(&m, &off, |_| true, None);
            assert!(off.transitions.is_none());
            assert_eq!(off.weights, nm.weights, "a serving setting only");
        }
    }

    #[test]
    fn factor_blend_reorders_by_cosine() {
        let ds = sequential(3);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            window: 0,
            min_cointeraction_count: 1,
            factor_weight: 10.0,
            ..SimsParams::default()
        };
        // Equal co-counts everywhere; the factors make i0 closest to i5, then i4.
        let mut f = [0.0f32; 6 * 2];
        for (i, row) in f.chunks_mut(2).enumerate() {
            #[allow(clippy::cast_precision_loss)]
            let a = if i == 0 { 0.0 } else { (6 - i) as f32 * 0.3 };
            row[0] = a.cos();
            row[1] = a.sin();
        }
        // Catalogue rows follow m.items; build the factor rows in that order.
        let by_row: Vec<f32> = m
            .items
            .iter()
            .flat_map(|&d| {
                let k = d as usize;
                [f[2 * k], f[2 * k + 1]]
            })
            .collect();
        let nm = train(&m, &p, |_| true, Some(&by_row));
        assert_eq!(neighbours(&m, &nm, &ds, "i0")[..2], ["i5", "i4"]);
        let plain = train(
            &m,
            &SimsParams {
                factor_weight: 0.0,
                ..p
            },
            |_| true,
            Some(&by_row),
        );
        assert_eq!(neighbours(&m, &plain, &ds, "i0")[..2], ["i1", "i2"]);
    }

    #[test]
    fn ease_blend_adds_neighbours_beyond_the_window_and_an_update_reuses_prior_rows() {
        let ds = sequential(6);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            window: 1,
            min_cointeraction_count: 1,
            ease_weight: 0.0,
            ease_min_count: 1,
            ease_lambda: 1.0,
            global_weight: 0.0,
            ..SimsParams::default()
        };
        let plain = train(&m, &p, |_| true, None);
        assert_eq!(neighbours(&m, &plain, &ds, "i0"), ["i1"]);
        let blended = train(
            &m,
            &SimsParams {
                ease_weight: 0.25,
                ..p.clone()
            },
            |_| true,
            None,
        );
        let n0 = neighbours(&m, &blended, &ds, "i0");
        assert_eq!(n0.first().map(String::as_str), Some("i1"), "{n0:?}");
        assert!(n0.len() > 1, "EASE adds items outside the window: {n0:?}");
        // An update takes the EASE part from the previous lists: i0's was i1 (its
        // co-interaction part, taken away) and i5.
        let pos = |id: &str| {
            m.items
                .iter()
                .position(|&d| ds.item_ids[d as usize] == id)
                .and_then(|c| u32::try_from(c).ok())
                .unwrap_or(u32::MAX)
        };
        let mut prior: PriorRows = vec![Vec::new(); 6];
        prior[pos("i0") as usize] = vec![(pos("i1"), 1.0), (pos("i5"), 2.0)];
        let updated = train_update(
            &m,
            &SimsParams {
                ease_weight: 0.25,
                ..p
            },
            |_| true,
            |_| true,
            None,
            &prior,
        );
        assert_eq!(neighbours(&m, &updated, &ds, "i0"), ["i1", "i5"]);
    }
}
