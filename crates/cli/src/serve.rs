//! `edgerec serve`: the sync server (see `edgerec_server`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use edgerec_server::{self as serve, Experiment, ServeConfig};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::import::{self, DatasetSpec};
use edgerec_trainer::signing::ModelSigner;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # Laptop: ingest, retrain every 10 minutes, publish to a folder the storefront serves.
  edgerec serve --data-dir ./edgerec-data --interactions data/demo/interactions.csv \\
      --items data/demo/items.csv --users data/demo/users.csv --config data/demo/edgerec.toml \\
      --update-every 10m --publish-dir www/models

  # Push each published model to the Worker's R2 bucket with wrangler:
  edgerec serve ... --publish-hook 'npx wrangler r2 object put edgerec-models/model.erm --file {path} --remote'

  # Send events (Personalize PutEvents shape; up to 1000 per request):
  curl -H 'Authorization: Bearer $WRITE_TOKEN' -d '{\"sessionId\":\"s1\",\"userId\":\"u1\",
      \"eventList\":[{\"eventId\":\"e1\",\"eventType\":\"click\",\"itemId\":\"i1\",\"sentAt\":1700000000}]}' \\
      http://127.0.0.1:8787/events

  # Retrain now and wait for the result (admin token):
  curl -X POST -H 'Authorization: Bearer $ADMIN_TOKEN' 'http://127.0.0.1:8787/retrain?mode=full&wait=true'

  # A signed-in shopper's profile (their slice of the model), with a token for that user:
  curl -H \"Authorization: Bearer $(edgerec user-token --user-id u1 --ttl 600)\" \\
      http://127.0.0.1:8787/users/u1/profile -o u1.profile

Tokens: --write-token / --admin-token / --user-token-secret, else $EDGEREC_WRITE_TOKEN /
$EDGEREC_ADMIN_TOKEN / $EDGEREC_USER_TOKEN_SECRET, else random ones generated once and kept in
DATA_DIR/tokens.json (writeToken, adminToken, userTokenSecret; tokens printed only when created,
the user-token secret never).
Every published model is signed (Ed25519) with --sign-key, else $EDGEREC_SIGNING_KEY /
$EDGEREC_SIGNING_KEY_FILE, else a key generated once and kept in DATA_DIR/tokens.json; its public
key (printed at every start, and kept in tokens.json as signingPublicKey) is what the Worker's
MODEL_PUBLIC_KEY and Recommender.fromUrl(url, { publicKey }) verify with.")]
pub struct ServeArgs {
    /// Folder for the database (edgerec.db) and published models (models/).
    #[arg(long, default_value = "edgerec-data")]
    data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8787")]
    listen: SocketAddr,
    /// Bearer token for the write routes (/events, /items, /users, /recommendations-log).
    #[arg(long)]
    write_token: Option<String>,
    /// Bearer token for the admin routes (/retrain, /retrains, /model, /models/{v}, /metrics,
    /// the details of /health); also accepted on write routes.
    #[arg(long)]
    admin_token: Option<String>,
    /// HMAC secret of the per-user tokens that GET /users/{userId}/profile accepts (at least
    /// 16 bytes; the storefront's backend mints tokens with it, see `edgerec user-token`).
    #[arg(long)]
    user_token_secret: Option<String>,
    #[command(flatten)]
    sign: super::signing::SignKeyArg,
    /// Training config (TOML, as for `edgerec train`); default: one recommender per recipe.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Seed interactions (file or folder, as for `edgerec import`), re-read at every retrain.
    #[arg(long)]
    interactions: Option<PathBuf>,
    /// Seed items file.
    #[arg(long)]
    items: Option<PathBuf>,
    /// Seed users file.
    #[arg(long)]
    users: Option<PathBuf>,
    /// Drop malformed seed rows (counted) instead of failing.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Scheduled retrain in UPDATE mode, e.g. 2h: warm-started from the published model (full
    /// training when none is published).
    #[arg(long, value_parser = parse_duration)]
    update_every: Option<Duration>,
    /// Scheduled retrain in FULL mode, e.g. 7d.
    #[arg(long, value_parser = parse_duration)]
    full_every: Option<Duration>,
    /// Publish without the split-A evaluation gate (decode check only).
    #[arg(long)]
    no_eval_gate: bool,
    /// Largest relative drop of any recommender's split-A NDCG@10 that still publishes.
    #[arg(long, default_value_t = 0.05)]
    max_regression: f64,
    /// Published model versions kept on disk.
    #[arg(long, default_value_t = 10)]
    keep_models: usize,
    /// Also write each published model to DIR (model.erm, model-v{N}.erm, model.json).
    #[arg(long)]
    publish_dir: Option<PathBuf>,
    /// Command run after each publish ({path}, {version}, {sha256} are substituted).
    #[arg(long)]
    publish_hook: Option<String>,
    /// Shorthand for a hook that uploads to R2 with wrangler: BUCKET/KEY.
    #[arg(long)]
    publish_r2: Option<String>,
    /// A/B experiment name (variants assigned by hash of userId/sessionId).
    #[arg(long, requires = "variants")]
    experiment: Option<String>,
    /// Comma-separated variant names (recommenders or model versions like v12).
    #[arg(long, requires = "experiment", value_delimiter = ',')]
    variants: Vec<String>,
    /// Comma-separated traffic shares of the variants (positive weights, normalised by their
    /// sum; default equal).
    #[arg(long, requires = "variants", value_delimiter = ',')]
    shares: Vec<f64>,
    /// Do not train a first model at start when nothing is published yet.
    #[arg(long)]
    no_train_on_start: bool,
    /// Event type counted as a click in /metrics.
    #[arg(long, default_value = "click")]
    click_event_type: String,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Segment ingest (POST /v1/track, /v1/page, …): a JSON object mapping track event names
    /// to event types, e.g. '{"Product Viewed":"view","$page":"view"}' (`$page` / `$screen`:
    /// the type of page / screen calls, default page / screen; unmapped names are kept as sent).
    #[arg(long, default_value = "")]
    segment_event_map: String,
}

