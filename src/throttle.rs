//! Keeping a batch under Google's throttling: a limit on requests in flight
//! that halves when Google pushes back and creeps up again while it does not,
//! and an optional cap on requests per second.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Consecutive successes that earn one more request in flight.
pub const SUCCESSES_PER_STEP: u32 = 20;

/// The number of requests in flight, adjusted additive-increase /
/// multiplicative-decrease as TCP does: it starts at `jobs`, a throttled
/// answer halves it (never below 1), and each run of
/// [`SUCCESSES_PER_STEP`] consecutive successes adds one back, up to `jobs`.
/// Requests already in flight when it drops are not cancelled: no new one
/// starts until they have drained below the new limit.
///
/// Cloning gives another handle on the same limit.
#[derive(Clone)]
pub struct Concurrency {
    shared: Arc<Shared>,
}

struct Shared {
    /// Holds `limit + debt - in flight` permits: lowering the limit takes
    /// free permits away, and those it could not (being in use) become debt,
    /// paid by forgetting permits as they come back.
    semaphore: Arc<Semaphore>,
    state: Mutex<State>,
}

struct State {
    jobs: usize,
    limit: usize,
    debt: usize,
    in_flight: usize,
    successes: u32,
    /// Bumped on every decrease, so that a burst of throttled answers to
    /// requests sent at the old limit halves it once, not once each.
    epoch: u64,
}

impl Concurrency {
    /// Up to `jobs` requests in flight (at least 1).
    pub fn new(jobs: usize) -> Concurrency {
        let jobs = jobs.clamp(1, Semaphore::MAX_PERMITS);
        Concurrency {
            shared: Arc::new(Shared {
                semaphore: Arc::new(Semaphore::new(jobs)),
                state: Mutex::new(State {
                    jobs,
                    limit: jobs,
                    debt: 0,
                    in_flight: 0,
                    successes: 0,
                    epoch: 0,
                }),
            }),
        }
    }

    /// Waits for room under the limit; the request is in flight until the
    /// permit is dropped. Waiters are served in order, except that one woken
    /// just as the limit drops waits again at the back.
    pub async fn acquire(&self) -> Permit {
        loop {
            // The semaphore is never closed, so this cannot fail; if it somehow
            // did, the request goes ahead unlimited rather than panicking.
            let permit = Arc::clone(&self.shared.semaphore).acquire_owned().await.ok();
            let mut state = self.shared.lock();
            if state.debt > 0 {
                // Granted before a decrease that is not paid off yet: it pays
                // instead, so that no request starts above the new limit.
                if let Some(permit) = permit {
                    permit.forget();
                    state.debt -= 1;
                    continue;
                }
            }
            state.in_flight += 1;
            return Permit {
                permit,
                shared: Arc::clone(&self.shared),
                epoch: state.epoch,
            };
        }
    }

    /// A request succeeded: one step towards raising the limit.
    #[cfg(test)] // the batch reports through its permits
    pub fn on_success(&self) {
        self.shared.success();
    }

    /// Google throttled a request (429, or 403 with a rate-limit reason):
    /// halves the limit. Prefer [`Permit::throttled`], which halves it once
    /// per burst.
    #[cfg(test)] // the batch reports through its permits
    pub fn on_throttle(&self) {
        self.shared.lock_and_halve();
    }

    /// The current limit on requests in flight.
    pub fn limit(&self) -> usize {
        self.shared.lock().limit
    }

    /// Requests in flight now; above [`limit`](Self::limit) just after a decrease.
    pub fn in_flight(&self) -> usize {
        self.shared.lock().in_flight
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock; a poisoned state is still whole.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn success(&self) {
        let mut state = self.lock();
        state.successes += 1;
        if state.successes < SUCCESSES_PER_STEP {
            return;
        }
        state.successes = 0;
        if state.limit < state.jobs {
            state.limit += 1;
            if state.debt > 0 {
                state.debt -= 1;
            } else {
                self.semaphore.add_permits(1);
            }
        }
    }

    #[cfg(test)] // the batch reports through its permits
    fn lock_and_halve(&self) {
        let mut state = self.lock();
        self.halve(&mut state);
    }

    fn halve(&self, state: &mut State) {
        state.successes = 0;
        state.epoch += 1;
        let target = (state.limit / 2).max(1);
        let cut = state.limit - target;
        state.limit = target;
        let taken = self.semaphore.forget_permits(cut);
        state.debt += cut - taken;
    }
}

/// Room for one request, given back when dropped.
pub struct Permit {
    permit: Option<OwnedSemaphorePermit>,
    shared: Arc<Shared>,
    epoch: u64,
}

impl Permit {
    /// The request succeeded.
    pub fn succeeded(self) {
        self.shared.success();
    }

