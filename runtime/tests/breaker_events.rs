//! Breaker state changes are reported as tracing events naming the host.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use appwire::Balance;
use appwire::breaker::{BreakerSettings, Verdict};
use appwire::pool::HostPool;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Keeps `level host message` of every event.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Default)]
struct Fields {
    host: String,
    message: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "host" => self.host = format!("{value:?}"),
            "message" => self.message = format!("{value:?}"),
            _ => {}
        }
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let level = *event.metadata().level();
        let line = format!("{level} {} {}", fields.host, fields.message);
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

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
