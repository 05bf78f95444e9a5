//! appwire's typed messaging against hopeit.engine 0.30.1 on a real Redis: appwire publishes
//! and hopeit consumes (every compression, both serializations, both queues), hopeit publishes
//! and appwire consumes, a relay through both, and a poison message that appwire dead-letters
//! where a hopeit consumer would die. Waits are bounded; counts are exact.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use appwire::messages::redis::RedisBroker;
use appwire::messages::{
    Compression, DEFAULT_MAX_DECODED_SIZE, Delivery, Envelope, Handler, HandlerError, Publisher,
    PublisherOptions, QueueStrategy, REASON_DECODE, Runner, Serialization, SharedBroker, Streams,
    Subscriber, SubscriberOptions, dead_letter_key,
};
use appwire::{CallContext, REQUEST_ID, REQUEST_TS};
use appwire_hopeit_tests::{Hopeit, HopeitStreams, shop};
use appwire_test_support::redis::{RedisServer, Resp, StreamEntry, skip_redis};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::time::{Instant, sleep, timeout};

/// The app key hopeit sends as `event.app`.
const APP_KEY: &str = "shop.1x0";
/// The longest any one expected delivery may take: an idle two-queue hopeit consumer reads
/// each queue about every 4 s.
const WAIT: Duration = Duration::from_secs(30);
/// The longest a whole batch may take to go through hopeit.
const BATCH_WAIT: Duration = Duration::from_secs(90);

/// The `shop` app's payload, `shop.model.OrderPlaced`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
struct OrderPlaced {
    order_id: String,
    qty: i64,
}

fn order(order_id: impl Into<String>, qty: i64) -> OrderPlaced {
    OrderPlaced {
        order_id: order_id.into(),
        qty,
    }
}

/// A fresh Redis, hopeit's `shop` app on it and an appwire broker on it, or `None` when a
/// skip variable says so.
async fn start() -> Option<(RedisServer, HopeitStreams, SharedBroker)> {
    let hopeit = Hopeit::find().unwrap_or_else(|e| panic!("{e}"))?;
    if skip_redis() {
        return None;
    }
    let redis = RedisServer::start().unwrap_or_else(|e| panic!("{e}"));
    let server = HopeitStreams::start(&hopeit, &redis.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let broker = RedisBroker::connect(&redis.url())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    Some((redis, server, Arc::new(broker)))
}

fn high(stream: &str) -> String {
    format!("{stream}.high")
}

fn entries(redis: &RedisServer, key: &str) -> Vec<StreamEntry> {
    redis
        .command(&["XRANGE", key, "-", "+"])
        .expect("XRANGE")
        .entries()
        .unwrap_or_default()
}

/// How many entries of `key` `group` has not acknowledged (`XPENDING key group`).
fn pending(redis: &RedisServer, key: &str, group: &str) -> i64 {
    let reply = redis.command(&["XPENDING", key, group]).expect("XPENDING");
    match reply.items().and_then(|items| items.first()) {
        Some(Resp::Integer(n)) => *n,
        _ => panic!("XPENDING {key} {group}: {reply:?}"),
    }
}

fn text(entry: &StreamEntry, field: &str) -> String {
    entry
        .text(field)
        .unwrap_or_else(|| panic!("no {field} in {entry:?}"))
}

/// An entry read as hopeit's reader reads it, and its payload.
fn decode(entry: &StreamEntry) -> (Envelope, OrderPlaced) {
    let envelope = Envelope::from_fields(&entry.fields).expect("a hopeit message");
    let json = envelope
        .payload_json(DEFAULT_MAX_DECODED_SIZE)
        .expect("a payload that decodes");
    let payload = serde_json::from_slice(&json).expect("an OrderPlaced");
    (envelope, payload)
}

/// Waits until `done` holds, at most `wait`; else fails with `what` and the server's log.
async fn wait_until(
    wait: Duration,
    server: &HopeitStreams,
    what: impl Fn() -> String,
    mut done: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + wait;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{} after {wait:?}; the server's log:\n{}",
            what(),
            server.log()
        );
        sleep(Duration::from_millis(50)).await;
    }
}

