//! Against a real hopeit.engine server: a declared error status decodes hopeit's error body
//! (labelled `text/plain`), through a generated client and the runtime's own API;
//! `CLIENT_APP_PUBLIC_KEY` signs with the key the server's own config locates; errors say why.

mod common;

use appwire::{ConfigError, Connection, ConnectionExtensions, Error, ErrorInfo, Request, Target};

/// The server config every server of a fleet runs with (the first of its `--config-files`).
const SERVER_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/apps/server-config.json");

#[tokio::test]
async fn a_generated_clients_declared_500_is_its_variant_whatever_the_label() {
    use appwire_hopeit_tests::declared_500::Target;
    use appwire_hopeit_tests::declared_500::appwire_target::ExplodeResponse;

    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let connection = Target::builder(fleet.env()).and_then(|b| b.build());
    let target =
        Target::new(connection.expect("client")).with_options(common::from_event("browse"));
    let answer = target
        .explode(common::SESSION)
        .await
        .expect("a declared 500");
    assert_eq!(answer.status, 500);
    match answer.value {
        ExplodeResponse::InternalServerError(info) => {
            assert_eq!(info.msg, "the catalog exploded");
            assert_eq!(info.tb, ["RuntimeError: the catalog exploded\n"]);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_declared_500_decodes_hopeits_error_body_labelled_text_plain() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let connection = common::connection(target.client());

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

#[tokio::test]
async fn an_error_says_why_down_to_the_last_attempt() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    let target = common::target(&fleet);
    let err = target
        .explode(common::SESSION)
        .await
        .expect_err("both hosts fail");
    let text = err.to_string();
    // The summary, then the last attempt's status, host and hopeit's own message.
    assert!(
        text.starts_with("gave up after 2 attempt(s): last: 500"),
        "{text}"
    );
    assert!(text.contains("the catalog exploded"), "{text}");
    assert!(text.contains(&fleet.servers()[1].url()), "{text}");
}
