//! Runs the protocol end to end: train on each split, encode the model, decode it, and score
//! every request through `core::Engine` — split B through `putEvents` on a fresh session —
//! exactly as the edge does. The requests of one recommender are scored by `scoring`; the
//! optional measurements are in `optional`.

use std::collections::HashMap;
use std::time::Instant;

use edgerec_core::format::SectionKind;
use edgerec_core::{Engine, Profile, Recipe};
use serde::Serialize;

pub use super::error::EvalError;
use super::optional::{compare_update, context_lift, exploration_cost};
use super::protocol::{
    ColdCounts, ColdRole, ColdSplit, IdRule, Protocol, SESSION_LENGTHS, WarmCounts, WarmSplit,
};
pub use super::results::{
    COLD_ITEM_USERS, ContextLift, ExplorationCost, RecipeResult, SegmentReport, UpdateComparison,
    UpdateGap,
};
use super::scoring::{cold, segment_metrics, warm, warm_replayed};
use crate::config::{EmbeddingKind, RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::progress::{Prefixed, Progress, SILENT, Unit};
use crate::recipes::CatalogScope;
use crate::train;

/// How to run the evaluation.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// Keep only interactions with `EVENT_VALUE` ≥ this (the protocol's rating ≥ 4 variant).
    pub min_event_value: Option<f32>,
    /// Score the validation splits (for tuning) instead of the test splits.
    pub validation: bool,
    /// Override the config's embedding storage.
    pub embedding: Option<EmbeddingKind>,
    /// Also measure `--mode update`: a base model trained on this oldest fraction of the
    /// split-A train interactions is updated with all of them, and compared with the full
    /// retrain on split A (NDCG@10 and training time).
    pub update_base_fraction: Option<f64>,
    /// Also hold this share of the items out of training and add them with `putItems`
    /// (see [`super::new_items`]).
    pub new_items_fraction: Option<f64>,
    /// Also score split A with exploration on (the configured `explorationWeight`, or
    /// Personalize's default 0.3 for user-personalization recommenders that set none) and
    /// report its NDCG@10 cost and coverage gain. The main numbers are always scored with
    /// exploration off.
    pub exploration_cost: bool,
    /// Also score split A for user-personalization recommenders with the held-out event's
    /// context in the request, and with a wrong one (another value of each column), next to
    /// no context (the main numbers).
    pub context_from_test: bool,
    /// Also train split A with the other embedding storage and compare int8 with f32 user by
    /// user (see [`super::embedding_gap`]).
    pub embedding_gap: bool,
    /// With `validation`: pool split B over this many cold-user folds (buckets 1, 2, … held
    /// out in turn, each trained on the other buckets of 1–9; 0 or 1 = the protocol's
    /// validation split alone, at most 9). The test users (bucket 0) take no part, and the
    /// tuning signal comes from up to 9× as many cold users.
    pub cold_folds: u8,
    /// How the splits order and hash raw ids (the protocol's numeric rule for MovieLens, the
    /// peer benchmark's code-point ranks for interactions CSVs).
    pub ids: IdRule,
    /// The profile scored: `Public` scores the public projection of each trained model,
    /// exactly as a browser would get it; its split A replays each test user's own training
    /// events into a session (the public model knows no user).
    pub profile: Profile,
}

/// Everything `edgerec evaluate` reports.
#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub dataset: String,
    pub validation: bool,
    /// How the splits ordered and hashed raw ids.
    pub ids: IdRule,
    /// The profile scored (`private` or `public`).
    pub profile: Profile,
    pub split_a: WarmCounts,
    /// Split B's counts; with several cold folds, the cold users are summed over them and
    /// the training counts are the first fold's.
    pub split_b: ColdCounts,
    /// Cold-user folds split B is pooled over (1 = the protocol's split).
    pub cold_folds: usize,
    /// Bytes of the split-A model file (all recommenders).
    pub model_bytes: usize,
    pub results: Vec<RecipeResult>,
    /// The name of the popularity baseline among `results`.
    pub baseline: String,
    /// `--mode update` against full retraining, when asked for.
    pub update: Option<UpdateComparison>,
    /// Items added after training with `putItems`, when asked for.
    pub new_items: Option<super::new_items::NewItemsReport>,
    /// The main numbers are scored with exploration off (`explorationWeight` 0), always.
    pub exploration_off: bool,
    /// Split A with exploration on, when asked for.
    pub exploration: Vec<ExplorationCost>,
    /// Split A with the held-out event's context, when asked for.
    pub context: Vec<ContextLift>,
    /// Split A with int8 against f32 embeddings, paired per user, when asked for.
    pub embedding_gap: Vec<super::embedding_gap::EmbeddingGap>,
    /// What split A's training chose on its own validation split (factor settings, blend
    /// weights), when the config leaves anything to choose.
    pub auto: Option<crate::auto::AutoReport>,
    pub seconds: f64,
}

