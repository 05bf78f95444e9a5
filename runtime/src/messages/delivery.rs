//! One message handed to a subscriber's user, and how it is settled.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, mpsc};
use tokio::time::Instant;

use super::Envelope;
use super::acks::Acks;
use super::broker::{Consumer, DeadLetter, Entry, SharedBroker};
use crate::context::uuid_v4;
use crate::{CallContext, Error};

/// What a delivery needs to settle itself, shared by a subscriber's deliveries.
pub(crate) struct Settler {
    pub(crate) broker: SharedBroker,
    pub(crate) consumer: Consumer,
    /// Acks of the consumer's group, sent together.
    pub(crate) acks: Arc<Acks>,
    pub(crate) visibility_timeout: Duration,
    /// Tells the subscriber when an entry becomes due for redelivery, so that it reclaims
    /// then instead of at its next periodic look.
    pub(crate) redeliver_at: mpsc::UnboundedSender<Instant>,
}

/// A message delivered to a subscriber: its payload, decoded as `T`, and what came with it.
///
/// Settle it with [`ack`](Self::ack) once handled, [`nak`](Self::nak) to have it delivered
/// again later, or [`term`](Self::term) to give up on it (it goes to the dead-letter stream).
/// A delivery dropped unsettled is released: it becomes due for redelivery at once. One held
/// longer than the visibility timeout without [`in_progress`](Self::in_progress) may be
/// redelivered to another consumer meanwhile.
pub struct Delivery<T> {
    payload: T,
    envelope: Envelope,
    entry: Entry,
    taken: Instant,
    settler: Arc<Settler>,
    /// Taken when settled; its presence on drop means unsettled.
    permit: Option<OwnedSemaphorePermit>,
}

impl<T> std::fmt::Debug for Delivery<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("key", &self.entry.key)
            .field("entry_id", &self.entry.id)
            .field("id", &self.envelope.id)
            .field("deliveries", &self.entry.deliveries)
            .finish_non_exhaustive()
    }
}

impl<T> Deref for Delivery<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.payload
    }
}

impl<T> Delivery<T> {
    pub(crate) fn new(
        payload: T,
        envelope: Envelope,
        entry: Entry,
        settler: Arc<Settler>,
        permit: OwnedSemaphorePermit,
    ) -> Self {
        Self {
            payload,
            envelope,
            entry,
            taken: Instant::now(),
            settler,
            permit: Some(permit),
        }
    }

    /// The payload.
    pub fn payload(&self) -> &T {
        &self.payload
    }

    /// The message's own `id` (the publisher's event id).
    pub fn id(&self) -> &str {
        &self.envelope.id
    }

    /// The stream entry's id, e.g. `1733079704971-0`.
    pub fn entry_id(&self) -> &str {
        &self.entry.id
    }

    /// The stream key it was read from (`name` or `name.<queue>`).
    pub fn key(&self) -> &str {
        &self.entry.key
    }

    /// The message's `queue` (`AUTO` when it names none).
    pub fn queue(&self) -> &str {
        &self.envelope.queue
    }

    /// How many times the group delivered it, this delivery included: 1 the first time.
    pub fn deliveries(&self) -> u64 {
        self.entry.deliveries
    }

    /// The message's `type`.
    pub fn type_name(&self) -> &str {
        &self.envelope.type_name
    }

    /// `submit_ts`: when it was published.
    pub fn submit_ts(&self) -> &str {
        &self.envelope.submit_ts
    }

    /// `event_ts`: the event's own time, or `""`.
    pub fn event_ts(&self) -> &str {
        &self.envelope.event_ts
    }

    /// The message's track ids, in their order.
    pub fn track_ids(&self) -> &[(String, String)] {
        &self.envelope.track_ids
    }

    /// The publisher's `auth_info`.
    pub fn auth_info(&self) -> &Map<String, Value> {
        &self.envelope.auth_info
    }

