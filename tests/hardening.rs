//! The hardening pass (issue 7): failure paths that earlier tests left out,
//! each giving one `gbooks: error:` line and its exit code, never a panic.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn offsets_past_the_apis_range_are_usage_errors_not_panics() {
    let server = MockServer::start().await;
    // Every page is full, so paging goes on past the first one.
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(|req: &wiremock::Request| {
            let get = |k: &str| -> u128 {
                req.url
                    .query_pairs()
                    .find(|(n, _)| n == k)
                    .map_or(0, |(_, v)| v.parse().unwrap())
            };
            let (start, max) = (get("startIndex"), get("maxResults"));
            let items = (start..start + max)
                .map(|i| volume(&format!("v{i}"), "t"))
                .collect();
            let mut page = volumes(items);
            page["totalItems"] = u64::MAX.into();
            ResponseTemplate::new(200).set_body_json(page)
        })
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for args in [
        &["search", "x", "--offset", "18446744073709551615"][..],
        &["search", "x", "--offset", "4294967296", "--limit", "100"],
        &[
            "shelves",
            "show",
            "2",
            "--user",
            "u1",
            "--offset",
            "18446744073709551615",
        ],
    ] {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    // The largest startIndex the API takes still pages without overflow.
    let out = sb
        .cmd(&api(&server))
        .args([
            "search",
            "x",
            "--offset",
            "4294967295",
            "--limit",
            "100",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 100);
    assert_eq!(got[0]["id"], "v4294967295");
}

/// Exactly one line, `gbooks: error: …`, and no panic.
fn one_error_line(out: &std::process::Output) -> String {
    let err = stderr(out);
    assert_eq!(err.lines().count(), 1, "not one line: {err:?}");
    assert!(err.starts_with("gbooks: error: "), "{err:?}");
    err.trim_end().to_string()
}

#[tokio::test]
async fn server_error_text_is_sanitised_on_stderr() {
    let server = MockServer::start().await;
    let evil = "bad \u{1b}]0;pwned\u{7} \u{202e}evil\r\nline";
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/v1"))
        .respond_with(ResponseTemplate::new(404).set_body_json(serde_json::json!({
            "error": { "code": 404, "message": evil, "errors": [{ "reason": "not\u{1b}[31mFound" }] }
        })))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["show", "v1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        one_error_line(&out),
        "gbooks: error: 404 not[31mFound: bad ]0;pwned evil line"
    );
}

const KEY: &str = "AIzaHARDENING-key-0123456789";

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
            .args(["-vv", "show", id, "--api-key", KEY])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
        let err = stderr(&out);
        assert!(!err.contains(KEY), "the key leaks: {err}");
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with("gbooks: error: ") && last.contains("key=(redacted)"),
            "{last}"
        );
    }
}

/// Every known secret, as is and as a form body or URL carries it.
fn secret_forms() -> Vec<String> {
    let mut all = crate::oauth_fake::secrets();
    all.push(KEY.to_string());
    let encoded: Vec<String> = all
        .iter()
        .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
        .collect();
    all.extend(encoded);
    all
}

fn assert_no_secret_forms(out: &std::process::Output) {
    let text = format!("{}{}", stdout(out), stderr(out));
    for s in secret_forms() {
        assert!(!text.contains(&s), "leaks {s}:\n{text}");
    }
    assert!(!text.contains("panicked"), "{text}");
}

/// Writes a client file whose token endpoint is `token_uri`.
fn install_client(sb: &Sandbox, token_uri: &str) {
    use crate::oauth_fake::{CLIENT_ID, CLIENT_SECRET};
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    let client = serde_json::json!({ "installed": {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "auth_uri": "http://127.0.0.1:9/auth",
        "token_uri": token_uri,
    }});
    std::fs::write(sb.config_dir().join("client_secret.json"), client.to_string()).unwrap();
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
    install_client(&sb, &format!("{}/token", oauth.uri()));
    for args in [&["-vv", "auth", "token"][..], &["-vv", "shelves"]] {
        crate::auth::write_credentials(
            &sb,
            crate::oauth_fake::STALE,
            -10,
            Some(crate::oauth_fake::REFRESH),
        );
        let out = sb.cmd("http://127.0.0.1:9/books/v1").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with(
                "gbooks: error: the token endpoint refused the request: invalid_request: cannot use "
            ),
            "{last}"
        );
        assert!(last.contains("refresh_token=(redacted)"), "{last}");
        assert_no_secret_forms(&out);
    }
}