fn subscriber_options(keys: &[&str], group: &str) -> SubscriberOptions {
    let mut options = SubscriberOptions::new(
        Streams::Keys(keys.iter().map(|k| (*k).to_owned()).collect()),
        group,
    );
    options.consumer = "appwire-1".to_owned();
    options.block = Duration::from_millis(200);
    options.type_names = vec![shop::ORDER_TYPE.to_owned()];
    options
}

async fn next(
    subscriber: &mut Subscriber<OrderPlaced>,
    server: &HopeitStreams,
) -> Delivery<OrderPlaced> {
    match timeout(WAIT, subscriber.next()).await {
        Ok(Some(delivery)) => delivery,
        Ok(None) => panic!("the subscriber ended"),
        Err(_) => panic!(
            "no delivery within {WAIT:?}; the server's log:\n{}",
            server.log()
        ),
    }
}

/// Nothing more is delivered within `wait`.
async fn quiet(subscriber: &mut Subscriber<OrderPlaced>, wait: Duration) {
    if let Ok(Some(d)) = timeout(wait, subscriber.next()).await {
        panic!("unexpected delivery {d:?}");
    }
}

fn track_id<'a>(delivery: &'a Delivery<OrderPlaced>, name: &str) -> &'a str {
    delivery
        .track_ids()
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn post(server: &HopeitStreams, path: &str, order: &OrderPlaced) {
    let body = serde_json::to_string(order).expect("JSON");
    let (status, answer) = server.post(path, &body).await.expect("POST");
    assert_eq!(status, 200, "POST {path}: {answer}");
}

/// The fields of a message appwire publishes outside a request, in hopeit's order.
const FIELDS: [&[u8]; 12] = [
    b"id",
    b"type",
    b"submit_ts",
    b"event_ts",
    b"track.operation_id",
    b"track.request_id",
    b"track.request_ts",
    b"auth_info",
    b"ser",
    b"comp",
    b"payload",
    b"queue",
];

const SERIALIZATIONS: [Serialization; 2] = [Serialization::Json, Serialization::JsonBase64];

/// Messages per compression and serialization, each on both queues.
const PER_ENCODING: i64 = 3;

