//! Login, the token store, refresh, logout and the auth commands, through the
//! real binary against the fake OAuth server in `oauth_fake`.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;
use crate::oauth_fake::*;

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Stores a login as gbooks would, expiring `expires_in` seconds from now.
pub fn write_credentials(sb: &Sandbox, access: &str, expires_in: i64, refresh: Option<&str>) {
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    let creds = serde_json::json!({
        "access_token": access,
        "expires_at": now() + expires_in,
        "refresh_token": refresh,
        "scopes": [BOOKS_SCOPE],
        "client_id": CLIENT_ID,
    });
    std::fs::write(sb.config_dir().join("credentials.json"), creds.to_string()).unwrap();
}

fn stored(sb: &Sandbox) -> Value {
    serde_json::from_slice(&std::fs::read(sb.config_dir().join("credentials.json")).unwrap()).unwrap()
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// No known secret in stderr, nor in stdout unless `stdout_may_hold` it.
pub fn assert_no_secrets(out: &Output, stdout_may_hold: Option<&str>) {
    let (o, e) = (stdout(out), stderr(out));
    for s in secrets() {
        assert!(!e.contains(&s), "stderr leaks {s}:\n{e}");
        if stdout_may_hold != Some(s.as_str()) {
            assert!(!o.contains(&s), "stdout leaks {s}:\n{o}");
        }
    }
    assert!(!e.contains("panicked"), "{e}");
}

async fn run(cmd: assert_cmd::Command) -> Output {
    let mut cmd = cmd;
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

/// `gbooks login` with a curl browser against the fake.
async fn login_with_curl(sb: &Sandbox, fake: &OAuthFake, extra: &[&str]) -> Output {
    let browser = curl_browser(sb.dir.path());
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("BROWSER", &browser).arg("-v").arg("login").args(extra);
    run(cmd).await
}

#[tokio::test]
async fn login_end_to_end_stores_tokens_privately() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    let client_file = sb.dir.path().join("downloaded.json");
    std::fs::write(&client_file, fake.client_secret_json()).unwrap();
    let out = login_with_curl(&sb, &fake, &["--client-secret", client_file.to_str().unwrap()]).await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}\n{:?}", fake.complaints());
    assert!(err.trim_end().ends_with("Logged in."), "{err}");
    assert!(out.stdout.is_empty());
    assert_no_secrets(&out, None);
    assert_eq!(fake.exchanges(), 1, "{:?}", fake.complaints());
    assert!(fake.complaints().is_empty(), "{:?}", fake.complaints());

    // The consent URL went to stderr, with PKCE, offline access and consent.
    let url_line = err.lines().find(|l| l.contains("/o/oauth2/auth?")).unwrap();
    let url = url::Url::parse(url_line.trim()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["scope"], BOOKS_SCOPE);
    assert!(q["redirect_uri"].starts_with("http://127.0.0.1:"));
    assert!(q["state"].len() >= 22, "at least 128 bits");

    assert!(
        browser_page(sb.dir.path()).await.contains("Logged in"),
        "{}",
        browser_page(sb.dir.path()).await
    );
    let creds = stored(&sb);
    assert_eq!(creds["access_token"], ACCESS);
    assert_eq!(creds["refresh_token"], REFRESH);
    assert_eq!(creds["client_id"], CLIENT_ID);
    assert_eq!(creds["scopes"][0], BOOKS_SCOPE);
    let expires = creds["expires_at"].as_i64().unwrap();
    assert!((now() + 3500..=now() + 3600).contains(&expires), "{expires}");
    assert_eq!(mode(&sb.config_dir()), 0o700);
    assert_eq!(mode(&sb.config_dir().join("credentials.json")), 0o600);
    // The client file was copied, privately, so that later runs need no flag.
    assert_eq!(mode(&sb.config_dir().join("client_secret.json")), 0o600);

    // A second login (no flag) finds the copy and uses a fresh verifier.
    std::fs::remove_file(sb.dir.path().join("browser-urls")).unwrap();
    let again = login_with_curl(&sb, &fake, &[]).await;
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(fake.exchanges(), 2);
    let second = std::fs::read_to_string(sb.dir.path().join("browser-urls")).unwrap();
    let second = url::Url::parse(second.trim()).unwrap();
    let q2: std::collections::HashMap<_, _> = second.query_pairs().into_owned().collect();
    assert_ne!(q["code_challenge"], q2["code_challenge"]);
    assert_ne!(q["state"], q2["state"]);
}

