//! The streams fixture: the `shop` app of `apps/streams/` on a real hopeit server with a real
//! Redis publishes in each compression, and consumes and relays hand-written messages.

use std::time::Duration;

use appwire_hopeit_tests::{Hopeit, HopeitStreams, shop};
use appwire_test_support::redis::{RedisServer, StreamEntry, skip_redis};
use tokio::time::{Instant, sleep};

/// A fresh Redis and the app's server on it, or `None` when a skip variable says so.
async fn start() -> Option<(RedisServer, HopeitStreams)> {
    let hopeit = Hopeit::find().unwrap_or_else(|e| panic!("{e}"))?;
    if skip_redis() {
        return None;
    }
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let server = HopeitStreams::start(&hopeit, &redis.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Some((redis, server))
}

fn entries(redis: &RedisServer, key: &str) -> Vec<StreamEntry> {
    redis
        .command(&["XRANGE", key, "-", "+"])
        .expect("XRANGE")
        .entries()
        .unwrap_or_default()
}

/// The entries of `key` once there is one, within 20 s: an idle two-queue consumer of hopeit
/// reads each queue about every 4 s.
async fn wait_for_entries(
    redis: &RedisServer,
    key: &str,
    server: &HopeitStreams,
) -> Vec<StreamEntry> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = entries(redis, key);
        if !found.is_empty() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "nothing in {key} after 20 s; the server's log:\n{}",
            server.log()
        );
        sleep(Duration::from_millis(20)).await;
    }
}

fn text(entry: &StreamEntry, field: &str) -> String {
    entry
        .text(field)
        .unwrap_or_else(|| panic!("no {field} in {entry:?}"))
}

#[tokio::test]
async fn hopeit_publishes_on_both_queues_and_in_each_compression() {
    let Some((redis, server)) = start().await else {
        return;
    };
    let order = r#"{"order_id":"order-1","qty":7}"#;
    let (status, body) = server.post("place-order", order).await.expect("POST");
    assert_eq!(status, 200, "{body}");

    for (key, queue) in [
        (shop::FROM_HOPEIT.to_owned(), "AUTO"),
        (format!("{}.high", shop::FROM_HOPEIT), "high"),
    ] {
        let written = entries(&redis, &key);
        assert_eq!(written.len(), 1, "{key}: {written:?}");
        let entry = &written[0];
        assert_eq!(text(entry, "type"), shop::ORDER_TYPE);
        assert_eq!(text(entry, "id"), "order-1");
        assert_eq!(text(entry, "queue"), queue);
        assert_eq!(text(entry, "comp"), "lz4");
        assert_eq!(text(entry, "ser"), "json+base64");
    }

    for (path, stream, comp, ser) in shop::PUBLISHERS {
        let (status, body) = server.post(path, order).await.expect("POST");
        assert_eq!(status, 200, "{path}: {body}");
        let written = entries(&redis, stream);
        assert_eq!(written.len(), 1, "{stream}: {written:?}");
        let entry = &written[0];
        assert_eq!(text(entry, "type"), shop::ORDER_TYPE);
        assert_eq!(
            (text(entry, "comp"), text(entry, "ser")),
            (comp.to_owned(), ser.to_owned())
        );
        if comp == "none" && ser == "json" {
            assert_eq!(text(entry, "payload"), order);
        }
    }
}

#[tokio::test]
async fn hopeit_consumes_and_relays_hand_written_messages() {
    let Some((redis, server)) = start().await else {
        return;
    };
    // A message as a hopeit-free publisher writes it: every required field, no compression.
    let message = |key: &str, order_id: &str, queue: &str| {
        let payload = format!(r#"{{"order_id":"{order_id}","qty":1}}"#);
        let reply = redis
            .command(&[
                "XADD",
                key,
                "*",
                "id",
                order_id,
                "type",
                shop::ORDER_TYPE,
                "submit_ts",
                "2026-12-01T19:00:00+00:00",
                "event_ts",
                "",
                "auth_info",
                "e30=",
                "ser",
                "json",
                "comp",
                "none",
                "payload",
                &payload,
                "queue",
                queue,
            ])
            .expect("XADD");
        (reply.text().expect("an entry id"), payload)
    };

    let (sent_id, payload) = message(shop::TO_HOPEIT, "order-2", "AUTO");
    let (high_id, high_payload) = message(&format!("{}.high", shop::TO_HOPEIT), "order-3", "high");
    let (_, _) = message(shop::RELAY_IN, "order-4", "AUTO");

    let seen = wait_for_entries(&redis, shop::HOPEIT_SEEN, &server).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(text(&seen[0], "id"), "order-2");
    assert_eq!(text(&seen[0], "type"), shop::ORDER_TYPE);
    assert_eq!(text(&seen[0], "stream.msg_id"), sent_id);
    assert_eq!(
        text(&seen[0], "stream.consumer_group"),
        shop::TO_HOPEIT_GROUP
    );
    assert_eq!(text(&seen[0], "payload"), payload);
    assert_eq!(text(&seen[0], "queue"), "AUTO");

    let seen_high = wait_for_entries(&redis, &format!("{}.high", shop::HOPEIT_SEEN), &server).await;
    assert_eq!(text(&seen_high[0], "stream.msg_id"), high_id);
    assert_eq!(text(&seen_high[0], "payload"), high_payload);
    assert_eq!(text(&seen_high[0], "queue"), "high");

    let relayed = wait_for_entries(&redis, shop::RELAY_OUT, &server).await;
    assert_eq!(text(&relayed[0], "id"), "order-4");
    assert_eq!(
        text(&relayed[0], "stream.consumer_group"),
        shop::RELAY_GROUP
    );
    assert_eq!(
        (text(&relayed[0], "comp"), text(&relayed[0], "ser")),
        ("lz4".to_owned(), "json+base64".to_owned())
    );
}

#[tokio::test]
async fn a_streams_server_stops_cleanly() {
    let Some((redis, mut server)) = start().await else {
        return;
    };
    let started = Instant::now();
    server.stop().await.expect("stop");
    let clients = redis.command(&["CLIENT", "LIST"]).expect("CLIENT LIST");
    let clients = clients.text().unwrap_or_default();
    assert!(
        !clients.contains("cmd=xreadgroup"),
        "still reading after {:?}:\n{clients}",
        started.elapsed()
    );
    assert!(server.log().contains("Engine stopped."), "{}", server.log());
}
