//! The OAuth endpoints: code exchange and refresh (through `oauth2`, on the
//! run's one reqwest client, which follows no redirects), and revocation.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, EndpointNotSet, EndpointSet,
    HttpRequest, HttpResponse, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, TokenResponse,
    TokenUrl,
};
use url::Url;

use super::{now, ClientSecret, Credentials, Error};
use crate::http::{describe, redact_url, Http};
use crate::secret::Secret;

pub type OAuthClient = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub fn oauth_client(cs: &ClientSecret) -> OAuthClient {
    let client = BasicClient::new(ClientId::new(cs.client_id.clone()))
        .set_auth_uri(AuthUrl::from_url(cs.auth_uri.clone()))
        .set_token_uri(TokenUrl::from_url(cs.token_uri.clone()))
        // Google documents the secret in the body for installed apps.
        .set_auth_type(AuthType::RequestBody);
    match &cs.client_secret {
        Some(secret) => client.set_client_secret(oauth2::ClientSecret::new(secret.expose().to_string())),
        None => client,
    }
}

type TokenError = RequestTokenError<TokenHttpError, BasicErrorResponse>;

/// Why a call to the token endpoint got no answer to read.
#[derive(Debug, thiserror::Error)]
pub enum TokenHttpError {
    #[error("{}", describe(.0))]
    Net(reqwest::Error),
    #[error("{}", crate::http::Error::TooLarge)]
    TooLarge,
}

/// oauth2's way to the token endpoint, on the run's client, reading bodies
/// only up to the limits of `http` (oauth2's own reqwest client reads any
/// body whole).
struct Capped<'a>(&'a Http);

impl<'c> AsyncHttpClient<'c> for Capped<'_> {
    type Error = TokenHttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<HttpResponse, TokenHttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        let client = self.0.client().clone();
        Box::pin(async move {
            let request = reqwest::Request::try_from(request).map_err(TokenHttpError::Net)?;
            let response = client.execute(request).await.map_err(TokenHttpError::Net)?;
            let status = response.status();
            let mut answer = oauth2::http::Response::builder().status(status.as_u16());
            for (name, value) in response.headers() {
                answer = answer.header(name.as_str(), value.as_bytes());
            }
            let limit = if status.is_success() {
                crate::http::MAX_BODY
            } else {
                crate::http::MAX_ERROR_BODY
            };
            let capped = crate::http::read_capped(response, limit)
                .await
                .map_err(TokenHttpError::Net)?;
            if !capped.whole && status.is_success() {
                return Err(TokenHttpError::TooLarge);
            }
            let body = capped.body.to_vec();
            answer.body(body).map_err(|_| TokenHttpError::TooLarge)
        })
    }
}

/// Trades the authorization code for tokens.
pub async fn exchange_code(
    cs: &ClientSecret,
    http: &Http,
    code: String,
    verifier: PkceCodeVerifier,
    redirect: &Url,
) -> Result<Credentials, Error> {
    let client = oauth_client(cs).set_redirect_uri(RedirectUrl::from_url(redirect.clone()));
    let sent = [Secret::new(code.clone()), Secret::new(verifier.secret().clone())];
    let request = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier);
    secure_token_uri(cs)?;
    let capped = Capped(http);
    let request = request.request_async(&capped);
    let secrets: Vec<&Secret> = sent.iter().chain(cs.client_secret.as_ref()).collect();
    let answer = call(&cs.token_uri, http.timeout(), request, false, &secrets).await?;
    let refresh_token = answer.refresh_token().map(|t| Secret::new(t.secret().clone()));
    Ok(credentials(cs, &answer, refresh_token, Vec::new()))
}

/// A fresh access token from the refresh token; the refresh token stays
/// unless the server sends a new one.
pub async fn refresh(cs: &ClientSecret, http: &Http, old: &Credentials) -> Result<Credentials, Error> {
    let Some(refresh_token) = &old.refresh_token else {
        return Err(Error::Revoked);
    };
    let client = oauth_client(cs);
    let token = RefreshToken::new(refresh_token.expose().to_string());
    secure_token_uri(cs)?;
    let capped = Capped(http);
    let request = client.exchange_refresh_token(&token).request_async(&capped);
    let secrets: Vec<&Secret> = [refresh_token]
        .into_iter()
        .chain(cs.client_secret.as_ref())
        .collect();
    let answer = call(&cs.token_uri, http.timeout(), request, true, &secrets).await?;
    let refresh_token = answer
        .refresh_token()
        .map(|t| Secret::new(t.secret().clone()))
        .or_else(|| old.refresh_token.clone());
    Ok(credentials(cs, &answer, refresh_token, old.scopes.clone()))
}

