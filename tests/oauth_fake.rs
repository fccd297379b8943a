//! A fake Google OAuth server on 127.0.0.1: an authorization endpoint that
//! records the PKCE challenge and redirects to gbooks' listener, a token
//! endpoint that checks the verifier and counts refreshes, and fake browsers.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::Sandbox;

pub const CLIENT_ID: &str = "1234-fake.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-client-SECRET-7f3a";
pub const ACCESS: &str = "ya29.login-access-SECRET-91c2";
pub const REFRESH: &str = "1//login-refresh-SECRET-5d8e";
pub const STALE: &str = "ya29.stale-access-SECRET-0a0a";
pub const BOOKS_SCOPE: &str = "https://www.googleapis.com/auth/books";

/// The access token the fake hands out on its `n`th refresh.
pub fn refreshed(n: usize) -> String {
    format!("ya29.refreshed-{n}-SECRET-c0de")
}

/// Every token value a test may see; none of them may leak.
pub fn secrets() -> Vec<String> {
    let mut all: Vec<String> = [ACCESS, REFRESH, STALE, CLIENT_SECRET]
        .iter()
        .map(|s| s.to_string())
        .collect();
    all.extend((1..=8).map(refreshed));
    all
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    #[default]
    Grant,
    Deny,
    /// Redirects with a `state` that is not the one gbooks sent.
    ForgeState,
}

#[derive(Debug, Default)]
pub struct FakeState {
    pub consent: Consent,
    /// code -> (code_challenge, redirect_uri)
    pub codes: HashMap<String, (String, String)>,
    pub exchanges: usize,
    pub refreshes: usize,
    pub invalid_grant: bool,
    pub refresh_delay: Duration,
    /// What went wrong in a request the fake refused, for assertions.
    pub complaints: Vec<String>,
}

pub struct OAuthFake {
    pub server: MockServer,
    pub state: Arc<Mutex<FakeState>>,
}

