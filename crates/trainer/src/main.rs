//! The `edgerec` command line.

use clap::{Parser, Subcommand};
use edgerec_trainer::progress::Progress as _;

mod cli;

/// edgerec: train recommendation models for the edge, and evaluate and query them.
#[derive(Debug, Parser)]
#[command(name = "edgerec", version, about, long_about = None)]
struct Cli {
    /// Draw no progress bars (they are drawn only when stderr is a terminal anyway).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Import datasets (Personalize CSVs, MovieLens, or any delimited file) and print a report.
    Import(cli::import::ImportArgs),
    /// Check datasets against their schema without writing anything; non-zero exit on errors.
    Validate(cli::import::ValidateArgs),
    /// Generate synthetic storefront interactions over the bundled retail catalogue.
    Generate(cli::generate::GenerateArgs),
    /// Train the recommenders named in a config file and pack them into one .erm model file.
    Train(cli::train::TrainArgs),
    /// Evaluate recipes with the offline protocol (split A warm users, split B cold sessions).
    Evaluate(cli::evaluate::EvaluateArgs),
    /// Answer one recommendation request against a model file and print the response JSON.
    Recommend(cli::recommend::RecommendArgs),
    /// Batch inference over Personalize's JSON-lines input.
    Batch(cli::batch::BatchArgs),
    /// User segments (item-affinity, item-attribute-affinity) over Personalize's JSON lines.
    Segment(cli::segment::SegmentArgs),
    /// Write a model in another profile: `--profile public` drops every per-person record.
    Export(cli::export::ExportArgs),
    /// Print a model file's contents and section sizes.
    Inspect(cli::inspect::InspectArgs),
    /// Make an Ed25519 key pair for signing model files.
    Keygen(cli::signing::KeygenArgs),
    /// Sign a model file (Ed25519), replacing any signature it has.
    Sign(cli::signing::SignArgs),
    /// Check a model file's signature against trusted public keys; non-zero exit if refused.
    Verify(cli::signing::VerifyArgs),
    /// Run the sync server: ingest events, retrain on a schedule, publish models.
    Serve(cli::serve::ServeArgs),
    /// Metric attribution and A/B comparison from a sync server's store.
    Report(cli::report::ReportArgs),
    /// Mint a per-user token for GET /users/{userId}/profile (as a storefront's backend does).
    UserToken(cli::user_token::UserTokenArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let bars = cli::progress::Bars::for_stderr(cli.quiet);
    let result = match cli.command {
        Command::Import(a) => cli::import::run_import(&a, &bars),
        Command::Validate(a) => cli::import::run_validate(&a, &bars),
        Command::Generate(a) => cli::generate::run(&a, &bars),
        Command::Train(a) => cli::train::run(&a, &bars),
        Command::Evaluate(a) => cli::evaluate::run(&a, &bars),
        Command::Recommend(a) => cli::recommend::run(&a),
        Command::Batch(a) => cli::batch::run(&a, &bars),
        Command::Segment(a) => cli::segment::run(&a, &bars),
        Command::Export(a) => cli::export::run(&a),
        Command::Inspect(a) => cli::inspect::run(&a),
        Command::Keygen(a) => cli::signing::run_keygen(&a),
        Command::Sign(a) => cli::signing::run_sign(&a),
        Command::Verify(a) => cli::signing::run_verify(&a),
        Command::Serve(a) => cli::serve::run(&a),
        Command::Report(a) => cli::report::run(&a),
        Command::UserToken(a) => cli::user_token::run(&a),
    };
    bars.finish();
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
