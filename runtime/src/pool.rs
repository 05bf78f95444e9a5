//! The hosts of one connection: which one gets the next attempt, and how each is doing.
//!
//! Every attempt, first try or retry, goes through [`HostPool::select`], which admits it
//! through the chosen host's [`Breaker`] and returns an [`Attempt`] guard. The guard counts the
//! attempt as in flight until it is [reported](Attempt::report) or dropped, so every attempt
//! counts against its host, not only the final outcome of a call.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use appwire_manifest::Balance;
use tokio::time::Instant;

use crate::breaker::{Breaker, BreakerSettings, BreakerState, Permit, Verdict};

/// Every host's breaker refused the attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no host available")]
pub struct NoHostAvailable {
    /// When the first host becomes half-open again; `None` when every host already is and
    /// all their probe slots are taken.
    pub reopens_at: Option<Instant>,
}

/// A pool needs at least one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a host pool needs at least one host")]
pub struct EmptyHostList;

/// State of one host at the time of [`HostPool::snapshot`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct HostSnapshot {
    /// The host's base URL, as configured.
    pub url: String,
    /// Its breaker's state.
    pub state: BreakerState,
    /// Failures its breaker currently counts.
    pub failures: u32,
    /// Openings of its breaker since it was last closed.
    pub openings: u32,
    /// Attempts in flight.
    pub in_flight: u32,
    /// Moving average of reported attempts' durations; `None` before the first report.
    pub latency: Option<Duration>,
}

/// Weight of the newest sample in the latency average.
const LATENCY_WEIGHT: f64 = 0.2;

#[derive(Debug)]
struct Host {
    breaker: Breaker,
    in_flight: u32,
    latency: Option<Duration>,
}

impl Host {
    fn observe(&mut self, elapsed: Duration) {
        self.latency = Some(match self.latency {
            None => elapsed,
            Some(avg) => {
                let secs = avg.as_secs_f64() * (1.0 - LATENCY_WEIGHT)
                    + elapsed.as_secs_f64() * LATENCY_WEIGHT;
                Duration::try_from_secs_f64(secs).unwrap_or(elapsed)
            }
        });
    }
}

struct State {
    hosts: Vec<Host>,
    /// Next position of the round robin.
    cursor: usize,
    rng: fastrand::Rng,
}

/// The hosts of one connection, with their breakers and load.
pub struct HostPool {
    urls: Vec<String>,
    balance: Balance,
    state: Mutex<State>,
}

impl std::fmt::Debug for HostPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostPool")
            .field("urls", &self.urls)
            .field("balance", &self.balance)
            .finish_non_exhaustive()
    }
}

impl HostPool {
    /// A pool over `urls`, in order, each host with its own breaker.
    pub fn new<I>(
        urls: I,
        breaker: &BreakerSettings,
        balance: Balance,
    ) -> Result<Self, EmptyHostList>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let urls: Vec<String> = urls.into_iter().map(Into::into).collect();
        if urls.is_empty() {
            return Err(EmptyHostList);
        }
        let hosts = urls
            .iter()
            .map(|url| Host {
                breaker: Breaker::new(url.clone(), breaker.clone()),
                in_flight: 0,
                latency: None,
            })
            .collect();
        Ok(Self {
            urls,
            balance,
            state: Mutex::new(State {
                hosts,
                cursor: 0,
                rng: fastrand::Rng::new(),
            }),
        })
    }

    /// Seeds the random choices of [`Balance::LeastLoaded`], for reproducible runs.
    #[must_use]
    pub fn with_seed(self, seed: u64) -> Self {
        self.lock().rng = fastrand::Rng::with_seed(seed);
        self
    }

    /// The configured host URLs, in order.
    pub fn urls(&self) -> &[String] {
        &self.urls
    }

    /// Picks a host for one attempt and admits it through that host's breaker.
    pub fn select(&self) -> Result<Attempt<'_>, NoHostAvailable> {
        self.select_avoiding(None)
    }

    /// [`select`](Self::select), passing over the host at `avoid` (the one a retry's previous
    /// attempt failed on) unless no other host admits the attempt.
    pub fn select_avoiding(&self, avoid: Option<usize>) -> Result<Attempt<'_>, NoHostAvailable> {
        let now = Instant::now();
        let mut state = self.lock();
        let pick = |state: &mut State, avoid| match self.balance {
            Balance::RoundRobin => round_robin(state, now, avoid),
            Balance::LeastLoaded => least_loaded(state, now, avoid),
        };
        let picked = pick(&mut state, avoid).or_else(|| avoid.and_then(|_| pick(&mut state, None)));
        let (index, permit) = picked.ok_or_else(|| no_host(&state.hosts, now))?;
        let host = &mut state.hosts[index];
        host.in_flight = host.in_flight.saturating_add(1);
        Ok(Attempt {
            pool: self,
            index,
            permit: Some(permit),
            started: now,
        })
    }

    /// Per-host state, in configuration order.
    pub fn snapshot(&self) -> Vec<HostSnapshot> {
        let now = Instant::now();
        let state = self.lock();
        self.urls
            .iter()
            .zip(&state.hosts)
            .map(|(url, host)| HostSnapshot {
                url: url.clone(),
                state: host.breaker.state(now),
                failures: host.breaker.failures(now),
                openings: host.breaker.openings(),
                in_flight: host.in_flight,
                latency: host.latency,
            })
            .collect()
    }

    fn finish(&self, index: usize, permit: Permit, verdict: Option<Verdict>, started: Instant) {
        let now = Instant::now();
        let mut state = self.lock();
        let Some(host) = state.hosts.get_mut(index) else {
            return;
        };
        host.in_flight = host.in_flight.saturating_sub(1);
        match verdict {
            Some(verdict) => {
                host.observe(now.saturating_duration_since(started));
                host.breaker.record(permit, verdict, now);
            }
            None => host.breaker.release(permit, now),
        }
    }

    /// The state stays consistent across a panic elsewhere (every update is a few plain
    /// assignments), so a poisoned lock is still usable.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// hopeit's `_next_available_host`: the cursor moves one position per host looked at. When no
