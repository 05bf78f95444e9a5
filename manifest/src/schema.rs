//! The JSON Schema of the manifest format, generated from the model.

use std::sync::LazyLock;

use serde_json::Value;

#[cfg(feature = "diagnostics")]
use crate::path::{JsonPath, Segment};
use crate::{AppConfig, ConnectionSettings};

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

fn pretty(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).unwrap_or_default();
    text.push('\n');
    text
}

static APP_CONFIG: LazyLock<Value> = LazyLock::new(|| schemars::schema_for!(AppConfig).to_value());

static CONNECTION_SETTINGS: LazyLock<Value> =
    LazyLock::new(|| schemars::schema_for!(ConnectionSettings).to_value());

#[cfg(feature = "diagnostics")]
/// The keys the model knows for the object at `path` of an app config: candidates for "did
/// you mean".
pub(crate) fn app_config_fields(path: &JsonPath) -> Vec<String> {
    fields(&APP_CONFIG, path.segments())
}

#[cfg(feature = "diagnostics")]
/// The keys of the object at `path` of a connection settings section.
pub(crate) fn connection_settings_fields(path: &JsonPath) -> Vec<String> {
    fields(&CONNECTION_SETTINGS, path.segments())
}

#[cfg(feature = "diagnostics")]
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

#[cfg(feature = "diagnostics")]
fn fields(root: &Value, path: &[Segment]) -> Vec<String> {
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

#[cfg(all(test, feature = "diagnostics"))]
mod tests {
    use super::*;

    #[test]
    fn fields_follow_refs_maps_and_lists() {
        let event = app_config_fields(&JsonPath::from(["events", "any"]));
        assert!(event.contains(&"connections".to_owned()), "{event:?}");
        let conn = app_config_fields(&JsonPath::from(["events", "e", "connections"]).index(0));
        assert_eq!(conn, ["app_connection", "event", "type"]);
        let stream = app_config_fields(&JsonPath::from(["events", "e", "write_stream"]));
        assert!(stream.contains(&"queue_strategy".to_owned()), "{stream:?}");
        assert!(connection_settings_fields(&JsonPath::root()).contains(&"retries".to_owned()));
        let ext = connection_settings_fields(&JsonPath::from(["appwire", "retry_budget"]));
        assert!(ext.contains(&"percent".to_owned()), "{ext:?}");
    }
}
