use serde::{Deserialize, Serialize};

use crate::naming::RouteTarget;

/// The `client` hopeit records when an app connection names none.
pub const NO_CLIENT_CONFIGURED: &str = "<<NO CLIENT CONFIGURED>>";

fn no_client() -> String {
    NO_CLIENT_CONFIGURED.to_owned()
}

/// Another app this app calls (`AppConnection`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppConnection {
    /// Target app name.
    pub name: String,
    /// Target app version.
    pub version: String,
    /// Client class hopeit loads for the connection, e.g. `hopeit.apps_client.AppsClient`.
    #[serde(default = "no_client")]
    pub client: String,
    /// Key of the connection's section in `settings`; the connection's own key when absent.
    #[serde(default)]
    pub settings: Option<String>,
    /// Target plugin, for events the plugin mounts on the target app (`OnApp`).
    #[serde(default)]
    pub plugin_name: Option<String>,
    /// Target plugin version; the connection's `version` when absent.
    #[serde(default)]
    pub plugin_version: Option<String>,
    /// appwire extension: path of the target app's OpenAPI spec, relative to the manifest.
    /// hopeit ignores this key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_spec: Option<String>,
}

impl AppConnection {
    /// The key of this connection's settings section: `settings`, or the connection key.
    pub fn settings_key<'a>(&'a self, connection_key: &'a str) -> &'a str {
        self.settings.as_deref().unwrap_or(connection_key)
    }

    /// The app (and plugin) whose routes this connection calls.
    pub fn route_target(&self) -> RouteTarget<'_> {
        RouteTarget {
            name: &self.name,
            version: &self.version,
            plugin: self.plugin_name.as_deref().map(|name| {
                (
                    name,
                    self.plugin_version.as_deref().unwrap_or(&self.version),
                )
            }),
        }
    }
}
