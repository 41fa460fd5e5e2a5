//! The offline evaluation protocol: deterministic splits of a [`Dataset`] into training data
//! and held-out cases, reproducing the benchmark protocol exactly (same split files, same
//! counts), so that edgerec's numbers compare with the peer benchmark.
//!
//! * **Time order** (used everywhere): a user's interactions sorted by (timestamp ascending,
//!   raw item id ascending, see [`compare_raw_ids`]). Duplicate (user, item) pairs keep their
//!   first occurrence in this order.
//! * **Split A** (warm users, [`split_a`]): every user with at least [`MIN_LEN_A`] interactions
//!   loses the last one to the test set. [`split_a_validation`] applies the same rule again to
//!   the split-A training set, for tuning.
//! * **Split B** (cold users, [`split_b`]): users are held out entirely by a hash bucket of
//!   their raw id ([`user_bucket`]); a held-out user with at least [`MIN_LEN_B`] interactions
//!   is evaluated on sessions of their first N interactions against the next [`N_TARGETS`].
//! * **Catalogue**: the distinct items of a run's training interactions; the internal item
//!   index is the rank of the raw item id ([`catalogue_order`]).
//! * **Ids** ([`IdRule`]): MovieLens ids are integers and order and hash as their value; the
//!   peer benchmark reads any other interactions file with each id replaced by its rank among
//!   the column's distinct strings in code-point order ([`IdRule::TextRank`]), so "10" sorts
//!   before "9" and the bucket hashes the rank.
//!
//! Every function here is a pure function of the dataset: no randomness, no I/O.

use std::borrow::Cow;

pub use edgerec_core::id_order::compare_raw_ids;
use edgerec_core::id_order::{raw_integer, sorted_by_raw_id};

use edgerec_core::request::{Event, PutEventsRequest};
use serde::Serialize;

use crate::dataset::{ContextColumn, Dataset, Interactions};

/// Split A: users with at least this many interactions get a test item.
pub const MIN_LEN_A: usize = 5;
/// Split B: session lengths evaluated.
pub const SESSION_LENGTHS: [usize; 3] = [1, 3, 5];
/// Split B: number of target items after the session.
pub const N_TARGETS: usize = 10;
/// Split B: a held-out user is evaluated only with at least this many interactions
/// (largest session length + [`N_TARGETS`]), so the same users are evaluated for every N.
pub const MIN_LEN_B: usize = 15;
/// Seed XOR-ed into the raw user id before hashing ([`user_bucket`]).
pub const BUCKET_SEED: u64 = 42;
/// Number of user buckets.
pub const BUCKETS: u64 = 10;

// ------------------------------------------------------------------------------------------
// raw ids
// ------------------------------------------------------------------------------------------

/// Rank of every id in [`compare_raw_ids`] order (`rank[index]`).
fn ranks(ids: &[String]) -> Vec<u32> {
    let mut rank = vec![0u32; ids.len()];
    for (r, &i) in sorted_by_raw_id(ids).iter().enumerate() {
        rank[i as usize] = index_u32(r);
    }
    rank
}

fn index_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Dataset item indices of the catalogue of `train` (its distinct interaction items), sorted by
/// raw item id ([`compare_raw_ids`]). Position in this vector = internal item index of the run.
#[must_use]
pub fn catalogue_order(train: &Dataset) -> Vec<u32> {
    let n_items = train.item_ids.len();
    let mut present = vec![false; n_items];
    for &i in &train.interactions.item {
        if let Some(p) = present.get_mut(i as usize) {
            *p = true;
        }
    }
    sorted_by_raw_id(&train.item_ids)
        .into_iter()
        .filter(|&i| present[i as usize])
        .collect()
}

// ------------------------------------------------------------------------------------------
// user buckets
// ------------------------------------------------------------------------------------------

/// The splitmix64 finaliser (all arithmetic wrapping mod 2^64).
#[must_use]
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a, 64 bit.
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Split-B bucket (0..10) of a raw user id: `splitmix64((u XOR 42) mod 2^64) mod 10`.
///
/// `u` is the raw id as an integer (two's complement for negative ids, as in the reference
/// implementation). A raw id that is not an integer is first hashed to `u` with FNV-1a 64 over
/// its UTF-8 bytes; the rest is the same.
#[must_use]
pub fn user_bucket(raw_user_id: &str) -> u8 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let u = match raw_integer(raw_user_id) {
        Some(v) => v as u64, // low 64 bits = value mod 2^64
        None => fnv1a64(raw_user_id.as_bytes()),
    };
    #[allow(clippy::cast_possible_truncation)]
    let bucket = (splitmix64(u ^ BUCKET_SEED) % BUCKETS) as u8;
    bucket
}

/// Seed of [`tuning_bucket`].
const TUNING_SEED: u64 = 0x7475_6e65;

