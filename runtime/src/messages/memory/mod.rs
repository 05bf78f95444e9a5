//! An in-process broker with Redis Streams' semantics, for unit tests and examples.
//!
//! Groups, pending entries, delivery counts, reclaiming, dead letters, schedules and
//! deduplication behave as on Redis (the same conformance suite runs against both), and time
//! is tokio's: with a paused clock, visibility timeouts and schedules take no real time.
//!
//! Its wall clock ([`Broker::now`]), which entry ids and scheduled times are on, is the
//! system's when the broker was made, advanced by tokio's clock since: under a paused clock
//! it stands still with tokio's and leaves the system's behind, so a time to publish at is
//! best taken from it (`broker.now() + delay`), as `publish_after` does.

mod state;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;
use tokio::time::Instant;

use self::state::{NoGroup, State};
use super::BrokerError;
use super::broker::{
    Appended, BoxFuture, Broker, Consumer, DeadLetter, Entry, Fields, GroupStart, Outgoing, Reader,
};
use crate::Error;

/// An in-process broker. Clones share the same streams.
///
/// ```
/// # async fn demo() -> Result<(), appwire::Error> {
/// use std::sync::Arc;
/// use appwire::messages::memory::MemoryBroker;
///
/// let broker = MemoryBroker::new();
/// let shared: appwire::messages::SharedBroker = Arc::new(broker.clone());
/// # Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct MemoryBroker {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Woken on every append, for the readers waiting on one.
    appended: Notify,
}

impl std::fmt::Debug for MemoryBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryBroker").finish_non_exhaustive()
    }
}

impl MemoryBroker {
    /// An empty broker.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry of the stream `key`, oldest first, with its id and fields.
    pub fn entries(&self, key: &str) -> Vec<(String, Fields)> {
        self.state().entries(key)
    }

    /// The pending entries of `group` on `key`: id, consumer and delivery count.
    pub fn pending(&self, key: &str, group: &str) -> Vec<(String, String, u64)> {
        self.state().pending(key, group)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state is consistent after every call: a panic elsewhere leaves nothing half done.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state())
    }
}

fn no_group(operation: &'static str, key: &str, group: &str) -> Error {
    Error::Broker(BrokerError {
        backend: "memory",
        operation,
        key: Some(key.to_owned()),
        message: format!("NOGROUP no consumer group `{group}`"),
        retryable: true,
    })
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Broker for MemoryBroker {
    fn publish<'a>(&'a self, batch: &'a [Outgoing]) -> BoxFuture<'a, Result<Vec<Appended>, Error>> {
        let appended = self.with(|s| batch.iter().map(|m| s.append(m)).collect());
        self.shared.appended.notify_waiters();
        ready(Ok(appended))
    }

    fn now(&self) -> SystemTime {
        // Copied out of the lock: the clock never changes.
        let clock = self.with(|s| s.clock());
        clock.now()
    }

    fn schedule<'a>(
        &'a self,
        message: &'a Outgoing,
        due: SystemTime,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.with(|s| s.schedule(message, due));
        ready(Ok(()))
    }

    fn deliver_due<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        let (delivered, next) = self.with(|s| s.deliver_due(key));
        // Movers look often with nothing due: readers are woken only for an append.
        if delivered {
            self.shared.appended.notify_waiters();
        }
        ready(Ok(next))
    }

    fn streams<'a>(&'a self, pattern: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>> {
        ready(Ok(self.with(|s| s.streams(pattern))))
    }

    fn ensure_group<'a>(
        &'a self,
        key: &'a str,
        group: &'a str,
        start: GroupStart,
    ) -> BoxFuture<'a, Result<(), Error>> {
        self.with(|s| s.ensure_group(key, group, start));
        ready(Ok(()))
    }

    fn reader<'a>(
        &'a self,
        consumer: &'a Consumer,
    ) -> BoxFuture<'a, Result<Box<dyn Reader>, Error>> {
        let reader: Box<dyn Reader> = Box::new(MemoryReader {
            broker: self.clone(),
            consumer: consumer.clone(),
        });
        ready(Ok(reader))
    }

    fn reclaim<'a>(
        &'a self,
        key: &'a str,
        consumer: &'a Consumer,
        min_idle: Duration,
        count: usize,
    ) -> BoxFuture<'a, Result<Vec<Entry>, Error>> {
        let result = self
            .with(|s| s.reclaim(key, &consumer.group, &consumer.name, min_idle, count))
            .map_err(|NoGroup| no_group("reclaim", key, &consumer.group));
        ready(result)
    }

    fn ack<'a>(
        &'a self,
        key: &'a str,
        group: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<(), Error>> {
        let result = self
            .with(|s| s.ack(key, group, ids))
            .map_err(|NoGroup| no_group("ack", key, group));
        ready(result)
    }

    fn set_idle<'a>(
        &'a self,
        key: &'a str,
        consumer: &'a Consumer,
        id: &'a str,
        idle: Duration,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let result = self
            .with(|s| s.set_idle(key, &consumer.group, &consumer.name, id, idle))
            .map_err(|NoGroup| no_group("claim", key, &consumer.group));
        ready(result)
    }

    fn dead_letter<'a>(
        &'a self,
        entry: &'a Entry,
        group: &'a str,
        reason: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let result = self
            .with(|s| s.dead_letter(entry, group, reason))
            .map_err(|NoGroup| no_group("dead_letter", &entry.key, group));
        self.shared.appended.notify_waiters();
        ready(result)
    }
}

struct MemoryReader {
    broker: MemoryBroker,
    consumer: Consumer,
}

impl Reader for MemoryReader {
    fn read<'a>(
        &'a mut self,
        keys: &'a [String],
        count: usize,
        block: Duration,
    ) -> BoxFuture<'a, Result<Vec<Entry>, Error>> {
        Box::pin(async move {
            let deadline = Instant::now() + block;
            loop {
                // Registered before looking, so that an append in between is not missed.
                let appended = self.broker.shared.appended.notified();
                tokio::pin!(appended);
                appended.as_mut().enable();
                let Consumer { group, name } = &self.consumer;
                let entries = self
                    .broker
                    .with(|s| s.read_new(keys, group, name, count))
                    .map_err(|NoGroup| no_group("read", &keys.join(" "), group))?;
                if !entries.is_empty() {
                    return Ok(entries);
                }
                if tokio::time::timeout_at(deadline, appended).await.is_err() {
                    return Ok(Vec::new());
                }
            }
        })
    }
}
