//! `edgerec serve`: the sync server. It receives the events that browsers and Workers accepted
//! (PutEvents-shaped batches), keeps them in an embedded SQLite database (acknowledged only
//! after the commit), retrains on a schedule or on request in the background, validates each
//! new model and publishes it atomically with a monotonically increasing version. `edgerec
//! serve` and `edgerec report` (crates/cli) are its command line; all its SQL is in [`db`].
//!
//! ```text
//! POST /events ─► ingest (validate) ─► store writer (group commit, WAL, synchronous=FULL) ─► 200
//!                                           │
//!   schedule / POST /retrain ─► retrainer: snapshot ─► build_model ─► encode ─► decode check
//!                               ─► split-A gate ─► sign ─► models/model-v{N}.erm ─► GET /model
//!                                                                 └► --publish-dir, --publish-hook
//!   --lake: exporter ─► events by seq range ─► Parquet by day ─► s3://… or a folder (exactly once)
//! ```

pub mod ab;
pub mod api_error;
pub mod counters;
pub mod db;
pub mod http;
pub mod ingest;
pub mod lake;
pub mod metrics;
pub mod outcome;
pub mod profile;
pub mod report;
pub mod retrain;
pub mod secrets;
pub mod snapshot;
pub mod store;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::signing::ModelSigner;

/// Training mode of a retrain: `Full` trains from scratch; `Update` starts from the published
/// model (warm-started factors, see [`edgerec_trainer::train::TrainingMode`]), and runs full
/// training only when nothing is published yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Full,
    Update,
}

impl Mode {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Update => "update",
        }
    }

    /// Parses `full` / `update` (case-insensitive).
    #[must_use]
    pub fn parse(s: &str) -> Option<Mode> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Some(Mode::Full),
            "update" => Some(Mode::Update),
            _ => None,
        }
    }
}

/// An A/B experiment: recommendations are assigned a variant by a hash of the user (or
/// session), as the Worker and the npm package assign it. Variant names are recommender names or
/// model versions (`v12`), as the edge uses them.
pub use edgerec_core::experiment::Experiment;

/// Where the seed dataset comes from: a loader run at every retrain (the same CSV import as
/// `edgerec train`).
pub type SeedLoader = Arc<dyn Fn() -> anyhow::Result<Dataset> + Send + Sync>;

/// Everything `edgerec serve` is configured with.
#[derive(Clone)]
pub struct ServeConfig {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub write_token: String,
    pub admin_token: String,
    /// Signs every published model.
    pub signer: Arc<ModelSigner>,
    /// HMAC key of the per-user tokens that `GET /users/{userId}/profile` accepts (see
    /// `edgerec_core::user_token`); the storefront's backend mints tokens with it.
    pub user_token_secret: String,
    /// Largest request body accepted (bytes).
    pub max_body_bytes: usize,
    pub train: TrainConfig,
    pub seed: Option<SeedLoader>,
    pub update_every: Option<Duration>,
    pub full_every: Option<Duration>,
    /// Run the split-A evaluation gate before publishing.
    pub eval_gate: bool,
    /// Largest accepted relative drop of any recommender's split-A NDCG@10 (0.05 = 5 %).
    pub max_regression: f64,
    /// Published model files kept (older ones are deleted).
    pub keep_models: usize,
    pub publish_dir: Option<PathBuf>,
    /// Shell command run after each publish; `{path}`, `{version}`, `{sha256}` are replaced.
    pub publish_hook: Option<String>,
    pub experiment: Option<Experiment>,
    /// Train a first model at start when there is data and nothing is published.
    pub train_on_start: bool,
    /// The event type counted as a click in `/metrics`.
    pub click_event_type: String,
    /// How Segment calls (`POST /v1/track`, …) become events: track event name → event type.
    pub segment: edgerec_core::segment::SegmentConfig,
    /// `--lake`: export accepted events to the event lake (see [`lake`]).
    pub lake: Option<lake::LakeConfig>,
}

