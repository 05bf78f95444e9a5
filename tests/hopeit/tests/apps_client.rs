//! The scenarios of hopeit's own apps-client unit tests
//! (`plugins/clients/apps-client/test/unit/test_apps_client.py`), which mock aiohttp, played
//! by the generated clients against real hopeit servers. Each test is named after its scenario;
//! "host1" and "host2" are two instances of the target app.
//!
//! Two scenarios have no counterpart: an event the caller did not declare
//! (`AppConnectionNotFound`) has no method in the generated client, and a connection's HTTP
//! client lives as long as the connection (no session to start and stop).

mod common;

use std::time::Duration;

use appwire::auth::AuthError;
use appwire::breaker::BreakerState;
use appwire::{CallOptions, Error, SecretString};
use appwire_hopeit_tests::clients::AuthEcho;
use appwire_hopeit_tests::clients::TargetSigned;
use appwire_hopeit_tests::clients::appwire_target::{Item, LookupResponse, NotFound, Target};
use common::{SESSION, from_event, host, instance, is_open};
use tokio::time::Instant;

fn hosts(fleet: &appwire_hopeit_tests::Fleet) -> (String, String) {
    let [host1, host2] = fleet.servers() else {
        panic!("two instances")
    };
    (host1.instance(), host2.instance())
}

#[tokio::test]
async fn get_with_query_param() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let answer = target
        .inspect("item-1", 2, None, SESSION)
        .await
        .expect("GET");
    assert_eq!(answer.status, 200);
    let query = &answer.value.query;
    assert_eq!(
        (query["item_id"].as_str(), query["qty"].as_str()),
        ("item-1", "2")
    );
}

#[tokio::test]
async fn post_list_response() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let item = Item {
        id: "i-1".into(),
        name: "Hammer".into(),
        qty: 10,
        tags: None,
        price: None,
    };
    let parts = target
        .split_item(2, SESSION, &item)
        .await
        .expect("POST")
        .value;
    assert_eq!(parts.len(), 2);
    assert!(parts.iter().all(|p| p.qty == 5 && p.name == "Hammer"));
}

#[tokio::test]
async fn plugin_route_with_forward_context_sends_basic_auth() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let plugin = AuthEcho::builder(fleet.env())
        .and_then(|b| b.build())
        .map(AuthEcho::new)
        .expect("client");
    let incoming = common::context("forward").with_authorization("Basic dXNlcjpwYXNz");
    let options = CallOptions::new().context(incoming);

    let answer = plugin
        .with_options(options)
        .whoami(SESSION)
        .await
        .expect("whoami");
    assert_eq!(answer.value.auth_type, "Basic");
    assert_eq!(answer.value.payload, "dXNlcjpwYXNz");
    // `/api/appwire-target/1x0/auth-echo/1x0/whoami`, run by the plugin on the target app.
    assert_eq!(answer.headers["x-event-app"], "appwire_target.1x0");
    assert_eq!(answer.headers["x-event-plugin"], "auth_echo.1x0");

    // With nothing to forward the call is not made (hopeit fails with a `KeyError`).
    let err = plugin
        .with_options(from_event("forward"))
        .whoami(SESSION)
        .await
        .expect_err("nothing to forward");
    assert!(
        matches!(err, Error::Auth(AuthError::NothingToForward)),
        "{err:?}"
    );
}

