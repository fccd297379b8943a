//! The Books API client. It knows nothing of the command line: it is given
//! a base URL, credentials and a cache, and returns typed data or a typed error.

mod error;
pub mod models;
pub mod paging;
pub mod query;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use reqwest::Method;
use serde::de::DeserializeOwned;
use url::Url;

pub use error::{ApiError, Error, Sent, TokenError};
pub use models::{Shelf, ShelvesPage, Volume, VolumesPage};
pub use query::{Download, Filter, Order, PrintType, Projection};

use crate::http::redact_url;
pub use crate::http::Http;
use crate::secret::Secret;

pub const DEFAULT_BASE: &str = "https://www.googleapis.com/books/v1";

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An API key still being read (from the keyring), shared by every request.
pub type PendingKey = futures_util::future::Shared<BoxFuture<'static, Option<Secret>>>;

/// The API key: known, or still being read.
#[derive(Clone)]
enum Key {
    Known(Option<Secret>),
    Pending(PendingKey),
}

/// Where bearer tokens come from (the auth module's token store).
pub trait TokenSource: Send + Sync {
    /// A valid access token, refreshed first if it is about to expire;
    /// `None` when nobody is logged in.
    fn token(&self) -> BoxFuture<'_, Result<Option<Secret>, TokenError>>;
    /// Called after the API refused `rejected`: a fresh token, or `None`.
    fn refresh<'a>(&'a self, rejected: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, TokenError>>;
}

/// Keeps public answers so that re-runs cost no quota (the cache module).
pub trait ResponseCache: Send + Sync {
    /// A stored body for `key` (a URL without the API key), if fresh.
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn put(&self, key: &str, body: &[u8]);
}

/// An answer, and the cache key to store it under once the caller has
/// checked it (`None`: from the cache already, or not cacheable).
struct Fetched {
    body: bytes::Bytes,
    cache_key: Option<Url>,
    from_cache: bool,
}

/// Who may see the data, and so which credentials go with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Public data: the API key, else the user's token, else nothing.
    Public,
    /// Another user's public shelves: the API key or nothing, never the
    /// user's token (it is not theirs to see, and keeps the answer cacheable).
    Anonymous,
    /// The user's library: their token, or "not logged in".
    Private,
}

pub struct Client {
    http: Http,
    base: Url,
    api_key: Key,
    country: Option<String>,
    tokens: Option<Arc<dyn TokenSource>>,
    cache: Option<Arc<dyn ResponseCache>>,
    /// Told once when a broken login makes public calls go on without it.
    on_anonymous: Option<Arc<dyn Fn() + Send + Sync>>,
    anonymous: Arc<std::sync::atomic::AtomicBool>,
}

/// The optional parameters of a volume search.
#[derive(Debug, Default, Clone)]
pub struct SearchParams {
    pub q: String,
    pub filter: Option<Filter>,
    pub print_type: Option<PrintType>,
    pub order_by: Option<Order>,
    pub lang: Option<String>,
    pub download: Option<Download>,
    pub projection: Option<Projection>,
    /// A `fields` selector, for output that shows only some fields.
    pub fields: Option<String>,
}

impl Client {
    pub fn new(http: Http, base: Url, api_key: Option<Secret>, country: Option<String>) -> Client {
        Client {
            http,
            base,
            api_key: Key::Known(api_key),
            country,
            tokens: None,
            cache: None,
            on_anonymous: None,
            anonymous: Arc::default(),
        }
    }

    /// `notice` runs the first time a public call goes on without a login
    /// that no longer works (expired, revoked, unreadable).
    pub fn on_anonymous(mut self, notice: Arc<dyn Fn() + Send + Sync>) -> Client {
        self.on_anonymous = Some(notice);
        self
    }

    /// The login failed for public data: say so once, then do without it.
    fn go_anonymous(&self, why: &TokenError) {
        tracing::info!("going on without the login: {why}");
        if !self.anonymous.swap(true, std::sync::atomic::Ordering::SeqCst) {
            if let Some(notice) = &self.on_anonymous {
                notice();
            }
        }
    }

    /// The API key from a lookup still under way (the keyring): requests
    /// wait for it, and meanwhile connect and look in the cache.
    pub fn with_pending_key(mut self, key: PendingKey) -> Client {
        self.api_key = Key::Pending(key);
        self
    }

    /// The API key, once it is known. While it is still being read, the
    /// connection to `url`'s server is opened meanwhile, unless the cache
    /// has the answer (`cached`), which needs no connection.
    async fn api_key(&self, url: &Url, cached: impl FnOnce() -> bool) -> Option<Secret> {
        match &self.api_key {
            Key::Known(key) => key.clone(),
            Key::Pending(key) => {
                if let Some(key) = futures_util::FutureExt::now_or_never(key.clone()) {
                    return key;
                }
                if !cached() {
                    self.http.preconnect(url);
                }
                key.clone().await
            }
        }
    }

