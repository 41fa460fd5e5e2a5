#![allow(clippy::unwrap_used)]
//! `evaluate --embedding-gap`: int8 and f32 scored on the same split A, paired per test user.

use edgerec_trainer::config::{EmbeddingKind, TrainConfig};
use edgerec_trainer::evaluate::run::{EvalOptions, evaluate};
use edgerec_trainer::import::{self, DatasetSpec};

#[test]
fn the_gap_pairs_the_int8_model_with_the_f32_model_of_the_same_factors() {
    let demo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/interactions.csv");
    let (ds, _) = import::load(&DatasetSpec::new(&demo)).unwrap();
    let cfg = TrainConfig::parse(
        "[recommenders]\nfor-you = \"user-personalization (factors=16, iterations=5)\"\nviewed = \"sims\"\n",
    )
    .unwrap();
    let run = |embedding, gap| {
        evaluate(
            &ds,
            &cfg,
            &EvalOptions {
                validation: true,
                embedding: Some(embedding),
                embedding_gap: gap,
                ..EvalOptions::default()
            },
        )
        .unwrap()
    };
    let with_gap = run(EmbeddingKind::Int8, true);
    let f32_only = run(EmbeddingKind::F32, false);
    assert!(f32_only.embedding_gap.is_empty(), "only when asked for");
    let ndcg = |r: &edgerec_trainer::evaluate::run::EvalReport, name: &str| {
        r.results
            .iter()
            .find(|x| x.name == name)
            .unwrap()
            .split_a
            .ndcg_at_10
    };
    // Every recommender but the popularity baseline, each scored over all test users.
    let names: Vec<&str> = with_gap
        .embedding_gap
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(names, ["for-you", "viewed"]);
    for g in &with_gap.embedding_gap {
        assert_eq!(g.users, with_gap.split_a.test_users);
        // Both sides agree with the main reports of each storage (scored by the metrics module).
        assert!((g.ndcg_at_10_int8 - ndcg(&with_gap, &g.name)).abs() < 1e-12);
        assert!((g.ndcg_at_10_f32 - ndcg(&f32_only, &g.name)).abs() < 1e-12);
        assert!((g.difference - (g.ndcg_at_10_int8 - g.ndcg_at_10_f32)).abs() < 1e-12);
        assert!(g.left_top_10 + g.entered_top_10 + g.moved_in_top_10 <= g.users);
        assert!((0.0..=1.0).contains(&g.top_10_overlap));
    }
    // Quantising the factors reorders some of the factor model's lists, never all of them.
    let factors = &with_gap.embedding_gap[0];
    assert!(
        factors.top_10_overlap > 0.5 && factors.top_10_overlap < 1.0,
        "{}",
        factors.top_10_overlap
    );
    // Item-item neighbours hold no embeddings: storing factors differently changes nothing.
    let sims = &with_gap.embedding_gap[1];
    assert_eq!(
        (
            sims.difference,
            sims.left_top_10,
            sims.entered_top_10,
            sims.moved_in_top_10,
            sims.top_10_overlap
        ),
        (0.0, 0, 0, 0, 1.0)
    );
}

/// `user_embedding = "f32"` stores known users' factors in f32 next to int8 item factors: the
/// same trained numbers, the user side without rounding.
#[test]
fn user_factors_can_be_stored_in_f32_next_to_int8_items() {
    use edgerec_core::{Embedding, RecommenderModel};
    let demo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo/interactions.csv");
    let (ds, _) = import::load(&DatasetSpec::new(&demo)).unwrap();
    let factors = |model: &str| {
        let cfg = TrainConfig::parse(&format!(
            "[model]\n{model}\n[recommenders]\nfor-you = \"user-personalization (factors=8, iterations=3)\"\n"
        ))
        .unwrap();
        let (m, _) = edgerec_trainer::train::build_model(&ds, &cfg, &|_, _, _| {}).unwrap();
        match m.recommenders.into_iter().next().unwrap().model {
            RecommenderModel::Factors(f) => f,
            _ => panic!("a factor model"),
        }
    };
    let mixed = factors("user_embedding = \"f32\"");
    let int8 = factors("");
    let f32 = factors("embedding = \"f32\"");
    assert!(matches!(mixed.item_factors, Embedding::Int8 { .. }));
    assert_eq!(mixed.item_factors, int8.item_factors);
    assert!(matches!(int8.user_factors, Embedding::Int8 { .. }));
    assert_eq!(mixed.user_factors, f32.user_factors);
    assert!(matches!(mixed.user_factors, Embedding::F32 { .. }));
    assert!(
        TrainConfig::parse("[model]\nuser_embedding = \"f16\"\n[recommenders]\nx = \"sims\"\n")
            .is_err()
    );
}