#[tokio::test]
async fn forged_state_stores_nothing() {
    let fake = OAuthFake::start().await;
    fake.set(|s| s.consent = Consent::ForgeState);
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let out = login_with_curl(&sb, &fake, &[]).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("state mismatch"), "{}", stderr(&out));
    assert_eq!(fake.exchanges(), 0, "the code must not be exchanged");
    assert!(!sb.config_dir().join("credentials.json").exists());
    assert!(
        browser_page(sb.dir.path()).await.contains("Login failed"),
        "{}",
        browser_page(sb.dir.path()).await
    );
    assert_no_secrets(&out, None);
}

#[tokio::test]
async fn denied_consent_exits_4() {
    let fake = OAuthFake::start().await;
    fake.set(|s| s.consent = Consent::Deny);
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let out = login_with_curl(&sb, &fake, &[]).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("gbooks: error: access denied"),
        "{}",
        stderr(&out)
    );
    assert!(!sb.config_dir().join("credentials.json").exists());
    assert!(browser_page(sb.dir.path()).await.contains("access denied"));
}

#[tokio::test]
async fn stray_requests_get_404_and_the_login_goes_on() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let browser = recording_browser(sb.dir.path());
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("BROWSER", &browser).arg("login");
    let gbooks = tokio::task::spawn_blocking(move || cmd.output().unwrap());

    let auth_url = browser_url(sb.dir.path()).await;
    let callback = consent(&auth_url).await;
    let listener = url::Url::parse(&callback).unwrap();
    let base = format!("http://127.0.0.1:{}", listener.port().unwrap());
    let http = reqwest::Client::new();
    for stray in ["/favicon.ico", "/", "/other?code=x"] {
        let r = http.get(format!("{base}{stray}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{stray}");
    }
    let page = http.get(&callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.text().await.unwrap().contains("Logged in"));
    let out = gbooks.await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stored(&sb)["access_token"], ACCESS);
    // The listener is closed once the login is over.
    assert!(http.get(format!("{base}/")).send().await.is_err());
}

#[tokio::test]
async fn paste_mode_reads_the_redirect_from_stdin() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let marker = sb.dir.path().join("browser-was-opened");
    let mut cmd = sb.std_cmd(&fake.server.uri());
    cmd.env("BROWSER", format!("touch {}", marker.display()))
        .args(["login", "--no-browser"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let errors = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(errors).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let auth_url = loop {
        let line = rx.recv_timeout(Duration::from_secs(20)).expect("a consent URL");
        seen.push(line.clone());
        if line.contains("/o/oauth2/auth?") {
            break line.trim().to_string();
        }
    };
    // The browser "cannot reach" the listener: the user copies the address.
    let callback = consent(&auth_url).await;
    writeln!(stdin, "not the address").unwrap();
    writeln!(stdin, "{callback}").unwrap();
    stdin.flush().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    let err = seen.join("\n");
    assert!(status.success(), "{err}");
    assert!(err.contains("That is not the address"), "{err}");
    assert!(err.ends_with("Logged in."), "{err}");
    assert_eq!(stored(&sb)["refresh_token"], REFRESH);
    assert!(!marker.exists(), "--no-browser must not open a browser");
    for s in secrets() {
        assert!(!err.contains(&s), "{err}");
    }
}

#[tokio::test]
async fn pasted_redirect_with_a_forged_state_is_refused() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.args(["login", "--no-browser"])
        .write_stdin("http://127.0.0.1:1/?state=forged&code=4/forged\n");
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert!(stderr(&out).contains("state mismatch"));
    assert_eq!(fake.exchanges(), 0);
    assert!(!sb.config_dir().join("credentials.json").exists());
}

