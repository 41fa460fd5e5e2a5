//! `sims` as pack trains it. An update with a closed-form (EASE) part keeps that part, and
//! the transition lists, from the previous model: only a full training pays for the EASE
//! inverse (see [`super::update`]).

use edgerec_core::{Model, NeighborModel, RecommenderModel, TransitionLists};

use super::{PriorRows, SimsParams, train_update, transition_lists_of};
use crate::dataset::Dataset;
use crate::recipes::TrainingMatrix;
use crate::recipes::error::RecipeError;
use crate::recipes::factors::co_interaction_factors;
use crate::recipes::previous::rows_onto;
use crate::recipes::trainable::{Inputs, RecipeTrainer};

/// The `sims` recipe.
#[derive(Debug, Clone, Copy)]
pub struct Sims;

impl RecipeTrainer for Sims {
    type Params = SimsParams;

    fn params(&self, input: &Inputs<'_>) -> Result<SimsParams, RecipeError> {
        input.params()
    }

    fn train(&self, input: &Inputs<'_>, p: &SimsParams) -> Result<RecommenderModel, RecipeError> {
        let factors = factors(input, p);
        Ok(RecommenderModel::Neighbors(super::train(
            input.m,
            p,
            |e| input.keeps(e.event_type),
            factors.as_deref(),
        )))
    }

    /// With an EASE part and a previous `sims` recommender of this name: its lists stand in
    /// for the EASE part, and its transition lists are kept (a model that had none gets new
    /// ones). Otherwise a full training.
    fn update(
        &self,
        input: &Inputs<'_>,
        p: &SimsParams,
        prev: &Model,
    ) -> Result<RecommenderModel, RecipeError> {
        let previous = if p.ease_weight > 0.0 {
            previous_neighbors(prev, &input.spec.name, input.ds, input.m)
        } else {
            None
        };
        let Some(rows) = previous else {
            return self.train(input, p);
        };
        let transitions = previous_transitions(prev, &input.spec.name, input.ds, input.m);
        let factors = factors(input, p);
        let seen = prev.meta.data_time;
        let mut nm = train_update(
            input.m,
            p,
            |e| input.keeps(e.event_type),
            |e| e.timestamp <= seen,
            factors.as_deref(),
            &rows,
        );
        nm.transitions = match transitions {
            Some(t) if p.transitions_on() => Some(Box::new(t)),
            Some(_) => None,
            None => transition_lists_of(input.m, p, |e| input.keeps(e.event_type)),
        };
        Ok(RecommenderModel::Neighbors(nm))
    }
}

/// The co-interaction factors blended in, when `factor_weight > 0`.
fn factors(input: &Inputs<'_>, p: &SimsParams) -> Option<Vec<f32>> {
    (p.factor_weight > 0.0).then(|| {
        crate::recipes::dense::into_rows(co_interaction_factors(input, p.factor_dims).items)
    })
}

/// The previous model's neighbour recommender `name`.
fn neighbors<'p>(prev: &'p Model, name: &str) -> Option<&'p NeighborModel> {
    match &prev.recommender(name)?.model {
        RecommenderModel::Neighbors(nm) => Some(nm),
        _ => None,
    }
}

/// The previous model's neighbour lists of recommender `name`, mapped by item id onto the
/// catalogue of `m` (items it did not know get empty lists); `None` when it has no such
/// neighbour recommender.
fn previous_neighbors(
    prev: &Model,
    name: &str,
    ds: &Dataset,
    m: &TrainingMatrix,
) -> Option<PriorRows> {
    let nm = neighbors(prev, name)?;
    Some(rows_onto(prev, ds, m, |r| nm.of(r)))
}

/// The previous model's transition lists of recommender `name`, mapped like
/// [`previous_neighbors`]; `None` when it has none.
fn previous_transitions(
    prev: &Model,
    name: &str,
    ds: &Dataset,
    m: &TrainingMatrix,
) -> Option<TransitionLists> {
    let t = neighbors(prev, name)?.transitions.as_deref()?;
    Some(TransitionLists::from_rows(rows_onto(prev, ds, m, |r| {
        t.of(r)
    })))
}
