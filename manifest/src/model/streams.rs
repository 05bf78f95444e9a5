//! Redis Streams: appwire's extension of a stream's settings section, the stream key and queue
//! rules, and an event's effective stream settings, one vocabulary for the runtime and code
//! generation.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::{AppConfig, EventStreamConfig, QueueStrategy, SettingsError};
use crate::naming;
use crate::path::JsonPath;
use crate::typed::typed;

/// The queue hopeit uses when a message names none: its stream key is the bare stream name.
pub const AUTO_QUEUE: &str = "AUTO";

/// Where a new consumer group starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum GroupStart {
    /// The whole history of the stream, as hopeit creates its groups (`XGROUP CREATE … 0`).
    #[default]
    Beginning,
    /// Only entries added after the group is created (`XGROUP CREATE … $`).
    New,
}

impl GroupStart {
    /// The id `XGROUP CREATE` is given: `0` or `$`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Beginning => "0",
            Self::New => "$",
        }
    }
}

/// appwire's own settings of a stream, under the `appwire` key of the settings section named
/// after the stream (`settings.<stream name>.appwire`; hopeit ignores the key). Every field has
/// a default, but checking requires `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct StreamExtension {
    /// The payload's Python class as `module.qualname`, e.g. `shop.model.OrderPlaced`: written
    /// as each message's `type` field, and the only `type` a subscriber accepts. hopeit's
    /// consumers pick the payload class by this exact string.
    #[serde(rename = "type")]
    pub type_name: Option<String>,
    /// Where the payload's JSON Schema is: `<spec file relative to the manifest>#<JSON
    /// pointer>`, e.g. `shop.openapi.json#/components/schemas/OrderPlaced`.
    #[serde(deserialize_with = "schema_ref")]
    #[cfg_attr(feature = "schema", schemars(regex(pattern = "^[^#]+#(/.*)?$")))]
    pub schema: Option<String>,
    /// Deliveries of a message without an ack after which it is dead-lettered (at least 1).
    #[serde(deserialize_with = "crate::lax::positive")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub max_deliveries: u32,
    /// Milliseconds after which an entry a handler took, and neither acked nor reported progress
    /// on, is redelivered to a live consumer (at least 1: a smaller deadline would hand every
    /// entry to a second consumer while the first still works on it).
    #[serde(deserialize_with = "crate::lax::positive")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub visibility_timeout_ms: u64,
    /// Milliseconds within which publishes with the same publisher-given id are written once;
    /// 0 writes every publish.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub dedup_window_ms: u64,
    /// Where a consumer group appwire creates starts reading.
    pub group_start: GroupStart,
}

impl Default for StreamExtension {
    fn default() -> Self {
        Self {
            type_name: None,
            schema: None,
            max_deliveries: 5,
            visibility_timeout_ms: 60_000,
            dedup_window_ms: 120_000,
            group_start: GroupStart::default(),
        }
    }
}

/// A `schema` reference must name a file and a JSON pointer in it.
fn schema_ref<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    if let Some(text) = &value
        && split_schema_ref(text).is_none()
    {
        return Err(serde::de::Error::custom(format!(
            "expected `<spec file>#<JSON pointer>`, e.g. `spec.json#/components/schemas/Name`, found {text:?}"
        )));
    }
    Ok(value)
}

fn split_schema_ref(text: &str) -> Option<(&str, &str)> {
    let (file, pointer) = text.split_once('#')?;
    (!file.is_empty() && (pointer.is_empty() || pointer.starts_with('/')))
        .then_some((file, pointer))
}

impl StreamExtension {
    /// Reads the `appwire` key of the settings section of `stream`; the defaults when the
    /// section or the key is absent. Keys appwire does not know are ignored, as hopeit ignores
    /// them (checking reports them).
    pub fn from_section(stream: &str, section: &Map<String, Value>) -> Result<Self, SettingsError> {
        let Some(value) = section.get("appwire") else {
            return Ok(Self::default());
        };
        typed(value.clone(), false)
            .map(|t| t.value)
            .map_err(|e| SettingsError::Invalid {
                section: stream.to_owned(),
                path: JsonPath::from(["settings", stream, "appwire"]).join(&e.path),
                message: e.message,
            })
    }