/// Parses `500ms`, `90s`, `15m`, `2h`, `7d` (a bare number is seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num
        .parse()
        .map_err(|_| format!("expected a duration like 90s, 15m, 2h or 7d; found {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86_400.0,
        _ => {
            return Err(format!(
                "unknown duration unit {unit:?} in {s:?}; use ms, s, m, h or d"
            ));
        }
    };
    if !(secs > 0.0 && secs.is_finite()) {
        return Err(format!("the duration {s:?} must be positive"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn random_token() -> anyhow::Result<String> {
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf)
        .map_err(|e| anyhow::anyhow!("the system random number generator failed: {e}"))?;
    let mut s = String::from("er_");
    for b in buf {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// What the server authenticates with: its two bearer tokens, the key of the per-user tokens
/// and its model signing key.
struct Secrets {
    write: String,
    admin: String,
    /// HMAC key of the per-user tokens (`GET /users/{userId}/profile`).
    user_token_secret: String,
    signer: ModelSigner,
}

/// The tokens file of a data folder.
pub(crate) fn tokens_file(data_dir: &Path) -> PathBuf {
    data_dir.join("tokens.json")
}

/// The saved tokens of a data folder, if its tokens file reads.
pub(crate) fn saved_tokens(data_dir: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    std::fs::read_to_string(tokens_file(data_dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// Tokens and the signing key from the flags, the environment, or `DATA_DIR/tokens.json`: what
/// is missing is generated once, kept there (mode 0600) and printed then, never again (the
/// secrets that sign, never).
fn secrets(args: &ServeArgs) -> anyhow::Result<Secrets> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let write = args
        .write_token
        .clone()
        .or_else(|| env("EDGEREC_WRITE_TOKEN"));
    let admin = args
        .admin_token
        .clone()
        .or_else(|| env("EDGEREC_ADMIN_TOKEN"));
    let user = args
        .user_token_secret
        .clone()
        .or_else(|| env("EDGEREC_USER_TOKEN_SECRET"));
    let signer = args.sign.signer()?;
    let path = tokens_file(&args.data_dir);
    let mut saved: serde_json::Map<String, serde_json::Value> = match std::fs::read_to_string(&path)
    {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut created = Vec::new();
    let mut take =
        |key: &str, given: Option<String>, make: &mut dyn FnMut() -> anyhow::Result<String>| {
            if let Some(v) = given {
                return Ok(v);
            }
            if let Some(v) = saved.get(key).and_then(|v| v.as_str()) {
                return Ok(v.to_owned());
            }
            let v = make()?;
            saved.insert(key.to_owned(), serde_json::Value::String(v.clone()));
            created.push(key.to_owned());
            anyhow::Ok(v)
        };
    let write = take("writeToken", write, &mut random_token)?;
    let admin = take("adminToken", admin, &mut random_token)?;
    let user_token_secret = take("userTokenSecret", user, &mut random_token)?;
    let signer = match signer {
        Some(s) => s,
        None => {
            let seed = take("signingKey", None, &mut || {
                Ok(ModelSigner::generate()?.to_base64_seed().to_string())
            })?;
            ModelSigner::parse(&seed)
                .with_context(|| format!("signingKey in {}", path.display()))?
        }
    };
    if write == admin {
        bail!("the write and admin tokens must differ");
    }
    if user_token_secret.len() < edgerec_core::user_token::MIN_SECRET_LEN {
        bail!(
            "the user-token secret must be at least {} bytes",
            edgerec_core::user_token::MIN_SECRET_LEN
        );
    }
    let public = signer.public_key();
    if created.iter().any(|k| k == "signingKey") {
        saved.insert("signingPublicKey".into(), public.to_base64().into());
    }
    if !created.is_empty() {
        std::fs::create_dir_all(&args.data_dir)?;
        let text = serde_json::Value::Object(saved).to_string();
        super::signing::write_private(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("created and kept in {} (printed only now):", path.display());
        for k in &created {
            match k.as_str() {
                "writeToken" => eprintln!("  write token: {write}"),
                "adminToken" => eprintln!("  admin token: {admin}"),
                "userTokenSecret" => eprintln!(
                    "  a user-token secret (userTokenSecret; `edgerec user-token` mints tokens with it)"
                ),
                _ => eprintln!("  a model signing key (private; its public key is below)"),
            }
        }
    }
    eprintln!(
        "signing published models with key id {} (public key {})",
        public.key_id_hex(),
        public.to_base64()
    );
    Ok(Secrets {
        write,
        admin,
        user_token_secret,
        signer,
    })
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    // Colours only on a terminal: a log file or a pipe gets plain text.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .try_init();
    let Secrets {
        write: write_token,
        admin: admin_token,
        user_token_secret,
        signer,
    } = secrets(args)?;
    let seed: Option<serve::SeedLoader> = args.interactions.as_ref().map(|p| {
        let spec = DatasetSpec {
            items: args.items.clone(),
            users: args.users.clone(),
            skip_bad_rows: args.skip_bad_rows,
            ..DatasetSpec::new(p.clone())
        };
        let loader: serve::SeedLoader = Arc::new(move || {
            let (ds, _report) = import::load(&spec)?;
            Ok(ds)
        });
        loader
    });
    if let Some(load) = &seed {
        // Fail early on a bad seed rather than at the first retrain.
        let ds = load().context("seed dataset")?;
        eprintln!(
            "seed dataset {:?}: {} interactions, {} users, {} items (re-read at every retrain)",
            ds.name,
            ds.interactions.len(),
            ds.user_ids.len(),
            ds.item_ids.len()
        );
    }
    let train = match &args.config {
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            TrainConfig::parse(&text).with_context(|| format!("config {}", p.display()))?
        }
        None => TrainConfig::default_for(&[]),
    };
    if !(0.0..1.0).contains(&args.max_regression) {
        bail!(
            "--max-regression must be in [0, 1), found {}",
            args.max_regression
        );
    }
    let publish_hook = match (&args.publish_hook, &args.publish_r2) {
        (Some(_), Some(_)) => bail!("use either --publish-hook or --publish-r2, not both"),
        (Some(h), None) => Some(h.clone()),
        (None, Some(target)) => Some(format!(
            "npx wrangler r2 object put '{}' --file {{path}} --content-type application/octet-stream --remote",
            target.replace('\'', "")
        )),
        (None, None) => None,
    };
    let experiment = match &args.experiment {
        None => None,
        Some(name) => {
            let names: Vec<&str> = args
                .variants
                .iter()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .collect();
            if names.len() < 2 {
                bail!("--variants needs at least two names");
            }
            let mut e = Experiment::equal(name, None, &names)
                .map_err(|e| anyhow::anyhow!("--experiment/--variants: {e}"))?;
            if !args.shares.is_empty() {
                if args.shares.len() != names.len() {
                    bail!(
                        "--shares gives {} shares for {} variants",
                        args.shares.len(),
                        names.len()
                    );
                }
                for (v, s) in e.variants.iter_mut().zip(&args.shares) {
                    if !(s.is_finite() && *s > 0.0) {
                        bail!("--shares: {s} is not a positive number");
                    }
                    v.share = *s;
                }
            }
            Some(e)
        }
    };
    let segment = edgerec_core::segment::SegmentConfig::from_json(&args.segment_event_map)
        .map_err(|e| anyhow::anyhow!("--segment-event-map: {e}"))?;
    let cfg = ServeConfig {
        data_dir: args.data_dir.clone(),
        listen: args.listen,
        write_token,
        admin_token,
        signer: Arc::new(signer),
        user_token_secret,
        max_body_bytes: args.max_body_bytes,
        train,
        seed,
        update_every: args.update_every,
        full_every: args.full_every,
        eval_gate: !args.no_eval_gate,
        max_regression: args.max_regression,
        keep_models: args.keep_models.max(1),
        publish_dir: args.publish_dir.clone(),
        publish_hook,
        experiment,
        train_on_start: !args.no_train_on_start,
        click_event_type: args.click_event_type.clone(),
        segment,
    };
    serve::run(cfg)?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("2w").is_err());
        assert!(parse_duration("0s").is_err());
    }
}
