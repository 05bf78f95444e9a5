//! Runtime for appwire clients: what generated code and users call.
//!
//! This part of the crate is the transport-independent resilience core:
//!
//! - [`breaker`]: a per-host circuit breaker with hopeit.engine's settings, plus bounded
//!   half-open probing and a growing open time;
//! - [`pool`]: the hosts of one connection, chosen round robin or least loaded, each attempt
//!   tracked and reported to its host's breaker;
//! - [`retry`]: how an attempt ended, whether to try again, and how long to wait;
//! - [`budget`]: a retry budget shared by all calls on a connection;
//! - [`signing`]: HMAC request signing and its verifier for the receiving side.
//!
//! Time in the state machines is [`tokio::time::Instant`], so tests drive it with a paused
//! clock. Only request signing reads the wall clock, because its timestamps cross machines.

pub mod breaker;
pub mod budget;
pub mod pool;
pub mod retry;
pub mod signing;

mod clock;

pub use breaker::{Breaker, BreakerSettings, BreakerState, Permit, Rejection, Verdict};
pub use budget::{BudgetSettings, RetryBudget};
pub use pool::{Attempt, Balance, EmptyHostList, HostPool, HostSnapshot, NoHostAvailable};
pub use retry::{
    Decision, GiveUp, Idempotency, Outcome, RetryPolicy, RetryState, parse_retry_after,
};
pub use signing::{
    InvalidSecret, InvalidServiceId, RequestParts, Secret, SignedHeaders, Signer, Verifier,
    VerifyError,
};

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
    }
}