/// A bucket (0..10) of a raw user id for the trainer's own validation split (`auto` and the
/// tuning of factor models): FNV-1a 64 of the id's bytes, XOR-ed with a seed of its own and
/// hashed with splitmix64. Unrelated to the split-B buckets, so the users a model trained on
/// some of those buckets holds out for tuning are spread over all of them.
#[must_use]
pub fn tuning_bucket(raw_user_id: &str) -> u8 {
    #[allow(clippy::cast_possible_truncation)]
    let bucket = (splitmix64(fnv1a64(raw_user_id.as_bytes()) ^ TUNING_SEED) % BUCKETS) as u8;
    bucket
}

// ------------------------------------------------------------------------------------------
// splits
// ------------------------------------------------------------------------------------------

/// One split-A case: a warm user and their held-out item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarmCase {
    /// Raw user id.
    pub user: String,
    /// Raw id of the held-out item.
    pub item: String,
    /// Index into the dataset's `user_ids` (the same table in the split's `train`).
    pub user_index: u32,
    /// Index into the dataset's `item_ids`.
    pub item_index: u32,
    /// The held-out interaction's context (column name, value), nulls left out.
    pub context: Vec<(String, String)>,
}

/// Counts of a split-A run (the check-value rows of docs/protocol.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WarmCounts {
    pub train_interactions: usize,
    pub train_users: usize,
    pub catalogue_size: usize,
    pub test_users: usize,
    /// Test items that are not in the training catalogue (evaluated as misses).
    pub test_outside_catalogue: usize,
}

/// Split A (or its validation split): training data plus one held-out item per warm user.
#[derive(Debug, Clone)]
pub struct WarmSplit {
    /// The input dataset with the training interactions only (same id tables, rows kept in
    /// their original order).
    pub train: Dataset,
    /// One case per user with at least [`MIN_LEN_A`] interactions, ordered by raw user id.
    pub test: Vec<WarmCase>,
    pub counts: WarmCounts,
}

/// Which held-out bucket split B evaluates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColdRole {
    /// Cold users = bucket 0; train = buckets 1–9.
    Test,
    /// Cold users = bucket 1 (tuning only); train = buckets 2–9.
    Validation,
    /// Cross-validation inside the test run's training users (tuning only): cold users =
    /// bucket `b` (1–9), train = the other buckets of 1–9. `Fold(1)` is [`ColdRole::Validation`].
    /// Bucket 0, the test users, takes no part.
    Fold(u8),
}

impl ColdRole {
    /// The bucket of the cold users.
    #[must_use]
    pub fn cold_bucket(self) -> u8 {
        match self {
            ColdRole::Test => 0,
            ColdRole::Validation => 1,
            ColdRole::Fold(b) => b,
        }
    }

    /// Whether users of `bucket` are training users: buckets 1–9 other than the cold one
    /// (bucket 0 is only ever the test run's cold users).
    #[must_use]
    pub fn trains_on(self, bucket: u8) -> bool {
        bucket > 0 && bucket != self.cold_bucket()
    }

    /// The tuning folds `Fold(1)` … `Fold(k)` (`k` clamped to 1–9).
    #[must_use]
    pub fn folds(k: u8) -> Vec<ColdRole> {
        (1..=k.clamp(1, BUCKETS as u8 - 1))
            .map(ColdRole::Fold)
            .collect()
    }
}

/// A held-out (cold) user of split B with their whole history in time order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColdUser {
    /// Raw user id.
    pub user: String,
    /// Index into the dataset's `user_ids`.
    pub user_index: u32,
    /// Raw item ids in time order (deduplicated).
    pub sequence: Vec<String>,
    /// The same items as dataset item indices.
    pub items: Vec<u32>,
    /// Each event's timestamp (epoch seconds).
    pub times: Vec<i64>,
    /// Each event's context (column name, value), nulls left out.
    pub contexts: Vec<Vec<(String, String)>>,
}

impl ColdUser {
    /// The session of length `n`: the first `n` items.
    #[must_use]
    pub fn session(&self, n: usize) -> &[String] {
        &self.sequence[..n.min(self.sequence.len())]
    }

    /// The session of length `n` as `putEvents` batches (at most 10 events each, the API's
    /// limit), each event at its time in the data, as the edge would have sent it.
    #[must_use]
    pub fn session_batches(
        &self,
        n: usize,
        session_id: &str,
        event_type: &str,
    ) -> Vec<PutEventsRequest> {
        #[allow(clippy::cast_precision_loss)]
        let events: Vec<Event> = self
            .session(n)
            .iter()
            .zip(&self.times)
            .map(|(item, &t)| Event {
                event_type: event_type.to_owned(),
                item_id: Some(item.clone()),
                sent_at: t.max(0) as f64,
                ..Event::default()
            })
            .collect();
        events
            .chunks(10)
            .map(|chunk| PutEventsRequest {
                session_id: session_id.to_owned(),
                event_list: chunk.to_vec(),
                ..PutEventsRequest::default()
            })
            .collect()
    }

