//! `cargo bench`: the release binary against a local server with injected
//! latency, each figure printed next to its floor (what the network alone
//! costs) and the target ratio from issue 5. It reports; it does not fail.
//!
//! It measures target/release/gbooks, built first with `cargo build
//! --release`: the binary `cargo bench` builds for itself carries the
//! dev-dependencies' features and is not what users install.
//!
//! BENCH_RUNS sets how many timed runs each figure takes (median reported),
//! BENCH_RTT_MS the round trip of the TLS cases (20 ms), BENCH_BIN another
//! binary to measure instead (nothing is built then), BENCH_ONLY the cases
//! to run (see `wanted`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

const MIB: f64 = 1024.0 * 1024.0;

/// A Books API stand-in: HTTP/1.1 keep-alive, every answer held back by
/// `latency` (changeable between measurements), counting what it serves.
struct Server {
    addr: SocketAddr,
    latency_ms: Arc<AtomicU64>,
    served: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    timeline: Arc<std::sync::Mutex<Timeline>>,
    _runtime: tokio::runtime::Runtime,
}

/// When the server first accepted a connection and last sent an answer,
/// since it was last cleared: where a client's time went.
#[derive(Default, Clone)]
struct Timeline {
    first_accept: Option<Instant>,
    last_reply: Option<Instant>,
    /// On each connection, from an answer sent to the next request read.
    gaps: Vec<Duration>,
}

impl Server {
    fn start() -> Server {
        Server::serve(None)
    }

    /// The same over TLS (HTTP/1.1), with a certificate for 127.0.0.1.
    fn start_tls(tls: tokio_rustls::TlsAcceptor) -> Server {
        Server::serve(Some(tls))
    }

    fn serve(tls: Option<tokio_rustls::TlsAcceptor>) -> Server {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let latency_ms = Arc::new(AtomicU64::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let accepted = connections.clone();
        let timeline = Arc::new(std::sync::Mutex::new(Timeline::default()));
        let marks = timeline.clone();
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("addr");
        let (latency, count) = (latency_ms.clone(), served.clone());
        runtime.spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                marks
                    .lock()
                    .expect("timeline")
                    .first_accept
                    .get_or_insert_with(Instant::now);
                let _ = stream.set_nodelay(true);
                let (latency, count, tls, marks) =
                    (latency.clone(), count.clone(), tls.clone(), marks.clone());
                tokio::spawn(async move {
                    match tls {
                        None => connection(stream, latency, count, marks).await,
                        Some(tls) => {
                            if let Ok(stream) = tls.accept(stream).await {
                                connection(stream, latency, count, marks).await;
                            }
                        }
                    }
                });
            }
        });
        Server {
            addr,
            latency_ms,
            served,
            connections,
            timeline,
            _runtime: runtime,
        }
    }

    /// The timeline since the last call, cleared for the next run.
    fn take_timeline(&self) -> Timeline {
        std::mem::take(&mut *self.timeline.lock().expect("timeline"))
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

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    latency: Arc<AtomicU64>,
    served: Arc<AtomicUsize>,
    timeline: Arc<std::sync::Mutex<Timeline>>,
) {
    let mut buf = Vec::with_capacity(4096);
    let mut replied: Option<Instant> = None;
    loop {
        let Some(end) = read_to(&mut stream, &mut buf, Until::Head).await else {
            return;
        };
        if let Some(at) = replied {
            timeline.lock().expect("timeline").gaps.push(at.elapsed());
        }
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
        if stream.write_all(reply.as_bytes()).await.is_err() || stream.flush().await.is_err() {
            return;
        }
        let now = Instant::now();
        replied = Some(now);
        timeline.lock().expect("timeline").last_reply = Some(now);
    }
}

/// How far `read_to` reads.
enum Until {
    /// The end of an HTTP head (the blank line).
    Head,
    /// This many bytes in the buffer.
    Bytes(usize),
}

