//! `edgerec recommend` (not yet implemented).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RecommendArgs {}

pub fn run(_args: &RecommendArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec recommend is not implemented yet")
}