    /// The targets after a session of length `n`: the next [`N_TARGETS`] items.
    #[must_use]
    pub fn targets(&self, n: usize) -> &[String] {
        let (start, end) = self.target_range(n);
        &self.sequence[start..end]
    }

    /// [`ColdUser::session`] as dataset item indices.
    #[must_use]
    pub fn session_items(&self, n: usize) -> &[u32] {
        &self.items[..n.min(self.items.len())]
    }

    /// [`ColdUser::targets`] as dataset item indices.
    #[must_use]
    pub fn target_items(&self, n: usize) -> &[u32] {
        let (start, end) = self.target_range(n);
        &self.items[start..end]
    }

    /// The context of the first target after a session of length `n` (empty when none).
    #[must_use]
    pub fn target_context(&self, n: usize) -> &[(String, String)] {
        self.contexts.get(n).map_or(&[], Vec::as_slice)
    }

    fn target_range(&self, n: usize) -> (usize, usize) {
        let len = self.sequence.len().min(self.items.len());
        let start = n.min(len);
        (start, n.saturating_add(N_TARGETS).min(len))
    }
}

/// Counts of a split-B run (the check-value rows of docs/protocol.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ColdCounts {
    pub train_users: usize,
    pub train_interactions: usize,
    pub catalogue_size: usize,
    /// Users in the cold bucket (with at least one interaction).
    pub held_out_users: usize,
    /// Held-out users evaluated (at least [`MIN_LEN_B`] interactions).
    pub cold_users: usize,
}

/// Split B for one role: training data of the held-in users plus the evaluated cold users.
#[derive(Debug, Clone)]
pub struct ColdSplit {
    pub role: ColdRole,
    /// The input dataset with the held-in users' interactions only (same id tables, rows kept
    /// in their original order).
    pub train: Dataset,
    /// Evaluated cold users, ordered by raw user id.
    pub users: Vec<ColdUser>,
    pub counts: ColdCounts,
}

/// Size of the data the splits start from (after the variant filter and deduplication).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DataCounts {
    pub interactions: usize,
    pub users: usize,
    pub items: usize,
}

/// Every check-value count of docs/protocol.md for one dataset (and variant).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProtocolReport {
    pub data: DataCounts,
    pub split_a: WarmCounts,
    pub split_a_validation: WarmCounts,
    pub split_b: ColdCounts,
    pub split_b_validation: ColdCounts,
}

/// A dataset prepared for the protocol: the variant filter applied, every user's interactions
/// in time order and deduplicated. Build once, then take any number of splits.
#[derive(Debug, Clone)]
pub struct Protocol<'a> {
    data: &'a Dataset,
    /// Kept row indices, grouped by user (users in raw-id order), each group in time order.
    rows: Vec<u32>,
    /// `(user index, start, end)` into `rows`, one per user with at least one interaction.
    users: Vec<(u32, usize, usize)>,
    /// Split-B bucket of every user index.
    buckets: Vec<u8>,
    n_items: usize,
}

/// How the protocol orders and hashes raw ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdRule {
    /// The protocol's own rule (MovieLens): ids that are integers compare and hash as their
    /// value ([`compare_raw_ids`], [`user_bucket`]).
    #[default]
    Numeric,
    /// The peer benchmark's rule for interactions CSVs: every user and item id is replaced by
    /// its 0-based rank among the distinct ids of its column (those with interactions) sorted
    /// by code point, so "10" comes before "9". Time-order ties break by the item rank, and
    /// the bucket is `splitmix64((rank XOR 42) mod 2^64) mod 10` of the user rank.
    TextRank,
}

impl IdRule {
    /// Each id's rank under this rule (index = position in `ids`); only ids with `used` set
    /// take part in [`IdRule::TextRank`] (the others rank after them).
    fn ranks(self, ids: &[String], used: &[bool]) -> Vec<u32> {
        match self {
            IdRule::Numeric => ranks(ids),
            IdRule::TextRank => {
                let mut order: Vec<u32> = (0..index_u32(ids.len())).collect();
                order.sort_unstable_by(|&a, &b| {
                    let (a, b) = (a as usize, b as usize);
                    used[b]
                        .cmp(&used[a])
                        .then_with(|| ids[a].as_bytes().cmp(ids[b].as_bytes()))
                });
                let mut rank = vec![0u32; ids.len()];
                for (r, &i) in order.iter().enumerate() {
                    rank[i as usize] = index_u32(r);
                }
                rank
            }
        }
    }

