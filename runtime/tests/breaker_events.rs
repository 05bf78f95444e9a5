//! Breaker state changes are reported as tracing events naming the host.

mod common;

use std::time::Duration;

use appwire::Balance;
use appwire::breaker::{BreakerSettings, Verdict};
use appwire::pool::HostPool;
use common::Recorder;
use tracing::Level;

#[tokio::test(start_paused = true)]
async fn open_half_open_and_close_are_traced_with_the_host() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let mut settings = BreakerSettings::default();
    settings.open_failures = 2;
    let pool = HostPool::new(["http://a:8020"], &settings, Balance::RoundRobin).expect("a host");

    pool.select().expect("closed").report(Verdict::Failure);
    assert_eq!(recorder.take(), Vec::<String>::new());
    pool.select().expect("closed").report(Verdict::Failure);
    assert_eq!(
        recorder.take(),
        [format!(
            "{} http://a:8020 circuit breaker opened",
            Level::WARN
        )]
    );

    tokio::time::advance(Duration::from_secs(60)).await;
    let probe = pool.select().expect("half-open");
    assert_eq!(
        recorder.take(),
        [format!(
            "{} http://a:8020 circuit breaker half-open",
            Level::INFO
        )]
    );
    probe.report(Verdict::Success);
    assert_eq!(
        recorder.take(),
        [format!(
            "{} http://a:8020 circuit breaker closed",
            Level::INFO
        )]
    );
}
