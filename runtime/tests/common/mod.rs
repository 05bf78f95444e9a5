//! The loopback servers of `appwire-test-support`, and connections to them.

#![allow(dead_code, unreachable_pub)]

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use appwire::{Connection, Target};
use appwire_manifest::{AuthStrategy, ConnectionSettings};
pub use appwire_test_support::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// hopeit's settings over `hosts`, unsecured, retry budget off, so that a test sees only what
/// it sets up.
pub fn settings(hosts: &[&Host]) -> ConnectionSettings {
    let urls: Vec<&str> = hosts.iter().map(|h| h.url.as_str()).collect();
    let mut s = ConnectionSettings::new(urls.join(","));
    s.auth_strategy = AuthStrategy::Unsecured;
    s.appwire.retry_budget.enabled = false;
    s
}

pub const CALLER: &str = "caller_app.1x0";

pub fn target() -> Target {
    Target::new("simple-example", "0.30")
}

pub fn connect(settings: ConnectionSettings) -> Connection {
    Connection::builder("target", target(), settings, CALLER)
        .build()
        .expect("connection")
}

/// Keeps `level host message` of every event, and its `settings` field when it has one.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<String>>>);

impl Recorder {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

#[derive(Default)]
struct Fields {
    host: String,
    message: String,
    settings: String,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "host" => self.host = format!("{value:?}"),
            "message" => self.message = format!("{value:?}"),
            "settings" => self.settings = format!(" {value:?}"),
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
        let line = format!(
            "{level} {} {}{}",
            fields.host, fields.message, fields.settings
        );
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}
