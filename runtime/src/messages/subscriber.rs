//! Typed subscribing: a consumer group's deliveries as a `Stream` of [`Delivery`]s.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::acks::Acks;
use super::broker::{Consumer, DeadLetter, Entry, GroupStart, Reader, SharedBroker};
use super::delivery::{Delivery, Settler};
use super::schedule::Mover;
use super::{CodecError, DEFAULT_MAX_DECODED_SIZE, Envelope, glob, keys};
use crate::Error;

/// The `dlq.reason` of a message that cannot be decoded.
pub const REASON_DECODE: &str = "decode";
/// The `dlq.reason` of a message delivered [`SubscriberOptions::max_deliveries`] times.
pub const REASON_MAX_DELIVERIES: &str = "max_deliveries";

/// What a subscriber reads: streams by key, or every stream whose name matches a glob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Streams {
    /// These keys, the first the highest priority (hopeit's queues: `name.high`, `name`).
    Keys(Vec<String>),
    /// Every stream whose name matches the glob ([`super::glob`]), those created later too.
    Pattern(String),
}

/// How a [`Subscriber`] consumes.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriberOptions {
    /// The streams read.
    pub streams: Streams,
    /// The consumer group.
    pub group: String,
    /// This consumer's name in the group: the same across restarts (the host's name, by
    /// default), so that a restarted worker is the consumer it was. Give each instance on one
    /// host its own.
    pub consumer: String,
    /// The `type`s accepted; a message of another type is dead-lettered as `decode`. Empty
    /// accepts any.
    pub type_names: Vec<String>,
    /// Where a group created by this subscriber starts.
    pub group_start: GroupStart,
    /// Entries read per stream and round trip (hopeit's `batch_size`); 0 counts as 1.
    pub batch_size: usize,
    /// Deliveries handed out and not yet settled, at most.
    pub concurrency: usize,
    /// The longest one read waits for a message (hopeit's `read_stream_timeout`), at least
    /// 1 ms: also how long a shutdown may wait for a read under way. A nak or a dropped
    /// delivery falling due meanwhile is redelivered on time, not after the read.
    pub block: Duration,
    /// A delivery unsettled this long after it was handed out is redelivered, to this or
    /// another live consumer of the group.
    pub visibility_timeout: Duration,
    /// Deliveries of one message, at most: one delivered this often without being settled is
    /// dead-lettered with reason [`REASON_MAX_DELIVERIES`].
    pub max_deliveries: u64,
    /// How often a pattern subscription looks for new streams.
    pub discovery_interval: Duration,
    /// The largest decoded payload accepted; a larger one is dead-lettered as `decode`.
    pub max_payload_size: usize,
}

impl SubscriberOptions {
    /// Options for `group` on `streams`, with defaults: this host's consumer name, groups
    /// created at the beginning of their stream, batches of 100, 100 deliveries in flight,
    /// reads of 1 s, a visibility timeout of 60 s, 5 deliveries at most.
    pub fn new(streams: Streams, group: impl Into<String>) -> Self {
        Self {
            streams,
            group: group.into(),
            consumer: default_consumer(),
            type_names: Vec::new(),
            group_start: GroupStart::Beginning,
            batch_size: 100,
            concurrency: 100,
            block: Duration::from_secs(1),
            visibility_timeout: Duration::from_secs(60),
            max_deliveries: 5,
            discovery_interval: Duration::from_secs(1),
            max_payload_size: DEFAULT_MAX_DECODED_SIZE,
        }
    }
}

/// This host's name, the default consumer name.
fn default_consumer() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "appwire".to_owned())
}

/// A consumer of a group: a `Stream` (and [`next`](Self::next)) of [`Delivery`]s.
///
/// It reads all its keys in one blocking read, highest priority first, and hands out at most
/// `concurrency` deliveries at a time. Entries left unsettled past the visibility timeout, by
/// this consumer or a dead one, are reclaimed and delivered again; past `max_deliveries` they
/// go to the dead-letter stream. A message that does not decode as `T` is dead-lettered with
/// reason `decode` and the subscriber goes on. A failing broker is retried with backoff,
/// reconnecting and creating the groups again.
pub struct Subscriber<T> {
    deliveries: mpsc::Receiver<Delivery<T>>,
    stop: watch::Sender<bool>,
    worker: Option<JoinHandle<()>>,
    permits: Arc<Semaphore>,
    concurrency: u32,
}