impl std::fmt::Debug for ServeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeConfig")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("signer", &self.signer)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("seed", &self.seed.is_some())
            .field("update_every", &self.update_every)
            .field("full_every", &self.full_every)
            .field("eval_gate", &self.eval_gate)
            .field("max_regression", &self.max_regression)
            .field("keep_models", &self.keep_models)
            .field("publish_dir", &self.publish_dir)
            .field("publish_hook", &self.publish_hook)
            .field("experiment", &self.experiment)
            .field("lake", &self.lake.as_ref().map(|l| &l.location.display))
            .finish_non_exhaustive()
    }
}

/// A published model, as served by `GET /model` (the private profile, admin only), with its
/// public profile, served by `GET /model/public` to anyone.
#[derive(Debug, Clone)]
pub struct Published {
    pub version: u64,
    pub bytes: Arc<Vec<u8>>,
    pub sha256: String,
    pub etag: String,
    pub published_ms: i64,
    /// The public profile of the same version (signed like the private one).
    pub public: PublicCopy,
}

/// The public profile of a published version: no user ids, user metadata, histories or user
/// factors (see `docs/privacy.md`).
#[derive(Debug, Clone)]
pub struct PublicCopy {
    pub bytes: Arc<Vec<u8>>,
    pub sha256: String,
    pub etag: String,
}

impl PublicCopy {
    /// The copy of `bytes` (already signed when the server signs) of `version`.
    #[must_use]
    pub fn new(version: u64, bytes: Vec<u8>) -> Self {
        let sha256 = retrain::sha256_hex(&bytes);
        PublicCopy {
            etag: public_etag(version, &sha256),
            sha256,
            bytes: Arc::new(bytes),
        }
    }
}

/// The ETag of a model version's public profile.
#[must_use]
pub fn public_etag(version: u64, sha256: &str) -> String {
    format!(
        "\"v{version}-public-{}\"",
        sha256.get(..16).unwrap_or(sha256)
    )
}

/// The ETag of a model version.
#[must_use]
pub fn etag(version: u64, sha256: &str) -> String {
    format!("\"v{version}-{}\"", sha256.get(..16).unwrap_or(sha256))
}

/// State shared by the HTTP handlers and the retrainer.
#[derive(Debug)]
pub struct Shared {
    pub config: ServeConfig,
    pub store: store::Store,
    pub metrics: metrics::Metrics,
    pub current: RwLock<Option<Published>>,
    pub retrainer: retrain::Handle,
    /// The published model decoded, for user profiles.
    pub profiles: profile::EngineCache,
}

impl Shared {
    /// The currently published model.
    #[must_use]
    pub fn current(&self) -> Option<Published> {
        self.current.read().ok().and_then(|g| g.clone())
    }
}

/// Logs to stderr, at the level `RUST_LOG` sets (default `info`), with colours only on a
/// terminal (a log file or a pipe gets plain text). Does nothing when a logger is set already.
pub fn init_logging() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
}

/// Opens the store, starts the retrainer, binds the listener and serves until Ctrl-C /
/// SIGTERM. Prints `listening on ADDR` on stdout once the socket is bound.
pub fn run(config: ServeConfig) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("edgerec-serve")
        .build()?;
    rt.block_on(async move {
        let shared = retrain::start(config)?;
        if let Some(lake) = shared.config.lake.clone() {
            lake::start(Arc::clone(&shared), lake)?;
        }
        let listener = tokio::net::TcpListener::bind(shared.config.listen).await?;
        let addr = listener.local_addr()?;
        // The address for whoever started the server (tests and the demo read it). A closed or
        // full stdout must not stop the server: the log line below says the same.
        let _ = writeln!(std::io::stdout(), "listening on {addr}");
        tracing::info!(%addr, data_dir = %shared.config.data_dir.display(), "edgerec serve started");
        let app = http::router(Arc::clone(&shared));
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await?;
        tracing::info!("edgerec serve stopped");
        anyhow::Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}
