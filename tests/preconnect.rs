//! The connection is opened while the credentials are still being read: a
//! keyring round trip must not come before the first byte on the wire. The
//! credentials here answer only once the server has accepted a connection,
//! so a client that waited for them before connecting would time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::fake::{Call, FakeApi, Reply};
use crate::support::{volume, Sandbox};
use gbooks::books::{BoxFuture, Client, Http, ResponseCache, SearchParams, TokenError, TokenSource};
use gbooks::secret::Secret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;

const EMPTY: &str = r#"{"kind":"books#volumes","totalItems":0}"#;
const SHELVES: &str = r#"{"kind":"books#bookshelves","items":[]}"#;

/// An HTTP/1.1 server that counts connections, says when the first is
/// accepted, and keeps each request line.
struct Server {
    base: url::Url,
    accepted: watch::Receiver<usize>,
    requests: Arc<Mutex<Vec<String>>>,
}

async fn server(body: &'static str) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/books/v1", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let (count, accepted) = watch::channel(0);
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            count.send_modify(|n| *n += 1);
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let Ok(n) = stream.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let text = String::from_utf8_lossy(&head);
                seen.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_string());
                let answer = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    Server {
        base,
        accepted,
        requests,
    }
}

/// Resolves once the server has accepted a connection; `None` when none
/// came within two seconds.
async fn after_a_connection(mut accepted: watch::Receiver<usize>) -> Option<()> {
    tokio::time::timeout(Duration::from_secs(2), accepted.wait_for(|n| *n > 0))
        .await
        .ok()
        .map(drop)
}

fn http() -> Http {
    Http::new(Duration::from_secs(10)).unwrap()
}

fn params() -> SearchParams {
    SearchParams {
        q: "dune".into(),
        ..SearchParams::default()
    }
}

#[tokio::test]
async fn the_connection_opens_while_the_stored_key_is_read() {
    let server = server(EMPTY).await;
    let waited = Arc::new(AtomicUsize::new(0));
    let key = {
        let accepted = server.accepted.clone();
        let waited = waited.clone();
        let lookup: BoxFuture<'static, Option<Secret>> = Box::pin(async move {
            // The keyring answers only after the connection is there.
            let connected = after_a_connection(accepted).await;
            waited.store(if connected.is_some() { 1 } else { 2 }, Ordering::SeqCst);
            Some(Secret::new("k3y-from-the-keyring"))
        });
        futures_util::FutureExt::shared(lookup)
    };
    let client = Client::new(http(), server.base.clone(), None, None).with_pending_key(key);
    client.search(&params(), 0, 10).await.unwrap();
    assert_eq!(
        waited.load(Ordering::SeqCst),
        1,
        "the key was read before any connection"
    );
    assert_eq!(
        *server.accepted.borrow(),
        1,
        "one connection: the request took the early one"
    );
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(requests[0].starts_with("GET /books/v1/volumes?"), "{requests:?}");
    assert!(requests[0].contains("key=k3y-from-the-keyring"), "{requests:?}");
}

#[tokio::test]
async fn the_connection_opens_while_the_login_is_read() {
    struct SlowStore(watch::Receiver<usize>, Arc<AtomicUsize>);
    impl TokenSource for SlowStore {
        fn token(&self) -> BoxFuture<'_, Result<Option<Secret>, TokenError>> {
            Box::pin(async move {
                let connected = after_a_connection(self.0.clone()).await;
                self.1
                    .store(if connected.is_some() { 1 } else { 2 }, Ordering::SeqCst);
                Ok(Some(Secret::new("ya29.token")))
            })
        }
        fn refresh<'a>(&'a self, _: &'a Secret) -> BoxFuture<'a, Result<Option<Secret>, TokenError>> {
            Box::pin(async { Ok(None) })
        }
    }
    let server = server(SHELVES).await;
    let waited = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(SlowStore(server.accepted.clone(), waited.clone()));
    let client = Client::new(http(), server.base.clone(), None, None).with_tokens(store);
    client.shelves(None).await.unwrap();
    assert_eq!(
        waited.load(Ordering::SeqCst),
        1,
        "the login was read before any connection"
    );
    assert_eq!(*server.accepted.borrow(), 1);
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert!(
        requests[0].starts_with("GET /books/v1/mylibrary/bookshelves"),
        "{requests:?}"
    );
}

#[tokio::test]
async fn a_cached_answer_opens_no_connection_while_the_key_is_read() {
    struct Kept(Mutex<Option<Vec<u8>>>, AtomicUsize);
    impl ResponseCache for Kept {
        fn get(&self, _: &str) -> Option<Vec<u8>> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.lock().unwrap().clone()
        }
        fn put(&self, _: &str, body: &[u8]) {
            *self.0.lock().unwrap() = Some(body.to_vec());
        }
    }
    let server = server(EMPTY).await;
    let slow_key = || {
        let lookup: BoxFuture<'static, Option<Secret>> = Box::pin(async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            Some(Secret::new("k3y-from-the-keyring"))
        });
        futures_util::FutureExt::shared(lookup)
    };
    let cache = Arc::new(Kept(
        Mutex::new(Some(EMPTY.as_bytes().to_vec())),
        AtomicUsize::new(0),
    ));
    let client = Client::new(http(), server.base.clone(), None, None)
        .with_pending_key(slow_key())
        .with_cache(cache.clone());
    client.search(&params(), 0, 10).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(*server.accepted.borrow(), 0, "a cache hit touches no network");
    assert_eq!(cache.1.load(Ordering::SeqCst), 1, "the cache is read once");
}

/// Through the binary: the stored key (here in the file store) is read on a
/// task of its own, the first run creates the cache meanwhile, and still
/// the search is one request on one connection, with the key; the same
/// search again comes from the cache and opens no connection at all.
#[tokio::test]
async fn a_search_with_a_stored_key_is_one_connection_and_a_rerun_none() {
    let fake = FakeApi::start(|_: Call| async {
        Reply::ok(&serde_json::json!({ "totalItems": 1, "items": [volume("v1", "Dune")] }))
    });
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.config_dir()).unwrap();
    std::fs::write(sb.config_dir().join("api_key"), "stored-k3y\n").unwrap();
    for run in 0..2 {
        let out = sb.cmd(&fake.api()).args(["search", "dune"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Dune"));
        assert_eq!(fake.calls().len(), 1, "run {run}: {:?}", fake.calls());
        assert_eq!(fake.connections(), 1, "run {run}: one connection in all");
    }
    assert_eq!(fake.calls()[0].param("key"), Some("stored-k3y"));
}
