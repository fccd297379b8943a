//! The local cache, through the real binary: wiremock's `.expect(n)` counts
//! what reached the network.

use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

async fn mount_search(server: &MockServer, q: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes"))
        .and(query_param("q", q))
        .respond_with(ResponseTemplate::new(200).set_body_json(volumes(vec![volume(
            &format!("id-{q}"),
            &format!("Title of {q}"),
        )])))
        .expect(times)
        .mount(server)
        .await;
}

async fn mount_volume(server: &MockServer, id: &str, times: u64) {
    Mock::given(method("GET"))
        .and(path(format!("/books/v1/volumes/{id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(volume(id, &format!("Title of {id}"))))
        .expect(times)
        .mount(server)
        .await;
}

/// Runs gbooks and checks it succeeded; returns (stdout, stderr).
fn ok(cmd: &mut assert_cmd::Command) -> (String, String) {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    (stdout(&out), stderr(&out))
}

fn warnings(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.starts_with("gbooks: warning:"))
        .count()
}

fn stats(sb: &Sandbox) -> Value {
    let (out, _) = ok(sb.cmd("http://127.0.0.1:9").args(["cache", "stats", "--json"]));
    serde_json::from_str(&out).unwrap()
}

#[tokio::test]
async fn second_run_is_a_hit_and_new_query_a_miss() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 1).await;
    mount_search(&server, "emma", 1).await;
    let sb = Sandbox::new();
    let (first, err) = ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
    assert!(first.contains("Title of dune"), "{first}");
    assert_eq!(warnings(&err), 0, "{err}");
    let (second, err) = ok(sb
        .cmd(&api(&server))
        .args(["search", "--limit", "1", "dune", "-v"]));
    assert_eq!(first, second);
    assert!(err.contains("-> cached"), "-v tells a hit: {err}");
    let (other, _) = ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "emma"]));
    assert!(other.contains("Title of emma"), "{other}");
    // The JSON output asks with other fields: a separate entry, also kept.
    mount_search(&server, "persuasion", 1).await;
    ok(sb
        .cmd(&api(&server))
        .args(["search", "--limit", "1", "persuasion", "--json"]));
    ok(sb
        .cmd(&api(&server))
        .args(["search", "--limit", "1", "persuasion", "--json"]));
    assert_eq!(stats(&sb)["entries"], 3);
}

#[tokio::test]
async fn entries_expire_after_the_ttl() {
    let server = MockServer::start().await;
    mount_volume(&server, "v1", 2).await;
    let sb = Sandbox::new();
    ok(sb.cmd(&api(&server)).args(["show", "v1", "--cache-ttl", "1s"]));
    std::thread::sleep(Duration::from_millis(1200));
    ok(sb.cmd(&api(&server)).args(["show", "v1", "--cache-ttl", "1s"]));
    // A longer TTL from the config makes the same entry fresh again.
    sb.write_config("cache_ttl = \"1h\"\n");
    ok(sb.cmd(&api(&server)).args(["show", "v1"]));
}