#[tokio::test]
async fn a_malformed_client_file_is_named_but_never_quoted() {
    let sb = Sandbox::new();
    let file = sb.dir.path().join("client.json");
    let secret = crate::oauth_fake::CLIENT_SECRET;
    for text in [
        format!(r#"{{"installed": "{secret}"}}"#),
        format!(r#"{{"installed": {{"client_id": ["{secret}"]}}}}"#),
    ] {
        std::fs::write(&file, text).unwrap();
        let out = sb
            .cmd("http://127.0.0.1:9/books/v1")
            .args(["-vv", "login", "--client-secret"])
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
        let line = one_error_line(&out);
        assert!(
            line.contains("invalid client credentials file") && line.contains("client.json"),
            "{line}"
        );
        assert_no_secret_forms(&out);
    }
    let out = sb
        .cmd("http://127.0.0.1:9/books/v1")
        .args(["login", "--client-secret", "/nonexistent/client.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("cannot read /nonexistent/client.json"));
}

/// `gbooks … 2>&1 | head -1`: stdout and stderr both a pipe nobody reads.
/// Writing to stderr must not panic (exit 101); the exit code stays.
#[tokio::test]
async fn a_closed_stderr_never_panics() {
    let server = MockServer::start().await;
    let items: Vec<serde_json::Value> = (0..40).map(|i| volume(&format!("v{i}"), "t")).collect();
    mount_json(&server, "/books/v1/volumes", volumes(items)).await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/missing"))
        .respond_with(ResponseTemplate::new(404).set_body_string(fixture("error_404_volume.json")))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for (args, code) in [
        (&["-v", "search", "x", "--limit", "40", "--no-cache"][..], 0),
        (&["-vv", "show", "missing"], 3),
        (&["search", " "], 2),
        (&["auth", "status"], 4),
        (&["logout"], 0),
    ] {
        crate::auth::write_credentials(&sb, crate::oauth_fake::ACCESS, 3000, None);
        if args == ["auth", "status"] {
            std::fs::remove_file(sb.config_dir().join("credentials.json")).unwrap();
        }
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let status = sb
            .std_cmd(&api(&server))
            .args(args)
            .stdout(writer.try_clone().unwrap())
            .stderr(writer)
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(code), "{args:?}");
    }
}

#[tokio::test]
async fn quiet_silences_login_notes_and_warnings() {
    let sb = Sandbox::new();
    crate::auth::write_credentials(
        &sb,
        crate::oauth_fake::ACCESS,
        3000,
        Some(crate::oauth_fake::REFRESH),
    );
    // The revocation fails (nothing listens on port 9): a warning, silenced.
    let out = sb
        .cmd("http://127.0.0.1:9/books/v1")
        .args(["-q", "logout"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    assert!(!sb.config_dir().join("credentials.json").exists());
    let out = sb
        .cmd("http://127.0.0.1:9/books/v1")
        .args(["logout", "--quiet"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
}

/// `gbooks shelves clear 2` on a pseudo-terminal (from `script`), with
/// `answer` typed at its question, or Ctrl-C when `None`. Returns the exit
/// code, or `None` when there is no `script` to give a terminal.
async fn clear_on_a_terminal(answer: Option<&str>, clears: u64) -> Option<i32> {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no /usr/bin/script for a pseudo-terminal");
        return None;
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/books/v1/mylibrary/bookshelves/2/clearVolumes"))
        .respond_with(ResponseTemplate::new(204))
        .expect(clears)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    crate::auth::write_credentials(&sb, crate::oauth_fake::ACCESS, 3000, None);
    let pid_file = sb.dir.path().join("pid");
    let log = sb.dir.path().join("typescript");
    let bin = assert_cmd::cargo::cargo_bin("gbooks");
    let inner = format!(
        "echo $$ > '{}'; exec '{}' shelves clear 2",
        pid_file.display(),
        bin.display()
    );
    let mut cmd = std::process::Command::new("/usr/bin/script");
    cmd.env_clear()
        .env("TERM", "dumb")
        .args(["-qfec", &inner])
        .arg(&log)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null());
    for (k, v) in sb.std_cmd(&api(&server)).get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("[y/N]")
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no question"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    match answer {
        Some(text) => {
            use std::io::Write;
            child.stdin.as_mut().unwrap().write_all(text.as_bytes()).unwrap();
        }
        None => {
            let pid = std::fs::read_to_string(&pid_file).unwrap();
            let killed = std::process::Command::new("kill")
                .args(["-INT", pid.trim()])
                .status()
                .unwrap();
            assert!(killed.success());
        }
    }
    let waited = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if waited.elapsed() > std::time::Duration::from_secs(5) {
            let _ = child.kill();
            panic!("still waiting for an answer after {answer:?}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    server.verify().await;
    status.code()
}

/// Ctrl-C at `shelves clear`'s question ends the run (130) and clears nothing.
#[tokio::test]
async fn ctrl_c_at_the_clear_question_exits_130() {
    if let Some(code) = clear_on_a_terminal(None, 0).await {
        assert_eq!(code, 130);
    }
}

#[tokio::test]
async fn the_clear_question_takes_yes_and_no() {
    if let Some(code) = clear_on_a_terminal(Some("y\n"), 1).await {
        assert_eq!(code, 0);
    }
    if let Some(code) = clear_on_a_terminal(Some("\n"), 0).await {
        assert_eq!(code, 0);
    }
}

/// A Books API that fails every call with an error that echoes the request:
/// its URL (with the key) and its Authorization header. Private calls get a
/// 401, which makes gbooks refresh and retry.
async fn echoing_api() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(|req: &wiremock::Request| {
            let auth = req
                .headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let status = if req.url.path().contains("/mylibrary/") { 401 } else { 403 };
            ResponseTemplate::new(status).set_body_json(serde_json::json!({
                "error": { "code": status, "message": format!("refused {} {} ({auth})", req.method, req.url), "errors": [{ "reason": "forbidden" }] }
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
    use crate::oauth_fake::{OAuthFake, REFRESH, STALE};
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
    let fake = OAuthFake::start().await;
    for (api_server, works) in [(echoing_api().await, false), (working_api().await, true)] {
        for key in [None, Some(KEY)] {
            for args in commands {
                let sb = Sandbox::new();
                fake.install_client_secret(&sb);
                // Expired: every command that needs it refreshes first.
                crate::auth::write_credentials(&sb, STALE, -10, Some(REFRESH));
                let mut cmd = sb.cmd(&api(&api_server));
                cmd.env("GBOOKS_REVOKE_URL", format!("{}/revoke", api_server.uri()))
                    // -vv logs all that -v does, and more.
                    .arg("-vv")
                    .args(*args);
                if let Some(key) = key {
                    cmd.env("GBOOKS_API_KEY", key);
                }
                let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                    .await
                    .unwrap();
                let code = out.status.code();
                assert!(
                    matches!(code, Some(0..=4)),
                    "{args:?} {key:?}: {code:?}\n{}",
                    stderr(&out)
                );
                // Not a sweep of nothing: calls work or fail as the server says.
                let calls_api = ["search", "show", "shelves"].contains(&args[0]);
                assert_eq!(
                    code == Some(0),
                    works || !calls_api,
                    "{args:?} {key:?}: {}",
                    stderr(&out)
                );
                if code != Some(0) {
                    let err = stderr(&out);
                    let last = err.lines().last().unwrap_or_default();
                    assert!(last.starts_with("gbooks: error: "), "{args:?}: {err}");
                }
                assert_no_secret_forms(&out);
            }
        }
    }
}

/// Usage errors that clap finds are one `gbooks: error:` line too, with
/// clap's tip kept and a pointer to the right --help.
#[test]
fn usage_errors_are_one_line() {
    let sb = Sandbox::new();
    for (args, want) in [
        (
            &["search", "x", "--limit", "0"][..],
            "gbooks: error: invalid value '0' for '--limit <N>': 0 is not in 1..=100000; see 'gbooks search --help'",
        ),
        (
            &["search", "x", "--limt", "3"],
            "gbooks: error: unexpected argument '--limt' found; tip: a similar argument exists: '--limit'; see 'gbooks search --help'",
        ),
        (
            &["show"],
            "gbooks: error: the following required arguments were not provided: <VOLUME_ID>; see 'gbooks show --help'",
        ),
        (
            &["shelves", "move", "2", "v1", "-1"],
            "gbooks: error: unexpected argument '-1' found; tip: to pass '-1' as a value, use '-- -1'; see 'gbooks shelves move --help'",
        ),
        (
            &["search", "x", "--format", "xml"],
            "gbooks: error: invalid value 'xml' for '--format <FORMAT>' [possible values: table, json, jsonl, csv]; see 'gbooks search --help'",
        ),
        (
            &["serch", "x"],
            "gbooks: error: unrecognized subcommand 'serch'; tip: a similar subcommand exists: 'search'; see 'gbooks --help'",
        ),
    ] {
        let out = sb.cmd("http://127.0.0.1:9/books/v1").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stdout(&out).is_empty());
        assert_eq!(one_error_line(&out), want, "{args:?}");
    }
    // Help is not an error: on stdout, whole, exit 0.
    let out = sb
        .cmd("http://127.0.0.1:9/books/v1")
        .args(["search", "--help"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("Usage: gbooks search"));
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
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        format!("http://127.0.0.1:{port}/token")
    };
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
            install_client(&sb, &token_uri);
            crate::auth::write_credentials(
                &sb,
                crate::oauth_fake::STALE,
                -10,
                Some(crate::oauth_fake::REFRESH),
            );
            let out = sb.cmd("http://127.0.0.1:9/books/v1").args(args).output().unwrap();
            assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
            assert!(one_error_line(&out).starts_with(want), "{}", stderr(&out));
            assert!(out.stdout.is_empty());
            assert_no_secret_forms(&out);
        }
    }
}

/// Configuration mistakes: one line, exit 2, nothing sent.
#[tokio::test]
async fn configuration_mistakes_are_usage_errors() {
    let server = MockServer::start().await;
    let sb = Sandbox::new();
    // config.toml, an environment variable, and what the error says.
    type Case<'a> = (&'a str, Option<(&'a str, &'a str)>, &'a str);
    let cases: &[Case] = &[
        ("country = \"USA\"\n", None, "country must be a two-letter code"),
        ("format = \"xml\"\n", None, "format = \"xml\" in config.toml"),
        (
            "cache_ttl = \"often\"\n",
            None,
            "cache_ttl = \"often\" in config.toml",
        ),
        (
            "colour = \"never\"\n",
            None,
            "config.toml, line 1: unknown field `colour`",
        ),
        (
            "",
            Some(("GBOOKS_TOKEN_STORE", "vault")),
            "GBOOKS_TOKEN_STORE = \"vault\"",
        ),
        (
            "",
            Some(("GBOOKS_API_BASE", "ftp://books")),
            "GBOOKS_API_BASE is not an http(s) URL",
        ),
    ];
    for (file, env, want) in cases {
        sb.write_config(file);
        let mut cmd = sb.cmd(&api(&server));
        cmd.args(["search", "x"]);
        if let Some((k, v)) = env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{file:?} {env:?}: {}", stderr(&out));
        assert!(one_error_line(&out).contains(want), "{}", stderr(&out));
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// Another user's shelves: an unknown user or shelf is "not found" (3), a
/// private one is a failure (1), each with Google's message.
#[tokio::test]
async fn public_shelf_errors_carry_their_code() {
    let server = MockServer::start().await;
    let error = |code: u16, reason: &str| {
        ResponseTemplate::new(code).set_body_json(serde_json::json!({
            "error": { "code": code, "message": format!("{reason} here"), "errors": [{ "reason": reason }] }
        }))
    };
    Mock::given(method("GET"))
        .and(path("/books/v1/users/nobody/bookshelves"))
        .respond_with(error(404, "notFound"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/books/v1/users/u1/bookshelves/9/volumes"))
        .respond_with(error(403, "forbidden"))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for (args, code, want) in [
        (
            &["shelves", "--user", "nobody"][..],
            3,
            "gbooks: error: 404 notFound: notFound here",
        ),
        (
            &["shelves", "show", "to read", "--user", "nobody"],
            3,
            "gbooks: error: 404 notFound: notFound here",
        ),
        (
            &["shelves", "show", "9", "--user", "u1"],
            1,
            "gbooks: error: 403 forbidden: forbidden here",
        ),
        (&["shelves", "--user", " "], 2, "gbooks: error: empty --user"),
    ] {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(one_error_line(&out).starts_with(want), "{}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
}

const EVIL: &str = "\u{1b}]0;pwned\u{7}\u{202e}\u{9b}31m";

/// No control, C1 or bidi character of `EVIL` in `text`.
fn assert_terminal_safe(what: &str, text: &str) {
    assert!(
        !text
            .chars()
            .any(|c| (c.is_control() && c != '\n') || c == '\u{202e}'),
        "{what}: {text:?}"
    );
    assert!(
        text.contains("]0;pwned"),
        "{what}: the text itself stays: {text:?}"
    );
}

/// API text with escape sequences, in every view for people: `show`, the
/// shelves table, a shelf's volumes, messages naming a shelf, `auth status`.
/// JSON keeps it exactly.
#[tokio::test]
async fn api_text_is_sanitised_in_every_terminal_view() {
    let server = MockServer::start().await;
    let evil = |s: &str| format!("{s}{EVIL}");
    let detail = serde_json::json!({
        "kind": "books#volume",
        "id": "v1",
        "volumeInfo": {
            "title": evil("Title"), "subtitle": evil("Sub"), "authors": [evil("Author")],
            "publisher": evil("Pub"), "publishedDate": evil("1965"), "pageCount": 412,
            "categories": [evil("Cat")], "language": evil("en"),
            "industryIdentifiers": [{ "type": "ISBN_13", "identifier": evil("978") }],
            "previewLink": evil("http://p/"), "infoLink": evil("http://i/"),
            "description": format!("<p>{}</p><p>&#27;]0;pwned&#7; &#x202e;</p>", evil("Desc")),
        }
    });
    mount_json(&server, "/books/v1/volumes/v1", detail.clone()).await;
    let shelves = serde_json::json!({ "kind": "books#bookshelves", "items": [
        { "id": 1001, "title": evil("Shelf"), "access": evil("PUBLIC"), "volumeCount": 1, "updated": evil("2026") }
    ]});
    mount_json(&server, "/books/v1/mylibrary/bookshelves", shelves.clone()).await;
    mount_json(
        &server,
        "/books/v1/mylibrary/bookshelves/1001/volumes",
        volumes(vec![volume(&evil("v2"), &evil("On a shelf"))]),
    )
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    let creds = serde_json::json!({
        "access_token": crate::oauth_fake::ACCESS, "expires_at": 4_000_000_000u64,
        "scopes": [evil("https://www.googleapis.com/auth/books")], "client_id": evil("client"),
    });
    std::fs::write(sb.config_dir().join("credentials.json"), creds.to_string()).unwrap();

    let run = |args: &[&str]| {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let show = stdout(&run(&["show", "v1"]));
    for field in ["Title", "Sub", "Author", "Pub", "Cat", "978", "http://p/", "Desc"] {
        assert!(show.contains(&format!("{field}]0;pwned")), "{field}: {show}");
    }
    assert_terminal_safe("show", &show);
    assert_terminal_safe("shelves", &stdout(&run(&["shelves"])));
    assert_terminal_safe("shelves show", &stdout(&run(&["shelves", "show", "1001"])));
    let added = stderr(&run(&["shelves", "add", &evil("shelf"), "v1"]));
    assert!(added.starts_with("Added v1 to \"Shelf]0;pwned"), "{added}");
    assert_terminal_safe("shelves add", &added);
    let status = stdout(&run(&["auth", "status"]));
    assert!(status.contains("client]0;pwned"), "{status}");
    assert_terminal_safe("auth status", &status);
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "show", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_terminal_safe("unknown shelf", &one_error_line(&out));

    // JSON keeps every character.
    let json: serde_json::Value = serde_json::from_slice(&run(&["show", "v1", "--json"]).stdout).unwrap();
    assert_eq!(json, detail);
    let json: serde_json::Value = serde_json::from_slice(&run(&["shelves", "--json"]).stdout).unwrap();
    assert_eq!(json, shelves["items"]);
    let json: serde_json::Value = serde_json::from_slice(&run(&["auth", "status", "--json"]).stdout).unwrap();
    assert_eq!(json["client_id"], evil("client"));
}

/// A cached answer that no longer reads (another gbooks version wrote it,
/// or the disk garbled it) must not fail the command: it goes to the network.
#[tokio::test]
async fn an_unreadable_cached_answer_goes_to_the_network() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/v1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volume("v1", "Dune")))
        .expect(2)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let show = || {
        sb.cmd(&api(&server))
            .args(["show", "v1", "--json"])
            .output()
            .unwrap()
    };
    assert!(show().status.success());
    {
        // Garble the stored answer the way an older gbooks or a bad disk would.
        let db = rusqlite::Connection::open(sb.cache_dir().join("cache.db")).unwrap();
        let garbled = db
            .execute(
                "UPDATE responses SET body = ?1",
                [b"{\"kind\": \"books#volume\"}".to_vec()],
            )
            .unwrap();
        assert_eq!(garbled, 1, "the first run stored its answer");
    }
    let out = show();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["id"], "v1");
    // The good answer replaced the bad one: the next run costs nothing.
    let out = sb
        .cmd(&api(&server))
        .args(["show", "v1", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
