//! Assembles one `core::Model`: builds the training matrix, the catalogue, the user table and
//! the histories, has each configured recommender trained by its recipe (see
//! [`crate::recipes::trainable`]), and times it.

use std::collections::HashMap;
use std::time::Instant;

use edgerec_core::model::ServingOptions;
use edgerec_core::{
    Catalog, Column, ColumnValues, Histories, Model, ModelMeta, NamedFilter, Recipe, Recommender,
    RecommenderModel, UserTable,
};

use crate::config::{RecommenderSpec, TrainConfig};
use crate::dataset::Dataset;
use crate::privacy::{self, Support};
use crate::recipes::TrainingMatrix;
use crate::recipes::error::RecipeError;
use crate::recipes::popularity;
use crate::recipes::registry::trainer;
use crate::recipes::trainable::Inputs;
use crate::train::error::TrainError;
use crate::train::mode::{Progress, TrainingMode};
use crate::train::report::{RecommenderReport, TrainReport};

/// Trains `cfg` (expanded) as it stands: factor recommenders the config leaves open take
/// their defaults, and blends without weights weigh their parts equally.
pub(crate) fn train_fixed(
    ds: &Dataset,
    cfg: &TrainConfig,
    mode: TrainingMode<'_>,
    progress: Progress<'_>,
    phases: &dyn crate::progress::Progress,
) -> Result<(Model, TrainReport), TrainError> {
    if ds.interactions.is_empty() {
        return Err(TrainError::Empty);
    }
    let m = TrainingMatrix::build(ds, cfg.model.catalog);
    let catalog = catalog(ds, &m, cfg);
    let mut models = Models::new(cfg, &m);
    let mut recommenders = Vec::with_capacity(cfg.recommenders.len());
    let mut timings = Vec::with_capacity(cfg.recommenders.len());
    phases.start(
        "training",
        Some(cfg.recommenders.len() as u64),
        crate::progress::Unit::Count("recommenders"),
    );
    for spec in &cfg.recommenders {
        let t = Instant::now();
        phases.note(&format!("{} ({})", spec.name, spec.recipe.name()));
        let input = Inputs {
            ds,
            cfg,
            spec,
            m: &m,
            catalog: &catalog,
            event_type: event_type(ds, spec)?,
            progress,
        };
        recommenders.push(recommender(spec, models.train(&input, mode)?));
        timings.push(RecommenderReport {
            name: spec.name.clone(),
            recipe: spec.recipe.name().to_owned(),
            seconds: t.elapsed().as_secs_f64(),
        });
        phases.advance(1);
    }
    let report = TrainReport {
        items: m.n_items(),
        users: m.n_users(),
        interactions: m.entries.len(),
        recommenders: timings,
        auto: None,
    };
    let model = assemble(ds, cfg, &m, catalog, recommenders)?;
    Ok((model, report))
}

/// Assembles a model from recommender models computed elsewhere (see [`crate::artefacts`]),
/// over the catalogue of `m` (`catalog`, made by [`catalog`]): the same users, histories,
/// global popularity, filters and k-anonymity floor as a training. The floor counts the users
/// behind each stored pair in `m`'s histories, so with a floor above 1 they must be the
/// interactions the models were computed from.
pub(crate) fn assemble_given(
    ds: &Dataset,
    cfg: &TrainConfig,
    m: &TrainingMatrix,
    catalog: Catalog,
    given: Vec<(&RecommenderSpec, RecommenderModel)>,
) -> Result<Model, TrainError> {
    let floor = cfg.model.public_min_users;
    let all = if floor > 1 {
        histories(m, 0)
    } else {
        Histories::default()
    };
    let mut supports: HashMap<Option<u16>, Support> = HashMap::new();
    let mut recommenders = Vec::with_capacity(given.len());
    for (spec, mut model) in given {
        if floor > 1 {
            let code = event_type(ds, spec)?;
            let support = supports.entry(code).or_insert_with(|| {
                Support::new(&all, m.n_items(), |t| code.is_none_or(|c| c == t))
            });
            privacy::floor::apply(&mut model, support, floor);
        }
        recommenders.push(recommender(spec, model));
    }
    assemble(ds, cfg, m, catalog, recommenders)
}

