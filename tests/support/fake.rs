//! A fake Books API whose answers are async code: a test can hold an answer
//! until something happened (other requests came, gbooks printed a line),
//! which proves order without a clock. It notes when each request arrived
//! and was answered, runs on its own thread (tests may block on gbooks),
//! and serves plain HTTP or TLS.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::Bytes;
use serde_json::Value;
use tokio::sync::watch;

/// How long a held answer waits before the fake gives up on the test's
/// event and answers with an error, so that a broken run fails, not hangs.
pub const HOLD_LIMIT: Duration = Duration::from_secs(20);

/// One request, as the handler sees it.
#[derive(Debug, Clone)]
pub struct Call {
    /// 0 for the first request the fake got, and so on.
    pub n: usize,
    pub method: String,
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Call {
    pub fn param(&self, name: &str) -> Option<&str> {
        super::param(&self.query, name)
    }

    /// A numeric parameter, 0 when absent.
    pub fn number(&self, name: &str) -> u128 {
        self.param(name).map_or(0, |v| v.parse().unwrap_or(0))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Arrived,
    Answered,
}

/// What happened at the fake, in order.
#[derive(Debug, Clone)]
pub struct Event {
    pub step: Step,
    pub at: Instant,
    pub call: Call,
}

pub struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn ok(body: &Value) -> Reply {
        Reply::json(200, body)
    }

    /// A final (not retried) error that names what the fake waited for in
    /// vain; gbooks prints it, so the failing test shows it.
    pub fn gave_up(waiting_for: &str) -> Reply {
        let message = format!("the fake gave up waiting for {waiting_for}");
        Reply::json(400, &super::api_error(400, "fakeGaveUp", &message))
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Log = Arc<Mutex<Vec<Event>>>;

pub struct FakeApi {
    addr: SocketAddr,
    scheme: &'static str,
    log: Log,
    connections: Arc<std::sync::atomic::AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeApi {
    /// Serves plain HTTP on 127.0.0.1, answering each request with `handler`.
    pub fn start<H, F>(handler: H) -> FakeApi
    where
        H: Fn(Call) -> F + Send + Sync + 'static,
        F: Future<Output = Reply> + Send + 'static,
    {
        FakeApi::serve(None, handler)
    }

    /// The same over TLS, with the certificate in `tls`.
    pub fn start_tls<H, F>(tls: tokio_rustls::TlsAcceptor, handler: H) -> FakeApi
    where
        H: Fn(Call) -> F + Send + Sync + 'static,
        F: Future<Output = Reply> + Send + 'static,
    {
        FakeApi::serve(Some(tls), handler)
    }

    fn serve<H, F>(tls: Option<tokio_rustls::TlsAcceptor>, handler: H) -> FakeApi
    where
        H: Fn(Call) -> F + Send + Sync + 'static,
        F: Future<Output = Reply> + Send + 'static,
    {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let log = Log::default();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler = Arc::new(handler);
        let counter = Arc::new(Mutex::new(0usize));
        let connections = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let accepted = connections.clone();
        let thread_log = log.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let (handler, log, counter, tls) =
                            (handler.clone(), thread_log.clone(), counter.clone(), tls.clone());
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                answer(req, handler.clone(), log.clone(), counter.clone())
                            });
                            let http = hyper::server::conn::http1::Builder::new();
                            // A failed handshake or a dropped connection is
                            // the client's business (the TLS test wants one).
                            match tls {
                                Some(tls) => {
                                    if let Ok(stream) = tls.accept(stream).await {
                                        let io = hyper_util::rt::TokioIo::new(stream);
                                        let _ = http.serve_connection(io, service).await;
                                    }
                                }
                                None => {
                                    let io = hyper_util::rt::TokioIo::new(stream);
                                    let _ = http.serve_connection(io, service).await;
                                }
                            }
                        });
                    }
                };
                tokio::select! {
                    _ = accept => {}
                    _ = stopped => {}
                }
            });
            // Held answers and open connections end with the runtime.
            runtime.shutdown_background();
        });
        FakeApi {
            addr,
            scheme,
            log,
            connections,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    pub fn uri(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// The base URL a client uses.
    pub fn api(&self) -> String {
        format!("{}/books/v1", self.uri())
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn events(&self) -> Vec<Event> {
        self.log.lock().unwrap().clone()
    }

    /// The requests, in the order they arrived.
    pub fn calls(&self) -> Vec<Call> {
        self.events()
            .into_iter()
            .filter(|e| e.step == Step::Arrived)
            .map(|e| e.call)
            .collect()
    }
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn answer<H, F>(
    req: hyper::Request<hyper::body::Incoming>,
    handler: Arc<H>,
    log: Log,
    counter: Arc<Mutex<usize>>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible>
where
    H: Fn(Call) -> F,
    F: Future<Output = Reply>,
{
    let call = {
        let mut next = counter.lock().unwrap();
        let call = Call {
            n: *next,
            method: req.method().to_string(),
            path: req.uri().path().to_string(),
            query: url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        };
        *next += 1;
        // Noted under the same lock that numbers it: the log is in order.
        log.lock().unwrap().push(Event {
            step: Step::Arrived,
            at: Instant::now(),
            call: call.clone(),
        });
        call
    };
    let reply = handler(call.clone()).await;
    log.lock().unwrap().push(Event {
        step: Step::Answered,
        at: Instant::now(),
        call,
    });
    let mut response = hyper::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    Ok(response.body(Full::new(Bytes::from(reply.body))).unwrap())
}

/// A one-way switch that a test flips (from any thread) and held answers
/// wait for.
#[derive(Clone)]
pub struct Latch(Arc<watch::Sender<bool>>);

impl Latch {
    pub fn new() -> Latch {
        Latch(Arc::new(watch::channel(false).0))
    }

    pub fn open(&self) {
        self.0.send_replace(true);
    }

    pub fn is_open(&self) -> bool {
        *self.0.borrow()
    }

    /// Whether it opened within `HOLD_LIMIT`.
    pub async fn wait(&self) -> bool {
        let mut rx = self.0.subscribe();
        let opened = tokio::time::timeout(HOLD_LIMIT, rx.wait_for(|open| *open)).await;
        opened.is_ok()
    }
}

/// Whether every call of `calls` arrived before any of them was answered.
pub fn all_arrived_before_any_answer(events: &[Event], calls: impl Fn(&Call) -> bool) -> bool {
    let last_arrival = events
        .iter()
        .rposition(|e| e.step == Step::Arrived && calls(&e.call));
    let first_answer = events
        .iter()
        .position(|e| e.step == Step::Answered && calls(&e.call));
    match (last_arrival, first_answer) {
        (Some(a), Some(b)) => a < b,
        _ => false,
    }
}

/// The most calls of `calls` that were ever under way at once.
pub fn most_at_once(events: &[Event], calls: impl Fn(&Call) -> bool) -> usize {
    let mut now = 0usize;
    let mut most = 0;
    for e in events.iter().filter(|e| calls(&e.call)) {
        match e.step {
            Step::Arrived => now += 1,
            Step::Answered => now = now.saturating_sub(1),
        }
        most = most.max(now);
    }
    most
}
