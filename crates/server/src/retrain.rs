//! The retrainer: one background thread that runs retrains one at a time — on the
//! `--update-every` / `--full-every` schedule, at start when nothing is published, and on
//! `POST /retrain` — while serving and ingest continue.
//!
//! A retrain: snapshot the store into a `Dataset` → `build_model` → encode → decode check →
//! split-A gate (NDCG@10 per recommender not worse than the last published model's by more than
//! `max_regression`, relative) → sign (Ed25519, the key of `ServeConfig::signer`) → write
//! `models/model-v{N}.erm` (temp file, fsync, rename) →
//! commit the `retrains` row → swap the served model → copy to `--publish-dir` → run
//! `--publish-hook` → delete versions beyond `--keep-models`. A rejected model is kept in
//! `models/rejected/` and reported, never served.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, mpsc};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use super::db;
use super::metrics::Metrics;
use super::outcome::{Outcome, Status};
use super::snapshot::{self, SnapshotInfo};
use super::store::{Store, now_ms};
use super::{Mode, PublicCopy, Published, ServeConfig, Shared, etag};
use edgerec_trainer::evaluate::run::{EvalOptions, evaluate};
use edgerec_trainer::signing::ModelSigner;
use edgerec_trainer::train::{TrainingMode, train_model};

struct Request {
    mode: Mode,
    trigger: String,
    done: Option<oneshot::Sender<Outcome>>,
}

/// The handle HTTP handlers use to queue retrains.
#[derive(Debug)]
pub struct Handle {
    tx: mpsc::Sender<Request>,
    busy: AtomicBool,
    queued: AtomicUsize,
}

/// Why a retrain could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("a retrain is already running and another is queued")]
    Busy,
    #[error("the retrainer has stopped")]
    Stopped,
}

impl Handle {
    /// Queues a retrain (at most one waits behind the running one).
    pub fn queue(
        &self,
        mode: Mode,
        trigger: &str,
        done: Option<oneshot::Sender<Outcome>>,
    ) -> Result<(), QueueError> {
        if self
            .queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |q| {
                (q == 0).then_some(1)
            })
            .is_err()
        {
            return Err(QueueError::Busy);
        }
        self.tx
            .send(Request {
                mode,
                trigger: trigger.to_owned(),
                done,
            })
            .map_err(|_| {
                self.queued.store(0, Ordering::SeqCst);
                QueueError::Stopped
            })
    }

    /// Whether a retrain is running now.
    #[must_use]
    pub fn busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst)
    }
}

/// Opens the store, loads the latest published model, starts the retrainer thread.
pub fn start(config: ServeConfig) -> anyhow::Result<Arc<Shared>> {
    let store = Store::open(&config.data_dir)?;
    std::fs::create_dir_all(models_dir(&config.data_dir))?;
    let reader = store.reader()?;
    let current = load_latest(&reader, &config)?;
    drop(reader);
    let counts = store.counters().snapshot().counts;
    let (tx, rx) = mpsc::channel();
    let metrics = Metrics::default();
    if let Some(p) = &current {
        metrics.model_version.store(p.version, Ordering::Relaxed);
        tracing::info!(version = p.version, "serving the latest published model");
    }
    let train_now =
        config.train_on_start && current.is_none() && (config.seed.is_some() || counts.events > 0);
    let shared = Arc::new(Shared {
        config,
        store,
        metrics,
        current: RwLock::new(current),
        retrainer: Handle {
            tx,
            busy: AtomicBool::new(false),
            queued: AtomicUsize::new(0),
        },
        profiles: super::profile::EngineCache::default(),
    });
    let s = Arc::clone(&shared);
    std::thread::Builder::new()
        .name("edgerec-retrainer".into())
        .spawn(move || thread_main(&s, &rx))?;
    if train_now {
        let _ = shared.retrainer.queue(Mode::Full, "start", None);
    }
    Ok(shared)
}

/// The folder holding published model files.
#[must_use]
pub fn models_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// The file of a published version.
#[must_use]
pub fn model_path(data_dir: &Path, version: u64) -> PathBuf {
    models_dir(data_dir).join(format!("model-v{version}.erm"))
}

