//! The generated clients against a real hopeit.engine server: every event type and payload
//! encoding, query args, track headers, access tokens, declared and undeclared statuses.

mod common;

use appwire::{CallContext, CallOptions, Error, SecretString};
use appwire_hopeit_tests::clients::AuthEcho;
use appwire_hopeit_tests::clients::TargetSigned;
use appwire_hopeit_tests::clients::appwire_target::{Busy, Item, LookupResponse, NotFound, Target};
use common::{SESSION, from_event};

fn item() -> Item {
    Item {
        id: "i-7".into(),
        name: "Dvořák & Sons \"quoted\"".into(),
        qty: 12,
        tags: Some(vec!["steel".into(), "a b&c".into()]),
        price: Some(9.5),
    }
}

#[tokio::test]
async fn every_event_type_and_payload_encoding_round_trips() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);

    // POST with a data object: the server reads every field as sent, and fills its defaults.
    assert_eq!(
        target
            .save_item(SESSION, &item())
            .await
            .expect("save")
            .value,
        item()
    );
    let bare = Item {
        tags: None,
        price: None,
        ..item()
    };
    let saved = target
        .save_item(SESSION, &bare)
        .await
        .expect("save bare")
        .value;
    assert_eq!(saved.tags, Some(vec![]));
    assert_eq!(saved.price, None);

    // POST answered with a list; GET answered with a list.
    let parts = target
        .split_item(3, SESSION, &item())
        .await
        .expect("split")
        .value;
    let ids: Vec<&str> = parts.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["i-7-1", "i-7-2", "i-7-3"]);
    assert!(parts.iter().all(|p| p.qty == 4 && p.tags == item().tags));
    let listed = target.list_items(2, SESSION).await.expect("list").value;
    assert_eq!(
        listed.iter().map(|i| i.name.as_str()).collect::<Vec<_>>(),
        ["Item 0", "Item 1"]
    );

    // Plain results come as `{"<event>": v}`; a plain payload goes as `{"value": v}`.
    assert_eq!(
        target.item_name("i-7", SESSION).await.expect("name").value,
        "Name of i-7"
    );
    assert_eq!(target.item_count(SESSION).await.expect("count").value, 42);
    let renamed = target
        .rename("i-7", SESSION, "Mallet ✓")
        .await
        .expect("rename");
    assert_eq!(renamed.value, "i-7 is now Mallet ✓");

    // A plain result sent as text/plain.
    let described = target.describe(SESSION).await.expect("describe");
    assert_eq!(described.headers["content-type"], "text/plain");
    assert_eq!(described.value, "A catalog of items");

    // A dotted event name: route `/stock/count`, result under `"stock.count"`.
    assert_eq!(
        target.stock_count(3, SESSION).await.expect("stock").value,
        103
    );

    // An OnApp plugin's event, and a Bearer-only event.
    let basic = CallOptions::new()
        .context(common::context("forward").with_authorization("Basic dXNlcjpwYXNz"));
    let plugin = AuthEcho::builder(fleet.env())
        .and_then(|b| b.build())
        .map(AuthEcho::new)
        .expect("plugin client")
        .with_options(basic);
    assert_eq!(
        plugin.whoami(SESSION).await.expect("whoami").value.payload,
        "dXNlcjpwYXNz"
    );
    let signed = common::target_signed(&fleet);
    assert_eq!(
        signed.secret(SESSION).await.expect("secret").value.app,
        "appwire_caller.1x0"
    );
}

#[tokio::test]
async fn query_args_reach_the_step_as_sent() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);

    let odd = "a b&c=d/é+%20?#";
    let seen = target
        .inspect(odd, -3, Some("ñ"), SESSION)
        .await
        .expect("inspect");
    let query = &seen.value.query;
    assert_eq!(query.len(), 3, "{query:?}");
    assert_eq!(query["item_id"], odd);
    assert_eq!(query["qty"], "-3", "the step gets query args as strings");
    assert_eq!(query["note"], "ñ");

    let seen = target
        .inspect("i-1", 0, None, SESSION)
        .await
        .expect("inspect");
    assert!(
        !seen.value.query.contains_key("note"),
        "an optional arg left out is not sent"
    );
}

#[tokio::test]
async fn track_headers_reach_the_target_including_its_required_custom_one() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let context = CallContext::new()
        .with_event_name("browse")
        .with_track_id("track.session_id", SESSION)
        .with_track_id("track.operation_id", "op-1")
        .with_track_id("track.request_id", "req-1");
    let target = Target::builder(fleet.env())
        .and_then(|b| b.build())
        .map(Target::new)
        .expect("client")
        .with_options(CallOptions::new().context(context));

    let seen = target
        .inspect("i-1", 1, None, SESSION)
        .await
        .expect("inspect");
    let track = &seen.value.track;
    assert_eq!(track["track.session_id"], SESSION);
    assert_eq!(track["track.operation_id"], "op-1");
    assert_eq!(track["track.request_id"], "req-1");
    assert_eq!(track["track.client_app_key"], "appwire_caller.1x0");
    assert_eq!(track["track.client_event_name"], "browse");
    assert_eq!(track["event.app"], "appwire_target.1x0");
    assert!(track.contains_key("track.request_ts"), "{track:?}");
    // The server echoes them as response headers.
    assert_eq!(seen.headers["x-track-session-id"], SESSION);
    assert_eq!(seen.headers["x-track-request-id"], "req-1");

    // Without a request id, each call gets a fresh one.
    let target = common::target(&fleet);
    let first = target
        .inspect("i-1", 1, None, SESSION)
        .await
        .expect("inspect")
        .value;
    let second = target
        .inspect("i-1", 1, None, SESSION)
        .await
        .expect("inspect")
        .value;
    let id = &first.track["track.request_id"];
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert_ne!(id, &second.track["track.request_id"]);

    // The target's spec requires `X-Track-Session-Id`: the generated method takes it, so a
    // client without a context still sends it.
    let bare = Target::builder(fleet.env())
        .and_then(|b| b.build())
        .map(Target::new)
        .expect("client");
    let seen = bare
        .inspect("i-1", 1, None, "session-7")
        .await
        .expect("inspect");
    assert_eq!(seen.value.track["track.session_id"], "session-7");

    // Its server refuses a call without it.
    let connection = common::connection(bare.client());
    let request = appwire::Request::get("inspect")
        .query("item_id", "i-1")
        .query("qty", 1);
    let err = connection.send(request).await.expect_err("refused");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
    let text = err.response().expect("a response").text();
    assert!(text.contains("x-track-session-id"), "{text}");
}

