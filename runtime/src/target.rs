//! The app whose events a connection calls, and the routes hopeit gives them.

use appwire_manifest::AppConnection;
use appwire_manifest::naming::{self, RouteTarget};

/// The app (and optional plugin) whose event routes a connection calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// App name, e.g. `simple-example`.
    pub name: String,
    /// App version, e.g. `0.30`.
    pub version: String,
    /// `(plugin name, plugin version)` for events an `OnApp` plugin mounts on the app.
    pub plugin: Option<(String, String)>,
}

impl Target {
    /// The app `name` at `version`.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            plugin: None,
        }
    }

    /// The same app, calling events of the plugin `name` at `version`.
    #[must_use]
    pub fn with_plugin(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.plugin = Some((name.into(), version.into()));
        self
    }

    /// hopeit's route of `event`, or of its override, mangled as hopeit mangles both.
    pub fn route(&self, event: &str, override_route: Option<&str>) -> String {
        let target = RouteTarget {
            name: &self.name,
            version: &self.version,
            plugin: self.plugin.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
        };
        naming::event_route(target, event, override_route)
    }
}

impl From<RouteTarget<'_>> for Target {
    fn from(t: RouteTarget<'_>) -> Self {
        Self {
            name: t.name.to_owned(),
            version: t.version.to_owned(),
            plugin: t.plugin.map(|(n, v)| (n.to_owned(), v.to_owned())),
        }
    }
}

impl From<&AppConnection> for Target {
    fn from(c: &AppConnection) -> Self {
        c.route_target().into()
    }
}