/// The file of a published version's public profile.
#[must_use]
pub fn public_model_path(data_dir: &Path, version: u64) -> PathBuf {
    models_dir(data_dir).join(format!("model-v{version}.public.erm"))
}

/// The public profile of a model (unsigned bytes), with the floor it was trained with.
fn public_bytes(model: &edgerec_core::Model, min_users: u32) -> anyhow::Result<Vec<u8>> {
    let public = edgerec_trainer::privacy::projection::public(model, min_users)?;
    Ok(edgerec_core::format::encode(&public)?)
}

/// The public profile of a published version: its file when it decodes as a public model,
/// else made again from the private model and signed.
fn load_public(
    data_dir: &Path,
    version: u64,
    model: &edgerec_core::Model,
    signer: &ModelSigner,
    min_users: u32,
) -> anyhow::Result<PublicCopy> {
    let path = public_model_path(data_dir, version);
    if let Ok(bytes) = std::fs::read(&path)
        && edgerec_core::format::decode(&bytes)
            .is_ok_and(|m| m.meta.profile == edgerec_core::Profile::Public)
    {
        return Ok(PublicCopy::new(version, bytes));
    }
    let bytes = signer
        .sign(&public_bytes(model, min_users)?)
        .map_err(|e| anyhow::anyhow!("signing the public model: {e}"))?;
    write_atomic(&path, &bytes)?;
    Ok(PublicCopy::new(version, bytes))
}

fn load_latest(
    c: &rusqlite::Connection,
    config: &ServeConfig,
) -> anyhow::Result<Option<Published>> {
    let data_dir = &config.data_dir;
    for db::retrains::Version {
        version,
        finished_ms: finished,
        ..
    } in db::retrains::published(c, 20)?
    {
        let version = u64::try_from(version).unwrap_or(0);
        let Ok(bytes) = std::fs::read(model_path(data_dir, version)) else {
            continue;
        };
        let Ok(model) = edgerec_core::format::decode(&bytes) else {
            tracing::warn!(version, "published model file does not decode; skipping it");
            continue;
        };
        let public = match load_public(
            data_dir,
            version,
            &model,
            &config.signer,
            config.train.model.public_min_users,
        ) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(
                    version,
                    "no public profile of the published model ({e}); skipping it"
                );
                continue;
            }
        };
        let sha = sha256_hex(&bytes);
        return Ok(Some(Published {
            public,
            version,
            etag: etag(version, &sha),
            sha256: sha,
            bytes: Arc::new(bytes),
            published_ms: finished.unwrap_or(0),
        }));
    }
    Ok(None)
}

