//! The evaluation protocol against its published check values (docs/protocol.md and the
//! Popularity rows of the peer benchmark), on MovieLens 100K and MovieLens latest-small, with
//! and without the rating ≥ 4 variant, and on the three interactions CSVs of the peer
//! benchmark with its id rule for CSV input (ids ranked as text).
//!
//! The data is looked up in `$EDGEREC_DATA`, else in `<repo root>/../shared/data`; when it is
//! absent the tests print why and pass. Run with `--release -- --nocapture` to see the values.

use std::path::{Path, PathBuf};
use std::time::Instant;

use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::evaluate::metrics::{
    ColdMetrics, ColdReport, WarmMetrics, WarmReport, mean_ndcg_at_10,
};
use edgerec_trainer::evaluate::protocol::{
    ColdRole, ColdSplit, IdRule, Protocol, SESSION_LENGTHS, WarmSplit, catalogue_order,
};

fn data_root() -> PathBuf {
    match std::env::var_os("EDGEREC_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"),
    }
}

/// The dataset folder `name`, or `None` (after saying so) when it is not there.
fn locate(name: &str, file: &str) -> Option<PathBuf> {
    let dir = data_root().join(name);
    if dir.join(file).is_file() {
        Some(dir)
    } else {
        println!("skipped: {name} not found at {}", dir.display());
        None
    }
}

/// Test-local MovieLens reader (`u.data` or `ratings.csv`): one interaction per rating row,
/// `EVENT_VALUE` = rating.
fn load(dir: &Path) -> Dataset {
    edgerec_trainer::import::load_movielens(dir)
        .expect("import")
        .0
}

// ------------------------------------------------------------------------------------------
// test-local Popularity: count per catalogue item over train, ties -> lower raw id
// ------------------------------------------------------------------------------------------

/// Catalogue items (dataset indices) by count descending, ties by raw id ascending (as text
/// under [`IdRule::TextRank`]).
fn popularity_order(train: &Dataset, ids: IdRule) -> Vec<u32> {
    let mut count = vec![0usize; train.item_ids.len()];
    for &i in &train.interactions.item {
        count[i as usize] += 1;
    }
    let mut order = catalogue_order(train); // raw-id order; the stable sort keeps it for ties
    if ids == IdRule::TextRank {
        order.sort_by(|&a, &b| train.item_ids[a as usize].cmp(&train.item_ids[b as usize]));
    }
    order.sort_by_key(|&i| std::cmp::Reverse(count[i as usize]));
    order
}

/// The first `k` items of `order` that are not excluded, as raw ids.
fn top_k<'a>(order: &[u32], excluded: &[bool], k: usize, ids: &'a [String]) -> Vec<&'a str> {
    order
        .iter()
        .filter(|&&i| !excluded[i as usize])
        .take(k)
        .map(|&i| ids[i as usize].as_str())
        .collect()
}

fn popularity_warm(split: &WarmSplit, ids: IdRule) -> WarmReport {
    let train = &split.train;
    let order = popularity_order(train, ids);
    let mut seen: Vec<Vec<u32>> = vec![Vec::new(); train.user_ids.len()];
    for (&u, &i) in train.interactions.user.iter().zip(&train.interactions.item) {
        seen[u as usize].push(i);
    }
    let mut excluded = vec![false; train.item_ids.len()];
    let mut metrics = WarmMetrics::new(order.len());
    for case in &split.test {
        let own = &seen[case.user_index as usize];
        own.iter().for_each(|&i| excluded[i as usize] = true);
        metrics.add(&top_k(&order, &excluded, 25, &train.item_ids), &case.item);
        own.iter().for_each(|&i| excluded[i as usize] = false);
    }
    metrics.finish()
}

fn popularity_cold(split: &ColdSplit, ids: IdRule) -> Vec<ColdReport> {
    let train = &split.train;
    let order = popularity_order(train, ids);
    let mut excluded = vec![false; train.item_ids.len()];
    SESSION_LENGTHS
        .iter()
        .map(|&n| {
            let mut metrics = ColdMetrics::new(n);
            for user in &split.users {
                let session = user.session_items(n);
                session.iter().for_each(|&i| excluded[i as usize] = true);
                metrics.add(
                    &top_k(&order, &excluded, 10, &train.item_ids),
                    user.targets(n),
                );
                session.iter().for_each(|&i| excluded[i as usize] = false);
            }
            metrics.finish()
        })
        .collect()
}

