//! Shared by the integration tests: a `gbooks` command cut off from the
//! user's real config, keyring, cache, browser and Google; fixtures; the
//! checks every failure path makes; fakes to run it against.

#![allow(dead_code)]

pub mod fake;
pub mod oauth;
pub mod pty;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// An API base where nothing listens: for commands that must not call it.
pub const NOWHERE: &str = "http://127.0.0.1:9/books/v1";

/// The API key tests pass; it must never be printed.
pub const API_KEY: &str = "AIzaTEST-key-0123456789-never-print";

/// A private home for one test: config, cache and data dirs inside a temp dir.
pub struct Sandbox {
    pub dir: TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn credentials_file(&self) -> PathBuf {
        self.config_dir().join("credentials.json")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        std::fs::write(self.config_dir().join("config.toml"), text).unwrap();
    }

    /// `gbooks` pointed at `api` (the fake server's base URL).
    pub fn cmd(&self, api: &str) -> Command {
        Command::from_std(self.std_cmd(api))
    }

    /// The same, as a plain process for tests that talk to it while it runs.
    pub fn std_cmd(&self, api: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_gbooks"));
        let home = self.dir.path();
        cmd.env_clear()
            .current_dir(home)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join("xdg-config"))
            .env("XDG_CACHE_HOME", home.join("xdg-cache"))
            .env("XDG_DATA_HOME", home.join("xdg-data"))
            .env("GBOOKS_CONFIG_DIR", self.config_dir())
            .env("GBOOKS_CACHE_DIR", self.cache_dir())
            .env("GBOOKS_API_BASE", api)
            // Never a real keyring, browser or Google from a test.
            .env("GBOOKS_TOKEN_STORE", "file")
            .env("BROWSER", "true")
            .env("GBOOKS_REVOKE_URL", "http://127.0.0.1:9/unused");
        cmd
    }

    /// Stores a login as gbooks would, expiring `expires_in` seconds from now.
    pub fn write_credentials(&self, access: &str, expires_in: i64, refresh: Option<&str>) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        let creds = serde_json::json!({
            "access_token": access,
            "expires_at": now() + expires_in,
            "refresh_token": refresh,
            "scopes": [oauth::BOOKS_SCOPE],
            "client_id": oauth::CLIENT_ID,
        });
        std::fs::write(self.credentials_file(), creds.to_string()).unwrap();
        // 0600, as gbooks writes it: a looser file gets a warning.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(self.credentials_file(), std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// The stored login, parsed.
    pub fn stored_credentials(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.credentials_file()).unwrap()).unwrap()
    }

    /// Writes the client file where gbooks looks for it (the config dir).
    pub fn install_client(&self, auth_uri: &str, token_uri: &str) {
        std::fs::create_dir_all(self.config_dir()).unwrap();
        std::fs::write(
            self.config_dir().join("client_secret.json"),
            oauth::client_secret_json(auth_uri, token_uri),
        )
        .unwrap();
    }
}

