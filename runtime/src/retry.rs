//! Whether an attempt is tried again, and after how long.
//!
//! An attempt ends in one of three [`Outcome`]s, and only a class that is safe to repeat is
//! retried. The defaults are hopeit-compatible: server errors are retried for every method
//! (hopeit retries POST on 5xx), client errors never except 408 and 429. Where hopeit is weak
//! the policy does better: exponential backoff with full jitter instead of a fixed sleep,
//! `Retry-After` honoured, a total deadline that includes the backoff, and an optional
//! [`RetryBudget`] shared by the connection.

use std::time::{Duration, SystemTime};

use appwire_manifest::ConnectionSettings;
use tokio::time::Instant;

use crate::breaker::Verdict;
use crate::budget::RetryBudget;
use crate::clock::saturating_add;

/// How one attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The request provably never reached the server: connection refused, DNS or TLS failure,
    /// no connection before the write.
    NotSent,
    /// The request may have been processed: timeout after the write, connection reset or body
    /// cut short.
    Ambiguous,
    /// A full status line arrived.
    Responded(u16),
}

impl Outcome {
    /// What the attempt says about its host's health: unreachable, ambiguous, 5xx, 408 and 429
    /// count against it; other 4xx say nothing about it (the request was at fault, and hopeit
    /// records nothing for them); any other answer shows it working. A status the target
    /// declares as a typed response should be reported as [`Verdict::Success`] instead.
    pub fn verdict(self) -> Option<Verdict> {
        match self {
            Self::NotSent | Self::Ambiguous => Some(Verdict::Failure),
            Self::Responded(status) if is_server_error(status) || is_try_later(status) => {
                Some(Verdict::Failure)
            }
            Self::Responded(status) if (400..500).contains(&status) => None,
            Self::Responded(_) => Some(Verdict::Success),
        }
    }
}

fn is_server_error(status: u16) -> bool {
    (500..600).contains(&status)
}

/// Request Timeout and Too Many Requests: the request was not processed, try later.
fn is_try_later(status: u16) -> bool {
    matches!(status, 408 | 429)
}

/// Whether a request may be repeated after an ambiguous failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// A GET, or an event marked idempotent.
    Idempotent,
    /// Anything else: repeating it may apply it twice.
    NonIdempotent,
}

/// Retry settings of a connection, named after hopeit's settings where it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts after the first (`retries`, default 1).
    pub retries: u32,
    /// Base of the exponential backoff (`retry_backoff_ms`, default 10 ms).
    pub backoff_base: Duration,
    /// Longest backoff; `None` means ten times [`backoff_base`](Self::backoff_base).
    pub backoff_max: Option<Duration>,
    /// Draw each backoff at random below its ceiling ("full jitter", default `true`), so that
    /// callers that failed together do not retry together; `false` waits the ceiling itself.
    pub jitter: bool,
    /// Whether a 5xx is retried for a non-idempotent request (default `true`, as hopeit).
    pub retry_non_idempotent_5xx: bool,
    /// Total time for a call, attempts and backoff included (default 300 s, aiohttp's total
    /// timeout under which hopeit clients run).
    pub deadline: Duration,
}

impl From<&ConnectionSettings> for RetryPolicy {
    /// `retries` and `retry_backoff_ms`, with `appwire.backoff_max_ms`, `jitter`,
    /// `retry_post_on_5xx` and `deadline_ms`.
    fn from(s: &ConnectionSettings) -> Self {
        let ext = &s.appwire;
        Self {
            retries: s.retries,
            backoff_base: Duration::from_millis(s.retry_backoff_ms),
            backoff_max: ext.backoff_max_ms.map(Duration::from_millis),
            jitter: ext.jitter,
            retry_non_idempotent_5xx: ext.retry_post_on_5xx,
            deadline: Duration::from_millis(ext.deadline_ms),
        }
    }
}

impl Default for RetryPolicy {
    /// The settings' defaults: hopeit's where it has them.
    fn default() -> Self {
        Self::from(&ConnectionSettings::new(""))
    }
}

impl RetryPolicy {
    /// Whether `outcome` may be retried at all, attempts, time and budget aside.
    pub fn is_retryable(&self, outcome: Outcome, idempotency: Idempotency) -> bool {
        let idempotent = idempotency == Idempotency::Idempotent;
        match outcome {
            Outcome::NotSent => true,
            Outcome::Ambiguous => idempotent,
            Outcome::Responded(status) if is_server_error(status) => {
                idempotent || self.retry_non_idempotent_5xx
            }
            Outcome::Responded(status) => is_try_later(status),
        }
    }

    /// Longest backoff.
    pub fn max_backoff(&self) -> Duration {
        self.backoff_max
            .unwrap_or_else(|| self.backoff_base.saturating_mul(10))
    }

