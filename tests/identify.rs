//! `gbooks identify`: candidates from the ISBN and title queries, ranked
//! with reasons, duplicates merged, `--best` and its exit 3.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::support::*;
use crate::verified_isbn::{carrying, google};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Candidate {
    score: u8,
    reasons: Vec<String>,
    volume: Value,
}

fn dune_page() -> Vec<Value> {
    fixture_json("identify/dune_fr_first.json")["items"]
        .as_array()
        .unwrap()
        .clone()
}

const DUNE_QUERY: &str = "intitle:Dune inauthor:Herbert";

#[tokio::test]
async fn an_english_edition_beats_a_french_one_listed_first() {
    let (fake, calls) = google(
        HashMap::from([(DUNE_QUERY.to_string(), dune_page())]),
        HashMap::new(),
    );
    let sb = Sandbox::new();
    let base = [
        "identify",
        "--title",
        "Dune",
        "--author",
        "Frank Herbert",
        "--lang",
        "en",
    ];
    let out = run(sb.cmd(&fake.api()).args(base).args(["--best", "--json"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let best: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(best["id"], "enDuneAce01J", "{best}");

    // The whole ranking: best first, the same edition under two ids once.
    let out = run(sb.cmd(&fake.api()).args(base).arg("--json")).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<Candidate> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = got.iter().map(|c| c.volume["id"].as_str().unwrap()).collect();
    assert_eq!(ids[0], "enDuneAce01J", "{ids:?}");
    assert!(!ids.contains(&"enDuneAce02J"), "duplicate not merged: {ids:?}");
    assert_eq!(ids.len(), 5, "{ids:?}");
    assert!(got.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(
        got[0].score >= 50 && got[0].reasons.iter().any(|r| r == "language en"),
        "{:?}",
        got[0]
    );
    let french = got.iter().find(|c| c.volume["id"] == "frDune01AAAJ").unwrap();
    assert!(french.score < 50, "{french:?}");

    // The table: rank, score, id, title, authors, year, language, reasons.
    let out = run(sb.cmd(&fake.api()).args(base)).await;
    let text = stdout(&out);
    let header: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["RANK", "SCORE", "ID", "TITLE", "AUTHORS", "YEAR", "LANG", "REASONS"]
    );
    assert!(text.lines().nth(1).unwrap().starts_with("1 "), "{text}");
    assert!(text.contains("enDuneAce01J"), "{text}");

    // One query, from the title's words and the surname; no language filter.
    for call in calls.lock().unwrap().iter() {
        assert_eq!(call.param("q"), Some(DUNE_QUERY));
        assert_eq!(call.param("langRestrict"), None);
    }
}

#[tokio::test]
async fn an_isbn_and_a_title_finding_the_same_book_give_one_candidate() {
    let dune = carrying("dune", &[("ISBN_13", "9780441013593")]);
    let mut thin = carrying("dune-again", &[("ISBN_13", "9780441013593")]);
    thin["volumeInfo"]["title"] = "Title of dune".into();
    let answers = HashMap::from([
        ("isbn:9780441013593".to_string(), vec![dune.clone()]),
        (
            "intitle:Title intitle:dune".to_string(),
            vec![dune, thin, carrying("else", &[])],
        ),
    ]);
    let (fake, _) = google(answers, HashMap::new());
    let sb = Sandbox::new();
    let out = run(sb.cmd(&fake.api()).args([
        "identify",
        "--json",
        "--isbn",
        "978-0-441-01359-3",
        "--title",
        "Title of dune",
    ]))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<Candidate> = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = got.iter().map(|c| c.volume["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["dune", "else"]);
    assert!(
        got[0].reasons.contains(&"ISBN matches".to_string()),
        "{:?}",
        got[0]
    );
    assert!(got[0].score >= 80);
}

#[tokio::test]
async fn best_exits_3_with_the_best_score_and_why() {
    let answers = HashMap::from([(
        "intitle:Moby intitle:Dick".to_string(),
        vec![carrying("unrelated", &[])],
    )]);
    let (fake, _) = google(answers, HashMap::new());
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&fake.api())
        .args(["identify", "--best", "--title", "Moby Dick"]))
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = one_error_line(&out);
    assert!(
        err.contains("unrelated") && err.contains("scores") && err.contains("title differs"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[tokio::test]
async fn a_title_or_an_isbn_is_required() {
    let sb = Sandbox::new();
    for args in [
        vec!["identify"],
        vec!["identify", "--author", "Frank Herbert"],
        vec!["identify", "--title", "  "],
        vec!["identify", "--isbn", "12345"],
    ] {
        let out = run(sb.cmd(NOWHERE).args(&args)).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        one_error_line(&out);
    }
}
