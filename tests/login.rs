//! `gbooks login` against the fake OAuth server, with the test playing the
//! browser: PKCE, state, the loopback listener, paste mode, the timeout,
//! and where the tokens end up.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;

use crate::support::oauth::*;
use crate::support::*;

fn query(url: &str) -> HashMap<String, String> {
    url::Url::parse(url.trim())
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[tokio::test]
async fn login_end_to_end_stores_tokens_privately() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    let client_file = sb.dir.path().join("downloaded.json");
    std::fs::write(&client_file, fake.client_secret_json()).unwrap();
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.args(["-v", "login", "--client-secret"]).arg(&client_file);
    let login = login_in_browser(cmd, sb.dir.path()).await;
    let out = &login.out;
    let err = stderr(out);
    assert!(out.status.success(), "{err}\n{:?}", fake.complaints());
    assert!(err.trim_end().ends_with("Logged in."), "{err}");
    assert!(out.stdout.is_empty());
    assert_no_secrets(out, None);
    assert_eq!(fake.exchanges(), 1, "{:?}", fake.complaints());
    assert!(fake.complaints().is_empty(), "{:?}", fake.complaints());

    // The consent URL went to stderr and the browser, with PKCE, offline
    // access and consent.
    let url_line = err.lines().find(|l| l.contains("/o/oauth2/auth?")).unwrap();
    assert_eq!(url_line.trim(), login.url);
    let q = query(url_line);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["access_type"], "offline");
    assert_eq!(q["prompt"], "consent");
    assert_eq!(q["scope"], BOOKS_SCOPE);
    assert!(q["redirect_uri"].starts_with("http://127.0.0.1:"));
    assert!(q["state"].len() >= 22, "at least 128 bits");

    assert!(login.page.contains("Logged in"), "{}", login.page);
    let creds = sb.stored_credentials();
    assert_eq!(creds["access_token"], ACCESS);
    assert_eq!(creds["refresh_token"], REFRESH);
    assert_eq!(creds["client_id"], CLIENT_ID);
    assert_eq!(creds["scopes"][0], BOOKS_SCOPE);
    let expires = creds["expires_at"].as_i64().unwrap();
    assert!((now() + 3500..=now() + 3600).contains(&expires), "{expires}");
    assert_eq!(mode(&sb.config_dir()), 0o700);
    assert_eq!(mode(&sb.credentials_file()), 0o600);
    // The client file was copied, privately, so that later runs need no flag.
    assert_eq!(mode(&sb.config_dir().join("client_secret.json")), 0o600);

    // A second login (no flag) finds the copy and uses a fresh verifier.
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.arg("login");
    let again = login_in_browser(cmd, sb.dir.path()).await;
    assert!(again.out.status.success(), "{}", stderr(&again.out));
    assert_eq!(fake.exchanges(), 2);
    let q2 = query(&again.url);
    assert_ne!(q["code_challenge"], q2["code_challenge"]);
    assert_ne!(q["state"], q2["state"]);
}

/// Consent the fake refuses or forges: exit 4, what went wrong on stderr
/// and in the browser, no code exchanged, nothing stored.
#[tokio::test]
async fn a_refused_or_forged_consent_stores_nothing() {
    let cases = [
        (
            "forged state",
            Consent::ForgeState,
            // Not the answer: the listener says so and waits for the real one.
            "no answer from the browser within 3 s",
            "another login attempt",
        ),
        (
            "denied consent",
            Consent::Deny,
            "gbooks: error: access denied",
            "access denied",
        ),
    ];
    check_cases(
        cases.map(|(name, consent, said, page)| (name.to_string(), (consent, said, page))),
        |(consent, said, page)| async move {
            let fake = OAuthFake::start().await;
            fake.set(|s| s.consent = consent);
            let sb = Sandbox::new();
            fake.install_client_secret(&sb);
            let mut cmd = sb.cmd(&fake.server.uri());
            cmd.args(["-v", "login", "--timeout", "3"]);
            let login = login_in_browser(cmd, sb.dir.path()).await;
            let out = &login.out;
            assert_eq!(out.status.code(), Some(4), "{}", stderr(out));
            assert!(stderr(out).contains(said), "{}", stderr(out));
            assert_eq!(fake.exchanges(), 0, "the code must not be exchanged");
            assert!(!sb.credentials_file().exists());
            assert!(login.page.contains(page), "{}", login.page);
            assert_no_secrets(out, None);
        },
    )
    .await;
}

