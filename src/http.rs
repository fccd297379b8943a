//! The transport that the Books client and the login share: one HTTP
//! client for the run, the retry policy, the shared pause that a 429 puts on
//! every request in flight, and URL redaction for logs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::{header, Method, StatusCode};
use url::Url;

use crate::preconnect::Warm;

use crate::secret::Secret;

/// A request that got no HTTP answer. Never holds a URL: reqwest's messages
/// include the query, and with it the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot reach {host}: {detail}")]
    Transport { host: String, detail: String },
    /// `each` is the limit of one attempt, `total` the time all of them took.
    #[error("{host}: no answer after {attempts} attempt{} over {} s", if *.attempts == 1 { "" } else { "s" }, seconds(*.total))]
    Timeout {
        host: String,
        attempts: u32,
        total: f64,
        each: f64,
    },
    /// A body past [`MAX_BODY`] once decompressed: never retried.
    #[error("response too large: over {} MiB", MAX_BODY >> 20)]
    TooLarge,
    /// The server answered the TLS handshake with something else, most
    /// likely plain HTTP: retrying cannot help.
    #[error("{host} does not speak TLS; if it is a plain HTTP server, use an http:// URL")]
    NotTls { host: String },
    /// The proxy itself refused the connection.
    #[error("cannot reach the proxy {proxy} ({variable})")]
    Proxy { proxy: String, variable: String },
    /// A bounded download ([`Http::get_bounded`]) went past its limit.
    #[error("{host} sent more than {max} bytes")]
    BodyTooLarge { host: String, max: usize },
    /// Credentials would travel in clear text to a host that is not this machine.
    #[error("refusing to send credentials over plain http:// to {host}")]
    Insecure { host: String },
}

/// The most a successful body may hold once decompressed.
pub const MAX_BODY: usize = 32 << 20;

/// How much of an error body is read: enough for any message worth showing.
pub const MAX_ERROR_BODY: usize = 64 << 10;

/// `3` for 3.0, `0.5` for 0.5: how a person writes seconds.
pub fn seconds(secs: f64) -> String {
    if secs.fract() == 0.0 || secs >= 10.0 {
        format!("{}", secs.round() as u64)
    } else {
        format!("{:.1}", secs)
    }
}

/// Why one attempt failed.
enum Failure {
    Net(reqwest::Error),
    TooLarge,
}

/// A body read up to a limit.
pub struct Capped {
    pub body: bytes::Bytes,
    /// False when there was more than the limit: the rest was never read.
    pub whole: bool,
}

/// Reads a body up to `limit` bytes (after decompression), so that neither
/// an endless body nor a gzip bomb can take more memory than the limit.
pub async fn read_capped(mut response: reqwest::Response, limit: usize) -> Result<Capped, reqwest::Error> {
    let hint = response.content_length().unwrap_or(0).min(limit as u64) as usize;
    let mut body = Vec::with_capacity(hint);
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok(Capped {
                body: body.into(),
                whole: false,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Capped {
        body: body.into(),
        whole: true,
    })
}

/// True for a host on this machine, where plain http:// never leaves it.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost") || name.to_ascii_lowercase().ends_with(".localhost")
        }
        None => false,
    }
}

/// Credentials may go to `url`: it is https, or it stays on this machine.
pub fn check_secure(url: &Url) -> Result<(), Error> {
    if url.scheme() == "https" || is_loopback(url) {
        return Ok(());
    }
    Err(Error::Insecure {
        host: url.host_str().unwrap_or("the server").to_string(),
    })
}

pub const USER_AGENT: &str = concat!("gbooks/", env!("CARGO_PKG_VERSION"), " (gzip)");

