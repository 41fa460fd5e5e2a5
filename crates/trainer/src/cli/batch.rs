//! `edgerec batch` (not yet implemented).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BatchArgs {}

pub fn run(_args: &BatchArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec batch is not implemented yet")
}