#[tokio::test]
async fn stray_requests_get_404_and_the_login_goes_on() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("BROWSER", recording_browser(sb.dir.path())).arg("login");
    let gbooks = tokio::task::spawn_blocking(move || cmd.output().unwrap());

    let auth_url = wait_for_url(sb.dir.path(), &gbooks)
        .await
        .expect("a browser opened");
    let callback = consent(&auth_url).await;
    let listener = url::Url::parse(&callback).unwrap();
    let base = format!("http://127.0.0.1:{}", listener.port().unwrap());
    let http = reqwest::Client::new();
    for stray in ["/favicon.ico", "/", "/other?code=x"] {
        let r = http.get(format!("{base}{stray}")).send().await.unwrap();
        assert_eq!(r.status(), 404, "{stray}");
    }
    // A forged answer, or a stale tab of an earlier attempt: 400, and the
    // listener waits on for the real one.
    let forged = http
        .get(format!("{base}/?state=stale-tab-0000000000000&code=4/old"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let text = forged.text().await.unwrap();
    assert!(text.contains("another login attempt"), "{text}");
    let page = http.get(&callback).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    assert!(page.text().await.unwrap().contains("Logged in"));
    let out = gbooks.await.unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.stored_credentials()["access_token"], ACCESS);
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
    // One from an earlier attempt: said, and the wait goes on.
    let forged = callback.replace("state=", "state=x");
    writeln!(stdin, "{forged}").unwrap();
    // Copied with the wrapping of a chat tool or a terminal.
    writeln!(stdin, "  \"<{callback}>\"  ").unwrap();
    stdin.flush().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    reader.join().unwrap();
    seen.extend(rx.try_iter());
    let err = seen.join("\n");
    assert!(status.success(), "{err}");
    assert!(err.contains("That is not the address"), "{err}");
    assert!(
        err.contains("That address is from another login attempt"),
        "{err}"
    );
    assert!(err.ends_with("Logged in."), "{err}");
    assert_eq!(sb.stored_credentials()["refresh_token"], REFRESH);
    assert!(!marker.exists(), "--no-browser must not open a browser");
    for s in secret_forms() {
        assert!(!err.contains(&s), "{err}");
    }
}

#[tokio::test]
async fn pasted_redirect_with_a_forged_state_is_refused() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.args(["login", "--no-browser", "--timeout", "2"])
        .write_stdin("http://127.0.0.1:1/?state=forged&code=4/forged\n");
    let out = run(&mut cmd).await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    // Said, and then the wait goes on until --timeout.
    assert!(
        stderr(&out).contains("another login attempt (its state does not match)"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("gbooks: error: no answer from the browser within 2 s"));
    assert_eq!(fake.exchanges(), 0);
    assert!(!sb.credentials_file().exists());
}

#[tokio::test]
async fn login_gives_up_after_the_timeout() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("BROWSER", recording_browser(sb.dir.path()))
        .args(["login", "--timeout", "1"]);
    let started = std::time::Instant::now();
    let out = run(&mut cmd).await;
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).contains("within 1 s"), "{}", stderr(&out));
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn login_without_client_credentials_explains_the_setup() {
    let sb = Sandbox::new();
    let out = sb.cmd("http://127.0.0.1:9").arg("login").output().unwrap();
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
async fn port_flag_fixes_the_redirect_uri() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let port = closed_port();
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.args(["-v", "login", "--port", &port.to_string()]);
    let login = login_in_browser(cmd, sb.dir.path()).await;
    assert!(login.out.status.success(), "{}", stderr(&login.out));
    assert_eq!(
        query(&login.url)["redirect_uri"],
        format!("http://127.0.0.1:{port}/")
    );
}

#[tokio::test]
async fn auto_store_without_a_keyring_warns_and_uses_the_file() {
    let fake = OAuthFake::start().await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    let no_bus = "unix:path=/nonexistent/gbooks-test-bus";
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("GBOOKS_TOKEN_STORE", "auto")
        // A session bus that is not there.
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .arg("login");
    let out = login_in_browser(cmd, sb.dir.path()).await.out;
    assert!(out.status.success(), "{}", stderr(&out));
    let path = sb.credentials_file();
    assert!(
        stderr(&out).contains("warning: no keyring is available")
            && stderr(&out).contains(&path.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert_eq!(sb.stored_credentials()["access_token"], ACCESS);
    let mut status = sb.cmd(&fake.server.uri());
    status
        .env("GBOOKS_TOKEN_STORE", "auto")
        .env("DBUS_SESSION_BUS_ADDRESS", no_bus)
        .args(["auth", "status", "--json"]);
    let out = run(&mut status).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["store"], "file");
}
