//! Shell integration, colour, quiet mode and `open`.

use std::time::{Duration, Instant};

use crate::common::*;

const NOWHERE: &str = "http://127.0.0.1:9/books/v1";

#[test]
fn completion_scripts_for_every_shell() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef gbooks"),
        ("fish", "complete -c gbooks"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[gbooks]"),
    ] {
        let out = sb.cmd(NOWHERE).args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = stdout(&out);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(200)]
        );
        assert!(script.contains("shelves"), "{shell} completes subcommands");
    }
    let out = sb.cmd(NOWHERE).args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn man_page_is_roff() {
    let sb = Sandbox::new();
    let out = sb.cmd(NOWHERE).arg("man").output().unwrap();
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie \\n(.g .ds Aq") || page.contains(".TH gbooks"),
        "{}",
        &page[..200]
    );
    assert!(page.contains(".TH gbooks 1"));
    assert!(page.contains("search"));
}

#[tokio::test]
async fn colour_only_when_asked_or_on_a_terminal() {
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--color", "always"])
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("\u{1b}[2mB1hSG45JCX4C\u{1b}[0m  \u{1b}[1mDune\u{1b}[0m"),
        "{text:?}"
    );
    // Piped, auto means none; so does NO_COLOR.
    let out = sb.cmd(&api(&server)).args(["search", "dune"]).output().unwrap();
    assert!(!stdout(&out).contains('\u{1b}'));
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--color", "never"])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\u{1b}'));
    // JSON is never coloured.
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--color", "always", "--json"])
        .output()
        .unwrap();
    assert!(!stdout(&out).contains('\u{1b}'));
}

#[tokio::test]
async fn quiet_keeps_data_and_errors_only() {
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "nothing", "-q"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    let out = sb
        .cmd(&api(&server))
        .args(["show", "", "--quiet"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("gbooks: error: "));
}

#[test]
fn open_uses_browser_and_prints_the_url() {
    let sb = Sandbox::new();
    let seen = sb.dir.path().join("opened.txt");
    let script = sb.dir.path().join("fake-browser.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1\" > '{}'\n", seen.display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = sb
        .cmd(NOWHERE)
        .args(["open", "AbyoDwAAQBAJ"])
        .env("BROWSER", &script)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let url = "https://books.google.com/books?id=AbyoDwAAQBAJ";
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains(url));
    let started = Instant::now();
    while !seen.exists() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(std::fs::read_to_string(&seen).unwrap().trim(), url);
}

/// On a terminal the table fits its width and is coloured; `script` gives a pty.
#[tokio::test]
async fn on_a_terminal_tables_fit_and_have_colour() {
    if !std::path::Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: no /usr/bin/script for a pseudo-terminal");
        return;
    }
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let log = sb.dir.path().join("typescript");
    let bin = assert_cmd::cargo::cargo_bin("gbooks");
    let inner = format!("stty rows 24 cols 50; '{}' search dune --limit 3", bin.display());
    let mut cmd = std::process::Command::new("/usr/bin/script");
    cmd.env_clear()
        .env("TERM", "xterm")
        .args(["-qec", &inner])
        .arg(&log)
        .stdout(std::process::Stdio::null());
    for (k, v) in sb.std_cmd(&api(&server)).get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    assert!(cmd.status().unwrap().success());
    let text = std::fs::read_to_string(&log).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("Dune") || l.starts_with("ID"))
        .collect();
    assert_eq!(rows.len(), 4, "{text}");
    for row in &rows {
        let plain = row
            .replace("\u{1b}[2m", "")
            .replace("\u{1b}[1m", "")
            .replace("\u{1b}[0m", "");
        assert!(plain.trim_end_matches('\r').chars().count() <= 50, "{plain:?}");
    }
    assert!(text.contains('…'), "long titles are cut: {text}");
    assert!(
        text.contains("\u{1b}[1mDune"),
        "titles are bold on a terminal: {text}"
    );
}
