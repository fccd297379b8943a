use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::common::*;

/// Serves `total` volumes `v0`, `v1`, … by `startIndex` and `maxResults`;
/// every page after the first repeats the last two volumes of the page
/// before it, as the API does. Notes when each page was asked for.
struct Shelf {
    total: usize,
    delay: Duration,
    asked: Arc<Mutex<Vec<(Instant, usize, usize)>>>,
}

impl Respond for Shelf {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let get = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        let (start, max) = (get("startIndex"), get("maxResults"));
        self.asked.lock().unwrap().push((Instant::now(), start, max));
        let first = if start == 0 { 0 } else { start - 2 };
        let ids = first..(first + max).min(self.total);
        let items: Vec<Value> = ids
            .map(|i| volume(&format!("v{i}"), &format!("Book {i}")))
            .collect();
        ResponseTemplate::new(200)
            .set_body_json(volumes(items))
            .set_delay(self.delay)
    }
}

async fn serve(total: usize, delay: Duration) -> (MockServer, Arc<Mutex<Vec<(Instant, usize, usize)>>>) {
    let server = MockServer::start().await;
    let asked = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(Shelf {
            total,
            delay,
            asked: asked.clone(),
        })
        .mount(&server)
        .await;
    (server, asked)
}

fn ids(out: &std::process::Output) -> Vec<String> {
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    got.iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_are_deduplicated_and_in_order() {
    let (server, asked) = serve(1000, Duration::ZERO).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--limit", "137", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let want: Vec<String> = (0..137).map(|i| format!("v{i}")).collect();
    assert_eq!(ids(&out), want);
    // Four pages, then one more to make up for the six repeats.
    let mut pages: Vec<(usize, usize)> = asked.lock().unwrap().iter().map(|a| (a.1, a.2)).collect();
    pages.sort();
    assert_eq!(pages, [(0, 40), (40, 40), (80, 40), (120, 17), (137, 40)]);
}

#[tokio::test]
async fn stops_when_the_list_ends() {
    let (server, _) = serve(90, Duration::ZERO).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--limit", "500", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let want: Vec<String> = (0..90).map(|i| format!("v{i}")).collect();
    assert_eq!(ids(&out), want);
}

/// After the first page, the others are asked for together, up to `--jobs`.
#[tokio::test]
async fn later_pages_are_fetched_concurrently_up_to_jobs() {
    for (jobs, together) in [("4", true), ("1", false)] {
        let (server, asked) = serve(1000, Duration::from_millis(200)).await;
        let sb = Sandbox::new();
        let out = sb
            .cmd(&api(&server))
            .args(["search", "dune", "--limit", "160", "--json", "--jobs", jobs])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(ids(&out).len(), 160);
        let asked = asked.lock().unwrap();
        let first = asked.iter().find(|a| a.1 == 0).unwrap().0;
        let later: Vec<Instant> = asked
            .iter()
            .filter(|a| (40..160).contains(&a.1))
            .map(|a| a.0)
            .collect();
        assert_eq!(later.len(), 3);
        // None of the later pages is asked for before the first one is answered.
        assert!(later.iter().all(|t| *t - first >= Duration::from_millis(190)));
        let spread = *later.iter().max().unwrap() - *later.iter().min().unwrap();
        if together {
            assert!(spread < Duration::from_millis(150), "--jobs {jobs}: {spread:?}");
        } else {
            assert!(spread >= Duration::from_millis(380), "--jobs {jobs}: {spread:?}");
        }
    }
}
