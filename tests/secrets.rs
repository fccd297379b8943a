//! Secrets never show: the API key, tokens and client secret stay out of
//! every output and log line, even when a server echoes them back.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::oauth::{OAuthFake, CLIENT_SECRET, REFRESH, STALE};
use crate::support::*;

/// A proxy or server that echoes the request URL (with the key) in its error.
#[tokio::test]
async fn an_echoed_api_key_is_redacted_from_errors() {
    let server = MockServer::start().await;
    let echo_text = |req: &wiremock::Request| {
        ResponseTemplate::new(404)
            .insert_header("content-type", "text/plain")
            .set_body_string(format!("Not Found: {}", req.url))
    };
    let echo_json = |req: &wiremock::Request| {
        ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": { "code": 400, "message": format!("Invalid value at {}", req.url), "status": "INVALID_ARGUMENT" }
        }))
    };
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/text"))
        .respond_with(echo_text)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/json"))
        .respond_with(echo_json)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for (id, code) in [("text", 3), ("json", 1)] {
        let out = sb
            .cmd(&api(&server))
            .args(["-vv", "show", id, "--api-key", API_KEY])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{id}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains(API_KEY), "{id}: the key leaks: {err}");
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with("gbooks: error: ") && last.contains("key=(redacted)"),
            "{id}: {last}"
        );
    }
}

#[test]
fn transport_errors_in_the_log_never_show_the_key() {
    let sb = Sandbox::new();
    let out = sb
        .cmd(&format!("http://127.0.0.1:{}/books/v1", closed_port()))
        .args(["-vv", "search", "x", "--api-key", API_KEY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().filter(|l| l.starts_with("GET ")).count(), 4, "{err}");
    assert!(!err.contains(API_KEY), "{err}");
    assert!(err.contains("key=REDACTED"), "{err}");
}

/// A token endpoint that echoes the request (refresh token, client secret)
/// in its error description.
#[tokio::test]
async fn an_echoed_refresh_token_or_client_secret_is_redacted() {
    let oauth = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .respond_with(|req: &wiremock::Request| {
            ResponseTemplate::new(400).set_body_json(serde_json::json!({
                "error": "invalid_request",
                "error_description": format!("cannot use {}", String::from_utf8_lossy(&req.body)),
            }))
        })
        .mount(&oauth)
        .await;
    let sb = Sandbox::new();
    sb.install_client("http://127.0.0.1:9/auth", &format!("{}/token", oauth.uri()));
    for args in [&["-vv", "auth", "token"][..], &["-vv", "shelves"]] {
        sb.write_credentials(STALE, -10, Some(REFRESH));
        let out = sb.cmd(NOWHERE).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with(
                "gbooks: error: the token endpoint refused the request: invalid_request: cannot use "
            ),
            "{args:?}: {last}"
        );
        assert!(last.contains("refresh_token=(redacted)"), "{args:?}: {last}");
        assert_no_secrets(&out, None);
    }
}

