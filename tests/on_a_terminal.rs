//! gbooks on a real pseudo-terminal: tables fit its width and have colour,
//! and `shelves clear` asks before it clears.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::pty::Terminal;
use crate::support::*;

#[tokio::test]
async fn tables_fit_the_terminal_and_have_colour() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let mut cmd = sb.std_cmd(&api(&server));
    cmd.env("TERM", "xterm").args(["search", "dune", "--limit", "3"]);
    let (code, text) = tokio::task::spawn_blocking(move || Terminal::spawn(&cmd, 24, 50).finish())
        .await
        .unwrap();
    assert_eq!(code, 0, "{text}");
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

/// `gbooks shelves clear 2` on a terminal, with `answer` typed at its
/// question, or Ctrl-C when `None`; `clears` is how many clear calls the
/// API must get. Returns the exit code.
async fn clear_on_a_terminal(answer: Option<&'static str>, clears: u64) -> u32 {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/books/v1/mylibrary/bookshelves/2/clearVolumes"))
        .respond_with(ResponseTemplate::new(204))
        .expect(clears)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    sb.write_credentials(oauth::ACCESS, 3000, None);
    let mut cmd = sb.std_cmd(&api(&server));
    cmd.env("TERM", "dumb").args(["shelves", "clear", "2"]);
    let (code, _) = tokio::task::spawn_blocking(move || {
        let mut terminal = Terminal::spawn(&cmd, 24, 80);
        terminal.wait_for("[y/N]");
        match answer {
            Some(text) => terminal.type_text(text),
            None => terminal.ctrl_c(),
        }
        terminal.finish()
    })
    .await
    .unwrap();
    server.verify().await;
    code
}

/// "y" clears, Enter (no) does not, and Ctrl-C ends the run with 130 and
/// clears nothing.
#[tokio::test]
async fn the_clear_question_takes_yes_no_and_ctrl_c() {
    let cases = [
        ("yes", Some("y\n"), 1, 0),
        ("Enter, for no", Some("\n"), 0, 0),
        ("Ctrl-C", None, 0, 130),
    ];
    check_cases(
        cases.map(|(name, answer, clears, code)| (name.to_string(), (answer, clears, code))),
        |(answer, clears, code)| async move {
            assert_eq!(clear_on_a_terminal(answer, clears).await, code);
        },
    )
    .await;
}

#[tokio::test]
async fn no_colour_on_a_dumb_terminal_or_with_clicolor_0() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    for (name, value) in [("TERM", "dumb"), ("CLICOLOR", "0")] {
        let mut cmd = sb.std_cmd(&api(&server));
        cmd.env("TERM", "xterm")
            .env(name, value)
            .args(["search", "dune", "--limit", "3", "--no-pager"]);
        let (code, text) = tokio::task::spawn_blocking(move || Terminal::spawn(&cmd, 24, 80).finish())
            .await
            .unwrap();
        assert_eq!(code, 0, "{text}");
        assert!(text.contains("Dune"), "{text}");
        assert!(!text.contains('\u{1b}'), "{name}={value}: {text:?}");
    }
}
