//! Login, the token store and refresh.

pub mod api_key;
pub mod client_secret;
pub mod endpoints;
pub mod login;
mod private_fs;
pub mod session;
pub mod store;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use client_secret::ClientSecret;
pub use session::Session;
pub use store::{Credentials, StoreKind, TokenStore};

/// The one scope gbooks asks for: read and write your Books library.
pub const BOOKS_SCOPE: &str = "https://www.googleapis.com/auth/books";
pub const DEFAULT_REVOKE_URL: &str = "https://oauth2.googleapis.com/revoke";
/// An access token this close to its expiry is refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// What can go wrong with the login. What to do about it is the caller's
/// to say: these texts name no command or flag.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("stored credentials are unreadable")]
    Unreadable,
    #[error("your login has expired or was revoked")]
    Revoked,
    #[error("no OAuth client credentials (client_secret.json) in {dir}; see the steps above")]
    NoClientSecret { dir: PathBuf },
    /// A refresh needs the client file, and it is gone.
    #[error("cannot refresh the login: no client_secret.json in {dir}")]
    NoClientSecretForRefresh { dir: PathBuf },
    #[error("the stored login belongs to another OAuth client than client_secret.json")]
    OtherClient,
    #[error("invalid client credentials file {path}: {detail}")]
    BadClientSecret { path: PathBuf, detail: String },
    #[error("the login answer did not come from this login (state mismatch); nothing was stored")]
    StateMismatch,
    #[error("access denied")]
    Denied,
    #[error("the authorization server refused the login: {0}")]
    Authorization(String),
    /// No answer from the browser within this many seconds.
    #[error("no answer from the browser within {0} s")]
    Timeout(f64),
    #[error("the token endpoint refused the request: {0}")]
    TokenEndpoint(String),
    /// Never holds a URL with secrets: the endpoints' URLs carry none.
    #[error("cannot reach {host}: {detail}")]
    Transport { host: String, detail: String },
    /// `setting` names where the http:// URL comes from.
    #[error("refusing to send credentials over plain http:// to {host} ({setting}); use https://")]
    Insecure { host: String, setting: &'static str },
    #[error("the keyring is not available ({0})")]
    Keyring(String),
    #[error("{context}: {source}")]
    Io { context: String, source: std::io::Error },
    #[error("{0}")]
    Failed(String),
}

impl Error {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether a token that expires at `expires_at` must be refreshed at `now`.
/// A token without a known expiry is used until the API refuses it.
pub fn needs_refresh(expires_at: Option<u64>, now: u64) -> bool {
    expires_at.is_some_and(|at| at <= now.saturating_add(REFRESH_MARGIN.as_secs()))
}

/// Compares two secrets in time that depends only on their lengths, so the
/// listener does not tell an attacker how much of a forged `state` was right.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq as _;
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_within_a_minute_of_expiry() {
        let now = 1_000_000;
        assert!(needs_refresh(Some(now - 1), now));
        assert!(needs_refresh(Some(now), now));
        assert!(needs_refresh(Some(now + 60), now));
        assert!(!needs_refresh(Some(now + 61), now));
        assert!(!needs_refresh(Some(now + 3600), now));
        assert!(!needs_refresh(None, now));
        assert!(needs_refresh(Some(0), u64::MAX));
    }

    #[test]
    fn state_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }
}
