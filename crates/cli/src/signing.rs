//! `edgerec keygen`, `edgerec sign`, `edgerec verify`, and the signing key of `edgerec train`
//! (see `edgerec_trainer::signing`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use edgerec_trainer::signing::{self, Integrity, ModelSigner, PublicKey, SignatureInfo};

/// Environment variable holding a private key (PKCS#8 PEM, or the base64 of its 32-byte seed).
pub const KEY_ENV: &str = "EDGEREC_SIGNING_KEY";
/// Environment variable holding the path of a private key file.
pub const KEY_FILE_ENV: &str = "EDGEREC_SIGNING_KEY_FILE";

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:
  edgerec keygen --output keys/model-signing
  # keys/model-signing      private key (PKCS#8 PEM, mode 0600): edgerec train/sign --sign-key
  # keys/model-signing.pub  public key (base64): the Worker's MODEL_PUBLIC_KEY, fromUrl's publicKey")]
pub struct KeygenArgs {
    /// Where to write the private key; the public key goes to the same path plus `.pub`.
    #[arg(long, short)]
    output: PathBuf,
    /// Overwrite existing key files.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec sign --key keys/model-signing --model store.erm                 # in place
  edgerec sign --key keys/model-signing --model store.erm --output store.signed.erm
  EDGEREC_SIGNING_KEY=\"$(cat keys/model-signing)\" edgerec sign --model store.erm")]
pub struct SignArgs {
    /// The private key file (else $EDGEREC_SIGNING_KEY, else the file $EDGEREC_SIGNING_KEY_FILE).
    #[arg(long)]
    key: Option<PathBuf>,
    /// The model file to sign (a signature it has is replaced).
    #[arg(long)]
    model: PathBuf,
    /// Where to write the signed model (default: the model file itself).
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  edgerec verify --public-key keys/model-signing.pub store.erm
  edgerec verify --public-key 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo= store.erm
  # during a key rotation, trust both keys:
  edgerec verify --public-key old.pub --public-key new.pub store.erm")]
pub struct VerifyArgs {
    /// A trusted public key: its base64 (raw 32 bytes) or SPKI PEM, or a file holding either.
    /// Repeat it to trust several keys.
    #[arg(long = "public-key", required = true)]
    public_keys: Vec<String>,
    /// The model file.
    model: PathBuf,
}

/// The `--sign-key` option of the commands that write models.
#[derive(Debug, Clone, clap::Args)]
pub struct SignKeyArg {
    /// Sign the written model with this private key (PKCS#8 PEM or base64 seed; `edgerec
    /// keygen` makes one). Without it, $EDGEREC_SIGNING_KEY (the key itself) or
    /// $EDGEREC_SIGNING_KEY_FILE (its path) is used when set; else the model is not signed.
    #[arg(long, value_name = "FILE")]
    pub sign_key: Option<PathBuf>,
}

impl SignKeyArg {
    /// The signer the option or the environment names, if any.
    pub fn signer(&self) -> Result<Option<ModelSigner>> {
        signer_from(self.sign_key.as_deref())
    }
}

/// The private key of `file`, else of `$EDGEREC_SIGNING_KEY` / `$EDGEREC_SIGNING_KEY_FILE`.
pub fn signer_from(file: Option<&Path>) -> Result<Option<ModelSigner>> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let Some(p) = file {
        return read_signer(p).map(Some);
    }
    if let Some(text) = env(KEY_ENV) {
        return ModelSigner::parse(&text)
            .with_context(|| format!("${KEY_ENV}"))
            .map(Some);
    }
    if let Some(p) = env(KEY_FILE_ENV) {
        return read_signer(Path::new(&p))
            .with_context(|| format!("${KEY_FILE_ENV}"))
            .map(Some);
    }
    Ok(None)
}

fn read_signer(path: &Path) -> Result<ModelSigner> {
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading the signing key {}", path.display()))?,
    );
    ModelSigner::parse(&text).with_context(|| format!("the signing key {}", path.display()))
}

/// Signs `bytes` when a signer is given; prints which key signed.
pub fn sign_if(signer: Option<&ModelSigner>, bytes: Vec<u8>) -> Result<Vec<u8>> {
    let Some(s) = signer else {
        return Ok(bytes);
    };
    let signed = s.sign(&bytes).context("signing the model")?;
    eprintln!(
        "signed with key id {} (public key {})",
        s.public_key().key_id_hex(),
        s.public_key().to_base64()
    );
    Ok(signed)
}

