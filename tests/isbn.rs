//! `gbooks isbn`: batch lookups in input order, each printed when ready,
//! with workers that share a pause after a 429; and the output formats.

use std::io::BufRead;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::fake::{self, Call, FakeApi, Latch, Reply, Step};
use crate::support::*;

const DUNE: &str = "9780441013593";
const SICP: &str = "9780262510875";
const TAOCP: &str = "0201896834";

/// The `--json` entry, strictly: an unexpected key fails the test.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    input: String,
    isbn: Option<String>,
    volume: Option<Value>,
    error: Option<String>,
    verified: bool,
}

/// A volume found by ISBN: its id is derived from the ISBN.
fn book(isbn: &str) -> Value {
    json!({
        "kind": "books#volume",
        "id": format!("id-{isbn}"),
        "volumeInfo": {
            "title": format!("Title {isbn}"),
            "authors": ["A. Writer", "B. Writer"],
            "publisher": "Pub, Inc.",
            "publishedDate": "1999-05",
            "pageCount": 321,
            "industryIdentifiers": [{"type": if isbn.len() == 13 { "ISBN_13" } else { "ISBN_10" }, "identifier": isbn}]
        }
    })
}

/// The ISBN a lookup asks for (`q=isbn:N`).
fn isbn_of(q: Option<&str>) -> String {
    q.unwrap_or_default().trim_start_matches("isbn:").to_string()
}

fn asked_isbn(call: &Call) -> String {
    isbn_of(call.param("q"))
}

/// Answers every `q=isbn:N` with a book for N, and notes the ISBNs asked
/// for, in order.
#[derive(Default)]
struct Library {
    missing: Vec<String>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Respond for Library {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let q = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "q")
            .map(|(_, v)| v.into_owned());
        let isbn = isbn_of(q.as_deref());
        self.asked.lock().unwrap().push(isbn.clone());
        // Missing in every form: ISBN-13, its ISBN-10, the bare number.
        let missing = self
            .missing
            .iter()
            .any(|m| *m == isbn || (isbn.len() == 10 && m.len() == 13 && isbn[..9] == m[3..12]));
        let body = if missing {
            volumes(vec![])
        } else {
            volumes(vec![book(&isbn)])
        };
        ResponseTemplate::new(200).set_body_json(body)
    }
}

async fn serve(library: Library) -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let server = MockServer::start().await;
    let asked = library.asked.clone();
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(library)
        .mount(&server)
        .await;
    (server, asked)
}

fn entries(out: &std::process::Output) -> Vec<Entry> {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[tokio::test]
async fn order_is_kept_when_replies_finish_out_of_order() {
    let isbns: Vec<String> = (0..5).map(|i| isbn13(&format!("97800000000{i}"))).collect();
    // Every lookup waits until all five have come; then the last ISBN is
    // answered first, the first last.
    let all_asked = Arc::new(tokio::sync::Barrier::new(5));
    let turn = Arc::new(tokio::sync::watch::channel(4usize).0);
    let ranks = isbns.clone();
    let fake = FakeApi::start(move |call| {
        let (all_asked, turn) = (all_asked.clone(), turn.clone());
        let isbn = asked_isbn(&call);
        let rank = ranks.iter().position(|i| *i == isbn);
        async move {
            let Some(rank) = rank else {
                return Reply::gave_up("a known ISBN");
            };
            if tokio::time::timeout(fake::HOLD_LIMIT, all_asked.wait())
                .await
                .is_err()
            {
                return Reply::gave_up("all five lookups at once");
            }
            let mut my_turn = turn.subscribe();
            if tokio::time::timeout(fake::HOLD_LIMIT, my_turn.wait_for(|t| *t == rank))
                .await
                .is_err()
            {
                return Reply::gave_up("the later ISBNs' answers");
            }
            turn.send_replace(rank.saturating_sub(1));
            Reply::ok(&volumes(vec![book(&isbn)]))
        }
    });
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--jobs", "5", "--format", "jsonl"])
        .args(&isbns))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<Entry> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = got
        .iter()
        .map(|e| e.volume.as_ref().unwrap()["id"].as_str().unwrap())
        .collect();
    let want: Vec<String> = isbns.iter().map(|i| format!("id-{i}")).collect();
    assert_eq!(ids, want);
    // All five were asked for before the first answer came back.
    let events = fake.events();
    assert!(
        fake::all_arrived_before_any_answer(&events, |_| true),
        "{events:?}"
    );
}

