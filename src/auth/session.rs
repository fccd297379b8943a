//! The logged-in user for one run: hands the Books client a valid access
//! token, refreshing it (once, for all processes) when it is about to expire
//! or the API refused it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::private_fs::FileLock;
use super::store::Opened;
use super::{endpoints, needs_refresh, now, ClientSecret, Credentials, Error, StoreKind, TokenStore};
use crate::books::{BoxFuture, TokenError, TokenSource};
use crate::http::Http;
use crate::secret::Secret;

/// The one lock that login, logout and refresh take, across processes: a
/// refresh that ran during a logout must not write the login back, nor one
/// of the old login overwrite a new one.
const LOGIN_LOCK: &str = ".refresh.lock";
/// How long a process waits for another one's refresh.
const LOCK_PATIENCE: Duration = Duration::from_secs(90);

/// Held while the stored login changes.
pub struct LoginLock(#[allow(dead_code)] FileLock);

impl LoginLock {
    pub async fn acquire(config_dir: &Path) -> Result<LoginLock, Error> {
        FileLock::acquire(&config_dir.join(LOGIN_LOCK), LOCK_PATIENCE)
            .await
            .map(LoginLock)
    }
}

pub struct Session {
    kind: StoreKind,
    config_dir: PathBuf,
    client_secret_file: Option<PathBuf>,
    http: Http,
    state: tokio::sync::Mutex<Option<Loaded>>,
}

struct Loaded {
    opened: Opened,
    creds: Option<Credentials>,
}

impl Session {
    /// Touches nothing: the store is opened on first use, so commands that
    /// never need a token never reach the keyring.
    pub fn new(
        kind: StoreKind,
        config_dir: PathBuf,
        client_secret_file: Option<PathBuf>,
        http: Http,
    ) -> Session {
        Session {
            kind,
            config_dir,
            client_secret_file,
            http,
            state: tokio::sync::Mutex::new(None),
        }
    }

    /// Where the login is stored and what it holds, without any network call.
    pub async fn stored(&self) -> Result<(Opened, Option<Credentials>), Error> {
        let mut state = self.state.lock().await;
        let loaded = self.load(&mut state).await?;
        Ok((loaded.opened.clone(), loaded.creds.clone()))
    }

    /// A valid access token, or `None` when nobody is logged in.
    pub async fn access_token(&self) -> Result<Option<Secret>, Error> {
        let mut state = self.state.lock().await;
        let loaded = self.load(&mut state).await?;
        let Some(creds) = &loaded.creds else {
            return Ok(None);
        };
        if !needs_refresh(creds.expires_at, now()) {
            return Ok(Some(creds.access_token.clone()));
        }
        if creds.refresh_token.is_none() {
            return Err(Error::Revoked);
        }
        let stale = creds.access_token.clone();
        self.refresh_locked(loaded, &stale).await
    }

    /// After the API refused `rejected`: a new token, or `None` when there is
    /// no way to get one.
    pub async fn after_rejection(&self, rejected: &Secret) -> Result<Option<Secret>, Error> {
        let mut state = self.state.lock().await;
        let loaded = self.load(&mut state).await?;
        let Some(creds) = &loaded.creds else {
            return Ok(None);
        };
        if creds.access_token != *rejected {
            // Another request of this run has refreshed it already.
            return Ok(Some(creds.access_token.clone()));
        }
        if creds.refresh_token.is_none() {
            return Ok(None);
        }
        self.refresh_locked(loaded, rejected).await
    }

    async fn load<'a>(&self, state: &'a mut Option<Loaded>) -> Result<&'a mut Loaded, Error> {
        if state.is_none() {
            let (opened, creds) = TokenStore::open(self.kind, &self.config_dir).await;
            *state = Some(Loaded {
                opened,
                creds: creds?,
            });
        }
        Ok(state.as_mut().expect("loaded above"))
    }

    /// Refreshes under the cross-process lock. Another process may have
    /// refreshed while we waited for it, so the store is read again first.
    async fn refresh_locked(&self, loaded: &mut Loaded, stale: &Secret) -> Result<Option<Secret>, Error> {
        let _lock = LoginLock::acquire(&self.config_dir).await?;
        let store = loaded.opened.store.clone();
        let Some(current) = store.load().await? else {
            loaded.creds = None;
            return Ok(None);
        };
        if current.access_token != *stale && !needs_refresh(current.expires_at, now()) {
            tracing::info!("using the access token another gbooks refreshed");
            let token = current.access_token.clone();
            loaded.creds = Some(current);
            return Ok(Some(token));
        }
        let cs = ClientSecret::load(self.client_secret_file.as_deref(), &self.config_dir).map_err(
            |e| match e {
                Error::NoClientSecret { dir } => Error::NoClientSecretForRefresh { dir },
                other => other,
            },
        )?;
        if cs.client_id != current.client_id {
            return Err(Error::OtherClient);
        }
        let fresh = endpoints::refresh(&cs, &self.http, &current).await?;
        // A full disk must not fail the command: the token works for this run.
        if let Err(e) = store.save(&fresh).await {
            crate::messages::warn(&format!(
                "could not save the refreshed login ({e}); it is used for this run only"
            ));
        }
        let token = fresh.access_token.clone();
        loaded.creds = Some(fresh);
        Ok(Some(token))
    }
}

impl TokenSource for Session {
    fn token(&self) -> BoxFuture<'_, Result<Option<Secret>, TokenError>> {
        Box::pin(async { self.access_token().await.map_err(Into::into) })
    }

    fn refresh<'a>(&'a self, rejected: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, TokenError>> {
        Box::pin(async { self.after_rejection(rejected).await.map_err(Into::into) })
    }
}
