//! The in-memory model: what one `.erm` file holds.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, UserTable};
use crate::content::ContentModel;
use crate::embedding::Embedding;
pub use crate::histories::{Histories, csr_row};
use crate::session::neighbors::SessionNeighbors;
use crate::session::pairs::SessionPairs;
pub use crate::timeline::PopularityTimeline;

/// Who may receive a model file.
///
/// * `Private`: everything the trainer knows, known users' ids, metadata, histories and
///   factors included. For the trainer, the sync server and private storage only.
/// * `Public`: what a browser or any unauthenticated route may get: the catalogue and the
///   item-side data, and no per-person record of anyone (no users, no histories, no user
///   factors). A decoder refuses a file marked public that holds any.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    #[default]
    Private,
    Public,
}

impl Profile {
    /// `private` or `public`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Profile::Private => "private",
            Profile::Public => "public",
        }
    }

    /// Parses `private` or `public` (case-insensitive).
    #[must_use]
    pub fn parse(s: &str) -> Option<Profile> {
        match s.trim().to_ascii_lowercase().as_str() {
            "private" => Some(Profile::Private),
            "public" => Some(Profile::Public),
            _ => None,
        }
    }
}

/// Descriptive facts about a model file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMeta {
    /// Monotonic model version assigned by the publisher (0 when unpublished).
    pub version: u64,
    /// Seconds since the Unix epoch when training finished.
    pub created_at: i64,
    /// Latest interaction timestamp seen in training (epoch seconds); "now" for item age.
    pub data_time: i64,
    /// Free-form dataset name, e.g. `ml-100k`.
    pub dataset: String,
    /// Producer string, e.g. `edgerec-trainer 0.1.0`.
    pub producer: String,
    /// Named filters (Personalize's filter resources): requests may pass a name instead of
    /// an expression, as `filter` or as the last path segment of `filterArn`.
    pub filters: Vec<NamedFilter>,
    /// Who may receive the file (format 1.2; stated in the header, older files are private).
    pub profile: Profile,
    /// Every aggregate the model stores (popularity counts and timeline bins, list entries,
    /// context values) is backed by at least this many distinct users (format 1.2; 0: not
    /// stated, as in files trained before the floor existed).
    pub min_users: u32,
}

/// A filter defined in the model config.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NamedFilter {
    pub name: String,
    pub expression: String,
}

/// The recipe a recommender was trained with (Personalize's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recipe {
    PopularityCount,
    Sims,
    UserPersonalization,
    PersonalizedRanking,
    /// Items whose interaction count rises most from one time window to the next (format 1.1).
    TrendingNow,
    /// Related items from co-interactions blended with item metadata and text, so cold items
    /// and items added with `putItems` get neighbours (format 1.1, `CAP_CONTENT`).
    SimilarItems,
    /// A blend of other recommenders of the model with weights learned on validation data
    /// (format 1.1, `CAP_BLEND`; the config's `auto`).
    Auto,
}

impl Recipe {
    /// The recipe's CLI / config name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Recipe::PopularityCount => "popularity-count",
            Recipe::Sims => "sims",
            Recipe::UserPersonalization => "user-personalization",
            Recipe::PersonalizedRanking => "personalized-ranking",
            Recipe::TrendingNow => "trending-now",
            Recipe::SimilarItems => "similar-items",
            Recipe::Auto => "auto",
        }
    }

    /// Parses a recipe name (`aws-` prefix accepted).
    #[must_use]
    pub fn parse(s: &str) -> Option<Recipe> {
        match s.trim().trim_start_matches("aws-") {
            "popularity-count" => Some(Recipe::PopularityCount),
            "sims" => Some(Recipe::Sims),
            "user-personalization" => Some(Recipe::UserPersonalization),
            "personalized-ranking" => Some(Recipe::PersonalizedRanking),
            "trending-now" => Some(Recipe::TrendingNow),
            "similar-items" => Some(Recipe::SimilarItems),
            "auto" => Some(Recipe::Auto),
            _ => None,
        }
    }
}

/// Item ranking by unique-user count (optionally for one event type).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PopularityModel {
    /// Unique users per item (index = item).
    pub counts: Vec<u32>,
    /// Items with a non-zero count, most popular first; ties → lower item index.
    pub ranked: Vec<u32>,
}

/// The history decay of models written before it was stored (format 1.0).
pub const LEGACY_HISTORY_DECAY: f32 = 0.1;

/// Row `i` of weighted lists in CSR layout (empty past the last row).
fn list_row<'a>(
    offsets: &[u32],
    neighbors: &'a [u32],
    weights: &'a [f32],
    i: usize,
) -> (&'a [u32], &'a [f32]) {
    let r = csr_row(offsets, i, neighbors.len().min(weights.len()));
    (&neighbors[r.clone()], &weights[r])
}

