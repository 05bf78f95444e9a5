//! A call is traced as one `appwire.call` span with an `appwire.attempt` span per attempt, and
//! an event for each retry.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use appwire::Request;
use common::{Reply, connect, scripted, settings};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// A span or event: its name and fields.
#[derive(Debug, Clone, Default)]
struct Traced {
    name: String,
    parent: Option<u64>,
    fields: BTreeMap<String, String>,
}

impl Visit for Traced {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.fields.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
}

/// Keeps every span (by id) and event; the current span is tracked per thread of the runtime.
#[derive(Clone, Default)]
struct Recorder {
    next: Arc<AtomicU64>,
    spans: Arc<Mutex<BTreeMap<u64, Traced>>>,
    events: Arc<Mutex<Vec<Traced>>>,
    current: Arc<Mutex<Vec<u64>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::SeqCst) + 1;
        let mut span = Traced {
            name: attrs.metadata().name().to_owned(),
            parent: lock(&self.current).last().copied(),
            ..Traced::default()
        };
        attrs.record(&mut span);
        lock(&self.spans).insert(id, span);
        Id::from_u64(id)
    }
    fn record(&self, id: &Id, values: &Record<'_>) {
        if let Some(span) = lock(&self.spans).get_mut(&id.into_u64()) {
            values.record(span);
        }
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut traced = Traced {
            parent: lock(&self.current).last().copied(),
            ..Traced::default()
        };
        event.record(&mut traced);
        traced.name = traced.fields.get("message").cloned().unwrap_or_default();
        lock(&self.events).push(traced);
    }
    fn enter(&self, id: &Id) {
        lock(&self.current).push(id.into_u64());
    }
    fn exit(&self, _: &Id) {
        lock(&self.current).pop();
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_its_attempts_and_its_retries_are_traced() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    let host = scripted(|n, _| match n {
        0 => Reply::status(500),
        _ => Reply::ok(),
    })
    .await;
    connect(settings(&[&host]))
        .send(Request::get("list_items"))
        .await
        .expect("second attempt");

    let spans = lock(&recorder.spans).clone();
    let calls: Vec<(&u64, &Traced)> = spans
        .iter()
        .filter(|(_, s)| s.name == "appwire.call")
        .collect();
    assert_eq!(calls.len(), 1, "{spans:?}");
    let (call_id, call) = calls[0];
    assert_eq!(
        call.fields.get("connection").map(String::as_str),
        Some("target")
    );
    assert_eq!(
        call.fields.get("event").map(String::as_str),
        Some("list_items")
    );
    assert_eq!(call.fields.get("method").map(String::as_str), Some("GET"));

    let attempts: Vec<&Traced> = spans
        .values()
        .filter(|s| s.name == "appwire.attempt")
        .collect();
    assert_eq!(attempts.len(), 2, "{spans:?}");
    for (n, (attempt, status)) in attempts.iter().zip(["500", "200"]).enumerate() {
        assert_eq!(
            attempt.parent,
            Some(*call_id),
            "attempt spans are inside the call span"
        );
        assert_eq!(attempt.fields.get("host"), Some(&host.url));
        assert_eq!(attempt.fields.get("attempt"), Some(&(n + 1).to_string()));
        assert_eq!(
            attempt.fields.get("status").map(String::as_str),
            Some(status)
        );
        assert!(attempt.fields.contains_key("elapsed_ms"), "{attempt:?}");
    }

    let events = lock(&recorder.events).clone();
    let retries: Vec<&Traced> = events.iter().filter(|e| e.name == "retrying").collect();
    assert_eq!(retries.len(), 1, "{events:?}");
    assert_eq!(
        retries[0].fields.get("attempt").map(String::as_str),
        Some("1")
    );
    assert!(
        retries[0]
            .fields
            .get("cause")
            .is_some_and(|c| c.contains("500")),
        "{:?}",
        retries[0]
    );
}
