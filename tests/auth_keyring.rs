//! The keyring store against a real Secret Service. These tests write to
//! the keyring they find, so they run only on demand, against a private one:
//! `tests/private-keyring.sh` (CI runs it) starts gnome-keyring on a private
//! D-Bus with a throwaway HOME and runs them with GBOOKS_TEST_KEYRING=1.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::oauth::*;
use crate::support::*;

/// Fails unless the Secret Service is the private one of
/// `tests/private-keyring.sh` and answers.
fn require_private_secret_service() {
    assert_eq!(
        std::env::var("GBOOKS_TEST_KEYRING").as_deref(),
        Ok("1"),
        "run through tests/private-keyring.sh, never against your own keyring"
    );
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "DBUS_SESSION_BUS_ADDRESS is not set"
    );
    let probe = keyring_call(|| keyring::Entry::new("gbooks-test-probe", "probe")?.get_password());
    match probe {
        Ok(_) | Err(keyring::Error::NoEntry) => {}
        Err(e) => panic!("no Secret Service answers: {e}"),
    }
}

/// Keyring calls block and must stay off the test's runtime thread.
fn keyring_call<T: Send + 'static>(
    f: impl FnOnce() -> keyring::Result<T> + Send + 'static,
) -> Result<T, keyring::Error> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(10))
        .unwrap_or_else(|_| Err(keyring::Error::NoStorageAccess("no answer within 10 s".into())))
}

fn account(sb: &Sandbox) -> String {
    sb.config_dir().display().to_string()
}

fn entry_text(sb: &Sandbox) -> Option<String> {
    let account = account(sb);
    match keyring_call(move || keyring::Entry::new("gbooks", &account)?.get_password()) {
        Ok(text) => Some(text),
        Err(keyring::Error::NoEntry) => None,
        Err(e) => panic!("{e}"),
    }
}

fn set_entry(sb: &Sandbox, text: String) {
    let account = account(sb);
    keyring_call(move || keyring::Entry::new("gbooks", &account)?.set_password(&text)).unwrap();
}

fn remove_entry(sb: &Sandbox) {
    let account = account(sb);
    let _ = keyring_call(move || keyring::Entry::new("gbooks", &account)?.delete_credential());
}

