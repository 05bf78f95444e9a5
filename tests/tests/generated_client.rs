//! Generated clients calling a loopback server: the exact requests it receives (method, path,
//! query, headers, body) and the typed values the client decodes from its answers.

use std::collections::HashMap;
use std::time::Duration;

use appwire::{CallContext, CallOptions, Client, RawResponse, StatusCode};
use appwire_test_support::{Captured, Host, Reply, scripted};
use appwire_tests::built::inventory::{
    GetItemResponse, Inventory, InventoryAdmin, Item, ItemKind, ItemNotFound, ReindexOptions,
    SaveItemResponse,
};

const ITEM: &str = r#"{"id": "i-1", "name": "Hammer", "kind": "tool", "price": 9.5,
    "tags": ["steel"], "self": true, "dimensions": {"width": 2.0}}"#;

fn env(host: &Host) -> HashMap<String, String> {
    HashMap::from([("INVENTORY_HOSTS".to_owned(), host.url.clone())])
}

/// A client of `host` with the manifest's settings.
fn inventory(host: &Host) -> Inventory {
    let connection = Inventory::builder(&env(host)).expect("settings");
    Inventory::new(connection.build().expect("client"))
}

fn hammer() -> Item {
    serde_json::from_str(ITEM).expect("item")
}

/// What hopeit's apps-client sends with every call.
fn assert_hopeit_headers(request: &Captured) {
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("x-track-client-app-key"),
        Some("shop_front.1x0")
    );
    assert!(
        request
            .header("x-track-request-id")
            .is_some_and(|id| id.len() == 36)
    );
    assert!(request.header("x-track-request-ts").is_some());
    assert_eq!(
        request.header("authorization"),
        None,
        "UNSECURED sends no credentials"
    );
}

