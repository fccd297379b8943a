//! A connection opened while the credentials are still being read, so that
//! a keyring round trip never comes before the first byte on the wire.
//!
//! reqwest opens connections only for requests. The warm-up is therefore a
//! request whose connector call is marked (a task-local): the connector
//! layer keeps the connection it made and fails that request before anything
//! is written on it. The next connector call for the same origin gets the
//! kept connection instead of opening one.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use tokio::sync::watch;

tokio::task_local! {
    static WARMING: ();
}

/// Shared by an HTTP client's connector layer and the code that warms up.
#[derive(Clone, Default)]
pub struct Warm(Arc<Mutex<State>>);

#[derive(Default)]
struct State {
    /// A connection other than the warm-up's has been asked for, so the
    /// pool may hold one: a warm-up could then be sent on it.
    used: bool,
    started: bool,
    /// The origin being connected (as the connector shows it), and a way to
    /// wait for it.
    warming: Option<(String, watch::Receiver<bool>)>,
    /// A warm connection no request has taken yet.
    ready: Option<(String, Box<dyn Any + Send>)>,
}

impl std::fmt::Debug for Warm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Warm")
    }
}

impl Warm {
    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `request` (any request to the origin to connect to) as the
    /// warm-up, once per client and only before any other connection.
    pub fn start<F>(&self, request: impl FnOnce() -> F + Send + 'static)
    where
        F: Future + Send + 'static,
    {
        {
            let mut state = self.state();
            if state.started || state.used {
                return;
            }
            state.started = true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let warm = self.clone();
        runtime.spawn(WARMING.scope((), async move {
            // Looked at again in the same poll that starts the request: a
            // request sent meanwhile may have left a connection in the pool.
            if warm.state().used {
                return;
            }
            let _ = request().await;
        }));
    }

    /// Whether a warm connection is being made or waits to be taken.
    #[cfg(test)]
    fn holds(&self) -> bool {
        let state = self.state();
        state.warming.is_some() || state.ready.is_some()
    }
}

/// The request that only warmed up a connection, as its error.
#[derive(Debug)]
pub struct Warmed;

impl std::fmt::Display for Warmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection opened ahead of the first request")
    }
}

impl std::error::Error for Warmed {}

/// The connector layer; see the module's note.
#[derive(Clone)]
pub struct Layer(pub Warm);

impl<S> tower_layer::Layer<S> for Layer {
    type Service = Connector<S>;

