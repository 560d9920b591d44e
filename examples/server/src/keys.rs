//! The JWT signing key: configured, or generated on first start and kept in
//! a key file beside the database, so access tokens survive restarts.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use neurochat_core::config::{Secret, SigningKey};
use rand::RngCore as _;
use serde::Deserialize;

/// Where the key in force came from (for the start-up log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `--jwt-key` / `NEUROCHAT_JWT_KEY` / the config file.
    Configured,
    /// Read from the key file.
    KeyFile,
    /// Generated now and written to the key file.
    Generated,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    kid: String,
    secret: String,
}

/// The configured key if there is one, else the key file's, creating the
/// file (mode 0600) with a fresh random key when it does not exist.
pub fn signing_key(
    configured: Option<&Secret>,
    key_file: &Path,
) -> Result<(SigningKey, KeySource)> {
    if let Some(secret) = configured {
        if secret.expose().len() < 32 {
            bail!("the configured JWT key is shorter than 32 bytes");
        }
        let key = SigningKey {
            kid: "configured".to_owned(),
            secret: secret.clone(),
        };
        return Ok((key, KeySource::Configured));
    }
    match std::fs::read_to_string(key_file) {
        Ok(text) => {
            warn_if_readable_by_others(key_file);
            let file: KeyFile = toml::from_str(&text)
                .with_context(|| format!("parsing the key file {}", key_file.display()))?;
            let secret = URL_SAFE_NO_PAD
                .decode(file.secret.trim())
                .with_context(|| {
                    format!("the key file {} holds no valid key", key_file.display())
                })?;
            if secret.len() < 32 || file.kid.is_empty() {
                bail!("the key file {} holds no valid key", key_file.display());
            }
            let key = SigningKey {
                kid: file.kid,
                secret: Secret::new(secret),
            };
            Ok((key, KeySource::KeyFile))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate(key_file)?;
            Ok((key, KeySource::Generated))
        }
        Err(e) => Err(e).with_context(|| format!("reading the key file {}", key_file.display())),
    }
}

/// Writes a new key file. The file is created exclusively with mode 0600
/// from the start (never created wider and narrowed later), so no other
/// user can ever read it, and two servers starting on the same fresh
/// database at once cannot overwrite each other's key.
fn generate(path: &Path) -> Result<SigningKey> {
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let mut id = [0u8; 4];
    rand::rngs::OsRng.fill_bytes(&mut id);
    let kid = format!("k-{:02x}{:02x}{:02x}{:02x}", id[0], id[1], id[2], id[3]);
    let text = format!(
        "# NeuroChat access-token signing key, generated on first start.\n\
         # Keep it secret and keep it with the database: replacing it logs every\n\
         # user out of their current access tokens (refresh tokens keep working).\n\
         kid = \"{kid}\"\nsecret = \"{}\"\n",
        URL_SAFE_NO_PAD.encode(secret)
    );
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the key file {}", path.display()))?;
    Ok(SigningKey {
        kid,
        secret: Secret::new(secret.to_vec()),
    })
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(
                path = %path.display(),
                "the key file can be read by other users; `chmod 600` it"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn generated_once_then_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("neurochat.db.key");
        let (first, source) = signing_key(None, &path).unwrap();
        assert_eq!(source, KeySource::Generated);
        assert_eq!(first.secret.expose().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, source) = signing_key(None, &path).unwrap();
        assert_eq!(source, KeySource::KeyFile);
        assert_eq!(again, first);
    }

    #[test]
    fn a_configured_key_wins_and_writes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let configured = Secret::new(b"configured-key-0123456789abcdef0123".to_vec());
        let (key, source) = signing_key(Some(&configured), &path).unwrap();
        assert_eq!(source, KeySource::Configured);
        assert_eq!(key.secret, configured);
        assert!(!path.exists());
        let short = Secret::new(b"short".to_vec());
        assert!(signing_key(Some(&short), &path).is_err());
    }

    #[test]
    fn a_damaged_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, "kid = \"k1\"\nsecret = \"abc\"\n").unwrap();
        assert!(signing_key(None, &path).is_err());
    }
}
