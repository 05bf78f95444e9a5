//! The JSON Schema of the manifest format, generated from the model.

use std::sync::LazyLock;

use serde_json::Value;

use crate::{AppConfig, ConnectionSettings, EventStreamConfig, StreamExtension};

/// The JSON Schema (draft 2020-12) of an app-config file, as pretty-printed JSON with a trailing
/// newline: the text of `schemas/app-config.schema.json`.
pub fn app_config_schema_json() -> String {
    pretty(&APP_CONFIG)
}

/// The JSON Schema of an app-config file.
pub fn app_config_schema() -> &'static Value {
    &APP_CONFIG
}

/// The JSON Schema of an app connection's settings section, appwire's extensions included: the
/// text of `schemas/connection-settings.schema.json`.
pub fn connection_settings_schema_json() -> String {
    pretty(&CONNECTION_SETTINGS)
}

/// The JSON Schema of a settings section named after a stream (`settings.<stream name>`):
/// hopeit's stream settings of the events that write (or read) the stream, and appwire's
/// `appwire` extension. The text of `schemas/stream-settings.schema.json`.
pub fn stream_settings_schema_json() -> String {
    pretty(&STREAM_SETTINGS)
}

fn pretty(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

static APP_CONFIG: LazyLock<Value> = LazyLock::new(|| schemars::schema_for!(AppConfig).to_value());

static CONNECTION_SETTINGS: LazyLock<Value> =
    LazyLock::new(|| schemars::schema_for!(ConnectionSettings).to_value());

static STREAM_SETTINGS: LazyLock<Value> =
    LazyLock::new(|| schemars::schema_for!(StreamSettings).to_value());

/// Settings of a stream, under its name in `settings`: the base of the stream settings
/// (`settings.<event>.stream`) of every event that writes the stream, or reads it and writes
/// none, and appwire's settings of the stream.
// Only the schema reads this shape: the runtime takes the two parts from
// `AppConfig::event_streams`, merged as hopeit merges them.
#[derive(schemars::JsonSchema)]
#[schemars(title = "Stream settings")]
#[allow(dead_code)]
struct StreamSettings {
    #[serde(flatten)]
    stream: EventStreamConfig,
    /// appwire's settings of the stream, which hopeit ignores.
    #[serde(default)]
    appwire: StreamExtension,
}

#[cfg(all(test, feature = "diagnostics"))]
mod tests {
    //! The checks suggest known keys from the model's serde field names (`crate::fields`);
    //! they must be the keys of the schema, in its order, for every object of the format.

    use super::*;
    use crate::fields::known_fields;
    use crate::path::{JsonPath, Segment};

    /// Follows `$ref`s and nullable `anyOf`s to the object schema they stand for.
    fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            if let Some(name) = node
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                && let Some(target) = root.get("$defs").and_then(|d| d.get(name))
            {
                node = target;
                continue;
            }
            if let Some(variant) = node
                .get("anyOf")
                .or_else(|| node.get("oneOf"))
                .and_then(Value::as_array)
                .and_then(|vs| vs.iter().find(|v| v.get("type") != Some(&"null".into())))
            {
                node = variant;
                continue;
            }
            break;
        }
        node
    }

    /// The keys of the schema's object at `path`: the suggestions' former source.
    fn schema_fields(root: &Value, path: &[Segment]) -> Vec<String> {
        let mut node = resolve(root, root);
        for segment in path {
            let next = match segment {
                Segment::Key(k) => node
                    .get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object())),
                Segment::Index(_) => node.get("items"),
            };
            match next {
                Some(n) => node = resolve(root, n),
                None => return Vec::new(),
            }
        }
        node.get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every path of the schema that reaches an object, maps and lists entered by one member.
    fn object_paths(root: &Value, node: &Value, path: JsonPath, out: &mut Vec<JsonPath>) {
        let node = resolve(root, node);
        if path.segments().len() > 8 {
            return;
        }
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            out.push(path.clone());
            for (key, child) in properties {
                object_paths(root, child, path.key(key.as_str()), out);
            }
        }
        if let Some(values) = node.get("additionalProperties").filter(|a| a.is_object()) {
            object_paths(root, values, path.key("any"), out);
        }
        if let Some(items) = node.get("items") {
            object_paths(root, items, path.index(0), out);
        }
    }

    fn same_fields<T: serde::de::DeserializeOwned>(schema: &Value, extra: &[JsonPath]) -> usize {
        let mut paths = Vec::new();
        object_paths(schema, schema, JsonPath::root(), &mut paths);
        paths.extend(extra.iter().cloned());
        for path in &paths {
            assert_eq!(
                known_fields::<T>(path),
                schema_fields(schema, path.segments()),
                "fields at `{path}`"
            );
        }
        paths.len()
    }

    #[test]
    fn known_fields_are_the_schema_keys() {
        let off_model = [
            JsonPath::from(["nope"]),
            JsonPath::from(["settings", "conn"]),
            JsonPath::from(["events", "e", "connections"]),
            JsonPath::from(["events", "e", "route"]),
            JsonPath::from(["engine"]).index(0),
        ];
        let app = same_fields::<AppConfig>(&APP_CONFIG, &off_model);
        assert!(app > 15, "{app} paths");
        let settings = same_fields::<ConnectionSettings>(
            &CONNECTION_SETTINGS,
            &[
                JsonPath::from(["routes_override"]),
                JsonPath::from(["appwire", "nope"]),
            ],
        );
        assert!(settings > 3, "{settings} paths");
        assert_eq!(
            known_fields::<StreamExtension>(&JsonPath::root()),
            schema_fields(&STREAM_SETTINGS, &[Segment::Key("appwire".into())])
        );
    }
}