/// True when weighted CSR lists have one row per item (`items + 1` ascending offsets from 0
/// to the number of entries), name items below `items` and have finite weights.
fn lists_consistent(offsets: &[u32], neighbors: &[u32], weights: &[f32], items: usize) -> bool {
    let n = neighbors.len();
    offsets.len() == items + 1
        && offsets.first() == Some(&0)
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && offsets.last().is_some_and(|&o| o as usize == n)
        && weights.len() == n
        && neighbors.iter().all(|&j| (j as usize) < items)
        && weights.iter().all(|w| w.is_finite())
}

/// Item-item neighbour lists (CSR), each list sorted by weight descending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NeighborModel {
    pub offsets: Vec<u32>,
    pub neighbors: Vec<u32>,
    pub weights: Vec<f32>,
    /// Scoring for a user or session sums the neighbour lists of their recent items; the
    /// `r`-th most recent (from 0) counts `1 / (1 + history_decay · r)`. 0 = all equal.
    pub history_decay: f32,
    /// Popularity prior of short sessions (`CAP_SESSION_POPULARITY`; 0 = off): scoring `n`
    /// recent items (or one item's related items, `n` = 1) adds
    /// `session_popularity / n · count(j) / max count` to each neighbour `j`, with the counts
    /// of the model's popularity. It fades as the session grows, so known users' long histories
    /// are left as they are.
    pub session_popularity: f32,
    /// When the prior's counts are recent popularity (`CAP_POPULARITY_TIMELINE`): each
    /// item's users over time, decayed to the session's time. `None`: all-time counts.
    pub timeline: Option<Box<PopularityTimeline>>,
    /// Scoring of a session without a known user also blends in the items of the training
    /// users whose histories share the session's (`CAP_SESSION_NEIGHBORS`; `None` = off).
    pub session_neighbors: Option<Box<SessionNeighbors>>,
    /// With session neighbours: the aggregate that stands in for the stored histories they
    /// read, in a model that holds none (`CAP_SESSION_PAIRS`; `None` = read the histories).
    pub session_pairs: Option<Box<SessionPairs>>,
    /// Content vectors of every item, for items without a neighbour list (`CAP_CONTENT`).
    pub content: Option<Box<ContentModel>>,
    /// Lists that score a session without a known user on top of the neighbour lists: what
    /// new users go on to after each item (`CAP_TRANSITIONS`; `None` = off).
    pub transitions: Option<Box<TransitionLists>>,
}

/// Per item (CSR), the items that follow it early in users' histories with their weights,
/// strongest first. A session's item `i` adds `decay · w` to each `j` of row `i`, with the
/// session's recency decay of [`NeighborModel::history_decay`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TransitionLists {
    pub offsets: Vec<u32>,
    pub neighbors: Vec<u32>,
    pub weights: Vec<f32>,
}

impl TransitionLists {
    /// Lists from one row of `(item, weight)` per catalogue item.
    #[must_use]
    pub fn from_rows<R: IntoIterator<Item = (u32, f32)>>(
        rows: impl IntoIterator<Item = R>,
    ) -> Self {
        let mut t = TransitionLists {
            offsets: vec![0],
            ..TransitionLists::default()
        };
        for row in rows {
            for (j, w) in row {
                t.neighbors.push(j);
                t.weights.push(w);
            }
            t.offsets
                .push(u32::try_from(t.neighbors.len()).unwrap_or(u32::MAX));
        }
        t
    }

    /// The row of item `i` (empty past the last row).
    #[must_use]
    pub fn of(&self, i: usize) -> (&[u32], &[f32]) {
        list_row(&self.offsets, &self.neighbors, &self.weights, i)
    }

    /// True when the rows agree with the offsets and name items below `items`, with finite
    /// weights.
    #[must_use]
    pub fn is_consistent(&self, items: usize) -> bool {
        lists_consistent(&self.offsets, &self.neighbors, &self.weights, items)
    }
}

impl Default for NeighborModel {
    fn default() -> Self {
        NeighborModel {
            offsets: Vec::new(),
            neighbors: Vec::new(),
            weights: Vec::new(),
            history_decay: LEGACY_HISTORY_DECAY,
            session_popularity: 0.0,
            timeline: None,
            session_neighbors: None,
            session_pairs: None,
            content: None,
            transitions: None,
        }
    }
}

impl NeighborModel {
    /// Neighbours of item `i` with their weights.
    #[must_use]
    pub fn of(&self, i: usize) -> (&[u32], &[f32]) {
        list_row(&self.offsets, &self.neighbors, &self.weights, i)
    }