#[tokio::test]
async fn unsecured_sends_no_authorization_header() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    assert!(target.inspect("i-1", 1, None, SESSION).await.is_ok());
    // The Bearer-only event tells whether an Authorization header arrived.
    let err = target.secret(SESSION).await.expect_err("no credentials");
    let text = err.response().expect("response").text().into_owned();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    assert!(
        text.contains(r#"{"authorization": "is required"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn round_robin_host1_host2_host1() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    let (host1, host2) = hosts(&fleet);
    let target = common::target(&fleet);
    let mut answered = Vec::new();
    for _ in 0..3 {
        answered.push(instance(&target).await);
    }
    assert_eq!(answered, [host1.clone(), host2, host1]);
}

#[tokio::test]
async fn retry_fails_over_to_host2() {
    let Some(mut fleet) = common::fleet(2).await else {
        return;
    };
    let (_, host2) = hosts(&fleet);
    fleet.servers_mut()[0].stop().await.expect("stop host1");
    let target = common::target(&fleet);

    assert_eq!(instance(&target).await, host2);
    assert_eq!(host(common::connection(target.client()), 0).failures, 1);
    assert_eq!(host(common::connection(target.client()), 1).failures, 0);
}

#[tokio::test]
async fn both_hosts_failing_is_an_error() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    let target = common::target(&fleet);
    let err = target.explode(SESSION).await.expect_err("both fail");
    assert!(
        matches!(&err, Error::RetriesExhausted { attempts: 2, last } if last.status().is_some_and(|s| s == 500)),
        "{err:?}"
    );
    // One attempt on each host.
    assert_eq!(host(common::connection(target.client()), 0).failures, 1);
    assert_eq!(host(common::connection(target.client()), 1).failures, 1);
}