// ------------------------------------------------------------------------------------------
// check values
// ------------------------------------------------------------------------------------------

struct Expected {
    /// interactions / users / items after the variant filter
    data: [usize; 3],
    /// split A: train interactions / train users / catalogue / test users / outside catalogue
    split_a: [usize; 5],
    /// split B: train users / train interactions / catalogue / cold test / cold validation
    split_b: [usize; 5],
    /// Popularity split A: HR@10, NDCG@10, ±se, MRR@25, Recall@20 (4 decimals), Cov@10 (3)
    pop_a: [&'static str; 6],
    /// Popularity split B: (Recall@10, NDCG@10) for N = 1, 3, 5, then N=5 NDCG ±se
    pop_b: [&'static str; 7],
    /// Popularity validation: split A NDCG@10, split B mean NDCG@10 over N
    pop_val: [&'static str; 2],
}

fn s(v: f64) -> String {
    format!("{v:.4}")
}

fn check(name: &str, file: &str, min_rating: Option<f32>, e: &Expected) {
    let Some(dir) = locate(name, file) else {
        return;
    };
    let t0 = Instant::now();
    let data = load(&dir);
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    let label = match min_rating {
        Some(m) => format!("{name} (rating >= {m})"),
        None => name.to_owned(),
    };
    check_data(&label, &data, load_ms, min_rating, IdRule::Numeric, e);
}

/// [`check`] for an interactions CSV of the peer benchmark (`<name>/interactions.csv`), read
/// with the benchmark's id rule for CSV input.
fn check_csv(name: &str, e: &Expected) {
    let Some(dir) = locate(name, "interactions.csv") else {
        return;
    };
    let t0 = Instant::now();
    let spec = edgerec_trainer::import::DatasetSpec::new(dir.join("interactions.csv"));
    let data = edgerec_trainer::import::load(&spec).expect("import").0;
    let load_ms = t0.elapsed().as_secs_f64() * 1e3;
    check_data(name, &data, load_ms, None, IdRule::TextRank, e);
}

fn check_data(
    label: &str,
    data: &Dataset,
    load_ms: f64,
    min_rating: Option<f32>,
    ids: IdRule,
    e: &Expected,
) {
    let t0 = Instant::now();
    let protocol = Protocol::with_ids(data, min_rating, ids);
    let a = protocol.split_a();
    let a_val = protocol.split_a_validation();
    let b = protocol.split_b(ColdRole::Test);
    let b_val = protocol.split_b(ColdRole::Validation);
    let split_ms = t0.elapsed().as_secs_f64() * 1e3;
    let report = protocol.report();

    let d = report.data;
    let (ca, cb) = (a.counts, b.counts);
    println!("== {label}: load {load_ms:.0} ms, four splits {split_ms:.1} ms");
    println!(
        "   data: {} interactions, {} users, {} items",
        d.interactions, d.users, d.items
    );
    println!(
        "   split A: train {} interactions / {} users / catalogue {}; test users {}, \
         outside catalogue {}",
        ca.train_interactions,
        ca.train_users,
        ca.catalogue_size,
        ca.test_users,
        ca.test_outside_catalogue
    );
    println!(
        "   split B: train users {} / train interactions {} / catalogue {}; cold test users {}, \
         cold validation users {}",
        cb.train_users,
        cb.train_interactions,
        cb.catalogue_size,
        cb.cold_users,
        b_val.counts.cold_users
    );
    assert_eq!([d.interactions, d.users, d.items], e.data, "{label}: data");
    assert_eq!(
        [
            ca.train_interactions,
            ca.train_users,
            ca.catalogue_size,
            ca.test_users,
            ca.test_outside_catalogue
        ],
        e.split_a,
        "{label}: split A"
    );
    assert_eq!(
        [
            cb.train_users,
            cb.train_interactions,
            cb.catalogue_size,
            cb.cold_users,
            b_val.counts.cold_users
        ],
        e.split_b,
        "{label}: split B"
    );
    assert_eq!(report.split_a, ca);
    assert_eq!(report.split_a_validation, a_val.counts);
    assert_eq!(report.split_b, cb);
    assert_eq!(report.split_b_validation, b_val.counts);
    assert_eq!(a.train.interactions.len(), ca.train_interactions);
    assert_eq!(b.train.interactions.len(), cb.train_interactions);
    assert_eq!(catalogue_order(&a.train).len(), ca.catalogue_size);

    let pa = popularity_warm(&a, ids);
    let got_a = [
        s(pa.hr_at_10),
        s(pa.ndcg_at_10),
        s(pa.ndcg_at_10_se),
        s(pa.mrr_at_25),
        s(pa.recall_at_20),
        format!("{:.3}", pa.coverage_at_10),
    ];
    println!(
        "   Popularity A: HR@10 {} NDCG@10 {} ±{} MRR@25 {} Recall@20 {} Cov@10 {}",
        got_a[0], got_a[1], got_a[2], got_a[3], got_a[4], got_a[5]
    );
    assert_eq!(got_a, e.pop_a.map(str::to_owned), "{label}: Popularity A");

    let pb = popularity_cold(&b, ids);
    let got_b = [
        s(pb[0].recall_at_10),
        s(pb[0].ndcg_at_10),
        s(pb[1].recall_at_10),
        s(pb[1].ndcg_at_10),
        s(pb[2].recall_at_10),
        s(pb[2].ndcg_at_10),
        s(pb[2].ndcg_at_10_se),
    ];
    println!(
        "   Popularity B: N=1 R@10 {} NDCG@10 {} | N=3 {} {} | N=5 {} {} ±{}",
        got_b[0], got_b[1], got_b[2], got_b[3], got_b[4], got_b[5], got_b[6]
    );
    assert_eq!(got_b, e.pop_b.map(str::to_owned), "{label}: Popularity B");

    let val = [
        s(popularity_warm(&a_val, ids).ndcg_at_10),
        s(mean_ndcg_at_10(&popularity_cold(&b_val, ids))),
    ];
    println!(
        "   Popularity validation: A NDCG@10 {}, B mean NDCG@10 {}",
        val[0], val[1]
    );
    assert_eq!(
        val,
        e.pop_val.map(str::to_owned),
        "{label}: Popularity validation"
    );

    let json = serde_json::to_string(&pa).expect("serialisable");
    assert!(json.contains("\"NDCG@10\"") && json.contains("\"precision_at_25\""));
}

#[test]
fn ml_100k() {
    check(
        "ml-100k",
        "u.data",
        None,
        &Expected {
            data: [100_000, 943, 1_682],
            split_a: [99_057, 943, 1_679, 943, 3],
            split_b: [827, 88_341, 1_677, 116, 92],
            pop_a: ["0.0498", "0.0253", "0.0040", "0.0206", "0.0817", "0.054"],
            pop_b: [
                "0.1690", "0.1628", "0.1388", "0.1434", "0.1241", "0.1327", "0.0114",
            ],
            pop_val: ["0.0327", "0.1556"],
        },
    );
}

#[test]
fn ml_100k_positive_only() {
    check(
        "ml-100k",
        "u.data",
        Some(4.0),
        &Expected {
            data: [55_375, 942, 1_447],
            split_a: [54_437, 942, 1_430, 938, 17],
            split_b: [826, 48_915, 1_433, 101, 75],
            pop_a: ["0.0586", "0.0290", "0.0042", "0.0236", "0.0970", "0.045"],
            pop_b: [
                "0.1337", "0.1559", "0.1257", "0.1441", "0.1158", "0.1306", "0.0128",
            ],
            pop_val: ["0.0320", "0.1639"],
        },
    );
}

#[test]
fn ml_latest_small() {
    check(
        "ml-latest-small",
        "ratings.csv",
        None,
        &Expected {
            data: [100_836, 610, 9_724],
            split_a: [100_226, 610, 9_701, 610, 23],
            split_b: [535, 90_934, 9_546, 75, 59],
            pop_a: ["0.0426", "0.0194", "0.0041", "0.0146", "0.0689", "0.013"],
            pop_b: [
                "0.0893", "0.0966", "0.0853", "0.0912", "0.0720", "0.0805", "0.0165",
            ],
            pop_val: ["0.0172", "0.0907"],
        },
    );
}

#[test]
fn ml_latest_small_positive_only() {
    check(
        "ml-latest-small",
        "ratings.csv",
        Some(4.0),
        &Expected {
            data: [48_580, 609, 6_298],
            split_a: [47_977, 609, 6_263, 603, 35],
            split_b: [534, 43_202, 6_048, 60, 53],
            pop_a: ["0.0381", "0.0203", "0.0045", "0.0171", "0.0680", "0.010"],
            pop_b: [
                "0.1417", "0.1562", "0.1317", "0.1418", "0.1250", "0.1368", "0.0200",
            ],
            pop_val: ["0.0189", "0.1181"],
        },
    );
}

#[test]
fn foursquare_us_5k() {
    check_csv(
        "foursquare-us-5k",
        &Expected {
            data: [92_103, 4_969, 8_000],
            split_a: [87_597, 4_969, 8_000, 4_506, 0],
            split_b: [4_483, 82_669, 7_987, 262, 258],
            pop_a: ["0.0737", "0.0401", "0.0023", "0.0331", "0.1138", "0.003"],
            pop_b: [
                "0.0580", "0.0590", "0.0538", "0.0557", "0.0519", "0.0569", "0.0058",
            ],
            pop_val: ["0.0336", "0.0607"],
        },
    );
}

#[test]
fn gowalla_1k() {
    check_csv(
        "gowalla-1k",
        &Expected {
            data: [92_845, 1_000, 24_209],
            split_a: [91_845, 1_000, 24_096, 1_000, 113],
            split_b: [880, 81_895, 23_264, 120, 93],
            pop_a: ["0.0200", "0.0097", "0.0023", "0.0073", "0.0290", "0.002"],
            pop_b: [
                "0.0308", "0.0339", "0.0242", "0.0263", "0.0217", "0.0214", "0.0046",
            ],
            pop_val: ["0.0107", "0.0236"],
        },
    );
}

#[test]
fn amazon_grocery_5core() {
    check_csv(
        "amazon-grocery-5core",
        &Expected {
            data: [151_254, 14_681, 8_713],
            split_a: [136_573, 14_681, 8_711, 14_681, 16],
            split_b: [13_198, 136_529, 8_713, 203, 230],
            pop_a: ["0.0082", "0.0040", "0.0004", "0.0037", "0.0177", "0.003"],
            pop_b: [
                "0.0596", "0.0695", "0.0635", "0.0728", "0.0596", "0.0660", "0.0079",
            ],
            pop_val: ["0.0079", "0.0806"],
        },
    );
}

/// The tuning folds hold out buckets 1–9 in turn: together their cold users are exactly the
/// test run's training users with enough interactions, and no fold trains on a test user.
#[test]
fn cold_folds_partition_the_test_runs_training_users() {
    let Some(dir) = locate("ml-100k", "u.data") else {
        return;
    };
    let data = load(&dir);
    let protocol = Protocol::new(&data, None);
    let test = protocol.split_b(ColdRole::Test);
    let test_users: std::collections::HashSet<&str> =
        test.users.iter().map(|u| u.user.as_str()).collect();
    let mut pooled = std::collections::HashSet::new();
    for role in ColdRole::folds(9) {
        let fold = protocol.split_b(role);
        for u in &fold.users {
            assert!(pooled.insert(u.user.clone()), "{} in two folds", u.user);
            assert!(!test_users.contains(u.user.as_str()));
        }
        let train = &fold.train;
        for &u in &train.interactions.user {
            let id = train.user_ids[u as usize].as_str();
            assert!(
                !test_users.contains(id),
                "fold {role:?} trains on test user {id}"
            );
        }
        assert_eq!(
            train.interactions.user.len() + fold.users.iter().map(|u| u.items.len()).sum::<usize>(),
            test.train.interactions.user.len(),
            "every fold splits the test run's training interactions (ml-100k users all have 15+)"
        );
    }
    // ml-100k users all have at least 20 ratings: every training user of the test run is cold once.
    assert_eq!(pooled.len(), test.counts.train_users);
    assert_eq!(pooled.len(), 827);
}
