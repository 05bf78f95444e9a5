//! Retry budget shared by every call on a connection.
//!
//! Each call deposits into the budget, each retry withdraws from it, and deposits and withdrawals
//! are forgotten after a time to live. Retries are therefore held to a fraction of recent calls,
//! plus a small reserve so that a quiet connection can still retry. These are the semantics and
//! defaults of Finagle's `RetryBudget` and tower's `TpsBudget`: a 10 s window, 10 retries per
//! second in reserve, 20 % of calls.
//!
//! Its settings are the connection's `appwire.retry_budget` ([`RetryBudgetSettings`]); time is
//! [`Instant`]s passed in by the caller, so the budget runs on tokio's clock.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use appwire_manifest::RetryBudgetSettings;
use tokio::time::Instant;

/// The window is kept in this many slots; a slot is forgotten whole.
const SLOTS: usize = 10;

/// Tokens one call deposits; a retry costs `SCALE / ratio`, so ratios need no floats at
/// run time.
const SCALE: i64 = 1000;

/// Tokens over the last `ttl`, in [`SLOTS`] slots of `ttl / SLOTS` each.
#[derive(Debug)]
struct Ring {
    slots: [i64; SLOTS],
    /// Slot number of `now`, counted from the budget's creation.
    current: u64,
}

impl Ring {
    fn advance(&mut self, slot: u64) {
        let steps = slot.saturating_sub(self.current).min(SLOTS as u64);
        for step in 1..=steps {
            self.slots[index(self.current.wrapping_add(step))] = 0;
        }
        self.current = self.current.max(slot);
    }

    fn balance(&self) -> i64 {
        self.slots.iter().fold(0, |sum, &s| sum.saturating_add(s))
    }

    fn add(&mut self, tokens: i64) {
        let slot = &mut self.slots[index(self.current)];
        *slot = slot.saturating_add(tokens);
    }
}

fn index(slot: u64) -> usize {
    // The remainder is below SLOTS, so it fits.
    (slot % SLOTS as u64) as usize
}

/// A retry budget, shared by reference between the calls of one connection.
#[derive(Debug)]
pub struct RetryBudget {
    deposit: i64,
    cost: i64,
    reserve: i64,
    epoch: Instant,
    slot_width: Duration,
    ring: Mutex<Ring>,
}

impl RetryBudget {
    /// A budget whose window starts at `now` (its `enabled` flag is the caller's to honour).
    /// Out-of-range settings are clamped: a `ttl_ms` under 1 s counts as 1 s, and a `percent`
    /// that is not a positive number allows only the reserve.
    pub fn new(settings: &RetryBudgetSettings, now: Instant) -> Self {
        let ttl = Duration::from_millis(settings.ttl_ms).max(Duration::from_secs(1));
        let ratio = settings.percent / 100.0;
        let (deposit, cost) = if ratio > 0.0 {
            // Float to int `as` saturates, so an absurd ratio cannot overflow.
            (SCALE, ((SCALE as f64 / ratio).round() as i64).max(1))
        } else {
            (0, 1)
        };
        let reserve = (f64::from(settings.min_per_second) * ttl.as_secs_f64() * cost as f64) as i64;
        Self {
            deposit,
            cost,
            reserve,
            epoch: now,
            slot_width: ttl / SLOTS as u32,
            ring: Mutex::new(Ring {
                slots: [0; SLOTS],
                current: 0,
            }),
        }
    }

    /// Records one call.
    pub fn deposit(&self, now: Instant) {
        self.with_ring(now, |ring| ring.add(self.deposit));
    }

    /// Takes one retry from the budget, or says there is none left.
    pub fn try_withdraw(&self, now: Instant) -> bool {
        self.with_ring(now, |ring| {
            let ok = self.reserve.saturating_add(ring.balance()) >= self.cost;
            if ok {
                ring.add(-self.cost);
            }
            ok
        })
    }

    /// Retries the budget would allow at `now`.
    pub fn available(&self, now: Instant) -> u64 {
        self.with_ring(now, |ring| {
            let tokens = self.reserve.saturating_add(ring.balance()).max(0);
            u64::try_from(tokens / self.cost).unwrap_or(0)
        })
    }