    /// Backoff before retry number `retry` (0 for the first retry): uniform between zero and
    /// `min(max_backoff, backoff_base × 2^retry)` ("full jitter"), or that ceiling without
    /// [`jitter`](Self::jitter).
    pub fn backoff(&self, retry: u32, rng: &mut fastrand::Rng) -> Duration {
        let growth = 1u32 << retry.min(31);
        let ceiling = self
            .backoff_base
            .saturating_mul(growth)
            .min(self.max_backoff());
        if !self.jitter {
            return ceiling;
        }
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(rng.u64(0..=nanos))
    }

    /// Starts the retry bookkeeping of one call at `now`, depositing the call into `budget`.
    pub fn begin<'a>(
        &'a self,
        idempotency: Idempotency,
        budget: Option<&'a RetryBudget>,
        now: Instant,
    ) -> RetryState<'a> {
        if let Some(budget) = budget {
            budget.deposit(now);
        }
        RetryState {
            policy: self,
            idempotency,
            budget,
            attempts: 0,
            deadline: saturating_add(now, self.deadline),
        }
    }
}

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The outcome is final: a success, or an error that retrying cannot help.
    Return,
    /// Try again, on the next host, after `delay`.
    Retry {
        /// How long to wait first.
        delay: Duration,
    },
    /// The outcome was retryable but no retry is left; fail with it.
    GiveUp(GiveUp),
}

/// Why a retryable outcome is not retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// All `retries + 1` attempts were made.
    AttemptsExhausted,
    /// The wait would reach the call's deadline.
    DeadlineExceeded,
    /// The connection's retry budget is spent.
    BudgetExhausted,
}

/// Retry bookkeeping of one call, from [`RetryPolicy::begin`].
#[derive(Debug)]
pub struct RetryState<'a> {
    policy: &'a RetryPolicy,
    idempotency: Idempotency,
    budget: Option<&'a RetryBudget>,
    attempts: u32,
    deadline: Instant,
}

impl RetryState<'_> {
    /// Attempts reported so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// When the call must be over.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Time left at `now`; bounds the next attempt's timeout.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// Decides what follows an attempt that ended with `outcome` at `now`.
    ///
    /// `retry_after` is the parsed `Retry-After` header (see [`parse_retry_after`]); it is used
    /// instead of the backoff on 429 and 503. A wait that would reach the deadline ends the call
    /// now rather than sleeping into it. The budget is charged only for a retry that happens.
    pub fn decide(
        &mut self,
        outcome: Outcome,
        retry_after: Option<Duration>,
        now: Instant,
        rng: &mut fastrand::Rng,
    ) -> Decision {
        self.attempts = self.attempts.saturating_add(1);
        if !self.policy.is_retryable(outcome, self.idempotency) {
            return Decision::Return;
        }
        if self.attempts > self.policy.retries {
            return Decision::GiveUp(GiveUp::AttemptsExhausted);
        }
        let delay = match (outcome, retry_after) {
            (Outcome::Responded(429 | 503), Some(after)) => after,
            _ => self.policy.backoff(self.attempts - 1, rng),
        };
        if delay >= self.remaining(now) {
            return Decision::GiveUp(GiveUp::DeadlineExceeded);
        }
        if self.budget.is_some_and(|budget| !budget.try_withdraw(now)) {
            return Decision::GiveUp(GiveUp::BudgetExhausted);
        }
        Decision::Retry { delay }
    }
}

