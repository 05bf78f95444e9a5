//! Typed publishing: a payload becomes a hopeit message on each of the stream's queues.

use std::collections::HashMap;
use std::future::IntoFuture;
use std::marker::PhantomData;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::{Map, Value};

use super::broker::{Dedup, Outgoing, SharedBroker};
use super::envelope::encode_auth_info;
use super::schedule::Mover;
use super::{AUTO_QUEUE, BoxFuture, Compression, Envelope, QueueStrategy, Serialization, keys};
use crate::context::{iso_utc, uuid_v4};
use crate::{CallContext, Error, REQUEST_ID, REQUEST_TS};

/// How far ahead a delay past the end of the system's time is scheduled: 100 years.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// How a [`Publisher`] writes its stream: hopeit's `write_stream` and stream settings, and
/// appwire's extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct PublisherOptions {
    /// The stream's name.
    pub stream: String,
    /// The queues each message is written to, one entry per queue (hopeit's `queues`).
    pub queues: Vec<String>,
    /// How a relayed message's queue is kept ([`Publish::upstream`]).
    pub queue_strategy: QueueStrategy,
    /// The `type` of each message: the Python `module.qualname` that hopeit consumers of the
    /// stream dispatch on.
    pub type_name: String,
    /// `ser` of each message.
    pub serialization: Serialization,
    /// `comp` of each message.
    pub compression: Compression,
    /// `MAXLEN ~` of each append; 0 keeps the stream unbounded (hopeit's `target_max_len`).
    pub max_len: u64,
    /// How long a publisher-given id ([`Publish::id`]) keeps a second message with it out.
    pub dedup_window: Duration,
    /// The publishing app's key (`shop.1x0`), sent as the `event.app` track id.
    pub app_key: Option<String>,
}

impl PublisherOptions {
    /// Options for `stream`, whose messages are of the Python type `type_name`, with hopeit's
    /// defaults: the `AUTO` queue, `json+base64` compressed by `lz4`, unbounded, and a dedup
    /// window of two minutes.
    pub fn new(stream: impl Into<String>, type_name: impl Into<String>) -> Self {
        Self {
            stream: stream.into(),
            queues: vec![AUTO_QUEUE.to_owned()],
            queue_strategy: QueueStrategy::Drop,
            type_name: type_name.into(),
            serialization: Serialization::JsonBase64,
            compression: Compression::Lz4,
            max_len: 0,
            dedup_window: Duration::from_secs(120),
            app_key: None,
        }
    }
}

/// The id and stream key of each entry one publish wrote: one per queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// (stream key, entry id, whether it was a duplicate and so not written again).
    pub entries: Vec<(String, String, bool)>,
}

impl Published {
    /// The entry id on the first queue.
    pub fn id(&self) -> &str {
        self.entries.first().map_or("", |(_, id, _)| id.as_str())
    }

    /// Whether every entry was a duplicate within the dedup window, so nothing was written.
    pub fn is_duplicate(&self) -> bool {
        !self.entries.is_empty() && self.entries.iter().all(|(_, _, d)| *d)
    }
}

/// A typed publisher of one stream.
///
/// [`publish`](Self::publish) writes every field hopeit's reader requires, in hopeit's order,
/// with the payload serialized from `T` alone: a hopeit consumer of the stream cannot be fed a
/// message it would fail on. Cloning is cheap; clones share the broker.
pub struct Publisher<T> {
    broker: SharedBroker,
    options: Arc<PublisherOptions>,
    movers: Arc<Mutex<HashMap<String, Mover>>>,
    _payload: PhantomData<fn(&T)>,
}

