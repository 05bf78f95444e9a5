//! The manifest crate against what hopeit.engine 0.30.1 itself computes.
//!
//! `tests/hopeit/expected/` was written by `tests/hopeit/oracle.py`, which runs hopeit's own
//! parser, template substitution, route naming, env expansion and apps-client settings on the
//! fixtures of `tests/hopeit/fixtures/` (hopeit's example apps and our own edge cases).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use appwire_manifest::naming::{self, RouteTarget};
use appwire_manifest::{AppConfig, Code, ConnectionSettings, Expansion, Manifest, env};
use serde_json::{Value, json};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hopeit")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir().join("fixtures"))
        .expect("fixtures dir")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".json")?;
            (!stem.ends_with(".env")).then(|| stem.to_owned())
        })
        .collect();
    names.sort();
    names
}

fn fixture_env(name: &str) -> HashMap<String, String> {
    let v = read_json(&dir().join(format!("fixtures/{name}.env.json")));
    v.as_object()
        .expect("env object")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().expect("env value").to_owned()))
        .collect()
}

fn load(name: &str) -> Result<Manifest, appwire_manifest::Diagnostics> {
    let path = dir().join(format!("fixtures/{name}.json"));
    let env = fixture_env(name);
    Manifest::load_with(&path, Expansion::Env(&env))
}

/// Reads a fixture as far as it goes, with every diagnostic.
fn read(name: &str) -> (Option<AppConfig>, appwire_manifest::Diagnostics) {
    let path = dir().join(format!("fixtures/{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture");
    let env = fixture_env(name);
    Manifest::read(path.display().to_string(), text, Expansion::Env(&env))
}

fn app_target(config: &AppConfig) -> RouteTarget<'_> {
    RouteTarget {
        name: &config.app.name,
        version: &config.app.version,
        plugin: None,
    }
}

#[test]
fn every_fixture_matches_hopeit() {
    let names = fixtures();
    assert!(names.len() >= 10, "fixtures: {names:?}");
    let loaded: HashMap<String, Manifest> = names
        .iter()
        .filter_map(|n| load(n).ok().map(|m| (m.config().app_key(), m)))
        .collect();
    for name in &names {
        let expected = read_json(&dir().join(format!("expected/{name}.json")));
        let (config, diagnostics) = read(name);
        if let Some(error) = expected.get("error") {
            assert!(
                diagnostics.has_errors(),
                "{name}: hopeit rejects it ({error}), appwire accepts it"
            );
            continue;
        }
        let config =
            config.unwrap_or_else(|| panic!("{name}: hopeit accepts it, appwire:\n{diagnostics}"));
        // hopeit parses these but fails when it starts the connection's client; appwire reports
        // them when it checks the manifest.
        for d in diagnostics.items().iter().filter(|d| d.is_error()) {
            let path = d.path.as_ref().map(ToString::to_string).unwrap_or_default();
            let failing_client = expected["connection_settings"]
                .as_object()
                .expect("connection settings")
                .iter()
                .filter(|(_, v)| v.get("error").is_some())
                .any(|(conn, _)| {
                    let section = config.app_connections[conn.as_str()].settings_key(conn);
                    path.starts_with(&format!("settings.{section}"))
                        || path.starts_with(&format!("app_connections.{conn}"))
                });
            // An undeclared connection fails in hopeit only when the event calls it; a connection
            // with no client fails when hopeit starts it (it imports an empty class path). A
            // stream's payload type is not in hopeit's config at all: appwire needs it there.
            assert!(
                matches!(
                    d.code,
                    Code::UndeclaredConnection | Code::Client | Code::MissingStreamType
                ) || matches!(d.code, Code::SettingsMissing | Code::SettingsType) && failing_client,
                "{name}: hopeit accepts it, appwire reports:\n{diagnostics}"
            );
        }
        check_fixture(name, &config, &expected, &loaded);
    }
}