    fn with_ring<T>(&self, now: Instant, f: impl FnOnce(&mut Ring) -> T) -> T {
        let elapsed = now.saturating_duration_since(self.epoch).as_nanos();
        let slot = u64::try_from(elapsed / self.slot_width.as_nanos()).unwrap_or(u64::MAX);
        // A poisoned ring is still a valid ring: every update is a single addition.
        let mut ring = self.ring.lock().unwrap_or_else(PoisonError::into_inner);
        ring.advance(slot);
        f(&mut ring)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn budget(ttl_secs: u64, min_per_second: u32, retry_ratio: f64) -> RetryBudget {
        let settings = RetryBudgetSettings {
            enabled: true,
            ttl_ms: ttl_secs.saturating_mul(1000),
            min_per_second,
            percent: retry_ratio * 100.0,
        };
        RetryBudget::new(&settings, Instant::now())
    }

    fn drain(budget: &RetryBudget, now: Instant) -> u64 {
        let mut n = 0;
        while budget.try_withdraw(now) {
            n += 1;
        }
        n
    }

    #[test]
    fn defaults_are_finagles() {
        let d = RetryBudgetSettings::default();
        assert!(d.enabled);
        assert_eq!((d.ttl_ms, d.min_per_second, d.percent), (10_000, 10, 20.0));
    }

    /// Finagle's check: n calls allow n × ratio + reserve retries, ± 1.
    #[tokio::test(start_paused = true)]
    async fn n_calls_allow_n_times_ratio_plus_the_reserve() {
        let n = 10_000u32;
        for ratio in [0.0, 0.05, 0.1, 0.2, 0.25, 0.33, 0.5, 0.9, 1.0, 2.0] {
            for (ttl, min) in [(10, 10), (10, 0), (1, 5), (60, 1)] {
                let b = budget(ttl, min, ratio);
                let now = Instant::now();
                for _ in 0..n {
                    b.deposit(now);
                }
                let expected = f64::from(n) * ratio + f64::from(min) * ttl as f64;
                let retried = drain(&b, now) as f64;
                assert!(
                    (retried - expected).abs() <= 1.0,
                    "ratio {ratio} ttl {ttl} min {min}: {retried} retries, expected {expected}"
                );
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn interleaved_retries_follow_the_same_rate() {
        let b = budget(10, 10, 0.2);
        let now = Instant::now();
        let mut retried = 0;
        for _ in 0..10_000 {
            b.deposit(now);
            if b.try_withdraw(now) {
                retried += 1;
            }
        }
        assert_eq!(retried, 2_100);
        assert_eq!(b.available(now), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn deposits_expire_after_the_ttl_and_the_reserve_remains() {
        let b = budget(10, 10, 0.2);
        for _ in 0..1_000 {
            b.deposit(Instant::now());
        }
        assert_eq!(b.available(Instant::now()), 300);
        tokio::time::advance(9 * S).await;
        assert_eq!(b.available(Instant::now()), 300);
        tokio::time::advance(S).await;
        assert_eq!(b.available(Instant::now()), 100);
    }

    #[tokio::test(start_paused = true)]
    async fn withdrawals_expire_too() {
        let b = budget(10, 1, 0.2);
        assert_eq!(drain(&b, Instant::now()), 10);
        tokio::time::advance(5 * S).await;
        assert!(!b.try_withdraw(Instant::now()));
        tokio::time::advance(5 * S).await;
        assert_eq!(drain(&b, Instant::now()), 10);
    }

    /// Steady traffic of 100 calls per second, each wanting a retry: in any window the budget
    /// allows 20 % of the window's calls plus the reserve, 30 retries per second.
    #[tokio::test(start_paused = true)]
    async fn steady_traffic_is_held_to_the_ratio_plus_the_reserve() {
        let b = budget(10, 10, 0.2);
        let mut per_second = Vec::new();
        for _ in 0..60 {
            let mut retried = 0;
            for _ in 0..100 {
                let now = Instant::now();
                b.deposit(now);
                if b.try_withdraw(now) {
                    retried += 1;
                }
                tokio::time::advance(Duration::from_millis(10)).await;
            }
            per_second.push(retried);
        }
        // The first window is the reserve plus 20 % of its calls, as at frozen time.
        assert_eq!(per_second[..10].iter().sum::<u32>(), 300);
        for window in per_second.windows(10).skip(10) {
            let sum: u32 = window.iter().sum();
            assert!((295..=305).contains(&sum), "{per_second:?}");
        }
        let total: u32 = per_second.iter().sum();
        assert!((1_790..=1_810).contains(&total), "{total}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_zero_ratio_allows_only_the_reserve() {
        let b = budget(10, 2, 0.0);
        let now = Instant::now();
        for _ in 0..1_000 {
            b.deposit(now);
        }
        assert_eq!(drain(&b, now), 20);
    }

    #[tokio::test(start_paused = true)]
    async fn absurd_settings_are_clamped_not_fatal() {
        let b = budget(0, 1, f64::NAN);
        assert_eq!(drain(&b, Instant::now()), 1);
        let b = budget(10, u32::MAX, f64::INFINITY);
        let now = Instant::now();
        b.deposit(now);
        assert!(b.try_withdraw(now));
        let b = budget(u64::MAX / 2, 10, 1e-300);
        let now = Instant::now();
        b.deposit(now);
        assert!(b.try_withdraw(now));
        assert!(!b.try_withdraw(now));

        let b = budget(10, 1, 0.2);
        assert_eq!(drain(&b, Instant::now()), 10);
        tokio::time::advance(Duration::from_secs(1 << 40)).await;
        assert_eq!(drain(&b, Instant::now()), 10);
    }
}
