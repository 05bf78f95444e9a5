//! Per-host circuit breaker.
//!
//! The counting follows hopeit.engine's apps-client: a failure count that a sliding window
//! forgets, clamped at the threshold, opening the breaker when it gets there; a success clears
//! it. On top of that:
//!
//! - after the open time the host is half-open and admits at most
//!   [`half_open_probes`](BreakerSettings::half_open_probes) concurrent attempts (hopeit lets all
//!   traffic through);
//! - a failed probe re-opens it at once, for `open_time × consecutive openings`, capped;
//! - a successful probe closes it and forgets the openings;
//! - an outcome reported for an attempt admitted before the last state change is ignored: a
//!   success that was in flight when the breaker opened does not close it, and a failure that was
//!   in flight does not extend the open time.
//!
//! The breaker is a plain state machine over [`Instant`]s passed in by the caller, which keeps it
//! deterministic; [`HostPool`](crate::pool::HostPool) feeds it tokio's clock.

use std::fmt;
use std::time::Duration;

use appwire_manifest::ConnectionSettings;
use tokio::time::Instant;

use crate::clock::saturating_add;

/// Settings of a [`Breaker`], named after hopeit's `circuit_breaker_*` keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BreakerSettings {
    /// Failures within the reset window that open the breaker; `0` disables the breaker
    /// (`circuit_breaker_open_failures`, default 10).
    pub open_failures: u32,
    /// How long after the last failure the count is forgotten
    /// (`circuit_breaker_failure_reset_seconds`, default 120 s).
    pub failure_reset: Duration,
    /// How long the first opening lasts (`circuit_breaker_open_seconds`, default 60 s).
    pub open_time: Duration,
    /// Concurrent attempts admitted while half-open (default 1; `0` is taken as 1).
    pub half_open_probes: u32,
    /// Longest opening; `None` means ten times [`open_time`](Self::open_time).
    pub max_open_time: Option<Duration>,
}

impl From<&ConnectionSettings> for BreakerSettings {
    /// The `circuit_breaker_*` keys, with `appwire.half_open_probes` and
    /// `appwire.max_open_seconds`.
    fn from(s: &ConnectionSettings) -> Self {
        Self {
            open_failures: s.circuit_breaker_open_failures,
            failure_reset: Duration::from_secs(s.circuit_breaker_failure_reset_seconds),
            open_time: Duration::from_secs(s.circuit_breaker_open_seconds),
            half_open_probes: s.appwire.half_open_probes,
            max_open_time: s.appwire.max_open_seconds.map(Duration::from_secs),
        }
    }
}

impl Default for BreakerSettings {
    /// The settings' defaults, hopeit's.
    fn default() -> Self {
        Self::from(&ConnectionSettings::new(""))
    }
}

impl BreakerSettings {
    /// Whether the breaker is switched off (`open_failures == 0`).
    pub fn is_disabled(&self) -> bool {
        self.open_failures == 0
    }

    /// How long the `openings`-th consecutive opening lasts.
    pub fn open_time_for(&self, openings: u32) -> Duration {
        let cap = self
            .max_open_time
            .unwrap_or_else(|| self.open_time.saturating_mul(10))
            .max(self.open_time);
        self.open_time.saturating_mul(openings.max(1)).min(cap)
    }

    fn probes(&self) -> u32 {
        self.half_open_probes.max(1)
    }
}

/// What a breaker lets through, as seen from outside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Every attempt is admitted and counted.
    Closed,
    /// No attempt is admitted before `until`.
    Open {
        /// When the breaker becomes half-open.
        until: Instant,
    },
    /// A bounded number of probe attempts is admitted.
    HalfOpen,
}

/// How an attempt ended, as far as its host's health is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The host answered as a healthy host does.
    Success,
    /// The host failed: not reachable, timed out, or answered with a server error.
    Failure,
}

/// Admission of one attempt; hand it back through [`Breaker::record`] or [`Breaker::release`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "a permit must be recorded or released, or a half-open probe slot stays taken"]
pub struct Permit {
    epoch: u64,
    probe: bool,
}

impl Permit {
    /// Whether this attempt is a half-open probe.
    pub fn is_probe(&self) -> bool {
        self.probe
    }
}

/// Why [`Breaker::try_acquire`] admitted nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    /// When the breaker becomes half-open; `None` when it already is and every probe slot is
    /// taken.
    pub reopens_at: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Closed,
    Open { until: Instant },
    HalfOpen { probes: u32 },
}

