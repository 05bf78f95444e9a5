//! Moving scheduled messages into their stream when they are due.
//!
//! The schedule lives in the broker; a mover only decides when to ask the broker to deliver
//! what is due. It sleeps until the earliest due message, so lateness is a timer's, not a
//! poll interval's. Every publisher that scheduled on a key and every subscriber of the key
//! runs one: a message is delivered while any of them lives, and after they all restarted.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::broker::SharedBroker;

/// How long a mover with nothing scheduled waits before it looks again, for messages that
/// another process scheduled (its own schedules wake it at once).
const IDLE_LOOK: Duration = Duration::from_secs(1);

/// The longest a mover waits after the broker failed.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A task delivering a key's scheduled messages; stopped when dropped.
pub(crate) struct Mover {
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Mover {
    /// Starts a mover for `key`, which looks at once.
    pub(crate) fn start(broker: SharedBroker, key: String) -> Self {
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(run(broker, key, wake.clone()));
        Self { wake, task }
    }

    /// Makes the mover look again now: a message was scheduled, perhaps earlier than the
    /// one it waits for.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Drop for Mover {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(broker: SharedBroker, key: String, wake: Arc<Notify>) {
    let mut backoff = Duration::from_millis(50);
    loop {
        let wait = match broker.deliver_due(&key).await {
            Ok(next) => {
                backoff = Duration::from_millis(50);
                next.unwrap_or(IDLE_LOOK).min(IDLE_LOOK)
            }
            Err(error) => {
                tracing::warn!(key = %key, %error, "cannot deliver scheduled messages");
                backoff = (backoff * 2).min(MAX_BACKOFF);
                backoff
            }
        };
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
    }
}
