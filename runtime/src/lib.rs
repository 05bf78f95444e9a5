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
//! The root holds what a caller touches: [`Connection`] and its builder, [`Request`] and
//! [`CallContext`], [`RawResponse`] and [`Response`] to decode answers, [`Error`] for everything
//! else, and the settings a connection is configured with ([`ConnectionSettings`] and the
//! types in it, the manifest's own). The engine's parts are public in their modules, for those
//! who build on them:
//!
//! - [`auth`]: `UNSECURED`, `FORWARD_CONTEXT`, `CLIENT_APP_PUBLIC_KEY` (RS256 JWT) and a static
//!   bearer token;
//! - [`breaker`]: a per-host circuit breaker with hopeit.engine's settings, plus bounded
//!   half-open probing and a growing open time;
//! - [`pool`]: the hosts of one connection, chosen round robin or least loaded, each attempt
//!   tracked and reported to its host's breaker;
//! - [`retry`]: how an attempt ended, whether to try again, and how long to wait;
//! - [`budget`]: a retry budget shared by all calls on a connection;
//! - [`signing`]: HMAC request signing and its verifier for the receiving side (with the
//!   `tower` feature, also as a tower layer in `layer`);
//! - `messages` (with the `streams` feature): hopeit's Redis Streams message fields and payload codec.
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
/// The decoding of spec types: see `__private`.
#[doc(hidden)]
pub mod de;
#[cfg(feature = "tower")]
pub mod layer;
#[cfg(feature = "streams")]
pub mod messages;
pub mod pool;
pub mod retry;
pub mod signing;

mod call;
mod client;
mod clock;
mod config;
mod connection;
mod context;
mod error;
mod request;
mod response;
mod stale;
mod target;
mod typed;

pub use connection::{Connection, ConnectionBuilder, DEFAULT_MAX_BODY_SIZE};
pub use context::{CallContext, REQUEST_ID, REQUEST_TS};
pub use error::{ConfigError, Error, ErrorInfo, ErrorResponse, TransportKind};
pub use request::{Body, CallOptions, Method, QueryValue, Request};
pub use response::{RawResponse, Response};
pub use target::Target;
pub use typed::{Answer, Call, Client};

/// The status of a response.
pub use http::StatusCode;

// Settings: the manifest's own types, so that a connection is configured in one vocabulary and
// users depend on this crate alone.
pub use appwire_manifest::env::{Lookup, ProcessEnv};
pub use appwire_manifest::{
    AuthStrategy, Balance, ConnectionExtensions, ConnectionSettings, HmacSettings,
    RetryBudgetSettings, SecretString, SettingsError,
};
// A hopeit server config, where a plain deployment keeps the caller's key folder and passphrase.
pub use appwire_manifest::{AuthConfig, ServerConfig};

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
    pub use appwire_derive::{Declared, Deserialize};
    pub use appwire_manifest::env::ProcessEnv;
    pub use bytes::Bytes;
    pub use serde::Serialize;
    pub use serde::de::Deserialize;
    pub use {serde, serde_json};

    pub use crate::de;

    pub use crate::__client as client;
    pub use crate::config::Parts;
    pub use crate::typed::{Declared, IntoRequest};
    pub use crate::{Error, RawResponse};

    /// Publishers, subscribers and handler runners of a manifest's streams.
    #[cfg(feature = "streams")]
    pub use crate::messages::generated::{publisher, runner, subscriber};
    #[cfg(feature = "streams")]
    pub use crate::messages::{
        Delivery, Handler, HandlerError, Publisher, Runner, SharedBroker, Subscriber,
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ClientKey;
    use crate::budget::RetryBudget;
    use crate::pool::{Attempt, HostPool, NoHostAvailable};
    use crate::retry::RetryState;
    use crate::signing::{Signer, Verifier, VerifyError};

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
        send_sync::<Client>();
        fn send_static<T: Send + 'static>() {}
        send_static::<Call<String>>();
        send_static::<Answer<String>>();
        fn error<T: std::error::Error + Send + Sync + 'static>() {}
        error::<Error>();
        error::<ConfigError>();
    }

    /// One source of defaults: the manifest's settings carry hopeit's, and the engine's
    /// settings are derived from them.
    #[test]
    fn defaults_are_hopeits_and_the_engine_takes_them_from_the_settings() {
        use std::time::Duration;

        use crate::breaker::BreakerSettings;
        use crate::retry::RetryPolicy;

        let s = ConnectionSettings::new("http://h:1");
        // hopeit 0.30.1's `AppsClientSettings`.
        assert_eq!(s.circuit_breaker_open_failures, 10);
        assert_eq!(s.circuit_breaker_failure_reset_seconds, 120);
        assert_eq!(s.circuit_breaker_open_seconds, 60);
        assert_eq!(s.retries, 1);
        assert_eq!(s.retry_backoff_ms, 10);
        assert!(s.ssl);
        assert_eq!(s.max_connections, 100);
        assert_eq!(s.max_connections_per_host, 0);
        assert_eq!(s.dns_cache_ttl, 10);
        assert_eq!(s.auth_strategy, AuthStrategy::ClientAppPublicKey);
        assert!(s.routes_override.is_empty());
        // aiohttp's total timeout, under which hopeit's clients run.
        assert_eq!(s.appwire.deadline_ms, 300_000);

        let breaker = BreakerSettings::default();
        assert_eq!(breaker, BreakerSettings::from(&s));
        assert_eq!(breaker.open_failures, 10);
        assert_eq!(breaker.failure_reset, Duration::from_secs(120));
        assert_eq!(breaker.open_time, Duration::from_secs(60));
        let policy = RetryPolicy::default();
        assert_eq!(policy, RetryPolicy::from(&s));
        assert_eq!(policy.retries, 1);
        assert_eq!(policy.backoff_base, Duration::from_millis(10));
        assert_eq!(policy.deadline, Duration::from_secs(300));
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
