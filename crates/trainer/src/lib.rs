//! edgerec-trainer: datasets in, `.erm` model files out.
//!
//! ```text
//! import ──► Dataset ──► train / recipes ──► pack ──► core::format::encode ──► model bytes (.erm)
//!                    evaluate ◄── core::Engine ◄── core::format::decode ◄────────┘
//! ```
//!
//! * [`import`] reads Personalize CSVs (with or without Avro schemas), MovieLens and mapped
//!   delimited files into a [`Dataset`], and reports every dropped row ([`ImportReport`]).
//! * [`dataset`] is the in-memory dataset: interned ids, interaction columns, item and user
//!   metadata.
//! * [`config`] is the training config (TOML): the recommenders of one model file, their
//!   recipes and hyperparameters, named filters; [`presets`] adds Personalize's domain
//!   recommenders.
//! * [`train`] holds the entry points: a full training (with a validation pass by [`auto`]
//!   when the config leaves choices open) or an update of a previous model.
//! * [`recipes`] trains one recommender per recipe from the training matrix; [`pack`] has each
//!   configured recommender trained and assembles the `core::Model`, with the k-anonymity
//!   floor of [`privacy`] (which also makes a model's public profile).
//! * The model's bytes are `edgerec_core::format::encode`'s; [`signing`] signs and verifies
//!   them (Ed25519).
//! * [`evaluate`](mod@evaluate) runs the offline protocol: it trains on each split, encodes
//!   and decodes the model and scores every request through `core::Engine`, as the edge does;
//!   also the hyperparameter search.
//! * [`artefacts`] packs a model from tables another engine computed (Spark's ALS factors,
//!   neighbours, popularity counts, as Parquet), through the same assembly as [`pack`].
//! * [`synth`] generates the synthetic storefront data; [`progress`] is how long operations
//!   report (the command line draws it; library callers pass [`SILENT`]).
//!
//! The main entry points are re-exported here:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use edgerec_trainer::{
//!     DatasetSpec, EvalOptions, TrainConfig, build_model, evaluate, load_dataset,
//! };
//!
//! let (ds, _import) = load_dataset(&DatasetSpec::new("data/demo/interactions.csv"))?;
//! let cfg = TrainConfig::parse(&std::fs::read_to_string("data/demo/edgerec.toml")?)?;
//! let (model, _trained) = build_model(&ds, &cfg, &|_, _, _| {})?;
//! std::fs::write("store.erm", edgerec_core::format::encode(&model)?)?;
//!
//! let report = evaluate(&ds, &cfg, &EvalOptions::default())?;
//! for r in &report.results {
//!     println!("{}: split A NDCG@10 {:.4}", r.name, r.split_a.ndcg_at_10);
//! }
//! # Ok(())
//! # }
//! ```

pub mod artefacts;
pub mod auto;
pub mod config;
pub mod dataset;
mod decode_guard;
pub mod evaluate;
pub mod import;
pub mod pack;
pub mod presets;
pub mod privacy;
pub mod progress;
pub mod recipes;
pub mod signing;
pub mod synth;
pub mod train;

pub use config::{ConfigError, RecommenderSpec, TrainConfig};
pub use dataset::Dataset;
pub use evaluate::run::{EvalError, EvalOptions, EvalReport, evaluate, evaluate_with};
pub use import::{DatasetSpec, ImportError, ImportReport, load as load_dataset};
pub use progress::{Progress, SILENT};
pub use signing::{ModelSigner, PublicKey};
pub use train::{
    TrainError, TrainReport, TrainingMode, build_model, train_model, train_model_reporting,
};