/// When and how long to wait before trying a request again.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// A `Retry-After` longer than this is not waited for: the error is final.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub fn retries_status(status: u16) -> bool {
        matches!(status, 429 | 500 | 502 | 503 | 504)
    }

    /// Whether an answer is worth another try: a passing server error, or
    /// Google asking to slow down (a 429, or a 403 `rateLimitExceeded`),
    /// but never a used-up daily quota, which lasts until midnight.
    pub fn retries(status: u16, body: &[u8]) -> bool {
        match limit_of(status, body) {
            Some(Limit::Throttled) => true,
            Some(Limit::DailyQuota) => false,
            None => Self::retries_status(status) && status != 429,
        }
    }

    /// The pause before attempt `attempt + 1`, or `None` to give up.
    /// Exponential with "equal jitter": half fixed, half random, so that
    /// clients that failed together do not come back together.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Option<Duration> {
        if attempt >= self.max_attempts {
            return None;
        }
        let exp = self
            .base
            .saturating_mul(1u32 << (attempt - 1).min(16))
            .min(self.cap);
        let half = exp / 2;
        let backoff = half + half.mul_f64(fastrand::f64());
        match retry_after {
            // `Retry-After: 0` (or a date in the past) must not turn into
            // immediate retries: the backoff is the least we wait.
            Some(wait) => (wait <= self.max_retry_after).then(|| wait.max(backoff)),
            None => Some(backoff),
        }
    }
}

/// Which of Google's limits an error answer is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Too many requests for now: slow down and try again.
    Throttled,
    /// The day's quota is used up: nothing gets through until it resets.
    DailyQuota,
}

/// Reads the limit an answer names, from the legacy `errors[].reason` or
/// the current `ErrorInfo` detail. Parsed here, not in `books`, because the
/// retry decision is made here.
pub fn limit_of(status: u16, body: &[u8]) -> Option<Limit> {
    if status != 403 && status != 429 {
        return None;
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Body,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        errors: Vec<Reason>,
        #[serde(default)]
        details: Vec<Detail>,
    }
    #[derive(serde::Deserialize)]
    struct Reason {
        #[serde(default)]
        reason: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        #[serde(default, rename = "@type")]
        kind: Option<String>,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        metadata: std::collections::HashMap<String, serde_json::Value>,
    }
    let body = serde_json::from_slice::<Envelope>(body).ok().map(|e| e.error);
    let infos: Vec<&Detail> = body
        .iter()
        .flat_map(|b| &b.details)
        .filter(|d| d.kind.as_deref().is_some_and(|k| k.ends_with("ErrorInfo")))
        .collect();
    let reasons: Vec<&str> = body
        .iter()
        .flat_map(|b| b.errors.iter().filter_map(|e| e.reason.as_deref()))
        .chain(infos.iter().filter_map(|d| d.reason.as_deref()))
        .collect();
    let named = |names: &[&str]| {
        reasons
            .iter()
            .any(|r| names.iter().any(|n| r.eq_ignore_ascii_case(n)))
    };
    let per_day = infos.iter().any(|d| {
        ["quota_limit", "quota_unit"].iter().any(|key| {
            d.metadata.get(*key).and_then(|v| v.as_str()).is_some_and(|v| {
                let v = v.to_ascii_lowercase();
                v.contains("perday") || v.contains("per_day") || v.contains("/d/") || v.ends_with("/d")
            })
        })
    });
    if named(&["dailyLimitExceeded", "dailyLimitExceededUnreg", "quotaExceeded"])
        || (status == 429 && per_day)
    {
        return Some(Limit::DailyQuota);
    }
    if status == 429
        || named(&[
            "rateLimitExceeded",
            "userRateLimitExceeded",
            "RATE_LIMIT_EXCEEDED",
        ])
    {
        return Some(Limit::Throttled);
    }
    None
}

tokio::task_local! {
    static THROTTLES: std::cell::Cell<u32>;
}

/// Runs `work` and counts the throttle answers its requests met, retried or
/// not: a batch halves its requests in flight on each.
pub async fn counting_throttles<F: std::future::Future>(work: F) -> (F::Output, u32) {
    THROTTLES
        .scope(std::cell::Cell::new(0), async move {
            let out = work.await;
            (out, THROTTLES.with(std::cell::Cell::get))
        })
        .await
}

fn note_throttle() {
    let _ = THROTTLES.try_with(|n| n.set(n.get() + 1));
}

/// Reads `Retry-After` as seconds or as an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or_default())
}

/// A pause shared by all requests of the run: when one of them is told to
/// slow down, none of the others keeps hammering the server.
#[derive(Debug, Default)]
pub struct Gate {
    until: Mutex<Option<Instant>>,
}

impl Gate {
    pub fn pause(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut guard = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|t| t < until) {
            *guard = Some(until);
        }
    }

    pub async fn wait(&self) {
        loop {
            let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => tokio::time::sleep_until(t.into()).await,
                _ => return,
            }
        }
    }
}

