//! `edgerec export`: writes a model in another profile (the public projection of a private
//! model, for browsers and unauthenticated routes), or for older readers (each recommender's
//! own copy of shared factors).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use edgerec_core::Profile;
use edgerec_trainer::privacy;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec export --profile public --model store.erm --output store.public.erm
  edgerec export --profile public --model store.erm --output store.public.erm \\
                 --sign-key keys/model-signing
  edgerec export --profile private --no-shared-models --model store.erm --output store.1-3.erm")]
pub struct ExportArgs {
    /// The profile to write: `public` holds the catalogue and item-side data and no user ids,
    /// user metadata, histories or user factors (see docs/privacy.md); `private` keeps a
    /// private model as it is (to rewrite it with --no-shared-models).
    #[arg(long, value_parser = ["public", "private"])]
    profile: String,
    /// The model file to export (a private model; a public one is written again unchanged).
    #[arg(long)]
    model: PathBuf,
    /// Where to write the exported model.
    #[arg(long, short)]
    output: PathBuf,
    /// Fewest distinct users behind every aggregate the exported model keeps (publicMinUsers).
    /// A model trained with this floor or a higher one keeps its item-side data as it is.
    #[arg(long, default_value_t = privacy::DEFAULT_MIN_USERS)]
    min_users: u32,
    /// Store each recommender's factors in its own section, as readers before format 1.4 (npm
    /// packages and Workers not yet updated) need, instead of once for all recommenders that
    /// share them.
    #[arg(long)]
    no_shared_models: bool,
    #[command(flatten)]
    sign: super::signing::SignKeyArg,
}

pub fn run(args: &ExportArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let signer = args.sign.signer()?;
    let bytes =
        std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    let model = edgerec_core::format::decode(&bytes)
        .with_context(|| format!("decoding {}", args.model.display()))?;
    let exported = match Profile::parse(&args.profile) {
        Some(Profile::Public) => privacy::projection::public(&model, args.min_users)
            .with_context(|| format!("exporting {} as public", args.model.display()))?,
        _ if model.meta.profile == Profile::Public => anyhow::bail!(
            "{} is a public model: it holds no per-person data to export as private",
            args.model.display()
        ),
        _ => model,
    };
    let options = edgerec_core::format::EncodeOptions {
        share_models: !args.no_shared_models,
    };
    let encoded = edgerec_core::format::encode_with(&exported, options)?;
    let bytes = super::signing::sign_if(signer.as_ref(), encoded)?;
    super::train::write_atomically(&args.output, &bytes)?;
    writeln!(
        out,
        "wrote {} ({} profile, {} bytes; aggregates backed by at least {} users)",
        args.output.display(),
        exported.meta.profile.name(),
        bytes.len(),
        exported.meta.min_users.max(1)
    )?;
    Ok(ExitCode::SUCCESS)
}
