//! Once logged in: the token store, refresh (once, even for four processes
//! at once), logout, `auth status` and `auth token`, and which credential
//! each call carries. Logging in itself is in `login`.

use std::time::{Duration, UNIX_EPOCH};

use serde_json::Value;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::oauth::*;
use crate::support::*;

#[tokio::test]
async fn auth_token_refreshes_an_expiring_token() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    // Expires in 30 s: within the 60 s margin.
    sb.write_credentials(STALE, 30, Some(REFRESH));
    let out = sb
        .cmd(&fake.server.uri())
        .args(["-vv", "auth", "token"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    assert_no_secrets(&out, Some(&refreshed(1)));
    assert_eq!(fake.refreshes(), 1);
    let creds = sb.stored_credentials();
    assert_eq!(creds["access_token"], refreshed(1).as_str());
    assert_eq!(creds["refresh_token"], REFRESH, "the refresh token is kept");
    assert_eq!(mode(&sb.credentials_file()), 0o600);

    // Fresh now: the next run does not refresh.
    let out = sb
        .cmd(&fake.server.uri())
        .args(["auth", "token"])
        .output()
        .unwrap();
    assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    assert_eq!(fake.refreshes(), 1);
}

#[tokio::test]
async fn a_401_leads_to_one_refresh_and_one_retry() {
    let fake = OAuthFake::start().await;
    let books = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(header("authorization", format!("Bearer {STALE}").as_str()))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": {"code": 401, "message": "Invalid Credentials", "errors": [{"reason": "authError"}]}
        })))
        .expect(1)
        .mount(&books)
        .await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(header(
            "authorization",
            format!("Bearer {}", refreshed(1)).as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![volume("v1", "Dune")])))
        .expect(1..)
        .mount(&books)
        .await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    sb.write_credentials(STALE, 3000, Some(REFRESH));
    let out = sb
        .cmd(&api(&books))
        .args(["-vv", "search", "dune"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Dune"));
    assert_no_secrets(&out, None);
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(sb.stored_credentials()["access_token"], refreshed(1).as_str());
}

#[tokio::test]
async fn a_second_401_is_an_error_not_a_loop() {
    let fake = OAuthFake::start().await;
    let books = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(401).set_body_json(serde_json::json!({
            "error": {"code": 401, "message": "Invalid Credentials"}
        })))
        .expect(2)
        .mount(&books)
        .await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    sb.write_credentials(STALE, 3000, Some(REFRESH));
    let out = sb.cmd(&api(&books)).args(["search", "dune"]).output().unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(fake.refreshes(), 1);
    assert_no_secrets(&out, None);
}

#[tokio::test]
async fn invalid_grant_asks_for_a_new_login() {
    let fake = OAuthFake::start().await;
    fake.set(|s| s.invalid_grant = true);
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    sb.write_credentials(STALE, -10, Some(REFRESH));
    let out = sb
        .cmd(&fake.server.uri())
        .args(["-v", "auth", "token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert!(
        stderr(&out).contains("gbooks: error: your login has expired or was revoked; run gbooks login"),
        "{}",
        stderr(&out)
    );
    assert_no_secrets(&out, None);
}

#[tokio::test]
async fn four_processes_refresh_once_and_all_succeed() {
    let fake = OAuthFake::start().await;
    // A slow token endpoint, so that the four runs overlap.
    fake.set(|s| s.refresh_delay = Duration::from_millis(400));
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    sb.write_credentials(STALE, -100, Some(REFRESH));
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let mut c = sb.cmd(&fake.server.uri());
            c.args(["auth", "token"]);
            tokio::task::spawn_blocking(move || c.output().unwrap())
        })
        .collect();
    let mut tokens = Vec::new();
    for r in runs {
        let out = r.await.unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        tokens.push(stdout(&out));
    }
    assert_eq!(fake.refreshes(), 1, "one refresh for all four: {tokens:?}");
    assert!(
        tokens.iter().all(|t| *t == format!("{}\n", refreshed(1))),
        "{tokens:?}"
    );
    let creds = sb.stored_credentials();
    assert_eq!(creds["access_token"], refreshed(1).as_str());
    assert_eq!(creds["refresh_token"], REFRESH);
}