/// The CA bundles that Linux and BSD systems keep, every root in one file.
#[cfg(all(unix, not(target_os = "macos"), not(target_os = "ios")))]
const BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Alpine, Gentoo
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // Fedora, RHEL
    "/etc/pki/tls/certs/ca-bundle.crt",   // older RHEL, CentOS
    "/etc/ssl/ca-bundle.pem",             // openSUSE
    "/usr/local/share/certs/ca-root-nss.crt", // FreeBSD
    "/etc/ssl/cert.pem",                  // OpenBSD, Alpine
];

/// Trusts the system's bundle file alone: the native loader also opens
/// every file in /etc/ssl/certs (the same roots again, 1–2 ms). With
/// SSL_CERT_FILE or SSL_CERT_DIR set, without a bundle, or on macOS and
/// Windows, the native loader does as before.
fn with_system_roots(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    #[cfg(all(unix, not(target_os = "macos"), not(target_os = "ios")))]
    {
        // The variables the native loader reads itself.
        if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
            return builder;
        }
        let Some(bundle) = BUNDLES.iter().map(std::path::Path::new).find(|p| p.is_file()) else {
            return builder;
        };
        let loaded = rustls_native_certs::load_certs_from_paths(Some(bundle), None);
        // As the native loader does, roots that rustls cannot use are skipped
        // (reqwest would fail the whole client on one).
        let roots: Vec<reqwest::Certificate> = loaded
            .certs
            .into_iter()
            .filter(|der| rustls::RootCertStore::empty().add(der.clone()).is_ok())
            .filter_map(|der| reqwest::Certificate::from_der(&der).ok())
            .collect();
        if roots.is_empty() {
            return builder;
        }
        tracing::debug!("{} root certificates from {}", roots.len(), bundle.display());
        let builder = builder.tls_built_in_native_certs(false);
        return roots
            .into_iter()
            .fold(builder, |b, cert| b.add_root_certificate(cert));
    }
    #[allow(unreachable_code)]
    builder
}

/// A response that arrived whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: bytes::Bytes,
}

/// A proxy from the environment, as reqwest will use it: which variable
/// set it, which schemes it carries, and its address for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proxy {
    pub variable: String,
    /// `http`, `https`, or `None` for every scheme (ALL_PROXY).
    pub scheme: Option<String>,
    pub address: String,
    /// The proxy's URL with any password redacted, for `-v`.
    pub shown: String,
}