    pub fn with_tokens(mut self, tokens: Arc<dyn TokenSource>) -> Client {
        self.tokens = Some(tokens);
        self
    }

    pub fn with_cache(mut self, cache: Arc<dyn ResponseCache>) -> Client {
        self.cache = Some(cache);
        self
    }

    pub fn http(&self) -> &Http {
        &self.http
    }

    /// One page of a search.
    pub async fn search(&self, p: &SearchParams, start: usize, max: usize) -> Result<VolumesPage, Error> {
        let start = start.to_string();
        let max = max.to_string();
        let mut params: Vec<(&str, &str)> = vec![("q", &p.q), ("startIndex", &start), ("maxResults", &max)];
        let optional = [
            ("filter", p.filter.map(Filter::as_str)),
            ("printType", p.print_type.map(PrintType::as_str)),
            ("orderBy", p.order_by.map(Order::as_str)),
            ("langRestrict", p.lang.as_deref()),
            ("download", p.download.map(Download::as_str)),
            ("projection", p.projection.map(Projection::as_str)),
            ("fields", p.fields.as_deref()),
        ];
        params.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        if let Some(country) = &self.country {
            params.push(("country", country));
        }
        self.get_json(&["volumes"], &params, Access::Public).await
    }

    /// One volume by id.
    pub async fn volume(&self, id: &str, projection: Option<Projection>) -> Result<Volume, Error> {
        let mut params = Vec::new();
        if let Some(p) = projection {
            params.push(("projection", p.as_str()));
        }
        if let Some(country) = &self.country {
            params.push(("country", country.as_str()));
        }
        self.get_json(&["volumes", id], &params, Access::Public).await
    }

    /// Your shelves (`user` = None, needs login) or a user's public shelves.
    pub async fn shelves(&self, user: Option<&str>) -> Result<Vec<Shelf>, Error> {
        let page: ShelvesPage = match user {
            None => {
                self.get_json(&["mylibrary", "bookshelves"], &[], Access::Private)
                    .await?
            }
            Some(u) => {
                self.get_json(&["users", u, "bookshelves"], &[], Access::Anonymous)
                    .await?
            }
        };
        Ok(page.items)
    }

    /// One page of the volumes on a shelf.
    pub async fn shelf_volumes(
        &self,
        user: Option<&str>,
        shelf: i64,
        start: usize,
        max: usize,
        fields: Option<&str>,
    ) -> Result<VolumesPage, Error> {
        let shelf = shelf.to_string();
        let start = start.to_string();
        let max = max.to_string();
        let mut params: Vec<(&str, &str)> = vec![("startIndex", &start), ("maxResults", &max)];
        if let Some(f) = fields {
            params.push(("fields", f));
        }
        match user {
            None => {
                if let Some(country) = &self.country {
                    params.push(("country", country));
                }
                self.get_json(
                    &["mylibrary", "bookshelves", &shelf, "volumes"],
                    &params,
                    Access::Private,
                )
                .await
            }
            Some(u) => {
                self.get_json(
                    &["users", u, "bookshelves", &shelf, "volumes"],
                    &params,
                    Access::Anonymous,
                )
                .await
            }
        }
    }

    /// `addVolume`, `removeVolume`, `moveVolume` or `clearVolumes` on one of your shelves.
    pub async fn change_shelf(&self, shelf: i64, action: &str, params: &[(&str, &str)]) -> Result<(), Error> {
        let shelf = shelf.to_string();
        self.execute(
            Method::POST,
            &["mylibrary", "bookshelves", &shelf, action],
            params,
            Access::Private,
            true,
        )
        .await
        .map(drop)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        path: &[&str],
        params: &[(&str, &str)],
        access: Access,
    ) -> Result<T, Error> {
        let mut fetched = self.execute(Method::GET, path, params, access, true).await?;
        let value = match serde_json::from_slice(&fetched.body) {
            Ok(value) => value,
            // Another version of gbooks, or the disk, may have left an answer
            // this one cannot read: the cache must not fail the command.
            Err(e) if fetched.from_cache => {
                tracing::info!("the cached answer is unreadable ({e}); asking the server");
                fetched = self.execute(Method::GET, path, params, access, false).await?;
                serde_json::from_slice(&fetched.body).map_err(|e| Error::InvalidResponse(e.to_string()))?
            }
            Err(e) => return Err(Error::InvalidResponse(e.to_string())),
        };
        // Stored only once it parses: a proxy's 200 page must not stick for a day.
        if let (Some(cache), Some(key)) = (&self.cache, &fetched.cache_key) {
            cache.put(key.as_str(), &fetched.body);
        }
        Ok(value)
    }

