//! `edgerec evaluate` (not yet implemented).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {}

pub fn run(_args: &EvaluateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec evaluate is not implemented yet")
}
