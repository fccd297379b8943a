//! Trust under hostile servers, races and mistakes: bounded bodies,
//! credentials only over TLS, honest failure lines, files that keep their
//! owner's modes, a broken login that never breaks public commands, and no
//! panic on extreme values.

use std::io::Write as _;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::oauth::{OAuthFake, REFRESH, STALE};
use crate::support::*;

/// A server that answers every request with `head` and then whatever
/// `body` writes, and counts the requests.
struct RawServer {
    port: u16,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl RawServer {
    async fn start<F, Fut>(head: &'static str, body: F) -> RawServer
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = requests.clone();
        let body = std::sync::Arc::new(body);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let count = count.clone();
                let body = body.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let mut seen = Vec::new();
                    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => seen.extend_from_slice(&buf[..n]),
                        }
                    }
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if stream.write_all(head.as_bytes()).await.is_ok() {
                        body(stream).await;
                    }
                });
            }
        });
        RawServer { port, requests }
    }

    fn api(&self) -> String {
        format!("http://127.0.0.1:{}/books/v1", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// The user's shelves, as the API lists them.
async fn mount_shelves(api_server: &MockServer) {
    mount_json(
        api_server,
        "/books/v1/mylibrary/bookshelves",
        fixture_json("shelves_mine.json"),
    )
    .await;
}

/// A sandbox logged in at `fake` with an access token that has expired.
fn expired_login(fake: &OAuthFake) -> Sandbox {
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    sb.write_credentials(STALE, -10, Some(REFRESH));
    sb
}

/// Chunks of zeros, forever (until gbooks hangs up).
async fn endless(mut stream: tokio::net::TcpStream) {
    let chunk = vec![b'0'; 64 * 1024];
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n".to_vec(),
    ]
    .concat();
    while stream.write_all(&framed).await.is_ok() {}
}

const CHUNKED_200: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";

/// A 200 whose body never ends, and a gzip bomb that unpacks past the
/// limit: one line naming the limit, exit 1, and no second try.
#[tokio::test]
async fn a_body_past_32_mib_fails_once_with_one_line() {
    let server = RawServer::start(CHUNKED_200, endless).await;
    let sb = Sandbox::new();
    let out = run(sb.cmd(&server.api()).args(["--no-cache", "search", "dune"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        one_error_line(&out),
        "gbooks: error: response too large: over 32 MiB"
    );
    assert_eq!(server.requests(), 1, "never retried");

    // 40 MiB of zeros packed into about 40 KiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&vec![b' '; 40 << 20]).unwrap();
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let bomb = std::sync::Arc::new(bomb);
    let head: &'static str = Box::leak(
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            bomb.len()
        )
        .into_boxed_str(),
    );
    let server = RawServer::start(head, move |mut s| {
        let bomb = bomb.clone();
        async move {
            let _ = s.write_all(&bomb).await;
        }
    })
    .await;
    let out = run(sb.cmd(&server.api()).args(["--no-cache", "show", "v1"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        one_error_line(&out),
        "gbooks: error: response too large: over 32 MiB"
    );
    assert_eq!(server.requests(), 1);
}

/// The token endpoint and an error body are held to the limits too.
#[tokio::test]
async fn the_token_endpoint_and_error_bodies_are_bounded() {
    let token = RawServer::start(CHUNKED_200, endless).await;
    let sb = Sandbox::new();
    sb.install_client(
        "http://127.0.0.1:9/auth",
        &format!("http://127.0.0.1:{}/token", token.port),
    );
    sb.write_credentials(STALE, -10, Some(REFRESH));
    let out = run(sb.cmd(NOWHERE).args(["auth", "token"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        one_error_line(&out).contains("response too large: over 32 MiB"),
        "{}",
        stderr(&out)
    );

    // An error whose body never ends: its start is enough for the line.
    let sb = Sandbox::new();
    let error = RawServer::start(
        "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        endless,
    )
    .await;
    let started = Instant::now();
    let out = run(sb.cmd(&error.api()).args(["--no-cache", "show", "v1"])).await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(one_error_line(&out).starts_with("gbooks: error: 404 Not Found: 0000"));
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// With an API key or a login, a plain-http API base, token endpoint or
/// revocation URL to another machine gets nothing: exit 2, the setting named.
#[tokio::test]
async fn credentials_never_travel_over_plain_http_to_another_host() {
    // Everything to another host goes through this proxy, which records it.
    let proxy = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![])))
        .mount(&proxy)
        .await;
    let sb = Sandbox::new();
    let remote = "http://books.example.com/books/v1";
    let out =
        run(sb
            .cmd(remote)
            .env("HTTP_PROXY", proxy.uri())
            .args(["search", "dune", "--api-key", API_KEY]))
        .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let line = one_error_line(&out);
    assert!(
        line.contains("plain http://")
            && line.contains("books.example.com")
            && line.contains("GBOOKS_API_BASE"),
        "{line}"
    );

    // A login's token goes no better.
    let fake = OAuthFake::start().await;
    fake.install_client_secret(&sb);
    sb.write_credentials(STALE, 3600, Some(REFRESH));
    let out = run(sb.cmd(remote).env("HTTP_PROXY", proxy.uri()).arg("shelves")).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("GBOOKS_API_BASE"));

    // Public data without a key goes, anonymously.
    let out = run(sb
        .cmd(remote)
        .env("HTTP_PROXY", proxy.uri())
        .args(["search", "dune"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let sent = proxy.received_requests().await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(authorization(&sent[0]).is_none(), "{:?}", sent[0].headers);

    // The token endpoint named in the client file.
    sb.install_client("http://127.0.0.1:9/auth", "http://oauth.example.com/token");
    sb.write_credentials(STALE, -10, Some(REFRESH));
    let out = run(sb
        .cmd(NOWHERE)
        .env("HTTP_PROXY", proxy.uri())
        .args(["auth", "token"]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("token_uri in client_secret.json"));

    // And revocation.
    let out = run(sb
        .cmd(NOWHERE)
        .env("HTTP_PROXY", proxy.uri())
        .env("GBOOKS_REVOKE_URL", "http://oauth.example.com/revoke")
        .arg("logout"))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("GBOOKS_REVOKE_URL"));
    assert_eq!(
        proxy.received_requests().await.unwrap().len(),
        1,
        "nothing more was sent"
    );
}

/// After retries, the line says how many and how long; a server that does
/// not speak TLS is final at once; a refusing proxy is named; a proxy
/// variable that does not parse is an error.
#[tokio::test]
async fn failures_say_what_happened() {
    let silent = RawServer::start("", |s| async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        drop(s);
    })
    .await;
    let sb = Sandbox::new();
    let out = run(sb.cmd(&silent.api()).args(["--timeout", "0.5", "show", "v1"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let line = one_error_line(&out);
    let pattern = regex_lite_match(&line);
    assert!(pattern, "{line}");

    let plain = MockServer::start().await;
    let https = format!("https://127.0.0.1:{}/books/v1", plain.address().port());
    let out = run(sb.cmd(&https).args(["-v", "show", "v1"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().filter(|l| l.starts_with("GET ")).count(), 1, "{err}");
    assert!(err.trim_end().ends_with("use an http:// URL"), "{err}");

    let out = run(sb
        .cmd("https://books.example.com/books/v1")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .args(["show", "v1"]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        one_error_line(&out),
        "gbooks: error: cannot reach the proxy 127.0.0.1:9 (HTTPS_PROXY)"
    );

    for var in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        let out = run(sb.cmd(NOWHERE).env(var, "http://[::1").args(["show", "v1"])).await;
        assert_eq!(out.status.code(), Some(2), "{var}: {}", stderr(&out));
        assert!(
            one_error_line(&out).contains(&format!("{var} is not a proxy URL")),
            "{}",
            stderr(&out)
        );
    }
}

/// `gbooks: error: 127.0.0.1: no answer after 4 attempts over N s (--timeout 0.5 s each)`.
fn regex_lite_match(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("gbooks: error: 127.0.0.1: no answer after 4 attempts over ") else {
        return false;
    };
    let Some(secs) = rest.strip_suffix(" s (--timeout 0.5 s each)") else {
        return false;
    };
    secs.parse::<f64>().is_ok_and(|s| (2.0..15.0).contains(&s))
}

/// Windows-1252 C1 characters show as what they stand for in terminal
/// views; JSON keeps them. A description of a million `&` is linear work.
#[tokio::test]
async fn api_text_is_decoded_in_linear_time_and_c1_is_what_was_meant() {
    let server = MockServer::start().await;
    let mut detail = fixture_json("volume_detail.json");
    detail["id"] = "v1".into();
    detail["volumeInfo"]["title"] = "Dune \u{97} the \u{93}novel\u{94}".into();
    detail["volumeInfo"]["description"] =
        format!("A&mdash;B &rsquo; &hellip; {}", "&".repeat(1_000_000)).into();
    mount_json(&server, "/books/v1/volumes/v1", detail).await;
    let sb = Sandbox::new();
    let started = Instant::now();
    let out = run(sb.cmd(&api(&server)).args(["show", "v1"])).await;
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Dune — the “novel”"),
        "{}",
        &text[..200.min(text.len())]
    );
    assert!(text.contains("A—B ’ …"));
    // Generous for a debug build on a busy machine; the release build's
    // figure is in docs/hardening.md.
    assert!(took < Duration::from_secs(10), "{took:?}");
    let out = run(sb.cmd(&api(&server)).args(["show", "v1", "--json"])).await;
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["volumeInfo"]["title"], "Dune \u{97} the \u{93}novel\u{94}");
}

/// Files: a config dir that exists keeps its mode (also through a
/// symlink); the cache dir gbooks makes is 0700 and cache.db 0600; lock
/// files are 0600 and never followed through a symlink; a temp file left by
/// an interrupted write goes with the next write and with logout; loose
/// credentials are tightened with a warning.
#[tokio::test]
async fn files_get_modes_only_when_gbooks_makes_them() {
    use std::os::unix::fs::PermissionsExt;
    let fake = OAuthFake::start().await;
    let api_server = MockServer::start().await;
    mount_json(&api_server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    mount_shelves(&api_server).await;

    let sb = Sandbox::new();
    let shared = sb.dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
    let link = sb.dir.path().join("link");
    std::os::unix::fs::symlink(&shared, &link).unwrap();
    for dir in [&shared, &link] {
        std::fs::write(dir.join("client_secret.json"), fake.client_secret_json()).unwrap();
        let creds = serde_json::json!({
            "access_token": STALE, "expires_at": now() - 10, "refresh_token": REFRESH,
            "scopes": [crate::support::oauth::BOOKS_SCOPE], "client_id": crate::support::oauth::CLIENT_ID,
        });
        std::fs::write(dir.join("credentials.json"), creds.to_string()).unwrap();
        std::fs::set_permissions(
            dir.join("credentials.json"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        std::fs::write(dir.join(".credentials.json.left.tmp"), "half").unwrap();
        let out = run(sb
            .cmd(&api(&api_server))
            .env("GBOOKS_CONFIG_DIR", dir)
            .arg("shelves"))
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let warned: Vec<_> = stderr(&out)
            .lines()
            .filter(|l| l.contains("credentials.json was readable by others"))
            .map(str::to_string)
            .collect();
        assert_eq!(warned.len(), 1, "{}", stderr(&out));
        assert_eq!(mode(&shared), 0o755, "an existing dir keeps its mode");
        assert_eq!(mode(&shared.join("credentials.json")), 0o600);
        assert_eq!(mode(&shared.join(".refresh.lock")), 0o600);
        assert!(
            !shared.join(".credentials.json.left.tmp").exists(),
            "the next write removes it"
        );
        std::fs::write(dir.join(".credentials.json.left.tmp"), "half").unwrap();
        let out = run(sb.cmd(NOWHERE).env("GBOOKS_CONFIG_DIR", dir).arg("logout")).await;
        assert!(stderr(&out).contains("Logged out."), "{}", stderr(&out));
        assert!(
            !shared.join(".credentials.json.left.tmp").exists(),
            "logout removes it"
        );
    }

    // The cache dir gbooks makes, and the database in it.
    let out = run(sb.cmd(&api(&api_server)).args(["search", "dune"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(mode(&sb.cache_dir()), 0o700);
    assert_eq!(mode(&sb.cache_dir().join("cache.db")), 0o600);

    // A lock file planted as a symlink is not followed.
    let sb = expired_login(&fake);
    let target = sb.dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&target, sb.config_dir().join(".refresh.lock")).unwrap();
    let out = run(sb.cmd(&api(&api_server)).arg("shelves")).await;
    assert_ne!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!target.exists(), "the symlink was followed");
}

/// A refreshed token that cannot be saved still does the work: exit 0,
/// one warning.
#[tokio::test]
async fn a_refreshed_token_that_cannot_be_saved_is_used_with_one_warning() {
    let fake = OAuthFake::start().await;
    let api_server = MockServer::start().await;
    mount_shelves(&api_server).await;
    let sb = expired_login(&fake);
    // The write lock cannot be opened: as a full disk, the save fails.
    std::fs::create_dir(sb.config_dir().join(".credentials.lock")).unwrap();
    let out = run(sb.cmd(&api(&api_server)).arg("shelves")).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let warnings: Vec<_> = stderr(&out)
        .lines()
        .filter(|l| l.starts_with("gbooks: warning:"))
        .map(String::from)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("could not save the refreshed login"),
        "{warnings:?}"
    );
    assert_eq!(fake.refreshes(), 1);
}

/// Without an API key, an expired, revoked or unreadable login makes public
/// commands go on anonymously, with one warning.
#[tokio::test]
async fn a_broken_login_never_breaks_public_commands() {
    let fake = OAuthFake::start().await;
    fake.set(|s| s.invalid_grant = true);
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    mount_json(
        &server,
        "/books/v1/volumes/v1",
        fixture_json("volume_detail.json"),
    )
    .await;
    let warning = "gbooks: warning: your login has expired; going on without it — run gbooks login";
    for (what, args) in [
        ("search", &["--no-cache", "search", "dune"][..]),
        ("show", &["--no-cache", "show", "v1"]),
    ] {
        for broken in ["expired", "unreadable"] {
            let sb = Sandbox::new();
            fake.install_client_secret(&sb);
            match broken {
                "expired" => sb.write_credentials(STALE, -10, Some(REFRESH)),
                _ => std::fs::write(sb.credentials_file(), "{not json").unwrap(),
            }
            let out = run(sb.cmd(&api(&server)).args(args)).await;
            assert_eq!(out.status.code(), Some(0), "{what} {broken}: {}", stderr(&out));
            let err = stderr(&out);
            assert_eq!(
                err.lines().filter(|l| *l == warning).count(),
                1,
                "{what} {broken}: {err}"
            );
        }
    }
    let sent = server.received_requests().await.unwrap();
    assert!(sent.iter().all(|r| authorization(r).is_none()));
}

/// No panic on extreme values: an expiry of u64::MAX in `auth status` and
/// a cache entry stored in the year 10000.
#[tokio::test]
async fn extreme_values_never_panic() {
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    let creds = format!(
        r#"{{"access_token":"{STALE}","expires_at":{},"refresh_token":"{REFRESH}","scopes":["{}"],"client_id":"{}"}}"#,
        u64::MAX,
        crate::support::oauth::BOOKS_SCOPE,
        crate::support::oauth::CLIENT_ID
    );
    std::fs::write(sb.credentials_file(), creds).unwrap();
    for args in [&["auth", "status"][..], &["auth", "status", "--json"]] {
        let out = run(sb.cmd(NOWHERE).args(args)).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }

    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/v1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_json("volume_detail.json")))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = run(sb.cmd(&api(&server)).args(["show", "v1"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let db = rusqlite::Connection::open(sb.cache_dir().join("cache.db")).unwrap();
    let year_10000_ms: i64 = 253_402_300_800_000;
    let changed = db
        .execute(
            "UPDATE responses SET stored_at = ?1, used_at = ?1",
            [year_10000_ms],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    for args in [&["cache", "stats"][..], &["cache", "stats", "--json"]] {
        let out = run(sb.cmd(NOWHERE).args(args)).await;
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let out = run(sb.cmd(&api(&server)).args(["show", "v1"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "stale: asked again"
    );
}

/// A `$BROWSER` that fails at once, as on a machine with no display.
fn failing_browser(dir: &std::path::Path) -> String {
    let script = dir.join("failing-browser");
    std::fs::write(
        &script,
        "echo 'no display here' >&2\necho 'second line' >&2\nexit 3\n",
    )
    .unwrap();
    format!("sh {}", script.display())
}

/// The browser's own complaint is shown, and the user is told to open the
/// URL; `open` prints the URL even with -q; `login` keeps waiting.
#[tokio::test]
async fn a_browser_that_fails_at_once_is_reported() {
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(NOWHERE)
        .env("BROWSER", failing_browser(sb.dir.path()))
        .args(["-q", "open", "AbyoDwAAQBAJ"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no display here") && !err.contains("second line"),
        "{err}"
    );
    assert!(
        err.contains("https://books.google.com/books?id=AbyoDwAAQBAJ"),
        "{err}"
    );

    let fake = OAuthFake::start().await;
    fake.install_client_secret(&sb);
    let out = run(sb
        .cmd(&fake.server.uri())
        .env("BROWSER", failing_browser(sb.dir.path()))
        .args(["login", "--timeout", "2"]))
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("Could not open a browser (sh: no display here); open the URL above yourself."),
        "{err}"
    );
    assert!(err.contains("no answer from the browser within 2 s"), "{err}");
}

/// When the new login cannot be stored, the browser tab and the terminal
/// say so, and the refresh token just issued is revoked.
#[tokio::test]
async fn a_login_that_cannot_be_stored_says_so_and_revokes() {
    let fake = OAuthFake::start().await;
    let revoke = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .and(wiremock::matchers::body_string_contains(
            "token=1%2F%2Flogin-refresh",
        ))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&revoke)
        .await;
    let sb = Sandbox::new();
    fake.install_client_secret(&sb);
    // Where the login would go, a directory: the write fails.
    std::fs::create_dir_all(sb.credentials_file()).unwrap();
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.env("GBOOKS_REVOKE_URL", format!("{}/revoke", revoke.uri()))
        .arg("login");
    let login = crate::support::oauth::login_in_browser(cmd, sb.dir.path()).await;
    assert_eq!(login.out.status.code(), Some(1), "{}", stderr(&login.out));
    assert!(login.page.contains("Login failed"), "{}", login.page);
    assert!(!login.page.contains("Logged in"), "{}", login.page);
    let err = stderr(&login.out);
    assert!(err.contains("the login worked but could not be stored"), "{err}");
    assert!(!err.contains("Logged in."), "{err}");
    assert_no_secrets(&login.out, None);
}

/// Logout and a refresh in another process: after "Logged out.", the
/// refresh never writes the login back. A new login is never overwritten
/// by a refresh of the old one.
#[tokio::test]
async fn login_logout_and_refresh_never_undo_each_other() {
    let fake = OAuthFake::start().await;
    fake.set(|s| s.refresh_delay = Duration::from_millis(1500));
    let api_server = MockServer::start().await;
    mount_shelves(&api_server).await;

    let sb = expired_login(&fake);
    let mut refreshing = sb.cmd(&api(&api_server));
    refreshing.arg("shelves");
    let refreshing = tokio::task::spawn_blocking(move || refreshing.output().unwrap());
    // The refresh is under way (the fake holds it).
    let started = Instant::now();
    while fake.state.lock().unwrap().refreshes == 0 {
        assert!(started.elapsed() < Duration::from_secs(20), "no refresh started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let out = run(sb.cmd(NOWHERE).arg("logout")).await;
    assert!(stderr(&out).contains("Logged out."), "{}", stderr(&out));
    let _ = refreshing.await.unwrap();
    assert!(
        !sb.credentials_file().exists(),
        "the refresh wrote the login back"
    );

    // A new login while the old one refreshes.
    let sb = expired_login(&fake);
    let before = fake.refreshes();
    let mut refreshing = sb.cmd(&api(&api_server));
    refreshing.arg("shelves");
    let refreshing = tokio::task::spawn_blocking(move || refreshing.output().unwrap());
    while fake.refreshes() == before {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut cmd = sb.cmd(&fake.server.uri());
    cmd.arg("login");
    let login = crate::support::oauth::login_in_browser(cmd, sb.dir.path()).await;
    assert!(login.out.status.success(), "{}", stderr(&login.out));
    let _ = refreshing.await.unwrap();
    assert_eq!(
        sb.stored_credentials()["access_token"],
        crate::support::oauth::ACCESS,
        "the old login's refresh overwrote the new one"
    );
}
