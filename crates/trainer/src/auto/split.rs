//! The trainer's own validation split of the data it trains on: the evaluation protocol's
//! validation, applied to whatever data `train` gets, for the choices made while training (the
//! weights of `auto`, the hyperparameters of factor models). Nothing held out here is a test
//! item: it is all training data, seen again by the final model.
//!
//! * **Sessions**: the users of two [`tuning_bucket`]s with at least [`MIN_LEN_B`] interactions
//!   (at most [`MAX_COLD_USERS`] of them, a fixed subset by a hash of their id) are held out
//!   entirely and scored on sessions of their first 1, 3 and 5 events against the next 10
//!   (split B's rule).
//! * **Known users**: of the other users with at least [`MIN_LEN_A`] interactions, up to
//!   [`MAX_WARM_CASES`] (an arbitrary but fixed subset, by a hash of their id) lose their last
//!   interaction, every row of that item (split A's rule); the rest keep their whole history.
//!
//! * **Scale**: when more than [`MAX_VALIDATION_INTERACTIONS`] rows remain, the validation model
//!   trains on a fixed subset of the users (by the same hash; the known-user cases always among
//!   them) holding about that many rows. So the validation pass costs about the same on 5 and on
//!   50 million interactions, while the final model still trains on everything.
//!
//! Time order and deduplication are the protocol's ([`Protocol`]).

use super::super::evaluate::protocol::{
    ColdUser, MIN_LEN_A, MIN_LEN_B, Protocol, WarmCase, splitmix64, subset, tuning_bucket,
};
use crate::dataset::Dataset;

/// The tuning buckets (of ten) whose long histories become validation sessions: two, so a
/// dataset of a thousand users still gives the session weights over a hundred users to be
/// fitted on.
const COLD_BUCKETS: u8 = 2;
/// Most known users whose last item is held out. The blend's weights are compared paired,
/// case by case, and 2,500 cases already put the paired standard error of a gain near 0.001
/// on these datasets; more cases only cost scoring time.
pub const MAX_WARM_CASES: usize = 2500;
/// Most users held out for sessions, for the same reason: each is scored at three session
/// lengths, and past a few thousand the weights no longer move.
pub const MAX_COLD_USERS: usize = 2500;
/// Most rows the validation model trains on (see the module docs). None of the benchmark
/// datasets comes near it, so their choices are those of the whole data.
pub const MAX_VALIDATION_INTERACTIONS: usize = 5_000_000;

/// Training data with validation cases held out.
#[derive(Debug, Clone)]
pub struct ValidationSplit {
    /// The input's rows minus the held-out ones (same id tables).
    pub train: Dataset,
    /// Known users and their held-out last item.
    pub warm: Vec<WarmCase>,
    /// Held-out users with their whole history in time order.
    pub cold: Vec<ColdUser>,
}

/// How much a split holds out and trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub warm_cases: usize,
    pub cold_users: usize,
    pub interactions: usize,
}

impl Limits {
    /// [`MAX_WARM_CASES`], [`MAX_COLD_USERS`], [`MAX_VALIDATION_INTERACTIONS`].
    pub const DEFAULT: Limits = Limits {
        warm_cases: MAX_WARM_CASES,
        cold_users: MAX_COLD_USERS,
        interactions: MAX_VALIDATION_INTERACTIONS,
    };
}

/// Splits `ds` (see the module docs).
#[must_use]
pub fn split(ds: &Dataset) -> ValidationSplit {
    split_with(ds, Limits::DEFAULT)
}

