//! The workload: `concurrency` callers, each making one call after the other until the run's
//! time is up, the latency of every call recorded. A warm-up at the same concurrency opens the
//! connections first; CPU time is read around the measured part only.

use std::error::Error;
use std::future::Future;
use std::io::Write;
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::usage;

/// The line a client prints on standard output when its measured run starts, so that the
/// bench can time the failover from it.
pub(crate) const READY: &str = "ready";

/// Why one call failed.
pub(crate) type CallError = Box<dyn Error + Send + Sync>;

/// A client under test: one call of the workload.
pub(crate) trait Caller: Send + Sync + 'static {
    /// Calls `get_item` once and decodes the item.
    fn call(&self) -> impl Future<Output = Result<(), CallError>> + Send;
}

/// How long and how hard a client is run.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// Callers making calls at the same time.
    pub(crate) concurrency: usize,
    /// Calls made before the measured run, not counted.
    pub(crate) warmup: Duration,
    /// The measured run.
    pub(crate) duration: Duration,
    /// Calls started in this part of the measured run (from its start) are also counted on
    /// their own: the second after a host is killed.
    pub(crate) window: Option<Range<Duration>>,
}

/// What a client measured, as it prints it (one JSON line) for the bench to read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Measured {
    /// Calls made, failed ones included.
    pub(crate) calls: u64,
    /// Calls that failed.
    pub(crate) failed: u64,
    /// Wall time of the measured run.
    pub(crate) seconds: f64,
    /// CPU time of the client process during the measured run.
    pub(crate) cpu_seconds: f64,
    /// Latency percentiles and maximum of all calls, in microseconds.
    pub(crate) p50_us: u64,
    pub(crate) p99_us: u64,
    pub(crate) max_us: u64,
    /// Peak resident memory of the client process (`VmHWM`), in KiB.
    pub(crate) peak_rss_kib: u64,
    /// The calls started within the plan's window.
    pub(crate) window: Option<WindowStats>,
    /// The first failure, for the record.
    pub(crate) first_error: Option<String>,
}

/// Calls started within a window of the run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WindowStats {
    pub(crate) calls: u64,
    pub(crate) failed: u64,
    pub(crate) p99_us: u64,
    pub(crate) max_us: u64,
}

impl Measured {
    pub(crate) fn calls_per_second(&self) -> f64 {
        self.calls as f64 / self.seconds
    }

    /// CPU time per call, in microseconds.
    pub(crate) fn cpu_us_per_call(&self) -> f64 {
        self.cpu_seconds * 1e6 / self.calls.max(1) as f64
    }
}

/// The figures of a client at one concurrency over several runs: the median of each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Figures {
    pub(crate) calls_per_second: f64,
    /// CPU time per call, in microseconds.
    pub(crate) cpu_us: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) max_ms: f64,
    pub(crate) peak_rss_mib: f64,
    /// Calls that failed, in all the runs.
    pub(crate) failed: u64,
}

impl Figures {
    pub(crate) fn median(runs: &[Measured]) -> Option<Self> {
        let median = |figure: fn(&Measured) -> f64| {
            let mut values: Vec<f64> = runs.iter().map(figure).collect();
            values.sort_by(f64::total_cmp);
            values.get(values.len() / 2).copied()
        };
        Some(Self {
            calls_per_second: median(Measured::calls_per_second)?,
            cpu_us: median(Measured::cpu_us_per_call)?,
            p50_ms: median(|m| m.p50_us as f64 / 1e3)?,
            p99_ms: median(|m| m.p99_us as f64 / 1e3)?,
            max_ms: median(|m| m.max_us as f64 / 1e3)?,
            peak_rss_mib: median(|m| m.peak_rss_kib as f64 / 1024.0)?,
            failed: runs.iter().map(|m| m.failed).sum(),
        })
    }
}

/// Runs `caller` as `plan` says, on the current tokio runtime.
pub(crate) async fn run<C: Caller>(caller: C, plan: &Plan) -> Result<Measured, Box<dyn Error>> {
    let caller = Arc::new(caller);
    drive(
        &caller,
        plan.concurrency,
        Instant::now() + plan.warmup,
        None,
    )
    .await?;

    if plan.window.is_some() {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{READY}")?;
        stdout.flush()?;
    }
    let cpu = usage::cpu_time();
    let start = Instant::now();
    let window = plan.window.as_ref().map(|w| start + w.start..start + w.end);
    let tally = drive(&caller, plan.concurrency, start + plan.duration, window).await?;
    let seconds = start.elapsed().as_secs_f64();
    let cpu_seconds = usage::cpu_time().saturating_sub(cpu).as_secs_f64();
    Ok(tally.measured(seconds, cpu_seconds, usage::peak_rss_kib()?))
}

