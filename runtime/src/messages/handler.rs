//! Handlers of STREAM events, and the runner that feeds them: consume, handle, publish the
//! result to the event's `write_stream`, then acknowledge, in hopeit's order.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Delivery, Publisher, Subscriber};

/// Why a handler did not handle a message, and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerError {
    /// Deliver it again, after this delay (a backoff by delivery count when `None`).
    Retry {
        /// Why, for the logs.
        reason: String,
        /// When to deliver it again.
        after: Option<Duration>,
    },
    /// Never deliver it again: it goes to the dead-letter stream with this reason.
    Reject(String),
}

impl HandlerError {
    /// Retry it later, with the runner's backoff.
    pub fn retry(reason: impl std::fmt::Display) -> Self {
        Self::Retry {
            reason: reason.to_string(),
            after: None,
        }
    }

    /// Retry it after `delay`.
    pub fn retry_after(reason: impl std::fmt::Display, delay: Duration) -> Self {
        Self::Retry {
            reason: reason.to_string(),
            after: Some(delay),
        }
    }

    /// Give up on it: dead-lettered with `reason`.
    pub fn reject(reason: impl std::fmt::Display) -> Self {
        Self::Reject(reason.to_string())
    }
}

/// The handler of a STREAM event: takes a message's payload, gives the event's result.
///
/// `Ok(Some(result))` is published to the event's `write_stream` (when it has one) before
/// the message is acknowledged; `Ok(None)` acknowledges it without publishing.
pub trait Handler<T>: Send + Sync + 'static {
    /// The event's result, published to its `write_stream`.
    type Output: Serialize + Send + Sync + 'static;

    /// Handles one message.
    fn handle(
        &self,
        delivery: &Delivery<T>,
    ) -> impl Future<Output = Result<Option<Self::Output>, HandlerError>> + Send;
}

/// Runs a handler over a subscriber's deliveries: each is handled under a timeout, its result
/// published, and then it is acknowledged. A handler that fails, runs out of time or panics
/// has the message delivered again with backoff, until the delivery cap sends it to the
/// dead-letter stream; a rejected message goes there at once.
pub struct Runner<T, H: Handler<T>> {
    subscriber: Subscriber<T>,
    handler: Arc<H>,
    publisher: Option<Publisher<H::Output>>,
    timeout: Duration,
    throttle: Duration,
}

impl<T, H: Handler<T>> std::fmt::Debug for Runner<T, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("timeout", &self.timeout)
            .field("throttle", &self.throttle)
            .finish_non_exhaustive()
    }
}

impl<T, H> Runner<T, H>
where
    T: DeserializeOwned + Send + Sync + 'static,
    H: Handler<T>,
{
    /// A runner of `handler` over `subscriber`'s deliveries, with hopeit's default timeout of
    /// 60 s and no throttle.
    pub fn new(subscriber: Subscriber<T>, handler: H) -> Self {
        Self {
            subscriber,
            handler: Arc::new(handler),
            publisher: None,
            timeout: Duration::from_secs(60),
            throttle: Duration::ZERO,
        }
    }

    /// Publishes each result with `publisher` (the event's `write_stream`).
    #[must_use]
    pub fn publish_to(mut self, publisher: Publisher<H::Output>) -> Self {
        self.publisher = Some(publisher);
        self
    }

    /// The longest one message may be handled (hopeit's `stream.timeout`).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The shortest time one message takes, handler and settling included (hopeit's
    /// `throttle_ms`).
    #[must_use]
    pub fn throttle(mut self, throttle: Duration) -> Self {
        self.throttle = throttle;
        self
    }

    /// Runs until the subscriber ends; each message is handled on a task of its own, as many
    /// at once as the subscriber's concurrency allows.
    pub async fn run(mut self) {
        let mut tasks = tokio::task::JoinSet::new();
        while let Some(delivery) = self.subscriber.next().await {
            let handler = self.handler.clone();
            let publisher = self.publisher.clone();
            let (timeout, throttle) = (self.timeout, self.throttle);
            tasks.spawn(handle(handler, publisher, delivery, timeout, throttle));
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// `future`'s output, or the panic that ended it: a handler's panic is caught where it
/// runs, without a task of its own for every message.
async fn catch_unwind<F: Future>(future: F) -> Result<F::Output, Box<dyn Any + Send>> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

/// The backoff of a message delivered `deliveries` times: 100 ms, doubled per delivery, at
/// most 30 s.
fn backoff(deliveries: u64) -> Duration {
    let exponent = deliveries.saturating_sub(1).min(16) as u32;
    (Duration::from_millis(100) * 2u32.pow(exponent)).min(Duration::from_secs(30))
}

async fn handle<T, H>(
    handler: Arc<H>,
    publisher: Option<Publisher<H::Output>>,
    delivery: Delivery<T>,
    timeout: Duration,
    throttle: Duration,
) where
    T: Send + Sync + 'static,
    H: Handler<T>,
{
    let started = tokio::time::Instant::now();
    let outcome = catch_unwind(tokio::time::timeout(timeout, handler.handle(&delivery))).await;
    let Ok(result) = outcome else {
        // Dropped unsettled, the delivery is released for redelivery.
        drop(delivery);
        tracing::warn!("stream handler panicked; the message will be delivered again");
        return;
    };
    let deliveries = delivery.deliveries();
    let settled = match result {
        Ok(Ok(output)) => {
            let published = match (&publisher, &output) {
                (Some(publisher), Some(output)) => {
                    let context = delivery.context();
                    publisher
                        .publish(output)
                        .upstream(delivery.queue())
                        .context(&context)
                        .auth_info(delivery.auth_info())
                        .await
                        .map(drop)
                }
                _ => Ok(()),
            };
            // A timer set for a time already passed still wakes the runtime's driver.
            if !throttle.is_zero() {
                tokio::time::sleep_until(started + throttle).await;
            }
            match published {
                Ok(()) => delivery.ack().await,
                Err(error) => {
                    tracing::warn!(%error, "cannot publish a stream handler's result");
                    delivery.nak(backoff(deliveries)).await
                }
            }
        }
        Ok(Err(HandlerError::Retry { reason, after })) => {
            tracing::warn!(%reason, deliveries, "stream handler failed");
            delivery
                .nak(after.unwrap_or_else(|| backoff(deliveries)))
                .await
        }
        Ok(Err(HandlerError::Reject(reason))) => delivery.term(&reason).await,
        Err(_) => {
            tracing::warn!(?timeout, deliveries, "stream handler timed out");
            delivery.nak(backoff(deliveries)).await
        }
    };
    if let Err(error) = settled {
        tracing::warn!(%error, "cannot settle a message; it will be delivered again");
    }
}
