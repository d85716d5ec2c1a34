//! Where the server's secrets come from: the environment, or on SQLite a key file generated on
//! first start (mode 0600, beside the database, never inside it — so a dump of the database alone
//! can neither forge tokens nor reverse IIN hashes).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::config::{Config, Secret};

#[derive(Debug, Clone)]
pub struct Keys {
    /// HS256 key; `None` when Ed25519 keys sign instead.
    pub jwt_secret: Option<Secret>,
    /// Key of the attendees' IIN HMAC.
    pub iin_key: Secret,
}

impl Keys {
    /// A key for deriving rotated refresh tokens, separated from the IIN hashes by its label.
    pub fn rotation_key(&self) -> Secret {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.iin_key.expose()).expect("any key length");
        mac.update(b"adal/refresh-token-rotation/v1");
        Secret::new(mac.finalize().into_bytes().to_vec())
    }

    /// The key of idempotency fingerprints: HKDF-SHA256 (info `adal idempotency`) from the
    /// token-signing secret, or, where Ed25519 keys sign, from the IIN key — both the same on every
    /// instance, so a retry that reaches another instance is still recognised.
    pub fn idempotency_key(&self) -> Secret {
        self.derived(b"adal idempotency")
    }

    /// The key that encrypts webhook secrets in the database, derived like
    /// [`Keys::idempotency_key`] under its own label: kept outside the database, so a dump alone
    /// cannot sign deliveries.
    pub fn webhook_key(&self) -> Secret {
        self.derived(b"adal webhook secrets")
    }

    /// HKDF-SHA256 with `info` from the token-signing secret, or, where Ed25519 keys sign, from the
    /// IIN key: the same on every instance.
    fn derived(&self, info: &[u8]) -> Secret {
        let ikm = self.jwt_secret.as_ref().unwrap_or(&self.iin_key);
        let mut okm = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(None, ikm.expose())
            .expand(info, &mut okm)
            .expect("32 bytes is a valid HKDF-SHA256 length");
        Secret::new(okm.to_vec())
    }
}

fn read_key_file(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}

fn write_key_file(path: &Path, values: &BTreeMap<String, String>) -> anyhow::Result<()> {
    let mut text = String::from(
        "# Adal's generated keys. Keep this file secret and backed up with the database:\n# without iin_key the attendees' IIN hashes can no longer be matched.\n",
    );
    for (k, v) in values {
        text.push_str(&format!("{k}={v}\n"));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let tmp = path.with_extension("keys.tmp");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

/// Resolves the keys for this configuration, generating the key file on SQLite when needed.
pub fn resolve(config: &Config) -> anyhow::Result<Keys> {
    let sqlite = config.database.is_sqlite();
    let needs_jwt = config.jwt_secret.is_none() && config.jwt_keys_dir.is_none();
    let needs_iin = config.iin_key.is_none();
    let mut file_values = if config.key_file.exists() { read_key_file(&config.key_file)? } else { BTreeMap::new() };

    if sqlite && (needs_jwt || needs_iin) {
        let mut changed = false;
        for (name, needed) in [("jwt_secret", needs_jwt), ("iin_key", needs_iin)] {
            if needed && !file_values.contains_key(name) {
                file_values.insert(name.to_string(), random_secret());
                changed = true;
            }
        }
        if changed {
            write_key_file(&config.key_file, &file_values)?;
            tracing::warn!(
                key_file = %config.key_file.display(),
                "generated keys into the key file; set ADAL_JWT_SECRET and ADAL_IIN_KEY to manage them yourself"
            );
        }
    }
    let from_file = |name: &str| -> anyhow::Result<Option<Secret>> {
        match file_values.get(name) {
            None => Ok(None),
            Some(v) => {
                let bytes = STANDARD.decode(v).with_context(|| format!("{name} in the key file is not base64"))?;
                if bytes.len() < 32 {
                    bail!("{name} in the key file is shorter than 32 bytes");
                }
                Ok(Some(Secret::new(bytes)))
            }
        }
    };
    let jwt_secret = match (&config.jwt_secret, &config.jwt_keys_dir) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(_)) => None,
        (None, None) if sqlite => from_file("jwt_secret")?,
        (None, None) => bail!(
            "ADAL_JWT_SECRET: required on PostgreSQL, where every instance must share it (or set ADAL_JWT_KEYS_DIR)"
        ),
    };
    let iin_key = match (&config.iin_key, sqlite) {
        (Some(k), _) => k.clone(),
        (None, true) => from_file("iin_key")?.context("ADAL_IIN_KEY: the key file has no iin_key")?,
        (None, false) => match &jwt_secret {
            Some(s) => {
                tracing::warn!(
                    "ADAL_IIN_KEY is unset: IIN hashes are keyed by ADAL_JWT_SECRET, which must then never change"
                );
                s.clone()
            }
            None => bail!("ADAL_IIN_KEY: required on PostgreSQL when ADAL_JWT_SECRET is not set"),
        },
    };
    Ok(Keys { jwt_secret, iin_key })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreUrl;

    #[test]
    fn sqlite_generates_a_private_key_file_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_store(StoreUrl::Sqlite { path: dir.path().join("a.db").display().to_string() });
        config.key_file = dir.path().join("adal.keys");
        let first = resolve(&config).unwrap();
        let second = resolve(&config).unwrap();
        assert_eq!(first.jwt_secret, second.jwt_secret);
        assert_eq!(first.iin_key, second.iin_key);
        assert_ne!(first.jwt_secret.as_ref().unwrap(), &first.iin_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&config.key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn postgres_refuses_to_start_without_a_jwt_secret() {
        let config = Config::for_store(StoreUrl::Postgres { url: "postgres://x/y".into() });
        let e = resolve(&config).unwrap_err().to_string();
        assert!(e.starts_with("ADAL_JWT_SECRET"), "{e}");
    }
}
