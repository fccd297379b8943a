//! Long output through a pager, on a real terminal: which pager, when not,
//! and what happens when it fails or quits early. The fake pager records
//! what it got.

use std::path::PathBuf;

use crate::support::pty::Terminal;
use crate::support::*;

/// A pager script in the sandbox that saves its input to `got` (and its
/// arguments to `args`); `head` instead of `cat` quits early.
fn fake_pager(sb: &Sandbox, body: &str) -> (String, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let script = sb.dir.path().join("pager.sh");
    let got = sb.dir.path().join("got");
    let text = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\n{body} > '{got}'\n",
        args = sb.dir.path().join("args").display(),
        got = got.display()
    );
    std::fs::write(&script, text).unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script.display().to_string(), got)
}

fn many(n: usize) -> serde_json::Value {
    volumes(
        (0..n)
            .map(|i| volume(&format!("id{i:03}"), &format!("Book {i}")))
            .collect(),
    )
}

/// `gbooks ARGS` on a 24-row terminal with `env`; its exit code and screen.
async fn on_terminal(sb: &Sandbox, api: &str, env: &[(&str, &str)], args: &[&str]) -> (u32, String) {
    let mut cmd = sb.std_cmd(api);
    cmd.env("TERM", "xterm").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || Terminal::spawn(&cmd, 24, 100).finish())
        .await
        .unwrap()
}

#[tokio::test]
async fn long_output_goes_through_gbooks_pager_then_pager() {
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", many(40)).await;
    let sb = Sandbox::new();
    let (pager, got) = fake_pager(&sb, "cat");
    let search = ["search", "x", "--limit", "40"];
    for env in [
        &[("GBOOKS_PAGER", pager.as_str()), ("PAGER", "false")][..],
        &[("PAGER", pager.as_str())],
    ] {
        let _ = std::fs::remove_file(&got);
        let (code, screen) = on_terminal(&sb, &api(&server), env, &search).await;
        assert_eq!(code, 0, "{screen}");
        let paged = std::fs::read_to_string(&got).expect("the pager ran");
        assert_eq!(
            paged.lines().filter(|l| l.contains("Book ")).count(),
            40,
            "{paged}"
        );
        assert!(
            !screen.contains("Book 39"),
            "went to the pager, not the screen: {screen}"
        );
    }
    // The config's pager ranks between GBOOKS_PAGER and PAGER.
    sb.write_config(&format!("pager = \"{pager}\"\n"));
    let _ = std::fs::remove_file(&got);
    let (code, _) = on_terminal(&sb, &api(&server), &[("PAGER", "false")], &search).await;
    assert_eq!(code, 0);
    assert!(got.exists(), "pager from config.toml");
}

#[tokio::test]
async fn no_pager_when_short_turned_off_or_not_a_terminal() {
    let server = wiremock::MockServer::start().await;
    let sb = Sandbox::new();
    let (pager, got) = fake_pager(&sb, "cat");
    let short = wiremock::MockServer::start().await;
    mount_json(&short, "/books/v1/volumes", many(3)).await;
    mount_json(&server, "/books/v1/volumes", many(40)).await;
    let search = ["search", "x", "--limit", "40"];
    let env = [("GBOOKS_PAGER", pager.as_str())];

    let (code, screen) = on_terminal(&sb, &api(&short), &env, &search).await;
    assert_eq!(code, 0);
    assert!(
        screen.contains("Book 2") && !got.exists(),
        "short output is not paged: {screen}"
    );

    let (code, screen) = on_terminal(
        &sb,
        &api(&server),
        &env,
        &["search", "x", "--limit", "40", "--no-pager"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        screen.contains("Book 39") && !got.exists(),
        "--no-pager: {screen}"
    );

    for env in [&[("PAGER", "cat")][..], &[("GBOOKS_PAGER", "")]] {
        let (code, screen) = on_terminal(&sb, &api(&server), env, &search).await;
        assert_eq!(code, 0);
        assert!(screen.contains("Book 39"), "{env:?}: {screen}");
    }

    sb.write_config("pager = \"\"\n");
    let (code, screen) = on_terminal(&sb, &api(&server), &[("PAGER", pager.as_str())], &search).await;
    assert_eq!(code, 0);
    assert!(
        screen.contains("Book 39") && !got.exists(),
        "pager = \"\": {screen}"
    );
    std::fs::remove_file(sb.config_dir().join("config.toml")).unwrap();

    let out = sb
        .cmd(&api(&server))
        .args(search)
        .env("GBOOKS_PAGER", &pager)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out).lines().filter(|l| l.contains("Book ")).count(), 40);
    assert!(!got.exists(), "never when stdout is not a terminal");
}

#[tokio::test]
async fn a_pager_that_cannot_start_falls_back_and_quitting_early_is_quiet() {
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", many(40)).await;
    let sb = Sandbox::new();
    let search = ["search", "x", "--limit", "40", "--json"];
    let (code, screen) = on_terminal(
        &sb,
        &api(&server),
        &[("GBOOKS_PAGER", "/nonexistent/pager -R")],
        &search,
    )
    .await;
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("id039"), "plain output instead: {screen}");

    let (pager, got) = fake_pager(&sb, "head -n 2");
    let (code, screen) = on_terminal(&sb, &api(&server), &[("GBOOKS_PAGER", pager.as_str())], &search).await;
    assert_eq!(code, 0, "{screen}");
    assert!(!screen.contains("error"), "quiet: {screen}");
    assert_eq!(std::fs::read_to_string(&got).unwrap().lines().count(), 2);
}

#[tokio::test]
async fn help_is_paged_on_a_terminal() {
    let sb = Sandbox::new();
    let (pager, got) = fake_pager(&sb, "cat");
    let (code, screen) = on_terminal(&sb, NOWHERE, &[("GBOOKS_PAGER", pager.as_str())], &["--help"]).await;
    assert_eq!(code, 0, "{screen}");
    let paged = std::fs::read_to_string(&got).expect("--help went to the pager");
    assert!(
        paged.contains("Environment:") && paged.contains("GBOOKS_PAGER"),
        "{paged}"
    );
    // Short help fits the screen: straight to it.
    let _ = std::fs::remove_file(&got);
    let (code, screen) = on_terminal(
        &sb,
        NOWHERE,
        &[("GBOOKS_PAGER", pager.as_str())],
        &["cache", "-h"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(screen.contains("Usage:") && !got.exists(), "{screen}");
    let (code, screen) = on_terminal(
        &sb,
        NOWHERE,
        &[("GBOOKS_PAGER", pager.as_str())],
        &["--help", "--no-pager"],
    )
    .await;
    assert_eq!(code, 0);
    assert!(screen.contains("Environment:") && !got.exists());
}
