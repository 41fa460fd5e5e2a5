//! `edgerec train` (not yet implemented).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct TrainArgs {}

pub fn run(_args: &TrainArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec train is not implemented yet")
}