/// Reads into `buf` until it holds what `until` asks for: where the head
/// ends, or the length. `None` when the stream ends or fails first.
async fn read_to<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>, until: Until) -> Option<usize> {
    loop {
        match until {
            Until::Head => {
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    return Some(i + 4);
                }
            }
            Until::Bytes(n) if buf.len() >= n => return Some(n),
            Until::Bytes(_) => {}
        }
        let mut chunk = [0u8; 16 * 1024];
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
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
        // As the recorded `q=verity` answer does, the fourth volume is the
        // third again.
        None if q == "verity" => (start..start + max)
            .map(|i| if i == 3 { 2 } else { i })
            .map(|i| volume(&format!("v{i}"), &format!("978{i:010}")))
            .collect(),
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

/// Whether BENCH_ONLY (a comma-separated list of cases: loopback, search,
/// keyring, miss, batch, paging) lets this case run; all run without it.
fn wanted(case: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.split(',').any(|c| c.trim() == case))
}

/// One run of a child process: wall time from spawn to exit and its peak RSS.
struct Run {
    started: Instant,
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
        started: start,
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
        self.cmd_at(&server.base(), cache)
    }

    fn cmd_at(&self, base: &str, cache: &Path) -> Command {
        let mut cmd = Command::new(gbooks());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .env("XDG_CONFIG_HOME", self.dir.join("xdg-config"))
            .env("XDG_CACHE_HOME", self.dir.join("xdg-cache"))
            .env("GBOOKS_CONFIG_DIR", self.dir.join("config"))
            .env("GBOOKS_CACHE_DIR", cache)
            .env("GBOOKS_TOKEN_STORE", "file")
            .env("GBOOKS_API_BASE", base);
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

#[derive(Clone, Copy)]
enum Target {
    Floor(f64),
    Curl(f64),
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

    /// A figure against its floor and against curl doing the same; the
    /// target is a ratio to one of them.
    fn time_vs(&mut self, what: &str, secs: f64, floor: f64, curl: Option<f64>, target: Target, note: &str) {
        let curl_text = match curl {
            Some(c) => format!("curl {:>7.1} ms {:>5.2}x", c * 1000.0, secs / c),
            None => "curl        -".to_string(),
        };
        let (ratio, target_text) = match target {
            Target::Floor(t) => (secs / floor, format!("<= {t:.2}x floor")),
            Target::Curl(t) => (curl.map_or(f64::NAN, |c| secs / c), format!("<= {t:.2}x curl")),
        };
        let limit = match target {
            Target::Floor(t) | Target::Curl(t) => t,
        };
        let verdict = if ratio <= limit { "PASS" } else { "MISS" };
        self.lines.push(format!(
            "{what:<34} {:>8.1} ms   floor {:>7.1} ms {:>5.2}x   {curl_text}   target {target_text}   {verdict}{note}",
            secs * 1000.0,
            floor * 1000.0,
            secs / floor,
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
    if std::env::var_os("BENCH_BIN").is_some() {
        // Measuring another binary: nothing to build.
    } else if let Err(e) = build_release() {
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

    if wanted("loopback") {
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
            report.size("isbn: peak RSS of that run", peak, 16.0);
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
    }

    tls_cases(&home, runs, &mut report);

    // The release binary.
    let bytes = std::fs::metadata(gbooks()).map(|m| m.len()).unwrap_or(0);
    report.size("binary size", bytes, 10.0);

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

/// The binary users get: target/release/gbooks (BENCH_BIN: another one).
fn gbooks() -> PathBuf {
    if let Some(bin) = std::env::var_os("BENCH_BIN") {
        return PathBuf::from(bin);
    }
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

/// A front for a server that makes the network slow: a connection starts
/// one round trip late (the TCP handshake), and whatever the server sends
/// arrives one round trip after it was sent. Requests go through at once,
/// so that a request and its answer cost one round trip and a TLS 1.3
/// handshake another, as on a real network.
struct SlowNetwork {
    addr: SocketAddr,
    rtt_ms: Arc<AtomicU64>,
}

/// The slow network runs on plain threads: a Tokio timer fires up to a
/// millisecond late (it rounds to its tick), which over the batch's fifty
/// sequential round trips would add 5% to every client's time and none to
/// the floor. A thread's sleep is late by tens of microseconds.
impl SlowNetwork {
    fn start(backend: SocketAddr) -> SlowNetwork {
        let rtt_ms = Arc::new(AtomicU64::new(0));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("addr");
        let rtt = rtt_ms.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let rtt = Duration::from_millis(rtt.load(Ordering::SeqCst));
                std::thread::spawn(move || relay(client, backend, rtt));
            }
        });
        SlowNetwork { addr, rtt_ms }
    }

    fn set_rtt(&self, ms: u64) {
        self.rtt_ms.store(ms, Ordering::SeqCst);
    }

    fn base(&self) -> String {
        format!("https://{}/books/v1", self.addr)
    }
}

/// One connection: it starts a round trip late (the TCP handshake), and
/// what the server sends arrives a round trip after it was sent.
fn relay(client: std::net::TcpStream, backend: SocketAddr, rtt: Duration) {
    use std::io::{Read, Write};
    std::thread::sleep(rtt);
    let Ok(server) = std::net::TcpStream::connect(backend) else {
        return;
    };
    let _ = server.set_nodelay(true);
    let _ = client.set_nodelay(true);
    let (Ok(mut from_client), Ok(mut to_server)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from_client, &mut to_server);
        let _ = to_server.shutdown(std::net::Shutdown::Write);
    });
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    let mut from_server = server;
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from_server.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                        break;
                    }
                }
            }
        }
    });
    let mut to_client = client;
    while let Ok((sent, chunk)) = rx.recv() {
        let due = sent + rtt;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        if to_client.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = to_client.shutdown(std::net::Shutdown::Write);
}

