//! Where the login lives between runs: the OS keyring, or a private file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::private_fs::{create_private_dir, write_private, FileLock};
use super::Error;
use crate::secret::Secret;

pub const SERVICE: &str = "gbooks";
pub const FILE_NAME: &str = "credentials.json";
const WRITE_LOCK: &str = ".credentials.lock";
/// How long `auto` waits for a keyring to answer before using the file.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// A keyring may ask the user to unlock it: give them time.
const KEYRING_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    Auto,
    Keyring,
    File,
}

impl StoreKind {
    pub fn parse(name: &str) -> Option<StoreKind> {
        match name.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(StoreKind::Auto),
            "keyring" => Some(StoreKind::Keyring),
            "file" => Some(StoreKind::File),
            _ => None,
        }
    }
}

/// One login: what the keyring entry or the file holds.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub access_token: Secret,
    /// Seconds since the Unix epoch; `None` when the server gave no lifetime.
    pub expires_at: Option<u64>,
    pub refresh_token: Option<Secret>,
    pub scopes: Vec<String>,
    pub client_id: String,
}

/// The stored shape. Private, so that nothing else serializes a token.
#[derive(Serialize, Deserialize)]
struct Stored {
    access_token: String,
    #[serde(default)]
    expires_at: Option<u64>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    client_id: String,
}

impl Credentials {
    pub fn to_json(&self) -> String {
        let stored = Stored {
            access_token: self.access_token.expose().to_string(),
            expires_at: self.expires_at,
            refresh_token: self.refresh_token.as_ref().map(|s| s.expose().to_string()),
            scopes: self.scopes.clone(),
            client_id: self.client_id.clone(),
        };
        serde_json::to_string_pretty(&stored).unwrap_or_default() + "\n"
    }

    pub fn from_json(bytes: &[u8]) -> Result<Credentials, Error> {
        let s: Stored = serde_json::from_slice(bytes).map_err(|_| Error::Unreadable)?;
        if s.access_token.is_empty() {
            return Err(Error::Unreadable);
        }
        Ok(Credentials {
            access_token: Secret::new(s.access_token),
            expires_at: s.expires_at,
            refresh_token: s.refresh_token.filter(|t| !t.is_empty()).map(Secret::new),
            scopes: s.scopes,
            client_id: s.client_id,
        })
    }
}

#[derive(Debug, Clone)]
pub enum TokenStore {
    /// One entry, service `gbooks`, account = the config dir (so that two
    /// config dirs are two logins).
    Keyring {
        account: String,
    },
    File {
        path: PathBuf,
    },
}

/// What a keyring said when asked for our entry.
enum Answer {
    Found(Secret),
    Missing,
    Broken,
}

/// A store picked for this run; `fallback` says why `auto` chose the file.
#[derive(Debug, Clone)]
pub struct Opened {
    pub store: TokenStore,
    pub fallback: Option<String>,
}

impl TokenStore {
    pub fn keyring(config_dir: &Path) -> TokenStore {
        TokenStore::Keyring {
            account: config_dir.display().to_string(),
        }
    }

    pub fn file(config_dir: &Path) -> TokenStore {
        TokenStore::File {
            path: config_dir.join(FILE_NAME),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            TokenStore::Keyring { .. } => "keyring",
            TokenStore::File { .. } => "file",
        }
    }

    pub fn path(&self) -> Option<&Path> {
        match self {
            TokenStore::File { path } => Some(path),
            TokenStore::Keyring { .. } => None,
        }
    }

