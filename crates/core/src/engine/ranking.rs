//! `GetPersonalizedRanking`: re-ranks the caller's list for a user.

use super::filtering::FilterActor;
use super::scoring::Actor;
use super::{Engine, validate};
use crate::error::RequestError;
use crate::model::RecommenderModel;
use crate::request::{GetPersonalizedRankingRequest, GetPersonalizedRankingResponse};
use crate::topk::Scored;

impl Engine {
    /// `GetPersonalizedRanking`: the input items ordered by the user's affinity (softmax
    /// scores over the input list, as Personalize reports them). Items unknown to the model
    /// follow, in input order, without a score. Without a user vector, popularity orders the list.
    pub fn get_personalized_ranking(
        &self,
        req: &GetPersonalizedRankingRequest,
    ) -> Result<GetPersonalizedRankingResponse, RequestError> {
        validate::get_personalized_ranking(req)?;
        let name = req.recommender_name()?;
        let (ri, rec) = self.find_recommender(name)?;
        let metadata = super::recommend::metadata_columns(&self.model, &req.metadata_columns)?;
        let (user, session) = self.actor(req.user_id.as_deref());
        let mask = match self.filter_expression(
            "filter",
            req.filter.as_deref(),
            req.filter_arn.as_deref(),
        )? {
            Some(e) => Some(self.filter_mask(
                &e,
                &req.filter_values,
                FilterActor {
                    user,
                    session,
                    item: None,
                },
            )?),
            None => None,
        };
        let actor = Actor {
            user,
            session,
            recommender: ri,
            item: None,
            context: Some(&req.context),
        };
        let mut known: Vec<u32> = Vec::new();
        let mut unknown: Vec<&str> = Vec::new();
        for id in &req.input_list {
            match self.item_index(id) {
                // A filter removes the items it does not allow (Personalize's behaviour).
                Some(i) if mask.as_ref().is_some_and(|m| !m.contains(i as usize)) => {}
                Some(i) if !known.contains(&i) => known.push(i),
                Some(_) => {}
                None => {
                    if !unknown.contains(&id.as_str()) {
                        unknown.push(id);
                    }
                }
            }
        }
        let query = match &rec.model {
            RecommenderModel::Factors(fm) => super::scoring::factor_query(fm, &actor)
                .map(|q| (fm, q, super::scoring::context_vector(fm, &actor))),
            _ => None,
        };
        let mut scored: Vec<Scored> = known
            .iter()
            .map(|&i| Scored {
                item: i,
                score: match &query {
                    Some((fm, q, None)) => fm.item_factors.score_row(i as usize, q),
                    Some((fm, q, Some(c))) => super::scoring::contextual(
                        fm.item_factors.score_row(i as usize, q),
                        fm.item_factors.score_row(i as usize, c),
                    ),
                    #[allow(clippy::cast_precision_loss)]
                    None => self
                        .model
                        .popularity
                        .counts
                        .get(i as usize)
                        .copied()
                        .unwrap_or(0) as f32,
                },
            })
            .collect();
        crate::sort::sort_by(&mut scored, |a, b| {
            if a.better_than(b) {
                std::cmp::Ordering::Less
            } else if b.better_than(a) {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        });
        let has_scores = query.is_some();
        if has_scores {
            softmax_in_place(&mut scored);
        }
        let mut list: Vec<_> = scored
            .iter()
            .map(|s| super::recommend::predicted(&self.model, s, has_scores, &metadata))
            .collect();
        list.extend(unknown.into_iter().map(|id| crate::request::PredictedItem {
            item_id: id.to_owned(),
            score: None,
            promotion_name: None,
            metadata: None,
            reason: None,
        }));
        let recommendation_id = req.recommendation_id.clone().unwrap_or_else(|| {
            self.next_recommendation_id(&[name, req.user_id.as_deref().unwrap_or(""), "ranking"])
        });
        Ok(GetPersonalizedRankingResponse {
            personalized_ranking: list,
            recommendation_id,
        })
    }
}

fn softmax_in_place(s: &mut [Scored]) {
    let m = s.iter().map(|x| x.score).fold(f32::NEG_INFINITY, f32::max);
    if !m.is_finite() {
        return;
    }
    let total: f32 = s.iter().map(|x| (x.score - m).exp()).sum();
    for x in s.iter_mut() {
        x.score = (x.score - m).exp() / total;
    }
}
