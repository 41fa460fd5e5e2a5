#![allow(clippy::unwrap_used)]
//! `--hpo`: candidates scored on the validation split, the best kept, pinned parameters fixed.

use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::evaluate::hpo::{HpoOptions, Objective, search};
use edgerec_trainer::import::{self, DatasetSpec};

#[test]
fn search_keeps_the_best_validation_candidate_and_pinned_parameters() {
    let demo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/interactions.csv");
    let (ds, _) = import::load(&DatasetSpec::new(&demo)).unwrap();
    let cfg = TrainConfig::parse(
        "[recommenders]\nviewed = \"sims (window=10)\"\npopular = \"popularity-count\"\n",
    )
    .unwrap();
    let opts = HpoOptions {
        trials: 4,
        objective: Objective::Cold,
        ..HpoOptions::default()
    };
    let (tuned, report) = search(&ds, &cfg, &opts).unwrap();
    let at =
        |c: &TrainConfig, name: &str| c.recommenders.iter().position(|r| r.name == name).unwrap();
    let (v, p) = (at(&cfg, "viewed"), at(&cfg, "popular"));
    // Only the searchable recommender is searched, with the configured parameters first.
    assert_eq!(report.searches.len(), 1);
    let s = &report.searches[0];
    assert_eq!(s.trials.len(), 4);
    assert_eq!(s.trials[0].params, cfg.recommenders[v].params);
    for t in &s.trials {
        assert!((0.0..=1.0).contains(&t.split_a_ndcg_at_10));
        assert!((0.0..=1.0).contains(&t.split_b_ndcg_at_10));
        assert!((t.score - t.split_b_ndcg_at_10).abs() < 1e-12);
        assert_eq!(t.params.get("window"), Some(&toml::Value::Integer(10)));
    }
    assert!(s.trials.iter().all(|t| t.score <= s.trials[s.best].score));
    assert!(
        s.trials.iter().any(|t| t.params.len() > 1),
        "random draws add parameters"
    );
    // The tuned config carries the chosen parameters; the rest is unchanged.
    assert_eq!(tuned.recommenders[v].params, s.trials[s.best].params);
    assert_eq!(tuned.recommenders[p], cfg.recommenders[p]);
}
