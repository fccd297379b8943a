use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::*;

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

fn isbn_of(request: &Request) -> String {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == "q")
        .map(|(_, v)| v.trim_start_matches("isbn:").to_string())
        .unwrap_or_default()
}

/// Answers every `q=isbn:N` with a book for N, after `delay(N)`, and notes
/// when each request arrived. The first request for `throttled` gets a 429.
struct Library {
    delay: Box<dyn Fn(&str) -> Duration + Send + Sync>,
    throttled: Option<(String, ResponseTemplate)>,
    missing: Vec<String>,
    arrivals: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Library {
    fn new() -> Library {
        Library {
            delay: Box::new(|_| Duration::ZERO),
            throttled: None,
            missing: Vec::new(),
            arrivals: Arc::default(),
        }
    }
}

impl Respond for Library {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let isbn = isbn_of(request);
        let first = {
            let mut arrivals = self.arrivals.lock().unwrap();
            let first = !arrivals.iter().any(|(_, i)| *i == isbn);
            arrivals.push((Instant::now(), isbn.clone()));
            first
        };
        if let Some((target, reply)) = &self.throttled {
            if *target == isbn && first {
                return reply.clone();
            }
        }
        let body = if self.missing.contains(&isbn) {
            volumes(vec![])
        } else {
            volumes(vec![book(&isbn)])
        };
        ResponseTemplate::new(200)
            .set_body_json(body)
            .set_delay((self.delay)(&isbn))
    }
}

async fn serve(library: Library) -> (MockServer, Arc<Mutex<Vec<(Instant, String)>>>) {
    let server = MockServer::start().await;
    let arrivals = library.arrivals.clone();
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(library)
        .mount(&server)
        .await;
    (server, arrivals)
}

fn entries(out: &std::process::Output) -> Vec<Entry> {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[tokio::test]
async fn order_is_kept_when_replies_finish_out_of_order() {
    let isbns: Vec<String> = (0..5).map(|i| isbn13(&format!("97800000000{i}"))).collect();
    let mut library = Library::new();
    // The first ISBN answers last, the last answers first.
    library.delay = Box::new(|isbn| {
        let rank = isbn[11..12].parse::<u64>().unwrap();
        Duration::from_millis(250 - rank * 50)
    });
    let (server, arrivals) = serve(library).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--jobs", "5", "--format", "jsonl"])
        .args(&isbns)
        .output()
        .unwrap();
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
    assert_eq!(arrivals.lock().unwrap().len(), 5);
}

#[tokio::test]
async fn jsonl_prints_each_entry_as_soon_as_it_is_ready() {
    let isbns: Vec<String> = (0..3).map(|i| isbn13(&format!("97820000000{i}"))).collect();
    let mut library = Library::new();
    let slow = isbns[2].clone();
    library.delay = Box::new(move |isbn| Duration::from_millis(if isbn == slow { 3000 } else { 10 }));
    let (server, _) = serve(library).await;
    let sb = Sandbox::new();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("gbooks"))
        .env_clear()
        .env("HOME", sb.dir.path())
        .env("GBOOKS_CONFIG_DIR", sb.config_dir())
        .env("GBOOKS_CACHE_DIR", sb.cache_dir())
        .env("GBOOKS_API_BASE", api(&server))
        .args(["isbn", "--format", "jsonl"])
        .args(&isbns)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let stdout = child.stdout.take().unwrap();
    // Read on a thread: the server runs on this test's runtime.
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let first_two = [lines.next(), lines.next()];
        let at = started.elapsed();
        (first_two.map(|l| l.unwrap().unwrap()), at, lines.count())
    });
    while !reader.is_finished() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (first_two, at, rest) = reader.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert!(
        at < Duration::from_millis(2500),
        "the first entries came only after {at:?}"
    );
    for (line, isbn) in first_two.iter().zip(&isbns) {
        let e: Entry = serde_json::from_str(line).unwrap();
        assert_eq!(e.isbn.as_deref(), Some(isbn.as_str()));
    }
    assert_eq!(rest, 1);
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
    let mut library = Library::new();
    library.missing = vec![SICP.to_string()];
    let (server, _) = serve(library).await;
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
    let (server, arrivals) = serve(Library::new()).await;
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
    let asked: Vec<String> = arrivals.lock().unwrap().iter().map(|(_, i)| i.clone()).collect();
    assert!(!asked.contains(&SICP.to_string()), "{asked:?}");
    assert_eq!(asked.len(), 4);
}