    /// The split-B bucket of a user with raw id `id` and rank `rank`.
    fn bucket(self, id: &str, rank: u32) -> u8 {
        match self {
            IdRule::Numeric => user_bucket(id),
            IdRule::TextRank => {
                #[allow(clippy::cast_possible_truncation)]
                let bucket = (splitmix64(u64::from(rank) ^ BUCKET_SEED) % BUCKETS) as u8;
                bucket
            }
        }
    }
}

impl<'a> Protocol<'a> {
    /// Prepares `data`. With `min_event_value`, rows whose `EVENT_VALUE` is below it (or absent)
    /// are dropped before anything else (the "positive only" variant: `Some(4.0)`).
    ///
    /// Rows whose user or item index is outside the id tables (never the case in a dataset
    /// built by the importers) are ignored.
    #[must_use]
    pub fn new(data: &'a Dataset, min_event_value: Option<f32>) -> Self {
        Self::with_ids(data, min_event_value, IdRule::Numeric)
    }

    /// [`Protocol::new`] with the ids ordered and hashed by `ids`.
    #[must_use]
    pub fn with_ids(data: &'a Dataset, min_event_value: Option<f32>, ids: IdRule) -> Self {
        let it = &data.interactions;
        let n_users = data.user_ids.len();
        let n_items = data.item_ids.len();
        let mut user_used = vec![false; n_users];
        let mut item_used = vec![false; n_items];
        for (&u, &i) in it.user.iter().zip(&it.item) {
            if let (Some(a), Some(b)) =
                (user_used.get_mut(u as usize), item_used.get_mut(i as usize))
            {
                *a = true;
                *b = true;
            }
        }
        let user_rank = ids.ranks(&data.user_ids, &user_used);
        let item_rank = ids.ranks(&data.item_ids, &item_used);
        let buckets = data
            .user_ids
            .iter()
            .zip(&user_rank)
            .map(|(id, &r)| ids.bucket(id, r))
            .collect();

        let mut keyed: Vec<(u32, i64, u32, u32)> = Vec::with_capacity(it.len());
        for (row, (&u, &i)) in it.user.iter().zip(&it.item).enumerate() {
            if u as usize >= n_users || i as usize >= n_items {
                continue;
            }
            if let Some(min) = min_event_value {
                // NaN (no value) fails the comparison, so it is dropped too.
                let keep = it.event_value.get(row).is_some_and(|&v| v >= min);
                if !keep {
                    continue;
                }
            }
            let ts = it.timestamp.get(row).copied().unwrap_or(0);
            keyed.push((
                user_rank[u as usize],
                ts,
                item_rank[i as usize],
                index_u32(row),
            ));
        }
        keyed.sort_unstable();

        // Group by user and drop repeated (user, item) pairs after their first occurrence.
        let mut seen_by = vec![u32::MAX; n_items];
        let mut rows = Vec::with_capacity(keyed.len());
        let mut users: Vec<(u32, usize, usize)> = Vec::new();
        for &(_, _, _, row) in &keyed {
            let user = it.user[row as usize];
            match users.last_mut() {
                Some(last) if last.0 == user => {}
                _ => users.push((user, rows.len(), rows.len())),
            }
            let item = it.item[row as usize] as usize;
            if seen_by[item] != user {
                seen_by[item] = user;
                rows.push(row);
            }
            if let Some(last) = users.last_mut() {
                last.2 = rows.len();
            }
        }
        Protocol {
            data,
            rows,
            users,
            buckets,
            n_items,
        }
    }

    /// Interactions, users and items left after the variant filter and deduplication.
    #[must_use]
    pub fn data_counts(&self) -> DataCounts {
        DataCounts {
            interactions: self.rows.len(),
            users: self.users.len(),
            items: self.distinct_items(&self.rows),
        }
    }