#[tokio::test]
async fn client_app_public_key_tokens_are_accepted_and_forged_ones_refused() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };

    // A JWT signed with the caller's key, which hopeit created: the server names the caller.
    let signed = common::target_signed(&fleet);
    for _ in 0..2 {
        assert_eq!(
            signed.secret(SESSION).await.expect("signed").value.app,
            "appwire_caller.1x0"
        );
    }

    // The same claims, not signed by that key: 401, which is `Error::Unauthorized`.
    let mut settings = fleet.settings("target_signed").expect("settings");
    settings.appwire.bearer_token = Some(SecretString::new(common::forged_token()));
    let forged = TargetSigned::builder(fleet.env())
        .and_then(|b| b.with_settings(|s| *s = settings).build())
        .map(TargetSigned::new)
        .expect("client")
        .with_options(from_event("sign_in"));
    match forged.secret(SESSION).await {
        Err(Error::Unauthorized(response)) => {
            assert_eq!(response.info.expect("hopeit's error body").msg, "Bearer");
        }
        other => panic!("{other:?}"),
    }

    // No credentials at all: the server's request validation refuses the call first.
    let unsecured = common::target(&fleet);
    let err = unsecured.secret(SESSION).await.expect_err("refused");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400), "{err}");
}

#[tokio::test]
async fn declared_404_409_and_503_decode_to_their_types() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let target = common::target(&fleet);

    let found = target.lookup("i-9", SESSION).await.expect("found");
    assert!(
        matches!(&found.value, LookupResponse::Ok(item) if item.id == "i-9"),
        "{found:?}"
    );
    let missing = target
        .lookup("missing", SESSION)
        .await
        .expect("declared 404");
    assert_eq!(missing.status, 404);
    assert!(
        matches!(&missing.value, LookupResponse::NotFound(NotFound { item_id }) if item_id == "missing"),
        "{missing:?}"
    );
    let twins = target.lookup("twin", SESSION).await.expect("declared 409");
    assert_eq!(twins.status, 409);
    assert!(
        matches!(&twins.value, LookupResponse::Conflict(items) if items.len() == 2),
        "{twins:?}"
    );
    // A declared 503 is an answer: decoded, not retried, no failure for the breaker.
    let busy = target.lookup("busy", SESSION).await.expect("declared 503");
    assert_eq!(busy.status, 503);
    assert!(
        matches!(
            busy.value,
            LookupResponse::ServiceUnavailable(Busy { retry_in: 5 })
        ),
        "{busy:?}"
    );
    assert_eq!(
        common::host(common::connection(target.client()), 0).failures,
        0
    );
}

#[tokio::test]
async fn undeclared_400_401_and_500_map_to_their_errors() {
    let Some(fleet) = common::fleet(1).await else {
        return;
    };
    let with_token = |token: String| {
        let mut settings = fleet.settings("target_signed").expect("settings");
        settings.appwire.bearer_token = Some(SecretString::new(token));
        TargetSigned::builder(fleet.env())
            .and_then(|b| b.with_settings(|s| *s = settings).build())
            .map(TargetSigned::new)
            .expect("client")
            .with_options(from_event("sign_in"))
    };

    // 400 from hopeit itself: its error body is JSON, labelled text/plain.
    let malformed = with_token("not a token".into());
    let err = malformed.secret(SESSION).await.expect_err("400");
    let Error::Status(response) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(response.status, 400);
    assert_eq!(
        response.headers["content-type"],
        "text/plain; charset=utf-8"
    );
    let info = response.info.as_ref().expect("hopeit's error body");
    assert_eq!(info.msg, "Malformed Authorization");
    assert!(!err.is_retryable());

    // 401: `Unauthorized`, neither retried nor a failure for the breaker.
    let forged = with_token(common::forged_token());
    let err = forged.secret(SESSION).await.expect_err("401");
    let Error::Unauthorized(response) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(response.status, 401);
    assert_eq!(
        response.info.as_ref().map(|i| i.msg.as_str()),
        Some("Bearer")
    );
    assert!(!err.is_retryable());
    assert_eq!(
        common::host(common::connection(forged.client()), 0).failures,
        0
    );

    // 500: retried (the one host again), then the last attempt's error with hopeit's body.
    let target = common::target(&fleet);
    let err = target.explode(SESSION).await.expect_err("500");
    let Error::RetriesExhausted { attempts: 2, last } = &err else {
        panic!("{err:?}")
    };
    assert!(matches!(**last, Error::Status(_)), "{last:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    let info = err.response().and_then(|r| r.info.as_ref()).expect("body");
    assert_eq!(info.msg, "the catalog exploded");
    assert_eq!(info.tb, ["RuntimeError: the catalog exploded\n"]);
    assert!(err.is_retryable());
    assert_eq!(
        common::host(common::connection(target.client()), 0).failures,
        2
    );
}