/// A bounded download: the status, the body, and where a redirect points.
#[derive(Debug)]
pub struct Bounded {
    pub status: u16,
    pub body: Vec<u8>,
    /// The `Location` header, as sent.
    pub location: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    policy: RetryPolicy,
    gate: Arc<Gate>,
    proxies: Arc<Vec<Proxy>>,
    no_proxy: Arc<Vec<String>>,
    warm: Warm,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, Error> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .gzip(true)
            // OAuth endpoints must not redirect (oauth2's advice against SSRF),
            // and the Books API never needs to.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout);
        let warm = Warm::default();
        let client = client.connector_layer(crate::preconnect::Layer(warm.clone()));
        let client = with_system_roots(client).build().map_err(|e| Error::Transport {
            host: "the network".into(),
            detail: e.without_url().to_string(),
        })?;
        Ok(Http {
            client,
            timeout,
            policy: RetryPolicy::default(),
            gate: Arc::default(),
            proxies: Arc::default(),
            no_proxy: Arc::default(),
            warm,
        })
    }

    /// Starts connecting to `url`'s server while the caller still waits for
    /// what the request needs (a key or token from the keyring, a new cache):
    /// its first request then finds the connection made. Once a run, and only before
    /// any other connection; the warm-up itself sends no request.
    pub fn preconnect(&self, url: &Url) {
        let mut origin = url.clone();
        origin.set_path("/");
        origin.set_query(None);
        origin.set_fragment(None);
        let _ = origin.set_username("");
        let _ = origin.set_password(None);
        let client = self.client.clone();
        self.warm.start(move || async move {
            tracing::debug!("connecting to {} ahead of the first request", host_of(&origin));
            let _ = client.head(origin).send().await;
        });
    }

    /// The proxies reqwest takes from the environment (as config read
    /// them), to log them and to name the one that refuses; `no_proxy`
    /// lists the hosts that go direct.
    pub fn with_proxies(mut self, proxies: Vec<Proxy>, no_proxy: Vec<String>) -> Http {
        if tracing::enabled!(tracing::Level::INFO) {
            for p in &proxies {
                tracing::info!("proxy from {}: {}", p.variable, p.shown);
            }
            if !no_proxy.is_empty() && !proxies.is_empty() {
                tracing::info!("NO_PROXY={}: these hosts bypass the proxy", no_proxy.join(","));
            }
        }
        self.proxies = Arc::new(proxies);
        self.no_proxy = Arc::new(no_proxy);
        self
    }

    /// The proxy a request to `url` goes through: none when NO_PROXY
    /// matches its host, else the one for its scheme, else ALL_PROXY's.
    fn proxy_for(&self, url: &Url) -> Option<&Proxy> {
        if self.proxies.is_empty() || no_proxy_matches(&self.no_proxy.join(","), host_of(url)) {
            return None;
        }
        let scheme = url.scheme();
        self.proxies
            .iter()
            .find(|p| p.scheme.as_deref() == Some(scheme))
            .or_else(|| self.proxies.iter().find(|p| p.scheme.is_none()))
    }

    /// The proxy `url` went through when the connection was refused.
    fn refusing_proxy(&self, url: &Url, err: &reqwest::Error) -> Option<(String, String)> {
        if !err.is_connect() {
            return None;
        }
        let proxy = self.proxy_for(url)?;
        Some((proxy.address.clone(), proxy.variable.clone()))
    }

    /// For `-v`: whether a host's first request goes through a proxy or not.
    fn log_route(&self, url: &Url) {
        static SEEN: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
        if self.proxies.is_empty() || !tracing::enabled!(tracing::Level::INFO) {
            return;
        }
        let host = host_of(url);
        let Ok(mut seen) = SEEN.lock() else { return };
        if seen.iter().any(|h| h == host) {
            return;
        }
        seen.push(host.to_string());
        match self.proxy_for(url) {
            Some(p) => tracing::info!("{host}: through the proxy from {}, {}", p.variable, p.shown),
            None => tracing::info!("{host}: direct, NO_PROXY matches"),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends a request with retries. Error statuses come back as a `Reply`;
    /// only transport failures are errors here.
    pub async fn send(&self, method: Method, url: &Url, bearer: Option<&Secret>) -> Result<Reply, Error> {
        if bearer.is_some() || has_secret_param(url) {
            check_secure(url)?;
        }
        let first = Instant::now();
        self.log_route(url);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.gate.wait().await;
            let started = Instant::now();
            let outcome = self.attempt(method.clone(), url, bearer).await;
            let elapsed = started.elapsed();
            match outcome {
                Ok((reply, retry_after)) => {
                    tracing::info!(
                        "{} {} -> {} in {} ms",
                        method,
                        redact_url(url),
                        reply.status,
                        elapsed.as_millis()
                    );
                    let throttled = limit_of(reply.status, &reply.body) == Some(Limit::Throttled);
                    if throttled {
                        note_throttle();
                    }
                    if !RetryPolicy::retries(reply.status, &reply.body) {
                        return Ok(reply);
                    }
                    match self.policy.delay(attempt, retry_after) {
                        Some(wait) => {
                            if throttled {
                                self.gate.pause(wait);
                            }
                            tracing::info!(
                                "retrying in {} ms (attempt {} failed)",
                                wait.as_millis(),
                                attempt
                            );
                            tokio::time::sleep(wait).await;
                        }
                        None => return Ok(reply),
                    }
                }
                Err(Failure::TooLarge) => {
                    tracing::info!(
                        "{} {} -> body over {} MiB after {} ms",
                        method,
                        redact_url(url),
                        MAX_BODY >> 20,
                        elapsed.as_millis()
                    );
                    return Err(Error::TooLarge);
                }
                Err(Failure::Net(err)) => {
                    // Never `err` itself: reqwest's message carries the URL, key and all.
                    tracing::info!(
                        "{} {} -> {} after {} ms",
                        method,
                        redact_url(url),
                        describe(&err),
                        elapsed.as_millis()
                    );
                    // A certificate that does not verify will not verify next
                    // time either, and a server that speaks no TLS will not start.
                    let tls = tls_failure(&err);
                    let delay = if tls.is_some() {
                        None
                    } else {
                        self.policy.delay(attempt, None)
                    };
                    match delay {
                        Some(wait) => {
                            tracing::info!(
                                "retrying in {} ms (attempt {} failed)",
                                wait.as_millis(),
                                attempt
                            );
                            tokio::time::sleep(wait).await;
                        }
                        None => return Err(self.failure(url, &err, attempt, first)),
                    }
                }
            }
        }
    }

    /// What a request to `url` that failed for good, after `attempts`
    /// since `first`, tells the caller.
    fn failure(&self, url: &Url, err: &reqwest::Error, attempts: u32, first: Instant) -> Error {
        let host = url.host_str().unwrap_or("the server").to_string();
        if tls_failure(err) == Some(TlsFailure::NotTls) {
            Error::NotTls { host }
        } else if let Some((proxy, variable)) = self.refusing_proxy(url, err) {
            Error::Proxy { proxy, variable }
        } else if err.is_timeout() {
            Error::Timeout {
                host,
                attempts,
                total: first.elapsed().as_secs_f64(),
                each: self.timeout.as_secs_f64(),
            }
        } else {
            Error::Transport {
                host,
                detail: describe(err),
            }
        }
    }

    /// One GET without credentials and without following redirects, whose
    /// body may be at most `max` bytes: past that the download stops. For
    /// files from other hosts (covers), so no key or token is ever sent, and
    /// no retry: a missing picture must not hold up the run.
    pub async fn get_bounded(&self, url: &Url, max: usize) -> Result<Bounded, Error> {
        let host = url.host_str().unwrap_or("the server").to_string();
        let started = Instant::now();
        let outcome = self.read_bounded(url, max).await;
        let elapsed = started.elapsed().as_millis();
        match outcome {
            Ok(Some(bounded)) => {
                tracing::info!("GET {} -> {} in {elapsed} ms", redact_url(url), bounded.status);
                Ok(bounded)
            }
            Ok(None) => {
                tracing::info!("GET {} -> more than {max} bytes", redact_url(url));
                Err(Error::BodyTooLarge { host, max })
            }
            Err(err) => {
                tracing::info!("GET {} -> {} after {elapsed} ms", redact_url(url), describe(&err));
                Err(self.failure(url, &err, 1, started))
            }
        }
    }

    /// `None` when the body is longer than `max`.
    async fn read_bounded(&self, url: &Url, max: usize) -> Result<Option<Bounded>, reqwest::Error> {
        // The timeout covers the whole exchange, body included.
        let response = self.client.get(url.clone()).timeout(self.timeout).send().await?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if response.content_length().is_some_and(|n| n > max as u64) {
            return Ok(None);
        }
        let capped = read_capped(response, max).await?;
        Ok(capped.whole.then(|| Bounded {
            status,
            body: capped.body.to_vec(),
            location,
        }))
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        bearer: Option<&Secret>,
    ) -> Result<(Reply, Option<Duration>), Failure> {
        let mut request = self
            .client
            .request(method.clone(), url.clone())
            .timeout(self.timeout);
        if let Some(token) = bearer {
            let mut value = header::HeaderValue::from_str(&format!("Bearer {}", token.expose()))
                .unwrap_or_else(|_| header::HeaderValue::from_static("Bearer invalid"));
            value.set_sensitive(true);
            request = request.header(header::AUTHORIZATION, value);
        }
        if method == Method::POST {
            request = request.header(header::CONTENT_LENGTH, 0);
        }
        let response = request.send().await.map_err(Failure::Net)?;
        let status = response.status();
        let retry_after = if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::FORBIDDEN
            || status.is_server_error()
        {
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after)
        } else {
            None
        };
        let limit = if status.is_success() {
            MAX_BODY
        } else {
            MAX_ERROR_BODY
        };
        let capped = read_capped(response, limit).await.map_err(Failure::Net)?;
        // An error body is only read for its message: its start will do.
        if !capped.whole && status.is_success() {
            return Err(Failure::TooLarge);
        }
        let body = capped.body;
        Ok((
            Reply {
                status: status.as_u16(),
                body,
            },
            retry_after,
        ))
    }
}