/// host admits anything the cursor has gone full circle; hopeit randomizes it then, this keeps it.
fn round_robin(state: &mut State, now: Instant, avoid: Option<usize>) -> Option<(usize, Permit)> {
    let len = state.hosts.len();
    for _ in 0..len {
        let index = state.cursor % len;
        state.cursor = (index + 1) % len;
        if Some(index) == avoid {
            continue;
        }
        if let Ok(permit) = state.hosts[index].breaker.try_acquire(now) {
            return Some((index, permit));
        }
    }
    None
}

fn least_loaded(state: &mut State, now: Instant, avoid: Option<usize>) -> Option<(usize, Permit)> {
    let open: Vec<usize> = (0..state.hosts.len())
        .filter(|&i| Some(i) != avoid && state.hosts[i].breaker.admits(now))
        .collect();
    let index = match open.len() {
        0 => return None,
        1 => open[0],
        n => {
            let first = state.rng.usize(0..n);
            let mut second = state.rng.usize(0..n - 1);
            if second >= first {
                second += 1;
            }
            let (a, b) = (open[first], open[second]);
            if state.hosts[b].in_flight < state.hosts[a].in_flight {
                b
            } else {
                a
            }
        }
    };
    let permit = state.hosts[index].breaker.try_acquire(now).ok()?;
    Some((index, permit))
}

fn no_host(hosts: &[Host], now: Instant) -> NoHostAvailable {
    let reopens_at = hosts
        .iter()
        .filter_map(|host| match host.breaker.state(now) {
            BreakerState::Open { until } => Some(until),
            _ => None,
        })
        .min();
    NoHostAvailable { reopens_at }
}

/// One attempt on one host, in flight until reported or dropped.
///
/// Dropping it without a report (a cancelled attempt) frees its place without telling the
/// breaker anything.
#[must_use = "report the outcome, or the attempt counts as cancelled"]
#[derive(Debug)]
pub struct Attempt<'a> {
    pool: &'a HostPool,
    index: usize,
    permit: Option<Permit>,
    started: Instant,
}