#[tokio::test]
async fn hopeit_consumes_what_appwire_publishes_in_every_encoding_on_both_queues() {
    let Some((redis, server, broker)) = start().await else {
        return;
    };
    // (key published to, order_id) -> (entry id, payload)
    let mut sent: HashMap<(String, String), (String, OrderPlaced)> = HashMap::new();
    for compression in Compression::ALL {
        for serialization in SERIALIZATIONS {
            let mut options = PublisherOptions::new(shop::TO_HOPEIT, shop::ORDER_TYPE);
            options.queues = vec!["AUTO".to_owned(), "high".to_owned()];
            options.compression = compression;
            options.serialization = serialization;
            let publisher = Publisher::new(broker.clone(), options);
            for i in 0..PER_ENCODING {
                let payload = order(
                    format!("to-{}-{}-{i}", compression.as_str(), serialization.as_str()),
                    i + 1,
                );
                let published = publisher
                    .publish(&payload)
                    .id(&payload.order_id)
                    .await
                    .expect("publish");
                assert_eq!(published.entries.len(), 2, "{published:?}");
                for (key, entry_id, duplicate) in published.entries {
                    assert!(!duplicate, "{key} {entry_id}");
                    let previous =
                        sent.insert((key, payload.order_id.clone()), (entry_id, payload.clone()));
                    assert!(previous.is_none());
                }
            }
        }
    }
    let total = Compression::ALL.len() * SERIALIZATIONS.len() * PER_ENCODING as usize * 2;
    assert_eq!(sent.len(), total);
    assert_eq!(total, 168);
    // What appwire wrote is what hopeit's reader requires, in every encoding.
    for key in [shop::TO_HOPEIT.to_owned(), high(shop::TO_HOPEIT)] {
        let written = entries(&redis, &key);
        assert_eq!(written.len(), total / 2, "{key}");
        let encodings: HashSet<(String, String)> = written
            .iter()
            .map(|e| (text(e, "comp"), text(e, "ser")))
            .collect();
        assert_eq!(encodings.len(), 28, "{key}: {encodings:?}");
        for entry in &written {
            let names: Vec<&[u8]> = entry.fields.iter().map(|(k, _)| k.as_slice()).collect();
            assert_eq!(names, FIELDS, "{key}: {entry:?}");
        }
    }

    let seen_keys = [
        (
            shop::HOPEIT_SEEN.to_owned(),
            shop::TO_HOPEIT.to_owned(),
            "AUTO",
        ),
        (high(shop::HOPEIT_SEEN), high(shop::TO_HOPEIT), "high"),
    ];
    let count = || {
        seen_keys
            .iter()
            .map(|(seen, _, _)| entries(&redis, seen).len())
            .sum::<usize>()
    };
    let pending_to_hopeit = || {
        seen_keys
            .iter()
            .map(|(_, key, _)| pending(&redis, key, shop::TO_HOPEIT_GROUP))
            .sum::<i64>()
    };
    wait_until(
        BATCH_WAIT,
        &server,
        || {
            format!(
                "hopeit recorded {} of {total}, {} pending",
                count(),
                pending_to_hopeit()
            )
        },
        || count() >= total && pending_to_hopeit() == 0,
    )
    .await;
    // hopeit never redelivers; give a late duplicate a chance to show.
    sleep(Duration::from_secs(2)).await;

    for (seen, consumed, queue) in &seen_keys {
        let recorded = entries(&redis, seen);
        assert_eq!(recorded.len(), total / 2, "{seen}");
        for entry in &recorded {
            let (envelope, payload) = decode(entry);
            let (entry_id, expected) = sent
                .remove(&(consumed.clone(), payload.order_id.clone()))
                .unwrap_or_else(|| panic!("{seen}: not sent, or recorded twice: {entry:?}"));
            assert_eq!(payload, expected);
            assert_eq!(envelope.id, expected.order_id);
            assert_eq!(envelope.type_name, shop::ORDER_TYPE);
            assert_eq!(envelope.queue, *queue, "PROPAGATE keeps the queue");
            assert_eq!(envelope.track_id("stream.msg_id"), entry_id);
            assert_eq!(envelope.track_id("stream.name"), consumed);
            assert_eq!(
                envelope.track_id("stream.consumer_group"),
                shop::TO_HOPEIT_GROUP
            );
            // hopeit's `settings["appwire.hopeit_seen"]`: the JSON consumed, as is.
            assert_eq!(
                (text(entry, "comp"), text(entry, "ser")),
                ("none".to_owned(), "json".to_owned())
            );
        }
        assert_eq!(pending(&redis, consumed, shop::TO_HOPEIT_GROUP), 0);
    }
    assert!(
        sent.is_empty(),
        "never recorded by hopeit: {:?}",
        sent.keys()
    );

    // Track ids of a `CallContext` go through hopeit's relay.
    let context = CallContext::new()
        .with_track_id(REQUEST_ID, "interop-request-1")
        .with_track_id(REQUEST_TS, "2026-12-01T19:00:00+00:00");
    let relay = Publisher::new(
        broker.clone(),
        PublisherOptions::new(shop::RELAY_IN, shop::ORDER_TYPE),
    );
    let payload = order("tracked-1", 5);
    let published = relay
        .publish(&payload)
        .context(&context)
        .await
        .expect("publish");
    wait_until(
        WAIT,
        &server,
        || "nothing relayed".to_owned(),
        || !entries(&redis, shop::RELAY_OUT).is_empty(),
    )
    .await;
    let relayed = entries(&redis, shop::RELAY_OUT);
    assert_eq!(relayed.len(), 1, "{relayed:?}");
    let (envelope, got) = decode(&relayed[0]);
    assert_eq!(got, payload);
    assert_eq!(envelope.track_id(REQUEST_ID), "interop-request-1");
    assert_eq!(envelope.track_id(REQUEST_TS), "2026-12-01T19:00:00+00:00");
    assert_eq!(envelope.track_id("stream.msg_id"), published.id());
    assert_eq!(
        envelope.track_id("stream.consumer_group"),
        shop::RELAY_GROUP
    );
    assert_eq!(envelope.track_id("event.app"), APP_KEY);
    wait_until(
        WAIT,
        &server,
        || "the relayed message is still pending".to_owned(),
        || pending(&redis, shop::RELAY_IN, shop::RELAY_GROUP) == 0,
    )
    .await;

    // `MAXLEN ~`, as hopeit's `target_max_len`: Redis trims whole nodes of 100 entries
    // here, never below the cap, where an exact `MAXLEN` would leave exactly 10.
    for (name, value) in [
        ("stream-node-max-entries", "100"),
        ("stream-node-max-bytes", "0"),
    ] {
        let reply = redis
            .command(&["CONFIG", "SET", name, value])
            .expect("CONFIG SET");
        assert_eq!(reply, Resp::Simple("OK".to_owned()), "{name}");
    }
    let mut options = PublisherOptions::new("appwire.capped", shop::ORDER_TYPE);
    options.max_len = 10;
    let capped = Publisher::new(broker.clone(), options);
    let batch: Vec<OrderPlaced> = (0..250).map(|i| order(format!("capped-{i}"), i)).collect();
    capped.publish_batch(&batch).await.expect("publish");
    let len = match redis.command(&["XLEN", "appwire.capped"]).expect("XLEN") {
        Resp::Integer(n) => n,
        other => panic!("XLEN: {other:?}"),
    };
    assert!((11..250).contains(&len), "XLEN {len}");
}

