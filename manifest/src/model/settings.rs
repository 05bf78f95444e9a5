use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};

use super::{Compression, ConnectionExtensions, Serialization};
use crate::env::{self, Lookup};
use crate::path::JsonPath;
use crate::typed::typed;

/// How a connection authenticates its calls (`ClientAuthStrategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthStrategy {
    /// `Authorization: Bearer <JWT>` signed with the caller app's private key (RS256).
    #[default]
    ClientAppPublicKey,
    /// The incoming request's `Authorization` is forwarded.
    ForwardContext,
    /// No `Authorization` header.
    Unsecured,
}

/// Settings of one app connection, read from its `settings` section (hopeit's
/// `AppsClientSettings`), with hopeit's keys and defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ConnectionSettings {
    /// Comma-separated base URLs of the target hosts, e.g. `http://h1:8020,http://h2:8020`.
    pub connection_str: String,
    /// Failures within the reset window that open a host's circuit breaker; 0 disables it.
    #[serde(default = "d::open_failures", deserialize_with = "crate::lax::uint")]
    pub circuit_breaker_open_failures: u32,
    /// Seconds after a host's last failure at which its failure count starts again from zero.
    #[serde(default = "d::reset_seconds", deserialize_with = "crate::lax::uint")]
    pub circuit_breaker_failure_reset_seconds: u64,
    /// Seconds an open breaker keeps its host out of rotation.
    #[serde(default = "d::open_seconds", deserialize_with = "crate::lax::uint")]
    pub circuit_breaker_open_seconds: u64,
    /// Extra attempts after the first.
    #[serde(default = "d::retries", deserialize_with = "crate::lax::uint")]
    pub retries: u32,
    /// Milliseconds between attempts (hopeit); the base of appwire's backoff.
    #[serde(default = "d::retry_backoff_ms", deserialize_with = "crate::lax::uint")]
    pub retry_backoff_ms: u64,
    /// Verify TLS certificates.
    #[serde(default = "d::yes", deserialize_with = "crate::lax::boolean")]
    pub ssl: bool,
    /// Connection pool size.
    #[serde(default = "d::max_connections", deserialize_with = "crate::lax::uint")]
    pub max_connections: u32,
    /// Connections per host; 0 means no limit.
    #[serde(default, deserialize_with = "crate::lax::uint")]
    pub max_connections_per_host: u32,
    /// Seconds DNS answers are cached; 0 disables the cache.
    #[serde(default = "d::dns_cache_ttl", deserialize_with = "crate::lax::uint")]
    pub dns_cache_ttl: u64,
    /// How calls authenticate.
    #[serde(default)]
    pub auth_strategy: AuthStrategy,
    /// Route overrides by target event name, mangled like event routes.
    #[serde(default)]
    pub routes_override: IndexMap<String, String>,
    /// appwire's own settings (timeouts, budget, balancing, HMAC...), under the `appwire` key,
    /// which hopeit ignores.
    #[serde(default, skip_serializing_if = "is_default")]
    pub appwire: ConnectionExtensions,
}

fn is_default(x: &ConnectionExtensions) -> bool {
    *x == ConnectionExtensions::default()
}

impl ConnectionSettings {
    /// Settings with hopeit's defaults for the given `connection_str`.
    pub fn new(connection_str: impl Into<String>) -> Self {
        Self {
            connection_str: connection_str.into(),
            circuit_breaker_open_failures: d::open_failures(),
            circuit_breaker_failure_reset_seconds: d::reset_seconds(),
            circuit_breaker_open_seconds: d::open_seconds(),
            retries: d::retries(),
            retry_backoff_ms: d::retry_backoff_ms(),
            ssl: true,
            max_connections: d::max_connections(),
            max_connections_per_host: 0,
            dns_cache_ttl: d::dns_cache_ttl(),
            auth_strategy: AuthStrategy::default(),
            routes_override: IndexMap::new(),
            appwire: ConnectionExtensions::default(),
        }
    }

    /// The host base URLs, split on `,` as hopeit does (no trimming).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.connection_str.split(',')
    }

    /// Reads a settings section (`key` names it in errors).
    pub fn from_section(
        key: &str,
        section: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<Self, SettingsError> {
        typed(serde_json::Value::Object(section.clone()), false)
            .map(|t| t.value)
            .map_err(|e| SettingsError::Invalid {
                section: key.to_owned(),
                path: JsonPath::from(["settings", key]).join(&e.path),
                message: e.message,
            })
    }

    /// Reads a settings section from JSON text holding `${VAR}` references, expanded from
    /// `env` first: how a client reads its settings at run time.
    pub fn from_json(key: &str, text: &str, env: &impl Lookup) -> Result<Self, SettingsError> {
        let expanded = env::expand(text, env)?;
        let section: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&expanded).map_err(|e| SettingsError::Invalid {
                section: key.to_owned(),
                path: JsonPath::from(["settings", key]),
                message: e.to_string(),
            })?;
        Self::from_section(key, &section)
    }
}

