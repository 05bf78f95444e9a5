//! The broker trait: what a backend does for publishers and subscribers.
//!
//! The trait speaks of streams (keys), consumer groups and entries, the model that Redis
//! Streams has and that other brokers can take on: an AMQP backend maps a key to a queue, a
//! group to its binding, an entry id to a delivery tag, redelivery to a requeue. Publishers
//! and subscribers hold an `Arc<dyn Broker>`; generated code never names a backend.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::Error;
pub use appwire_manifest::GroupStart;

/// A boxed, sendable future: what the object-safe [`Broker`] methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A broker shared by the publishers and subscribers of a process.
pub type SharedBroker = Arc<dyn Broker>;

/// A field of a message to append, by name: most names are hopeit's own, and borrowed.
pub type Field = (Cow<'static, str>, Vec<u8>);

/// One message to append to a stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    /// The stream key (`name` or `name.<queue>`).
    pub key: String,
    /// The entry's fields, in order.
    pub fields: Vec<Field>,
    /// `MAXLEN ~ n` on append; 0 leaves the stream unbounded.
    pub max_len: u64,
    /// A publisher-given id: a message with the same id appended to the same key within the
    /// window is not appended again, and the first one's entry id is returned.
    pub dedup: Option<Dedup>,
}

/// A publisher-given id and how long it deduplicates for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    /// The id.
    pub id: String,
    /// How long a second message with the id is dropped.
    pub window: Duration,
}

/// What appending a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The entry's id, e.g. `1733079704971-0`.
    pub id: String,
    /// The message was a duplicate within its dedup window: nothing was appended, and `id` is
    /// that of the first one.
    pub duplicate: bool,
}

/// A stream entry's fields, names and values as stored, in order.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// One entry read from a stream by a consumer group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The stream key it was read from.
    pub key: String,
    /// The entry id.
    pub id: String,
    /// Its fields, in order, as stored.
    pub fields: Fields,
    /// How many times the group delivered it, this delivery included.
    pub deliveries: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    /// The consumer group.
    pub group: String,
    /// The consumer's name in it.
    pub name: String,
}

/// A broker backend.
///
/// Every method is one round trip (or one atomic script) and may be called concurrently;
/// only [`Reader::read`] blocks, on a connection of its own. An error is
/// [`Error::Broker`]; a caller retries with backoff when it is retryable.
pub trait Broker: Send + Sync + 'static {
    /// Appends `batch` in order and returns what each append did, in the same order.
    fn publish<'a>(&'a self, batch: &'a [Outgoing]) -> BoxFuture<'a, Result<Vec<Appended>, Error>>;

    /// The wall-clock time that schedules are due by ([`Broker::schedule`]): the system's
    /// clock, unless the broker keeps time of its own. The memory broker keeps tokio's, so
    /// that under a paused clock its schedules wait for virtual time, not real time.
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// Keeps `message` to be appended at `due`, a time on the broker's clock
    /// ([`Broker::now`]). The schedule lives in the broker: it survives the process that made
    /// it, and [`Broker::deliver_due`] appends it when due.
    fn schedule<'a>(
        &'a self,
        message: &'a Outgoing,
        due: SystemTime,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Appends the scheduled messages of `key` that are due, atomically each, and tells how
    /// long until the next one is (`None`: none is left).
    fn deliver_due<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Duration>, Error>>;

    /// The stream keys that exist now and match the glob `pattern` (see [`super::glob`]).
    fn streams<'a>(&'a self, pattern: &'a str) -> BoxFuture<'a, Result<Vec<String>, Error>>;

    /// Creates the consumer group on `key` (and the stream, when missing); an existing group
    /// is left as it is.
    fn ensure_group<'a>(
        &'a self,
        key: &'a str,
        group: &'a str,
        start: GroupStart,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// A reader for `consumer`, on a connection of its own since its reads block.
    fn reader<'a>(
        &'a self,
        consumer: &'a Consumer,
    ) -> BoxFuture<'a, Result<Box<dyn Reader>, Error>>;

    /// Takes over, for `consumer`, up to `count` entries of `key` that the group delivered at
    /// least `min_idle` ago and nobody acknowledged, counting one more delivery for each.
    fn reclaim<'a>(
        &'a self,
        key: &'a str,
        consumer: &'a Consumer,
        min_idle: Duration,
        count: usize,
    ) -> BoxFuture<'a, Result<Vec<Entry>, Error>>;

    /// Acknowledges entries of `key`: the group is done with them.
    fn ack<'a>(
        &'a self,
        key: &'a str,
        group: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Sets how long ago the entry counts as delivered to `consumer`, without counting a
    /// delivery: `idle` zero keeps it from being reclaimed for another `min_idle` (work in
    /// progress); `idle` at the reclaim threshold makes it reclaimable at once.
    fn set_idle<'a>(
        &'a self,
        key: &'a str,
        consumer: &'a Consumer,
        id: &'a str,
        idle: Duration,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Moves the entry to the dead-letter stream [`super::dead_letter_key`]`(key)`, with its
    /// fields and `reason`, and acknowledges it, atomically.
    fn dead_letter<'a>(
        &'a self,
        entry: &'a Entry,
        group: &'a str,
        reason: &'a DeadLetter,
    ) -> BoxFuture<'a, Result<(), Error>>;
}

/// Why an entry was dead-lettered: the fields added to its copy in the dead-letter stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// `dlq.reason`: `decode`, `max_deliveries` or a handler's own reason.
    pub reason: String,
    /// `dlq.error`: what went wrong, for people.
    pub error: String,
}

impl DeadLetter {
    /// The fields a dead-lettered entry carries after its own: `dlq.reason`, `dlq.error`,
    /// `dlq.stream`, `dlq.id`, `dlq.group`, `dlq.deliveries`.
    pub fn fields(&self, entry: &Entry, group: &str) -> Fields {
        let mut fields = entry.fields.clone();
        for (name, value) in [
            ("dlq.reason", self.reason.as_str()),
            ("dlq.error", self.error.as_str()),
            ("dlq.stream", entry.key.as_str()),
            ("dlq.id", entry.id.as_str()),
            ("dlq.group", group),
        ] {
            fields.push((name.as_bytes().to_vec(), value.as_bytes().to_vec()));
        }
        fields.push((
            b"dlq.deliveries".to_vec(),
            entry.deliveries.to_string().into_bytes(),
        ));
        fields
    }
}

/// A consumer's blocking reads.
pub trait Reader: Send {
    /// New entries for the consumer from `keys`, in key order (the first key is the highest
    /// priority), at most `count` per key, waiting at most `block` for the first one.
    fn read<'a>(
        &'a mut self,
        keys: &'a [String],
        count: usize,
        block: Duration,
    ) -> BoxFuture<'a, Result<Vec<Entry>, Error>>;
}