#[tokio::test]
async fn appwire_consumes_what_hopeit_publishes() {
    let Some((redis, server, broker)) = start().await else {
        return;
    };
    const ORDERS: i64 = 3;
    let from_hopeit_high = high(shop::FROM_HOPEIT);
    let keys = [from_hopeit_high.as_str(), shop::FROM_HOPEIT];

    // A subscriber reading as hopeit publishes.
    let group = "appwire-orders";
    let mut subscriber =
        Subscriber::<OrderPlaced>::start(broker.clone(), subscriber_options(&keys, group));
    let mut expected = HashMap::new();
    for i in 0..ORDERS {
        let payload = order(format!("from-{i}"), i + 10);
        post(&server, "place-order", &payload).await;
        expected.insert(payload.order_id.clone(), payload);
    }
    // order_id -> (keys seen, request id)
    let mut seen: HashMap<String, (HashSet<String>, String)> = HashMap::new();
    for _ in 0..2 * ORDERS {
        let d = next(&mut subscriber, &server).await;
        assert_eq!(Some(d.payload()), expected.get(&d.order_id), "{d:?}");
        assert_eq!(d.id(), d.order_id);
        assert_eq!(d.type_name(), shop::ORDER_TYPE);
        let queue = if d.key() == from_hopeit_high {
            "high"
        } else {
            "AUTO"
        };
        assert_eq!(d.queue(), queue, "{d:?}");
        assert_eq!(d.deliveries(), 1);
        for id in ["track.operation_id", REQUEST_ID, REQUEST_TS] {
            assert!(!track_id(&d, id).is_empty(), "{id}: {:?}", d.track_ids());
        }
        assert_eq!(track_id(&d, "event.app"), APP_KEY);
        assert_eq!(
            serde_json::Value::Object(d.auth_info().clone()),
            json!({"allowed": true, "auth_type": "Unsecured"})
        );
        let (keys_seen, request_id) = seen
            .entry(d.order_id.clone())
            .or_insert_with(|| (HashSet::new(), track_id(&d, REQUEST_ID).to_owned()));
        assert!(keys_seen.insert(d.key().to_owned()), "twice: {d:?}");
        // One POST, one request id on both queues.
        assert_eq!(request_id, track_id(&d, REQUEST_ID));
        d.ack().await.expect("ack");
    }
    quiet(&mut subscriber, Duration::from_secs(1)).await;
    subscriber.shutdown().await;
    assert_eq!(seen.len(), ORDERS as usize);
    assert!(seen.values().all(|(keys, _)| keys.len() == 2));
    let request_ids: HashSet<&String> = seen.values().map(|(_, r)| r).collect();
    assert_eq!(
        request_ids.len(),
        ORDERS as usize,
        "one request id per POST"
    );
    for key in keys {
        assert_eq!(pending(&redis, key, group), 0, "{key}");
    }

    // Every compression hopeit writes, read by a group created after the fact (at 0).
    let mut expected = HashMap::new();
    for (path, stream, comp, ser) in shop::PUBLISHERS {
        for i in 0..ORDERS {
            let payload = order(format!("out-{comp}-{i}"), i + 20);
            post(&server, path, &payload).await;
            expected.insert(payload.order_id.clone(), (stream, payload));
        }
        let written = entries(&redis, stream);
        assert_eq!(written.len(), ORDERS as usize, "{stream}");
        for entry in &written {
            assert_eq!(
                (text(entry, "comp"), text(entry, "ser")),
                (comp.to_owned(), ser.to_owned())
            );
        }
    }
    let streams: Vec<&str> = shop::PUBLISHERS.iter().map(|p| p.1).collect();
    let group = "appwire-out";
    let mut subscriber =
        Subscriber::<OrderPlaced>::start(broker.clone(), subscriber_options(&streams, group));
    for _ in 0..shop::PUBLISHERS.len() as i64 * ORDERS {
        let d = next(&mut subscriber, &server).await;
        let (stream, payload) = expected
            .remove(&d.order_id)
            .unwrap_or_else(|| panic!("not published, or delivered twice: {d:?}"));
        assert_eq!(d.key(), stream);
        assert_eq!(d.payload(), &payload);
        assert_eq!(d.type_name(), shop::ORDER_TYPE);
        assert_eq!(d.queue(), "AUTO");
        assert!(!track_id(&d, REQUEST_ID).is_empty(), "{:?}", d.track_ids());
        assert_eq!(track_id(&d, "event.app"), APP_KEY);
        d.ack().await.expect("ack");
    }
    quiet(&mut subscriber, Duration::from_secs(1)).await;
    subscriber.shutdown().await;
    assert!(
        expected.is_empty(),
        "never delivered: {:?}",
        expected.keys()
    );
    for stream in streams {
        assert_eq!(pending(&redis, stream, group), 0, "{stream}");
    }
}