impl<T> Clone for Publisher<T> {
    fn clone(&self) -> Self {
        Self {
            broker: self.broker.clone(),
            options: self.options.clone(),
            movers: self.movers.clone(),
            _payload: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for Publisher<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl<T: Serialize> Publisher<T> {
    /// A publisher of `options.stream` on `broker`.
    pub fn new(broker: SharedBroker, options: PublisherOptions) -> Self {
        Self {
            broker,
            options: Arc::new(options),
            movers: Arc::default(),
            _payload: PhantomData,
        }
    }

    /// The options it publishes with.
    pub fn options(&self) -> &PublisherOptions {
        &self.options
    }

    /// Publishes `payload` to each of the stream's queues; `.await` it, or first set the
    /// message's [`id`](Publish::id), [`context`](Publish::context) or schedule.
    pub fn publish<'a>(&'a self, payload: &'a T) -> Publish<'a, T> {
        Publish {
            publisher: self,
            payload,
            message: Message::default(),
        }
    }

    /// Publishes `payload` at `at`, a time on the broker's clock ([`Broker::now`]: the
    /// system's, except for a broker keeping time of its own): kept by the broker until then,
    /// delivered by the first live publisher or subscriber of the stream.
    ///
    /// [`Broker::now`]: super::Broker::now
    pub fn publish_at<'a>(&'a self, payload: &'a T, at: SystemTime) -> Schedule<'a, T> {
        self.publish(payload).at(at)
    }

    /// Publishes `payload` after `delay`, counted on the broker's clock from when the
    /// schedule is awaited.
    pub fn publish_after<'a>(&'a self, payload: &'a T, delay: Duration) -> Schedule<'a, T> {
        self.publish(payload).after(delay)
    }

    /// Publishes every payload in order, in one round trip; each gets a new id.
    ///
    /// # Errors
    ///
    /// As [`publish`](Self::publish); when the broker fails, none or only some may be written.
    pub async fn publish_batch(&self, payloads: &[T]) -> Result<Vec<Published>, Error> {
        let message = Message::default();
        let mut batch = Vec::with_capacity(payloads.len() * self.options.queues.len());
        for payload in payloads {
            batch.extend(self.outgoing(payload, &message)?);
        }
        let appended = self.broker.publish(&batch).await?;
        let per = self.options.queues.len().max(1);
        let (mut batch, mut appended) = (batch.into_iter(), appended.into_iter());
        Ok((0..payloads.len())
            .map(|_| published(batch.by_ref().take(per), appended.by_ref()))
            .collect())
    }

    /// The messages of one publish, one per queue.
    fn outgoing(&self, payload: &T, message: &Message<'_>) -> Result<Vec<Outgoing>, Error> {
        let o = &*self.options;
        let json = serde_json::to_vec(payload)
            .map_err(|e| Error::InvalidRequest(format!("cannot serialize the payload: {e}")))?;
        let id = message
            .id
            .map_or_else(|| uuid_v4().as_str().to_owned(), str::to_owned);
        let mut envelope = Envelope::new(
            id.clone(),
            o.type_name.clone(),
            o.serialization,
            o.compression,
            &json,
        )
        .map_err(Error::Message)?;
        envelope.event_ts = message.event_ts.map(str::to_owned).unwrap_or_default();
        envelope.track_ids = self.track_ids(message.context);
        let auth_info = match message.auth_info {
            Some(auth_info) => encode_auth_info(auth_info),
            None => UNSECURED.clone(),
        };
        let upstream = message.upstream.unwrap_or(AUTO_QUEUE);
        let queues: Vec<&str> = match message.queue {
            Some(queue) => vec![queue],
            None => o.queues.iter().map(String::as_str).collect(),
        };
        let dedup = message.id.map(|id| Dedup {
            id: id.to_owned(),
            window: o.dedup_window,
        });
        let message = |mut envelope: Envelope, target: keys::WriteTarget| {
            envelope.queue = target.queue;
            Outgoing {
                key: target.key,
                fields: envelope.into_fields_with(auth_info.clone()),
                max_len: o.max_len,
                dedup: dedup.clone(),
            }
        };
        let mut targets = queues
            .into_iter()
            .map(|queue| keys::write_target(&o.stream, queue, o.queue_strategy, upstream));
        // Each queue's message is a copy of the envelope, but the last takes it whole.
        let last = targets.next_back();
        let mut out: Vec<Outgoing> = targets.map(|t| message(envelope.clone(), t)).collect();
        out.extend(last.map(|t| message(envelope, t)));
        Ok(out)
    }

    /// The track ids of a message published in `context`, in hopeit's order: a new
    /// `track.operation_id`, the request's id and time (new ones outside a request), the
    /// context's other track ids, and `event.app`.
    fn track_ids(&self, context: Option<&CallContext>) -> Vec<(String, String)> {
        let get = |key: &str| context.and_then(|c| c.track_id(key));
        let mut ids = vec![
            (
                "track.operation_id".to_owned(),
                uuid_v4().as_str().to_owned(),
            ),
            (
                REQUEST_ID.to_owned(),
                get(REQUEST_ID).map_or_else(|| uuid_v4().as_str().to_owned(), str::to_owned),
            ),
            (
                REQUEST_TS.to_owned(),
                get(REQUEST_TS).map_or_else(
                    || iso_utc(SystemTime::now()).as_str().to_owned(),
                    str::to_owned,
                ),
            ),
        ];
        if let Some(context) = context {
            ids.extend(
                context
                    .track_ids()
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(k.as_str(), "track.operation_id" | REQUEST_ID | REQUEST_TS)
                            && k != "event.app"
                    })
                    .cloned(),
            );
        }
        if let Some(app) = &self.options.app_key {
            ids.push(("event.app".to_owned(), app.clone()));
        }
        ids
    }

    /// Keeps a mover running for each key a schedule was written to, so that it is
    /// delivered on time while this publisher lives.
    fn wake_movers(&self, keys: impl Iterator<Item = String>) {
        let mut movers = self.movers.lock().unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            movers
                .entry(key.clone())
                .or_insert_with(|| Mover::start(self.broker.clone(), key))
                .wake();
        }
    }
}

