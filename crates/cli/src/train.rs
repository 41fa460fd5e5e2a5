//! `edgerec train`: trains the recommenders of a config and writes one `.erm` model file.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use edgerec_trainer::config::TrainConfig;
use edgerec_trainer::progress::Progress as _;
use edgerec_trainer::train;

use super::import::DatasetArgs;
use super::progress::Bars;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec train --interactions data/demo/interactions.csv --items data/demo/items.csv \\
                --config data/demo/edgerec.toml --output store.erm
  edgerec train --interactions $EDGEREC_DATA/ml-100k --output ml100k.erm   # every recipe, defaults
  edgerec train --interactions data/demo/interactions.csv --items data/demo/items.csv \\
                --config data/demo/edgerec.toml --profile public --output store.public.erm
  edgerec train --interactions data/demo/interactions.csv --config data/demo/edgerec.toml \\
                --mode update --previous store.erm --output store-v2.erm
  # an event lake: the day partitions from --since on (Parquet under s3://, or a local folder)
  edgerec train --interactions s3://shop-events/lake --since 2024-05-01 --config edgerec.toml \\
                --mode update --previous store.erm --output store-v2.erm")]
pub struct TrainArgs {
    #[command(flatten)]
    data: DatasetArgs,
    /// The training config (TOML); without it every recipe is trained with its defaults.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to write the model file.
    #[arg(long, short)]
    output: PathBuf,
    /// Who may receive the file: `private` (everything, for the sync server and private
    /// storage) or `public` (no user ids, user metadata, histories or user factors: for
    /// browsers and unauthenticated routes; see docs/privacy.md).
    #[arg(long, value_parser = ["private", "public"], default_value = "private")]
    profile: String,
    /// Training mode (Personalize's trainingMode): `full` trains from scratch; `update` starts
    /// from `--previous` (warm-started factors, a few iterations) and is several times faster.
    #[arg(long, value_parser = ["full", "update"], default_value = "full")]
    mode: String,
    /// The model an update starts from.
    #[arg(long, required_if_eq("mode", "update"))]
    previous: Option<PathBuf>,
    /// Model version to stamp into the file.
    #[arg(long, default_value_t = 0)]
    model_version: u64,
    /// Training threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Search each recommender's hyperparameters first (Personalize's performHPO): random
    /// candidates from the recipe's search space, scored on the evaluation protocol's
    /// validation split; the model is then trained with the best ones. Parameters the config
    /// sets stay fixed.
    #[arg(long)]
    hpo: bool,
    /// Candidates per recommender with --hpo (the configured parameters included).
    #[arg(long, default_value_t = 12, requires = "hpo")]
    hpo_trials: usize,
    /// What --hpo maximises: `warm` (split A NDCG@10), `cold` (split B) or `both`.
    #[arg(long, value_parser = ["warm", "cold", "both"], default_value = "both", requires = "hpo")]
    hpo_objective: String,
    /// With --hpo: score split B over this many cold-user folds of the validation data
    /// (see `edgerec evaluate --cold-folds`).
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=9), requires = "hpo")]
    hpo_cold_folds: u8,
    /// Print the training report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sign: super::signing::SignKeyArg,
}

