use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::EventDescriptor;
use super::{
    AppConnection, AppEngineConfig, ConnectionSettings, EventSettings, ServerConfig, SettingsError,
};
use crate::naming;
use crate::path::{JsonPath, Segment};
use crate::typed::typed;

/// An app's name and version (`AppDescriptor`). Both must be non-empty.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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

/// A value of the `env` section: hopeit accepts strings, numbers and booleans, and keeps each as
/// written (`"false"` stays a string, `2.0` a float).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(untagged)]
pub enum EnvValue {
    /// A string.
    Str(String),
    /// A number, integer or floating point.
    Number(serde_json::Number),
    /// A boolean.
    Bool(bool),
}

/// The `env` section: groups of free values, exposed to events as `context.env`.
pub type Env = IndexMap<String, IndexMap<String, EnvValue>>;

/// A whole app-config file (`AppConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "hopeit.engine app config"))]
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
    /// connection (see `ConnectionSettings`, and `schemas/stream-settings.schema.json` for a
    /// stream's section with appwire's `appwire` key).
    #[serde(default)]
    pub settings: IndexMap<String, serde_json::Map<String, serde_json::Value>>,
}

impl AppConfig {
    /// hopeit's app key of this app, e.g. `simple_example.0x30`.
    pub fn app_key(&self) -> String {
        self.app.app_key()
    }

    /// The settings of an app connection: its `settings` section (the one named by the
    /// connection's `settings`, or the connection's own key) read as [`ConnectionSettings`]
    /// with hopeit's defaults. Call it on a manifest loaded with its environment.
    pub fn connection_settings(
        &self,
        connection: &str,
    ) -> Result<ConnectionSettings, SettingsError> {
        let conn = self
            .app_connections
            .get(connection)
            .ok_or_else(|| SettingsError::UnknownConnection(connection.to_owned()))?;
        let key = conn.settings_key(connection);
        let section = self
            .settings
            .get(key)
            .ok_or_else(|| SettingsError::Missing(key.to_owned()))?;
        ConnectionSettings::from_section(key, section)
    }

    /// The route hopeit's apps-client calls for `event` through `connection`: the target's
    /// route, or the connection's `routes_override` for the event, mangled as hopeit does.
    pub fn connection_route(&self, connection: &str, event: &str) -> Result<String, SettingsError> {
        let settings = self.connection_settings(connection)?;
        let conn = &self.app_connections[connection];
        let over = settings.routes_override.get(event).map(String::as_str);
        Ok(naming::event_route(conn.route_target(), event, over))
    }

    /// Every event's effective settings, as hopeit's `AppConfig.setup()` computes them.
    pub fn effective_settings(&self) -> Result<IndexMap<String, EventSettings>, SettingsError> {
        self.events
            .keys()
            .map(|name| Ok((name.clone(), self.event_settings(name)?)))
            .collect()
    }

    /// One event's effective settings: its section with the settings of the stream it writes
    /// (or else reads) merged under its own `stream` values, the engine's stream defaults, and
    /// the raw sections in `extras` (`_` for its own, one per `setting_keys` entry). Errors
    /// point at the section a wrong value came from.
    pub fn event_settings(&self, name: &str) -> Result<EventSettings, SettingsError> {
        let event = self
            .events
            .get(name)
            .ok_or_else(|| SettingsError::UnknownEvent(name.to_owned()))?;
        let own_path = JsonPath::from(["settings", name]);
        let invalid = |path: JsonPath, message: String| SettingsError::Invalid {
            section: name.to_owned(),
            path,
            message,
        };
        let stream_name = self
            .write_stream_name(name)
            .or_else(|| event.read_stream.as_ref().map(|r| r.name.clone()));
        let mut stream = Map::new();
        if let Some(section) = stream_name.as_deref().and_then(|s| self.settings.get(s)) {
            stream.extend(section.clone());
        }
        let mut data = self.settings.get(name).cloned().unwrap_or_default();
        let own_stream = match data.get("stream") {
            None => Map::new(),
            Some(Value::Object(own)) => own.clone(),
            Some(_) => return Err(invalid(own_path.key("stream"), "expected an object".into())),
        };
        let from_stream_section: Vec<String> = stream
            .keys()
            .filter(|k| !own_stream.contains_key(*k))
            .cloned()
            .collect();
        stream.extend(own_stream);
        data.insert("stream".into(), Value::Object(stream));
        let mut settings: EventSettings = typed(Value::Object(data), false)
            .map(|t| t.value)
            .map_err(|e| {
                let path = match (e.path.segments(), stream_name.as_deref()) {
                    ([Segment::Key(s), Segment::Key(k), rest @ ..], Some(section))
                        if s == "stream" && from_stream_section.contains(k) =>
                    {
                        let base = JsonPath::from(["settings", section, k.as_str()]);
                        rest.iter().fold(base, |p, seg| match seg {
                            Segment::Key(k) => p.key(k.clone()),
                            Segment::Index(i) => p.index(*i),
                        })
                    }
                    _ => own_path.join(&e.path),
                };
                invalid(path, e.message)
            })?;
        settings
            .stream
            .compression
            .get_or_insert(self.engine.default_stream_compression);
        settings
            .stream
            .serialization
            .get_or_insert(self.engine.default_stream_serialization);
        settings.extras.clear();
        if let Some(own) = self.settings.get(name) {
            settings
                .extras
                .insert("_".into(), Value::Object(own.clone()));
        }
        for key in &event.setting_keys {
            if let Some(section) = self.settings.get(key) {
                settings
                    .extras
                    .insert(key.clone(), Value::Object(section.clone()));
            }
        }
        Ok(settings)
    }
}
