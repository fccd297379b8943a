//! `gbooks search`: the query as typed, its options, and its output
//! formats.

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::support::*;

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

#[tokio::test]
async fn jsonl_and_csv() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", fixture_json("search_dune.json")).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["--format", "jsonl", "search", "dune"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["volumeInfo"]["futureField"]["nested"][1], 2.5);

    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,title,authors,publisher,published_date,isbn_13,isbn_10,page_count,language"
    );
    assert_eq!(
        lines.next().unwrap(),
        "B1hSG45JCX4C,Dune,Frank Herbert,Penguin,2003-08-26,9781101658055,1101658053,896,en"
    );
    assert_eq!(lines.next().unwrap(), "ydQiDQAAQBAJ,Dune Messiah,,,1978-04,,,,");
    assert_eq!(
        lines.next().unwrap(),
        "nOpePcOUWsAC,Dune: The Machine Crusade,Brian Herbert; Kevin J. Anderson,,2003,,,,"
    );
    // Table and CSV ask only for the fields they show.
    let q = queries(&server).await;
    let (json_runs, csv_runs) = q.split_at(q.len() / 2);
    assert!(json_runs.iter().all(|q| param(q, "fields").is_none()), "{q:?}");
    assert!(csv_runs
        .iter()
        .all(|q| param(q, "fields").is_some_and(|f| f.contains("volumeInfo("))));
}

#[tokio::test]
async fn no_results() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "zzzz", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        serde_json::json!([])
    );
    let out = sb.cmd(&api(&server)).args(["search", "zzzz"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out).trim(), "No books found.");
}

#[tokio::test]
async fn query_reaches_the_server_exactly() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    for (args, want) in [
        (vec!["C++ & Rust #1"], "C++ & Rust #1"),
        (vec!["Cien", "años"], "Cien años"),
        (vec!["--", "\"exact phrase\"", "-skip"], "\"exact phrase\" -skip"),
        (
            vec![
                "dune",
                "--title",
                "the spice",
                "--author",
                "Herbert",
                "--isbn",
                "978-0",
            ],
            "dune intitle:\"the spice\" inauthor:Herbert isbn:978-0",
        ),
        (
            vec![
                "--publisher",
                "Ace",
                "--subject",
                "fiction",
                "--lccn",
                "123",
                "--oclc",
                "456",
            ],
            "inpublisher:Ace subject:fiction lccn:123 oclc:456",
        ),
    ] {
        let out = sb.cmd(&api(&server)).arg("search").args(&args).output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let q = queries(&server).await;
        assert_eq!(param(q.last().unwrap(), "q"), Some(want));
    }
    // Reserved characters are percent-encoded, never sent raw or as '+'.
    let raw = server.received_requests().await.unwrap()[0]
        .url
        .query()
        .unwrap()
        .to_string();
    assert!(raw.contains("q=C%2B%2B%20%26%20Rust%20%231"), "{raw}");
}

#[tokio::test]
async fn options_become_parameters() {
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![])).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args([
            "search",
            "x",
            "--filter",
            "free-ebooks",
            "--print-type",
            "books",
            "--order",
            "newest",
        ])
        .args([
            "--lang",
            "fr",
            "--download",
            "epub",
            "--projection",
            "lite",
            "--country",
            "de",
        ])
        .args(["--offset", "20", "--limit", "5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let q = &queries(&server).await[0];
    for (k, v) in [
        ("filter", "free-ebooks"),
        ("printType", "books"),
        ("orderBy", "newest"),
        ("langRestrict", "fr"),
        ("download", "epub"),
        ("projection", "lite"),
        ("country", "DE"),
        ("startIndex", "20"),
        // Five wanted and five spare, for the volumes the API repeats.
        ("maxResults", "10"),
    ] {
        assert_eq!(param(q, k), Some(v), "{k}");
    }
    assert_eq!(param(q, "key"), None);
}

#[tokio::test]
async fn bad_input_is_a_usage_error_and_sends_nothing() {
    let server = MockServer::start().await;
    let sb = Sandbox::new();
    for args in [
        vec!["search"],
        vec!["search", "  "],
        vec!["search", "x", "--limit", "0"],
        vec!["search", "x", "--limit", "-3"],
        vec!["search", "x", "--limit", "ten"],
        vec!["search", "x", "--filter", "nope"],
        vec!["search", "x", "--country", "USA"],
        vec!["search", "x", "--timeout", "0"],
        vec!["search", "x", "--format", "xml"],
        vec!["show", ""],
    ] {
        let out = sb.cmd(&api(&server)).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stdout(&out).is_empty());
        assert!(!stderr(&out).is_empty());
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn pages_past_forty_without_repeats() {
    let server = MockServer::start().await;
    // Pages of 40; each later page repeats one volume of the first.
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(List {
            total_items: Some(1000),
            repeat: Some(1),
            ..List::of(95)
        })
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--limit", "85", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = got.iter().map(|v| v["id"].as_str().unwrap()).collect();
    let unique: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(ids.len(), 85);
    assert_eq!(stderr(&out), "", "no progress bar when stderr is not a terminal");
    assert_eq!(unique.len(), 85);
    let q = queries(&server).await;
    assert!(q
        .iter()
        .all(|q| param(q, "maxResults").unwrap().parse::<u32>().unwrap() <= 40));

    // The whole list is shorter than the limit: it stops at the empty page.
    let out = sb
        .cmd(&api(&server))
        .args(["search", "x", "--limit", "500", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got.len(), 93); // 95 minus the two repeats
}
