//! The progress bar of long lists leaves nothing behind: the screen after
//! the run (as a terminal emulator draws it) has the table and no bar
//! frame, also when Ctrl-C stops the run.

use std::time::Duration;

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::pty::Terminal;
use crate::support::*;

const USER: &str = "1234567890";

/// A list whose pages come slowly, so the bar draws a few frames; pages
/// from `stall_from` on take a minute (the test presses Ctrl-C first).
struct Slow {
    list: List,
    stall_from: u128,
}

impl wiremock::Respond for Slow {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let start: u128 = req
            .url
            .query_pairs()
            .find(|(n, _)| n == "startIndex")
            .map_or(0, |(_, v)| v.parse().unwrap());
        let delay = if start >= self.stall_from { 60_000 } else { 400 };
        self.list.respond(req).set_delay(Duration::from_millis(delay))
    }
}

async fn slow_server(at: &str, stall_from: u128) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(at))
        .respond_with(Slow {
            list: List {
                total_items: Some(100),
                ..List::of(100)
            },
            stall_from,
        })
        .mount(&server)
        .await;
    server
}

/// The final screen of a run on a 60 x 100 terminal, and its exit code.
fn screen_after(term: Terminal) -> (u32, String) {
    let (code, bytes) = term.finish();
    let mut parser = vt100::Parser::new(60, 100, 0);
    parser.process(bytes.as_bytes());
    (code, parser.screen().contents())
}

fn assert_no_bar(screen: &str) {
    for line in screen.lines() {
        assert!(
            !line.contains("volumes") && !line.contains("/45") && !line.contains("=>"),
            "a bar frame stayed: {line:?}\n{screen}"
        );
    }
}

#[tokio::test]
async fn search_and_shelves_show_leave_no_bar_above_the_table() {
    let search = slow_server("/books/v1/volumes", u128::MAX).await;
    let shelf = slow_server(
        &format!("/books/v1/users/{USER}/bookshelves/0/volumes"),
        u128::MAX,
    )
    .await;
    let sb = Sandbox::new();
    let runs = [
        (api(&search), vec!["search", "x", "--limit", "45", "--no-pager"]),
        (
            api(&shelf),
            vec![
                "shelves",
                "show",
                "0",
                "--user",
                USER,
                "--limit",
                "45",
                "--no-pager",
            ],
        ),
    ];
    for (base, args) in runs {
        let mut cmd = sb.std_cmd(&base);
        cmd.env("TERM", "xterm").args(&args);
        let term = Terminal::spawn(&cmd, 60, 100);
        let shown = tokio::task::spawn_blocking(move || {
            term.wait_for("volumes");
            term
        })
        .await
        .unwrap();
        let (code, screen) = tokio::task::spawn_blocking(move || screen_after(shown))
            .await
            .unwrap();
        assert_eq!(code, 0, "{args:?}: {screen}");
        assert!(
            screen.trim_start().starts_with("ID"),
            "the table starts at the top: {screen}"
        );
        assert!(screen.contains("v44"), "{screen}");
        assert_no_bar(&screen);
    }
}

#[tokio::test]
async fn ctrl_c_clears_the_bar() {
    let search = slow_server("/books/v1/volumes", 40).await;
    let sb = Sandbox::new();
    let mut cmd = sb.std_cmd(&api(&search));
    cmd.env("TERM", "xterm")
        .args(["search", "x", "--limit", "45", "--no-pager"]);
    let (code, screen) = tokio::task::spawn_blocking(move || {
        let mut term = Terminal::spawn(&cmd, 60, 100);
        term.wait_for("40/45");
        term.ctrl_c();
        screen_after(term)
    })
    .await
    .unwrap();
    assert_eq!(code, 130, "{screen}");
    assert_no_bar(&screen);
}
