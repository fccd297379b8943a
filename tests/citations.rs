//! Citation formats through the binary: what `search`, `show`, `isbn` and
//! `shelves show` print in `--format bibtex|biblatex|ris|csl-json`, read
//! back by the real readers (pandoc's citeproc, bibtexparser, rispy).

use std::process::Command;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// The recorded search answer (Freedom Writers) served for any search.
async fn server() -> MockServer {
    let server = MockServer::start().await;
    let body = fixture_json("bib/samples/volumes.list__q_freedom_writers.json");
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    server
}

fn search(server: &MockServer, format: &str) -> String {
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(server))
        .args(["search", "freedom writers", "--format", format])
        .output()
        .unwrap();
    assert!(out.status.success(), "{format}: {}", stderr(&out));
    stdout(&out)
}

/// `pandoc -f <from> -t csljson`: the items pandoc read, and its stderr.
fn pandoc_items(text: &str, from: &str) -> (Vec<Value>, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refs");
    std::fs::write(&file, text).unwrap();
    let out = Command::new("pandoc")
        .args(["-f", from, "-t", "csljson"])
        .arg(&file)
        .output()
        .expect("pandoc is installed by .ci/run");
    assert!(out.status.success(), "pandoc -f {from}: {}", stderr(&out));
    let items = serde_json::from_slice(&out.stdout).unwrap();
    (items, stderr(&out))
}

/// The titles the recorded answer holds, in its order.
fn recorded_titles() -> Vec<String> {
    fixture_json("bib/samples/volumes.list__q_freedom_writers.json")["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let info = &v["volumeInfo"];
            // A subtitle's leading dash ("- the …") is punctuation, not text.
            match info["subtitle"].as_str() {
                Some(sub) => format!(
                    "{}: {}",
                    info["title"].as_str().unwrap(),
                    sub.trim_start_matches(['-', ' '])
                ),
                None => info["title"].as_str().unwrap().to_string(),
            }
        })
        .collect()
}

#[tokio::test]
async fn pandoc_reads_every_search_result_in_each_format() {
    let server = server().await;
    let titles = recorded_titles();
    for (format, from) in [
        ("bibtex", "bibtex"),
        ("biblatex", "biblatex"),
        ("csl-json", "csljson"),
    ] {
        let (items, warnings) = pandoc_items(&search(&server, format), from);
        assert_eq!(warnings, "", "{format}: pandoc warned");
        // pandoc reads TeX quotes typographically: ' becomes ’.
        let got: Vec<String> = items
            .iter()
            .map(|i| i["title"].as_str().unwrap_or("").replace('’', "'"))
            .collect();
        assert_eq!(got, titles, "{format}");
        for item in &items {
            assert_eq!(item["type"], "book", "{format}: {item}");
            let first = &item["author"][0];
            assert!(
                first["family"].is_string() || first["literal"].is_string(),
                "{format}: {item}"
            );
            assert!(item["issued"]["date-parts"][0][0].is_number(), "{format}: {item}");
        }
    }
}

#[tokio::test]
async fn bibtex_keys_are_unique_and_ris_reads_back() {
    let server = server().await;
    let bib = search(&server, "bibtex");
    let keys: Vec<&str> = bib
        .lines()
        .filter_map(|l| l.strip_prefix("@book{"))
        .map(|l| l.trim_end_matches(','))
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(keys.len(), recorded_titles().len(), "{bib}");
    assert_eq!(unique.len(), keys.len(), "keys clash: {keys:?}");

    let ris = search(&server, "ris");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refs.ris");
    std::fs::write(&file, &ris).unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import json, sys, rispy\n\
             with open(sys.argv[1]) as f:\n    print(json.dumps([e['title'] for e in rispy.load(f)]))",
        )
        .arg(&file)
        .output()
        .expect("python3 with rispy is installed by .ci/run");
    assert!(out.status.success(), "rispy: {}", stderr(&out));
    let titles: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(titles, recorded_titles());
}

#[tokio::test]
async fn show_and_isbn_cite_too_and_other_commands_refuse() {
    let server = MockServer::start().await;
    let volume = fixture_json("bib/samples/volumes.get__AbyoDwAAQBAJ.json");
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/AbyoDwAAQBAJ"))
        .respond_with(ResponseTemplate::new(200).set_body_json(volume.clone()))
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["show", "AbyoDwAAQBAJ", "--format", "csl-json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let items: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], volume["volumeInfo"]["title"]);

    let out = sb
        .cmd(&api(&server))
        .args(["cache", "stats", "--format", "bibtex"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        one_error_line(&out).contains("citation formats (bibtex, biblatex, ris, csl-json) print volumes"),
        "{}",
        stderr(&out)
    );
}
