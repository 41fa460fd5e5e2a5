//! `edgerec pack`: one model file from artefacts another engine computed (Spark's ALS
//! factors, item neighbours and popularity counts as Parquet; see docs/spark.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use edgerec_trainer::artefacts::{self, Artefacts, PackOptions};
use edgerec_trainer::config::EmbeddingKind;
use edgerec_trainer::dataset::Dataset;
use edgerec_trainer::import::DatasetSpec;
use edgerec_trainer::progress::Progress as _;

use super::progress::Bars;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Each table is a Parquet file or a folder of part files, as Spark writes them
(examples/spark/edgerec_artefacts.py computes all four). Ids are the original ids; integer ids
are taken as their decimal text. Every id of a table joins the catalogue or the user table.

Examples:
  edgerec pack --item-factors out/item_factors --user-factors out/user_factors \\
               --neighbors out/neighbors --popularity out/popularity \\
               --interactions interactions.csv --items items.csv --output model.erm
  edgerec pack --neighbors out/neighbors --popularity out/popularity --profile public --output public.erm"
)]
pub struct PackArgs {
    /// ALS item factors: columns `id` (int or string) and `features` (list of float/double).
    /// Makes user-personalization and personalized-ranking.
    #[arg(long, value_name = "PARQUET")]
    item_factors: Option<PathBuf>,
    /// ALS user factors (same columns and rank): known users' own rows.
    #[arg(long, value_name = "PARQUET", requires = "item_factors")]
    user_factors: Option<PathBuf>,
    /// Item neighbours: columns `item`, `neighbour` (ids) and `weight`. Makes sims.
    #[arg(long, value_name = "PARQUET")]
    neighbors: Option<PathBuf>,
    /// Popularity: columns `item` and `count`. Makes popularity-count and the model's
    /// fallback for unknown users.
    #[arg(long, value_name = "PARQUET")]
    popularity: Option<PathBuf>,
    /// Interactions (as `edgerec train --interactions` takes them): the known users'
    /// histories (their own items are not recommended back) and the k-anonymity floor.
    #[arg(long, value_name = "PATH")]
    interactions: Option<PathBuf>,
    /// The catalogue CSV (as `edgerec train --items` takes it): item metadata for filters.
    #[arg(long, value_name = "PATH", requires = "interactions")]
    items: Option<PathBuf>,
    /// Neighbours kept per item, strongest first (sims' default).
    #[arg(long, default_value_t = PackOptions::default().max_neighbors)]
    max_neighbors: usize,
    /// Store item factors as int8 (default) or f32.
    #[arg(long, value_parser = ["int8", "f32"], default_value = "int8")]
    embedding: String,
    /// Store user factors as int8 or f32 (default: as --embedding).
    #[arg(long, value_parser = ["int8", "f32"])]
    user_embedding: Option<String>,
    /// L2 regularisation of the sessions' fold-in onto the item factors.
    #[arg(long, default_value_t = PackOptions::default().regularization)]
    regularization: f32,
    /// Confidence scale of the sessions' fold-in (an event weighs 1 + alpha).
    #[arg(long, default_value_t = PackOptions::default().alpha)]
    alpha: f32,
    /// With --interactions: every stored aggregate (counts, neighbour pairs) is kept only when
    /// at least this many users are behind it (1 = no floor). Without them the tables' own
    /// floor stands (the job's --min-users) and the model states none.
    #[arg(long, default_value_t = PackOptions::default().min_users)]
    min_users: u32,
    /// Where to write the model file.
    #[arg(long, short)]
    output: PathBuf,
    /// Who may receive the file: `private` or `public` (see `edgerec train --profile`).
    #[arg(long, value_parser = ["private", "public"], default_value = "private")]
    profile: String,
    /// Model version to stamp into the file.
    #[arg(long, default_value_t = 0)]
    model_version: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    sign: super::signing::SignKeyArg,
}

pub fn run(args: &PackArgs, bars: &Bars, out: &mut dyn Write) -> Result<ExitCode> {
    let signer = args.sign.signer()?;
    let t = Instant::now();
    let tables = Artefacts {
        item_factors: args
            .item_factors
            .as_deref()
            .map(artefacts::read_factors)
            .transpose()?,
        user_factors: args
            .user_factors
            .as_deref()
            .map(artefacts::read_factors)
            .transpose()?,
        neighbors: args
            .neighbors
            .as_deref()
            .map(artefacts::read_neighbors)
            .transpose()?,
        popularity: args
            .popularity
            .as_deref()
            .map(artefacts::read_counts)
            .transpose()?,
    };
    let ds = match &args.interactions {
        Some(path) => {
            let spec = DatasetSpec {
                items: args.items.clone(),
                ..DatasetSpec::new(path)
            };
            let loaded = edgerec_trainer::import::load_with(&spec, bars);
            bars.finish();
            let (ds, import) = loaded?;
            eprintln!("{import}");
            ds
        }
        None => Dataset::default(),
    };
    let kind = |s: &str| {
        if s == "f32" {
            EmbeddingKind::F32
        } else {
            EmbeddingKind::Int8
        }
    };
    let opts = PackOptions {
        max_neighbors: args.max_neighbors,
        embedding: kind(&args.embedding),
        user_embedding: args.user_embedding.as_deref().map(kind),
        regularization: args.regularization,
        alpha: args.alpha,
        min_users: args.min_users,
    };
    let (mut model, report) = artefacts::pack(&tables, ds, &opts)?;
    model.meta.version = args.model_version;
    if edgerec_core::Profile::parse(&args.profile) == Some(edgerec_core::Profile::Public) {
        model = edgerec_trainer::privacy::projection::public(&model, model.meta.min_users)
            .context("making the public profile")?;
    }
    let bytes = super::signing::sign_if(signer.as_ref(), edgerec_core::format::encode(&model)?)?;
    super::train::write_atomically(&args.output, &bytes)?;
    if args.json {
        let json = serde_json::json!({
            "report": report,
            "profile": model.meta.profile.name(),
            "bytes": bytes.len(),
            "seconds": t.elapsed().as_secs_f64(),
        });
        writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
    } else {
        writeln!(
            out,
            "packed {} ({}) over {} items and {} users in {:.2}s",
            report.recommenders.join(", "),
            if report.rank > 0 {
                format!("rank {}", report.rank)
            } else {
                "no factors".to_owned()
            },
            report.items,
            report.users,
            t.elapsed().as_secs_f64()
        )?;
        writeln!(
            out,
            "  {} interactions; items only in the tables: {}; items without factors: {}; users without factors: {}; neighbour entries: {}; floor: {}",
            report.interactions,
            report.items_added,
            report.items_without_factors,
            report.users_without_factors,
            report.neighbor_entries,
            if report.min_users > 1 {
                format!("{} users", report.min_users)
            } else {
                "the tables' own".to_owned()
            }
        )?;
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
