use serde_json::Value;
use wiremock::MockServer;

use crate::common::*;

#[tokio::test]
async fn table_shows_id_title_authors_year() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["search", "dune"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["ID", "TITLE", "AUTHORS", "YEAR"]
    );
    assert!(lines[1].starts_with("B1hSG45JCX4C  Dune "), "{text}");
    assert!(
        lines[1].contains("  Frank Herbert  ") && lines[1].ends_with("  2003"),
        "{text}"
    );
    assert!(lines[3].contains("Brian Herbert; Kevin J. Anderson"), "{text}");
    assert_eq!(lines.len(), 4, "{text}");
}

#[tokio::test]
async fn json_is_lossless() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = fixture_json("search_dune.json")["items"].clone();
    assert_eq!(got, want);
}