#[tokio::test]
async fn jsonl_prints_each_entry_as_soon_as_it_is_ready() {
    let isbns: Vec<String> = (0..3).map(|i| isbn13(&format!("97820000000{i}"))).collect();
    // The last lookup is answered only once the test has read the first two
    // entries: printed at the end, they would never come.
    let seen_two = Latch::new();
    let slow = isbns[2].clone();
    let gate = seen_two.clone();
    let fake = FakeApi::start(move |call| {
        let isbn = asked_isbn(&call);
        let hold = (isbn == slow).then(|| gate.clone());
        async move {
            if let Some(gate) = hold {
                if !gate.wait().await {
                    return Reply::gave_up("the first two entries on stdout");
                }
            }
            Reply::ok(&volumes(vec![book(&isbn)]))
        }
    });
    let sb = Sandbox::new();
    let mut child = sb
        .std_cmd(&fake.api())
        .args(["isbn", "--format", "jsonl"])
        .args(&isbns)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let output = child.stdout.take().unwrap();
    let latch = seen_two.clone();
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(output).lines() {
            lines.push(line.unwrap());
            if lines.len() == 2 {
                latch.open();
            }
        }
        lines
    })
    .await
    .unwrap();
    assert!(child.wait().unwrap().success(), "{lines:?}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (line, isbn) in lines.iter().zip(&isbns) {
        let e: Entry = serde_json::from_str(line).unwrap();
        assert_eq!(e.isbn.as_deref(), Some(isbn.as_str()));
        assert!(e.volume.is_some(), "{line}");
    }
}

#[tokio::test]
async fn invalid_lines_are_never_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("q", format!("isbn:{DUNE}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![book(DUNE)])))
        .expect(1)
        .mount(&server)
        .await;
    // Anything else would be an invalid line that went out.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args([
            "isbn",
            "--json",
            "978-0-441-01359-4",
            "12345",
            "978-0-441-01359-3",
            "4006381333931",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let got = entries(&out);
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].input, "978-0-441-01359-4");
    assert_eq!(got[0].isbn, None);
    assert!(
        got[0]
            .error
            .as_deref()
            .unwrap()
            .contains("check digit should be 3"),
        "{:?}",
        got[0]
    );
    assert!(got[1].error.as_deref().unwrap().contains("10 or 13 digits"));
    assert_eq!(got[2].isbn.as_deref(), Some(DUNE));
    assert_eq!(got[2].error, None);
    assert_eq!(got[2].volume.as_ref().unwrap()["id"], format!("id-{DUNE}"));
    assert!(got[3].error.as_deref().unwrap().contains("978 or 979"));
    assert!(stderr(&out).contains("3 of 4 ISBNs"), "{}", stderr(&out));
}

#[tokio::test]
async fn not_found_is_reported_after_every_result() {
    let (server, _) = serve(Library {
        missing: vec![SICP.to_string()],
        ..Library::default()
    })
    .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", DUNE, SICP, TAOCP])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["INPUT", "TITLE", "AUTHORS", "YEAR"]
    );
    assert!(
        lines[1].starts_with(&format!("{DUNE}  Title {DUNE}  A. Writer; B. Writer  1999")),
        "{text}"
    );
    assert!(
        lines[2].starts_with(SICP) && lines[2].contains("error: not found"),
        "{text}"
    );
    assert!(
        lines[3].starts_with(TAOCP) && lines[3].ends_with("1999"),
        "{text}"
    );
    assert_eq!(lines.len(), 4);
    let err = stderr(&out);
    assert!(
        err.contains("gbooks: error: 1 of 3 ISBNs were not found"),
        "{err}"
    );
}

#[tokio::test]
async fn reads_stdin_skipping_blank_lines_and_comments() {
    let (server, arrivals) = serve(Library::default()).await;
    let sb = Sandbox::new();
    let input = format!(
        "# my shelf\n\n  978-0-441-01359-3  \n\t\n# {SICP} is commented out\n0-201-89683-4 # TAOCP\r\n"
    );
    for args in [
        vec!["isbn", "--json", "--no-cache"],
        vec!["isbn", "--json", "--no-cache", "-"],
    ] {
        let out = sb
            .cmd(&api(&server))
            .args(&args)
            .write_stdin(input.clone())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let got = entries(&out);
        let inputs: Vec<&str> = got.iter().map(|e| e.input.as_str()).collect();
        assert_eq!(inputs, ["978-0-441-01359-3", "0-201-89683-4"]);
        assert_eq!(got[1].isbn.as_deref(), Some(TAOCP));
    }
    let asked = arrivals.lock().unwrap().clone();
    assert!(!asked.contains(&SICP.to_string()), "{asked:?}");
    assert_eq!(asked.len(), 4);
}