/// Lower-case hex SHA-256.
#[must_use]
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn thread_main(shared: &Arc<Shared>, rx: &mpsc::Receiver<Request>) {
    let cfg = &shared.config;
    let mut last_full = Instant::now();
    let mut last_update = Instant::now();
    loop {
        let due_full = cfg.full_every.map(|d| last_full + d);
        let due_update = cfg.update_every.map(|d| last_update + d);
        let next = match (due_full, due_update) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let req = match next {
            None => match rx.recv() {
                Ok(r) => Some(r),
                Err(_) => return,
            },
            Some(t) => match rx.recv_timeout(t.saturating_duration_since(Instant::now())) {
                Ok(r) => Some(r),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        let (mode, trigger, done, scheduled) = match req {
            Some(r) => {
                shared.retrainer.queued.store(0, Ordering::SeqCst);
                (r.mode, r.trigger, r.done, false)
            }
            None => {
                let full_due = due_full.is_some_and(|t| t <= Instant::now());
                let mode = if full_due { Mode::Full } else { Mode::Update };
                (mode, "schedule".to_owned(), None, true)
            }
        };
        shared.retrainer.busy.store(true, Ordering::SeqCst);
        let outcome = retrain_once(shared, mode, &trigger, scheduled);
        shared.retrainer.busy.store(false, Ordering::SeqCst);
        last_update = Instant::now();
        if mode == Mode::Full {
            last_full = Instant::now();
        }
        shared.metrics.record_retrain(&outcome);
        match outcome.status {
            Status::Published | Status::Skipped => tracing::info!(
                id = outcome.id, mode = mode.as_str(), training = outcome.training, status = outcome.status.as_str(),
                version = ?outcome.version, seconds = outcome.seconds, "retrain: {}", outcome.message
            ),
            Status::Rejected | Status::Failed => tracing::warn!(
                id = outcome.id,
                mode = mode.as_str(),
                status = outcome.status.as_str(),
                seconds = outcome.seconds,
                "retrain: {}",
                outcome.message
            ),
        }
        if let Some(done) = done {
            let _ = done.send(outcome);
        }
    }
}

fn retrain_once(shared: &Shared, mode: Mode, trigger: &str, scheduled: bool) -> Outcome {
    let t0 = Instant::now();
    let mut out = Outcome {
        id: 0,
        mode,
        training: "full",
        trigger: trigger.to_owned(),
        status: Status::Failed,
        version: None,
        message: String::new(),
        seconds: 0.0,
        train_seconds: 0.0,
        eval_seconds: 0.0,
        scores: BTreeMap::new(),
        previous_scores: BTreeMap::new(),
        event_to_model_ms: None,
        model_bytes: 0,
        snapshot: SnapshotInfo::default(),
    };
    let (mode_s, trig) = (mode.as_str().to_owned(), trigger.to_owned());
    let started = now_ms();
    match shared
        .store
        .write_blocking(move |c| db::retrains::start(c, &mode_s, &trig, started))
    {
        Ok(id) => out.id = id,
        Err(e) => {
            out.message = format!("could not record the retrain: {e}");
            return finish(shared, out, t0, None);
        }
    }
    let mut published = None;
    match run_steps(shared, &mut out, scheduled) {
        Ok(p) => published = p,
        Err(e) => {
            out.status = Status::Failed;
            out.message = format!("{e:#}");
        }
    }
    finish(shared, out, t0, published)
}

/// Records the outcome row (except for a publish, whose row is committed in `publish`).
fn finish(shared: &Shared, mut out: Outcome, t0: Instant, _published: Option<u64>) -> Outcome {
    out.seconds = t0.elapsed().as_secs_f64();
    if out.id > 0 && out.status != Status::Published {
        let (id, status, msg) = (out.id, out.status.as_str(), out.message.clone());
        let scores = serde_json::to_string(&out.scores).unwrap_or_default();
        let upto = out.snapshot.events_upto;
        let _ = shared.store.write_blocking(move |c| {
            db::retrains::finish(
                c,
                &db::retrains::Finished {
                    id,
                    status,
                    message: &msg,
                    finished_ms: now_ms(),
                    scores: &scores,
                    events_upto: upto,
                },
            )
        });
    }
    out
}

fn run_steps(shared: &Shared, out: &mut Outcome, scheduled: bool) -> anyhow::Result<Option<u64>> {
    let cfg = &shared.config;
    let mut reader = shared.store.reader()?;
    let previous = db::retrains::last_published(&reader)?;
    let since = previous.as_ref().map_or(0, |p| p.events_upto);
    let base = match &cfg.seed {
        Some(load) => Some(load().map_err(|e| anyhow::anyhow!("loading the seed dataset: {e:#}"))?),
        None => None,
    };
    let (ds, info) = snapshot::build(&mut reader, base, since)?;
    drop(reader);
    out.snapshot = info;
    if scheduled && previous.is_some() && out.snapshot.events_upto <= since {
        out.status = Status::Skipped;
        out.message = "no new events since the last published model".into();
        return Ok(None);
    }
    if ds.interactions.is_empty() {
        anyhow::bail!(
            "no interactions to train on (the store holds no event with an itemId, and no seed data)"
        );
    }
    let t = Instant::now();
    // An update starts from the published model, when there is one that decodes.
    let base = match out.mode {
        Mode::Update => shared
            .current()
            .and_then(|p| edgerec_core::format::decode(&p.bytes).ok()),
        Mode::Full => None,
    };
    let training = base
        .as_ref()
        .map_or(TrainingMode::Full, TrainingMode::Update);
    out.training = match training {
        TrainingMode::Full => "full",
        TrainingMode::Update(_) => "update",
    };
    let (mut model, _report) = train_model(&ds, &cfg.train, training, &|_, _, _| {})?;
    out.train_seconds = t.elapsed().as_secs_f64();
    let version = next_version(shared)?;
    model.meta.version = version;
    let bytes = edgerec_core::format::encode(&model)?;
    let public = public_bytes(&model, cfg.train.model.public_min_users)?;
    out.model_bytes = bytes.len();
    if let Err(e) = edgerec_core::format::decode(&bytes) {
        out.status = Status::Rejected;
        out.message = format!("the new model does not decode: {e}");
        keep_rejected(&cfg.data_dir, out.id, &bytes);
        return Ok(None);
    }
    if cfg.eval_gate {
        let t = Instant::now();
        match evaluate(&ds, &cfg.train, &EvalOptions::default()) {
            Ok(report) => {
                for r in &report.results {
                    if r.name != report.baseline {
                        out.scores.insert(r.name.clone(), r.split_a.ndcg_at_10);
                    }
                }
            }
            Err(e) => {
                tracing::warn!("evaluation gate skipped: {e}");
                out.message = format!("evaluation gate skipped ({e}); ");
            }
        }
        out.eval_seconds = t.elapsed().as_secs_f64();
        if let Some(prev) = previous.as_ref().and_then(|p| p.scores.as_deref()) {
            out.previous_scores = serde_json::from_str(prev).unwrap_or_default();
        }
        let mut worse = Vec::new();
        for (name, &new) in &out.scores {
            if let Some(&old) = out.previous_scores.get(name)
                && new < old * (1.0 - cfg.max_regression) - 1e-12
            {
                worse.push(format!(
                    "{name}: NDCG@10 {new:.4} < {old:.4} (allowed drop {:.1} %)",
                    cfg.max_regression * 100.0
                ));
            }
        }
        if !worse.is_empty() {
            out.status = Status::Rejected;
            out.message = format!("kept unpublished: split A regressed: {}", worse.join("; "));
            keep_rejected(&cfg.data_dir, out.id, &bytes);
            return Ok(None);
        }
    }
    publish(shared, out, version, bytes, public)?;
    Ok(Some(version))
}

fn keep_rejected(data_dir: &Path, id: i64, bytes: &[u8]) {
    let dir = models_dir(data_dir).join("rejected");
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(dir.join(format!("retrain-{id}.erm")), bytes);
    }
}

fn next_version(shared: &Shared) -> anyhow::Result<u64> {
    let c = shared.store.reader()?;
    let mut v = u64::try_from(db::retrains::max_version(&c)?).unwrap_or(0);
    if let Ok(rd) = std::fs::read_dir(models_dir(&shared.config.data_dir)) {
        for e in rd.flatten() {
            if let Some(n) = file_version(&e.file_name().to_string_lossy()) {
                v = v.max(n);
            }
        }
    }
    Ok(v + 1)
}

fn file_version(name: &str) -> Option<u64> {
    let rest = name.strip_prefix("model-v")?.strip_suffix(".erm")?;
    rest.strip_suffix(".public").unwrap_or(rest).parse().ok()
}

/// Writes `bytes` to `path` atomically: a temp file in the same folder, fsync, rename, fsync
/// of the folder.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn publish(
    shared: &Shared,
    out: &mut Outcome,
    version: u64,
    bytes: Vec<u8>,
    public: Vec<u8>,
) -> anyhow::Result<()> {
    let cfg = &shared.config;
    // Everything published is signed: the served bytes, the files, what the hook gets.
    let bytes = cfg
        .signer
        .sign(&bytes)
        .map_err(|e| anyhow::anyhow!("signing the model: {e}"))?;
    let public = PublicCopy::new(
        version,
        cfg.signer
            .sign(&public)
            .map_err(|e| anyhow::anyhow!("signing the public model: {e}"))?,
    );
    out.model_bytes = bytes.len();
    let path = model_path(&cfg.data_dir, version);
    let public_path = public_model_path(&cfg.data_dir, version);
    write_atomic(&public_path, &public.bytes)?;
    write_atomic(&path, &bytes)?;
    let sha = sha256_hex(&bytes);
    let now = now_ms();
    out.event_to_model_ms = out.snapshot.oldest_new_received_ms.map(|t| now - t);
    let (id, sha2, n, scores, upto, e2m) = (
        out.id,
        sha.clone(),
        i64::try_from(bytes.len()).unwrap_or(i64::MAX),
        serde_json::to_string(&out.scores).unwrap_or_default(),
        out.snapshot.events_upto,
        out.event_to_model_ms,
    );
    let mut message = format!(
        "published v{version} ({} bytes, {} interactions from the event log, {} new events){}",
        bytes.len(),
        out.snapshot.events_used,
        out.snapshot.new_events,
        if out.mode == Mode::Update && out.training == "full" {
            "; update ran full training (no published model to start from)"
        } else {
            ""
        }
    );
    if !out.message.is_empty() {
        message = format!("{}{message}", out.message);
    }
    let msg = message.clone();
    let v = i64::try_from(version).unwrap_or(i64::MAX);
    shared.store.write_blocking(move |c| {
        db::retrains::publish(
            c,
            &db::retrains::Published {
                id,
                version: v,
                sha256: &sha2,
                bytes: n,
                scores: &scores,
                events_upto: upto,
                finished_ms: now,
                message: &msg,
                event_to_model_ms: e2m,
            },
        )
    })?;
    let bytes = Arc::new(bytes);
    if let Ok(mut g) = shared.current.write() {
        *g = Some(Published {
            version,
            bytes: Arc::clone(&bytes),
            etag: etag(version, &sha),
            sha256: sha.clone(),
            published_ms: now,
            public: public.clone(),
        });
    }
    shared
        .metrics
        .model_version
        .store(version, Ordering::Relaxed);
    out.status = Status::Published;
    out.version = Some(version);
    if let Some(dir) = &cfg.publish_dir
        && let Err(e) = publish_dir(dir, version, &sha, &bytes, &public)
    {
        message.push_str(&format!("; --publish-dir failed: {e}"));
    }
    if let Some(hook) = &cfg.publish_hook {
        match run_hook(hook, &path, &public_path, version, &sha) {
            Ok(()) => message.push_str("; publish hook ok"),
            Err(e) => message.push_str(&format!("; publish hook failed: {e}")),
        }
    }
    prune(cfg, version);
    out.message = message;
    Ok(())
}