    /// The `schema` reference split into its spec file (relative to the manifest) and its JSON
    /// pointer (`""` for the whole file).
    ///
    /// ```
    /// let ext = appwire_manifest::StreamExtension {
    ///     schema: Some("shop.openapi.json#/components/schemas/OrderPlaced".into()),
    ///     ..Default::default()
    /// };
    /// assert_eq!(ext.schema_ref(), Some(("shop.openapi.json", "/components/schemas/OrderPlaced")));
    /// ```
    pub fn schema_ref(&self) -> Option<(&str, &str)> {
        self.schema.as_deref().and_then(split_schema_ref)
    }
}

/// The Redis key of a stream's queue: the stream name for [`AUTO_QUEUE`], else `name.queue`.
///
/// ```
/// use appwire_manifest::stream_key;
///
/// assert_eq!(stream_key("shop.orders", "AUTO"), "shop.orders");
/// assert_eq!(stream_key("shop.orders", "high"), "shop.orders.high");
/// ```
pub fn stream_key(name: &str, queue: &str) -> String {
    if queue == AUTO_QUEUE {
        name.to_owned()
    } else {
        format!("{name}.{queue}")
    }
}

/// Where one publish goes: the key it is added to and the `queue` field it carries.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WriteTarget {
    /// The Redis key of the stream entry.
    pub key: String,
    /// The message's `queue` field.
    pub queue: String,
}

/// hopeit's rule for the publish of a result to the configured queue `queue` of the stream
/// `name`, when the message being processed came from `upstream` ([`AUTO_QUEUE`] for GET, POST
/// and SERVICE events). With PROPAGATE the `queue` field is always `upstream`, and the key too
/// for the `AUTO` queue; with DROP both follow the configured queue. With PROPAGATE a configured
/// queue other than `AUTO` gives a key and a field that disagree, as in hopeit.
///
/// ```
/// use appwire_manifest::{QueueStrategy, write_target};
///
/// let t = write_target("out", "AUTO", QueueStrategy::Propagate, "high");
/// assert_eq!((t.key.as_str(), t.queue.as_str()), ("out.high", "high"));
/// ```
pub fn write_target(
    name: &str,
    queue: &str,
    strategy: QueueStrategy,
    upstream: &str,
) -> WriteTarget {
    let key = if strategy == QueueStrategy::Propagate && queue == AUTO_QUEUE {
        stream_key(name, upstream)
    } else {
        stream_key(name, queue)
    };
    let queue = match strategy {
        QueueStrategy::Drop => queue,
        QueueStrategy::Propagate => upstream,
    };
    WriteTarget {
        key,
        queue: queue.to_owned(),
    }
}

/// The stream an event reads, with its keys and appwire's settings of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadStream {
    /// Stream name.
    pub name: String,
    /// Consumer group.
    pub consumer_group: String,
    /// Queues read, in the order hopeit polls them.
    pub queues: Vec<String>,
    /// The Redis key of each queue, in queue order (see [`stream_key`]).
    pub keys: Vec<String>,
    /// appwire's settings of the stream (`settings.<name>.appwire`).
    pub extension: StreamExtension,
}

/// The stream an event publishes to, with appwire's settings of the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteStream {
    /// Stream name, `{auto}` resolved to `<app_key>.<event>` as hopeit does.
    pub name: String,
    /// Queues each result is published to, in order.
    pub queues: Vec<String>,
    /// What happens to the consumed message's queue.
    pub queue_strategy: QueueStrategy,
    /// appwire's settings of the stream (`settings.<name>.appwire`).
    pub extension: StreamExtension,
}

impl WriteStream {
    /// Where a result is published, one target per configured queue in order, when the message
    /// being processed came from `upstream` (see [`write_target`]).
    pub fn targets(&self, upstream: &str) -> Vec<WriteTarget> {
        self.queues
            .iter()
            .map(|q| write_target(&self.name, q, self.queue_strategy, upstream))
            .collect()
    }
}

/// The streams of one event and its effective stream settings.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventStreams {
    /// The stream the event reads (`STREAM` events).
    pub read: Option<ReadStream>,
    /// The stream the event publishes to.
    pub write: Option<WriteStream>,
    /// The effective stream settings: the section of the stream written (or else read), the
    /// event's `settings.<event>.stream` over it, and the engine's default compression and
    /// serialization where neither sets one. Also `EventSettings::stream` of
    /// [`AppConfig::event_settings`].
    pub config: EventStreamConfig,
}

impl AppConfig {
    /// The name of the stream `event` writes, `{auto}` resolved to `<app_key>.<event>` as hopeit
    /// does (a manifest loaded with templates has it resolved already).
    pub(crate) fn write_stream_name(&self, event: &str) -> Option<String> {
        let stream = self.events.get(event)?.write_stream.as_ref()?;
        Some(if stream.name.contains("{auto}") {
            let auto = naming::auto_key_path(&self.app_key(), event);
            stream.name.replace("{auto}", &auto)
        } else {
            stream.name.clone()
        })
    }

