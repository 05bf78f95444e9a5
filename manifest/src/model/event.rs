use serde::{Deserialize, Serialize};

use super::{AUTO_QUEUE, AuthType};

/// How an event is triggered (`EventType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum EventType {
    /// An HTTP `GET` endpoint.
    Get,
    /// An HTTP `POST` endpoint.
    Post,
    /// Reads a stream; started and stopped through management routes.
    Stream,
    /// A long-lived service loop; started and stopped through management routes.
    Service,
    /// An HTTP `POST` endpoint taking `multipart/form-data`.
    Multipart,
    /// Runs once when the app starts.
    Setup,
}

/// Where a plugin's event route is mounted (`EventPlugMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum EventPlugMode {
    /// Mounted where the event is defined.
    #[default]
    Standalone,
    /// Mounted on each app that uses the plugin, under the plugin's name and version.
    OnApp,
}

/// How a caller event calls a target event (`EventConnectionType`): hopeit accepts only these
/// two.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum EventConnectionType {
    /// HTTP `GET`: the payload is not sent, only query arguments.
    Get,
    /// HTTP `POST`: the payload is the JSON body.
    Post,
}

impl EventConnectionType {
    /// The HTTP method name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

/// A target event an event may call through an app connection (`EventConnection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventConnection {
    /// Key of the entry in `app_connections`.
    pub app_connection: String,
    /// Name of the event in the target app.
    pub event: String,
    /// HTTP method of the call.
    #[serde(rename = "type")]
    pub kind: EventConnectionType,
}

fn auto_queues() -> Vec<String> {
    vec![AUTO_QUEUE.to_owned()]
}

/// The stream a `STREAM` event reads (`ReadStreamDescriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ReadStreamDescriptor {
    /// Stream name; `{auto}` is not allowed here.
    pub name: String,
    /// Consumer group.
    pub consumer_group: String,
    /// Queues polled in order.
    #[serde(default = "auto_queues")]
    pub queues: Vec<String>,
}

/// What happens to a consumed message's queue name when the event publishes
/// (`StreamQueueStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum QueueStrategy {
    /// Publish to the consumed message's queue.
    Propagate,
    /// Publish to the queues of `write_stream`.
    #[default]
    Drop,
}

/// The stream an event publishes its results to (`WriteStreamDescriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WriteStreamDescriptor {
    /// Stream name; `{auto}` gives `<app_key>.<event>`.
    pub name: String,
    /// Queues published to.
    #[serde(default = "auto_queues")]
    pub queues: Vec<String>,
    /// Queue name handling for consumed messages.
    #[serde(default)]
    pub queue_strategy: QueueStrategy,
}

fn default_group() -> String {
    "DEFAULT".to_owned()
}

/// One event of the app (`EventDescriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EventDescriptor {
    /// How the event is triggered. Required.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// Where a plugin's event is mounted.
    #[serde(default)]
    pub plug_mode: EventPlugMode,
    /// Route override: starting with `/` it replaces the whole route, otherwise it follows `/api/`.
    #[serde(default)]
    pub route: Option<String>,
    /// Python module implementing the event; `<import_module>.<event>` when absent.
    #[serde(default, rename = "impl")]
    pub implementation: Option<String>,
    /// Events of other apps this event calls.
    #[serde(default)]
    pub connections: Vec<EventConnection>,
    /// Stream read by a `STREAM` event.
    #[serde(default)]
    pub read_stream: Option<ReadStreamDescriptor>,
    /// Stream the event's results are published to.
    #[serde(default)]
    pub write_stream: Option<WriteStreamDescriptor>,
    /// Accepted auth methods; the server's `default_auth_methods` when empty.
    #[serde(default)]
    pub auth: Vec<AuthType>,
    /// Extra `settings` sections the event reads.
    #[serde(default)]
    pub setting_keys: Vec<String>,
    /// Payload types for generic steps, as qualified Python names.
    #[serde(default)]
    pub dataobjects: Vec<String>,
    /// Group the event runs in.
    #[serde(default = "default_group")]
    pub group: String,
}