    /// Every user's deduplicated interactions in time order, as `(user index, row indices)`,
    /// users in raw-id order.
    pub fn timelines(&self) -> impl Iterator<Item = (u32, &[u32])> + '_ {
        self.users.iter().map(|&(u, s, e)| (u, &self.rows[s..e]))
    }

    /// Split A: the test split (`depth` 1) or its validation split (`depth` 2).
    fn warm_rows(&self, depth: usize) -> (Vec<u32>, Vec<(u32, u32)>) {
        let mut train = Vec::with_capacity(self.rows.len());
        let mut cases = Vec::new();
        for (user, timeline) in self.timelines() {
            let mut kept = timeline;
            let mut held = None;
            for _ in 0..depth {
                match kept.split_last() {
                    Some((&last, rest)) if kept.len() >= MIN_LEN_A => {
                        held = Some(last);
                        kept = rest;
                    }
                    _ => {
                        held = None;
                        break;
                    }
                }
            }
            if let Some(row) = held {
                cases.push((user, row));
            }
            train.extend_from_slice(kept);
        }
        train.sort_unstable();
        (train, cases)
    }

    fn warm_counts(&self, train: &[u32], cases: &[(u32, u32)]) -> WarmCounts {
        let it = &self.data.interactions;
        let in_catalogue = self.item_mask(train);
        WarmCounts {
            train_interactions: train.len(),
            train_users: self.distinct_users(train),
            catalogue_size: in_catalogue.iter().filter(|&&b| b).count(),
            test_users: cases.len(),
            test_outside_catalogue: cases
                .iter()
                .filter(|&&(_, row)| !in_catalogue[it.item[row as usize] as usize])
                .count(),
        }
    }

    fn warm_split(&self, depth: usize) -> WarmSplit {
        let (train, cases) = self.warm_rows(depth);
        let counts = self.warm_counts(&train, &cases);
        let it = &self.data.interactions;
        let test = cases
            .iter()
            .map(|&(user, row)| {
                let item = it.item[row as usize];
                WarmCase {
                    user: self.data.user_ids[user as usize].clone(),
                    item: self.data.item_ids[item as usize].clone(),
                    user_index: user,
                    item_index: item,
                    context: it
                        .context
                        .iter()
                        .filter_map(|c| {
                            let code = *c.codes.get(row as usize)?;
                            let value = c.dictionary.get(code as usize)?;
                            Some((c.name.clone(), value.clone()))
                        })
                        .collect(),
                }
            })
            .collect();
        WarmSplit {
            train: subset(self.data, &train),
            test,
            counts,
        }
    }

    /// Split A: users with at least [`MIN_LEN_A`] interactions lose their last one to test.
    #[must_use]
    pub fn split_a(&self) -> WarmSplit {
        self.warm_split(1)
    }

    /// The split-A validation split: the split-A rule applied again to the split-A training
    /// set (tune on its `train`, evaluate on its `test`).
    #[must_use]
    pub fn split_a_validation(&self) -> WarmSplit {
        self.warm_split(2)
    }

    fn cold_rows(&self, role: ColdRole) -> (Vec<u32>, Vec<usize>, usize) {
        let cold = role.cold_bucket();
        let mut train = Vec::with_capacity(self.rows.len());
        let mut evaluated = Vec::new();
        let mut held_out = 0;
        for (k, &(user, s, e)) in self.users.iter().enumerate() {
            let bucket = self.buckets[user as usize];
            if role.trains_on(bucket) {
                train.extend_from_slice(&self.rows[s..e]);
            } else if bucket == cold {
                held_out += 1;
                if e - s >= MIN_LEN_B {
                    evaluated.push(k);
                }
            }
        }
        train.sort_unstable();
        (train, evaluated, held_out)
    }

    fn cold_counts(&self, train: &[u32], evaluated: usize, held_out: usize) -> ColdCounts {
        ColdCounts {
            train_users: self.distinct_users(train),
            train_interactions: train.len(),
            catalogue_size: self.distinct_items(train),
            held_out_users: held_out,
            cold_users: evaluated,
        }
    }

    /// Split B: held-in users' interactions as training data, cold users' histories to
    /// evaluate sessions on.
    #[must_use]
    pub fn split_b(&self, role: ColdRole) -> ColdSplit {
        let (train, evaluated, held_out) = self.cold_rows(role);
        let counts = self.cold_counts(&train, evaluated.len(), held_out);
        let it = &self.data.interactions;
        let users = evaluated
            .iter()
            .map(|&k| {
                let (user, s, e) = self.users[k];
                let items: Vec<u32> = self.rows[s..e]
                    .iter()
                    .map(|&row| it.item[row as usize])
                    .collect();
                ColdUser {
                    user: self.data.user_ids[user as usize].clone(),
                    user_index: user,
                    sequence: items
                        .iter()
                        .map(|&i| self.data.item_ids[i as usize].clone())
                        .collect(),
                    items,
                    times: self.rows[s..e]
                        .iter()
                        .map(|&row| it.timestamp[row as usize])
                        .collect(),
                    contexts: self.rows[s..e]
                        .iter()
                        .map(|&row| {
                            it.context
                                .iter()
                                .filter_map(|c| {
                                    let code = *c.codes.get(row as usize)?;
                                    let value = c.dictionary.get(code as usize)?;
                                    Some((c.name.clone(), value.clone()))
                                })
                                .collect()
                        })
                        .collect(),
                }
            })
            .collect();
        ColdSplit {
            role,
            train: subset(self.data, &train),
            users,
            counts,
        }
    }

    /// All check-value counts of docs/protocol.md, without building the training datasets.
    #[must_use]
    pub fn report(&self) -> ProtocolReport {
        let warm = |depth| {
            let (train, cases) = self.warm_rows(depth);
            self.warm_counts(&train, &cases)
        };
        let cold = |role| {
            let (train, evaluated, held_out) = self.cold_rows(role);
            self.cold_counts(&train, evaluated.len(), held_out)
        };
        ProtocolReport {
            data: self.data_counts(),
            split_a: warm(1),
            split_a_validation: warm(2),
            split_b: cold(ColdRole::Test),
            split_b_validation: cold(ColdRole::Validation),
        }
    }

    fn item_mask(&self, rows: &[u32]) -> Vec<bool> {
        let it = &self.data.interactions;
        let mut mask = vec![false; self.n_items];
        for &row in rows {
            mask[it.item[row as usize] as usize] = true;
        }
        mask
    }

    fn distinct_items(&self, rows: &[u32]) -> usize {
        self.item_mask(rows).iter().filter(|&&b| b).count()
    }

    fn distinct_users(&self, rows: &[u32]) -> usize {
        let it = &self.data.interactions;
        let mut mask = vec![false; self.data.user_ids.len()];
        for &row in rows {
            mask[it.user[row as usize] as usize] = true;
        }
        mask.iter().filter(|&&b| b).count()
    }
}

