//! The runtime's own API, without generated methods, against a real hopeit.engine server:
//! a declared error status decodes hopeit's error body; `CLIENT_APP_PUBLIC_KEY` signs with
//! the key the server's own config locates.

mod common;

use appwire::{ConfigError, Connection, ConnectionExtensions, Error, ErrorInfo, Request, Target};

/// The server config every server of a fleet runs with (the first of its `--config-files`).
const SERVER_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/apps/server-config.json");

#[tokio::test]
async fn a_declared_500_decodes_hopeits_error_body_labelled_text_plain() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let connection = target.connection();

    // `explode` raises: hopeit answers 500 with `{"msg": .., "tb": [..]}` as text/plain.
    let request = Request::get("explode")
        .declare(500)
        .context(common::context("browse"));
    let raw = connection.send(request).await.expect("a declared status");
    assert_eq!(raw.status, 500);
    assert_eq!(raw.headers["content-type"], "text/plain; charset=utf-8");
    let info = raw.json::<ErrorInfo>().expect("hopeit's error body");
    assert_eq!(info.msg, "the catalog exploded");
    assert_eq!(info.tb, ["RuntimeError: the catalog exploded\n"]);
    assert_eq!(raw.json_for::<ErrorInfo>(500).expect("decoded"), Some(info));

    // Declared, so an answer: sent once, and no failure for the breaker.
    assert_eq!(common::host(connection, 0).failures, 0);
}

#[tokio::test]
async fn client_app_public_key_signs_with_the_key_the_servers_own_config_locates() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    // The manifest's settings without its `appwire` key folder and passphrase: the server
    // config is the only place that says where the caller's key is.
    let mut settings = fleet.settings("target_signed").expect("settings");
    let defaults = ConnectionExtensions::default();
    settings.appwire.secrets_location = defaults.secrets_location;
    settings.appwire.auth_passphrase = defaults.auth_passphrase;
    let builder = || {
        Connection::builder(
            "target_signed",
            Target::new("appwire-target", "1.0"),
            settings.clone(),
            "appwire_caller.1x0",
        )
    };
    let without = builder().build();
    assert!(
        matches!(without, Err(Error::Config(ConfigError::ClientKey { .. }))),
        "{without:?}"
    );

    // `${APPWIRE_SECRETS}` and `${APPWIRE_AUTH_PASSPHRASE}`, as the server expanded them.
    let connection = builder()
        .server_config_file(SERVER_CONFIG, fleet.env())
        .build()
        .expect("the key the server created");
    for _ in 0..2 {
        let request = Request::get("secret").context(common::context("sign_in"));
        let raw = connection.send(request).await.expect("a Bearer-only event");
        assert_eq!(raw.status, 200);
        let caller: serde_json::Value = raw.json().expect("the caller the token names");
        assert_eq!(caller["app"], "appwire_caller.1x0");
    }
}
