//! `edgerec serve`: the sync server (see `edgerec_server`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use edgerec_server::secrets::{self, Created, Secrets};
use edgerec_server::{self as serve, Experiment, ServeConfig};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::import::{self, DatasetSpec};

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

  # Also keep every accepted event, once, as Parquet partitioned by day (a folder or s3://):
  edgerec serve ... --lake s3://shop-events/lake --lake-interval 5m

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
    /// Export every accepted event, exactly once, to an event lake: Parquet files partitioned
    /// by day (`dt=YYYY-MM-DD/`) in a folder or on S3-compatible storage (`s3://bucket/prefix`;
    /// endpoint and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY, AWS_REGION; AWS_ALLOW_HTTP=true for a plain-http endpoint).
    #[arg(long, value_name = "FOLDER|s3://BUCKET/PREFIX")]
    lake: Option<String>,
    /// How often the lake export looks for new events once it has caught up.
    #[arg(long, value_parser = parse_duration, default_value = "60s", requires = "lake")]
    lake_interval: Duration,
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

/// The server's secrets: each from its flag, else its environment variable, else the data
/// folder's tokens file, else generated and kept there (see [`secrets::resolve`]). What was
/// generated is printed once (the tokens; the secrets that sign, never), the signing key's
/// public key at every start.
fn secrets(args: &ServeArgs) -> anyhow::Result<Secrets> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let given = secrets::Given {
        write_token: args
            .write_token
            .clone()
            .or_else(|| env("EDGEREC_WRITE_TOKEN")),
        admin_token: args
            .admin_token
            .clone()
            .or_else(|| env("EDGEREC_ADMIN_TOKEN")),
        user_token_secret: args
            .user_token_secret
            .clone()
            .or_else(|| env("EDGEREC_USER_TOKEN_SECRET")),
        signer: args.sign.signer()?,
    };
    let s = secrets::resolve(&args.data_dir, given)?;
    if !s.created.is_empty() {
        eprintln!(
            "created and kept in {} (printed only now):",
            secrets::tokens_file(&args.data_dir).display()
        );
        for k in &s.created {
            match k {
                Created::WriteToken => eprintln!("  write token: {}", s.write_token),
                Created::AdminToken => eprintln!("  admin token: {}", s.admin_token),
                Created::UserTokenSecret => eprintln!(
                    "  a user-token secret (userTokenSecret; `edgerec user-token` mints tokens with it)"
                ),
                Created::SigningKey => {
                    eprintln!("  a model signing key (private; its public key is below)");
                }
            }
        }
    }
    let public = s.signer.public_key();
    eprintln!(
        "signing published models with key id {} (public key {})",
        public.key_id_hex(),
        public.to_base64()
    );
    Ok(s)
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    serve::init_logging();
    let Secrets {
        write_token,
        admin_token,
        user_token_secret,
        signer,
        ..
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
    let lake = match &args.lake {
        None => None,
        Some(text) => {
            let location = edgerec_lake::Location::open(text).context("--lake")?;
            eprintln!("exporting accepted events to the lake {text}");
            Some(serve::lake::LakeConfig {
                location,
                interval: args.lake_interval,
                max_rows: serve::lake::MAX_ROWS,
            })
        }
    };
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
        lake,
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