/// Parses a `Retry-After` value, delta-seconds or HTTP-date, into a wait from `now`.
///
/// A date in the past is no wait; a delta too large to represent is the longest wait.
/// `now` is the wall clock, because an HTTP-date is one.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {

    use super::*;
    use appwire_manifest::RetryBudgetSettings;

    use Idempotency::{Idempotent, NonIdempotent};

    const MS: Duration = Duration::from_millis(1);

    fn rng() -> fastrand::Rng {
        fastrand::Rng::with_seed(1)
    }

    #[test]
    fn defaults_are_hopeits() {
        let p = RetryPolicy::default();
        assert_eq!(p.retries, 1);
        assert_eq!(p.backoff_base, 10 * MS);
        assert_eq!(p.max_backoff(), 100 * MS);
        assert!(p.retry_non_idempotent_5xx);
        assert!(p.jitter);
    }

    #[test]
    fn without_jitter_the_backoff_is_its_ceiling() {
        let p = RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        };
        let waits: Vec<Duration> = (0..6).map(|r| p.backoff(r, &mut rng())).collect();
        assert_eq!(
            waits,
            [10 * MS, 20 * MS, 40 * MS, 80 * MS, 100 * MS, 100 * MS]
        );
    }

    #[test]
    fn classification_follows_the_outcome_table() {
        let p = RetryPolicy::default();
        let cases = [
            (Outcome::NotSent, true, true),
            (Outcome::Ambiguous, true, false),
            (Outcome::Responded(500), true, true),
            (Outcome::Responded(503), true, true),
            (Outcome::Responded(599), true, true),
            (Outcome::Responded(408), true, true),
            (Outcome::Responded(429), true, true),
            (Outcome::Responded(200), false, false),
            (Outcome::Responded(204), false, false),
            (Outcome::Responded(302), false, false),
            (Outcome::Responded(400), false, false),
            (Outcome::Responded(401), false, false),
            (Outcome::Responded(404), false, false),
            (Outcome::Responded(600), false, false),
        ];
        for (outcome, idempotent, non_idempotent) in cases {
            assert_eq!(
                p.is_retryable(outcome, Idempotent),
                idempotent,
                "{outcome:?}"
            );
            assert_eq!(
                p.is_retryable(outcome, NonIdempotent),
                non_idempotent,
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn retrying_5xx_for_non_idempotent_requests_can_be_switched_off() {
        let p = RetryPolicy {
            retry_non_idempotent_5xx: false,
            ..RetryPolicy::default()
        };
        assert!(!p.is_retryable(Outcome::Responded(502), NonIdempotent));
        assert!(p.is_retryable(Outcome::Responded(502), Idempotent));
        assert!(p.is_retryable(Outcome::NotSent, NonIdempotent));
    }

    #[test]
    fn verdicts_count_only_host_trouble() {
        for outcome in [
            Outcome::NotSent,
            Outcome::Ambiguous,
            Outcome::Responded(500),
            Outcome::Responded(408),
            Outcome::Responded(429),
        ] {
            assert_eq!(outcome.verdict(), Some(Verdict::Failure), "{outcome:?}");
        }
        for status in [200, 201, 301] {
            assert_eq!(Outcome::Responded(status).verdict(), Some(Verdict::Success));
        }
        for status in [400, 401, 404, 409] {
            assert_eq!(Outcome::Responded(status).verdict(), None, "{status}");
        }
    }

    #[test]
    fn backoff_is_full_jitter_under_an_exponential_ceiling() {
        let p = RetryPolicy::default();
        let mut rng = rng();
        for (retry, ceiling) in [(0, 10), (1, 20), (2, 40), (3, 80), (4, 100), (40, 100)] {
            let ceiling = ceiling * MS;
            let samples: Vec<Duration> = (0..2_000).map(|_| p.backoff(retry, &mut rng)).collect();
            let max = samples.iter().max().copied().unwrap_or_default();
            let min = samples.iter().min().copied().unwrap_or_default();
            assert!(max <= ceiling, "retry {retry}: {max:?} > {ceiling:?}");
            assert!(max > ceiling * 99 / 100, "retry {retry}: max {max:?}");
            assert!(min < ceiling / 100, "retry {retry}: min {min:?}");
        }
    }

    #[test]
    fn backoff_is_reproducible_with_the_same_rng() {
        let p = RetryPolicy::default();
        let a: Vec<_> = (0..5).map(|r| p.backoff(r, &mut rng())).collect();
        let b: Vec<_> = (0..5).map(|r| p.backoff(r, &mut rng())).collect();
        assert_eq!(a, b);
    }

    #[test]
    fn backoff_with_extreme_settings_does_not_overflow() {
        let p = RetryPolicy {
            backoff_base: Duration::MAX,
            backoff_max: Some(Duration::MAX),
            ..RetryPolicy::default()
        };
        assert!(p.backoff(u32::MAX, &mut rng()) <= Duration::from_nanos(u64::MAX));
        let p = RetryPolicy {
            backoff_base: Duration::ZERO,
            ..RetryPolicy::default()
        };
        assert_eq!(p.backoff(3, &mut rng()), Duration::ZERO);
    }

    #[test]
    fn retries_are_extra_attempts() {
        let p = RetryPolicy {
            retries: 2,
            ..RetryPolicy::default()
        };
        let now = Instant::now();
        let mut call = p.begin(Idempotent, None, now);
        for _ in 0..2 {
            let decision = call.decide(Outcome::Responded(500), None, now, &mut rng());
            assert!(matches!(decision, Decision::Retry { .. }), "{decision:?}");
        }
        assert_eq!(
            call.decide(Outcome::Responded(500), None, now, &mut rng()),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );
        assert_eq!(call.attempts(), 3);

        let none = RetryPolicy {
            retries: 0,
            ..RetryPolicy::default()
        };
        let mut call = none.begin(Idempotent, None, now);
        assert_eq!(
            call.decide(Outcome::NotSent, None, now, &mut rng()),
            Decision::GiveUp(GiveUp::AttemptsExhausted)
        );
    }

    #[test]
    fn final_outcomes_are_returned() {
        let p = RetryPolicy::default();
        let now = Instant::now();
        for outcome in [Outcome::Responded(200), Outcome::Responded(404)] {
            let mut call = p.begin(Idempotent, None, now);
            assert_eq!(
                call.decide(outcome, None, now, &mut rng()),
                Decision::Return
            );
        }
        let mut call = p.begin(NonIdempotent, None, now);
        assert_eq!(
            call.decide(Outcome::Ambiguous, None, now, &mut rng()),
            Decision::Return
        );
    }

    #[test]
    fn retry_after_replaces_the_backoff_on_429_and_503_only() {
        let p = RetryPolicy::default();
        let now = Instant::now();
        let wait = Some(Duration::from_secs(2));
        for status in [429, 503] {
            let mut call = p.begin(Idempotent, None, now);
            assert_eq!(
                call.decide(Outcome::Responded(status), wait, now, &mut rng()),
                Decision::Retry {
                    delay: Duration::from_secs(2)
                }
            );
        }
        let mut call = p.begin(Idempotent, None, now);
        let decision = call.decide(Outcome::Responded(500), wait, now, &mut rng());
        assert!(
            matches!(decision, Decision::Retry { delay } if delay <= 10 * MS),
            "{decision:?}"
        );
    }

    #[test]
    fn a_retry_after_past_the_deadline_gives_up_now() {
        let p = RetryPolicy {
            deadline: Duration::from_secs(10),
            ..RetryPolicy::default()
        };
        let t0 = Instant::now();
        let mut call = p.begin(Idempotent, None, t0);
        let t1 = t0 + Duration::from_secs(4);
        assert_eq!(call.remaining(t1), Duration::from_secs(6));
        assert_eq!(
            call.decide(
                Outcome::Responded(503),
                Some(Duration::from_secs(6)),
                t1,
                &mut rng()
            ),
            Decision::GiveUp(GiveUp::DeadlineExceeded)
        );
    }

    #[test]
    fn the_deadline_includes_the_backoff() {
        let p = RetryPolicy {
            retries: 5,
            backoff_base: Duration::from_secs(1),
            backoff_max: Some(Duration::from_secs(1)),
            deadline: Duration::from_secs(3),
            ..RetryPolicy::default()
        };
        let t0 = Instant::now();
        let mut call = p.begin(Idempotent, None, t0);
        let mut now = t0;
        let mut rng = rng();
        let last = loop {
            // Each attempt runs for a second, or until the deadline cuts it short.
            now += call.remaining(now).min(Duration::from_secs(1));
            match call.decide(Outcome::NotSent, None, now, &mut rng) {
                Decision::Retry { delay } => {
                    now += delay;
                    assert!(now < call.deadline());
                }
                other => break other,
            }
        };
        assert_eq!(last, Decision::GiveUp(GiveUp::DeadlineExceeded));
        assert!(now <= call.deadline());
        assert!((2..=3).contains(&call.attempts()), "{}", call.attempts());
    }

    #[test]
    fn a_spent_budget_stops_retries_and_is_charged_only_for_real_ones() {
        let settings = RetryBudgetSettings {
            min_per_second: 0,
            percent: 50.0,
            ..RetryBudgetSettings::default()
        };
        let now = Instant::now();
        let budget = RetryBudget::new(&settings, now);
        let p = RetryPolicy::default();

        // A final outcome costs nothing.
        let mut call = p.begin(Idempotent, Some(&budget), now);
        assert_eq!(
            call.decide(Outcome::Responded(200), None, now, &mut rng()),
            Decision::Return
        );
        assert_eq!(budget.available(now), 0);

        // Two calls pay for one retry.
        let mut call = p.begin(Idempotent, Some(&budget), now);
        assert_eq!(budget.available(now), 1);
        assert!(matches!(
            call.decide(Outcome::NotSent, None, now, &mut rng()),
            Decision::Retry { .. }
        ));
        let mut call = p.begin(Idempotent, Some(&budget), now);
        assert_eq!(
            call.decide(Outcome::NotSent, None, now, &mut rng()),
            Decision::GiveUp(GiveUp::BudgetExhausted)
        );
    }

    #[test]
    fn retry_after_parses_delta_seconds() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-1", "+5", "1.5", "soon", "12 s"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_parses_http_dates_against_now() {
        // Sun, 06 Nov 1994 08:49:37 GMT, the date of RFC 9110's examples.
        let date = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let value = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(
            parse_retry_after(value, date - Duration::from_secs(30)),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after(value, date + Duration::from_secs(30)),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", date),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", date),
            None
        );
    }
}
