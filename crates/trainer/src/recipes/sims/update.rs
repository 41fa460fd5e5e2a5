//! `--mode update` for sims: the co-interaction lists are recomputed exactly from all the
//! data, and the closed-form (EASE) part is taken from the previous model instead of being
//! solved again (the dense inverse is most of a full training).
//!
//! The previous model stores each list blended: `co / max co + ease_weight · b / max b`. What
//! the previous model's data gives as `co / max co` is taken away from it, which leaves the
//! EASE part. Histories are in time order and the previous data is every entry up to its
//! data time, so a user's previous history is a prefix of the new one and its pairs keep
//! their positions and weights: the previous sums are the new ones minus the pairs that
//! involve a new position, which are few, all summed in the one pass over the new histories.
//! Only users whose history limit cut a different window (`max_user_history`) have their
//! previous history visited separately.

use edgerec_core::NeighborModel;
use rayon::prelude::*;

use super::pairs::{self, Accumulator, PairWeights};
use super::{
    PriorRows, SimsParams, co_list, discounts, finish, neighbor_model, normalized_rows,
    prior_timeline, sequences,
};
use crate::recipes::TrainingMatrix;
use crate::recipes::matrix::Entry;

/// Updates sims lists: `keep` selects the entries to learn from, `seen` those the previous
/// model learned from (a subset), and `prior` holds the previous model's lists on this
/// catalogue (see [`super::recipe`]). Gives the lists a full training would, except that the
/// EASE part comes from `prior`.
#[must_use]
pub fn train_update(
    m: &TrainingMatrix,
    p: &SimsParams,
    keep: impl Fn(&Entry) -> bool + Sync,
    seen: impl Fn(&Entry) -> bool + Sync,
    factors: Option<&[f32]>,
    prior: &PriorRows,
) -> NeighborModel {
    let n = m.n_items();
    let limit = p.max_user_history.max(1);
    let seqs = sequences(m, limit, &keep);
    let before = sequences(m, limit, &|e: &Entry| keep(e) && seen(e));
    // The previous history's length when it is a prefix of the new one.
    let prefix: Vec<Option<usize>> = seqs
        .iter()
        .zip(&before)
        .map(|(s, b)| s.starts_with(b).then_some(b.len()))
        .collect();
    let occurrences = pairs::occurrences(&seqs, n);
    let separate: Vec<Vec<u32>> = before
        .iter()
        .zip(&prefix)
        .map(|(b, k)| if k.is_some() { Vec::new() } else { b.clone() })
        .collect();
    let separate_occurrences = pairs::occurrences(&separate, n);
    let discount = discounts(occurrences.iter().map(Vec::len), p);
    let discount_before = discounts(
        occurrences.iter().zip(&separate_occurrences).map(|(o, s)| {
            let in_prefix = o
                .iter()
                .filter(|&&(u, pos)| prefix[u as usize].is_some_and(|k| (pos as usize) < k))
                .count();
            in_prefix + s.len()
        }),
        p,
    );
    let longest = seqs.iter().chain(&before).map(Vec::len).max().unwrap_or(0);
    let weights = PairWeights::new(p, longest);
    let unit = factors
        .filter(|_| p.factor_weight > 0.0)
        .map(|f| normalized_rows(f, n));
    let lists: Vec<Vec<(u32, f32)>> = (0..n)
        .into_par_iter()
        .map_init(
            || (Accumulator::new(n), Accumulator::new(n), vec![0f32; n]),
            |(acc, delta, scratch), i| {
                // `acc` sums the new pairs, `delta` what they add to the previous ones.
                for &(u, pos) in &occurrences[i] {
                    let (seq, pos) = (&seqs[u as usize], pos as usize);
                    match prefix[u as usize] {
                        Some(k) if pos < k => {
                            weights.each(seq, pos, 0, |j, w| acc.add(j, w, 1));
                            weights.each(seq, pos, k, |j, w| delta.add(j, w, 1));
                        }
                        _ => weights.each(seq, pos, 0, |j, w| {
                            acc.add(j, w, 1);
                            delta.add(j, w, 1);
                        }),
                    }
                }
                for &(u, pos) in &separate_occurrences[i] {
                    weights.each(&separate[u as usize], pos as usize, 0, |j, w| {
                        delta.add(j, -w, -1);
                    });
                }
                let before = acc.difference(Some(delta), p.min_cointeraction_count);
                delta.clear();
                let old = co_list(before, p, &discount_before, i, unit.as_deref());
                let ease = prior.get(i).map(|row| closed_form_part(row, &old, scratch));
                let sums = acc.drain(p.min_cointeraction_count);
                let mut out = co_list(sums, p, &discount, i, unit.as_deref());
                finish(&mut out, ease.as_deref(), p);
                out
            },
        )
        .collect();
    let mut model = neighbor_model(lists, p);
    model.timeline = prior_timeline(m, &keep, p);
    model
}

