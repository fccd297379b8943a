//! Shared by the integration tests: a `gbooks` command cut off from the
//! user's real config, keyring, cache and Google, and fixture helpers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

pub fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A list of `total` volumes `v0`, `v1`, … served by `startIndex` and
/// `maxResults`. With `repeat`, every page after the first starts with that
/// volume again, as the API sometimes does.
pub fn paged_list(total: usize, total_items: u64, repeat: Option<usize>) -> impl wiremock::Respond {
    move |req: &wiremock::Request| {
        let get = |k: &str| -> usize {
            req.url
                .query_pairs()
                .find(|(n, _)| n == k)
                .map_or(0, |(_, v)| v.parse().unwrap())
        };
        let (start, max) = (get("startIndex"), get("maxResults"));
        let mut items: Vec<Value> = (start..(start + max).min(total))
            .map(|i| volume(&format!("v{i}"), "t"))
            .collect();
        if let (Some(r), true) = (repeat, start > 0 && !items.is_empty()) {
            items[0] = volume(&format!("v{r}"), "t");
        }
        let mut page = volumes(items);
        page["totalItems"] = total_items.into();
        ResponseTemplate::new(200).set_body_json(page)
    }
}