#[tokio::test]
async fn a_repeated_isbn_is_asked_for_once() {
    let (server, arrivals) = serve(Library::new()).await;
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
        .all(|e| e.isbn.as_deref() == Some(DUNE) && e.volume.is_some()));
    assert_eq!(arrivals.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_429_pauses_every_worker() {
    let isbns: Vec<String> = (0..24).map(|i| isbn13(&format!("978000000{i:03}"))).collect();
    let mut library = Library::new();
    // Slow enough that without a shared pause the other workers would still
    // be busy sending long after the 429.
    library.delay = Box::new(|_| Duration::from_millis(60));
    library.throttled = Some((
        isbns[2].clone(),
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "1")
            .set_body_json(fixture_json("error_429_anonymous.json")),
    ));
    let (server, arrivals) = serve(library).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", "--jobs", "4", "--format", "jsonl"])
        .args(&isbns)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().count(), 24);

    let arrivals = arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 25, "one retry, nothing more");
    let throttled_at = arrivals.iter().find(|(_, i)| *i == isbns[2]).unwrap().0;
    let retried_at = arrivals.iter().rfind(|(_, i)| *i == isbns[2]).unwrap().0;
    assert!(retried_at - throttled_at >= Duration::from_millis(950));
    // Requests already on their way may land just after the 429; none may
    // start during the pause, though most were still waiting.
    let during: Vec<Duration> = arrivals
        .iter()
        .filter(|(t, _)| *t > throttled_at)
        .map(|(t, _)| *t - throttled_at)
        .filter(|d| *d > Duration::from_millis(150) && *d < Duration::from_millis(900))
        .collect();
    assert!(during.is_empty(), "requests during the pause: {during:?}");
}

#[tokio::test]
async fn a_run_never_becomes_a_retry_storm() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).set_body_json(fixture_json("error_429_anonymous.json")))
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
    let (server, arrivals) = serve(Library::new()).await;
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
    let mut library = Library::new();
    library.missing = vec![SICP.to_string()];
    let (server, _) = serve(library).await;
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
            "error"
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
            ""
        ]
    );
    assert_eq!(rows[1][..3], [SICP, SICP, ""]);
    assert_eq!(rows[1][8], "not found");
    assert_eq!(rows[2][1], "");
    assert!(rows[2][8].starts_with("not an ISBN"));
    assert_eq!(rows.len(), 3);
}

#[tokio::test]
async fn table_and_csv_ask_only_for_shown_fields_and_json_for_everything() {
    let sb = Sandbox::new();
    for (format, partial) in [("table", true), ("csv", true), ("json", false), ("jsonl", false)] {
        let (server, _) = serve(Library::new()).await;
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

/// Appends the check digit to the first 12 digits of an ISBN-13.
fn isbn13(first12: &str) -> String {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| if i % 2 == 0 { 1 } else { 3 } * u32::from(b - b'0'))
        .sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}

#[test]
fn isbn13_helper_agrees_with_a_real_isbn() {
    assert_eq!(isbn13(&DUNE[..12]), DUNE);
}

#[tokio::test]
async fn the_table_is_sanitised_and_json_is_exact() {
    let server = MockServer::start().await;
    let evil = "Dune\u{1b}[2J\u{202e}evil\u{7}";
    let mut found = volume("d1", evil);
    found["volumeInfo"]["industryIdentifiers"] = json!([{"type": "ISBN_13", "identifier": DUNE}]);
    mount_json(&server, "/books/v1/volumes", volumes(vec![found])).await;
    let sb = Sandbox::new();
    let out = sb.cmd(&api(&server)).args(["isbn", DUNE]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Dune[2Jevil"), "{text:?}");
    assert!(!text.contains(['\u{1b}', '\u{202e}', '\u{7}']), "{text:?}");
    let out = sb
        .cmd(&api(&server))
        .args(["isbn", DUNE, "--json"])
        .output()
        .unwrap();
    let got: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got[0]["volume"]["volumeInfo"]["title"], evil);
}