pub fn run(args: &TrainArgs, bars: &Bars, out: &mut dyn Write) -> Result<ExitCode> {
    // A bad key fails before training, not after.
    let signer = args.sign.signer()?;
    if let Some(t) = args.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build_global()
            .ok();
    }
    let input = super::lake::Input::resolve(&args.data)?;
    let loaded = edgerec_trainer::import::load_with(&input.spec, bars);
    bars.finish();
    let (ds, import) = loaded?;
    eprintln!("{import}");
    let cfg = match &args.config {
        Some(p) => TrainConfig::parse(
            &std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?,
        )
        .with_context(|| format!("in {}", p.display()))?,
        None => TrainConfig::default_for(&ds.event_types),
    };
    let cfg = if args.hpo {
        tune(&ds, &cfg, args, bars)?
    } else {
        cfg
    };
    let t = std::time::Instant::now();
    let previous = match (&args.mode[..], &args.previous) {
        ("update", Some(p)) => {
            let bytes = std::fs::read(p).with_context(|| format!("reading {}", p.display()))?;
            Some(
                edgerec_core::format::decode(&bytes)
                    .with_context(|| format!("the previous model {}", p.display()))?,
            )
        }
        _ => None,
    };
    let mode = previous
        .as_ref()
        .map_or(train::TrainingMode::Full, train::TrainingMode::Update);
    let trained = train::train_model_reporting(&ds, &cfg, mode, bars);
    bars.finish();
    let (mut model, report) = trained?;
    model.meta.version = args.model_version;
    if edgerec_core::Profile::parse(&args.profile) == Some(edgerec_core::Profile::Public) {
        model = edgerec_trainer::privacy::projection::public(&model, cfg.model.public_min_users)
            .context("making the public profile")?;
    }
    let bytes = super::signing::sign_if(signer.as_ref(), edgerec_core::format::encode(&model)?)?;
    write_atomically(&args.output, &bytes)?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        writeln!(
            out,
            "trained {} recommenders on {} interactions ({} users, {} items) in {:.2}s",
            report.recommenders.len(),
            report.interactions,
            report.users,
            report.items,
            t.elapsed().as_secs_f64()
        )?;
        for r in &report.recommenders {
            writeln!(out, "  {:<32} {:<22} {:>7.2}s", r.name, r.recipe, r.seconds)?;
        }
        if let Some(a) = &report.auto {
            write!(out, "{}", auto_text(a))?;
        }
        writeln!(
            out,
            "wrote {} ({} profile, {} bytes)",
            args.output.display(),
            model.meta.profile.name(),
            bytes.len()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` through a temporary file beside it, so a reader never sees half a
/// model.
pub fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("erm.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Runs `--hpo` and prints each search (to stderr) and the chosen parameters as config lines.
fn tune(
    ds: &edgerec_trainer::dataset::Dataset,
    cfg: &TrainConfig,
    args: &TrainArgs,
    bars: &Bars,
) -> Result<TrainConfig> {
    use edgerec_trainer::evaluate::hpo;
    let opts = hpo::HpoOptions {
        trials: args.hpo_trials,
        objective: hpo::Objective::parse(&args.hpo_objective).unwrap_or_default(),
        cold_folds: args.hpo_cold_folds,
        ..hpo::HpoOptions::default()
    };
    eprintln!(
        "hyperparameter search: up to {} candidates per recommender, scored on the validation split",
        opts.trials
    );
    let searched = hpo::search_with(ds, cfg, &opts, bars);
    bars.finish();
    let (tuned, report) = searched?;
    for s in &report.searches {
        eprintln!("{} ({}):", s.name, s.recipe);
        eprintln!(
            "  {:>5} {:>9} {:>9} {:>9}  parameters",
            "trial", "A NDCG", "B NDCG", "score"
        );
        for (i, t) in s.trials.iter().enumerate() {
            eprintln!(
                "  {:>5} {:>9.4} {:>9.4} {:>9.4}  {}{}",
                i,
                t.split_a_ndcg_at_10,
                t.split_b_ndcg_at_10,
                t.score,
                params_line(&t.params),
                if i == s.best { "   <- chosen" } else { "" }
            );
        }
    }
    eprintln!("tuned recommenders (config lines):");
    for r in &tuned.recommenders {
        if report.searches.iter().any(|s| s.name == r.name) {
            let mut line = params_line(&r.params);
            if let Some(t) = &r.event_type {
                line = format!("eventType={t}, {line}");
            }
            if line.is_empty() {
                eprintln!("  {} = \"{}\"", r.name, r.recipe.name());
            } else {
                eprintln!("  {} = \"{} ({line})\"", r.name, r.recipe.name());
            }
        }
    }
    Ok(tuned)
}

/// `k=v, k=v` of a parameter table.
fn params_line(t: &toml::Table) -> String {
    t.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the validation pass chose, as `train` prints it.
pub(super) fn auto_text(a: &edgerec_trainer::auto::AutoReport) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "validation pass: {} known users' last items and {} users' sessions held out, {} interactions trained on, {:.2}s (candidates {:.2}s, scoring {:.2}s)",
        a.warm_cases,
        a.cold_users,
        a.validation_interactions,
        a.validation_seconds,
        a.candidates_seconds,
        a.scoring_seconds
    );
    for f in &a.factors {
        let _ = writeln!(
            s,
            "  factor settings of {} (validation NDCG@10, known users / sessions):",
            f.recommenders.join(", ")
        );
        for (i, c) in f.candidates.iter().enumerate() {
            let _ = writeln!(
                s,
                "    {:<48} {:.4} / {:.4}{}",
                params_line(&c.params),
                c.known_ndcg,
                c.session_ndcg,
                if i == f.chosen { "   <- chosen" } else { "" }
            );
        }
    }
    for b in &a.blends {
        let _ = writeln!(s, "  {} blends {}:", b.name, b.parts.join(", "));
        for f in &b.fits {
            let who = if f.events == 0 {
                "known users".to_owned()
            } else {
                format!("sessions of {}", f.events)
            };
            let weights: Vec<String> = f.weights.iter().map(|w| format!("{w:.2}")).collect();
            let alone: Vec<String> = f.parts.iter().map(|x| format!("{x:.4}")).collect();
            let _ = writeln!(
                s,
                "    {who:<16} weights {:<22} NDCG@10 {:.4} (parts alone {}; best blend {:+.4} ±{:.4}; {} cases)",
                weights.join(" / "),
                f.ndcg,
                alone.join(" / "),
                f.gain,
                f.gain_se,
                f.cases
            );
        }
        let line = |v: &[f32]| {
            v.iter()
                .map(|w| format!("{w:.3}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "    as config: parts = [{}], known = [{}], session = [{}]",
            b.parts
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(", "),
            line(&b.known),
            b.session
                .iter()
                .map(|w| format!("[{}]", line(w)))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    s
}
