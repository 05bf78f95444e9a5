//! The breaker against a small reference model, driven by random operation sequences.
//!
//! The model keeps every failure's time and derives the count from them, and moves to
//! half-open eagerly when time passes; the breaker keeps a clamped counter and moves lazily.
//! Both must agree on state, counts and every admission.

use std::time::Duration;

use appwire::breaker::{Breaker, BreakerSettings, BreakerState, Permit, Rejection, Verdict};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use tokio::time::Instant;

#[derive(Debug, Clone)]
enum Op {
    Advance(Duration),
    Acquire,
    Succeed(usize),
    Fail(usize),
    Release(usize),
}

/// What the model hands out for an admitted attempt.
#[derive(Debug, Clone, Copy)]
struct Token {
    generation: u64,
    probe: bool,
}

#[derive(Debug)]
struct Model {
    threshold: u32,
    window: Duration,
    base: Duration,
    cap: Duration,
    probes: u32,
    /// Every counted failure since the count was last cleared.
    failure_times: Vec<Instant>,
    open_until: Option<Instant>,
    half_open: bool,
    probes_taken: u32,
    openings: u32,
    /// Changes whenever the state does; tokens of older generations are ignored.
    generation: u64,
}

impl Model {
    fn new(s: &BreakerSettings) -> Self {
        Self {
            threshold: s.open_failures,
            window: s.failure_reset,
            base: s.open_time,
            cap: s.max_open_time.unwrap_or(s.open_time * 10).max(s.open_time),
            probes: s.half_open_probes.max(1),
            failure_times: Vec::new(),
            open_until: None,
            half_open: false,
            probes_taken: 0,
            openings: 0,
            generation: 0,
        }
    }

    fn advance_to(&mut self, now: Instant) {
        let expired = self.open_until.is_some_and(|until| now >= until);
        if expired && !self.half_open {
            self.half_open = true;
            self.probes_taken = 0;
            self.generation += 1;
        }
    }

    fn state(&self) -> BreakerState {
        match self.open_until {
            None => BreakerState::Closed,
            Some(_) if self.half_open => BreakerState::HalfOpen,
            Some(until) => BreakerState::Open { until },
        }
    }

    /// Failures in the current run: each within `window` of the next, the last within
    /// `window` of now; clamped at the threshold.
    fn failures(&self, now: Instant) -> u32 {
        let Some(&last) = self.failure_times.last() else {
            return 0;
        };
        if now.duration_since(last) >= self.window {
            return 0;
        }
        let mut run = 1;
        for pair in self.failure_times.windows(2).rev() {
            if pair[1].duration_since(pair[0]) >= self.window {
                break;
            }
            run += 1;
        }
        run.min(self.threshold)
    }

    fn acquire(&mut self) -> Result<Token, Option<Instant>> {
        let token = |probe| Token {
            generation: self.generation,
            probe,
        };
        match self.state() {
            BreakerState::Closed => Ok(token(false)),
            BreakerState::Open { until } => Err(Some(until)),
            BreakerState::HalfOpen if self.probes_taken < self.probes => {
                self.probes_taken += 1;
                Ok(token(true))
            }
            BreakerState::HalfOpen => Err(None),
        }
    }

    fn succeed(&mut self, token: Token) {
        if self.threshold == 0 || token.generation != self.generation {
            return;
        }
        self.failure_times.clear();
        if self.half_open {
            self.open_until = None;
            self.half_open = false;
            self.openings = 0;
            self.generation += 1;
        }
    }

    fn fail(&mut self, token: Token, now: Instant) {
        if self.threshold == 0 || token.generation != self.generation {
            return;
        }
        self.failure_times.push(now);
        if self.half_open || self.failures(now) >= self.threshold {
            self.openings += 1;
            let open_for = (self.base * self.openings).min(self.cap);
            self.open_until = Some(now + open_for);
            self.half_open = false;
            self.generation += 1;
        }
    }

    fn release(&mut self, token: Token) {
        if token.probe && token.generation == self.generation && self.half_open {
            self.probes_taken -= 1;
        }
    }
}

fn settings() -> impl Strategy<Value = BreakerSettings> {
    (
        0u32..=4,
        1u64..=200,
        1u64..=100,
        0u32..=3,
        proptest::option::of(0u32..=5),
    )
        .prop_map(|(open_failures, reset, open, probes, max_factor)| {
            let mut s = BreakerSettings::default();
            s.open_failures = open_failures;
            s.failure_reset = Duration::from_secs(reset);
            s.open_time = Duration::from_secs(open);
            s.half_open_probes = probes;
            s.max_open_time = max_factor.map(|f| s.open_time * f);
            s
        })
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        2 => (0u64..3_000).prop_map(|ms| Op::Advance(Duration::from_millis(ms))),
        1 => (0u64..400_000).prop_map(|ms| Op::Advance(Duration::from_millis(ms))),
        4 => Just(Op::Acquire),
        2 => any::<usize>().prop_map(Op::Succeed),
        3 => any::<usize>().prop_map(Op::Fail),
        1 => any::<usize>().prop_map(Op::Release),
    ];
    proptest::collection::vec(op, 1..300)
}

proptest! {
    // A fixed seed keeps runs reproducible; a failure prints its minimal sequence.
    #![proptest_config(ProptestConfig {
        cases: 512,
        rng_seed: RngSeed::Fixed(0x00a9_9e1e),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn breaker_matches_the_model(settings in settings(), ops in ops()) {
        let mut now = Instant::now();
        let mut breaker = Breaker::new("host", settings.clone());
        let mut model = Model::new(&settings);
        let mut outstanding: Vec<(Permit, Token)> = Vec::new();

        for op in ops {
            match op {
                Op::Advance(d) => {
                    now += d;
                    model.advance_to(now);
                }
                Op::Acquire => match (breaker.try_acquire(now), model.acquire()) {
                    (Ok(permit), Ok(token)) => {
                        prop_assert_eq!(permit.is_probe(), token.probe);
                        outstanding.push((permit, token));
                    }
                    (Err(Rejection { reopens_at }), Err(expected)) => {
                        prop_assert_eq!(reopens_at, expected);
                    }
                    (real, expected) => {
                        prop_assert!(false, "admission differs: {:?} vs {:?}", real, expected);
                    }
                },
                Op::Succeed(i) | Op::Fail(i) | Op::Release(i) if !outstanding.is_empty() => {
                    let (permit, token) = outstanding.swap_remove(i % outstanding.len());
                    match op {
                        Op::Succeed(_) => {
                            breaker.record(permit, Verdict::Success, now);
                            model.succeed(token);
                        }
                        Op::Fail(_) => {
                            breaker.record(permit, Verdict::Failure, now);
                            model.fail(token, now);
                        }
                        _ => {
                            breaker.release(permit, now);
                            model.release(token);
                        }
                    }
                }
                Op::Succeed(_) | Op::Fail(_) | Op::Release(_) => {}
            }
            prop_assert_eq!(breaker.state(now), model.state());
            prop_assert_eq!(breaker.failures(now), model.failures(now));
            prop_assert_eq!(breaker.openings(), model.openings);
            prop_assert_eq!(breaker.admits(now), model.state() == BreakerState::Closed
                || (model.state() == BreakerState::HalfOpen && model.probes_taken < model.probes));
        }
    }
}