#[tokio::test]
async fn retries_0_makes_one_attempt() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    let mut settings = fleet.settings("target").expect("settings");
    settings.retries = 0;
    let target = Target::builder(fleet.env())
        .and_then(|b| b.with_settings(|s| *s = settings).build())
        .map(Target::new)
        .expect("client")
        .with_options(from_event("browse"));
    let err = target.explode(SESSION).await.expect_err("fails");
    assert!(
        matches!(&err, Error::RetriesExhausted { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(host(common::connection(target.client()), 0).failures, 1);
    assert_eq!(host(common::connection(target.client()), 1).failures, 0);
}

#[tokio::test]
async fn status_401_is_unauthorized() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    let (host1, host2) = (fleet.servers()[0].url(), fleet.servers()[1].url());
    let mut settings = fleet.settings("target_signed").expect("settings");
    settings.appwire.bearer_token = Some(SecretString::new(common::forged_token()));
    let forged = TargetSigned::builder(fleet.env())
        .and_then(|b| b.with_settings(|s| *s = settings).build())
        .map(TargetSigned::new)
        .expect("client")
        .with_options(from_event("sign_in"));

    // Not retried: each call is answered by the host whose turn it is.
    for expected in [host1, host2] {
        match forged.secret(SESSION).await {
            Err(Error::Unauthorized(response)) => assert_eq!(response.host, expected),
            other => panic!("{other:?}"),
        }
    }
    // Not a failure of the host either.
    let hosts = common::connection(forged.client()).snapshot();
    assert!(hosts.iter().all(|h| h.failures == 0), "{hosts:?}");
}

#[tokio::test]
async fn breaker_opens_after_n_failures() {
    let Some(mut fleet) = common::fleet(2).await else {
        return;
    };
    let (_, host2) = hosts(&fleet);
    fleet.servers_mut()[0].stop().await.expect("stop host1");
    let target = common::target(&fleet);
    let conn = common::connection(target.client());

    // `circuit_breaker_open_failures: 2`; every call is answered by host2 meanwhile.
    assert_eq!(instance(&target).await, host2);
    let host1 = host(conn, 0);
    assert_eq!((host1.state, host1.failures), (BreakerState::Closed, 1));
    assert_eq!(instance(&target).await, host2);
    let host1 = host(conn, 0);
    assert!(is_open(&host1), "{host1:?}");
    assert_eq!(host1.failures, 2);
    // Open, host1 is not tried: its count stays.
    assert_eq!(instance(&target).await, host2);
    assert_eq!(host(conn, 0).failures, 2);
    assert_eq!(host(conn, 1).state, BreakerState::Closed);
}

#[tokio::test]
async fn all_hosts_open_is_no_healthy_host() {
    let Some(fleet) = common::fleet(2).await else {
        return;
    };
    // Open long enough that no breaker half-opens before the last call, however slow the run.
    let mut settings = fleet.settings("target").expect("settings");
    settings.circuit_breaker_open_seconds = 30;
    let target = Target::builder(fleet.env())
        .and_then(|b| b.with_settings(|s| *s = settings).build())
        .map(Target::new)
        .expect("client")
        .with_options(from_event("browse"));
    // Two failing calls, each failing on both hosts, open both breakers.
    for _ in 0..2 {
        assert!(target.explode(SESSION).await.is_err());
    }
    // Then no call leaves, whatever its event.
    let err = target
        .inspect("i-1", 1, None, SESSION)
        .await
        .expect_err("no healthy host");
    let Error::NoHealthyHost { connection, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(connection, "target");
    let wait = err.retry_after().expect("a re-opening time");
    assert!(wait <= Duration::from_secs(30), "{wait:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn breaker_recovery_timeline() {
    let Some(mut fleet) = common::fleet(2).await else {
        return;
    };
    let (host1, host2) = hosts(&fleet);
    fleet.servers_mut()[0].stop().await.expect("stop host1");
    let target = common::target(&fleet);
    let conn = common::connection(target.client());

    // Two failures open host1 for `circuit_breaker_open_seconds` (1 s); calls go to host2.
    for _ in 0..3 {
        assert_eq!(instance(&target).await, host2);
    }
    assert!(is_open(&host(conn, 0)));
    assert_eq!(host(conn, 0).openings, 1);

    // Half-open, it gets one probe, which fails: open again, for longer (2 s).
    common::until_half_open(conn, 0, Duration::from_secs(3)).await;
    assert_eq!(instance(&target).await, host2);
    let reopened = host(conn, 0);
    let BreakerState::Open { until } = reopened.state else {
        panic!("{reopened:?}")
    };
    assert_eq!(reopened.openings, 2);
    let open_for = until.saturating_duration_since(Instant::now());
    assert!(open_for > Duration::from_secs(1), "{open_for:?}");

    // Back up: the next probe succeeds, the breaker closes and the rotation resumes.
    fleet.servers_mut()[0].start().await.expect("restart host1");
    common::until_half_open(conn, 0, Duration::from_secs(4)).await;
    let mut answered = Vec::new();
    for _ in 0..3 {
        answered.push(instance(&target).await);
    }
    assert_eq!(
        answered,
        [host1.clone(), host2, host1],
        "{:?}",
        conn.snapshot()
    );
    let closed = host(conn, 0);
    assert_eq!(
        (closed.state, closed.failures, closed.openings),
        (BreakerState::Closed, 0, 0)
    );
}

#[tokio::test]
async fn responses_for_object_and_list() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let object = target
        .lookup("missing", SESSION)
        .await
        .expect("declared 404");
    assert!(
        matches!(&object.value, LookupResponse::NotFound(NotFound { item_id }) if item_id == "missing"),
        "{object:?}"
    );
    let list = target.lookup("twin", SESSION).await.expect("declared 409");
    let LookupResponse::Conflict(items) = &list.value else {
        panic!("{list:?}")
    };
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["Left", "Right"]);
}

#[tokio::test]
async fn text_plain_with_str() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let text = target.describe(SESSION).await.expect("text");
    assert_eq!(text.headers["content-type"], "text/plain");
    assert_eq!(text.value, "A catalog of items");
}

#[tokio::test]
async fn unhandled_status_with_status_and_body() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);
    let err = target
        .lookup("locked", SESSION)
        .await
        .expect_err("undeclared 403");
    let Error::Status(response) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(response.status, 403);
    assert_eq!(response.text(), r#"{"reason":"locked is locked"}"#);
    assert!(!err.is_retryable());
    assert_eq!(host(common::connection(target.client()), 0).failures, 0);
}