    #[must_use]
    pub fn is_consistent(&self, items: usize) -> bool {
        lists_consistent(&self.offsets, &self.neighbors, &self.weights, items)
            && self.history_decay.is_finite()
            && self.history_decay >= 0.0
            && self.session_popularity.is_finite()
            && self.session_popularity >= 0.0
            && self
                .timeline
                .as_deref()
                .is_none_or(|t| t.is_consistent(self.offsets.len().saturating_sub(1)))
            && self
                .transitions
                .as_deref()
                .is_none_or(|t| t.is_consistent(items))
            && self
                .session_pairs
                .as_deref()
                .is_none_or(|p| self.session_neighbors.is_some() && p.is_consistent(items))
    }
}

/// Implicit-feedback matrix factorisation (ALS family) with closed-form fold-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactorModel {
    /// One row per catalogue item.
    pub item_factors: Embedding,
    /// One row per known user (same index as `Model::users`).
    pub user_factors: Embedding,
    /// `Yᵀ Y` of the f32 item factors, `dim × dim` row-major (for fold-in).
    pub gram: Vec<f32>,
    /// L2 regularisation used in training (fold-in uses the same).
    pub regularization: f32,
    /// Confidence scale: an interaction with weight `w` has confidence `1 + alpha · w`.
    pub alpha: f32,
    /// Per-event-type weight (index = event-type code); missing → 1.
    pub event_weights: Vec<f32>,
    /// Recency half-life for session fold-in, in events (0 = no decay).
    pub recency_half_life: f32,
    /// Places items from their metadata in the factor space (`CAP_CONTENT`).
    pub content: Option<Box<ContentModel>>,
    /// Learned context (format 1.x, `CAP_CONTEXT`): a request's `context` shifts the query.
    pub context: Option<ContextModel>,
}

/// What the interactions' categorical context columns (`DEVICE`, ...) taught: per column and
/// value, a vector `c` in the factor space whose dot product with an item's factors is the
/// item's log-lift under that value; a request with that context multiplies each item's
/// relevance by `exp(c·x)`. Unknown columns and values change nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextModel {
    pub columns: Vec<ContextColumn>,
}

/// One context column: its values and one `dim`-long vector per value (row-major).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContextColumn {
    pub name: String,
    pub values: Vec<String>,
    pub vectors: Vec<f32>,
}

impl ContextModel {
    /// True when every column holds one finite `dim`-vector per value.
    #[must_use]
    pub fn is_consistent(&self, dim: usize) -> bool {
        self.columns.iter().all(|c| {
            c.values.len().checked_mul(dim) == Some(c.vectors.len())
                && c.vectors.iter().all(|x| x.is_finite())
        })
    }

    /// The sum of the vectors of the request's context entries the model knows (column names
    /// compared case-insensitively, values exactly); `None` when it knows none of them.
    #[must_use]
    pub fn shift<'a>(
        &self,
        context: impl IntoIterator<Item = (&'a String, &'a String)>,
        dim: usize,
    ) -> Option<Vec<f32>> {
        let mut out: Option<Vec<f32>> = None;
        for (key, value) in context {
            let Some(col) = self
                .columns
                .iter()
                .find(|c| c.name.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            let Some(v) = col.values.iter().position(|x| x == value) else {
                continue;
            };
            let Some(row) = col.vectors.get(v * dim..(v + 1) * dim) else {
                continue;
            };
            let acc = out.get_or_insert_with(|| vec![0.0; dim]);
            for (a, b) in acc.iter_mut().zip(row) {
                *a += b;
            }
        }
        out
    }
}

impl FactorModel {
    #[must_use]
    pub fn dim(&self) -> usize {
        self.item_factors.dim()
    }

    #[must_use]
    pub fn is_consistent(&self, items: usize, users: usize) -> bool {
        let d = self.dim();
        self.item_factors.is_consistent()
            && self.user_factors.is_consistent()
            && self.item_factors.rows() == items
            && (self.user_factors.rows() == users || self.user_factors.rows() == 0)
            && self.user_factors.dim() == d
            && d.checked_mul(d) == Some(self.gram.len())
            && self.gram.iter().all(|x| x.is_finite())
            && self.regularization.is_finite()
            && self.regularization >= 0.0
            && self.alpha.is_finite()
            && self.recency_half_life.is_finite()
            && self.context.as_ref().is_none_or(|c| c.is_consistent(d))
    }
}

/// What a recommender holds, by recipe family.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RecommenderModel {
    Popularity(PopularityModel),
    Neighbors(NeighborModel),
    Factors(FactorModel),
    Blend(BlendModel),
}