    /// When the subscriber handed it out: its visibility timeout counts from here.
    pub fn taken_at(&self) -> Instant {
        self.taken
    }

    /// The context of handling it, as hopeit makes a STREAM event's: the message's track ids,
    /// `stream.name`, `stream.msg_id` and `stream.consumer_group`, and a new
    /// `track.operation_id`. Publishing in it carries them on.
    pub fn context(&self) -> CallContext {
        let mut context = CallContext::new();
        for (key, value) in &self.envelope.track_ids {
            if !key.starts_with("stream.") && key != "event.app" {
                context = context.with_track_id(key.clone(), value.clone());
            }
        }
        context
            .with_track_id("track.operation_id", uuid_v4().as_str())
            .with_track_id("stream.name", self.entry.key.clone())
            .with_track_id("stream.msg_id", self.envelope.id.clone())
            .with_track_id("stream.consumer_group", self.settler.consumer.group.clone())
    }

    /// Acknowledges it: the group is done with it.
    ///
    /// # Errors
    ///
    /// [`Error::Broker`] when the broker cannot be told; the message stays pending and is
    /// redelivered after the visibility timeout.
    pub async fn ack(mut self) -> Result<(), Error> {
        let s = self.settle();
        s.acks
            .ack(&self.entry.key, std::mem::take(&mut self.entry.id))
            .await
    }

    /// Has it delivered again after `delay` (at most the visibility timeout, which is as long
    /// as the broker keeps a pending message from other consumers).
    ///
    /// # Errors
    ///
    /// [`Error::Broker`] when the broker cannot be told; it is redelivered after the
    /// visibility timeout instead.
    pub async fn nak(mut self, delay: Duration) -> Result<(), Error> {
        let s = self.settle();
        let delay = delay.min(s.visibility_timeout);
        s.broker
            .set_idle(
                &self.entry.key,
                &s.consumer,
                &self.entry.id,
                s.visibility_timeout - delay,
            )
            .await?;
        // The subscriber may be gone; then another consumer reclaims it.
        let _ = s.redeliver_at.send(Instant::now() + delay);
        Ok(())
    }

    /// Gives up on it: it is copied to the dead-letter stream with `reason` and acknowledged.
    ///
    /// # Errors
    ///
    /// [`Error::Broker`] when the broker cannot be told; it stays pending and is redelivered.
    pub async fn term(mut self, reason: &str) -> Result<(), Error> {
        let s = self.settle();
        let reason = DeadLetter {
            reason: reason.to_owned(),
            error: String::new(),
        };
        s.broker
            .dead_letter(&self.entry, &s.consumer.group, &reason)
            .await
    }

    /// Says it is still being worked on: its visibility timeout starts again, so no other
    /// consumer takes it meanwhile.
    ///
    /// # Errors
    ///
    /// [`Error::Broker`] when the broker cannot be told.
    pub async fn in_progress(&self) -> Result<(), Error> {
        let s = &self.settler;
        s.broker
            .set_idle(&self.entry.key, &s.consumer, &self.entry.id, Duration::ZERO)
            .await
    }

    /// Marks it settled: the permit goes back to the subscriber once this delivery is gone.
    fn settle(&mut self) -> Arc<Settler> {
        self.permit.take();
        self.settler.clone()
    }
}

impl<T> Drop for Delivery<T> {
    fn drop(&mut self) {
        if self.permit.is_none() {
            return;
        }
        // Unsettled: make it due for redelivery now rather than after the visibility timeout.
        let settler = self.settler.clone();
        let (key, id) = (self.entry.key.clone(), self.entry.id.clone());
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let idle = settler.visibility_timeout;
                if let Err(error) = settler
                    .broker
                    .set_idle(&key, &settler.consumer, &id, idle)
                    .await
                {
                    tracing::warn!(%key, %id, %error, "cannot release a dropped delivery");
                }
                let _ = settler.redeliver_at.send(Instant::now());
            });
        }
    }
}
