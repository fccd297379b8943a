use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

#[tokio::test]
async fn shows_one_volume_in_detail() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/books/v1/volumes/AbyoDwAAQBAJ",
        fixture_json("volume_detail.json"),
    )
    .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["show", "AbyoDwAAQBAJ"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "Title:      Freedom Writers Diary (20th Anniversary Edition)",
        "Subtitle:   How a Teacher",
        "Authors:    The Freedom Writers; Erin Gruwell",
        "Publisher:  Crown",
        "Published:  2009-04-08",
        "Pages:      368",
        "Categories: Education / Teaching / General",
        "Language:   en",
        "ISBN-13:    9780385494229",
        "ISBN-10:    0385494220",
        "Preview:    http://books.google.com/books?id=AbyoDwAAQBAJ",
        "Info:       https://play.google.com/store/books/details?id=AbyoDwAAQBAJ",
        "NOW WITH A NEW INTRODUCTION\n\nAs an idealistic first-year teacher & a room full of teens\nwrote diaries.",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(!text.contains("<b>"));

    let out = sb
        .cmd(&api(&server))
        .args(["show", "AbyoDwAAQBAJ", "--json"])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, fixture_json("volume_detail.json"));
}

#[tokio::test]
async fn unknown_volume_exits_3_with_googles_message() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/nope"))
        .respond_with(ResponseTemplate::new(404).set_body_string(fixture("error_404_volume.json")))
        .expect(1)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["show", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(
        stderr(&out),
        "gbooks: error: 404 notFound: The volume ID could not be found.\n"
    );
    assert!(stdout(&out).is_empty());
}

#[tokio::test]
async fn volume_id_is_one_path_segment() {
    let server = MockServer::start().await;
    mount_json(
        &server,
        "/books/v1/volumes/a%2Fb%3Fc",
        fixture_json("volume_detail.json"),
    )
    .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["show", "a/b?c", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}