fn check_fixture(
    name: &str,
    config: &AppConfig,
    expected: &Value,
    loaded: &HashMap<String, Manifest>,
) {
    assert_eq!(config.app_key(), expected["app_key"], "{name}: app key");

    let ours = serde_json::to_value(config).expect("serialize");
    for section in [
        "app",
        "engine",
        "app_connections",
        "env",
        "events",
        "plugins",
        "settings",
    ] {
        assert_eq!(
            ours[section], expected["config"][section],
            "{name}: section `{section}`"
        );
    }
    // Key order matters too: hopeit moves templated keys to the end.
    for section in ["events", "settings", "env"] {
        let keys = |v: &Value| {
            v[section]
                .as_object()
                .map(|m| m.keys().cloned().collect::<Vec<_>>())
        };
        assert_eq!(
            keys(&ours),
            keys(&expected["config"]),
            "{name}: order of `{section}`"
        );
    }

    let effective = serde_json::to_value(config.effective_settings().expect("effective settings"))
        .expect("serialize");
    assert_eq!(
        effective, expected["config"]["effective_settings"],
        "{name}: effective settings"
    );

    for (event, route) in expected["event_routes"].as_object().expect("event_routes") {
        let e = &config.events[event.as_str()];
        let ours = naming::event_route(app_target(config), event, e.route.as_deref());
        assert_eq!(ours, *route, "{name}: route of `{event}`");
    }
    for (event, route) in expected["mgmt_routes"].as_object().expect("mgmt_routes") {
        let e = &config.events[event.as_str()];
        let ours = naming::mgmt_route(app_target(config), event, e.route.as_deref());
        assert_eq!(ours, *route, "{name}: management route of `{event}`");
    }
    for (plugin_key, routes) in expected["plugin_event_routes"]
        .as_object()
        .expect("plugin routes")
    {
        let Some(plugin) = loaded.get(plugin_key) else {
            assert!(
                routes.is_null(),
                "{name}: no fixture for plugin {plugin_key}"
            );
            continue;
        };
        let plugin = plugin.config();
        let descriptor = config
            .plugins
            .iter()
            .find(|p| p.app_key() == *plugin_key)
            .expect("plugin listed");
        let target = RouteTarget {
            plugin: Some((&descriptor.name, &descriptor.version)),
            ..app_target(config)
        };
        for (event, route) in routes.as_object().expect("routes") {
            let e = &plugin.events[event.as_str()];
            let ours = naming::event_route(target, event, e.route.as_deref());
            assert_eq!(
                ours, *route,
                "{name}: plugin route of `{plugin_key}` `{event}`"
            );
        }
    }

    for (conn, settings) in expected["connection_settings"]
        .as_object()
        .expect("settings")
    {
        match config.connection_settings(conn) {
            Ok(ours) => assert_eq!(
                serde_json::to_value(ours).expect("serialize"),
                *settings,
                "{name}: settings of `{conn}`"
            ),
            Err(e) => assert!(settings.get("error").is_some(), "{name}: `{conn}`: {e}"),
        }
    }
    for (key, route) in expected["connection_routes"].as_object().expect("routes") {
        let [caller, conn, target] = key.splitn(3, '/').collect::<Vec<_>>()[..] else {
            panic!("{name}: bad key {key}");
        };
        assert!(
            config.events[caller]
                .connections
                .iter()
                .any(|c| c.app_connection == conn && c.event == target),
            "{name}: {key} is not a connection"
        );
        // hopeit cannot start a connection whose settings it cannot read: no route at all.
        let Ok(settings) = config.connection_settings(conn) else {
            assert!(route.get("error").is_some(), "{name}: route of {key}");
            continue;
        };
        let over = settings.routes_override.get(target);
        let c = &config.app_connections[conn];
        let ours = naming::event_route(c.route_target(), target, over.map(String::as_str));
        assert_eq!(ours, *route, "{name}: route of {key}");
    }
}

#[test]
fn rejected_fixtures_have_their_own_codes() {
    for (name, code) in [
        ("rejected-auto-read-stream", Code::AutoReadStream),
        ("rejected-connection-type", Code::ConnectionType),
    ] {
        let diagnostics = load(name).expect_err(name);
        let codes: Vec<Code> = diagnostics.items().iter().map(|d| d.code).collect();
        assert!(codes.contains(&code), "{name}: {codes:?}\n{diagnostics}");
    }
}

#[test]
fn naming_matches_hopeit() {
    let cases = read_json(&dir().join("expected/naming.json"));
    let cases = cases.as_array().expect("cases");
    assert!(cases.len() >= 30);
    for case in cases {
        let s = |v: &Value| v.as_str().map(str::to_owned);
        if let Some(components) = case.get("components") {
            let parts: Vec<String> = serde_json::from_value(components.clone()).expect("parts");
            let ours = naming::route_name(parts.iter().map(String::as_str));
            assert_eq!(ours, case["route"], "{case}");
        } else if let Some(auto) = case.get("auto") {
            let keys: Vec<String> = serde_json::from_value(case["keys"].clone()).expect("keys");
            let ours = keys
                .iter()
                .fold(s(&case["auto_prefix"]).expect("prefix"), |p, k| {
                    naming::auto_key_path(&p, k)
                });
            assert_eq!(ours, *auto, "{case}");
        } else if let Some(key) = case.get("app_key") {
            let app: (String, String) = serde_json::from_value(case["app"].clone()).expect("app");
            assert_eq!(naming::app_key(&app.0, &app.1), *key, "{case}");
            assert_eq!(
                naming::auto_path([app.0.as_str(), &app.1]),
                case["auto_path"],
                "{case}"
            );
        } else {
            let app: (String, String) = serde_json::from_value(case["app"].clone()).expect("app");
            let plugin: Option<(String, String)> =
                serde_json::from_value(case["plugin"].clone()).expect("plugin");
            let target = RouteTarget {
                name: &app.0,
                version: &app.1,
                plugin: plugin.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
            };
            let event = s(&case["event_name"]).expect("event");
            let over = s(&case["override"]);
            if case.get("error").is_some() {
                // hopeit crashes on an empty override; `check` reports it (see bad_manifests).
                assert_eq!(over.as_deref(), Some(""), "{case}");
                continue;
            }
            let prefix = s(&case["prefix"]).unwrap_or_else(|| "api".into());
            let ours = naming::app_route(&prefix, target, &event, over.as_deref());
            assert_eq!(ours, case["route"], "{case}");
        }
    }
}