    /// The URL without credentials: also the cache key.
    pub fn url(&self, path: &[&str], params: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        let query = query::encode_pairs(params.iter().copied());
        url.set_query((!query.is_empty()).then_some(query.as_str()));
        url
    }

    async fn execute(
        &self,
        method: Method,
        path: &[&str],
        params: &[(&str, &str)],
        access: Access,
        read_cache: bool,
    ) -> Result<Fetched, Error> {
        let mut url = self.url(path, params);
        // The cache key never carries a gateway's user name or password.
        let mut plain = url.clone();
        let _ = plain.set_username("");
        let _ = plain.set_password(None);
        let mut bearer = None;
        // The cache's answer, when it was looked at while the key was read.
        let mut looked = None;
        let cached = || {
            let hit = self
                .cache
                .as_ref()
                .filter(|_| read_cache && method == Method::GET)
                .and_then(|c| c.get(plain.as_str()));
            let found = hit.is_some();
            looked = Some(hit);
            found
        };
        let api_key = match access {
            Access::Public | Access::Anonymous => self.api_key(&url, cached).await,
            Access::Private => None,
        };
        match access {
            Access::Public | Access::Anonymous => match &api_key {
                Some(key) => {
                    let query = match url.query() {
                        Some(q) => format!("{q}&key={}", query::encode(key.expose())),
                        None => format!("key={}", query::encode(key.expose())),
                    };
                    url.set_query(Some(&query));
                }
                // The login is only a fallback here: one that does not work
                // (or would go over plain http) is left out, not fatal.
                None if access == Access::Public
                    && crate::http::check_secure(&url).is_ok()
                    && !self.anonymous.load(std::sync::atomic::Ordering::SeqCst) =>
                {
                    if let Some(tokens) = &self.tokens {
                        // Reading the login may wait on the keyring.
                        self.http.preconnect(&url);
                        match tokens.token().await {
                            Ok(token) => bearer = token,
                            Err(e) => self.go_anonymous(&e),
                        }
                    }
                }
                None => {}
            },
            Access::Private => {
                let tokens = self.tokens.as_ref().ok_or(Error::NotLoggedIn)?;
                self.http.preconnect(&url);
                bearer = Some(
                    tokens
                        .token()
                        .await
                        .map_err(Error::Token)?
                        .ok_or(Error::NotLoggedIn)?,
                );
            }
        }

        // Only what anyone may see is cached: never an answer to a bearer token.
        let cache = self
            .cache
            .as_ref()
            .filter(|_| method == Method::GET && bearer.is_none());
        let hit = cache
            .filter(|_| read_cache)
            .and_then(|c| looked.unwrap_or_else(|| c.get(plain.as_str())));
        if let Some(body) = hit {
            tracing::info!("{} {} -> cached", method, redact_url(&url));
            return Ok(Fetched {
                body: body.into(),
                cache_key: None,
                from_cache: true,
            });
        }

        let mut reply = self.http.send(method.clone(), &url, bearer.as_ref()).await?;
        let mut retried_with = None;
        if reply.status == 401 {
            if let (Some(tokens), Some(rejected)) = (&self.tokens, &bearer) {
                match tokens.refresh(rejected).await {
                    Ok(Some(fresh)) => {
                        reply = self.http.send(method, &url, Some(&fresh)).await?;
                        retried_with = Some(fresh);
                    }
                    Ok(None) => {}
                    Err(e) if access == Access::Public => {
                        self.go_anonymous(&e);
                        reply = self.http.send(method, &url, None).await?;
                        bearer = None;
                    }
                    Err(e) => return Err(Error::Token(e)),
                }
            }
        }
        if (200..300).contains(&reply.status) {
            return Ok(Fetched {
                body: reply.body,
                cache_key: cache.map(|_| plain),
                from_cache: false,
            });
        }
        let mut err = ApiError::from_body(reply.status, &reply.body);
        let secrets: Vec<&Secret> = api_key
            .iter()
            .chain(bearer.as_ref())
            .chain(retried_with.as_ref())
            .collect();
        err.redact(&secrets);
        err.sent = match (&bearer, &api_key) {
            (Some(_), _) => Sent::Bearer,
            (None, Some(_)) if access != Access::Private => Sent::ApiKey,
            _ => Sent::Nothing,
        };
        Err(Error::Api(err))
    }
}