    /// The request was throttled. The limit halves unless it already did
    /// since this request started: the other answers of a burst were sent
    /// at the old limit and say nothing about the new one.
    pub fn throttled(self) {
        let mut state = self.shared.lock();
        if state.epoch == self.epoch {
            self.shared.halve(&mut state);
        } else {
            state.successes = 0;
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.debt > 0 {
            if let Some(permit) = self.permit.take() {
                permit.forget();
                state.debt -= 1;
            }
        }
        // Otherwise the semaphore permit returns when `self.permit` drops.
    }
}

/// At most N requests per second across a run, evenly spaced: the first
/// goes at once, each later one 1/N s after the one before. No burst is
/// saved up while idle, because a burst is what Google's per-minute quota
/// counts against; N may be fractional (0.5 is one request every 2 s).
pub struct Rate {
    interval: Duration,
    next: Mutex<Instant>,
}

/// Why a rate was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the rate must be a number of requests per second of at least 1 per hour, got {0}")]
pub struct InvalidRate(pub f64);

impl Rate {
    pub fn per_second(rate: f64) -> Result<Rate, InvalidRate> {
        if !rate.is_finite() || rate < 1.0 / 3600.0 {
            return Err(InvalidRate(rate));
        }
        let interval = Duration::try_from_secs_f64(1.0 / rate).map_err(|_| InvalidRate(rate))?;
        Ok(Rate {
            interval,
            next: Mutex::new(Instant::now()),
        })
    }

