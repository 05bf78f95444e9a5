//! What the tests against real hopeit servers share.

#![allow(dead_code, unreachable_pub)] // Each test file uses its part.

use std::time::Duration;

use appwire::breaker::BreakerState;
use appwire::pool::HostSnapshot;
use appwire::{CallContext, CallOptions};
use appwire_hopeit_tests::clients::{Target, TargetSigned};
use appwire_hopeit_tests::{Fleet, Hopeit};
use tokio::time::Instant;

/// The target requires `X-Track-Session-Id` (its `engine.track_headers`); every call sends it.
pub const SESSION: &str = "session-42";

/// `instances` servers of the target app, or `None` when `APPWIRE_SKIP_HOPEIT=1`.
pub async fn fleet(instances: usize) -> Option<Fleet> {
    let hopeit = Hopeit::find().unwrap_or_else(|e| panic!("{e}"))?;
    let fleet = Fleet::start(&hopeit, instances).await;
    Some(fleet.unwrap_or_else(|e| panic!("{e}")))
}

/// The context of calls made by the caller's event `event`, in session [`SESSION`].
pub fn context(event: &str) -> CallContext {
    CallContext::new()
        .with_event_name(event)
        .with_track_id("track.session_id", SESSION)
}

/// Options of calls made by the caller's event `event`, in session [`SESSION`].
pub fn from_event(event: &str) -> CallOptions {
    CallOptions::new().context(context(event))
}

/// The `target` client with the manifest's settings, calling from the event `browse`.
pub fn target(fleet: &Fleet) -> Target {
    Target::builder(fleet.env())
        .and_then(|b| b.build())
        .map(Target::new)
        .expect("target client")
        .with_options(from_event("browse"))
}

/// The `target_signed` client with the manifest's settings, calling from the event `sign_in`.
pub fn target_signed(fleet: &Fleet) -> TargetSigned {
    TargetSigned::builder(fleet.env())
        .and_then(|b| b.build())
        .map(TargetSigned::new)
        .expect("target_signed client")
        .with_options(from_event("sign_in"))
}

/// The instance that answered an `inspect` call of `target`.
pub async fn instance(target: &Target) -> String {
    let answer = target
        .inspect("i-1", 1, None, SESSION)
        .await
        .expect("inspect");
    answer.value.instance
}

/// The connection a client calls through.
pub fn connection(client: &appwire::Client) -> &appwire::Connection {
    client.connection()
}

/// The state of the `index`th host of a connection.
pub fn host(connection: &appwire::Connection, index: usize) -> HostSnapshot {
    connection.snapshot().swap_remove(index)
}

/// Whether a host's breaker is open.
pub fn is_open(host: &HostSnapshot) -> bool {
    matches!(host.state, BreakerState::Open { .. })
}

/// Waits until the `index`th host's breaker lets a probe through: polled, at most `limit`.
pub async fn until_half_open(connection: &appwire::Connection, index: usize, limit: Duration) {
    let deadline = Instant::now() + limit;
    while host(connection, index).state != BreakerState::HalfOpen {
        assert!(
            Instant::now() < deadline,
            "host {index} is not half-open after {limit:?}: {:?}",
            host(connection, index)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An access token with the caller's claims, not signed by the caller's key.
pub fn forged_token() -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = b64.encode(r#"{"app":"appwire_caller.1x0","iat":1700000000,"exp":4102444800}"#);
    let signature = b64.encode([0_u8; 256]);
    format!("{header}.{claims}.{signature}")
}
