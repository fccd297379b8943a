//! The transport that the Books client and the login share: one HTTP
//! client for the run, the retry policy, the shared pause that a 429 puts on
//! every request in flight, and URL redaction for logs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use reqwest::{header, Method, StatusCode};
use url::Url;

use crate::secret::Secret;

/// A request that got no HTTP answer. Never holds a URL: reqwest's messages
/// include the query, and with it the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("cannot reach {host}: {detail}")]
    Transport { host: String, detail: String },
    /// `secs` is the limit of each attempt.
    #[error("no answer from {host} within {secs}s")]
    Timeout { host: String, secs: f64 },
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

#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    policy: RetryPolicy,
    gate: Arc<Gate>,
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
        let client = with_system_roots(client).build().map_err(|e| Error::Transport {
            host: "the network".into(),
            detail: e.without_url().to_string(),
        })?;
        Ok(Http {
            client,
            timeout,
            policy: RetryPolicy::default(),
            gate: Arc::default(),
        })
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
        let host = url.host_str().unwrap_or("the server").to_string();
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
                    if !RetryPolicy::retries_status(reply.status) {
                        return Ok(reply);
                    }
                    match self.policy.delay(attempt, retry_after) {
                        Some(wait) => {
                            if reply.status == 429 {
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
                Err(err) => {
                    // Never `err` itself: reqwest's message carries the URL, key and all.
                    tracing::info!(
                        "{} {} -> {} after {} ms",
                        method,
                        redact_url(url),
                        describe(&err),
                        elapsed.as_millis()
                    );
                    // A certificate that does not verify will not verify next time either.
                    let delay = if is_certificate_error(&err) {
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
                        None => {
                            return Err(if err.is_timeout() {
                                Error::Timeout {
                                    host,
                                    secs: self.timeout.as_secs_f64(),
                                }
                            } else {
                                Error::Transport {
                                    host,
                                    detail: describe(&err),
                                }
                            })
                        }
                    }
                }
            }
        }
    }

    async fn attempt(
        &self,
        method: Method,
        url: &Url,
        bearer: Option<&Secret>,
    ) -> Result<(Reply, Option<Duration>), reqwest::Error> {
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
        let response = request.send().await?;
        let status = response.status();
        let retry_after = if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after)
        } else {
            None
        };
        let body = response.bytes().await?;
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

/// rustls refused the server's certificate (unknown CA, wrong name, expired).
/// The rustls error sits inside an `io::Error`, whose `source` skips it.
fn is_certificate_error(err: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = source {
        let inner = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|i| i as &(dyn std::error::Error + 'static)),
            None => Some(e),
        };
        if let Some(tls) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()) {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::InvalidCertRevocationList(_)
            );
        }
        source = match inner {
            Some(i) if !std::ptr::addr_eq(i, e) => Some(i),
            _ => e.source(),
        };
    }
    false
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
    fn redacts_a_password_in_the_url() {
        let url = Url::parse("http://me:hunter2@h/books/v1/volumes/x").unwrap();
        assert_eq!(redact_url(&url), "http://me:REDACTED@h/books/v1/volumes/x");
        let url = Url::parse("http://me:hunter2@h/v?key=k").unwrap();
        assert_eq!(redact_url(&url), "http://me:REDACTED@h/v?key=REDACTED");
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