    /// The store that holds the login, and what it holds. The store is
    /// known even when its contents are unreadable (logout still deletes them).
    pub async fn open(kind: StoreKind, config_dir: &Path) -> (Opened, Result<Option<Credentials>, Error>) {
        let opened = |store, fallback| Opened { store, fallback };
        let file = TokenStore::file(config_dir);
        match kind {
            StoreKind::File => {
                let creds = file.load().await;
                (opened(file, None), creds)
            }
            StoreKind::Keyring => {
                let keyring = TokenStore::keyring(config_dir);
                let creds = keyring.load().await;
                (opened(keyring, None), creds)
            }
            StoreKind::Auto => {
                let keyring = TokenStore::keyring(config_dir);
                // The probe has read the entry already: no second round trip.
                match keyring.probe().await {
                    Ok(Answer::Found(text)) => {
                        let creds = Credentials::from_json(text.expose().as_bytes()).map(Some);
                        (opened(keyring, None), creds)
                    }
                    Ok(Answer::Broken) => (opened(keyring, None), Err(Error::Unreadable)),
                    // A login made while no keyring answered stays usable.
                    Ok(Answer::Missing) if file_exists(&file) => {
                        let creds = file.load().await;
                        (opened(file, None), creds)
                    }
                    Ok(Answer::Missing) => (opened(keyring, None), Ok(None)),
                    Err(why) => {
                        let creds = file.load().await;
                        (opened(file, Some(why)), creds)
                    }
                }
            }
        }
    }

    /// The store a new login goes to: the keyring whenever one answers.
    pub async fn open_for_login(kind: StoreKind, config_dir: &Path) -> Result<Opened, Error> {
        let opened = match kind {
            StoreKind::File => Opened {
                store: TokenStore::file(config_dir),
                fallback: None,
            },
            StoreKind::Keyring => Opened {
                store: TokenStore::keyring(config_dir),
                fallback: None,
            },
            StoreKind::Auto => {
                let keyring = TokenStore::keyring(config_dir);
                match keyring.probe().await {
                    Ok(_) => Opened {
                        store: keyring,
                        fallback: None,
                    },
                    Err(why) => Opened {
                        store: TokenStore::file(config_dir),
                        fallback: Some(why),
                    },
                }
            }
        };
        // A keyring that cannot be used should fail now, not after the browser.
        match opened.store.load().await {
            Ok(_) | Err(Error::Unreadable) => Ok(opened),
            Err(e) => Err(e),
        }
    }

    /// Whether a keyring answers, and what it holds for us.
    async fn probe(&self) -> Result<Answer, String> {
        let TokenStore::Keyring { account } = self else {
            return Ok(Answer::Missing);
        };
        let account = account.clone();
        let call =
            tokio::task::spawn_blocking(move || entry(SERVICE, &account).and_then(|e| e.get_password()));
        match tokio::time::timeout(PROBE_TIMEOUT, call).await {
            Err(_) => Err(format!(
                "no keyring answered within {} s",
                PROBE_TIMEOUT.as_secs()
            )),
            Ok(Err(e)) => Err(e.to_string()),
            Ok(Ok(Ok(text))) => Ok(Answer::Found(Secret::new(text))),
            Ok(Ok(Err(e))) => match e {
                keyring_core::Error::NoEntry => Ok(Answer::Missing),
                keyring_core::Error::PlatformFailure(_)
                | keyring_core::Error::NoStorageAccess(_)
                | keyring_core::Error::NoDefaultStore => Err(one_line(&e)),
                // It answered; the entry itself is the problem.
                _ => Ok(Answer::Broken),
            },
        }
    }