/// Writes `bytes` through a temporary file and a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("erm.tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

pub fn run_keygen(args: &KeygenArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let public_path = PathBuf::from(format!("{}.pub", args.output.display()));
    for p in [&args.output, &public_path] {
        if p.exists() && !args.force {
            bail!(
                "{} exists; pass --force to replace it (models signed with the old key then need the old public key to verify)",
                p.display()
            );
        }
    }
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let signer = ModelSigner::generate()?;
    let pem = signer.to_pkcs8_pem()?;
    signing::write_private(&args.output, pem.as_bytes())
        .with_context(|| format!("writing {}", args.output.display()))?;
    let public = signer.public_key();
    std::fs::write(&public_path, format!("{}\n", public.to_base64()))
        .with_context(|| format!("writing {}", public_path.display()))?;
    writeln!(
        out,
        "wrote {} (private key: keep it secret) and {}",
        args.output.display(),
        public_path.display()
    )?;
    writeln!(out, "public key: {}", public.to_base64())?;
    writeln!(out, "key id:     {}", public.key_id_hex())?;
    writeln!(
        out,
        "Verify with it: the Worker's MODEL_PUBLIC_KEY, Recommender.fromUrl(url, {{ publicKey }}), edgerec verify --public-key."
    )?;
    Ok(ExitCode::SUCCESS)
}

pub fn run_sign(args: &SignArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let signer = signer_from(args.key.as_deref())?.with_context(|| {
        format!("no signing key: pass --key FILE, or set ${KEY_ENV} or ${KEY_FILE_ENV}")
    })?;
    let bytes =
        std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    edgerec_core::format::decode(&bytes)
        .with_context(|| format!("{} is not a valid model", args.model.display()))?;
    let signed = signer
        .sign(&bytes)
        .with_context(|| format!("signing {}", args.model.display()))?;
    let target = args.output.as_ref().unwrap_or(&args.model);
    write_atomic(target, &signed)?;
    writeln!(
        out,
        "signed {} with key id {} ({} bytes)",
        target.display(),
        signer.public_key().key_id_hex(),
        signed.len()
    )?;
    writeln!(
        out,
        "integrity: {}",
        signing::integrity(&signed, Integrity::Sha256)
    )?;
    Ok(ExitCode::SUCCESS)
}

/// A `--public-key` value: the key itself, or a file holding it.
fn public_key(value: &str) -> Result<PublicKey> {
    let path = Path::new(value);
    if path.is_file() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the public key {}", path.display()))?;
        return PublicKey::parse(&text)
            .with_context(|| format!("the public key {}", path.display()));
    }
    PublicKey::parse(value)
        .with_context(|| format!("--public-key {value:?} is neither a public key nor a file"))
}

pub fn run_verify(args: &VerifyArgs, out: &mut dyn Write) -> Result<ExitCode> {
    let keys = args
        .public_keys
        .iter()
        .map(|k| public_key(k))
        .collect::<Result<Vec<_>>>()?;
    let bytes =
        std::fs::read(&args.model).with_context(|| format!("reading {}", args.model.display()))?;
    match signing::verify(&bytes, &keys) {
        Ok(v) => {
            edgerec_core::format::decode(&bytes).with_context(|| {
                format!("{} is signed but does not decode", args.model.display())
            })?;
            writeln!(
                out,
                "{}: signature ok (key id {})",
                args.model.display(),
                v.key.key_id_hex()
            )?;
            writeln!(
                out,
                "integrity: {}",
                signing::integrity(&bytes, Integrity::Sha256)
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{}: refused: {e}", args.model.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// One line for `edgerec inspect`: the signature the file names (not verified) and its SRI hash.
pub fn describe(bytes: &[u8]) -> String {
    let sig = match signing::describe(bytes) {
        Ok(SignatureInfo::Unsigned) => "unsigned".to_owned(),
        Ok(SignatureInfo::Signed {
            algorithm: 1,
            key_id,
        }) => {
            format!("signed (Ed25519, key id {key_id}; check it with edgerec verify)")
        }
        Ok(SignatureInfo::Signed { algorithm, key_id }) => {
            format!("signed with unknown algorithm {algorithm} (key id {key_id})")
        }
        Err(e) => format!("malformed signature section: {e}"),
    };
    format!(
        "signature: {sig}; integrity {}",
        signing::integrity(bytes, Integrity::Sha256)
    )
}