#[tokio::test]
async fn a_repeated_isbn_is_asked_for_once() {
    let (server, arrivals) = serve(Library::default()).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--json", DUNE, "978-0441013593", DUNE])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = entries(&out);
    assert_eq!(got.len(), 3);
    assert!(got
        .iter()
        .all(|e| e.isbn.as_deref() == Some(DUNE) && e.volume.is_some() && e.verified));
    assert_eq!(arrivals.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_429_pauses_every_worker() {
    let isbns: Vec<String> = (0..24).map(|i| isbn13(&format!("978000000{i:03}"))).collect();
    // The first lookup of the third ISBN gets a 429 (wait 1 s); every other
    // lookup is held until gbooks logs that it will wait, so that no worker
    // goes on before the pause is set.
    let paused = Latch::new();
    let throttled = isbns[2].clone();
    let gate = paused.clone();
    let first_429 = Arc::new(Mutex::new(true));
    let fake = FakeApi::start(move |call| {
        let isbn = asked_isbn(&call);
        let throttle = isbn == throttled && std::mem::take(&mut *first_429.lock().unwrap());
        let gate = gate.clone();
        async move {
            if throttle {
                let body = fixture_json("error_429_anonymous.json");
                return Reply::json(429, &body).header("Retry-After", "1");
            }
            if !gate.is_open() && !gate.wait().await {
                return Reply::gave_up("gbooks to log its pause");
            }
            Reply::ok(&volumes(vec![book(&isbn)]))
        }
    });
    let sb = Sandbox::new();
    let mut child = sb
        .std_cmd(&fake.api())
        .args(["-v", "isbn", "--jobs", "4", "--format", "jsonl"])
        .args(&isbns)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // gbooks logs "retrying in …" once the shared pause is set.
    let log = child.stderr.take().unwrap();
    let latch = paused.clone();
    let log = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in std::io::BufReader::new(log).lines() {
            let line = line.unwrap();
            if line.contains("retrying in") {
                latch.open();
            }
            lines.push(line);
        }
        lines
    });
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let log = log.await.unwrap();
    assert!(out.status.success(), "{log:?}");
    assert!(paused.is_open(), "no pause was logged: {log:?}");
    assert_eq!(stdout(&out).lines().count(), 24);

    let events = fake.events();
    let arrivals: Vec<(Instant, String)> = events
        .iter()
        .filter(|e| e.step == Step::Arrived)
        .map(|e| (e.at, asked_isbn(&e.call)))
        .collect();
    assert_eq!(arrivals.len(), 25, "one retry, nothing more");
    let throttled_at = events
        .iter()
        .find(|e| e.step == Step::Answered && asked_isbn(&e.call) == isbns[2])
        .unwrap()
        .at;
    let retried_at = arrivals.iter().rfind(|(_, i)| *i == isbns[2]).unwrap().0;
    assert!(retried_at - throttled_at >= Duration::from_millis(950));
    // The first lookups of the first four ISBNs may have been under way
    // already; every other request could only start after the pause was
    // set, so it must have waited it out. A lower bound on time: a busy
    // machine makes waits longer, never shorter.
    let mut under_way: Vec<&String> = isbns[..4].iter().collect();
    let too_soon: Vec<(Duration, &String)> = arrivals
        .iter()
        .filter(|(_, isbn)| match under_way.iter().position(|i| *i == isbn) {
            Some(first) => {
                under_way.remove(first);
                false
            }
            None => true,
        })
        .map(|(t, isbn)| (t.saturating_duration_since(throttled_at), isbn))
        .filter(|(d, _)| *d < Duration::from_millis(950))
        .collect();
    assert!(too_soon.is_empty(), "requests during the pause: {too_soon:?}");
}

#[tokio::test]
async fn a_run_never_becomes_a_retry_storm() {
    // A rejected key: every other lookup would meet it too.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(400).set_body_json(fixture_json("error_400_key_invalid.json")))
        .mount(&server)
        .await;
    let isbns: Vec<String> = (0..50).map(|i| isbn13(&format!("978100000{i:03}"))).collect();
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--jobs", "8", "--json"])
        .args(&isbns)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let got = entries(&out);
    assert_eq!(got.len(), 50, "every input is reported");
    assert!(got.iter().all(|e| e.volume.is_none() && e.error.is_some()));
    assert!(got[49]
        .error
        .as_deref()
        .unwrap()
        .starts_with("not looked up after an earlier error"));
    // At most the lookups already under way, each with its few attempts:
    // never one request (let alone four) per ISBN.
    let sent = server.received_requests().await.unwrap().len();
    assert!(sent <= 8 * 4, "{sent} requests");
    assert!(stderr(&out).contains("stopped after"), "{}", stderr(&out));
}

