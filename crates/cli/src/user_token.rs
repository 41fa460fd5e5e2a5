//! `edgerec user-token`: mints a per-user token, as a storefront's backend does for its
//! signed-in shopper (see `edgerec_core::user_token`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use edgerec_core::user_token;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  # A token for user u1, valid for an hour, with the secret of ./edgerec-data/tokens.json:
  edgerec user-token --user-id u1 --ttl 3600

  # Fetch u1's profile from the sync server with it:
  curl -H \"Authorization: Bearer $(edgerec user-token --user-id u1)\" \\
      http://127.0.0.1:8787/users/u1/profile -o u1.profile

The secret: $EDGEREC_USER_TOKEN_SECRET, else userTokenSecret in DATA_DIR/tokens.json (written by
`edgerec serve`). The token is printed on stdout:
  v1.<base64url(userId)>.<expiry>.<base64url(HMAC-SHA256(secret, \"edgerec-user-token\\nv1\\n\" + userId + \"\\n\" + expiry))>")]
pub struct UserTokenArgs {
    /// The user the token is for.
    #[arg(long)]
    user_id: String,
    /// Seconds until the token expires.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// The sync server's data folder, whose tokens.json holds the secret.
    #[arg(long, default_value = "edgerec-data")]
    data_dir: PathBuf,
}

pub fn run(args: &UserTokenArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    edgerec_core::request::check_id("--user-id", &args.user_id)?;
    if args.ttl == 0 {
        bail!("--ttl must be at least 1 second");
    }
    let secret = match std::env::var("EDGEREC_USER_TOKEN_SECRET")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(s) => s,
        None => edgerec_server::secrets::saved_tokens(&args.data_dir)
            .and_then(|t| t.get("userTokenSecret")?.as_str().map(str::to_owned))
            .with_context(|| {
                format!(
                    "no user-token secret: set EDGEREC_USER_TOKEN_SECRET or point --data-dir at the folder whose tokens.json edgerec serve wrote ({} has none)",
                    edgerec_server::secrets::tokens_file(&args.data_dir).display()
                )
            })?,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let expiry = now.checked_add(args.ttl).context("--ttl is too large")?;
    writeln!(
        out,
        "{}",
        user_token::mint(secret.as_bytes(), &args.user_id, expiry)?
    )?;
    Ok(ExitCode::SUCCESS)
}
