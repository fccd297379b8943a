//! `gbooks isbn` takes only a volume that carries the ISBN asked for: the
//! three queries in order, `--loose`, `--full`, and never `langRestrict`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::support::fake::{Call, FakeApi, Reply};
use crate::support::*;

const DUNE13: &str = "9780441013593";
const DUNE10: &str = "0441013597";

/// The `--json` entry, strictly.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub input: String,
    pub isbn: Option<String>,
    pub volume: Option<Value>,
    pub error: Option<String>,
    pub verified: bool,
}

/// A volume listing these identifiers.
pub fn carrying(id: &str, ids: &[(&str, &str)]) -> Value {
    let ids: Vec<Value> = ids
        .iter()
        .map(|(kind, number)| json!({"type": kind, "identifier": number}))
        .collect();
    json!({"kind": "books#volume", "id": id, "volumeInfo": {
        "title": format!("Title of {id}"), "authors": ["A. Writer"], "industryIdentifiers": ids}})
}

/// A fake that answers each `q` from `answers` (an empty page otherwise)
/// and `volumes/{id}` from `full`, and keeps every call.
pub fn google(
    answers: HashMap<String, Vec<Value>>,
    full: HashMap<String, Value>,
) -> (FakeApi, Arc<Mutex<Vec<Call>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let log = calls.clone();
    let fake = FakeApi::start(move |call: Call| {
        log.lock().unwrap().push(call.clone());
        let reply = if call.path == "/books/v1/volumes" {
            let q = call.param("q").unwrap_or_default();
            Reply::ok(&volumes(answers.get(q).cloned().unwrap_or_default()))
        } else {
            let id = call.path.rsplit('/').next().unwrap_or_default();
            match full.get(id) {
                Some(v) => Reply::ok(v),
                None => Reply::json(
                    404,
                    &api_error(404, "notFound", "The volume ID could not be found."),
                ),
            }
        };
        async move { reply }
    });
    (fake, calls)
}

fn qs(calls: &Arc<Mutex<Vec<Call>>>) -> Vec<String> {
    calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.param("q").map_or_else(|| c.path.clone(), str::to_string))
        .collect()
}

pub fn entries(out: &std::process::Output) -> Vec<Entry> {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[tokio::test]
async fn a_hit_that_does_not_carry_the_isbn_is_rejected() {
    let wrong = carrying("wrong", &[("ISBN_13", "9780441172719")]);
    let answers = HashMap::from([
        (format!("isbn:{DUNE13}"), vec![wrong.clone()]),
        (format!("isbn:{DUNE10}"), vec![wrong.clone()]),
        (DUNE13.to_string(), vec![wrong, carrying("other", &[])]),
    ]);
    let (fake, calls) = google(answers, HashMap::new());
    let sb = Sandbox::new();
    let missing = isbn13("978000000001");
    let out = run(sb.cmd(&fake.api()).args([
        "isbn",
        "--jobs",
        "1",
        "--json",
        "--no-cache",
        "978-0-441-01359-3",
        &missing,
    ]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let got = entries(&out);
    assert_eq!(got[0].volume, None);
    assert!(!got[0].verified);
    assert_eq!(
        got[0].error.as_deref(),
        Some(format!("no volume carries ISBN {DUNE13} (Google returned 2 other volumes)").as_str())
    );
    assert_eq!(got[1].error.as_deref(), Some("not found"));
    assert_eq!(
        (got[0].input.as_str(), got[0].isbn.as_deref()),
        ("978-0-441-01359-3", Some(DUNE13))
    );
    let asked = qs(&calls);
    // Both forms, then the bare number, for each ISBN.
    assert_eq!(
        asked[..3],
        [
            format!("isbn:{DUNE13}"),
            format!("isbn:{DUNE10}"),
            DUNE13.to_string()
        ]
    );
    assert_eq!(asked.len(), 6, "{asked:?}");
    for call in calls.lock().unwrap().iter() {
        assert_eq!(call.param("langRestrict"), None, "{call:?}");
    }
}

#[tokio::test]
async fn the_other_form_then_the_bare_number_find_what_isbn_did_not() {
    let dune = carrying("dune", &[("ISBN_10", DUNE10), ("ISBN_13", DUNE13)]);
    let sb = Sandbox::new();
    // Only the other form finds it; then only the bare number.
    for (found_by, sent) in [(format!("isbn:{DUNE10}"), 2), (DUNE13.to_string(), 3)] {
        let answers = HashMap::from([(found_by.clone(), vec![carrying("noise", &[]), dune.clone()])]);
        let (fake, calls) = google(answers, HashMap::new());
        let out = run(sb.cmd(&fake.api()).args(["isbn", "--json", "--no-cache", DUNE13])).await;
        assert!(out.status.success(), "{found_by}: {}", stderr(&out));
        let got = entries(&out);
        assert_eq!(got[0].volume.as_ref().unwrap()["id"], "dune", "{found_by}");
        assert!(got[0].verified);
        assert_eq!(got[0].error, None);
        let asked = qs(&calls);
        assert_eq!(asked.len(), sent, "{asked:?}");
        assert_eq!(asked.last(), Some(&found_by));
    }
    // An ISBN-10 given: isbn: with it, then with its ISBN-13.
    let answers = HashMap::from([(format!("isbn:{DUNE13}"), vec![dune.clone()])]);
    let (fake, calls) = google(answers, HashMap::new());
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--json", "--no-cache", "0-441-01359-7"]))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(qs(&calls), [format!("isbn:{DUNE10}"), format!("isbn:{DUNE13}")]);
}

#[tokio::test]
async fn loose_takes_the_best_unverified_hit_and_says_so() {
    let near = carrying("near", &[("ISBN_13", "9780441172719")]);
    let answers = HashMap::from([(format!("isbn:{DUNE13}"), vec![near])]);
    let (fake, _) = google(answers, HashMap::new());
    let sb = Sandbox::new();
    let out = run(sb.cmd(&fake.api()).args(["isbn", "--json", "--loose", DUNE13])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got = entries(&out);
    assert_eq!(got[0].volume.as_ref().unwrap()["id"], "near");
    assert!(!got[0].verified);
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--format", "csv", "--loose", DUNE13]))
    .await;
    let text = stdout(&out);
    assert!(
        text.lines().next().unwrap().ends_with(",error,verified"),
        "{text}"
    );
    assert!(text.lines().nth(1).unwrap().ends_with(",false"), "{text}");
}

#[tokio::test]
async fn full_replaces_each_hit_with_its_volumes_get_record_once() {
    let dune = carrying("dune", &[("ISBN_13", DUNE13)]);
    let mut whole = dune.clone();
    whole["volumeInfo"]["description"] = json!("The whole record.");
    whole["volumeInfo"]["printedPageCount"] = json!(612);
    let answers = HashMap::from([(format!("isbn:{DUNE13}"), vec![dune])]);
    let (fake, calls) = google(answers, HashMap::from([("dune".to_string(), whole.clone())]));
    let sb = Sandbox::new();
    for _ in 0..2 {
        let out = run(sb
            .cmd(&fake.api())
            .args(["isbn", "--json", "--full", DUNE13, DUNE13]))
        .await;
        assert!(out.status.success(), "{}", stderr(&out));
        let got = entries(&out);
        assert_eq!(got[0].volume.as_ref(), Some(&whole));
        assert_eq!(got[1].volume.as_ref(), Some(&whole));
        assert!(got[0].verified);
    }
    // One search and one volumes.get, both cached for the second run.
    assert_eq!(
        qs(&calls),
        [format!("isbn:{DUNE13}"), "/books/v1/volumes/dune".to_string()]
    );
}
