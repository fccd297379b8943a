//! Colour only when asked or on a terminal (see `on_a_terminal` for the
//! terminal itself); `--quiet` keeps data and errors only.

use crate::support::*;

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
    // Piped, auto means none; so does never.
    for args in [&["search", "dune"][..], &["search", "dune", "--color", "never"]] {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert!(!stdout(&out).contains('\u{1b}'), "{args:?}");
    }
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
fn quiet_silences_login_notes_and_warnings() {
    let sb = Sandbox::new();
    sb.write_credentials(oauth::ACCESS, 3000, Some(oauth::REFRESH));
    // The revocation fails (nothing listens on port 9): a warning, silenced.
    let out = sb.cmd(NOWHERE).args(["-q", "logout"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
    assert!(!sb.credentials_file().exists());
    let out = sb.cmd(NOWHERE).args(["logout", "--quiet"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stderr(&out), "");
}

#[tokio::test]
async fn clicolor_force_colours_a_pipe_unless_no_color() {
    let server = wiremock::MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let coloured = |env: &[(&str, &str)], args: &[&str]| {
        let mut cmd = sb.cmd(&api(&server));
        cmd.args(["search", "dune"]).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        stdout(&cmd.output().unwrap()).contains('\u{1b}')
    };
    assert!(coloured(&[("CLICOLOR_FORCE", "1")], &[]));
    assert!(coloured(&[("CLICOLOR_FORCE", "1"), ("TERM", "dumb")], &[]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")], &[]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "1")], &["--color", "never"]));
    assert!(!coloured(&[("CLICOLOR_FORCE", "0")], &[]));
}
