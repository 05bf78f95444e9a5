//! Runtime for appwire clients: resilient, hopeit.engine-compatible calls between apps.
//!
//! A [`Connection`] calls the events of one target app over HTTP, exactly as hopeit's
//! apps-client does on the wire (routes, headers, track ids, payload encoding, auth), and
//! more resiliently: a circuit breaker per host with bounded half-open probing, retries only
//! where they are safe, exponential backoff with jitter, `Retry-After`, a retry budget, and
//! per-attempt and total timeouts.
//!
//! ```no_run
//! use appwire::{AuthStrategy, Body, CallContext, Connection, ConnectionSettings, Request, Target};
//!
//! # async fn run() -> Result<(), appwire::Error> {
//! let mut settings = ConnectionSettings::new("http://h1:8020,http://h2:8020");
//! settings.auth_strategy = AuthStrategy::Unsecured;
//! let conn = Connection::builder(
//!     "simple_example_conn",
//!     Target::new("simple-example", "0.30"),
//!     settings,
//!     "client_example.0x30",
//! )
//! .build()?;
//!
//! let context = CallContext::new().with_event_name("count_and_save");
//! let count: u32 = conn
//!     .send(Request::get("count_somethings").query("status", "new").context(context))
//!     .await?
//!     .value("count_somethings")?;
//! let saved = conn
//!     .send(Request::post("save_something").body(Body::value(&count)?))
//!     .await?;
//! # let _ = saved; Ok(()) }
//! ```
//!
//! The parts:
//!
//! - [`Connection`] and [`Request`]: the HTTP layer; [`RawResponse`] and [`Response`] to
//!   decode answers; [`Error`] for everything else;
//! - [`auth`]: `UNSECURED`, `FORWARD_CONTEXT`, `CLIENT_APP_PUBLIC_KEY` (RS256 JWT) and a static
//!   bearer token;
//! - [`breaker`]: a per-host circuit breaker with hopeit.engine's settings, plus bounded
//!   half-open probing and a growing open time;
//! - [`pool`]: the hosts of one connection, chosen round robin or least loaded, each attempt
//!   tracked and reported to its host's breaker;
//! - [`retry`]: how an attempt ended, whether to try again, and how long to wait;
//! - [`budget`]: a retry budget shared by all calls on a connection;
//! - [`signing`]: HMAC request signing and its verifier for the receiving side (with the
//!   `tower` feature, also as a tower layer in `layer`).
//!
//! Time in the state machines is [`tokio::time::Instant`] and backoff sleeps on tokio's
//! timer, so tests drive them with a paused clock. Only request signing and access tokens read
//! the wall clock, because their timestamps cross machines.
//!
//! TLS is rustls with the ring provider. When the process has no default rustls provider, the
//! first connection built installs ring's; install another one before to use it instead.

pub mod auth;
pub mod breaker;
pub mod budget;
pub mod pool;
pub mod retry;
pub mod signing;

mod call;
mod clock;
mod connection;
mod context;
mod error;
#[cfg(feature = "tower")]
pub mod layer;
mod request;
mod response;

pub use auth::{AuthError, ClientKey, KeyError};
pub use breaker::{Breaker, BreakerSettings, BreakerState, Permit, Rejection, Verdict};
pub use budget::{BudgetSettings, RetryBudget};
pub use connection::{Connection, ConnectionBuilder, DEFAULT_MAX_BODY_SIZE, Target};
pub use context::{CallContext, REQUEST_ID, REQUEST_TS};
pub use error::{ConfigError, Error, ErrorInfo, ErrorResponse, TransportKind};
pub use pool::{Attempt, Balance, EmptyHostList, HostPool, HostSnapshot, NoHostAvailable};
pub use request::{Body, CallOptions, Method, QueryValue, Request};
pub use response::{RawResponse, Response};
pub use retry::{
    Decision, GiveUp, Idempotency, Outcome, RetryPolicy, RetryState, parse_retry_after,
};
pub use signing::{
    InvalidSecret, InvalidServiceId, RequestParts, Secret, SignedHeaders, Signer, Verifier,
    VerifyError,
};

/// The manifest types a connection is configured with, so that users depend on this crate
/// alone.
pub use appwire_manifest::env::{Lookup, ProcessEnv};
pub use appwire_manifest::{AuthStrategy, ConnectionSettings, SecretString};

/// Fills an empty module with the typed clients of a manifest, at compile time; see the
/// `appwire-macros` crate for its options.
#[cfg(feature = "macros")]
pub use appwire_macros::clients;
/// Expands to the typed clients of a manifest, in place, at compile time.
#[cfg(feature = "macros")]
pub use appwire_macros::generate;

/// Includes the clients a build script generated with `appwire_codegen::Builder` (by default
/// into `$OUT_DIR/appwire_clients.rs`); give the file name if the builder was told another.
#[macro_export]
macro_rules! include_clients {
    () => {
        ::core::include!(::core::concat!(
            ::core::env!("OUT_DIR"),
            "/appwire_clients.rs"
        ));
    };
    ($file:literal) => {
        ::core::include!(::core::concat!(::core::env!("OUT_DIR"), "/", $file));
    };
}

/// What generated clients use; no stability promise.
#[doc(hidden)]
pub mod __private {
    pub use appwire_manifest::env::ProcessEnv;
    pub use bytes::Bytes;
    pub use serde;
    pub use serde_json;

    pub use crate::connection::Parts;

    /// A call under construction.
    pub type Call = crate::Request;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shared per connection and moved between tasks, so these must stay thread-safe.
    #[test]
    fn shared_types_are_send_and_sync() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<HostPool>();
        send_sync::<Attempt<'static>>();
        send_sync::<RetryBudget>();
        send_sync::<RetryState<'static>>();
        send_sync::<Signer>();
        send_sync::<Verifier>();
        send_sync::<NoHostAvailable>();
        send_sync::<VerifyError>();
        send_sync::<Connection>();
        send_sync::<Request>();
        send_sync::<RawResponse>();
        send_sync::<ClientKey>();
        fn error<T: std::error::Error + Send + Sync + 'static>() {}
        error::<Error>();
        error::<ConfigError>();
    }

    /// A call's future runs on any executor thread.
    #[test]
    fn a_call_is_send() {
        fn send<T: Send>(_: &T) {}
        let conn: Option<Connection> = None;
        if let Some(conn) = conn {
            send(&conn.send(Request::get("e")));
        }
    }
}