#[tokio::test]
async fn a_malformed_client_file_is_named_but_never_quoted() {
    let sb = Sandbox::new();
    let file = sb.dir.path().join("client.json");
    for text in [
        format!(r#"{{"installed": "{CLIENT_SECRET}"}}"#),
        format!(r#"{{"installed": {{"client_id": ["{CLIENT_SECRET}"]}}}}"#),
    ] {
        std::fs::write(&file, &text).unwrap();
        let out = sb
            .cmd(NOWHERE)
            .args(["-vv", "login", "--client-secret"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{text}: {}", stderr(&out));
        let line = one_error_line(&out);
        assert!(
            line.contains("invalid client credentials file") && line.contains("client.json"),
            "{text}: {line}"
        );
        assert_no_secrets(&out, None);
    }
    let out = sb
        .cmd(NOWHERE)
        .args(["login", "--client-secret", "/nonexistent/client.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("cannot read /nonexistent/client.json"));
}

/// A Books API that fails every call with an error that echoes the request:
/// its URL (with the key) and its Authorization header. Private calls get a
/// 401, which makes gbooks refresh and retry.
async fn echoing_api() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            let auth = authorization(req).unwrap_or_default();
            let status = if req.url.path().contains("/mylibrary/") { 401 } else { 403 };
            // Each credential whole, cut to 12 characters, and percent-encoded.
            let key = sent_key(req);
            let token = auth.strip_prefix("Bearer ").map(str::to_string);
            let mut parts = Vec::new();
            for secret in key.iter().chain(token.iter()) {
                let cut: String = secret.chars().take(12).collect();
                let encoded = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
                parts.push(format!("cut={cut}… encoded={encoded}"));
            }
            ResponseTemplate::new(status).set_body_json(serde_json::json!({
                "error": { "code": status, "message": format!("refused {} {} ({auth}) {}", req.method, req.url, parts.join(" ")), "errors": [{ "reason": "forbidden" }] }
            }))
        })
        .mount(&server)
        .await;
    server
}

/// A Books API that answers every call.
async fn working_api() -> MockServer {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    mount_json(
        &server,
        "/books/v1/volumes/v1",
        fixture_json("volume_detail.json"),
    )
    .await;
    mount_json(
        &server,
        "/books/v1/mylibrary/bookshelves",
        fixture_json("shelves_mine.json"),
    )
    .await;
    mount_json(
        &server,
        "/books/v1/users/u1/bookshelves",
        fixture_json("shelves_public.json"),
    )
    .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex("/bookshelves/[0-9]+/volumes$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![volume("v1", "Dune")])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    server
}

/// Known secrets (API key, stale, refreshed and refresh tokens, client
/// secret) never show in any output of any command, with -v or -vv, whether
/// the calls work or fail and even when the server echoes them.
#[tokio::test]
async fn no_secret_in_any_output_of_any_command() {
    let commands: &[&[&str]] = &[
        &["search", "dune"],
        &["search", "dune", "--json"],
        &["show", "v1"],
        &["show", "v1", "--format", "csv"],
        &["shelves"],
        &["shelves", "--json"],
        &["shelves", "--user", "u1"],
        &["shelves", "show", "2"],
        &["shelves", "show", "to read", "--format", "jsonl"],
        &["shelves", "show", "2", "--user", "u1"],
        &["shelves", "add", "2", "v1"],
        &["shelves", "remove", "to read", "v1"],
        &["shelves", "move", "2", "v1", "0"],
        &["shelves", "clear", "2", "--yes"],
        &["cache", "stats"],
        &["cache", "path", "--json"],
        &["cache", "clear"],
        &["auth", "status"],
        &["auth", "status", "--json"],
        &["open", "v1"],
        &["logout"],
    ];
    let fake = std::sync::Arc::new(OAuthFake::start().await);
    let servers = [
        (std::sync::Arc::new(echoing_api().await), false),
        (std::sync::Arc::new(working_api().await), true),
    ];
    let mut cases = Vec::new();
    for (server, works) in &servers {
        for key in [None, Some(API_KEY)] {
            for args in commands {
                let name = format!(
                    "{args:?} against the {} API {}",
                    if *works { "working" } else { "echoing" },
                    if key.is_some() {
                        "with a key"
                    } else {
                        "without a key"
                    }
                );
                cases.push((name, (server.clone(), *works, key, *args)));
            }
        }
    }
    check_cases(cases, |(server, works, key, args)| {
        let fake = fake.clone();
        async move {
            let sb = Sandbox::new();
            fake.install_client_secret(&sb);
            // Expired: every command that needs it refreshes first.
            sb.write_credentials(STALE, -10, Some(REFRESH));
            let mut cmd = sb.cmd(&api(&server));
            cmd.env("GBOOKS_REVOKE_URL", format!("{}/revoke", server.uri()))
                // -vv logs all that -v does, and more.
                .arg("-vv")
                .args(args);
            if let Some(key) = key {
                cmd.env("GBOOKS_API_KEY", key);
            }
            let out = run(&mut cmd).await;
            let code = out.status.code();
            assert!(matches!(code, Some(0..=4)), "{code:?}\n{}", stderr(&out));
            // Not a sweep of nothing: calls work or fail as the server says.
            let calls_api = ["search", "show", "shelves"].contains(&args[0]);
            assert_eq!(code == Some(0), works || !calls_api, "{}", stderr(&out));
            if code != Some(0) {
                let err = stderr(&out);
                let last = err.lines().last().unwrap_or_default();
                assert!(last.starts_with("gbooks: error: "), "{err}");
            }
            assert_no_secrets(&out, None);
            for secret in crate::support::secret_forms() {
                assert_no_part_of(&stderr(&out), &secret);
                assert_no_part_of(&stdout(&out), &secret);
            }
        }
    })
    .await;
}

/// No 8-character (or longer) prefix of `secret` in `text`.
fn assert_no_part_of(text: &str, secret: &str) {
    let encoded: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    for form in [secret, encoded.as_str()] {
        for end in 8..=form.len() {
            assert!(
                !text.contains(&form[..end]),
                "{:?} leaks in part:\n{text}",
                &form[..end]
            );
        }
    }
}

/// A 200 answer whose JSON has a field of the wrong type that quotes the
/// credential: the parse error must not quote it back.
#[tokio::test]
async fn a_credential_quoted_in_a_200_answer_never_shows() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|req: &wiremock::Request| {
            let echoed = sent_key(req).or_else(|| authorization(req)).unwrap_or_default();
            ResponseTemplate::new(200).set_body_json(serde_json::json!({ "items": format!("echo {echoed}") }))
        })
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&api(&server))
        .args(["-vv", "--no-cache", "search", "x", "--api-key", API_KEY]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .trim_end()
            .ends_with("expected a sequence at line 1 column 51"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("\"echo (redacted)\""), "{}", stderr(&out));
    assert_no_part_of(&stderr(&out), API_KEY);

    sb.write_credentials(STALE, 3600, Some(REFRESH));
    let out = run(sb.cmd(&api(&server)).args(["-vv", "shelves"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_no_part_of(&stderr(&out), STALE);
}

/// A plain-text error body is cut to 120 characters: a secret across the
/// cut must not leak in part.
#[tokio::test]
async fn a_secret_across_the_cut_of_an_error_body_never_leaks_in_part() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(|req: &wiremock::Request| {
            let key = sent_key(req).unwrap_or_default();
            ResponseTemplate::new(404)
                .insert_header("content-type", "text/plain")
                .set_body_string(format!("{} {key} and more text after it", "x".repeat(110)))
        })
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&api(&server))
        .args(["-vv", "show", "v1", "--api-key", API_KEY]))
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_no_part_of(&stderr(&out), API_KEY);
}

const URL_PASSWORD: &str = "gateway-PASSWORD-1234";

/// A password in GBOOKS_API_BASE or GBOOKS_REVOKE_URL never shows, and
/// never goes into a cache key.
#[tokio::test]
async fn url_passwords_stay_out_of_messages_logs_and_the_cache() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    Mock::given(method("POST"))
        .and(path("/revoke"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!("no: {URL_PASSWORD}")))
        .mount(&server)
        .await;
    let with_password = |u: &str| u.replacen("http://", &format!("http://me:{URL_PASSWORD}@"), 1);
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&with_password(&api(&server)))
        .args(["-vv", "search", "dune"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_part_of(&stderr(&out), URL_PASSWORD);
    // The database and its write-ahead log, which outlives the process.
    let mut db = std::fs::read(sb.cache_dir().join("cache.db")).unwrap();
    db.extend(std::fs::read(sb.cache_dir().join("cache.db-wal")).unwrap_or_default());
    let db = String::from_utf8_lossy(&db);
    assert!(db.contains("/books/v1/volumes"), "the answer was cached");
    assert!(
        !db.contains(URL_PASSWORD) && !db.contains("me:"),
        "a cache key carries the userinfo"
    );

    let out = run(sb
        .cmd(&format!("ftp://me:{URL_PASSWORD}@example.com/books/v1"))
        .args(["search", "dune"]))
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(one_error_line(&out).contains("GBOOKS_API_BASE is not an http(s) URL"));
    assert_no_part_of(&stderr(&out), URL_PASSWORD);

    sb.write_credentials(STALE, 3600, Some(REFRESH));
    let out = run(sb
        .cmd(NOWHERE)
        .env(
            "GBOOKS_REVOKE_URL",
            with_password(&format!("{}/revoke", server.uri())),
        )
        .args(["-vv", "logout"]))
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_no_part_of(&stderr(&out), URL_PASSWORD);
}