/// The 400 lookups as a client that does nothing but them: one thread,
/// 8 TLS connections at once, 50 requests on each, answers read and
/// dropped. Its time, or `None` if a request failed.
fn minimal_batch(addr: SocketAddr, ca_pem: &str, isbns: &[String]) -> Option<f64> {
    use tokio_rustls::rustls::pki_types::{pem::PemObject, CertificateDer, ServerName};
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).ok()?)
        .ok()?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    let started = Instant::now();
    let all = runtime.block_on(async {
        let tasks: Vec<_> = isbns
            .chunks(isbns.len().div_ceil(8))
            .map(|chunk| {
                let (connector, chunk) = (connector.clone(), chunk.to_vec());
                tokio::spawn(async move {
                    let tcp = tokio::net::TcpStream::connect(addr).await.ok()?;
                    tcp.set_nodelay(true).ok()?;
                    let name = ServerName::IpAddress(addr.ip().into());
                    let mut tls = connector.connect(name, tcp).await.ok()?;
                    let mut buf = Vec::new();
                    for isbn in chunk {
                        let request = format!(
                            "GET /books/v1/volumes?q=isbn:{isbn}&startIndex=0&maxResults=5 HTTP/1.1\r\nhost: {addr}\r\n\r\n"
                        );
                        tls.write_all(request.as_bytes()).await.ok()?;
                        let end = read_to(&mut tls, &mut buf, Until::Head).await?;
                        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                        let length: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())?;
                        read_to(&mut tls, &mut buf, Until::Bytes(end + length)).await?;
                        buf.drain(..end + length);
                    }
                    Some(())
                })
            })
            .collect();
        let mut all = true;
        for task in tasks {
            all &= matches!(task.await, Ok(Some(())));
        }
        all
    });
    all.then(|| started.elapsed().as_secs_f64())
}

