//! `cargo bench`: the release binary against a local server with injected
//! latency, each figure printed next to its floor (what the network alone
//! costs) and the target ratio from issue 5. It reports; it does not fail.
//!
//! It measures target/release/gbooks, built first with `cargo build
//! --release`: the binary `cargo bench` builds for itself carries the
//! dev-dependencies' features and is not what users install.
//!
//! BENCH_RUNS sets how many timed runs each figure takes (median reported).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MIB: f64 = 1024.0 * 1024.0;

/// A Books API stand-in: HTTP/1.1 keep-alive, every answer held back by
/// `latency` (changeable between measurements), counting what it serves.
struct Server {
    addr: SocketAddr,
    latency_ms: Arc<AtomicU64>,
    served: Arc<AtomicUsize>,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn start() -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let latency_ms = Arc::new(AtomicU64::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("addr");
        let (latency, count) = (latency_ms.clone(), served.clone());
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(connection(stream, latency.clone(), count.clone()));
            }
        });
        Server {
            addr,
            latency_ms,
            served,
            _runtime: runtime,
        }
    }

    fn base(&self) -> String {
        format!("http://{}/books/v1", self.addr)
    }

    fn set_latency(&self, ms: u64) {
        self.latency_ms.store(ms, Ordering::SeqCst);
    }

    fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

async fn connection(mut stream: TcpStream, latency: Arc<AtomicU64>, served: Arc<AtomicUsize>) {
    let mut buf = Vec::with_capacity(4096);
    loop {
        let end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end);
        let target = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        let body = answer(&target);
        let wait = latency.load(Ordering::SeqCst);
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait)).await;
        }
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json; charset=UTF-8\r\ncontent-length: {}\r\n\r\n{}",
            body.len(),
            body
        );
        served.fetch_add(1, Ordering::SeqCst);
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// `q=isbn:N` finds one book carrying N; any other query lists `v0`, `v1`, …
fn answer(target: &str) -> String {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let mut q = String::new();
    let (mut start, mut max) = (0usize, 10usize);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match &*k {
            "q" => q = v.into_owned(),
            "startIndex" => start = v.parse().unwrap_or(0),
            "maxResults" => max = v.parse().unwrap_or(10),
            _ => {}
        }
    }
    let items: Vec<String> = match q.strip_prefix("isbn:") {
        Some(isbn) => vec![volume(&format!("b{isbn}"), isbn)],
        None => (start..start + max)
            .map(|i| volume(&format!("v{i}"), &format!("978{i:010}")))
            .collect(),
    };
    format!(
        r#"{{"kind":"books#volumes","totalItems":1000,"items":[{}]}}"#,
        items.join(",")
    )
}

fn volume(id: &str, isbn: &str) -> String {
    format!(
        r#"{{"kind":"books#volume","id":"{id}","volumeInfo":{{"title":"The Book of {id}","authors":["Ann Author","Bo Writer"],"publisher":"Loopback Press","publishedDate":"2001-02-03","industryIdentifiers":[{{"type":"ISBN_13","identifier":"{isbn}"}}],"pageCount":321,"language":"en"}}}}"#
    )
}

/// One run of a child process: wall time from spawn to exit and its peak RSS.
struct Run {
    secs: f64,
    max_rss: Option<u64>,
    ok: bool,
}

/// Runs `cmd` with `stdin`, stdout and stderr discarded.
fn run(cmd: &mut Command, stdin: &[u8]) -> Run {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn");
    {
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(stdin).expect("write stdin");
    }
    let (ok, max_rss) = wait(child);
    Run {
        secs: start.elapsed().as_secs_f64(),
        max_rss,
        ok,
    }
}

/// Waits with wait4(2) to read this child's own peak RSS.
#[cfg(unix)]
fn wait(child: std::process::Child) -> (bool, Option<u64>) {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped (std never waited for it).
    let got = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    std::mem::forget(child);
    if got != pid {
        return (false, None);
    }
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    // Linux reports KiB, macOS bytes.
    let rss = usage.ru_maxrss as u64;
    let bytes = if cfg!(target_os = "macos") {
        rss
    } else {
        rss * 1024
    };
    (ok, Some(bytes))
}

