//! The `edgerec` command line.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use edgerec_trainer::progress::Progress as _;

// One module per subcommand: argument parsing and printing only; the work lives in the
// libraries (edgerec_trainer, edgerec_server).
mod batch;
mod eval_html;
mod evaluate;
mod export;
mod generate;
mod import;
mod inspect;
mod jsonl;
mod lake;
mod model_file;
mod out;
mod pack;
mod progress;
mod recommend;
mod report;
mod segment;
mod serve;
mod signing;
mod train;
mod user_token;

/// edgerec: train recommendation models for the edge, and evaluate and query them.
///
/// The first line of `--help` is the one the binary has always printed (the description of the
/// package it was built from before it had its own).
#[derive(Debug, Parser)]
#[command(
    name = "edgerec",
    version,
    about = "edgerec's trainer: imports datasets, trains recipes, evaluates, and packs .erm model files.",
    long_about = None
)]
struct Cli {
    /// Draw no progress bars (they are drawn only when stderr is a terminal anyway).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import datasets (Personalize CSVs, MovieLens, any delimited file, or Parquet interactions:
    /// files, folders, s3:// event lakes) and print a report.
    Import(import::ImportArgs),
    /// Check datasets against their schema without writing anything; non-zero exit on errors.
    Validate(import::ValidateArgs),
    /// Generate synthetic storefront interactions over the bundled retail catalogue.
    Generate(generate::GenerateArgs),
    /// Train the recommenders named in a config file and pack them into one .erm model file.
    Train(train::TrainArgs),
    /// Evaluate recipes with the offline protocol (split A warm users, split B cold sessions).
    Evaluate(evaluate::EvaluateArgs),
    /// Pack a model file from artefacts another engine computed (Spark's ALS factors, item
    /// neighbours and popularity counts, as Parquet).
    Pack(pack::PackArgs),
    /// Answer one recommendation request against a model file and print the response JSON.
    Recommend(recommend::RecommendArgs),
    /// Batch inference over Personalize's JSON-lines input.
    Batch(batch::BatchArgs),
    /// User segments (item-affinity, item-attribute-affinity) over Personalize's JSON lines.
    Segment(segment::SegmentArgs),
    /// Write a model in another profile: `--profile public` drops every per-person record.
    Export(export::ExportArgs),
    /// Print a model file's contents and section sizes.
    Inspect(inspect::InspectArgs),
    /// Make an Ed25519 key pair for signing model files.
    Keygen(signing::KeygenArgs),
    /// Sign a model file (Ed25519), replacing any signature it has.
    Sign(signing::SignArgs),
    /// Check a model file's signature against trusted public keys; non-zero exit if refused.
    Verify(signing::VerifyArgs),
    /// Run the sync server: ingest events, retrain on a schedule, publish models.
    Serve(serve::ServeArgs),
    /// Metric attribution and A/B comparison from a sync server's store.
    Report(report::ReportArgs),
    /// Mint a per-user token for GET /users/{userId}/profile (as a storefront's backend does).
    UserToken(user_token::UserTokenArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let bars = progress::Bars::for_stderr(cli.quiet);
    let mut stdout = out::Stdout::default();
    let result = run(cli.command, &bars, &mut stdout);
    bars.finish();
    exit_status(result, &mut stdout)
}

/// Runs one subcommand; its text goes to `out`.
fn run(command: Command, bars: &progress::Bars, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    match command {
        Command::Import(a) => import::run_import(&a, bars, out),
        Command::Validate(a) => import::run_validate(&a, bars, out),
        Command::Generate(a) => generate::run(&a, bars, out),
        Command::Train(a) => train::run(&a, bars, out),
        Command::Evaluate(a) => evaluate::run(&a, bars, out),
        Command::Pack(a) => pack::run(&a, bars, out),
        Command::Recommend(a) => recommend::run(&a, out),
        Command::Batch(a) => batch::run(&a, bars),
        Command::Segment(a) => segment::run(&a, bars),
        Command::Export(a) => export::run(&a, out),
        Command::Inspect(a) => inspect::run(&a, out),
        Command::Keygen(a) => signing::run_keygen(&a, out),
        Command::Sign(a) => signing::run_sign(&a, out),
        Command::Verify(a) => signing::run_verify(&a, out),
        Command::Serve(a) => serve::run(&a),
        Command::Report(a) => report::run(&a, out),
        Command::UserToken(a) => user_token::run(&a, out),
    }
}

/// The subcommand's exit status, or 1 with its error on stderr. Stdout's reader going away is
/// no error: the command stopped there (status 0, nothing said), or finished with its own
/// status when it had printed everything already.
fn exit_status(result: anyhow::Result<ExitCode>, stdout: &mut out::Stdout) -> ExitCode {
    // Text printed without a final newline is still in stdout's buffer.
    let result = result.and_then(|code| match stdout.flush() {
        Err(e) if !out::closed(&e) => Err(e.into()),
        _ => Ok(code),
    });
    match result {
        Ok(code) => code,
        Err(e) if out::is_closed(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