impl OAuthFake {
    pub async fn start() -> OAuthFake {
        let server = MockServer::start().await;
        let state = Arc::new(Mutex::new(FakeState::default()));
        Mock::given(method("GET"))
            .and(path("/o/oauth2/auth"))
            .respond_with(Authorize(state.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(Token(state.clone()))
            .mount(&server)
            .await;
        OAuthFake { server, state }
    }

    pub fn set(&self, f: impl FnOnce(&mut FakeState)) {
        f(&mut self.state.lock().unwrap());
    }

    pub fn refreshes(&self) -> usize {
        self.state.lock().unwrap().refreshes
    }

    pub fn exchanges(&self) -> usize {
        self.state.lock().unwrap().exchanges
    }

    pub fn complaints(&self) -> Vec<String> {
        self.state.lock().unwrap().complaints.clone()
    }

    /// A Desktop app's client_secret.json pointing at this fake.
    pub fn client_secret_json(&self) -> String {
        json!({
            "installed": {
                "client_id": CLIENT_ID,
                "project_id": "gbooks-test",
                "auth_uri": format!("{}/o/oauth2/auth", self.server.uri()),
                "token_uri": format!("{}/token", self.server.uri()),
                "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": ["http://localhost"]
            }
        })
        .to_string()
    }

    /// Writes the client file where gbooks looks for it (the config dir).
    pub fn install_client_secret(&self, sb: &Sandbox) {
        std::fs::create_dir_all(sb.config_dir()).unwrap();
        std::fs::write(
            sb.config_dir().join("client_secret.json"),
            self.client_secret_json(),
        )
        .unwrap();
    }
}

fn form(body: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(error: &str, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({ "error": error, "error_description": description }))
}

struct Authorize(Arc<Mutex<FakeState>>);

impl Respond for Authorize {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q: HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let mut st = self.0.lock().unwrap();
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let redirect = get("redirect_uri");
        let state = get("state");
        let mut problems = Vec::new();
        let checks = [
            ("response_type", get("response_type") == "code"),
            ("client_id", get("client_id") == CLIENT_ID),
            ("code_challenge_method", get("code_challenge_method") == "S256"),
            ("code_challenge", get("code_challenge").len() == 43),
            ("scope", get("scope").split(' ').any(|s| s == BOOKS_SCOPE)),
            ("access_type", get("access_type") == "offline"),
            ("prompt", get("prompt") == "consent"),
            ("state", state.len() >= 22),
            (
                "redirect_uri",
                redirect.starts_with("http://127.0.0.1:") && redirect.ends_with('/'),
            ),
        ];
        for (name, ok) in checks {
            if !ok {
                problems.push(format!("bad {name}"));
            }
        }
        if !problems.is_empty() || redirect.is_empty() {
            st.complaints.extend(problems.clone());
            return ResponseTemplate::new(400).set_body_string(problems.join(", "));
        }
        let target = match st.consent {
            Consent::Grant => {
                let code = format!("4/code-{}", st.codes.len() + 1);
                st.codes
                    .insert(code.clone(), (get("code_challenge"), redirect.clone()));
                let mut u = url::Url::parse(&redirect).unwrap();
                u.query_pairs_mut()
                    .append_pair("state", &state)
                    .append_pair("code", &code)
                    .append_pair("scope", BOOKS_SCOPE);
                u
            }
            Consent::Deny => {
                let mut u = url::Url::parse(&redirect).unwrap();
                u.query_pairs_mut()
                    .append_pair("error", "access_denied")
                    .append_pair("state", &state);
                u
            }
            Consent::ForgeState => {
                let code = "4/forged-code".to_string();
                st.codes
                    .insert(code.clone(), (get("code_challenge"), redirect.clone()));
                let mut u = url::Url::parse(&redirect).unwrap();
                u.query_pairs_mut()
                    .append_pair("state", "forged-state-0000000000000")
                    .append_pair("code", &code);
                u
            }
        };
        ResponseTemplate::new(302).insert_header("Location", target.as_str())
    }
}

struct Token(Arc<Mutex<FakeState>>);

impl Respond for Token {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let f = form(&req.body);
        let get = |k: &str| f.get(k).cloned().unwrap_or_default();
        let mut st = self.0.lock().unwrap();
        if get("client_id") != CLIENT_ID || get("client_secret") != CLIENT_SECRET {
            st.complaints.push("bad client credentials".into());
            return oauth_error("invalid_client", "The OAuth client was not found.");
        }
        match get("grant_type").as_str() {
            "authorization_code" => {
                let Some((challenge, redirect)) = st.codes.remove(&get("code")) else {
                    st.complaints.push("unknown code".into());
                    return oauth_error("invalid_grant", "Malformed auth code.");
                };
                let verifier = get("code_verifier");
                let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(sha2::Sha256::digest(verifier.as_bytes()));
                if !(43..=128).contains(&verifier.len()) || computed != challenge {
                    st.complaints.push("PKCE verification failed".into());
                    return oauth_error("invalid_grant", "Invalid code verifier.");
                }
                if get("redirect_uri") != redirect {
                    st.complaints.push("redirect_uri differs".into());
                    return oauth_error("redirect_uri_mismatch", "Bad Request");
                }
                st.exchanges += 1;
                ResponseTemplate::new(200).set_body_json(json!({
                    "access_token": ACCESS,
                    "expires_in": 3599,
                    "refresh_token": REFRESH,
                    "scope": BOOKS_SCOPE,
                    "token_type": "Bearer"
                }))
            }
            "refresh_token" => {
                if st.invalid_grant || get("refresh_token") != REFRESH {
                    return oauth_error("invalid_grant", "Token has been expired or revoked.");
                }
                st.refreshes += 1;
                ResponseTemplate::new(200)
                    .set_body_json(json!({
                        "access_token": refreshed(st.refreshes),
                        "expires_in": 3599,
                        "scope": BOOKS_SCOPE,
                        "token_type": "Bearer"
                    }))
                    .set_delay(st.refresh_delay)
            }
            other => oauth_error("unsupported_grant_type", other),
        }
    }
}

/// A `$BROWSER` that loads the consent URL with curl and follows the
/// redirect to gbooks' listener, keeping the page it got.
pub fn curl_browser(dir: &Path) -> PathBuf {
    script(
        dir,
        "curl-browser",
        &format!(
            "printf '%s\\n' \"$1\" >> '{d}/browser-urls'\n\
             curl -sS -L --max-redirs 2 --max-time 30 -o '{d}/browser-page.html' \"$1\" 2>> '{d}/browser-errors'\n\
             touch '{d}/browser-done'\n",
            d = dir.display()
        ),
    )
}

/// The page the curl browser ended on, once it is done.
pub async fn browser_page(dir: &Path) -> String {
    for _ in 0..200 {
        if dir.join("browser-done").exists() {
            return std::fs::read_to_string(dir.join("browser-page.html")).unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the browser never finished");
}

/// A `$BROWSER` that only writes down the URL: the test plays the browser.
pub fn recording_browser(dir: &Path) -> PathBuf {
    script(
        dir,
        "recording-browser",
        &format!("printf '%s\\n' \"$1\" >> '{}/browser-urls'\n", dir.display()),
    )
}

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Waits for the URL a recording browser was given.
pub async fn browser_url(dir: &Path) -> String {
    for _ in 0..200 {
        if let Ok(text) = std::fs::read_to_string(dir.join("browser-urls")) {
            if let Some(line) = text.lines().next() {
                return line.to_string();
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the browser was never opened");
}

/// Plays the user in the browser: asks the fake for consent and returns
/// where it redirects (gbooks' listener, with the code).
pub async fn consent(auth_url: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client.get(auth_url).send().await.unwrap();
    assert_eq!(r.status(), 302, "{}", r.text().await.unwrap_or_default());
    r.headers()["location"].to_str().unwrap().to_string()
}