/// `concurrency` callers calling until `end`.
async fn drive<C: Caller>(
    caller: &Arc<C>,
    concurrency: usize,
    end: Instant,
    window: Option<Range<Instant>>,
) -> Result<Tally, Box<dyn Error>> {
    let tally = Arc::new(Mutex::new(Tally::new(window)?));
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (caller, tally) = (Arc::clone(caller), Arc::clone(&tally));
        callers.spawn(async move {
            loop {
                let began = Instant::now();
                if began >= end {
                    break;
                }
                let result = caller.call().await;
                let latency = began.elapsed();
                tally
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(began, latency, result);
            }
        });
    }
    while let Some(done) = callers.join_next().await {
        done?;
    }
    let tally = Arc::into_inner(tally).ok_or("a caller outlived the run")?;
    Ok(tally.into_inner().unwrap_or_else(PoisonError::into_inner))
}

/// Latency histogram and failures of a run.
pub(crate) struct Tally {
    latency: Histogram<u64>,
    failed: u64,
    first_error: Option<String>,
    window: Option<(Range<Instant>, Histogram<u64>, u64)>,
}

impl Tally {
    pub(crate) fn new(window: Option<Range<Instant>>) -> Result<Self, Box<dyn Error>> {
        // 1 µs to 60 s, three significant digits.
        let histogram = || Histogram::new_with_bounds(1, 60_000_000, 3);
        Ok(Self {
            latency: histogram()?,
            failed: 0,
            first_error: None,
            window: match window {
                Some(span) => Some((span, histogram()?, 0)),
                None => None,
            },
        })
    }

    pub(crate) fn record(
        &mut self,
        began: Instant,
        latency: Duration,
        result: Result<(), CallError>,
    ) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros);
        let failed = result.is_err();
        if let Err(e) = result {
            self.failed += 1;
            self.first_error.get_or_insert_with(|| e.to_string());
        }
        if let Some((span, latency, window_failed)) = &mut self.window
            && span.contains(&began)
        {
            latency.saturating_record(micros);
            *window_failed += u64::from(failed);
        }
    }

    pub(crate) fn measured(self, seconds: f64, cpu_seconds: f64, peak_rss_kib: u64) -> Measured {
        Measured {
            calls: self.latency.len(),
            failed: self.failed,
            seconds,
            cpu_seconds,
            p50_us: self.latency.value_at_quantile(0.50),
            p99_us: self.latency.value_at_quantile(0.99),
            max_us: self.latency.max(),
            peak_rss_kib,
            window: self.window.map(|(_, latency, failed)| WindowStats {
                calls: latency.len(),
                failed,
                p99_us: latency.value_at_quantile(0.99),
                max_us: latency.max(),
            }),
            first_error: self.first_error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(calls: u64, cpu_seconds: f64, p99_us: u64) -> Measured {
        Measured {
            calls,
            failed: 1,
            seconds: 1.0,
            cpu_seconds,
            p50_us: p99_us / 2,
            p99_us,
            max_us: p99_us * 2,
            peak_rss_kib: 1024,
            window: None,
            first_error: None,
        }
    }

    #[test]
    fn figures_are_the_medians_of_the_runs() {
        let runs = [run(100, 0.1, 900), run(300, 0.6, 100), run(200, 0.3, 500)];
        let figures = Figures::median(&runs).expect("runs");
        assert_eq!(figures.calls_per_second, 200.0);
        assert_eq!(figures.cpu_us, 1_500.0);
        assert_eq!(figures.p99_ms, 0.5);
        assert_eq!(figures.peak_rss_mib, 1.0);
        assert_eq!(figures.failed, 3);
        assert!(Figures::median(&[]).is_none());
    }

    #[test]
    fn calls_in_the_window_are_counted_on_their_own() {
        let start = Instant::now();
        let mut tally = Tally::new(Some(
            start + Duration::from_secs(1)..start + Duration::from_secs(2),
        ))
        .expect("tally");
        let ms = Duration::from_millis;
        tally.record(start, ms(1), Ok(()));
        tally.record(start + ms(1_500), ms(40), Err("refused".into()));
        tally.record(start + ms(1_600), ms(2), Ok(()));
        let measured = tally.measured(2.0, 0.5, 1);
        assert_eq!((measured.calls, measured.failed), (3, 1));
        assert_eq!(measured.first_error.as_deref(), Some("refused"));
        let window = measured.window.expect("window");
        assert_eq!((window.calls, window.failed), (2, 1));
        assert_eq!(window.max_us / 1_000, 40);
    }
}