#[tokio::test]
async fn corrupted_store_exits_4_for_the_login_and_never_panics() {
    let books = MockServer::start().await;
    mount_json(&books, "/books/v1/volumes", volumes(vec![volume("v1", "Dune")])).await;
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    for garbage in [&b"{\"access_token\": \"ya29.trunc"[..], b"\xff\x00\x01", b"[]"] {
        std::fs::write(sb.credentials_file(), garbage).unwrap();
        std::fs::set_permissions(
            sb.credentials_file(),
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        for args in [&["auth", "status"][..], &["auth", "token"]] {
            let out = sb.cmd(&api(&books)).args(args).output().unwrap();
            assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
            assert_eq!(
                stderr(&out),
                "gbooks: error: stored credentials are unreadable; run gbooks login\n"
            );
        }
        // Public data does without the login, after one warning.
        let out = sb.cmd(&api(&books)).args(["search", "dune"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stderr(&out),
            "gbooks: warning: your login has expired; going on without it — run gbooks login\n"
        );
    }
    // A public call with an API key never touches the store.
    let out = sb
        .cmd(&api(&books))
        .args(["search", "dune", "--api-key", "AIzaKEY"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // And logout clears the mess.
    let out = sb.cmd(&api(&books)).arg("logout").output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!sb.credentials_file().exists());
}

#[tokio::test]
async fn logout_revokes_then_deletes() {
    let revoke = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(body_string_contains("token=1%2F%2Flogin-refresh"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&revoke)
        .await;
    let sb = Sandbox::new();
    sb.write_credentials(ACCESS, 3000, Some(REFRESH));
    let out = sb
        .cmd("http://127.0.0.1:9")
        .env("GBOOKS_REVOKE_URL", format!("{}/revoke", revoke.uri()))
        .args(["-vv", "logout"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Logged out."));
    assert!(!stderr(&out).contains("warning"));
    assert!(!sb.credentials_file().exists());
    assert_no_secrets(&out, None);
    // Logged out already: still fine.
    let out = sb.cmd("http://127.0.0.1:9").arg("logout").output().unwrap();
    assert!(out.status.success());
    assert!(stderr(&out).contains("Not logged in."));
}

#[tokio::test]
async fn logout_deletes_even_when_revocation_fails() {
    let revoke = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&revoke)
        .await;
    for url in [
        format!("{}/revoke", revoke.uri()),
        "http://127.0.0.1:9/revoke".to_string(),
        // Not a URL at all: only logout notices, and still logs out.
        "not a url".to_string(),
    ] {
        let sb = Sandbox::new();
        sb.write_credentials(ACCESS, 3000, Some(REFRESH));
        let out = sb
            .cmd("http://127.0.0.1:9")
            .env("GBOOKS_REVOKE_URL", &url)
            .arg("logout")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{url}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("warning: could not revoke the token"),
            "{url}: {err}"
        );
        assert!(err.contains("Logged out."), "{url}: {err}");
        assert!(!sb.credentials_file().exists(), "{url}");
        assert_no_secrets(&out, None);
    }
}

#[tokio::test]
async fn status_shows_the_login_but_never_a_token() {
    let sb = Sandbox::new();
    let run_status = |json: bool| {
        let mut c = sb.cmd("http://127.0.0.1:9");
        c.args(["auth", "status"]);
        if json {
            c.arg("--json");
        }
        c
    };
    let out = run_status(false).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr(&out), "gbooks: error: not logged in; run gbooks login\n");
    let out = run_status(true).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logged_in"], false);

    sb.write_credentials(ACCESS, 1800, Some(REFRESH));
    let out = run_status(false).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let path = sb.credentials_file();
    assert!(text.contains(&format!("file ({})", path.display())), "{text}");
    assert!(text.contains(BOOKS_SCOPE) && text.contains("in 30 min"), "{text}");
    assert_no_secrets(&out, None);

    let out = run_status(true).output().unwrap();
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logged_in"], true);
    assert_eq!(v["store"], "file");
    assert_eq!(v["path"], path.display().to_string());
    assert_eq!(v["scopes"][0], BOOKS_SCOPE);
    assert_eq!(v["expired"], false);
    assert_eq!(v["has_refresh_token"], true);
    let at = humantime::parse_rfc3339(v["expires_at"].as_str().unwrap()).unwrap();
    let at = at.duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    assert!((at - (now() + 1800)).abs() < 5);
    assert_no_secrets(&out, None);
}

#[tokio::test]
async fn auth_token_needs_a_login() {
    let sb = Sandbox::new();
    let out = sb
        .cmd("http://127.0.0.1:9")
        .args(["auth", "token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert_eq!(stderr(&out), "gbooks: error: not logged in; run gbooks login\n");
    sb.write_credentials(ACCESS, 3000, Some(REFRESH));
    let out = sb
        .cmd("http://127.0.0.1:9")
        .args(["-vv", "auth", "token"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), format!("{ACCESS}\n"));
    assert_no_secrets(&out, Some(ACCESS));
}

#[tokio::test]
async fn public_calls_use_the_key_else_the_login_else_nothing() {
    let books = MockServer::start().await;
    mount_json(&books, "/books/v1/volumes", volumes(vec![volume("v1", "Dune")])).await;
    let sb = Sandbox::new();
    let search = |extra: &[&str]| {
        let mut c = sb.cmd(&api(&books));
        c.args(["search", "dune", "--no-cache"]).args(extra);
        c
    };
    let sent = |from: usize| {
        let books = &books;
        async move {
            let requests = books.received_requests().await.unwrap();
            assert!(requests.len() > from);
            let auth: Vec<Option<String>> = requests[from..]
                .iter()
                .map(|r| {
                    r.headers
                        .get("authorization")
                        .map(|v| v.to_str().unwrap().to_string())
                })
                .collect();
            (requests.len(), auth)
        }
    };
    // Anonymous.
    assert!(search(&[]).output().unwrap().status.success());
    let (n, auth) = sent(0).await;
    assert!(auth.iter().all(Option::is_none), "{auth:?}");
    // Logged in, no key: the bearer token.
    sb.write_credentials(ACCESS, 3000, Some(REFRESH));
    assert!(search(&[]).output().unwrap().status.success());
    let (m, auth) = sent(n).await;
    let bearer = format!("Bearer {ACCESS}");
    assert!(
        auth.iter().all(|a| a.as_deref() == Some(bearer.as_str())),
        "{auth:?}"
    );
    // A key: the key, never the token.
    assert!(search(&["--api-key", "AIzaKEY"])
        .output()
        .unwrap()
        .status
        .success());
    let (_, auth) = sent(m).await;
    assert!(auth.iter().all(Option::is_none), "{auth:?}");
    assert_eq!(param(&queries(&books).await[m], "key"), Some("AIzaKEY"));
}

#[tokio::test]
async fn client_file_from_the_environment_serves_login_and_refresh() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    let elsewhere = sb.dir.path().join("elsewhere.json");
    std::fs::write(&elsewhere, fake.client_secret_json()).unwrap();
    sb.write_credentials(STALE, -5, Some(REFRESH));
    let out = sb
        .cmd(&fake.server.uri())
        .env("GBOOKS_CLIENT_SECRET_FILE", &elsewhere)
        .args(["auth", "token"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    // Not copied: only --client-secret copies.
    assert!(!sb.config_dir().join("client_secret.json").exists());
    // Without any client file, a refresh cannot happen and says why.
    sb.write_credentials(STALE, -5, Some(REFRESH));
    let out = sb
        .cmd(&fake.server.uri())
        .args(["auth", "token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("no client_secret.json"), "{}", stderr(&out));
    assert_no_secrets(&out, None);
}

/// A refresh whose token endpoint is down, hangs up, or answers garbage.
#[tokio::test]
async fn refresh_failures_are_one_line_with_their_code() {
    let garbage = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw("{\"access_tok", "application/json"))
        .expect(2)
        .mount(&garbage)
        .await;
    let closed = format!("http://127.0.0.1:{}/token", closed_port());
    for (token_uri, code, want) in [
        (
            format!("{}/token", garbage.uri()),
            4,
            "gbooks: error: the token endpoint refused the request: an answer gbooks cannot read",
        ),
        (closed, 1, "gbooks: error: cannot reach 127.0.0.1: "),
    ] {
        for args in [&["auth", "token"][..], &["shelves"]] {
            let sb = Sandbox::new();
            sb.install_client("http://127.0.0.1:9/auth", &token_uri);
            sb.write_credentials(STALE, -10, Some(REFRESH));
            let out = sb.cmd(NOWHERE).args(args).output().unwrap();
            assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
            assert!(
                one_error_line(&out).starts_with(want),
                "{args:?}: {}",
                stderr(&out)
            );
            assert!(out.stdout.is_empty(), "{args:?}");
            assert_no_secrets(&out, None);
        }
    }
}
