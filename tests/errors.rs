//! Failure paths: every one gives one line on stderr and its exit code.

use std::time::{Duration, Instant};

use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

const KEY: &str = "AIzaTESTKEY-0123456789-never-print";

async fn respond(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(template)
        .mount(server)
        .await;
}

fn one_line(text: &str) -> &str {
    assert_eq!(text.lines().count(), 1, "not one line: {text:?}");
    text.trim_end()
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(503).set_body_string(fixture("error_legacy_503.json")))
        .expect(4)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["search", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        one_line(&stderr(&out)),
        "gbooks: error: 503 backendFailed: Service temporarily unavailable."
    );
}

#[tokio::test]
async fn a_503_then_success() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(503).set_body_string(fixture("error_legacy_503.json")))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let mut page = fixture_json("search_dune.json");
    page["totalItems"] = 3.into();
    respond(&server, ResponseTemplate::new(200).set_body_json(page)).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "1")
                .set_body_string(fixture("error_429_anonymous.json")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    respond(&server, ResponseTemplate::new(200).set_body_json(volumes(vec![]))).await;
    let sb = Sandbox::new();
    let started = Instant::now();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    let times: Vec<_> = server.received_requests().await.unwrap();
    assert_eq!(times.len(), 2);
}

#[tokio::test]
async fn keyless_quota_error_suggests_a_key() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "0")
            .set_body_string(fixture("error_429_anonymous.json")),
    )
    .await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["search", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let line = one_line(&err);
    assert!(
        line.starts_with("gbooks: error: 429 RATE_LIMIT_EXCEEDED: Quota exceeded"),
        "{line}"
    );
    assert!(line.contains("GBOOKS_API_KEY"), "{line}");
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn unknown_location_suggests_country() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(403).set_body_string(fixture("error_403_unknown_location.json")),
    )
    .await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["search", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let line = one_line(&err);
    assert!(
        line.starts_with("gbooks: error: 403 unknownLocation: Cannot determine user location"),
        "{line}"
    );
    assert!(line.contains("--country"), "{line}");
    // A 403 is final: one request.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn rejected_key_exits_4_and_is_never_shown() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("key", KEY))
        .respond_with(ResponseTemplate::new(400).set_body_string(fixture("error_400_key_invalid.json")))
        .expect(1)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["-v", "search", "x", "--api-key", KEY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let err = stderr(&out);
    assert!(
        err.contains("gbooks: error: 400 API_KEY_INVALID: API key not valid."),
        "{err}"
    );
    assert!(err.contains("key=REDACTED"), "-v logs the request: {err}");
    assert!(!err.contains(KEY) && !stdout(&out).contains(KEY));
}

#[tokio::test]
async fn key_comes_from_flag_then_env_then_file() {
    let server = MockServer::start().await;
    respond(&server, ResponseTemplate::new(200).set_body_json(volumes(vec![]))).await;
    let sb = Sandbox::new();
    sb.write_config("api_key = \"from-file\"\n");
    sb.cmd(&api(&server))
        .args(["search", "x", "--no-cache"])
        .assert()
        .success();
    sb.cmd(&api(&server))
        .args(["search", "x", "--no-cache"])
        .env("GBOOKS_API_KEY", "from-env")
        .assert()
        .success();
    sb.cmd(&api(&server))
        .args(["search", "x", "--no-cache", "--api-key", "from-flag"])
        .env("GBOOKS_API_KEY", "from-env")
        .assert()
        .success();
    let keys: Vec<String> = queries(&server)
        .await
        .iter()
        .map(|q| param(q, "key").unwrap_or("").to_string())
        .collect();
    assert_eq!(keys, ["from-file", "from-env", "from-flag"]);
}

#[tokio::test]
async fn html_404_gives_status_and_short_text() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(404)
            .insert_header("content-type", "text/html")
            .set_body_string(fixture("error_404_page.html")),
    )
    .await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["search", "x"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        one_line(&stderr(&out)),
        "gbooks: error: 404 Not Found: Error 404 (Not Found)!!1"
    );
}

#[tokio::test]
async fn malformed_or_truncated_json_is_a_clear_error() {
    for body in [
        "{\"kind\": \"books#volumes\", \"items\": [{\"id\": \"x\"",
        "<html>ok</html>",
        "{\"items\": 5}",
    ] {
        let server = MockServer::start().await;
        respond(&server, ResponseTemplate::new(200).set_body_string(body)).await;
        let sb = Sandbox::new();
        let out = sb.cmd(&api(&server)).args(["search", "x"]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{body}");
        let err = stderr(&out);
        assert!(
            one_line(&err).starts_with("gbooks: error: invalid response from the Books API: "),
            "{err}"
        );
    }
}

#[tokio::test]
async fn hanging_server_times_out_per_attempt() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(30)),
    )
    .await;
    let sb = Sandbox::new();
    let started = Instant::now();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--timeout", "0.3"])
        .output()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        one_line(&err).contains("no answer from 127.0.0.1 within 0.3s"),
        "{err}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    // Four attempts of 0.3 s plus backoff, far below one 30 s reply.
    assert!(
        took >= Duration::from_millis(1200) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[tokio::test]
async fn unreachable_server() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let sb = Sandbox::new();
    let out = sb
        .cmd(&format!("http://127.0.0.1:{port}/books/v1"))
        .args(["search", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        one_line(&err).starts_with("gbooks: error: cannot reach 127.0.0.1: "),
        "{err}"
    );
}

#[test]
fn transport_errors_in_the_log_never_show_the_key() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let sb = Sandbox::new();
    let out = sb
        .cmd(&format!("http://127.0.0.1:{port}/books/v1"))
        .args(["-vv", "search", "x", "--api-key", KEY])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_eq!(err.lines().filter(|l| l.starts_with("GET ")).count(), 4, "{err}");
    assert!(!err.contains(KEY), "{err}");
    assert!(err.contains("key=REDACTED"), "{err}");
}