impl<T> std::fmt::Debug for Subscriber<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber").finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned + Send + 'static> Subscriber<T> {
    /// Starts consuming on `broker`; the groups are created as it starts.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime: its reads run on a task of their own.
    pub fn start(broker: SharedBroker, options: SubscriberOptions) -> Self {
        let concurrency = options.concurrency.clamp(1, Semaphore::MAX_PERMITS) as u32;
        let permits = Arc::new(Semaphore::new(concurrency as usize));
        let (tx, rx) = mpsc::channel(concurrency as usize);
        let (stop, stopped) = watch::channel(false);
        let (redeliver_at, wakes) = mpsc::unbounded_channel();
        let settler = Arc::new(Settler {
            broker: broker.clone(),
            consumer: Consumer {
                group: options.group.clone(),
                name: options.consumer.clone(),
            },
            acks: Acks::new(broker.clone(), options.group.clone()),
            visibility_timeout: options.visibility_timeout,
            redeliver_at,
        });
        let worker = Worker {
            broker,
            options,
            settler,
            permits: permits.clone(),
            out: tx,
            stopped,
            wakes,
            due: BinaryHeap::new(),
            keys: Vec::new(),
            movers: HashMap::new(),
            _payload: PhantomData,
        };
        Self {
            deliveries: rx,
            stop,
            worker: Some(tokio::spawn(worker.run())),
            permits,
            concurrency,
        }
    }
}

impl<T> Subscriber<T> {
    /// The next delivery; `None` once shut down.
    pub async fn next(&mut self) -> Option<Delivery<T>> {
        self.deliveries.recv().await
    }

    /// Stops reading, releases what was read but not handed out (due for redelivery at once),
    /// and waits until every delivery handed out is settled or dropped.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(worker) = self.worker.take() {
            let _ = worker.await;
        }
        // The worker is gone: what is left in the channel was never handed out.
        self.deliveries.close();
        while let Some(delivery) = self.deliveries.recv().await {
            drop(delivery);
        }
        let _ = self.permits.acquire_many(self.concurrency).await;
    }
}

impl<T> Drop for Subscriber<T> {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

impl<T> futures_core::Stream for Subscriber<T> {
    type Item = Delivery<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.deliveries.poll_recv(cx)
    }
}

/// The longest wait after the broker failed.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The shortest blocking read: one that would block for less waits this long.
const MIN_BLOCK: Duration = Duration::from_millis(1);

struct Worker<T> {
    broker: SharedBroker,
    options: SubscriberOptions,
    settler: Arc<Settler>,
    permits: Arc<Semaphore>,
    out: mpsc::Sender<Delivery<T>>,
    stopped: watch::Receiver<bool>,
    /// When naked or released entries are due: the next reclaim is no later.
    wakes: mpsc::UnboundedReceiver<Instant>,
    /// The due times received from `wakes` that no reclaim has looked for yet, earliest
    /// first: each one gets its reclaim, none is folded into a later one.
    due: BinaryHeap<Reverse<Instant>>,
    /// The keys read, in priority order, each with its group created.
    keys: Vec<String>,
    movers: HashMap<String, Mover>,
    _payload: PhantomData<fn() -> T>,
}

/// Why the worker stops.
struct Stop;

