//! A subscriber's acknowledgements, sent together.
//!
//! An ack is a round trip, and a busy subscriber settles many deliveries at once. The first
//! ack goes at once; those made while it is on its way wait for it and then go together, one
//! command per stream key: under load a few commands carry every ack, and an idle subscriber
//! waits for nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

use super::BrokerError;
use super::broker::SharedBroker;
use crate::Error;

/// The most ids one command acknowledges.
const MAX_PER_COMMAND: usize = 1_000;

/// The acks of one consumer group, waiting or on their way.
pub(crate) struct Acks {
    broker: SharedBroker,
    group: String,
    state: Mutex<State>,
}

/// An id waiting to be acknowledged, and who waits for it.
type Waiting = (String, oneshot::Sender<Result<(), Error>>);

#[derive(Default)]
struct State {
    /// Ids waiting, by key.
    waiting: HashMap<String, Vec<Waiting>>,
    /// Whether a task is sending them.
    sending: bool,
}

impl Acks {
    pub(crate) fn new(broker: SharedBroker, group: String) -> Arc<Self> {
        Arc::new(Self {
            broker,
            group,
            state: Mutex::default(),
        })
    }

    /// Acknowledges entry `id` of `key`, with the others waiting then.
    pub(crate) async fn ack(self: &Arc<Self>, key: &str, id: String) -> Result<(), Error> {
        let (done, result) = oneshot::channel();
        let start = {
            let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            match state.waiting.get_mut(key) {
                Some(ids) => ids.push((id, done)),
                None => {
                    state.waiting.insert(key.to_owned(), vec![(id, done)]);
                }
            }
            !std::mem::replace(&mut state.sending, true)
        };
        if start {
            // On a task of its own, so that a caller that stops waiting stops no one else's ack.
            tokio::spawn(self.clone().send());
        }
        result.await.unwrap_or_else(|_| {
            Err(broker_error(
                key,
                "not sent: the runtime shut down first; the message will be delivered again",
            ))
        })
    }

    /// Sends what waits until nothing does.
    async fn send(self: Arc<Self>) {
        loop {
            let waiting = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                if state.waiting.is_empty() {
                    state.sending = false;
                    return;
                }
                std::mem::take(&mut state.waiting)
            };
            for (key, mut acks) in waiting {
                while !acks.is_empty() {
                    let rest = acks.split_off(acks.len().min(MAX_PER_COMMAND));
                    let ids: Vec<String> = acks.iter().map(|(id, _)| id.clone()).collect();
                    let result = self.broker.ack(&key, &self.group, &ids).await;
                    for (_, done) in acks {
                        let _ = done.send(match &result {
                            Ok(()) => Ok(()),
                            Err(Error::Broker(e)) => Err(Error::Broker(e.clone())),
                            Err(other) => Err(broker_error(&key, &other.to_string())),
                        });
                    }
                    acks = rest;
                }
            }
        }
    }
}

/// A failed ack, told to every delivery it was for.
fn broker_error(key: &str, message: &str) -> Error {
    Error::Broker(BrokerError {
        backend: "subscriber",
        operation: "ack",
        key: Some(key.to_owned()),
        message: message.to_owned(),
        retryable: true,
    })
}
