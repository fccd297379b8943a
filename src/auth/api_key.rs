//! The API key kept like the login: a keyring entry of its own, or a
//! private file beside credentials.json. Never in config.toml.

use std::path::{Path, PathBuf};

use super::private_fs::write_private;
use super::store::{blocking, keyring_delete, keyring_get, keyring_probe, keyring_set, StoreKind};
use super::Error;
use crate::secret::Secret;

/// Its own service, so that the login's entry (service `gbooks`) is untouched.
pub const SERVICE: &str = "gbooks-api-key";
pub const FILE_NAME: &str = "api_key";

/// Where a stored key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPlace {
    Keyring,
    File(PathBuf),
}

impl KeyPlace {
    pub fn name(&self) -> &'static str {
        match self {
            KeyPlace::Keyring => "keyring",
            KeyPlace::File(_) => "file",
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            KeyPlace::File(path) => Some(path),
            KeyPlace::Keyring => None,
        }
    }
}

fn account(config_dir: &Path) -> String {
    config_dir.display().to_string()
}

fn file(config_dir: &Path) -> PathBuf {
    config_dir.join(FILE_NAME)
}

async fn read_file(path: PathBuf) -> Result<Option<Secret>, Error> {
    blocking(move || match std::fs::read_to_string(&path) {
        Ok(text) if text.trim().is_empty() => Err(Error::Unreadable),
        Ok(text) => Ok(Some(Secret::new(text.trim().to_string()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(_) => Err(Error::Unreadable),
    })
    .await
}

/// The stored key and where it is. With `auto` the file is looked at first:
/// it costs nothing, and `set` removes it whenever the keyring takes the key.
pub async fn load(kind: StoreKind, config_dir: &Path) -> Result<Option<(Secret, KeyPlace)>, Error> {
    let path = file(config_dir);
    let in_file = |key: Option<Secret>| key.map(|k| (k, KeyPlace::File(path.clone())));
    match kind {
        StoreKind::File => Ok(in_file(read_file(path.clone()).await?)),
        StoreKind::Keyring => Ok(keyring_get(SERVICE, account(config_dir))
            .await?
            .map(|k| (Secret::new(k), KeyPlace::Keyring))),
        StoreKind::Auto => {
            if let Some(found) = in_file(read_file(path.clone()).await?) {
                return Ok(Some(found));
            }
            // No keyring is the same as no key here: a search must not fail for it.
            Ok(keyring_probe(SERVICE, account(config_dir))
                .await
                .ok()
                .flatten()
                .map(|k| (Secret::new(k), KeyPlace::Keyring)))
        }
    }
}

/// Stores the key; with `auto`, in the keyring whenever one answers.
/// Returns where it went, and why not the keyring when `auto` fell back.
pub async fn save(
    kind: StoreKind,
    config_dir: &Path,
    key: &Secret,
) -> Result<(KeyPlace, Option<String>), Error> {
    let to_file = |fallback| async move {
        let path = file(config_dir);
        let dir = config_dir.to_path_buf();
        let (to, text) = (path.clone(), format!("{}\n", key.expose()));
        blocking(move || write_private(&dir, &to, text.as_bytes())).await?;
        Ok((KeyPlace::File(path), fallback))
    };
    match kind {
        StoreKind::File => to_file(None).await,
        StoreKind::Keyring => {
            keyring_set(SERVICE, account(config_dir), key.expose().to_string()).await?;
            Ok((KeyPlace::Keyring, None))
        }
        StoreKind::Auto => match keyring_probe(SERVICE, account(config_dir)).await {
            Ok(_) => {
                keyring_set(SERVICE, account(config_dir), key.expose().to_string()).await?;
                // An older key in the file would shadow this one.
                remove_file(file(config_dir)).await?;
                Ok((KeyPlace::Keyring, None))
            }
            Err(why) => to_file(Some(why)).await,
        },
    }
}

async fn remove_file(path: PathBuf) -> Result<bool, Error> {
    blocking(move || match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("cannot delete {}", path.display()), e)),
    })
    .await
}

/// Deletes the stored key wherever `kind` may have put it; false when
/// there was none.
pub async fn remove(kind: StoreKind, config_dir: &Path) -> Result<bool, Error> {
    let mut removed = false;
    if kind != StoreKind::Keyring {
        removed |= remove_file(file(config_dir)).await?;
    }
    match kind {
        StoreKind::Keyring => removed |= keyring_delete(SERVICE, account(config_dir)).await?,
        StoreKind::Auto => {
            if keyring_probe(SERVICE, account(config_dir))
                .await
                .is_ok_and(|k| k.is_some())
            {
                removed |= keyring_delete(SERVICE, account(config_dir)).await?;
            }
        }
        StoreKind::File => {}
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_store_round_trip_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        assert!(load(StoreKind::File, &config).await.unwrap().is_none());
        let (place, fallback) = save(StoreKind::File, &config, &Secret::new("AIza-key"))
            .await
            .unwrap();
        assert_eq!(place, KeyPlace::File(config.join(FILE_NAME)));
        assert!(fallback.is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(config.join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (key, _) = load(StoreKind::File, &config).await.unwrap().unwrap();
        assert_eq!(key.expose(), "AIza-key");
        assert!(remove(StoreKind::File, &config).await.unwrap());
        assert!(!remove(StoreKind::File, &config).await.unwrap());
        assert!(load(StoreKind::File, &config).await.unwrap().is_none());
    }
}