    fn layer(&self, inner: S) -> Connector<S> {
        Connector {
            inner,
            warm: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Connector<S> {
    inner: S,
    warm: Warm,
}

enum Role<C> {
    Warm(watch::Sender<bool>),
    Wait(watch::Receiver<bool>),
    Take(C),
    Connect,
}

impl<S, R> tower_service::Service<R> for Connector<S>
where
    S: tower_service::Service<R> + Clone + Send + 'static,
    S::Response: Send + 'static,
    S::Error: From<Warmed> + Send + 'static,
    S::Future: Send + 'static,
    R: Debug + Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, origin: R) -> Self::Future {
        // The connector's request is the origin (scheme, host and port).
        let key = format!("{origin:?}");
        let warming = WARMING.try_with(|_| ()).is_ok();
        // The service that was polled ready is the one to call.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let warm = self.warm.clone();
        let role = {
            let mut state = warm.state();
            if warming {
                let (done, wait) = watch::channel(false);
                state.warming = Some((key.clone(), wait));
                Role::Warm(done)
            } else {
                state.used = true;
                match take(&mut state, &key) {
                    Some(conn) => Role::Take(conn),
                    // One request waits for the warm connection; others
                    // connect at once rather than queue behind it.
                    None => match state.warming.take() {
                        Some((origin, wait)) if origin == key => Role::Wait(wait),
                        other => {
                            state.warming = other;
                            Role::Connect
                        }
                    },
                }
            }
        };
        Box::pin(async move {
            match role {
                Role::Connect => inner.call(origin).await,
                Role::Take(conn) => Ok(conn),
                Role::Warm(done) => {
                    let made = inner.call(origin).await;
                    {
                        let mut state = warm.state();
                        state.warming = None;
                        if let Ok(conn) = made {
                            state.ready = Some((key, Box::new(conn)));
                        }
                    }
                    let _ = done.send(true);
                    Err(Warmed.into())
                }
                Role::Wait(mut wait) => {
                    // A warm-up that failed or was dropped: connect as usual,
                    // so that the error is this request's own.
                    let _ = wait.wait_for(|done| *done).await;
                    let kept = take::<S::Response>(&mut warm.state(), &key);
                    match kept {
                        Some(conn) => Ok(conn),
                        None => inner.call(origin).await,
                    }
                }
            }
        })
    }
}

/// The warm connection, when it is to `key`'s origin.
fn take<C: 'static>(state: &mut State, key: &str) -> Option<C> {
    match state.ready.take() {
        Some((origin, conn)) if origin == key => conn.downcast::<C>().ok().map(|c| *c),
        other => {
            state.ready = other;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tower_layer::Layer as _;
    use tower_service::Service as _;

    type BoxError = Box<dyn std::error::Error + Send + Sync>;

    /// A connector that counts the connections it makes, each named by its
    /// number, and takes as long as `gate` says.
    #[derive(Clone)]
    struct Counting {
        started: Arc<AtomicUsize>,
        made: Arc<AtomicUsize>,
        gate: watch::Receiver<bool>,
    }

    impl tower_service::Service<String> for Counting {
        type Response = (String, usize);
        type Error = BoxError;
        type Future = Pin<Box<dyn Future<Output = Result<(String, usize), BoxError>> + Send>>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, origin: String) -> Self::Future {
            self.started.fetch_add(1, Ordering::SeqCst);
            let made = self.made.clone();
            let mut gate = self.gate.clone();
            Box::pin(async move {
                let _ = gate.wait_for(|open| *open).await;
                Ok((origin, made.fetch_add(1, Ordering::SeqCst) + 1))
            })
        }
    }

    fn connector(open: bool) -> (Connector<Counting>, Warm, Arc<AtomicUsize>, watch::Sender<bool>) {
        let (c, warm, _, made, gate) = counted(open);
        (c, warm, made, gate)
    }

    #[allow(clippy::type_complexity)]
    fn counted(
        open: bool,
    ) -> (
        Connector<Counting>,
        Warm,
        Arc<AtomicUsize>,
        Arc<AtomicUsize>,
        watch::Sender<bool>,
    ) {
        let started = Arc::new(AtomicUsize::new(0));
        let made = Arc::new(AtomicUsize::new(0));
        let (gate, wait) = watch::channel(open);
        let warm = Warm::default();
        let c = Layer(warm.clone()).layer(Counting {
            started: started.clone(),
            made: made.clone(),
            gate: wait,
        });
        (c, warm, started, made, gate)
    }

    /// Warms up through the connector as a client would.
    fn warm_up(warm: &Warm, c: &Connector<Counting>, origin: &str) {
        let mut c = c.clone();
        let origin = origin.to_string();
        warm.start(move || async move { c.call(origin).await });
    }

    #[tokio::test]
    async fn the_first_request_takes_the_warm_connection() {
        let (c, warm, made, _gate) = connector(true);
        warm_up(&warm, &c, "a");
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(made.load(Ordering::SeqCst), 1);
        let conn = c.clone().call("a".to_string()).await.unwrap();
        assert_eq!(conn, ("a".to_string(), 1), "the warm one, not a second");
        assert_eq!(made.load(Ordering::SeqCst), 1);
        // Taken once: the next request connects.
        assert_eq!(c.clone().call("a".to_string()).await.unwrap().1, 2);
    }

    #[tokio::test]
    async fn a_request_during_the_warm_up_waits_for_it() {
        let (c, warm, made, gate) = connector(false);
        warm_up(&warm, &c, "a");
        tokio::task::yield_now().await;
        let request = tokio::spawn({
            let mut c = c.clone();
            async move { c.call("a".to_string()).await.unwrap() }
        });
        tokio::task::yield_now().await;
        gate.send(true).unwrap();
        assert_eq!(request.await.unwrap(), ("a".to_string(), 1));
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn only_one_request_waits_for_the_warm_up() {
        let (c, warm, started, made, gate) = counted(false);
        warm_up(&warm, &c, "a");
        tokio::task::yield_now().await;
        assert_eq!(started.load(Ordering::SeqCst), 1, "the warm-up is connecting");
        let spawn = |c: &Connector<Counting>| {
            let mut c = c.clone();
            tokio::spawn(async move { c.call("a".to_string()).await.unwrap() })
        };
        let (first, second) = (spawn(&c), spawn(&c));
        tokio::task::yield_now().await;
        // The first waits for the warm connection; the second connects now.
        assert_eq!(started.load(Ordering::SeqCst), 2);
        gate.send(true).unwrap();
        let (first, second) = (first.await.unwrap(), second.await.unwrap());
        assert_ne!(first.1, second.1, "two connections, one each");
        assert_eq!(made.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn another_origin_never_gets_the_warm_connection() {
        let (c, warm, made, _gate) = connector(true);
        warm_up(&warm, &c, "a");
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(
            c.clone().call("b".to_string()).await.unwrap(),
            ("b".to_string(), 2)
        );
        assert_eq!(made.load(Ordering::SeqCst), 2);
        assert!(warm.holds(), "a's connection is still there for a");
    }

    #[tokio::test]
    async fn no_warm_up_once_a_connection_was_asked_for() {
        let (c, warm, made, _gate) = connector(true);
        c.clone().call("a".to_string()).await.unwrap();
        warm_up(&warm, &c, "a");
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(made.load(Ordering::SeqCst), 1);
        assert!(!warm.holds());
    }

    #[tokio::test]
    async fn a_request_sent_before_the_warm_up_runs_cancels_it() {
        let (c, warm, made, _gate) = connector(true);
        warm_up(&warm, &c, "a");
        // Nothing has yielded yet: the request goes first.
        assert_eq!(c.clone().call("a".to_string()).await.unwrap().1, 1);
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert_eq!(made.load(Ordering::SeqCst), 1);
    }
}