/// Runs a `gbooks` command off the test's runtime thread, so that the test
/// can do other things meanwhile (`check_cases`, a browser). The caller's
/// builder is used up.
pub async fn run(cmd: &mut Command) -> Output {
    let mut cmd = std::mem::replace(cmd, Command::new(env!("CARGO_BIN_EXE_gbooks")));
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// Runs `check` on every case, a few at once (a gbooks run mostly waits),
/// then fails naming each case that failed and why. Each check must await
/// its runs (`run`), never block.
pub async fn check_cases<C, F, Fut>(cases: impl IntoIterator<Item = (String, C)>, check: F)
where
    F: Fn(C) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let at_once = std::sync::Arc::new(tokio::sync::Semaphore::new(4));
    let tasks: Vec<_> = cases
        .into_iter()
        .map(|(name, case)| {
            let (check, turn) = (check(case), at_once.clone().acquire_owned());
            let task = tokio::spawn(async move {
                let _turn = turn.await;
                check.await
            });
            (name, task)
        })
        .collect();
    let total = tasks.len();
    let mut failed = Vec::new();
    for (name, task) in tasks {
        if let Err(e) = task.await {
            let why = match e.try_into_panic() {
                Ok(payload) => payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            failed.push(format!("case {name}: {why}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {total} cases failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
}

/// A file's permission bits.
pub fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A port on 127.0.0.1 that nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// The base URL a client uses for a wiremock server.
pub fn api(server: &MockServer) -> String {
    format!("{}/books/v1", server.uri())
}

pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn fixture_json(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// A `books#volume` with the given id and title.
pub fn volume(id: &str, title: &str) -> Value {
    serde_json::json!({
        "kind": "books#volume",
        "id": id,
        "volumeInfo": { "title": title, "authors": ["Author of ".to_string() + title], "publishedDate": "2001-02-03" }
    })
}

pub fn volumes(items: Vec<Value>) -> Value {
    if items.is_empty() {
        return serde_json::json!({ "kind": "books#volumes", "totalItems": 0 });
    }
    serde_json::json!({ "kind": "books#volumes", "totalItems": 1000, "items": items })
}

/// A Books API error body, as Google sends it.
pub fn api_error(code: u16, reason: &str, message: &str) -> Value {
    serde_json::json!({
        "error": { "code": code, "message": message, "errors": [{ "reason": reason, "message": message }] }
    })
}

pub async fn mount_json(server: &MockServer, at: &str, body: Value) {
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(server)
        .await;
}

/// The query parameters of every request the server received.
pub async fn queries(server: &MockServer) -> Vec<Vec<(String, String)>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| {
            r.url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .collect()
}

pub fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The Authorization header a request carried.
/// The `key` parameter a request carried.
pub fn sent_key(req: &wiremock::Request) -> Option<String> {
    req.url
        .query_pairs()
        .find(|(k, _)| k == "key")
        .map(|(_, v)| v.into_owned())
}

pub fn authorization(req: &wiremock::Request) -> Option<String> {
    req.headers
        .get("authorization")
        .map(|v| v.to_str().unwrap().to_string())
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exactly one line on stderr, `gbooks: error: …` (so no panic), trimmed.
pub fn one_error_line(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("gbooks: error: "), "{err:?}");
    err.trim_end().to_string()
}

/// Every known secret (tokens, client secret, API key), as is and as a
/// form body or URL carries it.
pub fn secret_forms() -> Vec<String> {
    let mut all = oauth::secrets();
    all.push(API_KEY.to_string());
    let encoded: Vec<String> = all
        .iter()
        .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
        .filter(|e: &String| !all.contains(e))
        .collect();
    all.extend(encoded);
    all
}

/// No known secret in any form in stderr, nor in stdout unless that is
/// `stdout_may_hold` (what `auth token` prints); and no panic.
pub fn assert_no_secrets(out: &Output, stdout_may_hold: Option<&str>) {
    let (o, e) = (stdout(out), stderr(out));
    for s in secret_forms() {
        assert!(!e.contains(&s), "stderr leaks {s}:\n{e}");
        if stdout_may_hold != Some(s.as_str()) {
            assert!(!o.contains(&s), "stdout leaks {s}:\n{o}");
        }
    }
    assert!(!e.contains("panicked"), "{e}");
}

/// Appends the check digit to the first 12 digits of an ISBN-13.
pub fn isbn13(first12: &str) -> String {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| if i % 2 == 0 { 1 } else { 3 } * u32::from(b - b'0'))
        .sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}

/// A list of volumes `v0`, `v1`, … served by `startIndex` and `maxResults`.
#[derive(Debug, Clone, Copy)]
pub struct List {
    pub total: u128,
    /// `totalItems` on every page; `None`: 1000, or 0 on an empty page.
    pub total_items: Option<u64>,
    /// Every page after the first starts with this volume again.
    pub repeat: Option<u128>,
    /// Every page after the first starts this many volumes early, repeating
    /// the end of the page before, as the API does.
    pub overlap: u128,
}

impl List {
    pub fn of(total: u128) -> List {
        List {
            total,
            total_items: None,
            repeat: None,
            overlap: 0,
        }
    }

    pub fn page(&self, start: u128, max: u128) -> Value {
        let first = if start == 0 {
            0
        } else {
            start - self.overlap.min(start)
        };
        let end = first.saturating_add(max).min(self.total);
        let mut items: Vec<Value> = (first..end).map(|i| volume(&format!("v{i}"), "t")).collect();
        if let (Some(r), true) = (self.repeat, start > 0 && !items.is_empty()) {
            items[0] = volume(&format!("v{r}"), "t");
        }
        let mut page = volumes(items);
        if let Some(n) = self.total_items {
            page["totalItems"] = n.into();
        }
        page
    }
}

impl wiremock::Respond for List {
    fn respond(&self, req: &wiremock::Request) -> ResponseTemplate {
        let get = |k: &str| -> u128 {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .map_or(0, |(_, v)| v.parse().unwrap())
        };
        ResponseTemplate::new(200).set_body_json(self.page(get("startIndex"), get("maxResults")))
    }
}