#[tokio::test]
async fn malformed_config_names_file_and_line() {
    let sb = Sandbox::new();
    sb.write_config("format = \"json\"\ncountry = = 1\napi_key = \"k\"\n");
    let out = sb
        .cmd("http://127.0.0.1:9/books/v1")
        .args(["search", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    let line = one_line(&err);
    assert!(line.contains("config.toml, line 2"), "{line}");
    assert!(line.contains(&sb.config_dir().display().to_string()), "{line}");
}

#[test]
fn help_and_version_need_nothing() {
    let sb = Sandbox::new();
    // A config dir that cannot even be read must not matter for --help or --version.
    sb.write_config("this is not toml");
    let out = sb.cmd("not a url").arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), format!("gbooks {}\n", env!("CARGO_PKG_VERSION")));
    let out = sb.cmd("not a url").arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(stdout(&out).contains("search"));
}

#[tokio::test]
async fn user_agent_and_gzip() {
    let server = MockServer::start().await;
    respond(&server, ResponseTemplate::new(200).set_body_json(volumes(vec![]))).await;
    let sb = Sandbox::new();
    sb.cmd(&api(&server)).args(["search", "x"]).assert().success();
    let req = &server.received_requests().await.unwrap()[0];
    let header = |name: &str| req.headers.get(name).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(
        header("user-agent").unwrap(),
        format!("gbooks/{} (gzip)", env!("CARGO_PKG_VERSION"))
    );
    assert!(header("accept-encoding").unwrap().contains("gzip"));
    assert_eq!(header("authorization"), None);
}

#[tokio::test]
async fn verbose_logs_each_request_to_stderr() {
    let server = MockServer::start().await;
    respond(&server, ResponseTemplate::new(200).set_body_json(volumes(vec![]))).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "-v", "--json", "--api-key", KEY])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    let want = format!(
        "GET {}/volumes?q=x&startIndex=0&maxResults=10&key=REDACTED -> 200 in ",
        api(&server)
    );
    assert!(err.contains(&want), "{err}");
    assert!(!err.contains(KEY));
    assert_eq!(stdout(&out).trim(), "[]");
}

#[tokio::test]
async fn proxies_from_the_environment_are_used() {
    let proxy = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![])))
        .expect(1)
        .mount(&proxy)
        .await;
    let sb = Sandbox::new();
    // The host does not exist: only the proxy can answer.
    let out = sb
        .cmd("http://books.example.invalid/books/v1")
        .args(["search", "x", "--json"])
        .env("HTTP_PROXY", proxy.uri())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let req = &proxy.received_requests().await.unwrap()[0];
    assert_eq!(req.headers.get("host").unwrap(), "books.example.invalid");
}

#[cfg(unix)]
#[tokio::test]
async fn ctrl_c_exits_130_quietly() {
    let server = MockServer::start().await;
    respond(
        &server,
        ResponseTemplate::new(200).set_delay(Duration::from_secs(30)),
    )
    .await;
    let sb = Sandbox::new();
    let child = sb
        .std_cmd(&api(&server))
        .args(["search", "x"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the request is in flight, then interrupt.
    let started = Instant::now();
    while server.received_requests().await.unwrap().is_empty() && started.elapsed() < Duration::from_secs(10)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(stderr(&out), "");
}

/// A server that hangs up on the first connection without answering, then
/// serves normally: the dropped connection is retried.
#[test]
fn dropped_connection_is_retried() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let mut served = 0;
        for (i, stream) in listener.incoming().enumerate() {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            if i == 0 {
                drop(stream); // hang up mid-request
                continue;
            }
            let body = r#"{"kind":"books#volumes","totalItems":0}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(reply.as_bytes()).unwrap();
            served += 1;
            break;
        }
        served
    });
    let sb = Sandbox::new();
    let out = sb
        .cmd(&format!("http://127.0.0.1:{port}/books/v1"))
        .args(["search", "x", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "[]");
    assert_eq!(server.join().unwrap(), 1);
}

#[tokio::test]
async fn a_bad_revoke_url_does_not_break_other_commands() {
    let server = MockServer::start().await;
    respond(&server, ResponseTemplate::new(200).set_body_json(volumes(vec![]))).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--json"])
        .env("GBOOKS_REVOKE_URL", "::")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