#[tokio::test]
async fn a_cached_search_answers_with_the_server_gone() {
    // Not from wiremock's pool: dropped, it must really close its port.
    let server = MockServer::builder().start().await;
    mount_search(&server, "dune", 1).await;
    let base = api(&server);
    let sb = Sandbox::new();
    let (first, _) = ok(sb.cmd(&base).args(["search", "--limit", "1", "dune"]));
    drop(server); // checks the one request, then closes the port
    let (second, err) = ok(sb.cmd(&base).args(["search", "--limit", "1", "dune"]));
    assert_eq!(first, second);
    assert_eq!(warnings(&err), 0, "{err}");
    // Without the cache the same command now fails: the answer above came from it.
    let out = sb
        .cmd(&base)
        .args(["search", "--limit", "1", "dune", "--no-cache"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[tokio::test]
async fn errors_are_never_cached() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/books/v1/volumes/missing"))
        .respond_with(
            ResponseTemplate::new(404).set_body_raw(fixture("error_404_volume.json"), "application/json"),
        )
        .expect(2)
        .mount(&server)
        .await;
    let sb = Sandbox::new();
    for _ in 0..2 {
        let out = sb.cmd(&api(&server)).args(["show", "missing"]).output().unwrap();
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    }
    assert_eq!(stats(&sb)["entries"], 0);
}

#[tokio::test]
async fn a_new_api_key_keeps_the_cache() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 1).await;
    let sb = Sandbox::new();
    let (first, _) =
        ok(sb
            .cmd(&api(&server))
            .args(["search", "--limit", "1", "dune", "--api-key", "old-key"]));
    let (second, _) = ok(sb
        .cmd(&api(&server))
        .env("GBOOKS_API_KEY", "new-key")
        .args(["search", "--limit", "1", "dune"]));
    assert_eq!(first, second);
    let sent = queries(&server).await;
    assert_eq!(param(&sent[0], "key"), Some("old-key"));
    // The key never reaches the cache file.
    let db = std::fs::read(sb.cache_dir().join("cache.db")).unwrap();
    let wal = std::fs::read(sb.cache_dir().join("cache.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(!bytes.windows(7).any(|w| w == b"old-key"));
    }
}

#[tokio::test]
async fn processes_share_the_cache_at_once() {
    let server = MockServer::start().await;
    let ids: Vec<String> = (0..8).map(|i| format!("vol{i}")).collect();
    for id in &ids {
        mount_volume(&server, id, 1).await;
    }
    let base = api(&server);
    let sb = Sandbox::new();
    // Twice: the first wave writes from eight processes at once, the second
    // (also at once) must find every answer.
    for _ in 0..2 {
        std::thread::scope(|s| {
            let runs: Vec<_> = ids
                .iter()
                .map(|id| {
                    let mut cmd = sb.cmd(&base);
                    cmd.args(["show", id, "--json"]);
                    s.spawn(move || cmd.output().unwrap())
                })
                .collect();
            for (run, id) in runs.into_iter().zip(&ids) {
                let out = run.join().unwrap();
                assert!(out.status.success(), "{}", stderr(&out));
                assert_eq!(stderr(&out), "", "no warning");
                let v: Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(v["id"], id.as_str());
            }
        });
    }
    assert_eq!(stats(&sb)["entries"], 8);
}

#[tokio::test]
async fn a_corrupted_file_warns_once_and_is_rebuilt() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 1).await;
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.cache_dir()).unwrap();
    std::fs::write(
        sb.cache_dir().join("cache.db"),
        b"this is not a database, just garbage\n".repeat(300),
    )
    .unwrap();
    let (first, err) = ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
    assert!(first.contains("Title of dune"));
    assert_eq!(warnings(&err), 1, "{err}");
    assert!(err.contains("corrupted"), "{err}");
    // Rebuilt: the next run is a quiet hit.
    let (second, err) = ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
    assert_eq!(first, second);
    assert_eq!(err, "");
}

#[tokio::test]
async fn an_unusable_cache_dir_warns_once_and_goes_to_the_network() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 2).await;
    let sb = Sandbox::new();
    // A file where the directory should be: nothing can be created there.
    let blocker = sb.dir.path().join("blocker");
    std::fs::write(&blocker, "").unwrap();
    for _ in 0..2 {
        let (out, err) = ok(sb
            .cmd(&api(&server))
            .env("GBOOKS_CACHE_DIR", blocker.join("cache"))
            .args(["search", "--limit", "1", "dune"]));
        assert!(out.contains("Title of dune"));
        assert_eq!(warnings(&err), 1, "{err}");
    }
}

#[tokio::test]
async fn a_locked_cache_warns_once_and_goes_to_the_network() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 2).await;
    let sb = Sandbox::new();
    ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
    // Another program holds the file for itself.
    let conn = rusqlite::Connection::open(sb.cache_dir().join("cache.db")).unwrap();
    conn.execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; DELETE FROM responses WHERE 0; COMMIT;",
    )
    .unwrap();
    let (out, err) = ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
    assert!(out.contains("Title of dune"));
    assert_eq!(warnings(&err), 1, "{err}");
    assert!(err.contains("locked"), "{err}");
    drop(conn);
}

