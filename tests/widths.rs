//! Tables fit the terminal as a terminal draws them: every row stays on one
//! screen line at 40, 80 and 200 columns, whatever the script. The screen
//! is read back through a terminal emulator (vt100, per code point as
//! terminals count), so a row that wraps shows as an extra line.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::pty::Terminal;
use crate::support::*;

fn book(id: &str, title: &str, authors: &[&str]) -> serde_json::Value {
    json!({"id": id, "volumeInfo": {"title": title, "authors": authors, "publishedDate": "2008-01-01"}})
}

/// Titles and authors that strings libraries and terminals measure apart.
fn hard_volumes() -> serde_json::Value {
    volumes(vec![
        book(
            "cjk00000001",
            "三体：地球往事三部曲之一，科幻小说的经典之作",
            &["刘慈欣", "ケン・リュウ"],
        ),
        book(
            "emoji000002",
            "📚 Books and 👩‍🔬 scientists 🇫🇷 in a 🧪 lab with 🐉 dragons",
            &["Émoji Writer"],
        ),
        book(
            "rtl00000003",
            "لا تحزن لأن الله معنا لا لا لأ لإ لآ في كتاب طويل جدا جدا",
            &["عائض القرني"],
        ),
        book(
            "mark0000004",
            "Ca\u{301}fe\u{301} Z\u{308}u\u{308}rich a\u{30a} combining marks o\u{302}\u{323} everywhere",
            &["Ŕ\u{327}ené"],
        ),
        book(
            "plain000005",
            "A plain ASCII title that is rather long, to be cut on narrow terminals",
            &["Someone Else", "And Another"],
        ),
    ])
}

/// The screen after `args` on a `rows` x `cols` terminal, as the
/// emulator's rows, and the exit code.
async fn screen(sb: &Sandbox, api: &str, args: &[&str], cols: u16) -> (u32, Vec<String>) {
    let mut cmd = sb.std_cmd(api);
    cmd.env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .args(args)
        .arg("--no-pager");
    let (code, bytes) = tokio::task::spawn_blocking(move || Terminal::spawn(&cmd, 30, cols).finish())
        .await
        .unwrap();
    let mut parser = vt100::Parser::new(30, cols, 0);
    parser.process(bytes.as_bytes());
    let rows = parser
        .screen()
        .rows(0, cols)
        .map(|r| r.trim_end().to_string())
        .filter(|r| !r.is_empty())
        .collect();
    (code, rows)
}

#[tokio::test]
async fn every_search_row_fits_at_40_80_and_200_columns() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", hard_volumes()).await;
    let sb = Sandbox::new();
    for cols in [40, 80, 200] {
        let (code, rows) = screen(&sb, &api(&server), &["search", "x"], cols).await;
        assert_eq!(code, 0, "{rows:#?}");
        // The header and one screen line per volume: a wrapped row would
        // add a line that starts with no id.
        assert_eq!(rows.len(), 6, "{cols} columns: {rows:#?}");
        assert!(rows[0].starts_with("ID"), "{rows:#?}");
        for (row, id) in rows[1..].iter().zip(["cjk", "emoji", "rtl", "mark", "plain"]) {
            assert!(row.starts_with(id), "{cols} columns: {row:?} in {rows:#?}");
        }
        if cols == 200 {
            assert!(
                rows[5].contains("to be cut on narrow terminals"),
                "nothing cut when it fits: {rows:#?}"
            );
        }
    }
}

#[tokio::test]
async fn shelves_at_40_columns_do_not_wrap() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/users/1234/bookshelves"))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_json("shelves_mine.json")))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let (code, rows) = screen(&sb, &api(&server), &["shelves", "--user", "1234"], 40).await;
    assert_eq!(code, 0, "{rows:#?}");
    assert_eq!(rows.len(), 6, "{rows:#?}");
    for row in &rows[1..] {
        assert!(
            row.split_whitespace().next().unwrap().parse::<u32>().is_ok(),
            "{row:?} in {rows:#?}"
        );
    }
}

#[tokio::test]
async fn isbn_errors_keep_their_start_at_40_columns() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![])))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let (code, rows) = screen(&sb, &api(&server), &["isbn", "9780441013593", "12345"], 40).await;
    assert_eq!(code, 1, "{rows:#?}");
    let table: Vec<&String> = rows
        .iter()
        .filter(|r| r.starts_with("978") || r.starts_with("123"))
        .collect();
    assert_eq!(table.len(), 2, "{rows:#?}");
    assert!(table[0].contains("error: not found"), "{rows:#?}");
    assert!(
        table[1].contains("error: "),
        "the start of the error shows: {rows:#?}"
    );
}
