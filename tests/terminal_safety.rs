//! Terminal safety: control, C1 and bidi characters in text from the API
//! never reach a terminal; JSON keeps the text exactly.

use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const DUNE: &str = "9780441013593";

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
        "access_token": oauth::ACCESS, "expires_at": 4_000_000_000u64,
        "scopes": [evil("https://www.googleapis.com/auth/books")], "client_id": evil("client"),
    });
    std::fs::write(sb.config_dir().join("credentials.json"), creds.to_string()).unwrap();

    let ok = |args: &[&str]| {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    let show = stdout(&ok(&["show", "v1"]));
    for field in ["Title", "Sub", "Author", "Pub", "Cat", "978", "http://p/", "Desc"] {
        assert!(show.contains(&format!("{field}]0;pwned")), "{field}: {show}");
    }
    assert_terminal_safe("show", &show);
    assert_terminal_safe("shelves", &stdout(&ok(&["shelves"])));
    assert_terminal_safe("shelves show", &stdout(&ok(&["shelves", "show", "1001"])));
    let added = stderr(&ok(&["shelves", "add", &evil("shelf"), "v1"]));
    assert!(added.starts_with("Added v1 to \"Shelf]0;pwned"), "{added}");
    assert_terminal_safe("shelves add", &added);
    let status = stdout(&ok(&["auth", "status"]));
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
    let json: serde_json::Value = serde_json::from_slice(&ok(&["show", "v1", "--json"]).stdout).unwrap();
    assert_eq!(json, detail);
    let json: serde_json::Value = serde_json::from_slice(&ok(&["shelves", "--json"]).stdout).unwrap();
    assert_eq!(json, shelves["items"]);
    let json: serde_json::Value = serde_json::from_slice(&ok(&["auth", "status", "--json"]).stdout).unwrap();
    assert_eq!(json["client_id"], evil("client"));
}

#[tokio::test]
async fn search_tables_are_sanitised_but_json_is_exact() {
    let server = MockServer::start().await;
    let evil = "Evil\u{1b}]0;pwned\u{7}\u{202e}Title";
    mount_json(&server, "/books/v1/volumes", volumes(vec![volume("e1", evil)])).await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["search", "x"]).output().unwrap();
    let text = stdout(&out);
    assert!(text.contains("Evil]0;pwnedTitle"), "{text:?}");
    assert!(!text
        .chars()
        .any(|c| c == '\u{1b}' || c == '\u{202e}' || c == '\u{7}'));
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--json"])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got[0]["volumeInfo"]["title"], evil);
}

#[tokio::test]
async fn isbn_tables_are_sanitised_but_json_is_exact() {
    let server = MockServer::start().await;
    let evil = "Dune\u{1b}[2J\u{202e}evil\u{7}";
    let mut found = volume("d1", evil);
    found["volumeInfo"]["industryIdentifiers"] = json!([{"type": "ISBN_13", "identifier": DUNE}]);
    mount_json(&server, "/books/v1/volumes", volumes(vec![found])).await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["isbn", DUNE]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Dune[2Jevil"), "{text:?}");
    assert!(!text.contains(['\u{1b}', '\u{202e}', '\u{7}']), "{text:?}");
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", DUNE, "--json"])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got[0]["volume"]["volumeInfo"]["title"], evil);
}
