//! `trending-now`: items whose interaction rate rises most. The last `window_hours` before the
//! newest interaction are compared with the window before them; an item's trend is the growth
//! in unique users between the two, and items are ranked by it (ties → more recent users, then
//! lower index). Items with no growth are left out; when nothing grows, the engine answers with the
//! model's global popularity instead.

use edgerec_core::{PopularityModel, RecommenderModel};
use serde::{Deserialize, Serialize};

use super::error::RecipeError;
use super::trainable::{Inputs, RecipeTrainer};
use super::{TrainingMatrix, popularity};

/// Hyperparameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendingParams {
    /// Length of the compared windows, in hours (Personalize's trend discovery frequency).
    pub window_hours: f64,
    /// Unique users an item needs in the recent window to trend.
    pub min_recent_users: u32,
}

impl Default for TrendingParams {
    fn default() -> Self {
        TrendingParams {
            window_hours: 24.0 * 7.0,
            min_recent_users: 2,
        }
    }
}

/// The `trending-now` recipe.
#[derive(Debug, Clone, Copy)]
pub struct TrendingNow;

impl RecipeTrainer for TrendingNow {
    type Params = TrendingParams;

    fn params(&self, input: &Inputs<'_>) -> Result<TrendingParams, RecipeError> {
        input.params()
    }

    /// Compares the windows before the newest interaction (an update recomputes: cheap and
    /// exact).
    fn train(
        &self,
        input: &Inputs<'_>,
        p: &TrendingParams,
    ) -> Result<RecommenderModel, RecipeError> {
        Ok(RecommenderModel::Popularity(train(input.m, p, |t| {
            input.keeps(t)
        })))
    }
}

/// Ranks the items by growth; `counts` holds each item's unique users in the recent window.
#[must_use]
pub fn train(
    m: &TrainingMatrix,
    p: &TrendingParams,
    keep: impl Fn(u16) -> bool,
) -> PopularityModel {
    let n = m.n_items();
    #[allow(clippy::cast_possible_truncation)]
    let window = (p.window_hours.max(0.0) * 3600.0).min(i64::MAX as f64 / 4.0) as i64;
    let end = m.max_time;
    let recent_from = end.saturating_sub(window);
    let previous_from = recent_from.saturating_sub(window);
    let recent = popularity::unique_users(m, |e| keep(e.event_type) && e.timestamp > recent_from);
    let previous = popularity::unique_users(m, |e| {
        keep(e.event_type) && e.timestamp > previous_from && e.timestamp <= recent_from
    });
    let growth = |i: usize| i64::from(recent[i]) - i64::from(previous[i]);
    let mut ranked: Vec<u32> = (0..n)
        .filter(|&i| recent[i] >= p.min_recent_users.max(1) && growth(i) > 0)
        .filter_map(|i| u32::try_from(i).ok())
        .collect();
    ranked.sort_by(|&a, &b| {
        let (a_, b_) = (a as usize, b as usize);
        growth(b_)
            .cmp(&growth(a_))
            .then(recent[b_].cmp(&recent[a_]))
            .then(a.cmp(&b))
    });
    PopularityModel {
        counts: recent,
        ranked,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::dataset::Dataset;
    use crate::recipes::CatalogScope;

    pub(crate) const DAY: i64 = 86_400;

    /// `(user, item, day)` rows.
    pub(crate) fn dataset(rows: &[(u32, u32, i64)]) -> Dataset {
        let users = rows.iter().map(|r| r.0).max().unwrap_or(0) + 1;
        let items = rows.iter().map(|r| r.1).max().unwrap_or(0) + 1;
        let mut d = Dataset {
            user_ids: (0..users).map(|u| format!("u{u}")).collect(),
            item_ids: (0..items).map(|i| format!("i{i}")).collect(),
            event_types: vec!["view".into()],
            ..Dataset::default()
        };
        for &(u, i, day) in rows {
            d.interactions.user.push(u);
            d.interactions.item.push(i);
            d.interactions.timestamp.push(day * DAY);
            d.interactions.event_type.push(0);
            d.interactions.event_value.push(1.0);
        }
        d
    }

    #[test]
    fn rising_items_rank_above_steady_popular_ones() {
        let mut rows = Vec::new();
        // i0: popular in both weeks (5 users each) — steady, not trending.
        for u in 0..5 {
            rows.push((u, 0, 1));
            rows.push((u + 5, 0, 9));
        }
        // i1: 1 user last week, 4 this week; i2: 0 → 3.
        rows.push((20, 1, 2));
        for u in 0..4 {
            rows.push((30 + u, 1, 10));
        }
        for u in 0..3 {
            rows.push((40 + u, 2, 12));
        }
        // i3: falling.
        for u in 0..3 {
            rows.push((50 + u, 3, 3));
        }
        rows.push((60, 3, 13));
        let ds = dataset(&rows);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = TrendingParams {
            window_hours: 24.0 * 7.0,
            min_recent_users: 1,
        };
        let t = train(&m, &p, |_| true);
        let names: Vec<&str> = t
            .ranked
            .iter()
            .map(|&i| ds.item_ids[m.items[i as usize] as usize].as_str())
            .collect();
        assert_eq!(
            names,
            ["i1", "i2"],
            "growth 3 each; i1 has more recent users"
        );
        // A window covering everything compares with an empty past: popularity order.
        let wide = train(
            &m,
            &TrendingParams {
                window_hours: 24.0 * 100.0,
                ..p
            },
            |_| true,
        );
        assert_eq!(wide.ranked.len(), 4);
    }
}