    /// appwire's settings of a stream: `settings.<stream>.appwire`, with defaults when absent.
    pub fn stream_extension(&self, stream: &str) -> Result<StreamExtension, SettingsError> {
        match self.settings.get(stream) {
            Some(section) => StreamExtension::from_section(stream, section),
            None => Ok(StreamExtension::default()),
        }
    }

    /// The streams `event` reads and writes, with their keys, appwire's settings of each, and
    /// the event's effective stream settings; `None` for an event with neither. Call it on a
    /// manifest loaded with its environment.
    pub fn event_streams(&self, event: &str) -> Result<Option<EventStreams>, SettingsError> {
        let descriptor = self
            .events
            .get(event)
            .ok_or_else(|| SettingsError::UnknownEvent(event.to_owned()))?;
        if descriptor.read_stream.is_none() && descriptor.write_stream.is_none() {
            return Ok(None);
        }
        let read = match &descriptor.read_stream {
            Some(r) => Some(ReadStream {
                name: r.name.clone(),
                consumer_group: r.consumer_group.clone(),
                queues: r.queues.clone(),
                keys: r.queues.iter().map(|q| stream_key(&r.name, q)).collect(),
                extension: self.stream_extension(&r.name)?,
            }),
            None => None,
        };
        let write = match (&descriptor.write_stream, self.write_stream_name(event)) {
            (Some(w), Some(name)) => Some(WriteStream {
                extension: self.stream_extension(&name)?,
                name,
                queues: w.queues.clone(),
                queue_strategy: w.queue_strategy,
            }),
            _ => None,
        };
        let config = self.event_settings(event)?.stream;
        Ok(Some(EventStreams {
            read,
            write,
            config,
        }))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::{Compression, Serialization};

    #[test]
    fn write_targets_follow_hopeits_table() {
        use QueueStrategy::{Drop, Propagate};
        let rows = [
            ("AUTO", Drop, "high", "out", "AUTO"),
            ("q", Drop, "high", "out.q", "q"),
            ("AUTO", Propagate, "AUTO", "out", "AUTO"),
            ("AUTO", Propagate, "high", "out.high", "high"),
            ("q", Propagate, "high", "out.q", "high"),
        ];
        for (queue, strategy, upstream, key, field) in rows {
            let t = write_target("out", queue, strategy, upstream);
            assert_eq!(
                (t.key.as_str(), t.queue.as_str()),
                (key, field),
                "{queue} {strategy:?} {upstream}"
            );
        }
        assert_eq!(
            write_target("out", "AUTO", Drop, "AUTO"),
            write_target("out", "AUTO", Drop, "low")
        );
    }

    #[test]
    fn stream_keys() {
        assert_eq!(stream_key("s", AUTO_QUEUE), "s");
        assert_eq!(stream_key("s", "high"), "s.high");
        assert_eq!(
            stream_key("s", "auto"),
            "s.auto",
            "queue names are case-sensitive"
        );
    }

    fn config(value: Value) -> AppConfig {
        serde_json::from_value(value).expect("config")
    }

    #[test]
    fn extension_defaults_and_lax_numbers() {
        let ext = StreamExtension::default();
        assert_eq!(
            (
                ext.max_deliveries,
                ext.visibility_timeout_ms,
                ext.dedup_window_ms
            ),
            (5, 60_000, 120_000)
        );
        assert_eq!(ext.group_start, GroupStart::Beginning);
        assert_eq!(ext.group_start.id(), "0");
        let section = json!({"target_max_len": 10, "appwire": {
            "type": "shop.model.OrderPlaced", "max_deliveries": "3", "dedup_window_ms": 0.0,
            "group_start": "new", "schema": "shop.json#/components/schemas/OrderPlaced"}});
        let ext = StreamExtension::from_section("s", section.as_object().unwrap()).unwrap();
        assert_eq!(ext.type_name.as_deref(), Some("shop.model.OrderPlaced"));
        assert_eq!(ext.max_deliveries, 3);
        assert_eq!(ext.dedup_window_ms, 0);
        assert_eq!(ext.visibility_timeout_ms, 60_000);
        assert_eq!(ext.group_start.id(), "$");
        assert_eq!(
            ext.schema_ref(),
            Some(("shop.json", "/components/schemas/OrderPlaced"))
        );
    }

    #[test]
    fn extension_errors_point_into_the_section() {
        for (ext, path) in [
            (
                json!({"max_deliveries": 0}),
                "settings.s.appwire.max_deliveries",
            ),
            (json!({"schema": "shop.json"}), "settings.s.appwire.schema"),
            (json!({"schema": "#/a"}), "settings.s.appwire.schema"),
            (json!({"schema": "a.json#b"}), "settings.s.appwire.schema"),
            (
                json!({"group_start": "end"}),
                "settings.s.appwire.group_start",
            ),
            (json!(3), "settings.s.appwire"),
        ] {
            let section = json!({"appwire": ext});
            let err = StreamExtension::from_section("s", section.as_object().unwrap())
                .expect_err(&ext.to_string());
            let SettingsError::Invalid { path: at, .. } = &err else {
                panic!("{err}")
            };
            assert_eq!(at.to_string(), path, "{err}");
        }
    }

    #[test]
    fn event_streams_merge_like_hopeit() {
        let config = config(json!({
            "app": {"name": "shop", "version": "1.0"},
            "engine": {"default_stream_serialization": "json"},
            "events": {
                "publish": {"type": "POST", "write_stream": {"name": "{auto}", "queues": ["AUTO", "high"]}},
                "relay": {"type": "STREAM",
                    "read_stream": {"name": "shop.orders", "consumer_group": "g", "queues": ["high", "AUTO"]},
                    "write_stream": {"name": "shop.out", "queue_strategy": "PROPAGATE"}},
                "sink": {"type": "STREAM", "read_stream": {"name": "shop.orders", "consumer_group": "h"}},
                "plain": {"type": "GET"}
            },
            "settings": {
                "shop.orders": {"target_max_len": 1000, "compression": "none",
                    "appwire": {"type": "shop.model.OrderPlaced", "max_deliveries": 7}},
                "shop.out": {"batch_size": 10, "target_max_len": 5, "appwire": {"type": "shop.model.Out"}},
                "relay": {"stream": {"target_max_len": 50}},
                "shop.1x0.publish": {"compression": "gzip", "appwire": {"type": "shop.model.New"}}
            }
        }));
        assert_eq!(config.event_streams("plain").unwrap(), None);
        assert!(matches!(
            config.event_streams("nope"),
            Err(SettingsError::UnknownEvent(_))
        ));

        let relay = config.event_streams("relay").unwrap().unwrap();
        let read = relay.read.as_ref().unwrap();
        assert_eq!(read.keys, ["shop.orders.high", "shop.orders"]);
        assert_eq!(read.consumer_group, "g");
        assert_eq!(read.extension.max_deliveries, 7);
        let write = relay.write.as_ref().unwrap();
        assert_eq!(write.extension.type_name.as_deref(), Some("shop.model.Out"));
        assert_eq!(
            write.targets("high"),
            [WriteTarget {
                key: "shop.out.high".into(),
                queue: "high".into()
            }]
        );
        // The section of the stream written, not the one read; the event's own over it.
        assert_eq!(relay.config.target_max_len, 50);
        assert_eq!(relay.config.batch_size, 10);
        assert_eq!(relay.config.compression, Some(Compression::Lz4));
        assert_eq!(relay.config.serialization, Some(Serialization::Json));
        assert_eq!(
            relay.config,
            config.event_settings("relay").unwrap().stream,
            "one merge"
        );

        let sink = config.event_streams("sink").unwrap().unwrap();
        assert!(sink.write.is_none());
        assert_eq!(sink.config.target_max_len, 1000);
        assert_eq!(sink.config.compression, Some(Compression::None));

        let publish = config.event_streams("publish").unwrap().unwrap();
        let write = publish.write.unwrap();
        assert_eq!(write.name, "shop.1x0.publish");
        assert_eq!(write.extension.type_name.as_deref(), Some("shop.model.New"));
        let keys: Vec<String> = write
            .targets(AUTO_QUEUE)
            .into_iter()
            .map(|t| t.key)
            .collect();
        assert_eq!(keys, ["shop.1x0.publish", "shop.1x0.publish.high"]);
        assert_eq!(publish.config.compression, Some(Compression::Gzip));
    }

    #[test]
    fn a_missing_section_gives_the_defaults() {
        let config = config(json!({"app": {"name": "a", "version": "1"}}));
        assert_eq!(
            config.stream_extension("nowhere").unwrap(),
            StreamExtension::default()
        );
    }
}
