//! How the settings shape a connection's HTTP client, and what a client given in its place
//! loses.

mod common;

use std::time::Duration;

use appwire::Request;
use common::{Recorder, Reply, always, connect, settings};

#[tokio::test]
async fn pooled_connections_are_closed_after_the_idle_timeout() {
    let host = always(Reply::ok()).await;
    let mut s = settings(&[&host]);
    s.appwire.pool_idle_timeout_ms = 100;
    let conn = connect(s);
    conn.send(Request::get("e")).await.expect("first call");
    tokio::time::sleep(Duration::from_millis(500)).await;
    conn.send(Request::get("e")).await.expect("second call");
    assert_eq!(host.hits(), 2);
    assert_eq!(host.connections(), 2, "the idle connection was reused");
}

#[tokio::test]
async fn within_the_idle_timeout_the_connection_is_reused() {
    let host = always(Reply::ok()).await;
    let conn = connect(settings(&[&host]));
    for _ in 0..3 {
        conn.send(Request::get("e")).await.expect("call");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((host.hits(), host.connections()), (3, 1));
}

#[test]
fn the_default_idle_timeout_is_below_common_server_keep_alives() {
    // aiohttp (and so hopeit) and nginx keep idle connections 75 s, load balancers often 60 s.
    let s = appwire::ConnectionSettings::new("http://h:1");
    assert!(s.appwire.pool_idle_timeout_ms < 60_000);
}

#[tokio::test]
async fn the_client_the_connection_builds_can_be_tuned_without_losing_the_settings() {
    let host = always(Reply::ok()).await;
    let mut s = settings(&[&host]);
    s.appwire.pool_idle_timeout_ms = 100;
    let conn = appwire::Connection::builder("target", common::target(), s, common::CALLER)
        .configure_client(|builder| {
            let mut headers = http::HeaderMap::new();
            headers.insert("x-tuned", http::HeaderValue::from_static("yes"));
            builder.default_headers(headers)
        })
        .build()
        .expect("connection");
    conn.send(Request::get("e")).await.expect("first call");
    tokio::time::sleep(Duration::from_millis(500)).await;
    conn.send(Request::get("e")).await.expect("second call");
    assert_eq!(host.last().header("x-tuned"), Some("yes"));
    assert_eq!(host.connections(), 2, "the idle timeout still applies");
}

#[test]
fn a_client_given_in_place_names_the_settings_it_does_not_follow() {
    let recorder = Recorder::default();
    let _guard = tracing::subscriber::set_default(recorder.clone());
    // reqwest is linked without a crypto provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let given = || {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client")
    };

    let mut plain = appwire::ConnectionSettings::new("http://127.0.0.1:9");
    plain.auth_strategy = appwire::AuthStrategy::Unsecured;
    let mut tuned = plain.clone();
    tuned.ssl = false;
    tuned.appwire.connect_timeout_ms = 500;
    let build = |s| {
        appwire::Connection::builder("target", common::target(), s, common::CALLER)
            .client(given())
            .build()
            .expect("connection")
    };

    build(plain);
    assert_eq!(recorder.take(), Vec::<String>::new(), "nothing is lost");
    build(tuned);
    let warnings = recorder.take();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].starts_with("WARN"), "{warnings:?}");
    assert!(
        warnings[0].contains(r#"["ssl", "appwire.connect_timeout_ms"]"#),
        "{warnings:?}"
    );
}