#[tokio::test]
async fn no_cache_neither_reads_nor_writes() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 3).await;
    let sb = Sandbox::new();
    ok(sb
        .cmd(&api(&server))
        .args(["search", "--limit", "1", "dune", "--no-cache"]));
    ok(sb
        .cmd(&api(&server))
        .args(["--no-cache", "search", "--limit", "1", "dune"]));
    assert!(!sb.cache_dir().join("cache.db").exists());
    ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"])); // stores
    ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"])); // hit
    assert_eq!(stats(&sb)["entries"], 1);
}

#[tokio::test]
async fn cache_subcommands() {
    let server = MockServer::start().await;
    mount_search(&server, "dune", 2).await;
    let sb = Sandbox::new();
    let file = sb.cache_dir().join("cache.db");

    let (out, _) = ok(sb.cmd("http://127.0.0.1:9").args(["cache", "path"]));
    assert_eq!(out.trim_end(), file.display().to_string());
    let (out, _) = ok(sb.cmd("http://127.0.0.1:9").args(["cache", "path", "--json"]));
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["path"],
        file.display().to_string()
    );

    // Nothing yet, and looking creates nothing.
    let empty = stats(&sb);
    assert_eq!(
        (empty["entries"].as_u64(), empty["oldest"].is_null()),
        (Some(0), true)
    );
    assert!(!file.exists());

    ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
    let s = stats(&sb);
    assert_eq!(s["entries"], 1);
    assert_eq!(s["expired"], 0);
    assert!(s["size_bytes"].as_u64().unwrap() > 100, "{s}");
    assert_eq!(s["max_bytes"], 200 * 1024 * 1024);
    assert_eq!(s["ttl_seconds"], 86_400);
    let oldest = humantime::parse_rfc3339(s["oldest"].as_str().unwrap()).unwrap();
    assert!(
        oldest.elapsed().unwrap_or_default() < Duration::from_secs(60),
        "{s}"
    );

    let (table, _) = ok(sb.cmd("http://127.0.0.1:9").args(["cache", "stats"]));
    let labels: Vec<&str> = table.lines().filter_map(|l| l.split(':').next()).collect();
    assert_eq!(labels, ["Path", "Entries", "Size", "Oldest", "TTL"], "{table}");
    assert!(table.contains("Entries: 1 (0 expired)"), "{table}");

    let (out, err) = ok(sb.cmd("http://127.0.0.1:9").args(["cache", "clear"]));
    assert_eq!(out, "");
    assert!(err.contains("Removed 1 cached answer"), "{err}");
    assert_eq!(stats(&sb)["entries"], 0);
    // Cleared: the same search goes to the network again.
    ok(sb.cmd(&api(&server)).args(["search", "--limit", "1", "dune"]));
}

/// A cached answer that no longer reads (another gbooks version wrote it,
/// or the disk garbled it) must not fail the command: it goes to the network.
#[tokio::test]
async fn an_unreadable_cached_answer_goes_to_the_network() {
    let server = MockServer::start().await;
    mount_volume(&server, "v1", 2).await;
    let sb = Sandbox::new();
    ok(sb.cmd(&api(&server)).args(["show", "v1", "--json"]));
    // Garble the answer that run kept, as another program might.
    let conn = rusqlite::Connection::open(sb.cache_dir().join("cache.db")).unwrap();
    let garbled = conn
        .execute(
            "UPDATE responses SET body = ?1",
            [&b"{\"kind\": \"books#volume\"}"[..]],
        )
        .unwrap();
    assert_eq!(garbled, 1, "the one answer gbooks kept");
    drop(conn);
    let (out, _) = ok(sb.cmd(&api(&server)).args(["show", "v1", "--json"]));
    let got: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(got["id"], "v1");
    // The good answer replaced the bad one: the next run costs nothing.
    ok(sb.cmd(&api(&server)).args(["show", "v1", "--json"]));
}