/// The refresh token, code and client secret only travel over TLS (or to
/// this machine).
fn secure_token_uri(cs: &ClientSecret) -> Result<(), Error> {
    crate::http::check_secure(&cs.token_uri).map_err(|_| Error::Insecure {
        host: cs.token_uri.host_str().unwrap_or_default().to_string(),
        setting: "token_uri in client_secret.json",
    })
}

fn credentials(
    cs: &ClientSecret,
    answer: &BasicTokenResponse,
    refresh_token: Option<Secret>,
    scopes: Vec<String>,
) -> Credentials {
    let scopes = match answer.scopes() {
        Some(granted) => granted.iter().map(|s| s.to_string()).collect(),
        None if scopes.is_empty() => vec![super::BOOKS_SCOPE.to_string()],
        None => scopes,
    };
    Credentials {
        access_token: Secret::new(answer.access_token().secret().clone()),
        expires_at: answer.expires_in().map(|d| now().saturating_add(d.as_secs())),
        refresh_token,
        scopes,
        client_id: cs.client_id.clone(),
    }
}

async fn call(
    url: &Url,
    timeout: Duration,
    request: impl std::future::Future<Output = Result<BasicTokenResponse, TokenError>>,
    refreshing: bool,
    sent: &[&Secret],
) -> Result<BasicTokenResponse, Error> {
    let host = url.host_str().unwrap_or("the token endpoint").to_string();
    let started = std::time::Instant::now();
    let outcome = tokio::time::timeout(timeout, request).await;
    let ms = started.elapsed().as_millis();
    match outcome {
        Err(_) => {
            tracing::info!("POST {} -> timeout after {ms} ms", redact_url(url));
            Err(Error::Transport {
                host,
                detail: format!("no answer within {} s", timeout.as_secs_f64()),
            })
        }
        Ok(Ok(answer)) => {
            tracing::info!("POST {} -> 200 in {ms} ms", redact_url(url));
            Ok(answer)
        }
        Ok(Err(e)) => {
            tracing::info!("POST {} -> failed in {ms} ms", redact_url(url));
            Err(token_error(e, host, refreshing, sent))
        }
    }
}

/// `sent`: the secrets the request carried, which a server may echo back.
fn token_error(e: TokenError, host: String, refreshing: bool, sent: &[&Secret]) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            if refreshing && *r.error() == BasicErrorResponseType::InvalidGrant {
                return Error::Revoked;
            }
            let mut text = r.error().to_string();
            if let Some(d) = r.error_description() {
                text = format!("{text}: {d}");
            }
            Error::TokenEndpoint(crate::sanitize::terminal_line(&crate::secret::redact(
                &text, sent,
            )))
        }
        RequestTokenError::Request(TokenHttpError::TooLarge) => Error::Transport {
            host,
            detail: TokenHttpError::TooLarge.to_string(),
        },
        RequestTokenError::Request(e) => Error::Transport {
            host,
            detail: e.to_string(),
        },
        // The body may hold tokens: it is never shown.
        RequestTokenError::Parse(..) => Error::TokenEndpoint("an answer gbooks cannot read".into()),
        RequestTokenError::Other(text) => Error::TokenEndpoint(crate::secret::redact(&text, sent)),
    }
}

/// Asks the server to forget `token` (RFC 7009). The token goes in the
/// body, never in the URL, so that it stays out of logs.
pub async fn revoke(http: &Http, url: &Url, token: &Secret) -> Result<(), String> {
    let started = std::time::Instant::now();
    let shown = redact_url(url);
    let sent = http
        .client()
        .post(url.clone())
        .timeout(http.timeout())
        .form(&[("token", token.expose())])
        .send()
        .await;
    let ms = started.elapsed().as_millis();
    match sent {
        Ok(response) => {
            let status = response.status();
            tracing::info!("POST {shown} -> {} in {ms} ms", status.as_u16());
            // Only the start of an answer is read: nothing in it is used.
            drop(crate::http::read_capped(response, crate::http::MAX_ERROR_BODY).await);
            if status.is_success() {
                Ok(())
            } else {
                Err(format!(
                    "{} answered {status}",
                    url.host_str().unwrap_or("the server")
                ))
            }
        }
        Err(e) => {
            tracing::info!("POST {shown} -> failed in {ms} ms");
            Err(format!(
                "cannot reach {}: {}",
                url.host_str().unwrap_or("the server"),
                describe(&e)
            ))
        }
    }
}