    pub async fn load(&self) -> Result<Option<Credentials>, Error> {
        match self {
            TokenStore::File { path } => {
                let path = path.clone();
                blocking(move || match std::fs::read(&path) {
                    Ok(bytes) => {
                        if super::private_fs::tighten(&path) {
                            crate::messages::warn(&format!(
                                "{} was readable by others; it is now readable only by you",
                                path.display()
                            ));
                        }
                        Credentials::from_json(&bytes).map(Some)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(_) => Err(Error::Unreadable),
                })
                .await
            }
            TokenStore::Keyring { account } => {
                let account = account.clone();
                keyring_call(move || {
                    let entry = entry(SERVICE, &account).map_err(keyring_error)?;
                    match entry.get_password() {
                        Ok(text) => Credentials::from_json(text.as_bytes()).map(Some),
                        Err(keyring_core::Error::NoEntry) => Ok(None),
                        Err(keyring_core::Error::BadEncoding(_)) | Err(keyring_core::Error::Ambiguous(_)) => {
                            Err(Error::Unreadable)
                        }
                        Err(e) => Err(keyring_error(e)),
                    }
                })
                .await
            }
        }
    }

    pub async fn save(&self, creds: &Credentials) -> Result<(), Error> {
        let json = creds.to_json();
        match self {
            TokenStore::File { path } => {
                let path = path.clone();
                blocking(move || {
                    let dir = path.parent().unwrap_or(Path::new("."));
                    create_private_dir(dir)?;
                    let _lock = FileLock::acquire_blocking(&dir.join(WRITE_LOCK))?;
                    super::private_fs::remove_leftovers(dir, &path);
                    write_private(dir, &path, json.as_bytes())
                })
                .await
            }
            TokenStore::Keyring { account } => {
                let account = account.clone();
                keyring_call(move || {
                    entry(SERVICE, &account)
                        .and_then(|e| e.set_password(&json))
                        .map_err(keyring_error)
                })
                .await
            }
        }
    }

    /// Removes the login; false when there was none.
    pub async fn delete(&self) -> Result<bool, Error> {
        match self {
            TokenStore::File { path } => {
                let path = path.clone();
                blocking(move || {
                    let dir = path.parent().unwrap_or(Path::new("."));
                    if dir.is_dir() {
                        let _lock = FileLock::acquire_blocking(&dir.join(WRITE_LOCK))?;
                        super::private_fs::remove_leftovers(dir, &path);
                    }
                    match std::fs::remove_file(&path) {
                        Ok(()) => Ok(true),
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
                        Err(e) => Err(Error::io(format!("cannot delete {}", path.display()), e)),
                    }
                })
                .await
            }
            TokenStore::Keyring { account } => {
                let account = account.clone();
                keyring_call(move || {
                    let entry = entry(SERVICE, &account).map_err(keyring_error)?;
                    match entry.delete_credential() {
                        Ok(()) => Ok(true),
                        Err(keyring_core::Error::NoEntry) => Ok(false),
                        Err(e) => Err(keyring_error(e)),
                    }
                })
                .await
            }
        }
    }
}

/// A keyring entry's text; `Ok(None)` when there is none. For entries
/// other than the login (the API key).
pub(super) async fn keyring_get(service: &'static str, account: String) -> Result<Option<String>, Error> {
    keyring_call(move || {
        let entry = entry(service, &account).map_err(keyring_error)?;
        match entry.get_password() {
            Ok(text) => Ok(Some(text)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(keyring_core::Error::BadEncoding(_)) | Err(keyring_core::Error::Ambiguous(_)) => {
                Err(Error::Unreadable)
            }
            Err(e) => Err(keyring_error(e)),
        }
    })
    .await
}

/// Like `keyring_get`, but quick to give up: `Err` says why no keyring answered.
pub(super) async fn keyring_probe(service: &'static str, account: String) -> Result<Option<String>, String> {
    let call = tokio::task::spawn_blocking(move || entry(service, &account).and_then(|e| e.get_password()));
    match tokio::time::timeout(PROBE_TIMEOUT, call).await {
        Err(_) => Err(format!(
            "no keyring answered within {} s",
            PROBE_TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(Ok(text))) => Ok(Some(text)),
        Ok(Ok(Err(keyring_core::Error::NoEntry))) => Ok(None),
        Ok(Ok(Err(
            e @ (keyring_core::Error::PlatformFailure(_) | keyring_core::Error::NoStorageAccess(_)),
        ))) => Err(one_line(&e)),
        Ok(Ok(Err(_))) => Ok(None),
    }
}

pub(super) async fn keyring_set(service: &'static str, account: String, text: String) -> Result<(), Error> {
    keyring_call(move || {
        entry(service, &account)
            .and_then(|e| e.set_password(&text))
            .map_err(keyring_error)
    })
    .await
}

/// False when there was no entry.
pub(super) async fn keyring_delete(service: &'static str, account: String) -> Result<bool, Error> {
    keyring_call(move || {
        let entry = entry(service, &account).map_err(keyring_error)?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(keyring_error(e)),
        }
    })
    .await
}

/// The platform's credential store, set up once a process (the Secret
/// Service store opens a D-Bus connection); why not when there is none.
static DEFAULT_STORE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();

/// An entry in the platform's store. Entries written by keyring 3 (service
/// `gbooks`, user = the account) are the same entries: both crates look
/// them up by service and user.
fn entry(service: &str, account: &str) -> keyring_core::Result<keyring_core::Entry> {
    let ready = DEFAULT_STORE.get_or_init(|| {
        platform_store()
            .map(keyring_core::set_default_store)
            .map_err(|e| one_line(&e))
    });
    match ready {
        Ok(()) => keyring_core::Entry::new(service, account),
        Err(why) => Err(keyring_core::Error::NoStorageAccess(why.clone().into())),
    }
}

#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "openbsd"))]
fn platform_store() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
    Ok(zbus_secret_service_keyring_store::Store::new()?)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
    Ok(apple_native_keyring_store::keychain::Store::new()?)
}

#[cfg(target_os = "windows")]
fn platform_store() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
    Ok(windows_native_keyring_store::Store::new()?)
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "macos",
    target_os = "windows"
)))]
fn platform_store() -> keyring_core::Result<std::sync::Arc<keyring_core::CredentialStore>> {
    Err(keyring_core::Error::NoDefaultStore)
}