/// Splits `ds` within `limits`.
#[must_use]
pub fn split_with(ds: &Dataset, limits: Limits) -> ValidationSplit {
    let protocol = Protocol::new(ds, None);
    let it = &ds.interactions;
    let order = |user: u32| {
        splitmix64(u64::from(user) ^ 0x5741_524d) ^ hash_id(&ds.user_ids[user as usize])
    };
    let mut candidates: Vec<(u64, u32)> = protocol
        .timelines()
        .filter(|(user, rows)| {
            tuning_bucket(&ds.user_ids[*user as usize]) < COLD_BUCKETS && rows.len() >= MIN_LEN_B
        })
        .map(|(user, _)| (order(user), user))
        .collect();
    candidates.sort_unstable();
    candidates.truncate(limits.cold_users);
    let mut held_user = vec![false; ds.user_ids.len()];
    for &(_, user) in &candidates {
        held_user[user as usize] = true;
    }
    let mut held_item = vec![u32::MAX; ds.user_ids.len()];
    let mut cold = Vec::new();
    let mut warm: Vec<(u64, u32, u32)> = Vec::new();
    for (user, rows) in protocol.timelines() {
        let id = &ds.user_ids[user as usize];
        if held_user[user as usize] {
            let items: Vec<u32> = rows.iter().map(|&r| it.item[r as usize]).collect();
            cold.push(ColdUser {
                user: id.clone(),
                user_index: user,
                sequence: items
                    .iter()
                    .map(|&i| ds.item_ids[i as usize].clone())
                    .collect(),
                times: rows.iter().map(|&r| it.timestamp[r as usize]).collect(),
                contexts: vec![Vec::new(); items.len()],
                items,
            });
        } else if rows.len() >= MIN_LEN_A
            && let Some(&last) = rows.last()
        {
            warm.push((order(user), user, it.item[last as usize]));
        }
    }
    warm.sort_unstable();
    warm.truncate(limits.warm_cases);
    warm.sort_unstable_by_key(|&(_, u, _)| u);
    for &(_, user, item) in &warm {
        held_item[user as usize] = item;
    }
    let kept = training_users(ds, &held_user, &held_item, limits.interactions, order);
    let rows: Vec<u32> = (0..it.len())
        .filter(|&r| {
            let u = it.user[r] as usize;
            kept.get(u).copied().unwrap_or(false)
                && held_item.get(u).is_none_or(|&i| i != it.item[r])
        })
        .filter_map(|r| u32::try_from(r).ok())
        .collect();
    let warm = warm
        .into_iter()
        .map(|(_, user, item)| WarmCase {
            user: ds.user_ids[user as usize].clone(),
            item: ds.item_ids[item as usize].clone(),
            user_index: user,
            item_index: item,
            context: Vec::new(),
        })
        .collect();
    ValidationSplit {
        train: subset(ds, &rows),
        warm,
        cold,
    }
}

/// The users whose rows the validation model trains on: every user not held out, or, past
/// `cap` rows, the known-user cases plus the first users in `order` while their rows fit.
fn training_users(
    ds: &Dataset,
    held_user: &[bool],
    held_item: &[u32],
    cap: usize,
    order: impl Fn(u32) -> u64,
) -> Vec<bool> {
    let mut rows_of = vec![0usize; ds.user_ids.len()];
    for &u in &ds.interactions.user {
        if let Some(n) = rows_of.get_mut(u as usize) {
            *n += 1;
        }
    }
    let mut kept: Vec<bool> = held_user.iter().map(|&h| !h).collect();
    let total: usize = (0..rows_of.len())
        .filter(|&u| kept[u])
        .map(|u| rows_of[u])
        .sum();
    if total <= cap {
        return kept;
    }
    let mut budget = cap;
    let mut others: Vec<(u64, u32)> = Vec::new();
    for (u, k) in kept.iter_mut().enumerate() {
        let Ok(user) = u32::try_from(u) else { break };
        if !*k {
            continue;
        }
        if held_item[u] != u32::MAX {
            budget = budget.saturating_sub(rows_of[u]);
        } else {
            *k = false;
            others.push((order(user), user));
        }
    }
    others.sort_unstable();
    for (_, user) in others {
        let n = rows_of[user as usize];
        if n > budget {
            break;
        }
        budget -= n;
        kept[user as usize] = true;
    }
    kept
}