/// The recommenders' models: specs of one recipe family with the same event type, params and
/// weights train once; each model is cut to the privacy floor.
struct Models<'a> {
    m: &'a TrainingMatrix,
    floor: u32,
    /// Every user's whole history, for counting the users behind each stored pair.
    all: Histories,
    supports: HashMap<Option<u16>, Support>,
    trained: HashMap<String, RecommenderModel>,
}

impl<'a> Models<'a> {
    fn new(cfg: &TrainConfig, m: &'a TrainingMatrix) -> Self {
        let floor = cfg.model.public_min_users;
        Self {
            m,
            floor,
            all: if floor > 1 {
                histories(m, 0)
            } else {
                Histories::default()
            },
            supports: HashMap::new(),
            trained: HashMap::new(),
        }
    }

    fn train(
        &mut self,
        input: &Inputs<'_>,
        mode: TrainingMode<'_>,
    ) -> Result<RecommenderModel, TrainError> {
        let spec = input.spec;
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}",
            family(spec.recipe),
            spec.event_type,
            spec.params,
            spec.event_weights
        );
        if let Some(model) = self.trained.get(&key) {
            return Ok(model.clone());
        }
        let mut model = trainer(spec.recipe).fit(input, mode)?;
        if self.floor > 1 {
            let (all, m) = (&self.all, self.m);
            let support = self
                .supports
                .entry(input.event_type)
                .or_insert_with(|| Support::new(all, m.n_items(), |t| input.keeps(t)));
            privacy::floor::apply(&mut model, support, self.floor);
        }
        self.trained.insert(key, model.clone());
        Ok(model)
    }
}

fn family(r: Recipe) -> Recipe {
    match r {
        Recipe::PersonalizedRanking => Recipe::UserPersonalization,
        other => other,
    }
}

/// The code of the event type `spec` trains on, if it names one.
fn event_type(ds: &Dataset, spec: &RecommenderSpec) -> Result<Option<u16>, TrainError> {
    let Some(t) = &spec.event_type else {
        return Ok(None);
    };
    ds.event_types
        .iter()
        .position(|x| x.eq_ignore_ascii_case(t))
        .and_then(|p| u16::try_from(p).ok())
        .map(Some)
        .ok_or_else(|| TrainError::Recipe {
            name: spec.name.clone(),
            error: RecipeError::UnknownEventType {
                event_type: t.clone(),
                found: ds.event_types.join(", "),
            },
        })
}

fn recommender(spec: &RecommenderSpec, model: RecommenderModel) -> Recommender {
    Recommender {
        name: spec.name.clone(),
        recipe: spec.recipe,
        event_type: spec.event_type.clone(),
        serving: ServingOptions {
            exclude_interacted: spec.exclude_interacted,
            exclude_event_types: spec.exclude_event_types.clone(),
            exploration: spec.exploration,
            ..ServingOptions::default()
        },
        model,
    }
}