const BASELINE: &str = "popularity-baseline";

/// The config as evaluated: protocol catalogue, full histories, exclusion of the user's own
/// items for every recommender, a popularity baseline, and no personalized-ranking duplicates.
/// Returns the config and the name of the baseline recommender.
fn eval_config(cfg: &TrainConfig, opts: &EvalOptions) -> (TrainConfig, String) {
    let mut c = cfg.clone();
    // Exploration is random by design; the protocol scores relevance (see `exploration_cost`).
    for r in &mut c.recommenders {
        r.exploration = None;
    }
    c.model.catalog = CatalogScope::Interactions;
    c.model.history_limit = 0;
    if let Some(e) = opts.embedding {
        c.model.embedding = e;
    }
    c.recommenders
        .retain(|r| r.recipe != Recipe::PersonalizedRanking);
    for r in &mut c.recommenders {
        r.exclude_interacted = true;
        r.exclude_event_types.clear();
    }
    if let Some(existing) = c
        .recommenders
        .iter()
        .find(|r| r.recipe == Recipe::PopularityCount && r.event_type.is_none())
    {
        let name = existing.name.clone();
        return (c, name);
    }
    c.recommenders.push(RecommenderSpec {
        name: BASELINE.into(),
        recipe: Recipe::PopularityCount,
        event_type: None,
        exclude_interacted: true,
        exclude_event_types: Vec::new(),
        event_weights: std::collections::BTreeMap::new(),
        params: toml::Table::new(),
        exploration: None,
    });
    (c, BASELINE.to_owned())
}

/// Trains, packs (in `profile`), encodes and decodes: the engine sees exactly the bytes the
/// edge would.
fn engine_for(
    train: &Dataset,
    cfg: &TrainConfig,
    profile: Profile,
    progress: &dyn Progress,
) -> Result<(Engine, ModelBytes, train::TrainReport), EvalError> {
    let (mut model, report) =
        train::train_model_reporting(train, cfg, train::TrainingMode::Full, progress)?;
    if profile == Profile::Public {
        model = crate::privacy::projection::public(&model, cfg.model.public_min_users)?;
    }
    let bytes = edgerec_core::format::encode(&model)?;
    let engine = Engine::from_bytes(&bytes)?;
    Ok((engine, ModelBytes::of(&bytes)?, report))
}

/// A model file's size in all, and each recommender's own section by name.
pub(super) struct ModelBytes {
    pub(super) total: usize,
    pub(super) recommenders: HashMap<String, usize>,
}

impl ModelBytes {
    /// The sizes of the model file `bytes`.
    pub(super) fn of(bytes: &[u8]) -> Result<Self, EvalError> {
        let header = edgerec_core::format::read_header(bytes)?;
        let recommenders = header
            .sections
            .iter()
            .filter(|s| s.kind == SectionKind::Recommender)
            .map(|s| {
                (
                    s.name.clone(),
                    usize::try_from(s.length).unwrap_or(usize::MAX),
                )
            })
            .collect();
        Ok(ModelBytes {
            total: bytes.len(),
            recommenders,
        })
    }
}

/// Runs split A and split B for every recommender of `cfg` plus the popularity baseline.
pub fn evaluate(
    ds: &Dataset,
    cfg: &TrainConfig,
    opts: &EvalOptions,
) -> Result<EvalReport, EvalError> {
    evaluate_with(ds, cfg, opts, SILENT)
}

