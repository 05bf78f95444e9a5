use serde::{Deserialize, Serialize};

/// Auth methods an event accepts (`AuthType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub enum AuthType {
    /// No credentials needed.
    Unsecured,
    /// `Authorization: Basic ...`.
    Basic,
    /// `Authorization: Bearer <RS256 JWT>`.
    Bearer,
    /// A refresh-token cookie.
    Refresh,
}

/// Server configuration (`ServerConfig`), the first file of a hopeit server's `--config-files`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ServerConfig {
    /// Stream manager connection.
    pub streams: StreamsConfig,
    /// Logging.
    pub logging: LoggingConfig,
    /// Auth; disabled when the section is absent.
    pub auth: AuthConfig,
    /// API docs.
    pub api: ApiConfig,
    /// Engine version; hopeit overwrites it with the running version.
    pub engine_version: Option<String>,
}

/// The server's `streams` section (`StreamsConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct StreamsConfig {
    /// Stream manager class.
    pub stream_manager: String,
    /// Stream server URL, e.g. `redis://localhost:6379`.
    pub connection_str: String,
    /// Seconds before stream events start.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub delay_auto_start_seconds: u64,
    /// First reconnect backoff, in seconds.
    #[serde(deserialize_with = "crate::lax::float")]
    pub initial_backoff_seconds: f64,
    /// Longest reconnect backoff, in seconds.
    #[serde(deserialize_with = "crate::lax::float")]
    pub max_backoff_seconds: f64,
    /// Failures before the stream connection's breaker opens.
    #[serde(deserialize_with = "crate::lax::uint")]
    pub num_failures_open_circuit_breaker: u32,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        Self {
            stream_manager: "hopeit.streams.NoStreamManager".to_owned(),
            connection_str: "<<NoStreamManager>>".to_owned(),
            delay_auto_start_seconds: 3,
            initial_backoff_seconds: 1.0,
            max_backoff_seconds: 60.0,
            num_failures_open_circuit_breaker: 1,
        }
    }
}

/// The server's `logging` section (`LoggingConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct LoggingConfig {
    /// Log level name.
    pub log_level: String,
    /// Folder for log files.
    pub log_path: String,
    /// Log to the console only.
    #[serde(deserialize_with = "crate::lax::boolean")]
    pub console_only: bool,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self {
            log_level: "INFO".to_owned(),
            log_path: "logs/".to_owned(),
            console_only: false,
        }
    }
}

/// The server's `auth` section (`AuthConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AuthConfig {
    /// Folder holding `.private/<app_key>.pem` and `public/<app_key>_pub.pem`.
    pub secrets_location: String,
    /// Passphrase of the private keys.
    pub auth_passphrase: String,
    /// Whether auth is on.
    #[serde(default = "yes", deserialize_with = "crate::lax::boolean")]
    pub enabled: bool,
    /// Create key pairs at start.
    #[serde(default, deserialize_with = "crate::lax::boolean")]
    pub create_keys: bool,
    /// Cookie domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// JWT algorithm.
    #[serde(default = "rs256")]
    pub encryption_algorithm: String,
    /// Auth methods of events that list none; `["Unsecured"]` when empty.
    #[serde(default)]
    pub default_auth_methods: Vec<AuthType>,
}

fn yes() -> bool {
    true
}

fn rs256() -> String {
    "RS256".to_owned()
}

impl Default for AuthConfig {
    /// hopeit's `AuthConfig.no_auth()`, used when the section is absent.
    fn default() -> Self {
        Self {
            secrets_location: ".secrets/".to_owned(),
            auth_passphrase: String::new(),
            enabled: false,
            create_keys: false,
            domain: None,
            encryption_algorithm: rs256(),
            default_auth_methods: Vec::new(),
        }
    }
}

/// The server's `api` section (`APIConfig`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct ApiConfig {
    /// Path the API docs are served at.
    pub docs_path: Option<String>,
}
