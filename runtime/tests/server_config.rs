//! `CLIENT_APP_PUBLIC_KEY` with a plain hopeit deployment: the caller's key folder and
//! passphrase taken from the hopeit server config (`auth.secrets_location`,
//! `auth.auth_passphrase`), parsed or read from its file with `${VAR}`s expanded; explicit
//! builder calls over it, and it over the manifest's `appwire` keys. And a manifest's settings
//! changed on its builder before the connection is built.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use appwire::auth::{ClientKey, ServerConfigError, read_server_config};
use appwire::{
    AuthConfig, AuthStrategy, Connection, ConnectionBuilder, ConnectionSettings, Error,
    SecretString, ServerConfig, Target,
};
use appwire_manifest::{Expansion, Manifest};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");
const CONFIGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/server-configs");
const PASSPHRASE: &str = "appwire-test-passphrase";
/// The app whose key pair is in `tests/keys`.
const CALLER: &str = "test_caller.1x0";

/// A builder whose manifest `appwire` keys point at no key: only another source can supply it.
fn builder() -> ConnectionBuilder {
    let mut s = ConnectionSettings::new("http://127.0.0.1:1");
    s.appwire.secrets_location = "/nonexistent/manifest-secrets".into();
    s.appwire.auth_passphrase = Some(SecretString::new("the manifest's passphrase"));
    Connection::builder("target", Target::new("t", "1.0"), s, CALLER)
}

fn server_config(secrets_location: &str, auth_passphrase: &str) -> ServerConfig {
    ServerConfig {
        auth: AuthConfig {
            secrets_location: secrets_location.into(),
            auth_passphrase: auth_passphrase.into(),
            enabled: true,
            ..AuthConfig::default()
        },
        ..ServerConfig::default()
    }
}

fn config_file(name: &str) -> PathBuf {
    Path::new(CONFIGS).join(name)
}

fn env() -> HashMap<String, String> {
    HashMap::from([
        ("APPWIRE_TEST_KEYS".to_owned(), KEYS.to_owned()),
        ("APPWIRE_TEST_PASSPHRASE".to_owned(), PASSPHRASE.to_owned()),
    ])
}

fn key_path(folder: &str) -> String {
    ClientKey::path(folder, CALLER).display().to_string()
}

#[test]
fn a_parsed_server_config_gives_the_key_folder_and_passphrase_over_the_manifests_keys() {
    let built = builder()
        .server_config(&server_config(KEYS, PASSPHRASE))
        .build();
    assert!(built.is_ok(), "{built:?}");
}

#[test]
fn a_server_config_file_is_read_with_its_variables_expanded_as_hopeit_does() {
    let path = config_file("hopeit.json");
    let built = builder().server_config_file(&path, &env()).build();
    assert!(built.is_ok(), "{built:?}");

    // `${appwire_test_keys}` reads `APPWIRE_TEST_KEYS`, as hopeit upper-cases the name.
    let config = read_server_config(&path, &env()).expect("read");
    assert_eq!(config.auth.secrets_location, KEYS);
    assert_eq!(config.auth.auth_passphrase, PASSPHRASE);
    assert_eq!(config.logging.log_level, "WARNING");
}

#[test]
fn explicit_builder_calls_win_over_the_server_config() {
    let config = server_config(KEYS, PASSPHRASE);
    let err = builder()
        .server_config(&config)
        .auth_passphrase(SecretString::new("wrong"))
        .build()
        .expect_err("the explicit passphrase is used");
    assert_eq!(
        err.to_string(),
        format!(
            "connection `target`: client app key `{}`: the key does not decrypt with the \
             passphrase given",
            key_path(KEYS)
        )
    );

    let err = builder()
        .secrets_location("/nonexistent/explicit")
        .server_config(&config)
        .build()
        .expect_err("the explicit folder is used");
    assert!(
        err.to_string().contains(&key_path("/nonexistent/explicit")),
        "{err}"
    );

    // A key given outright needs neither folder nor passphrase.
    let key = ClientKey::load(KEYS, CALLER, Some(PASSPHRASE.as_bytes())).expect("key");
    let built = builder()
        .server_config(&server_config("/nonexistent/server", ""))
        .client_key(key)
        .build();
    assert!(built.is_ok(), "{built:?}");
}