impl<'a> Attempt<'a> {
    /// Position of the host in the pool.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Base URL of the host.
    pub fn url(&self) -> &'a str {
        self.pool.urls.get(self.index).map_or("", String::as_str)
    }

    /// Whether the attempt is a half-open probe of its host.
    pub fn is_probe(&self) -> bool {
        self.permit.as_ref().is_some_and(Permit::is_probe)
    }

    /// Reports how the attempt ended to the host's breaker and latency average.
    pub fn report(mut self, verdict: Verdict) {
        if let Some(permit) = self.permit.take() {
            self.pool
                .finish(self.index, permit, Some(verdict), self.started);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            self.pool.finish(self.index, permit, None, self.started);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn breaker(open_failures: u32) -> BreakerSettings {
        BreakerSettings {
            open_failures,
            ..BreakerSettings::default()
        }
    }

    fn pool(urls: &[&str], open_failures: u32, balance: Balance) -> HostPool {
        HostPool::new(urls.iter().copied(), &breaker(open_failures), balance).expect("hosts")
    }

    /// Hosts of `n` attempts, each reported with `verdict`.
    fn run(pool: &HostPool, n: usize, verdict: Verdict) -> Vec<String> {
        (0..n)
            .map(|_| {
                let attempt = pool.select().expect("a host");
                let url = attempt.url().to_owned();
                attempt.report(verdict);
                url
            })
            .collect()
    }

    #[test]
    fn an_empty_host_list_is_rejected() {
        let urls: [&str; 0] = [];
        assert_eq!(
            HostPool::new(urls, &BreakerSettings::default(), Balance::RoundRobin).err(),
            Some(EmptyHostList)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn round_robin_starts_at_the_first_host_and_advances_per_attempt() {
        let pool = pool(&["a", "b", "c"], 10, Balance::RoundRobin);
        assert_eq!(run(&pool, 4, Verdict::Success), ["a", "b", "c", "a"]);
    }

    #[tokio::test(start_paused = true)]
    async fn round_robin_skips_open_hosts_and_the_skip_moves_the_cursor() {
        // hopeit's own check: hosts [a, dead, b], threshold 3.
        let pool = pool(&["a", "dead", "b"], 3, Balance::RoundRobin);
        let mut seen = Vec::new();
        for _ in 0..12 {
            let attempt = pool.select().expect("a host");
            let url = attempt.url().to_owned();
            let verdict = if url == "dead" {
                Verdict::Failure
            } else {
                Verdict::Success
            };
            attempt.report(verdict);
            seen.push(url);
        }
        assert_eq!(
            seen,
            [
                "a", "dead", "b", "a", "dead", "b", "a", "dead", "b", "a", "b", "a"
            ]
        );
        let snap = pool.snapshot();
        assert_eq!(
            snap[1].state,
            BreakerState::Open {
                until: Instant::now() + 60 * S
            }
        );

        // After the open time the cursor is on the dead host again: it gets exactly one probe,
        // fails, and re-opens for twice as long.
        tokio::time::advance(60 * S).await;
        let mut seen = Vec::new();
        for _ in 0..4 {
            let attempt = pool.select().expect("a host");
            let url = attempt.url().to_owned();
            let verdict = if url == "dead" {
                Verdict::Failure
            } else {
                Verdict::Success
            };
            attempt.report(verdict);
            seen.push(url);
        }
        assert_eq!(seen, ["dead", "b", "a", "b"]);
        assert_eq!(
            pool.snapshot()[1].state,
            BreakerState::Open {
                until: Instant::now() + 120 * S
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn all_hosts_open_names_the_first_reopening() {
        let pool = pool(&["a", "b"], 1, Balance::RoundRobin);
        let t0 = Instant::now();
        pool.select().expect("a").report(Verdict::Failure);
        tokio::time::advance(5 * S).await;
        pool.select().expect("b").report(Verdict::Failure);
        assert_eq!(
            pool.select().err(),
            Some(NoHostAvailable {
                reopens_at: Some(t0 + 60 * S)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_half_open_host_in_use_by_its_probe_is_skipped() {
        let pool = pool(&["a"], 1, Balance::RoundRobin);
        pool.select().expect("a").report(Verdict::Failure);
        tokio::time::advance(60 * S).await;
        let probe = pool.select().expect("probe");
        assert!(probe.is_probe());
        assert_eq!(
            pool.select().err(),
            Some(NoHostAvailable { reopens_at: None })
        );
        drop(probe);
        let retry = pool.select().expect("slot freed by the cancelled probe");
        retry.report(Verdict::Success);
        assert_eq!(pool.snapshot()[0].state, BreakerState::Closed);
    }

    #[tokio::test(start_paused = true)]
    async fn in_flight_is_tracked_until_report_or_drop() {
        let pool = pool(&["a", "b"], 10, Balance::RoundRobin);
        let first = pool.select().expect("a");
        let second = pool.select().expect("b");
        let third = pool.select().expect("a");
        let in_flight = |p: &HostPool| p.snapshot().iter().map(|h| h.in_flight).collect::<Vec<_>>();
        assert_eq!(in_flight(&pool), [2, 1]);
        first.report(Verdict::Success);
        drop(second);
        assert_eq!(in_flight(&pool), [1, 0]);
        third.report(Verdict::Failure);
        assert_eq!(in_flight(&pool), [0, 0]);
        assert_eq!(pool.snapshot()[0].failures, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn latency_is_a_moving_average_of_reported_attempts() {
        let pool = pool(&["a"], 10, Balance::RoundRobin);
        let attempt = pool.select().expect("a");
        tokio::time::advance(Duration::from_millis(100)).await;
        attempt.report(Verdict::Success);
        assert_eq!(pool.snapshot()[0].latency, Some(Duration::from_millis(100)));

        let attempt = pool.select().expect("a");
        tokio::time::advance(Duration::from_millis(600)).await;
        attempt.report(Verdict::Success);
        assert_eq!(pool.snapshot()[0].latency, Some(Duration::from_millis(200)));

        // Cancelled attempts carry no latency.
        let attempt = pool.select().expect("a");
        tokio::time::advance(10 * S).await;
        drop(attempt);
        assert_eq!(pool.snapshot()[0].latency, Some(Duration::from_millis(200)));
    }

    #[tokio::test(start_paused = true)]
    async fn least_loaded_prefers_the_host_with_fewer_attempts_in_flight() {
        let pool = pool(&["a", "b"], 10, Balance::LeastLoaded).with_seed(7);
        // With two hosts both are always drawn, so the lighter one always wins.
        let busy = pool.select().expect("a host");
        let busy_url = busy.url();
        for _ in 0..20 {
            let attempt = pool.select().expect("a host");
            assert_ne!(attempt.url(), busy_url);
        }
        drop(busy);
    }

    #[tokio::test(start_paused = true)]
    async fn least_loaded_spreads_load_and_avoids_open_hosts() {
        let pool = pool(&["a", "b", "c", "d"], 1, Balance::LeastLoaded).with_seed(42);
        let held: Vec<_> = (0..400).map(|_| pool.select().expect("a host")).collect();
        let loads: Vec<u32> = pool.snapshot().iter().map(|h| h.in_flight).collect();
        assert_eq!(loads.iter().sum::<u32>(), 400);
        // Two choices keep hosts within a few attempts of each other, where a single random
        // choice would drift apart by tens.
        let spread = loads
            .iter()
            .max()
            .zip(loads.iter().min())
            .map(|(max, min)| max - min);
        assert!(spread.is_some_and(|s| s <= 2), "{loads:?}");
        drop(held);

        let attempt = pool.select().expect("a host");
        let dead = attempt.url().to_owned();
        attempt.report(Verdict::Failure);
        for _ in 0..50 {
            let attempt = pool.select().expect("a host");
            assert_ne!(attempt.url(), dead);
            attempt.report(Verdict::Success);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn least_loaded_with_the_same_seed_makes_the_same_choices() {
        let choices = |seed| {
            let pool = pool(&["a", "b", "c", "d", "e"], 10, Balance::LeastLoaded).with_seed(seed);
            run(&pool, 30, Verdict::Success)
        };
        assert_eq!(choices(3), choices(3));
        assert_ne!(choices(3), choices(4));
    }

    #[tokio::test(start_paused = true)]
    async fn least_loaded_reports_when_everything_is_open() {
        let pool = pool(&["a", "b"], 1, Balance::LeastLoaded).with_seed(1);
        let t0 = Instant::now();
        run(&pool, 2, Verdict::Failure);
        assert_eq!(
            pool.select().err(),
            Some(NoHostAvailable {
                reopens_at: Some(t0 + 60 * S)
            })
        );
    }

    #[tokio::test(start_paused = true)]
    async fn snapshot_lists_every_host_in_order() {
        let pool = pool(&["http://a:8020", "http://b:8020"], 10, Balance::RoundRobin);
        pool.select().expect("a").report(Verdict::Failure);
        let snap = pool.snapshot();
        assert_eq!(snap.len(), 2);
        assert_eq!(snap[0].url, "http://a:8020");
        assert_eq!(snap[0].failures, 1);
        assert_eq!(snap[0].state, BreakerState::Closed);
        assert_eq!(snap[1].url, "http://b:8020");
        assert_eq!(snap[1].failures, 0);
        assert_eq!(snap[1].latency, None);
    }
}
