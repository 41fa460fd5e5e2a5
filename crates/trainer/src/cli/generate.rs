//! `edgerec generate` (not yet implemented).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct GenerateArgs {}

pub fn run(_args: &GenerateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec generate is not implemented yet")
}