#[cfg(not(unix))]
fn wait(mut child: std::process::Child) -> (bool, Option<u64>) {
    (child.wait().map(|s| s.success()).unwrap_or(false), None)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// A private home so that the user's config, key and cache stay out of it.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(name: &str) -> Home {
        let dir = std::env::temp_dir().join(format!("gbooks-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Home { dir }
    }

    fn cmd(&self, server: &Server, cache: &Path) -> Command {
        let mut cmd = Command::new(gbooks());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("xdg-config"))
            .env("XDG_CACHE_HOME", self.dir.join("xdg-cache"))
            .env("GBOOKS_CONFIG_DIR", self.dir.join("config"))
            .env("GBOOKS_CACHE_DIR", cache)
            .env("GBOOKS_TOKEN_STORE", "file")
            .env("GBOOKS_API_BASE", server.base());
        cmd
    }

    /// A cache directory no run has used yet.
    fn fresh_cache(&self, n: usize) -> PathBuf {
        self.dir.join(format!("cache-{n}"))
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

struct Report {
    lines: Vec<String>,
}

impl Report {
    fn time(&mut self, what: &str, secs: f64, floor: f64, target: f64, note: &str) {
        let ratio = secs / floor;
        let verdict = if ratio <= target { "PASS" } else { "MISS" };
        self.lines.push(format!(
            "{what:<34} {:>8.1} ms   floor {:>7.1} ms   {ratio:>5.2}x   target <= {target:.2}x   {verdict}{note}",
            secs * 1000.0,
            floor * 1000.0
        ));
    }

    fn size(&mut self, what: &str, bytes: u64, limit_mib: f64) {
        let mib = bytes as f64 / MIB;
        let verdict = if mib <= limit_mib { "PASS" } else { "MISS" };
        self.lines.push(format!(
            "{what:<34} {mib:>8.2} MiB                          target <= {limit_mib:.0} MiB   {verdict}"
        ));
    }

    fn note(&mut self, what: &str, text: &str) {
        self.lines.push(format!("{what:<34} {text}"));
    }
}

fn main() {
    // `cargo test --benches` runs benches with no arguments in test mode;
    // `cargo bench` passes --bench. Only the latter measures.
    if !std::env::args().any(|a| a == "--bench") {
        println!("speed: run `cargo bench` to measure");
        return;
    }
    if let Err(e) = build_release() {
        eprintln!("speed: {e}");
        std::process::exit(1);
    }
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    let server = Server::start();
    let home = Home::new("speed");
    let mut caches = 0;
    let mut next_cache = || {
        caches += 1;
        home.fresh_cache(caches)
    };
    let mut report = Report { lines: Vec::new() };
    println!(
        "gbooks speed, {runs} runs each (median), binary {}",
        gbooks().display()
    );

    // Batch lookup: 400 ISBNs, --jobs 8, 50 ms a reply.
    let isbns: Vec<String> = (0..400).map(|i| isbn13(&format!("978{i:09}"))).collect();
    let input = isbns.join("\n") + "\n";
    server.set_latency(50);
    let mut times = Vec::new();
    let mut peak = 0;
    let mut failed = false;
    for _ in 0..runs {
        let cache = next_cache();
        let before = server.served();
        let r = run(
            home.cmd(&server, &cache).args(["isbn", "--jobs", "8"]),
            input.as_bytes(),
        );
        failed |= !r.ok || server.served() - before != 400;
        times.push(r.secs);
        peak = peak.max(r.max_rss.unwrap_or(0));
    }
    let batch_note = if failed { "   (a run failed!)" } else { "" };
    report.time(
        "isbn: 400 lookups, --jobs 8, 50 ms",
        median(times),
        2.5,
        1.15,
        batch_note,
    );
    if peak > 0 {
        report.size("isbn: peak RSS of that run", peak, 30.0);
    } else {
        report.note("isbn: peak RSS of that run", "not measured on this platform");
    }

    // The same batch again with the cache the first run filled.
    cached_rerun(&server, &home, &input, &mut report);

    // Paging: --limit 137 is four pages; the last three go out together.
    server.set_latency(100);
    let mut times = Vec::new();
    let mut odd = false;
    for _ in 0..runs {
        let cache = next_cache();
        let before = server.served();
        let r = run(
            home.cmd(&server, &cache)
                .args(["search", "dune", "--limit", "137"]),
            b"",
        );
        odd |= !r.ok || server.served() - before != 4;
        times.push(r.secs);
    }
    let paging_note = if odd {
        "   (not 4 pages, or a run failed!)"
    } else {
        ""
    };
    report.time("search --limit 137, 100 ms", median(times), 0.2, 1.5, paging_note);

    // One search on loopback against curl fetching the same URL.
    server.set_latency(0);
    let url = format!(
        "{}/volumes?q=dune&startIndex=0&maxResults=10&fields={}",
        server.base(),
        "items(id,volumeInfo(title,authors,publisher,publishedDate,industryIdentifiers,pageCount,language))"
    );
    let single = runs.max(20);
    let mut ours = Vec::new();
    let mut curls = Vec::new();
    for i in 0..=single {
        let cache = next_cache();
        let g = run(home.cmd(&server, &cache).args(["search", "dune"]), b"");
        let c = run(Command::new("curl").args(["-sf", "-o", "/dev/null", &url]), b"");
        // The first pair only warms the page cache.
        if i > 0 && g.ok && c.ok {
            ours.push(g.secs);
            curls.push(c.secs);
        }
    }
    if curls.is_empty() {
        report.note("search on loopback vs curl", "skipped: curl did not run");
    } else {
        let floor = median(curls);
        report.time(
            "search on loopback (vs curl)",
            median(ours),
            floor,
            1.5,
            "   floor = curl",
        );
    }

    // The release binary.
    let bytes = std::fs::metadata(gbooks()).map(|m| m.len()).unwrap_or(0);
    report.size("binary size", bytes, 8.0);

    println!();
    for line in &report.lines {
        println!("{line}");
    }
}

/// The 400 lookups a second time from a warm cache; skipped with a note if
/// this gbooks has no cache (`--no-cache` unknown).
fn cached_rerun(server: &Server, home: &Home, input: &str, report: &mut Report) {
    const WHAT: &str = "isbn: same 400, cached";
    let probe = Command::new(gbooks())
        .args(["--no-cache", "isbn", "--help"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        report.note(
            WHAT,
            "skipped: this build has no response cache (--no-cache unknown)",
        );
        return;
    }
    server.set_latency(50);
    let cache = home.dir.join("cache-rerun");
    let fill = run(
        home.cmd(server, &cache).args(["isbn", "--jobs", "8"]),
        input.as_bytes(),
    );
    let before = server.served();
    let again = run(
        home.cmd(server, &cache).args(["isbn", "--jobs", "8"]),
        input.as_bytes(),
    );
    let sent = server.served() - before;
    if !fill.ok || !again.ok {
        report.note(WHAT, "skipped: a run failed");
        return;
    }
    report.note(
        WHAT,
        &format!(
            "{:>8.1} ms   (first run {:.1} ms; {sent} requests reached the server)",
            again.secs * 1000.0,
            fill.secs * 1000.0
        ),
    );
}

/// The binary users get: target/release/gbooks.
fn gbooks() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target
        .join("release")
        .join(format!("gbooks{}", std::env::consts::EXE_SUFFIX))
}

/// `cargo build --release --bin gbooks`: quick when it is up to date.
fn build_release() -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--bin", "gbooks", "--manifest-path"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"))
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("cargo build --release failed".into())
    }
}

fn isbn13(first12: &str) -> String {
    let sum: u32 = first12
        .bytes()
        .enumerate()
        .map(|(i, b)| if i % 2 == 0 { 1 } else { 3 } * u32::from(b - b'0'))
        .sum();
    format!("{first12}{}", (10 - sum % 10) % 10)
}
