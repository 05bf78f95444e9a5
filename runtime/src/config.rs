//! Connections described by a manifest: its `app_connections` entry and settings section,
//! with `${VAR}`s expanded from the environment when the connection is built.

use appwire_manifest::env::{self, Lookup};
use appwire_manifest::naming;
use appwire_manifest::{AppConfig, ConnectionSettings, SettingsError};

use crate::connection::{Connection, ConnectionBuilder};
use crate::error::{ConfigError, Error};
use crate::target::Target;

impl Connection {
    /// Starts the connection `connection` of an app's manifest, as hopeit's apps-client sets
    /// it up: the target from `app_connections`, the settings from its `settings` section, the
    /// caller from the manifest's app.
    ///
    /// `${VAR}`s left in the manifest (one loaded for code generation, without an
    /// environment) are expanded from `env` here; the error names every variable not set.
    pub fn from_config(
        config: &AppConfig,
        connection: &str,
        env: &(impl Lookup + ?Sized),
    ) -> Result<ConnectionBuilder, Error> {
        let conn = config.app_connections.get(connection).ok_or_else(|| {
            settings_error(
                connection,
                SettingsError::UnknownConnection(connection.to_owned()),
            )
        })?;
        let key = conn.settings_key(connection);
        let section = config
            .settings
            .get(key)
            .ok_or_else(|| settings_error(connection, SettingsError::Missing(key.to_owned())))?;
        let text = serde_json::Value::Object(section.clone()).to_string();
        let app = &config.app;
        let plugin = conn.plugin_name.as_deref().map(|name| {
            let version = conn.plugin_version.as_deref().unwrap_or(&conn.version);
            (name, version)
        });
        from_manifest(
            connection,
            (&conn.name, &conn.version, plugin),
            (&app.name, &app.version),
            (key, text.as_str()),
            env,
        )
    }

    /// The connection generated code describes: built from the manifest's parts it embeds.
    pub(crate) fn from_parts(parts: &Parts, env: &dyn Lookup) -> Result<Self, Error> {
        parts.builder_from(env)?.build()
    }
}

/// What generated code embeds of a connection: the manifest's parts it is built from, as
/// written (`${VAR}`s are expanded when the connection is built).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Parts {
    /// The caller app's name.
    pub caller_name: &'static str,
    /// The caller app's version.
    pub caller_version: &'static str,
    /// The connection's key.
    pub connection: &'static str,
    /// The target app's name.
    pub target_name: &'static str,
    /// The target app's version.
    pub target_version: &'static str,
    /// The target plugin's name and version, for a plugin's events.
    pub plugin: Option<(&'static str, &'static str)>,
    /// The key of the connection's settings section.
    pub settings_key: &'static str,
    /// The settings section, as JSON: hopeit expands `${VAR}`s in the text before parsing it.
    pub settings: &'static str,
}

impl Parts {
    /// A builder with the manifest's settings, `${VAR}`s expanded from `env`.
    pub(crate) fn builder_from(&self, env: &dyn Lookup) -> Result<ConnectionBuilder, Error> {
        let settings = (self.settings_key, self.settings);
        let target = (self.target_name, self.target_version, self.plugin);
        from_manifest(
            self.connection,
            target,
            (self.caller_name, self.caller_version),
            settings,
            env,
        )
    }
}

/// A target app as written: name, version, and the plugin's name and version.
type TargetText<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);

fn settings_error(connection: &str, source: SettingsError) -> Error {
    match source {
        SettingsError::Env(unset) => ConfigError::MissingEnv {
            connection: connection.to_owned(),
            names: unset.names,
        },
        source => ConfigError::Settings {
            connection: connection.to_owned(),
            source,
        },
    }
    .into()
}