/// Why settings could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// No app connection has this key.
    #[error("no app connection `{0}` in the manifest")]
    UnknownConnection(String),
    /// No event has this name.
    #[error("no event `{0}` in the manifest")]
    UnknownEvent(String),
    /// The settings section is missing.
    #[error("settings section `{0}` is missing")]
    Missing(String),
    /// A value of the section is wrong.
    #[error("invalid settings `{path}`: {message}")]
    Invalid {
        /// Key of the section read.
        section: String,
        /// Path of the wrong value.
        path: JsonPath,
        /// What is wrong.
        message: String,
    },
    /// Environment variables the section uses are not set.
    #[error(transparent)]
    Env(#[from] env::UnsetVariables),
}

/// hopeit's defaults for [`ConnectionSettings`].
mod d {
    pub(super) fn open_failures() -> u32 {
        10
    }
    pub(super) fn reset_seconds() -> u64 {
        120
    }
    pub(super) fn open_seconds() -> u64 {
        60
    }
    pub(super) fn retries() -> u32 {
        1
    }
    pub(super) fn retry_backoff_ms() -> u64 {
        10
    }
    pub(super) fn yes() -> bool {
        true
    }
    pub(super) fn max_connections() -> u32 {
        100
    }
    pub(super) fn dns_cache_ttl() -> u64 {
        10
    }
}

/// An event's effective settings (`EventSettings`), computed by
/// `AppConfig::effective_settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct EventSettings {
    /// Seconds a GET or POST event may run before the server answers with a timeout.
    #[serde(deserialize_with = "crate::lax::float")]
    pub response_timeout: f64,
    /// Logging of the event.
    pub logging: EventLoggingConfig,
    /// Stream processing of the event.
    pub stream: EventStreamConfig,
    /// The event's raw settings sections: `_` for its own, plus one per `setting_keys` entry.
    pub extras: IndexMap<String, serde_json::Value>,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            response_timeout: 60.0,
            logging: EventLoggingConfig::default(),
            stream: EventStreamConfig::default(),
            extras: IndexMap::new(),
        }
    }
}

/// Logging of one event (`EventLoggingConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct EventLoggingConfig {
    /// Extra fields the event logs.
    pub extra_fields: Vec<String>,
    /// Stream fields logged, with a `stream.` prefix; `name`, `msg_id` and `consumer_group`
    /// when empty.
    #[serde(deserialize_with = "stream_fields")]
    pub stream_fields: Vec<String>,
}

impl Default for EventLoggingConfig {
    fn default() -> Self {
        Self {
            extra_fields: Vec::new(),
            stream_fields: normalize_stream_fields(Vec::new()),
        }
    }
}

fn stream_fields<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Vec::deserialize(d).map(normalize_stream_fields)
}

fn normalize_stream_fields(fields: Vec<String>) -> Vec<String> {
    let fields = if fields.is_empty() {
        vec!["name".into(), "msg_id".into(), "consumer_group".into()]
    } else {
        fields
    };
    fields
        .into_iter()
        .map(|f| {
            if f.starts_with("stream.") {
                f
            } else {
                format!("stream.{f}")
            }
        })
        .collect()
}

/// Stream processing of one event (`EventStreamConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct EventStreamConfig {
    /// Seconds a stream event may run.
    #[serde(deserialize_with = "crate::lax::float")]
    pub timeout: f64,
    /// Target stream length; 0 is unlimited.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub target_max_len: u64,
    /// Minimum milliseconds per event.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub throttle_ms: u64,
    /// Milliseconds between steps.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub step_delay: u64,
    /// Messages read per batch.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub batch_size: u64,
    /// Compression; the engine default when absent.
    pub compression: Option<Compression>,
    /// Serialization; the engine default when absent.
    pub serialization: Option<Serialization>,
}

impl Default for EventStreamConfig {
    fn default() -> Self {
        Self {
            timeout: 60.0,
            target_max_len: 0,
            throttle_ms: 0,
            step_delay: 0,
            batch_size: 100,
            compression: None,
            serialization: None,
        }
    }
}