/// What remains of a previous blended list `row` after taking away its co-interaction part
/// `co` (normalised by its strongest weight, as the blend does): the closed-form part,
/// strongest first. `scratch` is a zeroed buffer over the catalogue and is left zeroed.
fn closed_form_part(row: &[(u32, f32)], co: &[(u32, f32)], scratch: &mut [f32]) -> Vec<(u32, f32)> {
    let max = co.iter().map(|&(_, w)| w).fold(0.0f32, f32::max);
    if max > 0.0 {
        for &(j, w) in co {
            if let Some(s) = scratch.get_mut(j as usize) {
                *s = w / max;
            }
        }
    }
    let mut rest: Vec<(u32, f32)> = row
        .iter()
        .filter_map(|&(j, w)| {
            let e = w - scratch.get(j as usize).copied().unwrap_or(0.0);
            (e > 1e-5).then_some((j, e))
        })
        .collect();
    for &(j, _) in co {
        if let Some(s) = scratch.get_mut(j as usize) {
            *s = 0.0;
        }
    }
    rest.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Dataset;
    use crate::recipes::CatalogScope;

    #[test]
    fn closed_form_part_takes_away_the_normalised_co_interaction_weights() {
        let mut scratch = vec![0.0; 3];
        let rest = closed_form_part(
            &[(1, 1.1), (0, 0.75), (2, 0.2)],
            &[(1, 2.0), (0, 1.0)],
            &mut scratch,
        );
        let ids: Vec<u32> = rest.iter().map(|r| r.0).collect();
        assert_eq!(ids, [0, 2, 1]);
        assert!((rest[0].1 - 0.25).abs() < 1e-6 && (rest[2].1 - 0.1).abs() < 1e-6);
        assert_eq!(scratch, [0.0; 3]);
        assert_eq!(closed_form_part(&[(0, 0.3)], &[], &mut scratch), [(0, 0.3)]);
    }

    /// One user per history of `(item, time)` events over `items` items.
    fn dataset(items: u32, histories: &[Vec<(u32, i64)>]) -> Dataset {
        let mut d = Dataset {
            item_ids: (0..items).map(|i| format!("i{i}")).collect(),
            ..Dataset::default()
        };
        for (u, h) in histories.iter().enumerate() {
            d.user_ids.push(format!("u{u}"));
            for &(item, t) in h {
                d.interactions.user.push(u32::try_from(u).unwrap_or(0));
                d.interactions.item.push(item % items);
                d.interactions.timestamp.push(t);
                d.interactions.event_type.push(0);
                d.interactions.event_value.push(1.0);
            }
        }
        d
    }

    /// Users with pseudo-random histories over 30 items, one event per time step.
    fn random_histories(users: u32, len: u32, seed: u64) -> Dataset {
        let mut state = seed;
        let histories: Vec<Vec<(u32, i64)>> = (0..users)
            .map(|_| {
                (0..len)
                    .map(|t| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        (u32::try_from(state >> 33).unwrap_or(0), i64::from(t))
                    })
                    .collect()
            })
            .collect();
        dataset(30, &histories)
    }

    fn lists(nm: &NeighborModel) -> Vec<Vec<(u32, f32)>> {
        (0..nm.offsets.len() - 1)
            .map(|i| {
                let (js, ws) = nm.of(i);
                js.iter().copied().zip(ws.iter().copied()).collect()
            })
            .collect()
    }

    fn assert_close(a: &NeighborModel, b: &NeighborModel) {
        for (i, (x, y)) in lists(a).iter().zip(&lists(b)).enumerate() {
            let ids = |l: &[(u32, f32)]| l.iter().map(|r| r.0).collect::<Vec<_>>();
            assert_eq!(ids(x), ids(y), "item {i}");
            for (p, q) in x.iter().zip(y) {
                assert!((p.1 - q.1).abs() < 1e-4, "item {i}: {x:?} / {y:?}");
            }
        }
    }

    #[test]
    fn an_update_over_the_same_data_gives_the_full_lists_and_keeps_the_closed_form_part() {
        let ds = random_histories(40, 25, 7);
        let m = TrainingMatrix::build(&ds, CatalogScope::All);
        let p = SimsParams {
            window: 5,
            global_reach: 10,
            min_cointeraction_count: 1,
            ease_min_count: 2,
            ..SimsParams::default()
        };
        let full = train(&m, &p, |_| true);
        // The previous model saw the first 15 events of each history (and, for a limit that
        // cuts histories, a different window than the new one).
        for limit in [1000, 12] {
            let p = SimsParams {
                max_user_history: limit,
                ..p.clone()
            };
            let full = train(&m, &p, |_| true);
            let prior = lists(&full);
            let same = train_update(&m, &p, |_| true, |_| true, None, &prior);
            assert_close(&same, &full);
            let before = train(&m, &p, |e| e.timestamp < 15);
            let updated = train_update(
                &m,
                &p,
                |_| true,
                |e| e.timestamp < 15,
                None,
                &lists(&before),
            );
            // Without EASE an update is exactly a full training.
            let plain = SimsParams {
                ease_weight: 0.0,
                ..p.clone()
            };
            assert_close(
                &train_update(&m, &plain, |_| true, |e| e.timestamp < 15, None, &prior),
                &train(&m, &plain, |_| true),
            );
            // With it, every item keeps neighbours and the lists stay close to a full
            // training's: most of each list agrees.
            let (a, b) = (lists(&updated), lists(&full));
            let shared: usize = a
                .iter()
                .zip(&b)
                .map(|(x, y)| x.iter().filter(|r| y.iter().any(|s| s.0 == r.0)).count())
                .sum();
            let total: usize = b.iter().map(Vec::len).sum();
            assert!(shared * 10 >= total * 8, "{shared} of {total}");
        }
        assert!(!lists(&full).iter().all(Vec::is_empty));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 64, ..Default::default() })]

        /// The previous co-interaction sums an update derives (new sums minus the pairs with
        /// a new position) are those of a training on the previous data: previous lists made of
        /// co-interaction alone leave no closed-form part, and the update gives exactly a full
        /// training's lists, whatever the data, the cutoff and the parameters (history limits
        /// that cut a different window included).
        #[test]
        fn an_update_derives_the_previous_co_interactions_exactly(
            histories in proptest::collection::vec(
                proptest::collection::vec((0u8..12, 0u8..30), 0..16), 1..7),
            cutoff in 0u8..31,
            window in 0usize..5,
            global_reach in 0usize..8,
            global_weight in proptest::prop_oneof![proptest::strategy::Just(0.0f32), 0.01f32..0.1],
            max_user_history in 1usize..14,
            backward_weight in 0.0f32..1.0,
            min_cointeraction_count in 1u32..3,
            early_position_scale in proptest::prop_oneof![proptest::strategy::Just(0.0f32), 1.0f32..50.0],
        ) {
            // 12 items with repeats and shared timestamps (ties across the cutoff).
            let histories: Vec<Vec<(u32, i64)>> = histories
                .iter()
                .map(|h| h.iter().map(|&(i, t)| (u32::from(i), i64::from(t))).collect())
                .collect();
            let ds = dataset(12, &histories);
            let m = TrainingMatrix::build(&ds, CatalogScope::All);
            let plain = SimsParams {
                window,
                global_reach,
                global_weight,
                max_user_history,
                backward_weight,
                min_cointeraction_count,
                early_position_scale,
                max_neighbors: 5,
                ease_weight: 0.0,
                ..SimsParams::default()
            };
            // Lists as a model stores them: each normalised by its strongest weight.
            let normalised = |nm: &NeighborModel| -> Vec<Vec<(u32, f32)>> {
                lists(nm)
                    .into_iter()
                    .map(|l| {
                        let max = l.iter().map(|r| r.1).fold(0.0f32, f32::max);
                        l.into_iter().map(|(j, w)| (j, w / max)).collect()
                    })
                    .collect()
            };
            let cut = i64::from(cutoff);
            let prior = normalised(&train(&m, &plain, |e| e.timestamp < cut));
            let p = SimsParams {
                ease_weight: 0.25,
                ..plain.clone()
            };
            let updated = train_update(&m, &p, |_| true, |e| e.timestamp < cut, None, &prior);
            let full = normalised(&train(&m, &plain, |_| true));
            for (i, (x, y)) in lists(&updated).iter().zip(&full).enumerate() {
                let ids = |l: &[(u32, f32)]| l.iter().map(|r| r.0).collect::<Vec<_>>();
                proptest::prop_assert_eq!(ids(x), ids(y), "item {}", i);
                for (a, b) in x.iter().zip(y) {
                    proptest::prop_assert!((a.1 - b.1).abs() < 1e-4, "item {}: {:?} / {:?}", i, x, y);
                }
            }
        }
    }

    fn train(
        m: &TrainingMatrix,
        p: &SimsParams,
        keep: impl Fn(&Entry) -> bool + Sync,
    ) -> NeighborModel {
        super::super::train(m, p, keep, None)
    }
}