/// The model: metadata, catalogue, users, histories, global popularity, the recommenders,
/// and the config's filters (each checked against the catalogue).
fn assemble(
    ds: &Dataset,
    cfg: &TrainConfig,
    m: &TrainingMatrix,
    catalog: Catalog,
    recommenders: Vec<Recommender>,
) -> Result<Model, TrainError> {
    let floor = cfg.model.public_min_users;
    let mut model = Model {
        meta: ModelMeta {
            version: 0,
            created_at: created_at(),
            data_time: m.max_time,
            dataset: ds.name.clone(),
            producer: format!("edgerec-trainer {}", env!("CARGO_PKG_VERSION")),
            filters: Vec::new(),
            profile: edgerec_core::Profile::Private,
            // A floor of 1 keeps everything: nothing to state (and the file stays 1.0/1.1).
            min_users: if floor > 1 { floor } else { 0 },
        },
        catalog,
        users: users(ds, m),
        histories: histories(m, cfg.model.history_limit),
        popularity: popularity::train(m, |_| true),
        recommenders,
    };
    privacy::floor::counts(&mut model.popularity, floor);
    for (name, expression) in &cfg.filters {
        edgerec_core::filter::CompiledFilter::compile(expression, &model.catalog, &model.users)
            .map_err(|e| TrainError::Filter {
                name: name.clone(),
                message: e.to_string(),
            })?;
        model.meta.filters.push(NamedFilter {
            name: name.clone(),
            expression: expression.clone(),
        });
    }
    Ok(model)
}
fn created_at() -> i64 {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return t;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

/// Reorders a column's rows: new row `r` = old row `order[r]`.
fn reorder(col: &Column, order: &[u32]) -> Column {
    let values = match &col.values {
        ColumnValues::Categorical {
            dictionary,
            offsets,
            codes,
        } => {
            let mut no = Vec::with_capacity(order.len() + 1);
            let mut nc = Vec::new();
            no.push(0u32);
            for &o in order {
                let o = o as usize;
                if let (Some(&a), Some(&b)) = (offsets.get(o), offsets.get(o + 1)) {
                    nc.extend_from_slice(codes.get(a as usize..b as usize).unwrap_or(&[]));
                }
                no.push(u32::try_from(nc.len()).unwrap_or(u32::MAX));
            }
            ColumnValues::Categorical {
                dictionary: dictionary.clone(),
                offsets: no,
                codes: nc,
            }
        }
        ColumnValues::Numeric(v) => ColumnValues::Numeric(
            order
                .iter()
                .map(|&o| v.get(o as usize).copied().unwrap_or(f64::NAN))
                .collect(),
        ),
        ColumnValues::Textual(v) => ColumnValues::Textual(
            order
                .iter()
                .map(|&o| v.get(o as usize).cloned().unwrap_or_default())
                .collect(),
        ),
    };
    Column {
        name: col.name.clone(),
        kind: col.kind,
        values,
    }
}

/// The model's catalogue: the items of `m` with their metadata columns and creation times.
pub(crate) fn catalog(ds: &Dataset, m: &TrainingMatrix, cfg: &TrainConfig) -> Catalog {
    let mut first_seen = vec![i64::MAX; m.n_items()];
    for e in &m.entries {
        let f = &mut first_seen[e.item as usize];
        *f = (*f).min(e.timestamp);
    }
    Catalog {
        item_ids: m
            .items
            .iter()
            .map(|&i| ds.item_ids[i as usize].as_str())
            .collect(),
        columns: ds
            .item_columns
            .iter()
            .filter(|c| {
                !cfg.model
                    .drop_item_columns
                    .iter()
                    .any(|d| d.eq_ignore_ascii_case(&c.name))
            })
            .map(|c| reorder(c, &m.items))
            .collect(),
        creation_time: m
            .items
            .iter()
            .zip(&first_seen)
            .map(|(&i, &f)| {
                ds.item_creation
                    .get(i as usize)
                    .copied()
                    .flatten()
                    .unwrap_or(if f == i64::MAX { m.max_time } else { f })
            })
            .collect(),
        event_types: ds.event_types.clone(),
        context_columns: ds
            .interactions
            .context
            .iter()
            .map(|c| c.name.clone())
            .collect(),
    }
}

fn users(ds: &Dataset, m: &TrainingMatrix) -> UserTable {
    UserTable {
        user_ids: m
            .users
            .iter()
            .map(|&u| ds.user_ids[u as usize].as_str())
            .collect(),
        columns: ds
            .user_columns
            .iter()
            .map(|c| reorder(c, &m.users))
            .collect(),
    }
}

fn histories(m: &TrainingMatrix, limit: usize) -> Histories {
    let mut h = Histories {
        offsets: vec![0],
        ..Histories::default()
    };
    for u in 0..m.n_users() {
        let row = m.row(u);
        let start = if limit == 0 {
            0
        } else {
            row.len().saturating_sub(limit)
        };
        for e in &row[start..] {
            h.items.push(e.item);
            h.event_types.push(e.event_type);
            h.timestamps.push(e.timestamp);
        }
        h.offsets
            .push(u32::try_from(h.items.len()).unwrap_or(u32::MAX));
    }
    h
}
