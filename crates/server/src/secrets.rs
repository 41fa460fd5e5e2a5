//! What the server authenticates with: its two bearer tokens, the key of the per-user tokens
//! and its model signing key. Each is the one given (a flag or the environment, chosen by the
//! caller), else the one kept in `DATA_DIR/tokens.json`, else generated once and kept there
//! (mode 0600), under the names `writeToken`, `adminToken`, `userTokenSecret` and `signingKey`
//! (with `signingPublicKey` beside a generated key).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use edgerec_trainer::signing::{self, ModelSigner};

/// The secrets the caller was given; the missing ones come from the tokens file.
#[derive(Debug, Default)]
pub struct Given {
    pub write_token: Option<String>,
    pub admin_token: Option<String>,
    pub user_token_secret: Option<String>,
    pub signer: Option<ModelSigner>,
}

/// A secret that was generated and kept in the tokens file by [`resolve`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    WriteToken,
    AdminToken,
    UserTokenSecret,
    SigningKey,
}

impl Created {
    /// Its name in the tokens file.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            Created::WriteToken => "writeToken",
            Created::AdminToken => "adminToken",
            Created::UserTokenSecret => "userTokenSecret",
            Created::SigningKey => "signingKey",
        }
    }
}

/// The server's secrets.
#[derive(Debug)]
pub struct Secrets {
    pub write_token: String,
    pub admin_token: String,
    /// HMAC key of the per-user tokens (`GET /users/{userId}/profile`).
    pub user_token_secret: String,
    pub signer: ModelSigner,
    /// What was generated now (and written to the tokens file), in this order.
    pub created: Vec<Created>,
}

/// The tokens file of a data folder.
#[must_use]
pub fn tokens_file(data_dir: &Path) -> PathBuf {
    data_dir.join("tokens.json")
}

/// The saved tokens of a data folder, if its tokens file reads.
#[must_use]
pub fn saved_tokens(data_dir: &Path) -> Option<serde_json::Map<String, serde_json::Value>> {
    std::fs::read_to_string(tokens_file(data_dir))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
}

/// A random bearer token: `er_` and 48 hex digits.
fn random_token() -> anyhow::Result<String> {
    let mut buf = [0u8; 24];
    getrandom::fill(&mut buf)
        .map_err(|e| anyhow::anyhow!("the system random number generator failed: {e}"))?;
    let mut s = String::from("er_");
    for b in buf {
        s.push_str(&format!("{b:02x}"));
    }
    Ok(s)
}

/// The secrets of the server whose data folder is `data_dir`: the given ones, else those of the
/// tokens file, else new ones, written to the tokens file (created with `data_dir` if need be).
/// The write and admin tokens must differ and the user-token secret must be long enough.
pub fn resolve(data_dir: &Path, given: Given) -> anyhow::Result<Secrets> {
    let path = tokens_file(data_dir);
    let mut saved: serde_json::Map<String, serde_json::Value> = match std::fs::read_to_string(&path)
    {
        Ok(text) => serde_json::from_str(&text)
            .with_context(|| format!("{} is not a JSON object", path.display()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut created = Vec::new();
    let mut take =
        |what: Created, given: Option<String>, make: &mut dyn FnMut() -> anyhow::Result<String>| {
            if let Some(v) = given {
                return Ok(v);
            }
            if let Some(v) = saved.get(what.key()).and_then(|v| v.as_str()) {
                return Ok(v.to_owned());
            }
            let v = make()?;
            saved.insert(what.key().to_owned(), serde_json::Value::String(v.clone()));
            created.push(what);
            anyhow::Ok(v)
        };
    let write_token = take(Created::WriteToken, given.write_token, &mut random_token)?;
    let admin_token = take(Created::AdminToken, given.admin_token, &mut random_token)?;
    let user_token_secret = take(
        Created::UserTokenSecret,
        given.user_token_secret,
        &mut random_token,
    )?;
    let signer = match given.signer {
        Some(s) => s,
        None => {
            let seed = take(Created::SigningKey, None, &mut || {
                Ok(ModelSigner::generate()?.to_base64_seed().to_string())
            })?;
            ModelSigner::parse(&seed)
                .with_context(|| format!("signingKey in {}", path.display()))?
        }
    };
    if write_token == admin_token {
        bail!("the write and admin tokens must differ");
    }
    if user_token_secret.len() < edgerec_core::user_token::MIN_SECRET_LEN {
        bail!(
            "the user-token secret must be at least {} bytes",
            edgerec_core::user_token::MIN_SECRET_LEN
        );
    }
    if created.contains(&Created::SigningKey) {
        saved.insert(
            "signingPublicKey".into(),
            signer.public_key().to_base64().into(),
        );
    }
    if !created.is_empty() {
        std::fs::create_dir_all(data_dir)?;
        let text = serde_json::Value::Object(saved).to_string();
        signing::write_private(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(Secrets {
        write_token,
        admin_token,
        user_token_secret,
        signer,
        created,
    })
}