/// Relays each order with its queue appended to its id, so that the copies from the two
/// queues can be told apart downstream.
struct Tag;

impl Handler<OrderPlaced> for Tag {
    type Output = OrderPlaced;

    async fn handle(
        &self,
        delivery: &Delivery<OrderPlaced>,
    ) -> Result<Option<OrderPlaced>, HandlerError> {
        Ok(Some(order(
            format!("{}@{}", delivery.order_id, delivery.queue()),
            delivery.qty,
        )))
    }
}

#[tokio::test]
async fn a_relay_from_hopeit_through_appwire_to_hopeit_keeps_every_message_and_its_track_ids() {
    let Some((redis, server, broker)) = start().await else {
        return;
    };
    const ORDERS: i64 = 4;
    let from_hopeit_high = high(shop::FROM_HOPEIT);
    let keys = [from_hopeit_high.as_str(), shop::FROM_HOPEIT];
    let group = "appwire-relay";
    let subscriber = Subscriber::start(broker.clone(), subscriber_options(&keys, group));
    let publisher = Publisher::new(
        broker.clone(),
        PublisherOptions::new(shop::RELAY_IN, shop::ORDER_TYPE),
    );
    let runner = tokio::spawn(Runner::new(subscriber, Tag).publish_to(publisher).run());
    // A second group relays the same messages to hopeit's two-queue consumer, keeping the
    // queue (`PROPAGATE`): `.high` to `appwire.to_hopeit.high`.
    let propagating = "appwire-propagate";
    let subscriber = Subscriber::start(broker.clone(), subscriber_options(&keys, propagating));
    let mut options = PublisherOptions::new(shop::TO_HOPEIT, shop::ORDER_TYPE);
    options.queue_strategy = QueueStrategy::Propagate;
    let publisher = Publisher::new(broker.clone(), options);
    let propagator = tokio::spawn(Runner::new(subscriber, Tag).publish_to(publisher).run());

    let mut expected = HashSet::new();
    for i in 0..ORDERS {
        let payload = order(format!("trip-{i}"), i + 30);
        post(&server, "place-order", &payload).await;
        for queue in ["AUTO", "high"] {
            expected.insert(order(format!("{}@{queue}", payload.order_id), payload.qty));
        }
    }
    let total = expected.len();
    assert_eq!(total, 8);
    let seen_high = high(shop::HOPEIT_SEEN);
    let to_hopeit_high = high(shop::TO_HOPEIT);
    let settled = || {
        [group, propagating]
            .iter()
            .all(|g| keys.iter().all(|key| pending(&redis, key, g) == 0))
            && pending(&redis, shop::RELAY_IN, shop::RELAY_GROUP) == 0
            && pending(&redis, shop::TO_HOPEIT, shop::TO_HOPEIT_GROUP) == 0
            && pending(&redis, &to_hopeit_high, shop::TO_HOPEIT_GROUP) == 0
    };
    let recorded = || entries(&redis, shop::HOPEIT_SEEN).len() + entries(&redis, &seen_high).len();
    wait_until(
        BATCH_WAIT,
        &server,
        || {
            format!(
                "{} of {total} relayed to {}",
                entries(&redis, shop::RELAY_OUT).len(),
                shop::RELAY_OUT
            )
        },
        || entries(&redis, shop::RELAY_OUT).len() >= total && recorded() >= total && settled(),
    )
    .await;
    sleep(Duration::from_secs(2)).await;
    runner.abort();
    propagator.abort();

    // The request id of each POST, as hopeit published it.
    let mut request_ids = HashMap::new();
    for key in keys {
        for entry in entries(&redis, key) {
            let (envelope, payload) = decode(&entry);
            request_ids.insert(
                format!("{}@{}", payload.order_id, envelope.queue),
                envelope.track_id(REQUEST_ID).to_owned(),
            );
        }
    }
    assert_eq!(request_ids.len(), total);

    // appwire's leg: one message per delivery, in the delivery's context.
    let relayed_in = entries(&redis, shop::RELAY_IN);
    assert_eq!(relayed_in.len(), total);
    for entry in &relayed_in {
        let (envelope, payload) = decode(entry);
        assert_eq!(
            envelope.track_id(REQUEST_ID),
            request_ids[&payload.order_id]
        );
        assert_eq!(envelope.track_id("stream.consumer_group"), group);
        assert_eq!(envelope.queue, "AUTO");
        assert_eq!(text(entry, "type"), shop::ORDER_TYPE);
    }

    // hopeit's leg: every message once, its request id carried through.
    let relayed_out = entries(&redis, shop::RELAY_OUT);
    assert_eq!(relayed_out.len(), total);
    for entry in &relayed_out {
        let (envelope, payload) = decode(entry);
        assert!(
            expected.remove(&payload),
            "not expected, or relayed twice: {payload:?}"
        );
        let request_id = &request_ids[&payload.order_id];
        assert!(!request_id.is_empty());
        assert_eq!(envelope.track_id(REQUEST_ID), request_id);
        assert_eq!(
            envelope.track_id("stream.consumer_group"),
            shop::RELAY_GROUP
        );
        assert_eq!(envelope.track_id("event.app"), APP_KEY);
    }
    assert!(expected.is_empty(), "never relayed: {expected:?}");

    // The PROPAGATE leg: each copy on the key of its queue, and hopeit kept the queue.
    for (consumed, seen, queue) in [
        (shop::TO_HOPEIT, shop::HOPEIT_SEEN, "AUTO"),
        (to_hopeit_high.as_str(), seen_high.as_str(), "high"),
    ] {
        let written = entries(&redis, consumed);
        assert_eq!(written.len(), ORDERS as usize, "{consumed}");
        assert!(
            written.iter().all(|e| text(e, "queue") == queue),
            "{written:?}"
        );
        let mut ids: Vec<String> = entries(&redis, seen)
            .iter()
            .map(|entry| {
                let (envelope, payload) = decode(entry);
                assert_eq!(envelope.queue, queue);
                assert_eq!(
                    envelope.track_id(REQUEST_ID),
                    request_ids[&payload.order_id]
                );
                payload.order_id
            })
            .collect();
        ids.sort();
        let wanted: Vec<String> = (0..ORDERS).map(|i| format!("trip-{i}@{queue}")).collect();
        assert_eq!(ids, wanted, "{seen}");
    }
    assert!(settled());
}