/// Ready when a redelivery is due (`due`, `None`: never) and a delivery slot is free to hand
/// it out in.
async fn redelivery(due: Option<Instant>, permits: &Semaphore) {
    match due {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
    drop(permits.acquire().await);
}

impl<T: DeserializeOwned + Send + 'static> Worker<T> {
    async fn run(mut self) {
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.consume().await {
                Ok(Stop) => return,
                Err(error) => {
                    tracing::warn!(
                        group = %self.options.group,
                        %error,
                        "subscriber failed; retrying in {backoff:?}"
                    );
                    if self.pause(backoff).await.is_err() {
                        return;
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Waits `duration`, or less if the subscriber stops (then `Err`).
    async fn pause(&mut self, duration: Duration) -> Result<(), Stop> {
        tokio::select! {
            () = tokio::time::sleep(duration) => Ok(()),
            _ = self.stopped.wait_for(|stop| *stop) => Err(Stop),
        }
    }

    fn stopping(&self) -> bool {
        *self.stopped.borrow() || self.out.is_closed()
    }

    /// Consumes until stopped (`Ok`) or until the broker fails (`Err`, to start again).
    async fn consume(&mut self) -> Result<Stop, Error> {
        self.keys.clear();
        self.discover().await?;
        let mut reader = self.broker.reader(&self.settler.consumer).await?;
        let mut next_reclaim = Instant::now();
        let mut next_discovery = Instant::now() + self.options.discovery_interval;
        let reclaim_every = (self.options.visibility_timeout / 4)
            .clamp(Duration::from_millis(10), Duration::from_secs(5));
        loop {
            if self.stopping() {
                return Ok(Stop);
            }
            let now = Instant::now();
            if matches!(self.options.streams, Streams::Pattern(_)) && now >= next_discovery {
                self.discover().await?;
                next_discovery = now + self.options.discovery_interval;
            }
            while let Ok(at) = self.wakes.try_recv() {
                self.due.push(Reverse(at));
            }
            if now >= next_reclaim || self.next_due().is_some_and(|at| at <= now) {
                if self.reclaim().await?.is_err() {
                    return Ok(Stop);
                }
                next_reclaim = now + reclaim_every;
            }
            // Read no more than can be handed out; wait for a free slot first.
            let free = self.permits.available_permits();
            if free == 0 {
                tokio::select! {
                    _ = self.permits.clone().acquire_owned() => {}
                    Some(at) = self.wakes.recv() => self.due.push(Reverse(at)),
                    _ = self.stopped.wait_for(|stop| *stop) => return Ok(Stop),
                }
                continue;
            }
            let mut until = next_reclaim.min(self.next_due().unwrap_or(next_reclaim));
            if matches!(self.options.streams, Streams::Pattern(_)) {
                until = until.min(next_discovery);
            }
            let block = until
                .saturating_duration_since(Instant::now())
                .clamp(MIN_BLOCK, self.options.block.max(MIN_BLOCK));
            if self.keys.is_empty() {
                if self.pause(block).await.is_err() {
                    return Ok(Stop);
                }
                continue;
            }
            let count = free.min(self.batch_size());
            let (entries, stopped) = self.read(reader.as_mut(), count, block).await?;
            if stopped.is_err() {
                self.release(entries.into_iter()).await;
                return Ok(Stop);
            }
            if self.hand_out(entries).await.is_err() {
                return Ok(Stop);
            }
        }
    }

    /// One blocking read of up to `count` entries.
    ///
    /// A read under way is not cancelled: what it returns is handed out, or released when the
    /// subscriber stops meanwhile (then `Err` comes with the entries). An entry that a nak or
    /// a dropped delivery makes due during the read is reclaimed and handed out then, in a
    /// free slot, so that its redelivery is not late by up to `block`; what the read returns
    /// then waits for slots like any other entry.
    async fn read(
        &mut self,
        reader: &mut dyn Reader,
        count: usize,
        block: Duration,
    ) -> Result<(Vec<Entry>, Result<(), Stop>), Error> {
        let permits = self.permits.clone();
        let keys = self.keys.clone();
        let read = reader.read(&keys, count, block);
        tokio::pin!(read);
        loop {
            let due = self.next_due();
            tokio::select! {
                biased;
                entries = &mut read => return Ok((entries?, Ok(()))),
                Some(at) = self.wakes.recv() => self.due.push(Reverse(at)),
                () = redelivery(due, &permits), if due.is_some() => {
                    let reclaimed = self.reclaim().await;
                    if !matches!(reclaimed, Ok(Ok(()))) {
                        let entries = read.await;
                        return match reclaimed {
                            Ok(stopped) => Ok((entries?, stopped)),
                            Err(error) => {
                                // Pending for this consumer: released, for whoever reads next.
                                self.release(entries.unwrap_or_default().into_iter()).await;
                                Err(error)
                            }
                        };
                    }
                }
            }
        }
    }

    /// The earliest due time of a nak or a dropped delivery that no reclaim looked for yet.
    fn next_due(&self) -> Option<Instant> {
        self.due.peek().map(|Reverse(at)| *at)
    }

    /// Entries read or reclaimed per stream and round trip: at least one.
    fn batch_size(&self) -> usize {
        self.options.batch_size.max(1)
    }

    /// Finds the keys to read and creates their groups; starts a schedule mover for each.
    async fn discover(&mut self) -> Result<(), Error> {
        let found = match &self.options.streams {
            Streams::Keys(keys) => keys.clone(),
            Streams::Pattern(pattern) if !glob::is_pattern(pattern) => vec![pattern.clone()],
            Streams::Pattern(pattern) => {
                let mut found = self.broker.streams(pattern).await?;
                found.retain(|k| !keys::is_own_stream(k));
                found.sort();
                found
            }
        };
        for key in found {
            if self.keys.contains(&key) {
                continue;
            }
            self.broker
                .ensure_group(&key, &self.options.group, self.options.group_start)
                .await?;
            self.movers
                .entry(key.clone())
                .or_insert_with(|| Mover::start(self.broker.clone(), key.clone()));
            self.keys.push(key);
        }
        Ok(())
    }

    /// Takes over the entries idle past the visibility timeout and hands them out.
    async fn reclaim(&mut self) -> Result<Result<(), Stop>, Error> {
        let now = Instant::now();
        let mut starved = false;
        for key in self.keys.clone() {
            loop {
                let free = self.permits.available_permits();
                if free == 0 {
                    starved = true;
                    break;
                }
                let count = free.min(self.batch_size());
                let entries = self
                    .broker
                    .reclaim(
                        &key,
                        &self.settler.consumer,
                        self.options.visibility_timeout,
                        count,
                    )
                    .await?;
                let full = entries.len() == count;
                if self.hand_out(entries).await.is_err() {
                    return Ok(Err(Stop));
                }
                if !full {
                    break;
                }
            }
        }
        // With no slot left, what is due may still be pending: looked for again once a
        // delivery is settled.
        if !starved {
            while self.next_due().is_some_and(|at| at <= now) {
                self.due.pop();
            }
        }
        Ok(Ok(()))
    }

    /// Decodes each entry and hands it out, or dead-letters it; `Err` when the subscriber
    /// stops meanwhile (the rest are released).
    async fn hand_out(&mut self, entries: Vec<Entry>) -> Result<(), Stop> {
        let mut entries = entries.into_iter();
        while let Some(entry) = entries.next() {
            if entry.deliveries > self.options.max_deliveries {
                let reason = DeadLetter {
                    reason: REASON_MAX_DELIVERIES.to_owned(),
                    error: format!("delivered {} times", entry.deliveries - 1),
                };
                self.dead_letter(&entry, &reason).await;
                continue;
            }
            let (envelope, payload) = match self.decode(&entry) {
                Ok(decoded) => decoded,
                Err(error) => {
                    let reason = DeadLetter {
                        reason: REASON_DECODE.to_owned(),
                        error: crate::error::Chain(&error).to_string(),
                    };
                    self.dead_letter(&entry, &reason).await;
                    continue;
                }
            };
            let permit = tokio::select! {
                permit = self.permits.clone().acquire_owned() => permit.ok(),
                _ = self.stopped.wait_for(|stop| *stop) => None,
            };
            let Some(permit) = permit else {
                self.release(std::iter::once(entry).chain(entries)).await;
                return Err(Stop);
            };
            let delivery = Delivery::new(payload, envelope, entry, self.settler.clone(), permit);
            if let Err(mpsc::error::SendError(delivery)) = self.out.send(delivery).await {
                drop(delivery);
                self.release(entries).await;
                return Err(Stop);
            }
        }
        Ok(())
    }

    fn decode(&self, entry: &Entry) -> Result<(Envelope, T), CodecError> {
        let envelope = Envelope::from_fields(&entry.fields)?;
        if !self.options.type_names.is_empty()
            && !self.options.type_names.contains(&envelope.type_name)
        {
            return Err(CodecError::UnexpectedType(envelope.type_name));
        }
        let json = envelope.payload_json(self.options.max_payload_size)?;
        let payload = serde_json::from_slice(&json).map_err(|e| CodecError::Json {
            field: "payload",
            reason: e.to_string(),
        })?;
        Ok((envelope, payload))
    }

    /// Dead-letters an entry; when the broker fails, the entry stays pending and comes back.
    async fn dead_letter(&self, entry: &Entry, reason: &DeadLetter) {
        tracing::warn!(
            key = %entry.key,
            id = %entry.id,
            reason = %reason.reason,
            error = %reason.error,
            "message dead-lettered"
        );
        if let Err(error) = self
            .broker
            .dead_letter(entry, &self.options.group, reason)
            .await
        {
            tracing::warn!(key = %entry.key, id = %entry.id, %error, "cannot dead-letter; it stays pending");
        }
    }

    /// Makes entries read but not handed out due for redelivery at once.
    async fn release(&self, entries: impl Iterator<Item = Entry>) {
        for entry in entries {
            if let Err(error) = self
                .broker
                .set_idle(
                    &entry.key,
                    &self.settler.consumer,
                    &entry.id,
                    self.options.visibility_timeout,
                )
                .await
            {
                tracing::warn!(key = %entry.key, id = %entry.id, %error, "cannot release an entry");
            }
        }
    }
}