/// A blend of other recommenders of the same model (`CAP_BLEND`): each part answers the
/// request as it would alone, its list of `depth` items is scaled so its first item scores 1
/// and its last 0, and items are ranked by the weighted sum of their scaled scores (see
/// [`crate::engine::blend`]). Known users use the `known` weights; sessions without a known
/// user and related-items requests use the `session` weights of their length.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlendModel {
    /// The parts: indexes in [`Model::recommenders`] (never a blend).
    pub parts: Vec<u32>,
    /// Per part, its weight for known users.
    pub known: Vec<f32>,
    /// Per part (part after part, as many for each), its weights for sessions of 1, 2, …
    /// events; the last one also for longer sessions, the first for related items.
    pub session: Vec<f32>,
    /// Items taken from each part's list.
    pub depth: u32,
}

impl BlendModel {
    /// A blend of `parts` with one list of session weights per part; shorter lists repeat
    /// their last weight (what it means for longer sessions anyway), empty ones weigh 0.
    #[must_use]
    pub fn new(depth: u32, parts: Vec<u32>, known: Vec<f32>, session: &[Vec<f32>]) -> Self {
        let lengths = session.iter().map(Vec::len).max().unwrap_or(0);
        let session = session
            .iter()
            .flat_map(|s| (0..lengths).map(|i| s.get(i).or(s.last()).copied().unwrap_or(0.0)))
            .collect();
        BlendModel {
            parts,
            known,
            session,
            depth,
        }
    }

    /// Session weights stored per part.
    #[must_use]
    pub fn lengths(&self) -> usize {
        self.session
            .len()
            .checked_div(self.parts.len())
            .unwrap_or(0)
    }

    /// Part `p`'s weight for a session of `n` events (`n` = 1 for related items).
    #[must_use]
    pub fn session_weight(&self, p: usize, n: usize) -> f32 {
        match self.lengths() {
            0 => 0.0,
            l => self
                .session
                .get(p * l + n.clamp(1, l) - 1)
                .copied()
                .unwrap_or(0.0),
        }
    }

    /// True when every part names a recommender below `recommenders` that `is_blend` says is
    /// not a blend, each has one known-user weight and as many session weights, every weight
    /// is finite and non-negative, and the depth is positive.
    #[must_use]
    pub fn is_consistent(&self, recommenders: usize, is_blend: impl Fn(usize) -> bool) -> bool {
        self.depth > 0
            && self.known.len() == self.parts.len()
            && self.lengths() * self.parts.len() == self.session.len()
            && self
                .parts
                .iter()
                .all(|&r| (r as usize) < recommenders && !is_blend(r as usize))
            && self
                .known
                .iter()
                .chain(&self.session)
                .all(|w| w.is_finite() && *w >= 0.0)
    }
}

/// Options that change how a recommender answers requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServingOptions {
    /// Exclude items the user (or session) already interacted with.
    pub exclude_interacted: bool,
    /// Event types whose interactions are excluded (empty = all types).
    pub exclude_event_types: Vec<String>,
    /// How many of the most recent session/history items drive item-based scoring.
    pub max_history: u32,
    /// Exploration of new and little-seen items (format 1.x, `CAP_EXPLORATION`); `None` = off.
    pub exploration: Option<Exploration>,
}

/// Personalize's `explorationWeight` / `explorationItemAgeCutOff` for `user-personalization`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Exploration {
    /// 0 = pure relevance, 1 = the most exploration (Personalize's default 0.3).
    pub weight: f32,
    /// Items created within this many days before the model's data time count as new.
    pub item_age_cut_off_days: f32,
}

impl Exploration {
    /// Personalize's defaults: weight 0.3, cut-off 30 days.
    pub const DEFAULT: Exploration = Exploration {
        weight: 0.3,
        item_age_cut_off_days: 30.0,
    };

    /// True when the values are in range (weight 0–1, cut-off finite and non-negative).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        (0.0..=1.0).contains(&self.weight)
            && self.item_age_cut_off_days.is_finite()
            && self.item_age_cut_off_days >= 0.0
    }
}

impl Default for ServingOptions {
    fn default() -> Self {
        ServingOptions {
            exclude_interacted: true,
            exclude_event_types: Vec::new(),
            max_history: 200,
            exploration: None,
        }
    }
}

/// One named recommender in a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommender {
    /// The name requests use (`recommended-for-you`, `also-viewed`).
    pub name: String,
    pub recipe: Recipe,
    /// The event type the recommender was trained on, if restricted.
    pub event_type: Option<String>,
    pub serving: ServingOptions,
    pub model: RecommenderModel,
}

/// Everything one `.erm` file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub meta: ModelMeta,
    pub catalog: Catalog,
    pub users: UserTable,
    pub histories: Histories,
    /// Global popularity (unique users, all event types): the fallback for unknown users/items.
    pub popularity: PopularityModel,
    pub recommenders: Vec<Recommender>,
}

impl Model {
    /// The recommender named `name`.
    #[must_use]
    pub fn recommender(&self, name: &str) -> Option<&Recommender> {
        self.recommenders.iter().find(|r| r.name == name)
    }
}