    /// The spacing between two requests.
    #[cfg(test)] // the batch reports through its permits
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Waits for this request's turn. Turns are handed out in call order; a
    /// caller that gives up waiting still uses its turn.
    pub async fn acquire(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let at = (*next).max(Instant::now());
            *next = at.checked_add(self.interval).unwrap_or(at);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn succeed(c: &Concurrency, n: u32) {
        for _ in 0..n {
            c.on_success();
        }
    }

    #[tokio::test]
    async fn halves_down_to_one() {
        let c = Concurrency::new(8);
        assert_eq!(c.limit(), 8);
        let mut seen = Vec::new();
        for _ in 0..5 {
            c.on_throttle();
            seen.push(c.limit());
        }
        assert_eq!(seen, [4, 2, 1, 1, 1]);
        assert_eq!(Concurrency::new(0).limit(), 1);
    }

    #[tokio::test]
    async fn recovers_one_step_per_run_of_successes_up_to_jobs() {
        let c = Concurrency::new(5);
        c.on_throttle();
        assert_eq!(c.limit(), 2);
        succeed(&c, 19);
        assert_eq!(c.limit(), 2);
        succeed(&c, 1);
        assert_eq!(c.limit(), 3);
        // A throttle breaks the run.
        succeed(&c, 19);
        c.on_throttle();
        assert_eq!(c.limit(), 1);
        succeed(&c, 19);
        assert_eq!(c.limit(), 1);
        succeed(&c, 1);
        assert_eq!(c.limit(), 2);
        succeed(&c, 20 * 10);
        assert_eq!(c.limit(), 5);
        // The permits follow the limit: exactly 5 can be taken now.
        let held: Vec<Permit> = (0..5).map(|_| c.acquire().now_or_never().unwrap()).collect();
        assert!(c.acquire().now_or_never().is_none());
        assert_eq!(c.in_flight(), 5);
        drop(held);
        assert_eq!(c.in_flight(), 0);
    }

    #[tokio::test]
    async fn waits_for_room_and_drains_above_a_lowered_limit() {
        let c = Concurrency::new(4);
        let mut held: Vec<Permit> = (0..4).map(|_| c.acquire().now_or_never().unwrap()).collect();
        assert!(c.acquire().now_or_never().is_none());
        c.on_throttle();
        assert_eq!((c.limit(), c.in_flight()), (2, 4));
        // 3 and then 2 in flight: still no room under a limit of 2.
        held.pop();
        assert!(c.acquire().now_or_never().is_none());
        held.pop();
        assert!(c.acquire().now_or_never().is_none());
        held.pop();
        assert_eq!(c.in_flight(), 1);
        let second = c.acquire().now_or_never().expect("room for a second");
        assert!(c.acquire().now_or_never().is_none());
        drop(second);
        drop(held);
        // A recovery while the debt is unpaid settles the debt, not the semaphore.
        let c = Concurrency::new(4);
        let held: Vec<Permit> = (0..4).map(|_| c.acquire().now_or_never().unwrap()).collect();
        c.on_throttle();
        succeed(&c, 20);
        assert_eq!(c.limit(), 3);
        drop(held);
        let three: Vec<Permit> = (0..3).map(|_| c.acquire().now_or_never().unwrap()).collect();
        assert!(c.acquire().now_or_never().is_none());
        drop(three);
    }

    #[tokio::test]
    async fn a_burst_of_throttled_answers_halves_once() {
        let c = Concurrency::new(8);
        let burst: Vec<Permit> = (0..8).map(|_| c.acquire().now_or_never().unwrap()).collect();
        for permit in burst {
            permit.throttled();
        }
        assert_eq!(c.limit(), 4);
        // A request sent after the decrease and throttled halves again.
        c.acquire().await.throttled();
        assert_eq!(c.limit(), 2);
        // An old request's throttle still breaks a run of successes.
        let old = c.acquire().await;
        c.on_throttle();
        succeed(&c, 19);
        old.throttled();
        succeed(&c, 1);
        assert_eq!(c.limit(), 1);
        let p = c.acquire().await;
        p.succeeded();
        succeed(&c, 19);
        assert_eq!(c.limit(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_requests_never_exceed_the_limit() {
        let c = Concurrency::new(6);
        let peak = Arc::new(AtomicUsize::new(0));
        let lowest = Arc::new(AtomicUsize::new(6));
        let done = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for i in 0..120u64 {
            let (c, peak, lowest, done) = (c.clone(), peak.clone(), lowest.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let permit = c.acquire().await;
                let now = c.in_flight();
                assert!(now <= c.limit(), "{now} in flight over a limit of {}", c.limit());
                peak.fetch_max(now, Ordering::SeqCst);
                lowest.fetch_min(c.limit(), Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50 + i % 7 * 10)).await;
                // Google pushes back on a few requests in the middle of the run.
                if (40..44).contains(&i) {
                    permit.throttled();
                } else {
                    permit.succeeded();
                }
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 120);
        assert_eq!(peak.load(Ordering::SeqCst), 6);
        assert_eq!(c.in_flight(), 0);
        // It went down and came back with the successes that followed.
        assert!(lowest.load(Ordering::SeqCst) < 6);
        assert_eq!(c.limit(), 6);
    }

    #[tokio::test(start_paused = true)]
    async fn rate_spaces_requests_evenly() {
        let rate = Rate::per_second(5.0).unwrap();
        assert_eq!(rate.interval(), Duration::from_millis(200));
        let start = Instant::now();
        for _ in 0..10 {
            rate.acquire().await;
        }
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(1800), "{took:?}");
        assert!(took < Duration::from_millis(2000), "{took:?}");
        // Idle time saves no burst: the next two are still 200 ms apart.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let start = Instant::now();
        rate.acquire().await;
        rate.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn rate_spaces_concurrent_callers_too() {
        let rate = Arc::new(Rate::per_second(0.5).unwrap());
        let start = Instant::now();
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let rate = Arc::clone(&rate);
                tokio::spawn(async move {
                    rate.acquire().await;
                    start.elapsed()
                })
            })
            .collect();
        let mut times = Vec::new();
        for t in tasks {
            times.push(t.await.unwrap().as_secs());
        }
        times.sort();
        assert_eq!(times, [0, 2, 4, 6]);
    }

    #[test]
    fn refuses_rates_it_cannot_keep() {
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300, 1.0 / 7200.0] {
            assert!(Rate::per_second(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Rate::per_second(1.0 / 3600.0).unwrap().interval(),
            Duration::from_secs(3600)
        );
        assert_eq!(Rate::per_second(1e12).unwrap().interval(), Duration::ZERO);
    }
}
