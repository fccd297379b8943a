//! What gbooks sends and how it tries again: headers, proxies, the `-v`
//! log, retries after a 503, a 429 or a dropped connection, and the
//! timeout of each attempt.

use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn respond(server: &MockServer, template: ResponseTemplate) {
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(template)
        .mount(server)
        .await;
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
    // A lower bound only: a busy machine makes it longer, never shorter.
    assert!(
        started.elapsed() >= Duration::from_millis(1000),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
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
    let line = one_error_line(&out);
    assert!(
        line.starts_with("gbooks: error: 127.0.0.1: no answer after 4 attempts over ")
            && line.ends_with(" s (--timeout 0.3 s each)"),
        "{line}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
    // Four attempts of 0.3 s plus backoff, far below one 30 s reply.
    assert!(
        took >= Duration::from_millis(1200) && took < Duration::from_secs(10),
        "{took:?}"
    );
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
        .args(["search", "x", "-v", "--json", "--api-key", API_KEY])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = stderr(&out);
    let want = format!(
        "GET {}/volumes?q=x&startIndex=0&maxResults=15&key=REDACTED -> 200 in ",
        api(&server)
    );
    assert!(err.contains(&want), "{err}");
    assert!(!err.contains(API_KEY));
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

#[tokio::test]
async fn verbose_log_names_the_proxy_and_a_no_proxy_match() {
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "-v", "--no-cache"])
        .env("HTTP_PROXY", "http://me:hunter2@proxy.invalid:3128")
        .env("NO_PROXY", "localhost,127.0.0.1")
        .output()
        .unwrap();
    // NO_PROXY sends it straight to the fake: the proxy does not exist.
    assert!(out.status.success(), "{}", stderr(&out));
    let log = stderr(&out);
    assert!(
        log.contains("proxy from HTTP_PROXY: http://me:REDACTED@proxy.invalid:3128/"),
        "{log}"
    );
    assert!(log.contains("127.0.0.1: direct, NO_PROXY matches"), "{log}");
    assert!(!log.contains("hunter2"), "{log}");
    // Without -v, nothing about proxies.
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--no-cache"])
        .env("HTTP_PROXY", "http://proxy.invalid:3128")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    assert!(
        out.status.success() && !stderr(&out).contains("proxy"),
        "{}",
        stderr(&out)
    );
}
