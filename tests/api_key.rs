//! The API key as a secret: `auth key set` checks and stores it beside the
//! login, `auth status` says where, and searches use it in its place in the
//! order --api-key > GBOOKS_API_KEY > stored > config.toml.

use std::io::Write as _;
use std::process::Stdio;

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const STORED: &str = "AIzaSTORED-key-0123456789";

/// `gbooks auth key set` with `key` piped on stdin.
fn key_set(sb: &Sandbox, api: &str, key: &str) -> std::process::Output {
    let mut child = sb
        .std_cmd(api)
        .args(["auth", "key", "set"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{key}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn set_checks_the_key_then_stores_it_privately() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("key", STORED))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![])))
        .expect(1)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let api = api(&server);
    let (out, sb) = tokio::task::spawn_blocking(move || (key_set(&sb, &api, STORED), sb))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stdout(&out).contains(STORED) && !stderr(&out).contains(STORED));
    let file = sb.config_dir().join("api_key");
    assert_eq!(std::fs::read_to_string(&file).unwrap().trim(), STORED);
    assert_eq!(mode(&file) & 0o777, 0o600);
    assert!(stderr(&out).contains("readable only by you"), "{}", stderr(&out));

    // Status says where, never what.
    let out = sb
        .cmd(NOWHERE)
        .args(["auth", "status", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["api_key_stored"], true);
    assert_eq!(v["api_key_store"], "file");
    assert_eq!(v["api_key_path"], file.display().to_string());
    assert!(!String::from_utf8_lossy(&out.stdout).contains(STORED));
    let out = sb.cmd(NOWHERE).args(["auth", "status"]).output().unwrap();
    assert!(stdout(&out).contains("API key:"), "{}", stdout(&out));
    assert!(stdout(&out).contains("stored in a file"), "{}", stdout(&out));

    let out = sb.cmd(NOWHERE).args(["auth", "key", "remove"]).output().unwrap();
    assert!(out.status.success());
    assert!(!file.exists());
    let out = sb.cmd(NOWHERE).args(["auth", "key", "remove"]).output().unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("No API key was stored"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_refused_key_is_not_stored() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(400).set_body_json(api_error(
            400,
            "keyInvalid",
            "API key not valid. Please pass a valid API key.",
        )))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let api = api(&server);
    let (out, sb) = tokio::task::spawn_blocking(move || (key_set(&sb, &api, "AIzaBAD"), sb))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("not stored"), "{}", stderr(&out));
    assert!(!sb.config_dir().join("api_key").exists());
    // Nothing typed: a usage error, no request.
    let (out, _) = tokio::task::spawn_blocking(move || (key_set(&sb, NOWHERE, "  "), sb))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn stored_key_ranks_below_flag_and_environment_above_the_file() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    sb.write_config("api_key = \"from-file\"\n");
    let search = |env: Option<&str>, flag: Option<&str>| {
        let mut cmd = sb.cmd(&api(&server));
        cmd.args(["search", "x", "--no-cache"]);
        if let Some(k) = env {
            cmd.env("GBOOKS_API_KEY", k);
        }
        if let Some(k) = flag {
            cmd.args(["--api-key", k]);
        }
        cmd.output().unwrap()
    };
    // Only the file: used, with a warning said once.
    let first = search(None, None);
    assert!(
        stderr(&first).contains("gbooks auth key set"),
        "{}",
        stderr(&first)
    );
    let second = search(None, None);
    assert!(
        !stderr(&second).contains("gbooks auth key set"),
        "{}",
        stderr(&second)
    );
    std::fs::write(sb.config_dir().join("api_key"), format!("{STORED}\n")).unwrap();
    search(None, None);
    search(Some("from-env"), None);
    search(Some("from-env"), Some("from-flag"));
    let keys: Vec<String> = queries(&server)
        .await
        .iter()
        .map(|q| param(q, "key").unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, ["from-file", "from-file", STORED, "from-env", "from-flag"]);
}

#[tokio::test]
async fn set_on_a_terminal_prompts_without_echo() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    let mut cmd = sb.std_cmd(&api(&server));
    cmd.env("TERM", "xterm").args(["auth", "key", "set"]);
    let (code, screen) = tokio::task::spawn_blocking(move || {
        let mut term = crate::support::pty::Terminal::spawn(&cmd, 24, 80);
        term.wait_for("API key (not shown): ");
        term.type_text(&format!("{STORED}\n"));
        term.finish()
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains(STORED), "the key was echoed: {screen}");
    assert!(screen.contains("Stored the API key"), "{screen}");
    let file = sb.config_dir().join("api_key");
    assert_eq!(std::fs::read_to_string(file).unwrap().trim(), STORED);
}
