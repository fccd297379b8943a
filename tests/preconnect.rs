//! The connection is opened while the credentials are still being read: a
//! keyring round trip must not come before the first byte on the wire. The
//! credentials here answer only once the server has accepted a connection,
//! so a client that waited for them before connecting would time out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::fake::{Call, FakeApi, Reply};
use crate::support::{volume, Sandbox};
use gbooks::books::{BoxFuture, Client, Http, ResponseCache, SearchParams, TokenError, TokenSource};
use gbooks::secret::Secret;

const EMPTY: &str = r#"{"kind":"books#volumes","totalItems":0}"#;

/// A fake API answering every call with `body`; it counts connections.
fn server(body: &'static str) -> Arc<FakeApi> {
    Arc::new(FakeApi::start(move |_: Call| async move {
        Reply::ok(&serde_json::from_str(body).unwrap())
    }))
}

fn base(fake: &FakeApi) -> url::Url {
    fake.api().parse().unwrap()
}

/// Resolves once the fake has accepted a connection; `None` when none
/// came within two seconds.
async fn after_a_connection(fake: Arc<FakeApi>) -> Option<()> {
    let started = Instant::now();
    while fake.connections() == 0 {
        if started.elapsed() > Duration::from_secs(2) {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Some(())
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
    let server = server(EMPTY);
    let waited = Arc::new(AtomicUsize::new(0));
    let key = {
        let fake = server.clone();
        let waited = waited.clone();
        let lookup: BoxFuture<'static, Option<Secret>> = Box::pin(async move {
            // The keyring answers only after the connection is there.
            let connected = after_a_connection(fake).await;
            waited.store(if connected.is_some() { 1 } else { 2 }, Ordering::SeqCst);
            Some(Secret::new("k3y-from-the-keyring"))
        });
        futures_util::FutureExt::shared(lookup)
    };
    let client = Client::new(http(), base(&server), None, None).with_pending_key(key);
    client.search(&params(), 0, 10).await.unwrap();
    assert_eq!(
        waited.load(Ordering::SeqCst),
        1,
        "the key was read before any connection"
    );
    assert_eq!(
        server.connections(),
        1,
        "one connection: the request took the early one"
    );
    let calls = server.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("GET", "/books/v1/volumes")
    );
    assert_eq!(calls[0].param("key"), Some("k3y-from-the-keyring"), "{calls:?}");
}

#[tokio::test]
async fn the_connection_opens_while_the_login_is_read() {
    struct SlowStore(Arc<FakeApi>, Arc<AtomicUsize>);
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
    let server = server(r#"{"kind":"books#bookshelves","items":[]}"#);
    let waited = Arc::new(AtomicUsize::new(0));
    let store = Arc::new(SlowStore(server.clone(), waited.clone()));
    let client = Client::new(http(), base(&server), None, None).with_tokens(store);
    client.shelves(None).await.unwrap();
    assert_eq!(
        waited.load(Ordering::SeqCst),
        1,
        "the login was read before any connection"
    );
    assert_eq!(server.connections(), 1);
    let calls = server.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("GET", "/books/v1/mylibrary/bookshelves")
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
    let server = server(EMPTY);
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
    let client = Client::new(http(), base(&server), None, None)
        .with_pending_key(slow_key())
        .with_cache(cache.clone());
    client.search(&params(), 0, 10).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(server.connections(), 0, "a cache hit touches no network");
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