/// [`evaluate`] reporting to `progress`: the training of each split's model, then the scoring
/// (one unit per request), then each optional measurement.
pub fn evaluate_with(
    ds: &Dataset,
    cfg: &TrainConfig,
    opts: &EvalOptions,
    progress: &dyn Progress,
) -> Result<EvalReport, EvalError> {
    evaluate_observed(ds, cfg, opts, progress, &mut |_| {})
}

/// [`evaluate_with`], calling `scored` with each recommender's result as soon as it is scored
/// (the hyperparameter search follows its trials with it).
pub(crate) fn evaluate_observed(
    ds: &Dataset,
    cfg: &TrainConfig,
    opts: &EvalOptions,
    progress: &dyn Progress,
    scored: &mut dyn FnMut(&RecipeResult),
) -> Result<EvalReport, EvalError> {
    let t0 = Instant::now();
    let protocol = Protocol::with_ids(ds, opts.min_event_value, opts.ids);
    let run = Run::new(ds, cfg, opts, progress);
    let models = run.train_splits(&protocol)?;
    let results = run.score(&models, scored)?;
    let update = run.update(&models, &results)?;
    let new_items = run.new_items()?;
    let exploration = run.exploration(&models, &results)?;
    let context = run.context(&models, &results)?;
    let embedding_gap = run.embedding_gap(&models, &results)?;
    Ok(EvalReport {
        context,
        embedding_gap,
        auto: models.train_a.auto.clone(),
        update,
        new_items,
        exploration_off: true,
        exploration,
        dataset: ds.name.clone(),
        validation: opts.validation,
        ids: opts.ids,
        profile: opts.profile,
        split_a: models.warm_split.counts,
        split_b: models.split_b_counts(),
        cold_folds: models.folds.len(),
        model_bytes: models.model_bytes.total,
        results,
        baseline: run.baseline,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// One evaluation's inputs, shared by its steps.
struct Run<'a> {
    ds: &'a Dataset,
    /// The config as given: its exploration settings are what [`exploration_cost`] measures.
    configured: &'a TrainConfig,
    /// The config as evaluated (see [`eval_config`]).
    cfg: TrainConfig,
    /// The name of the popularity baseline among `cfg`'s recommenders.
    baseline: String,
    opts: &'a EvalOptions,
    progress: &'a dyn Progress,
    /// The event type of split B's sessions: the dataset's first.
    event_type: &'a str,
}

/// The models the protocol scores: split A's, and split B's per cold-user fold (the first is
/// the protocol's split B).
struct SplitModels {
    warm_split: WarmSplit,
    engine_a: Engine,
    model_bytes: ModelBytes,
    train_a: train::TrainReport,
    folds: Vec<(Engine, ColdSplit)>,
}

impl SplitModels {
    /// A recommender's training time on split A. A blend trains nothing of its own: its time
    /// is the validation pass that chose its weights (and any factor settings), on top of its
    /// parts'.
    fn train_seconds(&self, spec: &RecommenderSpec) -> f64 {
        match (&self.train_a.auto, spec.recipe) {
            (Some(a), Recipe::Auto) => a.validation_seconds,
            _ => self
                .train_a
                .recommenders
                .iter()
                .find(|r| r.name == spec.name)
                .map_or(0.0, |r| r.seconds),
        }
    }

    /// Split B's counts: the cold users summed over the folds, the training counts the first
    /// fold's.
    fn split_b_counts(&self) -> ColdCounts {
        let (_, first) = &self.folds[0];
        ColdCounts {
            held_out_users: self
                .folds
                .iter()
                .map(|(_, f)| f.counts.held_out_users)
                .sum(),
            cold_users: self.folds.iter().map(|(_, f)| f.counts.cold_users).sum(),
            ..first.counts
        }
    }
}

impl<'a> Run<'a> {
    fn new(
        ds: &'a Dataset,
        configured: &'a TrainConfig,
        opts: &'a EvalOptions,
        progress: &'a dyn Progress,
    ) -> Self {
        let (cfg, baseline) = eval_config(configured, opts);
        Run {
            ds,
            configured,
            cfg,
            baseline,
            opts,
            progress,
            event_type: ds.event_types.first().map_or("click", String::as_str),
        }
    }

    /// Trains the model of split A (or its validation split) and those of split B.
    fn train_splits(&self, protocol: &Protocol<'_>) -> Result<SplitModels, EvalError> {
        let warm_split = if self.opts.validation {
            protocol.split_a_validation()
        } else {
            protocol.split_a()
        };
        let (engine_a, model_bytes, train_a) = engine_for(
            &warm_split.train,
            &self.cfg,
            self.opts.profile,
            &Prefixed::new(self.progress, "split A"),
        )?;
        let folds = self.train_cold_folds(protocol)?;
        Ok(SplitModels {
            warm_split,
            engine_a,
            model_bytes,
            train_a,
            folds,
        })
    }

    /// Split B's model: the protocol's split, or in validation one per cold-user fold.
    fn train_cold_folds(
        &self,
        protocol: &Protocol<'_>,
    ) -> Result<Vec<(Engine, ColdSplit)>, EvalError> {
        let roles = if self.opts.validation {
            ColdRole::folds(self.opts.cold_folds)
        } else {
            vec![ColdRole::Test]
        };
        let n_folds = roles.len();
        roles
            .into_iter()
            .enumerate()
            .map(|(k, role)| {
                let split = protocol.split_b(role);
                let phase = if n_folds > 1 {
                    format!("split B (fold {}/{n_folds})", k + 1)
                } else {
                    "split B".to_owned()
                };
                let (engine, _, _) = engine_for(
                    &split.train,
                    &self.cfg,
                    self.opts.profile,
                    &Prefixed::new(self.progress, &phase),
                )?;
                Ok((engine, split))
            })
            .collect()
    }

    /// Scores every recommender (one progress unit per request), calling `scored` with each
    /// result.
    fn score(
        &self,
        m: &SplitModels,
        scored: &mut dyn FnMut(&RecipeResult),
    ) -> Result<Vec<RecipeResult>, EvalError> {
        let users_of = item_users(&m.warm_split.train);
        let cold_item = |id: &str| users_of.get(id).is_some_and(|&n| n < COLD_ITEM_USERS);
        let per_recommender = m.warm_split.test.len()
            + m.folds
                .iter()
                .map(|(_, f)| f.users.len() * SESSION_LENGTHS.len())
                .sum::<usize>();
        self.progress.start(
            "scoring",
            Some((per_recommender * self.cfg.recommenders.len()) as u64),
            Unit::Count("requests"),
        );
        let mut results = Vec::new();
        for spec in &self.cfg.recommenders {
            self.progress.note(&spec.name);
            let result = self.score_recommender(m, spec, &cold_item)?;
            scored(&result);
            results.push(result);
        }
        Ok(results)
    }

    /// One recommender on split A (all test users, and those of `cold_item`s), split B, and
    /// its item-affinity segments.
    fn score_recommender(
        &self,
        m: &SplitModels,
        spec: &RecommenderSpec,
        cold_item: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<RecipeResult, EvalError> {
        let catalogue = m.engine_a.model().catalog.len();
        let score_split_a = match self.opts.profile {
            Profile::Private => warm,
            Profile::Public => warm_replayed,
        };
        let (split_a, cold_items) = score_split_a(
            &m.engine_a,
            &m.warm_split,
            &spec.name,
            catalogue,
            cold_item,
            self.progress,
        )?;
        let split_b = cold(&m.folds, &spec.name, self.event_type, self.progress)?;
        let segments = match spec.recipe {
            // Segments rank known users; a public model knows none.
            Recipe::UserPersonalization if self.opts.profile == Profile::Private => {
                Some(segment_metrics(&m.engine_a, &m.warm_split, &spec.name)?)
            }
            _ => None,
        };
        Ok(RecipeResult {
            name: spec.name.clone(),
            recipe: spec.recipe.name().to_owned(),
            split_a,
            split_b,
            train_seconds: m.train_seconds(spec),
            model_bytes: m
                .model_bytes
                .recommenders
                .get(&spec.name)
                .copied()
                .unwrap_or(0),
            segments,
            cold_items,
        })
    }

    /// `--mode update` against full retraining, when asked for.
    fn update(
        &self,
        m: &SplitModels,
        results: &[RecipeResult],
    ) -> Result<Option<UpdateComparison>, EvalError> {
        let Some(fraction) = self.opts.update_base_fraction else {
            return Ok(None);
        };
        compare_update(
            self.progress,
            &m.warm_split,
            &self.cfg,
            fraction,
            results,
            &m.engine_a,
            &m.train_a,
        )
        .map(Some)
    }

    /// Items added after training with `putItems`, when asked for.
    fn new_items(&self) -> Result<Option<super::new_items::NewItemsReport>, EvalError> {
        let Some(fraction) = self.opts.new_items_fraction else {
            return Ok(None);
        };
        self.progress.start(
            "new items: training and scoring",
            None,
            Unit::Count("steps"),
        );
        super::new_items::evaluate(self.ds, &self.cfg, fraction).map(Some)
    }

    /// Split A with exploration on, when asked for.
    fn exploration(
        &self,
        m: &SplitModels,
        results: &[RecipeResult],
    ) -> Result<Vec<ExplorationCost>, EvalError> {
        if !self.opts.exploration_cost {
            return Ok(Vec::new());
        }
        self.progress
            .start("exploration cost: scoring", None, Unit::Count("steps"));
        exploration_cost(self.configured, &m.engine_a, &m.warm_split, results)
    }

    /// Split A and split B with the held-out event's context, when asked for.
    fn context(
        &self,
        m: &SplitModels,
        results: &[RecipeResult],
    ) -> Result<Vec<ContextLift>, EvalError> {
        if !self.opts.context_from_test {
            return Ok(Vec::new());
        }
        self.progress
            .start("context lift: scoring", None, Unit::Count("steps"));
        let (engine_b, cold_split) = &m.folds[0];
        context_lift(
            &self.cfg,
            &m.engine_a,
            &m.warm_split,
            results,
            engine_b,
            cold_split,
            self.event_type,
        )
    }

    /// Split A with int8 against f32 embeddings, paired per user, when asked for: split A's
    /// model is trained again with the other storage.
    fn embedding_gap(
        &self,
        m: &SplitModels,
        results: &[RecipeResult],
    ) -> Result<Vec<super::embedding_gap::EmbeddingGap>, EvalError> {
        if !self.opts.embedding_gap {
            return Ok(Vec::new());
        }
        // The other side stores every embedding the other way (user factors included).
        let mut other = self.cfg.clone();
        other.model.embedding = match self.cfg.model.embedding {
            EmbeddingKind::Int8 => EmbeddingKind::F32,
            EmbeddingKind::F32 => EmbeddingKind::Int8,
        };
        other.model.user_embedding = None;
        let (engine_other, _, _) = engine_for(
            &m.warm_split.train,
            &other,
            self.opts.profile,
            &Prefixed::new(self.progress, "embedding gap"),
        )?;
        self.progress
            .start("embedding gap: scoring", None, Unit::Count("steps"));
        let (int8, f32) = match self.cfg.model.embedding {
            EmbeddingKind::Int8 => (&m.engine_a, &engine_other),
            EmbeddingKind::F32 => (&engine_other, &m.engine_a),
        };
        let names: Vec<&str> = results
            .iter()
            .map(|r| r.name.as_str())
            .filter(|&n| n != self.baseline)
            .collect();
        super::embedding_gap::compare(int8, f32, &m.warm_split, &names)
    }
}

/// Distinct training users per item id of a split's train set.
pub(super) fn item_users(train: &Dataset) -> std::collections::HashMap<&str, usize> {
    let mut pairs: Vec<(u32, u32)> = train
        .interactions
        .item
        .iter()
        .copied()
        .zip(train.interactions.user.iter().copied())
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut out = std::collections::HashMap::new();
    for (i, _) in pairs {
        if let Some(id) = train.item_ids.get(i as usize) {
            *out.entry(id.as_str()).or_insert(0) += 1;
        }
    }
    out
}
