//! Batches against Google's limits: a 403 throttle storm shrinks the
//! requests in flight and the run still finishes; a used-up daily quota
//! stops the run with one line; `--output` resumes where a run stopped;
//! `--rate` spaces requests; a killed batch has cached most of its answers.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fake::{self, Call, FakeApi, Reply};
use crate::support::*;
use crate::verified_isbn::{carrying, entries, Entry};

fn isbns(n: usize, series: &str) -> Vec<String> {
    (0..n).map(|i| isbn13(&format!("978{series}{i:06}"))).collect()
}

fn asked(call: &Call) -> String {
    call.param("q")
        .unwrap_or_default()
        .trim_start_matches("isbn:")
        .to_string()
}

/// Whether `q` is `isbn13` in either form.
fn same_book(q: &str, isbn13: &str) -> bool {
    q == isbn13 || (q.len() == 10 && q[..9] == isbn13[3..12])
}

fn found(call: &Call) -> Reply {
    let isbn = asked(call);
    Reply::ok(&volumes(vec![carrying(
        &format!("id-{isbn}"),
        &[("ISBN_13", &isbn)],
    )]))
}

fn limit(status: u16, reason: &str) -> Reply {
    Reply::json(status, &api_error(status, reason, "Slow down or stop."))
}

const QUOTA_LINE: &str =
    "the daily quota is used up (it resets at midnight Pacific time); run the same command again to go on";

#[tokio::test]
async fn a_403_throttle_storm_shrinks_the_requests_in_flight_and_the_run_finishes() {
    let list = isbns(40, "123");
    // The first 16 requests are throttled (the first 8 lookups and their
    // first retries); every answer takes 40 ms, so that overlap shows.
    let fake = FakeApi::start(|call: Call| async move {
        tokio::time::sleep(Duration::from_millis(40)).await;
        if call.n < 16 {
            limit(403, "userRateLimitExceeded")
        } else {
            found(&call)
        }
    });
    let sb = Sandbox::new();
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--jobs", "8", "--json", "--no-cache"])
        .args(&list))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let got = entries(&out);
    assert_eq!(got.len(), 40);
    assert!(got.iter().all(|e| e.verified), "{got:?}");
    let events = fake.events();
    assert_eq!(
        fake::most_at_once(&events, |c| c.n < 8),
        8,
        "the run starts with --jobs in flight"
    );
    // Calls 0..24 are the first eight lookups, tried three times each; the
    // lookups after them run at half of --jobs, plus one per 20 successes.
    let after = fake::most_at_once(&events, |c| c.n >= 24);
    assert!(after <= 5, "{after} requests at once after the throttling");
}

#[tokio::test]
async fn a_used_up_daily_quota_stops_the_run_with_one_line() {
    let list = isbns(30, "124");
    for (status, body) in [
        (403, api_error(403, "dailyLimitExceeded", "Daily Limit Exceeded")),
        (
            429,
            json!({"error": {"code": 429, "message": "Quota exceeded for quota metric 'Queries' and limit 'Queries per day'",
            "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED",
                "metadata": {"quota_limit": "defaultPerDayPerProject", "quota_unit": "1/d/{project}"}}]}}),
        ),
    ] {
        let fake = FakeApi::start(move |call: Call| {
            let reply = if call.n < 10 {
                found(&call)
            } else {
                Reply::json(status, &body)
            };
            async move { reply }
        });
        let sb = Sandbox::new();
        let out = run(sb
            .cmd(&fake.api())
            .args(["isbn", "--jobs", "1", "--format", "jsonl"])
            .args(&list))
        .await;
        assert_eq!(out.status.code(), Some(1), "{status}: {}", stderr(&out));
        let err = stderr(&out);
        assert_eq!(
            err.lines().last(),
            Some(format!("10 looked up, 20 left: {QUOTA_LINE}").as_str()),
            "{err}"
        );
        let got: Vec<Entry> = stdout(&out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(got.len(), 30);
        assert!(got[..10].iter().all(|e| e.verified));
        assert!(
            got[10..]
                .iter()
                .all(|e| e.error.as_deref() == Some("daily quota used up")),
            "{got:?}"
        );
        assert_eq!(
            fake.calls().len(),
            11,
            "{status}: nothing sent after the quota answer"
        );
    }
}

