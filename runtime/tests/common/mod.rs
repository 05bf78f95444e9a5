//! The loopback servers of `appwire-test-support`, and connections to them.

#![allow(dead_code, unreachable_pub)]

use appwire::{Connection, Target};
use appwire_manifest::{AuthStrategy, ConnectionSettings};
pub use appwire_test_support::*;

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