#[tokio::test]
async fn login_gives_up_after_the_timeout() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let browser = recording_browser(sb.dir.path());
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("BROWSER", &browser).args(["login", "--timeout", "1"]);
    let started = std::time::Instant::now();
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("within 1 s"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn login_without_client_credentials_explains_the_setup() {
    let sb = Sandbox::new();
    let out = run({
        let mut c = sb.cmd("http://127.0.0.1:9");
        c.arg("login");
        c
    })
    .await;
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    for step in [
        "Books API",
        "Create credentials > OAuth client ID",
        "Desktop app",
        "gbooks login --client-secret",
    ] {
        assert!(err.contains(step), "{step}: {err}");
    }
}

#[tokio::test]
async fn auth_token_refreshes_an_expiring_token() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    // Expires in 30 s: within the 60 s margin.
    write_credentials(&sb, STALE, 30, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd(&fake.server.uri());
        c.args(["-vv", "auth", "token"]);
        c
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    assert_no_secrets(&out, Some(&refreshed(1)));
    assert_eq!(fake.refreshes(), 1);
    let creds = stored(&sb);
    assert_eq!(creds["access_token"], refreshed(1).as_str());
    assert_eq!(creds["refresh_token"], REFRESH, "the refresh token is kept");
    assert_eq!(mode(&sb.config_dir().join("credentials.json")), 0o600);

    // Fresh now: the next run does not refresh.
    let out = run({
        let mut c = sb.cmd(&fake.server.uri());
        c.args(["auth", "token"]);
        c
    })
    .await;
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
    write_credentials(&sb, STALE, 3000, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd(&api(&books));
        c.args(["-vv", "search", "dune"]);
        c
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("Dune"));
    assert_no_secrets(&out, None);
    assert_eq!(fake.refreshes(), 1);
    assert_eq!(stored(&sb)["access_token"], refreshed(1).as_str());
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
    write_credentials(&sb, STALE, 3000, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd(&api(&books));
        c.args(["search", "dune"]);
        c
    })
    .await;
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
    write_credentials(&sb, STALE, -10, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd(&fake.server.uri());
        c.args(["-v", "auth", "token"]);
        c
    })
    .await;
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
    write_credentials(&sb, STALE, -100, Some(REFRESH));
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
    let creds = stored(&sb);
    assert_eq!(creds["access_token"], refreshed(1).as_str());
    assert_eq!(creds["refresh_token"], REFRESH);
}

#[tokio::test]
async fn corrupted_store_exits_4_and_never_panics() {
    let books = MockServer::start().await;
    mount_json(&books, "/books/v1/volumes", volumes(vec![volume("v1", "Dune")])).await;
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    for garbage in [&b"{\"access_token\": \"ya29.trunc"[..], b"\xff\x00\x01", b"[]"] {
        std::fs::write(sb.config_dir().join("credentials.json"), garbage).unwrap();
        for args in [&["auth", "status"][..], &["auth", "token"], &["search", "dune"]] {
            let out = run({
                let mut c = sb.cmd(&api(&books));
                c.args(args);
                c
            })
            .await;
            assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
            assert_eq!(
                stderr(&out),
                "gbooks: error: stored credentials are unreadable; run gbooks login\n"
            );
        }
    }
    // A public call with an API key never touches the store.
    let out = run({
        let mut c = sb.cmd(&api(&books));
        c.args(["search", "dune", "--api-key", "AIzaKEY"]);
        c
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    // And logout clears the mess.
    let out = run({
        let mut c = sb.cmd(&api(&books));
        c.arg("logout");
        c
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!sb.config_dir().join("credentials.json").exists());
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
    write_credentials(&sb, ACCESS, 3000, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd("http://127.0.0.1:9");
        c.env("GBOOKS_REVOKE_URL", format!("{}/revoke", revoke.uri()))
            .args(["-vv", "logout"]);
        c
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("Logged out."));
    assert!(!stderr(&out).contains("warning"));
    assert!(!sb.config_dir().join("credentials.json").exists());
    assert_no_secrets(&out, None);
    // Logged out already: still fine.
    let out = run({
        let mut c = sb.cmd("http://127.0.0.1:9");
        c.arg("logout");
        c
    })
    .await;
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
        write_credentials(&sb, ACCESS, 3000, Some(REFRESH));
        let out = run({
            let mut c = sb.cmd("http://127.0.0.1:9");
            c.env("GBOOKS_REVOKE_URL", &url).arg("logout");
            c
        })
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("warning: could not revoke the token"), "{err}");
        assert!(err.contains("Logged out."), "{err}");
        assert!(!sb.config_dir().join("credentials.json").exists());
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
    let out = run(run_status(false)).await;
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(stderr(&out), "gbooks: error: not logged in; run gbooks login\n");
    let out = run(run_status(true)).await;
    assert_eq!(out.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["logged_in"], false);

    write_credentials(&sb, ACCESS, 1800, Some(REFRESH));
    let out = run(run_status(false)).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let path = sb.config_dir().join("credentials.json");
    assert!(text.contains(&format!("file ({})", path.display())), "{text}");
    assert!(text.contains(BOOKS_SCOPE) && text.contains("in 30 min"), "{text}");
    assert_no_secrets(&out, None);

    let out = run(run_status(true)).await;
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
    let out = run({
        let mut c = sb.cmd("http://127.0.0.1:9");
        c.args(["auth", "token"]);
        c
    })
    .await;
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert_eq!(stderr(&out), "gbooks: error: not logged in; run gbooks login\n");
    write_credentials(&sb, ACCESS, 3000, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd("http://127.0.0.1:9");
        c.args(["-vv", "auth", "token"]);
        c
    })
    .await;
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
    assert!(run(search(&[])).await.status.success());
    let (n, auth) = sent(0).await;
    assert!(auth.iter().all(Option::is_none), "{auth:?}");
    // Logged in, no key: the bearer token.
    write_credentials(&sb, ACCESS, 3000, Some(REFRESH));
    assert!(run(search(&[])).await.status.success());
    let (m, auth) = sent(n).await;
    let bearer = format!("Bearer {ACCESS}");
    assert!(
        auth.iter().all(|a| a.as_deref() == Some(bearer.as_str())),
        "{auth:?}"
    );
    // A key: the key, never the token.
    assert!(run(search(&["--api-key", "AIzaKEY"])).await.status.success());
    let (_, auth) = sent(m).await;
    assert!(auth.iter().all(Option::is_none), "{auth:?}");
    assert_eq!(param(&queries(&books).await[m], "key"), Some("AIzaKEY"));
}

#[tokio::test]
async fn private_calls_without_a_login_send_nothing() {
    let books = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&books)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let http = gbooks::books::Http::new(Duration::from_secs(5)).unwrap();
    let session = gbooks::auth::Session::new(
        gbooks::auth::StoreKind::File,
        dir.path().to_path_buf(),
        None,
        http.clone(),
    );
    let client = gbooks::books::Client::new(http, url::Url::parse(&api(&books)).unwrap(), None, None)
        .with_tokens(std::sync::Arc::new(session));
    let err = client.shelves(None).await.unwrap_err();
    // The library says what is wrong; the binary adds what to do (and exit 4).
    assert_eq!(err.to_string(), "not logged in");
    assert!(matches!(err, gbooks::books::Error::NotLoggedIn), "{err:?}");
}