/// Split A of `data` (no variant filter). See [`Protocol::split_a`].
#[must_use]
pub fn split_a(data: &Dataset) -> WarmSplit {
    Protocol::new(data, None).split_a()
}

/// The split-A validation split of `data` (no variant filter). See
/// [`Protocol::split_a_validation`].
#[must_use]
pub fn split_a_validation(data: &Dataset) -> WarmSplit {
    Protocol::new(data, None).split_a_validation()
}

/// Split B of `data` (no variant filter). See [`Protocol::split_b`].
#[must_use]
pub fn split_b(data: &Dataset, role: ColdRole) -> ColdSplit {
    Protocol::new(data, None).split_b(role)
}

/// `data` with only the rows whose value is at least `min_event_value` (all rows for `None`).
#[must_use]
pub fn filter_min_event_value(data: &Dataset, min_event_value: Option<f32>) -> Cow<'_, Dataset> {
    match min_event_value {
        None => Cow::Borrowed(data),
        Some(min) => {
            let it = &data.interactions;
            let rows: Vec<u32> = (0..it.len())
                .filter(|&r| it.event_value.get(r).is_some_and(|&v| v >= min))
                .map(index_u32)
                .collect();
            Cow::Owned(subset(data, &rows))
        }
    }
}

/// A copy of `data` whose interactions are the given rows (in the given order).
pub fn subset(data: &Dataset, rows: &[u32]) -> Dataset {
    let it = &data.interactions;
    fn pick<T: Clone>(column: &[T], rows: &[u32], missing: &T) -> Vec<T> {
        rows.iter()
            .map(|&r| column.get(r as usize).unwrap_or(missing).clone())
            .collect()
    }
    let interactions = Interactions {
        user: pick(&it.user, rows, &0),
        item: pick(&it.item, rows, &0),
        timestamp: pick(&it.timestamp, rows, &0),
        event_type: pick(&it.event_type, rows, &0),
        event_value: pick(&it.event_value, rows, &f32::NAN),
        impression: it.impression.as_ref().map(|c| pick(c, rows, &Vec::new())),
        recommendation_id: it.recommendation_id.as_ref().map(|c| pick(c, rows, &None)),
        context: it
            .context
            .iter()
            .map(|c| ContextColumn {
                name: c.name.clone(),
                dictionary: c.dictionary.clone(),
                codes: pick(&c.codes, rows, &u32::MAX),
            })
            .collect(),
    };
    Dataset {
        name: data.name.clone(),
        user_ids: data.user_ids.clone(),
        item_ids: data.item_ids.clone(),
        event_types: data.event_types.clone(),
        interactions,
        item_columns: data.item_columns.clone(),
        item_creation: data.item_creation.clone(),
        user_columns: data.user_columns.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    /// A dataset from `(user, item, timestamp, value)` rows, ids interned in first-seen order.
    fn dataset(rows: &[(&str, &str, i64, f32)]) -> Dataset {
        let mut d = Dataset::default();
        for &(u, i, t, v) in rows {
            let ui = intern(&mut d.user_ids, u);
            let ii = intern(&mut d.item_ids, i);
            d.interactions.user.push(ui);
            d.interactions.item.push(ii);
            d.interactions.timestamp.push(t);
            d.interactions.event_type.push(0);
            d.interactions.event_value.push(v);
        }
        d
    }

    fn intern(ids: &mut Vec<String>, id: &str) -> u32 {
        match ids.iter().position(|x| x == id) {
            Some(p) => index_u32(p),
            None => {
                ids.push(id.to_owned());
                index_u32(ids.len() - 1)
            }
        }
    }

    fn raw_items(d: &Dataset, rows: &[u32]) -> Vec<String> {
        rows.iter()
            .map(|&r| d.item_ids[d.interactions.item[r as usize] as usize].clone())
            .collect()
    }

    #[test]
    fn raw_ids_compare_numerically_then_textually() {
        assert_eq!(compare_raw_ids("9", "10"), Ordering::Less);
        assert_eq!(compare_raw_ids("10", "9"), Ordering::Greater);
        assert_eq!(compare_raw_ids("07", "7"), Ordering::Less);
        assert_eq!(compare_raw_ids("-3", "2"), Ordering::Less);
        assert_eq!(compare_raw_ids("10", "1a"), Ordering::Less);
        assert_eq!(compare_raw_ids("1a", "9"), Ordering::Greater);
        assert_eq!(compare_raw_ids("abc", "abd"), Ordering::Less);
        assert_eq!(compare_raw_ids("x", "x"), Ordering::Equal);
        let ids: Vec<String> = ["b", "10", "1a", "9", "07", "7", "a"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let sorted: Vec<&str> = edgerec_core::id_order::sorted_by_raw_id(&ids)
            .iter()
            .map(|&i| ids[i as usize].as_str())
            .collect();
        assert_eq!(sorted, ["07", "7", "9", "10", "1a", "a", "b"]);
    }

    #[test]
    fn splitmix64_known_values() {
        assert_eq!(splitmix64(0), 0xe220_a839_7b1d_cdaf);
        assert_eq!(splitmix64(1), 0x910a_2dec_8902_5cc1);
        assert_eq!(splitmix64(42), 0xbdd7_3226_2feb_6e95);
        assert_eq!(splitmix64(43), 0xba69_ec90_eb4f_ef88);
        assert_eq!(splitmix64(u64::MAX), 0xe4d9_7177_1b65_2c20);
    }

    #[test]
    fn buckets_match_reference() {
        let expected = [
            ("1", 0),
            ("2", 8),
            ("3", 3),
            ("6", 1),
            ("10", 1),
            ("12", 2),
            ("100", 6),
            ("943", 6),
            ("-1", 3),
            ("-7", 1),
            // non-integer ids: FNV-1a 64 of the bytes, then the same hash
            ("abc", 6),
            ("user-7", 5),
            ("", 9),
        ];
        for (id, bucket) in expected {
            assert_eq!(user_bucket(id), bucket, "user {id:?}");
        }
        assert_eq!(fnv1a64(b"abc"), 0xe71f_a219_0541_574b);
    }

    #[test]
    fn time_order_breaks_ties_by_numeric_item_id_and_dedupes() {
        let d = dataset(&[
            ("1", "10", 5, 1.0),
            ("1", "9", 5, 1.0),
            ("1", "100", 1, 1.0),
            ("1", "2", 5, 1.0),
            ("1", "9", 0, 1.0), // earlier duplicate: this one is kept
            ("2", "3", 7, 1.0),
        ]);
        let p = Protocol::new(&d, None);
        let lines: Vec<(u32, Vec<String>)> = p
            .timelines()
            .map(|(u, rows)| (u, raw_items(&d, rows)))
            .collect();
        assert_eq!(
            lines,
            vec![
                (0, vec!["9".into(), "100".into(), "2".into(), "10".into()]),
                (1, vec!["3".into()]),
            ]
        );
        assert_eq!(
            p.data_counts(),
            DataCounts {
                interactions: 5,
                users: 2,
                items: 5
            }
        );
    }

    #[test]
    fn split_a_and_validation() {
        let mut rows = Vec::new();
        // user 1: six interactions, items 1..=6 at times 1..=6
        let items: Vec<String> = (1..=6).map(|i| i.to_string()).collect();
        for (t, i) in items.iter().enumerate() {
            rows.push(("1", i.as_str(), i64::try_from(t).unwrap_or(0), 1.0));
        }
        // user 2: five interactions with equal timestamps -> last = highest item id (20)
        for i in ["20", "3", "4", "5", "6"] {
            rows.push(("2", i, 9, 1.0));
        }
        // user 3: four interactions -> no test item
        for i in ["1", "2", "3", "7"] {
            rows.push(("3", i, 1, 1.0));
        }
        let d = dataset(&rows);
        let a = split_a(&d);
        let cases: Vec<(&str, &str)> = a
            .test
            .iter()
            .map(|c| (c.user.as_str(), c.item.as_str()))
            .collect();
        assert_eq!(cases, [("1", "6"), ("2", "20")]);
        assert_eq!(
            a.counts,
            WarmCounts {
                train_interactions: 13,
                train_users: 3,
                catalogue_size: 7, // 1..=7; "20" is a test item only
                test_users: 2,
                test_outside_catalogue: 1,
            }
        );
        assert_eq!(a.train.interactions.len(), 13);
        assert_eq!(a.train.user_ids, d.user_ids);
        // rows keep their original order
        assert!(a.train.interactions.user.windows(2).all(|w| w[0] <= w[1]));

        let v = split_a_validation(&d);
        let cases: Vec<(&str, &str)> = v
            .test
            .iter()
            .map(|c| (c.user.as_str(), c.item.as_str()))
            .collect();
        // user 2 has only four train interactions left: no validation item
        assert_eq!(cases, [("1", "5")]);
        assert_eq!(v.counts.train_interactions, 12);
        assert_eq!(
            Protocol::new(&d, None).report().split_a_validation,
            v.counts
        );
    }

    #[test]
    fn min_event_value_applies_before_the_split() {
        let d = dataset(&[
            ("1", "1", 1, 5.0),
            ("1", "2", 2, 4.0),
            ("1", "3", 3, 3.5),
            ("1", "4", 4, 4.5),
            ("1", "5", 5, 4.0),
            ("1", "6", 6, f32::NAN),
            ("1", "7", 7, 2.0), // last overall, but filtered out
        ]);
        let all = Protocol::new(&d, None).split_a();
        assert_eq!(all.test[0].item, "7");
        let pos = Protocol::new(&d, Some(4.0));
        assert_eq!(pos.data_counts().interactions, 4);
        // four positives only: no test item
        assert!(pos.split_a().test.is_empty());
        assert_eq!(filter_min_event_value(&d, Some(4.0)).interactions.len(), 4);
        assert_eq!(filter_min_event_value(&d, None).interactions.len(), 7);
    }

    #[test]
    fn split_b_buckets_sessions_and_targets() {
        let mut rows = Vec::new();
        let items: Vec<String> = (0..20).map(|i| (100 - i).to_string()).collect();
        // user 1 (bucket 0): 16 interactions, all at the same time -> numeric item order
        for i in &items[..16] {
            rows.push(("1", i.as_str(), 3, 1.0));
        }
        // user 10 (bucket 1): 15 interactions
        for i in &items[..15] {
            rows.push(("10", i.as_str(), 3, 1.0));
        }
        // user 6 (bucket 1): too short to evaluate
        rows.push(("6", "1", 3, 1.0));
        // user 2 (bucket 8) and user 12 (bucket 2): training users
        rows.push(("2", "500", 3, 1.0));
        rows.push(("12", "501", 3, 1.0));
        let d = dataset(&rows);

        let test = split_b(&d, ColdRole::Test);
        assert_eq!(
            test.counts,
            ColdCounts {
                train_users: 4,
                train_interactions: 18,
                catalogue_size: 18,
                held_out_users: 1,
                cold_users: 1,
            }
        );
        let u = &test.users[0];
        assert_eq!(u.user, "1");
        let expected: Vec<String> = (85..=100).map(|i: i32| i.to_string()).collect();
        assert_eq!(u.sequence, expected);
        assert_eq!(u.session(5), &expected[..5]);
        assert_eq!(u.targets(5), &expected[5..15]);
        assert_eq!(u.targets(10), &expected[10..16]); // fewer than 10 left
        assert_eq!(u.session(40).len(), 16);
        assert!(u.targets(40).is_empty());
        assert_eq!(u.session_items(3).len(), 3);
        assert_eq!(u.target_items(5).len(), 10);

        let val = split_b(&d, ColdRole::Validation);
        assert_eq!(val.users.len(), 1);
        assert_eq!(val.users[0].user, "10");
        assert_eq!(val.counts.held_out_users, 2);
        assert_eq!(val.counts.train_users, 2);
        assert_eq!(val.train.interactions.len(), 2);

        // Fold 1 is the validation split; fold 2 holds bucket 2 out and trains on bucket 1.
        let fold1 = split_b(&d, ColdRole::Fold(1));
        assert_eq!(fold1.counts, val.counts);
        assert_eq!(fold1.train.interactions.item, val.train.interactions.item);
        let fold2 = split_b(&d, ColdRole::Fold(2));
        assert!(fold2.users.is_empty());
        assert_eq!(fold2.counts.held_out_users, 1);
        let raw: Vec<&str> = fold2
            .train
            .interactions
            .user
            .iter()
            .map(|&u| fold2.train.user_ids[u as usize].as_str())
            .collect();
        assert!(raw.contains(&"10") && raw.contains(&"2") && !raw.contains(&"12"));
        assert!(!raw.contains(&"1"), "the test bucket never trains a fold");
        assert_eq!(ColdRole::folds(0), vec![ColdRole::Fold(1)]);
        assert_eq!(ColdRole::folds(20).len(), 9);
    }

    #[test]
    fn catalogue_is_sorted_by_raw_id() {
        let d = dataset(&[
            ("1", "b", 1, 1.0),
            ("1", "10", 1, 1.0),
            ("2", "9", 1, 1.0),
            ("2", "a", 1, 1.0),
        ]);
        let mut train = d.clone();
        // an item in the id table without interactions is not in the catalogue
        train.item_ids.push("1".into());
        let order: Vec<&str> = catalogue_order(&train)
            .iter()
            .map(|&i| train.item_ids[i as usize].as_str())
            .collect();
        assert_eq!(order, ["9", "10", "a", "b"]);
    }
}
