//! The hardening pass (issue 7): failure paths that earlier tests left out,
//! each giving one `gbooks: error:` line and its exit code, never a panic.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

#[tokio::test]
async fn offsets_past_the_apis_range_are_usage_errors_not_panics() {
    let server = MockServer::start().await;
    // Every page is full, so paging goes on past the first one.
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(|req: &wiremock::Request| {
            let get = |k: &str| -> u128 {
                req.url
                    .query_pairs()
                    .find(|(n, _)| n == k)
                    .map_or(0, |(_, v)| v.parse().unwrap())
            };
            let (start, max) = (get("startIndex"), get("maxResults"));
            let items = (start..start + max)
                .map(|i| volume(&format!("v{i}"), "t"))
                .collect();
            let mut page = volumes(items);
            page["totalItems"] = u64::MAX.into();
            ResponseTemplate::new(200).set_body_json(page)
        })
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for args in [
        &["search", "x", "--offset", "18446744073709551615"][..],
        &["search", "x", "--offset", "4294967296", "--limit", "100"],
        &[
            "shelves",
            "show",
            "2",
            "--user",
            "u1",
            "--offset",
            "18446744073709551615",
        ],
    ] {
        let out = sb.cmd(&api(&server)).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    // The largest startIndex the API takes still pages without overflow.
    let out = sb
        .cmd(&api(&server))
        .args([
            "search",
            "x",
            "--offset",
            "4294967295",
            "--limit",
            "100",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 100);
    assert_eq!(got[0]["id"], "v4294967295");
}