fn keyring_cmd(sb: &Sandbox, api: &str, store: &str) -> assert_cmd::Command {
    let mut c = sb.cmd(api);
    c.env("GBOOKS_TOKEN_STORE", store).env(
        "DBUS_SESSION_BUS_ADDRESS",
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").unwrap_or_default(),
    );
    c
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_login_refresh_and_logout() {
    require_private_secret_service();
    let fake = OAuthFake::start().await;
    let revoke = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&revoke)
        .await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let uri = fake.server.uri();

    let mut login = keyring_cmd(&sb, &uri, "keyring");
    login.args(["-v", "login"]);
    let out = login_in_browser(login, sb.dir.path()).await.out;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).ends_with("Logged in.\n"), "{}", stderr(&out));
    assert_no_secrets(&out, None);
    assert!(!sb.credentials_file().exists());
    let entry: Value = serde_json::from_str(&entry_text(&sb).expect("an entry")).unwrap();
    assert_eq!(entry["access_token"], ACCESS);
    assert_eq!(entry["refresh_token"], REFRESH);
    assert_eq!(entry["client_id"], CLIENT_ID);
    assert_eq!(entry["scopes"][0], BOOKS_SCOPE);

    let mut status = keyring_cmd(&sb, &uri, "keyring");
    status.args(["auth", "status", "--json"]);
    let out = run(&mut status).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["store"], "keyring");
    assert_eq!(v["path"], Value::Null);

    // Expired: `auth token` refreshes and the keyring keeps the new token.
    let mut expired = entry.clone();
    expired["expires_at"] = Value::from(1);
    set_entry(&sb, expired.to_string());
    let mut token = keyring_cmd(&sb, &uri, "keyring");
    token.args(["auth", "token"]);
    let out = run(&mut token).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    let entry: Value = serde_json::from_str(&entry_text(&sb).unwrap()).unwrap();
    assert_eq!(entry["access_token"], refreshed(1).as_str());
    assert_eq!(entry["refresh_token"], REFRESH);
    assert_eq!(fake.refreshes(), 1);

    let mut logout = keyring_cmd(&sb, &uri, "keyring");
    logout
        .env("GBOOKS_REVOKE_URL", format!("{}/revoke", revoke.uri()))
        .arg("logout");
    let out = run(&mut logout).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(entry_text(&sb).is_none(), "logout removes the entry");
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_is_what_auto_picks_when_it_answers() {
    require_private_secret_service();
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let uri = fake.server.uri();
    let mut login = keyring_cmd(&sb, &uri, "auto");
    login.arg("login");
    let out = login_in_browser(login, sb.dir.path()).await.out;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    assert!(!sb.credentials_file().exists());
    assert!(entry_text(&sb).is_some());
    let mut status = keyring_cmd(&sb, &uri, "auto");
    status.args(["auth", "status"]);
    let out = run(&mut status).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("keyring"), "{}", stdout(&out));
    remove_entry(&sb);
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_entry_that_is_corrupted_exits_4() {
    require_private_secret_service();
    let sb = Sandbox::new();
    set_entry(&sb, "{\"access_token\": 42".to_string());
    for args in [&["auth", "status"][..], &["auth", "token"]] {
        let mut c = keyring_cmd(&sb, "http://127.0.0.1:9", "keyring");
        c.args(args);
        let out = run(&mut c).await;
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "gbooks: error: stored credentials are unreadable; run gbooks login\n"
        );
    }
    let mut logout = keyring_cmd(&sb, "http://127.0.0.1:9", "keyring");
    logout.arg("logout");
    let out = run(&mut logout).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(entry_text(&sb).is_none());
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_four_processes_refresh_once() {
    require_private_secret_service();
    let fake = OAuthFake::start().await;
    fake.set(|s| s.refresh_delay = Duration::from_millis(400));
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let expired = serde_json::json!({
        "access_token": STALE,
        "expires_at": 1,
        "refresh_token": REFRESH,
        "scopes": [BOOKS_SCOPE],
        "client_id": CLIENT_ID,
    });
    set_entry(&sb, expired.to_string());
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let mut c = keyring_cmd(&sb, &fake.server.uri(), "auto");
            c.args(["auth", "token"]);
            tokio::task::spawn_blocking(move || c.output().unwrap())
        })
        .collect();
    for r in runs {
        let out = r.await.unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    }
    assert_eq!(fake.refreshes(), 1);
    let entry: Value = serde_json::from_str(&entry_text(&sb).unwrap()).unwrap();
    assert_eq!(entry["access_token"], refreshed(1).as_str());
    assert!(!sb.credentials_file().exists());
    remove_entry(&sb);
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_auto_still_finds_a_login_kept_in_the_file() {
    require_private_secret_service();
    let sb = Sandbox::new();
    sb.write_credentials(ACCESS, 3000, Some(REFRESH));
    let mut c = keyring_cmd(&sb, "http://127.0.0.1:9", "auto");
    c.args(["auth", "token"]);
    let out = run(&mut c).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{ACCESS}\n"));
    assert!(entry_text(&sb).is_none());
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_login_written_by_keyring_3_is_read_and_kept() {
    require_private_secret_service();
    // The test helpers write with keyring 3, the crate gbooks used before
    // keyring-core: the same entry must serve the new one, both ways.
    let sb = Sandbox::new();
    let creds = serde_json::json!({
        "access_token": ACCESS,
        "expires_at": now() + 3000,
        "refresh_token": REFRESH,
        "scopes": [BOOKS_SCOPE],
        "client_id": CLIENT_ID,
    });
    set_entry(&sb, creds.to_string());
    for store in ["keyring", "auto"] {
        let mut c = keyring_cmd(&sb, "http://127.0.0.1:9", store);
        c.args(["auth", "token"]);
        let out = run(&mut c).await;
        assert!(out.status.success(), "{store}: {}", stderr(&out));
        assert_eq!(stdout(&out), format!("{ACCESS}\n"));
    }
    let mut logout = keyring_cmd(&sb, "http://127.0.0.1:9", "keyring");
    logout.arg("logout");
    let out = run(&mut logout).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(entry_text(&sb).is_none(), "keyring 3 no longer finds it");
}

#[tokio::test]
#[ignore = "writes to a keyring: run tests/private-keyring.sh"]
async fn keyring_keeps_the_api_key_apart_from_the_login() {
    require_private_secret_service();
    const KEY: &str = "AIzaKEYRING-key-0123456789";
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![])))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let api = api(&server);
    let mut set = keyring_cmd(&sb, &api, "auto");
    set.args(["auth", "key", "set"]).write_stdin(format!("{KEY}\n"));
    let out = run(&mut set).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("in the keyring"), "{}", stderr(&out));
    assert!(!sb.config_dir().join("api_key").exists());
    assert!(entry_text(&sb).is_none(), "the login's entry is untouched");

    let mut status = keyring_cmd(&sb, &api, "auto");
    status.args(["auth", "status", "--json"]);
    let out = run(&mut status).await;
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["api_key_store"], "keyring");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));

    let mut search = keyring_cmd(&sb, &api, "auto");
    search.args(["search", "x", "--no-cache"]);
    assert!(run(&mut search).await.status.success());
    let keys: Vec<String> = queries(&server)
        .await
        .iter()
        .map(|q| param(q, "key").unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, [KEY, KEY], "checked once by set, then used by search");

    let mut remove = keyring_cmd(&sb, &api, "auto");
    remove.args(["auth", "key", "remove"]);
    let out = run(&mut remove).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Removed"), "{}", stderr(&out));
}