#[test]
fn the_server_configs_folder_and_passphrase_go_together() {
    // An empty passphrase is none: the manifest's is not taken in its place.
    let err = builder()
        .server_config(&server_config(KEYS, ""))
        .build()
        .expect_err("no passphrase");
    assert_eq!(
        err.to_string(),
        format!(
            "connection `target`: client app key `{}`: the key is encrypted and no passphrase \
             was given",
            key_path(KEYS)
        )
    );
}

#[test]
fn a_server_config_file_that_cannot_be_used_fails_the_build_and_says_why() {
    let failure = |path: &Path, env: &HashMap<String, String>| match builder()
        .server_config_file(path, env)
        .build()
    {
        Err(Error::Config(appwire::ConfigError::ServerConfig { connection, source })) => {
            assert_eq!(connection, "target");
            source
        }
        other => panic!("{}: {other:?}", path.display()),
    };

    let missing = config_file("missing.json");
    let err = failure(&missing, &env());
    assert!(matches!(err, ServerConfigError::Io { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "cannot read the server config `{}`: No such file or directory (os error 2)",
            missing.display()
        )
    );

    let not_json = config_file("not-json.json");
    assert_eq!(
        failure(&not_json, &env()).to_string(),
        format!(
            "server config `{}`: trailing comma at line 5 column 3",
            not_json.display()
        )
    );

    let incomplete = config_file("no-secrets-location.json");
    assert_eq!(
        failure(&incomplete, &env()).to_string(),
        format!(
            "server config `{}`: missing field `secrets_location` at line 2 column 34",
            incomplete.display()
        )
    );

    let hopeit = config_file("hopeit.json");
    let err = failure(&hopeit, &HashMap::new());
    assert_eq!(
        err.to_string(),
        format!(
            "server config `{}`: environment variables not set: APPWIRE_TEST_KEYS, \
             APPWIRE_TEST_PASSPHRASE",
            hopeit.display()
        )
    );

    // The whole message, connection first.
    let err = builder()
        .server_config_file(&missing, &env())
        .build()
        .expect_err("no file");
    assert!(
        err.to_string()
            .starts_with("connection `target`: cannot read the server config `"),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_none());
}

const MANIFEST: &str = r#"{
  "app": {"name": "caller", "version": "1.0"},
  "app_connections": {
    "target": {"name": "target-app", "version": "1.0", "client": "hopeit.apps_client.AppsClient"}
  },
  "settings": {"target": {"connection_str": "http://h1:8020", "retries": 2}},
  "events": {"call": {"type": "GET", "connections": [
    {"app_connection": "target", "event": "list_items", "type": "GET"}]}}
}"#;

#[test]
fn a_manifests_settings_can_be_changed_on_its_builder_before_the_build() {
    let manifest =
        Manifest::parse("app-config.json", MANIFEST, Expansion::Deferred).expect("manifest");
    let none = HashMap::<String, String>::new();
    let builder = Connection::from_config(manifest.config(), "target", &none).expect("builder");
    assert_eq!(builder.settings().retries, 2);
    assert_eq!(
        builder.settings().auth_strategy,
        AuthStrategy::ClientAppPublicKey
    );

    let connection = builder
        .with_settings(|s| {
            s.connection_str = "http://h2:8020,http://h3:8020".into();
            s.auth_strategy = AuthStrategy::Unsecured;
        })
        .build()
        .expect("unsecured: no key needed");
    assert_eq!(connection.hosts(), ["http://h2:8020", "http://h3:8020"]);
}

#[test]
fn settings_changed_on_the_builder_stand_for_the_manifests_keys_below_a_server_config() {
    let with_keys = |s: &mut ConnectionSettings| {
        s.appwire.secrets_location = KEYS.into();
        s.appwire.auth_passphrase = Some(SecretString::new(PASSPHRASE));
    };
    let built = builder().with_settings(with_keys).build();
    assert!(built.is_ok(), "{built:?}");

    let err = builder()
        .with_settings(with_keys)
        .server_config(&server_config("/nonexistent/server", PASSPHRASE))
        .build()
        .expect_err("the server config's folder is used");
    assert!(
        err.to_string().contains(&key_path("/nonexistent/server")),
        "{err}"
    );
}