fn file_exists(store: &TokenStore) -> bool {
    store.path().is_some_and(|p| p.exists())
}

fn one_line(e: &dyn std::fmt::Display) -> String {
    e.to_string().split_whitespace().collect::<Vec<_>>().join(" ")
}

fn keyring_error(e: keyring_core::Error) -> Error {
    Error::Keyring(one_line(&e))
}

pub(super) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Failed(format!("the credential store failed: {e}")))?
}

/// Keyring calls block, and one may wait on a prompt: off the runtime, with a limit.
async fn keyring_call<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    match tokio::time::timeout(KEYRING_TIMEOUT, blocking(f)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Keyring(format!(
            "no answer within {} s",
            KEYRING_TIMEOUT.as_secs()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_token: Secret::new("ya29.at"),
            expires_at: Some(1_700_000_000),
            refresh_token: Some(Secret::new("1//rt")),
            scopes: vec![super::super::BOOKS_SCOPE.into()],
            client_id: "id.apps.googleusercontent.com".into(),
        }
    }

    #[test]
    fn round_trips_and_rejects_garbage() {
        let c = Credentials::from_json(creds().to_json().as_bytes()).unwrap();
        assert_eq!(c.access_token.expose(), "ya29.at");
        assert_eq!(c.refresh_token.unwrap().expose(), "1//rt");
        assert_eq!(c.expires_at, Some(1_700_000_000));
        for bad in [
            &b"{"[..],
            b"",
            b"[]",
            b"{\"access_token\":\"\",\"client_id\":\"x\"}",
            b"\xff\xfe",
        ] {
            assert!(matches!(Credentials::from_json(bad), Err(Error::Unreadable)));
        }
        assert!(!format!("{:?}", creds()).contains("ya29"));
    }

    #[tokio::test]
    async fn file_store_is_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("cfg");
        let store = TokenStore::file(&config);
        assert!(store.load().await.unwrap().is_none());
        store.save(&creds()).await.unwrap();
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.client_id, creds().client_id);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&config), 0o700);
            assert_eq!(mode(&config.join(FILE_NAME)), 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(&config)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
        assert!(store.delete().await.unwrap());
        assert!(!store.delete().await.unwrap());
    }
}