fn publish_dir(
    dir: &Path,
    version: u64,
    sha: &str,
    bytes: &[u8],
    public: &PublicCopy,
) -> std::io::Result<()> {
    write_atomic(&dir.join(format!("model-v{version}.erm")), bytes)?;
    write_atomic(
        &dir.join(format!("model-v{version}.public.erm")),
        &public.bytes,
    )?;
    write_atomic(&dir.join("model.public.erm"), &public.bytes)?;
    write_atomic(&dir.join("model.erm"), bytes)?;
    let manifest = serde_json::json!({
        "version": version, "sha256": sha, "bytes": bytes.len(), "etag": etag(version, sha),
        "file": format!("model-v{version}.erm"), "publishedAt": now_ms() / 1000,
        "public": {
            "file": format!("model-v{version}.public.erm"), "sha256": public.sha256,
            "bytes": public.bytes.len(), "etag": public.etag,
        },
    });
    write_atomic(&dir.join("model.json"), manifest.to_string().as_bytes())
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn run_hook(
    hook: &str,
    path: &Path,
    public_path: &Path,
    version: u64,
    sha: &str,
) -> anyhow::Result<()> {
    let cmd = hook
        .replace(
            "{public_path}",
            &shell_quote(&public_path.to_string_lossy()),
        )
        .replace("{path}", &shell_quote(&path.to_string_lossy()))
        .replace("{version}", &version.to_string())
        .replace("{sha256}", sha);
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .spawn()?;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() {
                return Ok(());
            }
            anyhow::bail!("`{cmd}` exited with {status}");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            anyhow::bail!("`{cmd}` did not finish within 600 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Deletes published files beyond the newest `keep_models` versions (here and in the publish
/// folder).
fn prune(cfg: &ServeConfig, newest: u64) {
    let keep = u64::try_from(cfg.keep_models.max(1)).unwrap_or(1);
    let oldest_kept = newest.saturating_sub(keep - 1);
    let dirs = std::iter::once(models_dir(&cfg.data_dir)).chain(cfg.publish_dir.clone());
    for dir in dirs {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            if file_version(&e.file_name().to_string_lossy()).is_some_and(|v| v < oldest_kept) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
