//! What generated publishers and subscribers are built from: an event's effective stream
//! settings, computed by the generator from the manifest and embedded as JSON, `${VAR}`s
//! expanded from the environment when built (as a connection's settings are).

use std::time::Duration;

use appwire_manifest::env::{self, Lookup};
use appwire_manifest::{GroupStart, JsonPath, QueueStrategy, SettingsError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{
    Compression, Handler, Publisher, PublisherOptions, Runner, Serialization, SharedBroker,
    Streams, Subscriber, SubscriberOptions,
};
use crate::{ConfigError, Error};

/// An event's `write_stream`, effective: what a generated publisher embeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WriteSpec {
    /// The event.
    pub event: String,
    /// The stream's name.
    pub stream: String,
    /// Its queues.
    pub queues: Vec<String>,
    /// `PROPAGATE` or `DROP`.
    pub queue_strategy: QueueStrategy,
    /// The payload's Python type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `ser`.
    pub serialization: String,
    /// `comp`.
    pub compression: String,
    /// `MAXLEN ~`; 0 for none.
    pub target_max_len: u64,
    /// The dedup window, in milliseconds.
    pub dedup_window_ms: u64,
    /// The publishing app's key, for `event.app`.
    pub app_key: String,
}

/// A STREAM event's `read_stream` and stream settings, effective: what a generated
/// subscriber embeds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReadSpec {
    /// The event.
    pub event: String,
    /// The keys read, highest priority first.
    pub keys: Vec<String>,
    /// The consumer group.
    pub consumer_group: String,
    /// The payload's Python type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Entries per read (`batch_size`), also the deliveries in flight.
    pub batch_size: u64,
    /// How long one message may be handled, in seconds (`timeout`).
    pub timeout: f64,
    /// The shortest time per message, in milliseconds (`throttle_ms`).
    pub throttle_ms: u64,
    /// The longest blocking read, in milliseconds (`read_stream_timeout`).
    pub read_stream_timeout_ms: u64,
    /// Deliveries of one message, at most.
    pub max_deliveries: u64,
    /// The visibility timeout, in milliseconds.
    pub visibility_timeout_ms: u64,
    /// Where a new group starts.
    pub group_start: GroupStart,
}

/// Reads an embedded spec, `${VAR}`s expanded from `env`.
fn read<S: DeserializeOwned>(event: &str, json: &str, env: &dyn Lookup) -> Result<S, Error> {
    let env = |name: &str| env.get(name);
    let text = env::expand(json, &env).map_err(|e| ConfigError::MissingEnv {
        connection: event.to_owned(),
        names: e.names,
    })?;
    serde_json::from_str(&text).map_err(|e| invalid(event, e.to_string()))
}

fn invalid(event: &str, message: String) -> Error {
    Error::Config(ConfigError::Settings {
        connection: event.to_owned(),
        source: SettingsError::Invalid {
            section: event.to_owned(),
            path: JsonPath::root(),
            message,
        },
    })
}

impl WriteSpec {
    /// The publisher options it stands for.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Settings`] for a `ser` or `comp` hopeit does not know, or `pickle:*`.
    pub fn options(&self) -> Result<PublisherOptions, Error> {
        let serialization: Serialization = self
            .serialization
            .parse()
            .map_err(|e: super::CodecError| invalid(&self.event, e.to_string()))?;
        if matches!(
            serialization,
            Serialization::Pickle3 | Serialization::Pickle4 | Serialization::Pickle5
        ) {
            return Err(invalid(
                &self.event,
                format!("serialization `{serialization}` is Python-only"),
            ));
        }
        let compression: Compression = self
            .compression
            .parse()
            .map_err(|e: super::CodecError| invalid(&self.event, e.to_string()))?;
        let mut options = PublisherOptions::new(self.stream.clone(), self.type_name.clone());
        options.queues.clone_from(&self.queues);
        options.queue_strategy = self.queue_strategy;
        options.serialization = serialization;
        options.compression = compression;
        options.max_len = self.target_max_len;
        options.dedup_window = Duration::from_millis(self.dedup_window_ms);
        options.app_key = Some(self.app_key.clone());
        Ok(options)
    }
}

impl ReadSpec {
    /// The subscriber options it stands for (the consumer named after this host).
    pub fn options(&self) -> SubscriberOptions {
        let mut options = SubscriberOptions::new(
            Streams::Keys(self.keys.clone()),
            self.consumer_group.clone(),
        );
        options.type_names = vec![self.type_name.clone()];
        options.group_start = self.group_start;
        options.batch_size = self.batch_size.max(1) as usize;
        options.concurrency = options.batch_size;
        options.block = Duration::from_millis(self.read_stream_timeout_ms.max(1));
        options.visibility_timeout = Duration::from_millis(self.visibility_timeout_ms.max(1));
        options.max_deliveries = self.max_deliveries.max(1);
        options
    }

    /// How long one message may be handled.
    pub fn timeout(&self) -> Duration {
        Duration::try_from_secs_f64(self.timeout).unwrap_or(Duration::MAX)
    }
}

/// The publisher a generated `write_stream` function returns.
///
/// # Errors
///
/// As [`WriteSpec::options`]; [`ConfigError::MissingEnv`] for unset `${VAR}`s.
pub fn publisher<T: Serialize>(
    broker: &SharedBroker,
    spec: &str,
    event: &str,
    env: &dyn Lookup,
) -> Result<Publisher<T>, Error> {
    let spec: WriteSpec = read(event, spec, env)?;
    Ok(Publisher::new(broker.clone(), spec.options()?))
}

/// The subscriber a generated `read_stream` function starts.
///
/// # Errors
///
/// [`ConfigError::MissingEnv`] for unset `${VAR}`s, [`ConfigError::Settings`] for a spec that
/// does not read.
pub fn subscriber<T: DeserializeOwned + Send + 'static>(
    broker: &SharedBroker,
    spec: &str,
    event: &str,
    env: &dyn Lookup,
) -> Result<Subscriber<T>, Error> {
    let spec: ReadSpec = read(event, spec, env)?;
    Ok(Subscriber::start(broker.clone(), spec.options()))
}

/// The runner of a STREAM event's handler a generated function starts: its subscriber, its
/// `write_stream` publisher when it has one, its timeout and throttle.
///
/// # Errors
///
/// As [`subscriber`] and [`publisher`].
pub fn runner<T, H>(
    broker: &SharedBroker,
    read_spec: &str,
    write_spec: Option<&str>,
    event: &str,
    env: &dyn Lookup,
    handler: H,
) -> Result<Runner<T, H>, Error>
where
    T: DeserializeOwned + Send + Sync + 'static,
    H: Handler<T>,
{
    let spec: ReadSpec = read(event, read_spec, env)?;
    let publisher = write_spec
        .map(|w| publisher::<H::Output>(broker, w, event, env))
        .transpose()?;
    let subscriber = Subscriber::start(broker.clone(), spec.options());
    let mut runner = Runner::new(subscriber, handler)
        .timeout(spec.timeout())
        .throttle(Duration::from_millis(spec.throttle_ms));
    if let Some(publisher) = publisher {
        runner = runner.publish_to(publisher);
    }
    Ok(runner)
}