/// `{"allowed": true, "auth_type": "Unsecured"}`, encoded: what hopeit writes outside an
/// authenticated request.
static UNSECURED: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut map = Map::new();
    map.insert("allowed".to_owned(), Value::Bool(true));
    map.insert(
        "auth_type".to_owned(),
        Value::String("Unsecured".to_owned()),
    );
    encode_auth_info(&map)
});

/// What was published: each message with the entry the broker appended for it.
fn published(
    out: impl Iterator<Item = Outgoing>,
    appended: impl Iterator<Item = super::broker::Appended>,
) -> Published {
    Published {
        entries: out
            .zip(appended)
            .map(|(o, a)| (o.key, a.id, a.duplicate))
            .collect(),
    }
}

#[derive(Default)]
struct Message<'a> {
    id: Option<&'a str>,
    queue: Option<&'a str>,
    upstream: Option<&'a str>,
    context: Option<&'a CallContext>,
    event_ts: Option<&'a str>,
    auth_info: Option<&'a Map<String, Value>>,
}

/// One publish: `.await` it for the [`Published`] entries, or set the message's options first.
#[must_use = "a publish does nothing until awaited"]
pub struct Publish<'a, T> {
    publisher: &'a Publisher<T>,
    payload: &'a T,
    message: Message<'a>,
}

impl<'a, T: Serialize> Publish<'a, T> {
    /// The message's `id`, also a dedup key: a second message with the same id on the same
    /// stream within the dedup window is not written, and its publish answers the first
    /// one's entry id. Without it, each message gets a new UUID and no dedup.
    pub fn id(mut self, id: &'a str) -> Self {
        self.message.id = Some(id);
        self
    }

    /// Writes to this queue only, instead of each of the stream's queues.
    pub fn queue(mut self, queue: &'a str) -> Self {
        self.message.queue = Some(queue);
        self
    }

    /// The queue of the message being relayed: with `PROPAGATE`, the message keeps it.
    pub fn upstream(mut self, queue: &'a str) -> Self {
        self.message.upstream = Some(queue);
        self
    }

    /// The context the message is published in: its track ids go with the message.
    pub fn context(mut self, context: &'a CallContext) -> Self {
        self.message.context = Some(context);
        self
    }

    /// The event's own time, as `event_ts` (an ISO 8601 text).
    pub fn event_ts(mut self, event_ts: &'a str) -> Self {
        self.message.event_ts = Some(event_ts);
        self
    }

    /// The `auth_info` sent with the message (a relay passes on the one it received);
    /// `{"allowed": true, "auth_type": "Unsecured"}` without it.
    pub fn auth_info(mut self, auth_info: &'a Map<String, Value>) -> Self {
        self.message.auth_info = Some(auth_info);
        self
    }

    /// Delivers the message at `at`, on the broker's clock, instead of now.
    pub fn at(self, at: SystemTime) -> Schedule<'a, T> {
        Schedule {
            publish: self,
            due: Due::At(at),
        }
    }

    /// Delivers the message after `delay` instead of now.
    pub fn after(self, delay: Duration) -> Schedule<'a, T> {
        Schedule {
            publish: self,
            due: Due::After(delay),
        }
    }
}

impl<'a, T: Serialize + Sync> IntoFuture for Publish<'a, T> {
    type Output = Result<Published, Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        let outgoing = self.publisher.outgoing(self.payload, &self.message);
        let broker = &self.publisher.broker;
        Box::pin(async move {
            let outgoing = outgoing?;
            let appended = broker.publish(&outgoing).await?;
            Ok(published(outgoing.into_iter(), appended.into_iter()))
        })
    }
}

/// A scheduled publish: `.await` it to hand the message to the broker.
#[must_use = "a schedule does nothing until awaited"]
pub struct Schedule<'a, T> {
    publish: Publish<'a, T>,
    due: Due,
}

/// When a scheduled message is due.
enum Due {
    At(SystemTime),
    /// From when the schedule is awaited, on the broker's clock: a broker keeping time of
    /// its own (tokio's, paused) is not given a due time on another clock.
    After(Duration),
}

impl<'a, T: Serialize + Sync> IntoFuture for Schedule<'a, T> {
    type Output = Result<(), Error>;
    type IntoFuture = BoxFuture<'a, Self::Output>;

    fn into_future(self) -> Self::IntoFuture {
        let publisher = self.publish.publisher;
        let outgoing = publisher.outgoing(self.publish.payload, &self.publish.message);
        let due = self.due;
        Box::pin(async move {
            let outgoing = outgoing?;
            let at = match due {
                Due::At(at) => at,
                Due::After(delay) => {
                    let now = publisher.broker.now();
                    // Past the end of time: as late as can be told.
                    now.checked_add(delay)
                        .or_else(|| now.checked_add(FOREVER))
                        .unwrap_or(now)
                }
            };
            for message in &outgoing {
                publisher.broker.schedule(message, at).await?;
            }
            publisher.wake_movers(outgoing.into_iter().map(|m| m.key));
            Ok(())
        })
    }
}