fn results(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn a_resumed_run_asks_only_for_the_lines_left() {
    let list = isbns(10, "125");
    let missing = list[1].clone();
    let quota_from = Arc::new(AtomicUsize::new(5));
    let cut = quota_from.clone();
    let fake = FakeApi::start(move |call: Call| {
        let reply = if call.n >= cut.load(Ordering::SeqCst) {
            limit(403, "dailyLimitExceeded")
        } else if same_book(&asked(&call), &missing) {
            Reply::ok(&volumes(vec![]))
        } else {
            found(&call)
        };
        async move { reply }
    });
    let sb = Sandbox::new();
    let file = sb.dir.path().join("out").join("results.jsonl");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let mut input: String = list.iter().map(|i| format!("{i}\n")).collect();
    input.push_str("not-an-isbn\n");
    input.push_str(&format!("{}\n", list[0]));

    // First run: one found, one not found (three queries), one found, then the quota.
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--jobs", "1", "--no-cache", "--output"])
        .arg(&file)
        .write_stdin(input.clone()))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "{}", stdout(&out));
    assert!(
        stderr(&out).ends_with(&format!("4 looked up, 7 left: {QUOTA_LINE}\n")),
        "{}",
        stderr(&out)
    );
    let first = results(&file);
    assert_eq!(first.len(), 12);
    assert_eq!(first[1]["error"], "not found");
    assert_eq!(first[3]["error"], "daily quota used up");
    let names: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["results.jsonl"], "no temp file is left");

    // Second run, quota back: only the seven lines left are asked for.
    quota_from.store(usize::MAX, Ordering::SeqCst);
    let before = fake.calls().len();
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--jobs", "3", "--no-cache", "--output"])
        .arg(&file)
        .write_stdin(input))
    .await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "not found and not an ISBN: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("4 carried over, 7 left to look up"), "{err}");
    assert!(!err.contains(" left: "), "{err}");
    let sent: Vec<String> = fake.calls()[before..].iter().map(asked).collect();
    let mut want: Vec<String> = list[3..].to_vec();
    let mut got = sent.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "only the lines left, each once");
    let second = results(&file);
    assert_eq!(second.len(), 12);
    for (entry, isbn) in second.iter().zip(&list) {
        assert_eq!(entry["isbn"], isbn.as_str(), "input order");
    }
    assert_eq!(second[1]["error"], "not found");
    assert!(second[10]["isbn"].is_null());
    assert_eq!(second[11]["volume"], second[0]["volume"]);
    assert!(second
        .iter()
        .filter(|e| !e["volume"].is_null())
        .all(|e| e["verified"] == true));
}

#[tokio::test]
async fn rate_caps_requests_per_second() {
    let list = isbns(6, "126");
    let fake = FakeApi::start(|call: Call| async move { found(&call) });
    let sb = Sandbox::new();
    let started = Instant::now();
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--jobs", "8", "--rate", "10", "--json", "--no-cache"])
        .args(&list))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    // Six requests at 10 a second: the last one 0.5 s after the first at
    // the earliest (a busy machine only makes it later).
    let calls: Vec<Instant> = fake
        .events()
        .iter()
        .filter(|e| e.step == fake::Step::Arrived)
        .map(|e| e.at)
        .collect();
    assert_eq!(calls.len(), 6);
    assert!(
        calls[5] - calls[0] >= Duration::from_millis(480),
        "{:?}",
        calls[5] - calls[0]
    );
    assert!(started.elapsed() >= Duration::from_millis(480));
    let out = run(sb.cmd(NOWHERE).args(["isbn", "--rate", "0", "x"])).await;
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn ctrl_c_still_lands_the_results_file() {
    let list = isbns(6, "127");
    // The first three are answered; the fourth is held until the test is done.
    let held = fake::Latch::new();
    let arrived = fake::Latch::new();
    let (hold, seen) = (held.clone(), arrived.clone());
    let fake = FakeApi::start(move |call: Call| {
        let (hold, seen) = (hold.clone(), seen.clone());
        async move {
            if call.n < 3 {
                return found(&call);
            }
            seen.open();
            hold.wait().await;
            Reply::gave_up("the end of the test")
        }
    });
    let sb = Sandbox::new();
    let file = sb.dir.path().join("results.jsonl");
    let child = sb
        .std_cmd(&fake.api())
        .args(["isbn", "--jobs", "1", "--no-cache", "--output"])
        .arg(&file)
        .args(&list)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(arrived.wait().await, "the fourth lookup never came");
    let pid = child.id() as i32;
    // SAFETY: kill(2) only; the pid stays our child's until we wait for it.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGINT) }, 0);
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    held.open();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("3 looked up, 3 left"), "{}", stderr(&out));
    let saved = results(&file);
    assert_eq!(saved.len(), 6);
    assert!(saved[..3].iter().all(|e| e["verified"] == true));
    assert!(saved[3..].iter().all(|e| e["volume"].is_null()));
    let names: Vec<_> = std::fs::read_dir(sb.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !names.iter().any(|n| n.to_string_lossy().ends_with(".tmp")),
        "{names:?}"
    );
}

/// A long batch writes its answers to the cache while it waits on the
/// network, not all at exit: killed outright (SIGKILL, no exit at all) just
/// before its last lookup is answered, it has kept most of the others, and
/// the same ISBNs again are mostly answered from the cache.
#[tokio::test]
async fn a_killed_batch_has_cached_most_of_its_answers() {
    let list = isbns(240, "128");
    let last = list[239].clone();
    // Every lookup is answered but the last, held until the test is done.
    let held = fake::Latch::new();
    let arrived = fake::Latch::new();
    let (hold, seen) = (held.clone(), arrived.clone());
    let fake = FakeApi::start(move |call: Call| {
        let (hold, seen, last) = (hold.clone(), seen.clone(), last.clone());
        async move {
            if !same_book(&asked(&call), &last) {
                return found(&call);
            }
            seen.open();
            hold.wait().await;
            Reply::gave_up("the end of the test")
        }
    });
    let sb = Sandbox::new();
    let mut child = sb
        .std_cmd(&fake.api())
        .args(["isbn", "--jobs", "1"])
        .args(&list)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(arrived.wait().await, "the last lookup never came");
    child.kill().unwrap();
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    held.open();
    let before = fake.calls().len();
    let out = run(sb
        .cmd(&fake.api())
        .args(["isbn", "--jobs", "1"])
        .args(&list[..239]))
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    let asked_again = fake.calls().len() - before;
    // Written at exit only, all 239 would be asked again; written in
    // transactions of 32 KiB (some 70 of these answers), at most the last
    // one's worth is.
    assert!(asked_again < 120, "{asked_again} of 239 asked again");
}