/// A builder for a manifest's connection: settings, target and caller expanded from `env`,
/// every unset variable named in one error.
fn from_manifest(
    connection: &str,
    (name, version, plugin): TargetText<'_>,
    (caller_name, caller_version): (&str, &str),
    (key, text): (&str, &str),
    env: &(impl Lookup + ?Sized),
) -> Result<ConnectionBuilder, Error> {
    // A sized view of `env`, which the manifest's functions take.
    let env = |name: &str| env.get(name);
    let mut unset: Vec<String> = Vec::new();
    let settings = match ConnectionSettings::from_json(key, text, &env) {
        Ok(settings) => Some(settings),
        Err(SettingsError::Env(e)) => {
            unset.extend(e.names);
            None
        }
        Err(e) => return Err(settings_error(connection, e)),
    };
    let mut expand = |text: &str| match env::expand(text, &env) {
        Ok(value) => value,
        Err(e) => {
            unset.extend(e.names);
            text.to_owned()
        }
    };
    let mut target = Target::new(expand(name), expand(version));
    if let Some((plugin, version)) = plugin {
        target = target.with_plugin(expand(plugin), expand(version));
    }
    let caller = naming::app_key(&expand(caller_name), &expand(caller_version));
    match settings {
        Some(settings) if unset.is_empty() => {
            Ok(Connection::builder(connection, target, settings, caller))
        }
        _ => {
            let mut seen = std::collections::HashSet::new();
            let names: Vec<String> = unset
                .into_iter()
                .filter(|name| seen.insert(name.clone()))
                .collect();
            Err(ConfigError::MissingEnv {
                connection: connection.to_owned(),
                names,
            }
            .into())
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use appwire_manifest::{Expansion, Manifest};

    use super::*;

    const MANIFEST: &str = r#"{
      "app": {"name": "caller", "version": "1.0"},
      "app_connections": {
        "target": {"name": "target-app", "version": "${HOPEIT_APPS_API_VERSION}",
                   "plugin_name": "${PLUGIN}", "client": "hopeit.apps_client.AppsClient"}
      },
      "settings": {"target": {"connection_str": "${TARGET_HOSTS}", "retries": "${RETRIES}",
                              "auth_strategy": "UNSECURED"}},
      "events": {"call": {"type": "GET", "connections": [
        {"app_connection": "target", "event": "list_items", "type": "GET"}]}}
    }"#;

    #[test]
    fn generated_code_builds_from_the_parts_it_embeds() {
        const PARTS: Parts = Parts {
            caller_name: "client-example",
            caller_version: "${HOPEIT_APPS_API_VERSION}",
            connection: "conn",
            target_name: "simple-example",
            target_version: "0.30",
            plugin: None,
            settings_key: "conn",
            settings: r#"{"connection_str":"${HOSTS}","auth_strategy":"UNSECURED","retries":2}"#,
        };
        let env = |name: &str| (name == "HOSTS").then(|| "http://h:1".to_owned());
        let c = Connection::from_parts(&PARTS, &env).expect("built");
        assert_eq!(c.caller_app_key(), "client_example.0x30");
        assert_eq!(c.hosts(), ["http://h:1"]);
        assert_eq!(c.inner.policy.retries, 2);
        assert_eq!(
            c.route("list_somethings"),
            "/api/simple-example/0x30/list-somethings"
        );

        let none = |_: &str| None;
        match Connection::from_parts(&PARTS, &none) {
            Err(Error::Config(ConfigError::MissingEnv { names, .. })) => {
                assert_eq!(names, ["HOSTS"])
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_manifest_connection_is_expanded_at_run_time() {
        let manifest =
            Manifest::parse("app-config.json", MANIFEST, Expansion::Deferred).expect("valid");
        let env = HashMap::from([
            (
                "TARGET_HOSTS".to_owned(),
                "http://h1:8020,http://h2:8020/".to_owned(),
            ),
            ("RETRIES".to_owned(), "3".to_owned()),
            ("PLUGIN".to_owned(), "basic-auth".to_owned()),
        ]);
        let c = Connection::from_config(manifest.config(), "target", &env)
            .expect("settings")
            .build()
            .expect("built");
        assert_eq!(c.hosts(), ["http://h1:8020", "http://h2:8020"]);
        assert_eq!(c.caller_app_key(), "caller.1x0");
        assert_eq!(c.inner.policy.retries, 3);
        assert_eq!(
            c.route("list_items"),
            "/api/target-app/0x30/basic-auth/0x30/list-items"
        );
    }

    #[test]
    fn every_missing_variable_is_named() {
        let manifest =
            Manifest::parse("app-config.json", MANIFEST, Expansion::Deferred).expect("valid");
        let env = HashMap::from([("PLUGIN".to_owned(), "p".to_owned())]);
        match Connection::from_config(manifest.config(), "target", &env) {
            Err(Error::Config(ConfigError::MissingEnv { connection, names })) => {
                assert_eq!(connection, "target");
                assert_eq!(names, ["TARGET_HOSTS", "RETRIES"]);
            }
            other => panic!("{other:?}"),
        }
        let empty: HashMap<String, String> = HashMap::new();
        match Connection::from_config(manifest.config(), "target", &empty) {
            Err(Error::Config(ConfigError::MissingEnv { names, .. })) => {
                assert_eq!(names, ["TARGET_HOSTS", "RETRIES", "PLUGIN"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Connection::from_config(manifest.config(), "nope", &env),
            Err(Error::Config(ConfigError::Settings { .. }))
        ));
    }
}