#[tokio::test]
async fn a_get_with_declared_alternatives() {
    let host = scripted(|n, _| match n {
        0 => Reply::json(ITEM),
        1 => Reply::status(404)
            .content_type("application/json")
            .body(r#"{"id": "i-2"}"#),
        _ => Reply::status(503)
            .content_type("application/json")
            .body(r#"{"get_item": "rebuilding"}"#),
    })
    .await;
    let client = inventory(&host);

    let found = client
        .get_item("i 1&2", Some("legacy"), None, "s-1")
        .await
        .expect("call");
    assert_eq!(found.status, 200);
    assert!(
        matches!(&found.value, GetItemResponse::Ok(item) if *item == hammer()),
        "{:?}",
        found.value
    );
    let request = host.last();
    assert_eq!(request.method, "GET");
    assert_eq!(request.path, "/api/inventory/2x1/get-item");
    assert_eq!(
        request.query.as_deref(),
        Some("item_id=i+1%262&itemId=legacy")
    );
    assert!(request.body.is_empty(), "GET sends no body");
    assert_hopeit_headers(&request);
    // The target's required track header, a typed argument.
    assert_eq!(request.header("x-track-session-id"), Some("s-1"));

    let missing = client
        .get_item("i-2", None, Some("kit"), "s-1")
        .await
        .expect("declared 404");
    assert_eq!(missing.status, 404);
    assert!(
        matches!(&missing.value, GetItemResponse::NotFound(ItemNotFound { id }) if id == "i-2"),
        "{:?}",
        missing.value
    );
    assert_eq!(host.last().query.as_deref(), Some("item_id=i-2&type=kit"));

    // A declared 503 is an answer: decoded, not retried (the connection allows 2 retries).
    let busy = client
        .get_item("i-3", None, None, "s-1")
        .await
        .expect("declared 503");
    assert!(matches!(&busy.value, GetItemResponse::ServiceUnavailable(s) if s == "rebuilding"));
    assert_eq!(host.hits(), 3);
}

#[tokio::test]
async fn plain_values_text_lists_and_route_overrides() {
    let host = scripted(|_, request| match request.path.as_str() {
        "/custom/-stock-count" => Reply::json(r#"{"stock.count": 42}"#),
        "/api/inventory/2x1/describe" => Reply::status(200)
            .content_type("text/plain")
            .body("A hammer"),
        "/api/inventory/2x1/save-item" => Reply::json(&format!("[{ITEM}, {ITEM}]")),
        "/api/inventory/2x1/rename" => Reply::json(r#"{"rename": "Mallet"}"#),
        _ => Reply::status(404),
    })
    .await;
    let client = inventory(&host);

    // `routes_override` of the settings, mangled as hopeit does.
    let count = client
        .stock_count(Some(3), Some(true))
        .await
        .expect("count");
    assert_eq!(count.value, 42);
    let request = host.last();
    assert_eq!(request.path, "/custom/-stock-count");
    assert_eq!(
        request.query.as_deref(),
        Some("warehouse=3&include_reserved=true")
    );

    let text = client.describe().await.expect("describe");
    assert_eq!(text.value, "A hammer");

    let saved = client.save_item(&hammer()).await.expect("save");
    assert!(
        matches!(&saved.value, SaveItemResponse::Ok(items) if items.len() == 2 && items[0].kind == ItemKind::Tool)
    );
    let request = host.last();
    assert_eq!(request.method, "POST");
    let body: serde_json::Value = serde_json::from_slice(&request.body).expect("JSON body");
    assert_eq!(
        body,
        serde_json::from_str::<serde_json::Value>(ITEM).expect("item")
    );
    assert_hopeit_headers(&request);

    // A plain payload travels as `{"value": v}`, a plain result comes back as `{"<event>": v}`.
    let renamed = client.rename("i-1", "Mallet").await.expect("rename");
    assert_eq!(renamed.value, "Mallet");
    let request = host.last();
    assert_eq!(request.query.as_deref(), Some("item_id=i-1"));
    assert_eq!(&request.body[..], br#"{"value":"Mallet"}"#);
}

#[tokio::test]
async fn a_plugin_connection_shares_the_apps_types() {
    let host = scripted(|_, _| Reply::json(r#"{"reindex": 7}"#)).await;
    let connection = InventoryAdmin::builder(&env(&host)).expect("settings");
    let admin = InventoryAdmin::new(connection.build().expect("client"));
    let options = ReindexOptions {
        full: Some(true),
        batch: None,
    };
    let n = admin.reindex(&options).await.expect("reindex");
    assert_eq!(n.value, 7);
    let request = host.last();
    assert_eq!(request.path, "/api/inventory/2x1/admin-tools/2x1/reindex");
    assert_eq!(&request.body[..], br#"{"full":true}"#);
}

#[tokio::test]
async fn untyped_methods_take_the_callers_types() {
    use appwire_tests::snapshots::client_example_untyped_rs::SimpleExampleConn;

    let host = scripted(|_, _| Reply::json(r#"{"save_something": "saved"}"#)).await;
    let env = HashMap::from([("HOPEIT_SIMPLE_EXAMPLE_HOSTS".to_owned(), host.url.clone())]);
    let connection = SimpleExampleConn::builder(&env)
        .expect("settings")
        .with_settings(|s| s.auth_strategy = appwire::AuthStrategy::Unsecured);
    let client = SimpleExampleConn::new(connection.build().expect("client"));
    #[derive(serde::Serialize)]
    struct Thing {
        id: &'static str,
    }
    let saved: appwire::Response<String> = client
        .save_something(&[("user", "u")], &Thing { id: "a" })
        .await
        .expect("saved");
    assert_eq!(saved.value, "saved");
    let request = host.last();
    assert_eq!(request.path, "/api/simple-example/0x30/save-something");
    assert_eq!(request.query.as_deref(), Some("user=u"));
    assert_eq!(&request.body[..], br#"{"id":"a"}"#);
}

#[tokio::test]
async fn client_options_and_per_call_options() {
    let host = scripted(|_, _| Reply::json(ITEM)).await;
    let context = CallContext::new()
        .with_event_name("show_item")
        .with_track_id("track.request_id", "r-1");
    let options = CallOptions::new()
        .attempt_timeout(Duration::from_secs(2))
        .context(context);
    let client = inventory(&host).with_options(options);

    let answer = client
        .get_item("i-1", None, None, "s-42")
        .deadline(Duration::from_secs(5))
        .await
        .expect("call");
    assert!(matches!(answer.value, GetItemResponse::Ok(_)));
    let request = host.last();
    assert_eq!(
        request.header("x-track-client-event-name"),
        Some("show_item")
    );
    assert_eq!(request.header("x-track-session-id"), Some("s-42"));
    assert_eq!(request.header("x-track-request-id"), Some("r-1"));

    let other = CallContext::new().with_event_name("edit_item");
    client
        .get_item("i-1", None, None, "s-42")
        .context(other)
        .await
        .expect("call");
    assert_eq!(
        host.last().header("x-track-client-event-name"),
        Some("edit_item"),
        "a call's own context wins over the client's"
    );
}

/// Code that uses a generated client is tested with a stand-in for the target: it sees the
/// requests the client would send, and its answers decode as the target's would.
#[tokio::test]
async fn a_stand_in_answers_for_the_target() {
    let stand_in = Client::stand_in(|request| {
        assert_eq!(request.event(), "get_item");
        let id = &request.query_pairs()[0].1;
        match id.as_str() {
            "i-1" => RawResponse::from_json(StatusCode::OK, &hammer()),
            "i-2" => RawResponse::from_json(StatusCode::NOT_FOUND, &serde_json::json!({"id": id})),
            _ => RawResponse::from_json(StatusCode::CONFLICT, &"undeclared"),
        }
    })
    .expect("stand-in");
    let client = Inventory::new(stand_in);
    let found = client
        .get_item("i-1", None, None, "s")
        .await
        .expect("found");
    assert!(matches!(&found.value, GetItemResponse::Ok(item) if *item == hammer()));
    let missing = client.get_item("i-2", None, None, "s").await.expect("404");
    assert!(
        matches!(&missing.value, GetItemResponse::NotFound(ItemNotFound { id }) if id == "i-2")
    );
    let err = client
        .get_item("i-3", None, None, "s")
        .await
        .expect_err("undeclared 409");
    assert_eq!(err.status(), Some(StatusCode::CONFLICT));
    assert_eq!(client.client().connection().name(), "stand-in");
}

#[tokio::test]
async fn a_header_argument_that_cannot_be_sent_fails_the_call() {
    let host = scripted(|_, _| Reply::json(ITEM)).await;
    let err = inventory(&host)
        .get_item("i-1", None, None, "line\nbreak")
        .await
        .expect_err("invalid header");
    assert!(matches!(err, appwire::Error::InvalidRequest(_)), "{err:?}");
    assert_eq!(host.hits(), 0, "nothing was sent");
}

#[tokio::test]
async fn a_missing_variable_is_named() {
    let err = Inventory::builder(&HashMap::<String, String>::new()).expect_err("no hosts");
    assert!(err.to_string().contains("INVENTORY_HOSTS"), "{err}");
}