#[test]
fn env_expansion_matches_hopeit() {
    let cases = read_json(&dir().join("expected/env.json"));
    let cases = cases.as_array().expect("cases");
    assert!(cases.len() >= 20);
    for case in cases {
        let text = case["text"].as_str().expect("text");
        let vars: HashMap<String, String> =
            serde_json::from_value(case["env"].clone()).expect("env");
        let ours = env::expand(text, &vars);
        match (case.get("result"), ours) {
            (Some(want), Ok(got)) => assert_eq!(got, *want, "{case}"),
            (None, Err(unset)) => {
                // hopeit names each occurrence as written; appwire each variable once, as looked up.
                let listed = case["error"].as_str().expect("error");
                let inner = listed
                    .split_once('[')
                    .map_or("", |(_, r)| r.trim_end_matches(']'));
                let mut want: Vec<String> = Vec::new();
                for n in inner.split(", ").filter(|n| !n.is_empty()) {
                    let n = n.trim_matches('\'').to_uppercase();
                    if !want.contains(&n) {
                        want.push(n);
                    }
                }
                assert_eq!(unset.names, want, "{case}");
            }
            // The one intended difference: appwire's `${VAR:-default}`.
            (None, Ok(got)) => assert!(
                env::references(text)
                    .iter()
                    .any(|r| r.default_value().is_some()),
                "{case}: appwire expanded it to {got:?}"
            ),
            (Some(_), Err(e)) => panic!("{case}: {e}"),
        }
    }
}

/// Sets `value` at a dotted `field` of `root`, creating objects on the way.
fn set_path(root: &mut Value, field: &str, value: Value) {
    let mut node = root;
    let parts: Vec<&str> = field.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        node = node
            .as_object_mut()
            .expect("object")
            .entry(*part)
            .or_insert_with(|| json!({}));
    }
    node[parts[parts.len() - 1]] = value;
}

fn get_path<'v>(root: &'v Value, field: &str) -> &'v Value {
    field.split('.').fold(root, |n, p| &n[p])
}

#[test]
fn lax_values_match_pydantic() {
    let cases = read_json(&dir().join("expected/lax.json"));
    let cases = cases.as_array().expect("cases");
    let mut compared = 0;
    for case in cases {
        let field = case["field"].as_str().expect("field");
        let input = case["input"].clone();
        let ours: Result<Value, String> = match case["via"].as_str().expect("via") {
            "Payload.from_obj(AppsClientSettings)" => {
                let mut section = json!({"connection_str": "http://h"});
                section[field] = input;
                let map = section.as_object().expect("object").clone();
                ConnectionSettings::from_section("s", &map)
                    .map(|s| serde_json::to_value(s).expect("serialize")[field].clone())
                    .map_err(|e| e.to_string())
            }
            "Payload.from_obj(EventSettings)" => {
                let config = json!({"app": {"name": "a", "version": "1"},
                    "events": {"e": {"type": "GET"}}, "settings": {"e": {field: input}}});
                Manifest::parse("lax", config.to_string(), Expansion::Deferred)
                    .map_err(|e| e.to_string())
                    .and_then(|m| m.config().effective_settings().map_err(|e| e.to_string()))
                    .map(|s| serde_json::to_value(&s["e"]).expect("serialize")[field].clone())
            }
            "Payload.from_json(AppConfig)" => {
                let mut config = json!({"app": {"name": "lax", "version": "1.0"}});
                set_path(&mut config, field, input);
                Manifest::parse("lax", config.to_string(), Expansion::Deferred)
                    .map(|m| {
                        get_path(&serde_json::to_value(m.config()).expect("ser"), field).clone()
                    })
                    .map_err(|e| e.to_string())
            }
            other => panic!("unknown via {other}"),
        };
        match (case.get("accepted"), case.get("ignored"), ours) {
            (Some(want), _, Ok(got)) => assert_eq!(got, *want, "{case}"),
            (None, Some(_), Ok(_)) => {}
            (None, None, Err(_)) => {}
            // Intended difference: no hopeit setting means anything below zero or past u64.
            (Some(want), _, Err(e))
                if want
                    .as_f64()
                    .is_some_and(|n| n < 0.0 || n > u64::MAX as f64) =>
            {
                assert!(e.contains("out of range"), "{case}: {e}");
            }
            (want, _, got) => panic!("{case}: hopeit {want:?}, appwire {got:?}"),
        }
        compared += 1;
    }
    assert!(compared > 100, "{compared}");
}
