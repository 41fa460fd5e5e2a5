//! `edgerec import` and `edgerec validate` (not yet implemented).

use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {}

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {}

pub fn run_import(_args: &ImportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec import is not implemented yet")
}

pub fn run_validate(_args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("edgerec validate is not implemented yet")
}
