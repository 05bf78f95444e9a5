//! What the examples share: local target hosts that answer like a hopeit.engine `catalog` app
//! (the routes, payloads and error bodies of `quickstart/catalog.openapi.json`).

use std::collections::HashMap;

pub use appwire_test_support::Host;
use appwire_test_support::{Captured, Reply, scripted};

/// Starts a catalog host on a free loopback port; `name` is reported in each item it serves.
pub async fn catalog_host(name: &'static str) -> Host {
    scripted(move |_, request| answer(name, request)).await
}

fn answer(name: &str, request: &Captured) -> Reply {
    let query = request.query.as_deref().unwrap_or_default();
    let arg = |key: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    };
    let item = |id: &str| serde_json::json!({"id": id, "name": format!("Item {id}"), "price": 9.5, "served_by": name});
    match request.path.as_str() {
        "/api/catalog/0x30/get-item" => match arg("item_id") {
            Some(id) if id.starts_with("missing") => Reply::status(404)
                .content_type("application/json")
                .body(serde_json::json!({"item_id": id}).to_string()),
            Some(id) => Reply::json(&item(&id).to_string()),
            // hopeit answers a missing required argument with 400 and its error body.
            None => Reply::status(400)
                .content_type("text/plain")
                .body(r#"{"msg": "Missing query argument: item_id", "tb": []}"#),
        },
        "/api/catalog/0x30/list-items" => {
            let limit: usize = arg("limit").and_then(|l| l.parse().ok()).unwrap_or(3);
            let items: Vec<_> = (1..=limit).map(|i| item(&format!("item-{i}"))).collect();
            Reply::json(&serde_json::Value::from(items).to_string())
        }
        "/api/catalog/0x30/save-item" => {
            let id = serde_json::from_slice::<serde_json::Value>(&request.body)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned))
                .unwrap_or_default();
            Reply::json(&serde_json::json!({"save_item": id}).to_string())
        }
        _ => Reply::status(404),
    }
}

/// The environment the clients read their settings from: `CATALOG_HOSTS` lists `hosts`.
pub fn env(hosts: &[&Host]) -> HashMap<String, String> {
    let urls: Vec<&str> = hosts.iter().map(|h| h.url.as_str()).collect();
    HashMap::from([("CATALOG_HOSTS".to_owned(), urls.join(","))])
}
