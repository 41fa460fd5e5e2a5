//! `GetRecommendations`.

use std::collections::BTreeMap;

use super::scoring::{self, Actor, Source};
use super::{Engine, history, validate};
use crate::bitset::BitSet;
use crate::error::RequestError;
use crate::model::{Model, Recommender};
use crate::request::{
    GetRecommendationsRequest, GetRecommendationsResponse, PredictedItem, recommender_name,
};
use crate::session::Session;
use crate::topk::Scored;

impl Engine {
    /// `GetRecommendations`: personalised top-K for `userId` (known, or a session's live
    /// events), related items for `itemId`, or popular items — by the recommender's recipe.
    pub fn get_recommendations(
        &self,
        req: &GetRecommendationsRequest,
    ) -> Result<GetRecommendationsResponse, RequestError> {
        let k = validate::get_recommendations(req)?;
        super::check_actor(req.user_id.as_deref(), req.item_id.as_deref())?;
        let name = recommender_name(
            req.recommender.as_deref(),
            &[
                ("campaignArn", req.campaign_arn.as_deref()),
                ("recommenderArn", req.recommender_arn.as_deref()),
            ],
        )?;
        let (ri, rec) = self.find_recommender(name)?;
        let metadata = metadata_columns(&self.model, &req.metadata_columns)?;
        if req.filter.is_some() || req.filter_arn.is_some() || !req.promotions.is_empty() {
            return Err(RequestError::invalid(
                "filter",
                "filters and promotions are not supported by this engine version",
            ));
        }
        let (user, session) = self.actor(req.user_id.as_deref());
        let item = req.item_id.as_deref().and_then(|id| self.item_index(id));
        if req.item_id.is_some() && item.is_none() {
            // Unknown item: popular items (Personalize's behaviour).
            let blocked = self.blocked(rec, user, session, None);
            let items = scoring::top_popular(&self.model.popularity, &blocked, k);
            return Ok(self.response(req, name, &items, false, &metadata));
        }
        let blocked = self.blocked(rec, user, session, item);
        let recent = history::collect(&self.model, user, session, rec.serving.max_history as usize);
        let actor = Actor {
            user,
            session,
            recommender: ri,
            item,
        };
        let scored = scoring::score(&self.model, rec, &actor, &recent, &blocked, k);
        let has_scores = scored.has_scores && scored.source == Source::Model;
        Ok(self.response(req, name, &scored.items, has_scores, &metadata))
    }

    pub(super) fn find_recommender(&self, name: &str) -> Result<(usize, &Recommender), RequestError> {
        self.model
            .recommenders
            .iter()
            .enumerate()
            .find(|(_, r)| r.name == name)
            .ok_or_else(|| RequestError::NotFound {
                what: "recommender",
                name: name.to_owned(),
            })
    }

    /// The known user row and live session for a request's `userId` (a session id for
    /// anonymous visitors, as in Personalize).
    pub(super) fn actor(&self, user_id: Option<&str>) -> (Option<u32>, Option<&Session>) {
        match user_id {
            Some(u) => (self.user_index(u), self.sessions.get(u)),
            None => (None, None),
        }
    }

    /// Items a request must not return: the user's interactions (per the recommender's
    /// serving options) and the request's own item.
    pub(super) fn blocked(
        &self,
        rec: &Recommender,
        user: Option<u32>,
        session: Option<&Session>,
        item: Option<u32>,
    ) -> BitSet {
        let mut blocked = BitSet::empty(self.model.catalog.len());
        if rec.serving.exclude_interacted {
            let types = &rec.serving.exclude_event_types;
            for it in history::collect(&self.model, user, session, usize::MAX) {
                if types.is_empty() || types.iter().any(|t| t.eq_ignore_ascii_case(it.event_type)) {
                    blocked.insert(it.item as usize);
                }
            }
        }
        if let Some(i) = item {
            blocked.insert(i as usize);
        }
        blocked
    }

    fn response(
        &self,
        req: &GetRecommendationsRequest,
        name: &str,
        items: &[Scored],
        has_scores: bool,
        metadata: &[usize],
    ) -> GetRecommendationsResponse {
        let recommendation_id = req.recommendation_id.clone().unwrap_or_else(|| {
            self.next_recommendation_id(&[
                name,
                req.user_id.as_deref().unwrap_or(""),
                req.item_id.as_deref().unwrap_or(""),
            ])
        });
        GetRecommendationsResponse {
            item_list: items
                .iter()
                .map(|s| predicted(&self.model, s, has_scores, metadata))
                .collect(),
            recommendation_id,
        }
    }
}

/// Resolves `metadataColumns.ITEMS` to column positions; unknown columns are an error.
pub(super) fn metadata_columns(
    model: &Model,
    mc: &BTreeMap<String, Vec<String>>,
) -> Result<Vec<usize>, RequestError> {
    let mut out = Vec::new();
    for name in mc.get("ITEMS").into_iter().flatten() {
        let pos = model
            .catalog
            .columns
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                RequestError::invalid(
                    "metadataColumns.ITEMS",
                    format!("unknown item column {name:?}"),
                )
            })?;
        out.push(pos);
    }
    Ok(out)
}

pub(super) fn predicted(model: &Model, s: &Scored, has_scores: bool, metadata: &[usize]) -> PredictedItem {
    let i = s.item as usize;
    let meta = (!metadata.is_empty()).then(|| {
        metadata
            .iter()
            .filter_map(|&c| model.catalog.columns.get(c))
            .filter_map(|c| c.display_value(i).map(|v| (c.name.clone(), v)))
            .collect::<BTreeMap<_, _>>()
    });
    PredictedItem {
        item_id: model.catalog.item_ids.get(i).cloned().unwrap_or_default(),
        score: has_scores.then(|| round6(s.score)),
        promotion_name: None,
        metadata: meta,
        reason: None,
    }
}

fn round6(x: f32) -> f64 {
    (f64::from(x) * 1e6).round() / 1e6
}