/// Circuit breaker of one host. See the [module docs](self) for its rules.
pub struct Breaker {
    host: String,
    settings: BreakerSettings,
    mode: Mode,
    failures: u32,
    /// The failure count is forgotten from this instant on.
    reset_at: Option<Instant>,
    /// Openings since the breaker was last closed.
    openings: u32,
    /// Bumped on every state change, so outcomes of older attempts can be told apart.
    epoch: u64,
}

impl fmt::Debug for Breaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Breaker")
            .field("host", &self.host)
            .field("mode", &self.mode)
            .field("failures", &self.failures)
            .field("openings", &self.openings)
            .finish_non_exhaustive()
    }
}

impl Breaker {
    /// A closed breaker for `host`, which names it in tracing events.
    pub fn new(host: impl Into<String>, settings: BreakerSettings) -> Self {
        Self {
            host: host.into(),
            settings,
            mode: Mode::Closed,
            failures: 0,
            reset_at: None,
            openings: 0,
            epoch: 0,
        }
    }

    /// The settings this breaker runs with.
    pub fn settings(&self) -> &BreakerSettings {
        &self.settings
    }

    /// The state at `now`.
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.mode_at(now) {
            Mode::Closed => BreakerState::Closed,
            Mode::Open { until } => BreakerState::Open { until },
            Mode::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Failures counted at `now`: zero once the reset window has passed since the last one.
    pub fn failures(&self, now: Instant) -> u32 {
        match self.reset_at {
            Some(reset_at) if now < reset_at => self.failures,
            _ => 0,
        }
    }

    /// Openings since the breaker was last closed; it drives the growing open time.
    pub fn openings(&self) -> u32 {
        self.openings
    }

    /// Whether [`try_acquire`](Self::try_acquire) would admit an attempt at `now`.
    pub fn admits(&self, now: Instant) -> bool {
        match self.mode_at(now) {
            Mode::Closed => true,
            Mode::Open { .. } => false,
            Mode::HalfOpen { probes } => probes < self.settings.probes(),
        }
    }

    /// Admits one attempt at `now`, or says when to come back.
    pub fn try_acquire(&mut self, now: Instant) -> Result<Permit, Rejection> {
        self.catch_up(now);
        let probe = match &mut self.mode {
            Mode::Closed => false,
            Mode::Open { until } => {
                return Err(Rejection {
                    reopens_at: Some(*until),
                });
            }
            Mode::HalfOpen { probes } if *probes < self.settings.probes() => {
                *probes += 1;
                true
            }
            Mode::HalfOpen { .. } => return Err(Rejection { reopens_at: None }),
        };
        Ok(Permit {
            epoch: self.epoch,
            probe,
        })
    }

    /// Reports how an admitted attempt ended.
    pub fn record(&mut self, permit: Permit, verdict: Verdict, now: Instant) {
        self.catch_up(now);
        if permit.epoch != self.epoch {
            return;
        }
        match verdict {
            Verdict::Success => self.on_success(),
            Verdict::Failure => self.on_failure(now),
        }
    }

    /// Gives back an attempt that ended without a verdict, such as a cancelled one.
    pub fn release(&mut self, permit: Permit, now: Instant) {
        self.catch_up(now);
        if !permit.probe || permit.epoch != self.epoch {
            return;
        }
        if let Mode::HalfOpen { probes } = &mut self.mode {
            *probes = probes.saturating_sub(1);
        }
    }

    fn on_success(&mut self) {
        self.failures = 0;
        self.reset_at = None;
        if let Mode::HalfOpen { .. } = self.mode {
            self.openings = 0;
            self.enter(Mode::Closed);
            tracing::info!(host = %self.host, "circuit breaker closed");
        }
    }

    fn on_failure(&mut self, now: Instant) {
        if self.settings.is_disabled() {
            return;
        }
        let threshold = self.settings.open_failures;
        self.failures = self.failures(now).saturating_add(1).min(threshold);
        self.reset_at = Some(saturating_add(now, self.settings.failure_reset));
        let opens = match self.mode {
            Mode::Closed => self.failures >= threshold,
            Mode::HalfOpen { .. } => true,
            // No permit is issued while open, and opening changes the epoch.
            Mode::Open { .. } => false,
        };
        if opens {
            self.openings = self.openings.saturating_add(1);
            let open_for = self.settings.open_time_for(self.openings);
            self.enter(Mode::Open {
                until: saturating_add(now, open_for),
            });
            tracing::warn!(
                host = %self.host,
                failures = self.failures,
                openings = self.openings,
                open_for = ?open_for,
                "circuit breaker opened",
            );
        }
    }

    /// Moves an expired opening to half-open.
    fn catch_up(&mut self, now: Instant) {
        if matches!(self.mode, Mode::Open { until } if now >= until) {
            self.enter(Mode::HalfOpen { probes: 0 });
            tracing::info!(host = %self.host, "circuit breaker half-open");
        }
    }

    fn mode_at(&self, now: Instant) -> Mode {
        match self.mode {
            Mode::Open { until } if now >= until => Mode::HalfOpen { probes: 0 },
            mode => mode,
        }
    }

    fn enter(&mut self, mode: Mode) {
        self.mode = mode;
        self.epoch = self.epoch.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn settings(open_failures: u32) -> BreakerSettings {
        BreakerSettings {
            open_failures,
            failure_reset: 120 * S,
            open_time: 60 * S,
            ..BreakerSettings::default()
        }
    }

    fn fail(b: &mut Breaker, now: Instant) {
        let permit = b.try_acquire(now).expect("admitted");
        b.record(permit, Verdict::Failure, now);
    }

    fn succeed(b: &mut Breaker, now: Instant) {
        let permit = b.try_acquire(now).expect("admitted");
        b.record(permit, Verdict::Success, now);
    }

    #[test]
    fn defaults_are_hopeits() {
        let s = BreakerSettings::default();
        assert_eq!(s.open_failures, 10);
        assert_eq!(s.failure_reset, 120 * S);
        assert_eq!(s.open_time, 60 * S);
        assert_eq!(s.half_open_probes, 1);
        assert_eq!(s.open_time_for(1), 60 * S);
        assert_eq!(s.open_time_for(3), 180 * S);
        assert_eq!(s.open_time_for(10), 600 * S);
        assert_eq!(s.open_time_for(11), 600 * S);
    }

    #[test]
    fn max_open_time_caps_growth_but_never_shortens_the_base() {
        let mut s = settings(1);
        s.max_open_time = Some(150 * S);
        assert_eq!(s.open_time_for(2), 120 * S);
        assert_eq!(s.open_time_for(3), 150 * S);
        s.max_open_time = Some(S);
        assert_eq!(s.open_time_for(5), 60 * S);
    }

    #[test]
    fn opens_at_the_threshold_and_clamps_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(3));
        fail(&mut b, t0);
        fail(&mut b, t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert_eq!(b.failures(t0), 2);
        fail(&mut b, t0);
        assert_eq!(b.state(t0), BreakerState::Open { until: t0 + 60 * S });
        assert_eq!(b.failures(t0), 3);
        assert_eq!(
            b.try_acquire(t0 + 59 * S),
            Err(Rejection {
                reopens_at: Some(t0 + 60 * S)
            })
        );
    }

    #[test]
    fn the_window_slides_with_each_failure() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(3));
        fail(&mut b, t0);
        fail(&mut b, t0 + 100 * S);
        // 119 s after the last failure the count is still alive, and the third one opens.
        fail(&mut b, t0 + 219 * S);
        assert!(matches!(b.state(t0 + 219 * S), BreakerState::Open { .. }));
    }

    #[test]
    fn failures_are_forgotten_after_the_reset_window() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(3));
        fail(&mut b, t0);
        fail(&mut b, t0);
        assert_eq!(b.failures(t0 + 119 * S), 2);
        assert_eq!(b.failures(t0 + 120 * S), 0);
        fail(&mut b, t0 + 120 * S);
        assert_eq!(b.failures(t0 + 120 * S), 1);
        assert_eq!(b.state(t0 + 120 * S), BreakerState::Closed);
    }

    #[test]
    fn a_success_clears_the_count() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(3));
        fail(&mut b, t0);
        fail(&mut b, t0);
        succeed(&mut b, t0);
        assert_eq!(b.failures(t0), 0);
        fail(&mut b, t0);
        fail(&mut b, t0);
        assert_eq!(b.state(t0), BreakerState::Closed);
    }

    #[test]
    fn zero_threshold_disables_the_breaker() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(0));
        for _ in 0..100 {
            fail(&mut b, t0);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
        assert_eq!(b.failures(t0), 0);
        assert!(b.admits(t0));
    }

    #[test]
    fn half_open_admits_one_probe_and_a_success_closes() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(1));
        fail(&mut b, t0);
        let t1 = t0 + 60 * S;
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        let probe = b.try_acquire(t1).expect("probe admitted");
        assert!(probe.is_probe());
        assert!(!b.admits(t1));
        assert_eq!(b.try_acquire(t1), Err(Rejection { reopens_at: None }));
        b.record(probe, Verdict::Success, t1);
        assert_eq!(b.state(t1), BreakerState::Closed);
        assert_eq!(b.openings(), 0);
        assert!(!b.try_acquire(t1).expect("closed").is_probe());
    }

    #[test]
    fn a_failed_probe_reopens_for_longer_each_time() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(1));
        fail(&mut b, t0);
        let t1 = t0 + 60 * S;
        fail(&mut b, t1);
        assert_eq!(
            b.state(t1),
            BreakerState::Open {
                until: t1 + 120 * S
            }
        );
        let t2 = t1 + 120 * S;
        fail(&mut b, t2);
        assert_eq!(
            b.state(t2),
            BreakerState::Open {
                until: t2 + 180 * S
            }
        );
        assert_eq!(b.openings(), 3);
        // A success forgets the openings: the next opening is short again.
        let t3 = t2 + 180 * S;
        succeed(&mut b, t3);
        fail(&mut b, t3);
        assert_eq!(b.state(t3), BreakerState::Open { until: t3 + 60 * S });
    }

    #[test]
    fn a_probe_failure_reopens_even_after_the_reset_window() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(3));
        for _ in 0..3 {
            fail(&mut b, t0);
        }
        let late = t0 + 600 * S;
        assert_eq!(b.failures(late), 0);
        fail(&mut b, late);
        assert!(matches!(b.state(late), BreakerState::Open { .. }));
    }

    #[test]
    fn a_released_probe_frees_its_slot() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(1));
        fail(&mut b, t0);
        let t1 = t0 + 60 * S;
        let probe = b.try_acquire(t1).expect("probe");
        b.release(probe, t1);
        assert_eq!(b.state(t1), BreakerState::HalfOpen);
        assert!(b.try_acquire(t1).is_ok());
    }

    #[test]
    fn several_probes_when_configured() {
        let t0 = Instant::now();
        let mut b = Breaker::new(
            "h",
            BreakerSettings {
                half_open_probes: 2,
                ..settings(1)
            },
        );
        fail(&mut b, t0);
        let t1 = t0 + 60 * S;
        let _p1 = b.try_acquire(t1).expect("first probe");
        let _p2 = b.try_acquire(t1).expect("second probe");
        assert!(b.try_acquire(t1).is_err());
    }

    #[test]
    fn outcomes_from_before_a_state_change_are_ignored() {
        let t0 = Instant::now();
        let mut b = Breaker::new("h", settings(1));
        let early_success = b.try_acquire(t0).expect("closed");
        let early_failure = b.try_acquire(t0).expect("closed");
        fail(&mut b, t0);
        let until = t0 + 60 * S;
        b.record(early_success, Verdict::Success, t0 + S);
        assert_eq!(b.state(t0 + S), BreakerState::Open { until });
        b.record(early_failure, Verdict::Failure, t0 + 2 * S);
        assert_eq!(b.state(t0 + 2 * S), BreakerState::Open { until });
        assert_eq!(b.openings(), 1);
    }

    #[test]
    fn a_stale_probe_does_not_free_a_newer_slot() {
        let t0 = Instant::now();
        let mut b = Breaker::new(
            "h",
            BreakerSettings {
                half_open_probes: 2,
                ..settings(1)
            },
        );
        fail(&mut b, t0);
        let t1 = t0 + 60 * S;
        let stale = b.try_acquire(t1).expect("probe");
        fail(&mut b, t1); // the other probe fails: open for 120 s
        let t2 = t1 + 120 * S;
        let _a = b.try_acquire(t2).expect("probe");
        let _b = b.try_acquire(t2).expect("probe");
        b.release(stale, t2);
        assert!(b.try_acquire(t2).is_err());
    }

    #[test]
    fn debug_names_the_host() {
        let b = Breaker::new("http://a", settings(1));
        assert!(format!("{b:?}").contains("http://a"));
    }
}
