//! Shelves: another user's public ones and your own (add, remove, move,
//! clear), by id or by name.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

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
        .respond_with(List {
            total_items: Some(130),
            ..List::of(130)
        })
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

const TOKEN: &str = "ya29.SHELVES-test-access-token";

fn logged_in() -> Sandbox {
    let sb = Sandbox::new();
    sb.write_credentials(TOKEN, 3000, Some("1//refresh-for-shelves"));
    sb
}

async fn my_library(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/books/v1/mylibrary/bookshelves"))
        .and(wiremock::matchers::header(
            "authorization",
            format!("Bearer {TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(fixture_json("shelves_mine.json")))
        .mount(server)
        .await;
}

#[tokio::test]
async fn your_shelves_with_your_token() {
    let server = MockServer::start().await;
    my_library(&server).await;
    let sb = logged_in();
    let out = sb.cmd(&api(&server)).args(["shelves"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.lines().nth(2).unwrap().starts_with("2     To read  "),
        "{text}"
    );
    assert!(text.contains("1004  Space Opera"), "{text}");
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "list", "--json"])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, fixture_json("shelves_mine.json")["items"]);
    assert_no_secrets(&out, None);
}

#[tokio::test]
async fn your_shelf_volumes_by_name() {
    let server = MockServer::start().await;
    my_library(&server).await;
    let mut page = volumes(vec![volume("m1", "Mine one"), volume("m2", "Mine two")]);
    page["totalItems"] = 2.into();
    Mock::given(method("GET"))
        .and(path("/books/v1/mylibrary/bookshelves/1004/volumes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page))
        .expect(1)
        .mount(&server)
        .await;
    let sb = logged_in();
    let out = sb
        .cmd(&api(&server))
        .args(["shelves", "show", "space-opera", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 3, "{}", stdout(&out));
    for req in server.received_requests().await.unwrap() {
        assert_eq!(
            authorization(&req).as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}

#[tokio::test]
async fn add_remove_move_and_clear() {
    let server = MockServer::start().await;
    my_library(&server).await;
    for action in ["addVolume", "removeVolume", "moveVolume", "clearVolumes"] {
        Mock::given(method("POST"))
            .and(path(format!("/books/v1/mylibrary/bookshelves/2/{action}")))
            .respond_with(ResponseTemplate::new(204))
            .expect(1)
            .mount(&server)
            .await;
    }
    let sb = logged_in();
    for (args, said) in [
        (
            vec!["add", "to read", "AbyoDwAAQBAJ"],
            "Added AbyoDwAAQBAJ to \"To read\".\n",
        ),
        (
            vec!["remove", "TO_READ", "AbyoDwAAQBAJ"],
            "Removed AbyoDwAAQBAJ from \"To read\".\n",
        ),
        (
            vec!["move", "to-read", "AbyoDwAAQBAJ", "3"],
            "Moved AbyoDwAAQBAJ to position 3 on \"To read\".\n",
        ),
        (vec!["clear", "2", "--yes"], "Cleared shelf 2.\n"),
    ] {
        let out = sb.cmd(&api(&server)).arg("shelves").args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), said);
        assert_eq!(stdout(&out), "");
    }
    let posts: Vec<_> = server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    assert_eq!(posts.len(), 4);
    let q = |i: usize, k: &str| {
        posts[i]
            .url
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(q(0, "volumeId").as_deref(), Some("AbyoDwAAQBAJ"));
    assert_eq!(q(2, "volumePosition").as_deref(), Some("3"));
    assert_eq!(q(3, "volumeId"), None);
    for p in &posts {
        assert_eq!(
            authorization(p).as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
}

#[tokio::test]
async fn shelf_errors_carry_googles_message() {
    let server = MockServer::start().await;
    my_library(&server).await;
    let error = |code: u16, reason: &str, message: &str| {
        ResponseTemplate::new(code).set_body_json(api_error(code, reason, message))
    };
    Mock::given(method("POST"))
        .and(path("/books/v1/mylibrary/bookshelves/7/addVolume"))
        .respond_with(error(403, "forbidden", "Cannot add volumes to this shelf."))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/books/v1/mylibrary/bookshelves/2/addVolume"))
        .respond_with(error(404, "notFound", "The volume ID could not be found."))
        .mount(&server)
        .await;
    let sb = logged_in();
    for (args, code, said) in [
        (
            ["add", "my ebooks", "x1"],
            1,
            "gbooks: error: 403 forbidden: Cannot add volumes to this shelf.\n",
        ),
        (
            ["add", "to read", "nope"],
            3,
            "gbooks: error: 404 notFound: The volume ID could not be found.\n",
        ),
        (
            ["remove", "wish list", "x1"],
            2,
            "gbooks: error: no shelf named \"wish list\"; shelves: favorites, my google ebooks, reading now, space opera, to read\n",
        ),
    ] {
        let out = sb.cmd(&api(&server)).arg("shelves").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out), said, "{args:?}");
    }
}

#[tokio::test]
async fn public_shelves_never_carry_your_token() {
    let server = MockServer::start().await;
    public_user(&server).await;
    let sb = logged_in();
    sb.cmd(&api(&server))
        .args(["shelves", "--user", USER])
        .assert()
        .success();
    sb.cmd(&api(&server))
        .args(["shelves", "show", "sci fi classics", "--user", USER])
        .assert()
        .success();
    let requests = server.received_requests().await.unwrap();
    // The shelf list, then the shelf's volumes: the second list comes from the
    // cache, which only answers without a token.
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| authorization(r).is_none()));
}

/// Another user's shelves: an unknown user or shelf is "not found" (3), a
/// private one is a failure (1), each with Google's message.
#[tokio::test]
async fn public_shelf_errors_carry_their_code() {
    let server = MockServer::start().await;
    let error = |code: u16, reason: &str| {
        ResponseTemplate::new(code).set_body_json(api_error(code, reason, &format!("{reason} here")))
    };
    Mock::given(method("GET"))
        .and(path("/books/v1/users/nobody/bookshelves"))
        .respond_with(error(404, "notFound"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/books/v1/users/u1/bookshelves/9/volumes"))
        .respond_with(error(403, "forbidden"))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for (args, code, want) in [
        (
            &["shelves", "--user", "nobody"][..],
            3,
            "gbooks: error: 404 notFound: notFound here",
        ),
        (
            &["shelves", "show", "to read", "--user", "nobody"],
            3,
            "gbooks: error: 404 notFound: notFound here",
        ),
        (
            &["shelves", "show", "9", "--user", "u1"],
            1,
            "gbooks: error: 403 forbidden: forbidden here",
        ),
        (&["shelves", "--user", " "], 2, "gbooks: error: empty --user"),
    ] {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", stderr(&out));
        assert!(
            one_error_line(&out).starts_with(want),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}
