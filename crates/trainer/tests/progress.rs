#![allow(clippy::unwrap_used)]
//! Progress reporting: the library's long operations report phases whose counts add up to
//! their totals. (That the `edgerec` command line writes no control characters when its output
//! is not a terminal is tested with the binary, in crates/cli/tests/progress.rs.)

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::evaluate::hpo::{HpoOptions, search_with};
use edgerec_trainer::evaluate::run::{EvalOptions, evaluate_with};
use edgerec_trainer::import::{self, DatasetSpec};
use edgerec_trainer::progress::{Progress, SILENT, Unit};
use edgerec_trainer::synth::{self, RetailCatalog, SynthConfig};

fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/demo")
}

/// A throwaway folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("edgerec-progress-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Storefront data of 60 generated shoppers (a few thousand interactions: evaluations of it
/// take seconds in a debug build), written to `dir`.
fn small_data(dir: &Path) -> PathBuf {
    let catalog = RetailCatalog::load(&demo().join("../retail")).unwrap();
    let cfg = SynthConfig {
        users: 60,
        ..SynthConfig::default()
    };
    let out = synth::generate_with(&catalog, &cfg, SILENT);
    synth::write_dir(&out, dir).unwrap();
    dir.join("interactions.csv")
}

fn small_dataset(name: &str) -> Dataset {
    let dir = scratch(name);
    let (ds, _) = import::load(&DatasetSpec::new(small_data(&dir))).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    ds
}

/// A phase as recorded: name, total, unit, units done, notes.
#[derive(Debug, Clone, PartialEq)]
struct Phase {
    name: String,
    total: Option<u64>,
    unit: Unit,
    done: u64,
    notes: Vec<String>,
}

/// Records every phase.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Phase>>);

impl Recorder {
    fn phases(&self) -> Vec<Phase> {
        self.0.lock().unwrap().clone()
    }
    fn with_last(&self, f: impl FnOnce(&mut Phase)) {
        let mut p = self.0.lock().unwrap();
        f(p.last_mut().expect("a call before any phase started"));
    }
}

impl Progress for Recorder {
    fn start(&self, name: &str, total: Option<u64>, unit: Unit) {
        self.0.lock().unwrap().push(Phase {
            name: name.to_owned(),
            total,
            unit,
            done: 0,
            notes: Vec::new(),
        });
    }
    fn advance(&self, n: u64) {
        self.with_last(|p| p.done += n);
    }
    fn set_done(&self, done: u64) {
        self.with_last(|p| p.done = done);
    }
    fn note(&self, text: &str) {
        self.with_last(|p| p.notes.push(text.to_owned()));
    }
    fn finish(&self) {}
}

/// Popularity and sims only: no factor training, so the evaluations stay fast in debug builds.
fn small_config() -> TrainConfig {
    TrainConfig::parse(
        "[recommenders]\nviewed = \"sims (eventType=View, window=10)\"\npopular = \"popularity-count\"\n",
    )
    .unwrap()
}

#[test]
fn import_reports_each_file_by_its_bytes() {
    let dir = demo();
    let rec = Recorder::default();
    let spec = DatasetSpec {
        items: Some(dir.join("items.csv")),
        users: Some(dir.join("users.csv")),
        ..DatasetSpec::new(dir.join("interactions.csv"))
    };
    let (ds, _) = import::load_with(&spec, &rec).unwrap();
    assert!(!ds.interactions.is_empty());
    let phases = rec.phases();
    let files: Vec<&Phase> = phases.iter().filter(|p| p.unit == Unit::Bytes).collect();
    let names: Vec<&str> = files.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "reading interactions.csv",
            "reading items.csv",
            "reading users.csv"
        ]
    );
    for (p, f) in files
        .iter()
        .zip(["interactions.csv", "items.csv", "users.csv"])
    {
        let size = std::fs::metadata(dir.join(f)).unwrap().len();
        assert_eq!(p.total, Some(size), "{f}");
        assert_eq!(p.done, size, "{f} read to the end");
    }
    assert_eq!(
        phases.last().map(|p| p.name.as_str()),
        Some("indexing the dataset")
    );
}

#[test]
fn generation_counts_the_simulated_users() {
    let catalog = RetailCatalog::load(&demo().join("../retail")).unwrap();
    let cfg = SynthConfig {
        users: 30,
        ..SynthConfig::default()
    };
    let rec = Recorder::default();
    let out = synth::generate_with(&catalog, &cfg, &rec);
    assert_eq!(out.users.len(), 30);
    let phases = rec.phases();
    assert_eq!(phases.len(), 2);
    assert_eq!(phases[0].name, "simulating shoppers");
    assert_eq!((phases[0].total, phases[0].done), (Some(30), 30));
    assert_eq!(phases[1].name, "ordering the events");
}

#[test]
fn evaluation_counts_every_request_and_names_the_training_phases() {
    let ds = small_dataset("evaluate");
    let rec = Recorder::default();
    let report = evaluate_with(&ds, &small_config(), &EvalOptions::default(), &rec).unwrap();
    let phases = rec.phases();
    let names: Vec<&str> = phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["split A: training", "split B: training", "scoring"]);
    // Training counts the recommenders (the two configured plus the popularity baseline).
    for p in &phases[..2] {
        assert_eq!(p.total, Some(report.results.len() as u64));
        assert_eq!(p.done, p.total.unwrap());
        assert!(p.notes.iter().any(|n| n.starts_with("viewed (sims)")));
    }
    // Scoring reaches exactly its total: one request per warm test user and per cold user and
    // session length, for every recommender.
    let scoring = &phases[2];
    let per_recommender =
        report.split_a.test_users + report.split_b.cold_users * report.results[0].split_b.len();
    assert_eq!(
        scoring.total,
        Some((per_recommender * report.results.len()) as u64)
    );
    assert_eq!(scoring.done, scoring.total.unwrap());
}

#[test]
fn hyperparameter_search_counts_trials_and_notes_the_best_so_far() {
    let ds = small_dataset("hpo");
    let rec = Recorder::default();
    let opts = HpoOptions {
        trials: 2,
        ..HpoOptions::default()
    };
    let (_, report) = search_with(&ds, &small_config(), &opts, &rec).unwrap();
    let phases = rec.phases();
    assert_eq!(phases.len(), 1, "one phase per searched recommender");
    let p = &phases[0];
    assert_eq!(p.name, "hyperparameter search for viewed");
    assert_eq!((p.total, p.done), (Some(2), 2));
    assert_eq!(p.unit, Unit::Count("trials"));
    let s = &report.searches[0];
    let best = format!("best {:.4} (trial {})", s.trials[s.best].score, s.best);
    assert!(
        p.notes.last().is_some_and(|n| n.starts_with(&best)),
        "last note {:?}, want {best:?}",
        p.notes.last()
    );
    // The evaluation's own phases show up as notes of the search.
    assert!(p.notes.iter().any(|n| n.contains("split A: training")));
}
