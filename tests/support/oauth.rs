//! A fake Google OAuth server on 127.0.0.1: an authorization endpoint that
//! records the PKCE challenge and redirects to gbooks' listener, a token
//! endpoint that checks the verifier and counts refreshes; and the browser,
//! played by the test itself.

use std::collections::HashMap;
use std::path::Path;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assert_cmd::Command;

use base64::Engine as _;
use serde_json::json;
use sha2::Digest as _;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use super::Sandbox;

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
    // Enough for the longest run of refreshes one fake serves.
    all.extend((1..=200).map(refreshed));
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

    pub fn auth_uri(&self) -> String {
        format!("{}/o/oauth2/auth", self.server.uri())
    }

    pub fn token_uri(&self) -> String {
        format!("{}/token", self.server.uri())
    }

    /// A Desktop app's client_secret.json pointing at this fake.
    pub fn client_secret_json(&self) -> String {
        client_secret_json(&self.auth_uri(), &self.token_uri())
    }

    /// Writes the client file where gbooks looks for it (the config dir).
    pub fn install_client_secret(&self, sb: &Sandbox) {
        sb.install_client(&self.auth_uri(), &self.token_uri());
    }
}

/// A Desktop app's client_secret.json, as the Google Cloud console gives it.
pub fn client_secret_json(auth_uri: &str, token_uri: &str) -> String {
    json!({
        "installed": {
            "client_id": CLIENT_ID,
            "project_id": "gbooks-test",
            "auth_uri": auth_uri,
            "token_uri": token_uri,
            "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
            "client_secret": CLIENT_SECRET,
            "redirect_uris": ["http://localhost"]
        }
    })
    .to_string()
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

/// A `$BROWSER` that only writes down the URL it is given: the test plays
/// the browser with its own HTTP client. `sh` reads the script: executing a
/// file just written can fail with ETXTBSY while other tests fork.
pub fn recording_browser(dir: &Path) -> String {
    let p = dir.join("recording-browser");
    let script = format!(
        "printf '%s\\n' \"$1\" >> '{}'\n",
        dir.join("browser-urls").display()
    );
    std::fs::write(&p, script).unwrap();
    format!("sh {}", p.display())
}

/// The URLs a recording browser in `dir` was given, each written whole.
pub fn opened_urls(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("browser-urls")).unwrap_or_default();
    // A line is done once its newline is there.
    let done = text.rfind('\n').map_or("", |end| &text[..end]);
    done.lines().map(str::to_string).collect()
}

/// Waits for the first URL a recording browser in `dir` was given; `None`
/// when `gbooks` ended without opening one.
pub async fn wait_for_url<T>(dir: &Path, gbooks: &tokio::task::JoinHandle<T>) -> Option<String> {
    let started = Instant::now();
    loop {
        if let Some(url) = opened_urls(dir).into_iter().next() {
            return Some(url);
        }
        if gbooks.is_finished() {
            return opened_urls(dir).into_iter().next();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the browser was never opened"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
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

/// A `gbooks login` run, with what its browser saw.
pub struct BrowserLogin {
    pub out: Output,
    /// The consent URL gbooks opened.
    pub url: String,
    /// The page gbooks' listener answered the redirect with.
    pub page: String,
}

/// Runs `cmd` (a `gbooks … login`) with a browser that the test plays: it
/// takes the consent URL gbooks opened, asks the fake for consent and
/// follows the redirect to gbooks' listener, as a user's browser would.
pub async fn login_in_browser(mut cmd: Command, dir: &Path) -> BrowserLogin {
    let _ = std::fs::remove_file(dir.join("browser-urls"));
    cmd.env("BROWSER", recording_browser(dir));
    let gbooks = tokio::task::spawn_blocking(move || cmd.output().unwrap());
    let (url, page) = match wait_for_url(dir, &gbooks).await {
        Some(url) => {
            let callback = consent(&url).await;
            let page = match reqwest::get(&callback).await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => format!("(the listener did not answer: {e})"),
            };
            (url, page)
        }
        None => (String::new(), String::new()),
    };
    BrowserLogin {
        out: gbooks.await.unwrap(),
        url,
        page,
    }
}