/// The median round trip through a slow network of `rtt_ms`: 500 bytes
/// out to an echo server and back, 30 times on one connection.
fn measured_rtt(rtt_ms: u64) -> f64 {
    use std::io::{Read, Write};
    let echo = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let backend = echo.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in echo.incoming() {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_nodelay(true);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 || stream.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let net = SlowNetwork::start(backend);
    net.set_rtt(rtt_ms);
    let nominal = rtt_ms as f64 / 1000.0;
    let Ok(mut stream) = std::net::TcpStream::connect(net.addr) else {
        return nominal;
    };
    let _ = stream.set_nodelay(true);
    let message = [b'x'; 500];
    let mut back = [0u8; 500];
    let mut times = Vec::new();
    for i in 0..32 {
        let started = Instant::now();
        if stream.write_all(&message).is_err() || stream.read_exact(&mut back).is_err() {
            return nominal;
        }
        // The first two include the connection's own late start.
        if i >= 2 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    median(times)
}

/// A test CA (as PEM) and a TLS setup for 127.0.0.1 signed by it.
fn test_ca() -> (String, tokio_rustls::TlsAcceptor) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.distinguished_name.push(DnType::CommonName, "gbooks bench CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().expect("ca key");
    let ca_pem = ca.self_signed(&ca_key).expect("ca cert").pem();
    let issuer = Issuer::new(ca, ca_key);
    let mut leaf = CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("leaf params");
    leaf.distinguished_name.push(DnType::CommonName, "127.0.0.1");
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf cert");
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .expect("server config");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (ca_pem, tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A whole-process run split in three, from the server's timeline: before
/// the first connection, the network part (from that connection to the
/// last answer's arrival), and after it.
#[derive(Clone, Copy)]
struct Phases {
    start: f64,
    network: f64,
    end: f64,
    /// The median time from an answer's arrival to the next request on
    /// its connection.
    turn: f64,
}

impl Phases {
    /// The slow network opens the server side of a connection a round trip
    /// after the client's, and delivers an answer a round trip after the
    /// server sent it.
    fn of(started: Instant, secs: f64, timeline: Timeline, rtt: f64) -> Option<Phases> {
        if timeline.gaps.is_empty() {
            return None;
        }
        let turn = median(timeline.gaps.iter().map(|g| g.as_secs_f64() - rtt).collect());
        let rtt = Duration::from_secs_f64(rtt);
        let connected = timeline.first_accept?.checked_sub(rtt)?;
        let answered = timeline.last_reply? + rtt;
        let exited = started + Duration::from_secs_f64(secs);
        Some(Phases {
            start: connected.checked_duration_since(started)?.as_secs_f64(),
            network: answered.checked_duration_since(connected)?.as_secs_f64(),
            end: exited.checked_duration_since(answered)?.as_secs_f64(),
            turn,
        })
    }

    /// Each phase's own median.
    fn median(all: &[Phases]) -> Option<Phases> {
        (!all.is_empty()).then(|| Phases {
            start: median(all.iter().map(|p| p.start).collect()),
            network: median(all.iter().map(|p| p.network).collect()),
            end: median(all.iter().map(|p| p.end).collect()),
            turn: median(all.iter().map(|p| p.turn).collect()),
        })
    }

    /// The report's line, the network part against its `floor`.
    fn line(&self, floor: f64) -> String {
        format!(
            "start {:.1} ms, network {:.1} ms ({:.3}x its floor), end {:.1} ms, turn {:.2} ms",
            self.start * 1000.0,
            self.network * 1000.0,
            self.network / floor,
            self.end * 1000.0,
            self.turn * 1000.0
        )
    }
}

/// Runs gbooks and curl in turn, `n` pairs after one warm-up pair; returns
/// both medians, gbooks' peak RSS and whether every gbooks run was right.
fn alternate(
    n: usize,
    mut ours: impl FnMut(usize) -> (Run, bool),
    mut curl: impl FnMut(usize) -> Option<f64>,
) -> (f64, Option<f64>, u64, bool) {
    let (mut g, mut c, mut peak, mut ok) = (Vec::new(), Vec::new(), 0, true);
    for i in 0..=n {
        let (run, right) = ours(i);
        let theirs = curl(i);
        if i == 0 {
            continue;
        }
        ok &= run.ok && right;
        peak = peak.max(run.max_rss.unwrap_or(0));
        g.push(run.secs);
        c.extend(theirs);
    }
    let curl_median = (!c.is_empty()).then(|| median(c));
    (median(g), curl_median, peak, ok)
}

/// The session bus of a Secret Service, when there is one.
fn keyring_bus() -> Option<std::ffi::OsString> {
    std::env::var_os("DBUS_SESSION_BUS_ADDRESS").filter(|b| !b.is_empty())
}

/// curl with the same trust as gbooks; `None` if it failed or is missing.
fn curl(bundle: &Path, args: &[&str]) -> Option<f64> {
    let r = run(
        Command::new("curl")
            .args(["-sf", "--cacert"])
            .arg(bundle)
            .args(args),
        b"",
    );
    r.ok.then_some(r.secs)
}

/// The issue 16 figures over TLS, with round trips injected per connection.
fn tls_cases(home: &Home, runs: usize, report: &mut Report) {
    let rtt_ms: u64 = std::env::var("BENCH_RTT_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    // The floors count round trips as the slow network really gives them:
    // its delay plus what its threads and the kernel's loopback add.
    let rtt = measured_rtt(rtt_ms);
    let (ca_pem, tls) = test_ca();
    let server = Server::start_tls(tls);
    let net = SlowNetwork::start(server.addr);
    // The system's bundle and the test CA: loading the roots costs what it
    // costs users.
    let system = [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .unwrap_or_default();
    let bundle = home.dir.join("ca-bundle.pem");
    std::fs::write(&bundle, system + &ca_pem).expect("write the CA bundle");
    let base = net.base();
    let cmd = |cache: &Path| {
        let mut c = home.cmd_at(&base, cache);
        c.env("SSL_CERT_FILE", &bundle);
        c
    };
    let fresh = |name: String| home.dir.join(name);
    let mut peak = 0u64;
    report.note("", "");
    report.note(
        &format!("over TLS, {rtt_ms} ms round trips"),
        &format!(
            "(HTTP/1.1; floor: a TCP handshake, a TLS 1.3 handshake and one round trip per request;\n{:34} a round trip measured through the slow network: {:.2} ms)",
            "",
            rtt * 1000.0
        ),
    );

    let fields =
        "items(id,volumeInfo(title,authors,publisher,publishedDate,industryIdentifiers,pageCount,language))";
    let pairs = runs.max(10);
    if wanted("search") {
        // Cold search, whole process, an answer that repeats a volume.
        net.set_rtt(rtt_ms);
        let url = format!("{base}/volumes?q=verity&startIndex=0&maxResults=10&fields={fields}");
        let (ours, theirs, rss, ok) = alternate(
            pairs,
            |i| {
                let (before, opened) = (server.served(), server.connections());
                let r = run(
                    cmd(&fresh(format!("tls-search-{i}"))).args(["search", "verity"]),
                    b"",
                );
                let right = server.served() - before == 1 && server.connections() - opened == 1;
                (r, right)
            },
            |_| curl(&bundle, &["-o", "/dev/null", &url]),
        );
        peak = peak.max(rss);
        let note = if ok {
            ""
        } else {
            "   (not one request on one connection, or a run failed!)"
        };
        report.time_vs(
            "cold search, repeat in the answer",
            ours,
            3.0 * rtt,
            theirs,
            Target::Curl(1.0),
            note,
        );
    }
    if wanted("keyring") {
        // The key kept in the keyring (a D-Bus round trip to read) against the
        // same search with --api-key: the connection opens while the keyring
        // answers, so the two should cost the same.
        match keyring_bus() {
            Some(bus) => {
                let key = "bench-key-in-the-keyring";
                let kept = |c: &mut Command| {
                    c.env("GBOOKS_TOKEN_STORE", "keyring")
                        .env("DBUS_SESSION_BUS_ADDRESS", &bus);
                };
                let mut set = cmd(&fresh("tls-key-set".into()));
                kept(&mut set);
                let stored = run(set.args(["auth", "key", "set"]), format!("{key}\n").as_bytes());
                if stored.ok {
                    let (with_kept, with_flag, _, ok) = alternate(
                        pairs,
                        |i| {
                            let mut c = cmd(&fresh(format!("tls-kept-{i}")));
                            kept(&mut c);
                            (run(c.args(["search", "verity"]), b""), true)
                        },
                        |i| {
                            let mut c = cmd(&fresh(format!("tls-flag-{i}")));
                            kept(&mut c);
                            let r = run(c.args(["--api-key", key, "search", "verity"]), b"");
                            r.ok.then_some(r.secs)
                        },
                    );
                    let mut c = cmd(&fresh("tls-key-remove".into()));
                    kept(&mut c);
                    let _ = run(c.args(["auth", "key", "remove"]), b"");
                    match with_flag.filter(|_| ok) {
                        Some(flag) => {
                            let extra = (with_kept - flag) * 1000.0;
                            let verdict = if extra <= 1.0 { "PASS" } else { "MISS" };
                            report.note(
                                "cold search, key in the keyring",
                                &format!(
                                    "{:>8.1} ms   --api-key {:.1} ms   {extra:+.2} ms   target <= +1 ms   {verdict}",
                                    with_kept * 1000.0,
                                    flag * 1000.0
                                ),
                            );
                        }
                        None => report.note("cold search, key in the keyring", "skipped: a run failed"),
                    }
                } else {
                    report.note(
                        "cold search, key in the keyring",
                        "skipped: the keyring took no key",
                    );
                }
            }
            None => report.note(
                "cold search, key in the keyring",
                "skipped: no D-Bus session (run under dbus-run-session with a Secret Service)",
            ),
        }
    }
    if wanted("miss") {
        // A cache miss against --no-cache, with a cache.db already there.
        net.set_rtt(0);
        let cache = fresh("tls-miss".into());
        let _ = run(cmd(&cache).args(["search", "first"]), b"");
        let pairs = runs.max(20);
        let (mut miss, mut none) = (Vec::new(), Vec::new());
        for i in 0..=pairs {
            let a = run(cmd(&cache).args(["search", &format!("miss{i}")]), b"");
            let b = run(
                cmd(&cache).args(["--no-cache", "search", &format!("none{i}")]),
                b"",
            );
            peak = peak.max(a.max_rss.unwrap_or(0)).max(b.max_rss.unwrap_or(0));
            if i > 0 && a.ok && b.ok {
                miss.push(a.secs);
                none.push(b.secs);
            }
        }
        if miss.is_empty() {
            report.note("cache miss vs --no-cache", "skipped: the runs failed");
        } else {
            let (miss, none) = (median(miss), median(none));
            let extra = (miss - none) * 1000.0;
            let verdict = if extra <= 1.0 { "PASS" } else { "MISS" };
            report.note(
                "cache miss vs --no-cache",
                &format!(
                    "{:>8.1} ms   --no-cache {:.1} ms   {extra:+.2} ms   target <= +1 ms   {verdict}",
                    miss * 1000.0,
                    none * 1000.0
                ),
            );
        }
    }
    if wanted("batch") {
        // The 400-ISBN batch: eight connections, fifty requests on each.
        net.set_rtt(rtt_ms);
        let isbns: Vec<String> = (0..400).map(|i| isbn13(&format!("978{i:09}"))).collect();
        let input = isbns.join("\n") + "\n";
        let config = home.dir.join("curl-batch.txt");
        let lines: String = isbns
            .iter()
            .map(|n| {
                format!(
                    "url = \"{base}/volumes?q=isbn:{n}&startIndex=0&maxResults=5\"\noutput = \"/dev/null\"\n"
                )
            })
            .collect();
        std::fs::write(&config, lines).expect("curl config");
        let config_arg = config.display().to_string();
        let mut phases = Vec::new();
        let (ours, theirs, rss, ok) = alternate(
            runs,
            |i| {
                let (before, opened) = (server.served(), server.connections());
                server.take_timeline();
                let r = run(
                    cmd(&fresh(format!("tls-batch-{i}"))).args(["isbn", "--jobs", "8"]),
                    input.as_bytes(),
                );
                if i > 0 {
                    phases.extend(Phases::of(r.started, r.secs, server.take_timeline(), rtt));
                }
                (
                    r,
                    server.served() - before == 400 && server.connections() - opened == 8,
                )
            },
            |_| {
                curl(
                    &bundle,
                    &[
                        "-Z",
                        "--parallel-immediate",
                        "--parallel-max",
                        "8",
                        "-K",
                        &config_arg,
                    ],
                )
            },
        );
        peak = peak.max(rss);
        let note = if ok {
            ""
        } else {
            "   (not 400 requests on 8 connections, or a run failed!)"
        };
        report.time_vs(
            "400 ISBNs, --jobs 8",
            ours,
            52.0 * rtt,
            theirs,
            Target::Floor(1.05),
            note,
        );
        if let Some(p) = Phases::median(&phases) {
            report.note("400 ISBNs: where the time goes", &p.line(52.0 * rtt));
        }
        // The same requests from a client that does nothing else: what the
        // slow network and the server cost on their own.
        let mut minimal_phases = Vec::new();
        let minimal: Vec<f64> = (0..runs)
            .filter_map(|_| {
                server.take_timeline();
                let started = Instant::now();
                let secs = minimal_batch(net.addr, &ca_pem, &isbns)?;
                let timeline = server.take_timeline();
                minimal_phases.extend(Phases::of(
                    started,
                    started.elapsed().as_secs_f64(),
                    timeline,
                    rtt,
                ));
                Some(secs)
            })
            .collect();
        if let Some(p) = Phases::median(&minimal_phases) {
            report.note("400 ISBNs, the minimal client's", &p.line(52.0 * rtt));
        }
        if minimal.is_empty() {
            report.note("400 ISBNs, a minimal client", "skipped: its runs failed");
        } else {
            let m = median(minimal);
            report.note(
                "400 ISBNs, a minimal client",
                &format!(
                    "{:>8.1} ms   floor {:>7.1} ms {:>5.2}x   gbooks {:.2}x the minimal client (which starts no process)",
                    m * 1000.0,
                    52.0 * rtt * 1000.0,
                    m / (52.0 * rtt),
                    ours / m
                ),
            );
        }
    }
    if wanted("paging") {
        // --limit 200: the first page, then the other four at once (one on the
        // first connection, three on new ones).
        let page = |start: usize, max: usize| {
            format!("{base}/volumes?q=dune&startIndex={start}&maxResults={max}&fields={fields}")
        };
        let rest: Vec<String> = [(40, 40), (80, 40), (120, 40), (160, 40)]
            .iter()
            .map(|&(s, m)| page(s, m))
            .collect();
        let first = page(0, 40);
        let (ours, theirs, rss, ok) = alternate(
            runs,
            |i| {
                let (before, opened) = (server.served(), server.connections());
                let r = run(
                    cmd(&fresh(format!("tls-paging-{i}"))).args(["search", "dune", "--limit", "200"]),
                    b"",
                );
                (
                    r,
                    server.served() - before == 5 && server.connections() - opened == 4,
                )
            },
            |_| {
                let a = curl(&bundle, &["-o", "/dev/null", &first])?;
                let mut args = vec!["-Z", "--parallel-immediate"];
                for url in &rest {
                    args.extend(["-o", "/dev/null", url.as_str()]);
                }
                Some(a + curl(&bundle, &args)?)
            },
        );
        peak = peak.max(rss);
        let note = if ok {
            ""
        } else {
            "   (not 5 pages on 4 connections, or a run failed!)"
        };
        report.time_vs(
            "search --limit 200",
            ours,
            6.0 * rtt,
            theirs,
            Target::Floor(1.1),
            note,
        );
    }
    if peak > 0 {
        report.size("peak RSS, every TLS run", peak, 16.0);
    }
}