#[tokio::test]
async fn auto_store_without_a_keyring_warns_and_uses_the_file() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let browser = curl_browser(sb.dir.path());
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("BROWSER", &browser)
        .env("GBOOKS_TOKEN_STORE", "auto")
        // A session bus that is not there.
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/gbooks-test-bus",
        )
        .arg("login");
    let out = run(cmd).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let path = sb.config_dir().join("credentials.json");
    assert!(
        stderr(&out).contains("warning: no keyring is available")
            && stderr(&out).contains(&path.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert_eq!(stored(&sb)["access_token"], ACCESS);
    let mut status = sb.cmd(&fake.server.uri());
    status
        .env("GBOOKS_TOKEN_STORE", "auto")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/gbooks-test-bus",
        )
        .args(["auth", "status", "--json"]);
    let out = run(status).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["store"], "file");
}

#[tokio::test]
async fn help_and_version_touch_nothing() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    std::fs::write(sb.config_dir().join("credentials.json"), "garbage").unwrap();
    for args in [
        &["--help"][..],
        &["--version"],
        &["login", "--help"],
        &["auth", "status", "--help"],
    ] {
        let out = run({
            let mut c = sb.cmd("http://127.0.0.1:9");
            c.args(args);
            c
        })
        .await;
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn port_flag_fixes_the_redirect_uri() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = login_with_curl(&sb, &fake, &["--port", &port.to_string()]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let urls = std::fs::read_to_string(sb.dir.path().join("browser-urls")).unwrap();
    let url = url::Url::parse(urls.trim()).unwrap();
    let redirect = url
        .query_pairs()
        .find(|(k, _)| k == "redirect_uri")
        .unwrap()
        .1
        .into_owned();
    assert_eq!(redirect, format!("http://127.0.0.1:{port}/"));
}

#[tokio::test]
async fn client_file_from_the_environment_serves_login_and_refresh() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    let elsewhere = sb.dir.path().join("elsewhere.json");
    std::fs::write(&elsewhere, fake.client_secret_json()).unwrap();
    write_credentials(&sb, STALE, -5, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd(&fake.server.uri());
        c.env("GBOOKS_CLIENT_SECRET_FILE", &elsewhere)
            .args(["auth", "token"]);
        c
    })
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), format!("{}\n", refreshed(1)));
    // Not copied: only --client-secret copies.
    assert!(!sb.config_dir().join("client_secret.json").exists());
    // Without any client file, a refresh cannot happen and says why.
    write_credentials(&sb, STALE, -5, Some(REFRESH));
    let out = run({
        let mut c = sb.cmd(&fake.server.uri());
        c.args(["auth", "token"]);
        c
    })
    .await;
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("no client_secret.json"), "{}", stderr(&out));
    assert_no_secrets(&out, None);
}