/// A 64-bit hash of an id's bytes (FNV-1a), for a fixed arbitrary order of users.
fn hash_id(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `users` users with `len` items each (user `u` has items `u .. u + len`, one per day).
    fn dataset(users: usize, len: usize) -> Dataset {
        let mut d = Dataset {
            event_types: vec!["click".to_owned()],
            ..Dataset::default()
        };
        let items = users + len;
        d.item_ids = (0..items).map(|i| format!("i{i}")).collect();
        d.user_ids = (0..users).map(|u| format!("u{u}")).collect();
        for u in 0..users {
            for k in 0..len {
                d.interactions.user.push(u32::try_from(u).unwrap_or(0));
                d.interactions.item.push(u32::try_from(u + k).unwrap_or(0));
                d.interactions
                    .timestamp
                    .push(i64::try_from(k).unwrap_or(0) * 86_400);
                d.interactions.event_type.push(0);
                d.interactions.event_value.push(f32::NAN);
            }
        }
        d
    }

    #[test]
    fn holds_out_sessions_and_last_items_and_keeps_the_rest() {
        let ds = dataset(200, 16);
        let v = split(&ds);
        assert!(!v.cold.is_empty() && v.cold.len() < 60, "{}", v.cold.len());
        assert_eq!(v.warm.len(), 200 - v.cold.len());
        let held: usize = v.cold.iter().map(|c| c.items.len()).sum();
        assert_eq!(
            v.train.interactions.len(),
            ds.interactions.len() - held - v.warm.len()
        );
        for c in &v.cold {
            assert!(tuning_bucket(&c.user) < COLD_BUCKETS);
            assert_eq!(c.items.len(), 16);
            assert!(!v.train.interactions.user.contains(&c.user_index));
        }
        for w in &v.warm {
            // The held-out item is the user's last one, and it is gone from their rows.
            let u: usize = w.user[1..].parse().unwrap_or(0);
            assert_eq!(w.item, format!("i{}", u + 15));
            let rows = (0..v.train.interactions.len())
                .filter(|&r| v.train.interactions.user[r] == w.user_index);
            assert_eq!(rows.clone().count(), 15);
            assert!(
                rows.into_iter()
                    .all(|r| v.train.interactions.item[r] != w.item_index)
            );
        }
        // Deterministic.
        assert_eq!(split(&ds).warm, v.warm);
    }

    #[test]
    fn short_histories_are_left_alone_and_known_cases_are_capped() {
        let ds = dataset(30, 4);
        let v = split(&ds);
        assert!(v.cold.is_empty() && v.warm.is_empty());
        assert_eq!(v.train.interactions.len(), ds.interactions.len());
        let big = dataset(MAX_WARM_CASES + 50, 5);
        let v = split(&big);
        assert_eq!(v.warm.len(), MAX_WARM_CASES);
        assert_eq!(
            v.train.interactions.len(),
            big.interactions.len() - MAX_WARM_CASES
        );
    }

    #[test]
    fn session_users_and_validation_rows_are_capped_at_scale() {
        let ds = dataset(400, 16);
        let all = split(&ds);
        let limits = Limits {
            warm_cases: 100,
            cold_users: 20,
            interactions: 2_000,
        };
        let v = split_with(&ds, limits);
        assert!(all.cold.len() > 20, "{}", all.cold.len());
        assert_eq!(v.cold.len(), 20);
        // The capped session users are a subset of the uncapped ones.
        assert!(
            v.cold
                .iter()
                .all(|c| all.cold.iter().any(|a| a.user == c.user))
        );
        assert_eq!(v.warm.len(), 100);
        // The training rows fit the cap (the known users' rows count whole, held-out item
        // included, so the cap is approached within one row per case and one user), and hold
        // every known-user case's other rows.
        assert!(v.train.interactions.len() <= 2_000);
        assert!(v.train.interactions.len() > 2_000 - 100 - 16);
        for w in &v.warm {
            let rows = v
                .train
                .interactions
                .user
                .iter()
                .filter(|&&u| u == w.user_index)
                .count();
            assert_eq!(rows, 15);
        }
        for c in &v.cold {
            assert!(!v.train.interactions.user.contains(&c.user_index));
        }
        assert_eq!(split_with(&ds, limits).warm, v.warm);
    }
}
