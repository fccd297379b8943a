//! Long lists come in pages of 40: deduplicated, in order, stopping where
//! the list ends, and after the first page up to `--jobs` pages at once.

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::support::fake::{self, Call, FakeApi, Reply};
use crate::support::*;

/// `total` volumes where every page after the first repeats the last two
/// volumes of the page before it, as the API does.
fn overlapping(total: u128) -> List {
    List {
        overlap: 2,
        ..List::of(total)
    }
}

async fn serve(list: List) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .respond_with(list)
        .mount(&server)
        .await;
    server
}

fn ids(out: &Output) -> Vec<String> {
    let got: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    got.iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn pages_are_deduplicated_and_in_order() {
    let server = serve(overlapping(1000)).await;
    let sb = Sandbox::new();
    let out = sb
        .cmd(&api(&server))
        .args(["search", "dune", "--limit", "137", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let want: Vec<String> = (0..137).map(|i| format!("v{i}")).collect();
    assert_eq!(ids(&out), want);
    // Four pages: the last one's spares make up for the six repeats, with
    // no fifth request to top up.
    let mut pages: Vec<(u32, u32)> = queries(&server)
        .await
        .iter()
        .map(|q| {
            let get = |k| param(q, k).unwrap().parse().unwrap();
            (get("startIndex"), get("maxResults"))
        })
        .collect();
    pages.sort();
    assert_eq!(pages, [(0, 40), (40, 40), (80, 40), (120, 32)]);
}

#[tokio::test]
async fn stops_when_the_list_ends() {
    let server = serve(overlapping(90)).await;
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

fn is_later_page(call: &Call) -> bool {
    (40..160).contains(&call.number("startIndex"))
}

fn page(call: &Call) -> Reply {
    Reply::ok(&overlapping(1000).page(call.number("startIndex"), call.number("maxResults")))
}

/// After the first page, the others are asked for together, up to `--jobs`:
/// with 4, the fake holds each later page until all three have come, which
/// only a run that asks for them at once can pass.
#[tokio::test]
async fn later_pages_are_fetched_together_up_to_jobs() {
    let all_three = Arc::new(tokio::sync::Barrier::new(3));
    let fake = FakeApi::start(move |call| {
        let all_three = all_three.clone();
        async move {
            if is_later_page(&call)
                && tokio::time::timeout(fake::HOLD_LIMIT, all_three.wait())
                    .await
                    .is_err()
            {
                return Reply::gave_up("the other later pages");
            }
            page(&call)
        }
    });
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&fake.api())
        .args(["search", "dune", "--limit", "160", "--json", "--jobs", "4"]))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ids(&out).len(), 160);
    let events = fake.events();
    assert_eq!(fake.calls().iter().filter(|c| is_later_page(c)).count(), 3);
    assert_eq!(fake::most_at_once(&events, is_later_page), 3, "{events:?}");
    // None of the later pages is asked for before the first one is answered.
    let first_answered = events
        .iter()
        .position(|e| e.step == fake::Step::Answered && e.call.number("startIndex") == 0)
        .unwrap();
    let first_later = events.iter().position(|e| is_later_page(&e.call)).unwrap();
    assert!(first_answered < first_later, "{events:?}");
}

/// With `--jobs 1`, one page at a time. Each later page takes a while, so
/// that asking for two at once would show; a busy machine cannot fake it.
#[tokio::test]
async fn one_job_asks_for_one_page_at_a_time() {
    let fake = FakeApi::start(|call| async move {
        if is_later_page(&call) {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        page(&call)
    });
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&fake.api())
        .args(["search", "dune", "--limit", "160", "--json", "--jobs", "1"]))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ids(&out).len(), 160);
    assert_eq!(fake.calls().iter().filter(|c| is_later_page(c)).count(), 3);
    let events = fake.events();
    assert_eq!(fake::most_at_once(&events, |_| true), 1, "{events:?}");
}

/// A real recorded answer (`q=verity`) lists one volume twice. Asked for a
/// few more than the ten shown, the API answers with the recorded ten and
/// then more (here, the recorded `q=holidays` answer): a default search
/// shows ten different volumes from one request, not nine and a top-up.
#[tokio::test]
async fn a_repeated_volume_costs_no_extra_request() {
    let recorded = fixture_json("bib/samples/volumes.list__q_verity.json");
    let more = fixture_json("bib/samples/volumes.list__q_holidays.json");
    let mut items = recorded["items"].as_array().unwrap().clone();
    items.extend(more["items"].as_array().unwrap().iter().cloned());
    let total = recorded["totalItems"].clone();
    let fake = FakeApi::start(move |call| {
        let (start, max) = (
            call.number("startIndex") as usize,
            call.number("maxResults") as usize,
        );
        let page: Vec<Value> = items.iter().skip(start).take(max).cloned().collect();
        let total = total.clone();
        async move {
            Reply::ok(&serde_json::json!({ "kind": "books#volumes", "totalItems": total, "items": page }))
        }
    });
    let sb = Sandbox::new();
    let out = run(sb.cmd(&fake.api()).args(["search", "verity", "--json"])).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got = ids(&out);
    assert_eq!(got.len(), 10, "{got:?}");
    let unique: std::collections::HashSet<_> = got.iter().collect();
    assert_eq!(unique.len(), 10, "{got:?}");
    // In the API's order: the recorded nine, then the first of the next answer.
    let recorded_ids: Vec<&str> = recorded["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(
        got.iter().take(9).all(|id| recorded_ids.contains(&id.as_str())),
        "{got:?}"
    );
    assert_eq!(got[9], more["items"][0]["id"].as_str().unwrap());
    assert_eq!(fake.calls().len(), 1, "{:?}", fake.calls());
}
