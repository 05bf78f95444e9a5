//! An error printed with `{}` says why: its message carries the cause chain, and `source()`
//! then returns nothing, so that a reporter walking the chain (anyhow, miette) does not print a
//! cause twice. Real failures: refused connections, exhausted retries, keys that cannot be
//! read, bodies that do not decode. Time is tokio's paused clock.

mod common;

use std::error::Error as _;
use std::path::Path;

use appwire::auth::ClientKey;
use appwire::{Connection, ConnectionSettings, Error, ErrorInfo, Request, SecretString};
use common::{CALLER, Reply, always, connect, refusing, settings, target};

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");

/// The error's message, once checked to be its whole story: no `source()` left to print.
fn message(err: &Error) -> String {
    assert!(
        err.source().is_none(),
        "the cause is in the message, so source() must not repeat it: {err:?}"
    );
    err.to_string()
}

fn signed(secrets: &str) -> ConnectionSettings {
    let mut s = ConnectionSettings::new("http://127.0.0.1:1");
    s.appwire.secrets_location = secrets.to_owned();
    s
}

#[tokio::test(start_paused = true)]
async fn a_call_that_ran_out_of_retries_says_what_the_last_attempt_got() {
    let busy =
        always(Reply::status(503).body(r#"{"msg": "rebuilding the index", "tb": []}"#)).await;
    let mut s = settings(&[&busy]);
    s.retries = 2;
    let err = connect(s)
        .send(Request::get("e"))
        .await
        .expect_err("503 three times");
    assert_eq!(
        message(&err),
        format!(
            "gave up after 3 attempt(s): last: 503 Service Unavailable from {}: rebuilding the index",
            busy.url
        )
    );
    let last = err.last_attempt().expect("the last attempt's error");
    assert!(
        matches!(last, Error::Status(r) if r.status == 503),
        "{last:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_connection_says_it_was_refused() {
    let dead = refusing().await;
    let mut s = settings(&[&dead]);
    s.retries = 0;
    let err = connect(s)
        .send(Request::get("e"))
        .await
        .expect_err("refused");
    let text = message(&err);
    let last = err.last_attempt().expect("the last attempt's error");
    assert!(matches!(last, Error::Transport { .. }), "{last:?}");
    assert_eq!(
        text,
        format!("gave up after 1 attempt(s): last: {}", message(last))
    );
    let start = format!("cannot connect on {}: ", dead.url);
    assert!(message(last).starts_with(&start), "{text}");
    assert!(text.contains("Connection refused"), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_body_that_does_not_decode_says_where_it_stops_being_json() {
    let garbage = always(Reply::json("{\"id\": ")).await;
    let raw = connect(settings(&[&garbage]))
        .send(Request::get("e"))
        .await
        .expect("a 200");
    let err = raw.json::<ErrorInfo>().expect_err("not JSON");
    assert_eq!(
        message(&err),
        "cannot decode the response body (status 200 OK): EOF while parsing a value at line 1 column 7"
    );
}

#[test]
fn a_missing_client_key_names_the_file_and_why_it_cannot_be_read() {
    let err = Connection::builder("target", target(), signed("/nonexistent/secrets"), CALLER)
        .build()
        .expect_err("no key");
    assert_eq!(
        message(&err),
        "connection `target`: cannot read the client app key \
         `/nonexistent/secrets/.private/caller_app.1x0.pem`: No such file or directory (os error 2)"
    );
}

#[test]
fn a_client_key_that_does_not_decrypt_says_so() {
    let path = ClientKey::path(KEYS, "test_caller.1x0");
    let build = |passphrase: Option<&str>| {
        let builder = Connection::builder("target", target(), signed(KEYS), "test_caller.1x0");
        match passphrase {
            Some(p) => builder.auth_passphrase(SecretString::new(p)),
            None => builder,
        }
        .build()
        .expect_err("not decrypted")
    };
    let shown = Path::display(&path);
    assert_eq!(
        message(&build(Some("wrong"))),
        format!(
            "connection `target`: client app key `{shown}`: the key does not decrypt with the \
             passphrase given"
        )
    );
    assert_eq!(
        message(&build(None)),
        format!(
            "connection `target`: client app key `{shown}`: the key is encrypted and no \
             passphrase was given"
        )
    );
}