/// The innermost cause of a transport failure, without the URL (which
/// holds the API key): reqwest's own message must never be shown.
pub(crate) fn describe(err: &dyn std::error::Error) -> String {
    let mut source = err;
    while let Some(next) = source.source() {
        source = next;
    }
    let text = source.to_string();
    if text.contains("://") {
        "connection failed".to_string()
    } else {
        text
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TlsFailure {
    Certificate,
    NotTls,
}

/// The URL carries the API key (or another secret parameter).
fn has_secret_param(url: &Url) -> bool {
    url.query_pairs()
        .any(|(name, _)| matches!(name.as_ref(), "key" | "access_token" | "oauth_token" | "token"))
}

/// A TLS failure that the next attempt would meet again: rustls refused
/// the server's certificate (unknown CA, wrong name, expired), or the
/// server answered the handshake with something that is not TLS.
/// The rustls error sits inside an `io::Error`, whose `source` skips it.
fn tls_failure(err: &reqwest::Error) -> Option<TlsFailure> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let inner = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|i| i as &(dyn std::error::Error + 'static)),
            None => Some(e),
        };
        if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return match tls {
                rustls::Error::InvalidCertificate(_) | rustls::Error::InvalidCertRevocationList(_) => {
                    Some(TlsFailure::Certificate)
                }
                rustls::Error::InvalidMessage(_) => Some(TlsFailure::NotTls),
                _ => None,
            };
        }
        source = match inner {
            Some(i) if !std::ptr::addr_eq(i, e) => Some(i),
            _ => e.source(),
        };
    }
    None
}

