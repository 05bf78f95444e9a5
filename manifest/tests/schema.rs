//! The files of `schemas/` are generated from the model and must not drift from it.
//! Regenerate them with `APPWIRE_UPDATE_SCHEMA=1 cargo test -p appwire-manifest --test schema`.

use std::path::Path;

use appwire_manifest::schema;

#[test]
fn committed_schemas_match_the_model() {
    for (file, generated) in [
        ("app-config.schema.json", schema::app_config_schema_json()),
        (
            "connection-settings.schema.json",
            schema::connection_settings_schema_json(),
        ),
        (
            "stream-settings.schema.json",
            schema::stream_settings_schema_json(),
        ),
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../schemas")
            .join(file);
        if std::env::var_os("APPWIRE_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).expect("write schema");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is out of date with the model; regenerate it with \
             `APPWIRE_UPDATE_SCHEMA=1 cargo test -p appwire-manifest --test schema`",
            path.display()
        );
    }
}

#[test]
fn schema_describes_the_format() {
    let schema = schema::app_config_schema();
    assert_eq!(schema["required"], serde_json::json!(["app"]));
    let props = schema["properties"].as_object().expect("properties");
    for key in [
        "$schema",
        "app",
        "engine",
        "app_connections",
        "env",
        "events",
        "plugins",
        "settings",
        "server",
    ] {
        assert!(props.contains_key(key), "missing {key}");
    }
    let event_type = &schema["$defs"]["EventConnectionType"]["oneOf"];
    let values: Vec<&str> = event_type
        .as_array()
        .expect("variants")
        .iter()
        .filter_map(|v| v["const"].as_str())
        .collect();
    assert_eq!(values, ["GET", "POST"], "{event_type}");
}
