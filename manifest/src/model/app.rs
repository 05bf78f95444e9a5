use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AppConnection, AppEngineConfig, EventDescriptor, ServerConfig};
use crate::naming;

/// An app's name and version (`AppDescriptor`). Both must be non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct AppDescriptor {
    /// App name, e.g. `simple-example`.
    pub name: String,
    /// App version, e.g. `0.30` or `${HOPEIT_APPS_API_VERSION}`.
    pub version: String,
}

impl AppDescriptor {
    /// Creates a descriptor.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
        }
    }

    /// hopeit's app key: `simple-example` `0.30` gives `simple_example.0x30`.
    pub fn app_key(&self) -> String {
        naming::app_key(&self.name, &self.version)
    }
}

/// A value of the `env` section: hopeit accepts strings, numbers and booleans.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum EnvValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A floating point number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

/// The `env` section: groups of free values, exposed to events as `context.env`.
pub type Env = IndexMap<String, IndexMap<String, EnvValue>>;

/// A whole app-config file (`AppConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "hopeit.engine app config")]
pub struct AppConfig {
    /// The JSON Schema the file follows, for editors (`schemas/app-config.schema.json`).
    /// hopeit ignores it.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The app's name and version. Required.
    pub app: AppDescriptor,
    /// Engine parameters shared by the app's events.
    #[serde(default)]
    pub engine: AppEngineConfig,
    /// Other apps this app calls, by connection name.
    #[serde(default)]
    pub app_connections: IndexMap<String, AppConnection>,
    /// Free values exposed to events, two levels deep.
    #[serde(default)]
    pub env: Env,
    /// The app's events, by name, in file order. Names may contain dots.
    #[serde(default)]
    pub events: IndexMap<String, EventDescriptor>,
    /// Server configuration; hopeit fills it in at run time from the server config file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<ServerConfig>,
    /// Plugins the app uses.
    #[serde(default)]
    pub plugins: Vec<AppDescriptor>,
    /// Settings sections: per event, per stream, per `setting_keys` entry and per app
    /// connection (see [`crate::ConnectionSettings`]).
    #[serde(default)]
    pub settings: IndexMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl AppConfig {
    /// hopeit's app key of this app, e.g. `simple_example.0x30`.
    pub fn app_key(&self) -> String {
        self.app.app_key()
    }
}