#[tokio::test]
async fn a_poison_message_is_dead_lettered_and_the_subscriber_goes_on_to_hopeits_next() {
    let Some((redis, server, broker)) = start().await else {
        return;
    };
    // Each of these kills a hopeit consumer of the stream (streams.md §2.4).
    let poison = |payload: &str, with_type: bool| {
        let mut args = vec!["XADD", shop::FROM_HOPEIT, "*", "id", "poison"];
        if with_type {
            args.extend(["type", shop::ORDER_TYPE]);
        }
        args.extend([
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
            payload,
            "queue",
            "AUTO",
        ]);
        redis
            .command(&args)
            .expect("XADD")
            .text()
            .expect("an entry id")
    };
    let poisoned = [
        poison(r#"{"order_id": "poison-1", "qty": "#, true),
        poison(r#"{"order_id":"poison-2","qty":"not-an-int"}"#, true),
        poison(r#"{"order_id":"poison-3","qty":1}"#, false),
    ];
    let valid = order("after-poison", 42);
    post(&server, "place-order", &valid).await;

    let from_hopeit_high = high(shop::FROM_HOPEIT);
    let keys = [shop::FROM_HOPEIT, from_hopeit_high.as_str()];
    let group = "appwire-poison";
    let mut subscriber =
        Subscriber::<OrderPlaced>::start(broker.clone(), subscriber_options(&keys, group));
    let mut keys_seen = HashSet::new();
    for _ in 0..2 {
        let d = next(&mut subscriber, &server).await;
        assert_eq!(d.payload(), &valid);
        assert!(keys_seen.insert(d.key().to_owned()), "twice: {d:?}");
        d.ack().await.expect("ack");
    }
    quiet(&mut subscriber, Duration::from_secs(1)).await;
    subscriber.shutdown().await;

    let dead = entries(&redis, &dead_letter_key(shop::FROM_HOPEIT));
    assert_eq!(
        dead_letter_key(shop::FROM_HOPEIT),
        "{appwire.from_hopeit}.dlq"
    );
    assert_eq!(dead.len(), poisoned.len(), "{dead:?}");
    for (entry, id) in dead.iter().zip(&poisoned) {
        assert_eq!(text(entry, "dlq.reason"), REASON_DECODE);
        assert!(!text(entry, "dlq.error").is_empty());
        assert_eq!(text(entry, "dlq.id"), *id);
        assert_eq!(text(entry, "dlq.stream"), shop::FROM_HOPEIT);
        assert_eq!(text(entry, "dlq.group"), group);
    }
    assert!(entries(&redis, &dead_letter_key(&from_hopeit_high)).is_empty());
    for key in keys {
        assert_eq!(pending(&redis, key, group), 0, "{key}");
    }
}
