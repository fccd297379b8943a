use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::common::*;

const USER: &str = "106196942824430802445";

async fn public_user(server: &MockServer) {
    mount_json(
        server,
        &format!("/books/v1/users/{USER}/bookshelves"),
        fixture_json("shelves_public.json"),
    )
    .await;
    let items: Vec<Value> = (0..6)
        .map(|i| volume(&format!("s{i}"), &format!("Shelf book {i}")))
        .collect();
    let mut page = volumes(items);
    page["totalItems"] = 6.into();
    mount_json(
        server,
        &format!("/books/v1/users/{USER}/bookshelves/1001/volumes"),
        page,
    )
    .await;
}

#[tokio::test]
async fn lists_a_users_public_shelves() {
    let server = MockServer::start().await;
    public_user(&server).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "--user", USER])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<Vec<&str>> = text
        .lines()
        .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).collect())
        .collect();
    assert_eq!(lines[0], ["ID", "TITLE", "ACCESS", "VOLUMES", "UPDATED"]);
    assert_eq!(lines[1], ["0", "Favorites", "PUBLIC", "2", "2024-07-22"]);
    assert_eq!(lines[2], ["1001", "Sci-Fi Classics", "PUBLIC", "6", "2024-07-25"]);

    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "list", "--user", USER, "--json"])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, fixture_json("shelves_public.json")["items"]);
    // Public shelves never carry a bearer token.
    for req in server.received_requests().await.unwrap() {
        assert!(req.headers.get("authorization").is_none());
    }
}

#[tokio::test]
async fn shows_a_public_shelf_by_name() {
    let server = MockServer::start().await;
    public_user(&server).await;
    let sb = Sandbox::new();
    for name in ["sci fi classics", "SCI_FI-CLASSICS", "1001"] {
        let out = sb
            .cmd(&api(&server))
            .args(["shelves", "show", name, "--user", USER, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got.len(), 6, "{name}");
        assert_eq!(got[5]["volumeInfo"]["title"], "Shelf book 5");
    }
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "show", "1001", "--user", USER])
        .output()
        .unwrap();
    assert!(stdout(&out).contains("s3  Shelf book 3"), "{}", stdout(&out));
}

#[tokio::test]
async fn unknown_shelf_name_lists_the_valid_ones() {
    let server = MockServer::start().await;
    public_user(&server).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "show", "to read", "--user", USER])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "gbooks: error: no shelf named \"to read\"; shelves: favorites, sci-fi classics\n"
    );
}

#[tokio::test]
async fn a_whole_shelf_pages_by_forty() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("/books/v1/users/{USER}/bookshelves/0/volumes")))
        .respond_with(paged_list(130, 130, None))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "show", "0", "--user", USER, "--format", "jsonl"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 130);
    let q = queries(&server).await;
    assert!(
        q.iter()
            .all(|q| param(q, "maxResults").unwrap().parse::<u32>().unwrap() <= 40),
        "{q:?}"
    );
    assert_eq!(q.len(), 4, "130 volumes in pages of 40: {q:?}");
}

#[tokio::test]
async fn private_shelves_need_a_login_and_send_nothing() {
    let server = MockServer::start().await;
    let sb = Sandbox::new();
    for args in [
        vec!["shelves"],
        vec!["shelves", "list"],
        vec!["shelves", "show", "to read"],
        vec!["shelves", "add", "2", "abc"],
        vec!["shelves", "clear", "2", "--yes"],
    ] {
        let out = sb.cmd(&api(&server)).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert_eq!(
            stderr(&out),
            "gbooks: error: not logged in; run gbooks login\n",
            "{args:?}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn clear_without_a_terminal_needs_yes() {
    let server = MockServer::start().await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "clear", "to read"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--yes"), "{}", stderr(&out));
    assert!(server.received_requests().await.unwrap().is_empty());
}