/// A URL's host, without the brackets of an IPv6 address.
fn host_of(url: &Url) -> &str {
    url.host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
}

/// NO_PROXY as curl and reqwest read it: `*`, or hosts and domains that
/// match themselves and their subdomains (a leading dot is optional), or
/// IP addresses and networks.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let ip: Option<std::net::IpAddr> = host.parse().ok();
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
                return in_network(ip, net, bits);
            }
            let entry = entry.trim_start_matches('.').to_ascii_lowercase();
            host == entry || host.ends_with(&format!(".{entry}"))
        })
}

fn in_network(ip: std::net::IpAddr, net: &str, bits: &str) -> bool {
    use std::net::IpAddr;
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The URL with the values of secret parameters replaced, for logs.
pub fn redact_url(url: &Url) -> String {
    const SECRET: [&str; 4] = ["key", "access_token", "oauth_token", "token"];
    let mut redacted = url.clone();
    // A gateway's password in GBOOKS_API_BASE (`https://user:pass@host/`).
    if url.password().is_some() {
        let _ = redacted.set_password(Some("REDACTED"));
    }
    if url.query().is_none() {
        return redacted.to_string();
    }
    let query: Vec<String> = url
        .query()
        .unwrap_or_default()
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if SECRET.contains(&name) => format!("{name}=REDACTED"),
            _ => pair.to_string(),
        })
        .collect();
    redacted.set_query(Some(&query.join("&")));
    redacted.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_transient_statuses() {
        for s in [429, 500, 502, 503, 504] {
            assert!(RetryPolicy::retries_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 501] {
            assert!(!RetryPolicy::retries_status(s), "{s}");
        }
    }

    #[test]
    fn reads_throttles_and_daily_quotas_from_the_body() {
        let legacy = |status: u16, reason: &str| {
            let body = format!(r#"{{"error":{{"code":{status},"errors":[{{"reason":"{reason}"}}]}}}}"#);
            (
                limit_of(status, body.as_bytes()),
                RetryPolicy::retries(status, body.as_bytes()),
            )
        };
        assert_eq!(legacy(403, "rateLimitExceeded"), (Some(Limit::Throttled), true));
        assert_eq!(
            legacy(403, "userRateLimitExceeded"),
            (Some(Limit::Throttled), true)
        );
        for daily in ["dailyLimitExceeded", "dailyLimitExceededUnreg", "quotaExceeded"] {
            assert_eq!(legacy(403, daily), (Some(Limit::DailyQuota), false), "{daily}");
        }
        assert_eq!(legacy(403, "accessNotConfigured"), (None, false));
        assert_eq!(legacy(429, "rateLimitExceeded"), (Some(Limit::Throttled), true));
        assert_eq!(
            (limit_of(429, b"busy"), RetryPolicy::retries(429, b"busy")),
            (Some(Limit::Throttled), true)
        );
        let per_day = br#"{"error":{"code":429,"errors":[{"reason":"rateLimitExceeded"}],"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","metadata":{"quota_unit":"1/d/{project}","quota_limit":"defaultPerDayPerProject"}}]}}"#;
        assert_eq!(limit_of(429, per_day), Some(Limit::DailyQuota));
        assert!(!RetryPolicy::retries(429, per_day));
        let per_minute = br#"{"error":{"code":429,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","metadata":{"quota_limit":"defaultPerMinutePerProject"}}]}}"#;
        assert_eq!(limit_of(429, per_minute), Some(Limit::Throttled));
        assert_eq!(limit_of(503, b""), None);
        assert!(RetryPolicy::retries(503, b""));
    }

    #[test]
    fn backoff_grows_with_jitter_and_stops_after_four_attempts() {
        let p = RetryPolicy::default();
        for _ in 0..100 {
            let d1 = p.delay(1, None).unwrap();
            assert!(
                d1 >= Duration::from_millis(125) && d1 <= Duration::from_millis(250),
                "{d1:?}"
            );
            let d3 = p.delay(3, None).unwrap();
            assert!(
                d3 >= Duration::from_millis(500) && d3 <= Duration::from_millis(1000),
                "{d3:?}"
            );
        }
        assert_eq!(p.delay(4, None), None);
        assert_eq!(p.delay(40, None), None);
    }

    #[test]
    fn retry_after_is_honoured_up_to_a_limit() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(2))),
            Some(Duration::from_secs(2))
        );
        assert_eq!(p.delay(1, Some(Duration::from_secs(3600))), None);
        let soon = p.delay(2, Some(Duration::ZERO)).unwrap();
        assert!(soon >= Duration::from_millis(250), "{soon:?}");
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn redacts_secret_parameters() {
        let url = Url::parse("https://h/books/v1/volumes?q=a%20b&key=AIzaSECRET&access_token=t").unwrap();
        assert_eq!(
            redact_url(&url),
            "https://h/books/v1/volumes?q=a%20b&key=REDACTED&access_token=REDACTED"
        );
    }

    #[test]
    fn no_proxy_matches_hosts_domains_and_networks() {
        let list = "localhost, .example.com,internal.org,10.0.0.0/8, ::1";
        for host in [
            "localhost",
            "example.com",
            "books.example.com",
            "a.internal.org",
            "10.1.2.3",
            "::1",
        ] {
            assert!(no_proxy_matches(list, host), "{host}");
        }
        for host in [
            "www.googleapis.com",
            "notexample.com",
            "11.0.0.1",
            "internal.org.evil",
        ] {
            assert!(!no_proxy_matches(list, host), "{host}");
        }
        assert!(no_proxy_matches("*", "anything"));
    }

    #[test]
    fn redacts_a_password_in_the_url() {
        let url = Url::parse("http://me:hunter2@h/books/v1/volumes/x").unwrap();
        assert_eq!(redact_url(&url), "http://me:REDACTED@h/books/v1/volumes/x");
        let url = Url::parse("http://me:hunter2@h/v?key=k").unwrap();
        assert_eq!(redact_url(&url), "http://me:REDACTED@h/v?key=REDACTED");
    }

    #[tokio::test]
    async fn a_bounded_get_stops_past_its_limit_and_sends_no_credentials() {
        use wiremock::matchers::{method, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};

        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/ten"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![7u8; 10]))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/moved"))
            .respond_with(ResponseTemplate::new(302).insert_header("location", "/ten"))
            .mount(&server)
            .await;
        let http = Http::new(Duration::from_secs(5)).unwrap();
        let url = |p: &str| Url::parse(&format!("{}{p}", server.uri())).unwrap();
        let got = http.get_bounded(&url("/ten"), 10).await.unwrap();
        assert_eq!((got.status, got.body.len()), (200, 10));
        assert!(matches!(
            http.get_bounded(&url("/ten"), 9).await,
            Err(Error::BodyTooLarge { max: 9, .. })
        ));
        let moved = http.get_bounded(&url("/moved"), 10).await.unwrap();
        assert_eq!((moved.status, moved.location.as_deref()), (302, Some("/ten")));
        for request in server.received_requests().await.unwrap() {
            assert!(!request.headers.contains_key("authorization"));
        }
    }

    #[tokio::test]
    async fn gate_holds_every_waiter() {
        let gate = Gate::default();
        gate.pause(Duration::from_millis(80));
        gate.pause(Duration::from_millis(10)); // a shorter pause never shortens it
        let start = Instant::now();
        gate.wait().await;
        assert!(start.elapsed() >= Duration::from_millis(75));
    }
}