#[tokio::test]
async fn jobs_must_be_between_1_and_32() {
    let (server, arrivals) = serve(Library::default()).await;
    let sb = Sandbox::new();
    for bad in ["0", "33", "-1", "many"] {
        let out = sb
            .cmd(&api(&server))
            .args(["isbn", "--jobs", bad, DUNE])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "--jobs {bad}");
    }
    assert!(arrivals.lock().unwrap().is_empty());
    for good in ["1", "32"] {
        let out = sb
            .cmd(&api(&server))
            .args(["--jobs", good, "isbn", DUNE])
            .output()
            .unwrap();
        assert!(out.status.success(), "--jobs {good}: {}", stderr(&out));
    }
}

#[tokio::test]
async fn csv_has_the_promised_columns() {
    let (server, _) = serve(Library {
        missing: vec![SICP.to_string()],
        ..Library::default()
    })
    .await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--format", "csv", "978-0-441-01359-3", SICP, "bogus"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let mut reader = csv::Reader::from_reader(out.stdout.as_slice());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(
        headers,
        [
            "input",
            "isbn",
            "id",
            "title",
            "authors",
            "publisher",
            "published_date",
            "page_count",
            "error",
            "verified"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "978-0-441-01359-3",
            DUNE,
            &format!("id-{DUNE}"),
            &format!("Title {DUNE}"),
            "A. Writer; B. Writer",
            "Pub, Inc.",
            "1999-05",
            "321",
            "",
            "true"
        ]
    );
    assert_eq!(rows[1][..3], [SICP, SICP, ""]);
    assert_eq!(rows[1][8], "not found");
    assert_eq!(rows[1][9], "false");
    assert_eq!(rows[2][1], "");
    assert!(rows[2][8].starts_with("not an ISBN"));
    assert_eq!(rows.len(), 3);
}

#[tokio::test]
async fn table_and_csv_ask_only_for_shown_fields_and_json_for_everything() {
    let sb = Sandbox::new();
    for (format, partial) in [("table", true), ("csv", true), ("json", false), ("jsonl", false)] {
        let (server, _) = serve(Library::default()).await;
        let out = sb
            .cmd(&api(&server))
            .args(["isbn", "--no-cache", "--format", format, DUNE])
            .output()
            .unwrap();
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        let q = queries(&server).await;
        assert_eq!(q.len(), 1);
        assert_eq!(param(&q[0], "q"), Some(format!("isbn:{DUNE}").as_str()));
        let fields = param(&q[0], "fields");
        assert_eq!(fields.is_some(), partial, "{format}: {fields:?}");
        if let Some(f) = fields {
            for needed in [
                "id",
                "title",
                "authors",
                "publishedDate",
                "publisher",
                "pageCount",
                "industryIdentifiers",
            ] {
                assert!(f.contains(needed), "{f} lacks {needed}");
            }
        }
    }
}

#[tokio::test]
async fn json_keeps_the_whole_volume() {
    let full = json!({"kind": "books#volume", "id": "dune1", "etag": "x", "volumeInfo": {"title": "Dune", "industryIdentifiers": [{"type": "ISBN_13", "identifier": DUNE}]}, "saleInfo": {"country": "US"}});
    let other = json!({"kind": "books#volume", "id": "other", "volumeInfo": {"title": "Not it"}});
    let server = MockServer::start().await;
    mount_json(&server, "/books/v1/volumes", volumes(vec![other, full.clone()])).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--json", DUNE])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let got = entries(&out);
    // The volume that carries the ISBN wins over the first one listed.
    assert_eq!(got[0].volume.as_ref(), Some(&full));
    assert_eq!(got[0].error, None);
}

#[tokio::test]
async fn dash_must_stand_alone() {
    let sb = Sandbox::new();
    let out = sb
        .cmd("http://127.0.0.1:9/books/v1")
        .args(["isbn", DUNE, "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn isbn13_helper_agrees_with_a_real_isbn() {
    assert_eq!(isbn13(&DUNE[..12]), DUNE);
}

#[tokio::test]
async fn the_hint_is_said_once_after_the_table() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        // A rejected key: every row fails, and the hint applies to all of them.
        // (A 429 would be retried until it passes: throttling never ends a batch.)
        .respond_with(ResponseTemplate::new(400).set_body_json(fixture_json("error_400_key_invalid.json")))
        .mount(&server)
        .await;
    let isbns: Vec<String> = (0..6).map(|i| isbn13(&format!("978100000{i:03}"))).collect();
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--jobs", "1", "--api-key", "AIzaRejected0000"])
        .args(&isbns)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let (table, log) = (stdout(&out), stderr(&out));
    assert!(!table.contains("hint"), "no hint in the rows: {table}");
    assert_eq!(
        table.lines().filter(|l| l.contains("error: ")).count(),
        6,
        "{table}"
    );
    assert_eq!(log.matches("hint:").count(), 1, "{log}");
    assert!(log.trim_end().lines().last().unwrap().contains("hint:"), "{log}");
}
