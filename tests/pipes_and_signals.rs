//! Closed pipes and Ctrl-C: gbooks stops quietly, with the right exit code
//! and never a panic.

use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// `gbooks search … | head -1`: the reader goes away after one line.
#[tokio::test]
async fn closed_pipe_exits_quietly() {
    let server = MockServer::start().await;
    let items: Vec<serde_json::Value> = (0..40).map(|i| volume(&format!("v{i}"), "A title")).collect();
    mount_json(&server, "/books/v1/volumes", volumes(items)).await;
    let sb = Sandbox::new();
    let mut child = sb
        .std_cmd(&api(&server))
        .args(["search", "x", "--limit", "40", "--format", "jsonl"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        let mut first = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(first.contains("\"v0\""), "{first}");
        // The reader is dropped here: the pipe is closed.
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stderr(&out), "", "no panic, no error on a closed pipe");
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
        sb.write_credentials(oauth::ACCESS, 3000, None);
        if args == ["auth", "status"] {
            std::fs::remove_file(sb.credentials_file()).unwrap();
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

/// SIGINT while a request is under way ends the run: 130, nothing printed.
#[cfg(unix)]
#[tokio::test]
async fn ctrl_c_exits_130_quietly() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let child = sb
        .std_cmd(&api(&server))
        .args(["search", "x"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the request is in flight, then interrupt.
    let started = Instant::now();
    while server.received_requests().await.unwrap().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "no request came");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) only; the pid stays our child's until we wait for it.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert_eq!(stderr(&out), "");
}
